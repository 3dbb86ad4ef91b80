//! Time is a parameter, so retention, expiry and the 72-hour incident clock can be
//! tested without sleeping.

use std::fmt;

/// Microseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn as_micros(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let (y, m, d, hh, mm, ss) = civil_from_unix(secs);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{micros:06}Z"
        )
    }
}

impl Timestamp {
    /// Norwegian local time (Europe/Oslo: CET, CEST from the last Sunday of March to the
    /// last Sunday of October, switching at 01:00 UTC), as «23.11.2026 kl. 02.12».
    pub fn oslo_minutes(self) -> String {
        let secs = self.0.div_euclid(1_000_000);
        let (y, m, d, hh, mm, _) = civil_from_unix(secs + Self::oslo_offset_secs(secs));
        format!("{d:02}.{m:02}.{y:04} kl. {hh:02}.{mm:02}")
    }
}

impl Timestamp {
    /// Whether Norway keeps summer time (CEST) at this instant.
    fn oslo_offset_secs(secs: i64) -> i64 {
        let (year, ..) = civil_from_unix(secs);
        let summer = secs >= last_sunday_0100_utc(year, 3) && secs < last_sunday_0100_utc(year, 10);
        if summer { 7200 } else { 3600 }
    }

    /// Midnight at the start of a calendar day in Oslo, from the form `YYYY-MM-DD` (what
    /// a date field in a browser sends). None for anything else or a day that does not
    /// exist.
    pub fn oslo_day_start(date: &str) -> Option<Timestamp> {
        let bytes = date.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = date.get(range)?;
            part.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let (y, m, d) = (number(0..4)?, number(5..7)?, number(8..10)?);
        if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
            return None;
        }
        let midnight_utc = days_from_civil(y, m, d) * 86_400;
        // The offset at local midnight is the offset an hour either side of it: Norway
        // changes its clocks at 02:00 and 03:00 local time, never at midnight.
        let secs = midnight_utc - Self::oslo_offset_secs(midnight_utc - 3600);
        Some(Timestamp(secs * 1_000_000))
    }

    /// The calendar day in Oslo, as `YYYY-MM-DD` (what a date field in a browser shows).
    pub fn oslo_date(self) -> String {
        let secs = self.0.div_euclid(1_000_000);
        let (y, m, d, ..) = civil_from_unix(secs + Self::oslo_offset_secs(secs));
        format!("{y:04}-{m:02}-{d:02}")
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds of 01:00 UTC on the last Sunday of `month` (March or October) in `year`.
fn last_sunday_0100_utc(year: i64, month: i64) -> i64 {
    let days = days_from_civil(year, month, 31);
    // 1970-01-01 was a Thursday: weekday 0 = Sunday.
    let weekday = (days + 4).rem_euclid(7);
    (days - weekday) * 86_400 + 3600
}

/// Days-from-civil inverse (Howard Hinnant's algorithm), so the domain needs no time crate.
fn civil_from_unix(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m as u32,
        d as u32,
        (rem / 3600) as u32,
        ((rem % 3600) / 60) as u32,
        (rem % 60) as u32,
    )
}

/// Where "now" comes from.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Timestamp;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oslo_time_follows_summer_time() {
        // 2026-11-23 00:33:45 UTC is 01:33 in winter (CET).
        assert_eq!(
            Timestamp(1_795_394_025_000_000).oslo_minutes(),
            "23.11.2026 kl. 01.33"
        );
        // 2026-07-01 12:00 UTC is 14:00 in summer (CEST).
        assert_eq!(
            Timestamp(1_782_907_200_000_000).oslo_minutes(),
            "01.07.2026 kl. 14.00"
        );
        // Summer time 2026 starts 29 March 01:00 UTC and ends 25 October 01:00 UTC.
        assert_eq!(
            Timestamp(1_774_745_999_000_000).oslo_minutes(),
            "29.03.2026 kl. 01.59"
        );
        assert_eq!(
            Timestamp(1_774_746_000_000_000).oslo_minutes(),
            "29.03.2026 kl. 03.00"
        );
        assert_eq!(
            Timestamp(1_792_890_000_000_000).oslo_minutes(),
            "25.10.2026 kl. 02.00"
        );
    }

    #[test]
    fn oslo_days_start_at_local_midnight_in_winter_and_summer() {
        // 23.11.2026 00:00 CET is 22.11.2026 23:00 UTC.
        let winter = Timestamp::oslo_day_start("2026-11-23");
        assert_eq!(winter, Some(Timestamp(1_795_388_400_000_000)));
        assert_eq!(
            winter.map(|t| t.oslo_minutes()).as_deref(),
            Some("23.11.2026 kl. 00.00")
        );
        // 1.7.2026 00:00 CEST is 30.6.2026 22:00 UTC.
        let summer = Timestamp::oslo_day_start("2026-07-01");
        assert_eq!(
            summer.map(|t| t.oslo_minutes()).as_deref(),
            Some("01.07.2026 kl. 00.00")
        );
        for date in ["2026-03-29", "2026-10-25", "2028-02-29", "2026-12-31"] {
            let start = Timestamp::oslo_day_start(date);
            assert_eq!(start.map(|t| t.oslo_date()).as_deref(), Some(date));
        }
    }

    #[test]
    fn oslo_day_start_refuses_what_is_not_a_day() {
        for bad in [
            "",
            "2026-2-01",
            "2026-02-30",
            "2027-02-29",
            "2026-13-01",
            "2026-00-10",
            "20261123",
            "2026-11-23T00:00",
            "+026-11-23",
            "2026-11-0x",
        ] {
            assert_eq!(Timestamp::oslo_day_start(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamp_formats_as_rfc3339_utc() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            Timestamp(1_795_394_025_123_456).to_string(),
            "2026-11-23T00:33:45.123456Z"
        );
    }
}

/// A clock that stands still until moved: for tests of expiry and time limits.
#[derive(Debug)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self(std::sync::atomic::AtomicI64::new(start.0))
    }

    pub fn advance_micros(&self, micros: i64) {
        self.0
            .fetch_add(micros, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}
