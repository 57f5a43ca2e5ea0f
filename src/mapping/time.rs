//! Timestamp conversion to the service's naive-UTC form `YYYY-MM-DD HH:MM:SS[.ffffff]`.
//!
//! Formats ([`TimeFormat`]):
//! - field formats, parsed by a fast hand-written parser: a date in year-month-day,
//!   day-month-year or month-day-year order with `-`, `/` or `.` between the parts, then
//!   optionally `T` or a space and `HH:MM`, `:SS`, a fraction (`.` or `,`, up to 9 digits) and a
//!   zone designator (`Z`, `+02:00`, `+0200`, `+02`, ` UTC`). strftime strings such as
//!   `%d/%m/%Y %H:%M`, `%m/%d/%Y %H:%M:%S`, `%Y-%m-%d %H:%M:%S%.f` and `%Y-%m-%dT%H:%M:%S%:z`
//!   select this parser (the date order is what matters; the time parts are optional);
//!   Two-digit years (`3/1/24`: 2000–2069, else 19xx) and 12-hour clocks (`8:03 AM`,
//!   `12:30 pm`) are read by the same parser;
//! - `iso8601` (year-month-day fields), `epoch_s` (seconds, optionally fractional),
//!   `epoch_ms` (milliseconds), `epoch_us` (microseconds, GA4's `event_timestamp`) and
//!   `epoch_ns` (nanoseconds);
//! - any other strftime string is handed to chrono (`%z` in it means values carry an offset).
//!
//! Values without a zone designator are read in the mapping's zone ([`Zone`]): `UTC`, a fixed
//! offset or an IANA name. IANA zones have daylight-saving transitions, resolved
//! deterministically:
//! - **gap** (a wall-clock time that doesn't exist, e.g. 02:30 on a spring-forward night): read
//!   with the offset in force just before the gap, so `2024-03-31 02:30` in Europe/Bratislava
//!   becomes `2024-03-31 01:30:00` UTC (the instant the clock showed 03:30 summer time);
//! - **overlap** (a wall-clock time that happens twice, e.g. 02:30 on a fall-back night): the
//!   first occurrence (the earlier instant, still summer time), so `2024-10-27 02:30` in
//!   Europe/Bratislava becomes `2024-10-27 00:30:00` UTC.
//!
//! Both are counted ([`TimeConverter::gaps`], [`TimeConverter::overlaps`]).

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeDelta, TimeZone, Timelike,
};
use chrono_tz::Tz;

/// Order of the date parts in a field format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// Year, month, day (ISO 8601).
    Ymd,
    /// Day, month, year (`22/04/2023`).
    Dmy,
    /// Month, day, year (`04/22/2023`).
    Mdy,
}

/// How created_at values are written in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeFormat {
    /// Date fields in this order, optional time, fraction and zone (fast parser).
    Fields(DateOrder),
    /// Seconds since 1970-01-01 UTC (may have a fraction).
    EpochSeconds,
    /// Milliseconds since 1970-01-01 UTC.
    EpochMillis,
    /// Microseconds since 1970-01-01 UTC (GA4's `event_timestamp`).
    EpochMicros,
    /// Nanoseconds since 1970-01-01 UTC.
    EpochNanos,
    /// Another strftime format, parsed by chrono.
    Custom(String),
    /// Decide per value: digits only → epoch (by length: seconds, ms from 12 digits, µs from 15,
    /// ns from 18), a 4-digit first part
    /// → year first, otherwise day first unless the second part is > 12.
    Auto,
}

impl TimeFormat {
    /// Parse a mapping's `time_format` (`None` → [`TimeFormat::Auto`]).
    pub fn parse(s: Option<&str>) -> TimeFormat {
        let Some(s) = s.map(str::trim) else {
            return TimeFormat::Auto;
        };
        match s.to_ascii_lowercase().as_str() {
            "" | "auto" => return TimeFormat::Auto,
            "epoch_s" | "epoch" | "unix" | "epoch_seconds" => return TimeFormat::EpochSeconds,
            "epoch_ms" | "unix_ms" | "epoch_millis" => return TimeFormat::EpochMillis,
            "epoch_us" | "unix_us" | "epoch_micros" | "epoch_µs" => {
                return TimeFormat::EpochMicros;
            }
            "epoch_ns" | "unix_ns" | "epoch_nanos" => return TimeFormat::EpochNanos,
            "iso8601" | "iso" | "iso_8601" | "rfc3339" => {
                return TimeFormat::Fields(DateOrder::Ymd);
            }
            _ => {}
        }
        const DATES: [(&str, DateOrder); 16] = [
            ("%d/%m/%y", DateOrder::Dmy),
            ("%d.%m.%y", DateOrder::Dmy),
            ("%d-%m-%y", DateOrder::Dmy),
            ("%m/%d/%y", DateOrder::Mdy),
            ("%m.%d.%y", DateOrder::Mdy),
            ("%m-%d-%y", DateOrder::Mdy),
            ("%Y-%m-%d", DateOrder::Ymd),
            ("%Y/%m/%d", DateOrder::Ymd),
            ("%Y.%m.%d", DateOrder::Ymd),
            ("%F", DateOrder::Ymd),
            ("%d/%m/%Y", DateOrder::Dmy),
            ("%d.%m.%Y", DateOrder::Dmy),
            ("%d-%m-%Y", DateOrder::Dmy),
            ("%m/%d/%Y", DateOrder::Mdy),
            ("%m.%d.%Y", DateOrder::Mdy),
            ("%m-%d-%Y", DateOrder::Mdy),
        ];
        for (prefix, order) in DATES {
            if let Some(mut rest) = s.strip_prefix(prefix) {
                const TOKENS: [&str; 16] = [
                    "%H", "%M", "%S", "%.f", ".%f", ",%f", "%f", "%:z", "%z", "%T", "%Z", "%I",
                    "%l", "%p", ":", " ",
                ];
                loop {
                    if rest.is_empty() {
                        return TimeFormat::Fields(order);
                    }
                    if let Some(r) = rest.strip_prefix('T').or_else(|| rest.strip_prefix('Z')) {
                        rest = r;
                        continue;
                    }
                    match TOKENS.iter().find_map(|t| rest.strip_prefix(t)) {
                        Some(r) => rest = r,
                        None => break,
                    }
                }
            }
        }
        TimeFormat::Custom(s.to_string())
    }

    /// Canonical name for display and saving (`epoch_ms`, `%d/%m/%Y …`, `auto`).
    pub fn name(&self) -> String {
        match self {
            TimeFormat::Fields(DateOrder::Ymd) => "iso8601".into(),
            TimeFormat::Fields(DateOrder::Dmy) => "%d/%m/%Y %H:%M:%S".into(),
            TimeFormat::Fields(DateOrder::Mdy) => "%m/%d/%Y %H:%M:%S".into(),
            TimeFormat::EpochSeconds => "epoch_s".into(),
            TimeFormat::EpochMillis => "epoch_ms".into(),
            TimeFormat::EpochMicros => "epoch_us".into(),
            TimeFormat::EpochNanos => "epoch_ns".into(),
            TimeFormat::Custom(s) => s.clone(),
            TimeFormat::Auto => "auto".into(),
        }
    }
}

/// The zone naive timestamps are read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// UTC.
    Utc,
    /// A fixed offset from UTC.
    Fixed(FixedOffset),
    /// An IANA zone with its daylight-saving rules.
    Iana(Tz),
}

impl Zone {
    /// Parse `UTC` / `Z` / `+02:00` / `-0530` / `+2` / `UTC+01:00` / `Europe/Bratislava`.
    pub fn parse(s: &str) -> Result<Zone, String> {
        let t = s.trim();
        let upper = t.to_ascii_uppercase();
        if matches!(
            upper.as_str(),
            "" | "UTC" | "Z" | "GMT" | "ETC/UTC" | "UTC+0" | "UTC+00:00"
        ) {
            return Ok(Zone::Utc);
        }
        let off = upper
            .strip_prefix("UTC")
            .or_else(|| upper.strip_prefix("GMT"))
            .unwrap_or(&upper);
        if off.starts_with('+') || off.starts_with('-') {
            return match parse_offset(off.as_bytes()) {
                Some(secs) => FixedOffset::east_opt(secs)
                    .map(Zone::Fixed)
                    .ok_or_else(|| format!("offset out of range: {s}")),
                None => Err(format!(
                    "not a time zone: {s:?} (use UTC, an offset like +02:00, or a name like Europe/Bratislava)"
                )),
            };
        }
        t.parse::<Tz>().map(Zone::Iana).map_err(|_| {
            format!(
                "unknown time zone {s:?} (use UTC, an offset like +02:00, or an IANA name like Europe/Bratislava)"
            )
        })
    }

    /// Name for display.
    pub fn name(&self) -> String {
        match self {
            Zone::Utc => "UTC".into(),
            Zone::Fixed(f) => f.to_string(),
            Zone::Iana(tz) => tz.name().into(),
        }
    }
}

/// Parse `+02:00`, `+0200`, `+02`, `-5:30` into seconds east of UTC.
fn parse_offset(b: &[u8]) -> Option<i32> {
    let (sign, rest) = match b.first()? {
        b'+' => (1, &b[1..]),
        b'-' => (-1, &b[1..]),
        _ => return None,
    };
    let digits: Vec<u8> = rest.iter().copied().filter(|c| *c != b':').collect();
    if digits.is_empty() || digits.len() > 4 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let colon = rest.iter().position(|c| *c == b':');
    let (h, m) = match (colon, digits.len()) {
        (Some(p), _) => {
            let hh = &rest[..p];
            let mm = &rest[p + 1..];
            if mm.len() != 2 || hh.is_empty() || hh.len() > 2 {
                return None;
            }
            (num(hh)?, num(mm)?)
        }
        (None, 1 | 2) => (num(&digits)?, 0),
        (None, 3) => (num(&digits[..1])?, num(&digits[1..])?),
        (None, _) => (num(&digits[..2])?, num(&digits[2..])?),
    };
    if h > 18 || m > 59 {
        return None;
    }
    Some(sign * (h as i32 * 3600 + m as i32 * 60))
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut n = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(c - b'0');
    }
    Some(n)
}

/// A parsed field-format value before zone resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    /// First date part.
    pub a: u32,
    /// Second date part.
    pub b: u32,
    /// Third date part.
    pub c: u32,
    /// Digits in the first part (4 = a year).
    pub a_digits: usize,
    /// Hour, minute, second, nanosecond.
    pub hms: (u32, u32, u32, u32),
    /// Zone designator, seconds east of UTC.
    pub offset: Option<i32>,
    /// Whether a time part was present.
    pub has_time: bool,
    /// Whether seconds were present.
    pub has_seconds: bool,
    /// Whether a fraction was present.
    pub has_fraction: bool,
    /// Date separator.
    pub date_sep: u8,
    /// `T` or space between date and time.
    pub time_sep: u8,
    /// Digits in the third part (2 = a two-digit year after a day and a month).
    pub c_digits: usize,
    /// A 12-hour clock: `Some(true)` for PM, `Some(false)` for AM.
    pub pm: Option<bool>,
}

/// Parse the field layout of a timestamp (no calendar check, no order decided).
pub fn parse_fields(s: &[u8]) -> Option<Fields> {
    let mut i = 0;
    let run = |i: &mut usize, max: usize| -> Option<(u32, usize)> {
        let start = *i;
        while *i < s.len() && s[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        let n = *i - start;
        if n == 0 {
            return None;
        }
        Some((num(&s[start..*i])?, n))
    };
    let (a, a_digits) = run(&mut i, 4)?;
    let sep = *s.get(i)?;
    if !matches!(sep, b'-' | b'/' | b'.') {
        return None;
    }
    i += 1;
    let (b, bd) = run(&mut i, 2)?;
    if s.get(i) != Some(&sep) {
        return None;
    }
    i += 1;
    let (c, cd) = run(&mut i, 4)?;
    if a_digits == 4 {
        if cd > 2 {
            return None;
        }
    } else if !(cd == 4 || cd == 2) || a_digits > 2 {
        return None;
    }
    let _ = bd;
    let mut f = Fields {
        a,
        b,
        c,
        a_digits,
        hms: (0, 0, 0, 0),
        offset: None,
        has_time: false,
        has_seconds: false,
        has_fraction: false,
        date_sep: sep,
        time_sep: b' ',
        c_digits: cd,
        pm: None,
    };
    if i == s.len() {
        return Some(f);
    }
    let ts = s[i];
    if ts != b' ' && ts != b'T' && ts != b't' {
        return None;
    }
    f.time_sep = ts.to_ascii_uppercase();
    i += 1;
    let (h, hd) = run(&mut i, 2)?;
    if s.get(i) != Some(&b':') || hd == 0 {
        return None;
    }
    i += 1;
    let (m, md) = run(&mut i, 2)?;
    if md != 2 {
        return None;
    }
    f.has_time = true;
    f.hms = (h, m, 0, 0);
    if s.get(i) == Some(&b':') {
        i += 1;
        let (sec, sd) = run(&mut i, 2)?;
        if sd != 2 {
            return None;
        }
        f.hms.2 = sec;
        f.has_seconds = true;
        if matches!(s.get(i), Some(b'.') | Some(b',')) {
            i += 1;
            let start = i;
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &s[start..i];
            if digits.is_empty() {
                return None;
            }
            let mut nanos = 0u32;
            for k in 0..9 {
                nanos = nanos * 10 + digits.get(k).map_or(0, |d| u32::from(d - b'0'));
            }
            f.hms.3 = nanos;
            f.has_fraction = true;
        }
    }
    // zone designator, after an optional AM/PM
    let mut rest = &s[i..];
    while let Some(r) = rest.strip_prefix(b" ") {
        rest = r;
    }
    let meridiem = |r: &[u8]| -> Option<(bool, usize)> {
        let lower: Vec<u8> = r.iter().take(4).map(u8::to_ascii_lowercase).collect();
        for (text, pm) in [
            (&b"a.m."[..], false),
            (b"p.m.", true),
            (b"am", false),
            (b"pm", true),
        ] {
            if lower.starts_with(text) {
                return Some((pm, text.len()));
            }
        }
        None
    };
    if let Some((pm, n)) = meridiem(rest) {
        if !(1..=12).contains(&f.hms.0) {
            return None;
        }
        f.pm = Some(pm);
        rest = &rest[n..];
        while let Some(r) = rest.strip_prefix(b" ") {
            rest = r;
        }
        if rest.is_empty() {
            return Some(f);
        }
    }
    if rest.is_empty() {
        return (i == s.len()).then_some(f);
    }
    f.offset = Some(match rest {
        b"Z" | b"z" | b"UTC" | b"GMT" => 0,
        _ => parse_offset(rest)?,
    });
    Some(f)
}

impl Fields {
    /// The naive date-time under a date order, if it is a real calendar value.
    pub fn naive(&self, order: DateOrder) -> Option<NaiveDateTime> {
        let (y, m, d) = match order {
            DateOrder::Ymd if self.a_digits == 4 => (self.a, self.b, self.c),
            DateOrder::Dmy if self.a_digits <= 2 => (self.c, self.b, self.a),
            DateOrder::Mdy if self.a_digits <= 2 => (self.c, self.a, self.b),
            _ => return None,
        };
        // two-digit years: 00–69 are 2000–2069, 70–99 are 1970–1999
        let y = match (self.a_digits, self.c_digits) {
            (d, 2) if d <= 2 && y < 70 => 2000 + y,
            (d, 2) if d <= 2 => 1900 + y,
            _ => y,
        };
        let date = NaiveDate::from_ymd_opt(y as i32, m, d)?;
        let (mut h, mi, s, n) = self.hms;
        match self.pm {
            Some(false) if h == 12 => h = 0,
            Some(true) if h < 12 => h += 12,
            _ => {}
        }
        let time = NaiveTime::from_hms_nano_opt(h, mi, s.min(59), n)?;
        let mut dt = date.and_time(time);
        if s == 60 {
            dt += TimeDelta::seconds(1); // leap second: the next second
        } else if s > 60 {
            return None;
        }
        Some(dt)
    }

    /// The strftime pattern this value is written in, under a date order.
    pub fn pattern(&self, order: DateOrder) -> String {
        let sep = char::from(self.date_sep);
        let y = if self.c_digits == 2 && self.a_digits <= 2 {
            "%y"
        } else {
            "%Y"
        };
        let mut p = match order {
            DateOrder::Ymd => format!("%Y{sep}%m{sep}%d"),
            DateOrder::Dmy => format!("%d{sep}%m{sep}{y}"),
            DateOrder::Mdy => format!("%m{sep}%d{sep}{y}"),
        };
        if self.has_time {
            p.push(char::from(self.time_sep));
            p.push_str(if self.pm.is_some() { "%I:%M" } else { "%H:%M" });
            if self.has_seconds {
                p.push_str(":%S");
            }
            if self.has_fraction {
                p.push_str("%.f");
            }
            if self.pm.is_some() {
                p.push_str(" %p");
            }
            if self.offset.is_some() {
                p.push_str("%:z");
            }
        }
        p
    }
}

/// Parse an epoch value in units of 10^-`scale` seconds (0 s, 3 ms, 6 µs, 9 ns): optional
/// `-`, digits, optional `.fraction`.
fn parse_epoch(s: &[u8], scale: u32) -> Option<NaiveDateTime> {
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = match body.iter().position(|c| *c == b'.') {
        Some(p) => (&body[..p], Some(&body[p + 1..])),
        None => (body, None),
    };
    if int.is_empty() || int.len() > 19 || !int.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: i64 = 0;
    for &c in int {
        n = n.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
    }
    let mut nanos: i64 = 0;
    if let Some(f) = frac {
        if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
            return None;
        }
        for k in 0..9 {
            nanos = nanos * 10 + f.get(k).map_or(0, |d| i64::from(d - b'0'));
        }
    }
    // `n` units of 10^-scale s, and a fraction of one unit in nanoseconds of a unit
    let unit_ns: i128 = 10i128.pow(9 - scale.min(9));
    let total_nanos: i128 = i128::from(n) * unit_ns + i128::from(nanos) * unit_ns / 1_000_000_000;
    let total_nanos = if neg { -total_nanos } else { total_nanos };
    let secs = total_nanos.div_euclid(1_000_000_000) as i64;
    let ns = total_nanos.rem_euclid(1_000_000_000) as u32;
    DateTime::from_timestamp(secs, ns).map(|d| d.naive_utc())
}

/// Why a timestamp couldn't be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    /// The value doesn't match the format.
    Format,
    /// A real-looking value that is not a calendar date/time (e.g. 31/02).
    Calendar,
    /// Outside years 0000–9999 after conversion.
    Range,
}

impl std::fmt::Display for TimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeError::Format => "doesn't match the time format",
            TimeError::Calendar => "is not a real date/time",
            TimeError::Range => "is outside years 0000-9999",
        })
    }
}

const CACHE_SLOTS: usize = 1024;

/// Converts created_at values to naive UTC. Reuse one per run (it caches zone offsets).
#[derive(Debug, Clone)]
pub struct TimeConverter {
    format: TimeFormat,
    zone: Zone,
    cache: Vec<(i64, i32)>,
    /// Local times that fell into a daylight-saving gap.
    pub gaps: u64,
    /// Local times that fell into a daylight-saving overlap.
    pub overlaps: u64,
}

impl TimeConverter {
    /// A converter for a format and zone.
    pub fn new(format: TimeFormat, zone: Zone) -> Self {
        TimeConverter {
            format,
            zone,
            cache: vec![(i64::MIN, 0); CACHE_SLOTS],
            gaps: 0,
            overlaps: 0,
        }
    }

    /// A converter from a mapping's `time_format` and `time_zone` strings.
    pub fn from_mapping(format: Option<&str>, zone: Option<&str>) -> Result<Self, String> {
        let zone = match zone {
            Some(z) => Zone::parse(z)?,
            None => Zone::Utc,
        };
        Ok(Self::new(TimeFormat::parse(format), zone))
    }

    /// The format.
    pub fn format(&self) -> &TimeFormat {
        &self.format
    }

    /// The zone.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// Convert one value (surrounding whitespace ignored) to naive UTC.
    pub fn convert(&mut self, value: &str) -> Result<NaiveDateTime, TimeError> {
        let v = value.trim();
        let b = v.as_bytes();
        let out = match &self.format {
            TimeFormat::EpochSeconds => parse_epoch(b, 0).ok_or(TimeError::Format)?,
            TimeFormat::EpochMillis => parse_epoch(b, 3).ok_or(TimeError::Format)?,
            TimeFormat::EpochMicros => parse_epoch(b, 6).ok_or(TimeError::Format)?,
            TimeFormat::EpochNanos => parse_epoch(b, 9).ok_or(TimeError::Format)?,
            TimeFormat::Fields(order) => {
                let f = parse_fields(b).ok_or(TimeError::Format)?;
                let naive = f.naive(*order).ok_or(TimeError::Calendar)?;
                self.local_to_utc(naive, f.offset)
            }
            TimeFormat::Auto => {
                if !b.is_empty() && b.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
                    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
                    let scale = match digits {
                        ..=11 => 0,
                        12..=14 => 3,
                        15..=17 => 6,
                        _ => 9,
                    };
                    parse_epoch(b, scale).ok_or(TimeError::Format)?
                } else {
                    let f = parse_fields(b).ok_or(TimeError::Format)?;
                    let order = if f.a_digits == 4 {
                        DateOrder::Ymd
                    } else if f.b > 12 {
                        DateOrder::Mdy
                    } else {
                        DateOrder::Dmy
                    };
                    let naive = f.naive(order).ok_or(TimeError::Calendar)?;
                    self.local_to_utc(naive, f.offset)
                }
            }
            TimeFormat::Custom(fmt) => {
                let fmt = fmt.clone();
                if fmt.contains("%z") || fmt.contains("%:z") || fmt.contains("%#z") {
                    DateTime::parse_from_str(v, &fmt)
                        .map_err(|_| TimeError::Format)?
                        .naive_utc()
                } else if let Ok(n) = NaiveDateTime::parse_from_str(v, &fmt) {
                    self.local_to_utc(n, None)
                } else {
                    let d = NaiveDate::parse_from_str(v, &fmt).map_err(|_| TimeError::Format)?;
                    self.local_to_utc(d.and_time(NaiveTime::MIN), None)
                }
            }
        };
        if !(0..=9999).contains(&out.year()) {
            return Err(TimeError::Range);
        }
        Ok(out)
    }

    /// Convert and append the normalised text to `out`.
    pub fn convert_into(&mut self, value: &str, out: &mut Vec<u8>) -> Result<(), TimeError> {
        let dt = self.convert(value)?;
        write_naive(&dt, out);
        Ok(())
    }

    /// A local (or offset-carrying) time to naive UTC.
    fn local_to_utc(&mut self, naive: NaiveDateTime, offset: Option<i32>) -> NaiveDateTime {
        if let Some(secs) = offset {
            return naive - TimeDelta::seconds(i64::from(secs));
        }
        match self.zone {
            Zone::Utc => naive,
            Zone::Fixed(f) => naive - TimeDelta::seconds(i64::from(f.local_minus_utc())),
            Zone::Iana(tz) => {
                // cache per local hour: valid when the whole hour has one unambiguous offset
                let hour_key = naive.and_utc().timestamp().div_euclid(3600);
                let slot = (hour_key.rem_euclid(CACHE_SLOTS as i64)) as usize;
                let (k, off) = self.cache[slot];
                if k == hour_key {
                    return naive - TimeDelta::seconds(i64::from(off));
                }
                let start = naive
                    .with_minute(0)
                    .and_then(|d| d.with_second(0))
                    .and_then(|d| d.with_nanosecond(0));
                if let Some(start) = start {
                    let end = start + TimeDelta::seconds(3599);
                    if let (LocalResult::Single(a), LocalResult::Single(b)) = (
                        tz.offset_from_local_datetime(&start),
                        tz.offset_from_local_datetime(&end),
                    ) {
                        let (a, b) = (a.fix().local_minus_utc(), b.fix().local_minus_utc());
                        if a == b {
                            self.cache[slot] = (hour_key, a);
                            return naive - TimeDelta::seconds(i64::from(a));
                        }
                    }
                }
                let (utc, kind) = resolve_local(tz, naive);
                match kind {
                    Resolution::Gap => self.gaps += 1,
                    Resolution::Overlap => self.overlaps += 1,
                    Resolution::Single => {}
                }
                utc
            }
        }
    }
}

/// How a local time was resolved in an IANA zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Exactly one instant.
    Single,
    /// In a gap: read with the offset in force before the gap.
    Gap,
    /// In an overlap: the first (earlier) instant.
    Overlap,
}

/// Resolve a local time in an IANA zone to naive UTC by the documented rule.
pub fn resolve_local(tz: Tz, naive: NaiveDateTime) -> (NaiveDateTime, Resolution) {
    match tz.offset_from_local_datetime(&naive) {
        LocalResult::Single(o) => (
            naive - TimeDelta::seconds(i64::from(o.fix().local_minus_utc())),
            Resolution::Single,
        ),
        LocalResult::Ambiguous(a, b) => {
            let ua = naive - TimeDelta::seconds(i64::from(a.fix().local_minus_utc()));
            let ub = naive - TimeDelta::seconds(i64::from(b.fix().local_minus_utc()));
            (ua.min(ub), Resolution::Overlap)
        }
        LocalResult::None => {
            for k in 1..=192 {
                let t = naive - TimeDelta::minutes(15 * k);
                if let LocalResult::Single(o) = tz.offset_from_local_datetime(&t) {
                    return (
                        naive - TimeDelta::seconds(i64::from(o.fix().local_minus_utc())),
                        Resolution::Gap,
                    );
                }
            }
            (naive, Resolution::Gap)
        }
    }
}

/// Append `YYYY-MM-DD HH:MM:SS` and, when the microseconds aren't zero, `.ffffff`.
pub fn write_naive(dt: &NaiveDateTime, out: &mut Vec<u8>) {
    fn d2(out: &mut Vec<u8>, v: u32) {
        out.push(b'0' + (v / 10 % 10) as u8);
        out.push(b'0' + (v % 10) as u8);
    }
    let y = dt.year().clamp(0, 9999) as u32;
    out.push(b'0' + (y / 1000) as u8);
    out.push(b'0' + (y / 100 % 10) as u8);
    d2(out, y % 100);
    out.push(b'-');
    d2(out, dt.month());
    out.push(b'-');
    d2(out, dt.day());
    out.push(b' ');
    d2(out, dt.hour());
    out.push(b':');
    d2(out, dt.minute());
    out.push(b':');
    d2(out, dt.second());
    let micros = dt.nanosecond() / 1000;
    if micros != 0 {
        out.push(b'.');
        let mut m = micros.min(999_999);
        let mut buf = [b'0'; 6];
        for k in (0..6).rev() {
            buf[k] = b'0' + (m % 10) as u8;
            m /= 10;
        }
        out.extend_from_slice(&buf);
    }
}

/// `write_naive` into a new string.
pub fn format_naive(dt: &NaiveDateTime) -> String {
    let mut v = Vec::with_capacity(26);
    write_naive(dt, &mut v);
    String::from_utf8(v).unwrap_or_default()
}

/// Whether a value is already a created_at the service accepts (the one grammar of
/// [`crate::spec::created_at`], shared with the validator).
pub fn is_service_format(s: &str) -> bool {
    crate::spec::created_at::accepts(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(fmt: &str, zone: &str, v: &str) -> String {
        let mut c = TimeConverter::from_mapping(Some(fmt), Some(zone)).unwrap();
        format_naive(&c.convert(v).unwrap())
    }

    #[test]
    fn formats() {
        assert_eq!(
            conv("%d/%m/%Y %H:%M", "UTC", "22/04/2023 15:04"),
            "2023-04-22 15:04:00"
        );
        assert_eq!(
            conv("%m/%d/%Y %H:%M:%S", "UTC", "04/22/2023 15:04:30"),
            "2023-04-22 15:04:30"
        );
        assert_eq!(
            conv("%Y-%m-%d %H:%M:%S%.f", "UTC", "2023-04-22 15:04:30.12312"),
            "2023-04-22 15:04:30.123120"
        );
        assert_eq!(
            conv("iso8601", "UTC", "2023-04-22T15:04:30+02:00"),
            "2023-04-22 13:04:30"
        );
        assert_eq!(
            conv("iso8601", "+05:00", "2023-04-22T15:04:30Z"),
            "2023-04-22 15:04:30"
        );
        assert_eq!(conv("epoch_s", "UTC", "1682175870"), "2023-04-22 15:04:30");
        assert_eq!(
            conv("epoch_ms", "UTC", "1682175870123"),
            "2023-04-22 15:04:30.123000"
        );
        assert_eq!(
            conv("%d.%m.%Y %H:%M", "+02:00", "22.04.2023 15:04"),
            "2023-04-22 13:04:00"
        );
        assert_eq!(
            conv("%Y%m%d%H%M", "UTC", "202304221504"),
            "2023-04-22 15:04:00"
        );
    }

    #[test]
    fn dst_rule() {
        // gap: 02:30 doesn't exist on 2024-03-31 in Europe/Bratislava
        assert_eq!(
            conv("iso8601", "Europe/Bratislava", "2024-03-31 02:30:00"),
            "2024-03-31 01:30:00"
        );
        // overlap: 02:30 happens twice on 2024-10-27; the first (summer time, +02)
        assert_eq!(
            conv("iso8601", "Europe/Bratislava", "2024-10-27 02:30:00"),
            "2024-10-27 00:30:00"
        );
        assert_eq!(
            conv("iso8601", "Europe/Bratislava", "2024-07-01 12:00:00"),
            "2024-07-01 10:00:00"
        );
        assert_eq!(
            conv("iso8601", "America/New_York", "2024-03-10 02:30"),
            "2024-03-10 07:30:00"
        );
    }

    #[test]
    fn rejects() {
        let mut c = TimeConverter::from_mapping(Some("%d/%m/%Y %H:%M"), None).unwrap();
        assert_eq!(c.convert("31/02/2023 10:00"), Err(TimeError::Calendar));
        assert_eq!(c.convert("hello"), Err(TimeError::Format));
        assert_eq!(c.convert("2023-04-22 10:00"), Err(TimeError::Calendar));
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert_eq!(
            Zone::parse("+0530").unwrap(),
            Zone::Fixed(FixedOffset::east_opt(19800).unwrap())
        );
        assert!(is_service_format("2023-04-22 15:04:30.12312"));
        assert!(!is_service_format("2023-04-22T15:04:30Z"));
    }
}

#[cfg(test)]
mod more_formats {
    use super::*;

    fn conv(fmt: Option<&str>, zone: &str, v: &str) -> Result<String, TimeError> {
        let mut c = TimeConverter::from_mapping(fmt, Some(zone)).map_err(|_| TimeError::Format)?;
        c.convert(v).map(|d| format_naive(&d))
    }

    #[test]
    fn epoch_units_by_name_and_by_length() {
        // 2023-04-22 15:04:30.123456 UTC in four units
        let want = "2023-04-22 15:04:30.123456";
        assert_eq!(
            conv(Some("epoch_us"), "UTC", "1682175870123456").unwrap(),
            want
        );
        assert_eq!(
            conv(Some("epoch_ns"), "UTC", "1682175870123456789").unwrap(),
            want
        );
        assert_eq!(conv(None, "UTC", "1682175870123456").unwrap(), want);
        assert_eq!(conv(None, "UTC", "1682175870123456000").unwrap(), want);
        assert_eq!(
            conv(None, "UTC", "1682175870123").unwrap(),
            "2023-04-22 15:04:30.123000"
        );
        assert_eq!(
            conv(None, "UTC", "1682175870").unwrap(),
            "2023-04-22 15:04:30"
        );
        // 20 digits overflow: an error, not a panic
        assert_eq!(
            conv(Some("epoch_ns"), "UTC", "99999999999999999999"),
            Err(TimeError::Format)
        );
    }

    #[test]
    fn twelve_hour_clocks_and_two_digit_years() {
        assert_eq!(
            conv(Some("%m/%d/%y %I:%M %p"), "UTC", "3/1/24 8:03 AM").unwrap(),
            "2024-03-01 08:03:00"
        );
        assert_eq!(
            conv(Some("%m/%d/%y %I:%M %p"), "UTC", "3/1/24 8:03 PM").unwrap(),
            "2024-03-01 20:03:00"
        );
        assert_eq!(
            conv(Some("%m/%d/%Y %I:%M %p"), "UTC", "12/31/2023 12:15 am").unwrap(),
            "2023-12-31 00:15:00"
        );
        assert_eq!(
            conv(Some("%m/%d/%Y %I:%M %p"), "UTC", "12/31/2023 12:15 p.m.").unwrap(),
            "2023-12-31 12:15:00"
        );
        assert_eq!(
            conv(Some("%d.%m.%y"), "UTC", "22.04.99").unwrap(),
            "1999-04-22 00:00:00"
        );
        // 13 PM is no time
        assert!(parse_fields(b"3/1/24 13:03 PM").is_none());
        let f = parse_fields(b"3/1/24 8:03 PM").unwrap();
        assert_eq!(f.pattern(DateOrder::Mdy), "%m/%d/%y %I:%M %p");
        // local time with a zone
        assert_eq!(
            conv(
                Some("%m/%d/%y %I:%M %p"),
                "Europe/Bratislava",
                "7/1/24 2:00 PM"
            )
            .unwrap(),
            "2024-07-01 12:00:00"
        );
    }
}
