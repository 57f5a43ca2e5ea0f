//! Value-level checks: timestamps (byte-level parser) and ids.

/// A created_at value the service accepts, packed so that numeric order is time order.
/// Layout: `((((((y*13+m)*32+d)*24+h)*60+mi)*60+s)*1_000_000+us)*2 + has_fraction`.
pub type TsKey = u64;

/// Why a created_at value is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TsProblem {
    /// A zone designator (`Z`, `+02:00`, …) after an otherwise accepted timestamp.
    Zone,
    /// Another format; the value says what it looks like.
    Format(Looks),
}

/// What a rejected timestamp looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Looks {
    /// 9–10 digits.
    EpochSeconds,
    /// 12–13 digits.
    EpochMillis,
    /// 15–16 digits.
    EpochMicros,
    /// `d/m/Y` or `m/d/Y`.
    DaySlashMonth,
    /// `d.m.Y`.
    DayDotMonth,
    /// `d-m-Y`.
    DayDashMonth,
    /// `Y/m/d`.
    YearSlash,
    /// `YYYY-MM-DD` without a time.
    DateOnly,
    /// `YYYY-MM-DD HH:MM` without seconds.
    NoSeconds,
    /// Month 13, 30 February, hour 24 …
    Impossible,
    /// More than 6 fraction digits.
    LongFraction,
    /// Unpadded fields (`2023-4-2 5:04:30`).
    Unpadded,
    /// Leading or trailing whitespace.
    Whitespace,
    /// Anything else.
    Unrecognised,
}

impl Looks {
    /// Plain words.
    pub fn describe(self) -> &'static str {
        match self {
            Looks::EpochSeconds => "epoch seconds",
            Looks::EpochMillis => "epoch milliseconds",
            Looks::EpochMicros => "epoch microseconds",
            Looks::DaySlashMonth => "d/m/Y or m/d/Y",
            Looks::DayDotMonth => "d.m.Y",
            Looks::DayDashMonth => "d-m-Y",
            Looks::YearSlash => "Y/m/d",
            Looks::DateOnly => "a date without a time",
            Looks::NoSeconds => "a time without seconds",
            Looks::Impossible => "an impossible date or time",
            Looks::LongFraction => "more than 6 fraction digits",
            Looks::Unpadded => "numbers not zero-padded",
            Looks::Whitespace => "surrounding whitespace",
            Looks::Unrecognised => "an unrecognised format",
        }
    }
}

fn is_leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Pack a date-time into a [`TsKey`].
#[allow(clippy::too_many_arguments)]
pub fn pack(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32, frac: bool) -> TsKey {
    let v = ((((y as u64 * 13 + mo as u64) * 32 + d as u64) * 24 + h as u64) * 60 + mi as u64) * 60
        + s as u64;
    (v * 1_000_000 + us as u64) * 2 + frac as u64
}

/// Render a [`TsKey`] as `YYYY-MM-DD HH:MM:SS[.ffffff]`.
pub fn format_key(k: TsKey) -> String {
    let frac = k & 1 == 1;
    let mut v = k / 2;
    let us = v % 1_000_000;
    v /= 1_000_000;
    let s = v % 60;
    v /= 60;
    let mi = v % 60;
    v /= 60;
    let h = v % 24;
    v /= 24;
    let d = v % 32;
    v /= 32;
    let mo = v % 13;
    let y = v / 13;
    if frac {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

/// The key of a chrono date-time (for "now").
pub fn key_of(t: chrono::NaiveDateTime) -> TsKey {
    use chrono::{Datelike, Timelike};
    pack(
        t.year().max(0) as u32,
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second().min(59),
        (t.nanosecond() / 1000).min(999_999),
        true,
    )
}

/// Parse an accepted created_at: `YYYY-MM-DD HH:MM:SS[.f{1,6}]` or `YYYY-MM-DDTHH:MM:SS[.f{1,6}]`.
pub fn parse_ts(s: &str) -> Result<TsKey, TsProblem> {
    let b = s.as_bytes();
    if let Some(k) = parse_core(b) {
        return k;
    }
    Err(TsProblem::Format(classify(s)))
}

/// `None` = not even the shape; `Some(result)` otherwise.
fn parse_core(b: &[u8]) -> Option<Result<TsKey, TsProblem>> {
    let h: &[u8; 19] = b.get(..19)?.try_into().ok()?;
    if h[4] != b'-' || h[7] != b'-' || !(h[10] == b' ' || h[10] == b'T') {
        return None;
    }
    if h[13] != b':' || h[16] != b':' {
        return None;
    }
    // the 14 digit positions, all checked at once
    let mut bad = 0u8;
    let mut dg = [0u32; 19];
    for i in [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18] {
        let d = h[i].wrapping_sub(b'0');
        bad |= (d > 9) as u8;
        dg[i] = d as u32;
    }
    if bad != 0 {
        return None;
    }
    let y = dg[0] * 1000 + dg[1] * 100 + dg[2] * 10 + dg[3];
    let mo = dg[5] * 10 + dg[6];
    let d = dg[8] * 10 + dg[9];
    let h = dg[11] * 10 + dg[12];
    let mi = dg[14] * 10 + dg[15];
    let sec = dg[17] * 10 + dg[18];
    let mut i = 19;
    let mut us = 0u32;
    let mut frac = false;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut j = start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let n = j - start;
        if n == 0 {
            return Some(Err(TsProblem::Format(Looks::Unrecognised)));
        }
        if n > 6 {
            return Some(Err(TsProblem::Format(Looks::LongFraction)));
        }
        for &c in &b[start..j] {
            us = us * 10 + (c - b'0') as u32;
        }
        for _ in n..6 {
            us *= 10;
        }
        frac = true;
        i = j;
    }
    let valid = (1..=12).contains(&mo)
        && d >= 1
        && d <= days_in(y, mo)
        && h < 24
        && mi < 60
        && sec < 60
        && y >= 1;
    let rest = &b[i..];
    if !rest.is_empty() {
        if is_zone(rest) {
            return Some(Err(TsProblem::Zone));
        }
        if rest.iter().all(|c| c.is_ascii_whitespace()) {
            return Some(Err(TsProblem::Format(Looks::Whitespace)));
        }
        return Some(Err(TsProblem::Format(Looks::Unrecognised)));
    }
    if !valid {
        return Some(Err(TsProblem::Format(Looks::Impossible)));
    }
    Some(Ok(pack(y, mo, d, h, mi, sec, us, frac)))
}

fn is_zone(r: &[u8]) -> bool {
    let r = r.strip_prefix(b" ").unwrap_or(r);
    if r == b"Z" || r == b"z" || r.eq_ignore_ascii_case(b"UTC") || r.eq_ignore_ascii_case(b"GMT") {
        return true;
    }
    if r.len() >= 3 && (r[0] == b'+' || r[0] == b'-') {
        let t = &r[1..];
        let digits = t.iter().filter(|c| c.is_ascii_digit()).count();
        let ok_shape = t.iter().all(|c| c.is_ascii_digit() || *c == b':');
        return ok_shape && (digits == 2 || digits == 4);
    }
    false
}

fn classify(s: &str) -> Looks {
    if s.trim() != s && !s.trim().is_empty() {
        return Looks::Whitespace;
    }
    let b = s.as_bytes();
    if !b.is_empty() && b.iter().all(|c| c.is_ascii_digit()) {
        return match b.len() {
            9 | 10 => Looks::EpochSeconds,
            12 | 13 => Looks::EpochMillis,
            15 | 16 => Looks::EpochMicros,
            _ => Looks::Unrecognised,
        };
    }
    // epoch seconds with a fraction
    if let Some((a, f)) = s.split_once('.')
        && (9..=10).contains(&a.len())
        && a.bytes().all(|c| c.is_ascii_digit())
        && !f.is_empty()
        && f.bytes().all(|c| c.is_ascii_digit())
    {
        return Looks::EpochSeconds;
    }
    let date = s.split([' ', 'T']).next().unwrap_or("");
    let parts: Vec<&str> = date.split(['/', '.', '-']).collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()));
    if parts.len() == 3 && numeric {
        let sep = date
            .bytes()
            .find(|c| matches!(c, b'/' | b'.' | b'-'))
            .unwrap_or(b'-');
        let (a, c) = (parts[0].len(), parts[2].len());
        if a == 4 {
            if sep == b'/' || sep == b'.' {
                return Looks::YearSlash;
            }
            // Y-m-d: the date part is fine in shape
            let rest = &s[date.len()..];
            if parts[1].len() != 2 || parts[2].len() != 2 {
                return Looks::Unpadded;
            }
            if rest.is_empty() {
                return Looks::DateOnly;
            }
            let time = rest.trim_start_matches([' ', 'T']);
            let tparts: Vec<&str> = time.split(':').collect();
            if tparts.len() == 2 && tparts.iter().all(|p| p.bytes().all(|c| c.is_ascii_digit())) {
                return Looks::NoSeconds;
            }
            if tparts.len() == 3 && tparts.iter().any(|p| p.len() == 1) {
                return Looks::Unpadded;
            }
            return Looks::Unrecognised;
        }
        if a <= 2 && parts[1].len() <= 2 && (c == 4 || c == 2) {
            return match sep {
                b'/' => Looks::DaySlashMonth,
                b'.' => Looks::DayDotMonth,
                _ => Looks::DayDashMonth,
            };
        }
    }
    Looks::Unrecognised
}

/// An id that looks mangled by a spreadsheet: `1.23E+11`, `1,23E+11` or `12345.0`.
#[inline]
pub fn spreadsheet_id(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 3 || !b[0].is_ascii_digit() {
        return false;
    }
    spreadsheet_digits(s)
}

/// [`spreadsheet_id`] for an id of 3+ bytes starting with a digit.
fn spreadsheet_digits(s: &str) -> bool {
    let b = s.as_bytes();
    if b.iter().all(u8::is_ascii_digit) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_formats() {
        let k = parse_ts("2023-04-22 15:04:30.12312").unwrap();
        assert_eq!(format_key(k), "2023-04-22 15:04:30.123120");
        let k = parse_ts("2023-04-22 15:04:30").unwrap();
        assert_eq!(format_key(k), "2023-04-22 15:04:30");
        let k = parse_ts("2023-04-22T15:04:30").unwrap();
        assert_eq!(format_key(k), "2023-04-22 15:04:30");
        assert!(parse_ts("2024-02-29 00:00:00").is_ok());
        assert!(
            parse_ts("2023-04-22 15:04:30.999999").unwrap()
                < parse_ts("2023-04-22 15:04:31").unwrap()
        );
    }

    #[test]
    fn zones() {
        for z in [
            "2023-04-22T15:04:30Z",
            "2023-04-22 15:04:30+02:00",
            "2023-04-22T15:04:30.123-0500",
            "2023-04-22 15:04:30 UTC",
        ] {
            assert_eq!(parse_ts(z), Err(TsProblem::Zone), "{z}");
        }
    }

    #[test]
    fn rejected_formats_are_described() {
        let f = |s| match parse_ts(s) {
            Err(TsProblem::Format(l)) => l,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(f("1682175870"), Looks::EpochSeconds);
        assert_eq!(f("1682175870123"), Looks::EpochMillis);
        assert_eq!(f("22/04/2023 15:04"), Looks::DaySlashMonth);
        assert_eq!(f("22.04.2023"), Looks::DayDotMonth);
        assert_eq!(f("22-04-2023 15:04:30"), Looks::DayDashMonth);
        assert_eq!(f("2023/04/22 15:04:30"), Looks::YearSlash);
        assert_eq!(f("2023-04-22"), Looks::DateOnly);
        assert_eq!(f("2023-04-22 15:04"), Looks::NoSeconds);
        assert_eq!(f("2023-02-30 15:04:30"), Looks::Impossible);
        assert_eq!(f("2023-04-22 24:00:00"), Looks::Impossible);
        assert_eq!(f("2023-04-22 15:04:30.1234567"), Looks::LongFraction);
        assert_eq!(f("2023-4-22 15:04:30"), Looks::Unpadded);
        assert_eq!(f(" 2023-04-22 15:04:30"), Looks::Whitespace);
        assert_eq!(f("yesterday"), Looks::Unrecognised);
    }

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
}
