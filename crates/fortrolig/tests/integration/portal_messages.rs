//! The patient's messaging pages through the real router (issue 4; P2, P3, P5, X3): a
//! patient logged in through the local ID-porten writes with a PNG, sees it inline, gets
//! the clinic's reply live over Server-Sent Events, and every response is `no-store`;
//! attachments are served inline with the sniffed type in a sandbox; an HTML file renamed
//! `.png` is refused in Norwegian with the text kept; a missing CSRF token is refused;
//! another patient's thread is a 404; and the audit log verifies.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::http::{Request, StatusCode, header};
use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::messaging::MessageText;
use fortrolig_domain::{PatientId, PersonName, Source, StaffId, Timestamp};
use fortrolig_identity::ProviderKind;
use fortrolig_service::{Clinic, StaffActor};
use fortrolig_web::{AppState, IDPORTEN_CALLBACK, LoginFlow, router};
use tower::ServiceExt;

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, org, patient};
use crate::web_support::{Page, Res, call, get, login, provider};

const KARI: &str = "21879498012";
const OLA: &str = "01017040088";
const DAY: i64 = 86_400_000_000;

/// The router, the clinic, two patients and a doctor with a care relationship to Kari.
struct Fixture {
    app: fortrolig_service::Fortrolig,
    _op: fortrolig_identity::testing::MockOp,
    routes: axum::Router,
    clinic: Arc<Clinic>,
    kari: PatientId,
    doctor: StaffId,
}

async fn fixture(env: &TestEnv) -> Res<Fixture> {
    let app = env.app().await?;
    let clinic = app
        .create_clinic(&org(ORG_A), "Normland legesenter")
        .await?;
    let admin = ctx(ORG_A);
    let kari = clinic
        .add_patient(&admin, &patient(KARI, "Kari Skriver"))
        .await?;
    clinic
        .add_patient(&admin, &patient(OLA, "Ola Annen"))
        .await?;
    let now = app.now();
    let doctor = clinic
        .add_staff(&admin, &PersonName::parse("Lege Lund")?, None)
        .await?;
    clinic
        .grant_role(
            &admin,
            doctor,
            Role::Doctor,
            now,
            Timestamp(now.0 + 365 * DAY),
        )
        .await?;
    clinic.start_care(&admin, doctor, kari).await?;
    let (op, provider) = provider(ProviderKind::IdPorten, IDPORTEN_CALLBACK).await?;
    let state = AppState {
        idporten: Some(Arc::new(LoginFlow::new(provider))),
        ..AppState::new(app.clone())
    };
    Ok(Fixture {
        app,
        _op: op,
        routes: router(state, false),
        clinic,
        kari,
        doctor,
    })
}

/// Logs `pid` in at `level` ("hoy" or "betydelig") and returns the session cookie.
async fn log_in(routes: &axum::Router, pid: &str, level: &str) -> Res<String> {
    let back = login(
        routes,
        &format!("/k/{ORG_A}/innlogging?nivaa={level}"),
        pid,
        IDPORTEN_CALLBACK,
    )
    .await?;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    Ok(back.cookie())
}

/// A minimal PNG (1×1, IHDR with its CRC), padded with an inert chunk to `size` bytes.
fn png(size: usize) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89".to_vec();
    png.resize(size.max(png.len()), 0);
    png
}

const BOUNDARY: &str = "----fortrolig-test-grense";

/// A `multipart/form-data` POST as a browser sends the form: the text fields, then the
/// file part (empty when no file was chosen).
fn multipart(
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> Res<Request<Body>> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let (file_name, media, bytes) = file.unwrap_or(("", "application/octet-stream", &[]));
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"vedlegg\"; filename=\"{file_name}\"\r\n\
             Content-Type: {media}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    Ok(Request::post(path)
        .header(header::COOKIE, cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(chunked(body))?)
}

/// A body in 64 KiB pieces, as it arrives from a network connection (not in one piece).
fn chunked(body: Vec<u8>) -> Body {
    let pieces: Vec<Result<Vec<u8>, std::convert::Infallible>> =
        body.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    Body::from_stream(futures_util::stream::iter(pieces))
}

/// Every response of the portal is kept out of caches (P2).
fn no_store(page: &Page) {
    assert_eq!(
        page.header(header::CACHE_CONTROL),
        "no-store",
        "{}",
        page.body
    );
}

/// The thread id in a redirect to a thread.
fn thread_of(location: &str) -> String {
    location.rsplit('/').next().unwrap_or_default().to_owned()
}

/// The attachment addresses on a thread page.
fn attachment_links(body: &str) -> Vec<String> {
    body.split("<img src=\"")
        .skip(1)
        .filter_map(|r| r.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// An open event stream, read frame by frame.
struct Stream {
    body: Body,
    seen: String,
}

impl Stream {
    async fn open(routes: &axum::Router, cookie: &str) -> Res<Self> {
        let response = routes
            .clone()
            .oneshot(get(&format!("/k/{ORG_A}/meldinger/strom"), Some(cookie))?)
            .await?;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        assert_eq!(
            headers
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        Ok(Self {
            body: response.into_body(),
            seen: String::new(),
        })
    }

    /// The data of the next `samtale` event within `within`, if any.
    async fn next(&mut self, within: Duration) -> Res<Option<String>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.seen.find("\n\n") {
                let event: String = self.seen.drain(..end + 2).collect();
                if event.contains("event: samtale") {
                    let data = event
                        .lines()
                        .find_map(|l| l.strip_prefix("data: "))
                        .unwrap_or_default();
                    return Ok(Some(data.to_owned()));
                }
                continue;
            }
            let frame = tokio::time::timeout_at(
                deadline,
                std::future::poll_fn(|cx| Pin::new(&mut self.body).poll_frame(cx)),
            )
            .await;
            match frame {
                Err(_) | Ok(None) => return Ok(None),
                Ok(Some(frame)) => {
                    if let Ok(data) = frame?.into_data() {
                        self.seen.push_str(&String::from_utf8_lossy(&data));
                    }
                }
            }
        }
    }
}

fn staff(id: StaffId) -> StaffActor {
    StaffActor {
        staff: id,
        level: Level::High,
        source: Source {
            session: Some("test".into()),
            address: Some("127.0.0.1".into()),
        },
    }
}

async fn patient_writes_with_a_png_sees_it_inline_and_the_reply_arrives_live_p2_p3_p5_x3(
    env: &TestEnv,
) -> TestResult {
    let f = fixture(env).await?;
    let routes = &f.routes;
    let kari = log_in(routes, KARI, "hoy").await?;

    let front = call(routes, get(&format!("/k/{ORG_A}/"), Some(&kari))?).await?;
    assert!(
        front
            .body
            .contains(&format!("href=\"/k/{ORG_A}/meldinger\""))
    );
    let inbox = call(routes, get(&format!("/k/{ORG_A}/meldinger"), Some(&kari))?).await?;
    assert_eq!(inbox.status, StatusCode::OK);
    no_store(&inbox);
    assert!(inbox.body.contains("Ny melding") && inbox.body.contains("ingen samtaler"));

    // Choosing the kind shows what each channel is for (P3); a result notice is the
    // clinic's to start.
    let choose = call(
        routes,
        get(&format!("/k/{ORG_A}/meldinger/ny"), Some(&kari))?,
    )
    .await?;
    no_store(&choose);
    assert!(choose.body.contains("type=e-konsultasjon") && !choose.body.contains("svar-klart"));
    assert!(choose.body.contains("Ikke skriv om helsen din her"));
    let form = call(
        routes,
        get(
            &format!("/k/{ORG_A}/meldinger/ny?type=e-konsultasjon"),
            Some(&kari),
        )?,
    )
    .await?;
    no_store(&form);
    assert!(
        form.body
            .contains("E-konsultasjon er for spørsmål som ikke haster")
    );
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    assert!(form.body.matches("autocomplete=\"off\"").count() >= 2);
    assert!(
        form.body
            .contains("accept=\"image/png,image/jpeg,image/gif,image/webp,application/pdf\"")
    );
    let csrf = form.csrf();
    assert!(!csrf.is_empty());

    let mut live = Stream::open(routes, &kari).await?;

    // A 300 KiB picture: more than the router's usual 256 KiB body limit.
    let picture = png(300 * 1024);
    let sent = call(
        routes,
        multipart(
            &format!("/k/{ORG_A}/meldinger/ny"),
            &kari,
            &[
                ("csrf", &csrf),
                ("type", "e-konsultasjon"),
                ("emne", "Utslett på armen"),
                ("tekst", "Se bildet.\nDet klør."),
            ],
            Some(("arm.png", "image/png", &picture)),
        )?,
    )
    .await?;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    no_store(&sent);
    let thread = thread_of(&sent.location());
    assert_eq!(sent.location(), format!("/k/{ORG_A}/meldinger/{thread}"));
    assert_eq!(
        live.next(Duration::from_secs(5)).await?.as_deref(),
        Some(thread.as_str())
    );

    let view = call(routes, get(&sent.location(), Some(&kari))?).await?;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    no_store(&view);
    assert!(view.body.contains("Utslett på armen"));
    assert!(view.body.contains("Se bildet.<br>\nDet klør."));
    assert!(view.body.contains("Meldinger her") || view.body.contains("E-konsultasjon er for"));
    assert!(view.body.contains("<h3>Du "));
    assert!(view.body.contains("Ikke lest av klinikken ennå"));
    // The subject is health data: never in the title, which goes into the history (P2).
    assert!(view.body.contains("<title>Samtale – Fortrolig</title>"));
    assert!(view.body.contains("src=\"/static/meldinger.js\""));
    let links = attachment_links(&view.body);
    assert_eq!(links.len(), 1, "{}", view.body);

    // Inline, with the sniffed type, in a sandbox without script (P2).
    let shown = call(routes, get(&links[0], Some(&kari))?).await?;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.header(header::CONTENT_TYPE), "image/png");
    assert!(
        shown
            .header(header::CONTENT_DISPOSITION)
            .starts_with("inline")
    );
    assert_eq!(shown.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(
        shown.header(header::CONTENT_SECURITY_POLICY),
        "sandbox; default-src 'none'; img-src 'self'"
    );
    no_store(&shown);
    assert_eq!(shown.body.len(), String::from_utf8_lossy(&picture).len());

    // The clinic reads it (the patient's read confirmation) and answers; both arrive live.
    let access = f
        .clinic
        .thread_access(
            &staff(f.doctor),
            fortrolig_domain::ThreadId::parse(&thread)?,
            "svar",
        )
        .await?;
    let id = fortrolig_domain::ThreadId::parse(&thread)?;
    access.thread(id).await?;
    assert_eq!(
        live.next(Duration::from_secs(5)).await?.as_deref(),
        Some(thread.as_str())
    );
    access
        .reply(
            id,
            &MessageText::parse("Det ser ut som eksem. Bruk kremen.")?,
            false,
            &[],
        )
        .await?;
    assert_eq!(
        live.next(Duration::from_secs(5)).await?.as_deref(),
        Some(thread.as_str())
    );
    let inbox = call(routes, get(&format!("/k/{ORG_A}/meldinger"), Some(&kari))?).await?;
    assert!(
        inbox.body.contains("1 ny") && inbox.body.contains("Besvart"),
        "{}",
        inbox.body
    );
    let answered = call(routes, get(&sent.location(), Some(&kari))?).await?;
    assert!(answered.body.contains("Det ser ut som eksem. Bruk kremen."));
    assert!(
        answered.body.contains("Lege Lund (Lege)"),
        "{}",
        answered.body
    );
    assert!(answered.body.contains("Lest av klinikken"));
    // A reply with the form on the thread page.
    let again = call(
        routes,
        multipart(
            &sent.location(),
            &kari,
            &[("csrf", &answered.csrf()), ("tekst", "Takk!")],
            None,
        )?,
    )
    .await?;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let after = call(routes, get(&sent.location(), Some(&kari))?).await?;
    assert!(after.body.contains("Takk!"));
    // A refused reply: back to the thread, where the form says why and keeps the text.
    let html = b"<svg onload=alert(1)>".to_vec();
    let refused = call(
        routes,
        multipart(
            &sent.location(),
            &kari,
            &[("csrf", &after.csrf()), ("tekst", "Her er et bilde til")],
            Some(("x.png", "image/png", &html)),
        )?,
    )
    .await?;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert!(
        refused
            .location()
            .starts_with(&format!("{}?utkast=", sent.location()))
    );
    let shown = call(routes, get(&refused.location(), Some(&kari))?).await?;
    assert_eq!(shown.status, StatusCode::UNPROCESSABLE_ENTITY);
    no_store(&shown);
    assert!(shown.body.contains("Filen inneholder aktivt innhold"));
    assert!(shown.body.contains("Her er et bilde til</textarea>"));

    // The script is served with our policy; it keeps nothing in the browser (P2).
    let script = call(routes, get("/static/meldinger.js", None)?).await?;
    assert!(
        script
            .header(header::CONTENT_TYPE)
            .starts_with("text/javascript")
    );
    for forbidden in [
        "localStorage",
        "indexedDB",
        "caches.",
        "serviceWorker",
        "sessionStorage",
    ] {
        assert!(!script.body.contains(forbidden), "{forbidden}");
    }

    // Every read and write is in the audit log (X3), which verifies.
    let log: Vec<String> = f
        .clinic
        .store()
        .entries_for_patient(&f.kari.to_string())
        .await?
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in [
        "thread.opened",
        "thread.read",
        "attachment.read",
        "message.sent",
    ] {
        assert!(log.iter().any(|a| a == action), "{action} missing: {log:?}");
    }
    f.clinic.verify_audit().await?;
    f.app.close().await;
    let out = env.cli(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

async fn html_renamed_png_is_refused_in_norwegian_and_the_text_is_kept_p2(
    env: &TestEnv,
) -> TestResult {
    let f = fixture(env).await?;
    let routes = &f.routes;
    let kari = log_in(routes, KARI, "hoy").await?;
    let form = call(
        routes,
        get(&format!("/k/{ORG_A}/meldinger/ny?type=kontor"), Some(&kari))?,
    )
    .await?;
    let csrf = form.csrf();
    let post = |file: Option<(&'static str, &'static str, Vec<u8>)>, text: &'static str| {
        let csrf = csrf.clone();
        let kari = kari.clone();
        async move {
            let file = file.as_ref().map(|(n, m, b)| (*n, *m, b.as_slice()));
            let answer = call(
                routes,
                multipart(
                    &format!("/k/{ORG_A}/meldinger/ny"),
                    &kari,
                    &[
                        ("csrf", &csrf),
                        ("type", "kontor"),
                        ("emne", "Resept & fornyelse"),
                        ("tekst", text),
                    ],
                    file,
                )?,
            )
            .await?;
            // A refused form is shown again after a redirect, never as the POST's answer
            // (a browser keeps a POST's body with its page in the history on disk).
            if answer.status != StatusCode::SEE_OTHER {
                return Ok(answer);
            }
            let to = answer.location();
            assert!(
                to.starts_with(&format!("/k/{ORG_A}/meldinger/ny?type=kontor&utkast=")),
                "{to}"
            );
            assert!(answer.body.is_empty());
            call(routes, get(&to, Some(&kari))?).await.map(|mut page| {
                page.headers.insert("x-test-draft", to.parse().unwrap());
                page
            })
        }
    };

    let html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".to_vec();
    let refused = post(
        Some(("side.png", "image/png", html)),
        "Jeg trenger ny resept på <blodtrykksmedisin>.",
    )
    .await?;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    no_store(&refused);
    assert!(
        refused.body.contains(
            "Filen inneholder aktivt innhold (for eksempel skript) og kan ikke legges ved."
        ),
        "{}",
        refused.body
    );
    // What was typed is back in the form, escaped.
    assert!(
        refused
            .body
            .contains("Jeg trenger ny resept på &lt;blodtrykksmedisin&gt;.</textarea>")
    );
    assert!(refused.body.contains("value=\"Resept &amp; fornyelse\""));
    assert!(refused.body.contains("name=\"csrf\""));
    assert!(refused.body.contains("aria-invalid") || refused.body.contains("vedlegg-feil"));
    // The draft is this session's alone.
    let draft = refused.header(header::HeaderName::from_static("x-test-draft"));
    let ola = log_in(routes, OLA, "hoy").await?;
    let elsewhere = call(routes, get(&draft, Some(&ola))?).await?;
    assert_eq!(elsewhere.status, StatusCode::OK);
    assert!(!elsewhere.body.contains("blodtrykksmedisin") && !elsewhere.body.contains("Resept"));

    // Not an accepted type, too large, an empty text: each said plainly, nothing lost.
    let zip = post(
        Some(("a.png", "image/png", b"PK\x03\x04\x14\x00".to_vec())),
        "Hei",
    )
    .await?;
    assert!(
        zip.body
            .contains("Bare bilder (PNG, JPEG, GIF, WebP) og PDF kan legges ved.")
    );
    let big = post(
        Some((
            "stor.png",
            "image/png",
            png(fortrolig_domain::attachment::MAX_ATTACHMENT_BYTES + 1),
        )),
        "Et stort bilde",
    )
    .await?;
    assert_eq!(big.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        big.body.contains("Filen er for stor (høyst 10 MB)."),
        "{}",
        big.body
    );
    assert!(big.body.contains("Et stort bilde</textarea>"));
    // Past the upload routes' body limit itself, the request is cut off: a plain answer.
    // (The form's script refuses such a file before it is sent, keeping the text.)
    let huge = post(
        Some((
            "enorm.png",
            "image/png",
            png(fortrolig_domain::attachment::MAX_ATTACHMENT_BYTES + 512 * 1024),
        )),
        "Et enda større bilde",
    )
    .await?;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", huge.body);
    no_store(&huge);
    assert!(huge.body.contains("Filen er for stor (høyst 10 MB)."));
    let empty = post(None, "   ").await?;
    assert!(empty.body.contains("Skriv noe før du sender."));

    // Nothing was written.
    let me = fortrolig_service::PatientActor {
        patient: f.kari,
        level: Level::High,
        source: Source::default(),
    };
    assert!(f.clinic.my_threads(&me).await?.is_empty());
    f.app.close().await;
    Ok(())
}

async fn missing_csrf_other_patients_threads_and_low_levels_are_refused_p5_x3(
    env: &TestEnv,
) -> TestResult {
    let f = fixture(env).await?;
    let routes = &f.routes;
    let kari = log_in(routes, KARI, "hoy").await?;
    let new = format!("/k/{ORG_A}/meldinger/ny");
    let fields = [("type", "kontor"), ("emne", "Hei"), ("tekst", "Hei")];

    // Without a session: to login at level high, and back here.
    let away = call(routes, get(&format!("/k/{ORG_A}/meldinger"), None)?).await?;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert_eq!(
        away.location(),
        format!("/k/{ORG_A}/innlogging?nivaa=hoy&neste=/k/{ORG_A}/meldinger")
    );
    let stream = call(routes, get(&format!("/k/{ORG_A}/meldinger/strom"), None)?).await?;
    assert_eq!(
        stream.status,
        StatusCode::NO_CONTENT,
        "no stream without a session"
    );

    // The CSRF token missing or wrong, or not our form at all: refused, nothing written.
    let missing = call(routes, multipart(&new, &kari, &fields, None)?).await?;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    no_store(&missing);
    assert!(missing.body.contains("Skjemaet var utløpt"));
    let mut wrong = fields.to_vec();
    wrong.push(("csrf", "feil"));
    let wrong = call(routes, multipart(&new, &kari, &wrong, None)?).await?;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let urlencoded = call(
        routes,
        crate::web_support::post(&new, &kari, "type=kontor&emne=Hei&tekst=Hei")?,
    )
    .await?;
    assert_eq!(urlencoded.status, StatusCode::FORBIDDEN);

    // Kari's thread.
    let form = call(routes, get(&format!("{new}?type=kontor"), Some(&kari))?).await?;
    let mut ok = fields.to_vec();
    let csrf = form.csrf();
    ok.push(("csrf", &csrf));
    let png = png(100);
    let sent = call(
        routes,
        multipart(&new, &kari, &ok, Some(("b.png", "image/png", &png)))?,
    )
    .await?;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let thread_path = sent.location();
    let view = call(routes, get(&thread_path, Some(&kari))?).await?;
    let picture = attachment_links(&view.body)
        .pop()
        .ok_or("no attachment link")?;
    let reply_without_csrf = call(
        routes,
        multipart(&thread_path, &kari, &[("tekst", "Hei igjen")], None)?,
    )
    .await?;
    assert_eq!(reply_without_csrf.status, StatusCode::FORBIDDEN);

    // Ola sees none of it: the thread, its attachment and a reply are all 404.
    let ola = log_in(routes, OLA, "hoy").await?;
    let mut ola_live = Stream::open(routes, &ola).await?;
    for path in [&thread_path, &picture] {
        let other = call(routes, get(path, Some(&ola))?).await?;
        assert_eq!(other.status, StatusCode::NOT_FOUND, "{path}");
        no_store(&other);
        assert!(!other.body.contains("Hei"));
    }
    let ola_inbox = call(routes, get(&format!("/k/{ORG_A}/meldinger"), Some(&ola))?).await?;
    let ola_form = call(routes, get(&format!("{new}?type=kontor"), Some(&ola))?).await?;
    let intrusion = call(
        routes,
        multipart(
            &thread_path,
            &ola,
            &[("csrf", &ola_form.csrf()), ("tekst", "Inntrenger")],
            None,
        )?,
    )
    .await?;
    assert_eq!(intrusion.status, StatusCode::NOT_FOUND);
    assert!(ola_inbox.body.contains("ingen samtaler"));
    for bad in ["ikke-en-id", "00000000000000000000000000000000"] {
        let missing = call(
            routes,
            get(&format!("/k/{ORG_A}/meldinger/{bad}"), Some(&kari))?,
        )
        .await?;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{bad}");
    }
    // Kari's thread moves; Ola's stream hears nothing of it.
    let id = fortrolig_domain::ThreadId::parse(&thread_of(&thread_path))?;
    f.clinic
        .thread_access(&staff(f.doctor), id, "svar")
        .await?
        .reply(id, &MessageText::parse("Svar til Kari")?, false, &[])
        .await?;
    assert_eq!(ola_live.next(Duration::from_millis(500)).await?, None);

    // At level substantial: the inbox and practical questions, but a health thread and
    // an e-konsultasjon form send the patient to log in at level high first.
    let low = log_in(routes, KARI, "betydelig").await?;
    let inbox = call(routes, get(&format!("/k/{ORG_A}/meldinger"), Some(&low))?).await?;
    assert_eq!(inbox.status, StatusCode::OK);
    let step = call(routes, get(&thread_path, Some(&low))?).await?;
    assert_eq!(step.status, StatusCode::SEE_OTHER);
    assert_eq!(
        step.location(),
        format!("/k/{ORG_A}/innlogging?nivaa=hoy&neste={thread_path}")
    );
    let step = call(
        routes,
        get(&format!("{new}?type=e-konsultasjon"), Some(&low))?,
    )
    .await?;
    assert_eq!(
        step.location(),
        format!("/k/{ORG_A}/innlogging?nivaa=hoy&neste={new}%3Ftype%3De-konsultasjon")
    );
    let practical = call(
        routes,
        get(&format!("{new}?type=administrativ"), Some(&low))?,
    )
    .await?;
    assert_eq!(practical.status, StatusCode::OK);
    assert!(practical.body.contains("Ikke skriv om helsen din her"));

    f.clinic.verify_audit().await?;
    f.app.close().await;
    Ok(())
}

both_backends!(
    patient_writes_with_a_png_sees_it_inline_and_the_reply_arrives_live_p2_p3_p5_x3,
    html_renamed_png_is_refused_in_norwegian_and_the_text_is_kept_p2,
    missing_csrf_other_patients_threads_and_low_levels_are_refused_p5_x3,
);
