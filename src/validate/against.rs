//! Checks of the file against what the tracker already has, made once the file has been read:
//! its identities against the tracker's catalog ([`catalog`]) and its orders against what
//! earlier uploads sent ([`sent`]).
//!
//! Neither adds work per row: both walk the validator's own tables of distinct products and
//! orders (bucket by bucket, so that consecutive look-ups land next to each other) and read
//! back only the few rows they quote.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::agg::{Agg, ProductRec};
use super::engine::{example_text, parse_fields, row_ids};
use super::lookup::{CatalogIndex, SentLookup};
use super::report::{AlreadySent, CatalogCheck, CatalogDiagnosis, Example, SentBy, TopProduct};
use crate::read::{Format, UTF8_BOM};

/// Unknown identities (most rows first) whose spelling is read back and diagnosed.
pub(super) const DIAGNOSED: usize = 1000;
/// Unknown identities listed in the report.
const TOP_UNKNOWN: usize = 10;

/// What the catalog check found.
pub(super) struct CatalogFound {
    pub check: CatalogCheck,
    /// Valid rows whose identity is not in the catalog.
    pub unknown_rows: u64,
    /// First rows of the first unknown identities, in file order.
    pub examples: Vec<Example>,
}

/// Compare the file's distinct identities (after [`Agg::finish`]) with `index`.
pub(super) fn catalog(
    path: &Path,
    format: Format,
    bom: bool,
    agg: &Agg,
    index: &CatalogIndex,
    valid_rows: u64,
    max_examples: usize,
) -> CatalogFound {
    let fetched_at = index
        .fetched_at
        .and_then(|s| chrono::DateTime::from_timestamp(i64::try_from(s).ok()?, 0));
    let mut check = CatalogCheck {
        source: index.source.clone(),
        fetched_at,
        catalog_identities: index.identities.len() as u64,
        skipped: None,
        rows: valid_rows,
        rows_matched: 0,
        identities: 0,
        identities_matched: 0,
        row_match_rate: 0.0,
        identity_match_rate: 0.0,
        top_unknown: Vec::new(),
        diagnoses: Vec::new(),
    };
    if index.is_empty() {
        check.skipped = Some("the catalog is empty: identities were not compared".into());
        return CatalogFound {
            check,
            unknown_rows: 0,
            examples: Vec::new(),
        };
    }
    // the unknown products with the most rows (ties: earliest), and the earliest ones
    let mut most: BinaryHeap<Reverse<(u64, Reverse<u64>, u32)>> = BinaryHeap::new();
    let mut first: BinaryHeap<(u64, u32)> = BinaryHeap::new();
    agg.for_each_product(|p: &ProductRec| {
        check.identities += 1;
        if index.identities.contains(p.identity()) {
            check.identities_matched += 1;
            check.rows_matched += p.rows();
            return;
        }
        let key = (p.rows(), Reverse(p.offset()), p.len());
        if most.len() < DIAGNOSED {
            most.push(Reverse(key));
        } else if most.peek().is_some_and(|m| key > m.0) {
            most.pop();
            most.push(Reverse(key));
        }
        if first.len() < max_examples {
            first.push((p.offset(), p.len()));
        } else if first.peek().is_some_and(|&(o, _)| p.offset() < o) {
            first.pop();
            first.push((p.offset(), p.len()));
        }
    });
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    check.row_match_rate = ratio(check.rows_matched, check.rows);
    check.identity_match_rate = ratio(check.identities_matched, check.identities);
    let unknown_rows = check.rows.saturating_sub(check.rows_matched);

    let Ok(mut f) = File::open(path) else {
        return CatalogFound {
            check,
            unknown_rows,
            examples: Vec::new(),
        };
    };
    let mut buf = Vec::new();
    let mut identity_at = |f: &mut File, off: u64, len: u32| -> Option<String> {
        let rec = read_at(f, off, len, bom, &mut buf)?;
        row_ids(format, &String::from_utf8_lossy(rec)).map(|(_, i)| i)
    };
    // the most frequent unknown identities, spelled, and what would find them
    let mut unknown: Vec<(u64, String)> = most
        .into_iter()
        .filter_map(|Reverse((rows, Reverse(off), len))| {
            Some((rows, identity_at(&mut f, off, len)?))
        })
        .collect();
    unknown.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let tried = unknown.len() as u64;
    let mut by_fix: Vec<CatalogDiagnosis> = Vec::new();
    for (rows, id) in &unknown {
        let Some(fix) = index.diagnose(id) else {
            continue;
        };
        match by_fix.iter_mut().find(|d| d.fix == fix) {
            Some(d) => {
                d.identities += 1;
                d.rows += rows;
            }
            None => by_fix.push(CatalogDiagnosis {
                fix,
                description: fix.describe().to_string(),
                flag: fix.flag().to_string(),
                identities: 1,
                rows: *rows,
                tried,
                example: id.clone(),
            }),
        }
    }
    by_fix.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.fix.cmp(&b.fix)));
    check.diagnoses = by_fix;
    check.top_unknown = unknown
        .iter()
        .take(TOP_UNKNOWN)
        .map(|(rows, id)| TopProduct {
            identity: id.clone(),
            rows: *rows,
        })
        .collect();

    // examples: the first row of each of the first unknown identities, in file order
    let mut firsts = first.into_vec();
    firsts.sort_unstable();
    let lines = lines_at(&mut f, agg, &firsts.iter().map(|x| x.0).collect::<Vec<_>>());
    let mut buf = Vec::new();
    let examples = firsts
        .iter()
        .zip(lines)
        .filter_map(|(&(off, len), line)| {
            let rec = read_at(&mut f, off, len, bom, &mut buf)?;
            Some(Example {
                line,
                byte: off,
                text: example_text(rec),
            })
        })
        .collect();
    CatalogFound {
        check,
        unknown_rows,
        examples,
    }
}

/// What the already-sent check found.
pub(super) struct SentFound {
    pub section: AlreadySent,
    /// First rows of the first already-sent orders (by line), the order id as text.
    pub examples: Vec<Example>,
}

/// Counts of one share of the orders.
#[derive(Default)]
struct SentShare {
    per: Vec<u64>,
    orders: u64,
    rows: u64,
    /// (line, offset) of the first already-sent orders, at most `max_examples`.
    first: BinaryHeap<(u64, u64)>,
}

fn keep_first(heap: &mut BinaryHeap<(u64, u64)>, key: (u64, u64), max: usize) {
    if heap.len() < max {
        heap.push(key);
    } else if heap.peek().is_some_and(|&k| key < k) {
        heap.pop();
        heap.push(key);
    }
}

fn sent_share(agg: &Agg, lookup: &SentLookup, part: usize, parts: usize, max: usize) -> SentShare {
    let mut s = SentShare {
        per: vec![0; lookup.sets()],
        ..Default::default()
    };
    agg.for_each_order_in(part, parts, |r| {
        if lookup.sets_of(r.order(), |i| s.per[i] += 1) {
            s.orders += 1;
            s.rows += agg.rows_of(r);
            keep_first(&mut s.first, (r.line(), r.offset()), max);
        }
    });
    s
}

/// Compare the file's distinct orders (after [`Agg::finish`]) with `lookup`, on `threads`
/// threads.
pub(super) fn sent(
    path: &Path,
    format: Format,
    bom: bool,
    agg: &Agg,
    lookup: &SentLookup,
    max_examples: usize,
    threads: usize,
) -> SentFound {
    let mut per = vec![0u64; lookup.sets()];
    let (mut orders, mut rows) = (0u64, 0u64);
    let file_orders = agg.orders();
    let mut first: BinaryHeap<(u64, u64)> = BinaryHeap::new();
    if !lookup.is_empty() {
        let parts = threads.max(1);
        let shares: Vec<SentShare> = std::thread::scope(|scope| {
            let rest: Vec<_> = (1..parts)
                .map(|p| scope.spawn(move || sent_share(agg, lookup, p, parts, max_examples)))
                .collect();
            let mut all = vec![sent_share(agg, lookup, 0, parts, max_examples)];
            for (p, h) in (1..parts).zip(rest) {
                // a share that stopped is walked again here (the walk does not panic on any
                // input)
                all.push(
                    h.join()
                        .unwrap_or_else(|_| sent_share(agg, lookup, p, parts, max_examples)),
                );
            }
            all
        });
        for s in shares {
            for (a, b) in per.iter_mut().zip(&s.per) {
                *a += b;
            }
            orders += s.orders;
            rows += s.rows;
            for k in s.first {
                keep_first(&mut first, k, max_examples);
            }
        }
    }
    let mut by_upload: Vec<SentBy> = lookup
        .keys()
        .iter()
        .zip(per)
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| SentBy {
            key: k.clone(),
            sent_at: None,
            file: None,
            orders: n,
        })
        .collect();
    by_upload.sort_by(|a, b| b.orders.cmp(&a.orders).then_with(|| a.key.cmp(&b.key)));
    let mut firsts = first.into_vec();
    firsts.sort_unstable();
    let mut examples = Vec::new();
    if let Ok(mut f) = File::open(path) {
        let mut buf = Vec::new();
        for (line, off) in firsts {
            let Some(rec) = read_line_at(&mut f, off, bom, &mut buf) else {
                continue;
            };
            let text = String::from_utf8_lossy(rec);
            let order = parse_fields(format, &text)
                .and_then(|f| f.order.map(|o| o.into_owned()))
                .unwrap_or_default();
            examples.push(Example {
                line,
                byte: off,
                text: example_text(order.as_bytes()),
            });
        }
    }
    SentFound {
        section: AlreadySent {
            orders,
            rows,
            file_orders,
            uploads_compared: lookup.sets() as u64,
            skipped: None,
            by_upload,
            unrecorded: Vec::new(),
        },
        examples,
    }
}

/// `len` bytes of the record at `offset` (after a byte-order mark at offset 0).
fn read_at<'b>(
    f: &mut File,
    offset: u64,
    len: u32,
    bom: bool,
    buf: &'b mut Vec<u8>,
) -> Option<&'b [u8]> {
    let skip = if offset == 0 && bom {
        UTF8_BOM.len()
    } else {
        0
    };
    buf.resize(len as usize + skip, 0);
    f.seek(SeekFrom::Start(offset)).ok()?;
    f.read_exact(buf).ok()?;
    Some(&buf[skip..])
}

/// The physical line starting at `offset` (at most 64 KiB of it, without its line ending).
fn read_line_at<'b>(
    f: &mut File,
    offset: u64,
    bom: bool,
    buf: &'b mut Vec<u8>,
) -> Option<&'b [u8]> {
    buf.clear();
    f.seek(SeekFrom::Start(offset)).ok()?;
    f.take(64 << 10).read_to_end(buf).ok()?;
    let skip = if offset == 0 && bom && buf.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    let end = memchr::memchr(b'\n', &buf[skip..]).map_or(buf.len(), |i| skip + i);
    let line = &buf[skip..end];
    Some(line.strip_suffix(b"\r").unwrap_or(line))
}

/// Line numbers of rows at `offsets` (sorted): from the start of the run holding each (the
/// latest run start at or before it, known with its line) count the line breaks up to it.
fn lines_at(f: &mut File, agg: &Agg, offsets: &[u64]) -> Vec<u64> {
    if offsets.is_empty() {
        return Vec::new();
    }
    let mut best: Vec<(u64, u64)> = vec![(0, 1); offsets.len()];
    let mut consider = |off: u64, line: u64| {
        for (t, b) in offsets.iter().zip(best.iter_mut()) {
            if off <= *t && off >= b.0 {
                *b = (off, line);
            }
        }
    };
    agg.for_each_order(|r| consider(r.offset(), r.line()));
    for sc in agg.scattered.values() {
        for &(off, line) in &sc.runs {
            consider(off, line);
        }
    }
    let mut buf = vec![0u8; 64 << 10];
    offsets
        .iter()
        .zip(best)
        .map(|(&t, (start, line))| {
            let mut n = line;
            if f.seek(SeekFrom::Start(start)).is_err() {
                return n;
            }
            let mut left = t - start;
            while left > 0 {
                let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                match f.read(&mut buf[..want]) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => {
                        n += memchr::memchr_iter(b'\n', &buf[..k]).count() as u64;
                        left -= k as u64;
                    }
                }
            }
            n
        })
        .collect()
}
