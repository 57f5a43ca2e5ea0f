//! Mapping: column detection, conversion to the documented CSV, cleaning and splitting.

use serde::{Deserialize, Serialize};

/// Which source column (CSV: 0-based index; JSON lines: key name) feeds a target attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Source {
    /// CSV column, 0-based.
    Column(usize),
    /// JSON-lines key.
    Key(String),
}

/// How a file that doesn't fit the documented layout becomes one that does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// CSV delimiter (`,` `;` `\t` `|`); ignored for JSON lines.
    pub delimiter: char,
    /// Whether the first CSV row is a header.
    pub header: bool,
    /// Source of the order id.
    pub order_id: Source,
    /// Source of the identity.
    pub identity: Source,
    /// Source of the user id, if any.
    pub user_id: Option<Source>,
    /// Source of created_at, if any.
    pub created_at: Option<Source>,
    /// strftime-style format of created_at values, or `epoch_s` / `epoch_ms` / `iso8601`;
    /// `None` means auto-detect.
    pub time_format: Option<String>,
    /// Zone for timestamps without one: `UTC`, a fixed offset like `+02:00`, or an IANA name.
    pub time_zone: Option<String>,
    /// Text encoding of the source (`windows-1250`, `utf-16le`, …); `None`: UTF-8 or found
    /// from the file's first bytes (see [`encoding::sniff`]). The output is always UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// JSON: the key path of an array of products inside each record (`line_items`), exploded
    /// into one row per product with the record's fields carried to each (see [`json`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<String>,
}

/// A mapping saved for a tracker, applied automatically to files of the same shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedMapping {
    /// The file shape it applies to: delimiter, column count and header names.
    pub shape: String,
    /// The mapping.
    pub mapping: Mapping,
}

pub mod convert;
pub mod detect;
pub mod encoding;
pub mod identity;
pub mod json;
pub mod split;
pub mod time;

/// Why a mapping operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// A file couldn't be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The mapping or one of its settings is not usable (bad column, format or zone).
    #[error("{0}")]
    Invalid(String),
    /// The run was cancelled through its progress handle.
    #[error("cancelled")]
    Cancelled,
}

/// Normalise a header name for synonym matching and shape keys: lower-case alphanumerics,
/// words joined by `_`.
pub fn normalize_name(s: &str) -> String {
    let mut out = String::new();
    let mut pending = false;
    for c in s.trim_start_matches('\u{feff}').chars() {
        if c.is_alphanumeric() {
            if pending && !out.is_empty() {
                out.push('_');
            }
            pending = false;
            out.extend(c.to_lowercase());
        } else {
            pending = true;
        }
    }
    out
}

impl MappingError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<std::path::PathBuf>, source: std::io::Error) -> Self {
        MappingError::Io {
            path: path.into(),
            source,
        }
    }
}

impl Source {
    /// Spreadsheet-style label: `A`, `B`, …, `Z`, `AA`, … for columns; the key for JSON.
    pub fn label(&self) -> String {
        match self {
            Source::Column(i) => column_letter(*i),
            Source::Key(k) => k.clone(),
        }
    }

    /// Parse `B` / `b` / `2` (1-based number) / `key:sku` / any other text as a key.
    /// Letters and numbers give [`Source::Column`].
    pub fn parse(s: &str) -> Option<Source> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        if let Some(k) = s.strip_prefix("key:") {
            return Some(Source::Key(k.to_string()));
        }
        if let Ok(n) = s.parse::<usize>() {
            return n.checked_sub(1).map(Source::Column);
        }
        if s.len() <= 3 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
            let mut n: usize = 0;
            for b in s.bytes() {
                n = n * 26 + usize::from(b.to_ascii_uppercase() - b'A' + 1);
            }
            return Some(Source::Column(n - 1));
        }
        Some(Source::Key(s.to_string()))
    }
}

/// Spreadsheet column letter of a 0-based index: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_letter(i: usize) -> String {
    let mut n = i + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl Mapping {
    /// The documented headerless layout with `columns` (2–4) columns: nothing to convert.
    pub fn documented(columns: usize) -> Mapping {
        Mapping {
            delimiter: ',',
            header: false,
            order_id: Source::Column(0),
            identity: Source::Column(1),
            user_id: (columns >= 3).then_some(Source::Column(2)),
            created_at: (columns >= 4).then_some(Source::Column(3)),
            time_format: None,
            time_zone: None,
            encoding: None,
            items: None,
        }
    }

    /// One-line human description, e.g. `order=B identity=D user=C created_at=A (%d/%m/%Y %H:%M, Europe/Bratislava)`.
    pub fn describe(&self) -> String {
        let opt = |s: &Option<Source>| s.as_ref().map_or("-".to_string(), Source::label);
        let mut out = format!(
            "order={} identity={} user={} created_at={}",
            self.order_id.label(),
            self.identity.label(),
            opt(&self.user_id),
            opt(&self.created_at)
        );
        if self.created_at.is_some() {
            out.push_str(&format!(
                " ({}, {})",
                self.time_format.as_deref().unwrap_or("auto"),
                self.time_zone.as_deref().unwrap_or("UTC")
            ));
        }
        if let Some(e) = &self.encoding {
            out.push_str(&format!(", read as {e}"));
        }
        if let Some(i) = &self.items {
            out.push_str(&format!(", one row per item of {i}"));
        }
        out
    }
}

impl SavedMapping {
    /// The shape part of [`SavedMapping::shape`] (before an optional `#name`).
    pub fn shape_key(&self) -> &str {
        self.shape.split_once('#').map_or(&self.shape, |(s, _)| s)
    }

    /// The user's name for it (after `#` in [`SavedMapping::shape`]), if any.
    pub fn name(&self) -> Option<&str> {
        self.shape
            .split_once('#')
            .map(|(_, n)| n)
            .filter(|n| !n.is_empty())
    }

    /// A saved mapping for `shape`, optionally named (stored as `shape#name`).
    pub fn new(shape: &str, name: Option<&str>, mapping: Mapping) -> Self {
        let shape = match name.filter(|n| !n.is_empty()) {
            Some(n) => format!("{shape}#{n}"),
            None => shape.to_string(),
        };
        SavedMapping { shape, mapping }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_round_trip() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(Source::parse("b"), Some(Source::Column(1)));
        assert_eq!(Source::parse("AA"), Some(Source::Column(26)));
        assert_eq!(Source::parse("3"), Some(Source::Column(2)));
        assert_eq!(Source::parse("0"), None);
        assert_eq!(Source::parse("key:sku"), Some(Source::Key("sku".into())));
        assert_eq!(
            Source::parse("customer"),
            Some(Source::Key("customer".into()))
        );
    }
}
