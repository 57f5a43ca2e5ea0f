//! Keep only the orders not sent yet: copy a file (documented layout) leaving out every record
//! of an order whose id is in a tracker's [`SentLookup`] (`normalize --only-new-orders`).
//!
//! Orders are matched by id, exactly as the overlap check and the record of a sent upload read
//! them ([`order_of`], [`order_hash`](crate::config::sent::order_hash)): a file filtered here
//! has no overlap left with the uploads recorded when it was filtered. Records that are kept
//! are copied byte for byte. A CSV record whose quoted field holds a line break is kept whole
//! (its physical lines are grouped by quote parity). Memory: one record plus one bit per stored
//! order and the I/O buffers.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::overlap::order_of;
use crate::config::sent::{Overlap, OverlapCounter, SentLookup};
use crate::mapping::MappingError;
use crate::read::Format;

/// The longest record copied (a longer one is an error naming its line): far above any
/// record the validator accepts, low enough to keep memory bounded.
pub const MAX_RECORD_BYTES: u64 = 16 << 20;

/// What [`filter_file`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filtered {
    /// The orders (and their rows) left out, per earlier upload.
    pub dropped: Overlap,
    /// Records written.
    pub rows_kept: u64,
    /// Bytes written.
    pub bytes_kept: u64,
}

fn partial_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    out.with_file_name(format!(".{name}.only-new.partial"))
}

/// Copy `input` to `out` without the records of orders in `lookup`. The copy is written to a
/// temporary name beside `out` (0600) and renamed when complete, so `out` may be `input`
/// itself (the file is then replaced, never left half written). A leading UTF-8 BOM is
/// copied and ignored for matching; records without an order id are kept.
pub fn filter_file(
    input: &Path,
    out: &Path,
    format: Format,
    lookup: &SentLookup,
) -> Result<Filtered, MappingError> {
    let tmp = partial_path(out);
    let res = copy_new(input, &tmp, format, lookup).and_then(|f| {
        std::fs::rename(&tmp, out).map_err(|e| MappingError::io(out, e))?;
        Ok(f)
    });
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

fn copy_new(
    input: &Path,
    tmp: &Path,
    format: Format,
    lookup: &SentLookup,
) -> Result<Filtered, MappingError> {
    let src = File::open(input).map_err(|e| MappingError::io(input, e))?;
    let mut r = BufReader::with_capacity(512 << 10, src);
    let f = crate::config::create_private_file(tmp).map_err(|e| MappingError::io(tmp, e))?;
    let mut w = BufWriter::with_capacity(512 << 10, f);
    let mut counter = OverlapCounter::new(lookup, 0);
    let (mut rows_kept, mut bytes_kept) = (0u64, 0u64);
    let mut rec: Vec<u8> = Vec::with_capacity(1024);
    // line number of the record's first line, of the next line to read
    let (mut first_line, mut next_line) = (1u64, 1u64);
    let mut quotes = 0u64;
    loop {
        let start = rec.len();
        let n = (&mut r)
            .take(MAX_RECORD_BYTES + 1 - start as u64)
            .read_until(b'\n', &mut rec)
            .map_err(|e| MappingError::io(input, e))?;
        if rec.len() as u64 > MAX_RECORD_BYTES {
            return Err(MappingError::Invalid(format!(
                "{}: line {first_line}: a record longer than {MAX_RECORD_BYTES} bytes",
                input.display()
            )));
        }
        let eof = n == 0 || rec.last() != Some(&b'\n');
        if n > 0 {
            next_line += 1;
            if format == Format::Csv {
                quotes += memchr::memchr_iter(b'"', &rec[start..]).count() as u64;
            }
        }
        // a CSV record goes on while a quoted field is open
        if !eof && quotes % 2 == 1 {
            continue;
        }
        if !rec.is_empty() {
            let keep = match record_text(&rec, first_line == 1).and_then(|t| order_id(format, t)) {
                Some(order) => !counter.row(&order, first_line),
                None => true,
            };
            if keep {
                w.write_all(&rec).map_err(|e| MappingError::io(tmp, e))?;
                rows_kept += 1;
                bytes_kept += rec.len() as u64;
            }
        }
        if eof {
            break;
        }
        rec.clear();
        quotes = 0;
        first_line = next_line;
    }
    let f = w
        .into_inner()
        .map_err(|e| MappingError::io(tmp, e.into_error()))?;
    f.sync_all().map_err(|e| MappingError::io(tmp, e))?;
    Ok(Filtered {
        dropped: counter.finish(),
        rows_kept,
        bytes_kept,
    })
}

/// The order id of a record (`None` when missing or blank). A CSV record whose first field is
/// not quoted has it up to the first comma, as the validator splits it, without building the
/// other fields; anything else goes through [`order_of`]. (A row of a sent order whose later
/// fields are badly quoted is dropped too.)
fn order_id(format: Format, text: &str) -> Option<std::borrow::Cow<'_, str>> {
    if format == Format::Csv {
        let end = memchr::memchr(b',', text.as_bytes()).unwrap_or(text.len());
        let first = &text[..end];
        if memchr::memchr(b'"', first.as_bytes()).is_none() {
            return (!first.trim().is_empty()).then_some(std::borrow::Cow::Borrowed(first));
        }
    }
    order_of(format, text).map(std::borrow::Cow::Owned)
}

/// The record as text without its line ending (and a leading BOM on the first line); `None`
/// when it is not UTF-8 (never matched: the record of a sent upload skips such lines too) or
/// blank.
fn record_text(rec: &[u8], first: bool) -> Option<&str> {
    let mut b = rec;
    if first {
        b = b.strip_prefix(crate::read::UTF8_BOM).unwrap_or(b);
    }
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    let b = b.strip_suffix(b"\r").unwrap_or(b);
    let t = std::str::from_utf8(b).ok()?;
    (!t.trim().is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::sent::{SentSets, order_hash};

    fn lookup(dir: &Path, sent: &[&str]) -> SentLookup {
        let sets = SentSets::new(dir, "t");
        sets.store("A", sent.iter().map(|s| order_hash(s)).collect())
            .unwrap();
        sets.load_all().unwrap()
    }

    #[test]
    fn drops_every_row_of_sent_orders_and_copies_the_rest_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let l = lookup(dir.path(), &["1", "3"]);
        // order 3 is scattered; order 4 has a quoted line break; a CRLF row; a blank order id;
        // a quoted order id
        let input = "\"1\",/p/a,u1,2026-01-01T00:00:00Z\n\
                     2,\"/p/b,x\",,2026-01-01T00:00:00Z\r\n\
                     1,/p/c,u1,2026-01-01T00:00:00Z\n\
                     3,/p/d,,2026-01-02T00:00:00Z\n\
                     4,\"/p/e\nnext\",,2026-01-02T00:00:00Z\n\
                     ,/p/f,,2026-01-02T00:00:00Z\n\
                     3,/p/g,,2026-01-02T00:00:00Z";
        let src = dir.path().join("in.csv");
        std::fs::write(&src, input).unwrap();
        let out = dir.path().join("out.csv");
        let f = filter_file(&src, &out, Format::Csv, &l).unwrap();
        let want = "2,\"/p/b,x\",,2026-01-01T00:00:00Z\r\n\
                    4,\"/p/e\nnext\",,2026-01-02T00:00:00Z\n\
                    ,/p/f,,2026-01-02T00:00:00Z\n";
        assert_eq!(std::fs::read_to_string(&out).unwrap(), want);
        assert_eq!(f.dropped.orders, 2);
        assert_eq!(f.dropped.rows, 4);
        assert_eq!(f.dropped.by_set, vec![("A".to_string(), 2)]);
        assert_eq!(f.rows_kept, 3);
        assert_eq!(f.bytes_kept, want.len() as u64);
        // the input is only read
        assert_eq!(std::fs::read_to_string(&src).unwrap(), input);
    }

    #[test]
    fn filters_in_place_and_keeps_a_bom() {
        let dir = tempfile::tempdir().unwrap();
        let l = lookup(dir.path(), &["7"]);
        let p = dir.path().join("x.csv");
        std::fs::write(&p, "\u{feff}8,/q,,\n7,/p,,\n").unwrap();
        let f = filter_file(&p, &p, Format::Csv, &l).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "\u{feff}8,/q,,\n");
        assert_eq!((f.dropped.orders, f.rows_kept), (1, 1));
        // JSON lines
        let j = dir.path().join("x.jsonl");
        std::fs::write(
            &j,
            "{\"order_id\":\"7\",\"identity\":\"/p\"}\n{\"order_id\":\"9\",\"identity\":\"/q\"}\n",
        )
        .unwrap();
        let f = filter_file(&j, &j, Format::Json, &l).unwrap();
        assert_eq!(
            std::fs::read_to_string(&j).unwrap(),
            "{\"order_id\":\"9\",\"identity\":\"/q\"}\n"
        );
        assert_eq!(f.dropped.rows, 1);
        assert!(!partial_path(&j).exists());
    }
}
