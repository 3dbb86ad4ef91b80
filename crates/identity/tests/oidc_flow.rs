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

fn start(profile: &str, key: &ClientKey) -> MockOp {
    MockOp::start(profile, key, REDIRECT)
}

async fn provider(kind: ProviderKind, op: &MockOp, key: ClientKey) -> Provider {
    let config = ProviderConfig {
        kind,
        issuer: op.issuer.clone(),
        client_id: "fortrolig".into(),
        redirect_url: REDIRECT.into(),
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
    let (url, pending) = p.begin(level, Some(hint));
    let back = browse(&url).await;
    (pending, back)
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

    // A login at substantial where high was asked for (a downgraded request): refused.
    let (url, pending) = p.begin(Level::High, Some("21879498012"));
    let downgraded = url.replace("idporten-loa-high", "idporten-loa-substantial");
    let back = browse(&downgraded).await;
    assert!(matches!(
        complete(&p, &pending, &back).await,
        Err(LoginError::LevelTooLow)
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
    let op = start("idporten", &registered);
    // Same kid, different key: the provider must refuse the assertion.
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
async fn helseid_login_gives_pid_hpr_number_and_level() {
    let (key, _) = ClientKey::generate("fortrolig-1").unwrap();
    let op = start("helseid", &key);
    let p = provider(ProviderKind::HelseId, &op, key).await;
    let (pending, back) = login(&p, Level::High, "01017040088:181000001").await;
    let identity = complete(&p, &pending, &back).await.expect("login");
    assert_eq!(identity.person_number, "01017040088");
    assert_eq!(identity.hpr_number.as_deref(), Some("181000001"));
    assert_eq!(identity.level, Level::High);
}
