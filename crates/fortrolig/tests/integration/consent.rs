//! Consent per service and notice channel (P4) and the end of a patient's use of the
//! portal (P11): asked at the first visit, every change kept with its text's version,
//! withdrawal stops the service and its waiting notices at once, an ended portal lets
//! nobody log in as the patient until the clinic opens it again.

use axum::http::{StatusCode, header};
use fortrolig_domain::Source;
use fortrolig_domain::access::Level;
use fortrolig_domain::consent::{ConsentSubject, PortalService};
use fortrolig_domain::info_pages::InfoPage;
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind};
use fortrolig_domain::notice::{NoticeChannel, NoticeStatus};
use fortrolig_service::{
    AccessError, ActContext, PatientActor, ServiceError, SessionSubject, Stopped,
};
use fortrolig_web::{AppState, router};

use crate::notices::{audited, exchange, no_more_sms, setup, statuses};
use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx};
use crate::web_support::{Res, call, form_of, get, post, session_cookie};

/// The hidden version field of the consent page.
fn version_on(body: &str) -> Res<String> {
    let (_, fields) = form_of(body).ok_or("no form")?;
    Ok(fields
        .into_iter()
        .find(|(k, _)| k == "versjon")
        .ok_or("no version field")?
        .1)
}

async fn withdrawal_stops_the_service_and_its_waiting_notices_at_once_p4(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let s = setup(&app, "kari@example.org").await?;
    let clinic = &s.clinic;
    exchange(&s).await?;
    assert_eq!(
        statuses(clinic, s.kari).await?,
        vec![
            (NoticeChannel::Sms, NoticeStatus::Queued),
            (NoticeChannel::Email, NoticeStatus::Queued)
        ]
    );
    let me = ActContext::patient(s.kari, clinic.org(), Source::default(), "samtykke");
    let version = clinic.consent_text().await?.version;

    // No more SMS: the one waiting is skipped in the same transaction, the e-mail stays.
    let changed = clinic
        .record_consents(
            &me,
            s.kari,
            &[
                (ConsentSubject::Channel(NoticeChannel::Sms), false),
                (ConsentSubject::Channel(NoticeChannel::Email), true),
            ],
            &version,
        )
        .await?;
    assert_eq!(changed, 1, "only what changed is kept as a new decision");
    assert_eq!(
        statuses(clinic, s.kari).await?,
        vec![
            (NoticeChannel::Sms, NoticeStatus::Skipped),
            (NoticeChannel::Email, NoticeStatus::Queued)
        ]
    );
    let skipped = clinic.notices_of(s.kari).await?;
    assert!(
        skipped
            .iter()
            .any(|n| n.findings.as_deref() == Some("consent-withdrawn"))
    );

    // No more messaging: the e-mail waiting about a message goes too, neither side can
    // write to the other, and the clinic's internal notes still can be kept.
    clinic
        .record_consents(
            &me,
            s.kari,
            &[(ConsentSubject::Service(PortalService::Messaging), false)],
            &version,
        )
        .await?;
    assert_eq!(
        statuses(clinic, s.kari).await?,
        vec![
            (NoticeChannel::Sms, NoticeStatus::Skipped),
            (NoticeChannel::Email, NoticeStatus::Skipped)
        ]
    );
    let patient = PatientActor {
        patient: s.kari,
        level: Level::High,
        source: Source::default(),
    };
    let refused = clinic
        .open_thread(
            &patient,
            ThreadKind::EConsultation,
            &Subject::parse("Nytt spørsmål")?,
            &MessageText::parse("Hei igjen")?,
            &[],
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(AccessError::Service(ServiceError::Stopped(
                Stopped::NoConsent(PortalService::Messaging)
            )))
        ),
        "{refused:?}"
    );
    let thread = clinic.my_threads(&patient).await?[0].id;
    let access = clinic.thread_access(&s.doctor, thread, "svar").await?;
    let reply = access
        .reply(thread, &MessageText::parse("Svar")?, false, &[])
        .await;
    assert!(matches!(reply, Err(ServiceError::Stopped(_))), "{reply:?}");
    access
        .reply(thread, &MessageText::parse("Notat")?, true, &[])
        .await?;
    assert_eq!(clinic.notices_of(s.kari).await?.len(), 2, "no new notice");

    // Every decision is kept with its time and the text's version, and audited.
    let history = clinic.consent_history(s.kari).await?;
    assert!(history.iter().all(|r| !r.text_version.is_empty()));
    assert_eq!(
        history.iter().filter(|r| r.text_version == version).count(),
        history.len()
    );
    assert!(
        audited(clinic, "consent.changed")
            .await?
            .iter()
            .any(|e| e.object.contains("tjeneste:meldinger=nei"))
    );

    // A new text from the clinic is a new version.
    clinic
        .set_info_page(
            &ctx(ORG_A),
            InfoPage::Consent,
            "Samtykke hos oss",
            "Vår egen tekst om samtykke.",
        )
        .await?;
    assert_ne!(clinic.consent_text().await?.version, version);
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

async fn first_visit_asks_for_consent_and_the_patient_can_end_the_portal_p4_p11(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let s = setup(&app, "kari@example.org").await?;
    let clinic = &s.clinic;
    // `setup` recorded the channels through the service; this patient has not seen the
    // page yet, so the services are unanswered: start from a fresh patient instead.
    let kari = clinic
        .add_patient(
            &ctx(ORG_A),
            &crate::support::patient("12858010053", "Kari Samtykke"),
        )
        .await?;
    clinic.start_care(&ctx(ORG_A), s.doctor.staff, kari).await?;
    let routes = router(AppState::new(app.clone()), false);
    let (me, csrf) = session_cookie(clinic, SessionSubject::Patient(kari), Level::High).await?;
    let inbox = format!("/k/{ORG_A}/meldinger");

    // The first visit goes by the consent page; nothing is ticked in advance.
    let first = call(&routes, get(&inbox, Some(&me))?).await?;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(
        first.location(),
        format!("/k/{ORG_A}/samtykke?neste={inbox}")
    );
    let page = call(&routes, get(&first.location(), Some(&me))?).await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("journalen") && page.body.contains("Før du tar portalen i bruk"));
    assert!(!page.body.contains(" checked"));
    let version = version_on(&page.body)?;
    assert_eq!(version, clinic.consent_text().await?.version);

    // A form from before the clinic changed its text is not recorded.
    let stale = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/samtykke"),
            &me,
            &format!("csrf={csrf}&versjon=samtykke-gammel&meldinger=ja"),
        )?,
    )
    .await?;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.body.contains("endret teksten") && stale.body.contains(" checked"));
    assert!(clinic.consent_history(kari).await?.is_empty());
    let forged = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/samtykke"),
            &me,
            &format!("csrf=feil&versjon={version}&meldinger=ja"),
        )?,
    )
    .await?;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // Yes to messaging and SMS: every choice of the first answer is kept, and the
    // patient goes on to where they were going.
    let saved = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/samtykke"),
            &me,
            &format!("csrf={csrf}&versjon={version}&neste={inbox}&meldinger=ja&sms=ja"),
        )?,
    )
    .await?;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(saved.location(), inbox);
    assert_eq!(clinic.consent_history(kari).await?.len(), 6);
    let consents = clinic.consents(kari).await?;
    assert!(consents.granted(ConsentSubject::Service(PortalService::Messaging)));
    assert!(!consents.granted(ConsentSubject::Service(PortalService::Video)));
    let open = call(&routes, get(&inbox, Some(&me))?).await?;
    assert_eq!(open.status, StatusCode::OK);
    assert!(open.body.contains("/meldinger/ny"));

    // Withdrawn on the same page: the inbox says so and offers no new message.
    let withdrawn = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/samtykke"),
            &me,
            &format!("csrf={csrf}&versjon={version}&sms=ja"),
        )?,
    )
    .await?;
    assert_eq!(
        withdrawn.location(),
        format!("/k/{ORG_A}/samtykke?lagret=ja")
    );
    assert_eq!(clinic.consent_history(kari).await?.len(), 7);
    let closed = call(&routes, get(&inbox, Some(&me))?).await?;
    assert!(
        closed.body.contains("sagt nei til meldinger") && !closed.body.contains("/meldinger/ny\"")
    );
    let history = call(&routes, get(&format!("/k/{ORG_A}/samtykke"), Some(&me))?).await?;
    assert!(history.body.contains("Valgene dine over tid") && history.body.contains(&version));

    // Ending the portal needs the box ticked.
    let unconfirmed = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/samtykke/avslutt"),
            &me,
            &format!("csrf={csrf}&versjon={version}"),
        )?,
    )
    .await?;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!clinic.consents(kari).await?.ended());
    let ended = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/samtykke/avslutt"),
            &me,
            &format!("csrf={csrf}&versjon={version}&bekreft=ja"),
        )?,
    )
    .await?;
    assert_eq!(ended.status, StatusCode::OK);
    assert!(ended.header(header::SET_COOKIE).contains("Max-Age=0"));
    assert!(clinic.consents(kari).await?.ended());
    // Logged out everywhere, and no new login: the attempt is on record.
    let after = call(&routes, get(&format!("/k/{ORG_A}/"), Some(&me))?).await?;
    assert!(after.body.contains("Logg inn med ID-porten"));
    let again = clinic
        .start_session(
            SessionSubject::Patient(kari),
            Level::High,
            "test",
            None,
            None,
            &Source::default(),
        )
        .await;
    assert!(
        matches!(again, Err(ServiceError::Stopped(Stopped::PortalEnded))),
        "{again:?}"
    );
    assert!(
        audited(clinic, "session.started")
            .await?
            .iter()
            .any(|e| e.object == "session portal-ended" && e.outcome == "denied")
    );

    // The clinic sees it and opens the portal again at the patient's request.
    let (doc, doc_csrf) =
        session_cookie(clinic, SessionSubject::Staff(s.doctor.staff), Level::High).await?;
    let staff_page = format!("/k/{ORG_A}/ansatt/pasient/{kari}");
    let seen = call(&routes, get(&staff_page, Some(&doc))?).await?;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert!(seen.body.contains("avsluttet bruken av pasientportalen"));
    let reopened = call(
        &routes,
        post(
            &format!("{staff_page}/gjenapne"),
            &doc,
            &format!("csrf={doc_csrf}"),
        )?,
    )
    .await?;
    assert_eq!(reopened.status, StatusCode::SEE_OTHER);
    assert!(!clinic.consents(kari).await?.ended());
    session_cookie(clinic, SessionSubject::Patient(kari), Level::High).await?;
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

/// A notice that was being tried when the patient said no (so the "no" did not skip it)
/// comes back to the queue after a failed attempt; the next attempt checks the consent
/// again and skips it instead of sending it.
async fn a_notice_in_flight_at_withdrawal_is_not_sent_on_its_next_attempt_p4(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let s = setup(&app, "kari@example.org").await?;
    let clinic = &s.clinic;
    exchange(&s).await?;
    let sms = clinic
        .notices_of(s.kari)
        .await?
        .into_iter()
        .find(|n| n.channel == NoticeChannel::Sms)
        .ok_or("an SMS notice")?;
    let store = clinic.store();
    let now = app.now().as_micros();
    assert!(store.claim_notice(&sms.id, now, now + 60_000_000).await?);
    no_more_sms(&s).await?;
    store.retry_notice(&sms.id, now, "tidsavbrudd").await?;

    // No provider is set up: without the check the attempt would fail and queue again.
    let nowhere = fortrolig_service::Outbound {
        sms: None,
        mail: None,
        http: reqwest::Client::new(),
        krr: None,
    };
    clinic.dispatch_due(&nowhere).await?;
    let after = clinic
        .notices_of(s.kari)
        .await?
        .into_iter()
        .find(|n| n.id == sms.id)
        .ok_or("the notice")?;
    assert_eq!(after.status, NoticeStatus::Skipped);
    assert_eq!(after.findings.as_deref(), Some("consent-withdrawn"));
    assert_eq!(audited(clinic, "notice.skipped").await?.len(), 1);
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(
    a_notice_in_flight_at_withdrawal_is_not_sent_on_its_next_attempt_p4,
    withdrawal_stops_the_service_and_its_waiting_notices_at_once_p4,
    first_visit_asks_for_consent_and_the_patient_can_end_the_portal_p4_p11,
);
