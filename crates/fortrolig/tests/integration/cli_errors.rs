//! Bad input gets a clear error and never destroys data.

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, stderr, stdout};

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

async fn staff_are_managed_from_the_command_line_s1_s2(env: &TestEnv) -> TestResult {
    assert!(
        env.cli(&[
            "clinic",
            "create",
            "--org-number",
            ORG_A,
            "--name",
            "Klinikk"
        ])
        .status
        .success()
    );
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
    let patient = stdout(&out)
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();

    let bad = env.cli(&[
        "staff",
        "add",
        "--clinic",
        ORG_A,
        "--name",
        "Dr X",
        "--role",
        "kirurg",
        "--fnr",
        "01017040088",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("lege, sykepleier"),
        "{}",
        stderr(&bad)
    );
    let too_long = env.cli(&[
        "staff",
        "add",
        "--clinic",
        ORG_A,
        "--name",
        "Dr X",
        "--role",
        "lege",
        "--fnr",
        "01017040088",
        "--days",
        "2000",
    ]);
    assert!(
        !too_long.status.success() && stderr(&too_long).contains("three years"),
        "{}",
        stderr(&too_long)
    );

    let out = env.cli(&[
        "staff",
        "add",
        "--clinic",
        ORG_A,
        "--name",
        "Dr Lege",
        "--role",
        "lege",
        "--fnr",
        "01017040088",
        "--hpr",
        "181000001",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Lege until"), "{}", stdout(&out));
    let staff = stdout(&out)
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let again = env.cli(&[
        "staff",
        "add",
        "--clinic",
        ORG_A,
        "--name",
        "Dr Lege",
        "--role",
        "lege",
        "--fnr",
        "01017040088",
    ]);
    assert!(!again.status.success() && stderr(&again).contains("already registered"));

    let out = env.cli(&[
        "staff",
        "care",
        "--clinic",
        ORG_A,
        "--staff",
        &staff,
        "--patient",
        &patient,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.cli(&["staff", "deactivate", "--clinic", ORG_A, "--staff", &staff]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.cli(&[
        "staff",
        "care",
        "--clinic",
        ORG_A,
        "--staff",
        "nope",
        "--patient",
        &patient,
    ]);
    assert_eq!(out.status.code(), Some(2));

    let app = env.app().await?;
    let clinic = app.clinic(&crate::support::org(ORG_A)).await?;
    let id = fortrolig_domain::StaffId::parse(&staff)?;
    assert!(
        clinic.roles_at(id, app.now()).await?.is_empty(),
        "deactivated: no roles"
    );
    assert_eq!(
        clinic.authorisation_history(id).await?.len(),
        1,
        "the history is kept"
    );
    app.close().await;
    let out = env.cli(&["audit", "verify"]);
    assert!(out.status.success());
    Ok(())
}

both_backends!(
    bad_arguments_get_clear_errors_and_change_nothing,
    staff_are_managed_from_the_command_line_s1_s2
);

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
