//! Printing: one line per figure, with its goal and PASS/MISS where it has one.

use std::time::Duration;

#[derive(Debug, Default)]
pub struct Report {
    passed: usize,
    missed: usize,
}

impl Report {
    pub fn section(&mut self, title: &str) {
        println!();
        println!("== {title}");
    }

    /// A figure with no goal of its own.
    pub fn info(&mut self, label: &str, figure: &str) {
        println!("  {label:<40} {figure}");
    }

    /// A figure measured against a goal.
    pub fn goal(&mut self, label: &str, figure: &str, goal: &str, met: bool) {
        let verdict = if met { "PASS" } else { "MISS" };
        if met {
            self.passed += 1;
        } else {
            self.missed += 1;
        }
        println!("  {label:<40} {figure:<48} goal: {goal:<28} {verdict}");
    }

    pub fn summary(&self) {
        println!();
        println!(
            "goals: {} met, {} missed (of {})",
            self.passed,
            self.missed,
            self.passed + self.missed
        );
    }
}

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate per second, rounded, with thousands separators.
pub fn rate(per_second: f64) -> String {
    if per_second >= 100.0 {
        count(per_second.round() as u64)
    } else {
        format!("{per_second:.1}")
    }
}

/// Seconds in the most readable unit.
pub fn secs(s: f64) -> String {
    if s < 1e-5 {
        format!("{:.2} µs", s * 1e6)
    } else if s < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{s:.3} s")
    }
}

pub fn dur(d: Duration) -> String {
    secs(d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(count(12_345_678), "12,345,678");
    }

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(secs(0.000_012_3), "12.3 µs");
        assert_eq!(secs(0.000_000_25), "0.25 µs");
        assert_eq!(secs(0.2), "200.000 ms");
        assert_eq!(secs(2.5), "2.500 s");
    }
}
