//! Group commit (X3, X7; issues 2 and 4): audited writes that reach a clinic together
//! share one transaction, one signed tree head, one commit and one anchor update. Every
//! acknowledged write is there with its own audit entry, the log verifies (also across a
//! signed checkpoint inside a batch), and a write that fails inside a batch leaves no
//! trace while its neighbours commit.

use std::time::Duration;

use fortrolig_domain::{Action, PersonName, Source};
use fortrolig_service::{Clinic, IdentityProof, SessionSubject};

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, org, patient, synthetic_fnr};

/// Waits until `n` writes wait behind a paused writer (queued, or taken into a batch
/// that waits for the writer lock).
async fn until_waiting(clinic: &Clinic, n: usize) -> TestResult {
    for _ in 0..1_000 {
        if clinic.write_stats().waiting >= n {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(format!(
        "only {} writes queued, wanted {n}",
        clinic.write_stats().waiting
    )
    .into())
}

async fn concurrent_writers_share_commits_and_every_acknowledged_write_is_logged_x3_x7(
    env: &TestEnv,
) -> TestResult {
    const STAFF: usize = 200;
    const RECORDS: usize = 900;
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Samleklinikken").await?;
    // The first member of staff makes the clinic's staff-data key, outside the race.
    clinic
        .add_staff(&ctx(ORG_A), &PersonName::parse("Første Ansatt")?, None)
        .await?;
    let before = clinic.audit_size().await?;
    let stats_before = clinic.write_stats();

    let mut staff = Vec::new();
    for i in 0..STAFF {
        let clinic = clinic.clone();
        let name = PersonName::parse(&format!("Ansatt Nummer {i}"))?;
        staff.push(tokio::spawn(async move {
            clinic.add_staff(&ctx(ORG_A), &name, None).await
        }));
    }
    let mut records = Vec::new();
    for i in 0..RECORDS {
        let clinic = clinic.clone();
        records.push(tokio::spawn(async move {
            clinic
                .record(
                    &ctx(ORG_A),
                    Action::BackupTaken,
                    None,
                    &format!("samlet:{i}"),
                    "gruppeskriving",
                )
                .await
        }));
    }
    let mut ids = Vec::new();
    for task in staff {
        ids.push(task.await??);
    }
    for task in records {
        task.await??;
    }

    // Every acknowledged write is there, each with its own entry.
    let size = clinic.audit_size().await?;
    assert_eq!(size, before + (STAFF + RECORDS) as u64);
    let entries = clinic.store().entries_up_to(size).await?;
    for id in &ids {
        clinic.staff_member(*id).await?;
        let object = format!("staff:{id}");
        assert_eq!(
            entries.iter().filter(|e| e.object == object).count(),
            1,
            "{object}"
        );
    }
    for i in 0..RECORDS {
        let object = format!("samlet:{i}");
        assert_eq!(
            entries.iter().filter(|e| e.object == object).count(),
            1,
            "{object}"
        );
    }

    // Batched: fewer signed heads (commits) than entries.
    let stats = clinic.write_stats();
    let acts = stats.acts - stats_before.acts;
    let commits = stats.commits - stats_before.commits;
    assert_eq!(acts, (STAFF + RECORDS) as u64);
    assert!(
        commits < acts,
        "{acts} writes took {commits} commits: nothing was batched"
    );

    // The log crossed 1,024 inside the run: the checkpoint is exactly there, whatever
    // batch it fell in, and the log verifies against it, the latest head and the anchor.
    let sizes: Vec<u64> = clinic
        .store()
        .tree_heads()
        .await?
        .iter()
        .map(|h| h.head.size)
        .collect();
    assert_eq!(sizes, vec![1024, size], "{sizes:?}");
    let verified = clinic.verify_audit().await?;
    assert_eq!(verified.size, size);
    let (entry, path, head) = clinic.inclusion_proof(1000).await?;
    assert_eq!(entry.seq, 1000);
    assert_eq!(head.head.size, size);
    assert!(!path.is_empty());
    app.close().await;

    let out = env.cli(&["audit", "verify", "--clinic", ORG_A]);
    assert!(out.status.success(), "{out:?}");
    Ok(())
}

async fn a_write_that_fails_inside_a_batch_leaves_no_trace_and_its_neighbours_commit_x3(
    env: &TestEnv,
) -> TestResult {
    const NEIGHBOURS: usize = 30;
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Spareklinikken").await?;
    let kari = clinic
        .add_patient(&ctx(ORG_A), &patient(&synthetic_fnr(820), "Kari Samlet"))
        .await?;
    let subject = SessionSubject::Patient(kari);
    let desk = Source {
        session: None,
        address: Some("10.0.0.2".into()),
    };
    let mut codes = Vec::new();
    let mut activations = Vec::new();
    for _ in 0..2 {
        let code = clinic
            .issue_activation(&ctx(ORG_A), subject, IdentityProof::Passport)
            .await?
            .code
            .grouped();
        activations.push(
            clinic
                .activation(&code, &desk)
                .await?
                .ok_or("the code was refused")?,
        );
        codes.push(code);
    }
    let before = clinic.audit_size().await?;
    let stats_before = clinic.write_stats();

    // Both enrolments name the same credential, so both pass the check for an existing
    // passkey, and both are queued with their neighbours into one batch. The second to
    // run marks its code used and then fails on the credential's primary key: its
    // savepoint must take the code's use back, and it gets no audit entry.
    let paused = clinic.pause_writes().await;
    let mut neighbours = Vec::new();
    let mut enrolments = Vec::new();
    for i in 0..NEIGHBOURS {
        let c = clinic.clone();
        neighbours.push(tokio::spawn(async move {
            c.record(
                &ctx(ORG_A),
                Action::BackupTaken,
                None,
                &format!("nabo:{i}"),
                "gruppeskriving",
            )
            .await
        }));
        if i % 10 == 5 && enrolments.len() < 2 {
            let (c, activation, source) = (
                clinic.clone(),
                activations[enrolments.len()].clone(),
                desk.clone(),
            );
            enrolments.push(tokio::spawn(async move {
                c.enrol_passkey(
                    &activation,
                    b"same-credential",
                    &[7; 16],
                    b"opaque",
                    &source,
                )
                .await
            }));
        }
    }
    until_waiting(&clinic, NEIGHBOURS + 2).await?;
    drop(paused);

    for task in neighbours {
        task.await??;
    }
    let mut enrolled = 0;
    let mut refused = 0;
    for task in enrolments {
        match task.await? {
            Ok(true) => enrolled += 1,
            Ok(false) => return Err("an enrolment found its code used".into()),
            Err(_) => refused += 1,
        }
    }
    assert_eq!((enrolled, refused), (1, 1));

    // Exactly one enrolment entry among the neighbours' and one passkey; the failed
    // one's code is still unused.
    let size = clinic.audit_size().await?;
    assert_eq!(size, before + NEIGHBOURS as u64 + 1);
    let entries = clinic.store().entries_up_to(size).await?;
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == Action::PasskeyEnrolled.as_str())
            .count(),
        1
    );
    // They went together: the batch task may have taken the first few before the rest
    // queued, and then all the others went in one more.
    let stats = clinic.write_stats();
    assert_eq!(stats.acts - stats_before.acts, NEIGHBOURS as u64 + 1);
    assert!(
        stats.commits - stats_before.commits <= 2,
        "{stats_before:?} {stats:?}"
    );
    assert_eq!(clinic.passkeys_of(subject).await?.len(), 1);
    let mut open = Vec::new();
    for code in &codes {
        // (Looking up the used code is recorded as a failed login.)
        open.push(clinic.activation(code, &desk).await?.is_some());
    }
    assert_eq!(open.iter().filter(|o| **o).count(), 1, "{open:?}");
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(
    concurrent_writers_share_commits_and_every_acknowledged_write_is_logged_x3_x7,
    a_write_that_fails_inside_a_batch_leaves_no_trace_and_its_neighbours_commit_x3,
);
