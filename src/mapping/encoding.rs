//! Text encodings of exports: what a file is written in, and reading it as UTF-8.
//!
//! Shops export in whatever their spreadsheet saves: UTF-8 (with or without a BOM), Excel's
//! "Unicode Text" (UTF-16LE with a BOM, tab-separated), Windows-1250 / ISO 8859-2 in Central
//! Europe, Windows-1252 in Western Europe. lbimport reads any of them and always writes UTF-8.
//!
//! [`sniff`] decides from the first bytes: a BOM, else the NUL pattern of UTF-16 without a
//! BOM, else valid UTF-8, else a guess among legacy encodings by `chardetng` (the detector
//! Firefox uses) — each with the evidence, so that a guess can be shown and overridden
//! (`--encoding`).

use std::io::Read;

use encoding_rs::Encoding;

/// What [`sniff`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// The encoding.
    pub encoding: &'static Encoding,
    /// Why: `BOM`, `NUL bytes`, `valid UTF-8`, `guessed`.
    pub evidence: &'static str,
}

impl Sniffed {
    /// Whether the file is UTF-8 already (nothing to transcode).
    pub fn is_utf8(&self) -> bool {
        self.encoding == encoding_rs::UTF_8
    }

    /// Lower-case name with the evidence: `windows-1250 (guessed)`.
    pub fn describe(&self) -> String {
        format!(
            "{} ({})",
            self.encoding.name().to_ascii_lowercase(),
            self.evidence
        )
    }
}

/// The encoding of a file from its first bytes (a few KiB are enough; more makes the legacy
/// guess surer). `complete`: `head` is the whole file.
pub fn sniff(head: &[u8], complete: bool) -> Sniffed {
    if let Some((enc, _)) = Encoding::for_bom(head) {
        return Sniffed {
            encoding: enc,
            evidence: "BOM",
        };
    }
    // UTF-16 without a BOM: ASCII text has a NUL in every other byte.
    let n = head.len().min(4096) & !1;
    if n >= 8 {
        let (mut even0, mut odd0) = (0usize, 0usize);
        for (i, b) in head[..n].iter().enumerate() {
            if *b == 0 {
                if i % 2 == 0 {
                    even0 += 1;
                } else {
                    odd0 += 1;
                }
            }
        }
        let half = n / 2;
        if odd0 * 10 >= half * 3 && even0 * 10 < half {
            return Sniffed {
                encoding: encoding_rs::UTF_16LE,
                evidence: "NUL bytes",
            };
        }
        if even0 * 10 >= half * 3 && odd0 * 10 < half {
            return Sniffed {
                encoding: encoding_rs::UTF_16BE,
                evidence: "NUL bytes",
            };
        }
    }
    match std::str::from_utf8(head) {
        Ok(_) => {
            return Sniffed {
                encoding: encoding_rs::UTF_8,
                evidence: "valid UTF-8",
            };
        }
        // cut in the middle of a character at the end of a partial read: still UTF-8
        Err(e) if !complete && e.error_len().is_none() => {
            return Sniffed {
                encoding: encoding_rs::UTF_8,
                evidence: "valid UTF-8",
            };
        }
        Err(_) => {}
    }
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(head, complete);
    Sniffed {
        encoding: det.guess(None, chardetng::Utf8Detection::Deny),
        evidence: "guessed",
    }
}

/// The encoding for a user's label (`windows-1250`, `cp1250`, `latin2`, `utf-16le`, …).
pub fn by_label(label: &str) -> Result<&'static Encoding, String> {
    let l = label.trim().to_ascii_lowercase();
    let l = match l.as_str() {
        "cp1250" => "windows-1250",
        "cp1252" => "windows-1252",
        "latin1" => "iso-8859-1",
        "latin2" => "iso-8859-2",
        other => other,
    };
    Encoding::for_label(l.as_bytes()).ok_or_else(|| {
        format!(
            "unknown encoding {label:?} (e.g. utf-8, utf-16le, utf-16be, windows-1250, \
             windows-1252, iso-8859-2)"
        )
    })
}

/// The text of `bytes` (without a BOM) in `enc`, malformed sequences replaced.
pub fn decode(bytes: &[u8], enc: &'static Encoding) -> String {
    let (text, _, _) = enc.decode(bytes);
    text.trim_start_matches('\u{feff}').to_string()
}

/// A reader that yields `inner`'s text as UTF-8 (its BOM removed).
pub fn utf8_reader<R: Read + Send + 'static>(
    inner: R,
    enc: &'static Encoding,
) -> Box<dyn Read + Send> {
    Box::new(
        encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(enc))
            .bom_override(true)
            .strip_bom(true)
            .build(inner),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    }

    #[test]
    fn boms_nuls_utf8_and_legacy_guesses() {
        let text = "Objednávka\tProdukt\tZákazník\n1001\tSKU-1\tJán Novák\n";
        let s = sniff(&utf16le(text, true), true);
        assert_eq!((s.encoding, s.evidence), (encoding_rs::UTF_16LE, "BOM"));
        let s = sniff(&utf16le(text, false), true);
        assert_eq!(
            (s.encoding, s.evidence),
            (encoding_rs::UTF_16LE, "NUL bytes")
        );
        assert!(sniff(text.as_bytes(), true).is_utf8());
        // Windows-1250: Czech/Slovak text
        let (cz, _, _) = encoding_rs::WINDOWS_1250.encode(
            "Číslo objednávky;Kód produktu;Zákazník;Dátum\n\
             1001;SKU-1;Ján Novák;1.3.2024\n1002;SKU-2;Žofia Čierna;2.3.2024\n\
             1003;SKU-3;Ľubomír Šťastný;3.3.2024\n",
        );
        let s = sniff(&cz, true);
        assert_eq!(s.evidence, "guessed");
        assert!(
            s.encoding == encoding_rs::WINDOWS_1250 || s.encoding == encoding_rs::ISO_8859_2,
            "{}",
            s.encoding.name()
        );
        assert!(decode(&cz, s.encoding).starts_with("Číslo objednávky;Kód produktu"));
    }

    #[test]
    fn reader_transcodes_and_drops_the_bom() {
        let text = "a\tč\n";
        let mut r = utf8_reader(
            std::io::Cursor::new(utf16le(text, true)),
            encoding_rs::UTF_16LE,
        );
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, text);
        assert_eq!(by_label("cp1250").unwrap(), encoding_rs::WINDOWS_1250);
        assert!(by_label("klingon").is_err());
    }
}
