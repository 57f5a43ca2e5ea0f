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
}

/// A mapping saved for a tracker, applied automatically to files of the same shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedMapping {
    /// The file shape it applies to: delimiter, column count and header names.
    pub shape: String,
    /// The mapping.
    pub mapping: Mapping,
}
