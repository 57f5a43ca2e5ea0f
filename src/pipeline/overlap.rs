//! Order ids as the service reads them, and recording what an upload sent ([`record_sent`]:
//! the sent sets hash them with [`order_hash`](crate::config::sent::order_hash)). Counting a file's orders already sent is
//! the validator's job (`validate::Options::sent`, the report's `already_sent` section).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::read::Format;
use crate::read::lines::{LineSplitter, Piece};
use crate::validate::engine_fields as parse_fields;

/// The order id of a record, as the service reads it; `None` when missing or blank.
pub fn order_of(format: Format, text: &str) -> Option<String> {
    let order = parse_fields(format, text)?.order?;
    if order.trim().is_empty() {
        None
    } else {
        Some(order.into_owned())
    }
}

/// Record the orders of `path` (in `format`) as sent by the upload `entry` in `sets` (after
/// an accepted or unknown outcome; the CLI and the wizard both call this). Returns the number
/// of distinct orders stored.
pub fn record_sent(
    sets: &crate::config::sent::SentSets,
    entry: &crate::config::HistoryEntry,
    path: &Path,
    format: Format,
) -> Result<u64, String> {
    let hashes = order_hashes(path, format)?;
    sets.store(
        &crate::config::sent::entry_key(entry.time, &entry.sha256),
        hashes,
    )
    .map_err(|e| e.to_string())
}

/// The stable hashes of every order id in the file (one per run of rows of an order).
fn order_hashes(path: &Path, format: Format) -> Result<Vec<u64>, String> {
    let mut f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    let mut last = None;
    let mut splitter = LineSplitter::new(1 << 20);
    let mut each = |p: Piece<'_>| {
        let Piece::Line(l) = p else { return };
        let mut bytes = l.bytes;
        if l.no == 1 {
            bytes = bytes.strip_prefix(crate::read::UTF8_BOM).unwrap_or(bytes);
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return;
        };
        if let Some(order) = order_of(format, text) {
            let h = crate::config::sent::order_hash(&order);
            if last != Some(h) {
                out.push(h);
                last = Some(h);
            }
        }
    };
    let mut buf = vec![0u8; 512 << 10];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        splitter.feed(&buf[..n], &mut each);
    }
    splitter.finish(&mut each);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_of_csv_and_json_records() {
        assert_eq!(
            order_of(Format::Csv, "17,/p/1,u1,2026-01-01 00:00:00").as_deref(),
            Some("17")
        );
        assert_eq!(order_of(Format::Csv, " ,/p/1"), None);
        assert_eq!(
            order_of(Format::Json, r#"{"order_id":"A-1","identity":"/p/1"}"#).as_deref(),
            Some("A-1")
        );
    }
}
