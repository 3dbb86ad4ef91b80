//! The HTTP skeleton: security headers on every response (X1, P2), Norwegian error pages
//! with a request id and no internals, health checks, TLS 1.2+ only, graceful shutdown.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use fortrolig_web::{AppState, router};
use tower::ServiceExt;

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, org};

async fn get(
    app: &axum::Router,
    path: &str,
) -> Result<(StatusCode, axum::http::HeaderMap, String), Box<dyn std::error::Error + Send + Sync>> {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty())?)
        .await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), 1 << 20).await?;
    Ok((status, headers, String::from_utf8_lossy(&body).into_owned()))
}

async fn every_response_has_security_headers_and_errors_are_safe_x1_p2(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    app.create_clinic(&org(ORG_A), "Normland legesenter")
        .await?;
    let routes = router(AppState::new(app.clone()), false);
    for path in [
        "/",
        "/healthz",
        "/readyz",
        "/finnes-ikke",
        "/static/fortrolig.css",
    ] {
        let (status, headers, _) = get(&routes, path).await?;
        let h = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            h("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert!(
            h("content-security-policy").contains("default-src 'none'"),
            "{path}"
        );
        assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(h("referrer-policy"), "same-origin", "{path}");
        assert_eq!(h("cache-control"), "no-store", "{path}");
        assert_eq!(h("x-request-id").len(), 24, "{path}");
        assert!(
            headers.get("strict-transport-security").is_none(),
            "no HSTS over plain HTTP"
        );
        assert!(
            status == StatusCode::OK || path == "/finnes-ikke",
            "{path}: {status}"
        );
    }
    let (_, _, page) = get(&routes, "/").await?;
    assert!(page.contains("lang=\"nb\"") && page.contains("Normland legesenter"));

    let (status, headers, page) = get(&routes, "/finnes-ikke").await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        page.contains("Fant ikke siden") && page.contains(id),
        "Norwegian message and request id: {page}"
    );

    // The database goes away: a clean 503 in Norwegian, with no database text.
    app.close().await;
    let (status, _, page) = get(&routes, "/readyz").await?;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.contains("midlertidig utilgjengelig"), "{page}");
    for leak in ["sqlx", "pool", "sqlite", "postgres", "closed"] {
        assert!(
            !page.to_lowercase().contains(leak),
            "error page leaks {leak:?}: {page}"
        );
    }
    let routes_tls = router(AppState::new(app), true);
    let (_, headers, _) = get(&routes_tls, "/healthz").await?;
    assert!(
        headers.get("strict-transport-security").is_some(),
        "HSTS under TLS"
    );
    Ok(())
}

both_backends!(every_response_has_security_headers_and_errors_are_safe_x1_p2);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18443)
}

fn curl(args: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "5"])
        .args(args)
        .output()
        .expect("curl")
}

#[test]
fn tls_server_speaks_tls12_and_13_only_sends_hsts_and_shuts_down_gracefully_x1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let port = free_port();
    let config = dir.path().join("fortrolig.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"0.0.0.0:{port}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n[storage]\ndata_dir = \"{}\"\n",
            cert.display(),
            key.display(),
            dir.path().join("data").display()
        ),
    )
    .expect("config");
    let mut server = Command::new(env!("CARGO_BIN_EXE_fortrolig"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let url = format!("https://127.0.0.1:{port}/healthz");
    let started = Instant::now();
    let mut ok = None;
    while started.elapsed() < Duration::from_secs(20) {
        let out = curl(&["-k", "-i", "--tlsv1.2", &url]);
        if out.status.success() {
            ok = Some(String::from_utf8_lossy(&out.stdout).into_owned());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let response = ok.expect("the TLS server answers");
    assert!(
        response.contains("strict-transport-security: max-age="),
        "{response}"
    );
    let tls13 = curl(&["-k", "--tlsv1.3", &url]);
    assert!(tls13.status.success(), "TLS 1.3 works");
    let old = curl(&["-k", "--tlsv1.0", "--tls-max", "1.1", &url]);
    assert!(!old.status.success(), "TLS 1.0/1.1 must be refused");
    let plain = curl(&[&format!("http://127.0.0.1:{port}/healthz")]);
    assert!(
        !plain.status.success() || String::from_utf8_lossy(&plain.stdout) != "ok",
        "no plain HTTP on the TLS port"
    );

    let term = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "server did not shut down on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "graceful shutdown exits 0");
    let mut logs = String::new();
    if let Some(mut err) = server.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut err, &mut logs);
    }
    let first = logs
        .lines()
        .find(|l| l.contains("listening"))
        .unwrap_or_default();
    let json: Result<serde_json_free::Json, _> = serde_json_free::parse(first);
    assert!(json.is_ok(), "logs are JSON lines: {first}");
    assert!(
        logs.contains("request_id"),
        "access log lines carry the request id: {logs}"
    );
}

/// A tiny JSON-shape check, so the test needs no JSON crate.
mod serde_json_free {
    pub struct Json;
    pub fn parse(line: &str) -> Result<Json, ()> {
        let t = line.trim();
        if t.starts_with('{')
            && t.ends_with('}')
            && t.contains("\"level\"")
            && t.contains("\"message\"")
        {
            Ok(Json)
        } else {
            Err(())
        }
    }
}

async fn test_login_exists_only_in_demo_mode_and_says_so(env: &TestEnv) -> TestResult {
    use crate::web_support::{call as page_call, get as page_get};
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Demo").await?;
    clinic
        .add_patient(
            &crate::support::ctx(ORG_A),
            &crate::support::patient("12858010053", "Kari Test"),
        )
        .await?;
    let path = format!("/k/{ORG_A}/testinnlogging");
    let normal = router(AppState::new(app.clone()), false);
    assert_eq!(
        page_call(&normal, page_get(&path, None)?).await?.status,
        StatusCode::NOT_FOUND
    );
    let post_login = |routes: &axum::Router, origin: &str| {
        let request = Request::post(&path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", origin)
            .header("host", "127.0.0.1:8080")
            .body(Body::from("fnr=12858010053&nivaa=hoy"));
        let routes = routes.clone();
        async move { page_call(&routes, request?).await }
    };
    assert_eq!(
        post_login(&normal, "http://127.0.0.1:8080").await?.status,
        StatusCode::NOT_FOUND
    );

    let demo = router(
        AppState {
            demo_login: true,
            ..AppState::new(app.clone())
        },
        false,
    );
    let form = page_call(&demo, page_get(&path, None)?).await?;
    assert!(
        form.body.contains("TESTINNLOGGING – bare for demo"),
        "clearly marked"
    );
    assert_eq!(
        post_login(&demo, "https://evil.example").await?.status,
        StatusCode::FORBIDDEN,
        "login CSRF refused"
    );
    let done = post_login(&demo, "http://127.0.0.1:8080").await?;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    // The first visit asks for consent first (P4), then comes back.
    let first = page_call(
        &demo,
        page_get(&format!("/k/{ORG_A}/"), Some(&done.cookie()))?,
    )
    .await?;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert!(
        first
            .location()
            .starts_with(&format!("/k/{ORG_A}/samtykke?neste="))
    );
    crate::web_support::answer_consent(
        &demo,
        &format!("/k/{ORG_A}/"),
        &done.cookie(),
        &crate::web_support::SERVICES,
    )
    .await?;
    let home = page_call(
        &demo,
        page_get(&format!("/k/{ORG_A}/"), Some(&done.cookie()))?,
    )
    .await?;
    assert!(home.body.contains("Kari Test"));
    app.close().await;
    Ok(())
}

both_backends!(test_login_exists_only_in_demo_mode_and_says_so);
