//! Figures 2 and 4: the real service on SQLite in a scratch directory.

use std::error::Error;
use std::path::Path;
use std::sync::Arc;

use fortrolig_domain::{
    Action, Actor, Email, HprNumber, NewPatient, OrgNumber, PersonName, PersonNumber, Phone, Source,
};
use fortrolig_service::{ActContext, Backend, Clinic, Fortrolig, SystemClock};
use fortrolig_vault::MasterKey;

use crate::cpu::{Stopwatch, ticks_per_second};
use crate::report::{self, Report};
use crate::synth;

/// Goal for figure 2, as for figure 1: 1,000,000 entries verified in under 2 s.
const GOAL_VERIFY_SECONDS: f64 = 2.0;
/// Writes made before measuring, so that connection set-up and first-use costs are
/// not counted.
const WARM_UP: usize = 20;

/// The store-level operations behind figure 4 are timed this many times at most.
const BREAKDOWN_MAX: u64 = 1_000;

/// Per-operation costs measured in figures 1 and 3, to split figure 4's CPU time.
#[derive(Debug, Clone, Copy)]
pub struct KnownCosts {
    /// One audit append: entry encoding, frontier, root and an Ed25519 signature.
    pub sign: f64,
    /// One AES-256-GCM seal of a short field.
    pub seal_small: f64,
}

pub(crate) async fn open_clinic(
    dir: &Path,
) -> Result<(Fortrolig, Arc<Clinic>, OrgNumber), Box<dyn Error>> {
    let backend = Backend::Sqlite {
        data_dir: dir.join("data"),
        vault_dir: dir.join("vault"),
    };
    // A fixed key: the scratch directory is deleted afterwards.
    let master = MasterKey::from_hex(&"5a".repeat(32))?;
    let app = Fortrolig::open(backend, master, Arc::new(SystemClock)).await?;
    let org = OrgNumber::parse(synth::ORG)?;
    let clinic = app.create_clinic(&org, "Bench").await?;
    Ok((app, clinic, org))
}

/// Figure 2: append `m` entries through `Clinic::record`, then time `verify_audit`.
pub async fn verify_through_store(
    report: &mut Report,
    dir: &Path,
    m: u64,
) -> Result<(), Box<dyn Error>> {
    let ticks = ticks_per_second();
    let (app, clinic, org) = open_clinic(dir).await?;
    let ctx = ActContext::system("bench", &org);

    let watch = Stopwatch::start(ticks)?;
    for _ in 0..m {
        clinic
            .record(&ctx, Action::PatientRead, None, "bench", "bench")
            .await?;
    }
    let appended = watch.stop()?;
    report.info(
        "append via Clinic::record (durable)",
        &format!(
            "{} entries in {} = {} entries/s; per entry {} wall, {} CPU",
            report::count(m),
            report::secs(appended.wall),
            report::rate(m as f64 / appended.wall),
            report::secs(appended.wall / m as f64),
            report::secs(appended.cpu / m as f64),
        ),
    );

    let watch = Stopwatch::start(ticks)?;
    let verified = clinic.verify_audit().await?;
    let took = watch.stop()?;
    // The clinic's own "clinic.created" entry comes first.
    if verified.size != m + 1 {
        return Err(format!(
            "verify_audit covered {} entries, expected {}",
            verified.size,
            m + 1
        )
        .into());
    }
    let per_second = verified.size as f64 / took.wall;
    let million = 1e6 / per_second;
    report.info(
        "verify_audit",
        &format!(
            "{} entries in {} ({} CPU) = {} entries/s",
            report::count(verified.size),
            report::secs(took.wall),
            report::secs(took.cpu),
            report::rate(per_second),
        ),
    );
    // The same rows read and decoded with nothing checked: what the store costs.
    let watch = Stopwatch::start(ticks)?;
    let mut rows = 0u64;
    clinic
        .store()
        .for_each_leaf(|seq, leaf, root| {
            rows += 1;
            std::hint::black_box((seq, leaf, root));
            Ok(())
        })
        .await??;
    let read = watch.stop()?;
    report.info(
        "  of which reading and hashing rows (for_each_leaf)",
        &format!(
            "{} rows in {} ({} CPU) = {} per row; the rest is LogVerifier",
            report::count(rows),
            report::secs(read.wall),
            report::secs(read.cpu),
            report::secs(read.wall / rows.max(1) as f64),
        ),
    );
    report.goal(
        "verify_audit, extrapolated",
        &format!("1,000,000 entries in {}", report::secs(million)),
        "1,000,000 in < 2 s",
        million < GOAL_VERIFY_SECONDS,
    );
    app.close().await;
    Ok(())
}

/// A member of staff registering patients from a web session.
pub(crate) fn staff_context(org: &OrgNumber) -> Result<ActContext, Box<dyn Error>> {
    Ok(ActContext {
        actor: Actor {
            id: synth::hex32(17),
            role: "lege".into(),
            clinic: org.clone(),
            hpr: Some(HprNumber::parse("9144889")?),
        },
        source: Source {
            session: Some(synth::hex32(4242)),
            address: Some("10.20.30.40".into()),
        },
        reason: "registrering ved første konsultasjon".into(),
    })
}

fn new_patient(i: usize, number: &str) -> Result<NewPatient, Box<dyn Error>> {
    let person_number = PersonNumber::parse(number)?;
    if !person_number.is_synthetic() {
        return Err("generated a person number that is not synthetic".into());
    }
    Ok(NewPatient {
        person_number,
        name: PersonName::parse(&format!("Kari Testperson Nordmann {i}"))?,
        phone: Some(Phone::parse(&format!("9{:07}", i % 10_000_000))?),
        email: Some(Email::parse(&format!("kari.testperson.{i}@example.no"))?),
    })
}

/// Figure 4: the wall and CPU time of `Clinic::add_patient`.
pub async fn durable_writes(
    report: &mut Report,
    dir: &Path,
    writes: u64,
    known: KnownCosts,
) -> Result<(), Box<dyn Error>> {
    let ticks = ticks_per_second();
    let (app, clinic, org) = open_clinic(dir).await?;
    let ctx = staff_context(&org)?;
    let total = WARM_UP + usize::try_from(writes)?;
    let numbers = synth::test_norge_numbers(total);
    if numbers.len() != total {
        return Err(format!(
            "could only generate {} synthetic person numbers",
            numbers.len()
        )
        .into());
    }
    let patients: Vec<NewPatient> = numbers
        .iter()
        .enumerate()
        .map(|(i, n)| new_patient(i, n))
        .collect::<Result<_, _>>()?;
    let (warm_up, measured) = patients.split_at(WARM_UP);
    for patient in warm_up {
        clinic.add_patient(&ctx, patient).await?;
    }

    let watch = Stopwatch::start(ticks)?;
    for patient in measured {
        clinic.add_patient(&ctx, patient).await?;
    }
    let took = watch.stop()?;

    let n = writes as f64;
    let cpu_per_write = took.cpu / n;
    report.info(
        "writes",
        &format!(
            "{} add_patient calls (after {WARM_UP} not counted) in {}",
            report::count(writes),
            report::secs(took.wall)
        ),
    );
    report.info(
        "wall time per write",
        &format!(
            "{} ({} writes/s; includes fsync)",
            report::secs(took.wall / n),
            report::rate(n / took.wall)
        ),
    );
    // One at a time, the fsync, the signed head and the anchor are this write's alone;
    // the goal is judged where writes share them, as a busy clinic's do (figure 4b).
    report.info(
        "CPU time per write, one at a time",
        &format!(
            "{} = {} user + {} system (± {})",
            report::secs(cpu_per_write),
            report::secs(took.user / n),
            report::secs(took.system / n),
            report::secs(took.cpu_tick / n)
        ),
    );
    // add_patient seals 4 fields, wraps the data key (one more seal) and signs one tree
    // head; HMAC and key generation are a few µs more.
    let crypto = known.sign + 5.0 * known.seal_small;
    report.info(
        "  of which crypto (from figures 1 and 3)",
        &format!(
            "≈ {} ({:.0} %): 1 audit append with Ed25519 signature + 5 seals",
            report::secs(crypto),
            100.0 * crypto / cpu_per_write.max(f64::MIN_POSITIVE)
        ),
    );
    breakdown(report, &clinic, &ctx, writes.min(BREAKDOWN_MAX)).await?;
    let stored = clinic.store().patient_count().await?;
    let expected = i64::try_from(total)?;
    if stored != expected {
        return Err(format!("{stored} patients stored, expected {expected}").into());
    }
    app.close().await;
    Ok(())
}

fn per_call(label: &str, report: &mut Report, took: crate::cpu::Elapsed, calls: u64) {
    let n = calls as f64;
    report.info(
        label,
        &format!(
            "{} wall, {} CPU ({} user + {} system), over {}",
            report::secs(took.wall / n),
            report::secs(took.cpu / n),
            report::secs(took.user / n),
            report::secs(took.system / n),
            report::count(calls)
        ),
    );
}

/// What one `add_patient` is made of, at the store level: it runs one blind-index
/// lookup, one durable insert into the key ring, one durable clinic transaction of six
/// statements (lock, frontier, patient, entry, frontier, tree head) and one durable key
/// ring transaction for the anchor.
async fn breakdown(
    report: &mut Report,
    clinic: &Arc<Clinic>,
    ctx: &ActContext,
    calls: u64,
) -> Result<(), Box<dyn Error>> {
    let ticks = ticks_per_second();
    let store = clinic.store();

    let watch = Stopwatch::start(ticks)?;
    for i in 0..calls {
        let mut index = [0u8; 16];
        index[..8].copy_from_slice(&i.to_be_bytes());
        if store.patient_by_index(&index).await?.is_some() {
            return Err("a made-up blind index found a patient".into());
        }
    }
    per_call(
        "  one SELECT (patient_by_index)",
        report,
        watch.stop()?,
        calls,
    );

    let watch = Stopwatch::start(ticks)?;
    for _ in 0..calls {
        store.begin().await?.commit().await?;
    }
    per_call(
        "  one durable empty transaction",
        report,
        watch.stop()?,
        calls,
    );

    let watch = Stopwatch::start(ticks)?;
    for _ in 0..calls {
        clinic
            .record(ctx, Action::PatientRead, None, "bench", "bench")
            .await?;
    }
    per_call(
        "  one audit-only write (Clinic::record)",
        report,
        watch.stop()?,
        calls,
    );

    // The same writes from CONCURRENT writers at once, as a busy clinic's requests
    // arrive: group commit puts those that queue during one commit into the next, so
    // they share its fsync, its signed head and its anchor update.
    const CONCURRENT: u64 = 64;
    let each = calls.div_ceil(CONCURRENT);
    let before = clinic.write_stats();
    let watch = Stopwatch::start(ticks)?;
    let writers: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let (clinic, ctx) = (clinic.clone(), ctx.clone());
            tokio::spawn(async move {
                for _ in 0..each {
                    clinic
                        .record(&ctx, Action::PatientRead, None, "bench", "bench")
                        .await?;
                }
                Ok::<_, fortrolig_service::ServiceError>(())
            })
        })
        .collect();
    for writer in writers {
        writer.await??;
    }
    let took = watch.stop()?;
    let after = clinic.write_stats();
    per_call(
        &format!("  one audit-only write, {CONCURRENT} writers at once"),
        report,
        took,
        each * CONCURRENT,
    );
    report.info(
        "    writes per commit (group commit)",
        &format!(
            "{:.1} ({} writes in {} commits)",
            (after.acts - before.acts) as f64 / (after.commits - before.commits).max(1) as f64,
            report::count(after.acts - before.acts),
            report::count(after.commits - before.commits),
        ),
    );
    Ok(())
}
