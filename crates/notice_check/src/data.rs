//! The data lists, embedded. See `data/NOTICE.md` for sources and licences.

pub(crate) const ICD10_CODES: &str = include_str!("../data/icd10-codes.txt");
pub(crate) const ICPC2_CODES: &str = include_str!("../data/icpc2-codes.txt");
pub(crate) const DIAGNOSIS_STEMS: &str = include_str!("../data/diagnosis-stems.txt");
pub(crate) const DIAGNOSIS_WORDS: &str = include_str!("../data/diagnosis-words.txt");
pub(crate) const DRUG_NAMES: &str = include_str!("../data/drug-names.txt");
pub(crate) const DRUG_NAMES_NO: &str = include_str!("../data/drug-names-no.txt");
pub(crate) const DEPARTMENTS: &str = include_str!("../data/departments.txt");
pub(crate) const ALLOW_WORDS: &str = include_str!("../data/allow-words.txt");
