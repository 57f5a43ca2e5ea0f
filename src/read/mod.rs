//! Reading: format sniffing and CSV / JSON-lines records with line and byte positions.
//!
//! - [`lines::LineSplitter`] turns blocks of bytes into physical lines (with 1-based line
//!   numbers and 0-based byte offsets), with bounded memory for over-long lines.
//! - [`csv::split`] splits one CSV record into fields (RFC 4180, strict about quotes).
//! - [`json::parse_object`] reads one JSON-lines record (a flat object) into key/value pairs.
//! - [`sniff`] / [`format_for_path`] decide the format.
//! - [`clean::CleanCheck`] tells whether a block read in pieces is valid UTF-8 without NUL/CR.
//! - [`simd::Chunk`] gives bit masks of byte classes over 16 bytes (SSE2 on x86_64).

use std::path::Path;

use serde::{Deserialize, Serialize};

pub mod clean;
pub mod csv;
pub mod json;
pub mod lines;
pub mod simd;

/// What kind of file system object `m` describes, for messages ("a named pipe").
pub fn file_kind(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    let t = m.file_type();
    if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// The metadata of `path` (following symbolic links) when it is a regular file; otherwise an
/// `InvalidInput` error "not a regular file (a character device)". Devices and pipes are refused
/// before they are opened: opening a FIFO blocks, and `/dev/zero` never ends.
pub fn regular_file(path: &Path) -> std::io::Result<std::fs::Metadata> {
    let m = std::fs::metadata(path)?;
    if m.is_file() {
        Ok(m)
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a regular file ({})", file_kind(&m)),
        ))
    }
}

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

/// The UTF-8 byte-order mark.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A byte-order mark of an encoding other than UTF-8, if `head` starts with one.
pub fn foreign_bom(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\xFF\xFE\x00\x00") {
        Some("UTF-32 (little-endian)")
    } else if head.starts_with(b"\x00\x00\xFE\xFF") {
        Some("UTF-32 (big-endian)")
    } else if head.starts_with(b"\xFF\xFE") {
        Some("UTF-16 (little-endian)")
    } else if head.starts_with(b"\xFE\xFF") {
        Some("UTF-16 (big-endian)")
    } else {
        None
    }
}

/// The format named by the path's extension (`.csv` / `.json`, exactly as the service expects).
pub fn format_from_extension(path: &Path) -> Option<Format> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => Some(Format::Csv),
        Some("json") => Some(Format::Json),
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
    fn extension_is_exact() {
        assert_eq!(format_from_extension(Path::new("a.csv")), Some(Format::Csv));
        assert_eq!(
            format_from_extension(Path::new("a.json")),
            Some(Format::Json)
        );
        assert_eq!(format_from_extension(Path::new("a.jsonl")), None);
        assert_eq!(format_from_extension(Path::new("a.CSV")), None);
        assert_eq!(format_from_extension(Path::new("a")), None);
    }

    #[test]
    fn foreign_boms() {
        assert_eq!(
            foreign_bom(b"\xFF\xFEa\x00"),
            Some("UTF-16 (little-endian)")
        );
        assert_eq!(foreign_bom(b"\xFE\xFF\x00a"), Some("UTF-16 (big-endian)"));
        assert_eq!(
            foreign_bom(b"\xFF\xFE\x00\x00"),
            Some("UTF-32 (little-endian)")
        );
        assert_eq!(foreign_bom(b"\xEF\xBB\xBFa"), None);
    }
}
