//! The patient's requests under their rights (issue 6 item 3; P9, S5, X4, S1): every kind
//! with its 30-day deadline, seen by the patient and by staff by deadline; a correction
//! is a dated entry and the original stays, marked; journal-worthy data is never
//! corrected or deleted (refused with the legal reason); a granted deletion leaves no
//! rows or shreds the patient; a refusal needs a reason; nobody else's requests show.

use std::sync::Arc;

use axum::http::StatusCode;
use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::messaging::MessageText;
use fortrolig_domain::requests::{DEADLINE_DAYS, RequestKind, RequestStatus};
use fortrolig_domain::{ManualClock, RequestId, Source, ThreadId, Timestamp};
use fortrolig_service::{
    Answer, Fortrolig, PatientActor, ServiceError, SessionSubject, StaffActor,
};
use fortrolig_web::{AppState, router};

use crate::notices::{Setup, exchange, setup};
use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, org};
use crate::web_support::{Res, call, encode, get, post, session_cookie, staff_with_role};

const DAY: i64 = 86_400_000_000;

fn kari(s: &Setup) -> PatientActor {
    PatientActor {
        patient: s.kari,
        level: Level::High,
        source: Source::default(),
    }
}

fn fields(pairs: &[(&str, &str)]) -> String {
    encode(
        &pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>(),
    )
}

async fn file(
    s: &Setup,
    kind: RequestKind,
    thread: Option<ThreadId>,
    text: &str,
) -> Res<RequestId> {
    Ok(s.clinic
        .file_request(&kari(s), kind, thread, &MessageText::parse(text)?)
        .await?)
}

/// A clinic with Kari, her doctor and one exchange of messages, and its router.
async fn start(env: &TestEnv) -> Res<(Fortrolig, Setup, ThreadId, axum::Router)> {
    let app = env.app().await?;
    let s = setup(&app, "kari@example.org").await?;
    let thread = exchange(&s).await?;
    let routes = router(AppState::new(app.clone()), false);
    Ok((app, s, thread, routes))
}

/// The request ids linked from a staff page, in order.
fn request_links(body: &str) -> Vec<String> {
    body.split("/ansatt/foresporsel/")
        .skip(1)
        .filter_map(|rest| rest.get(..32).map(str::to_owned))
        .collect()
}

async fn each_kind_is_filed_with_its_deadline_and_staff_see_them_by_deadline_p9(
    env: &TestEnv,
) -> TestResult {
    let start = Timestamp(1_800_000_000_000_000);
    let clock = Arc::new(ManualClock::new(start));
    let app = env.app_with_clock(clock.clone()).await?;
    let s = setup(&app, "kari@example.org").await?;
    let clinic = &s.clinic;
    let thread = exchange(&s).await?;
    let routes = router(AppState::new(app.clone()), false);
    let (me, _) = session_cookie(clinic, SessionSubject::Patient(s.kari), Level::High).await?;
    let page = format!("/k/{ORG_A}/foresporsler");

    let form = call(&routes, get(&page, Some(&me))?).await?;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("Du har ingen forespørsler."));

    // The patient files each kind, a day apart, through the form (a new session each
    // day: an idle one ends after 30 minutes).
    let thread_text = thread.to_string();
    for (kind, scope, text) in [
        (
            "retting",
            thread_text.as_str(),
            "Svaret sier angina, men det var halsbrann.",
        ),
        (
            "sletting",
            thread_text.as_str(),
            "Slett samtalen om brystsmerter.",
        ),
        (
            "begrensning",
            "",
            "Ikke bruk opplysningene mine før klagen er avgjort.",
        ),
        ("kopi", "", "Jeg vil ha en kopi av alt."),
    ] {
        let (me, csrf) =
            session_cookie(clinic, SessionSubject::Patient(s.kari), Level::High).await?;
        let sent = call(
            &routes,
            post(
                &page,
                &me,
                &fields(&[
                    ("csrf", &csrf),
                    ("type", kind),
                    ("samtale", scope),
                    ("tekst", text),
                ]),
            )?,
        )
        .await?;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{kind}: {}", sent.body);
        assert!(
            sent.location().ends_with("/foresporsler?sendt=ja"),
            "{kind}"
        );
        clock.advance_micros(DAY);
    }
    // An incomplete form is shown again, and nothing is filed.
    let (me, csrf) = session_cookie(clinic, SessionSubject::Patient(s.kari), Level::High).await?;
    let incomplete = call(
        &routes,
        post(&page, &me, &fields(&[("csrf", &csrf), ("tekst", "x")]))?,
    )
    .await?;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);

    let mine = clinic.my_requests(&kari(&s)).await?;
    assert_eq!(mine.len(), 4);
    for r in &mine {
        assert_eq!(r.due_at.0 - r.received_at.0, DEADLINE_DAYS * DAY, "30 days");
        assert_eq!(r.status, RequestStatus::Open);
    }
    let listed = call(&routes, get(&page, Some(&me))?).await?;
    assert_eq!(listed.status, StatusCode::OK);
    for (kind, deadline) in mine.iter().map(|r| (r.kind, r.due_at.oslo_minutes())) {
        assert!(
            listed.body.contains(&deadline),
            "{kind:?} with its deadline"
        );
    }
    assert!(listed.body.contains("dager igjen"));
    assert!(listed.body.contains("halsbrann"));

    // A month later the first two are overdue; a doctor in care now sees all four,
    // oldest deadline first, the overdue marked.
    clock.advance_micros(27 * DAY + DAY / 2);
    let now = app.now();
    let doctor = staff_with_role(clinic, "Lege Nyström", Role::Doctor, now).await?;
    clinic.start_care(&ctx(ORG_A), doctor, s.kari).await?;
    let (doc, doc_csrf) =
        session_cookie(clinic, SessionSubject::Staff(doctor), Level::High).await?;
    let staff_list = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/foresporsler"), Some(&doc))?,
    )
    .await?;
    assert_eq!(staff_list.status, StatusCode::OK, "{}", staff_list.body);
    assert!(
        staff_list.body.contains("4 åpne, 2 forfalt."),
        "{}",
        staff_list.body
    );
    let mut by_deadline: Vec<_> = mine.clone();
    by_deadline.sort_by_key(|r| r.due_at);
    let links = request_links(&staff_list.body);
    assert_eq!(
        links,
        by_deadline
            .iter()
            .map(|r| r.id.to_string())
            .collect::<Vec<_>>(),
        "oldest deadline first"
    );
    assert_eq!(staff_list.body.matches("Forfalt").count(), 2);

    // A refusal without a reason is refused with 422, and nothing is lost.
    let copy = by_deadline[3].id;
    let answer_path = format!("/k/{ORG_A}/ansatt/foresporsel/{copy}/svar");
    let no_reason = call(
        &routes,
        post(
            &answer_path,
            &doc,
            &fields(&[("csrf", &doc_csrf), ("beslutning", "avslag"), ("svar", " ")]),
        )?,
    )
    .await?;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("Et avslag må ha en begrunnelse"));
    assert!(
        no_reason.body.contains("value=\"avslag\" checked"),
        "the choice is kept"
    );
    let no_choice = call(
        &routes,
        post(
            &answer_path,
            &doc,
            &fields(&[("csrf", &doc_csrf), ("svar", "Kopien ligger under Innsyn.")]),
        )?,
    )
    .await?;
    assert_eq!(no_choice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_choice.body.contains("Velg innvilg eller avslå"));
    assert!(
        no_choice
            .body
            .contains(">Kopien ligger under Innsyn.</textarea>"),
        "what was typed is shown again: {}",
        no_choice.body
    );
    let still = clinic.my_requests(&kari(&s)).await?;
    assert!(still.iter().all(|r| r.status == RequestStatus::Open));

    // The restriction is granted: the staff pages mark it.
    let restriction = by_deadline[2].id;
    let granted = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/ansatt/foresporsel/{restriction}/svar"),
            &doc,
            &fields(&[("csrf", &doc_csrf), ("beslutning", "innvilg"), ("svar", "")]),
        )?,
    )
    .await?;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);
    assert!(granted.location().ends_with("?besvart=ja"));
    let patient_page = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/pasient/{}", s.kari), Some(&doc))?,
    )
    .await?;
    assert!(
        patient_page.body.contains("Behandling begrenset"),
        "{}",
        patient_page.body
    );
    let thread_page = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/samtale/{thread}"), Some(&doc))?,
    )
    .await?;
    assert!(thread_page.body.contains("Behandling begrenset"));

    // The copy request is answered by the patient's download of the innsyn copy.
    let (me, csrf) = session_cookie(clinic, SessionSubject::Patient(s.kari), Level::High).await?;
    let copied = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/innsyn/kopi.json"),
            &me,
            &format!("csrf={csrf}"),
        )?,
    )
    .await?;
    assert_eq!(copied.status, StatusCode::OK);
    assert!(copied.body.contains("\"foresporsler\""));
    let after = clinic.my_requests(&kari(&s)).await?;
    let status_of = |id: RequestId| after.iter().find(|r| r.id == id).map(|r| r.status);
    assert_eq!(status_of(copy), Some(RequestStatus::Granted));
    assert_eq!(status_of(restriction), Some(RequestStatus::Granted));

    // Innsyn shows the requests too.
    let held = call(&routes, get(&format!("/k/{ORG_A}/innsyn"), Some(&me))?).await?;
    assert_eq!(held.status, StatusCode::OK);
    assert!(held.body.contains("Forespørsler om opplysningene dine"));
    assert!(held.body.contains("halsbrann"));
    let audited = crate::notices::audited(clinic, "request.received").await?;
    assert_eq!(audited.len(), 4);
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

async fn a_correction_is_dated_and_the_original_stays_visible_as_corrected_p9(
    env: &TestEnv,
) -> TestResult {
    let (app, s, thread, routes) = start(env).await?;
    let clinic = &s.clinic;
    let access = clinic.thread_access(&s.doctor, thread, "svar").await?;
    let original = access.thread(thread).await?;
    let reply = original.messages[1].id;
    let stored_before = clinic.store().message(reply.as_bytes()).await?;

    let request = file(
        &s,
        RequestKind::Correction,
        Some(thread),
        "Det var halsbrann, ikke angina.",
    )
    .await?;
    let patient_access = clinic.health_access(&s.doctor, s.kari, "svar").await?;
    let status = patient_access
        .answer_request(
            request,
            Answer::Grant {
                text: "Rettelse: halsbrann, ikke angina.".into(),
                message: Some(reply),
            },
        )
        .await?;
    assert_eq!(status, RequestStatus::Granted);
    // The original row is untouched.
    assert_eq!(
        clinic.store().message(reply.as_bytes()).await?,
        stored_before
    );

    // The patient sees the original marked «Rettet <dato>» with the correction beside it.
    let (me, _) = session_cookie(clinic, SessionSubject::Patient(s.kari), Level::High).await?;
    let seen = call(
        &routes,
        get(&format!("/k/{ORG_A}/meldinger/{thread}"), Some(&me))?,
    )
    .await?;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert!(
        seen.body.contains("MARKER-SVAR Det er angina"),
        "the original stays"
    );
    assert!(seen.body.contains("Rettet "));
    assert!(seen.body.contains("halsbrann, ikke angina."));
    // So does staff.
    let (doc, _) =
        session_cookie(clinic, SessionSubject::Staff(s.doctor.staff), Level::High).await?;
    let staff_seen = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/samtale/{thread}"), Some(&doc))?,
    )
    .await?;
    assert!(staff_seen.body.contains("MARKER-SVAR Det er angina"));
    assert!(staff_seen.body.contains("Rettet "));

    // A correction of the registered data is shown beside them in innsyn.
    let profile = file(
        &s,
        RequestKind::Correction,
        None,
        "Mellomnavnet mitt er feil.",
    )
    .await?;
    patient_access
        .answer_request(
            profile,
            Answer::Grant {
                text: "Mellomnavnet er Varsel, ikke Varsle.".into(),
                message: None,
            },
        )
        .await?;
    let held = call(&routes, get(&format!("/k/{ORG_A}/innsyn"), Some(&me))?).await?;
    assert!(held.body.contains("Mellomnavnet er Varsel"));
    assert!(
        held.body.contains("Kari Varsel Nordmann"),
        "the original stays"
    );
    assert_eq!(
        crate::notices::audited(clinic, "request.answered")
            .await?
            .len(),
        2
    );
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

async fn correction_and_deletion_of_journal_worthy_data_are_refused_with_the_law_p9_s5(
    env: &TestEnv,
) -> TestResult {
    let (app, s, thread, routes) = start(env).await?;
    let clinic = &s.clinic;
    let access = clinic.thread_access(&s.doctor, thread, "journal").await?;
    let reply = access.thread(thread).await?.messages[1].id;
    access.mark_journal_worthy(thread, reply, true).await?;
    let doctor = clinic.health_access(&s.doctor, s.kari, "svar").await?;

    let correction = file(&s, RequestKind::Correction, Some(thread), "Rett svaret.").await?;
    let deletion = file(&s, RequestKind::Deletion, Some(thread), "Slett samtalen.").await?;
    let everything = file(&s, RequestKind::Deletion, None, "Slett alt.").await?;

    // Staff see why before they answer.
    let (doc, _) =
        session_cookie(clinic, SessionSubject::Staff(s.doctor.staff), Level::High).await?;
    let page = call(
        &routes,
        get(
            &format!("/k/{ORG_A}/ansatt/foresporsel/{deletion}"),
            Some(&doc),
        )?,
    )
    .await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("kan ikke innvilges"));
    assert!(page.body.contains("helsepersonelloven §§ 39–40"));

    let grant = |message| Answer::Grant {
        text: "Rettet.".into(),
        message,
    };
    assert_eq!(
        doctor
            .answer_request(correction, grant(Some(reply)))
            .await?,
        RequestStatus::Refused
    );
    assert_eq!(
        doctor.answer_request(deletion, grant(None)).await?,
        RequestStatus::Refused
    );
    assert_eq!(
        doctor.answer_request(everything, grant(None)).await?,
        RequestStatus::Refused
    );
    // Nothing was changed or deleted, and the patient is still there.
    assert!(clinic.store().thread(thread.as_bytes()).await?.is_some());
    assert_eq!(
        clinic.store().messages_of(thread.as_bytes()).await?.len(),
        2
    );
    assert!(
        clinic
            .store()
            .corrections_of(s.kari.as_bytes())
            .await?
            .is_empty()
    );
    clinic.read_patient(&ctx(ORG_A), s.kari).await?;

    // The patient sees the refusal and its reason, naming the law and the way forward.
    let (me, _) = session_cookie(clinic, SessionSubject::Patient(s.kari), Level::High).await?;
    let mine = call(
        &routes,
        get(&format!("/k/{ORG_A}/foresporsler"), Some(&me))?,
    )
    .await?;
    assert_eq!(mine.body.matches("Avslått").count(), 3);
    assert!(mine.body.contains("helsepersonelloven §§ 42–43"));
    app.close().await;
    Ok(())
}

async fn a_granted_thread_deletion_leaves_no_rows_and_deleting_everything_shreds_p9_x4(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let s = setup(&app, "kari@example.org").await?;
    let clinic = &s.clinic;
    let first = exchange(&s).await?;
    let second = exchange(&s).await?;
    let routes = router(AppState::new(app.clone()), false);
    let doctor = clinic.health_access(&s.doctor, s.kari, "svar").await?;

    let one = file(
        &s,
        RequestKind::Deletion,
        Some(first),
        "Slett den første samtalen.",
    )
    .await?;
    let grant = || Answer::Grant {
        text: String::new(),
        message: None,
    };
    assert_eq!(
        doctor.answer_request(one, grant()).await?,
        RequestStatus::Granted
    );
    assert!(clinic.store().thread(first.as_bytes()).await?.is_none());
    assert!(
        clinic
            .store()
            .messages_of(first.as_bytes())
            .await?
            .is_empty()
    );
    assert!(
        clinic
            .store()
            .attachments_of_thread(first.as_bytes())
            .await?
            .is_empty()
    );
    assert!(
        clinic.store().thread(second.as_bytes()).await?.is_some(),
        "only that one"
    );

    let all = file(&s, RequestKind::Deletion, None, "Slett alt om meg.").await?;
    assert_eq!(
        doctor.answer_request(all, grant()).await?,
        RequestStatus::Granted
    );
    // Shredded: the record is gone and its key with it; nothing opens again.
    let gone = clinic.read_patient(&ctx(ORG_A), s.kari).await;
    assert!(matches!(gone, Err(ServiceError::Shredded)), "{gone:?}");
    assert!(clinic.store().thread(second.as_bytes()).await?.is_none());

    // The requests stay on record for staff, their texts unreadable.
    let (doc, _) =
        session_cookie(clinic, SessionSubject::Staff(s.doctor.staff), Level::High).await?;
    let list = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/foresporsler"), Some(&doc))?,
    )
    .await?;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(request_links(&list.body).len(), 2);
    let page = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/foresporsel/{all}"), Some(&doc))?,
    )
    .await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Slettet pasient"));
    assert!(page.body.contains("Teksten kan ikke leses"));
    assert!(!page.body.contains("Slett alt om meg"));
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

async fn nobody_sees_or_answers_requests_they_have_no_access_to_p9_s1(env: &TestEnv) -> TestResult {
    let (app, s, thread, routes) = start(env).await?;
    let clinic = &s.clinic;
    let request = file(
        &s,
        RequestKind::Deletion,
        Some(thread),
        "HEMMELIG-KARI slett dette.",
    )
    .await?;

    // Another patient sees none of it and cannot name Kari's thread.
    let ola = clinic
        .add_patient(
            &ctx(ORG_A),
            &crate::support::patient(&crate::support::synthetic_fnr(4242), "Ola Annen"),
        )
        .await?;
    let version = clinic.consent_text().await?.version;
    let me =
        fortrolig_service::ActContext::patient(ola, clinic.org(), Source::default(), "samtykke");
    clinic
        .record_consents(
            &me,
            ola,
            &[(
                fortrolig_domain::consent::ConsentSubject::Service(
                    fortrolig_domain::consent::PortalService::Messaging,
                ),
                true,
            )],
            &version,
        )
        .await?;
    let (ola_cookie, ola_csrf) =
        session_cookie(clinic, SessionSubject::Patient(ola), Level::High).await?;
    let page = call(
        &routes,
        get(&format!("/k/{ORG_A}/foresporsler"), Some(&ola_cookie))?,
    )
    .await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("HEMMELIG-KARI"));
    let foreign = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/foresporsler"),
            &ola_cookie,
            &fields(&[
                ("csrf", &ola_csrf),
                ("type", "sletting"),
                ("samtale", &thread.to_string()),
                ("tekst", "Slett Karis samtale."),
            ]),
        )?,
    )
    .await?;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    // A doctor without a care relationship neither lists, opens nor answers it.
    let stranger = staff_with_role(clinic, "Lege Fremmed", Role::Doctor, app.now()).await?;
    let (other, other_csrf) =
        session_cookie(clinic, SessionSubject::Staff(stranger), Level::High).await?;
    let list = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/foresporsler"), Some(&other))?,
    )
    .await?;
    assert_eq!(list.status, StatusCode::OK);
    assert!(request_links(&list.body).is_empty());
    let opened = call(
        &routes,
        get(
            &format!("/k/{ORG_A}/ansatt/foresporsel/{request}"),
            Some(&other),
        )?,
    )
    .await?;
    assert_eq!(opened.status, StatusCode::FORBIDDEN);
    assert!(!opened.body.contains("HEMMELIG-KARI"));
    let answered = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/ansatt/foresporsel/{request}/svar"),
            &other,
            &fields(&[
                ("csrf", &other_csrf),
                ("beslutning", "innvilg"),
                ("svar", ""),
            ]),
        )?,
    )
    .await?;
    assert_eq!(answered.status, StatusCode::FORBIDDEN);
    let who = StaffActor {
        staff: stranger,
        level: Level::High,
        source: Source::default(),
    };
    assert!(clinic.health_access(&who, s.kari, "svar").await.is_err());
    assert!(clinic.store().thread(thread.as_bytes()).await?.is_some());
    let still = clinic.my_requests(&kari(&s)).await?;
    assert_eq!(still[0].status, RequestStatus::Open);
    app.close().await;
    Ok(())
}

async fn deleting_everything_around_the_journal_deletes_the_rest_and_says_why_p9_s5(
    env: &TestEnv,
) -> TestResult {
    let (app, s, kept, routes) = start(env).await?;
    let clinic = &s.clinic;
    let free = exchange(&s).await?;
    let access = clinic.thread_access(&s.doctor, kept, "journal").await?;
    let reply = access.thread(kept).await?.messages[1].id;
    access.mark_journal_worthy(kept, reply, true).await?;
    let doctor = clinic.health_access(&s.doctor, s.kari, "svar").await?;

    let all = file(&s, RequestKind::Deletion, None, "Slett alt om meg.").await?;
    let grant = Answer::Grant {
        text: String::new(),
        message: None,
    };
    assert_eq!(
        doctor.answer_request(all, grant).await?,
        RequestStatus::Partly
    );
    assert!(clinic.store().thread(free.as_bytes()).await?.is_none());
    assert!(clinic.store().thread(kept.as_bytes()).await?.is_some());
    clinic.read_patient(&ctx(ORG_A), s.kari).await?;
    let (me, _) = session_cookie(clinic, SessionSubject::Patient(s.kari), Level::High).await?;
    let mine = call(
        &routes,
        get(&format!("/k/{ORG_A}/foresporsler"), Some(&me))?,
    )
    .await?;
    assert!(mine.body.contains("Delvis innvilget"));
    assert!(mine.body.contains("helsepersonelloven §§ 39–40"));

    // A granted restriction is marked until it is lifted, and lifting is audited.
    let restriction = file(&s, RequestKind::Restriction, None, "Vent med alt.").await?;
    let granted = Answer::Grant {
        text: String::new(),
        message: None,
    };
    doctor.answer_request(restriction, granted).await?;
    assert!(clinic.restricted(s.kari).await?);
    let (doc, doc_csrf) =
        session_cookie(clinic, SessionSubject::Staff(s.doctor.staff), Level::High).await?;
    let lifted = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/ansatt/foresporsel/{restriction}/opphev"),
            &doc,
            &format!("csrf={doc_csrf}"),
        )?,
    )
    .await?;
    assert_eq!(lifted.status, StatusCode::SEE_OTHER, "{}", lifted.body);
    assert!(!clinic.restricted(s.kari).await?);
    let page = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/pasient/{}", s.kari), Some(&doc))?,
    )
    .await?;
    assert!(!page.body.contains("Behandling begrenset"));
    assert_eq!(
        crate::notices::audited(clinic, "request.restriction_lifted")
            .await?
            .len(),
        1
    );
    app.close().await;
    Ok(())
}

/// A conversation deleted on request is crypto-shredded: its own key leaves the key ring,
/// so the copy in a backup taken before is sealed with a key that exists nowhere, and a
/// restore of that backup drops it again; the patient's other conversation comes back
/// readable.
async fn a_deleted_conversation_cannot_come_back_from_an_earlier_backup_p9_x4(
    env: &TestEnv,
) -> TestResult {
    let (app, s, deleted, _routes) = start(env).await?;
    let kept = exchange(&s).await?;
    let keyring = &app.stores().keyring;
    for thread in [deleted, kept] {
        let row = s
            .clinic
            .store()
            .thread(thread.as_bytes())
            .await?
            .ok_or("thread")?;
        let (_, key) = keyring
            .content_keys(ORG_A, s.kari.as_bytes(), thread.as_bytes())
            .await?
            .ok_or("the patient's key")?;
        let key = key.ok_or("each conversation has a key of its own")?;
        assert_eq!(row.key_id, Some(key.key_id));
    }
    app.close().await;
    let before = env.dir.path().join("before.frt");
    env.backup_to(&before);

    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    let request = clinic
        .file_request(
            &kari(&s),
            RequestKind::Deletion,
            Some(deleted),
            &MessageText::parse("Slett samtalen om timeendringen.")?,
        )
        .await?;
    let doctor = clinic.health_access(&s.doctor, s.kari, "svar").await?;
    let granted = Answer::Grant {
        text: String::new(),
        message: None,
    };
    assert_eq!(
        doctor.answer_request(request, granted).await?,
        RequestStatus::Granted
    );
    assert!(clinic.store().thread(deleted.as_bytes()).await?.is_none());
    let keyring = &app.stores().keyring;
    let gone = keyring
        .content_keys(ORG_A, s.kari.as_bytes(), deleted.as_bytes())
        .await?
        .ok_or("the patient's key stays")?;
    assert!(gone.1.is_none(), "the conversation's key is destroyed");
    app.close().await;

    let restored = env.restore_from(&before);
    assert!(
        restored.contains("1 deleted conversation(s) left out"),
        "{restored}"
    );
    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    assert!(clinic.store().thread(deleted.as_bytes()).await?.is_none());
    let back = clinic
        .thread_access(&s.doctor, kept, "svar")
        .await?
        .thread(kept)
        .await?;
    assert!(!back.messages.is_empty(), "the other conversation opens");
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(
    deleting_everything_around_the_journal_deletes_the_rest_and_says_why_p9_s5,
    each_kind_is_filed_with_its_deadline_and_staff_see_them_by_deadline_p9,
    a_correction_is_dated_and_the_original_stays_visible_as_corrected_p9,
    correction_and_deletion_of_journal_worthy_data_are_refused_with_the_law_p9_s5,
    a_granted_thread_deletion_leaves_no_rows_and_deleting_everything_shreds_p9_x4,
    nobody_sees_or_answers_requests_they_have_no_access_to_p9_s1,
    a_deleted_conversation_cannot_come_back_from_an_earlier_backup_p9_x4,
);
