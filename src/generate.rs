//! A deterministic generator of realistic past-purchase files, for benchmarks and demos.
//!
//! Shape (per order): about 40 % single-item orders, the rest 2 + geometric items (a few huge
//! orders too); products drawn with a popular-product skew; 60 % of orders carry a user id;
//! about 10 % have no timestamp; timestamps rise through two years; about 1 % of multi-item
//! orders have one row emitted a few thousand rows later ("scattered" orders).
//! The same options and seed always give the same bytes.

use std::collections::VecDeque;
use std::io::{self, Write};

use crate::read::Format;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Stop after at least this many bytes (at an order boundary).
    pub bytes: Option<u64>,
    /// Stop after at least this many rows (at an order boundary).
    pub rows: Option<u64>,
    /// CSV (headerless, seed layout) or JSON lines.
    pub format: Format,
    /// PRNG seed.
    pub seed: u64,
    /// Number of distinct products to draw from.
    pub products: u64,
    /// Number of distinct users to draw from.
    pub users: u64,
    /// Quote the created_at field in CSV (as in the seed's example).
    pub quote_timestamps: bool,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            bytes: None,
            rows: Some(1000),
            format: Format::Csv,
            seed: 1,
            products: 200_000,
            users: 3_000_000,
            quote_timestamps: false,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenSummary {
    /// Rows written.
    pub rows: u64,
    /// Orders written.
    pub orders: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// SplitMix64: small, fast, deterministic.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n.max(1) as u128) >> 64) as u64
    }
}

fn civil(days: i64) -> (i64, u32, u32) {
    // days since 1970-01-01 → (y, m, d); Howard Hinnant's algorithm
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn write_ts(out: &mut Vec<u8>, secs: i64, micros: Option<u32>) {
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
    if let Some(us) = micros {
        let _ = write!(out, ".{us:06}");
    }
}

/// Write a file to `w`. Stops when `bytes` or `rows` (whichever comes first) is reached.
pub fn generate(w: &mut impl Write, opts: &GenOptions) -> io::Result<GenSummary> {
    let mut rng = Rng(opts.seed ^ 0x5EED_F1B1);
    let mut sum = GenSummary::default();
    let max_bytes = opts.bytes.unwrap_or(u64::MAX);
    let max_rows = opts
        .rows
        .unwrap_or(if opts.bytes.is_some() { u64::MAX } else { 1000 });
    let products = opts.products.max(10);
    let users = opts.users.max(10);
    // 2022-01-01 00:00:00 .. +2 years
    let t0: i64 = 1_640_995_200;
    let span: i64 = 2 * 365 * 86_400;
    let expect_orders = (max_rows.min(max_bytes / 40)).max(1) as f64 / 2.3;
    let mut deferred: VecDeque<(u64, Vec<u8>)> = VecDeque::new();
    let mut line = Vec::with_capacity(256);
    let mut order_no: u64 = 1_000_000_000;
    let mut items: Vec<u64> = Vec::new();
    while sum.bytes < max_bytes && sum.rows < max_rows {
        order_no += 1 + rng.below(3);
        sum.orders += 1;
        // items
        let k = if rng.unit() < 0.40 {
            1
        } else if rng.unit() < 0.0002 {
            100 + rng.below(400)
        } else {
            let mut k = 2;
            while rng.unit() < 0.55 && k < 60 {
                k += 1;
            }
            k
        };
        items.clear();
        for _ in 0..k {
            // popular-product skew: u^3 concentrates mass on low product numbers
            let u = rng.unit();
            items.push((u * u * u * products as f64) as u64 + 1);
        }
        let user = if rng.unit() < 0.60 {
            Some(rng.below(users) + 1)
        } else {
            None
        };
        let progress = (sum.orders as f64 / expect_orders).min(1.0);
        let ts = if rng.unit() < 0.10 {
            None
        } else {
            let secs = t0 + (progress * span as f64) as i64 + rng.below(3600) as i64;
            let micros = if rng.unit() < 0.3 {
                Some(rng.below(1_000_000) as u32)
            } else {
                None
            };
            Some((secs, micros))
        };
        let scatter = k >= 2 && rng.unit() < 0.01;
        for (i, &p) in items.iter().enumerate() {
            line.clear();
            match opts.format {
                Format::Csv => {
                    let _ = write!(line, "{order_no},/product/{p}");
                    match (user, ts) {
                        (None, None) => {}
                        (Some(u), None) => {
                            let _ = write!(line, ",u{u}");
                        }
                        (u, Some((s, us))) => {
                            line.push(b',');
                            if let Some(u) = u {
                                let _ = write!(line, "u{u}");
                            }
                            line.push(b',');
                            if opts.quote_timestamps {
                                line.push(b'"');
                            }
                            write_ts(&mut line, s, us);
                            if opts.quote_timestamps {
                                line.push(b'"');
                            }
                        }
                    }
                }
                Format::Json => {
                    let _ = write!(
                        line,
                        "{{\"order_id\":\"{order_no}\",\"identity\":\"/product/{p}\""
                    );
                    if let Some(u) = user {
                        let _ = write!(line, ",\"auth_user_id\":\"u{u}\"");
                    }
                    if let Some((s, us)) = ts {
                        line.extend_from_slice(b",\"created_at\":\"");
                        write_ts(&mut line, s, us);
                        line.push(b'"');
                    }
                    line.push(b'}');
                }
            }
            line.push(b'\n');
            if scatter && i + 1 == items.len() {
                deferred.push_back((sum.orders + 500 + rng.below(2000), line.clone()));
                continue;
            }
            w.write_all(&line)?;
            sum.rows += 1;
            sum.bytes += line.len() as u64;
        }
        while deferred.front().is_some_and(|d| d.0 <= sum.orders) {
            if let Some((_, l)) = deferred.pop_front() {
                w.write_all(&l)?;
                sum.rows += 1;
                sum.bytes += l.len() as u64;
            }
        }
    }
    for (_, l) in deferred {
        w.write_all(&l)?;
        sum.rows += 1;
        sum.bytes += l.len() as u64;
    }
    w.flush()?;
    Ok(sum)
}

/// Parse a size such as `1.09GB`, `500M`, `64KiB` or `1000` (bytes). Decimal units are powers
/// of 1000, binary units (`KiB`, `MiB`, `GiB`) powers of 1024.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let v = n * mult;
    (v.is_finite() && v >= 0.0).then_some(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        let opts = GenOptions {
            rows: Some(2000),
            ..GenOptions::default()
        };
        let mut a = Vec::new();
        let mut b = Vec::new();
        let sa = generate(&mut a, &opts).unwrap();
        let sb = generate(&mut b, &opts).unwrap();
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        assert!(sa.rows >= 2000);
        assert_eq!(sa.bytes, a.len() as u64);
        assert_eq!(a.iter().filter(|&&c| c == b'\n').count() as u64, sa.rows);
        let other = GenOptions {
            seed: 2,
            ..opts.clone()
        };
        let mut c = Vec::new();
        generate(&mut c, &other).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1.09GB"), Some(1_090_000_000));
        assert_eq!(parse_size("64KiB"), Some(65536));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("1x"), None);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_358), (2023, 1, 1));
        let mut v = Vec::new();
        write_ts(&mut v, 1_682_175_870, Some(123_120));
        assert_eq!(String::from_utf8(v).unwrap(), "2023-04-22 15:04:30.123120");
    }
}
