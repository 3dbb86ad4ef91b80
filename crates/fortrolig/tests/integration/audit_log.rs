//! X3: the audit log is append-only and tamper-evident. Every kind of tampering is found
//! by `fortrolig audit verify`, which names the first bad entry and exits non-zero.

use sqlx::AssertSqlSafe;

use crate::support::{
    ORG_A, TestEnv, TestResult, both_backends, ctx, org, patient, stderr, stdout, synthetic_fnr,
};

/// A clinic with 12 audit entries: the registration and 11 patients.
async fn populated(env: &TestEnv) -> TestResult {
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Revisjonsklinikken").await?;
    for i in 0..11 {
        clinic
            .add_patient(
                &ctx(ORG_A),
                &patient(&synthetic_fnr(100 + i), &format!("Pasient {i}")),
            )
            .await?;
    }
    assert_eq!(clinic.audit_size().await?, 12);
    app.close().await;
    Ok(())
}

async fn tamper(env: &TestEnv, statements: &[&str]) -> TestResult {
    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    for sql in statements {
        sqlx::query(AssertSqlSafe(*sql))
            .execute(&clinic.store().db().pool)
            .await?;
    }
    app.close().await;
    Ok(())
}

fn verify(env: &TestEnv) -> (i32, String) {
    let out = env.cli(&["audit", "verify", "--clinic", ORG_A]);
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

async fn untouched_log_verifies_and_every_tampering_is_named_x3(env: &TestEnv) -> TestResult {
    populated(env).await?;
    let (code, text) = verify(env);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("intact: 12 entries"), "{text}");

    let cases: &[(&str, &[&str], &str)] = &[
        (
            "change",
            &["UPDATE audit_entries SET reason = 'nysgjerrighet' WHERE seq = 5"],
            "entry #5",
        ),
        (
            "delete",
            &["DELETE FROM audit_entries WHERE seq = 4"],
            "entry #4",
        ),
        (
            "insert",
            &[
                "INSERT INTO audit_entries SELECT 13, at, actor_id, actor_role, actor_clinic, actor_hpr, patient_id, action, \
               object, reason, outcome, source_session, source_address, root_after FROM audit_entries WHERE seq = 12",
            ],
            "entry #13",
        ),
        (
            "reorder",
            &[
                "UPDATE audit_entries SET seq = -1 WHERE seq = 6",
                "UPDATE audit_entries SET seq = 6 WHERE seq = 7",
                "UPDATE audit_entries SET seq = 7 WHERE seq = -1",
            ],
            "entry #6",
        ),
        (
            "truncate",
            &["DELETE FROM audit_entries WHERE seq > 9"],
            "entry #10",
        ),
        (
            "truncate and drop the signed head",
            &[
                "DELETE FROM audit_entries WHERE seq > 9",
                "DELETE FROM audit_tree_heads",
            ],
            "entry #10",
        ),
    ];
    for (what, statements, expected) in cases {
        let fresh = TestEnv::new(env.kind).ok_or("environment")?;
        populated(&fresh).await?;
        tamper(&fresh, statements).await?;
        let (code, text) = verify(&fresh);
        assert_eq!(code, 3, "{what}: verify must fail: {text}");
        assert!(
            text.contains("BROKEN") && text.contains(expected),
            "{what}: expected {expected}: {text}"
        );
    }
    Ok(())
}

async fn inclusion_proof_of_an_entry_verifies_against_the_signed_head_x3(
    env: &TestEnv,
) -> TestResult {
    populated(env).await?;
    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    for seq in [1, 7, 12] {
        let (entry, path, head) = clinic.inclusion_proof(seq).await?;
        let leaf = fortrolig_audit::leaf_hash(&entry.encode());
        assert!(fortrolig_audit::verify_inclusion(
            &leaf,
            seq - 1,
            head.head.size,
            &path,
            &head.head.root
        ));
        let mut changed = entry.clone();
        changed.reason = "annet".into();
        let other = fortrolig_audit::leaf_hash(&changed.encode());
        assert!(!fortrolig_audit::verify_inclusion(
            &other,
            seq - 1,
            head.head.size,
            &path,
            &head.head.root
        ));
    }
    assert!(clinic.inclusion_proof(13).await.is_err());
    app.close().await;
    Ok(())
}

both_backends!(
    untouched_log_verifies_and_every_tampering_is_named_x3,
    inclusion_proof_of_an_entry_verifies_against_the_signed_head_x3
);
