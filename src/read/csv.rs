//! One CSV record → fields (comma-separated, RFC 4180 quoting, strict about stray quotes).
//!
//! Lines without a `"` are split on commas with `memchr`; quoted fields are unescaped
//! (`""` → `"`) only when they contain an escaped quote, otherwise they are borrowed.

use std::borrow::Cow;

use super::simd::Chunk;

/// Fields kept per record (more are only counted).
pub const KEPT_FIELDS: usize = 5;

/// The fields of one record.
#[derive(Debug, Clone, Default)]
pub struct Fields<'a> {
    /// Total number of fields in the record.
    pub count: usize,
    /// The first [`KEPT_FIELDS`] fields (the rest are empty).
    pub fields: [Cow<'a, str>; KEPT_FIELDS],
}

impl<'a> Fields<'a> {
    /// Field `i` if the record has it.
    pub fn get(&self, i: usize) -> Option<&str> {
        if i < self.count && i < KEPT_FIELDS {
            Some(&self.fields[i])
        } else {
            None
        }
    }
}

/// Broken quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteError {
    /// A quoted field is not closed by the end of the record.
    Unclosed {
        /// Byte position of the opening quote within the record.
        at: usize,
    },
    /// Text follows a closing quote before the next comma.
    TextAfterQuote {
        /// Byte position of the offending character.
        at: usize,
    },
    /// A quote inside an unquoted field.
    StrayQuote {
        /// Byte position of the quote.
        at: usize,
    },
}

impl std::fmt::Display for QuoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuoteError::Unclosed { at } => {
                write!(f, "quote opened at column {} never closed", at + 1)
            }
            QuoteError::TextAfterQuote { at } => {
                write!(f, "text after a closing quote at column {}", at + 1)
            }
            QuoteError::StrayQuote { at } => {
                write!(f, "quote inside an unquoted field at column {}", at + 1)
            }
        }
    }
}

fn put<'a>(out: &mut Fields<'a>, v: Cow<'a, str>) {
    if out.count < KEPT_FIELDS {
        out.fields[out.count] = v;
    }
    out.count += 1;
}

/// Split one record (without its line terminator) into fields.
pub fn split(rec: &str) -> Result<Fields<'_>, QuoteError> {
    let mut out = Fields::default();
    let b = rec.as_bytes();
    if memchr::memchr(b'"', b).is_none() {
        let mut s = 0;
        for i in memchr::memchr_iter(b',', b) {
            put(&mut out, Cow::Borrowed(&rec[s..i]));
            s = i + 1;
        }
        put(&mut out, Cow::Borrowed(&rec[s..]));
        return Ok(out);
    }
    let mut pos = 0usize;
    loop {
        if pos < b.len() && b[pos] == b'"' {
            // quoted field
            let open = pos;
            let mut i = pos + 1;
            let mut escaped = false;
            loop {
                match memchr::memchr(b'"', &b[i..]) {
                    None => return Err(QuoteError::Unclosed { at: open }),
                    Some(j) => {
                        let q = i + j;
                        if q + 1 < b.len() && b[q + 1] == b'"' {
                            escaped = true;
                            i = q + 2;
                            continue;
                        }
                        let inner = &rec[open + 1..q];
                        let v = if escaped {
                            Cow::Owned(inner.replace("\"\"", "\""))
                        } else {
                            Cow::Borrowed(inner)
                        };
                        put(&mut out, v);
                        pos = q + 1;
                        break;
                    }
                }
            }
            if pos == b.len() {
                return Ok(out);
            }
            if b[pos] != b',' {
                return Err(QuoteError::TextAfterQuote { at: pos });
            }
            pos += 1;
        } else {
            match memchr::memchr2(b',', b'"', &b[pos..]) {
                None => {
                    put(&mut out, Cow::Borrowed(&rec[pos..]));
                    return Ok(out);
                }
                Some(j) => {
                    let k = pos + j;
                    if b[k] == b'"' {
                        return Err(QuoteError::StrayQuote { at: k });
                    }
                    put(&mut out, Cow::Borrowed(&rec[pos..k]));
                    pos = k + 1;
                }
            }
        }
    }
}

/// The fast path for a record without quotes: the number of fields and the byte positions of
/// its first four commas (unused entries are the record's length), or `None` when the record
/// contains a `"` (then [`split`] decides). Scans sixteen bytes at a time.
#[inline]
pub fn plain_commas(b: &[u8]) -> Option<(usize, [usize; 4])> {
    let mut commas = [b.len(); 4];
    let mut n = 0usize;
    // the bits of the commas in `m`, bit 0 being byte `base`
    let mut add = |mut m: u32, base: usize| {
        while m != 0 && n < 4 {
            commas[n] = base + m.trailing_zeros() as usize;
            n += 1;
            m &= m - 1;
        }
        if m != 0 {
            // past the fourth comma only the count matters
            n += m.count_ones() as usize;
        }
    };
    let mut i = 0usize;
    while let Some(c) = Chunk::at(b, i) {
        if c.eq(b'"') != 0 {
            return None;
        }
        add(c.eq(b','), i);
        i += 16;
    }
    if i < b.len() {
        if b.len() >= 16 {
            // the last sixteen bytes, without those already seen
            let last = b.len() - 16;
            let c = Chunk::at(b, last)?;
            let seen = i - last;
            if c.eq(b'"') >> seen != 0 {
                return None;
            }
            add(c.eq(b',') >> seen, i);
        } else {
            for (j, &x) in b.iter().enumerate() {
                if x == b'"' {
                    return None;
                }
                if x == b',' {
                    add(1, j);
                }
            }
        }
    }
    Some((n + 1, commas))
}

/// Whether a record has an odd number of quotes (a quoted field continues on the next line).
pub fn quote_open(rec: &[u8]) -> bool {
    memchr::memchr_iter(b'"', rec).count() % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(r: &str) -> Result<Vec<String>, QuoteError> {
        split(r).map(|f| {
            (0..f.count.min(KEPT_FIELDS))
                .map(|i| f.fields[i].to_string())
                .collect()
        })
    }

    #[test]
    fn plain_and_quoted() {
        assert_eq!(v("1,/p/123,4").unwrap(), ["1", "/p/123", "4"]);
        assert_eq!(
            v("1,/p/1,,\"2023-04-22 15:04:30\"").unwrap(),
            ["1", "/p/1", "", "2023-04-22 15:04:30"]
        );
        assert_eq!(v("\"a,b\",\"x\"\"y\"").unwrap(), ["a,b", "x\"y"]);
        assert_eq!(v("").unwrap(), [""]);
        assert_eq!(v("a,").unwrap(), ["a", ""]);
        assert_eq!(v("\"\",b").unwrap(), ["", "b"]);
        assert_eq!(split("a,b,c,d,e,f,g").unwrap().count, 7);
    }

    #[test]
    fn plain_commas_match_split() {
        let cases = [
            "",
            ",",
            "1,/p/123,4",
            "1,/p/1,,2023-04-22 15:04:30",
            "abcdefgh,ijklmnop,qrstuvwx,yz012345,6789",
            "a,b,c,d,e,f,g,h,i,j,k,l,m",
            ",,,,,,,,,,,,,,,,",
            "é,ü,日本,x",
            "12345678",
            "1234567,",
            "12345678,",
            "0123456789abcde,",
            "0123456789abcdef,",
            ",0123456789abcdef",
            "1000000002,/product/12290,u2473460,2022-01-01 00:39:09.941138",
            "1000000002,/product/12290,,,,2022-01-01 00:39:09.941138,x,y",
            "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z",
        ];
        for c in cases {
            let (n, commas) = plain_commas(c.as_bytes()).unwrap();
            let f = split(c).unwrap();
            assert_eq!(n, f.count, "{c:?}");
            let mut start = 0;
            for (i, field) in f.fields.iter().enumerate().take(n.min(KEPT_FIELDS)) {
                let end = match commas.get(i) {
                    Some(&e) => e,
                    None => c[start..].find(',').map_or(c.len(), |e| start + e),
                };
                assert_eq!(&c[start..end], field, "{c:?} field {i}");
                start = end + 1;
            }
        }
        assert!(plain_commas(b"1,\"a\"").is_none());
        assert!(plain_commas(b"12345678901234\"").is_none());
        assert!(plain_commas(b"\"").is_none());
        assert!(plain_commas(b"0123456789abcdef0123\"").is_none());
        assert!(plain_commas(b"0123456789abcdef\"0123").is_none());
        assert!(plain_commas(b"0123456789abcde\"0123").is_none());
    }

    #[test]
    fn plain_commas_agree_with_split_on_generated_records() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 70) as usize;
            let mut r = x;
            let rec: String = (0..len)
                .map(|_| {
                    r = r.rotate_left(5).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    match r >> 60 {
                        0..=2 => ',',
                        3 if len.is_multiple_of(5) => '"',
                        4 => 'é',
                        _ => 'a',
                    }
                })
                .collect();
            let got = plain_commas(rec.as_bytes());
            let Ok(f) = split(&rec) else {
                assert!(got.is_none(), "{rec:?}");
                continue;
            };
            if rec.contains('"') {
                assert!(got.is_none(), "{rec:?}");
                continue;
            }
            let Some((n, commas)) = got else {
                panic!("{rec:?}");
            };
            assert_eq!(n, f.count, "{rec:?}");
            let want: Vec<usize> = rec
                .match_indices(',')
                .map(|(i, _)| i)
                .chain(std::iter::repeat(rec.len()))
                .take(4)
                .collect();
            assert_eq!(commas.to_vec(), want, "{rec:?}");
        }
    }

    #[test]
    fn quote_errors() {
        assert_eq!(v("1,\"abc"), Err(QuoteError::Unclosed { at: 2 }));
        assert_eq!(v("1,\"abc\"x,3"), Err(QuoteError::TextAfterQuote { at: 7 }));
        assert_eq!(v("1,ab\"c"), Err(QuoteError::StrayQuote { at: 4 }));
        assert!(quote_open(b"1,\"abc"));
        assert!(!quote_open(b"1,\"a\"\"bc\""));
    }
}
