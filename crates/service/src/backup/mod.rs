//! Encrypted, integrity-checked backups of the clinic stores (X7).
//!
//! A backup holds the directory entries and every row of each clinic's store, which are
//! already ciphertext, sealed once more in 1 MiB chunks under a key derived from the
//! master key. Each chunk is bound to the header, its position and whether it is the
//! last, so a changed, reordered or cut file is refused before anything is written.
//!
//! The key ring is *not* in the backup. A restore therefore needs the live key ring, and
//! a patient whose data key was destroyed stays unreadable in every earlier backup (X4).

mod codec;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use fortrolig_audit::{LogEntry, LogVerifier, SignedTreeHead, TreeHead};
use fortrolig_domain::{Action, OrgNumber};
use fortrolig_store::ClinicEntry;
use fortrolig_store::tables::{CLINIC_TABLES, Value};
use fortrolig_vault::{Aad, KeyId};

use self::codec::{Reader, Record, encode};
use crate::Fortrolig;
use crate::clinic::{ActContext, patient_id};
use crate::error::ServiceError;

const MAGIC: &[u8; 16] = b"FORTROLIG-BACKUP";
const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 16 + 4 + 32 + 8;
const CHUNK_SIZE: usize = 1 << 20;
const MAX_SEALED_CHUNK: usize = CHUNK_SIZE + 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub clinics: usize,
    pub rows: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSummary {
    pub clinics: Vec<String>,
    pub rows: u64,
    /// Patients in the backup whose data key has since been destroyed: their rows are
    /// dropped, since nothing can read them.
    pub shredded_dropped: usize,
    /// Conversations in the backup whose own key has since been destroyed (deleted
    /// after the backup was taken): dropped again.
    pub threads_dropped: usize,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> ServiceError + '_ {
    move |source| ServiceError::Io {
        path: path.display().to_string(),
        source,
    }
}

struct Sealer {
    key: [u8; 32],
    key_id: KeyId,
    header: Vec<u8>,
}

impl Sealer {
    fn new(app: &Fortrolig, header: Vec<u8>, salt: &[u8; 32]) -> Self {
        let mut id = [0u8; 16];
        id.copy_from_slice(&salt[..16]);
        Self {
            key: app.master().derive("fortrolig/backup/v1", salt),
            key_id: KeyId(id),
            header,
        }
    }

    fn aad(&self, index: u64, last: bool) -> Aad {
        let mut row = index.to_be_bytes().to_vec();
        row.push(u8::from(last));
        Aad::new(
            "backup",
            "chunk",
            &row,
            &String::from_utf8_lossy(&self.header),
        )
    }
}

/// Writes a backup of every clinic to `out` (atomically: a temporary file, fsync, rename).
pub async fn take(app: &Fortrolig, out: &Path) -> Result<BackupSummary, ServiceError> {
    let salt = fortrolig_vault::random_bytes::<32>()?;
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    header.extend_from_slice(&salt);
    header.extend_from_slice(&app.now().as_micros().to_be_bytes());
    let sealer = Sealer::new(app, header.clone(), &salt);

    let mut file_bytes = header;
    let mut plain = Vec::with_capacity(CHUNK_SIZE * 2);
    let mut index = 0u64;
    let mut flush =
        |plain: &mut Vec<u8>, file_bytes: &mut Vec<u8>, last: bool| -> Result<(), ServiceError> {
            while plain.len() >= CHUNK_SIZE || (last && !plain.is_empty()) || (last && index == 0) {
                let take = plain.len().min(CHUNK_SIZE);
                let is_last = last && take == plain.len();
                let sealed = fortrolig_vault::seal(
                    sealer.key_id,
                    &sealer.key,
                    &sealer.aad(index, is_last),
                    &plain[..take],
                )?;
                file_bytes.extend_from_slice(&(sealed.len() as u32).to_be_bytes());
                file_bytes.extend_from_slice(&sealed);
                plain.drain(..take);
                index += 1;
                if is_last {
                    break;
                }
            }
            Ok(())
        };

    let clinics = app.clinics().await?;
    let mut rows = 0u64;
    for entry in &clinics {
        let clinic = app.clinic(&entry.org_number).await?;
        let _writes_paused = clinic.pause_writes().await;
        encode(
            &Record::Clinic {
                org: entry.org_number.to_string(),
                name: entry.name.clone(),
                created_at: entry.created_at,
            },
            &mut plain,
        );
        let mut clinic_rows = 0u64;
        for table in CLINIC_TABLES {
            let mut failed = None;
            table
                .dump(clinic.store().db(), |values| {
                    encode(
                        &Record::Row {
                            table: table.name.to_owned(),
                            values,
                        },
                        &mut plain,
                    );
                    clinic_rows += 1;
                    if plain.len() >= CHUNK_SIZE
                        && let Err(e) = flush(&mut plain, &mut file_bytes, false)
                    {
                        failed = Some(e);
                    }
                    Ok(())
                })
                .await?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
        encode(
            &Record::EndClinic {
                org: entry.org_number.to_string(),
                rows: clinic_rows,
            },
            &mut plain,
        );
        rows += clinic_rows;
    }
    encode(
        &Record::End {
            clinics: clinics.len() as u64,
        },
        &mut plain,
    );
    flush(&mut plain, &mut file_bytes, true)?;

    let tmp = out.with_extension("partial");
    {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io_err(&tmp))?;
        file.write_all(&file_bytes)
            .and_then(|()| file.sync_all())
            .map_err(io_err(&tmp))?;
    }
    std::fs::rename(&tmp, out).map_err(io_err(out))?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir))?;
    }
    let label = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for entry in &clinics {
        let clinic = app.clinic(&entry.org_number).await?;
        let ctx = ActContext::system("backup", &entry.org_number);
        clinic
            .record(
                &ctx,
                Action::BackupTaken,
                None,
                &format!("backup:{label}"),
                "sikkerhetskopi",
            )
            .await?;
    }
    Ok(BackupSummary {
        clinics: clinics.len(),
        rows,
        bytes: file_bytes.len() as u64,
    })
}

/// Opens and checks every chunk; returns the plaintext stream or says what is wrong.
fn open_file(app: &Fortrolig, bytes: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let bad = |what: &str| ServiceError::Backup(what.to_owned());
    if bytes.len() < HEADER_LEN || &bytes[..16] != MAGIC {
        return Err(bad("this is not a Fortrolig backup (wrong header)"));
    }
    let version = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    if version != FORMAT_VERSION {
        return Err(bad(&format!(
            "backup format version {version} is not supported by this build"
        )));
    }
    let mut salt = [0u8; 32];
    salt.copy_from_slice(&bytes[20..52]);
    let sealer = Sealer::new(app, bytes[..HEADER_LEN].to_vec(), &salt);
    let mut rest = &bytes[HEADER_LEN..];
    let mut plain = Vec::with_capacity(bytes.len());
    let mut index = 0u64;
    loop {
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            return Err(bad("the file is truncated (its last chunk is missing)"));
        };
        let len = u32::from_be_bytes(*len) as usize;
        if len > MAX_SEALED_CHUNK || tail.len() < len {
            return Err(bad(
                "the file is truncated or damaged (a chunk is cut short)",
            ));
        }
        let (sealed, after) = tail.split_at(len);
        let last = after.is_empty();
        let chunk = fortrolig_vault::open(sealer.key_id, &sealer.key, &sealer.aad(index, last), sealed).map_err(|_| {
            bad(&format!(
                "chunk {index} does not open: the file was changed, cut or reordered, or it was made with another master key"
            ))
        })?;
        plain.extend_from_slice(&chunk);
        rest = after;
        index += 1;
        if last {
            return Ok(plain);
        }
    }
}

/// One clinic as read from a backup.
struct ClinicImage {
    entry: ClinicEntry,
    tables: HashMap<&'static str, Vec<Vec<Value>>>,
}

fn parse(plain: &[u8]) -> Result<Vec<ClinicImage>, ServiceError> {
    let bad = |what: &str| ServiceError::Backup(format!("the content is inconsistent ({what})"));
    let mut reader = Reader::new(plain);
    let mut images = Vec::new();
    let mut current: Option<ClinicImage> = None;
    let mut ended = false;
    while let Some(record) = reader.next_record()? {
        if ended {
            return Err(bad("data after the end marker"));
        }
        match record {
            Record::Clinic {
                org,
                name,
                created_at,
            } if current.is_none() => {
                let org_number = OrgNumber::parse(&org).map_err(|_| bad("clinic org number"))?;
                current = Some(ClinicImage {
                    entry: ClinicEntry {
                        org_number,
                        name,
                        created_at,
                    },
                    tables: HashMap::new(),
                });
            }
            Record::Row { table, values } => {
                let image = current
                    .as_mut()
                    .ok_or_else(|| bad("row outside a clinic"))?;
                let spec =
                    fortrolig_store::tables::table(&table).ok_or_else(|| bad("unknown table"))?;
                image.tables.entry(spec.name).or_default().push(values);
            }
            Record::EndClinic { org, rows } => {
                let image = current
                    .take()
                    .ok_or_else(|| bad("clinic end without start"))?;
                let counted: usize = image.tables.values().map(Vec::len).sum();
                if org != image.entry.org_number.as_str() || counted as u64 != rows {
                    return Err(bad("row count of a clinic"));
                }
                images.push(image);
            }
            Record::End { clinics } => {
                if current.is_some() || clinics != images.len() as u64 {
                    return Err(bad("clinic count"));
                }
                ended = true;
            }
            Record::Clinic { .. } => return Err(bad("clinic inside a clinic")),
        }
    }
    if !ended {
        return Err(bad("no end marker"));
    }
    Ok(images)
}

fn text(v: &Value) -> Result<String, ServiceError> {
    match v {
        Value::Text(s) => Ok(s.clone()),
        _ => Err(ServiceError::Backup(
            "an audit entry has a value of the wrong type".into(),
        )),
    }
}

fn opt_text(v: &Value) -> Result<Option<String>, ServiceError> {
    match v {
        Value::Null => Ok(None),
        other => text(other).map(Some),
    }
}

fn int(v: &Value) -> Result<i64, ServiceError> {
    match v {
        Value::Int(i) => Ok(*i),
        _ => Err(ServiceError::Backup(
            "an audit value of the wrong type".into(),
        )),
    }
}

fn bytes(v: &Value) -> Result<Vec<u8>, ServiceError> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        _ => Err(ServiceError::Backup(
            "an audit value of the wrong type".into(),
        )),
    }
}

fn log_entry(row: &[Value]) -> Result<(LogEntry, Vec<u8>), ServiceError> {
    let [
        seq,
        at,
        actor_id,
        actor_role,
        actor_clinic,
        actor_hpr,
        patient,
        action,
        object,
        reason,
        outcome,
        session,
        address,
        root,
    ] = row
    else {
        return Err(ServiceError::Backup(
            "an audit entry has the wrong width".into(),
        ));
    };
    Ok((
        LogEntry {
            seq: u64::try_from(int(seq)?)
                .map_err(|_| ServiceError::Backup("negative audit seq".into()))?,
            at: int(at)?,
            actor_id: text(actor_id)?,
            actor_role: text(actor_role)?,
            actor_clinic: text(actor_clinic)?,
            actor_hpr: opt_text(actor_hpr)?,
            patient: opt_text(patient)?,
            action: text(action)?,
            object: text(object)?,
            reason: text(reason)?,
            outcome: text(outcome)?,
            source_session: opt_text(session)?,
            source_address: opt_text(address)?,
        },
        bytes(root)?,
    ))
}

fn tree_head(org: &str, row: &[Value]) -> Result<SignedTreeHead, ServiceError> {
    let [size, _kind, root, signed_at, version, signature] = row else {
        return Err(ServiceError::Backup(
            "a tree head has the wrong width".into(),
        ));
    };
    let root: [u8; 32] = bytes(root)?
        .try_into()
        .map_err(|_| ServiceError::Backup("a tree head root is not 32 bytes".into()))?;
    Ok(SignedTreeHead {
        head: TreeHead {
            clinic: org.to_owned(),
            size: u64::try_from(int(size)?)
                .map_err(|_| ServiceError::Backup("negative tree size".into()))?,
            root,
            signed_at: int(signed_at)?,
        },
        key_version: u32::try_from(int(version)?)
            .map_err(|_| ServiceError::Backup("bad key version".into()))?,
        signature: bytes(signature)?,
    })
}

/// Verifies a clinic's audit log as found in the backup, before anything is written.
async fn verify_image(
    app: &Fortrolig,
    image: &ClinicImage,
) -> Result<Option<SignedTreeHead>, ServiceError> {
    let org = image.entry.org_number.as_str();
    let mut keys = HashMap::new();
    for row in app.stores().keyring.signing_keys(org).await? {
        keys.insert(crate::keys::version_u32(row.version)?, row.public_key);
    }
    if keys.is_empty() {
        return Err(ServiceError::Backup(format!(
            "the key ring has no keys for clinic {org}: restore needs the vault the backup was made with"
        )));
    }
    let empty = Vec::new();
    let heads = image
        .tables
        .get("audit_tree_heads")
        .unwrap_or(&empty)
        .iter()
        .map(|r| tree_head(org, r))
        .collect::<Result<Vec<_>, _>>()?;
    let latest = heads.iter().max_by_key(|h| h.head.size).cloned();
    let broken = |fault| ServiceError::AuditBroken {
        clinic: org.to_owned(),
        fault,
    };
    let mut verifier = LogVerifier::new(&keys, heads).map_err(broken)?;
    let mut entries: Vec<(LogEntry, Vec<u8>)> = image
        .tables
        .get("audit_entries")
        .unwrap_or(&empty)
        .iter()
        .map(|r| log_entry(r))
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|(e, _)| e.seq);
    for (entry, root) in &entries {
        verifier.push(entry, root).map_err(broken)?;
    }
    verifier.finish().map_err(broken)?;
    Ok(latest)
}

/// Restores every clinic in the backup, replacing their current stores. The whole file
/// and every clinic's audit log are verified first; on any fault nothing is written.
pub async fn restore(app: &Fortrolig, file: &Path) -> Result<RestoreSummary, ServiceError> {
    let bytes = std::fs::read(file).map_err(io_err(file))?;
    let plain = open_file(app, &bytes)?;
    let images = parse(&plain)?;
    let mut latest_heads = Vec::new();
    for image in &images {
        latest_heads.push(verify_image(app, image).await?);
    }
    let stores = app.stores();
    let label = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut summary = RestoreSummary {
        clinics: Vec::new(),
        rows: 0,
        shredded_dropped: 0,
        threads_dropped: 0,
    };
    for (image, latest) in images.iter().zip(latest_heads) {
        let org = &image.entry.org_number;
        app.forget_clinic(org).await;
        let store = stores.recreate_clinic_store(org).await?;
        for table in CLINIC_TABLES {
            if let Some(rows) = image.tables.get(table.name) {
                table.load(store.db(), rows).await?;
                summary.rows += rows.len() as u64;
            }
        }
        store.close().await;
        stores.upsert_clinic(&image.entry).await?;
        if let Some(head) = &latest {
            stores.keyring.set_anchor(org.as_str(), head, true).await?;
        }
        let clinic = app.clinic(org).await?;
        let mut shredded = Vec::new();
        for row in image.tables.get("patients").into_iter().flatten() {
            if let Some(Value::Bytes(id)) = row.first()
                && stores
                    .keyring
                    .patient_key(org.as_str(), id)
                    .await?
                    .is_none()
            {
                shredded.push(patient_id(id)?);
            }
        }
        summary.shredded_dropped += shredded.len();
        let threads = clinic.threads_without_keys().await?;
        summary.threads_dropped += threads.len();
        let ctx = ActContext::system("restore", org).with_reason("gjenoppretting");
        clinic
            .finish_restore(&ctx, &label, &shredded, &threads)
            .await?;
        summary.clinics.push(org.to_string());
    }
    Ok(summary)
}
