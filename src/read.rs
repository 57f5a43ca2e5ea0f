//! Reading: format sniffing and CSV / JSON-lines records with line and byte positions.

use serde::{Deserialize, Serialize};

/// The two upload formats the service accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Headerless CSV: order id, identity, then optionally user id and created_at.
    Csv,
    /// JSON lines: one object per line.
    Json,
}

impl Format {
    /// The file extension the service expects for this format (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}
