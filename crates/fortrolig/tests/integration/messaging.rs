//! Secure messaging through the service (issue 4; P2, P3, P5, S5, S7, X3, X4): a patient
//! opens a thread, the clinician with a care relationship reads and answers, both read
//! confirmations show, notes stay internal, a secretary reaches administrative threads
//! only, a read message cannot be recalled, attachments are sniffed and sealed, nothing of
//! the content is stored in plaintext, and every read and write is in the audit log.

use fortrolig_domain::access::{DenyReason, Level, Role};
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind, ThreadStatus};
use fortrolig_domain::{PersonName, PersonNumber, Source, Timestamp};
use fortrolig_service::{
    AccessError, NewAttachment, PatientActor, Recall, ServiceError, StaffActor, ThreadChange,
};

use crate::support::{
    ORG_A, TestEnv, TestResult, both_backends, ctx, find_marker, org, patient, png_with,
    synthetic_fnr,
};

const DAY: i64 = 86_400_000_000;

fn from() -> Source {
    Source {
        session: Some("test".into()),
        address: Some("127.0.0.1".into()),
    }
}

fn staff(id: fortrolig_domain::StaffId, level: Level) -> StaffActor {
    StaffActor {
        staff: id,
        level,
        source: from(),
    }
}

async fn a_thread_from_patient_to_clinician_and_back_with_read_confirmations_p5_s5_x3(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Meldingsklinikken").await?;
    let admin = ctx(ORG_A);
    let fnr = synthetic_fnr(901);
    let kari = clinic
        .add_patient(&admin, &patient(&fnr, "Kari Melding"))
        .await?;
    let now = app.now();
    let year = Timestamp(now.0 + 365 * DAY);
    let doctor = clinic
        .add_staff(&admin, &PersonName::parse("Lege Lund")?, None)
        .await?;
    clinic
        .grant_role(&admin, doctor, Role::Doctor, now, year)
        .await?;
    clinic.start_care(&admin, doctor, kari).await?;
    let secretary = clinic
        .add_staff(&admin, &PersonName::parse("Sekretær Sand")?, None)
        .await?;
    clinic
        .grant_role(&admin, secretary, Role::Secretary, now, year)
        .await?;

    let me = PatientActor {
        patient: kari,
        level: Level::High,
        source: from(),
    };
    let subject = Subject::parse("MARKER-SUBJECT-Hoste")?;
    let text = MessageText::parse("MARKER-TEXT-Jeg har hostet i tre uker.")?;
    let picture = png_with(b"MARKER-PNG");
    let thread = clinic
        .open_thread(
            &me,
            ThreadKind::EConsultation,
            &subject,
            &text,
            &[NewAttachment {
                bytes: picture.clone(),
            }],
        )
        .await?;

    // The clinician sees it in the inbox, reads it (read confirmation) and answers.
    let inbox = clinic.staff_inbox(&staff(doctor, Level::High)).await?;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].unread, 1);
    let access = clinic
        .thread_access(&staff(doctor, Level::High), thread, "e-konsultasjon")
        .await?;
    let view = access.thread(thread).await?;
    assert_eq!(view.subject.as_str(), subject.as_str());
    assert_eq!(view.messages.len(), 1);
    let attachment = &view.messages[0].attachments[0];
    assert_eq!(attachment.media_type, "image/png");
    let opened = access.attachment(thread, &attachment.id).await?;
    assert_eq!(opened.bytes, picture);
    access
        .reply(
            thread,
            &MessageText::parse("MARKER-NOTE intern vurdering")?,
            true,
            &[],
        )
        .await?;
    let answer = access
        .reply(
            thread,
            &MessageText::parse("Kom til time på mandag.")?,
            false,
            &[],
        )
        .await?;
    access
        .mark_journal_worthy(thread, view.messages[0].id, true)
        .await?;

    // The patient sees the answer, not the note; their message shows as read.
    let mine = clinic.my_threads(&me).await?;
    assert_eq!(
        (mine[0].unread, mine[0].status),
        (1, ThreadStatus::Answered)
    );
    let seen = clinic.my_thread(&me, thread).await?;
    assert_eq!(seen.messages.len(), 2, "the internal note is not shown");
    assert!(seen.messages.iter().all(|m| !m.internal));
    assert!(seen.messages[0].read_at.is_some(), "read by the clinic");
    // And now the clinic sees that the patient has read the answer.
    let again = access.thread(thread).await?;
    let reply = again
        .messages
        .iter()
        .find(|m| m.id == answer)
        .ok_or("reply")?;
    assert!(reply.read_at.is_some(), "read by the patient");
    assert!(again.messages[0].journal_worthy);

    // A read message cannot be recalled; an unread one can (S7). Both are on record.
    assert!(matches!(
        access.recall(thread, answer).await?,
        Recall::AlreadyRead { .. }
    ));
    let wrong = access
        .reply(
            thread,
            &MessageText::parse("Feil pasient, beklager")?,
            false,
            &[],
        )
        .await?;
    assert!(matches!(
        access.recall(thread, wrong).await?,
        Recall::Recalled { .. }
    ));
    let after = clinic.my_thread(&me, thread).await?;
    let recalled = after
        .messages
        .iter()
        .find(|m| m.id == wrong)
        .ok_or("recalled")?;
    assert!(recalled.text.is_none() && recalled.recalled_at.is_some());

    // "Cannot be answered" (P5): the patient can no longer write in the thread. The thread
    // is assigned to a person and a team; a team the clinic does not have is refused.
    let team = clinic.create_team(&admin, "Lungeteamet").await?;
    let unknown = fortrolig_domain::TeamId::from_bytes([7; 16]);
    let change = |assigned_team| ThreadChange {
        status: ThreadStatus::Answered,
        assigned_staff: Some(doctor),
        assigned_team,
        cannot_answer: true,
    };
    assert!(
        access
            .change_thread(thread, change(Some(unknown)))
            .await
            .is_err()
    );
    access.change_thread(thread, change(Some(team))).await?;
    let listed = clinic.staff_inbox(&staff(doctor, Level::High)).await?;
    assert_eq!(
        (listed[0].assigned_staff, listed[0].assigned_team),
        (Some(doctor), Some(team))
    );
    let refused = clinic
        .write_to_clinic(&me, thread, &MessageText::parse("Takk!")?, &[])
        .await;
    assert!(matches!(
        refused,
        Err(AccessError::Service(ServiceError::Invalid(_)))
    ));

    // A secretary: no e-konsultasjon (refused and recorded), but administrative threads.
    assert!(
        clinic
            .staff_inbox(&staff(secretary, Level::High))
            .await?
            .is_empty()
    );
    let denied = clinic
        .thread_access(&staff(secretary, Level::High), thread, "sjekk")
        .await;
    assert!(matches!(denied, Err(AccessError::Denied(DenyReason::Role))));
    let practical = clinic
        .open_thread(
            &PatientActor {
                level: Level::Substantial,
                ..me.clone()
            },
            ThreadKind::Administrative,
            &Subject::parse("Ny time")?,
            &MessageText::parse("Kan jeg flytte timen min?")?,
            &[],
        )
        .await?;
    let desk = clinic
        .thread_access(
            &staff(secretary, Level::Substantial),
            practical,
            "timebestilling",
        )
        .await?;
    assert_eq!(desk.thread(practical).await?.messages.len(), 1);
    // At level substantial a patient is sent to step up for an e-konsultasjon.
    let low = clinic
        .my_thread(
            &PatientActor {
                level: Level::Substantial,
                ..me.clone()
            },
            thread,
        )
        .await;
    assert!(matches!(low, Err(AccessError::StepUp(Level::High))));

    // Nothing of the content is stored in plaintext (X4, X6).
    let bytes = env.clinic_bytes(ORG_A);
    for marker in [
        &b"MARKER-SUBJECT"[..],
        b"MARKER-TEXT",
        b"MARKER-PNG",
        b"MARKER-NOTE",
    ] {
        assert!(
            find_marker(&bytes, marker).is_empty(),
            "{marker:?} stored in plaintext"
        );
    }
    // Every read and write of the thread is in the audit log, which verifies (X3).
    let log: Vec<String> = clinic
        .store()
        .entries_for_patient(&kari.to_string())
        .await?
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in [
        "thread.opened",
        "thread.read",
        "message.sent",
        "message.recalled",
        "attachment.read",
        "thread.updated",
        "access.denied",
    ] {
        assert!(log.iter().any(|a| a == action), "{action} missing: {log:?}");
    }
    clinic.verify_audit().await?;
    let _ = PersonNumber::parse(&fnr)?;
    app.close().await;
    Ok(())
}

async fn staff_start_a_thread_only_after_confirming_name_and_birth_date_and_attachments_are_sniffed_s7_p2(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Mottakerklinikken").await?;
    let admin = ctx(ORG_A);
    let fnr = "21879498012";
    let ola = clinic
        .add_patient(&admin, &patient(fnr, "Ola Mottaker"))
        .await?;
    let now = app.now();
    let nurse = clinic
        .add_staff(&admin, &PersonName::parse("Sykepleier Sol")?, None)
        .await?;
    clinic
        .grant_role(&admin, nurse, Role::Nurse, now, Timestamp(now.0 + 30 * DAY))
        .await?;
    clinic.start_care(&admin, nurse, ola).await?;
    let access = clinic
        .health_access(&staff(nurse, Level::High), ola, "prøvesvar")
        .await?;
    let subject = Subject::parse("Prøvesvar")?;
    let text = MessageText::parse("Svaret ditt er klart. Logg inn for å lese det.")?;
    for (name, born) in [
        ("Ola Mottaker", "22.07.1994"),
        ("Kari Mottaker", "21.07.1994"),
    ] {
        let wrong = access
            .start_thread(ThreadKind::ResultReady, &subject, &text, name, born)
            .await;
        assert!(
            matches!(wrong, Err(ServiceError::Invalid(_))),
            "{name} {born}"
        );
    }
    let thread = access
        .start_thread(
            ThreadKind::ResultReady,
            &subject,
            &text,
            " ola mottaker ",
            "21.07.1994",
        )
        .await?;
    let me = PatientActor {
        patient: ola,
        level: Level::High,
        source: from(),
    };
    assert_eq!(
        clinic.my_thread(&me, thread).await?.status,
        ThreadStatus::WaitingForPatient
    );

    // Attachments: the bytes decide, and active content is refused (P2).
    for bytes in [
        b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec(),
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
        Vec::new(),
    ] {
        let refused = clinic
            .write_to_clinic(
                &me,
                thread,
                &MessageText::parse("Se vedlegg")?,
                &[NewAttachment { bytes }],
            )
            .await;
        assert!(matches!(
            refused,
            Err(AccessError::Service(ServiceError::Invalid(_)))
        ));
    }
    // A patient cannot open a result notice themselves, nor read another's thread.
    let own = clinic
        .open_thread(&me, ThreadKind::ResultReady, &subject, &text, &[])
        .await;
    assert!(own.is_err());
    let other = clinic
        .add_patient(&admin, &patient(&synthetic_fnr(902), "Annen Person"))
        .await?;
    let stranger = PatientActor {
        patient: other,
        level: Level::High,
        source: from(),
    };
    assert!(clinic.my_thread(&stranger, thread).await.is_err());

    // Deleting the patient's data takes their threads with it.
    clinic.shred_patient(&admin, ola).await?;
    assert!(clinic.store().thread(thread.as_bytes()).await?.is_none());
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

/// A clinic with one patient and her doctor (a care relationship), for the tests that
/// need no more.
struct KariAndDoctor {
    app: fortrolig_service::Fortrolig,
    clinic: std::sync::Arc<fortrolig_service::Clinic>,
    me: PatientActor,
    doctor: StaffActor,
}

async fn kari_and_doctor(
    env: &TestEnv,
    seed: u32,
    name: &str,
) -> Result<KariAndDoctor, Box<dyn std::error::Error + Send + Sync>> {
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Meldingsklinikken").await?;
    let admin = ctx(ORG_A);
    let kari = clinic
        .add_patient(&admin, &patient(&synthetic_fnr(seed), name))
        .await?;
    let now = app.now();
    let doctor = clinic
        .add_staff(&admin, &PersonName::parse("Lege Lund")?, None)
        .await?;
    clinic
        .grant_role(&admin, doctor, Role::Doctor, now, Timestamp(now.0 + DAY))
        .await?;
    clinic.start_care(&admin, doctor, kari).await?;
    Ok(KariAndDoctor {
        app,
        clinic,
        me: PatientActor {
            patient: kari,
            level: Level::High,
            source: from(),
        },
        doctor: staff(doctor, Level::High),
    })
}

/// The patient's page reads the thread with the session, then takes the upload; a thread
/// closed or marked «cannot be answered» meanwhile takes nothing (P5).
async fn a_thread_closed_while_the_patient_writes_takes_nothing_p5(env: &TestEnv) -> TestResult {
    let KariAndDoctor {
        app,
        clinic,
        me,
        doctor,
    } = kari_and_doctor(env, 902, "Kari Kappløp").await?;
    let kari = me.patient;
    let (token, _) = clinic
        .start_session(
            fortrolig_service::SessionSubject::Patient(kari),
            Level::High,
            "test",
            None,
            None,
            &from(),
        )
        .await?;
    let access = clinic.health_access(&doctor, kari, "svar").await?;
    for (status, cannot_answer) in [
        (ThreadStatus::Closed, false),
        (ThreadStatus::Answered, true),
    ] {
        let thread = clinic
            .open_thread(
                &me,
                ThreadKind::EConsultation,
                &Subject::parse("Kappløp")?,
                &MessageText::parse("Første melding")?,
                &[],
            )
            .await?;
        let (_, ahead) = clinic.session_and_thread(&token, thread).await?;
        access
            .change_thread(
                thread,
                ThreadChange {
                    status,
                    assigned_staff: None,
                    assigned_team: None,
                    cannot_answer,
                },
            )
            .await?;
        let late = clinic
            .write_to_clinic_read_ahead(&me, ahead, &MessageText::parse("For sent")?, &[])
            .await;
        assert!(
            matches!(late, Err(AccessError::Service(ServiceError::Invalid(_)))),
            "{status:?} cannot_answer={cannot_answer}: {late:?}"
        );
        let after = access.thread(thread).await?;
        assert_eq!(after.messages.len(), 1, "nothing was stored");
        assert_eq!((after.status, after.cannot_answer), (status, cannot_answer));
    }
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

/// Both inboxes count each thread's unread messages from the other side, in one query
/// per list: never the side's own, an internal note or a recalled message (P5, S7).
async fn each_inbox_counts_the_other_sides_unread_messages_per_thread_p5(
    env: &TestEnv,
) -> TestResult {
    let KariAndDoctor {
        app,
        clinic,
        me,
        doctor: doc,
    } = kari_and_doctor(env, 903, "Kari Teller").await?;
    let mut threads = Vec::new();
    for subject in ["Første", "Andre"] {
        threads.push(
            clinic
                .open_thread(
                    &me,
                    ThreadKind::EConsultation,
                    &Subject::parse(subject)?,
                    &MessageText::parse("Hei")?,
                    &[],
                )
                .await?,
        );
    }
    for text in ["Én til", "Og én til"] {
        clinic
            .write_to_clinic(&me, threads[0], &MessageText::parse(text)?, &[])
            .await?;
    }
    let counts = |list: Vec<fortrolig_service::ThreadSummary>| {
        let mut out: Vec<_> = list.into_iter().map(|t| (t.id, t.unread)).collect();
        out.sort_by_key(|(id, _)| threads.iter().position(|t| t == id));
        out
    };
    assert_eq!(
        counts(clinic.staff_inbox(&doc).await?),
        [(threads[0], 3), (threads[1], 1)]
    );
    assert_eq!(
        counts(clinic.my_threads(&me).await?),
        [(threads[0], 0), (threads[1], 0)]
    );

    // The doctor reads the first and writes in the second: an answer, a note and a
    // recalled answer.
    let access = clinic.thread_access(&doc, threads[0], "svar").await?;
    access.thread(threads[0]).await?;
    let mut sent = Vec::new();
    for (text, internal) in [("Svar", false), ("Notat", true), ("Feil", false)] {
        sent.push(
            access
                .reply(threads[1], &MessageText::parse(text)?, internal, &[])
                .await?,
        );
    }
    let wrong = sent[2];
    access.recall(threads[1], wrong).await?;
    assert_eq!(
        counts(clinic.staff_inbox(&doc).await?),
        [(threads[0], 0), (threads[1], 1)]
    );
    assert_eq!(
        counts(clinic.my_threads(&me).await?),
        [(threads[0], 0), (threads[1], 1)]
    );
    app.close().await;
    Ok(())
}

both_backends!(
    each_inbox_counts_the_other_sides_unread_messages_per_thread_p5,
    a_thread_closed_while_the_patient_writes_takes_nothing_p5,
    a_thread_from_patient_to_clinician_and_back_with_read_confirmations_p5_s5_x3,
    staff_start_a_thread_only_after_confirming_name_and_birth_date_and_attachments_are_sniffed_s7_p2,
);
