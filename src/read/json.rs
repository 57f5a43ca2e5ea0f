//! One JSON-lines record → its members.
//!
//! A hand-written scanner handles the common case (a flat object of up to 8 members whose
//! strings have no escapes) without allocating; anything else goes through `serde_json`,
//! which is also the judge of every syntax error.

use std::borrow::Cow;

use super::simd::Chunk;

/// A member's value, as far as the import cares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Value<'a> {
    /// A string.
    Str(Cow<'a, str>),
    /// A number, as written.
    Num(Cow<'a, str>),
    /// `null`.
    #[default]
    Null,
    /// `true` / `false`.
    Bool,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl Value<'_> {
    /// The JSON type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Num(_) => "number",
            Value::Null => "null",
            Value::Bool => "boolean",
            Value::Array => "array",
            Value::Object => "object",
        }
    }
}

const INLINE: usize = 8;

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
const ONES: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// 0x80 in every byte of `x` that is `"`, `\` or a control character (< 0x20), 0 elsewhere.
#[inline(always)]
fn special_mask(x: u64) -> u64 {
    let eq = |c: u8| {
        let y = x ^ (ONES * c as u64);
        !(((y & LO7) + LO7) | y | LO7)
    };
    let ctrl = !(((x & LO7) + ONES * 0x60) | x) & HI;
    eq(b'"') | eq(b'\\') | ctrl
}

/// A string without escapes starting at `i` (the opening quote); returns (end after quote, inner).
#[inline(always)]
fn plain_str(s: &str, i: usize) -> Option<(usize, &str)> {
    let b = s.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let mut j = start;
    // sixteen, then eight bytes at a time up to the first quote, backslash or control character
    'scan: {
        while let Some(c) = Chunk::at(b, j) {
            let m = c.eq2(b'"', b'\\') | c.below(0x20);
            if m != 0 {
                j += m.trailing_zeros() as usize;
                break 'scan;
            }
            j += 16;
        }
        while j + 8 <= b.len() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[j..j + 8]);
            let m = special_mask(u64::from_le_bytes(w));
            if m != 0 {
                j += (m.trailing_zeros() / 8) as usize;
                break 'scan;
            }
            j += 8;
        }
    }
    while j < b.len() && b[j] != b'"' && b[j] != b'\\' && b[j] >= 0x20 {
        j += 1;
    }
    if b.get(j) != Some(&b'"') {
        return None;
    }
    Some((j + 1, s.get(start..j)?))
}

fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let s = i;
        while matches!(b.get(i), Some(b'0'..=b'9')) {
            i += 1;
        }
        if i == s {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let s = i;
        while matches!(b.get(i), Some(b'0'..=b'9')) {
            i += 1;
        }
        if i == s {
            return None;
        }
    }
    Some(i)
}

type Members<'a> = [(&'a str, Value<'a>); INLINE];

/// The fast path: `None` means "ask serde_json".
fn fast<'a>(s: &'a str, out: &mut Members<'a>) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = ws(b, i + 1);
    let mut n = 0;
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            let (e, key) = plain_str(s, i)?;
            i = ws(b, e);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = ws(b, i + 1);
            let v = match b.get(i)? {
                b'"' => {
                    let (e, v) = plain_str(s, i)?;
                    i = e;
                    Value::Str(Cow::Borrowed(v))
                }
                b'-' | b'0'..=b'9' => {
                    let e = number_end(b, i)?;
                    let v = &s[i..e];
                    i = e;
                    Value::Num(Cow::Borrowed(v))
                }
                b'n' if b[i..].starts_with(b"null") => {
                    i += 4;
                    Value::Null
                }
                b't' if b[i..].starts_with(b"true") => {
                    i += 4;
                    Value::Bool
                }
                b'f' if b[i..].starts_with(b"false") => {
                    i += 5;
                    Value::Bool
                }
                _ => return None,
            };
            if n == INLINE {
                return None;
            }
            out[n] = (key, v);
            n += 1;
            i = ws(b, i);
            match b.get(i)? {
                b',' => i = ws(b, i + 1),
                b'}' => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    if ws(b, i) != b.len() {
        return None;
    }
    Some(n)
}

/// Parse one line as a JSON object and hand each member to `f` (in order; a repeated key is
/// handed out twice). Errors are serde_json's message, or "not an object".
pub fn parse_object<'a, F: FnMut(Cow<'a, str>, Value<'a>)>(
    line: &'a str,
    f: &mut F,
) -> Result<(), String> {
    let mut inline: Members<'a> = Default::default();
    if let Some(n) = fast(line, &mut inline) {
        for (k, v) in inline.into_iter().take(n) {
            f(Cow::Borrowed(k), v);
        }
        return Ok(());
    }
    let members = match serde_json::from_str::<Slow>(line).map_err(|e| e.to_string())? {
        Slow::Object(m) => m,
        Slow::Other(what) => return Err(format!("a line must be one JSON object, this is {what}")),
    };
    for (k, v) in members {
        let v = match v {
            serde_json::Value::String(s) => Value::Str(Cow::Owned(s)),
            serde_json::Value::Number(n) => Value::Num(Cow::Owned(n.to_string())),
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(_) => Value::Bool,
            serde_json::Value::Array(_) => Value::Array,
            serde_json::Value::Object(_) => Value::Object,
        };
        f(Cow::Owned(k), v);
    }
    Ok(())
}

/// A line read by serde_json (the slow path): an object's members in file order, repeated keys
/// included (a `serde_json::Map` would sort them and keep one of each), or what else it is.
enum Slow {
    Object(Vec<(String, serde_json::Value)>),
    Other(&'static str),
}

impl<'de> serde::Deserialize<'de> for Slow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Slow;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Slow, A::Error> {
                let mut v = Vec::new();
                while let Some(kv) = a.next_entry::<String, serde_json::Value>()? {
                    v.push(kv);
                }
                Ok(Slow::Object(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Slow, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Slow::Other("an array"))
            }
            fn visit_unit<E>(self) -> Result<Slow, E> {
                Ok(Slow::Other("null"))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Slow, E> {
                Ok(Slow::Other("a boolean"))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Slow, E> {
                Ok(Slow::Other("a number"))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Slow, E> {
                Ok(Slow::Other("a number"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Slow, E> {
                Ok(Slow::Other("a number"))
            }
            fn visit_str<E>(self, _: &str) -> Result<Slow, E> {
                Ok(Slow::Other("a string"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(s: &str) -> Result<Vec<(String, Value<'static>)>, String> {
        let mut out = Vec::new();
        parse_object(s, &mut |k, v| {
            let v = match v {
                Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
                Value::Num(s) => Value::Num(Cow::Owned(s.into_owned())),
                Value::Null => Value::Null,
                Value::Bool => Value::Bool,
                Value::Array => Value::Array,
                Value::Object => Value::Object,
            };
            out.push((k.into_owned(), v))
        })?;
        Ok(out)
    }

    fn s(x: &str) -> Value<'static> {
        Value::Str(Cow::Owned(x.to_string()))
    }

    #[test]
    fn flat_objects() {
        let m = members(r#"{"session_id": "1","identity": "/p/123","user_id": 4 }"#).unwrap();
        assert_eq!(
            m,
            vec![
                ("session_id".into(), s("1")),
                ("identity".into(), s("/p/123")),
                ("user_id".into(), Value::Num(Cow::Owned("4".into()))),
            ]
        );
        let m = members(r#"{"a":null,"b":true,"c":[1],"d":{"x":1},"e":"q\"x"}"#).unwrap();
        assert_eq!(m[0].1, Value::Null);
        assert_eq!(m[1].1, Value::Bool);
        assert_eq!(m[2].1, Value::Array);
        assert_eq!(m[3].1, Value::Object);
        assert_eq!(m[4].1, s("q\"x"));
        assert_eq!(members("{}").unwrap(), vec![]);
    }

    #[test]
    fn syntax_errors() {
        assert!(members(r#"{"a":"1""#).is_err());
        assert!(members(r#"{"a":01}"#).is_err());
        assert!(members(r#"[1,2]"#).unwrap_err().contains("an array"));
        assert!(members(r#"{"a":"1"} x"#).is_err());
        assert!(members("").is_err());
        assert!(members("{\"a\":\"x\ty\"}").is_err());
        assert!(members("{\"a\":\"0123456789abcdef\tg\"}").is_err());
        assert!(members("{\"a\":\"0123456789abcdef\u{7f}é\"}").is_ok());
    }

    #[test]
    fn plain_strings_of_any_length_stop_at_the_first_special() {
        for len in 0..70 {
            for special in ["\"", "\\", "\n", "\u{1f}", "é"] {
                for at in 0..=len {
                    let body: String = (0..len)
                        .map(|i| if i == at { special } else { "x" })
                        .collect();
                    let s = format!("\"{body}\"tail");
                    let b = s.as_bytes();
                    let mut j = 1;
                    while b[j] != b'"' && b[j] != b'\\' && b[j] >= 0x20 {
                        j += 1;
                    }
                    let want = (b[j] == b'"').then(|| (j + 1, &s[1..j]));
                    assert_eq!(plain_str(&s, 0), want, "{s:?}");
                }
            }
        }
    }

    #[test]
    fn plain_strings_stop_at_specials() {
        for (s, want) in [
            (r#""""#, Some((2, ""))),
            (r#""abc""#, Some((5, "abc"))),
            (r#""0123456789abcdefgh"x"#, Some((20, "0123456789abcdefgh"))),
            (r#""01234567\"""#, None),
            (r#""0123456789ab\n""#, None),
            ("\"0123456789\u{1}\"", None),
            ("\"0123456789\u{7f}\"", Some((13, "0123456789\u{7f}"))),
            ("\"日本語テキストです\"", Some((29, "日本語テキストです"))),
            (r#""unterminated"#, None),
        ] {
            assert_eq!(plain_str(s, 0), want, "{s:?}");
        }
    }
}
