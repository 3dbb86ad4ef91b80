//! The staff side of messaging in the browser's place (issue 4; P5, S5, S7, S8, X3): the
//! inbox shows a thread to the clinician with a care relationship and not to another;
//! replies with a template; internal notes stay internal; journal marks; recall of an
//! unread message works and of a read one is refused, both audited; a new thread needs
//! the patient's name and date of birth; attachments are served inline in a sandbox;
//! level substantial is sent to step up; the live stream names new activity and adds
//! nothing to the audit log per event; every response is `no-store`.

use std::pin::Pin;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::http::{Request, StatusCode, header};
use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind, ThreadStatus};
use fortrolig_domain::{PatientId, PersonName, Source, StaffId, ThreadId, Timestamp};
use fortrolig_service::{
    AccessError, Clinic, Fortrolig, NewAttachment, PatientActor, ServiceError, SessionSubject,
};
use fortrolig_web::{AppState, router};
use tower::ServiceExt;

use crate::support::{
    ORG_A, TestEnv, TestResult, both_backends, ctx, org, patient, png_with, synthetic_fnr,
};
use crate::web_support::{Page, Res, call, get, post};

const DAY: i64 = 86_400_000_000;

/// A clinic with one patient, a doctor in a care relationship with her, a doctor
/// without one, and a secretary.
struct Clinicians {
    app: Fortrolig,
    clinic: std::sync::Arc<Clinic>,
    routes: axum::Router,
    kari: PatientId,
    doctor: StaffId,
    stranger: StaffId,
    secretary: StaffId,
}

impl Clinicians {
    async fn new(env: &TestEnv) -> Res<Self> {
        let app = env.app().await?;
        let clinic = app.create_clinic(&org(ORG_A), "Svarklinikken").await?;
        let admin = ctx(ORG_A);
        let kari = clinic
            .add_patient(&admin, &patient(&synthetic_fnr(951), "Kari Innboks"))
            .await?;
        let now = app.now();
        let year = Timestamp(now.0 + 365 * DAY);
        let mut staff = Vec::new();
        for (name, role) in [
            ("Lege Lund", Role::Doctor),
            ("Lege Fremmed", Role::Doctor),
            ("Sekretær Sand", Role::Secretary),
        ] {
            let id = clinic
                .add_staff(&admin, &PersonName::parse(name)?, None)
                .await?;
            clinic.grant_role(&admin, id, role, now, year).await?;
            staff.push(id);
        }
        clinic.start_care(&admin, staff[0], kari).await?;
        let routes = router(AppState::new(app.clone()), false);
        Ok(Self {
            app,
            clinic,
            routes,
            kari,
            doctor: staff[0],
            stranger: staff[1],
            secretary: staff[2],
        })
    }

    /// A session cookie for a member of staff at `level`.
    async fn cookie(&self, staff: StaffId, level: Level) -> Res<String> {
        let (token, _) = self
            .clinic
            .start_session(
                SessionSubject::Staff(staff),
                level,
                "test",
                None,
                None,
                &Source::default(),
            )
            .await?;
        Ok(format!("fortrolig_okt={}", token.as_str()))
    }

    fn kari(&self) -> PatientActor {
        PatientActor {
            patient: self.kari,
            level: Level::High,
            source: Source::default(),
        }
    }

    async fn call(&self, request: Request<Body>) -> Res<Page> {
        let page = call(&self.routes, request).await?;
        assert_eq!(
            page.header(header::CACHE_CONTROL),
            "no-store",
            "every response is no-store (P2)"
        );
        Ok(page)
    }

    fn path(&self, rest: &str) -> String {
        format!("/k/{ORG_A}/ansatt/{rest}")
    }
}

/// A multipart body as a browser sends the reply form.
fn multipart(
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
    file: Option<&[u8]>,
) -> Res<Request<Body>> {
    let boundary = "----fortroligtestgrense";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"vedlegg\"; filename=\"{}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n",
            if file.is_some() { "bilde.png" } else { "" }
        )
        .as_bytes(),
    );
    body.extend_from_slice(file.unwrap_or_default());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Ok(Request::post(path)
        .header(header::COOKIE, cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))?)
}

/// The ids of the messages on a thread page, in order.
fn message_ids(body: &str) -> Vec<String> {
    body.split("id=\"melding-")
        .skip(1)
        .filter_map(|r| r.split('"').next())
        .map(str::to_owned)
        .collect()
}

async fn the_inbox_shows_a_thread_to_the_clinician_in_care_who_answers_with_a_template_and_notes_s5_s8_p5_x3(
    env: &TestEnv,
) -> TestResult {
    let c = Clinicians::new(env).await?;
    let picture = png_with(b"innboksbilde");
    let thread = c
        .clinic
        .open_thread(
            &c.kari(),
            ThreadKind::EConsultation,
            &Subject::parse("Vondt i ryggen")?,
            &MessageText::parse("Jeg har hatt vondt i ryggen i to uker.")?,
            &[NewAttachment {
                bytes: picture.clone(),
            }],
        )
        .await?;
    let doc = c.cookie(c.doctor, Level::High).await?;
    let stranger = c.cookie(c.stranger, Level::High).await?;
    let desk = c.cookie(c.secretary, Level::High).await?;

    // The inbox: the doctor in care sees the thread, the other doctor and the secretary
    // (health data) do not. No patient name: that would be a read per row.
    let home = c.call(get(&c.path(""), Some(&doc))?).await?;
    assert!(
        home.body
            .contains(&format!("href=\"{}\"", c.path("innboks")))
    );
    let inbox = c.call(get(&c.path("innboks"), Some(&doc))?).await?;
    assert_eq!(inbox.status, StatusCode::OK);
    let link = c.path(&format!("samtale/{thread}"));
    assert!(
        inbox.body.contains(&link) && inbox.body.contains("E-konsultasjon"),
        "{}",
        inbox.body
    );
    assert!(!inbox.body.contains("Kari Innboks"));
    assert!(inbox.body.contains("src=\"/static/innboks.js\""));
    for other in [&stranger, &desk] {
        let theirs = c.call(get(&c.path("innboks"), Some(other))?).await?;
        assert_eq!(theirs.status, StatusCode::OK);
        assert!(!theirs.body.contains(&thread.to_string()));
    }

    // Another doctor is refused the thread itself, and led to emergency access.
    let refused = c.call(get(&link, Some(&stranger))?).await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("Ingen behandlingsrelasjon")
            && refused
                .body
                .contains(&c.path(&format!("pasient/{}", c.kari)))
            && !refused.body.contains("Vondt i ryggen"),
        "{}",
        refused.body
    );

    // The doctor opens it: subject, patient, the notice the patient saw, the attachment.
    let page = c.call(get(&link, Some(&doc))?).await?;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "Vondt i ryggen",
        "Kari Innboks",
        ThreadKind::EConsultation.default_notice(),
        "Ikke lest av klinikken før nå",
        "autocomplete=\"off\"",
    ] {
        assert!(page.body.contains(text), "{text}: {}", page.body);
    }
    let first = message_ids(&page.body)
        .first()
        .cloned()
        .ok_or("a message")?;

    // A template fills the text box without JavaScript (S8).
    let chosen = c
        .call(get(&format!("{link}?mal=ring-time"), Some(&doc))?)
        .await?;
    let template = "Vi vil gjerne se deg. Ring klinikken for å avtale time.";
    assert!(
        chosen.body.contains(&format!(
            "name=\"tekst\" rows=\"6\" autocomplete=\"off\" required>{template}</textarea>"
        )),
        "{}",
        chosen.body
    );
    let csrf = chosen.csrf();
    let sent = c
        .call(multipart(
            &doc,
            &format!("{link}/svar"),
            &[("csrf", &csrf), ("tekst", template)],
            None,
        )?)
        .await?;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert!(sent.location().contains("melding=sendt"));
    let noted = c
        .call(multipart(
            &doc,
            &format!("{link}/svar"),
            &[
                ("csrf", &csrf),
                ("tekst", "MERKNAD: mistenker isjias"),
                ("internt", "ja"),
            ],
            None,
        )?)
        .await?;
    assert_eq!(noted.status, StatusCode::SEE_OTHER);

    // A wrong CSRF token sends nothing; a refused file keeps what was typed.
    let forged = c
        .call(multipart(
            &doc,
            &format!("{link}/svar"),
            &[("csrf", "feil"), ("tekst", "Forfalsket")],
            None,
        )?)
        .await?;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
    let bad = c
        .call(multipart(
            &doc,
            &format!("{link}/svar"),
            &[("csrf", &csrf), ("tekst", "Se vedlagte skjema")],
            Some(html),
        )?)
        .await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("aktivt innhold") && bad.body.contains("Se vedlagte skjema"),
        "{}",
        bad.body
    );

    // Uploads above the site-wide form limit (256 KiB) go through on this route; above
    // the attachment limit they are refused before anything is read (the length is
    // declared), so nothing is sent.
    let big = png_with(&vec![b'x'; 300 * 1024]);
    let uploaded = c
        .call(multipart(
            &doc,
            &format!("{link}/svar"),
            &[
                ("csrf", &csrf),
                ("tekst", "MERKNAD: stort bilde"),
                ("internt", "ja"),
            ],
            Some(&big),
        )?)
        .await?;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let huge = vec![0u8; fortrolig_domain::attachment::MAX_ATTACHMENT_BYTES + 128 * 1024];
    let too_big = c
        .call(multipart(
            &doc,
            &format!("{link}/svar"),
            &[("csrf", &csrf), ("tekst", "Altfor stort vedlegg")],
            Some(&huge),
        )?)
        .await?;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(too_big.body.contains("for stort"), "{}", too_big.body);

    // The patient sees the answer, never the note (checked through the service).
    let seen = c.clinic.my_thread(&c.kari(), thread).await?;
    let texts: Vec<String> = seen
        .messages
        .iter()
        .filter_map(|m| m.text.as_ref().map(|t| t.as_str().to_owned()))
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert_eq!(texts[1], template);
    assert!(!texts.iter().any(|t| t.contains("MERKNAD")));

    // The clinic sees the note marked, and the patient's read confirmation (P5).
    let page = c.call(get(&link, Some(&doc))?).await?;
    assert!(
        page.body
            .contains("Internt notat – vises ikke for pasienten")
            && page.body.contains("MERKNAD: mistenker isjias")
            && page.body.contains("Lest av pasienten")
            && page.body.contains("Lest av klinikken"),
        "{}",
        page.body
    );
    for unsent in ["Forfalsket", "Se vedlagte skjema", "Altfor stort vedlegg"] {
        assert!(!page.body.contains(unsent), "{unsent}");
    }

    // Journal-worthy (S5).
    let marked = c
        .call(post(
            &format!("{link}/melding/{first}/journal"),
            &doc,
            &format!("csrf={csrf}&verdi=ja"),
        )?)
        .await?;
    assert_eq!(marked.status, StatusCode::SEE_OTHER);
    let access = c
        .clinic
        .thread_access(
            &fortrolig_service::StaffActor {
                staff: c.doctor,
                level: Level::High,
                source: Source::default(),
            },
            thread,
            "kontroll",
        )
        .await?;
    let view = access.thread(thread).await?;
    assert!(view.messages[0].journal_worthy);
    let page = c.call(get(&link, Some(&doc))?).await?;
    assert!(page.body.contains("Fjern journalmerkingen"));
    assert!(page.body.contains("Merk som overført til journalen"));

    // Transferred to the EPJ (S5, X4): once, and then the mark stays with the date.
    let transfer = || {
        post(
            &format!("{link}/melding/{first}/journal"),
            &doc,
            &format!("csrf={csrf}&verdi=overfort"),
        )
    };
    assert_eq!(c.call(transfer()?).await?.status, StatusCode::SEE_OTHER);
    assert!(
        access.thread(thread).await?.messages[0]
            .transferred_at
            .is_some()
    );
    assert_ne!(c.call(transfer()?).await?.status, StatusCode::SEE_OTHER);
    let page = c.call(get(&link, Some(&doc))?).await?;
    assert!(page.body.contains("overført til journalen"));
    assert!(!page.body.contains("Fjern journalmerkingen"));

    // Settings: assigned to me, waiting for the patient, cannot be answered (P5).
    let saved = c
        .call(post(
            &format!("{link}/innstillinger"),
            &doc,
            &format!("csrf={csrf}&status=venter-pa-pasient&tildelt=meg&kan_ikke_besvares=ja"),
        )?)
        .await?;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let refused = c
        .clinic
        .write_to_clinic(&c.kari(), thread, &MessageText::parse("Takk!")?, &[])
        .await;
    assert!(matches!(
        refused,
        Err(AccessError::Service(ServiceError::Invalid(_)))
    ));
    let mine = c
        .call(get(
            &c.path("innboks?tildelt=meg&status=venter-pa-pasient"),
            Some(&doc),
        )?)
        .await?;
    assert!(mine.body.contains(&link), "{}", mine.body);
    let open = c
        .call(get(&c.path("innboks?status=apen"), Some(&doc))?)
        .await?;
    assert!(!open.body.contains(&link));
    let page = c.call(get(&link, Some(&doc))?).await?;
    assert!(page.body.contains("Kan ikke besvares") && page.body.contains("Venter på pasienten"));

    // The attachment, inline with the sniffed type, in a sandbox (P2).
    let href = page
        .body
        .split("<img src=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or("an inline image")?
        .to_owned();
    let response = c.routes.clone().oneshot(get(&href, Some(&doc))?).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let h = |name: header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(h(header::CONTENT_TYPE), "image/png");
    assert!(h(header::CONTENT_DISPOSITION).starts_with("inline"));
    assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(
        h(header::CONTENT_SECURITY_POLICY),
        "sandbox; default-src 'none'; img-src 'self'"
    );
    assert_eq!(h(header::CACHE_CONTROL), "no-store");
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
    assert_eq!(bytes.as_ref(), picture.as_slice());
    let theirs = c.call(get(&href, Some(&stranger))?).await?;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);

    // Every read and write is in the log, which verifies (X3).
    let log: Vec<String> = c
        .clinic
        .store()
        .entries_for_patient(&c.kari.to_string())
        .await?
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in [
        "thread.read",
        "message.sent",
        "thread.updated",
        "attachment.read",
        "access.denied",
    ] {
        assert!(log.iter().any(|a| a == action), "{action}: {log:?}");
    }
    c.clinic.verify_audit().await?;
    c.app.close().await;
    Ok(())
}

async fn recall_works_for_an_unread_message_and_not_for_a_read_one_both_audited_s7_x3(
    env: &TestEnv,
) -> TestResult {
    let c = Clinicians::new(env).await?;
    let thread = c
        .clinic
        .open_thread(
            &c.kari(),
            ThreadKind::Office,
            &Subject::parse("Sykmelding")?,
            &MessageText::parse("Kan jeg få forlenget sykmeldingen?")?,
            &[],
        )
        .await?;
    let doc = c.cookie(c.doctor, Level::High).await?;
    let link = c.path(&format!("samtale/{thread}"));
    let page = c.call(get(&link, Some(&doc))?).await?;
    let csrf = page.csrf();
    let reply = |text: &'static str| {
        multipart(
            &doc,
            &format!("{link}/svar"),
            &[("csrf", &csrf), ("tekst", text)],
            None,
        )
    };
    assert_eq!(
        c.call(reply("Ja, den er forlenget.")?).await?.status,
        StatusCode::SEE_OTHER
    );
    // The patient reads the first answer; then a second goes out by mistake.
    c.clinic.my_thread(&c.kari(), thread).await?;
    assert_eq!(
        c.call(reply("Til feil pasient")?).await?.status,
        StatusCode::SEE_OTHER
    );
    let page = c.call(get(&link, Some(&doc))?).await?;
    let ids = message_ids(&page.body);
    assert_eq!(ids.len(), 3);
    assert_eq!(
        page.body.matches("Trekk tilbake").count(),
        1,
        "only the unread answer can be recalled: {}",
        page.body
    );

    let read = c
        .call(post(
            &format!("{link}/melding/{}/tilbakekall", ids[1]),
            &doc,
            &format!("csrf={csrf}"),
        )?)
        .await?;
    assert_eq!(read.status, StatusCode::SEE_OTHER);
    assert!(read.location().contains("melding=lest"));
    let shown = c.call(get(&read.location(), Some(&doc))?).await?;
    assert!(shown.body.contains("allerede lest"), "{}", shown.body);

    let unread = c
        .call(post(
            &format!("{link}/melding/{}/tilbakekall", ids[2]),
            &doc,
            &format!("csrf={csrf}"),
        )?)
        .await?;
    assert!(unread.location().contains("melding=trukket"));
    let shown = c.call(get(&unread.location(), Some(&doc))?).await?;
    assert!(
        shown.body.contains("Trukket tilbake")
            && shown.body.contains("/ansatt/avvik/")
            && !shown.body.contains("Til feil pasient"),
        "{}",
        shown.body
    );
    let forged = c
        .call(post(
            &format!("{link}/melding/{}/tilbakekall", ids[1]),
            &doc,
            "csrf=feil",
        )?)
        .await?;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // The patient never sees the recalled text; both attempts are on record.
    let seen = c.clinic.my_thread(&c.kari(), thread).await?;
    assert!(seen.messages[2].text.is_none() && seen.messages[2].recalled_at.is_some());
    let recalls: Vec<String> = c
        .clinic
        .store()
        .entries_for_patient(&c.kari.to_string())
        .await?
        .into_iter()
        .filter(|e| e.action == "message.recalled")
        .map(|e| e.outcome)
        .collect();
    assert_eq!(recalls, ["denied", "granted"]);
    c.clinic.verify_audit().await?;
    c.app.close().await;
    Ok(())
}

async fn a_new_thread_needs_the_right_name_and_birth_date_and_sends_nothing_otherwise_s7(
    env: &TestEnv,
) -> TestResult {
    let c = Clinicians::new(env).await?;
    let ola = c
        .clinic
        .add_patient(&ctx(ORG_A), &patient("21879498012", "Ola Mottaker"))
        .await?;
    c.clinic.start_care(&ctx(ORG_A), c.doctor, ola).await?;
    let doc = c.cookie(c.doctor, Level::High).await?;
    let patient_page = c
        .call(get(&c.path(&format!("pasient/{ola}")), Some(&doc))?)
        .await?;
    let form_path = c.path(&format!("pasient/{ola}/ny-melding"));
    assert!(patient_page.body.contains(&form_path));
    let form = c.call(get(&form_path, Some(&doc))?).await?;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        !form.body.contains("Ola Mottaker") && form.body.contains("dd.mm.åååå"),
        "the name is typed, not shown"
    );
    let csrf = form.csrf();
    let send = |name: &str, born: &str| {
        format!(
            "csrf={csrf}&type=svar-klart&emne=Pr%C3%B8vesvar&tekst=Svaret+ditt+er+klart.&navn={name}&fodselsdato={born}"
        )
    };
    let me = PatientActor {
        patient: ola,
        level: Level::High,
        source: Source::default(),
    };
    for (name, born) in [
        ("Ola+Mottaker", "22.07.1994"),
        ("Kari+Mottaker", "21.07.1994"),
        ("Ola+Mottaker", "21071994"),
    ] {
        let wrong = c.call(post(&form_path, &doc, &send(name, born))?).await?;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{name} {born}");
        assert!(
            wrong.body.contains("Ingenting er sendt") || wrong.body.contains("dd.mm.åååå"),
            "{}",
            wrong.body
        );
        assert!(
            wrong.body.contains("Svaret ditt er klart."),
            "the text is kept"
        );
        assert!(
            c.clinic.my_threads(&me).await?.is_empty(),
            "nothing was sent"
        );
    }
    // A doctor without a care relationship cannot send health data to the patient.
    let stranger = c.cookie(c.stranger, Level::High).await?;
    let theirs = c.call(get(&c.path(""), Some(&stranger))?).await?.csrf();
    let refused = c
        .call(post(
            &form_path,
            &stranger,
            &send("Ola+Mottaker", "21.07.1994").replace(&csrf, &theirs),
        )?)
        .await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(c.clinic.my_threads(&me).await?.is_empty());

    let sent = c
        .call(post(
            &form_path,
            &doc,
            &send("+ola+mottaker+", "21.07.1994"),
        )?)
        .await?;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let threads = c.clinic.my_threads(&me).await?;
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0].status, ThreadStatus::WaitingForPatient);
    assert!(
        sent.location()
            .starts_with(&c.path(&format!("samtale/{}", threads[0].id)))
    );
    c.clinic.verify_audit().await?;
    c.app.close().await;
    Ok(())
}

/// The next frame of an event stream, as text, or `None` when nothing came in `wait`.
async fn next_frame(body: &mut Body, wait: Duration) -> Option<String> {
    let frame = tokio::time::timeout(
        wait,
        std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)),
    )
    .await
    .ok()??
    .ok()?;
    frame
        .into_data()
        .ok()
        .map(|d| String::from_utf8_lossy(&d).into_owned())
}

async fn substantial_is_sent_to_step_up_and_the_stream_names_new_activity_without_audit_noise_x3(
    env: &TestEnv,
) -> TestResult {
    let c = Clinicians::new(env).await?;
    let thread = c
        .clinic
        .open_thread(
            &c.kari(),
            ThreadKind::EConsultation,
            &Subject::parse("Utslett")?,
            &MessageText::parse("Jeg har fått utslett på armen.")?,
            &[],
        )
        .await?;
    let link = c.path(&format!("samtale/{thread}"));

    // At level substantial: the thread sends the doctor to log in at high, and the inbox
    // shows administrative threads only.
    let low = c.cookie(c.doctor, Level::Substantial).await?;
    let page = c.call(get(&link, Some(&low))?).await?;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        format!("/k/{ORG_A}/ansatt/innlogging?nivaa=hoy&neste={link}")
    );
    let inbox = c.call(get(&c.path("innboks"), Some(&low))?).await?;
    assert!(
        inbox.body.contains("betydelig nivå") && !inbox.body.contains(&link),
        "{}",
        inbox.body
    );

    let script = c.call(get("/static/innboks.js", None)?).await?;
    assert!(
        script
            .header(header::CONTENT_TYPE)
            .starts_with("text/javascript")
    );
    assert!(!script.body.contains("localStorage") && !script.body.contains("indexedDB"));

    // The live stream: an event for the doctor's patient, none for another's.
    let other = c
        .clinic
        .add_patient(&ctx(ORG_A), &patient(&synthetic_fnr(952), "Per Annen"))
        .await?;
    let per = PatientActor {
        patient: other,
        level: Level::High,
        source: Source::default(),
    };
    let theirs = c
        .clinic
        .open_thread(
            &per,
            ThreadKind::EConsultation,
            &Subject::parse("Annet")?,
            &MessageText::parse("Hei")?,
            &[],
        )
        .await?;
    let doc = c.cookie(c.doctor, Level::High).await?;
    let response = c
        .routes
        .clone()
        .oneshot(get(&c.path("strom"), Some(&doc))?)
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    assert_eq!(
        response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let mut body = response.into_body();
    let before = c.clinic.audit_size().await?;
    c.clinic
        .write_to_clinic(&per, theirs, &MessageText::parse("Er det noen der?")?, &[])
        .await?;
    c.clinic
        .write_to_clinic(
            &c.kari(),
            thread,
            &MessageText::parse("Det klør også.")?,
            &[],
        )
        .await?;
    let frame = next_frame(&mut body, Duration::from_secs(10))
        .await
        .ok_or("an event within ten seconds")?;
    assert!(
        frame.contains("event: samtale") && frame.contains(&format!("data: {thread}")),
        "{frame}"
    );
    assert!(!frame.contains(&theirs.to_string()) && !frame.contains("klør"));
    assert_eq!(
        c.clinic.audit_size().await?,
        before + 2,
        "the two messages, and nothing for the stream"
    );
    assert!(
        next_frame(&mut body, Duration::from_millis(300))
            .await
            .is_none()
    );
    drop(body);
    let _: ThreadId = thread;
    c.clinic.verify_audit().await?;
    c.app.close().await;
    Ok(())
}

both_backends!(
    the_inbox_shows_a_thread_to_the_clinician_in_care_who_answers_with_a_template_and_notes_s5_s8_p5_x3,
    recall_works_for_an_unread_message_and_not_for_a_read_one_both_audited_s7_x3,
    a_new_thread_needs_the_right_name_and_birth_date_and_sends_nothing_otherwise_s7,
    substantial_is_sent_to_step_up_and_the_stream_names_new_activity_without_audit_noise_x3,
);
