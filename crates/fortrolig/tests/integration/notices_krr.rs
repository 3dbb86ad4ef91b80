//! Notices with the contact and reservation register (N4, N5): the patient is looked up
//! in a local fake of KRR, with a token from a local fake of Maskinporten, when a notice
//! is sent. A reservation stops the notice (and an important one becomes a task); a
//! fresh KRR number is used and a change from the patient's own is noted in the staff
//! notice log; a stale one falls back to the patient's, noted; KRR out of reach keeps the
//! notice queued until it returns.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind};
use fortrolig_domain::notice::{NoticeChannel, NoticeStatus};
use fortrolig_domain::{ManualClock, Timestamp};
use fortrolig_identity::ClientKey;
use fortrolig_notify::SmsProvider;
use fortrolig_service::Outbound;

use crate::fakes::{FakeKrr, fake_krr};
use crate::notices::{
    FakeLink, Res, SmtpSink, audited, exchange, fake_link, setup, smtp_sink, statuses,
};
use crate::support::{TestEnv, TestResult, both_backends};

/// 2027-01-15, the clock of these tests.
const NOW: i64 = 1_800_000_000_000_000;
/// Kari's identity number (see `notices::setup`).
const KARI: &str = "21879498012";

/// What KRR holds for Kari, with both addresses last touched at `touched`.
fn kari(reservasjon: &str, varsling: &str, touched: &str) -> serde_json::Value {
    serde_json::json!({
        "personidentifikator": KARI,
        "reservasjon": reservasjon,
        "status": "AKTIV",
        "varslingsstatus": varsling,
        "kontaktinformasjon": {
            "epostadresse": "kari@pasient.example",
            "epostadresse_oppdatert": touched,
            "mobiltelefonnummer": "+4799887766",
            "mobiltelefonnummer_oppdatert": touched,
            "mobiltelefonnummer_sist_verifisert": touched,
        },
        "spraak": "nb",
    })
}

struct Rig {
    app: fortrolig_service::Fortrolig,
    clock: Arc<ManualClock>,
    link: FakeLink,
    krr: FakeKrr,
    smtp: Option<SmtpSink>,
    outbound: Outbound,
}

async fn rig(env: &TestEnv, with_mail: bool) -> Res<Rig> {
    let (key, pkcs8) = ClientKey::generate("mp-1")?;
    let clock = Arc::new(ManualClock::new(Timestamp(NOW)));
    let krr = fake_krr(&key, clock.clone()).await?;
    let link = fake_link().await?;
    let smtp = if with_mail { smtp_sink()? } else { None };
    let app = env.app_with_clock(clock.clone()).await?;
    let outbound = Outbound {
        sms: Some(SmsProvider::Link(link.settings())),
        mail: smtp.as_ref().map(SmtpSink::mailer).transpose()?,
        http: reqwest::Client::new(),
        krr: Some(krr.lookup(ClientKey::from_pkcs8(&pkcs8, "mp-1")?)),
    };
    Ok(Rig {
        app,
        clock,
        link,
        krr,
        smtp,
        outbound,
    })
}

async fn a_reserved_patient_gets_no_notice_and_an_important_one_becomes_a_task_n4_n5(
    env: &TestEnv,
) -> TestResult {
    let r = rig(env, true).await?;
    r.krr
        .register(kari("JA", "KAN_IKKE_VARSLES", "2026-12-01T10:00:00+01"));
    let s = setup(&r.app, "kari@pasient.example").await?;
    exchange(&s).await?;

    // A client key Maskinporten does not know gets no token: the notices wait.
    let (stranger, _) = ClientKey::generate("mp-1")?;
    let unknown = Outbound {
        krr: Some(r.krr.lookup(stranger)),
        ..r.outbound.clone()
    };
    r.app.dispatch_notices(&unknown).await?;
    assert_eq!(
        r.krr.grants(),
        0,
        "a grant signed by another key is refused"
    );
    assert!(
        statuses(&s.clinic, s.kari)
            .await?
            .iter()
            .all(|(_, st)| *st == NoticeStatus::Queued)
    );

    r.clock.advance_micros(10_000_000);
    r.app.dispatch_notices(&r.outbound).await?;
    assert_eq!(
        statuses(&s.clinic, s.kari).await?,
        vec![
            (NoticeChannel::Sms, NoticeStatus::Skipped),
            (NoticeChannel::Email, NoticeStatus::Skipped)
        ]
    );
    assert!(r.link.seen().is_empty(), "no SMS");
    if let Some(smtp) = &r.smtp {
        assert!(smtp.mails()?.is_empty(), "no e-mail");
    }
    let skipped = audited(&s.clinic, "notice.skipped").await?;
    assert_eq!(skipped.len(), 2);
    assert!(skipped.iter().all(|e| e.object.contains("krr:reservert")));
    // An ordinary notice withheld is in the log only.
    assert!(s.clinic.store().open_tasks().await?.is_empty());

    // An important one (a result is ready) withheld is a task to reach her another way.
    s.clinic
        .health_access(&s.doctor, s.kari, "prøvesvar")
        .await?
        .start_thread(
            ThreadKind::ResultReady,
            &Subject::parse("Prøvesvar")?,
            &MessageText::parse("Svaret er klart")?,
            "Kari Varsel Nordmann",
            "21.07.1994",
        )
        .await?;
    r.app.dispatch_notices(&r.outbound).await?;
    let tasks = s.clinic.store().open_tasks().await?;
    assert_eq!(tasks.len(), 2, "one per channel withheld");
    assert!(tasks.iter().all(|t| t.kind == "varsel-ikke-levert"));
    assert!(r.link.seen().is_empty());
    let log = s.clinic.notice_log(10).await?;
    assert!(
        log.iter()
            .all(|n| n.status == NoticeStatus::Skipped
                && n.findings.as_deref() == Some("krr:reservert")),
        "{log:?}"
    );
    // Four lookups, one token: it is kept while it lasts.
    assert_eq!((r.krr.lookups(), r.krr.grants()), (4, 1));

    s.clinic.verify_audit().await?;
    r.app.close().await;
    Ok(())
}

both_backends!(a_reserved_patient_gets_no_notice_and_an_important_one_becomes_a_task_n4_n5);

async fn a_fresh_krr_number_is_used_and_a_change_is_flagged_a_stale_one_falls_back_n4_n5(
    env: &TestEnv,
) -> TestResult {
    let r = rig(env, false).await?;
    // Confirmed six weeks ago: to be used, and not the number Kari gave the clinic.
    r.krr
        .register(kari("NEI", "KAN_VARSLES", "2026-12-01T10:00:00+01"));
    let s = setup(&r.app, "kari@pasient.example").await?;
    let thread = exchange(&s).await?;
    r.app.dispatch_notices(&r.outbound).await?;
    let seen = r.link.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["destination"], "+4799887766", "KRR's number");
    let sms = |log: &[fortrolig_service::NoticeSummary]| {
        log.iter()
            .find(|n| n.channel == NoticeChannel::Sms && n.status == NoticeStatus::Sent)
            .and_then(|n| n.findings.clone())
    };
    let log = s.clinic.notice_log(10).await?;
    assert_eq!(sms(&log).as_deref(), Some("krr:endret-adresse"), "{log:?}");
    let sent = audited(&s.clinic, "notice.sent").await?;
    assert!(
        sent.iter().any(|e| e.object.contains("krr:endret-adresse")),
        "the change is in the audit log too (N6)"
    );

    // Last touched three years ago: the 18-month rule forbids it; Kari's own number is
    // used, and that is noted.
    r.krr
        .register(kari("NEI", "KAN_VARSLES", "2024-01-05T10:45:15.768Z"));
    // A second later, so the newest notice is told apart by its time.
    r.clock.advance_micros(1_000_000);
    s.clinic
        .thread_access(&s.doctor, thread, "svar")
        .await?
        .reply(thread, &MessageText::parse("Ett svar til.")?, false, &[])
        .await?;
    r.app.dispatch_notices(&r.outbound).await?;
    let seen = r.link.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1]["destination"], "+4791234567", "the patient's own");
    let log = s.clinic.notice_log(10).await?;
    let newest_sms = log
        .iter()
        .filter(|n| n.channel == NoticeChannel::Sms)
        .max_by_key(|n| n.created_at.0)
        .ok_or("an SMS")?;
    assert_eq!(newest_sms.findings.as_deref(), Some("krr:utdatert"));

    s.clinic.verify_audit().await?;
    r.app.close().await;
    Ok(())
}

both_backends!(a_fresh_krr_number_is_used_and_a_change_is_flagged_a_stale_one_falls_back_n4_n5);

async fn a_notice_waits_while_krr_is_down_and_is_sent_when_it_returns_n4_n5(
    env: &TestEnv,
) -> TestResult {
    let r = rig(env, false).await?;
    r.krr
        .register(kari("NEI", "KAN_VARSLES", "2026-12-01T10:00:00+01"));
    let s = setup(&r.app, "kari@pasient.example").await?;
    exchange(&s).await?;

    r.krr.down.store(true, Ordering::SeqCst);
    r.app.dispatch_notices(&r.outbound).await?;
    let sms = s
        .clinic
        .notices_of(s.kari)
        .await?
        .into_iter()
        .find(|n| n.channel == NoticeChannel::Sms)
        .ok_or("sms")?;
    assert_eq!((sms.status, sms.attempts), (NoticeStatus::Queued, 1));
    assert_eq!(r.link.requests(), 0, "nothing sent without KRR's word");

    r.krr.down.store(false, Ordering::SeqCst);
    r.clock.advance_micros(6_000_000);
    r.app.dispatch_notices(&r.outbound).await?;
    let seen = r.link.seen();
    assert_eq!(seen.len(), 1, "sent once KRR answers");
    assert_eq!(seen[0]["destination"], "+4799887766");
    assert!(
        statuses(&s.clinic, s.kari)
            .await?
            .contains(&(NoticeChannel::Sms, NoticeStatus::Sent))
    );

    s.clinic.verify_audit().await?;
    r.app.close().await;
    Ok(())
}

both_backends!(a_notice_waits_while_krr_is_down_and_is_sent_when_it_returns_n4_n5);
