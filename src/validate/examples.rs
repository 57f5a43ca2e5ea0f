//! Examples of issues: how a record is shown (escaped, bounded) and how an issue's count and
//! first examples are kept.

use std::borrow::Cow;

use super::Example;

/// Longest example text, in characters.
pub const EXAMPLE_CHARS: usize = 200;

/// Render bytes for an example: lossy UTF-8, control characters escaped, at most 200 chars.
pub fn example_text(bytes: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(&bytes[..bytes.len().min(EXAMPLE_CHARS * 4)]);
    let mut out = String::new();
    for (n, c) in lossy.chars().enumerate() {
        if n >= EXAMPLE_CHARS {
            out.push('…');
            break;
        }
        push_escaped(&mut out, c);
    }
    out
}

/// `s` safe to print on a terminal: control characters (C0, DEL, C1 — escape sequences start
/// with them), and the BOM written as `\t`, `\r`, `\n`, `\0` or `\u{1b}`; no length limit.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{feff}'
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        '\0' => out.push_str("\\0"),
        c if needs_escape(c) => {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
        c => out.push(c),
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Acc {
    pub count: u64,
    pub examples: Vec<Example>,
}

/// Count an issue in `a` and keep an example while there are fewer than `max`.
#[inline]
pub(crate) fn push_issue(
    a: &mut Acc,
    max: usize,
    line: u64,
    byte: u64,
    text: impl FnOnce() -> String,
) {
    a.count += 1;
    if a.examples.len() < max {
        let mut text = text();
        if text.chars().count() > EXAMPLE_CHARS {
            text = text.chars().take(EXAMPLE_CHARS - 1).collect();
            text.push('…');
        }
        a.examples.push(Example { line, byte, text });
    }
}
