//! Every acknowledged write survives a crash of the server itself (X3, X7; issue 2,
//! «Crash»): the real `fortrolig serve` is killed with SIGKILL again and again while
//! several members of staff, logged in through HelseID (the local provider), log in and
//! take emergency access over HTTP — both audited writes. After each kill the server is
//! started again on the same data. At the end every login and every emergency access
//! the server acknowledged is there, each with its audit entry, and the log verifies.
//!
//! Acknowledged means the complete success response arrived: for an emergency access the
//! 303 back to the patient page, for a login the page that sets the session cookie. The
//! handlers answer only after the transaction (and the anchor) is committed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fortrolig_domain::access::Role;
use fortrolig_domain::{PatientId, PersonName, PersonNumber, StaffId, Timestamp};
use fortrolig_identity::ClientKey;
use fortrolig_identity::testing::{MockOp, browse_as};
use fortrolig_service::{SessionSubject, SessionToken};
use fortrolig_web::HELSEID_CALLBACK;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{
    ORG_A, TestEnv, TestResult, both_backends, ctx, org, patient, random_hex, stdout, synthetic_fnr,
};

/// Kills of the server; it is started `ROUNDS + 1` times.
const ROUNDS: usize = 5;
/// Members of staff writing at once, each in their own task and session.
const CLIENTS: usize = 4;
/// A client logs in again after this many emergency accesses, so logins are under way
/// at the kills too.
const WRITES_PER_SESSION: u32 = 6;

/// One member of staff and the patient they take emergency access to.
struct Person {
    doctor: StaffId,
    patient: PatientId,
    /// `PID:HPR` for the local provider.
    hint: String,
    name: String,
}

#[derive(Debug, Clone)]
struct AckedWrite {
    client: usize,
    round: usize,
    reason: String,
}

#[derive(Debug, Clone)]
struct AckedLogin {
    client: usize,
    round: usize,
    token: String,
}

#[derive(Debug, Default)]
struct Record {
    /// Every reason sent in an emergency-access request (acknowledged or not).
    sent: HashSet<String>,
    writes: Vec<AckedWrite>,
    logins: Vec<AckedLogin>,
    /// Emergency-access requests that were connected but got no complete answer: the
    /// server died with them under way.
    writes_cut_off: usize,
    /// Answers that should not happen; any one fails the test.
    problems: Vec<String>,
}

#[derive(Default)]
struct Shared {
    record: Mutex<Record>,
    /// The round the server is in; moves on when it is killed.
    round: AtomicUsize,
    stop: AtomicBool,
}

impl Shared {
    fn with<T>(&self, f: impl FnOnce(&mut Record) -> T) -> T {
        f(&mut self.record.lock().expect("record lock"))
    }

    fn round(&self) -> usize {
        self.round.load(Ordering::SeqCst)
    }
}

/// A complete HTTP answer.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of the cookie `name` this answer sets.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next()?.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }

    fn csrf(&self) -> Option<String> {
        self.body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(str::to_owned)
    }
}

/// Why there is no answer.
#[derive(Debug)]
enum NoReply {
    /// Nothing listens: the server is down or not up yet.
    Refused,
    /// Connected, but the answer never arrived complete: the server died under way.
    Cut,
}

/// One request over a fresh connection (`Connection: close`), read to the end.
async fn http(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Result<Reply, NoReply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|_| NoReply::Refused)?;
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        request.push_str(&format!("Cookie: {c}\r\n"));
    }
    let body = form.unwrap_or_default();
    if form.is_some() {
        request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let exchange = async {
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = match tokio::time::timeout(Duration::from_secs(15), exchange).await {
        Ok(Ok(raw)) => raw,
        _ => return Err(NoReply::Cut),
    };
    parse_reply(&raw).ok_or(NoReply::Cut)
}

/// The answer, if it is complete (all of its body arrived).
fn parse_reply(raw: &[u8]) -> Option<Reply> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let reply = Reply {
        status,
        headers,
        body: body.to_owned(),
    };
    let complete = match reply.header("content-length") {
        Some(n) => body.len() >= n.parse::<usize>().ok()?,
        None if reply
            .header("transfer-encoding")
            .is_some_and(|t| t.contains("chunked")) =>
        {
            body.ends_with("0\r\n\r\n")
        }
        None => true,
    };
    complete.then_some(reply)
}

/// `application/x-www-form-urlencoded` and query encoding.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One HelseID login in the browser's place: start at the server, log in at the local
/// provider as `hint`, bring the answer back. `Ok(Ok(token))` is an acknowledged login;
/// `Ok(Err(_))` is an answer that is not a session.
async fn login(port: u16, hint: &str) -> Result<Result<String, String>, NoReply> {
    let start = http(
        port,
        "GET",
        &format!("/k/{ORG_A}/ansatt/innlogging?nivaa=hoy"),
        None,
        None,
    )
    .await?;
    let (Some(to_provider), Some(binding)) = (
        start.header("location").map(str::to_owned),
        start.cookie("fortrolig_innlogging"),
    ) else {
        return Ok(Err(format!("login start answered {}", start.status)));
    };
    let callback = format!("http://127.0.0.1:{port}{HELSEID_CALLBACK}");
    // The request was pushed (PAR): the person is picked on the provider's login page.
    let back: BTreeMap<String, String> = browse_as(&to_provider, &callback, hint).await;
    let query = back
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let done = http(
        port,
        "GET",
        &format!("{HELSEID_CALLBACK}?{query}"),
        Some(&format!("fortrolig_innlogging={binding}")),
        None,
    )
    .await?;
    match done.cookie("fortrolig_okt") {
        Some(token) if done.status == 200 && !token.is_empty() => Ok(Ok(token)),
        _ => Ok(Err(format!("login callback answered {}", done.status))),
    }
}

/// One member of staff: logs in, takes emergency access with a reason that names the
/// write, records what the server acknowledged, and carries on through every restart.
async fn client(c: usize, port: u16, hint: String, patient: PatientId, shared: Arc<Shared>) {
    let pause = || tokio::time::sleep(Duration::from_millis(15));
    // The acknowledged session in use and, once read from a page, its CSRF token.
    let mut session: Option<(String, Option<String>)> = None;
    let mut in_session = 0;
    let mut n = 0u32;
    let here = format!("/k/{ORG_A}/ansatt/pasient/{patient}");
    while !shared.stop.load(Ordering::SeqCst) {
        let round = shared.round();
        if session.is_none() || in_session >= WRITES_PER_SESSION {
            match login(port, &hint).await {
                Ok(Ok(token)) => {
                    shared.with(|r| {
                        r.logins.push(AckedLogin {
                            client: c,
                            round,
                            token: token.clone(),
                        })
                    });
                    session = Some((token, None));
                    in_session = 0;
                }
                // A login started before a kill cannot be finished after it: the server
                // keeps logins under way in memory. Anything else is wrong.
                Ok(Err(what)) if shared.round() == round => {
                    shared.with(|r| r.problems.push(format!("client {c}: {what}")));
                    pause().await;
                }
                Ok(Err(_)) | Err(_) => pause().await,
            }
            continue;
        }
        let Some((token, csrf)) = session.clone() else {
            continue;
        };
        let cookie = format!("fortrolig_okt={token}");
        let Some(csrf) = csrf else {
            match http(
                port,
                "GET",
                &format!("/k/{ORG_A}/ansatt/"),
                Some(&cookie),
                None,
            )
            .await
            {
                Ok(page) if page.status == 200 && page.csrf().is_some() => {
                    if let Some((_, slot)) = session.as_mut() {
                        *slot = page.csrf();
                    }
                }
                Ok(page) => {
                    shared.with(|r| {
                        r.problems.push(format!(
                            "client {c}: an acknowledged session got {} {:?} on the workspace",
                            page.status,
                            page.header("location")
                        ))
                    });
                    session = None;
                }
                Err(_) => pause().await,
            }
            continue;
        };
        n += 1;
        let reason = format!("Krasjtest klient {c} skriv {n} {}", random_hex(4));
        shared.with(|r| r.sent.insert(reason.clone()));
        let form = format!(
            "csrf={}&begrunnelse={}&minutter=30",
            encode(&csrf),
            encode(&reason)
        );
        match http(
            port,
            "POST",
            &format!("{here}/nodtilgang"),
            Some(&cookie),
            Some(&form),
        )
        .await
        {
            Ok(reply) if reply.status == 303 && reply.header("location") == Some(&here) => {
                shared.with(|r| {
                    r.writes.push(AckedWrite {
                        client: c,
                        round,
                        reason,
                    })
                });
                in_session += 1;
            }
            Ok(reply) => {
                shared.with(|r| {
                    r.problems.push(format!(
                        "client {c}: emergency access in an acknowledged session answered {} {:?}",
                        reply.status,
                        reply.header("location")
                    ))
                });
                session = None;
            }
            Err(NoReply::Cut) => {
                shared.with(|r| r.writes_cut_off += 1);
                pause().await;
            }
            Err(NoReply::Refused) => pause().await,
        }
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running `fortrolig serve`; killed if the test stops early.
pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `fortrolig serve` on this environment's data, its log in `log`.
pub(crate) fn start_server(env: &TestEnv, config: &Path, log: &Path) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fortrolig"));
    cmd.args(["serve", "--config"])
        .arg(config)
        .env_remove("FORTROLIG_DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(log).expect("server log")));
    if let Some(url) = &env.pg_url {
        cmd.env("FORTROLIG_DATABASE_URL", url);
    }
    Server(cmd.spawn().expect("start fortrolig serve"))
}

/// Waits until the server answers `/healthz` (it listens only once the stores are open
/// and the provider is discovered).
pub(crate) async fn wait_ready(server: &mut Server, port: u16, log: &Path) -> TestResult {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Some(status) = server.0.try_wait()? {
            return Err(format!(
                "the server exited with {status}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
            .into());
        }
        if let Ok(reply) = http(port, "GET", "/healthz", None, None).await
            && reply.status == 200
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err(format!(
        "the server did not come up in 20 s: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    )
    .into())
}

/// Waits until `done` holds, for at most `limit`.
pub(crate) async fn wait_for(limit: Duration, what: &str, done: impl Fn() -> bool) -> TestResult {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > limit {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

async fn server_killed_with_sigkill_loses_no_acknowledged_write_x3(env: &TestEnv) -> TestResult {
    let began = Instant::now();

    // The clinic, a patient and a doctor (linked to HelseID) per client; no care
    // relationships, so each look needs emergency access.
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Krasjklinikken").await?;
    let admin = ctx(ORG_A);
    let now = app.now();
    let year = Timestamp(now.0 + 365 * 86_400_000_000);
    let mut people = Vec::new();
    for c in 0..CLIENTS {
        let seed = u32::try_from(c)?;
        let patient = clinic
            .add_patient(
                &admin,
                &patient(&synthetic_fnr(8100 + seed), &format!("Krasj Pasient {c}")),
            )
            .await?;
        let name = format!("Dr. Krasj {c}");
        let doctor = clinic
            .add_staff(&admin, &PersonName::parse(&name)?, None)
            .await?;
        let fnr = synthetic_fnr(9100 + seed);
        clinic
            .link_staff_identity(&admin, doctor, &PersonNumber::parse(&fnr)?)
            .await?;
        clinic
            .grant_role(&admin, doctor, Role::Doctor, now, year)
            .await?;
        people.push(Person {
            doctor,
            patient,
            hint: format!("{fnr}:18100000{c}"),
            name,
        });
    }
    app.close().await;

    // The server's HelseID client key, registered with the local provider before the
    // server first starts (the server would otherwise create one).
    let dir = env.dir.path();
    let key_file = dir.join("helseid-client.p8");
    let (key, pkcs8) = ClientKey::generate("fortrolig-1")?;
    std::fs::write(&key_file, pkcs8)?;
    let port = free_port();
    let op = MockOp::start(
        "helseid",
        &key,
        &format!("http://127.0.0.1:{port}{HELSEID_CALLBACK}"),
    );
    let config = dir.join("fortrolig.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n\
             [storage]\ndata_dir = \"{data}\"\n\
             [log]\nlevel = \"warn\"\n\
             [helseid]\nissuer = \"{issuer}\"\nclient_id = \"fortrolig\"\n\
             redirect_url = \"http://127.0.0.1:{port}{HELSEID_CALLBACK}\"\n\
             client_key_file = \"{key}\"\nkey_id = \"fortrolig-1\"\n",
            data = env.data().display(),
            issuer = op.issuer,
            key = key_file.display(),
        ),
    )?;
    let log = |n: usize| -> PathBuf { dir.join(format!("server-{n}.log")) };

    let mut server = start_server(env, &config, &log(0));
    wait_ready(&mut server, port, &log(0)).await?;
    let shared = Arc::new(Shared::default());
    let clients: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(c, p)| tokio::spawn(client(c, port, p.hint.clone(), p.patient, shared.clone())))
        .collect();

    let acked_in =
        |round: usize| shared.with(|r| r.writes.iter().filter(|w| w.round == round).count());
    for round in 0..ROUNDS {
        // Writes are under way: some acknowledged in this round already; then a random
        // while longer, so the kill falls anywhere in a request.
        wait_for(Duration::from_secs(10), "acknowledged writes", || {
            acked_in(round) >= 3
        })
        .await?;
        let jitter = u64::from_str_radix(&random_hex(1), 16)? * 2;
        tokio::time::sleep(Duration::from_millis(100 + jitter)).await;
        server.0.kill()?; // SIGKILL
        shared.round.store(round + 1, Ordering::SeqCst);
        server.0.wait()?;
        server = start_server(env, &config, &log(round + 1));
        wait_ready(&mut server, port, &log(round + 1)).await?;
    }
    // The last start serves too; then the clients stop.
    wait_for(
        Duration::from_secs(10),
        "writes after the last restart",
        || acked_in(ROUNDS) >= 3,
    )
    .await?;
    shared.stop.store(true, Ordering::SeqCst);
    for task in clients {
        task.await?;
    }

    let record = shared.with(std::mem::take);
    for p in &record.problems {
        eprintln!("problem: {p}");
    }
    assert!(
        record.problems.is_empty(),
        "{} unexpected answers: {:?}",
        record.problems.len(),
        record.problems
    );
    let acked_in = |round: usize| record.writes.iter().filter(|w| w.round == round).count();

    // Each member of staff's latest acknowledged session still opens the workspace.
    for (c, p) in people.iter().enumerate() {
        let latest = record
            .logins
            .iter()
            .rev()
            .find(|l| l.client == c)
            .ok_or("a client never logged in")?;
        let page = http(
            port,
            "GET",
            &format!("/k/{ORG_A}/ansatt/"),
            Some(&format!("fortrolig_okt={}", latest.token)),
            None,
        )
        .await
        .map_err(|e| format!("{e:?}"))?;
        assert!(
            page.status == 200 && page.body.contains(&p.name),
            "client {c}'s session from round {} does not open the workspace: {}",
            latest.round,
            page.status
        );
    }
    let term = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()?;
    assert!(term.success());
    assert!(server.0.wait()?.success(), "graceful shutdown at the end");
    drop(op);
    // No start of the server found anything to complain about in what a kill left.
    for n in 0..=ROUNDS {
        let text = std::fs::read_to_string(log(n))?;
        let bad: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("panicked") || l.contains("\"ERROR\""))
            .collect();
        assert!(bad.is_empty(), "server start {n} logged: {bad:?}");
    }

    // Every acknowledged write is there: in the store, with its audit entry.
    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    let verified = clinic.verify_audit().await?;
    let entries = clinic.store().entries_up_to(verified.size).await?;
    assert_eq!(u64::try_from(entries.len())?, verified.size);

    let present = clinic.emergency_reviews_pending().await?;
    let by_reason: HashMap<&str, _> = present.iter().map(|e| (e.reason.as_str(), e)).collect();
    assert_eq!(by_reason.len(), present.len(), "reasons are unique");
    let lost: Vec<&AckedWrite> = record
        .writes
        .iter()
        .filter(|w| !by_reason.contains_key(w.reason.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged emergency accesses lost to SIGKILL: {lost:?}",
        lost.len()
    );
    for w in &record.writes {
        let e = by_reason[w.reason.as_str()];
        assert_eq!(e.staff, people[w.client].doctor, "{w:?}");
        assert_eq!(e.patient, people[w.client].patient, "{w:?}");
    }
    let emergency_entries: HashMap<&str, _> = entries
        .iter()
        .filter(|e| e.action == "access.emergency")
        .map(|e| (e.object.as_str(), e))
        .collect();
    for e in &present {
        assert!(
            record.sent.contains(&e.reason),
            "an emergency access nobody asked for: {e:?}"
        );
        let entry = emergency_entries
            .get(format!("emergency:{}", e.id).as_str())
            .ok_or_else(|| format!("emergency access {} has no audit entry", e.id))?;
        assert_eq!(entry.actor_id, format!("staff:{}", e.staff));
        assert_eq!(entry.patient, Some(e.patient.to_string()));
        assert!(
            entry
                .source_session
                .as_deref()
                .is_some_and(|s| s.starts_with("session:")),
            "{entry:?}"
        );
    }
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "access.emergency")
            .count(),
        present.len(),
        "one audit entry per emergency access, no more"
    );

    // Every acknowledged login is there: its session opens, and its audit entry.
    let mut lost_logins = Vec::new();
    for l in &record.logins {
        match clinic.session(&SessionToken::from_cookie(&l.token)).await? {
            Ok(s) => assert_eq!(s.subject, SessionSubject::Staff(people[l.client].doctor)),
            Err(problem) => {
                lost_logins.push(format!("client {} round {}: {problem}", l.client, l.round))
            }
        }
    }
    assert!(
        lost_logins.is_empty(),
        "acknowledged logins lost to SIGKILL: {lost_logins:?}"
    );
    let mut orphan_sessions = 0;
    for (c, p) in people.iter().enumerate() {
        let actor = format!("staff:{}", p.doctor);
        let audited = entries
            .iter()
            .filter(|e| e.action == "session.started" && e.actor_id == actor)
            .count();
        let acked = record.logins.iter().filter(|l| l.client == c).count();
        assert!(
            audited >= acked,
            "client {c}: {acked} acknowledged logins, {audited} in the audit log"
        );
        let open = clinic
            .sessions_of(SessionSubject::Staff(p.doctor))
            .await?
            .len();
        orphan_sessions += open.saturating_sub(audited);
    }
    app.close().await;
    // A session is stored in the transaction that records the login (X3).
    assert_eq!(
        orphan_sessions, 0,
        "sessions exist that no login audit entry records"
    );

    let out = env.cli(&["audit", "verify"]);
    assert!(out.status.success(), "{}", stdout(&out));

    let per_round: Vec<usize> = (0..=ROUNDS).map(acked_in).collect();
    eprintln!(
        "{} SIGKILLs of fortrolig serve: {} acknowledged emergency accesses (per round {per_round:?}) \
         and {} acknowledged logins, all present; {} emergency accesses present of {} sent; \
         {} requests cut off by a kill; {} sessions without a login audit entry; audit log of \
         {} entries verifies; {:.1} s",
        ROUNDS,
        record.writes.len(),
        record.logins.len(),
        present.len(),
        record.sent.len(),
        record.writes_cut_off,
        orphan_sessions,
        verified.size,
        began.elapsed().as_secs_f64()
    );
    assert!(
        record.writes_cut_off > 0,
        "no kill fell on an emergency access under way"
    );
    Ok(())
}

both_backends!(server_killed_with_sigkill_loses_no_acknowledged_write_x3);
