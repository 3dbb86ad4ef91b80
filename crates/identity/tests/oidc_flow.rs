//! The real client code against a real OpenID provider (oidc-provider, set up like
//! ID-porten and HelseID in tests/oidc/mock-op.mjs): issue 3 item 1 and its negatives.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

use std::collections::BTreeMap;

use fortrolig_domain::access::Level;
use fortrolig_identity::testing::{self, MockOp};
use fortrolig_identity::{
    ClientKey, Identity, LoginError, PendingLogin, Provider, ProviderConfig, ProviderKind,
};

const REDIRECT: &str = "http://127.0.0.1:9/innlogging/callback";
const LOGGED_OUT: &str = "http://127.0.0.1:9/innlogging/utlogget";

fn start(profile: &str, key: &ClientKey) -> MockOp {
    MockOp::start(profile, key, REDIRECT)
}

/// A provider that does not offer PAR: the request goes in the address.
fn start_without_par(profile: &str, key: &ClientKey) -> MockOp {
    MockOp::builder(profile, key, REDIRECT)
        .env("MOCK_OP_PAR", "0")
        .start()
}

async fn provider(kind: ProviderKind, op: &MockOp, key: ClientKey) -> Provider {
    let config = ProviderConfig {
        kind,
        issuer: op.issuer.clone(),
        client_id: "fortrolig".into(),
        redirect_url: REDIRECT.into(),
        post_logout_redirect_url: Some(LOGGED_OUT.into()),
    };
    Provider::discover(config, key).await.expect("discovery")
}

async fn browse(url: &str) -> BTreeMap<String, String> {
    testing::browse(url, REDIRECT).await
}

/// Finishes a login with what the provider sent back.
async fn complete(
    p: &Provider,
    pending: &PendingLogin,
    back: &BTreeMap<String, String>,
) -> Result<Identity, LoginError> {
    p.finish(
        pending,
        &back["state"],
        back.get("iss").map(String::as_str),
        &back["code"],
        now(),
    )
    .await
}

fn now() -> i64 {
    #[expect(
        clippy::disallowed_methods,
        reason = "the provider runs on wall time too"
    )]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn login(p: &Provider, level: Level, hint: &str) -> (PendingLogin, BTreeMap<String, String>) {
    let (url, pending) = p.begin(level, Some(hint), now()).await.expect("begin");
    let back = browse(&url).await;
    (pending, back)
}

fn query_keys(url: &str) -> Vec<String> {
    let url = fortrolig_identity::reqwest::Url::parse(url).unwrap();
    url.query_pairs().map(|(k, _)| k.into_owned()).collect()
}

#[tokio::test]
async fn idporten_login_at_level_high_gives_the_pid_and_refuses_every_forgery() {
    let (key, _) = ClientKey::generate("fortrolig-1").unwrap();
    let op = start("idporten", &key);
    let p = provider(ProviderKind::IdPorten, &op, key).await;

    let (pending, back) = login(&p, Level::High, "21879498012").await;
    let identity = complete(&p, &pending, &back).await.expect("login");
    assert_eq!(identity.person_number, "21879498012");
    assert_eq!(identity.level, Level::High);
    assert!(
        identity.provider_session.is_some(),
        "sid for logout at the provider"
    );
    assert!(p.end_session_url().is_some());

    // The same code again: refused by the provider.
    let replay = complete(&p, &pending, &back).await;
    assert!(
        matches!(replay, Err(LoginError::TokenExchange(_))),
        "{replay:?}"
    );

    // A response claiming to come from another issuer (mix-up): refused.
    let (pending, back) = login(&p, Level::High, "21879498012").await;
    assert_eq!(
        back.get("iss").map(String::as_str),
        Some(op.issuer.as_str())
    );
    let mixed = p
        .finish(
            &pending,
            &back["state"],
            Some("http://127.0.0.1:1"),
            &back["code"],
            now(),
        )
        .await;
    assert!(
        matches!(mixed, Err(LoginError::IssuerMismatch)),
        "{mixed:?}"
    );

    // Wrong state: refused before the code is even used.
    let (pending, back) = login(&p, Level::High, "21879498012").await;
    assert!(matches!(
        p.finish(
            &pending,
            "forged-state",
            back.get("iss").map(String::as_str),
            &back["code"],
            now()
        )
        .await,
        Err(LoginError::StateMismatch)
    ));

    // Wrong nonce: the id_token does not belong to this login.
    let (mut pending, back) = login(&p, Level::High, "21879498012").await;
    pending.nonce = "another-nonce".into();
    assert!(matches!(
        complete(&p, &pending, &back).await,
        Err(LoginError::InvalidIdToken(_))
    ));

    // Substantial asked, substantial given: fine.
    let (pending, back) = login(&p, Level::Substantial, "01017040088").await;
    let identity = complete(&p, &pending, &back).await.expect("login");
    assert_eq!(identity.level, Level::Substantial);

    // The user cancels at the provider: an error comes back, no code.
    let (_, back) = login(&p, Level::High, "fail").await;
    assert_eq!(back.get("error").map(String::as_str), Some("access_denied"));
    assert!(!back.contains_key("code"));
}

#[tokio::test]
async fn client_authenticates_with_private_key_jwt_only() {
    let (registered, _) = ClientKey::generate("fortrolig-1").unwrap();
    // Same kid, different key: the provider must refuse the assertion, both on the
    // pushed request and (without PAR) at the token endpoint.
    let op = start("idporten", &registered);
    let (impostor, _) = ClientKey::generate("fortrolig-1").unwrap();
    let p = provider(ProviderKind::IdPorten, &op, impostor).await;
    let pushed = p.begin(Level::High, Some("21879498012"), now()).await;
    assert!(
        matches!(pushed, Err(LoginError::PushedRequest(_))),
        "{pushed:?}"
    );

    let op = start_without_par("idporten", &registered);
    let (impostor, _) = ClientKey::generate("fortrolig-1").unwrap();
    let p = provider(ProviderKind::IdPorten, &op, impostor).await;
    let (pending, back) = login(&p, Level::High, "21879498012").await;
    let result = complete(&p, &pending, &back).await;
    assert!(
        matches!(result, Err(LoginError::TokenExchange(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn par_sends_the_browser_with_client_id_and_request_uri_only_s4() {
    let (key, _) = ClientKey::generate("fortrolig-1").unwrap();
    let op = start("idporten", &key);
    let p = provider(ProviderKind::IdPorten, &op, key).await;
    assert!(p.uses_pushed_requests(), "discovery offers PAR");

    let (url, pending) = p
        .begin(Level::High, Some("21879498012"), now())
        .await
        .expect("pushed");
    let mut keys = query_keys(&url);
    keys.sort();
    assert_eq!(keys, ["client_id", "request_uri"], "{url}");
    assert!(url.contains("request_uri=urn"), "{url}");
    for private in [
        "code_challenge",
        "nonce",
        "state=",
        "acr_values",
        "login_hint",
    ] {
        assert!(
            !url.contains(private),
            "{private} travels in the pushed request: {url}"
        );
    }

    // The pushed request is the one the provider acts on: its person, its level, its
    // PKCE challenge (the code only works with this login's verifier).
    let back = browse(&url).await;
    let identity = complete(&p, &pending, &back).await.expect("login");
    assert_eq!(identity.person_number, "21879498012");
    assert_eq!(identity.level, Level::High);

    // A request_uri is good for one login only.
    let again = browse(&url).await;
    assert_eq!(
        again.get("error").map(String::as_str),
        Some("invalid_request_uri"),
        "{again:?}"
    );
}

#[tokio::test]
async fn without_par_the_request_goes_in_the_address_and_a_downgrade_is_refused_x2() {
    let (key, _) = ClientKey::generate("fortrolig-1").unwrap();
    let op = start_without_par("idporten", &key);
    let p = provider(ProviderKind::IdPorten, &op, key).await;
    assert!(!p.uses_pushed_requests());

    let (url, pending) = p
        .begin(Level::High, Some("21879498012"), now())
        .await
        .expect("begin");
    assert!(url.contains("code_challenge_method=S256") && url.contains("acr_values"));
    // Someone lowers the level on the way: the provider logs in at substantial, and the
    // client refuses a level below the one it asked for.
    let downgraded = url.replace("idporten-loa-high", "idporten-loa-substantial");
    let back = browse(&downgraded).await;
    assert!(matches!(
        complete(&p, &pending, &back).await,
        Err(LoginError::LevelTooLow)
    ));

    let (pending, back) = login(&p, Level::High, "21879498012").await;
    assert_eq!(
        complete(&p, &pending, &back).await.expect("login").level,
        Level::High
    );
}

/// A login against a provider that misbehaves as `mode` (tests/oidc/README.md).
async fn login_against_misbehaving(mode: &str) -> Result<Identity, LoginError> {
    let (key, _) = ClientKey::generate("fortrolig-1").unwrap();
    let op = MockOp::builder("idporten", &key, REDIRECT)
        .env("MOCK_OP_ID_TOKEN", mode)
        .start();
    let p = provider(ProviderKind::IdPorten, &op, key).await;
    let (pending, back) = login(&p, Level::High, "21879498012").await;
    complete(&p, &pending, &back).await
}

#[tokio::test]
async fn id_token_changed_on_the_way_is_refused_as_a_bad_signature_s4() {
    let result = login_against_misbehaving("tampered").await;
    assert!(
        matches!(result, Err(LoginError::BadSignature(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn expired_id_token_is_refused_s4() {
    let result = login_against_misbehaving("expired").await;
    assert!(matches!(result, Err(LoginError::Expired(_))), "{result:?}");
}

#[tokio::test]
async fn logout_at_the_provider_takes_the_id_token_as_hint_and_returns_state_s4() {
    let (key, _) = ClientKey::generate("fortrolig-1").unwrap();
    let op = MockOp::builder("idporten", &key, REDIRECT)
        .post_logout_redirect(LOGGED_OUT)
        .start();
    let p = provider(ProviderKind::IdPorten, &op, key).await;
    let mut browser = testing::Browser::new();
    let (url, pending) = p.begin(Level::High, None, now()).await.expect("begin");
    let back = browser.follow(&url, REDIRECT, Some("21879498012")).await;
    let identity = complete(&p, &pending, &back).await.expect("login");
    assert_eq!(
        identity.person_number, "21879498012",
        "picked at the provider"
    );
    assert!(
        !format!("{identity:?}").contains("21879498012"),
        "Debug hides the identity number"
    );

    let logout = p
        .logout_request(Some(&identity.id_token), "utlogging-1")
        .expect("end_session_endpoint");
    assert_eq!(Some(logout.endpoint()), p.end_session_url());
    let mut keys: Vec<&str> = logout.fields.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "client_id",
            "id_token_hint",
            "post_logout_redirect_uri",
            "state"
        ]
    );
    // The provider checks the hint (its signature, issuer and audience) and sends the
    // user back to our registered page with our state: posted, as ID-porten recommends.
    let returned = browser
        .logout_post(logout.endpoint(), &logout.fields, LOGGED_OUT)
        .await;
    assert_eq!(
        returned.get("state").map(String::as_str),
        Some("utlogging-1")
    );

    // The same as an address works too.
    let (url, pending) = p.begin(Level::High, None, now()).await.expect("begin");
    let back = browser.follow(&url, REDIRECT, Some("21879498012")).await;
    let identity = complete(&p, &pending, &back).await.expect("login");
    let logout = p
        .logout_request(Some(&identity.id_token), "utlogging-2")
        .expect("end_session_endpoint");
    let returned = browser.logout(&logout.url(), LOGGED_OUT).await;
    assert_eq!(
        returned.get("state").map(String::as_str),
        Some("utlogging-2")
    );

    // A hint the provider did not sign is refused.
    let forged = p
        .logout_request(Some("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA"), "x")
        .expect("request");
    let refused = fortrolig_identity::reqwest::get(&forged.url())
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn helseid_login_gives_pid_hpr_number_and_level() {
    let (key, _) = ClientKey::generate("fortrolig-1").unwrap();
    // HelseID requires PAR of new clients: so does this provider.
    let op = MockOp::builder("helseid", &key, REDIRECT)
        .env("MOCK_OP_REQUIRE_PAR", "1")
        .start();
    let p = provider(ProviderKind::HelseId, &op, key).await;
    let (pending, back) = login(&p, Level::High, "01017040088:181000001").await;
    let identity = complete(&p, &pending, &back).await.expect("login");
    assert_eq!(identity.person_number, "01017040088");
    assert_eq!(identity.hpr_number.as_deref(), Some("181000001"));
    assert_eq!(identity.level, Level::High);
}
