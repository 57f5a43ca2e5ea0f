//! The `created_at` grammar the service accepts, in one place: `YYYY-MM-DD HH:MM:SS` or
//! `YYYY-MM-DDTHH:MM:SS`, optionally with `.` and 1–6 fraction digits, no zone, a date and time
//! that exist. The validator, column detection ("does this column already fit?") and
//! conversion all use [`parse_ts`], so they can never disagree about a value.
//!
//! The parser is word-wise (three 8-byte words for the fixed part); a rejected value is
//! classified ([`Looks`]) to say what it resembles.

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

/// The 64-bit hash (never 0) of an accepted created_at text, from its key: the text is fixed
/// by the key, the date/time separator (byte 10) and the length (the number of fraction
/// digits), so this tells texts apart as well as a string hash does, for a fraction of the
/// work. Two rounds of folded multiplication (as in foldhash) mix the three.
#[inline]
pub fn ts_hash(key: TsKey, text: &str) -> u64 {
    const K1: u64 = 0x243F_6A88_85A3_08D3;
    const K2: u64 = 0x1319_8A2E_0370_7344;
    const K3: u64 = 0xA409_3822_299F_31D0;
    let fold = |a: u64, b: u64| {
        let p = (a as u128).wrapping_mul(b as u128);
        (p as u64) ^ ((p >> 64) as u64)
    };
    let b = text.as_bytes();
    let shape = ((b.len() as u64) << 8) | b.get(10).copied().unwrap_or(0) as u64;
    fold(fold(key ^ K1, shape ^ K2), K3) | 1
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
#[inline]
pub fn parse_ts(s: &str) -> Result<TsKey, TsProblem> {
    let b = s.as_bytes();
    if let Some(k) = parse_core(b) {
        return k;
    }
    Err(TsProblem::Format(classify(s)))
}

/// Eight bytes of `b` from `at` as a little-endian word.
#[inline(always)]
pub(crate) fn word(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(*b.get(at..)?.first_chunk::<8>()?))
}

/// The high nibble of every byte.
const NIBBLE_HI: u64 = 0xF0F0_F0F0_F0F0_F0F0;
/// 6 in every byte.
const SIX: u64 = 0x0606_0606_0606_0606;
/// `0` in every byte.
pub(crate) const ZEROS: u64 = 0x3030_3030_3030_3030;

/// Whether every byte of `y` is at most 9 (no carries cross bytes: bytes above 15 fail the
/// first test, and 15 + 6 stays within a byte).
#[inline(always)]
pub(crate) fn bytes_below_10(y: u64) -> bool {
    y & NIBBLE_HI == 0 && (y + SIX) & NIBBLE_HI == 0
}

/// `YYYY-MM-`, `DD HH:MM` and `HH:MM:SS` (bytes 0, 8 and 11 of a timestamp), digits as `0`.
const TS_A: u64 = u64::from_le_bytes(*b"0000-00-");
const TS_B: u64 = u64::from_le_bytes(*b"00 00:00");
const TS_C: u64 = u64::from_le_bytes(*b"00:00:00");
/// The separator bytes of the three words (byte 2 of the second, ' ' or 'T', is checked apart).
const SEP_A: u64 = 0xFF00_00FF_0000_0000;
const SEP_B: u64 = 0x0000_FF00_0000_0000;
const SEP_C: u64 = 0x0000_FF00_00FF_0000;
const DATE_TIME_SEP: u64 = 0xFF << 16;

/// The number written by eight digit values (0–9, one per byte, the first byte the most
/// significant digit).
#[inline(always)]
fn digits8(y: u64) -> u32 {
    let y = (y * 10 + (y >> 8)) & 0x00FF_00FF_00FF_00FF;
    let y = (y * 100 + (y >> 16)) & 0x0000_FFFF_0000_FFFF;
    ((y * 10_000 + (y >> 32)) & 0xFFFF_FFFF) as u32
}

/// Powers of ten that scale a fraction of `n` digits to microseconds.
const FRACTION_SCALE: [u32; 7] = [1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];

/// `None` = not even the shape; `Some(result)` otherwise.
///
/// The fixed part `YYYY-MM-DD HH:MM:SS` is checked and read as three overlapping 8-byte words:
/// XOR with the template turns digits into 0–9 and matching separators into 0, so one test
/// per word checks 8 positions, and `y * 10 + (y >> 8)` puts each two-digit number in a byte.
#[inline(always)]
fn parse_core(b: &[u8]) -> Option<Result<TsKey, TsProblem>> {
    if b.len() < 19 || !(b[10] == b' ' || b[10] == b'T') {
        return None;
    }
    let ya = word(b, 0)? ^ TS_A;
    let yb = (word(b, 8)? ^ TS_B) & !DATE_TIME_SEP;
    let yc = word(b, 11)? ^ TS_C;
    if !(bytes_below_10(ya) && bytes_below_10(yb) && bytes_below_10(yc))
        || (ya & SEP_A) | (yb & SEP_B) | (yc & SEP_C) != 0
    {
        return None;
    }
    // byte i of these = 10 × digit i + digit i+1 (each at most 99: no carries)
    let pa = ya * 10 + (ya >> 8);
    let pb = yb * 10 + (yb >> 8);
    let pc = yc * 10 + (yc >> 8);
    let byte = |w: u64, i: u32| ((w >> (8 * i)) & 0xFF) as u32;
    let y = byte(pa, 0) * 100 + byte(pa, 2);
    let mo = byte(pa, 5);
    let d = byte(pb, 0);
    let h = byte(pb, 3);
    let mi = byte(pb, 6);
    let sec = byte(pc, 6);
    let mut i = 19;
    let mut us = 0u32;
    let mut frac = false;
    if b.get(i) == Some(&b'.')
        && let Some(n) = b.len().checked_sub(20).filter(|n| (1..=6).contains(n))
        && let Some(w) = word(b, b.len() - 8)
        && bytes_below_10((w ^ ZEROS) & (u64::MAX << (8 * (8 - n))))
    {
        // the usual fraction: 1–6 digits up to the end, read as one word
        let y = (w ^ ZEROS) & (u64::MAX << (8 * (8 - n)));
        us = digits8(y) * FRACTION_SCALE[n];
        frac = true;
        i = b.len();
    } else if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut j = start;
        while let Some(&c) = b.get(j)
            && c.is_ascii_digit()
        {
            if j - start < 6 {
                us = us * 10 + (c - b'0') as u32;
            }
            j += 1;
        }
        let n = j - start;
        if n == 0 {
            return Some(Err(TsProblem::Format(Looks::Unrecognised)));
        }
        if n > 6 {
            return Some(Err(TsProblem::Format(Looks::LongFraction)));
        }
        us *= FRACTION_SCALE[n];
        frac = true;
        i = j;
    }
    Some(finish_ts([y, mo, d, h, mi, sec, us], frac, &b[i..]))
}

/// The end shared by the timestamp parsers: `rest` (what follows the seconds and fraction)
/// must be empty, then the date and time must exist (`f` = year, month, day, hour, minute,
/// second, microseconds).
#[inline]
fn finish_ts(f: [u32; 7], frac: bool, rest: &[u8]) -> Result<TsKey, TsProblem> {
    let [y, mo, d, h, mi, sec, us] = f;
    if !rest.is_empty() {
        if is_zone(rest) {
            return Err(TsProblem::Zone);
        }
        if rest.iter().all(|c| c.is_ascii_whitespace()) {
            return Err(TsProblem::Format(Looks::Whitespace));
        }
        return Err(TsProblem::Format(Looks::Unrecognised));
    }
    let valid = (1..=12).contains(&mo)
        && d >= 1
        && d <= days_in(y, mo)
        && h < 24
        && mi < 60
        && sec < 60
        && y >= 1;
    if !valid {
        return Err(TsProblem::Format(Looks::Impossible));
    }
    Ok(pack(y, mo, d, h, mi, sec, us, frac))
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

#[cold]
#[inline(never)]
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

/// Whether the service accepts `s` as a created_at as it is.
#[inline]
pub fn accepts(s: &str) -> bool {
    parse_ts(s).is_ok()
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

    /// The byte-by-byte parser the word-wise one replaced, as the reference.
    fn reference_parse_core(b: &[u8]) -> Option<Result<TsKey, TsProblem>> {
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
        Some(finish_ts([y, mo, d, h, mi, sec, us], frac, &b[i..]))
    }

    /// Timestamps near the accepted shape: every byte of a few valid ones replaced by
    /// characters of interest, plus lengths around the fraction.
    fn near_timestamps() -> Vec<String> {
        let bases = [
            "2023-04-22 15:04:30",
            "2024-02-29T23:59:59.999999",
            "0001-01-01 00:00:00.1",
            "2023-12-31 09:09:09.1234567",
            "2023-04-22 15:04:30Z",
            "2023-04-22 15:04:30 +02:00",
        ];
        let subs = b"0 9:-/.T Zx\x00\x7f";
        let mut out = Vec::new();
        for b in bases {
            out.push(b.to_string());
            for cut in 0..b.len() {
                out.push(b[..cut].to_string());
            }
            for i in 0..b.len() {
                for &c in subs {
                    let mut v = b.as_bytes().to_vec();
                    v[i] = c;
                    out.extend(String::from_utf8(v).ok());
                }
                let mut v = b.to_string();
                v.insert(i, '1');
                out.push(v);
            }
        }
        for n in 0..9 {
            let f = &"987654321"[..n];
            for end in ["", "Z", " ", "x", "+01:00"] {
                out.push(format!("2023-04-22 15:04:30.{f}{end}"));
                out.push(format!("2023-04-22T15:04:30{f}{end}"));
            }
        }
        for m in 0..=13 {
            for d in [0, 1, 28, 29, 30, 31, 32] {
                for y in ["1900", "2000", "2023", "2024", "0000"] {
                    out.push(format!("{y}-{m:02}-{d:02} 24:60:60"));
                    out.push(format!("{y}-{m:02}-{d:02} 23:59:59.5"));
                }
            }
        }
        out
    }

    #[test]
    fn word_wise_parse_agrees_with_the_byte_wise_one() {
        let all = near_timestamps();
        assert!(all.len() > 1000);
        let mut accepted = 0;
        for t in &all {
            let got = parse_core(t.as_bytes());
            assert_eq!(got, reference_parse_core(t.as_bytes()), "{t:?}");
            accepted += matches!(got, Some(Ok(_))) as usize;
        }
        assert!(accepted > 100, "{accepted}");
        let k = parse_ts("2024-02-29T23:59:59.999999").unwrap();
        assert_eq!(k, pack(2024, 2, 29, 23, 59, 59, 999_999, true));
        assert_eq!(format_key(k), "2024-02-29 23:59:59.999999");
        assert_eq!(
            parse_ts("0001-01-01 00:00:00.1"),
            Ok(pack(1, 1, 1, 0, 0, 0, 100_000, true))
        );
    }

    #[test]
    fn ts_hash_tells_accepted_texts_apart() {
        let mut seen = std::collections::HashMap::new();
        for t in near_timestamps() {
            if let Ok(k) = parse_ts(&t) {
                let h = ts_hash(k, &t);
                assert_ne!(h, 0);
                if let Some(other) = seen.insert(h, t.clone()) {
                    assert_eq!(other, t);
                }
            }
        }
        assert!(seen.len() > 100, "{}", seen.len());
        // same instant, different texts
        let a = "2023-04-22 15:04:30.5";
        let b = "2023-04-22 15:04:30.500000";
        let c = "2023-04-22T15:04:30.5";
        let h = |t: &str| ts_hash(parse_ts(t).unwrap(), t);
        assert_eq!(parse_ts(a), parse_ts(b));
        assert_ne!(h(a), h(b));
        assert_ne!(h(a), h(c));
        assert_eq!(h(a), h(a));
    }
}
