//! One integration-test binary (it links once). Each module names the requirement IDs
//! it shows; `both_backends!` runs a test on SQLite and on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step is a failed test"
)]

mod support;

mod access;
mod admin_pages;
mod audit_log;
mod backup_restore;
mod bench;
mod cli_errors;
mod consent;
mod crash;
mod crash_notices;
mod crash_server;
mod fakes;
mod grants;
mod group_commit;
mod i18n;
mod incidents;
mod info_pages;
mod innsyn;
mod keys;
mod login;
mod matrix;
mod messaging;
mod migrations;
mod notice;
mod notice_pages;
mod notices;
mod notices_krr;
mod passkeys;
mod plaintext;
mod portal_messages;
mod requests;
mod retention;
mod separation;
mod sessions;
mod shredding;
mod web;
mod web_support;
mod workspace;
mod workspace_messages;
