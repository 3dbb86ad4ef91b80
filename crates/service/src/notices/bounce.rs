//! E-mail that comes back (N5): a bounce (a delivery status notification, RFC 3464) for a
//! notice the mail server first accepted. The mail system hands each message sent to the
//! bounce address to `fortrolig notice bounce`, which finds our notice by the Message-ID
//! it went out with (`<ORGNR-hexid@domain>`, quoted in the report's returned headers) and
//! records it as bounced, with a task for staff when it mattered. A report that says the
//! mail was delayed, not given up, changes nothing.

use fortrolig_domain::Action;
use fortrolig_domain::notice::NoticeStatus;

use crate::Fortrolig;
use crate::error::ServiceError;

/// What a returned message says about our notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// The notice's reference (`ORGNR-hexid`), from the returned Message-ID.
    pub reference: String,
    /// The report gave up for good (`Action: failed` or a `Status: 5.x.x`).
    pub permanent: bool,
}

/// Reads a bounce: the first of our Message-IDs it quotes, and whether delivery failed
/// for good. None when it names no notice of ours.
pub fn read_bounce(message: &str) -> Option<Bounce> {
    let reference = message
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("message-id")
                .then(|| value.trim())
        })
        .filter_map(|value| {
            let inner = value.strip_prefix('<')?.split_once('@')?.0;
            super::parse_reference(inner).map(|_| inner.to_owned())
        })
        .next()?;
    let permanent = message.lines().any(|line| {
        let Some((name, value)) = line.split_once(':') else {
            return false;
        };
        let (name, value) = (
            name.trim().to_ascii_lowercase(),
            value.trim().to_ascii_lowercase(),
        );
        (name == "action" && value == "failed") || (name == "status" && value.starts_with('5'))
    });
    Some(Bounce {
        reference,
        permanent,
    })
}

impl Fortrolig {
    /// Records a returned e-mail. True when a notice was moved to bounced.
    pub async fn email_bounce(&self, message: &str) -> Result<bool, ServiceError> {
        let Some(bounce) = read_bounce(message) else {
            return Err(ServiceError::Invalid(
                "the message names no notice of ours".into(),
            ));
        };
        if !bounce.permanent {
            return Ok(false);
        }
        let Some((org, id)) = super::parse_reference(&bounce.reference) else {
            return Ok(false);
        };
        if self.stores().clinic(&org).await?.is_none() {
            return Ok(false);
        }
        let clinic = self.clinic(&org).await?;
        let Some(row) = clinic.store.notice(&id).await? else {
            return Ok(false);
        };
        clinic
            .end_notice(
                &row,
                NoticeStatus::Bounced,
                Action::NoticeBounced,
                "returned by the mail system",
                None,
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "From: MAILER-DAEMON@legesenter.example\r\n\
        Subject: Undelivered Mail Returned to Sender\r\n\
        Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\
        \r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n\
        Reporting-MTA: dns; mx.legesenter.example\r\n\r\n\
        Final-Recipient: rfc822; kari@pasient.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
        --b\r\nContent-Type: text/rfc822-headers\r\n\r\n\
        From: Legesenter <varsel@legesenter.example>\r\n\
        Message-ID: <923456783-0123456789abcdef01234567@legesenter.example>\r\n--b--\r\n";

    #[test]
    fn a_bounce_names_our_notice_and_says_it_failed_for_good_n5() {
        assert_eq!(
            read_bounce(REPORT),
            Some(Bounce {
                reference: "923456783-0123456789abcdef01234567".into(),
                permanent: true
            })
        );
        let delayed = REPORT
            .replace("Action: failed", "Action: delayed")
            .replace("Status: 5.1.1", "Status: 4.4.7");
        assert_eq!(read_bounce(&delayed).map(|b| b.permanent), Some(false));
        let foreign = REPORT.replace("923456783-0123456789abcdef01234567", "abc");
        assert_eq!(read_bounce(&foreign), None);
    }
}
