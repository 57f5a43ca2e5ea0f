//! The driver: a reader thread (reads blocks and computes SHA-256) feeding the parsing stage
//! (lines, records, checks, hashes), which hands batches of valid rows to the aggregation stage
//! ([`super::collect`]) — on a third thread when the run has two workers.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread;

use sha2::{Digest, Sha256};

use super::MIN_LINE_CAP;
use super::checks;
use super::collect::{self, Batch, Cand, Collector, Spares};
use super::engine::{Engine, Out, parse_fields, row_ids};
use super::resolve;
use super::text::thousands;
use super::{
    Code, Distribution, FileInfo, Issue, LineEndings, MAX_FILE_BYTES, NEAR_LIMIT_BYTES, Options,
    Progress, Report, Sample, SampleRow, Severity, Stats, TopProduct, ValidateError, Verdict,
};
use super::{against, report};
use crate::read::lines::{LineSplitter, Piece};
use crate::read::{self, Format};

/// A block and whether it is "clean": valid UTF-8 without NUL or CR bytes (then its lines
/// skip the per-line encoding checks).
type Block = std::io::Result<(Arc<Vec<u8>>, bool)>;

/// Bytes read, checked and hashed at a time: small enough to stay in the CPU's L2 cache
/// between the copy from the kernel, the encoding check and SHA-256.
const PIECE: usize = 256 << 10;

/// Read the next block (up to `size` bytes) into `spare` (or a new buffer) in pieces, feeding
/// each piece to `sha` and to the encoding check. Returns the block and whether it is clean.
fn read_block(
    file: &mut File,
    size: usize,
    spare: Option<Vec<u8>>,
    sha: &mut Sha256,
) -> std::io::Result<(Vec<u8>, bool)> {
    let mut v = spare.unwrap_or_else(|| Vec::with_capacity(size));
    v.clear();
    let mut check = read::clean::CleanCheck::new();
    while v.len() < size {
        let start = v.len();
        let want = (size - start).min(PIECE);
        if file.by_ref().take(want as u64).read_to_end(&mut v)? == 0 {
            break;
        }
        let piece = &v[start..];
        check.feed(piece);
        sha.update(piece);
    }
    Ok((v, check.finish()))
}

/// Reader thread: blocks to the parser, and SHA-256 over them.
fn spawn_reader(
    mut file: File,
    size: usize,
    spares: Receiver<Vec<u8>>,
) -> (Receiver<Block>, thread::JoinHandle<Option<[u8; 32]>>) {
    // up to 8 MiB read ahead: the three threads share two cores, so each stage needs room to
    // run ahead while another one has the core
    let (tx, rx) = sync_channel::<Block>(16);
    let h = thread::spawn(move || {
        let mut sha = Sha256::new();
        loop {
            // the encoding check and the hash run here, off the parsing thread
            match read_block(&mut file, size, spares.try_recv().ok(), &mut sha) {
                Ok((b, _)) if b.is_empty() => break,
                Ok((b, clean)) => {
                    if tx.send(Ok((Arc::new(b), clean))).is_err() {
                        return None;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return None;
                }
            }
        }
        Some(sha.finalize().into())
    });
    (rx, h)
}

pub(crate) fn run(
    path: &Path,
    opts: &Options,
    progress: Option<&Progress>,
) -> Result<Report, ValidateError> {
    let io = |source: std::io::Error| ValidateError::Io {
        path: path.to_path_buf(),
        source,
    };
    crate::read::regular_file(path).map_err(io)?;
    let file = File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::other(format!(
            "not a regular file ({})",
            crate::read::file_kind(&meta)
        ))));
    }
    let total = meta.len();
    if let Some(p) = progress {
        p.set_total(total);
        p.set_counters(0, 0);
    }
    let (spare_blocks, spare_blocks_rx) = sync_channel::<Vec<u8>>(16);
    let (spare_rows, spare_rows_rx) = sync_channel(40);
    let spares = Spares {
        blocks: spare_blocks,
        rows: spare_rows,
    };
    let (rx, reader) = spawn_reader(file, opts.block_bytes.max(1), spare_blocks_rx);
    let finish_reader = |rx: Receiver<Block>, reader: thread::JoinHandle<Option<[u8; 32]>>| {
        drop(rx);
        reader.join().ok().flatten()
    };

    let first = match rx.recv() {
        Ok(Ok(b)) => Some(b),
        Ok(Err(e)) => {
            finish_reader(rx, reader);
            return Err(io(e));
        }
        Err(_) => None,
    };
    // the head decides BOM, format and the row estimate; with tiny blocks, read it on its own
    const HEAD: u64 = 64 << 10;
    let mut head_buf = Vec::new();
    let head: &[u8] = match first.as_ref().map(|(b, _)| &b[..]) {
        Some(b) if b.len() as u64 >= total.min(HEAD) => b,
        _ => {
            if let Ok(f) = File::open(path) {
                // a failed read leaves a shorter head: only the guesses get worse
                let _ = f.take(HEAD).read_to_end(&mut head_buf);
            }
            &head_buf
        }
    };
    let foreign = read::foreign_bom(head);
    let bom = head.starts_with(read::UTF8_BOM);
    let (format, sniffed) = match opts.format {
        Some(f) => (f, false),
        None => read::format_for_path(path, head),
    };
    let newlines = memchr::memchr_iter(b'\n', head).count().max(1);
    let est_rows = if head.is_empty() {
        0
    } else {
        let avg = (head.len() / newlines).max(8) as u64;
        (total / avg + total / avg / 16 + 16) as usize
    };

    let cap = opts.max_line_bytes.max(MIN_LINE_CAP);
    let threads = match opts.threads {
        0 => thread::available_parallelism().map_or(1, |n| n.get().min(2)),
        n => n,
    };
    let pass = thread::scope(|scope| {
        let col_spares = spares.clone();
        let mut agg_thread = None;
        let out = if threads >= 2 {
            // up to 32 batches (131,072 rows, 8 MiB of records) between the stages
            let (tx, brx) = sync_channel::<Batch>(32);
            agg_thread = Some(scope.spawn(move || {
                let mut col = Collector::new(opts, progress, est_rows, Some(col_spares));
                for b in brx {
                    if progress.is_some_and(Progress::is_cancelled) {
                        continue;
                    }
                    col.consume(b);
                }
                col
            }));
            Out::Thread(tx)
        } else {
            Out::Inline(Box::new(Collector::new(
                opts,
                progress,
                est_rows,
                Some(col_spares),
            )))
        };
        let mut eng = Engine::new(
            opts,
            format,
            bom,
            out,
            Some((spares.clone(), spare_rows_rx)),
        );
        let mut splitter = LineSplitter::new(cap);
        let mut bytes_read = 0u64;
        // whether every block holding part of the line carried over (not yet ended) is clean:
        // a line longer than a block spans several, and all of them must be clean for its bytes
        // to be trusted as UTF-8
        let mut carry_clean = true;
        let mut next = first.map(Ok);
        loop {
            let block = match next.take() {
                Some(b) => b,
                None => match rx.recv() {
                    Ok(b) => b,
                    Err(_) => break,
                },
            };
            let (block, clean) = match block {
                Ok(b) => b,
                Err(e) => {
                    finish_reader(rx, reader);
                    return Err(io(e));
                }
            };
            if foreign.is_none() {
                eng.clean = clean && carry_clean;
                eng.set_block(&block);
                let lines_before = splitter.lines();
                splitter.feed(&block, &mut |p| match p {
                    Piece::Line(l) => eng.line(l.no, l.offset, l.bytes, l.ending),
                    Piece::TooLong(l) => eng.too_long(l),
                });
                // a line ended in this block: what is carried now started in it
                carry_clean = if splitter.lines() != lines_before {
                    clean
                } else {
                    carry_clean && clean
                };
            }
            bytes_read += block.len() as u64;
            spares.block(block);
            if let Some(p) = progress {
                eng.flush_with(Some(eng.snapshot(bytes_read, total)));
                if p.is_cancelled() {
                    finish_reader(rx, reader);
                    return Err(ValidateError::Cancelled);
                }
            }
        }
        eng.clean = false;
        splitter.finish(&mut |p| match p {
            Piece::Line(l) => eng.line(l.no, l.offset, l.bytes, l.ending),
            Piece::TooLong(l) => eng.too_long(l),
        });
        eng.finish();
        let digest = finish_reader(rx, reader);
        let col = match (eng.take_out(), agg_thread) {
            (Out::Inline(c), _) => Some(*c),
            (Out::Thread(tx), Some(h)) => {
                drop(tx);
                h.join().ok()
            }
            _ => None,
        };
        let Some(col) = col else {
            return Err(io(std::io::Error::other(
                "aggregation stopped unexpectedly",
            )));
        };
        Ok((eng, col, bytes_read, digest))
    });
    let (mut eng, mut col, bytes_read, digest) = pass?;
    if progress.is_some_and(Progress::is_cancelled) {
        return Err(ValidateError::Cancelled);
    }
    col.finish(threads);
    for c in collect::CODES {
        eng.acc[c as usize] = std::mem::take(&mut col.acc[c as usize]);
    }
    // large orders whose rows are together: the first ones by line give the examples
    let mut large_runs = col.agg.large_runs().to_vec();
    large_runs.sort_unstable();
    large_runs.truncate(opts.max_examples);
    // users possibly on a fifth of the orders or more: their runs, made exact by the re-read
    let all_orders = col.agg.orders();
    let mut dominant: Vec<(u64, u64)> = if all_orders >= DOMINANT_MIN_ORDERS {
        col.agg
            .dominant_users(all_orders.div_ceil(DOMINANT_SHARE), 16)
    } else {
        Vec::new()
    };
    if (!col.agg.scattered.is_empty() || !large_runs.is_empty()) && foreign.is_none() {
        let users: Vec<u64> = dominant.iter().map(|d| d.0).collect();
        let extra = resolve::resolve(
            path,
            format,
            bom,
            cap,
            threads,
            &mut eng,
            &mut col.agg,
            &large_runs,
            &users,
        )
        .map_err(io)?;
        for (d, e) in dominant.iter_mut().zip(extra) {
            d.1 -= e.min(d.1);
        }
    }
    dominant.retain(|d| d.1 * DOMINANT_SHARE >= all_orders);
    dominant.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if let Some(&(user, n)) = dominant.first() {
        let a = &mut eng.acc[Code::DominantUser as usize];
        a.count = n;
        if let Some((line, off, text)) = first_row_of_user(path, format, bom, cap, user) {
            a.examples = vec![super::Example {
                line,
                byte: off,
                text,
            }];
        }
    }
    // (without a re-read, scattered orders count with their runs' items added up)
    let unresolved: Vec<u64> = col.agg.scattered.keys().copied().collect();
    for order in unresolved {
        col.agg.fix_order_if_unknown(order);
    }
    let Some(digest) = digest else {
        return Err(io(std::io::Error::other("reading stopped unexpectedly")));
    };

    // file-level issues
    if let Some(enc) = foreign {
        eng.issue(Code::Encoding, 1, 0, || format!("byte-order mark of {enc}"));
    }
    if bom {
        eng.issue(Code::Bom, 1, 0, || "EF BB BF".to_string());
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    if sniffed || ext != format.extension() {
        eng.issue(Code::Extension, 1, 0, || {
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
    }
    if total > MAX_FILE_BYTES {
        eng.issue(Code::FileTooLarge, 0, 0, || format!("{total} bytes"));
    } else if total > NEAR_LIMIT_BYTES {
        eng.issue(Code::FileNearLimit, 0, 0, || format!("{total} bytes"));
    }
    if eng.rows == 0 && foreign.is_none() {
        eng.issue(Code::EmptyFile, 0, 0, || {
            format!("{total} bytes, no data rows")
        });
    }

    // distribution
    let dist = &col.agg.dist;
    let orders = col.agg.orders();
    debug_assert_eq!(orders, dist.orders);
    let (single, multi, pairs, large) = (dist.single, dist.multi, dist.pairs, dist.large);
    let items_per_order = Distribution {
        mean: if orders == 0 {
            0.0
        } else {
            dist.sum as f64 / orders as f64
        },
        p50: dist.percentile(50),
        p90: dist.percentile(90),
        p99: dist.percentile(99),
        max: dist.max,
    };
    eng.acc[Code::LargeOrder as usize].count = large;
    if large == 0 {
        eng.acc[Code::LargeOrder as usize].examples.clear();
    }

    // aggregate warnings
    if orders > 0 {
        if multi < 1000 {
            let a = &mut eng.acc[Code::FewCoPurchases as usize];
            a.count = multi.max(1);
        }
        if single * 5 > orders * 4 {
            eng.acc[Code::MostlySingleItem as usize].count = single;
        }
    }
    if eng.valid > 0 {
        if eng.rows_with_user == 0 {
            eng.acc[Code::NoUserIds as usize].count = eng.valid;
        }
        if eng.rows_with_ts == 0 {
            eng.acc[Code::NoTimestamps as usize].count = eng.valid;
        } else if eng.rows_with_ts < eng.valid {
            eng.acc[Code::PartialTimestamps as usize].count = eng.valid - eng.rows_with_ts;
        }
    }

    let samples = if col.cands.is_empty() {
        Vec::new()
    } else {
        resolve_samples(path, format, bom, &col, opts.max_samples)
    };

    let stats = Stats {
        lines: eng.lines,
        rows: eng.rows,
        valid_rows: eng.valid,
        invalid_rows: eng.invalid,
        orders,
        single_item_orders: single,
        multi_item_orders: multi,
        pairs,
        items_per_order,
        products: col.agg.products(),
        users: col.agg.users(),
        rows_with_user: eng.rows_with_user,
        rows_with_timestamp: eng.rows_with_ts,
        first_purchase: eng.first_ts.map(checks::format_key),
        last_purchase: eng.last_ts.map(checks::format_key),
        top_products: top_products(path, format, bom, &col),
    };
    if stats.valid_rows >= 1000 && stats.products * 10 >= stats.valid_rows * 9 {
        eng.acc[Code::IdentityUniquePerRow as usize].count = stats.products;
    }
    // against what the tracker already has
    let usable = foreign.is_none() && eng.valid > 0;
    let catalog = opts.catalog.as_deref().filter(|_| usable).map(|index| {
        let found = against::catalog(
            path,
            format,
            bom,
            &col.agg,
            index,
            eng.valid,
            opts.max_examples,
        );
        let a = &mut eng.acc[Code::IdentityNotInCatalog as usize];
        a.count = found.unknown_rows;
        a.examples = found.examples;
        found.check
    });
    let already_sent = opts
        .sent
        .as_ref()
        .filter(|_| usable)
        .map(|loading| match loading.wait() {
            Ok(lookup) => {
                let found = against::sent(
                    path,
                    format,
                    bom,
                    &col.agg,
                    &lookup,
                    opts.max_examples,
                    threads,
                );
                let a = &mut eng.acc[Code::OrdersAlreadySent as usize];
                a.count = found.section.rows;
                a.examples = found.examples;
                found.section
            }
            Err(why) => report::AlreadySent {
                orders: 0,
                rows: 0,
                file_orders: stats.orders,
                uploads_compared: 0,
                skipped: Some(why),
                by_upload: Vec::new(),
                unrecorded: Vec::new(),
            },
        });

    let mut issues = Vec::new();
    for code in Code::ALL {
        let a = &eng.acc[code as usize];
        if a.count == 0 {
            continue;
        }
        // the few_co_purchases count is the number of multi-item orders, which may be 0
        let count = if code == Code::FewCoPurchases {
            multi
        } else {
            a.count
        };
        issues.push(Issue {
            code,
            severity: code.severity(),
            count,
            message: match code {
                Code::IdentityNotInCatalog => {
                    catalog.as_ref().map(catalog_message).unwrap_or_default()
                }
                Code::OrdersAlreadySent => {
                    already_sent.as_ref().map(sent_message).unwrap_or_default()
                }
                _ => message(code, count, &eng, &stats, foreign, total, &ext, format),
            },
            examples: a.examples.clone(),
        });
    }
    if let Some(p) = progress {
        // the last snapshot says what the report says
        let mut s = col.fill(eng.snapshot(bytes_read, total));
        s.multi_item_orders = stats.multi_item_orders;
        s.pairs = stats.pairs;
        s.issues = issues.iter().map(|i| (i.code, i.count)).collect();
        s.done = true;
        p.publish(s);
    }
    issues.sort_by_key(|i| i.severity);
    let verdict = if issues.iter().any(|i| i.severity == Severity::Error) {
        Verdict::Errors
    } else if issues.iter().any(|i| i.severity == Severity::Warning) {
        Verdict::Warnings
    } else {
        Verdict::Ok
    };
    let line_endings = match (eng.lf, eng.crlf) {
        (0, c) if c > 0 => LineEndings::Crlf,
        (l, c) if l > 0 && c > 0 => LineEndings::Mixed,
        _ => LineEndings::Lf,
    };
    Ok(Report {
        file: FileInfo {
            path: path.display().to_string(),
            bytes: total,
            sha256: hex(&digest),
            format,
            line_endings,
            bom,
        },
        verdict,
        stats,
        issues,
        samples,
        validated_at: None,
        validated_by: None,
        file_absolute: None,
        lbimport_version: None,
        catalog,
        already_sent,
    })
}

/// "1,234 rows (12.3 %) name a product that is not in the tracker's catalog (456 of 789
/// identities)".
fn catalog_message(c: &report::CatalogCheck) -> String {
    let unknown_rows = c.rows - c.rows_matched;
    let unknown = c.identities - c.identities_matched;
    let mut m = format!(
        "{} {} ({:.1} %) {} a product that is not in the tracker's catalog ({} of {} identities)",
        thousands(unknown_rows),
        if unknown_rows == 1 { "row" } else { "rows" },
        (1.0 - c.row_match_rate) * 100.0,
        if unknown_rows == 1 { "names" } else { "name" },
        thousands(unknown),
        thousands(c.identities),
    );
    if let Some(d) = c.diagnoses.first() {
        m.push_str(&format!(
            "; {} of the {} most frequent unknown: {} ({})",
            thousands(d.identities),
            thousands(d.tried),
            d.description,
            d.flag
        ));
    }
    m
}

/// "1,000 of 1,500 orders (66.7 %) were already sent to this tracker by 1 earlier upload".
fn sent_message(s: &report::AlreadySent) -> String {
    format!(
        "{} of {} orders ({:.1} %) were already sent to this tracker by {}; importing them \
         again counts their purchases twice",
        thousands(s.orders),
        thousands(s.file_orders),
        if s.file_orders == 0 {
            0.0
        } else {
            s.orders as f64 * 100.0 / s.file_orders as f64
        },
        plural(
            s.by_upload.len() as u64,
            "earlier upload",
            "earlier uploads"
        ),
    )
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A record's text read back from the file: `len` bytes from `offset` (the first record's
/// offset is 0 but its text starts after a byte-order mark).
fn read_record<'b>(
    f: &mut File,
    offset: u64,
    len: u32,
    bom: bool,
    buf: &'b mut Vec<u8>,
) -> Option<&'b [u8]> {
    let skip = if offset == 0 && bom {
        read::UTF8_BOM.len()
    } else {
        0
    };
    buf.resize(len as usize + skip, 0);
    f.seek(SeekFrom::Start(offset)).ok()?;
    f.read_exact(buf).ok()?;
    Some(&buf[skip..])
}

/// `dominant_user`: one user on at least 1/`DOMINANT_SHARE` of the orders…
const DOMINANT_SHARE: u64 = 5;
/// … of a file of at least this many orders.
const DOMINANT_MIN_ORDERS: u64 = 100;

/// The first valid row whose user id hashes to `user`: (line, offset, the row as text).
fn first_row_of_user(
    path: &Path,
    format: Format,
    bom: bool,
    cap: usize,
    user: u64,
) -> Option<(u64, u64, String)> {
    resolve::first_row(path, format, bom, cap, |[_, _, uh, _]| uh == user)
}

/// Products listed in the report.
const TOP_PRODUCTS: usize = 10;
/// Products tied with the last listed one whose names are read to break the tie.
const MAX_TIES: usize = 1000;

/// The products with the most rows, most first; ties by identity (of the first
/// [`MAX_TIES`] tied products by position). Names are read back from each product's first row.
fn top_products(path: &Path, format: Format, bom: bool, col: &Collector<'_>) -> Vec<TopProduct> {
    let recs = col.agg.top_products(TOP_PRODUCTS, MAX_TIES);
    let Ok(mut f) = File::open(path) else {
        return Vec::new();
    };
    let mut buf = Vec::new();
    let mut top: Vec<TopProduct> = recs
        .iter()
        .map(|r| {
            let rec = read_record(&mut f, r.offset(), r.len(), bom, &mut buf).unwrap_or(&[]);
            let text = String::from_utf8_lossy(rec);
            let identity = row_ids(format, &text).map(|(_, i)| i).unwrap_or_default();
            TopProduct {
                identity,
                rows: r.rows(),
            }
        })
        .collect();
    top.sort_by(|a, b| {
        b.rows
            .cmp(&a.rows)
            .then_with(|| a.identity.cmp(&b.identity))
    });
    top.truncate(TOP_PRODUCTS);
    top
}

fn resolve_samples(
    path: &Path,
    format: Format,
    bom: bool,
    col: &Collector<'_>,
    max: usize,
) -> Vec<Sample> {
    let mut picked: Vec<&Cand> = col
        .cands
        .iter()
        .filter(|c| {
            // a candidate's rows start at its order's first run, or it is incomplete
            let first = col.agg.first_run(c.order).map(|r| r.offset());
            !c.overflow
                && first == c.rows.first().map(|r| r.offset)
                && col.agg.items_of(c.order) >= 2
        })
        .collect();
    picked.sort_by_key(|c| c.first_line);
    picked.truncate(max);
    let Ok(mut f) = File::open(path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for c in picked {
        let mut sample = Sample {
            order_id: String::new(),
            rows: Vec::new(),
        };
        for r in &c.rows {
            let Some(rec) = read_record(&mut f, r.offset, r.len, bom, &mut buf) else {
                break;
            };
            let Ok(text) = std::str::from_utf8(rec) else {
                continue;
            };
            let Some(fields) = parse_fields(format, text) else {
                continue;
            };
            if sample.order_id.is_empty() {
                sample.order_id = fields.order.as_deref().unwrap_or("").to_string();
            }
            sample.rows.push(SampleRow {
                line: r.line,
                identity: fields.identity.as_deref().unwrap_or("").to_string(),
                user_id: fields.user.map(|u| u.into_owned()),
                created_at: fields
                    .created_at
                    .as_deref()
                    .and_then(|t| checks::parse_ts(t).ok())
                    .map(checks::format_key),
            });
        }
        if !sample.rows.is_empty() {
            out.push(sample);
        }
    }
    out
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[allow(clippy::too_many_arguments)]
fn message(
    code: Code,
    n: u64,
    eng: &Engine<'_>,
    stats: &Stats,
    foreign: Option<&str>,
    total: u64,
    ext: &str,
    format: Format,
) -> String {
    let rows = |one: &str| {
        let many = match one {
            "has" => "have",
            "repeats" => "repeat",
            "uses" => "use",
            other => other,
        };
        plural(n, &format!("row {one}"), &format!("rows {many}"))
    };
    match code {
        Code::Encoding => match foreign {
            Some(enc) => format!(
                "the file is {enc} (it starts with that byte-order mark); the service reads UTF-8 only"
            ),
            None => format!(
                "{} not valid UTF-8 text (or contain NUL bytes); the service reads UTF-8 only",
                plural(n, "line is", "lines are")
            ),
        },
        Code::LineTooLong => format!(
            "{} longer than {} bytes",
            plural(n, "line is", "lines are"),
            eng.opts.max_line_bytes.max(MIN_LINE_CAP)
        ),
        Code::JsonSyntax => format!("{} not one valid JSON object", plural(n, "line is", "lines are")),
        Code::JsonType => {
            let d: Vec<String> = eng
                .type_problems
                .iter()
                .take(5)
                .map(|(k, c)| format!("{k} ×{c}"))
                .collect();
            format!(
                "{} null, true/false, an array or an object where a string or number belongs ({})",
                rows("has"),
                d.join(", ")
            )
        }
        Code::FieldCount => format!(
            "{} fewer than 2 or more than 4 fields (order id, identity, user id, created_at)",
            rows("has")
        ),
        Code::CsvQuote => format!("{} broken CSV quoting", rows("has")),
        Code::HeaderRow => "the first row is a header; the service expects no header and would import it as a purchase".into(),
        Code::MissingOrderId => format!("{} no order id", rows("has")),
        Code::MissingIdentity => format!("{} no identity (product id)", rows("has")),
        Code::TimestampFormat => {
            let d: Vec<String> = eng
                .looks
                .iter()
                .map(|(l, c)| format!("{} ×{c}", l.describe()))
                .collect();
            format!(
                "{} created_at in a format the service rejects (accepted: YYYY-MM-DD HH:MM:SS[.ffffff] or YYYY-MM-DDTHH:MM:SS[.ffffff]); they look like: {}",
                rows("has"),
                d.join(", ")
            )
        }
        Code::TimestampZone => format!(
            "{} created_at with a zone designator (Z, +02:00, …); the service wants naive UTC and rejects these",
            rows("has")
        ),
        Code::FileTooLarge => format!("the file is {total} bytes, over the service's 1 GiB limit"),
        Code::EmptyFile => "the file contains no data rows".into(),
        Code::BareCr => format!(
            "{} a carriage return not followed by a line feed (old Mac line endings?)",
            plural(n, "line contains", "lines contain")
        ),
        Code::Bom => "the file starts with a UTF-8 byte-order mark; it would become part of the first order id".into(),
        Code::Extension => format!(
            "the file name's extension is {}; the service expects .csv or .json (read as {})",
            if ext.is_empty() { "missing".to_string() } else { format!(".{ext}") },
            match format {
                Format::Csv => "CSV",
                Format::Json => "JSON lines",
            }
        ),
        Code::FileNearLimit => format!("the file is {total} bytes, close to the 1 GiB limit"),
        Code::DuplicateRow => format!(
            "{} an earlier row exactly (same order, identity, user and created_at)",
            rows("repeats")
        ),
        Code::OrderMultipleUsers => format!(
            "{} rows with different user ids",
            plural(n, "order has", "orders have")
        ),
        Code::LargeOrder => format!(
            "{} more than {} distinct items (bulk, B2B or bot orders swamp co-purchase pairs)",
            plural(n, "order has", "orders have"),
            eng.opts.large_order_items
        ),
        Code::FutureTimestamp => format!("{} created_at in the future", rows("has")),
        Code::OldTimestamp => format!("{} created_at before 2000-01-01", rows("has")),
        Code::SpreadsheetId => format!(
            "{} ids that look mangled by a spreadsheet (1.23E+11, 12345.0)",
            rows("has")
        ),
        Code::WhitespaceId => format!("{} ids with leading or trailing whitespace", rows("has")),
        Code::UnknownAttribute => {
            let d: Vec<String> = eng
                .unknown_names
                .iter()
                .take(10)
                .map(|(k, c)| format!("{k} ×{c}"))
                .collect();
            format!(
                "{} attributes the service doesn't know: {}",
                rows("has"),
                d.join(", ")
            )
        }
        Code::MixedAttributeNames => format!(
            "{} a different generation of attribute names (order_id/session_id, identity/url, auth_user_id/user_id) than the first rows",
            rows("uses")
        ),
        Code::DuplicateKey => format!(
            "{} an attribute twice in one object (the service may read either value)",
            rows("names")
        ),
        Code::FewCoPurchases => format!(
            "only {} 2 or more distinct items (fewer than 1,000); recommendations learn from co-purchases",
            plural(n, "order has", "orders have")
        ),
        Code::MostlySingleItem => format!(
            "{n} of {} orders ({:.0} %) have a single item and give no co-purchase pairs",
            stats.orders,
            n as f64 * 100.0 / stats.orders.max(1) as f64
        ),
        Code::IdentityUniquePerRow => format!(
            "{n} distinct identities in {} valid rows ({:.0} %): nearly every product is bought once, so there are almost no co-purchases; is the identity column a row or line-item id?",
            stats.valid_rows,
            n as f64 * 100.0 / stats.valid_rows.max(1) as f64
        ),
        Code::DominantUser => format!(
            "one user id is on {n} of {} orders ({:.1} %; its first row is the example): usually a placeholder for guests or the shop's own account, which personalization reads as one person; leave the user id out of those rows if it is not a real customer",
            stats.orders,
            n as f64 * 100.0 / stats.orders.max(1) as f64
        ),
        // made from the report's catalog / already_sent sections (see catalog_message)
        Code::IdentityNotInCatalog | Code::OrdersAlreadySent => String::new(),
        Code::NoUserIds => "no row has a user id: the data helps recommendations but not personalization".into(),
        Code::NoTimestamps => "no row has created_at".into(),
        Code::PartialTimestamps => format!(
            "{n} of {} valid rows have no created_at",
            stats.valid_rows
        ),
    }
}
