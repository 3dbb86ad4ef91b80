//! Retention (X4, S5, P11) with a test clock: a closed thread's attachments and then the
//! thread go when the clinic's periods run out, journal-worthy content not before it has
//! been transferred to the EPJ, ended notices and sessions go, and a patient who ended
//! the portal goes by crypto-shredding. Each deletion is in the audit log, which keeps
//! verifying; the deleted ciphertext is gone from the database files (SQLite with its
//! write-ahead log, or a pg_dump) and from a backup taken after, and a backup taken
//! before cannot bring a shredded patient back.

use std::sync::Arc;

use fortrolig_domain::access::Level;
use fortrolig_domain::messaging::{MessageText, ThreadStatus};
use fortrolig_domain::notice::NoticeStatus;
use fortrolig_domain::requests::RequestKind;
use fortrolig_domain::retention::{Category, Days, Policy};
use fortrolig_domain::{ManualClock, Source, Timestamp};
use fortrolig_service::{
    ActContext, Answer, Fortrolig, NewAttachment, PatientActor, ServiceError, SessionSubject,
    ThreadChange,
};

use crate::notices::{Setup, audited, exchange, no_more_sms, setup, statuses};
use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, find_marker, org, png_with};
use crate::web_support::Res;

const DAY: i64 = 86_400_000_000;

/// A stretch of `n` ciphertext bytes from the middle of `sealed`: what must not remain.
fn inner(sealed: &[u8], n: usize) -> Vec<u8> {
    let start = sealed.len().saturating_sub(n) / 2;
    sealed[start..(start + n).min(sealed.len())].to_vec()
}

fn closed() -> ThreadChange {
    ThreadChange {
        status: ThreadStatus::Closed,
        assigned_staff: None,
        assigned_team: None,
        cannot_answer: false,
    }
}

/// The notices tests' clinic, doctor and patient, on a clock the test moves.
async fn start(env: &TestEnv) -> Res<(Arc<ManualClock>, Fortrolig, Setup)> {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
    let app = env.app_with_clock(clock.clone()).await?;
    let s = setup(&app, "kari@example.org").await?;
    Ok((clock, app, s))
}

async fn expired_content_disappears_from_the_store_and_later_backups_journal_content_waits_for_transfer_x4_s5(
    env: &TestEnv,
) -> TestResult {
    let (clock, app, s) = start(env).await?;
    let clinic = &s.clinic;
    let admin = ctx(ORG_A);

    // A plain thread with an attachment, closed now.
    let plain = exchange(&s).await?;
    let access = clinic.thread_access(&s.doctor, plain, "svar").await?;
    access
        .reply(
            plain,
            &MessageText::parse("MARKER-VEDLEGG her er bildet")?,
            false,
            &[NewAttachment {
                bytes: png_with(b"MARKER-PNG-RETENTION"),
            }],
        )
        .await?;
    access.change_thread(plain, closed()).await?;
    // A thread with a journal-worthy message, closed now, not yet transferred.
    let journal = exchange(&s).await?;
    let journal_access = clinic.thread_access(&s.doctor, journal, "svar").await?;
    let first = journal_access.thread(journal).await?.messages[0].id;
    journal_access
        .mark_journal_worthy(journal, first, true)
        .await?;
    journal_access.change_thread(journal, closed()).await?;
    // A thread still open.
    let open = exchange(&s).await?;

    let store = clinic.store();
    let bodies: Vec<Vec<u8>> = store
        .messages_of(plain.as_bytes())
        .await?
        .into_iter()
        .map(|m| inner(&m.body, 24))
        .collect();
    let attachment = store.attachments_of_thread(plain.as_bytes()).await?;
    assert_eq!(attachment.len(), 1);
    let attachment = inner(
        &store
            .attachment(&attachment[0].0)
            .await?
            .ok_or("attachment")?
            .content,
        48,
    );

    // The notices of the first exchange end (SMS consent withdrawn), one session ends.
    no_more_sms(&s).await?;
    let skipped = statuses(clinic, s.kari)
        .await?
        .into_iter()
        .filter(|(_, st)| *st == NoticeStatus::Skipped)
        .count();
    assert!(skipped > 0, "some notices ended");
    let (_, session) = clinic
        .start_session(
            SessionSubject::Patient(s.kari),
            Level::High,
            "idporten",
            None,
            None,
            &Source::default(),
        )
        .await?;
    clinic.end_session(&session, &Source::default()).await?;

    // The clinic keeps attachments 10 days, threads 20, journal content 5 after transfer.
    let mut policy = Policy::default();
    policy.set(Category::Attachments, Days::new(10)?);
    policy.set(Category::Threads, Days::new(20)?);
    policy.set(Category::Journal, Days::new(5)?);
    clinic.set_retention_policy(&admin, policy).await?;
    assert_eq!(clinic.retention_policy().await?, policy);

    // Nothing has had its time yet.
    assert!(clinic.apply_retention().await?.is_empty());

    // Day 11: the closed thread's attachment goes, its text stays.
    clock.advance_micros(11 * DAY);
    let r = clinic.apply_retention().await?;
    assert_eq!((r.attachments, r.threads), (1, 0), "{r:?}");
    assert!(
        store
            .attachments_of_thread(plain.as_bytes())
            .await?
            .is_empty()
    );
    assert!(store.thread(plain.as_bytes()).await?.is_some());
    assert!(
        find_marker(&env.clinic_bytes(ORG_A), &attachment).is_empty(),
        "the deleted attachment's ciphertext is gone from the files"
    );

    // Day 21: the plain thread goes; the journal-worthy one waits for its transfer; the
    // open one stays; the notices that ended on day 0 go (the default is 90 days, so
    // not yet).
    clock.advance_micros(10 * DAY);
    let r = clinic.apply_retention().await?;
    assert_eq!(r.threads, 1, "{r:?}");
    assert!(store.thread(plain.as_bytes()).await?.is_none());
    assert!(store.messages_of(plain.as_bytes()).await?.is_empty());
    assert!(store.thread(journal.as_bytes()).await?.is_some());
    assert!(store.thread(open.as_bytes()).await?.is_some());
    let stored = env.clinic_bytes(ORG_A);
    for body in &bodies {
        assert!(
            find_marker(&stored, body).is_empty(),
            "a deleted message's ciphertext remains in {:?}",
            find_marker(&stored, body)
        );
    }

    // Transferred on day 21: kept 5 more days, then gone.
    journal_access.mark_transferred(journal, first).await?;
    assert!(
        journal_access
            .mark_transferred(journal, first)
            .await
            .is_err(),
        "transferred once"
    );
    clock.advance_micros(4 * DAY);
    assert_eq!(clinic.apply_retention().await?.threads, 0);
    clock.advance_micros(2 * DAY);
    assert_eq!(clinic.apply_retention().await?.threads, 1);
    assert!(store.thread(journal.as_bytes()).await?.is_none());
    assert!(store.thread(open.as_bytes()).await?.is_some());

    // Day 91: the ended notices and the ended sessions' records go.
    clock.advance_micros(70 * DAY);
    let r = clinic.apply_retention().await?;
    assert_eq!(r.notices, skipped as u64, "{r:?}");
    assert!(r.sessions >= 1, "{r:?}");

    // Every deletion is on record, and the log still verifies.
    let deleted = audited(clinic, "retention.deleted").await?;
    assert!(deleted.len() >= 4, "{deleted:?}");
    assert!(deleted.iter().all(|e| e.actor_id == "system:oppbevaring"));
    assert!(
        deleted
            .iter()
            .any(|e| e.object.starts_with("traader: thread:") && e.object.contains("messages:3"))
    );
    assert_eq!(
        audited(clinic, "message.journal_transferred").await?.len(),
        1
    );
    clinic.verify_audit().await?;
    app.close().await;

    // A backup taken now holds none of it: restored, the open thread is all there is.
    let backup = env.dir.path().join("after.frt");
    env.backup_to(&backup);
    env.restore_from(&backup);
    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    assert!(clinic.store().thread(plain.as_bytes()).await?.is_none());
    assert!(clinic.store().thread(journal.as_bytes()).await?.is_none());
    assert!(clinic.store().thread(open.as_bytes()).await?.is_some());
    let stored = env.clinic_bytes(ORG_A);
    assert!(find_marker(&stored, &attachment).is_empty());
    for body in &bodies {
        assert!(find_marker(&stored, body).is_empty());
    }
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(
    expired_content_disappears_from_the_store_and_later_backups_journal_content_waits_for_transfer_x4_s5
);

async fn a_patient_who_ended_the_portal_is_crypto_shredded_when_nothing_is_left_and_an_earlier_backup_cannot_open_them_x4_p11(
    env: &TestEnv,
) -> TestResult {
    let (clock, app, s) = start(env).await?;
    let clinic = &s.clinic;
    let thread = exchange(&s).await?;
    let sealed_subject = inner(
        &clinic
            .store()
            .thread(thread.as_bytes())
            .await?
            .ok_or("thread")?
            .subject,
        24,
    );
    clinic
        .thread_access(&s.doctor, thread, "avslutt")
        .await?
        .change_thread(thread, closed())
        .await?;
    let me = ActContext::patient(s.kari, clinic.org(), Source::default(), "avslutt");
    let version = clinic.consent_text().await?.version;
    clinic.end_portal(&me, s.kari, &version).await?;
    app.close().await;

    let before = env.dir.path().join("before.frt");
    env.backup_to(&before);

    // The thread period (90 days by default) after the end: the thread goes, and with
    // nothing left, the patient goes as a whole.
    let app = env.app_with_clock(clock.clone()).await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    clock.advance_micros(89 * DAY);
    assert!(clinic.apply_retention().await?.is_empty());
    clock.advance_micros(2 * DAY);
    let r = clinic.apply_retention().await?;
    assert_eq!((r.threads, r.patients), (1, 1), "{r:?}");
    assert!(matches!(
        clinic.read_patient(&ctx(ORG_A), s.kari).await,
        Err(ServiceError::Shredded)
    ));
    assert_eq!(audited(&clinic, "patient.shredded").await?.len(), 1);
    clinic.verify_audit().await?;
    assert!(find_marker(&env.clinic_bytes(ORG_A), &sealed_subject).is_empty());
    app.close().await;

    // The backup from before still holds the sealed thread, but it cannot be opened:
    // the patient's key is gone, and a restore leaves them out.
    let restored = env.restore_from(&before);
    assert!(
        restored.contains("1 shredded patient(s) left out"),
        "{restored}"
    );
    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    assert!(clinic.read_patient(&ctx(ORG_A), s.kari).await.is_err());
    assert!(clinic.store().thread(thread.as_bytes()).await?.is_none());
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(
    a_patient_who_ended_the_portal_is_crypto_shredded_when_nothing_is_left_and_an_earlier_backup_cannot_open_them_x4_p11
);

async fn retention_waits_while_a_restriction_of_processing_is_in_force_x4_p9(
    env: &TestEnv,
) -> TestResult {
    let (clock, app, s) = start(env).await?;
    let clinic = &s.clinic;
    let thread = exchange(&s).await?;
    let access = clinic
        .thread_access(&s.doctor, thread, "begrensning")
        .await?;
    access.change_thread(thread, closed()).await?;
    // The patient says no to SMS: the SMS notice waiting ends (skipped).
    no_more_sms(&s).await?;
    let me = PatientActor {
        patient: s.kari,
        level: Level::High,
        source: Source::default(),
    };
    let request = clinic
        .file_request(
            &me,
            RequestKind::Restriction,
            None,
            &MessageText::parse("Ikke slett noe, jeg trenger det i en klagesak.")?,
        )
        .await?;
    access
        .answer_request(
            request,
            Answer::Grant {
                text: "Vi holder opplysningene tilbake til saken er avgjort.".into(),
                message: None,
            },
        )
        .await?;

    // Long past every period: nothing of the patient's goes while the restriction holds.
    clock.advance_micros(200 * DAY);
    let r = clinic.apply_retention().await?;
    assert_eq!((r.threads, r.notices), (0, 0), "{r:?}");
    assert!(clinic.store().thread(thread.as_bytes()).await?.is_some());

    // Lifted: the next round deletes as usual.
    access.lift_restriction(request).await?;
    let r = clinic.apply_retention().await?;
    assert_eq!(r.threads, 1, "{r:?}");
    assert!(r.notices > 0, "{r:?}");
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(retention_waits_while_a_restriction_of_processing_is_in_force_x4_p9);
