//! `POST /k/{clinic}/innsyn/kopi.json`: everything held about the patient and the access
//! log with its proofs, as one JSON file to download (P9: a machine-readable copy).
//!
//! A POST with the form's CSRF token, so another site cannot make the browser fetch (and
//! the log record) an export. The format, `fortrolig/innsyn/v1`: `klinikk`, `laget`,
//! `pasient`, `samtaler` (with `meldinger` and `vedlegg`), `varsler`, `samtykker`, and
//! `tilgangslogg` with `signert_hode` and `hendelser`. Times are given twice: as
//! microseconds since 1970 (UTC, what the log hashes) and as Norwegian local time. Hashes,
//! keys and signatures are hex; `blad` is the entry's encoded leaf, whose SHA-256 with a
//! leading 0x00 byte is the leaf hash (RFC 6962), and `sti` its audit path.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use fortrolig_domain::Timestamp;
use fortrolig_service::InnsynRead;
use serde::Deserialize;
use serde_json::{Value, json};

use super::held::attachment_name;
use super::{Names, held_path, hex, log_rows, patient_at_high, patient_log, refused};
use crate::error::WebError;
use crate::i18n::{channel_name, kind_name, notice_kind_name, notice_outcome, status_name, tr};
use crate::router::AppState;
use crate::source::RequestSource;

#[derive(Debug, Deserialize)]
pub(super) struct CopyForm {
    csrf: String,
}

fn time(at: Timestamp) -> Value {
    json!({ "mikrosekunder": at.as_micros(), "norsk_tid": at.oslo_minutes() })
}

pub(super) async fn download(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
    Form(form): Form<CopyForm>,
) -> Result<Response, WebError> {
    let v = match patient_at_high(&state, &clinic, &headers, &source, held_path).await? {
        Ok(v) => v,
        Err(to_login) => return Ok(to_login),
    };
    if !v.session.csrf_matches(&form.csrf) {
        return Err(WebError::Forbidden);
    }
    let lang = v.lang;
    let held = match v.clinic.innsyn(&v.actor, InnsynRead::Copy).await {
        Ok(held) => held,
        Err(e) => return refused(e, &v.org, &held_path(&v.org)),
    };
    let log = patient_log(&v).await?;
    let rows = log_rows(&state, &v.clinic, lang, &log).await;
    let clinic_name = state
        .app
        .stores()
        .clinic(&v.org)
        .await
        .ok()
        .flatten()
        .map(|c| c.name);
    let mut names = Names::new(&state, &v.clinic, lang);
    let mut threads = Vec::with_capacity(held.threads.len());
    for t in &held.threads {
        let mut messages = Vec::with_capacity(t.messages.len());
        for m in &t.messages {
            let from = match m.staff_author {
                None => tr(lang, "Deg").to_owned(),
                Some(id) => names
                    .staff(id)
                    .await
                    .unwrap_or_else(|| tr(lang, "Klinikken").to_owned()),
            };
            messages.push(json!({
                "id": m.id.to_string(),
                "fra": from,
                "fra_klinikken": m.staff_author.is_some(),
                "tekst": m.text.as_ref().map(|t| t.as_str()),
                "trukket_tilbake": m.recalled_at.map(time),
                "skrevet": time(m.created_at),
                "lest_av_mottakeren": m.read_at.map(time),
                "rettelser": m.corrections.iter().map(|c| json!({
                    "rettet": time(c.at),
                    "tekst": c.text,
                })).collect::<Vec<_>>(),
                "vedlegg": m.attachments.iter().map(|a| json!({
                    "id": hex(&a.id),
                    "navn": attachment_name(&a.media_type),
                    "type": a.media_type,
                    "bytes": a.size,
                })).collect::<Vec<_>>(),
            }));
        }
        threads.push(json!({
            "id": t.id.to_string(),
            "type": kind_name(lang, t.kind),
            "status": status_name(lang, t.status),
            "emne": t.subject.as_str(),
            "meldinger": messages,
        }));
    }
    let p = &held.patient;
    let head = &log.head;
    let copy = json!({
        "format": "fortrolig/innsyn/v1",
        "klinikk": { "orgnr": v.org.to_string(), "navn": clinic_name },
        "laget": time(state.app.now()),
        "pasient": {
            "navn": p.name.as_str(),
            "fodselsnummer": p.person_number.as_str(),
            "telefon": p.phone.as_ref().map(|x| x.as_str()),
            "epost": p.email.as_ref().map(|x| x.as_str()),
            "registrert": time(p.created_at),
            "rettelser": held.profile_corrections.iter().map(|c| json!({
                "rettet": time(c.at),
                "tekst": c.text,
            })).collect::<Vec<_>>(),
        },
        "foresporsler": held.requests.iter().map(|r| json!({
            "id": r.id.to_string(),
            "type": r.kind.as_str(),
            "beskrivelse": crate::requests::kind_name(lang, r.kind),
            "samtale": r.thread.map(|t| t.to_string()),
            "tekst": r.text,
            "status": r.status.as_str(),
            "mottatt": time(r.received_at),
            "svarfrist": time(r.due_at),
            "besvart": r.answered_at.map(time),
            "svar": r.answer,
        })).collect::<Vec<_>>(),
        "samtaler": threads,
        "varsler": held.notices.iter().map(|n| json!({
            "hva": notice_kind_name(lang, n.kind),
            "kanal": channel_name(lang, n.channel),
            "status": notice_outcome(lang, n.status, n.findings.as_deref()),
            "laget": time(n.created_at),
            "sendt": n.sent_at.map(time),
            "levert": n.delivered_at.map(time),
        })).collect::<Vec<_>>(),
        "samtykker": held.consents.iter().map(|c| json!({
            "gjelder": c.subject.key(),
            "beskrivelse": crate::consent::label(lang, c.subject),
            "gitt": c.granted,
            "tekstversjon": c.text_version,
            "tidspunkt": time(c.at),
        })).collect::<Vec<_>>(),
        "tilgangslogg": {
            "signert_hode": {
                "klinikk": head.head.clinic,
                "storrelse": head.head.size,
                "rot": hex(&head.head.root),
                "signert": time(Timestamp(head.head.signed_at)),
                "nokkelversjon": head.key_version,
                "signatur": hex(&head.signature),
                "offentlig_nokkel": hex(&log.public_key),
                "algoritme": "Ed25519 over fortrolig/tree-head/v1; RFC 6962 Merkle-tre med SHA-256",
            },
            "hendelser": rows.iter().map(|r| json!({
                "nr": r.entry.seq,
                "tid": time(r.at()),
                "hvem": r.who,
                "rolle": r.role,
                "virksomhet": r.business,
                "virksomhet_orgnr": r.entry.actor_clinic,
                "hva": r.action,
                "handling": r.entry.action,
                "utfall": r.entry.outcome,
                "nodtilgang": r.emergency,
                "blad": hex(&r.entry.encode()),
                "sti": r.path.iter().map(|h| hex(h)).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        },
    });
    let body = serde_json::to_vec_pretty(&copy)
        .map_err(|e| WebError::Internal(format!("innsyn copy: {e}")))?;
    let file = format!(
        "attachment; filename=\"innsyn-{}-{}.json\"",
        v.org,
        state.app.now().oslo_date()
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, file),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}
