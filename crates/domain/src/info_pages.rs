//! The information a clinic gives patients before and during use (P3, P11): which
//! channels it uses, how to log in, to use one's own device and protect it, how to delete
//! information, and how to end or block the service. Each page has a plain-language
//! default that the clinic can replace with its own text.

/// One of the information pages every clinic has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InfoPage {
    Channels,
    Login,
    OwnDevice,
    Deletion,
    EndService,
    /// The clinic's information text shown with the consent choices (P4).
    Consent,
}

/// Longest title and text a clinic may set, in characters.
pub const MAX_TITLE: usize = 120;
pub const MAX_BODY: usize = 10_000;

impl InfoPage {
    pub const ALL: [InfoPage; 6] = [
        InfoPage::Channels,
        InfoPage::Login,
        InfoPage::OwnDevice,
        InfoPage::Deletion,
        InfoPage::EndService,
        InfoPage::Consent,
    ];

    /// The page's address part (`/k/{orgnr}/info/{slug}`).
    pub fn slug(self) -> &'static str {
        match self {
            InfoPage::Channels => "kanaler",
            InfoPage::Login => "innlogging",
            InfoPage::OwnDevice => "egen-enhet",
            InfoPage::Deletion => "sletting",
            InfoPage::EndService => "avslutte",
            InfoPage::Consent => "samtykke",
        }
    }

    pub fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.slug() == slug)
    }

    pub fn default_title(self) -> &'static str {
        match self {
            InfoPage::Channels => "Slik kan du kontakte oss",
            InfoPage::Login => "Slik logger du inn",
            InfoPage::OwnDevice => "Bruk din egen telefon eller PC",
            InfoPage::Deletion => "Slik sletter du opplysninger",
            InfoPage::EndService => "Slik avslutter eller sperrer du tjenesten",
            InfoPage::Consent => "Dette samtykker du til",
        }
    }

    pub fn default_body(self) -> &'static str {
        match self {
            InfoPage::Channels => {
                "Du kan sende oss meldinger her i pasientportalen. Meldingene er krypterte, og bare \
                 ansatte som trenger dem i arbeidet, kan lese dem.\n\n\
                 Vi sender aldri helseopplysninger på SMS eller vanlig e-post. Får du en SMS eller \
                 e-post fra oss, står det bare at noe nytt venter på deg her. Logg inn for å lese det.\n\n\
                 Haster det, ring klinikken. Ved akutt sykdom, ring 113, eller legevakten på 116 117."
            }
            InfoPage::Login => {
                "Du logger inn med BankID eller en annen elektronisk ID gjennom ID-porten.\n\n\
                 Har du ikke BankID, kan du få en aktiveringskode hos oss når du møter opp med \
                 legitimasjon (pass, nasjonalt ID-kort eller førerkort). Med koden lager du en \
                 passnøkkel på telefonen eller PC-en din, og den bruker du til å logge inn.\n\n\
                 Du blir logget ut av deg selv etter 30 minutter uten bruk."
            }
            InfoPage::OwnDevice => {
                "Bruk din egen telefon eller PC, ikke en som andre deler eller som tilhører en arbeidsgiver.\n\n\
                 Ha skjermlås med kode, hold programvaren oppdatert, og logg ut når du er ferdig. \
                 Ikke lagre vedlegg med helseopplysninger på enheten hvis andre kan se dem.\n\n\
                 Mister du telefonen, kan du avslutte alle innlogginger under «Dine økter», og be \
                 oss sperre passnøkkelen din."
            }
            InfoPage::Deletion => {
                "Du kan se alt vi har lagret om deg her, også hvem som har sett opplysningene dine.\n\n\
                 Meldinger som er ført i journalen din, kan ikke slettes, fordi helsepersonell har \
                 plikt til å dokumentere helsehjelpen. Andre opplysninger kan du be oss slette. \
                 Ta kontakt, så svarer vi innen 30 dager."
            }
            InfoPage::EndService => {
                "Du kan når som helst slutte å bruke pasientportalen under «Samtykke». Da blir \
                 du logget ut overalt, du kan ikke logge inn igjen, og vi sender deg ingen varsler. \
                 Vil du ta portalen i bruk igjen, ta kontakt med oss, så åpner vi den.\n\n\
                 Vil du ikke lenger få varsler på SMS eller e-post, kan du slå dem av under \
                 «Samtykke». Viktig informasjon får du da på annen måte, for eksempel brev eller telefon.\n\n\
                 Opplysningene dine blir liggende hos oss så lenge klinikkens regler for \
                 oppbevaring sier, og blir så slettet."
            }
            InfoPage::Consent => {
                "Du velger selv hvilke tjenester i pasientportalen du vil bruke, og om vi kan \
                 varsle deg på SMS eller e-post når noe nytt venter. Du kan endre valgene når som \
                 helst. Trekker du et samtykke, stopper tjenesten og varslene om den med en gang.\n\n\
                 Varsler sier bare at noe venter på deg, aldri hva det gjelder.\n\n\
                 Det helsepersonell må føre i journalen din, krever ikke samtykke. Det gjelder også \
                 det du allerede har sendt oss."
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PageTextError {
    #[error("the title must be 1-{MAX_TITLE} characters on one line")]
    Title,
    #[error("the text must be 1-{MAX_BODY} characters")]
    Body,
}

impl PageTextError {
    pub fn norwegian(&self) -> String {
        match self {
            PageTextError::Title => format!("Tittelen må være 1–{MAX_TITLE} tegn på én linje."),
            PageTextError::Body => format!("Teksten må være 1–{MAX_BODY} tegn."),
        }
    }
}

/// Checks a clinic's own title and text; returns them trimmed, with `\n` line ends.
pub fn check_page_text(title: &str, body: &str) -> Result<(String, String), PageTextError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE || title.chars().any(char::is_control)
    {
        return Err(PageTextError::Title);
    }
    let body = body.replace("\r\n", "\n");
    let body = body.trim();
    if body.is_empty()
        || body.chars().count() > MAX_BODY
        || body.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(PageTextError::Body);
    }
    Ok((title.to_owned(), body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_a_slug_and_a_plain_default_p3_p4_p11() {
        for page in InfoPage::ALL {
            assert_eq!(InfoPage::parse(page.slug()), Some(page));
            assert!(check_page_text(page.default_title(), page.default_body()).is_ok());
        }
        assert!(
            InfoPage::EndService
                .default_body()
                .contains("ikke logge inn igjen")
        );
        assert!(InfoPage::Consent.default_body().contains("journalen"));
        assert!(InfoPage::OwnDevice.default_body().contains("egen telefon"));
    }

    #[test]
    fn clinic_texts_are_checked() {
        assert_eq!(check_page_text("", "x"), Err(PageTextError::Title));
        assert_eq!(check_page_text("a\nb", "x"), Err(PageTextError::Title));
        assert_eq!(check_page_text("Tittel", " \n "), Err(PageTextError::Body));
        assert_eq!(
            check_page_text(" Tittel ", "Linje 1\r\nLinje 2"),
            Ok(("Tittel".into(), "Linje 1\nLinje 2".into()))
        );
    }
}
