//! Figure 4, second part: a patient's message to the clinic, the product's most common
//! audited, encrypted, durable write, through the real service on SQLite.
//!
//! Each write is `Clinic::write_to_clinic`: the thread is read and checked, the text is
//! sealed with the thread's key, and the message, the thread's new status and the audit
//! entry are committed (fsync) before the call returns. Measured one at a time, and from
//! `WRITERS` patients at once, as a busy clinic's portal sends them: group commit then
//! lets the writes that arrive during one commit share the next one.

use std::error::Error;
use std::path::Path;
use std::sync::Arc;

use fortrolig_domain::NewPatient;
use fortrolig_domain::access::Level;
use fortrolig_domain::consent::{ConsentSubject, PortalService};
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind};
use fortrolig_domain::{PersonName, PersonNumber, Source, ThreadId};
use fortrolig_service::{ActContext, Clinic, PatientActor};

use crate::cpu::{Stopwatch, ticks_per_second};
use crate::report::{self, Report};
use crate::service::{open_clinic, staff_context};
use crate::synth;

/// The goal: CPU seconds per audited, encrypted, durable write, when the clinic is busy.
const GOAL_CPU_PER_WRITE: f64 = 0.2e-3;
/// Patients writing at the same time, as in `fortrolig bench messaging`.
const WRITERS: usize = 64;
/// Messages each patient sends before measuring, not counted.
const WARM_UP: u64 = 2;

/// The length of a message as the HTTP benchmark sends it (160 bytes).
const TEXT: &str = "Hei! Jeg har hatt vondt i ryggen i tre uker nå, og smertestillende hjelper \
                    lite. Kan jeg få en time neste uke, eller bør jeg prøve noe annet først?";

/// One patient with an e-consultation thread of their own.
struct Writer {
    who: PatientActor,
    thread: ThreadId,
}

async fn writers(clinic: &Clinic, ctx: &ActContext) -> Result<Vec<Writer>, Box<dyn Error>> {
    let numbers = synth::test_norge_numbers(WRITERS);
    let mut out = Vec::with_capacity(WRITERS);
    for (i, number) in numbers.iter().enumerate() {
        let patient = clinic
            .add_patient(
                ctx,
                &NewPatient {
                    person_number: PersonNumber::parse(number)?,
                    name: PersonName::parse(&format!("Ola Testperson {i}"))?,
                    phone: None,
                    email: None,
                },
            )
            .await?;
        let source = Source {
            session: Some(synth::hex32(i as u64)),
            address: Some("10.20.30.40".into()),
        };
        // The patient has said yes to messaging (P4) and to no notices.
        let consent = ActContext::patient(patient, clinic.org(), source.clone(), "samtykke");
        let version = clinic.consent_text().await?.version;
        clinic
            .record_consents(
                &consent,
                patient,
                &[(ConsentSubject::Service(PortalService::Messaging), true)],
                &version,
            )
            .await?;
        let who = PatientActor {
            patient,
            level: Level::High,
            source,
        };
        let thread = clinic
            .open_thread(
                &who,
                ThreadKind::EConsultation,
                &Subject::parse("Ryggsmerter")?,
                &MessageText::parse(TEXT)?,
                &[],
            )
            .await
            .map_err(|e| format!("opening a thread: {e}"))?;
        out.push(Writer { who, thread });
    }
    Ok(out)
}

async fn send(clinic: &Clinic, writer: &Writer, text: &MessageText) -> Result<(), String> {
    clinic
        .write_to_clinic(&writer.who, writer.thread, text, &[])
        .await
        .map(|_| ())
        .map_err(|e| format!("a message was refused: {e}"))
}

/// Messages one at a time (`writes` of them), then `writes` from `WRITERS` patients at
/// once; the second is the figure the goal is judged on.
pub async fn patient_messages(
    report: &mut Report,
    dir: &Path,
    writes: u64,
) -> Result<(), Box<dyn Error>> {
    let ticks = ticks_per_second();
    let (app, clinic, org) = open_clinic(dir).await?;
    let staff = staff_context(&org)?;
    let writers = Arc::new(writers(&clinic, &staff).await?);
    let text = MessageText::parse(TEXT)?;

    for writer in writers.iter() {
        for _ in 0..WARM_UP {
            send(&clinic, writer, &text).await?;
        }
    }
    let watch = Stopwatch::start(ticks)?;
    for i in 0..writes {
        send(&clinic, &writers[i as usize % WRITERS], &text).await?;
    }
    let took = watch.stop()?;
    let n = writes as f64;
    report.info(
        "one message at a time",
        &format!(
            "{} wall, {} CPU ({} user + {} system) per message, over {}",
            report::secs(took.wall / n),
            report::secs(took.cpu / n),
            report::secs(took.user / n),
            report::secs(took.system / n),
            report::count(writes)
        ),
    );

    let each = writes.div_ceil(WRITERS as u64);
    let before = clinic.write_stats();
    let watch = Stopwatch::start(ticks)?;
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (clinic, writers, text) = (Arc::clone(&clinic), Arc::clone(&writers), text.clone());
            tokio::spawn(async move {
                for _ in 0..each {
                    send(&clinic, &writers[w], &text).await?;
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let took = watch.stop()?;
    let after = clinic.write_stats();
    let n = (each * WRITERS as u64) as f64;
    let cpu_per_write = took.cpu / n;
    report.goal(
        &format!("CPU time per message, {WRITERS} patients at once"),
        &format!(
            "{} = {} user + {} system (± {}); {} wall per message, {} messages/s",
            report::secs(cpu_per_write),
            report::secs(took.user / n),
            report::secs(took.system / n),
            report::secs(took.cpu_tick / n),
            report::secs(took.wall / n),
            report::rate(n / took.wall),
        ),
        "< 0.2 ms CPU",
        cpu_per_write < GOAL_CPU_PER_WRITE,
    );
    report.info(
        "  messages per commit (group commit)",
        &format!(
            "{:.1} ({} messages in {} commits)",
            (after.acts - before.acts) as f64 / (after.commits - before.commits).max(1) as f64,
            report::count(after.acts - before.acts),
            report::count(after.commits - before.commits),
        ),
    );
    app.close().await;
    Ok(())
}
