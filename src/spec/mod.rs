//! The service's rules, in one place, depending on nothing else in lbimport: what the import
//! endpoint accepts (formats, attribute names of both generations, the `created_at` grammar,
//! the BOM, size limits) and where it lives. Every other module imports these instead of
//! spelling them again.
//!
//! Source: the import API document (`POST /v1/interactions/{tracker_id}/files`).

use std::path::Path;

use serde::{Deserialize, Serialize};

pub mod created_at;

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

/// The service's size limit for one file: 1 GiB (larger files are rejected).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// The service documents "1 GB": above 10^9 bytes a file is near the limit, and lbimport's
/// parts are at most this large so that they fit whichever "GB" the service means.
pub const NEAR_LIMIT_BYTES: u64 = 1_000_000_000;

/// The largest part lbimport splits a file into (see [`NEAR_LIMIT_BYTES`]).
pub const PART_BYTES: u64 = NEAR_LIMIT_BYTES;

/// How long one upload may take on the service's side.
pub const MAX_UPLOAD_SECS: u64 = 600;

/// How far the signed `Date` may be from the service's clock.
pub const MAX_DATE_SKEW_SECS: i64 = 5;

/// The UTF-8 byte-order mark (tolerated by lbimport's checks, stripped by conversion).
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Path of the import endpoint for a tracker, relative to the base URL.
pub fn endpoint_path(tracker_id: &str) -> String {
    format!("/v1/interactions/{tracker_id}/files")
}

/// The endpoint's route pattern (for a server).
pub const ENDPOINT_ROUTE: &str = "/v1/interactions/{tracker}/files";

/// The Content Export API that reads a tracker's catalog (`GET /v1/content_export`).
pub mod content_export {
    /// The path of the endpoint (signed without its query).
    pub const PATH: &str = "/v1/content_export";
    /// The content type signed when the request sends none (the documentation's sample).
    pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";
    /// Page size when the request gives none.
    pub const DEFAULT_PAGE_SIZE: usize = 300;
    /// Largest page size; larger requests are capped.
    pub const MAX_PAGE_SIZE: usize = 500;
    /// How long a next link stays valid (seconds).
    pub const CURSOR_TTL_SECS: u64 = 600;
}

/// JSON-lines attribute names: the current generation and the older one, by role.
pub mod attr {
    /// Order id: `order_id` (current) or `session_id` (older). Required.
    pub const ORDER: [&str; 2] = ["order_id", "session_id"];
    /// Identity: `identity` (current) or `url` (older). Required.
    pub const IDENTITY: [&str; 2] = ["identity", "url"];
    /// User id: `auth_user_id` (current) or `user_id` (older). Optional.
    pub const USER: [&str; 2] = ["auth_user_id", "user_id"];
    /// Purchase time: `created_at` in both generations. Optional.
    pub const CREATED_AT: [&str; 1] = ["created_at"];
    /// Every documented key.
    pub const ALL: [&str; 7] = [
        "order_id",
        "session_id",
        "identity",
        "url",
        "auth_user_id",
        "user_id",
        "created_at",
    ];
}

/// The format named by the path's extension (`.csv` / `.json`, exactly as the service expects).
pub fn format_from_extension(path: &Path) -> Option<Format> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => Some(Format::Csv),
        Some("json") => Some(Format::Json),
        _ => None,
    }
}

/// The format an export's extension suggests, leniently (any case; `.jsonl`, `.ndjson` for
/// JSON lines; `.tsv`, `.txt` for delimited text): for files lbimport converts or sends under
/// the service's name.
pub fn format_hint_from_extension(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "json" | "jsonl" | "ndjson" => Some(Format::Json),
        "csv" | "tsv" | "txt" => Some(Format::Csv),
        _ => None,
    }
}

/// Guess the format from the first bytes of a file: a line starting with `{` (after an
/// optional BOM and blank lines) means JSON lines, anything else delimited text.
pub fn sniff(head: &[u8]) -> Format {
    let head = head.strip_prefix(UTF8_BOM).unwrap_or(head);
    for b in head {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            b'{' => return Format::Json,
            _ => return Format::Csv,
        }
    }
    Format::Csv
}

/// The format of `path`: its extension if it is `.csv` / `.json`, else sniffed from `head`.
/// The flag tells whether it was sniffed.
pub fn format_for_path(path: &Path, head: &[u8]) -> (Format, bool) {
    match format_from_extension(path) {
        Some(f) => (f, false),
        None => (sniff(head), true),
    }
}

/// The format of a file to convert or send: a lenient extension hint, else sniffed.
pub fn format_of_export(path: &Path, head: &[u8]) -> Format {
    format_hint_from_extension(path).unwrap_or_else(|| sniff(head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_json_and_csv() {
        assert_eq!(sniff(b"{\"a\":1}\n"), Format::Json);
        assert_eq!(sniff(b"\xEF\xBB\xBF\n  {\"a\":1}"), Format::Json);
        assert_eq!(sniff(b"1,/p/1\n"), Format::Csv);
        assert_eq!(sniff(b""), Format::Csv);
    }

    #[test]
    fn extension_is_exact_for_the_service_and_lenient_for_exports() {
        assert_eq!(format_from_extension(Path::new("a.csv")), Some(Format::Csv));
        assert_eq!(
            format_from_extension(Path::new("a.json")),
            Some(Format::Json)
        );
        assert_eq!(format_from_extension(Path::new("a.jsonl")), None);
        assert_eq!(format_from_extension(Path::new("a.CSV")), None);
        assert_eq!(format_from_extension(Path::new("a")), None);
        assert_eq!(
            format_hint_from_extension(Path::new("a.NDJSON")),
            Some(Format::Json)
        );
        assert_eq!(
            format_hint_from_extension(Path::new("a.TSV")),
            Some(Format::Csv)
        );
        assert_eq!(format_of_export(Path::new("a.dat"), b" {"), Format::Json);
        assert_eq!(format_of_export(Path::new("a.csv"), b"{"), Format::Csv);
    }

    #[test]
    fn endpoint() {
        assert_eq!(
            endpoint_path("1292-9381"),
            "/v1/interactions/1292-9381/files"
        );
        assert_eq!(
            ENDPOINT_ROUTE.replace("{tracker}", "1-2"),
            endpoint_path("1-2")
        );
    }
}
