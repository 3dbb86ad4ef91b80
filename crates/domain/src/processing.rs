//! The clinic's record of processing activities (C3; GDPR art. 30, Normen's
//! «protokoll»): what Fortrolig processes for the clinic, made from how this installation
//! is set up, so the record says what the system actually does and changes with it.
//!
//! The clinic is the controller; the record lists each processing activity with its
//! purpose, legal basis, the people and kinds of data concerned, who receives them, how
//! long they are kept and how they are protected. The clinic adds what Fortrolig cannot
//! know (its own contact person, its EPJ), so the document says where.

use crate::consent::PortalService;
use crate::retention::{Category, Policy};

/// How this installation is set up: what the record is made from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Setup {
    /// The SMS provider notices leave through (`LINK Mobility`, `Sveve`), if any.
    pub sms_provider: Option<String>,
    /// The mail server notices leave through (its host), if any.
    pub mail_server: Option<String>,
    /// Whether addresses and reservations are looked up in the contact register (KRR).
    pub contact_register: bool,
    /// Patients log in through ID-porten.
    pub idporten: bool,
    /// Staff log in through HelseID.
    pub helseid: bool,
    /// Where the data is stored: `SQLite` or `PostgreSQL`.
    pub storage: String,
}

/// One processing activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    pub name: &'static str,
    pub purpose: &'static str,
    pub legal_basis: &'static str,
    pub data_subjects: Vec<&'static str>,
    pub data: Vec<String>,
    pub recipients: Vec<String>,
    pub retention: String,
}

/// What protects every activity (the same system holds them all).
pub const SECURITY: [&str; 6] = [
    "Personopplysninger er kryptert i applikasjonen med én nøkkel per pasient (AES-256-GCM); driftspersonell kan ikke lese dem.",
    "Hver klinikk har sin egen database.",
    "Tilgang bare med tjenstlig behov (behandlingsrelasjon), nødtilgang logges og kontrolleres.",
    "Innlogging med eID på høyt nivå eller passnøkkel; økter avsluttes etter 30 minutter uten bruk.",
    "Hver tilgang og endring føres i en logg som ikke kan endres i ettertid uten at det oppdages (signerte Merkle-trær).",
    "Sletting skjer ved at pasientens nøkkel destrueres (kryptosletting), også i sikkerhetskopier.",
];

/// Where the processing takes place: no transfer out of the EEA by Fortrolig itself.
pub const TRANSFERS: &str = "Ingen overføring til land utenfor EØS fra Fortrolig. Klinikken må selv vurdere leverandørene den velger for SMS, e-post og drift.";

/// The services a clinic can offer its patients in the portal, by name.
fn service_names() -> String {
    PortalService::ALL
        .iter()
        .map(|s| match s {
            PortalService::Messaging => "meldinger",
            PortalService::Appointments => "timebestilling",
            PortalService::PrescriptionRenewal => "reseptfornyelse",
            PortalService::Video => "video",
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The record's activities for this setup and the clinic's retention periods.
pub fn activities(setup: &Setup, policy: &Policy) -> Vec<Activity> {
    let days = |c: Category| policy.days(c).get();
    let mut out = vec![Activity {
        name: "Sikker meldingsutveksling med pasienter (dialog og e-konsultasjon)",
        purpose: "Gi og følge opp helsehjelp ved skriftlig kontakt mellom pasient og klinikk.",
        legal_basis: "GDPR art. 6 nr. 1 bokstav c og e og art. 9 nr. 2 bokstav h; helsepersonelloven §§ 39–40, pasientjournalloven.",
        data_subjects: vec!["Pasienter", "Klinikkens ansatte"],
        data: vec![
            "Navn og fødselsnummer".into(),
            "Meldinger og vedlegg (helseopplysninger)".into(),
            "Når meldinger er lest, og av hvem".into(),
        ],
        recipients: vec![
            "Klinikkens helsepersonell med tjenstlig behov".into(),
            "Pasientens journal (EPJ) for det som skal journalføres".into(),
        ],
        retention: format!(
            "En avsluttet samtale slettes {} dager etter at den ble avsluttet, vedleggene etter {} dager. \
             Det som skal journalføres, slettes ikke før det er ført i journalen, og tidligst {} dager etter det. \
             Alt slettes med pasienten.",
            days(Category::Threads),
            days(Category::Attachments),
            days(Category::Journal)
        ),
    }];
    let mut notice_recipients = Vec::new();
    if let Some(sms) = &setup.sms_provider {
        notice_recipients.push(format!("{sms} (databehandler, SMS)"));
    }
    if let Some(mail) = &setup.mail_server {
        notice_recipients.push(format!("E-posttjeneren {mail} (databehandler, e-post)"));
    }
    if setup.contact_register {
        notice_recipients.push(
            "Kontakt- og reservasjonsregisteret (Digdir): oppslag av adresse og reservasjon".into(),
        );
    }
    if !notice_recipients.is_empty() {
        out.push(Activity {
            name: "Varsler på SMS og e-post om at noe nytt venter",
            purpose: "Si fra til pasienten at noe venter i portalen. Varselet inneholder aldri helseopplysninger.",
            legal_basis: "Pasientens samtykke per kanal (GDPR art. 6 nr. 1 bokstav a), som kan trekkes når som helst.",
            data_subjects: vec!["Pasienter som har samtykket"],
            data: vec![
                "Fornavn".into(),
                "Mobilnummer og e-postadresse".into(),
                "Hva slags varsel og når det ble sendt".into(),
            ],
            recipients: notice_recipients,
            retention: format!(
                "Varselets tekst og adresse slettes {} dager etter at det ble sendt, og med pasienten; \
                 at et varsel ble sendt, står i loggen.",
                days(Category::Notices)
            ),
        });
    }
    let mut login = Vec::new();
    if setup.idporten {
        login.push("ID-porten (Digdir): pasientenes innlogging".to_owned());
    }
    if setup.helseid {
        login.push("HelseID (Norsk helsenett): ansattes innlogging".to_owned());
    }
    login.push("Ingen andre: passnøkler lagres bare som offentlige nøkler".to_owned());
    out.push(Activity {
        name: "Innlogging, økter og tilgangsstyring",
        purpose: "Sikre at bare riktig person får tilgang, på riktig sikkerhetsnivå.",
        legal_basis: "GDPR art. 6 nr. 1 bokstav c og art. 32; pasientjournalloven § 22, Normen.",
        data_subjects: vec!["Pasienter", "Klinikkens ansatte"],
        data: vec![
            "Fødselsnummer (som blindindeks), sikkerhetsnivå".into(),
            "Økter: tidspunkt og nettverksadresse".into(),
            "Ansattes roller og autorisasjoner med varighet".into(),
        ],
        recipients: login,
        retention: format!(
            "Økter slettes {} dager etter at de er avsluttet eller utløpt; roller og autorisasjoner følger tilgangsgjennomgangen.",
            days(Category::Sessions)
        ),
    });
    out.push(Activity {
        name: "Logg over tilgang og endringer",
        purpose: "Avdekke og følge opp urettmessig tilgang, og gi pasienten innsyn i hvem som har sett opplysningene.",
        legal_basis: "GDPR art. 6 nr. 1 bokstav c; pasientjournalloven § 22, helsepersonelloven § 21 a.",
        data_subjects: vec!["Pasienter", "Klinikkens ansatte"],
        data: vec![
            "Hvem, når, hva og hvorfor; aldri innholdet".into(),
        ],
        recipients: vec![
            "Klinikkens administrator".into(),
            "Pasienten selv (innsyn)".into(),
        ],
        retention: "Så lenge klinikken bruker Fortrolig; loggen inneholder ikke innhold og blir stående etter sletting.".into(),
    });
    out.push(Activity {
        name: "Samtykker og pasientens rettigheter",
        purpose: "Holde orden på pasientens samtykker per tjeneste og kanal, og på krav om innsyn, retting og sletting.",
        legal_basis: "GDPR art. 6 nr. 1 bokstav c og art. 7, 15–18.",
        data_subjects: vec!["Pasienter"],
        data: vec![format!(
            "Samtykker til tjenestene ({}) og varselkanalene, med tidspunkt og tekstversjon",
            service_names()
        )],
        recipients: vec!["Klinikkens ansatte som følger opp pasienten".into()],
        retention: format!(
            "Så lenge pasienten er registrert; slettes med pasienten. En pasient som har avsluttet portalen, \
             slettes helt (kryptosletting) {} dager etter det når ingen samtale står igjen.",
            days(Category::Threads)
        ),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retention::Days;

    #[test]
    fn the_record_follows_the_setup_c3() {
        let bare = activities(&Setup::default(), &Policy::default());
        assert!(
            bare.iter().all(|a| !a.name.starts_with("Varsler")),
            "no notices without a channel"
        );
        let mut policy = Policy::default();
        policy.set(Category::Threads, Days::new(45).expect("in range"));
        let full = activities(
            &Setup {
                sms_provider: Some("LINK Mobility".into()),
                mail_server: Some("smtp.example.org".into()),
                contact_register: true,
                idporten: true,
                helseid: true,
                storage: "PostgreSQL".into(),
            },
            &policy,
        );
        let notices = full
            .iter()
            .find(|a| a.name.starts_with("Varsler"))
            .expect("a notice activity");
        assert!(
            notices
                .recipients
                .iter()
                .any(|r| r.contains("LINK Mobility"))
        );
        assert!(
            notices
                .recipients
                .iter()
                .any(|r| r.contains("smtp.example.org"))
        );
        assert!(
            notices
                .recipients
                .iter()
                .any(|r| r.contains("Kontakt- og reservasjonsregisteret"))
        );
        let login = full
            .iter()
            .find(|a| a.name.starts_with("Innlogging"))
            .expect("login");
        assert!(login.recipients.iter().any(|r| r.contains("HelseID")));
        let messaging = &full[0];
        assert!(
            messaging.retention.contains("45 dager"),
            "the clinic's own period"
        );
        for a in &full {
            assert!(!a.purpose.is_empty() && !a.legal_basis.is_empty() && !a.retention.is_empty());
            assert!(!a.data_subjects.is_empty() && !a.data.is_empty() && !a.recipients.is_empty());
        }
    }
}
