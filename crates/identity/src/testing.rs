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

/// How to start a provider: which clients it knows and how it behaves.
#[derive(Debug)]
pub struct MockOpBuilder<'k> {
    profile: String,
    key: &'k ClientKey,
    redirect: String,
    post_logout: Vec<String>,
    env: Vec<(String, String)>,
}

impl MockOpBuilder<'_> {
    /// Registers a post-logout redirect URI for the client (beside `http://127.0.0.1:9/`).
    pub fn post_logout_redirect(mut self, uri: &str) -> Self {
        self.post_logout.push(uri.to_owned());
        self
    }

    /// Sets one of the provider's `MOCK_OP_*` variables (tests/oidc/README.md), e.g.
    /// `MOCK_OP_PAR=0` or `MOCK_OP_ID_TOKEN=expired`.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn start(self) -> MockOp {
        let root = repo_root();
        assert!(
            root.join("tests/oidc/node_modules/oidc-provider").exists(),
            "run `npm ci` in tests/oidc first (scripts/test does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let clients = dir.path().join("clients.json");
        let mut post_logout = vec!["http://127.0.0.1:9/".to_owned()];
        post_logout.extend(self.post_logout);
        let registration = serde_json::json!([{
            "client_id": "fortrolig",
            "redirect_uris": [self.redirect],
            "post_logout_redirect_uris": post_logout,
            "jwks": {"keys": [self.key.public_jwk()]},
        }]);
        std::fs::write(&clients, registration.to_string()).unwrap();
        // A provider that never says it is ready (seen once in CI: node idle before
        // listening) is killed and started again, rather than hanging the test.
        let mut attempts = 0;
        let (child, issuer) = loop {
            attempts += 1;
            let port = free_port();
            let mut child = Command::new("node")
                .arg(root.join("tests/oidc/mock-op.mjs"))
                .args([
                    "--port",
                    &port.to_string(),
                    "--profile",
                    &self.profile,
                    "--clients",
                ])
                .arg(&clients)
                .envs(self.env.clone())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("node");
            let stdout = child.stdout.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut line = String::new();
                let _ = BufReader::new(stdout).read_line(&mut line);
                let _ = tx.send(line);
            });
            match rx.recv_timeout(std::time::Duration::from_secs(30)) {
                Ok(line) if line.starts_with("ready ") => {
                    break (child, line.trim()["ready ".len()..].to_owned());
                }
                other => {
                    let _ = child.kill();
                    let _ = child.wait();
                    assert!(attempts < 3, "mock-op did not start: {other:?}");
                }
            }
        };
        MockOp {
            child,
            issuer,
            _dir: dir,
        }
    }
}

impl MockOp {
    /// Starts the provider with one client, `fortrolig`, that may return to `redirect`
    /// and authenticates with `key`. `profile` is `idporten` or `helseid`.
    pub fn start(profile: &str, key: &ClientKey, redirect: &str) -> Self {
        Self::builder(profile, key, redirect).start()
    }

    /// Like `start`, with more registration or another behaviour.
    pub fn builder<'k>(profile: &str, key: &'k ClientKey, redirect: &str) -> MockOpBuilder<'k> {
        MockOpBuilder {
            profile: profile.to_owned(),
            key,
            redirect: redirect.to_owned(),
            post_logout: Vec::new(),
            env: Vec::new(),
        }
    }
}

/// Plays a browser at the provider: follows redirects and keeps the provider's cookies
/// (its single sign-on session) from one call to the next.
#[derive(Debug)]
pub struct Browser {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

fn query_of(url: &reqwest::Url) -> BTreeMap<String, String> {
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The value of `attribute="…"` in `tag` (the mock's own, simple HTML).
fn attribute<'t>(tag: &'t str, attribute: &str) -> Option<&'t str> {
    let start = tag.find(&format!("{attribute}=\""))? + attribute.len() + 2;
    tag[start..].split('"').next()
}

impl Browser {
    pub fn new() -> Self {
        Self {
            http: reqwest::ClientBuilder::new()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            if let Some((pair, _)) = value.to_str().unwrap_or_default().split_once(';')
                && let Some((k, v)) = pair.split_once('=')
            {
                self.cookies.insert(k.trim().to_owned(), v.to_owned());
            }
        }
    }

    /// Follows redirects from `url` until the user is sent to an address starting with
    /// `until`, and returns that address's query. With `person`, the user picks that test
    /// person on the provider's login page (the mock's `login_hint` table).
    pub async fn follow(
        &mut self,
        url: &str,
        until: &str,
        person: Option<&str>,
    ) -> BTreeMap<String, String> {
        let mut current = reqwest::Url::parse(url).unwrap();
        for _ in 0..20 {
            let response = self
                .http
                .get(current.clone())
                .header("cookie", self.cookie_header())
                .send()
                .await
                .unwrap();
            self.keep_cookies(&response);
            let Some(location) = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
            else {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                panic!("no redirect from {current}: {status} {body}");
            };
            let mut next = current.join(location).unwrap();
            if next.as_str().starts_with(until) {
                return query_of(&next);
            }
            if let Some(person) = person
                && next.path().starts_with("/interaction/")
            {
                next.query_pairs_mut().append_pair("login_hint", person);
            }
            current = next;
        }
        panic!("too many redirects");
    }

    /// Logs out at the provider: opens its end-session address, submits the form it
    /// answers with (as the browser's script would), and follows the redirects until the
    /// user is sent to an address starting with `until`; returns that address's query.
    /// Panics if the provider refuses the request (a bad `id_token_hint`, an unregistered
    /// `post_logout_redirect_uri`).
    pub async fn logout(&mut self, url: &str, until: &str) -> BTreeMap<String, String> {
        let response = self
            .http
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish_logout(response, until).await
    }

    /// Like `logout`, posting `fields` to the end-session `endpoint` (what the page
    /// Fortrolig answers a logout with does in a browser).
    pub async fn logout_post(
        &mut self,
        endpoint: &str,
        fields: &[(String, String)],
        until: &str,
    ) -> BTreeMap<String, String> {
        let response = self
            .http
            .post(endpoint)
            .header("cookie", self.cookie_header())
            .form(fields)
            .send()
            .await
            .unwrap();
        self.finish_logout(response, until).await
    }

    async fn finish_logout(
        &mut self,
        response: reqwest::Response,
        until: &str,
    ) -> BTreeMap<String, String> {
        self.keep_cookies(&response);
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "the provider refused the logout: {body}");
        let form = body
            .split("<form")
            .nth(1)
            .and_then(|f| f.split("</form>").next())
            .unwrap_or_else(|| panic!("no logout form: {body}"));
        let action = attribute(form, "action").expect("form action").to_owned();
        let mut fields: Vec<(String, String)> = form
            .split("<input")
            .skip(1)
            .filter_map(|input| Some((attribute(input, "name")?, attribute(input, "value")?)))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        if !fields.iter().any(|(k, _)| k == "logout") {
            fields.push(("logout".into(), "yes".into()));
        }
        let response = self
            .http
            .post(&action)
            .header("cookie", self.cookie_header())
            .form(&fields)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no redirect after logout: {}", response.status()))
            .to_owned();
        let next = reqwest::Url::parse(&action)
            .unwrap()
            .join(&location)
            .unwrap();
        if next.as_str().starts_with(until) {
            return query_of(&next);
        }
        self.follow(next.as_str(), until, None).await
    }
}

/// Plays the browser at the provider: follows redirects (keeping cookies) until the user
/// is sent back to a URL starting with `redirect`, and returns that URL's query.
pub async fn browse(url: &str, redirect: &str) -> BTreeMap<String, String> {
    Browser::new().follow(url, redirect, None).await
}

/// Like `browse`, with the user picking `person` on the provider's login page.
pub async fn browse_as(url: &str, redirect: &str, person: &str) -> BTreeMap<String, String> {
    Browser::new().follow(url, redirect, Some(person)).await
}

use openidconnect::reqwest;
