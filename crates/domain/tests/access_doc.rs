//! S1: the permission table in docs/ACCESS.md is generated from the code and kept equal.
//! Run with `UPDATE_ACCESS_DOC=1` to rewrite it after changing the rules.

#[test]
fn docs_access_table_matches_the_code_s1() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ACCESS.md");
    let table = fortrolig_domain::access::permission_table();
    let doc = format!(
        "# Who may see what\n\nGenerated from `fortrolig_domain::access::decide` by \
         `crates/domain/tests/access_doc.rs` (S1, S3, X2). *løft til high* means the user is sent to \
         log in again at level high. A patient sees only their own administrative and health data. \
         *behandlingsrelasjon* is the person's own care relationship with the patient or one held by \
         a team they are a current member of; ending either ends the access. Roles come only from \
         authorisations in the clinic's own store: an authorisation covering several clinics is \
         recorded in each, and one in another clinic counts for nothing here.\n\n{table}"
    );
    if std::env::var("UPDATE_ACCESS_DOC").as_deref() == Ok("1") {
        std::fs::write(path, &doc).unwrap();
    }
    let current = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        current, doc,
        "docs/ACCESS.md is out of date: run with UPDATE_ACCESS_DOC=1"
    );
}
