//! Conversion: stream a CSV or JSON-lines file through a [`Mapping`] into the documented
//! headerless CSV (order id, identity, user id, created_at as naive UTC), with optional
//! cleaning. The input file is only ever read.

use std::fs::File;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::json::json_text;
use super::time::{TimeConverter, TimeError};
use super::{Mapping, MappingError, Source, column_letter};
use crate::read::Format;
use crate::validate::Progress;

const BOM: &[u8] = b"\xEF\xBB\xBF";
const IO_BUF: usize = 1 << 20;
/// Longest row the converter holds in memory (the validator's default line cap): a longer
/// JSON line is dropped as an invalid row; a longer CSV record (a giant line, or an unclosed
/// quote swallowing the rest of the file) stops the conversion with its line and byte.
pub const ROW_CAP: usize = 1 << 20;

/// The error of a row longer than [`ROW_CAP`] starting at `line` (1-based) and `byte`.
fn too_long(line: u64, byte: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!(
            "line {line} (byte {byte}): a row longer than {ROW_CAP} bytes (a giant line, or an \
             unclosed quote); rows are at most that long, nothing from there on was converted"
        ),
    )
}

/// Where the CSV reader's last complete record ended, shared with [`CappedReader`].
#[derive(Debug, Default)]
struct RecordEnd {
    byte: std::sync::atomic::AtomicU64,
    line: std::sync::atomic::AtomicU64,
}

/// The input file under the CSV reader: refuses to hand out more than [`ROW_CAP`] (plus one
/// read buffer) bytes past the end of the last complete record, so that no record can grow
/// the reader's memory without bound.
struct CappedReader {
    inner: Box<dyn Read + Send>,
    delivered: u64,
    /// Bytes skipped before the reader started (a BOM), for messages.
    offset: u64,
    end: std::sync::Arc<RecordEnd>,
}

impl Read for CappedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::sync::atomic::Ordering::Relaxed;
        let start = self.end.byte.load(Relaxed);
        if self.delivered.saturating_sub(start) > (ROW_CAP + IO_BUF) as u64 {
            return Err(too_long(
                self.end.line.load(Relaxed) + 1,
                start + self.offset,
            ));
        }
        let n = self.inner.read(buf)?;
        self.delivered += n as u64;
        Ok(n)
    }
}
const PROGRESS_EVERY: u64 = 1 << 14;
/// Reasons kept in [`ConvertSummary::reasons`].
const MAX_REASONS: usize = 16;

/// Cleaning options. Each one's effect is counted in [`ConvertSummary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clean {
    /// Drop a UTF-8 byte-order mark at the start (default on).
    pub strip_bom: bool,
    /// Trim whitespace around order ids, identities and user ids.
    pub trim_ids: bool,
    /// Drop exact duplicate output rows (same order, identity, user and created_at).
    pub dedupe: bool,
    /// Leave invalid rows out, writing them with line numbers and reasons to this CSV file.
    /// Without it, invalid rows are written through unchanged (the validator then flags them).
    pub exclude_invalid: Option<PathBuf>,
    /// Drop every row of orders with more than this many distinct identities.
    pub max_order_items: Option<u64>,
}

impl Default for Clean {
    fn default() -> Self {
        Clean {
            strip_bom: true,
            trim_ids: false,
            dedupe: false,
            exclude_invalid: None,
            max_order_items: None,
        }
    }
}

/// What a conversion (or a [`plan`]) did, in counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConvertSummary {
    /// Input format.
    pub format: Option<Format>,
    /// Data rows read (a header row is not counted).
    pub rows_in: u64,
    /// Rows written.
    pub rows_out: u64,
    /// Rows with an error (missing order id/identity, bad timestamp, not UTF-8…).
    pub invalid: u64,
    /// Invalid rows left out (written to the side file).
    pub invalid_excluded: u64,
    /// Exact duplicate rows found (after conversion); counted when deduplicating and by
    /// [`plan`], not by a conversion without `dedupe`.
    pub duplicates: u64,
    /// Duplicate rows dropped (when deduplicating).
    pub duplicates_dropped: u64,
    /// Orders larger than `max_order_items` (dropped).
    pub orders_dropped: u64,
    /// Rows of those orders.
    pub rows_in_dropped_orders: u64,
    /// Rows whose ids have surrounding whitespace.
    pub whitespace_rows: u64,
    /// Of those, rows trimmed.
    pub trimmed: u64,
    /// The input started with a UTF-8 BOM.
    pub bom: bool,
    /// It was stripped.
    pub bom_stripped: bool,
    /// A header row was skipped.
    pub header_skipped: bool,
    /// Timestamps converted.
    pub timestamps: u64,
    /// Ids that were placeholders (`NULL`, `N/A`, `-`; for users also `0` and `guest`), read
    /// as absent: user ids left empty, rows without an order id or identity invalid.
    pub placeholders: u64,
    /// Rows whose empty user id or created_at was carried down from the row before of the same
    /// order (exports that fill order-level fields on an order's first line only).
    pub carried_down: u64,
    /// Local times in a daylight-saving gap (read with the offset before the gap).
    pub dst_gaps: u64,
    /// Local times in a daylight-saving overlap (first occurrence taken).
    pub dst_overlaps: u64,
    /// Rows whose identity an identity rewrite (`--identity-…`) changed.
    pub identities_rewritten: u64,
    /// Rows whose identity `--identity-from-catalog` did not find in the catalog (kept).
    pub identities_not_in_catalog: u64,
    /// Input size in bytes.
    pub bytes_in: u64,
    /// Output size in bytes.
    pub bytes_out: u64,
    /// Most frequent invalid-row reasons: (reason, rows), most first.
    pub reasons: Vec<(String, u64)>,
    /// Where the output went.
    pub output: Option<PathBuf>,
    /// Where invalid rows went.
    pub invalid_file: Option<PathBuf>,
}

impl ConvertSummary {
    fn add_reason(&mut self, reason: &str) {
        if let Some(r) = self.reasons.iter_mut().find(|r| r.0 == reason) {
            r.1 += 1;
        } else if self.reasons.len() < MAX_REASONS {
            self.reasons.push((reason.to_string(), 1));
        }
    }
}

/// Convert up to `n` sample rows (fields by column index) for a live preview: per row the
/// four output fields (order id, identity, user id or empty, created_at normalised or empty)
/// or why the row is invalid. [`Source::Key`] sources are not resolvable here (use
/// [`preview_keyed`]).
pub fn preview(sample: &[Vec<String>], m: &Mapping, n: usize) -> Vec<Result<[String; 4], String>> {
    preview_keyed(&[], sample, m, n)
}

/// [`preview`] with names for the columns (CSV header names or JSON keys), so that
/// [`Source::Key`] sources resolve.
pub fn preview_keyed(
    names: &[String],
    sample: &[Vec<String>],
    m: &Mapping,
    n: usize,
) -> Vec<Result<[String; 4], String>> {
    let resolve = |s: &Source| -> Option<usize> {
        match s {
            Source::Column(i) => Some(*i),
            Source::Key(k) => names.iter().position(|h| h == k),
        }
    };
    let slots = [
        Some(&m.order_id),
        Some(&m.identity),
        m.user_id.as_ref(),
        m.created_at.as_ref(),
    ];
    let idx: Vec<Option<Option<usize>>> = slots.iter().map(|s| s.map(resolve)).collect();
    let mut conv = match RowConv::new(m, false) {
        Ok(c) => c,
        Err(e) => return vec![Err(e.to_string()); sample.len().min(n)],
    };
    sample
        .iter()
        .take(n)
        .map(|row| {
            let mut f: [Field; 4] = [Field::Absent; 4];
            for (k, ix) in idx.iter().enumerate() {
                f[k] = match ix {
                    None => Field::Unmapped,
                    Some(None) => Field::Absent,
                    Some(Some(i)) => match row.get(*i) {
                        Some(v) => Field::Text(v.as_bytes()),
                        None => Field::Absent,
                    },
                };
            }
            let mut line = Vec::new();
            match conv.convert(&f, &mut line) {
                Ok(()) => Ok(conv.parts(&line)),
                Err(e) => Err(e.detail),
            }
        })
        .collect()
}

/// A field of a row, before conversion.
#[derive(Debug, Clone, Copy)]
enum Field<'a> {
    /// The mapping has no source for it.
    Unmapped,
    /// The row doesn't have the column / key.
    Absent,
    /// A JSON value that is an array or object.
    BadType,
    /// The text.
    Text(&'a [u8]),
}

struct Invalid {
    reason: &'static str,
    detail: String,
}

const SLOT_NAMES: [&str; 4] = ["order id", "identity", "user id", "created_at"];

/// Converts rows of one mapping.
struct RowConv {
    time: Option<TimeConverter>,
    trim: bool,
    labels: [String; 4],
    /// Field boundaries of the last converted line: (start, end) per output field.
    bounds: [(usize, usize); 4],
    ts_buf: Vec<u8>,
    had_ws: bool,
    trimmed_any: bool,
    timestamps: u64,
    placeholders: u64,
    /// The last row's order id, user id and created_at (as read), for carrying down.
    last: [Vec<u8>; 3],
    carried_down: u64,
    /// Identity rewrites (`--identity-…`), when asked.
    rewrite: Option<std::sync::Arc<super::identity::IdentityRewrite>>,
    /// Rows whose identity a rewrite changed.
    rewritten: u64,
    /// Rows whose identity a catalog look-up did not find (kept).
    not_in_catalog: u64,
}

/// Whether an id is a placeholder for "none" (`NULL`, `null`, `N/A`, `-`, …; for a user id also
/// `0` and `guest`), compared without case and surrounding whitespace.
pub fn is_placeholder(v: &[u8], user: bool) -> bool {
    let t = v.trim_ascii();
    const ANY: [&[u8]; 6] = [b"null", b"nil", b"none", b"n/a", b"-", b"undefined"];
    const USER: [&[u8]; 4] = [b"0", b"guest", b"anonymous", b"guest user"];
    ANY.iter().any(|p| t.eq_ignore_ascii_case(p))
        || (user && USER.iter().any(|p| t.eq_ignore_ascii_case(p)))
}

fn is_ws(b: &[u8]) -> bool {
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_whitespace()
                || l.is_ascii_whitespace()
                || (!f.is_ascii() || !l.is_ascii())
                    && std::str::from_utf8(b).is_ok_and(|s| s.trim().len() != s.len())
        }
        _ => false,
    }
}

fn trim_bytes(b: &[u8]) -> &[u8] {
    match std::str::from_utf8(b) {
        Ok(s) => s.trim().as_bytes(),
        Err(_) => b.trim_ascii(),
    }
}

/// Append a CSV field, quoted only when needed.
pub fn push_field(out: &mut Vec<u8>, f: &[u8]) {
    if memchr::memchr3(b',', b'"', b'\n', f).is_some() || memchr::memchr(b'\r', f).is_some() {
        out.push(b'"');
        for &c in f {
            if c == b'"' {
                out.push(b'"');
            }
            out.push(c);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(f);
    }
}

impl RowConv {
    fn new(m: &Mapping, trim: bool) -> Result<Self, MappingError> {
        let time = match &m.created_at {
            Some(_) => Some(
                TimeConverter::from_mapping(m.time_format.as_deref(), m.time_zone.as_deref())
                    .map_err(MappingError::Invalid)?,
            ),
            None => None,
        };
        let sources = [
            Some(m.order_id.clone()),
            Some(m.identity.clone()),
            m.user_id.clone(),
            m.created_at.clone(),
        ];
        let labels = sources
            .clone()
            .map(|s| s.as_ref().map_or_else(|| "-".to_string(), Source::label));
        Ok(RowConv {
            time,
            trim,
            labels,
            bounds: [(0, 0); 4],
            ts_buf: Vec::with_capacity(32),
            had_ws: false,
            trimmed_any: false,
            timestamps: 0,
            placeholders: 0,
            last: Default::default(),
            carried_down: 0,
            rewrite: None,
            rewritten: 0,
            not_in_catalog: 0,
        })
    }

    fn label(&self, slot: usize) -> &str {
        &self.labels[slot]
    }

    /// Convert one row into `line` (a CSV line without the newline). On error `line` holds
    /// the row written through unconverted (ids trimmed as asked).
    fn convert(&mut self, f: &[Field<'_>; 4], line: &mut Vec<u8>) -> Result<(), Invalid> {
        line.clear();
        self.had_ws = false;
        self.trimmed_any = false;
        let mut err: Option<Invalid> = None;
        let mut vals: [&[u8]; 4] = [b""; 4];
        for slot in 0..4 {
            let v: &[u8] = match f[slot] {
                Field::Unmapped => b"",
                Field::Absent => {
                    if slot < 2 && err.is_none() {
                        err = Some(Invalid {
                            reason: if slot == 0 {
                                "no order id column"
                            } else {
                                "no identity column"
                            },
                            detail: format!(
                                "the row has no {} ({})",
                                self.label(slot),
                                SLOT_NAMES[slot]
                            ),
                        });
                    }
                    b""
                }
                Field::BadType => {
                    if err.is_none() {
                        err = Some(Invalid {
                            reason: "value is an array or object",
                            detail: format!(
                                "{} ({}) is an array or object",
                                SLOT_NAMES[slot],
                                self.label(slot)
                            ),
                        });
                    }
                    b""
                }
                Field::Text(t) => t,
            };
            vals[slot] = v;
        }
        for (slot, v) in vals.iter_mut().enumerate().take(3) {
            if is_ws(v) {
                self.had_ws = true;
                if self.trim {
                    *v = trim_bytes(v);
                    self.trimmed_any = true;
                }
            }
            if err.is_none() && !v.is_ascii() && std::str::from_utf8(v).is_err() {
                err = Some(Invalid {
                    reason: "not UTF-8",
                    detail: format!("{} is not valid UTF-8", SLOT_NAMES[slot]),
                });
            }
        }
        for (slot, v) in vals.iter_mut().enumerate().take(3) {
            if !v.is_empty() && is_placeholder(v, slot == 2) {
                *v = b"";
                self.placeholders += 1;
            }
        }
        // identity rewrites (`--identity-…`), on the identity as it will be written
        let rewrite = self.rewrite.clone();
        if let Some(rw) = rewrite.as_deref()
            && !vals[1].is_empty()
            && let Ok(id) = std::str::from_utf8(vals[1])
        {
            let a = rw.apply(id);
            if a.not_in_catalog {
                self.not_in_catalog += 1;
            }
            if a.value != id {
                self.rewritten += 1;
                vals[1] = a.value.as_bytes();
            }
        }
        // Order-level fields given on an order's first line only: the next lines of the same
        // order (consecutive rows, same order id) take the user id and created_at from it.
        let carry = !vals[0].is_empty() && vals[0] == self.last[0].as_slice();
        let (mut carried_user, mut carried_created) = (Vec::new(), Vec::new());
        if carry && vals[2].trim_ascii().is_empty() && !self.last[1].is_empty() {
            carried_user = self.last[1].clone();
        }
        if carry && vals[3].trim_ascii().is_empty() && !self.last[2].is_empty() {
            carried_created = self.last[2].clone();
        }
        if !carried_user.is_empty() {
            vals[2] = &carried_user;
        }
        if !carried_created.is_empty() {
            vals[3] = &carried_created;
        }
        if !carried_user.is_empty() || !carried_created.is_empty() {
            self.carried_down += 1;
        }
        for (k, slot) in [0usize, 2, 3].into_iter().enumerate() {
            self.last[k].clear();
            self.last[k].extend_from_slice(vals[slot]);
        }
        if err.is_none() && vals[0].trim_ascii().is_empty() {
            err = Some(Invalid {
                reason: "order id is empty",
                detail: format!("order id ({}) is empty", self.label(0)),
            });
        }
        if err.is_none() && vals[1].trim_ascii().is_empty() {
            err = Some(Invalid {
                reason: "identity is empty",
                detail: format!("identity ({}) is empty", self.label(1)),
            });
        }
        // created_at
        self.ts_buf.clear();
        let mut created: &[u8] = vals[3];
        let raw_created = vals[3];
        if let Some(tc) = self.time.as_mut()
            && !raw_created.trim_ascii().is_empty()
        {
            match std::str::from_utf8(raw_created) {
                Ok(s) => match tc.convert_into(s, &mut self.ts_buf) {
                    Ok(()) => {
                        self.timestamps += 1;
                    }
                    Err(e) => {
                        if err.is_none() {
                            err = Some(Invalid {
                                reason: match e {
                                    TimeError::Format => "created_at doesn't match the time format",
                                    TimeError::Calendar => "created_at is not a real date/time",
                                    TimeError::Range => "created_at is out of range",
                                },
                                detail: format!(
                                    "created_at {:?} ({}) {} {}",
                                    truncate(s, 60),
                                    self.labels[3],
                                    e,
                                    tc.format().name()
                                ),
                            });
                        }
                        self.ts_buf.clear();
                        self.ts_buf.extend_from_slice(raw_created);
                    }
                },
                Err(_) => {
                    if err.is_none() {
                        err = Some(Invalid {
                            reason: "not UTF-8",
                            detail: "created_at is not valid UTF-8".into(),
                        });
                    }
                    self.ts_buf.extend_from_slice(raw_created);
                }
            }
            created = &self.ts_buf;
        } else if self.time.is_none() {
            created = b"";
        } else {
            created = created.trim_ascii();
        }
        let user = vals[2];
        // write
        let s0 = line.len();
        push_field(line, vals[0]);
        self.bounds[0] = (s0, line.len());
        line.push(b',');
        let s1 = line.len();
        push_field(line, vals[1]);
        self.bounds[1] = (s1, line.len());
        self.bounds[2] = (line.len(), line.len());
        self.bounds[3] = (line.len(), line.len());
        if !created.is_empty() || !user.is_empty() {
            line.push(b',');
            let s2 = line.len();
            push_field(line, user);
            self.bounds[2] = (s2, line.len());
            self.bounds[3] = (line.len(), line.len());
            if !created.is_empty() {
                line.push(b',');
                let s3 = line.len();
                push_field(line, created);
                self.bounds[3] = (s3, line.len());
            }
        }
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The four output fields of the last converted `line`, unquoted.
    fn parts(&self, line: &[u8]) -> [String; 4] {
        let get = |k: usize| {
            let (a, b) = self.bounds[k];
            let raw = &line[a..b];
            let s = String::from_utf8_lossy(raw).into_owned();
            if s.starts_with('"') && s.ends_with('"') && s.len() >= 2 {
                s[1..s.len() - 1].replace("\"\"", "\"")
            } else {
                s
            }
        };
        [get(0), get(1), get(2), get(3)]
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

/// A u64 hasher that passes u64 keys through (keys are already hashes).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdBuild = BuildHasherDefault<IdHasher>;
type HashSet64 = hashbrown::HashSet<u64, IdBuild>;
type HashMap64<V> = hashbrown::HashMap<u64, V, IdBuild>;

/// What a [`plan`] with an order-size limit keeps per order (by order-id hash), so that the
/// orders over the limit can be taken out of the counts at the end of its single pass.
#[derive(Default, Clone, Copy)]
struct OrderTally {
    /// Bytes its written valid rows take in the output.
    bytes: u64,
    /// Where its first run's hashes start in [`Tally::arena`].
    first: u64,
    /// Its valid rows (duplicates included).
    rows: u32,
    /// Distinct identities (from every row with an order id and identity, valid or not).
    items: u32,
    /// Of its valid rows, exact duplicates of an earlier row.
    duplicates: u32,
    /// How many hashes its first run left in the arena; [`SCATTERED`] once a later run of
    /// the order was seen (its hashes then live in the global sets).
    first_len: u32,
}

/// [`OrderTally::first_len`] of an order whose rows are not all consecutive.
const SCATTERED: u32 = u32::MAX;

/// Hashes seen in the current run of one order: a short list, a set past 32.
#[derive(Default)]
struct RunSet {
    list: Vec<u64>,
    set: HashSet64,
}

impl RunSet {
    fn insert(&mut self, h: u64) -> bool {
        if self.set.is_empty() {
            if self.list.contains(&h) {
                return false;
            }
            if self.list.len() < 32 {
                self.list.push(h);
                return true;
            }
            self.set.extend(self.list.iter().copied());
        }
        self.set.insert(h)
    }

    fn clear(&mut self) {
        self.list.clear();
        self.set.clear();
    }
}

/// Per-order counts for a plan with an order-size limit, in the plan's single pass.
///
/// Exports mostly list an order's rows together, so the work is done per *run* of
/// consecutive rows of one order: distinct identities and duplicate rows are found in small
/// run-local sets, the order table is touched once per run, and the run's (pair, row) hashes
/// are appended to an arena. Only when an order shows up again in a later run are its earlier
/// hashes moved into the global sets, which then serve its later rows. A duplicate row always
/// has its original's order id, so this finds exactly the duplicates a global set would.
#[derive(Default)]
struct Tally {
    orders: HashMap64<OrderTally>,
    /// (pair hash, row hash or 0 for an invalid row) of first runs, in file order.
    arena: Vec<[u64; 2]>,
    /// Pair hashes of scattered orders.
    pairs: HashSet64,
    /// Row hashes of scattered orders' valid rows.
    lines: HashSet64,
    /// The current run's order hash.
    current: Option<u64>,
    /// The current order was seen in an earlier run.
    scattered: bool,
    /// Arena length at the start of the current run.
    run_start: usize,
    /// The current run's counts.
    run: OrderTally,
    run_pairs: RunSet,
    run_lines: RunSet,
}

impl Tally {
    /// Close the current run: add its counts to its order.
    fn flush(&mut self) {
        let Some(oh) = self.current.take() else {
            return;
        };
        let r = self.run;
        let (start, end) = (self.run_start, self.arena.len());
        let (arena, pairs, lines) = (&self.arena, &mut self.pairs, &mut self.lines);
        let t = self.orders.entry(oh).or_insert_with(|| {
            let first_len = u32::try_from(end - start)
                .ok()
                .filter(|n| *n != SCATTERED)
                .unwrap_or_else(|| {
                    // a first run too long to record: its hashes go to the global sets
                    for [ph, lh] in &arena[start..end] {
                        pairs.insert(*ph);
                        if *lh != 0 {
                            lines.insert(*lh);
                        }
                    }
                    SCATTERED
                });
            OrderTally {
                first: start as u64,
                first_len,
                ..OrderTally::default()
            }
        });
        t.bytes += r.bytes;
        t.rows = t.rows.saturating_add(r.rows);
        t.items = t.items.saturating_add(r.items);
        t.duplicates = t.duplicates.saturating_add(r.duplicates);
        self.run = OrderTally::default();
        self.run_pairs.clear();
        self.run_lines.clear();
    }

    /// Start a run of order `oh`; an order seen before becomes scattered.
    fn start(&mut self, oh: u64) {
        self.flush();
        self.current = Some(oh);
        self.run_start = self.arena.len();
        self.scattered = false;
        if let Some(t) = self.orders.get_mut(&oh) {
            self.scattered = true;
            if t.first_len != SCATTERED {
                let a = t.first as usize;
                for [ph, lh] in &self.arena[a..a + t.first_len as usize] {
                    self.pairs.insert(*ph);
                    if *lh != 0 {
                        self.lines.insert(*lh);
                    }
                }
                t.first_len = SCATTERED;
            }
        }
    }

    /// One row of order `oh` with pair hash `ph`; `valid` carries a valid row's hash and
    /// output length. Returns whether that valid row duplicates an earlier one.
    fn row(&mut self, oh: u64, ph: u64, valid: Option<(u64, u64)>, dedupe: bool) -> bool {
        if self.current != Some(oh) {
            self.start(oh);
        }
        let lh = valid.map_or(0, |(h, _)| h.max(1));
        let (new_pair, duplicate) = if self.scattered {
            (self.pairs.insert(ph), lh != 0 && !self.lines.insert(lh))
        } else {
            self.arena.push([ph, lh]);
            (
                self.run_pairs.insert(ph),
                lh != 0 && !self.run_lines.insert(lh),
            )
        };
        if new_pair {
            self.run.items = self.run.items.saturating_add(1);
        }
        if let Some((_, len)) = valid {
            self.run.rows = self.run.rows.saturating_add(1);
            if duplicate {
                self.run.duplicates = self.run.duplicates.saturating_add(1);
            }
            if !(duplicate && dedupe) {
                self.run.bytes += len;
            }
        }
        duplicate
    }
}

/// Duplicate rows found per run of one order, as [`Tally`] does, for `dedupe` (and plans)
/// without an order-size limit: a duplicate row has its original's order id, so a row needs
/// comparing only with the rows of its own order. Rows of an order's first run are compared
/// in a small run-local set and their hashes appended to an arena (8 bytes per row); the
/// order table (16 bytes per order) is touched once per run; an order seen again in a later
/// run has its first run's hashes moved into a global set that serves its later rows. This
/// avoids a random access to a set of every row's hash for each row. The conversion's first
/// pass for the order-size limit uses it on (order, identity) pair hashes to count each
/// order's distinct items.
#[derive(Default)]
struct RunDedupe {
    /// Per order: where its first run's hashes start in the arena, how many there are
    /// ([`SCATTERED`] once the order came back), and how many distinct hashes it has.
    orders: HashMap64<(u64, u32, u32)>,
    arena: Vec<u64>,
    /// Row hashes of scattered orders.
    lines: HashSet64,
    current: Option<u64>,
    scattered: bool,
    run_start: usize,
    run_lines: RunSet,
    /// Hashes new to their order in the current run.
    run_new: u32,
}

impl RunDedupe {
    fn flush(&mut self) {
        let Some(oh) = self.current.take() else {
            return;
        };
        let (start, end) = (self.run_start, self.arena.len());
        let (arena, lines) = (&self.arena, &mut self.lines);
        let e = self.orders.entry(oh).or_insert_with(|| {
            let len = u32::try_from(end - start)
                .ok()
                .filter(|n| *n != SCATTERED)
                .unwrap_or_else(|| {
                    lines.extend(arena[start..end].iter().copied());
                    SCATTERED
                });
            (start as u64, len, 0)
        });
        e.2 = e.2.saturating_add(self.run_new);
        self.run_new = 0;
        self.run_lines.clear();
    }

    /// Whether hash `lh` (a valid row's, or an order/identity pair's) was seen before in
    /// order `oh`.
    fn duplicate(&mut self, oh: u64, lh: u64) -> bool {
        if self.current != Some(oh) {
            self.flush();
            self.current = Some(oh);
            self.run_start = self.arena.len();
            self.scattered = false;
            if let Some((first, len, _)) = self.orders.get_mut(&oh) {
                self.scattered = true;
                if *len != SCATTERED {
                    let a = *first as usize;
                    self.lines
                        .extend(self.arena[a..a + *len as usize].iter().copied());
                    *len = SCATTERED;
                }
            }
        }
        let duplicate = if self.scattered {
            !self.lines.insert(lh)
        } else {
            self.arena.push(lh);
            !self.run_lines.insert(lh)
        };
        if !duplicate {
            self.run_new = self.run_new.saturating_add(1);
        }
        duplicate
    }

    /// The orders with more than `max` distinct hashes.
    fn over(mut self, max: u64) -> HashSet64 {
        self.flush();
        self.orders
            .into_iter()
            .filter(|(_, (_, _, n))| u64::from(*n) > max)
            .map(|(k, _)| k)
            .collect()
    }
}

/// The input as UTF-8: the file itself, or the file transcoded from its encoding.
type Source8 = Box<dyn Read + Send>;

/// Rows of the input, one at a time, as the four mapped fields.
enum Rows {
    Csv {
        rdr: csv::Reader<CappedReader>,
        end: std::sync::Arc<RecordEnd>,
        rec: csv::ByteRecord,
        idx: [Option<usize>; 4],
        mapped: [bool; 4],
        offset: u64,
        delimiter: u8,
    },
    Json {
        rdr: BufReader<Source8>,
        /// Set when the file is a JSON array rather than JSON lines.
        array: Option<super::json::ArraySplitter>,
        /// The array of products to explode in each record.
        items: Option<String>,
        /// Rows of the current record not yet returned (exploded items).
        queue: std::collections::VecDeque<[Option<Result<String, ()>>; 4]>,
        buf: Vec<u8>,
        keys: [Option<String>; 4],
        vals: [Option<Result<String, ()>>; 4],
        line: u64,
        byte: u64,
        next_byte: u64,
    },
}

struct Opened {
    rows: Rows,
    bom: bool,
    header_skipped: bool,
    size: u64,
}

fn detect_format(input: &Path, first: &[u8], m: &Mapping) -> Format {
    if let Some(f) = crate::spec::format_hint_from_extension(input) {
        return f;
    }
    if matches!(m.order_id, Source::Key(_)) {
        return Format::Json;
    }
    crate::spec::sniff(first)
}

fn open_rows(input: &Path, m: &Mapping, strip_bom: bool) -> Result<Opened, MappingError> {
    let io = |e| MappingError::io(input, e);
    let mut file = File::open(input).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let mut head = [0u8; 512];
    let mut n = 0;
    while n < head.len() {
        let k = file.read(&mut head[n..]).map_err(io)?;
        if k == 0 {
            break;
        }
        n += k;
    }
    let head = &head[..n];
    let encoding = match &m.encoding {
        Some(label) => super::encoding::by_label(label).map_err(MappingError::Invalid)?,
        None => super::encoding::sniff(head, (n as u64) >= size).encoding,
    };
    let (file, head_text, bom, skip): (Source8, Vec<u8>, bool, u64) =
        if encoding == encoding_rs::UTF_8 {
            let bom = head.starts_with(BOM);
            let skip = if bom && strip_bom { 3 } else { 0 };
            file.seek(SeekFrom::Start(skip)).map_err(io)?;
            (Box::new(file), head[skip as usize..].to_vec(), bom, skip)
        } else {
            // Transcoded to UTF-8 (its BOM dropped); positions count the UTF-8 text.
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            let text = super::encoding::decode(head, encoding).into_bytes();
            (super::encoding::utf8_reader(file, encoding), text, false, 0)
        };
    let format = detect_format(input, &head_text, m);
    let slots = [
        Some(&m.order_id),
        Some(&m.identity),
        m.user_id.as_ref(),
        m.created_at.as_ref(),
    ];
    let mapped = slots.map(|s| s.is_some());
    match format {
        Format::Csv => {
            let delimiter = u8::try_from(m.delimiter)
                .ok()
                .filter(u8::is_ascii)
                .ok_or_else(|| {
                    MappingError::Invalid(format!("delimiter {:?} is not ASCII", m.delimiter))
                })?;
            let end = std::sync::Arc::new(RecordEnd::default());
            let mut rdr = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .has_headers(false)
                .flexible(true)
                .buffer_capacity(IO_BUF)
                .from_reader(CappedReader {
                    inner: file,
                    delivered: 0,
                    offset: skip,
                    end: end.clone(),
                });
            let mut rec = csv::ByteRecord::new();
            let mut header: Vec<String> = Vec::new();
            let mut header_skipped = false;
            if m.header {
                match rdr.read_byte_record(&mut rec) {
                    Ok(true) => {
                        mark_record_end(&rdr, &end);
                        header_skipped = true;
                        header = rec
                            .iter()
                            .map(|h| {
                                String::from_utf8_lossy(h)
                                    .trim()
                                    .trim_start_matches('\u{feff}')
                                    .to_string()
                            })
                            .collect();
                    }
                    Ok(false) => {}
                    Err(e) => return Err(MappingError::io(input, std::io::Error::other(e))),
                }
            }
            let mut idx = [None; 4];
            for (k, s) in slots.iter().enumerate() {
                idx[k] = match s {
                    None => None,
                    Some(Source::Column(i)) => Some(*i),
                    Some(Source::Key(name)) => {
                        let want = super::normalize_name(name);
                        let pos = header.iter().position(|h| h == name).or_else(|| {
                            header.iter().position(|h| super::normalize_name(h) == want)
                        });
                        match pos {
                            Some(p) => Some(p),
                            None => {
                                return Err(MappingError::Invalid(format!(
                                    "no column named {name:?} for {} (columns: {})",
                                    SLOT_NAMES[k],
                                    header.join(", ")
                                )));
                            }
                        }
                    }
                };
            }
            Ok(Opened {
                rows: Rows::Csv {
                    rdr,
                    end,
                    rec,
                    idx,
                    mapped,
                    offset: skip,
                    delimiter,
                },
                bom,
                header_skipped,
                size,
            })
        }
        Format::Json => {
            let mut keys: [Option<String>; 4] = Default::default();
            for (k, s) in slots.iter().enumerate() {
                keys[k] = match s {
                    None => None,
                    Some(Source::Key(name)) => Some(name.clone()),
                    Some(Source::Column(i)) => {
                        return Err(MappingError::Invalid(format!(
                            "{} is mapped to column {} but the file is JSON lines; name a key instead",
                            SLOT_NAMES[k],
                            column_letter(*i)
                        )));
                    }
                };
            }
            Ok(Opened {
                rows: Rows::Json {
                    rdr: BufReader::with_capacity(IO_BUF, file),
                    array: super::json::is_array(&head_text).then(super::json::ArraySplitter::new),
                    items: m.items.clone(),
                    queue: std::collections::VecDeque::new(),
                    buf: Vec::with_capacity(4096),
                    keys,
                    vals: Default::default(),
                    line: 0,
                    byte: skip,
                    next_byte: skip,
                },
                bom,
                header_skipped: false,
                size,
            })
        }
    }
}

/// Remember where the CSV reader's last record ended (for [`CappedReader`]).
fn mark_record_end(rdr: &csv::Reader<CappedReader>, end: &RecordEnd) {
    use std::sync::atomic::Ordering::Relaxed;
    let p = rdr.position();
    end.byte.store(p.byte(), Relaxed);
    end.line.store(p.line().saturating_sub(1), Relaxed);
}

/// One row as the converter sees it.
struct RowRef<'a> {
    fields: [Field<'a>; 4],
    line: u64,
    byte: u64,
}

impl Rows {
    /// Advance to the next row; `Ok(false)` at the end.
    fn advance(&mut self, input: &Path) -> Result<bool, MappingError> {
        match self {
            Rows::Csv { rdr, rec, end, .. } => match rdr.read_byte_record(rec) {
                Ok(more) => {
                    mark_record_end(rdr, end);
                    Ok(more)
                }
                Err(e) => {
                    // a CSV error that is not I/O (bad UTF-8 can't happen with byte records)
                    Err(MappingError::io(input, std::io::Error::other(e)))
                }
            },
            Rows::Json {
                rdr,
                array,
                items,
                queue,
                buf,
                keys,
                vals,
                line,
                byte,
                next_byte,
            } => loop {
                if let Some(v) = queue.pop_front() {
                    *vals = v;
                    return Ok(true);
                }
                match array {
                    Some(sp) => {
                        match sp
                            .next_record(rdr, buf)
                            .map_err(|e| MappingError::io(input, e))?
                        {
                            Some((l, b)) => {
                                *line = l;
                                *byte = b;
                            }
                            None => return Ok(false),
                        }
                    }
                    None => {
                        buf.clear();
                        // a row is held up to the cap, not a whole over-long line
                        let n = rdr
                            .by_ref()
                            .take(ROW_CAP as u64 + 1)
                            .read_until(b'\n', buf)
                            .map_err(|e| MappingError::io(input, e))?;
                        if n == 0 {
                            return Ok(false);
                        }
                        if n > ROW_CAP && buf.last() != Some(&b'\n') {
                            return Err(MappingError::io(input, too_long(*line + 1, *next_byte)));
                        }
                        *line += 1;
                        *byte = *next_byte;
                        *next_byte += n as u64;
                        if buf.trim_ascii().is_empty() {
                            continue;
                        }
                    }
                }
                let parsed: Result<serde_json::Map<String, serde_json::Value>, _> =
                    serde_json::from_slice(buf);
                match parsed {
                    Ok(obj) => {
                        let items = items.as_deref();
                        for ctx in super::json::rows_of(&obj, items) {
                            let mut v: [Option<Result<String, ()>>; 4] = Default::default();
                            for (k, key) in keys.iter().enumerate() {
                                let Some(key) = key else { continue };
                                v[k] = match ctx.get(key, items) {
                                    // absent order id / identity: the row has none
                                    None if k < 2 => None,
                                    None => Some(Ok(String::new())),
                                    Some(x) => Some(json_text(x).ok_or(())),
                                };
                            }
                            queue.push_back(v);
                        }
                        // a record without products gives no row
                    }
                    Err(_) => {
                        *vals = Default::default();
                        vals[0] = Some(Err(()));
                        return Ok(true);
                    }
                }
            },
        }
    }

    fn row(&self) -> RowRef<'_> {
        match self {
            Rows::Csv {
                rec,
                idx,
                mapped,
                offset,
                ..
            } => {
                let mut fields = [Field::Unmapped; 4];
                for k in 0..4 {
                    if mapped[k] {
                        fields[k] = match idx[k].and_then(|i| rec.get(i)) {
                            Some(v) => Field::Text(v),
                            None => Field::Absent,
                        };
                    }
                }
                let pos = rec.position();
                RowRef {
                    fields,
                    line: pos.map_or(0, |p| p.line()),
                    byte: pos.map_or(0, |p| p.byte()) + offset,
                }
            }
            Rows::Json {
                keys,
                vals,
                line,
                byte,
                ..
            } => {
                let mut fields = [Field::Unmapped; 4];
                for k in 0..4 {
                    if keys[k].is_some() {
                        fields[k] = match &vals[k] {
                            None => Field::Absent,
                            Some(Ok(s)) => Field::Text(s.as_bytes()),
                            Some(Err(())) => Field::BadType,
                        };
                    }
                }
                RowRef {
                    fields,
                    line: *line,
                    byte: *byte,
                }
            }
        }
    }

    /// Whether the current JSON line failed to parse.
    fn json_syntax_error(&self) -> bool {
        matches!(self, Rows::Json { vals, .. } if matches!(vals[0], Some(Err(()))) && vals[1].is_none())
    }

    /// The current row's original text (for the invalid-rows file).
    fn raw(&self) -> String {
        match self {
            Rows::Csv { rec, delimiter, .. } => {
                let mut out = Vec::new();
                for (i, f) in rec.iter().enumerate() {
                    if i > 0 {
                        out.push(*delimiter);
                    }
                    out.extend_from_slice(f);
                }
                String::from_utf8_lossy(&out).into_owned()
            }
            Rows::Json { buf, .. } => String::from_utf8_lossy(buf.trim_ascii()).into_owned(),
        }
    }
}

fn check_cancel(progress: Option<&Progress>) -> Result<(), MappingError> {
    if progress.is_some_and(Progress::is_cancelled) {
        Err(MappingError::Cancelled)
    } else {
        Ok(())
    }
}

/// First pass for `max_order_items`: the orders with more distinct identities than `max`.
fn oversized_orders(
    input: &Path,
    m: &Mapping,
    clean: &Clean,
    max: u64,
    progress: Option<&Progress>,
    passes: u64,
    hasher: &hashbrown::DefaultHashBuilder,
) -> Result<HashSet64, MappingError> {
    let mut opened = open_rows(input, m, clean.strip_bom)?;
    let size = opened.size;
    // distinct (order, identity) pairs per order, found per run of one order's rows
    let mut pairs = RunDedupe::default();
    let mut n: u64 = 0;
    while opened.rows.advance(input)? {
        n += 1;
        let r = opened.rows.row();
        let (Field::Text(o), Field::Text(i)) = (r.fields[0], r.fields[1]) else {
            continue;
        };
        let (o, i) = if clean.trim_ids {
            (trim_bytes(o), trim_bytes(i))
        } else {
            (o, i)
        };
        if o.is_empty() || i.is_empty() {
            continue;
        }
        pairs.duplicate(hasher.hash_one(o), hasher.hash_one((o, i)));
        if n.is_multiple_of(PROGRESS_EVERY) {
            check_cancel(progress)?;
            if let Some(p) = progress {
                p.set_counters(r.byte, n);
                p.set_total(size * passes);
            }
        }
    }
    Ok(pairs.over(max))
}

/// Convert `input` through `m` into the documented CSV at `out`, cleaning as asked. Streams
/// with bounded buffers (deduplication keeps a 64-bit hash per row and a small entry per
/// order; the order-size limit, which needs a first pass over the input, the same for
/// order/identity pairs). The output is written to a
/// temporary name beside `out` and renamed when complete, so a failed or cancelled run leaves
/// no partial file. `input` is never written.
pub fn convert_path(
    input: &Path,
    m: &Mapping,
    clean: &Clean,
    out: &Path,
    progress: Option<&Progress>,
) -> Result<ConvertSummary, MappingError> {
    run(input, m, clean, None, Some(out), progress)
}

/// [`convert_path`] with identity rewrites (see [`super::identity`]); their effect is counted
/// in [`ConvertSummary::identities_rewritten`] and
/// [`ConvertSummary::identities_not_in_catalog`].
pub fn convert_path_rewriting(
    input: &Path,
    m: &Mapping,
    clean: &Clean,
    rewrite: Option<&super::identity::IdentityRewrite>,
    out: &Path,
    progress: Option<&Progress>,
) -> Result<ConvertSummary, MappingError> {
    run(input, m, clean, rewrite, Some(out), progress)
}

/// [`plan`] with identity rewrites.
pub fn plan_rewriting(
    input: &Path,
    m: &Mapping,
    clean: &Clean,
    rewrite: Option<&super::identity::IdentityRewrite>,
    progress: Option<&Progress>,
) -> Result<ConvertSummary, MappingError> {
    run(input, m, clean, rewrite, None, progress)
}

/// Dry run: the counts [`convert_path`] would report with these options, without writing
/// anything. Duplicates, whitespace ids and invalid rows are counted whether or not the
/// option that acts on them is on, so one plan shows every option's effect (the order-size
/// limit needs its N in `clean`). One pass over the input, the order-size limit included:
/// the large orders' rows are taken out of the counts at the end (memory: a few dozen bytes
/// per distinct order and per row).
pub fn plan(
    input: &Path,
    m: &Mapping,
    clean: &Clean,
    progress: Option<&Progress>,
) -> Result<ConvertSummary, MappingError> {
    run(input, m, clean, None, None, progress)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn partial_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    out.with_file_name(format!(".{name}.partial"))
}

fn run(
    input: &Path,
    m: &Mapping,
    clean: &Clean,
    rewrite: Option<&super::identity::IdentityRewrite>,
    out: Option<&Path>,
    progress: Option<&Progress>,
) -> Result<ConvertSummary, MappingError> {
    if let Some(o) = out {
        if same_file(input, o) {
            return Err(MappingError::Invalid(format!(
                "the output {} is the input file; lbimport never overwrites your file",
                o.display()
            )));
        }
        if let Some(x) = &clean.exclude_invalid
            && (same_file(input, x) || x == o)
        {
            return Err(MappingError::Invalid(format!(
                "the invalid-rows file {} must differ from the input and the output",
                x.display()
            )));
        }
    }
    let mut conv = RowConv::new(m, clean.trim_ids)?;
    conv.rewrite = rewrite
        .filter(|r| r.is_active())
        .map(|r| std::sync::Arc::new(r.clone()));
    // one hasher for both passes (each instance is randomly seeded)
    let hasher = hashbrown::DefaultHashBuilder::default();
    // The order-size limit: a conversion must know the large orders before it writes their
    // first row, so it counts them in a first pass; a plan writes nothing and counts them in
    // its single pass, tallying per order what dropping it would take away (see `OrderTally`).
    let tally_orders = out.is_none() && clean.max_order_items.is_some();
    let passes = if clean.max_order_items.is_some() && !tally_orders {
        2
    } else {
        1
    };
    let oversized = match clean.max_order_items {
        Some(max) if !tally_orders => Some(oversized_orders(
            input, m, clean, max, progress, passes, &hasher,
        )?),
        _ => None,
    };
    let mut opened = open_rows(input, m, clean.strip_bom)?;
    let size = opened.size;
    let base = if passes == 2 { size } else { 0 };
    if let Some(p) = progress {
        p.set_total(size * passes);
    }
    let mut s = ConvertSummary {
        format: Some(match opened.rows {
            Rows::Csv { .. } => Format::Csv,
            Rows::Json { .. } => Format::Json,
        }),
        bom: opened.bom,
        bom_stripped: opened.bom && clean.strip_bom,
        header_skipped: opened.header_skipped,
        bytes_in: size,
        ..Default::default()
    };

    // writers
    let mut partial: Option<PathBuf> = None;
    let mut w: Option<BufWriter<File>> = None;
    let mut side: Option<(PathBuf, BufWriter<File>)> = None;
    if let Some(o) = out {
        if let Some(dir) = o.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::files::create_private_dir(dir).map_err(|e| MappingError::io(dir, e))?;
        }
        let p = partial_path(o);
        let f = crate::files::create_private_file(&p).map_err(|e| MappingError::io(&p, e))?;
        w = Some(BufWriter::with_capacity(IO_BUF, f));
        partial = Some(p);
        if let Some(x) = &clean.exclude_invalid {
            if let Some(dir) = x.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::files::create_private_dir(dir).map_err(|e| MappingError::io(dir, e))?;
            }
            let f = crate::files::create_private_file(x).map_err(|e| MappingError::io(x, e))?;
            let mut bw = BufWriter::new(f);
            bw.write_all(b"line,reason,record\n")
                .map_err(|e| MappingError::io(x, e))?;
            side = Some((x.clone(), bw));
        }
    }
    let result = (|| -> Result<(), MappingError> {
        // duplicates cost one hash per distinct row: only when asked to drop them or planning
        let track_duplicates = clean.dedupe || out.is_none();
        let mut tally = Tally::default();
        let mut dedupe = RunDedupe::default();
        let mut line: Vec<u8> = Vec::with_capacity(256);
        let out_path = partial.clone().unwrap_or_default();
        while opened.rows.advance(input)? {
            s.rows_in += 1;
            let (outcome, row_line, row_byte, order_hash, tally_key) = {
                let r = opened.rows.row();
                let res = if opened.rows.json_syntax_error() {
                    line.clear();
                    Err(Invalid {
                        reason: "not a JSON object",
                        detail: "the line is not a JSON object".into(),
                    })
                } else {
                    conv.convert(&r.fields, &mut line)
                };
                let need_order = oversized.is_some() || (track_duplicates && !tally_orders);
                let oh = need_order.then_some(()).and_then(|_| match r.fields[0] {
                    Field::Text(o) => {
                        let o = if clean.trim_ids { trim_bytes(o) } else { o };
                        Some(hasher.hash_one(o))
                    }
                    _ => None,
                });
                // (order, pair) hashes as `oversized_orders` computes them
                let key = match (tally_orders, r.fields[0], r.fields[1]) {
                    (true, Field::Text(o), Field::Text(i)) => {
                        let (o, i) = if clean.trim_ids {
                            (trim_bytes(o), trim_bytes(i))
                        } else {
                            (o, i)
                        };
                        (!o.is_empty() && !i.is_empty())
                            .then(|| (hasher.hash_one(o), hasher.hash_one((o, i))))
                    }
                    _ => None,
                };
                (res, r.line, r.byte, oh, key)
            };
            if conv.had_ws {
                s.whitespace_rows += 1;
                if conv.trimmed_any {
                    s.trimmed += 1;
                }
            }
            if s.rows_in.is_multiple_of(PROGRESS_EVERY) {
                check_cancel(progress)?;
                if let Some(p) = progress {
                    p.set_counters(base + row_byte, s.rows_in);
                }
            }
            match outcome {
                Err(inv) => {
                    if let Some((oh, ph)) = tally_key {
                        tally.row(oh, ph, None, clean.dedupe);
                    }
                    s.invalid += 1;
                    s.add_reason(inv.reason);
                    if clean.exclude_invalid.is_some() {
                        s.invalid_excluded += 1;
                        if let Some((path, sw)) = side.as_mut() {
                            let mut rec = Vec::with_capacity(128);
                            rec.extend_from_slice(row_line.to_string().as_bytes());
                            rec.push(b',');
                            push_field(&mut rec, inv.detail.as_bytes());
                            rec.push(b',');
                            push_field(&mut rec, truncate(&opened.rows.raw(), 2000).as_bytes());
                            rec.push(b'\n');
                            sw.write_all(&rec)
                                .map_err(|e| MappingError::io(&*path, e))?;
                        }
                        continue;
                    }
                }
                Ok(()) => {
                    if let (Some(over), Some(oh)) = (&oversized, order_hash)
                        && over.contains(&oh)
                    {
                        s.rows_in_dropped_orders += 1;
                        continue;
                    }
                    let duplicate = match tally_key {
                        Some((oh, ph)) => tally.row(
                            oh,
                            ph,
                            Some((hasher.hash_one(line.as_slice()), line.len() as u64 + 1)),
                            clean.dedupe,
                        ),
                        None => match order_hash.filter(|_| track_duplicates) {
                            Some(oh) => dedupe.duplicate(oh, hasher.hash_one(line.as_slice())),
                            None => false,
                        },
                    };
                    if duplicate {
                        s.duplicates += 1;
                        if clean.dedupe {
                            s.duplicates_dropped += 1;
                            continue;
                        }
                    }
                }
            }
            s.rows_out += 1;
            line.push(b'\n');
            s.bytes_out += line.len() as u64;
            if let Some(w) = w.as_mut() {
                w.write_all(&line)
                    .map_err(|e| MappingError::io(&out_path, e))?;
            }
        }
        s.orders_dropped = oversized.as_ref().map_or(0, |o| o.len() as u64);
        if let Some(max) = clean.max_order_items.filter(|_| tally_orders) {
            // Take the large orders' valid rows back out, as the conversion's first pass
            // would have had them dropped before the duplicate check. A duplicate row has
            // its original's order id, so no other order's duplicate count changes.
            tally.flush();
            for t in tally.orders.values().filter(|t| u64::from(t.items) > max) {
                let dups = u64::from(t.duplicates);
                let rows = u64::from(t.rows);
                s.orders_dropped += 1;
                s.rows_in_dropped_orders += rows;
                s.duplicates -= dups;
                let written = if clean.dedupe {
                    s.duplicates_dropped -= dups;
                    rows - dups
                } else {
                    rows
                };
                s.rows_out -= written;
                s.bytes_out -= t.bytes;
            }
        }
        if let Some(p) = progress {
            p.set_counters(base + size, s.rows_in);
        }
        Ok(())
    })();
    let finish = |r: Result<(), MappingError>| -> Result<(), MappingError> {
        r?;
        if let (Some(mut w), Some(p), Some(o)) = (w, partial.as_ref(), out) {
            w.flush().map_err(|e| MappingError::io(p, e))?;
            let f = w
                .into_inner()
                .map_err(|e| MappingError::io(p, e.into_error()))?;
            f.sync_all().ok();
            std::fs::rename(p, o).map_err(|e| MappingError::io(o, e))?;
        }
        if let Some((path, mut sw)) = side {
            sw.flush().map_err(|e| MappingError::io(&path, e))?;
        }
        Ok(())
    };
    if let Err(e) = finish(result) {
        if let Some(p) = &partial {
            let _ = std::fs::remove_file(p);
        }
        return Err(e);
    }
    if let Some(t) = &conv.time {
        s.dst_gaps = t.gaps;
        s.dst_overlaps = t.overlaps;
    }
    s.timestamps = conv.timestamps;
    s.placeholders = conv.placeholders;
    s.carried_down = conv.carried_down;
    s.identities_rewritten = conv.rewritten;
    s.identities_not_in_catalog = conv.not_in_catalog;
    s.reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    s.output = out.map(Path::to_path_buf);
    s.invalid_file = if out.is_some() {
        clean.exclude_invalid.clone()
    } else {
        None
    };
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_rows() {
        let sample = vec![
            vec![
                "22/04/2023 15:04".to_string(),
                "0042".into(),
                "7".into(),
                "/p/1".into(),
            ],
            vec!["bad".into(), "0042".into(), "".into(), "/p/2".into()],
            vec!["".into(), "".into(), "".into(), "/p/3".into()],
        ];
        let m = Mapping {
            delimiter: ';',
            header: true,
            order_id: Source::Column(1),
            identity: Source::Column(3),
            user_id: Some(Source::Column(2)),
            created_at: Some(Source::Column(0)),
            time_format: Some("%d/%m/%Y %H:%M".into()),
            time_zone: Some("Europe/Bratislava".into()),
            encoding: None,
            items: None,
        };
        let p = preview(&sample, &m, 10);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p[0].as_ref().unwrap(),
            &[
                "0042".to_string(),
                "/p/1".into(),
                "7".into(),
                "2023-04-22 13:04:00".into()
            ]
        );
        assert!(p[1].as_ref().unwrap_err().contains("created_at \"bad\""));
        assert!(p[2].as_ref().unwrap_err().contains("order id (B) is empty"));
    }

    #[test]
    fn quoting() {
        let mut v = Vec::new();
        push_field(&mut v, b"a,b");
        push_field(&mut v, b"x\"y");
        push_field(&mut v, b"plain");
        assert_eq!(v, b"\"a,b\"\"x\"\"y\"plain");
    }

    #[test]
    fn identity_rewrites_are_written_quoted_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        std::fs::write(
            &input,
            "1,\"https://shop.sk/p/1,red/?x=1\",u1\n1,/p/2,u1\n2,https://shop.sk/p/3/,u2\n2,https://shop.sk/p/3,u2\n",
        )
        .unwrap();
        let out = dir.path().join("out.csv");
        let rw = super::super::identity::IdentityRewrite::new(true, true, true);
        let clean = Clean {
            dedupe: true,
            ..Clean::default()
        };
        let m = Mapping::documented(3);
        let s = convert_path_rewriting(&input, &m, &clean, Some(&rw), &out, None).unwrap();
        assert_eq!(s.rows_in, 4);
        // rows 1, 3 and 4 change; 3 and 4 then are the same row and one is dropped
        assert_eq!(s.identities_rewritten, 3);
        assert_eq!(s.identities_not_in_catalog, 0);
        assert_eq!(s.duplicates_dropped, 1);
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "1,\"/p/1,red\",u1\n1,/p/2,u1\n2,/p/3,u2\n"
        );
        // a plan counts the same without writing
        let p = plan_rewriting(&input, &m, &clean, Some(&rw), None).unwrap();
        assert_eq!(p.identities_rewritten, 3);
        // without rewrites nothing is counted
        let plain = convert_path(&input, &m, &Clean::default(), &out, None).unwrap();
        assert_eq!(plain.identities_rewritten, 0);
    }
}
