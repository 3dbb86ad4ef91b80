//! Notices on the web (issue 5; P4, N3, N5, N6): the patient chooses the notice channels
//! in the portal; the administrator's templates and sender name are judged before they
//! are saved; a notice the checker blocks at sending time (a sender name that reveals a
//! condition) is kept as blocked, never sent, and shown to staff; an important notice
//! that did not arrive is a task staff see with the patient's contact data and close.

use axum::http::StatusCode;
use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind};
use fortrolig_domain::notice::{NoticeChannel, NoticeStatus};
use fortrolig_domain::{Email, NewPatient, PersonName, PersonNumber, Phone, Source};
use fortrolig_service::{NoticeSettings, PatientActor, SessionSubject, StaffActor};
use fortrolig_web::{AppState, router};

use std::sync::atomic::Ordering;

use fortrolig_notify::SmsProvider;
use fortrolig_service::Outbound;

use crate::notices::fake_link;
use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, org};
use crate::web_support::{answer_consent, call, get, post, session_cookie, staff_with_role};

async fn notice_channels_templates_and_blocked_notices_on_the_web_p4_n3_n6(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    app.configure_notices(NoticeSettings {
        default_sender: Some("Legesenter".into()),
        portal_host: None,
    });
    let clinic = app.create_clinic(&org(ORG_A), "Varselklinikken").await?;
    let kari = clinic
        .add_patient(
            &ctx(ORG_A),
            &NewPatient {
                person_number: PersonNumber::parse("21879498012")?,
                name: PersonName::parse("Kari Nettside")?,
                phone: Some(Phone::parse("91234567")?),
                email: Some(Email::parse("kari@pasient.example")?),
            },
        )
        .await?;
    let now = app.now();
    let admin = staff_with_role(&clinic, "Ada Administrator", Role::ClinicAdmin, now).await?;
    let doctor = staff_with_role(&clinic, "Lege Lund", Role::Doctor, now).await?;
    let desk = staff_with_role(&clinic, "Siri Skranke", Role::Secretary, now).await?;
    clinic.start_care(&ctx(ORG_A), doctor, kari).await?;
    let routes = router(AppState::new(app.clone()), false);

    // The patient chooses SMS only (P4).
    let (me, me_csrf) = session_cookie(&clinic, SessionSubject::Patient(kari), Level::High).await?;
    // At the first visit the portal asks for consent first (P4): yes to messaging only.
    let first = call(&routes, get(&format!("/k/{ORG_A}/varsler"), Some(&me))?).await?;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(
        first.location(),
        format!("/k/{ORG_A}/samtykke?neste=/k/{ORG_A}/varsler")
    );
    answer_consent(&routes, &format!("/k/{ORG_A}/"), &me, &["meldinger"]).await?;
    let page = call(&routes, get(&format!("/k/{ORG_A}/varsler"), Some(&me))?).await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("aldri hva det gjelder") && !page.body.contains("checked"));
    let forged = call(
        &routes,
        post(&format!("/k/{ORG_A}/varsler"), &me, "csrf=feil&sms=ja")?,
    )
    .await?;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let chosen = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/varsler"),
            &me,
            &format!("csrf={me_csrf}&sms=ja"),
        )?,
    )
    .await?;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER);
    assert_eq!(
        clinic.notice_consents(kari).await?,
        vec![(NoticeChannel::Sms, true), (NoticeChannel::Email, false)]
    );
    let size = clinic.audit_size().await?;
    let log = clinic.store().entries_up_to(size).await?;
    assert!(
        log.iter()
            .any(|e| e.action == "consent.changed" && e.object.contains("varsel:sms=ja"))
    );

    // The administrator's templates are judged before they are saved.
    let (adm, adm_csrf) =
        session_cookie(&clinic, SessionSubject::Staff(admin), Level::High).await?;
    let base = format!("/k/{ORG_A}/ansatt/varselmaler");
    assert_eq!(
        call(&routes, get(&base, Some(&adm))?).await?.status,
        StatusCode::OK
    );
    let health = call(
        &routes,
        post(
            &format!("{base}/ny-melding/sms"),
            &adm,
            &format!("csrf={adm_csrf}&tekst=Hei+{{fornavn}}%2C+svaret+p%C3%A5+depresjonstesten+er+klart.+Du+kan+ikke+svare+p%C3%A5+denne+SMS-en."),
        )?,
    )
    .await?;
    assert_eq!(health.status, StatusCode::BAD_REQUEST);
    assert!(health.body.contains("ble ikke lagret"), "{}", health.body);
    let unknown = call(
        &routes,
        post(
            &format!("{base}/ny-melding/sms"),
            &adm,
            &format!("csrf={adm_csrf}&tekst=Hei+{{etternavn}}"),
        )?,
    )
    .await?;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let good = call(
        &routes,
        post(
            &format!("{base}/ny-melding/sms"),
            &adm,
            &format!("csrf={adm_csrf}&tekst=Hei+{{fornavn}}%21+Ny+melding+fra+{{avsender}}.+Du+kan+ikke+svare+p%C3%A5+denne+SMS-en."),
        )?,
    )
    .await?;
    assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.body);
    let long = call(
        &routes,
        post(
            &format!("{base}/avsender"),
            &adm,
            &format!("csrf={adm_csrf}&avsender=Normland+legesenter"),
        )?,
    )
    .await?;
    assert_eq!(
        long.status,
        StatusCode::BAD_REQUEST,
        "at most 11 characters"
    );
    // A sender name that reveals what the clinic treats passes the form check but not
    // the checker: every notice with it is blocked, kept, and never sent (N1, N3).
    let revealing = call(
        &routes,
        post(
            &format!("{base}/avsender"),
            &adm,
            &format!("csrf={adm_csrf}&avsender=BUP+Nord"),
        )?,
    )
    .await?;
    assert_eq!(revealing.status, StatusCode::SEE_OTHER);
    let patient = PatientActor {
        patient: kari,
        level: Level::High,
        source: Source::default(),
    };
    let thread = clinic
        .open_thread(
            &patient,
            ThreadKind::EConsultation,
            &Subject::parse("Spørsmål")?,
            &MessageText::parse("Hei")?,
            &[],
        )
        .await?;
    let doc = StaffActor {
        staff: doctor,
        level: Level::High,
        source: Source::default(),
    };
    clinic
        .thread_access(&doc, thread, "svar")
        .await?
        .reply(thread, &MessageText::parse("Svar")?, false, &[])
        .await?;
    let notices = clinic.notices_of(kari).await?;
    assert_eq!(notices.len(), 1);
    assert_eq!(
        (notices[0].channel, notices[0].status),
        (NoticeChannel::Sms, NoticeStatus::Blocked)
    );
    assert_eq!(notices[0].findings.as_deref(), Some("department"));

    // Staff see it as blocked, with the rule, and never the text.
    let (sec, _) = session_cookie(&clinic, SessionSubject::Staff(desk), Level::High).await?;
    let staff_page = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/varsler"), Some(&sec))?,
    )
    .await?;
    assert_eq!(staff_page.status, StatusCode::OK);
    assert!(
        staff_page.body.contains("Stoppet av kontrollen") && staff_page.body.contains("department")
    );
    assert!(
        !staff_page.body.contains("Ny melding fra"),
        "no notice text"
    );
    // The patient sees it too, among the notices sent to them.
    let mine = call(&routes, get(&format!("/k/{ORG_A}/varsler"), Some(&me))?).await?;
    assert!(mine.body.contains("Stoppet av kontrollen"));
    // The clinic's own phone numbers and department names, set on the web, judge texts
    // on the command line too (`notice check --clinic`).
    let set = call(
        &routes,
        post(
            &format!("{base}/regler"),
            &adm,
            &format!("csrf={adm_csrf}&telefon=22+33+44+55&avdelinger=*hjerteklinikk*"),
        )?,
    )
    .await?;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let bad = call(
        &routes,
        post(
            &format!("{base}/regler"),
            &adm,
            &format!("csrf={adm_csrf}&telefon=ring+oss"),
        )?,
    )
    .await?;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let mut cli = std::process::Command::new(env!("CARGO_BIN_EXE_fortrolig"));
    cli.args(["notice", "check", "--channel", "sms", "--clinic", ORG_A])
        .args(env.storage_args())
        .env_remove("FORTROLIG_DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cli.spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        std::io::Write::write_all(
            &mut stdin,
            "Ring 22334455. Du kan ikke svare på denne SMS-en.\nHjerteklinikken har time til deg. Du kan ikke svare på denne SMS-en.\n"
                .as_bytes(),
        )?;
    }
    let out = child.wait_with_output()?;
    let verdicts: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(verdicts.len(), 2);
    assert_eq!(verdicts[0]["findings"][0]["rule"], "clinic-phone");
    assert_eq!(verdicts[1]["verdict"], "block");
    assert_eq!(verdicts[1]["findings"][0]["rule"], "department");

    // The administrator's template page is the administrator's only.
    assert_eq!(
        call(&routes, get(&base, Some(&sec))?).await?.status,
        StatusCode::FORBIDDEN
    );

    // An important notice the provider refuses for good becomes a task: staff see whom to
    // reach and how, and close it (N5, P10).
    let fixed = call(
        &routes,
        post(
            &format!("{base}/avsender"),
            &adm,
            &format!("csrf={adm_csrf}&avsender=Legesenter"),
        )?,
    )
    .await?;
    assert_eq!(fixed.status, StatusCode::SEE_OTHER);
    clinic
        .health_access(&doc, kari, "prøvesvar")
        .await?
        .start_thread(
            ThreadKind::ResultReady,
            &Subject::parse("Prøvesvar")?,
            &MessageText::parse("Svaret er klart")?,
            "Kari Nettside",
            "21.07.1994",
        )
        .await?;
    let link = fake_link().await?;
    link.refuse.store(true, Ordering::SeqCst);
    app.dispatch_notices(&Outbound {
        sms: Some(SmsProvider::Link(link.settings())),
        mail: None,
        http: reqwest::Client::new(),
        krr: None,
    })
    .await?;
    let tasks = clinic.open_tasks().await?;
    assert_eq!(tasks.len(), 1);
    let (sec, sec_csrf) = session_cookie(&clinic, SessionSubject::Staff(desk), Level::High).await?;
    let with_task = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/varsler"), Some(&sec))?,
    )
    .await?;
    assert!(
        with_task.body.contains("kom ikke fram")
            && with_task.body.contains("Kari Nettside")
            && with_task.body.contains("+4791234567"),
        "{}",
        with_task.body
    );
    let id: String = tasks[0].id.iter().map(|b| format!("{b:02x}")).collect();
    let done = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/ansatt/varsler/oppgave/{id}"),
            &sec,
            &format!("csrf={sec_csrf}"),
        )?,
    )
    .await?;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(clinic.open_tasks().await?.is_empty());
    let size = clinic.audit_size().await?;
    let log = clinic.store().entries_up_to(size).await?;
    assert!(
        log.iter()
            .any(|e| e.action == "task.done" && e.actor_id == format!("staff:{desk}"))
    );

    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(notice_channels_templates_and_blocked_notices_on_the_web_p4_n3_n6);
