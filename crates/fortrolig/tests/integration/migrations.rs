//! Migrations: one source for both backends, upgrading an old store keeps its data.

use fortrolig_store::{Db, Dialect, Schema};
use sqlx::AssertSqlSafe;

use crate::support::{Kind, TestEnv, TestResult, both_backends};

fn hex_literals(sql: &str, dialect: Dialect) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(start) = rest.find("{hex:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 5..];
        let end = after.find('}').unwrap_or(after.len());
        let hex = &after[..end];
        out.push_str(&match dialect {
            Dialect::Sqlite => format!("X'{hex}'"),
            Dialect::Postgres => format!("'\\x{hex}'::bytea"),
        });
        rest = &after[(end + 1).min(after.len())..];
    }
    out.push_str(rest);
    out
}

async fn fixture_db(env: &TestEnv) -> Result<Db, Box<dyn std::error::Error + Send + Sync>> {
    Ok(match env.kind {
        Kind::Sqlite => {
            std::fs::create_dir_all(env.data())?;
            Db::connect(
                &format!("sqlite://{}?mode=rwc", env.data().join("old.db").display()),
                Dialect::Sqlite,
            )
            .await?
        }
        Kind::Postgres => {
            let name = format!("{}_fixture", env.pg_prefix);
            let out = std::process::Command::new("psql")
                .args([
                    &env.pg_db_url("postgres"),
                    "-qc",
                    &format!("CREATE DATABASE \"{name}\""),
                ])
                .output()?;
            assert!(out.status.success());
            Db::connect(&env.pg_db_url(&name), Dialect::Postgres).await?
        }
    })
}

async fn old_clinic_store_upgrades_with_its_data_intact(env: &TestEnv) -> TestResult {
    let db = fixture_db(env).await?;
    Schema::Clinic.migrate_to(&db, 1).await?;
    for statement in
        hex_literals(include_str!("../fixtures/clinic_v1.sql"), db.dialect).split(";\n")
    {
        let body: String = statement
            .lines()
            .filter(|l| !l.starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        if !body.trim().is_empty() {
            sqlx::query(AssertSqlSafe(body)).execute(&db.pool).await?;
        }
    }
    Schema::Clinic.migrate(&db).await?;
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
            .fetch_all(&db.pool)
            .await?;
    // 8 is reserved for passkeys on another branch (see crates/store/src/migrate.rs).
    assert_eq!(versions, vec![1, 2, 3, 4, 5, 6, 7, 9]);
    let name: Vec<u8> = sqlx::query_scalar("SELECT name FROM patients")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(name, vec![0x01, 0xbb]);
    let reason: String = sqlx::query_scalar("SELECT reason FROM audit_entries WHERE seq = 1")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(reason, "registrering");
    let heads: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_tree_heads")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(heads, 0, "the new table exists and starts empty");
    // Migrating again is a no-op.
    Schema::Clinic.migrate(&db).await?;
    db.close().await;
    Ok(())
}

both_backends!(old_clinic_store_upgrades_with_its_data_intact);
