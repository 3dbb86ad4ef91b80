//! Test support: the local OpenID provider (`tests/oidc/mock-op.mjs`, run with Node) and a
//! headless "browser" that follows its redirects. Only built with the `testing` feature.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support: a failed step fails the test"
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::client_key::ClientKey;

/// A running provider; stopped when dropped.
#[derive(Debug)]
pub struct MockOp {
    child: Child,
    pub issuer: String,
    _dir: tempfile::TempDir,
}

impl Drop for MockOp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

impl MockOp {
    /// Starts the provider with one client, `fortrolig`, that may return to `redirect`
    /// and authenticates with `key`. `profile` is `idporten` or `helseid`.
    pub fn start(profile: &str, key: &ClientKey, redirect: &str) -> Self {
        let root = repo_root();
        assert!(
            root.join("tests/oidc/node_modules/oidc-provider").exists(),
            "run `npm ci` in tests/oidc first (scripts/test does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let clients = dir.path().join("clients.json");
        let registration = serde_json::json!([{
            "client_id": "fortrolig",
            "redirect_uris": [redirect],
            "post_logout_redirect_uris": ["http://127.0.0.1:9/"],
            "jwks": {"keys": [key.public_jwk()]},
        }]);
        std::fs::write(&clients, registration.to_string()).unwrap();
        let port = free_port();
        let mut child = Command::new("node")
            .arg(root.join("tests/oidc/mock-op.mjs"))
            .args([
                "--port",
                &port.to_string(),
                "--profile",
                profile,
                "--clients",
            ])
            .arg(&clients)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let issuer = line
            .trim()
            .strip_prefix("ready ")
            .expect("ready line")
            .to_owned();
        Self {
            child,
            issuer,
            _dir: dir,
        }
    }
}

/// Plays the browser at the provider: follows redirects (keeping cookies) until the user
/// is sent back to a URL starting with `redirect`, and returns that URL's query.
pub async fn browse(url: &str, redirect: &str) -> BTreeMap<String, String> {
    let http = reqwest::ClientBuilder::new()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut cookies: BTreeMap<String, String> = BTreeMap::new();
    let mut current = url.to_owned();
    for _ in 0..20 {
        let cookie_header = cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = http
            .get(&current)
            .header("cookie", cookie_header)
            .send()
            .await
            .unwrap();
        for value in response.headers().get_all("set-cookie") {
            if let Some((pair, _)) = value.to_str().unwrap_or_default().split_once(';')
                && let Some((k, v)) = pair.split_once('=')
            {
                cookies.insert(k.trim().to_owned(), v.to_owned());
            }
        }
        let Some(location) = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
        else {
            panic!("no redirect from {current}: {}", response.status());
        };
        let next = reqwest::Url::parse(&current)
            .unwrap()
            .join(location)
            .unwrap();
        if next.as_str().starts_with(redirect) {
            return next
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        }
        current = next.to_string();
    }
    panic!("too many redirects");
}

use openidconnect::reqwest;
