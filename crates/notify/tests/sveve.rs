//! The second SMS provider, Sveve (issue 5 item 4; N3, N5), against a local fake that
//! speaks its form API and JSON answers: the fields it needs, a refusal that is final,
//! and an outage worth another try.

use std::sync::{Arc, Mutex};

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use fortrolig_notify::{SendError, Sms, SmsProvider, SveveSettings};

type Seen = Arc<Mutex<Vec<Vec<(String, String)>>>>;

async fn send_message(
    State(seen): State<Seen>,
    Form(form): Form<Vec<(String, String)>>,
) -> axum::response::Response {
    let get = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if let Ok(mut seen) = seen.lock() {
        seen.push(form.clone());
    }
    match (get("passwd").as_str(), get("to").as_str()) {
        ("nede", _) => StatusCode::BAD_GATEWAY.into_response(),
        ("hemmelig", "4791234567") => {
            axum::Json(serde_json::json!({"response": {"msgOkCount": 1, "stdSMSCount": 1, "ids": [4711]}})).into_response()
        }
        ("hemmelig", _) => axum::Json(serde_json::json!({"response": {"msgOkCount": 0, "stdSMSCount": 0, "errors": [{"number": get("to"), "message": "Ugyldig nummer"}]}}))
            .into_response(),
        _ => axum::Json(serde_json::json!({"response": {"fatalError": "Feil brukernavn/passord"}})).into_response(),
    }
}

async fn fake_sveve() -> Result<(String, Seen), Box<dyn std::error::Error>> {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let routes = axum::Router::new()
        .route("/SMS/SendMessage", axum::routing::post(send_message))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/SMS/SendMessage", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, routes).await });
    Ok((url, seen))
}

fn provider(url: &str, password: &str) -> SmsProvider {
    SmsProvider::Sveve(SveveSettings {
        url: url.to_owned(),
        user: "klinikk".into(),
        password: password.into(),
    })
}

#[tokio::test]
async fn sveve_gets_its_fields_and_its_answers_are_sorted_n3_n5()
-> Result<(), Box<dyn std::error::Error>> {
    let (url, seen) = fake_sveve().await?;
    let http = reqwest::Client::new();
    let sms = |to: &'static str| Sms {
        sender: "Legesenter",
        to,
        text: "Hei! Du kan ikke svare på denne SMS-en.",
        reference: "923456783-00",
    };

    let accepted = provider(&url, "hemmelig")
        .send(&http, &sms("+4791234567"))
        .await?;
    assert_eq!(accepted.provider_id, "4711");
    let first = seen
        .lock()
        .map_err(|_| "lock")?
        .first()
        .cloned()
        .ok_or("a request")?;
    let field = |k: &str| {
        first
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("user"), Some("klinikk"));
    assert_eq!(
        field("to"),
        Some("4791234567"),
        "Sveve takes the number without +"
    );
    assert_eq!(field("from"), Some("Legesenter"));
    assert_eq!(field("ref"), Some("923456783-00"));
    assert_eq!(field("f"), Some("json"));
    assert_eq!(
        field("msg"),
        Some("Hei! Du kan ikke svare på denne SMS-en.")
    );

    let refused = provider(&url, "hemmelig")
        .send(&http, &sms("+4700000000"))
        .await;
    assert!(
        matches!(refused, Err(SendError::Permanent(_))),
        "{refused:?}"
    );
    let fatal = provider(&url, "feil")
        .send(&http, &sms("+4791234567"))
        .await;
    assert!(matches!(fatal, Err(SendError::Permanent(_))), "{fatal:?}");
    let outage = provider(&url, "nede")
        .send(&http, &sms("+4791234567"))
        .await;
    assert!(matches!(outage, Err(SendError::Retry(_))), "{outage:?}");
    let nobody = provider("http://127.0.0.1:9/SMS/SendMessage", "hemmelig")
        .send(&http, &sms("+4791234567"))
        .await;
    assert!(matches!(nobody, Err(SendError::Retry(_))), "{nobody:?}");
    Ok(())
}
