//! Minimal, escaped HTML for server-rendered pages.

use crate::i18n::{Lang, switch_link, tr};

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page in `lang` (its `lang` attribute, and a footer with a link to the other
/// language). `title` is plain text, already in `lang`; `body` is trusted HTML.
/// ` checked` for the radio button or box whose value a refused form held, so that the
/// page shown again keeps the choice.
pub(crate) fn checked(held: Option<&str>, value: &str) -> &'static str {
    if held == Some(value) { " checked" } else { "" }
}

pub(crate) fn page(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} – Fortrolig</title>\n<link rel=\"stylesheet\" href=\"/static/fortrolig.css\">\n</head>\n\
         <body>\n<header><p class=\"brand\">Fortrolig</p></header>\n<main id=\"innhold\">\n{body}\n</main>\n\
         <footer><p>{tagline}</p>\n<p>{switch}</p></footer>\n</body>\n</html>\n",
        code = lang.code(),
        title = escape(title),
        tagline = tr(
            lang,
            "Fortrolig – sikker kommunikasjon mellom pasient og klinikk."
        ),
        switch = switch_link(lang),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
