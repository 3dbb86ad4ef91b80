//! The contact and reservation register (Kontakt- og reservasjonsregisteret, KRR), REST
//! v2: `POST …/rest/v2/personer` with a Maskinporten token and `{"personidentifikatorer":
//! [fnr]}`; the answer says whether the person has reserved against digital contact,
//! whether they can be notified, and their e-mail and mobile number with when each was
//! last updated and confirmed. Facts in `../shared/reference/norway-specs.md` §3.
//!
//! The 18-month rule (eForvaltningsforskriften § 32): contact information neither
//! updated nor confirmed in the last 18 months must not be used. It is judged per
//! channel here, so the caller sees each address with whether it may be used (N4).

use serde::{Deserialize, Serialize};

use crate::error::SendError;

/// How far back an update or confirmation keeps an address usable.
const FRESH_MONTHS: i64 = 18;

/// A KRR client for one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KrrClient {
    endpoint: String,
}

/// One person as KRR knows them.
#[derive(Clone, PartialEq, Eq)]
pub struct KrrPerson {
    /// `reservasjon = JA`: the person has reserved against digital contact.
    pub reserved: bool,
    /// `varslingsstatus = KAN_VARSLES`.
    pub can_notify: bool,
    pub status: KrrStatus,
    pub email: Option<KrrAddress>,
    pub mobile: Option<KrrAddress>,
}

// Addresses are personal data: a log line shows only whether they are there and fresh.
impl std::fmt::Debug for KrrPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KrrPerson")
            .field("reserved", &self.reserved)
            .field("can_notify", &self.can_notify)
            .field("status", &self.status)
            .field("email", &self.email)
            .field("mobile", &self.mobile)
            .finish()
    }
}

/// Whether the register holds the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KrrStatus {
    /// `AKTIV`.
    Active,
    /// `SLETTET`: the person deleted their entry.
    Deleted,
    /// `IKKE_REGISTRERT`: never registered.
    NotRegistered,
}

impl KrrStatus {
    /// Whether KRR has anything to say about where to reach the person.
    pub fn is_active(self) -> bool {
        self == KrrStatus::Active
    }
}

/// An e-mail address or mobile number from KRR.
#[derive(Clone, PartialEq, Eq)]
pub struct KrrAddress {
    pub value: String,
    /// Updated or confirmed within the last 18 months: it may be used.
    pub fresh: bool,
}

impl std::fmt::Debug for KrrAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KrrAddress(fresh={})", self.fresh)
    }
}

#[derive(Serialize)]
struct Request<'a> {
    personidentifikatorer: [&'a str; 1],
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    personer: Vec<RawPerson>,
}

#[derive(Deserialize)]
struct RawPerson {
    personidentifikator: Option<String>,
    reservasjon: Option<String>,
    status: Option<String>,
    varslingsstatus: Option<String>,
    kontaktinformasjon: Option<RawContact>,
}

#[derive(Deserialize)]
struct RawContact {
    epostadresse: Option<String>,
    epostadresse_oppdatert: Option<String>,
    epostadresse_sist_verifisert: Option<String>,
    mobiltelefonnummer: Option<String>,
    mobiltelefonnummer_oppdatert: Option<String>,
    mobiltelefonnummer_sist_verifisert: Option<String>,
}

impl KrrClient {
    /// `url` is the register's base (`https://kontaktregisteret.no`) or the full address
    /// of the lookup (`…/rest/v2/personer`).
    pub fn new(url: &str) -> Self {
        let url = url.trim_end_matches('/');
        let endpoint = if url.ends_with("/personer") {
            url.to_owned()
        } else {
            format!("{url}/rest/v2/personer")
        };
        Self { endpoint }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Looks one person up. `None` when the answer does not name them. Every failure is
    /// worth another try (`Retry` for the register's or the network's trouble, `Config`
    /// for a refusal of our token or request): none may end a notice, and none may let
    /// it go to an address KRR was not asked about.
    pub async fn lookup(
        &self,
        http: &reqwest::Client,
        token: &str,
        person: &str,
        now_secs: i64,
    ) -> Result<Option<KrrPerson>, SendError> {
        let body = serde_json::to_vec(&Request {
            personidentifikatorer: [person],
        })
        .map_err(|e| SendError::Config(e.to_string()))?;
        let unreachable = |e: reqwest::Error| SendError::Retry(format!("no answer from KRR: {e}"));
        let response = http
            .post(&self.endpoint)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let text = response.text().await.map_err(unreachable)?;
        if !status.is_success() {
            let detail = format!(
                "KRR HTTP {}: {}",
                status.as_u16(),
                text.chars().take(200).collect::<String>()
            );
            return Err(
                if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                    SendError::Retry(detail)
                } else {
                    SendError::Config(detail)
                },
            );
        }
        parse_answer(&text, person, now_secs)
    }
}

/// The person `person` in a KRR answer, judged at `now_secs`.
pub fn parse_answer(
    text: &str,
    person: &str,
    now_secs: i64,
) -> Result<Option<KrrPerson>, SendError> {
    let answer: Answer = serde_json::from_str(text)
        .map_err(|e| SendError::Retry(format!("an answer from KRR that is not its JSON: {e}")))?;
    let Some(raw) = answer.personer.into_iter().find(|p| {
        p.personidentifikator
            .as_deref()
            .is_none_or(|id| id == person)
    }) else {
        return Ok(None);
    };
    let status = match raw.status.as_deref() {
        Some("AKTIV") => KrrStatus::Active,
        Some("SLETTET") => KrrStatus::Deleted,
        Some("IKKE_REGISTRERT") => KrrStatus::NotRegistered,
        other => {
            return Err(SendError::Retry(format!(
                "KRR status {other:?} is not one we know"
            )));
        }
    };
    let cutoff = months_before(now_secs, FRESH_MONTHS);
    let address = |value: Option<String>, updated: Option<String>, verified: Option<String>| {
        let value = value.filter(|v| !v.trim().is_empty())?;
        let newest = [updated, verified]
            .into_iter()
            .flatten()
            .filter_map(|t| parse_timestamp(&t))
            .max();
        Some(KrrAddress {
            value: value.trim().to_owned(),
            fresh: newest.is_some_and(|t| t >= cutoff),
        })
    };
    let (email, mobile) = match raw.kontaktinformasjon {
        Some(c) => (
            address(
                c.epostadresse,
                c.epostadresse_oppdatert,
                c.epostadresse_sist_verifisert,
            ),
            address(
                c.mobiltelefonnummer,
                c.mobiltelefonnummer_oppdatert,
                c.mobiltelefonnummer_sist_verifisert,
            ),
        ),
        None => (None, None),
    };
    Ok(Some(KrrPerson {
        // Reservation is always in the answer; anything but a plain «NEI» is honoured as
        // one, since sending against a reservation is the worse mistake.
        reserved: raw.reservasjon.as_deref() == Some("JA")
            || (status.is_active() && raw.reservasjon.as_deref() != Some("NEI")),
        can_notify: raw.varslingsstatus.as_deref() == Some("KAN_VARSLES"),
        status,
        email,
        mobile,
    }))
}

/// Seconds since the epoch for a KRR timestamp: `2023-06-29T10:14:52+02`,
/// `2023-08-05T10:45:15.768Z`, or with `+02:00` / `+0200`. `None` for anything else (an
/// address with no readable time is treated as old).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = text.split_once('T')?;
    let mut parts = date.splitn(3, '-');
    let year: i64 = digits(parts.next()?, 4)?;
    let month: i64 = digits(parts.next()?, 2)?;
    let day: i64 = digits(parts.next()?, 2)?;
    let zone_at = rest.find(['Z', 'z', '+', '-'])?;
    let (clock, zone) = rest.split_at(zone_at);
    let clock = clock.split('.').next()?;
    let mut hms = clock.splitn(3, ':');
    let hour: i64 = digits(hms.next()?, 2)?;
    let minute: i64 = digits(hms.next()?, 2)?;
    let second: i64 = hms.next().map_or(Some(0), |s| digits(s, 2))?;
    let offset = if zone.eq_ignore_ascii_case("z") {
        0
    } else {
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        // `get`, not indexing: a stray multi-byte character is no reason to panic.
        let zone = zone.get(1..)?.replace(':', "");
        let (h, m) = match zone.len() {
            2 => (digits(&zone, 2)?, 0),
            4 => (digits(zone.get(..2)?, 2)?, digits(zone.get(2..)?, 2)?),
            _ => return None,
        };
        if h > 18 || m > 59 {
            return None;
        }
        sign * (h * 3600 + m * 60)
    };
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 61;
    if !valid {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn digits(text: &str, len: usize) -> Option<i64> {
    if text.len() == len && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// The same time of day `months` calendar months before `now_secs` (UTC), the day cut to
/// the month's length (31 August less 18 months is 28 or 29 February).
pub fn months_before(now_secs: i64, months: i64) -> i64 {
    let days = now_secs.div_euclid(86_400);
    let time_of_day = now_secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let index = y * 12 + (m - 1) - months;
    let (y, m) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    let d = d.min(days_in_month(y, m));
    days_from_civil(y, m, d) * 86_400 + time_of_day
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2025-03-01T12:00:00Z.
    const NOW: i64 = 1_740_830_400;

    #[test]
    fn both_timestamp_forms_are_read() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp("2023-06-29T10:14:52+02"),
            Some(1_688_026_492)
        );
        assert_eq!(
            parse_timestamp("2023-06-29T10:14:52+02:00"),
            Some(1_688_026_492)
        );
        assert_eq!(
            parse_timestamp("2023-06-29T08:14:52.5Z"),
            Some(1_688_026_492)
        );
        assert_eq!(
            parse_timestamp("2023-08-05T10:45:15.768Z"),
            Some(1_691_232_315)
        );
        assert_eq!(
            parse_timestamp("2023-08-05T05:45:15-0500"),
            Some(1_691_232_315)
        );
        for bad in [
            "",
            "2023-06-29",
            "2023-06-29T10:14:52",
            "2023-02-29T10:14:52Z",
            "2023-13-01T10:14:52Z",
            "23-06-29T10:14:52Z",
            "2023-06-29T10:14:52+2",
            "2023-06-29T10:14:52+0é1",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn eighteen_months_back_is_by_the_calendar() {
        assert_eq!(
            months_before(NOW, 18),
            parse_timestamp("2023-09-01T12:00:00Z").unwrap_or_default()
        );
        let end_of_august = parse_timestamp("2025-08-31T00:00:00Z").unwrap_or_default();
        assert_eq!(
            months_before(end_of_august, 18),
            parse_timestamp("2024-02-29T00:00:00Z").unwrap_or_default()
        );
        for days in [-1_000_000, -1, 0, 1, 19_000, 2_000_000] {
            assert_eq!(days_from_civil_round_trip(days), days);
        }
    }

    fn days_from_civil_round_trip(days: i64) -> i64 {
        let (y, m, d) = civil_from_days(days);
        days_from_civil(y, m, d)
    }

    fn answer(reservasjon: &str, varsling: &str, mobile_updated: &str) -> String {
        serde_json::json!({"personer": [{
            "personidentifikator": "21879498012",
            "reservasjon": reservasjon,
            "status": "AKTIV",
            "varslingsstatus": varsling,
            "kontaktinformasjon": {
                "epostadresse": "kari@krr.example",
                "epostadresse_oppdatert": "2023-06-29T10:14:52+02",
                "epostadresse_sist_verifisert": "2024-12-01T10:45:15.768Z",
                "mobiltelefonnummer": "+4799999999",
                "mobiltelefonnummer_oppdatert": mobile_updated,
                "mobiltelefonnummer_sist_verifisert": "2019-01-01T00:00:00Z"
            },
            "spraak": "nb"
        }]})
        .to_string()
    }

    #[test]
    fn an_answer_gives_reservation_and_each_address_with_its_freshness_n4() -> Result<(), SendError>
    {
        let p = parse_answer(
            &answer("NEI", "KAN_VARSLES", "2023-08-05T10:45:15.768Z"),
            "21879498012",
            NOW,
        )?
        .ok_or(SendError::Retry("no person".into()))?;
        assert!(!p.reserved && p.can_notify);
        assert_eq!(p.status, KrrStatus::Active);
        // The e-mail was confirmed three months ago, though changed long before.
        assert_eq!(
            p.email,
            Some(KrrAddress {
                value: "kari@krr.example".into(),
                fresh: true
            })
        );
        // The number was last touched 19 months ago: not to be used.
        assert_eq!(
            p.mobile,
            Some(KrrAddress {
                value: "+4799999999".into(),
                fresh: false
            })
        );
        let recent = parse_answer(
            &answer("NEI", "KAN_VARSLES", "2023-09-01T12:00:00Z"),
            "21879498012",
            NOW,
        )?;
        assert!(
            recent.and_then(|p| p.mobile).is_some_and(|m| m.fresh),
            "exactly 18 months is still within"
        );
        Ok(())
    }

    #[test]
    fn a_reservation_and_the_registers_own_verdict_are_read_n4() -> Result<(), SendError> {
        let reserved = parse_answer(
            &answer("JA", "KAN_IKKE_VARSLES", "2024-12-01T00:00:00Z"),
            "21879498012",
            NOW,
        )?;
        assert!(reserved.is_some_and(|p| p.reserved && !p.can_notify));
        let unknown = parse_answer(
            r#"{"personer":[{"personidentifikator":"21879498012","status":"IKKE_REGISTRERT","varslingsstatus":"KAN_IKKE_VARSLES"}]}"#,
            "21879498012",
            NOW,
        )?;
        assert_eq!(
            unknown,
            Some(KrrPerson {
                reserved: false,
                can_notify: false,
                status: KrrStatus::NotRegistered,
                email: None,
                mobile: None
            })
        );
        assert_eq!(
            parse_answer(r#"{"personer":[]}"#, "21879498012", NOW)?,
            None
        );
        assert!(parse_answer("<html/>", "21879498012", NOW).is_err_and(|e| e.is_retryable()));
        Ok(())
    }

    #[test]
    fn the_endpoint_is_the_v2_lookup() {
        assert_eq!(
            KrrClient::new("https://kontaktregisteret.no/").endpoint(),
            "https://kontaktregisteret.no/rest/v2/personer"
        );
        assert_eq!(
            KrrClient::new("https://test.kontaktregisteret.no/rest/v2/personer").endpoint(),
            "https://test.kontaktregisteret.no/rest/v2/personer"
        );
    }
}
