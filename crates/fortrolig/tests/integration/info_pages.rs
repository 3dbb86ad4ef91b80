//! The clinic's information pages (P3, P11): readable before login with a plain default,
//! changed only by the clinic's administrator (CSRF-checked and audited), and bad input
//! shown again with what was typed.

use axum::http::StatusCode;
use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::{PersonName, Source, StaffId, Timestamp};
use fortrolig_service::{Clinic, SessionSubject};
use fortrolig_web::{AppState, router};

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, org};
use crate::web_support::{call, get, post};

async fn staff_cookie(
    clinic: &Clinic,
    staff: StaffId,
) -> Result<(String, String), Box<dyn std::error::Error + Send + Sync>> {
    let (token, session) = clinic
        .start_session(
            SessionSubject::Staff(staff),
            Level::High,
            "test",
            None,
            None,
            &Source::default(),
        )
        .await?;
    Ok((
        format!("fortrolig_okt={}", token.as_str()),
        session.csrf_token().to_owned(),
    ))
}

async fn info_pages_are_public_and_only_the_administrator_changes_them_p3_p11_x3(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let clinic = app
        .create_clinic(&org(ORG_A), "Informasjonsklinikken")
        .await?;
    let admin = ctx(ORG_A);
    let now = app.now();
    let year = Timestamp(now.0 + 365 * 86_400_000_000);
    let boss = clinic
        .add_staff(&admin, &PersonName::parse("Sjef Side")?, None)
        .await?;
    clinic
        .grant_role(&admin, boss, Role::ClinicAdmin, now, year)
        .await?;
    let doctor = clinic
        .add_staff(&admin, &PersonName::parse("Lege Side")?, None)
        .await?;
    clinic
        .grant_role(&admin, doctor, Role::Doctor, now, year)
        .await?;
    let routes = router(AppState::new(app.clone()), false);

    // Before login: the index and every page, with the built-in text.
    let index = call(&routes, get(&format!("/k/{ORG_A}/info"), None)?).await?;
    assert_eq!(index.status, StatusCode::OK);
    for slug in [
        "kanaler",
        "innlogging",
        "egen-enhet",
        "sletting",
        "avslutte",
    ] {
        assert!(index.body.contains(&format!("/info/{slug}")), "{slug}");
        let page = call(&routes, get(&format!("/k/{ORG_A}/info/{slug}"), None)?).await?;
        assert_eq!(page.status, StatusCode::OK, "{slug}");
    }
    let end = call(&routes, get(&format!("/k/{ORG_A}/info/avslutte"), None)?).await?;
    assert!(end.body.contains("sperrer"), "{}", end.body);
    assert_eq!(
        call(&routes, get(&format!("/k/{ORG_A}/info/ukjent"), None)?)
            .await?
            .status,
        StatusCode::NOT_FOUND
    );

    // The administrator changes a page; the patient side shows it, escaped.
    let (session_cookie, csrf) = staff_cookie(&clinic, boss).await?;
    let session_cookie = session_cookie.as_str();
    let form_path = format!("/k/{ORG_A}/ansatt/sider/kanaler");
    assert_eq!(
        call(&routes, get(&form_path, Some(session_cookie))?)
            .await?
            .status,
        StatusCode::OK
    );
    let saved = call(
        &routes,
        post(
            &form_path,
            session_cookie,
            &format!("csrf={csrf}&tittel=V%C3%A5re+kanaler&tekst=Ring+oss+%3Cb%3Epå%3C%2Fb%3E+22+33+44+55."),
        )?,
    )
    .await?;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let shown = call(&routes, get(&format!("/k/{ORG_A}/info/kanaler"), None)?).await?;
    assert!(shown.body.contains("Våre kanaler"), "{}", shown.body);
    assert!(
        shown.body.contains("&lt;b&gt;"),
        "the clinic's text is escaped"
    );

    // Bad input is shown again with what was typed; a missing CSRF token is refused.
    let bad = call(
        &routes,
        post(
            &form_path,
            session_cookie,
            &format!("csrf={csrf}&tittel=&tekst=Beholdt+tekst"),
        )?,
    )
    .await?;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("Beholdt tekst") && bad.body.contains("Tittelen"),
        "{}",
        bad.body
    );
    let forged = call(
        &routes,
        post(&form_path, session_cookie, "tittel=X&tekst=Y")?,
    )
    .await?;
    assert!(forged.status.is_client_error(), "{}", forged.status);

    // A doctor is not the administrator: refused.
    let (doctor_session, doctor_csrf) = staff_cookie(&clinic, doctor).await?;
    let doctor_session = doctor_session.as_str();
    let refused = call(
        &routes,
        post(
            &form_path,
            doctor_session,
            &format!("csrf={doctor_csrf}&tittel=X&tekst=Y"),
        )?,
    )
    .await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let still = call(&routes, get(&format!("/k/{ORG_A}/info/kanaler"), None)?).await?;
    assert!(still.body.contains("Våre kanaler"));

    // The change is on record.
    let size = clinic.verify_audit().await?.size;
    assert!(size > 0);
    let events: Vec<String> = clinic
        .store()
        .entries_up_to(size)
        .await?
        .into_iter()
        .filter(|e| e.object == "side:kanaler")
        .map(|e| e.actor_id)
        .collect();
    assert_eq!(events, vec![format!("staff:{boss}")]);
    app.close().await;
    Ok(())
}

both_backends!(info_pages_are_public_and_only_the_administrator_changes_them_p3_p11_x3);
