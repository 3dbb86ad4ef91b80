//! Which uploaded files may be attached to a message (P2), decided from the bytes alone.
//!
//! The type is sniffed from the content, never taken from the file name or the type the
//! browser declares, because the sender chooses both. Only types that every browser shows
//! inline without a plug-in are accepted — PNG, JPEG, GIF, WebP and PDF — so the patient
//! reads an attachment in the browser and never has to keep a downloaded copy (P2), which
//! would outlive its purpose where the clinic cannot delete it (X4).
//!
//! Decisions:
//! - The size limit is checked before anything else, so a huge upload costs nothing more.
//! - Signatures are matched at offset 0 and strictly. PDF allows `%PDF-` anywhere in the
//!   first 1024 bytes; we do not, because bytes in front of it are where a polyglot hides.
//! - Where it is cheap and meaningful, more than the signature is checked: a PNG must
//!   start with a well-formed IHDR chunk (with its CRC), a JPEG's SOI must be followed by a
//!   marker, a GIF must hold its screen descriptor, a WebP must name a VP8 chunk and a PDF
//!   must give a version. A file that fails is refused as [`Refusal::Unknown`].
//! - Markup (HTML, SVG, XML) is refused as [`Refusal::ActiveContent`], also behind a byte
//!   order mark (UTF-8 or UTF-16) and whitespace, and so is an unknown file that mentions
//!   an HTML or SVG tag in its first KiB. Other unknown content, JavaScript included, is
//!   [`Refusal::Unknown`]: script has no signature, and it is refused either way.
//! - Polyglots: an accepted type whose first KiB holds an HTML or SVG tag is refused,
//!   because old browsers sniffed that far and would render it as a page.
//! - A PDF is searched in full for the names that run or launch something (`/JavaScript`,
//!   `/JS`, `/Launch`, `/EmbeddedFile`, `/OpenAction`, plus `/XFA` and `/RichMedia`),
//!   after decoding `#xx` escapes, since `/J#53` is `/JS` to a reader. Names are compared
//!   by prefix, as a byte search would, so `/EmbeddedFiles` and `/JSFoo` count too.
//!   Limitation: names inside compressed object streams (`/ObjStm`, PDF 1.5+) are not
//!   seen, because that needs inflating; serve PDFs with a sandboxing CSP regardless.
//! - Pure: no I/O, no panics, time linear in the input.

/// The largest attachment accepted, in bytes (10 MiB).
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

// `Refusal::norwegian` states the limit in words; this fails the build if the two drift.
const _: () = assert!(MAX_ATTACHMENT_BYTES == 10 * 1024 * 1024);

/// How much of the start of a file the markup checks read. Internet Explorer sniffed the
/// first 256 bytes for tags; a KiB leaves a margin without scanning whole images.
const HEAD_BYTES: usize = 1024;

/// An accepted attachment type, as sniffed from the bytes.
///
/// Deliberately not `#[non_exhaustive]`: a new type must make every `match` that decides
/// how to show an attachment (image or embedded PDF) fail to compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    Png,
    Jpeg,
    Gif,
    WebP,
    Pdf,
}

impl MediaType {
    /// Every accepted type.
    pub const ALL: [MediaType; 5] = [
        MediaType::Png,
        MediaType::Jpeg,
        MediaType::Gif,
        MediaType::WebP,
        MediaType::Pdf,
    ];

    /// The MIME type to serve the attachment with (together with `nosniff`).
    pub const fn as_mime(self) -> &'static str {
        match self {
            MediaType::Png => "image/png",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Gif => "image/gif",
            MediaType::WebP => "image/webp",
            MediaType::Pdf => "application/pdf",
        }
    }

    /// A file extension that matches the content, without the dot. Use it instead of the
    /// uploaded name's extension when a file name is needed.
    pub const fn extension(self) -> &'static str {
        match self {
            MediaType::Png => "png",
            MediaType::Jpeg => "jpg",
            MediaType::Gif => "gif",
            MediaType::WebP => "webp",
            MediaType::Pdf => "pdf",
        }
    }

    /// True for the image types, which are shown with `<img>`; a PDF is embedded instead.
    pub const fn is_image(self) -> bool {
        !matches!(self, MediaType::Pdf)
    }
}

/// Why an attachment was refused. The `Display` text is for logs; show the user
/// [`Refusal::norwegian`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No bytes at all.
    #[error("the attachment is empty")]
    Empty,
    /// More than `limit` bytes.
    #[error("the attachment is larger than {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// Not one of the accepted types, or a damaged file of one.
    #[error("the attachment is not a PNG, JPEG, GIF, WebP or PDF file")]
    Unknown,
    /// Markup, script or another thing that can run: HTML, SVG, XML, an image that is
    /// also a web page, or a PDF with script, launch actions or embedded files.
    #[error("the attachment contains active content")]
    ActiveContent,
}

impl Refusal {
    /// A plain bokmål message for the person who tried to attach the file.
    pub const fn norwegian(&self) -> &'static str {
        match self {
            Refusal::Empty => "Filen er tom.",
            Refusal::TooLarge { .. } => "Filen er for stor (høyst 10 MB).",
            Refusal::Unknown => "Bare bilder (PNG, JPEG, GIF, WebP) og PDF kan legges ved.",
            Refusal::ActiveContent => {
                "Filen inneholder aktivt innhold (for eksempel skript) og kan ikke legges ved."
            }
        }
    }
}

/// Decides whether `bytes` may be attached to a message, and as what.
///
/// The order of the checks is part of the contract: size, emptiness, type, then active
/// content. Never panics, does no I/O.
pub fn sniff(bytes: &[u8]) -> Result<MediaType, Refusal> {
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(Refusal::TooLarge {
            limit: MAX_ATTACHMENT_BYTES,
        });
    }
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    let head = bytes.get(..HEAD_BYTES).unwrap_or(bytes);
    let Some(media) = signature(bytes) else {
        return Err(if looks_like_markup(head) {
            Refusal::ActiveContent
        } else {
            Refusal::Unknown
        });
    };
    if mentions_tag(head) {
        return Err(Refusal::ActiveContent);
    }
    if media == MediaType::Pdf && pdf_has_active_name(bytes) {
        return Err(Refusal::ActiveContent);
    }
    Ok(media)
}

/// The accepted type whose signature and first structure `bytes` carry, if any.
fn signature(bytes: &[u8]) -> Option<MediaType> {
    if is_png(bytes) {
        Some(MediaType::Png)
    } else if is_jpeg(bytes) {
        Some(MediaType::Jpeg)
    } else if is_gif(bytes) {
        Some(MediaType::Gif)
    } else if is_webp(bytes) {
        Some(MediaType::WebP)
    } else if is_pdf(bytes) {
        Some(MediaType::Pdf)
    } else {
        None
    }
}

const PNG_SIGNATURE: [u8; 8] = *b"\x89PNG\r\n\x1a\n";

/// The signature, then IHDR, which the PNG spec requires as the first chunk: length 13,
/// a non-zero size below 2^31, a legal bit depth for the colour type, the only defined
/// compression and filter methods, and a CRC that matches. Decoders refuse a file that
/// fails any of these, so it could not be shown anyway.
fn is_png(bytes: &[u8]) -> bool {
    // Offsets: signature 0..8, IHDR length 8..12, type 12..16, width 16..20, height 20..24,
    // five one-byte fields 24..29, CRC (over type and data) 29..33.
    let (Some(chunk), Some(crc)) = (bytes.get(12..29), be_u32(bytes, 29)) else {
        return false;
    };
    let Some(&[depth, colour, compression, filter, interlace]) = bytes.get(24..29) else {
        return false;
    };
    let dimension_ok = |d: u32| (1..=0x7FFF_FFFF).contains(&d);
    bytes.starts_with(&PNG_SIGNATURE)
        && be_u32(bytes, 8) == Some(13)
        && chunk.starts_with(b"IHDR")
        && be_u32(bytes, 16).is_some_and(dimension_ok)
        && be_u32(bytes, 20).is_some_and(dimension_ok)
        && matches!(
            (colour, depth),
            (0, 1 | 2 | 4 | 8 | 16) | (3, 1 | 2 | 4 | 8) | (2 | 4 | 6, 8 | 16)
        )
        && compression == 0
        && filter == 0
        && interlace <= 1
        && crc32(chunk) == crc
}

/// The big-endian `u32` at `at`, if the bytes reach that far.
fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let four = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(four.try_into().ok()?))
}

/// CRC-32 as PNG defines it (ISO 3309, reflected, polynomial 0xEDB88320). Bitwise: it only
/// ever sees 17 bytes, so a table would cost more than it saves.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// SOI (`FF D8`), then the first segment's marker: `FF` and a code of `C0` or above
/// (APPn, DQT, DHT, SOF, COM, …; `FF` itself is a legal fill byte).
fn is_jpeg(bytes: &[u8]) -> bool {
    matches!(bytes, [0xFF, 0xD8, 0xFF, 0xC0..=0xFF, ..])
}

/// `GIF87a` or `GIF89a` and the 7-byte logical screen descriptor that must follow.
fn is_gif(bytes: &[u8]) -> bool {
    bytes.len() >= 13 && matches!(bytes, [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..])
}

/// `RIFF`, a size, `WEBP`, and a first chunk that is one of the three WebP formats
/// (lossy `VP8 `, lossless `VP8L`, extended `VP8X`); other RIFF files (WAV, AVI) fail.
fn is_webp(bytes: &[u8]) -> bool {
    bytes.starts_with(b"RIFF")
        && bytes.get(8..15) == Some(b"WEBPVP8".as_slice())
        && matches!(bytes.get(15), Some(b' ' | b'L' | b'X'))
}

/// `%PDF-` at offset 0 and a version such as `1.7` or `2.0`.
fn is_pdf(bytes: &[u8]) -> bool {
    matches!(
        bytes.strip_prefix(b"%PDF-"),
        Some([b'1'..=b'9', b'.', b'0'..=b'9', ..])
    )
}

/// Tags that make a browser render a page or an image that can run script. Case does not
/// matter to HTML, so they are matched ignoring ASCII case. The shortest, `<svg`, turns up
/// by chance in a KiB of random (compressed) bytes about once in 500,000 files; such an
/// image is refused and can be exported again.
const ACTIVE_TAGS: [&[u8]; 9] = [
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<svg",
    b"<iframe",
    b"<object",
    b"<embed",
    b"<!doctype",
];

/// True if `head` contains any of [`ACTIVE_TAGS`].
fn mentions_tag(head: &[u8]) -> bool {
    ACTIVE_TAGS
        .iter()
        .any(|tag| head.windows(tag.len()).any(|w| w.eq_ignore_ascii_case(tag)))
}

/// For a file of no accepted type: does it look like HTML, SVG or XML? That is, after an
/// optional byte order mark and whitespace it opens a tag, comment or declaration, or it
/// mentions an active tag somewhere. UTF-16 text (with a BOM) is narrowed to its ASCII
/// characters first, so `<html>` written in UTF-16 is recognised too.
fn looks_like_markup(head: &[u8]) -> bool {
    let text: Vec<u8> = if let Some(rest) = head.strip_prefix(b"\xEF\xBB\xBF") {
        rest.to_vec()
    } else if let Some(rest) = head.strip_prefix(b"\xFF\xFE") {
        narrow_utf16(rest, |[low, high]| [high, low])
    } else if let Some(rest) = head.strip_prefix(b"\xFE\xFF") {
        narrow_utf16(rest, |unit| unit)
    } else {
        head.to_vec()
    };
    let start = text
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0C'))
        .and_then(|i| text.get(i..))
        .unwrap_or_default();
    let opens_tag = matches!(start, [b'<', b'!' | b'?' | b'/', ..])
        || matches!(start, [b'<', c, ..] if c.is_ascii_alphabetic());
    opens_tag || mentions_tag(&text)
}

/// UTF-16 code units as bytes: ASCII stays, anything else becomes `0xFF`, which starts no
/// tag. `to_be` puts a unit's two bytes in big-endian order.
fn narrow_utf16(bytes: &[u8], to_be: fn([u8; 2]) -> [u8; 2]) -> Vec<u8> {
    bytes
        .chunks_exact(2)
        .map(|unit| match unit {
            [a, b] => match to_be([*a, *b]) {
                [0, ascii] if ascii.is_ascii() => ascii,
                _ => 0xFF,
            },
            _ => 0xFF,
        })
        .collect()
}

/// PDF names that run script, start programs, carry files or act on opening. `XFA` forms
/// hold their script in XML that `/JS` does not mark, and browsers cannot show them;
/// `RichMedia` is Flash and 3D content.
const PDF_ACTIVE_NAMES: [&[u8]; 7] = [
    b"JavaScript",
    b"JS",
    b"Launch",
    b"EmbeddedFile",
    b"OpenAction",
    b"XFA",
    b"RichMedia",
];

/// The longest of [`PDF_ACTIVE_NAMES`]; decoding a name further cannot change the answer.
const PDF_NAME_PREFIX: usize = 12;

/// True if any name in the PDF (a `/` and what follows it) starts with one of
/// [`PDF_ACTIVE_NAMES`]. A name ends at the next `/`, so splitting on `/` visits each.
fn pdf_has_active_name(bytes: &[u8]) -> bool {
    bytes.split(|&b| b == b'/').skip(1).any(|after_slash| {
        let (decoded, len) = pdf_name_prefix(after_slash);
        let name = decoded.get(..len).unwrap_or_default();
        PDF_ACTIVE_NAMES
            .iter()
            .any(|active| name.starts_with(active))
    })
}

/// The first [`PDF_NAME_PREFIX`] bytes of the name that starts `after_slash`, with `#xx`
/// escapes decoded (PDF 1.2+). A `#` without two hex digits is taken literally, as
/// PDF 1.1 readers did.
fn pdf_name_prefix(after_slash: &[u8]) -> ([u8; PDF_NAME_PREFIX], usize) {
    let mut out = [0u8; PDF_NAME_PREFIX];
    let mut len = 0;
    let mut rest = after_slash;
    while len < PDF_NAME_PREFIX {
        let Some((&first, tail)) = rest.split_first() else {
            break;
        };
        if is_pdf_delimiter(first) {
            break;
        }
        let (byte, tail) = match (first, tail) {
            (b'#', [high, low, after @ ..]) => match (hex_value(*high), hex_value(*low)) {
                (Some(high), Some(low)) => ((high << 4) | low, after),
                _ => (first, tail),
            },
            _ => (first, tail),
        };
        if let Some(slot) = out.get_mut(len) {
            *slot = byte;
        }
        len += 1;
        rest = tail;
    }
    (out, len)
}

/// White-space and delimiter characters, which end a PDF name (ISO 32000 7.2.2).
fn is_pdf_delimiter(b: u8) -> bool {
    matches!(
        b,
        0 | b'\t'
            | b'\n'
            | b'\x0C'
            | b'\r'
            | b' '
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'/'
            | b'%'
    )
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A 1×1 RGBA PNG up to and including IHDR's CRC (the well-known smallest PNG header).
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";
    const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00";
    const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00";
    const WEBP: &[u8] = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00";
    const PDF: &[u8] =
        b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n%%EOF\n";

    fn with(prefix: &[u8], tail: &[u8]) -> Vec<u8> {
        [prefix, tail].concat()
    }

    #[test]
    fn attachment_accepts_each_type_from_a_minimal_header_p2() {
        assert_eq!(sniff(PNG), Ok(MediaType::Png));
        assert_eq!(sniff(JPEG), Ok(MediaType::Jpeg));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xDB\x00\x43"), Ok(MediaType::Jpeg));
        assert_eq!(sniff(GIF), Ok(MediaType::Gif));
        assert_eq!(
            sniff(b"GIF87a\x01\x00\x01\x00\x00\x00\x00"),
            Ok(MediaType::Gif)
        );
        assert_eq!(sniff(WEBP), Ok(MediaType::WebP));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Ok(MediaType::WebP));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8X"), Ok(MediaType::WebP));
        assert_eq!(sniff(PDF), Ok(MediaType::Pdf));
        assert_eq!(sniff(b"%PDF-2.0\n"), Ok(MediaType::Pdf));
    }

    #[test]
    fn attachment_mime_and_extension_follow_the_type_p2() {
        let table: Vec<_> = MediaType::ALL
            .iter()
            .map(|m| (m.as_mime(), m.extension(), m.is_image()))
            .collect();
        assert_eq!(
            table,
            [
                ("image/png", "png", true),
                ("image/jpeg", "jpg", true),
                ("image/gif", "gif", true),
                ("image/webp", "webp", true),
                ("application/pdf", "pdf", false),
            ]
        );
    }

    #[test]
    fn attachment_html_renamed_png_is_refused_p2() {
        // The function never sees the name; these are the bytes of "side.png".
        let html = b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>";
        assert_eq!(sniff(html), Err(Refusal::ActiveContent));
        assert_eq!(
            sniff(b"<HTML><p>hei</p></HTML>"),
            Err(Refusal::ActiveContent)
        );
        assert_eq!(
            sniff(b"<script>fetch('/x')</script>"),
            Err(Refusal::ActiveContent)
        );
    }

    #[test]
    fn attachment_svg_and_xml_are_refused_p2() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;
        assert_eq!(sniff(svg), Err(Refusal::ActiveContent));
        let xml_svg = br#"<?xml version="1.0"?><!-- x --><SVG></SVG>"#;
        assert_eq!(sniff(xml_svg), Err(Refusal::ActiveContent));
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?><a/>"),
            Err(Refusal::ActiveContent)
        );
        // An SVG mentioned after some other text is still refused as active content.
        assert_eq!(
            sniff(b"text first, then <svg>"),
            Err(Refusal::ActiveContent)
        );
    }

    #[test]
    fn attachment_markup_behind_bom_and_whitespace_is_refused_p2() {
        assert_eq!(
            sniff(b"\xEF\xBB\xBF \r\n\t<HtMl><body>hei</body></html>"),
            Err(Refusal::ActiveContent)
        );
        let utf16le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(" \n<html>".bytes().flat_map(|b| [b, 0]))
            .collect();
        assert_eq!(sniff(&utf16le), Err(Refusal::ActiveContent));
        let utf16be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("\t<svg>".bytes().flat_map(|b| [0, b]))
            .collect();
        assert_eq!(sniff(&utf16be), Err(Refusal::ActiveContent));
    }

    #[test]
    fn attachment_image_with_script_in_first_kib_is_refused_p2() {
        assert_eq!(
            sniff(&with(PNG, b"<script>alert(1)</script>")),
            Err(Refusal::ActiveContent)
        );
        assert_eq!(
            sniff(&with(JPEG, b"..<ScRiPt src=x>")),
            Err(Refusal::ActiveContent)
        );
        assert_eq!(sniff(&with(GIF, b"<html>")), Err(Refusal::ActiveContent));
        assert_eq!(
            sniff(&with(WEBP, b"<svg onload=x>")),
            Err(Refusal::ActiveContent)
        );
        assert_eq!(
            sniff(&with(PDF, b"<!DOCTYPE html>")),
            Err(Refusal::ActiveContent)
        );
        // The tag's last byte at offset 1023 is still inside the first KiB.
        let mut edge = with(PNG, &vec![0; HEAD_BYTES - PNG.len() - 7]);
        edge.extend_from_slice(b"<script");
        assert_eq!(edge.len(), HEAD_BYTES);
        assert_eq!(sniff(&edge), Err(Refusal::ActiveContent));
    }

    #[test]
    fn attachment_image_with_tag_beyond_first_kib_is_accepted_p2() {
        // Old browsers sniffed no further; the image is served with its type and nosniff.
        let mut late = with(PNG, &vec![0; HEAD_BYTES]);
        late.extend_from_slice(b"<script>");
        assert_eq!(sniff(&late), Ok(MediaType::Png));
    }

    #[test]
    fn attachment_pdf_with_active_names_is_refused_p2() {
        for name in [
            "/JavaScript",
            "/JS",
            "/Launch",
            "/EmbeddedFile",
            "/EmbeddedFiles",
            "/OpenAction",
            "/XFA",
            "/RichMedia",
        ] {
            let pdf = with(PDF, format!("<< /S {name} (app.alert(1)) >>").as_bytes());
            assert_eq!(sniff(&pdf), Err(Refusal::ActiveContent), "{name}");
        }
    }

    #[test]
    fn attachment_pdf_active_names_are_found_anywhere_and_escaped_p2() {
        let mut deep = with(PDF, &vec![b' '; 5 * 1024 * 1024]);
        deep.extend_from_slice(b"<</S/JavaScript/JS(x)>>");
        assert_eq!(sniff(&deep), Err(Refusal::ActiveContent));
        // `#xx` escapes spell the same name to a reader.
        for hidden in ["/J#61vaScript", "/J#53", "/#4A#53", "/#4c#61unch"] {
            let pdf = with(PDF, hidden.as_bytes());
            assert_eq!(sniff(&pdf), Err(Refusal::ActiveContent), "{hidden}");
        }
    }

    #[test]
    fn attachment_pdf_with_ordinary_names_is_accepted_p2() {
        let pdf = with(
            PDF,
            b"<< /Type /Page /Font << /F1 /Helvetica >> /URI (https://x.no) /J#ZZ /Jx /AAPL:Keywords [] >>",
        );
        assert_eq!(sniff(&pdf), Ok(MediaType::Pdf));
    }

    #[test]
    fn attachment_empty_is_refused_p2() {
        assert_eq!(sniff(b""), Err(Refusal::Empty));
    }

    #[test]
    fn attachment_too_large_is_refused_before_anything_else_p2() {
        let mut big = with(PNG, &vec![0; MAX_ATTACHMENT_BYTES - PNG.len()]);
        assert_eq!(sniff(&big), Ok(MediaType::Png));
        big.push(0);
        assert_eq!(
            sniff(&big),
            Err(Refusal::TooLarge {
                limit: MAX_ATTACHMENT_BYTES
            })
        );
        let html = vec![b'<'; MAX_ATTACHMENT_BYTES + 1];
        assert_eq!(
            sniff(&html),
            Err(Refusal::TooLarge {
                limit: MAX_ATTACHMENT_BYTES
            })
        );
    }

    #[test]
    fn attachment_unknown_and_damaged_files_are_refused_p2() {
        let mut bad_crc = PNG.to_vec();
        if let Some(last) = bad_crc.last_mut() {
            *last ^= 1;
        }
        let mut zero_width = PNG.to_vec();
        if let Some(b) = zero_width.get_mut(19) {
            *b = 0;
        }
        for (why, bytes) in [
            ("text", "Hei, her er prøvesvaret.".as_bytes().to_vec()),
            ("javascript", b"alert(document.cookie)".to_vec()),
            ("zip", b"PK\x03\x04\x14\x00".to_vec()),
            ("pdf not at 0", b"\n%PDF-1.7\n".to_vec()),
            ("pdf no version", b"%PDF-x".to_vec()),
            (
                "png signature only",
                PNG.get(..8).unwrap_or_default().to_vec(),
            ),
            (
                "png truncated ihdr",
                PNG.get(..30).unwrap_or_default().to_vec(),
            ),
            ("png bad crc", bad_crc),
            ("png zero width", zero_width),
            ("jpeg no marker", b"\xFF\xD8\xFF\x00".to_vec()),
            ("jpeg soi only", b"\xFF\xD8".to_vec()),
            ("gif no descriptor", b"GIF89a".to_vec()),
            ("wav", b"RIFF\0\0\0\0WAVEfmt ".to_vec()),
            ("webp no chunk", b"RIFF\0\0\0\0WEBP".to_vec()),
            ("less than", b"<3 takk".to_vec()),
        ] {
            assert_eq!(sniff(&bytes), Err(Refusal::Unknown), "{why}");
        }
    }

    #[test]
    fn attachment_png_crc_is_iso_3309() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn attachment_refusals_have_plain_norwegian_messages_p2() {
        assert_eq!(Refusal::Empty.norwegian(), "Filen er tom.");
        assert_eq!(
            Refusal::TooLarge {
                limit: MAX_ATTACHMENT_BYTES
            }
            .norwegian(),
            "Filen er for stor (høyst 10 MB)."
        );
        assert_eq!(
            Refusal::Unknown.norwegian(),
            "Bare bilder (PNG, JPEG, GIF, WebP) og PDF kan legges ved."
        );
        assert_eq!(
            Refusal::ActiveContent.norwegian(),
            "Filen inneholder aktivt innhold (for eksempel skript) og kan ikke legges ved."
        );
    }

    proptest! {
        #[test]
        fn attachment_arbitrary_bytes_never_panic_and_accept_only_five_types_p2(
            bytes in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..2048),
                (prop_oneof![Just(PNG), Just(JPEG), Just(GIF), Just(WEBP), Just(PDF)],
                    proptest::collection::vec(any::<u8>(), 0..2048))
                    .prop_map(|(head, tail)| with(head, &tail)),
            ]
        ) {
            if let Ok(media) = sniff(&bytes) {
                prop_assert!(MediaType::ALL.contains(&media));
                prop_assert!([
                    "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf",
                ].contains(&media.as_mime()));
            }
        }

        #[test]
        fn attachment_valid_header_and_inert_tail_is_accepted_p2(
            index in 0..5usize,
            tail in proptest::collection::vec(any::<u8>().prop_filter("no tag, no name", |b| *b != b'<' && *b != b'/'), 0..2048),
        ) {
            let (head, media) = [
                (PNG, MediaType::Png), (JPEG, MediaType::Jpeg), (GIF, MediaType::Gif),
                (WEBP, MediaType::WebP), (PDF, MediaType::Pdf),
            ].get(index).copied().unwrap_or((PNG, MediaType::Png));
            prop_assert_eq!(sniff(&with(head, &tail)), Ok(media));
        }

        #[test]
        fn attachment_tag_anywhere_in_first_kib_is_active_p2(
            index in 0..5usize,
            filler in proptest::collection::vec(any::<u8>(), 0..900),
            tag in 0..ACTIVE_TAGS.len(),
            upper in any::<bool>(),
        ) {
            let head = [PNG, JPEG, GIF, WEBP, PDF].get(index).copied().unwrap_or(PNG);
            let tag = ACTIVE_TAGS.get(tag).copied().unwrap_or(b"<svg");
            let tag = if upper { tag.to_ascii_uppercase() } else { tag.to_vec() };
            let bytes = [head, &filler, &tag].concat();
            prop_assert_eq!(sniff(&bytes), Err(Refusal::ActiveContent));
        }
    }
}
