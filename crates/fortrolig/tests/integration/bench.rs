//! `fortrolig bench messaging` (issue 4, benchmark): a tiny run against a server the
//! command starts itself; the last line has the exact form, with no errors.

use std::process::Command;

fn check_summary(args: &[&str], backend: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_fortrolig"))
        .args([
            "bench",
            "messaging",
            "--concurrency",
            "2",
            "--duration",
            "1",
            "--warmup",
            "0",
        ])
        .args(args)
        .env_remove("FORTROLIG_DATABASE_URL")
        .output()
        .expect("run fortrolig bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    let rest = last
        .strip_prefix(&format!("fortrolig {backend} c=2: "))
        .unwrap_or_else(|| panic!("unexpected last line: {last}"));
    // N msg/s, p50 X ms, p95 X ms, p99 X ms, delivery p50 X ms, p99 X ms (n=N, missed N),
    // errors N, server peak RSS N MiB: the words between the numbers, in order.
    let words: Vec<&str> = rest
        .split(|c: char| c.is_ascii_digit() || c == '.')
        .filter(|w| !w.is_empty())
        .collect();
    assert_eq!(
        words,
        [
            " msg/s, p",
            " ",
            " ms, p",
            " ",
            " ms, p",
            " ",
            " ms, delivery p",
            " ",
            " ms, p",
            " ",
            " ms (n=",
            ", missed ",
            "), errors ",
            ", server peak RSS ",
            " MiB"
        ],
        "{last}"
    );
    let number = |after: &str| -> u64 {
        let tail = &last[last.find(after).expect(after) + after.len()..];
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().expect("a number")
    };
    assert_eq!(number("errors "), 0, "{last}");
    assert!(number(": ") > 0, "no message counted: {last}");
    assert!(number("(n=") > 0, "no probe message delivered: {last}");
    assert!(number("RSS ") > 0, "{last}");
}

#[test]
fn bench_messaging_prints_the_summary_line_sqlite() {
    check_summary(&[], "sqlite");
}

#[test]
fn bench_messaging_prints_the_summary_line_postgres() {
    let Ok(url) = std::env::var("PGTEST_URL") else {
        eprintln!("PostgreSQL not configured (PGTEST_URL): skipping");
        return;
    };
    check_summary(&["--database-url", &url], "postgres");
}
