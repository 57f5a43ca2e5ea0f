//! The overlap check: how many of a file's orders (and rows) were already sent to a tracker,
//! counted against its [`SentLookup`](crate::config::sent::SentLookup).
//!
//! This is a separate streaming pass over the file (the validator's parsing stage hashes
//! order ids with a hash that is not stable across versions, so the stable
//! [`order_hash`](crate::config::sent::order_hash) is computed here). Memory: the lookup
//! (about 10.5 bytes per stored order) plus one bit per stored order and a 512 KiB block.
//! Records spanning several physical lines (quoted line breaks) are not matched.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::config::sent::{Overlap, OverlapCounter, SentLookup};
use crate::read::Format;
use crate::read::lines::{LineSplitter, Piece};
use crate::validate::ValidateError;
use crate::validate::engine_fields as parse_fields;

/// Count the file's orders already in `lookup`; keeps up to `max_examples` example rows.
/// A leading UTF-8 BOM is skipped. Rows whose order id is missing or blank are ignored.
pub fn check_file(
    path: &Path,
    format: Format,
    lookup: &SentLookup,
    max_examples: usize,
) -> Result<Overlap, ValidateError> {
    let io = |e| ValidateError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut f = File::open(path).map_err(io)?;
    let mut counter = OverlapCounter::new(lookup, max_examples);
    let mut splitter = LineSplitter::new(1 << 20);
    let mut buf = vec![0u8; 512 << 10];
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
            counter.row(&order, l.no);
        }
    };
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        splitter.feed(&buf[..n], &mut each);
    }
    splitter.finish(&mut each);
    Ok(counter.finish())
}

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
    use crate::config::sent::{SentSets, order_hash};

    #[test]
    fn counts_a_re_export_against_an_earlier_upload() {
        let dir = tempfile::tempdir().unwrap();
        let sets = SentSets::new(dir.path(), "t");
        // upload A: orders 1..=1000
        sets.store(
            "A",
            (1..=1000).map(|i| order_hash(&i.to_string())).collect(),
        )
        .unwrap();
        // file B: orders 1..=1500, two rows each for even orders, with a header
        let mut csv = String::from("order_id,identity,user_id,created_at\n");
        let mut rows_sent = 0;
        for i in 1..=1500 {
            let n = if i % 2 == 0 { 2 } else { 1 };
            for k in 0..n {
                csv.push_str(&format!("{i},p{k},,2026-01-01T00:00:00Z\n"));
                if i <= 1000 {
                    rows_sent += 1;
                }
            }
        }
        let file = dir.path().join("b.csv");
        std::fs::write(&file, csv).unwrap();
        let lookup = sets.load_all().unwrap();
        let o = check_file(&file, Format::Csv, &lookup, 2).unwrap();
        assert_eq!(o.orders, 1000);
        assert_eq!(rows_sent, 1500);
        assert_eq!(o.rows, rows_sent);
        assert_eq!(o.by_set, vec![("A".to_string(), 1000)]);
        assert_eq!(o.examples, vec![(2, "1".to_string()), (3, "2".to_string())]);
    }
}
