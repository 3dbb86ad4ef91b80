//! Bad input gets a clear error and never destroys data.

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, stderr};

async fn bad_arguments_get_clear_errors_and_change_nothing(env: &TestEnv) -> TestResult {
    let out = env.cli(&["audit", "verify"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "nothing set up yet: {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("is --data"), "{}", stderr(&out));

    let out = env.cli(&[
        "clinic",
        "create",
        "--org-number",
        "923456784",
        "--name",
        "Feil",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("organisation number"),
        "{}",
        stderr(&out)
    );

    let out = env.cli(&[
        "clinic",
        "create",
        "--org-number",
        ORG_A,
        "--name",
        "Riktig",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let again = env.cli(&["clinic", "create", "--org-number", ORG_A, "--name", "Igjen"]);
    assert!(
        !again.status.success() && stderr(&again).contains("already registered"),
        "{}",
        stderr(&again)
    );

    for (fnr, name, expected) in [
        ("13057444850", "Ugyldig", "identity number"),
        ("1234", "Kort", "identity number"),
        ("12858010053", "", "name"),
    ] {
        let out = env.cli(&[
            "patient", "add", "--clinic", ORG_A, "--fnr", fnr, "--name", name,
        ]);
        assert_eq!(out.status.code(), Some(2), "{fnr}");
        assert!(stderr(&out).contains(expected), "{fnr}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains(fnr) || fnr.len() < 11,
            "the number is not echoed back"
        );
    }
    let out = env.cli(&[
        "patient",
        "add",
        "--clinic",
        ORG_A,
        "--fnr",
        "12858010053",
        "--name",
        "Kari",
        "--phone",
        "12",
    ]);
    assert!(stderr(&out).contains("phone"), "{}", stderr(&out));
    let out = env.cli(&[
        "patient",
        "add",
        "--clinic",
        ORG_A,
        "--fnr",
        "12858010053",
        "--name",
        "Kari",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dup = env.cli(&[
        "patient",
        "add",
        "--clinic",
        ORG_A,
        "--fnr",
        "12858010053",
        "--name",
        "Kari",
    ]);
    assert!(
        !dup.status.success() && stderr(&dup).contains("already registered"),
        "{}",
        stderr(&dup)
    );

    let out = env.cli(&[
        "patient",
        "add",
        "--clinic",
        "812345672",
        "--fnr",
        "12858010053",
        "--name",
        "Kari",
    ]);
    assert!(stderr(&out).contains("not registered"), "{}", stderr(&out));

    let out = env.cli(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "the log is intact after all the refused input: {}",
        stderr(&out)
    );
    Ok(())
}

both_backends!(bad_arguments_get_clear_errors_and_change_nothing);

#[test]
fn unknown_config_keys_are_refused_with_the_key_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("f.toml");
    std::fs::write(
        &config,
        "[storage]\ndata_dir = \"x\"\nmaster_key = \"abc\"\n",
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fortrolig"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("master_key"), "{}", stderr(&out));
}
