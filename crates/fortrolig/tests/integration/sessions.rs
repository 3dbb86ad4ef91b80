//! Sessions (issue 3 item 5, S4, X2, X3): only a hash of the token is stored; idle and
//! absolute limits as ID-porten's; CSRF token per session; logout and "everywhere";
//! people who leave lose their sessions at once; failed logins lock out and are logged.

use std::sync::Arc;

use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::{ManualClock, PersonName, Source, Timestamp};
use fortrolig_service::{
    EndOwn, IDLE_LIMIT_MICROS, SessionProblem, SessionSubject, SessionToken, TOUCH_INTERVAL_MICROS,
};

use crate::support::{
    ORG_A, TestEnv, TestResult, both_backends, ctx, find_marker, org, patient, synthetic_fnr,
};

const MINUTE: i64 = 60_000_000;

fn source() -> Source {
    Source {
        session: None,
        address: Some("127.0.0.1".into()),
    }
}

async fn sessions_expire_end_and_never_store_the_token_s4_x2(env: &TestEnv) -> TestResult {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
    let app = env.app_with_clock(clock.clone()).await?;
    let clinic = app.create_clinic(&org(ORG_A), "Øktklinikken").await?;
    let p = clinic
        .add_patient(&ctx(ORG_A), &patient(&synthetic_fnr(700), "Økt Pasient"))
        .await?;
    let subject = SessionSubject::Patient(p);

    let (token, session) = clinic
        .start_session(
            subject,
            Level::High,
            "idporten",
            Some("sid-1"),
            None,
            &source(),
        )
        .await?;
    assert_eq!(session.level, Level::High);
    assert!(session.csrf_matches(session.csrf_token()) && !session.csrf_matches("feil"));
    let found = find_marker(&env.stored_bytes(), token.as_str().as_bytes());
    assert!(
        found.is_empty(),
        "the session token itself is never stored: {found:?}"
    );

    // Idle limit: 29 minutes apart is fine, 30 ends it.
    clock.advance_micros(29 * MINUTE);
    assert!(clinic.session(&token).await?.is_ok());
    clock.advance_micros(30 * MINUTE);
    assert_eq!(
        clinic.session(&token).await?.err(),
        Some(SessionProblem::Expired)
    );
    assert_eq!(
        clinic.session(&token).await?.err(),
        Some(SessionProblem::Ended)
    );

    // Absolute limit: active all the time, still over after 120 minutes.
    let (token, _) = clinic
        .start_session(subject, Level::High, "idporten", None, None, &source())
        .await?;
    for _ in 0..5 {
        clock.advance_micros(20 * MINUTE);
        assert!(clinic.session(&token).await?.is_ok());
    }
    clock.advance_micros(20 * MINUTE);
    assert_eq!(
        clinic.session(&token).await?.err(),
        Some(SessionProblem::Expired)
    );

    // Logout, and logout everywhere.
    let (one, s1) = clinic
        .start_session(
            subject,
            Level::Substantial,
            "idporten",
            None,
            None,
            &source(),
        )
        .await?;
    let (two, _) = clinic
        .start_session(subject, Level::High, "idporten", None, None, &source())
        .await?;
    assert_eq!(clinic.sessions_of(subject).await?.len(), 2);
    clinic.end_session(&s1, &source()).await?;
    assert_eq!(
        clinic.session(&one).await?.err(),
        Some(SessionProblem::Ended)
    );
    assert_eq!(clinic.end_all_sessions(subject, "alle").await?, 1);
    assert_eq!(
        clinic.session(&two).await?.err(),
        Some(SessionProblem::Ended)
    );
    assert_eq!(
        clinic
            .session(&SessionToken::from_cookie("s1.ukjent"))
            .await?
            .err(),
        Some(SessionProblem::Unknown)
    );

    // A member of staff who leaves loses every session at once.
    let staff = clinic
        .add_staff(&ctx(ORG_A), &PersonName::parse("Slutter Snart")?, None)
        .await?;
    clinic
        .grant_role(
            &ctx(ORG_A),
            staff,
            Role::Nurse,
            clock_now(&clock),
            Timestamp(clock_now(&clock).0 + 1000 * MINUTE),
        )
        .await?;
    let (staff_token, _) = clinic
        .start_session(
            SessionSubject::Staff(staff),
            Level::High,
            "helseid",
            None,
            None,
            &source(),
        )
        .await?;
    clinic.deactivate_staff(&ctx(ORG_A), staff).await?;
    assert_eq!(
        clinic.session(&staff_token).await?.err(),
        Some(SessionProblem::Ended)
    );

    let actions: Vec<String> = clinic
        .store()
        .entries_for_patient(&p.to_string())
        .await?
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.iter().filter(|a| *a == "session.started").count() >= 4,
        "{actions:?}"
    );
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

fn clock_now(clock: &ManualClock) -> Timestamp {
    use fortrolig_domain::Clock;
    clock.now()
}

async fn repeated_failed_logins_lock_out_are_logged_and_lose_nothing_x3(
    env: &TestEnv,
) -> TestResult {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
    let app = env.app_with_clock(clock.clone()).await?;
    let clinic = app.create_clinic(&org(ORG_A), "Låsklinikken").await?;
    let p = clinic
        .add_patient(&ctx(ORG_A), &patient(&synthetic_fnr(800), "Låst Pasient"))
        .await?;
    let account = "pid-hash-of-someone";
    for attempt in 1..=5 {
        let locked = clinic.login_failed(account, &source(), "feil kode").await?;
        assert_eq!(locked, attempt >= 5, "attempt {attempt}");
    }
    assert!(clinic.locked_out(account, "127.0.0.1").await?);
    assert!(
        !clinic.locked_out("someone-else", "10.0.0.9").await?,
        "other accounts elsewhere are not locked"
    );
    clock.advance_micros(16 * MINUTE);
    assert!(
        !clinic.locked_out(account, "127.0.0.1").await?,
        "the lock lifts after the window"
    );
    clinic.login_failed(account, &source(), "feil kode").await?;
    clinic.login_succeeded(account).await?;
    assert!(!clinic.locked_out(account, "127.0.0.1").await?);

    let denied = clinic.store().audit_size().await?;
    assert!(denied >= 8, "every failure is an audit entry");
    let out = env.cli(&["audit", "verify"]);
    assert!(out.status.success());
    // Nothing was lost by the refusals.
    assert_eq!(
        clinic.read_patient(&ctx(ORG_A), p).await?.name.as_str(),
        "Låst Pasient"
    );
    app.close().await;
    Ok(())
}

/// A stand-in for a provider's id_token: a JWT whose parts are easy to look for.
const ID_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJwaWQiOiIyMTg3OTQ5ODAxMiJ9.c2lnbmF0dXItbWFya8O4cg";

async fn sealed_id_tokens(clinic: &fortrolig_service::Clinic) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE id_token IS NOT NULL")
        .fetch_one(&clinic.store().db().pool)
        .await
}

async fn id_token_is_kept_sealed_only_while_the_session_is_open_s4_x6_x4(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Tokenklinikken").await?;
    let p = clinic
        .add_patient(&ctx(ORG_A), &patient(&synthetic_fnr(710), "Token Pasient"))
        .await?;
    let staff = clinic
        .add_staff(&ctx(ORG_A), &PersonName::parse("Token Ansatt")?, None)
        .await?;
    let (_, patient_session) = clinic
        .start_session(
            SessionSubject::Patient(p),
            Level::High,
            "idporten",
            Some("sid-1"),
            Some(ID_TOKEN),
            &source(),
        )
        .await?;
    let (_, staff_session) = clinic
        .start_session(
            SessionSubject::Staff(staff),
            Level::High,
            "helseid",
            None,
            Some(ID_TOKEN),
            &source(),
        )
        .await?;

    // Sealed at rest: neither the token nor any of its parts is in any stored byte (X6).
    let stored = env.stored_bytes();
    for part in ID_TOKEN.split('.') {
        assert!(
            find_marker(&stored, part.as_bytes()).is_empty(),
            "{part} is stored in the clear"
        );
    }
    assert_eq!(sealed_id_tokens(&clinic).await?, 2);
    // Opened again for the logout at the provider, for patients and staff alike.
    assert_eq!(
        clinic.id_token_hint(&patient_session).await?.as_deref(),
        Some(ID_TOKEN)
    );
    assert_eq!(
        clinic.id_token_hint(&staff_session).await?.as_deref(),
        Some(ID_TOKEN)
    );

    // Ending the session clears it: it was only kept for the logout.
    clinic.end_session(&staff_session, &source()).await?;
    assert_eq!(sealed_id_tokens(&clinic).await?, 1);

    // A shredded patient's id_token no longer opens (X4): logout goes by client_id.
    clinic.shred_patient(&ctx(ORG_A), p).await?;
    assert_eq!(clinic.id_token_hint(&patient_session).await?, None);
    app.close().await;
    Ok(())
}

async fn a_person_ends_one_of_their_own_sessions_in_an_audited_write_s4_x3(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Øktlisteklinikken").await?;
    let p = clinic
        .add_patient(&ctx(ORG_A), &patient(&synthetic_fnr(720), "Liste Pasient"))
        .await?;
    let other = clinic
        .add_patient(&ctx(ORG_A), &patient(&synthetic_fnr(721), "Annen Pasient"))
        .await?;
    let me = SessionSubject::Patient(p);
    let (here_token, here) = clinic
        .start_session(me, Level::High, "idporten", None, Some(ID_TOKEN), &source())
        .await?;
    let (there_token, there) = clinic
        .start_session(
            me,
            Level::Substantial,
            "idporten",
            None,
            Some(ID_TOKEN),
            &source(),
        )
        .await?;
    let (_, theirs) = clinic
        .start_session(
            SessionSubject::Patient(other),
            Level::High,
            "idporten",
            None,
            None,
            &source(),
        )
        .await?;

    // Someone else's session cannot be ended from my list, even by its reference.
    assert_eq!(
        clinic
            .end_own_session(&here, &theirs.reference(), &source())
            .await?,
        EndOwn::NotFound
    );
    assert_eq!(
        clinic
            .sessions_of(SessionSubject::Patient(other))
            .await?
            .len(),
        1
    );

    assert_eq!(
        clinic
            .end_own_session(&here, &there.reference(), &source())
            .await?,
        EndOwn::Ended
    );
    assert_eq!(
        clinic.session(&there_token).await?.err(),
        Some(SessionProblem::Ended)
    );
    assert!(
        clinic.session(&here_token).await?.is_ok(),
        "mine stays open"
    );
    assert_eq!(
        clinic
            .end_own_session(&here, &there.reference(), &source())
            .await?,
        EndOwn::NotFound,
        "already ended"
    );
    let ended: Vec<_> = clinic
        .store()
        .entries_for_patient(&p.to_string())
        .await?
        .into_iter()
        .filter(|e| e.action == "session.ended")
        .collect();
    assert_eq!(ended.len(), 1, "one entry for one ending");
    assert_eq!(ended[0].object, there.reference());
    assert_eq!(ended[0].actor_id, format!("patient:{p}"));

    // Logout everywhere: every session of mine, in one recorded write.
    assert_eq!(clinic.end_all_own_sessions(&here, &source()).await?, 1);
    assert_eq!(
        clinic.session(&here_token).await?.err(),
        Some(SessionProblem::Ended)
    );
    assert_eq!(sealed_id_tokens(&clinic).await?, 0);
    assert!(
        clinic
            .store()
            .entries_for_patient(&p.to_string())
            .await?
            .iter()
            .any(|e| e.action == "session.ended" && e.object == "session:alle")
    );
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

/// `last_seen` as stored (what the idle limit is checked against).
async fn stored_last_seen(
    clinic: &fortrolig_service::Clinic,
    subject: SessionSubject,
) -> Result<Timestamp, Box<dyn std::error::Error + Send + Sync>> {
    let sessions = clinic.sessions_of(subject).await?;
    Ok(sessions.first().ok_or("no open session")?.last_seen)
}

async fn last_seen_is_written_at_most_once_a_minute_and_idle_expiry_still_holds_s4_x2(
    env: &TestEnv,
) -> TestResult {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
    let app = env.app_with_clock(clock.clone()).await?;
    let clinic = app.create_clinic(&org(ORG_A), "Minuttklinikken").await?;
    let p = clinic
        .add_patient(&ctx(ORG_A), &patient(&synthetic_fnr(701), "Minutt Pasient"))
        .await?;
    let subject = SessionSubject::Patient(p);
    let (token, started) = clinic
        .start_session(subject, Level::High, "idporten", None, None, &source())
        .await?;
    let t0 = started.last_seen;
    assert_eq!(stored_last_seen(&clinic, subject).await?, t0);

    // Requests within the interval write nothing: the stored value stays, and the
    // session handed back says so.
    for _ in 0..3 {
        clock.advance_micros(TOUCH_INTERVAL_MICROS / 4);
        let seen = clinic.session(&token).await?.map_err(|p| p.to_string())?;
        assert_eq!(seen.last_seen, t0);
        assert_eq!(stored_last_seen(&clinic, subject).await?, t0);
    }
    // Once the stored value is a full interval old, a request moves it.
    clock.advance_micros(TOUCH_INTERVAL_MICROS / 4);
    let now = clock_now(&clock);
    let seen = clinic.session(&token).await?.map_err(|p| p.to_string())?;
    assert_eq!(seen.last_seen, now);
    assert_eq!(stored_last_seen(&clinic, subject).await?, now);

    // The idle limit counts from the stored value: a request 30 s later is not written,
    // so the session ends 30 minutes after `now`, up to one interval earlier than 30
    // minutes after its last request, never later.
    clock.advance_micros(TOUCH_INTERVAL_MICROS / 2);
    assert!(clinic.session(&token).await?.is_ok());
    assert_eq!(stored_last_seen(&clinic, subject).await?, now);
    // 30 minutes after the stored value, 29.5 after the last request: over.
    clock.advance_micros(IDLE_LIMIT_MICROS - TOUCH_INTERVAL_MICROS / 2);
    assert_eq!(
        clinic.session(&token).await?.err(),
        Some(SessionProblem::Expired)
    );
    app.close().await;
    Ok(())
}

/// A live stream checks its session without keeping it alive (issue 4 item 6): the check
/// moves nothing, says no once the session is idle too long, and says no at once after a
/// logout.
async fn a_live_streams_session_check_moves_nothing_and_sees_logout_and_idleness_s4(
    env: &TestEnv,
) -> TestResult {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
    let app = env.app_with_clock(clock.clone()).await?;
    let clinic = app.create_clinic(&org(ORG_A), "Strømklinikken").await?;
    let p = clinic
        .add_patient(&ctx(ORG_A), &patient(&synthetic_fnr(702), "Strøm Pasient"))
        .await?;
    let subject = SessionSubject::Patient(p);
    let (_, first) = clinic
        .start_session(subject, Level::High, "idporten", None, None, &source())
        .await?;
    let (_, second) = clinic
        .start_session(subject, Level::High, "idporten", None, None, &source())
        .await?;
    assert!(clinic.session_still_open(&first).await?);
    // Checking again and again over 29 minutes does not keep the session alive.
    for _ in 0..29 {
        clock.advance_micros(60_000_000);
        assert!(clinic.session_still_open(&first).await?);
    }
    assert_eq!(stored_last_seen(&clinic, subject).await?, first.last_seen);
    clock.advance_micros(60_000_000);
    assert!(!clinic.session_still_open(&first).await?, "idle too long");
    // A logout ends its own session's stream, not the other's (same person, other tab
    // logged in later: its clock is its own).
    let (token, _) = clinic
        .start_session(subject, Level::High, "idporten", None, None, &source())
        .await?;
    let third = clinic.session(&token).await?.map_err(|p| p.to_string())?;
    assert!(clinic.session_still_open(&third).await?);
    clinic.end_session(&third, &source()).await?;
    assert!(!clinic.session_still_open(&third).await?, "logged out");
    assert!(
        !clinic.session_still_open(&second).await?,
        "the second one went idle too"
    );
    app.close().await;
    Ok(())
}

both_backends!(
    last_seen_is_written_at_most_once_a_minute_and_idle_expiry_still_holds_s4_x2,
    id_token_is_kept_sealed_only_while_the_session_is_open_s4_x6_x4,
    a_person_ends_one_of_their_own_sessions_in_an_audited_write_s4_x3,
    sessions_expire_end_and_never_store_the_token_s4_x2,
    repeated_failed_logins_lock_out_are_logged_and_lose_nothing_x3,
    a_live_streams_session_check_moves_nothing_and_sees_logout_and_idleness_s4
);
