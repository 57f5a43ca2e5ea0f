//! Reading: format sniffing and CSV / JSON-lines records with line and byte positions.
//!
//! - [`lines::LineSplitter`] turns blocks of bytes into physical lines (with 1-based line
//!   numbers and 0-based byte offsets), with bounded memory for over-long lines.
//! - [`csv::split`] splits one CSV record into fields (RFC 4180, strict about quotes).
//! - [`json::parse_object`] reads one JSON-lines record (a flat object) into key/value pairs.
//! - [`sniff`] / [`format_for_path`] decide the format (defined in [`crate::spec`]).
//! - [`clean::CleanCheck`] tells whether a block read in pieces is valid UTF-8 without NUL/CR.
//! - [`simd::Chunk`] gives bit masks of byte classes over 16 bytes (SSE2 on x86_64).

pub mod clean;
pub mod csv;
pub mod json;
pub mod lines;
pub mod simd;

use std::path::Path;

pub use crate::spec::{Format, UTF8_BOM, format_for_path, format_from_extension, sniff};

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

#[cfg(test)]
mod tests {
    use super::*;

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
