//! A patient's personal data as it enters the system. All of it is personal data and is
//! only ever stored encrypted (X6); `Debug` therefore redacts every field.

use std::fmt;

use crate::identifier::PersonNumber;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContactError {
    #[error("the name is empty")]
    EmptyName,
    #[error("the name is longer than 200 characters")]
    NameTooLong,
    #[error("the name contains control characters")]
    NameControlCharacters,
    #[error("a phone number has 8 digits, optionally after +47 (or a foreign +country code)")]
    Phone,
    #[error("the e-mail address must look like name@domain.tld")]
    Email,
}

macro_rules! redacted_debug {
    ($t:ty) => {
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($t), "(<redacted>)"))
            }
        }
    };
}

#[derive(Clone, PartialEq, Eq)]
pub struct PersonName(String);
redacted_debug!(PersonName);

impl PersonName {
    pub fn parse(text: &str) -> Result<Self, ContactError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(ContactError::EmptyName);
        }
        if trimmed.chars().count() > 200 {
            return Err(ContactError::NameTooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(ContactError::NameControlCharacters);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form (`+4791234567`).
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);
redacted_debug!(Phone);

impl Phone {
    /// Accepts Norwegian 8-digit numbers with or without `+47`/`0047` and spaces, and
    /// foreign numbers in `+` form with 8 to 15 digits.
    pub fn parse(text: &str) -> Result<Self, ContactError> {
        let compact: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let (international, digits) = if let Some(rest) = compact.strip_prefix('+') {
            (true, rest)
        } else if let Some(rest) = compact.strip_prefix("00") {
            (true, rest)
        } else {
            (false, compact.as_str())
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ContactError::Phone);
        }
        if !international {
            return if digits.len() == 8 {
                Ok(Self(format!("+47{digits}")))
            } else {
                Err(ContactError::Phone)
            };
        }
        if digits.starts_with("47") && digits.len() != 10 {
            return Err(ContactError::Phone);
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(ContactError::Phone);
        }
        Ok(Self(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);
redacted_debug!(Email);

impl Email {
    /// A deliberately plain check: one `@`, a non-empty local part, a domain with a dot,
    /// no white space. Delivery tracking (N5) finds the rest.
    pub fn parse(text: &str) -> Result<Self, ContactError> {
        let text = text.trim();
        let Some((local, domain)) = text.split_once('@') else {
            return Err(ContactError::Email);
        };
        let ok = !local.is_empty()
            && text.len() <= 254
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
        } else {
            Err(ContactError::Email)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A patient as registered by the clinic, before encryption.
#[derive(Clone, Debug)]
pub struct NewPatient {
    pub person_number: PersonNumber,
    pub name: PersonName,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_normalised_to_e164() {
        assert_eq!(
            Phone::parse("912 34 567").map(|p| p.0),
            Ok("+4791234567".into())
        );
        assert_eq!(
            Phone::parse("+47 91234567").map(|p| p.0),
            Ok("+4791234567".into())
        );
        assert_eq!(
            Phone::parse("004791234567").map(|p| p.0),
            Ok("+4791234567".into())
        );
        assert_eq!(
            Phone::parse("+46701234567").map(|p| p.0),
            Ok("+46701234567".into())
        );
    }

    #[test]
    fn bad_phone_numbers_are_rejected() {
        for bad in ["", "1234", "+47 1234", "abcdefgh", "+", "9123456789"] {
            assert_eq!(Phone::parse(bad), Err(ContactError::Phone), "{bad}");
        }
    }

    #[test]
    fn email_is_checked_plainly() {
        assert!(Email::parse("kari@Example.NO").is_ok_and(|e| e.as_str() == "kari@example.no"));
        for bad in [
            "",
            "kari",
            "@x.no",
            "kari@no",
            "kari@x.no.",
            "ka ri@x.no",
            "a@b@c.no",
        ] {
            assert_eq!(Email::parse(bad), Err(ContactError::Email), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_personal_data_x6() {
        let name = PersonName::parse("Kari Nordmann").ok();
        assert_eq!(format!("{name:?}"), "Some(PersonName(<redacted>))");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  Kari ").map(|n| n.0), Ok("Kari".into()));
        assert_eq!(PersonName::parse("   "), Err(ContactError::EmptyName));
        assert_eq!(
            PersonName::parse(&"x".repeat(201)),
            Err(ContactError::NameTooLong)
        );
        assert_eq!(
            PersonName::parse("a\u{7}b"),
            Err(ContactError::NameControlCharacters)
        );
    }
}
