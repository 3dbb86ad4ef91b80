//! Recall offers a draft incident (issue 4 item 7; S7, C4, X3, X8): a recall in time and
//! one too late each leave a draft in the register, named by the recall's audit entry and
//! linked from the thread page; a draft is assessed (registered with the risk, or
//! discarded with the reason), and a form without what it needs is shown again with what
//! was typed and stores nothing; the 72-hour clock runs from the recall; follow-ups are
//! offered only as the risk calls for them, once; only staff who may reach the patient
//! see or open the incident; the description is ciphertext; everything is audited.

use std::sync::Arc;

use axum::http::StatusCode;
use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::messaging::MessageText;
use fortrolig_domain::{ManualClock, PatientId, Source, ThreadId, Timestamp};
use fortrolig_service::{Clinic, PatientActor, SessionSubject};
use fortrolig_web::{AppState, router};

use crate::notices::{Setup, exchange, setup};
use crate::support::{TestEnv, TestResult, both_backends};
use crate::web_support::{Page, Res, call, encode, get, post, session_cookie, staff_with_role};

const HOUR: i64 = 3_600_000_000;

fn form(pairs: &[(&str, &str)]) -> String {
    encode(
        &pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>(),
    )
}

/// The incident ids linked from a page, in order.
fn incident_links(body: &str) -> Vec<String> {
    body.split("/ansatt/avvik/")
        .skip(1)
        .filter_map(|rest| rest.get(..32).map(str::to_owned))
        .collect()
}

/// A reply from the doctor, sent through the service.
async fn reply(s: &Setup, thread: ThreadId, text: &str) -> Res<fortrolig_domain::MessageId> {
    Ok(s.clinic
        .thread_access(&s.doctor, thread, "svar")
        .await?
        .reply(thread, &MessageText::parse(text)?, false, &[])
        .await?)
}

struct Web {
    routes: axum::Router,
    cookie: String,
    csrf: String,
}

impl Web {
    async fn call(&self, request: axum::http::Request<axum::body::Body>) -> Res<Page> {
        let page = call(&self.routes, request).await?;
        assert_eq!(
            page.header(axum::http::header::CACHE_CONTROL),
            "no-store",
            "every response is no-store (P2)"
        );
        Ok(page)
    }

    async fn get(&self, path: &str) -> Res<Page> {
        self.call(get(path, Some(&self.cookie))?).await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Res<Page> {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.call(post(path, &self.cookie, &form(&all))?).await
    }
}

async fn web_for(clinic: &Clinic, routes: &axum::Router, who: SessionSubject) -> Res<Web> {
    let (cookie, csrf) = session_cookie(clinic, who, Level::High).await?;
    Ok(Web {
        routes: routes.clone(),
        cookie,
        csrf,
    })
}

fn path(s: &Setup, rest: &str) -> String {
    format!("/k/{}/ansatt/{rest}", s.clinic.org())
}

async fn audited(clinic: &Clinic, patient: PatientId, action: &str) -> Res<Vec<(String, String)>> {
    Ok(clinic
        .store()
        .entries_for_patient(&patient.to_string())
        .await?
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| (e.outcome, e.object))
        .collect())
}

async fn a_recall_offers_a_draft_incident_which_is_assessed_followed_up_and_audited_s7_c4_x3(
    env: &TestEnv,
) -> TestResult {
    let start = Timestamp(1_800_000_000_000_000);
    let clock = Arc::new(ManualClock::new(start));
    let app = env.app_with_clock(clock.clone()).await?;
    let s = setup(&app, "kari@example.org").await?;
    let clinic = &s.clinic;
    let routes = router(AppState::new(app.clone()), false);
    let thread = exchange(&s).await?;
    let doctor = web_for(clinic, &routes, SessionSubject::Staff(s.doctor.staff)).await?;
    let recall = |message| {
        path(
            &s,
            &format!("samtale/{thread}/melding/{message}/tilbakekall"),
        )
    };

    // An unread reply is recalled: the thread page says so and links the draft.
    let wrong = reply(&s, thread, "MARKER-FEIL Svaret gjelder en annen pasient.").await?;
    let done = doctor.post(&recall(wrong), &[]).await?;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(
        done.location().contains("melding=trukket"),
        "{}",
        done.location()
    );
    let shown = doctor.get(&done.location()).await?;
    let links = incident_links(&shown.body);
    assert_eq!(links.len(), 1, "the notice links the draft: {}", shown.body);
    let in_time = links[0].clone();
    assert!(shown.body.contains("Et utkast til avvik er laget"));

    // A read one cannot be recalled; the attempt offers a draft too.
    let read = reply(&s, thread, "Husk timen på mandag.").await?;
    let kari = PatientActor {
        patient: s.kari,
        level: Level::High,
        source: Source::default(),
    };
    clinic.my_thread(&kari, thread).await?;
    let late = doctor.post(&recall(read), &[]).await?;
    assert!(
        late.location().contains("melding=lest"),
        "{}",
        late.location()
    );
    let shown = doctor.get(&late.location()).await?;
    let too_late = incident_links(&shown.body)
        .first()
        .cloned()
        .ok_or("no draft linked after a recall too late")?;
    assert_ne!(too_late, in_time);

    // Both recalls name their draft in the audit log (X3).
    let recalls = audited(clinic, s.kari, "message.recalled").await?;
    assert_eq!(recalls.len(), 2, "{recalls:?}");
    assert_eq!(recalls[0].0, "granted");
    assert!(
        recalls[0].1.ends_with(&format!("incident:{in_time}")),
        "{recalls:?}"
    );
    assert_eq!(recalls[1].0, "denied");
    assert!(
        recalls[1].1.ends_with(&format!("incident:{too_late}")),
        "{recalls:?}"
    );

    // The register lists both drafts with the clock from the recall (72 hours).
    clock.advance_micros(2 * HOUR);
    let doctor = web_for(clinic, &routes, SessionSubject::Staff(s.doctor.staff)).await?;
    let home = doctor.get(&path(&s, "")).await?;
    assert!(
        home.body.contains(&path(&s, "avvik")),
        "the workspace links the register"
    );
    let register = doctor.get(&path(&s, "avvik")).await?;
    assert_eq!(register.status, StatusCode::OK);
    assert_eq!(register.body.matches("Utkast, ikke vurdert").count(), 2);
    assert_eq!(
        register.body.matches("70 timer igjen").count(),
        2,
        "{}",
        register.body
    );
    assert!(register.body.contains("2 utkast venter på vurdering."));

    // Assessing without a risk: 422, the text kept, nothing stored.
    let page = path(&s, &format!("avvik/{in_time}"));
    let opened = doctor.get(&page).await?;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(
        opened
            .body
            .contains("Melding trukket tilbake før den ble lest")
    );
    let typed = "Svaret gikk til Kari, men gjaldt en annen pasient med samme navn.";
    let refused = doctor
        .post(
            &format!("{page}/vurdering"),
            &[("beslutning", "registrer"), ("beskrivelse", typed)],
        )
        .await?;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Velg risikoen for pasienten"));
    assert!(
        refused.body.contains(typed),
        "what was typed is shown again"
    );
    let refused = doctor
        .post(
            &format!("{page}/vurdering"),
            &[
                ("beslutning", "registrer"),
                ("risiko", "middels"),
                ("beskrivelse", " "),
            ],
        )
        .await?;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let long = "x".repeat(20_001);
    let refused = doctor
        .post(
            &format!("{page}/vurdering"),
            &[("beslutning", "forkast"), ("beskrivelse", &long)],
        )
        .await?;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Teksten er for lang (høyst 20000 tegn).")
    );
    assert!(refused.body.contains(&long), "the text is kept");
    let forged = doctor
        .call(post(
            &format!("{page}/vurdering"),
            &doctor.cookie,
            &form(&[
                ("csrf", "feil"),
                ("beslutning", "forkast"),
                ("beskrivelse", "x"),
            ]),
        )?)
        .await?;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        audited(clinic, s.kari, "incident.decided")
            .await?
            .is_empty()
    );

    // Registered at medium risk: reporting is due, telling the patient is not.
    let saved = doctor
        .post(
            &format!("{page}/vurdering"),
            &[
                ("beslutning", "registrer"),
                ("risiko", "middels"),
                ("beskrivelse", typed),
            ],
        )
        .await?;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let shown = doctor.get(&saved.location()).await?;
    for expected in [
        "Avviket er lagret.",
        "Registrert avvik",
        "Middels",
        typed,
        "70 timer igjen",
    ] {
        assert!(shown.body.contains(expected), "{expected}: {}", shown.body);
    }
    assert!(
        shown
            .body
            .contains("Registrer at avviket er meldt til Datatilsynet")
    );
    assert!(!shown.body.contains("Registrer at pasienten er varslet"));
    let again = doctor
        .post(
            &format!("{page}/vurdering"),
            &[("beslutning", "forkast"), ("beskrivelse", "Likevel ikke")],
        )
        .await?;
    assert_eq!(again.status, StatusCode::CONFLICT, "an assessment stands");
    assert!(again.body.contains("Avviket er allerede vurdert."));
    let not_due = doctor
        .post(
            &format!("{page}/oppfolging"),
            &[("oppfolging", "pasient-varslet")],
        )
        .await?;
    assert_eq!(not_due.status, StatusCode::CONFLICT);
    let reported = doctor
        .post(&format!("{page}/oppfolging"), &[("oppfolging", "meldt")])
        .await?;
    assert_eq!(reported.status, StatusCode::SEE_OTHER);
    let shown = doctor.get(&page).await?;
    assert!(
        shown.body.contains("Meldt til Datatilsynet"),
        "{}",
        shown.body
    );
    assert!(!shown.body.contains("Registrer at avviket er meldt"));
    let twice = doctor
        .post(&format!("{page}/oppfolging"), &[("oppfolging", "meldt")])
        .await?;
    assert_eq!(twice.status, StatusCode::CONFLICT);

    // The late draft, past its deadline, is discarded with the reason.
    clock.advance_micros(71 * HOUR);
    let doctor = web_for(clinic, &routes, SessionSubject::Staff(s.doctor.staff)).await?;
    let late_page = path(&s, &format!("avvik/{too_late}"));
    let opened = doctor.get(&late_page).await?;
    assert!(
        opened
            .body
            .contains("Melding lest før den kunne trekkes tilbake")
    );
    assert!(
        opened.body.contains("Fristen er passert"),
        "{}",
        opened.body
    );
    let discarded = doctor
        .post(
            &format!("{late_page}/vurdering"),
            &[
                ("beslutning", "forkast"),
                (
                    "beskrivelse",
                    "Riktig pasient; meldingen var bare for tidlig.",
                ),
            ],
        )
        .await?;
    assert_eq!(discarded.status, StatusCode::SEE_OTHER);
    let register = doctor.get(&path(&s, "avvik")).await?;
    assert!(register.body.contains("Forkastet, ikke et avvik"));
    assert!(register.body.contains("0 utkast venter på vurdering."));

    // Everything is on record, and the log verifies.
    let decided = audited(clinic, s.kari, "incident.decided").await?;
    assert_eq!(
        decided,
        [
            (
                "granted".to_owned(),
                format!("incident:{in_time} registrert risiko:middels")
            ),
            (
                "granted".to_owned(),
                format!("incident:{too_late} forkastet")
            ),
        ]
    );
    assert_eq!(
        audited(clinic, s.kari, "incident.followed_up").await?,
        [("granted".to_owned(), format!("incident:{in_time} meldt"))]
    );
    let reads = audited(clinic, s.kari, "patient.read").await?;
    assert!(
        reads
            .iter()
            .any(|(_, o)| o == &format!("incident:{in_time}"))
    );
    clinic.verify_audit().await?;

    // The description is ciphertext in the store.
    let id = fortrolig_domain::IncidentId::parse(&in_time)?;
    let row = clinic
        .store()
        .incident(id.as_bytes())
        .await?
        .ok_or("the incident row")?;
    let sealed = row.description.ok_or("a description")?;
    assert!(!sealed.windows(10).any(|w| typed.as_bytes().starts_with(w)));

    // The conversation deleted (retention, or a granted deletion): the incident stays,
    // with nothing left to link to.
    let mut tx = clinic.store().begin().await?;
    tx.delete_thread(thread.as_bytes()).await?;
    tx.commit().await?;
    let kept = doctor.get(&page).await?;
    assert_eq!(kept.status, StatusCode::OK);
    assert!(kept.body.contains("Samtalen er slettet"), "{}", kept.body);
    assert!(!kept.body.contains(&format!("/samtale/{thread}")));
    app.close().await;
    Ok(())
}

async fn only_staff_who_may_reach_the_patient_see_or_open_an_incident_s1_c4(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let s = setup(&app, "kari@example.org").await?;
    let clinic = &s.clinic;
    let routes = router(AppState::new(app.clone()), false);
    let thread = exchange(&s).await?;
    let now = app.now();
    let stranger = staff_with_role(clinic, "Lege Fremmed", Role::Doctor, now).await?;
    let secretary = staff_with_role(clinic, "Sekretær Sand", Role::Secretary, now).await?;
    let doctor = web_for(clinic, &routes, SessionSubject::Staff(s.doctor.staff)).await?;
    let wrong = reply(&s, thread, "Til feil pasient").await?;
    let done = doctor
        .post(
            &path(&s, &format!("samtale/{thread}/melding/{wrong}/tilbakekall")),
            &[],
        )
        .await?;
    let shown = doctor.get(&done.location()).await?;
    let id = incident_links(&shown.body)
        .first()
        .cloned()
        .ok_or("no draft linked")?;

    for (who, name) in [
        (stranger, "a doctor without care"),
        (secretary, "a secretary"),
    ] {
        let web = web_for(clinic, &routes, SessionSubject::Staff(who)).await?;
        let listed = web.get(&path(&s, "avvik")).await?;
        assert!(
            !listed.body.contains(&id),
            "{name} does not see the incident in the register"
        );
        let opened = web.get(&path(&s, &format!("avvik/{id}"))).await?;
        assert_eq!(opened.status, StatusCode::FORBIDDEN, "{name}");
        let assessed = web
            .post(
                &path(&s, &format!("avvik/{id}/vurdering")),
                &[("beslutning", "forkast"), ("beskrivelse", "Ikke noe")],
            )
            .await?;
        assert_eq!(assessed.status, StatusCode::FORBIDDEN, "{name}");
    }
    let listed = doctor.get(&path(&s, "avvik")).await?;
    assert!(listed.body.contains(&id), "the doctor in care sees it");
    let unknown = doctor
        .get(&path(&s, &format!("avvik/{}", "0".repeat(32))))
        .await?;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let denied = audited(clinic, s.kari, "access.denied").await?;
    assert!(
        denied.len() >= 4,
        "refused openings are security events: {denied:?}"
    );
    assert!(
        audited(clinic, s.kari, "incident.decided")
            .await?
            .is_empty()
    );
    app.close().await;
    Ok(())
}

both_backends!(
    a_recall_offers_a_draft_incident_which_is_assessed_followed_up_and_audited_s7_c4_x3,
    only_staff_who_may_reach_the_patient_see_or_open_an_incident_s1_c4,
);
