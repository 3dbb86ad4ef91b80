//! SMS through a provider's HTTP API. LINK Mobility's «Common» REST API (`POST
//! {base}/sms/send`, HTTP Basic, JSON; delivery reports POSTed back as JSON) is the first
//! provider; Sveve (`POST …/SMS/SendMessage`, form fields, JSON answer) the second. Facts
//! in `../shared/reference/norway-specs.md` §10. No links and no health data reach this
//! layer: the notice checker passed the text first (N1, N7).

use serde::{Deserialize, Serialize};

use crate::error::SendError;

/// LINK Mobility's result codes (manual «SMS REST API – MT and Delivery Reports»):
/// accepted for delivery, and delivered to the handset.
const LINK_SENT: i64 = 1000;
const LINK_DELIVERED: i64 = 1001;
const LINK_QUEUED: i64 = 1005;

/// Settings for LINK Mobility's «Common» API, from LINK's support.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSettings {
    /// The base URL, e.g. `https://n-eu.linkmobility.io`.
    pub url: String,
    pub username: String,
    pub password: String,
    pub platform_id: String,
    pub platform_partner_id: String,
    /// The gate LINK posts delivery reports to (configured with LINK's support).
    #[serde(default)]
    pub gate_id: Option<String>,
}

/// Settings for Sveve.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SveveSettings {
    /// E.g. `https://sveve.no/SMS/SendMessage`.
    pub url: String,
    pub user: String,
    pub password: String,
}

/// The SMS provider a clinic's notices go through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsProvider {
    Link(LinkSettings),
    Sveve(SveveSettings),
}

/// One SMS to send.
#[derive(Clone, Copy, Debug)]
pub struct Sms<'a> {
    /// The neutral sender name (N3), at most 11 characters (see [`sender_name`]).
    pub sender: &'a str,
    /// The number with country code, `+4791234567`.
    pub to: &'a str,
    pub text: &'a str,
    /// Our own reference (the notice id): mirrored in delivery reports, and lets the
    /// provider's logs tell a retry of the same notice from a new one.
    pub reference: &'a str,
}

/// The provider took the SMS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The provider's id for it.
    pub provider_id: String,
}

/// An alphanumeric sender is at most 11 characters, letters, digits and spaces only, so
/// every phone shows it the same (GSM; N3, N7).
pub fn sender_name(name: &str) -> Result<String, SendError> {
    let name = name.trim();
    let fits = !name.is_empty()
        && name.chars().count() <= 11
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ');
    if fits {
        Ok(name.to_owned())
    } else {
        Err(SendError::Config(
            "an SMS sender name is 1-11 letters (a-z), digits or spaces".into(),
        ))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LinkRequest<'a> {
    source: &'a str,
    #[serde(rename = "sourceTON")]
    source_ton: &'a str,
    destination: &'a str,
    #[serde(rename = "destinationTON")]
    destination_ton: &'a str,
    user_data: &'a str,
    platform_id: &'a str,
    platform_partner_id: &'a str,
    use_delivery_report: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    delivery_report_gates: Vec<&'a str>,
    ref_id: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkAnswer {
    message_id: Option<String>,
    result_code: Option<i64>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct SveveAnswer {
    response: SveveResponse,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SveveResponse {
    #[serde(default)]
    msg_ok_count: i64,
    #[serde(default)]
    ids: Vec<serde_json::Value>,
    #[serde(default)]
    errors: Vec<serde_json::Value>,
    fatal_error: Option<String>,
}

/// An HTTP failure, sorted: the network and the provider's own trouble are worth another
/// try; a refusal of the request is not; a refusal of our credentials is our settings.
fn by_status(status: reqwest::StatusCode, body: &str) -> SendError {
    let text = format!(
        "HTTP {}: {}",
        status.as_u16(),
        body.chars().take(200).collect::<String>()
    );
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        SendError::Retry(text)
    } else if status == reqwest::StatusCode::UNAUTHORIZED
        || status == reqwest::StatusCode::FORBIDDEN
    {
        SendError::Config(text)
    } else {
        SendError::Permanent(text)
    }
}

fn network(e: &reqwest::Error) -> SendError {
    SendError::Retry(format!("no answer from the SMS provider: {e}"))
}

/// The body of a provider's answer, or the failure it stands for.
async fn answer_text(response: reqwest::Result<reqwest::Response>) -> Result<String, SendError> {
    let response = response.map_err(|e| network(&e))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| network(&e))?;
    if status.is_success() {
        Ok(text)
    } else {
        Err(by_status(status, &text))
    }
}

impl SmsProvider {
    /// Hands one SMS to the provider.
    pub async fn send(&self, http: &reqwest::Client, sms: &Sms<'_>) -> Result<Accepted, SendError> {
        match self {
            SmsProvider::Link(s) => send_link(http, s, sms).await,
            SmsProvider::Sveve(s) => send_sveve(http, s, sms).await,
        }
    }
}

async fn send_link(
    http: &reqwest::Client,
    s: &LinkSettings,
    sms: &Sms<'_>,
) -> Result<Accepted, SendError> {
    let body = LinkRequest {
        source: sms.sender,
        source_ton: "ALPHANUMERIC",
        destination: sms.to,
        destination_ton: "MSISDN",
        user_data: sms.text,
        platform_id: &s.platform_id,
        platform_partner_id: &s.platform_partner_id,
        use_delivery_report: s.gate_id.is_some(),
        delivery_report_gates: s.gate_id.iter().map(String::as_str).collect(),
        ref_id: sms.reference,
    };
    let body = serde_json::to_vec(&body).map_err(|e| SendError::Config(e.to_string()))?;
    let url = format!("{}/sms/send", s.url.trim_end_matches('/'));
    let response = http
        .post(url)
        .basic_auth(&s.username, Some(&s.password))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    let text = answer_text(response).await?;
    let answer: LinkAnswer = serde_json::from_str(&text)
        .map_err(|e| SendError::Retry(format!("an answer from LINK that is not its JSON: {e}")))?;
    match answer.result_code {
        None | Some(LINK_SENT | LINK_QUEUED) => Ok(Accepted {
            provider_id: answer.message_id.unwrap_or_default(),
        }),
        Some(code) => Err(SendError::Permanent(format!(
            "LINK result code {code}: {}",
            answer.description.unwrap_or_default()
        ))),
    }
}

async fn send_sveve(
    http: &reqwest::Client,
    s: &SveveSettings,
    sms: &Sms<'_>,
) -> Result<Accepted, SendError> {
    let to = sms.to.trim_start_matches('+');
    let form = [
        ("user", s.user.as_str()),
        ("passwd", s.password.as_str()),
        ("to", to),
        ("msg", sms.text),
        ("from", sms.sender),
        ("ref", sms.reference),
        ("f", "json"),
    ];
    let response = http.post(&s.url).form(&form).send().await;
    let text = answer_text(response).await?;
    let answer: SveveAnswer = serde_json::from_str(&text)
        .map_err(|e| SendError::Retry(format!("an answer from Sveve that is not its JSON: {e}")))?;
    let r = answer.response;
    if let Some(fatal) = r.fatal_error {
        return Err(SendError::Permanent(format!("Sveve: {fatal}")));
    }
    if r.msg_ok_count < 1 {
        return Err(SendError::Permanent(format!(
            "Sveve refused it: {:?}",
            r.errors
        )));
    }
    Ok(Accepted {
        provider_id: r
            .ids
            .first()
            .map(|id| id.to_string().trim_matches('"').to_owned())
            .unwrap_or_default(),
    })
}

/// What a delivery report says about one notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryReport {
    /// Delivered to the phone.
    Delivered { reference: String },
    /// Not delivered, for good (unknown number, expired, refused), with the provider's code.
    Undelivered { reference: String, code: i64 },
    /// Still on its way: nothing to record.
    Pending { reference: String },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkReport {
    ref_id: Option<String>,
    result_code: i64,
}

impl DeliveryReport {
    /// A delivery report LINK posts to our gate (JSON). The reference is our `refId`.
    pub fn from_link_json(body: &[u8]) -> Result<Self, SendError> {
        let report: LinkReport = serde_json::from_slice(body)
            .map_err(|e| SendError::Permanent(format!("not a LINK delivery report: {e}")))?;
        let reference = report
            .ref_id
            .filter(|r| !r.is_empty())
            .ok_or_else(|| SendError::Permanent("a delivery report without our refId".into()))?;
        Ok(match report.result_code {
            LINK_DELIVERED => DeliveryReport::Delivered { reference },
            LINK_SENT | LINK_QUEUED => DeliveryReport::Pending { reference },
            code => DeliveryReport::Undelivered { reference, code },
        })
    }

    pub fn reference(&self) -> &str {
        match self {
            DeliveryReport::Delivered { reference }
            | DeliveryReport::Undelivered { reference, .. }
            | DeliveryReport::Pending { reference } => reference,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_names_are_short_plain_and_neutral_n3() {
        assert_eq!(sender_name(" Legesenter ").as_deref(), Ok("Legesenter"));
        for bad in [
            "",
            "Normland legesenter",
            "Lege:kontor",
            "Legeæøå",
            "Lege-senter",
        ] {
            assert!(sender_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn link_delivery_reports_name_our_reference_and_the_outcome_n5() {
        let delivered = DeliveryReport::from_link_json(
            br#"{"refId":"abc","id":"x$0","resultCode":1001,"operator":"no.telenor"}"#,
        );
        assert_eq!(
            delivered,
            Ok(DeliveryReport::Delivered {
                reference: "abc".into()
            })
        );
        let failed = DeliveryReport::from_link_json(br#"{"refId":"abc","resultCode":2104}"#);
        assert_eq!(
            failed,
            Ok(DeliveryReport::Undelivered {
                reference: "abc".into(),
                code: 2104
            })
        );
        assert!(DeliveryReport::from_link_json(br#"{"resultCode":1001}"#).is_err());
        assert!(DeliveryReport::from_link_json(b"<xml/>").is_err());
    }

    #[test]
    fn http_failures_are_sorted_into_retry_refused_and_settings() {
        assert!(by_status(reqwest::StatusCode::SERVICE_UNAVAILABLE, "").is_retryable());
        assert!(by_status(reqwest::StatusCode::TOO_MANY_REQUESTS, "").is_retryable());
        assert!(matches!(
            by_status(reqwest::StatusCode::BAD_REQUEST, ""),
            SendError::Permanent(_)
        ));
        assert!(matches!(
            by_status(reqwest::StatusCode::UNAUTHORIZED, ""),
            SendError::Config(_)
        ));
    }
}
