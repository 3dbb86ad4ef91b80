//! Innsyn for the patient through the real router (P9, X3, X2): the page of everything
//! held lists a thread's text and a notice; the access log marks an emergency access and
//! names the business; every proof the page carries verifies with the Rust verifier
//! against the signed head it shows; the JSON copy is a no-store download that holds the
//! access log with the emergency access; a session at level substantial is sent to step
//! up; and the reads are audited.

use axum::http::{StatusCode, header};
use fortrolig_audit::{Hash, leaf_hash, verify_inclusion};
use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind};
use fortrolig_domain::notice::NoticeChannel;
use fortrolig_domain::{Email, NewPatient, PersonName, PersonNumber, Phone, Source, StaffId};
use fortrolig_service::{NoticeSettings, SessionSubject, StaffActor};
use fortrolig_web::{AppState, router};

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, org};
use crate::web_support::{call, get, post, session_cookie, staff_with_role};

const TEXT: &str = "Blodprøven din er fin, og vi sees om et år.";

fn high(staff: StaffId) -> StaffActor {
    StaffActor {
        staff,
        level: Level::High,
        source: Source {
            session: Some("test".into()),
            address: Some("127.0.0.1".into()),
        },
    }
}

/// The value of `data-{name}="…"` in `tag`.
fn data(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" data-{name}=\""))? + name.len() + 8;
    tag[start..].split('"').next().map(str::to_owned)
}

fn unbase64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {text}"),
        }
    };
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let pad = chunk.iter().filter(|&&c| c == b'=').count();
        let n = chunk
            .iter()
            .map(|&c| if c == b'=' { 0 } else { value(c) })
            .fold(0u32, |acc, v| (acc << 6) | v);
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    out
}

fn hash(bytes: &[u8]) -> Hash {
    bytes.try_into().expect("32 bytes")
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

async fn everything_held_log_with_proofs_and_copy_p9_x3_x2(env: &TestEnv) -> TestResult {
    let app = env.app().await?;
    app.configure_notices(NoticeSettings {
        default_sender: Some("Legesenter".into()),
        portal_host: None,
    });
    let clinic = app.create_clinic(&org(ORG_A), "Innsynklinikken").await?;
    let kari = clinic
        .add_patient(
            &ctx(ORG_A),
            &NewPatient {
                person_number: PersonNumber::parse("21879498012")?,
                name: PersonName::parse("Kari Innsyn")?,
                phone: Some(Phone::parse("91234567")?),
                email: Some(Email::parse("kari@pasient.example")?),
            },
        )
        .await?;
    let now = app.now();
    let doctor = staff_with_role(&clinic, "Lege Lund", Role::Doctor, now).await?;
    let stranger = staff_with_role(&clinic, "Nina Nød", Role::Doctor, now).await?;
    clinic.start_care(&ctx(ORG_A), doctor, kari).await?;
    clinic
        .set_notice_consent(&ctx(ORG_A), kari, NoticeChannel::Sms, true)
        .await?;
    // A normal access: the doctor writes to Kari (a notice follows).
    clinic
        .health_access(&high(doctor), kari, "prøvesvar")
        .await?
        .start_thread(
            ThreadKind::ResultReady,
            &Subject::parse("Prøvesvar")?,
            &MessageText::parse(TEXT)?,
            "Kari Innsyn",
            "21.07.1994",
        )
        .await?;
    // An emergency access by a doctor without a care relationship.
    clinic
        .emergency_access(&high(stranger), kari, "bevisstløs på legevakten", 30)
        .await?
        .read_patient()
        .await?;
    assert_eq!(clinic.notices_of(kari).await?.len(), 1);
    let routes = router(AppState::new(app.clone()), false);
    let (me, csrf) = session_cookie(&clinic, SessionSubject::Patient(kari), Level::High).await?;

    // Everything held: the thread's text, the notice, the consent, the profile.
    let held = call(&routes, get(&format!("/k/{ORG_A}/innsyn"), Some(&me))?).await?;
    assert_eq!(held.status, StatusCode::OK, "{}", held.body);
    for needle in [
        "Alt klinikken har lagret om deg",
        TEXT,
        "Lege Lund",
        "Varsler sendt til deg",
        "SMS",
        "Varsel på SMS når noe nytt venter på meg",
        "Kari Innsyn",
        "21879498012",
        "Ikke lagre filen på en PC eller telefon som andre bruker",
        &format!("action=\"/k/{ORG_A}/innsyn/kopi.json\""),
        "<th scope=\"col\">",
    ] {
        assert!(held.body.contains(needle), "{needle} missing from the page");
    }
    assert!(
        held.body.contains("<caption>Varsler, nyeste først"),
        "the notice table"
    );

    // The access log: the emergency access is marked, the business named.
    let log = call(&routes, get(&format!("/k/{ORG_A}/innsyn/logg"), Some(&me))?).await?;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    assert!(
        log.body
            .contains("<strong class=\"nodtilgang\">Nødtilgang</strong>")
    );
    assert!(log.body.contains("Nina Nød (Lege)") || log.body.contains("Nina Nød"));
    assert!(log.body.contains("Innsynklinikken (org.nr. "));
    assert!(
        log.body
            .contains("<script src=\"/static/innsyn.js\" defer></script>")
    );
    // Every proof in the page verifies against the signed head it shows.
    let section = log
        .body
        .split("<section id=\"bevis\"")
        .nth(1)
        .and_then(|s| s.split('>').next())
        .expect("the signed head");
    let size: u64 = data(section, "storrelse").expect("size").parse()?;
    let root = hash(&unbase64(&data(section, "rot").expect("root")));
    let rows: Vec<&str> = log
        .body
        .split("<tr data-nr=")
        .skip(1)
        .map(|r| r.split('>').next().unwrap_or_default())
        .collect();
    assert!(rows.len() >= 5, "{} rows", rows.len());
    let mut emergency_rows = 0;
    for row in &rows {
        let tag = format!(" data-nr={row}");
        let seq: u64 = data(&tag, "nr").expect("nr").parse()?;
        let leaf = unbase64(&data(&tag, "blad").expect("leaf"));
        let path: Vec<Hash> = data(&tag, "sti")
            .expect("path")
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| hash(&unbase64(p)))
            .collect();
        assert!(
            verify_inclusion(&leaf_hash(&leaf), seq - 1, size, &path, &root),
            "entry {seq} does not verify"
        );
        let mut changed = leaf.clone();
        let last = changed.len() - 1;
        changed[last] ^= 1;
        assert!(!verify_inclusion(
            &leaf_hash(&changed),
            seq - 1,
            size,
            &path,
            &root
        ));
        if data(&tag, "handling").as_deref() == Some("access.emergency") {
            emergency_rows += 1;
        }
    }
    assert_eq!(emergency_rows, 1);
    let (_, _, latest) = clinic.inclusion_proof(1).await?;
    assert!(latest.head.size >= size);

    // The copy: a no-store JSON download, only with the form's token.
    let forged = call(
        &routes,
        post(&format!("/k/{ORG_A}/innsyn/kopi.json"), &me, "csrf=feil")?,
    )
    .await?;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let copy = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/innsyn/kopi.json"),
            &me,
            &format!("csrf={csrf}"),
        )?,
    )
    .await?;
    assert_eq!(copy.status, StatusCode::OK, "{}", copy.body);
    assert!(
        copy.header(header::CONTENT_DISPOSITION)
            .starts_with("attachment")
    );
    assert_eq!(copy.header(header::CACHE_CONTROL), "no-store");
    let json: serde_json::Value = serde_json::from_str(&copy.body)?;
    assert_eq!(json["format"], "fortrolig/innsyn/v1");
    assert_eq!(json["pasient"]["navn"], "Kari Innsyn");
    assert_eq!(json["samtaler"][0]["meldinger"][0]["tekst"], TEXT);
    assert_eq!(json["varsler"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["samtykker"][0]["gjelder"], "varsel:sms");
    let events = json["tilgangslogg"]["hendelser"]
        .as_array()
        .expect("events");
    let emergency: Vec<_> = events.iter().filter(|e| e["nodtilgang"] == true).collect();
    assert_eq!(emergency.len(), 1);
    assert_eq!(emergency[0]["hvem"], "Nina Nød");
    let head = &json["tilgangslogg"]["signert_hode"];
    let size = head["storrelse"].as_u64().expect("size");
    let root = hash(&unhex(head["rot"].as_str().expect("root")));
    for e in events {
        let path: Vec<Hash> = e["sti"]
            .as_array()
            .expect("path")
            .iter()
            .map(|p| hash(&unhex(p.as_str().expect("hex"))))
            .collect();
        let leaf = unhex(e["blad"].as_str().expect("leaf"));
        let seq = e["nr"].as_u64().expect("nr");
        assert!(verify_inclusion(
            &leaf_hash(&leaf),
            seq - 1,
            size,
            &path,
            &root
        ));
    }

    // The reads are audited: the page, the log and the export.
    let audited: Vec<(String, String)> = clinic
        .store()
        .entries_for_patient(&kari.to_string())
        .await?
        .into_iter()
        .map(|e| (e.action, e.object))
        .collect();
    for (action, object) in [
        ("patient.read", "innsyn:alt"),
        ("patient.read", "innsyn:logg"),
        ("patient.exported", "innsyn:kopi"),
    ] {
        assert!(
            audited.iter().any(|(a, o)| a == action && o == object),
            "{action} {object} not audited"
        );
    }

    // At level substantial: sent to step up, for every innsyn page.
    let (low, low_csrf) =
        session_cookie(&clinic, SessionSubject::Patient(kari), Level::Substantial).await?;
    for path in ["innsyn", "innsyn/logg"] {
        let page = call(&routes, get(&format!("/k/{ORG_A}/{path}"), Some(&low))?).await?;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            page.location(),
            format!("/k/{ORG_A}/innlogging?nivaa=hoy&neste=/k/{ORG_A}/{path}")
        );
    }
    let copy = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/innsyn/kopi.json"),
            &low,
            &format!("csrf={low_csrf}"),
        )?,
    )
    .await?;
    assert_eq!(copy.status, StatusCode::SEE_OTHER);
    // No session: to log in at level high.
    let none = call(&routes, get(&format!("/k/{ORG_A}/innsyn"), None)?).await?;
    assert_eq!(none.status, StatusCode::SEE_OTHER);
    assert!(none.location().contains("nivaa=hoy"));
    // The portal links to it.
    let home = call(&routes, get(&format!("/k/{ORG_A}/"), Some(&me))?).await?;
    assert!(home.body.contains(&format!("href=\"/k/{ORG_A}/innsyn\"")));

    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(everything_held_log_with_proofs_and_copy_p9_x3_x2);
