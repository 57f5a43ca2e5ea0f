//! Value-level checks: ids here; timestamps are [`crate::spec::created_at`], re-exported.

pub use crate::spec::created_at::{
    Looks, TsKey, TsProblem, format_key, key_of, pack, parse_ts, ts_hash,
};
use crate::spec::created_at::{ZEROS, bytes_below_10, word};

/// An id that looks mangled by a spreadsheet: `1.23E+11`, `1,23E+11` or `12345.0`.
#[inline]
pub fn spreadsheet_id(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 3 || !b[0].is_ascii_digit() {
        return false;
    }
    spreadsheet_digits(s)
}

/// Whether `b` is all ASCII digits (eight at a time; the last word may overlap the one before).
#[inline(always)]
fn all_digits(b: &[u8]) -> bool {
    if b.len() < 8 {
        return b.iter().all(u8::is_ascii_digit);
    }
    let mut i = 0;
    loop {
        let at = i.min(b.len() - 8);
        match word(b, at) {
            Some(w) if bytes_below_10(w ^ ZEROS) => {}
            _ => return false,
        }
        if at + 8 == b.len() {
            return true;
        }
        i += 8;
    }
}

/// [`spreadsheet_id`] for an id of 3+ bytes starting with a digit.
fn spreadsheet_digits(s: &str) -> bool {
    let b = s.as_bytes();
    if all_digits(b) {
        return false;
    }
    if let Some(e) = b.iter().position(|&c| c == b'E' || c == b'e') {
        let mant = &b[..e];
        let mut exp = &b[e + 1..];
        if let Some(r) = exp.strip_prefix(b"+").or_else(|| exp.strip_prefix(b"-")) {
            exp = r;
        }
        let mant_ok = {
            let mut parts = mant.splitn(2, |&c| c == b'.' || c == b',');
            let int = parts.next().unwrap_or(b"");
            let frac = parts.next();
            !int.is_empty()
                && int.iter().all(u8::is_ascii_digit)
                && frac.is_none_or(|f| !f.is_empty() && f.iter().all(u8::is_ascii_digit))
        };
        return mant_ok && !exp.is_empty() && exp.iter().all(u8::is_ascii_digit);
    }
    if let Some(int) = s.strip_suffix(".0") {
        return !int.is_empty() && int.bytes().all(|c| c.is_ascii_digit());
    }
    false
}

/// Whether `s` is empty or only whitespace (`s.trim().is_empty()`, without scanning the usual
/// id that starts with a visible ASCII character).
#[inline]
pub fn is_blank(s: &str) -> bool {
    match s.as_bytes().first() {
        None => true,
        Some(&b) if b < 0x80 && !matches!(b, b' ' | b'\t'..=b'\r') => false,
        Some(_) => s.trim().is_empty(),
    }
}

/// An id with leading or trailing whitespace.
#[inline]
pub fn has_outer_whitespace(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) if f.is_ascii() && l.is_ascii() => {
            f.is_ascii_whitespace() || l.is_ascii_whitespace()
        }
        (Some(_), Some(_)) => s.trim() != s,
        _ => false,
    }
}

/// [`id_flags`]: the id is empty or only whitespace ([`is_blank`]).
pub const ID_BLANK: u8 = 1;
/// [`id_flags`]: the id has leading or trailing whitespace ([`has_outer_whitespace`]).
pub const ID_WHITESPACE: u8 = 2;
/// [`id_flags`]: the id looks mangled by a spreadsheet ([`spreadsheet_id`]).
pub const ID_SPREADSHEET: u8 = 4;

/// The three id checks at once, as `ID_*` bits. The usual id (starting with a visible ASCII
/// character, ending with an ASCII one) is settled by its first and last byte, plus a digit
/// scan when it starts with a digit.
#[inline(always)]
pub fn id_flags(s: &str) -> u8 {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) if f > b' ' && f < 0x80 && l < 0x80 => {
            let mut flags = 0;
            if l.is_ascii_whitespace() {
                flags |= ID_WHITESPACE;
            }
            if f.is_ascii_digit() && b.len() >= 3 && !all_digits(b) && spreadsheet_digits(s) {
                flags |= ID_SPREADSHEET;
            }
            flags
        }
        _ => id_flags_slow(s),
    }
}

/// [`id_flags`] for an id that is empty or starts with whitespace, a control or non-ASCII
/// character, or ends with a non-ASCII one.
#[cold]
#[inline(never)]
fn id_flags_slow(s: &str) -> u8 {
    (is_blank(s) as u8 * ID_BLANK)
        | (has_outer_whitespace(s) as u8 * ID_WHITESPACE)
        | (spreadsheet_id(s) as u8 * ID_SPREADSHEET)
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(spreadsheet_id("1.23E+11"));
        assert!(spreadsheet_id("1,23457E+11"));
        assert!(spreadsheet_id("4E5"));
        assert!(spreadsheet_id("12345.0"));
        assert!(!spreadsheet_id("/p/1E5"));
        assert!(!spreadsheet_id("12345"));
        assert!(!spreadsheet_id("ABC-E1"));
        assert!(has_outer_whitespace(" a"));
        assert!(has_outer_whitespace("a\t"));
        assert!(has_outer_whitespace("a\u{a0}"));
        assert!(!has_outer_whitespace("a b"));
        for (s, blank) in [
            ("", true),
            (" \t\r\n\x0B\x0C", true),
            ("\u{a0}\u{3000}", true),
            (" a", false),
            ("a", false),
            ("\u{a0}x", false),
            ("é", false),
        ] {
            assert_eq!(is_blank(s), blank, "{s:?}");
            assert_eq!(is_blank(s), s.trim().is_empty(), "{s:?}");
        }
    }

    #[test]
    fn id_flags_agree_with_the_single_checks() {
        let ids = [
            "",
            " ",
            "\t",
            "\x0b",
            "a\x0b",
            "\x0ba",
            "1000000001",
            "/product/2814",
            "u2473460",
            "1.23E+11",
            "1,23457E+11",
            "4E5",
            "12345.0",
            "123456789012.0",
            "1234567.0 ",
            " 1234567.0",
            "12",
            "1e",
            "12345678",
            "123456789",
            "1234567890123456x",
            "a ",
            "a\u{a0}",
            "\u{a0}a",
            "\u{3000}",
            "é1",
            "1é",
            "12é",
            "\x7f",
            "1\x7f1",
            "123 ",
            "00000000000000000000000",
            "0000000000000000000000a",
            "a0000000000000000000000",
        ];
        for s in ids {
            let want = (is_blank(s) as u8 * ID_BLANK)
                | (has_outer_whitespace(s) as u8 * ID_WHITESPACE)
                | (spreadsheet_id(s) as u8 * ID_SPREADSHEET);
            assert_eq!(id_flags(s), want, "{s:?}");
        }
        assert_eq!(id_flags("1.23E+11"), ID_SPREADSHEET);
        assert_eq!(id_flags(" 12345.0"), ID_WHITESPACE);
        assert_eq!(id_flags(" "), ID_BLANK | ID_WHITESPACE);
        for (s, want) in [
            ("", true),
            ("1", true),
            ("1234567", true),
            ("12345678", true),
            ("123456789", true),
            ("1234567890123456", true),
            ("12345678901234567", true),
            ("1234567a", false),
            ("a2345678", false),
            ("12345678a", false),
            ("1234567890123456:", false),
            ("1234567890/23456", false),
        ] {
            assert_eq!(all_digits(s.as_bytes()), want, "{s:?}");
        }
    }
}
