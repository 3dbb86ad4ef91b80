//! A notice survives the server (issue 5; N5, X7): `fortrolig serve` is killed with SIGKILL
//! while a notice waits for an SMS provider that is down; started again after the provider
//! has returned, it sends the notice, once; killed and started again after that, it sends
//! nothing more. The notice was stored with the message before anything was tried, so no
//! kill can lose it; it is marked sent in the same transaction as its audit entry.

use std::sync::atomic::Ordering;
use std::time::Duration;

use fortrolig_domain::Source;
use fortrolig_domain::notice::{NoticeChannel, NoticeStatus};
use fortrolig_service::ActContext;

use crate::crash_server::{free_port, start_server, wait_for, wait_ready};
use crate::notices::{exchange, fake_link, setup};
use crate::support::{TestEnv, TestResult, both_backends};

async fn a_server_killed_while_a_notice_waits_sends_it_once_when_started_again_n5_x7(
    env: &TestEnv,
) -> TestResult {
    let link = fake_link().await?;
    link.down.store(true, Ordering::SeqCst);

    // A message to the patient, with its SMS notice in the outbox.
    let app = env.app().await?;
    let s = setup(&app, "kari@pasient.example").await?;
    let me = ActContext::patient(s.kari, s.clinic.org(), Source::default(), "samtykke");
    s.clinic
        .set_notice_consent(&me, s.kari, NoticeChannel::Email, false)
        .await?;
    exchange(&s).await?;
    app.close().await;

    let dir = env.dir.path();
    let password = dir.join("link-password");
    std::fs::write(&password, "hemmelig\n")?;
    let port = free_port();
    let config = dir.join("fortrolig.toml");
    let settings = link.settings();
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n\
             [storage]\ndata_dir = \"{data}\"\n\
             [log]\nlevel = \"warn\"\n\
             [notices]\nsender = \"Legesenter\"\n\
             [notices.link]\nurl = \"{url}\"\nusername = \"fortrolig\"\npassword_file = \"{password}\"\n\
             platform_id = \"COMMON_API\"\nplatform_partner_id = \"4242\"\n",
            data = env.data().display(),
            url = settings.url,
            password = password.display(),
        ),
    )?;
    let log = dir.join("server.log");

    // The provider is down: the server tries, fails, and is killed.
    let mut server = start_server(env, &config, &log);
    wait_ready(&mut server, port, &log).await?;
    wait_for(Duration::from_secs(30), "a first try", || {
        link.requests() >= 1
    })
    .await?;
    // Let it write down the failure (a kill before that only delays the next try: the
    // notice's lease runs out and it is taken up again).
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.0.kill()?;
    server.0.wait()?;
    assert!(
        link.seen().is_empty(),
        "nothing got through while the provider was down"
    );

    // The provider is back; a new server sends the notice, once.
    link.down.store(false, Ordering::SeqCst);
    let mut server = start_server(env, &config, &log);
    wait_ready(&mut server, port, &log).await?;
    wait_for(Duration::from_secs(90), "the notice to be sent", || {
        !link.seen().is_empty()
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.0.kill()?;
    server.0.wait()?;

    // Started again, the server finds nothing left to send.
    let mut server = start_server(env, &config, &log);
    wait_ready(&mut server, port, &log).await?;
    tokio::time::sleep(Duration::from_secs(6)).await;
    server.0.kill()?;
    server.0.wait()?;
    let seen = link.seen();
    assert_eq!(seen.len(), 1, "sent exactly once: {seen:?}");

    let app = env.app().await?;
    let clinic = app.clinic(s.clinic.org()).await?;
    let notices = clinic.notices_of(s.kari).await?;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].status, NoticeStatus::Sent);
    assert!(notices[0].attempts >= 2, "tried before the kill and after");
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(a_server_killed_while_a_notice_waits_sends_it_once_when_started_again_n5_x7);
