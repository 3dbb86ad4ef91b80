//! N1, N2, N7: `fortrolig notice check` reads texts, prints one JSON verdict per line
//! and exits 0 only when every text is allowed.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn notice_check(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fortrolig"))
        .args(["notice", "check"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn n1_n2_notice_check_prints_one_json_verdict_per_line() {
    let input = "Du har en ny melding. Logg inn på helsenorge.no. Du kan ikke svare på denne SMS-en.\n\
                 Time ved psykiatrisk poliklinikk, ring 22 33 44 55.\n\
                 Fødselsnummer 15038512363\r\n\
                 Du har en ny melding.\n";
    let out = notice_check(
        &["--channel", "sms", "--sender-phone", "+47 22 33 44 55"],
        input,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = lines(&out);
    assert_eq!(v.len(), 4);
    assert_eq!(
        v[0],
        serde_json::json!({"verdict": "allow", "findings": []})
    );

    assert_eq!(v[1]["verdict"], "block");
    let f = v[1]["findings"].as_array().unwrap();
    assert_eq!(f.len(), 3, "{f:?}");
    assert_eq!(f[0]["rule"], "department");
    assert_eq!(
        (f[0]["start"].as_u64(), f[0]["end"].as_u64()),
        (Some(9), Some(20))
    );
    assert!(f[0]["message"].as_str().unwrap().contains("Avdelings"));
    assert_eq!(f[1]["rule"], "clinic-phone");
    assert_eq!(
        (f[1]["start"].as_u64(), f[1]["end"].as_u64()),
        (Some(39), Some(50))
    );
    assert_eq!(f[2]["rule"], "missing-no-reply");

    assert_eq!(v[2]["verdict"], "block");
    assert_eq!(v[2]["findings"][0]["rule"], "identity-number");
    assert_eq!(v[2]["findings"][0]["start"], 14);
    assert_eq!(v[2]["findings"][0]["end"], 25);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("15038512363"),
        "the number is not echoed back"
    );

    assert_eq!(v[3]["verdict"], "block");
    assert_eq!(v[3]["findings"][0]["rule"], "missing-no-reply");
}

#[test]
fn n1_notice_check_exits_zero_when_every_text_is_allowed() {
    let input = "Timen din er bekreftet. Hilsen Normland legesenter\nVi ligger ved E18, ring 113 ved akutt sykdom.\n";
    let out = notice_check(&["--channel", "email", "--replies-allowed"], input);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(lines(&out).iter().all(|v| v["verdict"] == "allow"));
}

#[test]
fn n1_notice_check_refuses_bad_arguments_clearly() {
    let out = notice_check(&["--channel", "sms", "--sender-phone", "ring meg"], "x\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sender phone"));

    let out = notice_check(
        &[
            "--channel",
            "sms",
            "--clinic",
            "923456783",
            "--data",
            "/nonexistent",
        ],
        "x\n",
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        !String::from_utf8_lossy(&out.stderr).is_empty(),
        "a clinic that is not there is an error"
    );
}
