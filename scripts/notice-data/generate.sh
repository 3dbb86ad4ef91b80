#!/usr/bin/env bash
# Regenerates the generated data files of crates/notice_check/data from pinned package
# versions (see crates/notice_check/data/NOTICE.md). Run by hand, not in CI; CI uses the
# committed files. Needs npm, pip, python3 (with venv) and jq.
#
#   scripts/notice-data/generate.sh
#
# The hand-curated files (diagnosis-stems.txt, departments.txt, allow-words.txt,
# drug-names-no.txt) are not touched.
set -euo pipefail

DIAGNOSEKODER=1.2026.0
DRUG_NER=2.0.9
WORDFREQ=3.1.1
MSGPACK=1.1.0

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(cd "$here/../../crates/notice_check/data" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

npm pack --silent "@navikt/diagnosekoder@${DIAGNOSEKODER}" >/dev/null
tar xzf "navikt-diagnosekoder-${DIAGNOSEKODER}.tgz"
pip download --quiet --no-deps -d wheels \
  "drug-named-entity-recognition==${DRUG_NER}" "wordfreq==${WORDFREQ}"
python3 -m venv venv
venv/bin/pip install --quiet "msgpack==${MSGPACK}"
mkdir -p drug wf
(cd drug && python3 -m zipfile -e "../wheels/drug_named_entity_recognition-${DRUG_NER}-py3-none-any.whl" .)
(cd wf && python3 -m zipfile -e "../wheels/wordfreq-${WORDFREQ}-py3-none-any.whl" .)

jq -r '.[] | [.code, .text] | @tsv' package/lib/ICD10.json >icd10.tsv
jq -r '.[] | [.code, .text] | @tsv' package/lib/ICPC2.json >icpc2.tsv

venv/bin/python "$here/generate.py" \
  --icd10 icd10.tsv --icpc2 icpc2.tsv \
  --drugs drug/drug_named_entity_recognition/drug_ner_dictionary.pkl.bz2 \
  --wordfreq-nb wf/wordfreq/data/large_nb.msgpack.gz \
  --wordfreq-en wf/wordfreq/data/large_en.msgpack.gz \
  --allow "$out/allow-words.txt" \
  --out "$out"
echo "wrote generated files to $out"
