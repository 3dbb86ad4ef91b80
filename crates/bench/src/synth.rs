//! Synthetic but realistic data: audit entries with the field sizes the service writes,
//! and valid Test-Norge person numbers.

use fortrolig_audit::LogEntry;

pub const ORG: &str = "923456783";

/// SplitMix64: cheap, deterministic, good enough to vary field contents.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// 32 lowercase hex characters, as a `PatientId` or person id is displayed.
pub fn hex32(seed: u64) -> String {
    format!("{:016x}{:016x}", mix(seed), mix(seed ^ 0xa5a5_a5a5))
}

const ROLES: [(&str, Option<&str>); 4] = [
    ("lege", Some("9144889")),
    ("sykepleier", Some("10234567")),
    ("helsesekretær", None),
    ("psykolog", Some("712345")),
];

const ACTIONS: [(&str, &str); 4] = [
    ("patient.read", "behandling"),
    ("patient.read", "oppfølging av prøvesvar"),
    ("patient.created", "registrering ved første konsultasjon"),
    ("patient.read", "timebestilling"),
];

/// Entry `seq` of a busy clinic's log: a member of staff acting on a patient from a web
/// session (about 300 bytes encoded, like the service's entries).
pub fn log_entry(seq: u64) -> LogEntry {
    let r = mix(seq);
    let staff = r % 40;
    let (role, hpr) = ROLES[(staff % ROLES.len() as u64) as usize];
    let (action, reason) = ACTIONS[((r >> 8) % ACTIONS.len() as u64) as usize];
    let patient = hex32(r >> 16);
    LogEntry {
        seq,
        at: 1_795_394_025_000_000 + seq as i64 * 1_700,
        actor_id: hex32(staff),
        actor_role: role.to_owned(),
        actor_clinic: ORG.to_owned(),
        actor_hpr: hpr.map(str::to_owned),
        object: format!("patient:{patient}"),
        patient: Some(patient),
        action: action.to_owned(),
        reason: reason.to_owned(),
        outcome: "granted".to_owned(),
        source_session: Some(hex32((staff << 20) | (seq / 500))),
        source_address: Some(format!(
            "10.{}.{}.{}",
            (r >> 24) & 0xff,
            staff,
            (r >> 40) & 0xff
        )),
    }
}

const W1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const W2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/// `11 - (sum % 11)`, 11 → 0, `None` for 10 (no valid control digit).
fn control_digit(digits: &[u32], weights: &[u32]) -> Option<u32> {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        k => Some(k),
    }
}

/// The 11-digit number for a birth date and individual number, with month + 80
/// (Test-Norge synthetic), or `None` when no control digit fits.
pub fn test_norge_number(day: u32, month: u32, year: u32, individual: u32) -> Option<String> {
    let base = format!("{day:02}{:02}{year:02}{individual:03}", month + 80);
    let mut digits: Vec<u32> = base.chars().filter_map(|c| c.to_digit(10)).collect();
    let k1 = control_digit(&digits, &W1)?;
    digits.push(k1);
    let k2 = control_digit(&digits, &W2)?;
    Some(format!("{base}{k1}{k2}"))
}

/// `count` distinct valid synthetic person numbers.
pub fn test_norge_numbers(count: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(count);
    for individual in 0..1000 {
        for year in 0..100 {
            for month in 1..=12 {
                for day in 1..=28 {
                    if out.len() == count {
                        return out;
                    }
                    if let Some(n) = test_norge_number(day, month, year, individual) {
                        out.push(n);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use fortrolig_domain::PersonNumber;

    use super::*;

    #[test]
    fn synthetic_numbers_are_valid_distinct_and_synthetic() -> Result<(), Box<dyn std::error::Error>>
    {
        let numbers = test_norge_numbers(5000);
        assert_eq!(numbers.len(), 5000);
        let distinct: std::collections::HashSet<_> = numbers.iter().collect();
        assert_eq!(distinct.len(), numbers.len());
        for n in &numbers {
            assert!(PersonNumber::parse(n)?.is_synthetic(), "{n}");
        }
        Ok(())
    }

    #[test]
    fn entries_are_of_realistic_size() {
        let sizes: Vec<usize> = (1..=100).map(|s| log_entry(s).encode().len()).collect();
        let avg = sizes.iter().sum::<usize>() / sizes.len();
        assert!((200..400).contains(&avg), "{avg}");
    }
}
