//! Notices end to end (issue 5; N1–N7, P4): a message from the clinic to the patient
//! makes an SMS at a local fake of LINK Mobility's «Common» API (its JSON, its Basic
//! authentication, its answers) and an e-mail at a local mail server (aiosmtpd, STARTTLS
//! required), both through the real client code and the durable outbox; neither carries
//! health data. A provider that is down is tried again and the notice is sent once when
//! it returns; a refused address bounces; an important notice that bounces becomes a task
//! for staff; delivery reports are recorded; withdrawn consent stops the channel.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind};
use fortrolig_domain::notice::{NoticeChannel, NoticeStatus};
use fortrolig_domain::{
    Email, ManualClock, NewPatient, PatientId, PersonName, PersonNumber, Phone, Source, Timestamp,
};
use fortrolig_notice_check::{Channel, Checker, ClinicRules, Replies};
use fortrolig_notify::{LinkSettings, Mailer, SmsProvider, SmtpSettings, SmtpTls};
use fortrolig_service::{ActContext, Clinic, NoticeSettings, Outbound, PatientActor, StaffActor};

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, org};
use crate::web_support::{call, post};

pub(crate) type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const DAY: i64 = 86_400_000_000;
/// `fortrolig:hemmelig`, as HTTP Basic sends it.
const LINK_AUTH: &str = "Basic Zm9ydHJvbGlnOmhlbW1lbGln";
const TOKEN: &str = "dlr-0123456789abcdef0123456789";
const SMS_TEXT: &str = "Hei Kari! Du har en ny melding fra Legesenter. Logg inn for å lese den. Du kan ikke svare på denne SMS-en.";

/// A fake of LINK Mobility's «Common» SMS API on 127.0.0.1: `POST /sms/send` with Basic
/// authentication and a JSON body, answered as LINK does (`resultCode` 1005, «Queued»),
/// or 503 while `down`.
pub(crate) struct FakeLink {
    url: String,
    seen: Arc<Mutex<Vec<serde_json::Value>>>,
    requests: Arc<Mutex<usize>>,
    pub(crate) down: Arc<AtomicBool>,
    /// Answers 400, as LINK does for a number it will never deliver to.
    pub(crate) refuse: Arc<AtomicBool>,
}

#[derive(Clone)]
struct LinkState {
    seen: Arc<Mutex<Vec<serde_json::Value>>>,
    requests: Arc<Mutex<usize>>,
    down: Arc<AtomicBool>,
    refuse: Arc<AtomicBool>,
}

async fn link_send(
    State(state): State<LinkState>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> axum::response::Response {
    if let Ok(mut n) = state.requests.lock() {
        *n += 1;
    }
    if state.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if state.refuse.load(Ordering::SeqCst) {
        return (StatusCode::BAD_REQUEST, "invalid destination").into_response();
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(LINK_AUTH) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut seen = match state.seen.lock() {
        Ok(seen) => seen,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    seen.push(body);
    Json(serde_json::json!({
        "messageId": format!("link-{}", seen.len()),
        "resultCode": 1005,
        "description": "Queued",
    }))
    .into_response()
}

pub(crate) async fn fake_link() -> Res<FakeLink> {
    let state = LinkState {
        seen: Arc::new(Mutex::new(Vec::new())),
        requests: Arc::new(Mutex::new(0)),
        down: Arc::new(AtomicBool::new(false)),
        refuse: Arc::new(AtomicBool::new(false)),
    };
    let routes = axum::Router::new()
        .route("/sms/send", axum::routing::post(link_send))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, routes).await });
    Ok(FakeLink {
        url,
        seen: state.seen,
        requests: state.requests,
        down: state.down,
        refuse: state.refuse,
    })
}

impl FakeLink {
    pub(crate) fn settings(&self) -> LinkSettings {
        LinkSettings {
            url: self.url.clone(),
            username: "fortrolig".into(),
            password: "hemmelig".into(),
            platform_id: "COMMON_API".into(),
            platform_partner_id: "4242".into(),
            gate_id: Some("gate-1".into()),
        }
    }

    pub(crate) fn seen(&self) -> Vec<serde_json::Value> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub(crate) fn requests(&self) -> usize {
        self.requests.lock().map(|n| *n).unwrap_or_default()
    }
}

/// aiosmtpd on 127.0.0.1 with STARTTLS required and a certificate made for the test.
pub(crate) struct SmtpSink {
    child: Child,
    port: u16,
    out: PathBuf,
    ca_pem: String,
    _dir: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The mail server, or `None` where aiosmtpd is not installed and the test run does not
/// require it (`scripts/test` installs it and sets NOTICE_SMTP_REQUIRED=1).
pub(crate) fn smtp_sink() -> Res<Option<SmtpSink>> {
    let python = std::env::var("NOTICE_SMTP_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_aiosmtpd = Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_aiosmtpd {
        if std::env::var("NOTICE_SMTP_REQUIRED").as_deref() == Ok("1") {
            return Err(format!("{python} has no aiosmtpd, and NOTICE_SMTP_REQUIRED=1").into());
        }
        eprintln!("aiosmtpd is not installed: the e-mail half of this test is skipped");
        return Ok(None);
    }
    let dir = tempfile::tempdir()?;
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let (ca, ca_key) = (dir.path().join("ca.pem"), dir.path().join("ca-key.pem"));
    let csr = dir.path().join("server.csr");
    let ext = dir.path().join("server.ext");
    std::fs::write(
        &ext,
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n",
    )?;
    // A test CA and a server certificate it signs: a client trusts a CA, never a
    // self-signed server certificate.
    let steps: [Vec<std::ffi::OsString>; 3] = [
        osargs(
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=Fortrolig test CA",
                "-keyout",
            ],
            &[&ca_key],
            &["-out"],
            &[&ca],
        ),
        osargs(
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
            ],
            &[&key],
            &["-out"],
            &[&csr],
        ),
        osargs(
            &["x509", "-req", "-days", "1", "-CA"],
            &[&ca],
            &["-CAkey"],
            &[&ca_key],
        ),
    ];
    for (i, args) in steps.iter().enumerate() {
        let mut command = Command::new("openssl");
        command.args(args);
        if i == 2 {
            command
                .arg("-in")
                .arg(&csr)
                .arg("-out")
                .arg(&cert)
                .arg("-extfile")
                .arg(&ext);
        }
        if !command.stderr(Stdio::null()).status()?.success() {
            return Err("openssl could not make the test certificates".into());
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let out = dir.path().join("mail");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/notify/smtp_sink.py"
    );
    let mut child = Command::new(&python)
        .arg(script)
        .args(["--port", &port.to_string()])
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
    if line.trim() != "ready" {
        let _ = child.kill();
        return Err(format!("the mail server did not start: {line:?}").into());
    }
    Ok(Some(SmtpSink {
        child,
        port,
        out,
        ca_pem: std::fs::read_to_string(&ca)?,
        _dir: dir,
    }))
}

/// Command-line words: strings, then paths, then strings, then paths.
fn osargs(a: &[&str], b: &[&PathBuf], c: &[&str], d: &[&PathBuf]) -> Vec<std::ffi::OsString> {
    let words = |w: &[&str]| w.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
    let paths = |p: &[&PathBuf]| {
        p.iter()
            .map(|p| p.as_os_str().to_owned())
            .collect::<Vec<_>>()
    };
    [words(a), paths(b), words(c), paths(d)].concat()
}

impl SmtpSink {
    pub(crate) fn mailer(&self) -> Res<Mailer> {
        Ok(Mailer::new(&SmtpSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: SmtpTls::Starttls,
            from: "varsel@legesenter.example".into(),
            username: None,
            password: None,
            extra_ca_pem: Some(self.ca_pem.clone()),
        })?)
    }

    /// Every e-mail received, in order: (recipients, the message as received).
    pub(crate) fn mails(&self) -> Res<Vec<(String, String)>> {
        let mut out = Vec::new();
        for n in 1.. {
            let eml = self.out.join(format!("{n}.eml"));
            if !eml.exists() {
                break;
            }
            let rcpt = std::fs::read_to_string(self.out.join(format!("{n}.rcpt")))?;
            out.push((rcpt.trim().to_owned(), std::fs::read_to_string(eml)?));
        }
        Ok(out)
    }
}

/// The e-mail without the headers that differ from run to run (date, ids, boundaries).
fn stable_part(mail: &str) -> String {
    mail.replace("\r\n", "\n")
        .lines()
        .filter(|l| !l.starts_with("Date:") && !l.starts_with("Message-ID:"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) struct Setup {
    pub(crate) clinic: Arc<Clinic>,
    pub(crate) kari: PatientId,
    pub(crate) doctor: StaffActor,
}

/// A clinic with a doctor and a patient who has consented to both channels.
pub(crate) async fn setup(app: &fortrolig_service::Fortrolig, email: &str) -> Res<Setup> {
    app.configure_notices(NoticeSettings {
        default_sender: Some("Legesenter".into()),
        portal_host: None,
    });
    let clinic = app.create_clinic(&org(ORG_A), "Varselklinikken").await?;
    let admin = ctx(ORG_A);
    let kari = clinic
        .add_patient(
            &admin,
            &NewPatient {
                person_number: PersonNumber::parse("21879498012")?,
                name: PersonName::parse("Kari Varsel Nordmann")?,
                phone: Some(Phone::parse("912 34 567")?),
                email: Some(Email::parse(email)?),
            },
        )
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
            Timestamp(now.0 + 30 * DAY),
        )
        .await?;
    clinic.start_care(&admin, doctor, kari).await?;
    let me = ActContext::patient(kari, clinic.org(), Source::default(), "samtykke");
    for channel in NoticeChannel::ALL {
        clinic.set_notice_consent(&me, kari, channel, true).await?;
    }
    Ok(Setup {
        clinic,
        kari,
        doctor: StaffActor {
            staff: doctor,
            level: Level::High,
            source: Source::default(),
        },
    })
}

/// The patient says no to SMS notices from now on (P4), as on the consent page.
pub(crate) async fn no_more_sms(s: &Setup) -> Res<()> {
    let clinic = &s.clinic;
    let me = ActContext::patient(s.kari, clinic.org(), Source::default(), "samtykke");
    let version = clinic.consent_text().await?.version;
    clinic
        .record_consents(
            &me,
            s.kari,
            &[(
                fortrolig_domain::consent::ConsentSubject::Channel(NoticeChannel::Sms),
                false,
            )],
            &version,
        )
        .await?;
    Ok(())
}

/// The patient writes about her health; the doctor answers (about her health too).
pub(crate) async fn exchange(s: &Setup) -> Res<fortrolig_domain::ThreadId> {
    let me = PatientActor {
        patient: s.kari,
        level: Level::High,
        source: Source::default(),
    };
    let thread = s
        .clinic
        .open_thread(
            &me,
            ThreadKind::EConsultation,
            &Subject::parse("MARKER-EMNE Brystsmerter")?,
            &MessageText::parse("MARKER-HELSE Jeg har vondt i brystet.")?,
            &[],
        )
        .await?;
    s.clinic
        .thread_access(&s.doctor, thread, "svar")
        .await?
        .reply(
            thread,
            &MessageText::parse("MARKER-SVAR Det er angina; ta nitroglyserin.")?,
            false,
            &[],
        )
        .await?;
    Ok(thread)
}

pub(crate) async fn statuses(
    clinic: &Clinic,
    patient: PatientId,
) -> Res<Vec<(NoticeChannel, NoticeStatus)>> {
    let mut out: Vec<_> = clinic
        .notices_of(patient)
        .await?
        .into_iter()
        .map(|n| (n.channel, n.status))
        .collect();
    out.sort();
    Ok(out)
}

pub(crate) async fn audited(clinic: &Clinic, action: &str) -> Res<Vec<fortrolig_audit::LogEntry>> {
    let size = clinic.audit_size().await?;
    Ok(clinic
        .store()
        .entries_up_to(size)
        .await?
        .into_iter()
        .filter(|e| e.action == action)
        .collect())
}

async fn a_message_to_the_patient_sends_an_sms_and_an_email_without_health_data_n1_n2_n3_n6(
    env: &TestEnv,
) -> TestResult {
    let link = fake_link().await?;
    let smtp = smtp_sink()?;
    let app = env.app().await?;
    let s = setup(&app, "kari@pasient.example").await?;
    let thread = exchange(&s).await?;
    // Stored with the message, in the outbox, before anything is sent.
    assert_eq!(
        statuses(&s.clinic, s.kari).await?,
        vec![
            (NoticeChannel::Sms, NoticeStatus::Queued),
            (NoticeChannel::Email, NoticeStatus::Queued)
        ]
    );
    let sent = audited(&s.clinic, "message.sent").await?;
    assert!(
        sent.iter()
            .any(|e| e.object.contains(&format!("thread:{thread}"))
                && e.object.contains("varsel:sms:queued")
                && e.object.contains("varsel:epost:queued"))
    );

    let outbound = Outbound {
        sms: Some(SmsProvider::Link(link.settings())),
        mail: smtp.as_ref().map(SmtpSink::mailer).transpose()?,
        http: reqwest::Client::new(),
        krr: None,
    };
    app.dispatch_notices(&outbound).await?;

    // The SMS, as LINK received it (N1, N2, N3, N7).
    let seen = link.seen();
    assert_eq!(seen.len(), 1, "one SMS");
    let sms = &seen[0];
    let reference = sms["refId"].as_str().unwrap_or_default().to_owned();
    assert!(
        reference.starts_with(&format!("{ORG_A}-")) && reference.len() <= 36,
        "{reference}"
    );
    assert_eq!(
        sms,
        &serde_json::json!({
            "source": "Legesenter",
            "sourceTON": "ALPHANUMERIC",
            "destination": "+4791234567",
            "destinationTON": "MSISDN",
            "userData": SMS_TEXT,
            "platformId": "COMMON_API",
            "platformPartnerId": "4242",
            "useDeliveryReport": true,
            "deliveryReportGates": ["gate-1"],
            "refId": reference,
        })
    );
    let checker = Checker::new(ClinicRules::default())?;
    assert!(
        checker
            .check(SMS_TEXT, Channel::Sms, Replies::NotPossible)
            .is_allowed()
    );

    // The e-mail, as the mail server received it over TLS.
    if let Some(smtp) = &smtp {
        let mails = smtp.mails()?;
        assert_eq!(mails.len(), 1, "one e-mail");
        let (rcpt, mail) = &mails[0];
        assert_eq!(rcpt, "kari@pasient.example");
        assert_eq!(
            stable_part(mail),
            "From: Legesenter <varsel@legesenter.example>\n\
             To: kari@pasient.example\n\
             Subject: Melding fra Legesenter\n\
             Content-Type: text/plain; charset=utf-8\n\
             Content-Transfer-Encoding: quoted-printable\n\
             \n\
             Hei Kari! Du har en ny melding fra Legesenter. Logg inn for =C3=A5 lese den.\n\
             \n\
             Du kan ikke svare p=C3=A5 denne e-posten."
                .to_owned(),
            "{mail}"
        );
        assert!(
            mail.contains(&format!("Message-ID: <{ORG_A}-")) && !mail.contains(&reference),
            "the e-mail's own reference is its Message-ID: {mail}"
        );
        assert!(
            !mail.contains("MARKER") && !mail.contains("Varsel Nordmann"),
            "no content, no surname"
        );
    }
    assert!(!serde_json::to_string(&seen)?.contains("MARKER"));
    let expected_email = if smtp.is_some() {
        NoticeStatus::Sent
    } else {
        NoticeStatus::Queued
    };
    assert_eq!(
        statuses(&s.clinic, s.kari).await?,
        vec![
            (NoticeChannel::Sms, NoticeStatus::Sent),
            (NoticeChannel::Email, expected_email)
        ]
    );
    // The log (N6): each sent notice with its kind, channel and a hash, never the text.
    let logged = audited(&s.clinic, "notice.sent").await?;
    assert_eq!(logged.len(), if smtp.is_some() { 2 } else { 1 });
    assert!(logged.iter().all(|e| e.object.contains("type:ny-melding")
        && e.object.contains("hash:")
        && !e.object.contains("Hei")));

    // Sending again sends nothing twice.
    app.dispatch_notices(&outbound).await?;
    assert_eq!(link.seen().len(), 1);

    // LINK's delivery report (N5), posted to the secret address set up with LINK.
    let routes = fortrolig_web::router(
        fortrolig_web::AppState {
            delivery_report_token: Some(TOKEN.into()),
            ..fortrolig_web::AppState::new(app.clone())
        },
        false,
    );
    let report = serde_json::json!({"refId": reference, "id": "link-1$0", "resultCode": 1001, "operator": "no.telenor"})
        .to_string();
    let wrong = call(
        &routes,
        post("/varsler/link/feil-token-feil-token-feil", "", &report)?,
    )
    .await?;
    assert_eq!(
        wrong.status,
        StatusCode::NOT_FOUND,
        "a wrong token is no address"
    );
    assert_eq!(
        statuses(&s.clinic, s.kari).await?.first(),
        Some(&(NoticeChannel::Sms, NoticeStatus::Sent))
    );
    let right = call(
        &routes,
        post(&format!("/varsler/link/{TOKEN}"), "", &report)?,
    )
    .await?;
    assert_eq!(right.status, StatusCode::OK);
    assert_eq!(
        statuses(&s.clinic, s.kari).await?.first(),
        Some(&(NoticeChannel::Sms, NoticeStatus::Delivered))
    );
    assert_eq!(audited(&s.clinic, "notice.delivered").await?.len(), 1);
    let garbage = call(
        &routes,
        post(&format!("/varsler/link/{TOKEN}"), "", "<xml/>")?,
    )
    .await?;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST, "not a report");

    // An e-mail the server took and later returned (a delivery status notification),
    // piped by the mail system into `fortrolig notice bounce` (N5).
    if let Some(smtp) = &smtp {
        let mails = smtp.mails()?;
        let message_id = mails[0]
            .1
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .ok_or("a Message-ID")?
            .to_owned();
        let report = format!(
            "From: MAILER-DAEMON@legesenter.example\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; kari@pasient.example\r\n\
             Action: failed\r\nStatus: 5.2.1\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\n--b--\r\n"
        );
        let bounce = |input: String| -> Res<std::process::Output> {
            let mut child = Command::new(env!("CARGO_BIN_EXE_fortrolig"))
                .args(["notice", "bounce"])
                .args(env.storage_args())
                .env_remove("FORTROLIG_DATABASE_URL")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()?;
            if let Some(mut stdin) = child.stdin.take() {
                std::io::Write::write_all(&mut stdin, input.as_bytes())?;
            }
            Ok(child.wait_with_output()?)
        };
        let not_ours = bounce("Subject: hei\r\n\r\nMessage-ID: <x@y>\r\n".into())?;
        assert_eq!(not_ours.status.code(), Some(0), "a bounce is never bounced");
        let out = bounce(report)?;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            statuses(&s.clinic, s.kari)
                .await?
                .contains(&(NoticeChannel::Email, NoticeStatus::Bounced))
        );
        assert_eq!(audited(&s.clinic, "notice.bounced").await?.len(), 1);
    }

    // Withdrawn consent stops the channel at once (P4).
    let me = ActContext::patient(s.kari, s.clinic.org(), Source::default(), "samtykke");
    s.clinic
        .set_notice_consent(&me, s.kari, NoticeChannel::Sms, false)
        .await?;
    s.clinic
        .thread_access(&s.doctor, thread, "svar")
        .await?
        .reply(
            thread,
            &MessageText::parse("Ett spørsmål til.")?,
            false,
            &[],
        )
        .await?;
    let newest = s.clinic.notices_of(s.kari).await?;
    assert_eq!(newest.len(), 3, "only the e-mail channel is left");
    assert_eq!(newest[0].channel, NoticeChannel::Email);
    // An internal note is no message to the patient: no notice.
    s.clinic
        .thread_access(&s.doctor, thread, "notat")
        .await?
        .reply(thread, &MessageText::parse("Intern merknad")?, true, &[])
        .await?;
    assert_eq!(s.clinic.notices_of(s.kari).await?.len(), 3);

    s.clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(a_message_to_the_patient_sends_an_sms_and_an_email_without_health_data_n1_n2_n3_n6);

async fn a_notice_waits_while_the_provider_is_down_and_is_sent_once_when_it_returns_n5(
    env: &TestEnv,
) -> TestResult {
    let link = fake_link().await?;
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
    let app = env.app_with_clock(clock.clone()).await?;
    // The address is refused by the mail server for good: a bounce.
    let smtp = smtp_sink()?;
    let s = setup(&app, "kari@avvist.example").await?;
    exchange(&s).await?;
    let outbound = Outbound {
        sms: Some(SmsProvider::Link(link.settings())),
        mail: smtp.as_ref().map(SmtpSink::mailer).transpose()?,
        http: reqwest::Client::new(),
        krr: None,
    };

    link.down.store(true, Ordering::SeqCst);
    app.dispatch_notices(&outbound).await?;
    let sms = s
        .clinic
        .notices_of(s.kari)
        .await?
        .into_iter()
        .find(|n| n.channel == NoticeChannel::Sms)
        .ok_or("sms")?;
    assert_eq!(
        (sms.status, sms.attempts),
        (NoticeStatus::Queued, 1),
        "back in the queue"
    );
    // Not due yet: nothing is tried.
    app.dispatch_notices(&outbound).await?;
    assert_eq!(link.requests(), 1);
    clock.advance_micros(6_000_000);
    app.dispatch_notices(&outbound).await?;
    assert_eq!(link.requests(), 2, "tried again after the delay");

    link.down.store(false, Ordering::SeqCst);
    clock.advance_micros(11_000_000);
    app.dispatch_notices(&outbound).await?;
    clock.advance_micros(3_600_000_000);
    app.dispatch_notices(&outbound).await?;
    assert_eq!(link.seen().len(), 1, "sent once");
    let statuses = statuses(&s.clinic, s.kari).await?;
    assert!(
        statuses.contains(&(NoticeChannel::Sms, NoticeStatus::Sent)),
        "{statuses:?}"
    );
    if smtp.is_some() {
        assert!(
            statuses.contains(&(NoticeChannel::Email, NoticeStatus::Bounced)),
            "{statuses:?}"
        );
        assert_eq!(audited(&s.clinic, "notice.bounced").await?.len(), 1);
    }
    // An ordinary notice that bounced is in the log, not a task.
    assert!(s.clinic.store().open_tasks().await?.is_empty());

    // An important one (a result is ready) that is not delivered is a task for staff (P10).
    let access = s
        .clinic
        .health_access(&s.doctor, s.kari, "prøvesvar")
        .await?;
    access
        .start_thread(
            ThreadKind::ResultReady,
            &Subject::parse("Prøvesvar")?,
            &MessageText::parse("MARKER-SVAR klart")?,
            "Kari Varsel Nordmann",
            "21.07.1994",
        )
        .await?;
    let report_for = |n: usize| -> Res<String> {
        Ok(link
            .seen()
            .get(n)
            .and_then(|v| v["refId"].as_str())
            .ok_or("a second SMS")?
            .to_owned())
    };
    app.dispatch_notices(&outbound).await?;
    let reference = report_for(1)?;
    let undelivered = serde_json::json!({"refId": reference, "resultCode": 2104});
    assert!(
        app.link_delivery_report(undelivered.to_string().as_bytes())
            .await?
    );
    let tasks = s.clinic.store().open_tasks().await?;
    // One per notice not delivered: the SMS, and the e-mail the server refused.
    let expected = if smtp.is_some() { 2 } else { 1 };
    assert_eq!(
        tasks.len(),
        expected,
        "a task to reach the patient another way"
    );
    assert!(tasks.iter().all(|t| t.kind == "varsel-ikke-levert"));

    s.clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(a_notice_waits_while_the_provider_is_down_and_is_sent_once_when_it_returns_n5);
