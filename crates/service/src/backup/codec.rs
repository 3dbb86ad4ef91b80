//! The plaintext record stream inside a backup.

use fortrolig_store::tables::Value;

use crate::error::ServiceError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    Clinic {
        org: String,
        name: String,
        created_at: i64,
    },
    Row {
        table: String,
        values: Vec<Value>,
    },
    EndClinic {
        org: String,
        rows: u64,
    },
    End {
        clinics: u64,
    },
}

fn bad(what: &str) -> ServiceError {
    ServiceError::Backup(format!("the content is malformed ({what})"))
}

pub(crate) fn encode(record: &Record, out: &mut Vec<u8>) {
    match record {
        Record::Clinic {
            org,
            name,
            created_at,
        } => {
            out.push(1);
            put_bytes(out, org.as_bytes());
            put_bytes(out, name.as_bytes());
            out.extend_from_slice(&created_at.to_be_bytes());
        }
        Record::Row { table, values } => {
            out.push(2);
            put_bytes(out, table.as_bytes());
            out.extend_from_slice(&(values.len() as u32).to_be_bytes());
            for v in values {
                match v {
                    Value::Null => out.push(0),
                    Value::Int(i) => {
                        out.push(1);
                        out.extend_from_slice(&i.to_be_bytes());
                    }
                    Value::Text(s) => {
                        out.push(2);
                        put_bytes(out, s.as_bytes());
                    }
                    Value::Bytes(b) => {
                        out.push(3);
                        put_bytes(out, b);
                    }
                }
            }
        }
        Record::EndClinic { org, rows } => {
            out.push(3);
            put_bytes(out, org.as_bytes());
            out.extend_from_slice(&rows.to_be_bytes());
        }
        Record::End { clinics } => {
            out.push(4);
            out.extend_from_slice(&clinics.to_be_bytes());
        }
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

/// Reads records from the decrypted stream, refusing anything out of bounds.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ServiceError> {
        if self.data.len() < n {
            return Err(bad("truncated record"));
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, ServiceError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, ServiceError> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| bad("number"))?;
        Ok(u32::from_be_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, ServiceError> {
        let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| bad("number"))?;
        Ok(u64::from_be_bytes(b))
    }

    fn i64(&mut self) -> Result<i64, ServiceError> {
        Ok(self.u64()? as i64)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, ServiceError> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }

    fn string(&mut self) -> Result<String, ServiceError> {
        String::from_utf8(self.bytes()?).map_err(|_| bad("text is not UTF-8"))
    }

    pub(crate) fn next_record(&mut self) -> Result<Option<Record>, ServiceError> {
        if self.data.is_empty() {
            return Ok(None);
        }
        let record = match self.u8()? {
            1 => Record::Clinic {
                org: self.string()?,
                name: self.string()?,
                created_at: self.i64()?,
            },
            2 => {
                let table = self.string()?;
                let n = self.u32()? as usize;
                if n > 64 {
                    return Err(bad("row too wide"));
                }
                let mut values = Vec::with_capacity(n);
                for _ in 0..n {
                    values.push(match self.u8()? {
                        0 => Value::Null,
                        1 => Value::Int(self.i64()?),
                        2 => Value::Text(self.string()?),
                        3 => Value::Bytes(self.bytes()?),
                        _ => return Err(bad("unknown value type")),
                    });
                }
                Record::Row { table, values }
            }
            3 => Record::EndClinic {
                org: self.string()?,
                rows: self.u64()?,
            },
            4 => Record::End {
                clinics: self.u64()?,
            },
            _ => return Err(bad("unknown record type")),
        };
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_a_cut_stream_never_reads_whole() -> Result<(), ServiceError> {
        let records = vec![
            Record::Clinic {
                org: "974760673".into(),
                name: "Normland".into(),
                created_at: 7,
            },
            Record::Row {
                table: "patients".into(),
                values: vec![
                    Value::Null,
                    Value::Int(-3),
                    Value::Text("x".into()),
                    Value::Bytes(vec![0, 1]),
                ],
            },
            Record::EndClinic {
                org: "974760673".into(),
                rows: 1,
            },
            Record::End { clinics: 1 },
        ];
        let mut buf = Vec::new();
        for r in &records {
            encode(r, &mut buf);
        }
        let mut reader = Reader::new(&buf);
        let mut back = Vec::new();
        while let Some(r) = reader.next_record()? {
            back.push(r);
        }
        assert_eq!(back, records);
        for cut in 0..buf.len() {
            let mut reader = Reader::new(&buf[..cut]);
            let mut n = 0;
            while let Ok(Some(_)) = reader.next_record() {
                n += 1;
            }
            assert!(n < records.len(), "a cut stream must not read whole");
        }
        Ok(())
    }
}
