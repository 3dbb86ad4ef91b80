//! The language of the interface through the real router (issue 4 item 9, P10): bokmål by
//! default; English for a browser that asks for it (`Accept-Language`) or has chosen it
//! (the `fortrolig_sprak` cookie set by `/sprak`), on the portal front page, the inbox, a
//! thread, the staff inbox, a staff thread and an error page; what people wrote is shown as written; the
//! switch goes back only to a path on this site. The passkey and activation pages, the
//! information pages, the test login, the administrator's pages (people, teams, retention,
//! the record of processing, emergency access, security events, the access review) and the
//! patient page follow the language too, refusals included.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind};
use fortrolig_domain::{PersonName, Source, StaffId, TeamId, Timestamp};
use fortrolig_service::{PatientActor, SessionSubject};
use fortrolig_web::{AppState, router};

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, org, patient, synthetic_fnr};
use crate::web_support::{Page, call, session_cookie};

const DAY: i64 = 86_400_000_000;

fn request(path: &str, cookie: Option<&str>, language: Option<&str>) -> Request<Body> {
    let mut r = Request::get(path);
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    if let Some(l) = language {
        r = r.header(header::ACCEPT_LANGUAGE, l);
    }
    r.body(Body::empty()).expect("a request")
}

/// `page` is in `lang`, has `present` and none of `absent`.
fn check(page: &Page, lang: &str, present: &[&str], absent: &[&str]) {
    check_status(page, StatusCode::OK, lang, present, absent);
}

/// Like `check`, for a page answered with `status`.
fn check_status(page: &Page, status: StatusCode, lang: &str, present: &[&str], absent: &[&str]) {
    assert_eq!(page.status, status, "{}", page.body);
    assert!(
        page.body.contains(&format!("<html lang=\"{lang}\">")),
        "not {lang}: {}",
        page.body
    );
    for p in present {
        assert!(page.body.contains(p), "{p:?} missing: {}", page.body);
    }
    for a in absent {
        assert!(!page.body.contains(a), "{a:?} present: {}", page.body);
    }
}

async fn english_on_request_bokmaal_by_default_p10(env: &TestEnv) -> TestResult {
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Språkklinikken").await?;
    let admin = ctx(ORG_A);
    let kari = clinic
        .add_patient(&admin, &patient(&synthetic_fnr(977), "Kari Språk"))
        .await?;
    let doctor = clinic
        .add_staff(&admin, &PersonName::parse("Lege Lund")?, None)
        .await?;
    let now = app.now();
    clinic
        .grant_role(
            &admin,
            doctor,
            Role::Doctor,
            now,
            Timestamp(now.0 + 365 * DAY),
        )
        .await?;
    clinic.start_care(&admin, doctor, kari).await?;
    let actor = PatientActor {
        patient: kari,
        level: Level::High,
        source: Source::default(),
    };
    let thread = clinic
        .open_thread(
            &actor,
            ThreadKind::Office,
            &Subject::parse("Timen neste uke")?,
            &MessageText::parse("Kan jeg flytte timen?")?,
            &[],
        )
        .await?;
    let mut cookies = Vec::new();
    for subject in [SessionSubject::Patient(kari), SessionSubject::Staff(doctor)] {
        cookies.push(session_cookie(&clinic, subject, Level::High).await?.0);
    }
    let (patient_cookie, staff_cookie) = (&cookies[0], &cookies[1]);
    let routes = router(AppState::new(app.clone()), false);
    crate::web_support::answer_consent(
        &routes,
        &format!("/k/{ORG_A}/"),
        patient_cookie,
        &crate::web_support::SERVICES,
    )
    .await?;
    let portal = format!("/k/{ORG_A}/");
    let inbox = format!("/k/{ORG_A}/meldinger");

    // Without a choice: bokmål, with a link to English that comes back to this page.
    let page = call(&routes, request(&portal, Some(patient_cookie), None)).await?;
    check(
        &page,
        "nb",
        &[
            "Meldinger",
            "Logg ut",
            &format!("/sprak?til=en&amp;neste=/k/{ORG_A}/"),
            ">English</a>",
        ],
        &["Messages", "Log out"],
    );

    // The browser asks for English: the front page is in English.
    let page = call(
        &routes,
        request(
            &portal,
            Some(patient_cookie),
            Some("en-GB,en;q=0.9,nb;q=0.5"),
        ),
    )
    .await?;
    check(
        &page,
        "en",
        &[
            "Messages",
            "Log out everywhere",
            "You are logged in as",
            ">Norsk</a>",
        ],
        &["Logg ut", "Du er logget inn", "Meldinger<"],
    );

    // The chosen language (cookie) wins over the browser's: the inbox and the thread in
    // English, the subject and the message as written.
    let chosen = format!("{patient_cookie}; fortrolig_sprak=en");
    let page = call(&routes, request(&inbox, Some(&chosen), Some("nb-NO"))).await?;
    check(
        &page,
        "en",
        &[
            "<h1>Messages</h1>",
            "New message",
            "Question for the front desk",
        ],
        &["Ny melding", "Spørsmål til kontoret", "Uleste svar"],
    );
    let page = call(
        &routes,
        request(&format!("{inbox}/{thread}"), Some(&chosen), None),
    )
    .await?;
    check(
        &page,
        "en",
        &[
            "About this channel",
            "Send the reply",
            "Not read by the clinic yet",
            "Timen neste uke",
            "Kan jeg flytte timen?",
        ],
        &["Om denne kanalen", "Send svaret", "Ikke lest av klinikken"],
    );

    // The staff inbox, in English when asked for.
    let page = call(
        &routes,
        request(
            &format!("/k/{ORG_A}/ansatt/innboks"),
            Some(staff_cookie),
            Some("en"),
        ),
    )
    .await?;
    check(
        &page,
        "en",
        &[
            "<h1>Inbox</h1>",
            "Question for the front desk",
            "Unread from the patient",
        ],
        &[
            "<h1>Innboks</h1>",
            "Spørsmål til kontoret",
            "Uleste fra pasienten",
        ],
    );
    // …and in bokmål without.
    let page = call(
        &routes,
        request(
            &format!("/k/{ORG_A}/ansatt/innboks"),
            Some(staff_cookie),
            None,
        ),
    )
    .await?;
    check(&page, "nb", &["<h1>Innboks</h1>"], &["Inbox"]);

    // The staff thread page, in English when asked for: the interface translated, the
    // subject, the message and the patient's name as written.
    let staff_thread = format!("/k/{ORG_A}/ansatt/samtale/{thread}");
    let page = call(
        &routes,
        request(&staff_thread, Some(staff_cookie), Some("en")),
    )
    .await?;
    check(
        &page,
        "en",
        &[
            "<title>Conversation",
            "Conversation settings",
            "How the conversation was presented to the patient",
            "Use the template",
            "We have received your message",
            "Mark for the medical record",
            "To the inbox",
            "Timen neste uke",
            "Kan jeg flytte timen?",
            "Kari Språk",
        ],
        &[
            "Innstillinger for samtalen",
            "Bruk malen",
            "Merk som journalverdig",
            "Til innboksen",
            "Ikke lest av klinikken",
        ],
    );
    // …and in bokmål without.
    let page = call(&routes, request(&staff_thread, Some(staff_cookie), None)).await?;
    check(
        &page,
        "nb",
        &["Innstillinger for samtalen", "Merk som journalverdig"],
        &["Conversation settings", "Mark for the medical record"],
    );

    // An error page follows the language too.
    let page = call(&routes, request("/finnes/ikke", None, Some("en"))).await?;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("<html lang=\"en\">") && page.body.contains("Page not found"));
    Ok(())
}

async fn the_language_switch_sets_a_cookie_and_stays_on_this_site_p10(env: &TestEnv) -> TestResult {
    let app = env.app().await?;
    let routes = router(AppState::new(app.clone()), false);
    let page = call(
        &routes,
        request(
            &format!("/sprak?til=en&neste=/k/{ORG_A}/meldinger"),
            None,
            None,
        ),
    )
    .await?;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), format!("/k/{ORG_A}/meldinger"));
    let cookie = page.header(header::SET_COOKIE);
    for part in [
        "fortrolig_sprak=en",
        "Path=/",
        "SameSite=Lax",
        "HttpOnly",
        "Max-Age=31536000",
    ] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    let page = call(&routes, request("/sprak?til=nb", None, None)).await?;
    assert_eq!(page.location(), "/");
    assert!(
        page.header(header::SET_COOKIE)
            .starts_with("fortrolig_sprak=nb;")
    );
    for evil in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "evil.example",
        "%2F%2Fevil.example",
    ] {
        let page = call(
            &routes,
            request(&format!("/sprak?til=en&neste={evil}"), None, None),
        )
        .await?;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{evil}");
        assert_eq!(page.location(), "/", "{evil}");
    }
    Ok(())
}

/// The pages before login: the passkey ceremonies (with the script's texts), the
/// information pages around the clinic's own text, and the demo's test login.
async fn public_pages_in_english(routes: &axum::Router) -> TestResult {
    let en = Some("en-GB,en;q=0.9");
    let page = call(routes, request(&format!("/k/{ORG_A}/aktiver"), None, en)).await?;
    check(
        &page,
        "en",
        &[
            "<h1>Set up logging in with a passkey</h1>",
            "Activation code (12 characters",
            ">Make a passkey</button>",
            "data-tekst-sjekker=\"Checking the code …\"",
            "data-tekst-avbrutt=\"The passkey was not used",
        ],
        &[
            "Aktiver innlogging med passnøkkel",
            "Lag passnøkkel",
            "Sjekker koden",
        ],
    );
    let page = call(routes, request(&format!("/k/{ORG_A}/passnokkel"), None, en)).await?;
    check(
        &page,
        "en",
        &[
            "<h1>Log in with a passkey</h1>",
            "Use the passkey you made for this clinic",
        ],
        &["Logg inn med passnøkkel", "Venter på passnøkkelen"],
    );
    let page = call(routes, request(&format!("/k/{ORG_A}/info"), None, en)).await?;
    check(
        &page,
        "en",
        &["<h1>About this service</h1>"],
        &["Om tjenesten<"],
    );
    let page = call(
        routes,
        request(&format!("/k/{ORG_A}/info/kanaler"), None, en),
    )
    .await?;
    check(
        &page,
        "en",
        &["More about this service"],
        &["Mer om tjenesten"],
    );
    let page = call(
        routes,
        request(&format!("/k/{ORG_A}/testinnlogging"), None, en),
    )
    .await?;
    check(
        &page,
        "en",
        &[
            "<h1>Test login</h1>",
            "TEST LOGIN – for demos only.",
            "Log in (test)",
        ],
        &["<h1>Testinnlogging</h1>", "TESTINNLOGGING"],
    );
    Ok(())
}

/// The administrator's pages, each asked for in English (`cookie` chooses it).
async fn admin_pages_in_english(
    routes: &axum::Router,
    cookie: &str,
    staff: StaffId,
    team: TeamId,
) -> TestResult {
    let base = format!("/k/{ORG_A}/ansatt");
    for (path, english, norwegian) in [
        (
            "tilganger".to_owned(),
            "<h1>Staff and access rights</h1>",
            "Ansatte og tilganger",
        ),
        (
            format!("tilganger/{staff}"),
            "Access rights, newest first",
            "Tilganger, nyeste først",
        ),
        ("team".to_owned(), "<h1>Team</h1>", "Klinikkens team"),
        (
            format!("team/{team}"),
            "<h1>Team: Hjerteteamet</h1>",
            "Pasienter teamet har ansvar for",
        ),
        (
            "oppbevaring".to_owned(),
            "<h1>Retention and deletion</h1>",
            "Lagre oppbevaringstidene",
        ),
        (
            "protokoll".to_owned(),
            "<h1>Record of processing activities</h1>",
            "Rettslig grunnlag",
        ),
        (
            "sider/kanaler".to_owned(),
            "Information page: ",
            "Informasjonsside: ",
        ),
        (
            "aktivering".to_owned(),
            "Activation code for a patient without BankID",
            "Lag aktiveringskode",
        ),
        (
            "nodtilgang".to_owned(),
            "<h1>Emergency access to review</h1>",
            "Nødtilganger til kontroll",
        ),
        (
            "hendelser".to_owned(),
            "<h1>Security events</h1>",
            "Sikkerhetshendelser",
        ),
        (
            "tilgangsgjennomgang".to_owned(),
            "<h1>Access review</h1>",
            "Gyldig til",
        ),
    ] {
        let page = call(
            routes,
            request(&format!("{base}/{path}"), Some(cookie), None),
        )
        .await?;
        check(&page, "en", &[english], &[norwegian]);
    }
    // A refusal of bad input is in English too.
    let list = call(
        routes,
        request(&format!("{base}/tilganger"), Some(cookie), None),
    )
    .await?;
    let form = format!("csrf={}&navn=", list.csrf());
    let refused = call(
        routes,
        crate::web_support::post(&format!("{base}/tilganger/ny"), cookie, &form)?,
    )
    .await?;
    check_status(
        &refused,
        StatusCode::BAD_REQUEST,
        "en",
        &[
            "<h1>Invalid name</h1>",
            "Enter the person&#39;s full name.",
            ">Back</a>",
        ],
        &["Ugyldig navn", "Tilbake"],
    );
    Ok(())
}

/// The notice templates (the administrator's) and the staff notice log (a doctor's), in
/// English (P10), with a template refusal; the templates' own texts are content and stay.
async fn notice_pages_in_english(
    routes: &axum::Router,
    admin_cookie: &str,
    doctor_cookie: &str,
) -> TestResult {
    let base = format!("/k/{ORG_A}/ansatt");
    let page = call(
        routes,
        request(&format!("{base}/varselmaler"), Some(admin_cookie), None),
    )
    .await?;
    check(
        &page,
        "en",
        &[
            "<h1>Notification templates</h1>",
            "<h2>Sender name</h2>",
            "<h2>New message</h2>",
            "SMS (placeholders: ",
            "Save sender name",
        ],
        &[
            "<h1>Varselmaler</h1>",
            "<h2>Avsendernavn</h2>",
            "<h2>Ny melding</h2>",
            "plassholdere",
            "Lagre avsendernavn",
        ],
    );
    let form = format!("csrf={}&tekst=Hei+{{ukjent}}", page.csrf());
    let refused = call(
        routes,
        crate::web_support::post(
            &format!("{base}/varselmaler/ny-melding/sms"),
            admin_cookie,
            &form,
        )?,
    )
    .await?;
    check_status(
        &refused,
        StatusCode::BAD_REQUEST,
        "en",
        &[
            "<h1>The template was not saved</h1>",
            "Unknown or unclosed placeholder",
        ],
        &["Malen ble ikke lagret", "Ukjent eller uavsluttet"],
    );
    let page = call(
        routes,
        request(&format!("{base}/varsler"), Some(doctor_cookie), None),
    )
    .await?;
    check(
        &page,
        "en",
        &[
            "<h1>Notifications</h1>",
            "<h2>Tasks</h2>",
            "<h2>Notification log</h2>",
        ],
        &["<h1>Varsler</h1>", "<h2>Oppgaver</h2>", "Logg over varsler"],
    );
    Ok(())
}

async fn admin_and_passkey_pages_speak_english_when_asked_p10(env: &TestEnv) -> TestResult {
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Språkklinikken").await?;
    let setup = ctx(ORG_A);
    let now = app.now();
    let mut staff = Vec::new();
    for (name, role) in [
        ("Ada Admin", Role::ClinicAdmin),
        ("Lege Lund", Role::Doctor),
    ] {
        let id = clinic
            .add_staff(&setup, &PersonName::parse(name)?, None)
            .await?;
        clinic
            .grant_role(&setup, id, role, now, Timestamp(now.0 + 365 * DAY))
            .await?;
        staff.push(id);
    }
    let (admin, doctor) = (staff[0], staff[1]);
    let kari = clinic
        .add_patient(&setup, &patient(&synthetic_fnr(978), "Kari Språk"))
        .await?;
    let ola = clinic
        .add_patient(&setup, &patient(&synthetic_fnr(979), "Ola Språk"))
        .await?;
    clinic.start_care(&setup, doctor, kari).await?;
    let team = clinic.create_team(&setup, "Hjerteteamet").await?;
    let mut state = AppState::new(app.clone());
    state.demo_login = true;
    let routes = router(state, false);

    public_pages_in_english(&routes).await?;

    let mut cookies = Vec::new();
    for id in [admin, doctor] {
        let (cookie, _) = session_cookie(&clinic, SessionSubject::Staff(id), Level::High).await?;
        cookies.push(format!("{cookie}; fortrolig_sprak=en"));
    }
    let (admin_cookie, doctor_cookie) = (&cookies[0], &cookies[1]);
    admin_pages_in_english(&routes, admin_cookie, doctor, team).await?;
    notice_pages_in_english(&routes, admin_cookie, doctor_cookie).await?;

    // The administrator's pages refuse anyone else, in the language the browser asks for
    // this time (the session cookie alone, no choice made).
    let base = format!("/k/{ORG_A}/ansatt");
    let doctor_session = doctor_cookie.split(';').next().unwrap_or_default();
    let page = call(
        &routes,
        request(
            &format!("{base}/tilganger"),
            Some(doctor_session),
            Some("en"),
        ),
    )
    .await?;
    check_status(
        &page,
        StatusCode::FORBIDDEN,
        "en",
        &[
            "No access",
            "Only the clinic&#39;s administrator manages staff",
        ],
        &["Ingen tilgang", "Bare klinikkens administrator"],
    );
    // The patient page, with and without a care relationship.
    let page = call(
        &routes,
        request(&format!("{base}/pasient/{kari}"), Some(doctor_cookie), None),
    )
    .await?;
    check(
        &page,
        "en",
        &[
            "Kari Språk",
            "Grounds for access",
            "care relationship",
            "The patient portal",
            // The patient's consents by their names, not their stored keys.
            "<td>Messages with the clinic (e-consultation)</td>",
        ],
        &[
            "Grunnlag for tilgang",
            "Pasientportalen",
            "tjeneste:",
            "varsel:sms",
        ],
    );
    let page = call(
        &routes,
        request(&format!("{base}/pasient/{ola}"), Some(doctor_cookie), None),
    )
    .await?;
    check_status(
        &page,
        StatusCode::FORBIDDEN,
        "en",
        &["<h1>No care relationship</h1>", "Request emergency access"],
        &["Ingen behandlingsrelasjon", "Be om nødtilgang"],
    );
    Ok(())
}

both_backends!(
    english_on_request_bokmaal_by_default_p10,
    the_language_switch_sets_a_cookie_and_stays_on_this_site_p10,
    admin_and_passkey_pages_speak_english_when_asked_p10,
);
