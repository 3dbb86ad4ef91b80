//! Local fakes of Maskinporten's token endpoint and the contact and reservation register
//! (KRR), on 127.0.0.1, strict where the real ones are: the token endpoint takes only the
//! JWT-bearer grant, verifies the grant's ES256 signature against the client's registered
//! public key and checks `iss`, `aud`, `scope`, `resource` and a short `exp`; KRR answers
//! only a bearer token the token endpoint issued (norway-specs §3).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use fortrolig_domain::Clock;
use fortrolig_identity::{ClientKey, Maskinporten, MaskinportenConfig};
use fortrolig_notify::KrrClient;
use fortrolig_service::KrrLookup;

use crate::notices::Res;

pub(crate) const CLIENT_ID: &str = "fortrolig-klient";
pub(crate) const SCOPE: &str = "krr:global/kontaktinformasjon.read";

#[derive(Clone)]
struct KrrState {
    /// The client's public key as registered: the uncompressed P-256 point.
    public_key: Vec<u8>,
    kid: String,
    audience: String,
    resource: String,
    issued: Arc<Mutex<HashSet<String>>>,
    grants: Arc<Mutex<usize>>,
    lookups: Arc<Mutex<usize>>,
    persons: Arc<Mutex<HashMap<String, serde_json::Value>>>,
    down: Arc<AtomicBool>,
    /// The test's clock: the grant's `exp` is judged by the time the client signed it.
    clock: Arc<dyn Clock>,
}

/// Maskinporten and KRR in one local server.
pub(crate) struct FakeKrr {
    pub(crate) url: String,
    state: KrrState,
    /// KRR answers 503 (Maskinporten still works).
    pub(crate) down: Arc<AtomicBool>,
}

fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let vals = text
        .bytes()
        .map(|c| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32))
        .collect::<Option<Vec<u32>>>()?;
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let mut n = 0u32;
        for (i, v) in chunk.iter().enumerate() {
            n |= v << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

fn refuse(text: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({"error": "invalid_grant", "error_description": text})),
    )
        .into_response()
}

/// What is wrong with a grant, if anything.
fn check_grant(state: &KrrState, form: &HashMap<String, String>) -> Result<(), String> {
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return Err("grant_type".into());
    }
    let jwt = form.get("assertion").ok_or("no assertion")?;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err("not a JWT".into());
    };
    let json = |part: &str| -> Result<serde_json::Value, String> {
        serde_json::from_slice(&b64url_decode(part).ok_or("base64")?).map_err(|e| e.to_string())
    };
    let (header_json, c) = (json(header)?, json(claims)?);
    if header_json["alg"] != "ES256" || header_json["kid"] != state.kid.as_str() {
        return Err(format!("header {header_json}"));
    }
    let signature = b64url_decode(signature).ok_or("signature base64")?;
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_FIXED,
        &state.public_key,
    )
    .verify(format!("{header}.{claims}").as_bytes(), &signature)
    .map_err(|_| "bad signature".to_owned())?;
    let now = state.clock.now().as_micros().div_euclid(1_000_000);
    let (iat, exp) = (
        c["iat"].as_i64().ok_or("iat")?,
        c["exp"].as_i64().ok_or("exp")?,
    );
    let ok = c["iss"] == CLIENT_ID
        && c["aud"] == state.audience.as_str()
        && c["scope"] == SCOPE
        && c["resource"] == state.resource.as_str()
        && c["jti"].as_str().is_some_and(|j| !j.is_empty())
        && exp > iat
        && exp - iat <= 120
        && exp > now;
    if ok {
        Ok(())
    } else {
        Err(format!("claims {c}"))
    }
}

async fn token(
    State(state): State<KrrState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = check_grant(&state, &form) {
        return refuse(&e);
    }
    let (Ok(mut issued), Ok(mut grants)) = (state.issued.lock(), state.grants.lock()) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    *grants += 1;
    let token = format!("mp-token-{}", *grants);
    issued.insert(token.clone());
    Json(serde_json::json!({
        "access_token": token, "token_type": "Bearer", "expires_in": 120, "scope": SCOPE,
    }))
    .into_response()
}

async fn personer(
    State(state): State<KrrState>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    if state.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    if !state.issued.lock().is_ok_and(|i| i.contains(&bearer)) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Ok(mut n) = state.lookups.lock() {
        *n += 1;
    }
    let Some(ids) = body["personidentifikatorer"].as_array() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let persons = state.persons.lock().map(|p| p.clone()).unwrap_or_default();
    let personer: Vec<serde_json::Value> = ids
        .iter()
        .filter_map(|id| id.as_str())
        .map(|id| {
            persons.get(id).cloned().unwrap_or_else(|| {
                serde_json::json!({"personidentifikator": id, "status": "IKKE_REGISTRERT",
                    "varslingsstatus": "KAN_IKKE_VARSLES", "reservasjon": "NEI"})
            })
        })
        .collect();
    Json(serde_json::json!({ "personer": personer })).into_response()
}

pub(crate) async fn fake_krr(key: &ClientKey, clock: Arc<dyn Clock>) -> Res<FakeKrr> {
    let jwk = key.public_jwk();
    let coordinate = |name: &str| -> Res<Vec<u8>> {
        Ok(b64url_decode(jwk[name].as_str().ok_or("jwk")?).ok_or("jwk base64")?)
    };
    let public_key = [vec![4u8], coordinate("x")?, coordinate("y")?].concat();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let state = KrrState {
        public_key,
        kid: jwk["kid"].as_str().unwrap_or_default().to_owned(),
        audience: format!("{url}/"),
        resource: url.clone(),
        issued: Arc::default(),
        grants: Arc::default(),
        lookups: Arc::default(),
        persons: Arc::default(),
        down: Arc::default(),
        clock,
    };
    let routes = Router::new()
        .route("/token", axum::routing::post(token))
        .route("/rest/v2/personer", axum::routing::post(personer))
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, routes).await });
    Ok(FakeKrr {
        url,
        down: state.down.clone(),
        state,
    })
}

impl FakeKrr {
    /// What KRR holds for one person (an entry of `personer`).
    pub(crate) fn register(&self, person: serde_json::Value) {
        if let (Some(id), Ok(mut persons)) = (
            person["personidentifikator"].as_str(),
            self.state.persons.lock(),
        ) {
            persons.insert(id.to_owned(), person.clone());
        }
    }

    pub(crate) fn grants(&self) -> usize {
        self.state.grants.lock().map(|n| *n).unwrap_or_default()
    }

    pub(crate) fn lookups(&self) -> usize {
        self.state.lookups.lock().map(|n| *n).unwrap_or_default()
    }

    /// The lookup as `[notices.krr]` would set it up, with this client key.
    pub(crate) fn lookup(&self, key: ClientKey) -> KrrLookup {
        KrrLookup::new(
            Maskinporten::new(
                MaskinportenConfig {
                    token_url: format!("{}/token", self.url),
                    audience: format!("{}/", self.url),
                    client_id: CLIENT_ID.into(),
                    scope: SCOPE.into(),
                    resource: Some(self.url.clone()),
                },
                key,
            ),
            KrrClient::new(&self.url),
        )
    }
}
