//! The language of the user interface (issue 4 item 9, P10): Norwegian bokmål, the
//! default and the source language, or English.
//!
//! Decisions:
//! - gettext-style: the bokmål text is the message id. `tr(lang, "…")` returns it as it is
//!   for bokmål and looks it up in `i18n/en.tsv` for English, falling back to bokmål, so a
//!   missing entry shows Norwegian rather than nothing. A unit test reads this crate's
//!   sources and fails on a `tr` text without an entry, an entry nothing uses, and
//!   placeholders that differ.
//! - Texts with values carry named placeholders (`{n}`) and are filled in after the lookup,
//!   so whole sentences are translated, never fragments glued together.
//! - Texts decided where `tr` cannot see the language (the error policy's messages) are
//!   marked with `n_("…")` (gettext's `N_`) and translated where they are shown.
//! - The choice: the cookie `fortrolig_sprak` (set by `GET /sprak`) wins, then the first
//!   Norwegian or English language in `Accept-Language`, else bokmål. Only the interface
//!   is translated; what the clinic or the patient wrote is shown as written.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::LazyLock;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use fortrolig_domain::messaging::{TextError, ThreadKind, ThreadStatus};
use fortrolig_domain::notice::{
    MAX_TEMPLATE, NoticeChannel, NoticeKind, NoticeStatus, TemplateError,
};
use serde::Deserialize;

use crate::html::escape;
use crate::respond::see_other;
use crate::router::AppState;
use crate::session::cookie;

/// The cookie that holds the chosen language.
pub(crate) const LANG_COOKIE: &str = "fortrolig_sprak";

/// A year, in seconds: the choice outlives the session (it is no personal data).
const LANG_COOKIE_MAX_AGE: u32 = 365 * 24 * 60 * 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    Nb,
    En,
}

impl Lang {
    /// The `lang` attribute and the cookie's value.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }

    fn other(self) -> Lang {
        match self {
            Lang::Nb => Lang::En,
            Lang::En => Lang::Nb,
        }
    }

    fn parse(text: &str) -> Option<Lang> {
        match text.trim().to_ascii_lowercase().as_str() {
            "nb" | "nn" | "no" => Some(Lang::Nb),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The cookie, else the first language we have in `Accept-Language` (in the order the
    /// browser lists them; weights are not weighed, browsers list them best first), else
    /// bokmål.
    pub(crate) fn of(headers: &HeaderMap) -> Lang {
        if let Some(lang) = cookie(headers, LANG_COOKIE).and_then(Lang::parse) {
            return lang;
        }
        headers
            .get_all(header::ACCEPT_LANGUAGE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|item| {
                let tag = item.split(';').next().unwrap_or_default().trim();
                // `nb-NO`, `en-GB`: the primary subtag decides.
                Lang::parse(tag.split('-').next().unwrap_or_default())
            })
            .next()
            .unwrap_or(Lang::Nb)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::of(&parts.headers))
    }
}

/// The English catalogue: bokmål TAB English per line, `#` comments, `\n` for a line break.
static CATALOGUE: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| parse_catalogue(include_str!("../i18n/en.tsv")));

fn unescape(text: &'static str) -> &'static str {
    if text.contains("\\n") {
        // Once per entry, at start-up: the catalogue lives as long as the process.
        Box::leak(text.replace("\\n", "\n").into_boxed_str())
    } else {
        text
    }
}

fn parse_catalogue(text: &'static str) -> HashMap<&'static str, &'static str> {
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('\t'))
        .map(|(nb, en)| (unescape(nb), unescape(en)))
        .collect()
}

/// `nb` in `lang`; bokmål when the catalogue has no entry.
pub(crate) fn tr(lang: Lang, nb: &'static str) -> &'static str {
    match lang {
        Lang::Nb => nb,
        Lang::En => CATALOGUE.get(nb).copied().unwrap_or(nb),
    }
}

/// Marks a bokmål text that is translated later with `tr` (gettext's `N_`).
pub(crate) const fn n_(nb: &'static str) -> &'static str {
    nb
}

/// A thread kind's name (the domain's `display_name`, which stays bokmål).
pub(crate) fn kind_name(lang: Lang, kind: ThreadKind) -> &'static str {
    match kind {
        ThreadKind::Office => tr(lang, "Spørsmål til kontoret"),
        ThreadKind::EConsultation => tr(lang, "E-konsultasjon"),
        ThreadKind::Administrative => tr(lang, "Praktisk spørsmål"),
        ThreadKind::ResultReady => tr(lang, "Svar er klart"),
    }
}

/// A thread kind's default notice (P3).
pub(crate) fn kind_notice(lang: Lang, kind: ThreadKind) -> &'static str {
    match kind {
        ThreadKind::Administrative => tr(
            lang,
            "Bruk dette til praktiske spørsmål, for eksempel om timer og betaling. \
             Ikke skriv om helsen din her. Vi svarer vanligvis innen tre virkedager. \
             Haster det, ring klinikken. Ved akutt sykdom, ring 113.",
        ),
        ThreadKind::EConsultation => tr(
            lang,
            "E-konsultasjon er for spørsmål som ikke haster, til en behandler som kjenner deg. \
             Svaret kan komme i løpet av tre virkedager. Ved akutt sykdom, ring 113, \
             eller legevakten på 116 117. Meldingen kan bli ført i journalen din.",
        ),
        ThreadKind::Office | ThreadKind::ResultReady => tr(
            lang,
            "Meldinger her leses av klinikkens ansatte som har behov for dem i arbeidet. \
             Vi svarer vanligvis innen tre virkedager. Ved akutt sykdom, ring 113, \
             eller legevakten på 116 117.",
        ),
    }
}

/// A thread status's name.
pub(crate) fn status_name(lang: Lang, status: ThreadStatus) -> &'static str {
    match status {
        ThreadStatus::Open => tr(lang, "Åpen"),
        ThreadStatus::WaitingForPatient => tr(lang, "Venter på pasienten"),
        ThreadStatus::Answered => tr(lang, "Besvart"),
        ThreadStatus::Closed => tr(lang, "Lukket"),
    }
}

/// Why a subject or a message text was refused (the domain's `norwegian()`).
pub(crate) fn text_error(lang: Lang, e: &TextError) -> String {
    match e {
        TextError::Empty => tr(lang, "Skriv noe før du sender.").into(),
        TextError::TooLong(n) => {
            tr(lang, "Teksten er for lang (høyst {n} tegn).").replace("{n}", &n.to_string())
        }
        TextError::Control => tr(lang, "Teksten inneholder tegn som ikke kan brukes.").into(),
    }
}

/// Why a notice template was refused before the checker looked at it (the domain's
/// `norwegian()`).
pub(crate) fn template_error(lang: Lang, e: &TemplateError) -> String {
    match e {
        TemplateError::Empty => tr(lang, "Malen er tom.").into(),
        TemplateError::TooLong => {
            tr(lang, "Malen er lengre enn {n} tegn.").replace("{n}", &MAX_TEMPLATE.to_string())
        }
        TemplateError::UnknownPlaceholder(p) => {
            tr(lang, "Ukjent eller uavsluttet plassholder: «{p}».").replace("{p}", p)
        }
        // The outer braces stay: the placeholder is shown as it is written in a template.
        TemplateError::NotForThisKind(p) => tr(
            lang,
            "Denne typen varsel kan ikke bruke plassholderen {{p}}.",
        )
        .replace("{p}", p),
        TemplateError::ControlCharacters => {
            tr(lang, "Malen kan bare ha vanlig tekst og linjeskift.").into()
        }
    }
}

/// Why an attachment was refused (the domain's `norwegian()`).
pub(crate) fn refusal(lang: Lang, r: &fortrolig_domain::attachment::Refusal) -> &'static str {
    use fortrolig_domain::attachment::Refusal;
    match r {
        Refusal::Empty => tr(lang, "Filen er tom."),
        Refusal::TooLarge { .. } => tr(lang, "Filen er for stor (høyst 10 MB)."),
        Refusal::Unknown => tr(
            lang,
            "Bare bilder (PNG, JPEG, GIF, WebP) og PDF kan legges ved.",
        ),
        Refusal::ActiveContent => tr(
            lang,
            "Filen inneholder aktivt innhold (for eksempel skript) og kan ikke legges ved.",
        ),
        // A refusal added later: its bokmål text, until the catalogue has it.
        other => other.norwegian(),
    }
}

/// A notice kind's name.
pub(crate) fn notice_kind_name(lang: Lang, kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::NewMessage => tr(lang, "Ny melding"),
        NoticeKind::AppointmentReminder => tr(lang, "Timepåminnelse"),
        NoticeKind::AppointmentChanged => tr(lang, "Endret time"),
        NoticeKind::PrescriptionReady => tr(lang, "Resept klar"),
        NoticeKind::ResultReady => tr(lang, "Svar klart"),
        NoticeKind::ActivationCode => tr(lang, "Aktiveringskode"),
    }
}

/// A notice channel's name.
pub(crate) fn channel_name(lang: Lang, channel: NoticeChannel) -> &'static str {
    match channel {
        NoticeChannel::Sms => "SMS",
        NoticeChannel::Email => tr(lang, "E-post"),
    }
}

/// Where a notice stands.
pub(crate) fn notice_status_name(lang: Lang, status: NoticeStatus) -> &'static str {
    match status {
        NoticeStatus::Queued => tr(lang, "I kø"),
        NoticeStatus::Sending => tr(lang, "Sendes"),
        NoticeStatus::Sent => tr(lang, "Sendt"),
        NoticeStatus::Delivered => tr(lang, "Levert"),
        NoticeStatus::Blocked => tr(lang, "Stoppet av kontrollen"),
        NoticeStatus::Failed => tr(lang, "Kunne ikke sendes"),
        NoticeStatus::Bounced => tr(lang, "Kom i retur"),
        NoticeStatus::Skipped => tr(lang, "Ikke sendt"),
    }
}

/// A notice's status for the patient: a skipped one says why, when the reason is one the
/// patient can act on or should know of (the stored reasons, `findings`, may list several).
pub(crate) fn notice_outcome(
    lang: Lang,
    status: NoticeStatus,
    findings: Option<&str>,
) -> &'static str {
    use fortrolig_service::notices::skip_reason as why;
    let has =
        |reason: &str| findings.is_some_and(|f| f.split(',').any(|part| part.trim() == reason));
    if status != NoticeStatus::Skipped {
        return notice_status_name(lang, status);
    }
    if has(why::CONSENT_WITHDRAWN) {
        tr(lang, "Ikke sendt: du har sagt nei til slike varsler")
    } else if has(why::PORTAL_ENDED) {
        tr(lang, "Ikke sendt: du har avsluttet bruken av portalen")
    } else if has(why::KRR_RESERVED) {
        tr(
            lang,
            "Ikke sendt: du har reservert deg i Kontakt- og reservasjonsregisteret",
        )
    } else if has(why::NO_ADDRESS) || has(why::KRR_CANNOT_NOTIFY) {
        tr(lang, "Ikke sendt: vi har ingen adresse å sende til")
    } else {
        notice_status_name(lang, status)
    }
}

/// A role's name, as shown beside a name.
pub(crate) fn role_name(lang: Lang, role: fortrolig_domain::access::Role) -> &'static str {
    use fortrolig_domain::access::Role;
    match role {
        Role::Doctor => tr(lang, "Lege"),
        Role::Nurse => tr(lang, "Sykepleier"),
        Role::Physiotherapist => tr(lang, "Fysioterapeut"),
        Role::Psychologist => tr(lang, "Psykolog"),
        Role::Secretary => tr(lang, "Sekretær"),
        Role::ClinicAdmin => tr(lang, "Klinikkadministrator"),
        Role::Operator => tr(lang, "Driftsoperatør"),
    }
}

/// How a person's identity was proven (the service's `display_name`, which stays bokmål).
pub(crate) fn proof_name(lang: Lang, proof: fortrolig_service::IdentityProof) -> &'static str {
    use fortrolig_service::IdentityProof;
    match proof {
        IdentityProof::Passport => tr(lang, "Pass, kontrollert ved oppmøte"),
        IdentityProof::NationalIdCard => tr(lang, "Nasjonalt ID-kort, kontrollert ved oppmøte"),
        IdentityProof::DrivingLicence => tr(lang, "Førerkort, kontrollert ved oppmøte"),
        IdentityProof::OperatorInvite => tr(lang, "Invitasjon fra driftsoperatør"),
    }
}

/// A security level's name, as in «sikkerhetsnivå høyt».
pub(crate) fn level_name(lang: Lang, level: fortrolig_domain::access::Level) -> &'static str {
    match level {
        fortrolig_domain::access::Level::High => tr(lang, "høyt"),
        fortrolig_domain::access::Level::Substantial => tr(lang, "betydelig"),
    }
}

tokio::task_local! {
    /// The path of the page being rendered (a GET), for the language link in the footer;
    /// the headers middleware sets it around every request.
    pub(crate) static HERE: Option<String>;
}

/// The footer's link to the other language, back to the page it was on.
pub(crate) fn switch_link(lang: Lang) -> String {
    let other = lang.other();
    let here = HERE.try_with(Clone::clone).ok().flatten();
    let next = match here.as_deref().filter(|p| local(p)) {
        // A path of ours: only the characters that mean something in a query are encoded.
        Some(path) => format!(
            "&neste={}",
            path.replace('%', "%25")
                .replace('&', "%26")
                .replace('+', "%2B")
                .replace('#', "%23")
        ),
        None => String::new(),
    };
    let (label, title) = match other {
        Lang::En => ("English", "Read this service in English"),
        Lang::Nb => ("Norsk", "Les tjenesten på norsk (bokmål)"),
    };
    format!(
        "<a href=\"{}\" lang=\"{code}\" hreflang=\"{code}\" title=\"{title}\">{label}</a>",
        escape(&format!("/sprak?til={}{next}", other.code())),
        code = other.code(),
    )
}

/// A path on this site that is safe to redirect to: no other host (`//`, `\`), nothing
/// a header cannot carry.
fn local(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && path.bytes().all(|b| b.is_ascii_graphic())
}

#[derive(Debug, Deserialize)]
pub(crate) struct SwitchQuery {
    til: Option<String>,
    neste: Option<String>,
}

/// `GET /sprak?til=en|nb&neste=/path`: remembers the choice in a cookie and goes back to
/// `neste` when it is a path here, else to the front page (no open redirect).
pub(crate) async fn switch(
    State(state): State<AppState>,
    Query(query): Query<SwitchQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = query
        .til
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_else(|| Lang::of(&headers));
    let next = query.neste.as_deref().filter(|p| local(p)).unwrap_or("/");
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    // `Lax`, not `Strict`: the choice should hold when a link from elsewhere opens a page.
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; HttpOnly; Max-Age={LANG_COOKIE_MAX_AGE}{secure}",
        lang.code()
    );
    see_other(next, Some(&cookie))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path as FsPath;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                header::HeaderName::from_static(k),
                header::HeaderValue::from_static(v),
            );
        }
        h
    }

    #[test]
    fn the_cookie_wins_then_accept_language_then_bokmaal_p10() {
        assert_eq!(Lang::of(&headers(&[])), Lang::Nb);
        assert_eq!(
            Lang::of(&headers(&[("accept-language", "en-GB,en;q=0.9")])),
            Lang::En
        );
        assert_eq!(
            Lang::of(&headers(&[("accept-language", "de, nn;q=0.8, en;q=0.5")])),
            Lang::Nb
        );
        assert_eq!(
            Lang::of(&headers(&[("accept-language", "fr, de")])),
            Lang::Nb
        );
        assert_eq!(
            Lang::of(&headers(&[
                ("accept-language", "en"),
                ("cookie", "a=b; fortrolig_sprak=nb")
            ])),
            Lang::Nb
        );
        assert_eq!(
            Lang::of(&headers(&[
                ("accept-language", "nb"),
                ("cookie", "fortrolig_sprak=en")
            ])),
            Lang::En
        );
    }

    #[test]
    fn only_local_paths_are_returned_to() {
        for good in ["/", "/k/923456783/meldinger", "/k/1/?a=b"] {
            assert!(local(good), "{good}");
        }
        for bad in [
            "",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/a b",
            "/æ",
        ] {
            assert!(!local(bad), "{bad}");
        }
    }

    #[test]
    fn bokmaal_is_returned_as_is_and_a_missing_entry_falls_back() {
        assert_eq!(tr(Lang::Nb, "Meldinger"), "Meldinger");
        assert_eq!(tr(Lang::En, "Meldinger"), "Messages");
        let unknown = "ingen slik tekst i katalogen";
        assert_eq!(tr(Lang::En, unknown), unknown);
    }

    #[test]
    fn the_web_names_of_kinds_and_statuses_are_the_domains_in_bokmaal() {
        for kind in ThreadKind::ALL {
            assert_eq!(kind_name(Lang::Nb, kind), kind.display_name());
            assert_eq!(kind_notice(Lang::Nb, kind), kind.default_notice());
        }
        for status in [
            ThreadStatus::Open,
            ThreadStatus::WaitingForPatient,
            ThreadStatus::Answered,
            ThreadStatus::Closed,
        ] {
            assert_eq!(status_name(Lang::Nb, status), status.display_name());
        }
        for kind in NoticeKind::ALL {
            assert_eq!(notice_kind_name(Lang::Nb, kind), kind.display_name());
        }
        for channel in [NoticeChannel::Sms, NoticeChannel::Email] {
            assert_eq!(channel_name(Lang::Nb, channel), channel.display_name());
        }
        for status in NoticeStatus::ALL {
            assert_eq!(notice_status_name(Lang::Nb, status), status.display_name());
        }
        for role in fortrolig_domain::access::Role::ALL {
            assert_eq!(role_name(Lang::Nb, role), role.display_name());
        }
        for proof in fortrolig_service::IdentityProof::AT_THE_DESK
            .into_iter()
            .chain([fortrolig_service::IdentityProof::OperatorInvite])
        {
            assert_eq!(proof_name(Lang::Nb, proof), proof.display_name());
        }
        for e in [TextError::Empty, TextError::TooLong(7), TextError::Control] {
            assert_eq!(text_error(Lang::Nb, &e), e.norwegian());
        }
        for e in [
            TemplateError::Empty,
            TemplateError::TooLong,
            TemplateError::UnknownPlaceholder("navn".into()),
            TemplateError::NotForThisKind("kode".into()),
            TemplateError::ControlCharacters,
        ] {
            assert_eq!(template_error(Lang::Nb, &e), e.norwegian());
        }
        use fortrolig_domain::attachment::Refusal;
        for r in [
            Refusal::Empty,
            Refusal::TooLarge { limit: 1 },
            Refusal::Unknown,
            Refusal::ActiveContent,
        ] {
            assert_eq!(refusal(Lang::Nb, &r), r.norwegian());
        }
    }

    /// The value of the Rust string literal that starts at `text` (after its `"`), and
    /// whether it ended; `\` + line break skips the following white space, as Rust does.
    fn literal(text: &str) -> Option<String> {
        let mut out = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(out),
                '\\' => match chars.next()? {
                    '\n' => {
                        while chars.peek().is_some_and(|c| c.is_whitespace()) {
                            chars.next();
                        }
                    }
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    _ => return None,
                },
                c => out.push(c),
            }
        }
        None
    }

    fn sources(dir: &FsPath, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                out.push((path.display().to_string(), text));
            }
        }
    }

    /// Every literal given to `tr(…, "…")` or `n_("…")` in this crate's sources.
    fn used_texts() -> BTreeSet<String> {
        let mut files = Vec::new();
        sources(
            &FsPath::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        assert!(files.len() > 10, "the sources were not found");
        let mut used = BTreeSet::new();
        for (name, text) in &files {
            for (at, _) in text.match_indices("tr(").chain(text.match_indices("n_(")) {
                let before = text[..at].chars().next_back();
                // Part of a longer name, or the call quoted in text or documentation.
                if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '"' | '`')) {
                    continue;
                }
                let rest = &text[at + 3..];
                let rest = if text[at..].starts_with("tr(") {
                    // The first argument is the language: skip to the comma after it.
                    match rest.find(',') {
                        Some(comma) if !rest[..comma].contains(['(', '"', ')']) => {
                            &rest[comma + 1..]
                        }
                        _ => continue,
                    }
                } else {
                    rest
                };
                let Some(quoted) = rest.trim_start().strip_prefix('"') else {
                    continue;
                };
                let value = literal(quoted);
                assert!(value.is_some(), "an unreadable literal in {name}");
                used.extend(value);
            }
        }
        used
    }

    fn placeholders(text: &str) -> BTreeSet<&str> {
        text.match_indices('{')
            .filter_map(|(at, _)| {
                let rest = &text[at + 1..];
                let end = rest.find('}')?;
                let name = &rest[..end];
                (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
                    .then_some(name)
            })
            .collect()
    }

    #[test]
    fn every_text_has_an_english_entry_every_entry_is_used_and_placeholders_match_p10() {
        let used = used_texts();
        let raw = include_str!("../i18n/en.tsv");
        let mut keys = BTreeSet::new();
        for line in raw.lines() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.split('\t').collect();
            assert_eq!(parts.len(), 2, "not bokmål TAB English: {line}");
            let (nb, en) = (unescape(parts[0]), unescape(parts[1]));
            assert!(!en.trim().is_empty(), "no English for {nb}");
            assert!(keys.insert(nb.to_owned()), "twice in the catalogue: {nb}");
            assert_eq!(placeholders(nb), placeholders(en), "placeholders: {nb}");
        }
        let missing: Vec<_> = used.difference(&keys).collect();
        assert!(missing.is_empty(), "no English entry for: {missing:#?}");
        let unused: Vec<_> = keys.difference(&used).collect();
        assert!(unused.is_empty(), "entries nothing uses: {unused:#?}");
        for nb in &used {
            assert!(!nb.contains('\t'), "a tab in a text: {nb}");
        }
    }

    #[test]
    fn a_skipped_notice_tells_the_patient_why_p4() {
        let skipped = |findings| notice_outcome(Lang::Nb, NoticeStatus::Skipped, findings);
        assert_eq!(
            skipped(Some("link,consent-withdrawn")),
            "Ikke sendt: du har sagt nei til slike varsler"
        );
        assert_eq!(
            skipped(Some("krr:reservert")),
            "Ikke sendt: du har reservert deg i Kontakt- og reservasjonsregisteret"
        );
        assert_eq!(skipped(Some("something-else")), "Ikke sendt");
        assert_eq!(skipped(None), "Ikke sendt");
        assert_eq!(
            notice_outcome(Lang::En, NoticeStatus::Skipped, Some("portal-ended")),
            "Not sent: you have ended your use of the portal"
        );
        // Only a skipped notice gets a reason: a sent one is just sent.
        assert_eq!(
            notice_outcome(Lang::Nb, NoticeStatus::Sent, Some("consent-withdrawn")),
            "Sendt"
        );
    }
}
