//! The per-record state machine: records → checks → counters, examples, aggregation, samples.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};

use super::agg::RowRec;
use super::agg::hash_str;
use super::checks::{self, Looks, TsKey, TsProblem};
use super::collect::{Batch, Collector, Spares};
pub(crate) use super::examples::{Acc, EXAMPLE_CHARS, example_text, push_issue};
use super::{Code, Options, Snapshot};
use crate::read::json::Value;
use crate::read::lines::{Ending, LongLine};
use crate::read::{Format, csv, json};

#[derive(Debug)]
struct PendingLine {
    no: u64,
    offset: u64,
    bytes: Vec<u8>,
    ending: Ending,
}

/// A CSV record whose quoted field continues over several lines.
#[derive(Debug)]
struct Pending {
    lines: Vec<PendingLine>,
    bytes: usize,
}

/// A parsed row's fields.
#[derive(Debug, Default)]
pub(crate) struct RowFields<'a> {
    pub order: Option<Cow<'a, str>>,
    pub identity: Option<Cow<'a, str>>,
    pub user: Option<Cow<'a, str>>,
    pub created_at: Option<Cow<'a, str>>,
}

/// Extract the fields of a record as the service would read them (no checks).
pub(crate) fn parse_fields(format: Format, rec: &str) -> Option<RowFields<'_>> {
    match format {
        Format::Csv => {
            let f = csv::split(rec).ok()?;
            let mut it = f.fields.into_iter().take(f.count);
            let order = it.next();
            let identity = it.next();
            let user = it.next().filter(|s| !s.is_empty());
            let created_at = it.next().filter(|s| !s.is_empty());
            Some(RowFields {
                order,
                identity,
                user,
                created_at,
            })
        }
        Format::Json => {
            let mut r = RowFields::default();
            json::parse_object(rec, &mut |k, v| {
                let text = match v {
                    Value::Str(s) | Value::Num(s) => s,
                    _ => return,
                };
                match &*k {
                    "order_id" | "session_id" => r.order = Some(text),
                    "identity" | "url" => r.identity = Some(text),
                    "auth_user_id" | "user_id" => r.user = Some(text).filter(|s| !s.is_empty()),
                    "created_at" => r.created_at = Some(text).filter(|s| !s.is_empty()),
                    _ => {}
                }
            })
            .ok()?;
            Some(r)
        }
    }
}

/// The hashes (order, identity, user, created_at) of a record if it is a valid row, by the
/// same rules as the checks (used to re-read rows of scattered orders). The caller has
/// already checked length, encoding and line breaks.
pub(crate) fn valid_row_hashes(format: Format, rec: &str, first: bool) -> Option<[u64; 4]> {
    // the fields borrowed from the record (or from a JSON member that had escapes)
    let hashes =
        |order: Option<&str>, identity: Option<&str>, user: Option<&str>, ts: Option<&str>| {
            let order = order.filter(|s| !s.trim().is_empty())?;
            let identity = identity.filter(|s| !s.trim().is_empty())?;
            let th = match ts {
                Some(t) => checks::ts_hash(checks::parse_ts(t).ok()?, t),
                None => 0,
            };
            Some([
                hash_str(order),
                hash_str(identity),
                user.map_or(0, hash_str),
                th,
            ])
        };
    match format {
        Format::Csv => {
            let f = csv::split(rec).ok()?;
            if first && is_header(&f) {
                return None;
            }
            if f.count < 2 || f.count > 4 {
                return None;
            }
            let h = |i: usize| f.get(i).filter(|s| !s.is_empty());
            hashes(h(0), h(1), h(2), h(3))
        }
        Format::Json => {
            let mut r: [Option<Cow<'_, str>>; 4] = Default::default();
            let mut prio = [0u8; 4];
            let mut bad = false;
            json::parse_object(rec, &mut |k, v| {
                let (slot, p) = match &*k {
                    "order_id" => (0, 2),
                    "session_id" => (0, 1),
                    "identity" => (1, 2),
                    "url" => (1, 1),
                    "auth_user_id" => (2, 2),
                    "user_id" => (2, 1),
                    "created_at" => (3, 2),
                    _ => return,
                };
                match v {
                    Value::Str(s) | Value::Num(s) => {
                        if p >= prio[slot] {
                            prio[slot] = p;
                            r[slot] = Some(s);
                        }
                    }
                    _ => bad = true,
                }
            })
            .ok()?;
            if bad {
                return None;
            }
            let nonempty = |i: usize| r[i].as_deref().filter(|s| !s.is_empty());
            hashes(r[0].as_deref(), r[1].as_deref(), nonempty(2), nonempty(3))
        }
    }
}

/// A JSON record's fields by the checks' rules (the newer attribute name wins), the first
/// member of a wrong type, unknown attribute names (up to 8) and which name generation each
/// slot (order, identity, user) used (bit 1 = newer, bit 2 = older).
struct JsonRow<'a> {
    res: Result<(), String>,
    fields: RowFields<'a>,
    bad_type: Option<(String, &'static str)>,
    unknown: Vec<String>,
    seen: [u8; 3],
    /// A documented attribute appeared twice (which value the service reads is not said).
    duplicate: bool,
}

fn json_row(text: &str) -> JsonRow<'_> {
    let mut r: RowFields<'_> = RowFields::default();
    let mut bad_type: Option<(String, &'static str)> = None;
    let mut unknown: Vec<String> = Vec::new();
    let mut seen = [0u8; 3];
    let mut named = 0u8;
    let mut duplicate = false;
    let res = json::parse_object(text, &mut |k, v| {
        let bit = match &*k {
            "order_id" => 1u8,
            "session_id" => 2,
            "identity" => 4,
            "url" => 8,
            "auth_user_id" => 16,
            "user_id" => 32,
            "created_at" => 64,
            _ => 0,
        };
        duplicate |= named & bit != 0;
        named |= bit;
        let slot = match &*k {
            "order_id" => Some((0, 1u8)),
            "session_id" => Some((0, 2)),
            "identity" => Some((1, 1)),
            "url" => Some((1, 2)),
            "auth_user_id" => Some((2, 1)),
            "user_id" => Some((2, 2)),
            "created_at" => None,
            _ => {
                if unknown.len() < 8 {
                    unknown.push(k.to_string());
                }
                return;
            }
        };
        if let Some((s, g)) = slot {
            seen[s] |= g;
        }
        let text = match v {
            Value::Str(s) | Value::Num(s) => s,
            other => {
                if bad_type.is_none() {
                    bad_type = Some((k.to_string(), other.type_name()));
                }
                return;
            }
        };
        match slot {
            // the newer name wins when both are given
            Some((0, g)) if g == 1 || r.order.is_none() => r.order = Some(text),
            Some((1, g)) if g == 1 || r.identity.is_none() => r.identity = Some(text),
            Some((2, g)) if g == 1 || r.user.is_none() => r.user = Some(text),
            None => r.created_at = Some(text),
            _ => {}
        }
    });
    JsonRow {
        res,
        fields: r,
        bad_type,
        unknown,
        seen,
        duplicate,
    }
}

/// The order id and identity of a valid row's record, by the checks' rules (for examples and
/// top products, which the aggregation stage renders from the record's text).
pub(crate) fn row_ids(format: Format, rec: &str) -> Option<(String, String)> {
    match format {
        Format::Csv => {
            let f = csv::split(rec).ok()?;
            Some((f.get(0)?.to_string(), f.get(1)?.to_string()))
        }
        Format::Json => {
            let j = json_row(rec);
            j.res.ok()?;
            Some((
                j.fields.order?.into_owned(),
                j.fields.identity?.into_owned(),
            ))
        }
    }
}

const HEADER_WORDS: &[&str] = &[
    "order_id",
    "session_id",
    "identity",
    "url",
    "user_id",
    "auth_user_id",
    "created_at",
    "order",
    "orderid",
    "order id",
    "order_number",
    "session",
    "transaction_id",
    "product",
    "product_id",
    "productid",
    "sku",
    "item_id",
    "customer_id",
    "user",
    "timestamp",
    "date",
];

fn is_header(f: &csv::Fields<'_>) -> bool {
    (0..f.count.min(csv::KEPT_FIELDS)).any(|i| {
        let v = f.fields[i]
            .trim()
            .trim_start_matches('\u{feff}')
            .to_ascii_lowercase();
        HEADER_WORDS.contains(&v.as_str())
    })
}

pub(crate) struct Engine<'o> {
    pub opts: &'o Options,
    cap: usize,
    /// The current (and previous) block is valid UTF-8 without NUL or CR bytes.
    pub clean: bool,
    pub format: Format,
    pub bom: bool,
    pub acc: Vec<Acc>,
    pub looks: BTreeMap<Looks, u64>,
    pub unknown_names: BTreeMap<String, u64>,
    pub type_problems: BTreeMap<String, u64>,
    slot_first: [Option<u8>; 3],
    pub lines: u64,
    pub physical: u64,
    pub rows: u64,
    pub valid: u64,
    pub invalid: u64,
    pub rows_with_user: u64,
    pub rows_with_ts: u64,
    pub lf: u64,
    pub crlf: u64,
    pub first_ts: Option<TsKey>,
    pub last_ts: Option<TsKey>,
    now_key: TsKey,
    old_key: TsKey,
    pending: Option<Pending>,
    /// Valid rows not yet handed to the aggregation stage.
    batch: Batch,
    /// Address range of the block lines are currently cut from.
    block_range: (usize, usize),
    batch_rows: usize,
    out: Out<'o>,
    spares: Option<(Spares, Receiver<Vec<RowRec>>)>,
}

/// Where batches of valid rows go.
pub(crate) enum Out<'o> {
    /// Aggregated on this thread.
    Inline(Box<Collector<'o>>),
    /// Sent to the aggregation thread.
    Thread(SyncSender<Batch>),
    /// Nowhere (after [`Engine::take_out`]).
    Done,
}

impl<'o> Engine<'o> {
    pub fn new(
        opts: &'o Options,
        format: Format,
        bom: bool,
        out: Out<'o>,
        spares: Option<(Spares, Receiver<Vec<RowRec>>)>,
    ) -> Self {
        let now = opts.now.unwrap_or_else(chrono::Utc::now).naive_utc();
        Engine {
            opts,
            cap: opts.max_line_bytes.max(super::MIN_LINE_CAP),
            clean: false,
            format,
            bom,
            acc: vec![Acc::default(); Code::ALL.len()],
            looks: BTreeMap::new(),
            unknown_names: BTreeMap::new(),
            type_problems: BTreeMap::new(),
            slot_first: [None; 3],
            lines: 0,
            physical: 0,
            rows: 0,
            valid: 0,
            invalid: 0,
            rows_with_user: 0,
            rows_with_ts: 0,
            lf: 0,
            crlf: 0,
            first_ts: None,
            last_ts: None,
            now_key: checks::key_of(now),
            old_key: checks::pack(2000, 1, 1, 0, 0, 0, 0, false),
            pending: None,
            batch: Batch::default(),
            block_range: (0, 0),
            batch_rows: opts.batch_rows.max(1),
            out,
            spares,
        }
    }

    /// Lines now come from `block` (rows pointing into the previous block are handed on).
    pub fn set_block(&mut self, block: &Arc<Vec<u8>>) {
        self.flush();
        let start = block.as_ptr() as usize;
        self.block_range = (start, start + block.len());
        if let Some(old) = self.batch.block.replace(block.clone())
            && let Some((sp, _)) = &self.spares
        {
            sp.block(old);
        }
    }

    /// Hand the pending rows (and `snap`, if any) to the aggregation stage.
    pub fn flush_with(&mut self, snap: Option<Snapshot>) {
        self.batch.snap = snap;
        self.flush();
    }

    fn flush(&mut self) {
        if self.batch.rows.is_empty() && self.batch.snap.is_none() {
            return;
        }
        let rows = match &self.spares {
            Some((_, rx)) => rx.try_recv().ok(),
            None => None,
        };
        let next = Batch {
            block: self.batch.block.clone(),
            arena: Vec::new(),
            rows: rows.unwrap_or_else(|| Vec::with_capacity(self.batch_rows.min(1 << 16))),
            snap: None,
        };
        let b = std::mem::replace(&mut self.batch, next);
        match &mut self.out {
            Out::Inline(c) => c.consume(b),
            // a closed channel means the aggregation thread is gone; the run reports that
            Out::Thread(tx) => {
                let _ = tx.send(b);
            }
            Out::Done => {}
        }
    }

    /// The output, after the last [`Engine::flush_with`] (dropping a sender ends the thread).
    pub fn take_out(&mut self) -> Out<'o> {
        std::mem::replace(&mut self.out, Out::Done)
    }

    /// Count an issue and keep an example while there is room.
    #[inline]
    pub fn issue(&mut self, code: Code, line: u64, byte: u64, text: impl FnOnce() -> String) {
        push_issue(
            &mut self.acc[code as usize],
            self.opts.max_examples,
            line,
            byte,
            text,
        );
    }

    fn ending(&mut self, e: Ending) {
        match e {
            Ending::Lf => self.lf += 1,
            Ending::Crlf => self.crlf += 1,
            Ending::Eof => {}
        }
    }

    /// A line over the cap.
    pub fn too_long(&mut self, l: LongLine<'_>) {
        self.flush_pending();
        self.physical = l.no;
        self.ending(l.ending);
        self.lines += 1;
        self.rows += 1;
        self.invalid += 1;
        let prefix = l.prefix;
        let len = l.len;
        self.issue(Code::LineTooLong, l.no, l.offset, || {
            format!(
                "{} bytes: {}",
                len,
                example_text(&prefix[..prefix.len().min(120)])
            )
        });
        if let Some(i) = memchr::memchr(b'\r', prefix) {
            self.issue(Code::BareCr, l.no, l.offset + i as u64, || {
                example_text(&prefix[..prefix.len().min(EXAMPLE_CHARS)])
            });
        }
    }

    /// A physical line.
    pub fn line(&mut self, no: u64, offset: u64, bytes: &[u8], ending: Ending) {
        self.physical = no;
        self.ending(ending);
        if self.pending.is_some() {
            self.pending_line(no, offset, bytes, ending);
            return;
        }
        // The common CSV record: a clean block, not the first record (no header check, no
        // BOM), no quotes: fields straight from one scan for commas.
        if self.format == Format::Csv
            && self.clean
            && self.lines > 0
            && let Some((count, commas)) = csv::plain_commas(bytes)
        {
            // SAFETY: `clean` means the whole block this line was cut from is valid UTF-8
            // without NUL or CR bytes (checked in `run`); a line is a sub-slice cut at `\n`
            // bytes, so it is valid UTF-8 too.
            let text = unsafe { std::str::from_utf8_unchecked(bytes) };
            self.lines += 1;
            self.csv_plain(no, offset, text, count, commas);
            return;
        }
        if self.format == Format::Csv
            && memchr::memchr(b'"', bytes).is_some()
            && csv::quote_open(bytes)
            && bytes.len() < self.cap
            && std::str::from_utf8(bytes)
                .is_ok_and(|t| matches!(csv::split(t), Err(csv::QuoteError::Unclosed { .. })))
        {
            self.pending = Some(Pending {
                lines: vec![PendingLine {
                    no,
                    offset,
                    bytes: bytes.to_vec(),
                    ending,
                }],
                bytes: bytes.len(),
            });
            return;
        }
        self.record(no, offset, bytes, 1, self.clean);
    }

    fn pending_line(&mut self, no: u64, offset: u64, bytes: &[u8], ending: Ending) {
        let Some(p) = self.pending.as_mut() else {
            return;
        };
        let sep = p.lines.last().map_or(0, |l| l.ending.bytes().len());
        if p.bytes + sep + bytes.len() > self.cap {
            self.flush_pending();
            self.line_nojoin(no, offset, bytes, ending);
            return;
        }
        p.bytes += sep + bytes.len();
        p.lines.push(PendingLine {
            no,
            offset,
            bytes: bytes.to_vec(),
            ending,
        });
        if csv::quote_open(bytes) {
            // the odd quote closes the open field
            let Some(p) = self.pending.take() else {
                return;
            };
            let mut rec = Vec::with_capacity(p.bytes);
            let n = p.lines.len();
            for (i, l) in p.lines.iter().enumerate() {
                rec.extend_from_slice(&l.bytes);
                if i + 1 < n {
                    rec.extend_from_slice(l.ending.bytes());
                }
            }
            let first = &p.lines[0];
            self.record(first.no, first.offset, &rec, n as u64, false);
        }
    }

    fn line_nojoin(&mut self, no: u64, offset: u64, bytes: &[u8], _ending: Ending) {
        self.record(no, offset, bytes, 1, false);
    }

    /// An open quoted field never closed (within the cap or by the end of the file): the first
    /// line is a `csv_quote` error, the following lines are checked on their own.
    pub fn flush_pending(&mut self) {
        let Some(p) = self.pending.take() else {
            return;
        };
        for l in &p.lines {
            self.record(l.no, l.offset, &l.bytes, 1, false);
        }
    }

    /// One record (physical line, or several lines joined by a quoted field).
    fn record(&mut self, no: u64, offset: u64, bytes: &[u8], nlines: u64, trusted: bool) {
        self.lines += 1;
        let mut bytes = bytes;
        if offset == 0 && self.bom && bytes.starts_with(crate::read::UTF8_BOM) {
            bytes = &bytes[3..];
        }
        if trusted && nlines == 1 {
            // SAFETY: `trusted` means the whole block this line was cut from is valid UTF-8
            // without NUL or CR bytes (checked in `run`); a line is a sub-slice cut at `\n`
            // bytes (and the 3-byte BOM), so it is valid UTF-8 too.
            let text = unsafe { std::str::from_utf8_unchecked(bytes) };
            match self.format {
                Format::Csv => self.csv_record(no, offset, text),
                Format::Json => self.json_record(no, offset, text),
            }
            return;
        }
        if let Some(i) = memchr::memchr(0, bytes) {
            self.rows += 1;
            self.invalid += 1;
            self.issue(Code::Encoding, no, offset + i as u64, || {
                format!("NUL byte: {}", example_text(bytes))
            });
            return;
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                self.rows += 1;
                self.invalid += 1;
                let at = e.valid_up_to();
                self.issue(Code::Encoding, no, offset + at as u64, || {
                    let bad = &bytes[at..bytes.len().min(at + 4)];
                    let hex: Vec<String> = bad.iter().map(|b| format!("{b:02X}")).collect();
                    format!(
                        "invalid UTF-8 bytes {} in: {}",
                        hex.join(" "),
                        example_text(bytes)
                    )
                });
                return;
            }
        };
        // A CR inside a record: outside quotes it is a bare line break the service may split on.
        if let Some(i) = memchr::memchr(b'\r', bytes).filter(|_| nlines == 1) {
            self.rows += 1;
            self.invalid += 1;
            self.issue(Code::BareCr, no, offset + i as u64, || example_text(bytes));
            return;
        }
        match self.format {
            Format::Csv => self.csv_record(no, offset, text),
            Format::Json => self.json_record(no, offset, text),
        }
    }

    fn csv_record(&mut self, no: u64, offset: u64, text: &str) {
        let f = match csv::split(text) {
            Ok(f) => f,
            Err(e) => {
                self.rows += 1;
                self.invalid += 1;
                self.issue(Code::CsvQuote, no, offset, || {
                    format!("{e}: {}", example_text(text.as_bytes()))
                });
                return;
            }
        };
        if self.lines == 1 && is_header(&f) {
            self.issue(Code::HeaderRow, no, offset, || {
                example_text(text.as_bytes())
            });
            return;
        }
        self.rows += 1;
        if f.count < 2 || f.count > 4 {
            self.field_count(no, offset, text, f.count);
            return;
        }
        let order = f.get(0);
        let identity = f.get(1);
        let user = f.get(2).filter(|s| !s.is_empty());
        let ts = f.get(3).filter(|s| !s.is_empty());
        self.check_row(no, offset, text, order, identity, user, ts);
    }

    #[cold]
    fn field_count(&mut self, no: u64, offset: u64, text: &str, n: usize) {
        self.invalid += 1;
        self.issue(Code::FieldCount, no, offset, || {
            if text.is_empty() {
                "empty line".to_string()
            } else {
                format!("{n} fields: {}", example_text(text.as_bytes()))
            }
        });
    }

    /// A CSV record without quotes, `count` fields, `commas` as from [`csv::plain_commas`].
    #[inline]
    fn csv_plain(&mut self, no: u64, offset: u64, text: &str, count: usize, commas: [usize; 4]) {
        self.rows += 1;
        if !(2..=4).contains(&count) {
            self.field_count(no, offset, text, count);
            return;
        }
        let (c0, c1, c2) = (commas[0], commas[1], commas[2]);
        // field `a..b`: `a` is 0 or just after a comma, `b` a comma's position or the length
        let field = |a: usize, b: usize| {
            debug_assert!(a <= b && b <= text.len());
            // SAFETY: with 2–4 fields, `plain_commas` gives `c0 < c1 < c2` where the record
            // has those commas and the record's length where it has not; the callers below
            // only pass `a <= b` from these (plus one after a comma). Commas are ASCII, so
            // both ends are in bounds and on character boundaries.
            unsafe { text.get_unchecked(a..b) }
        };
        let order = Some(field(0, c0));
        let identity = Some(field(c0 + 1, c1));
        let user = if count > 2 {
            Some(field(c1 + 1, c2)).filter(|s| !s.is_empty())
        } else {
            None
        };
        let ts = if count > 3 {
            Some(field(c2 + 1, text.len())).filter(|s| !s.is_empty())
        } else {
            None
        };
        self.check_row(no, offset, text, order, identity, user, ts);
    }

    fn json_record(&mut self, no: u64, offset: u64, text: &str) {
        let JsonRow {
            res,
            fields: r,
            bad_type,
            unknown,
            seen,
            duplicate,
        } = json_row(text);
        self.rows += 1;
        if let Err(e) = res {
            self.invalid += 1;
            self.issue(Code::JsonSyntax, no, offset, || {
                if text.trim().is_empty() {
                    "empty line".to_string()
                } else {
                    format!("{e}: {}", example_text(text.as_bytes()))
                }
            });
            return;
        }
        if !unknown.is_empty() {
            for name in unknown {
                if self.unknown_names.len() < 20 || self.unknown_names.contains_key(&name) {
                    *self.unknown_names.entry(name).or_insert(0) += 1;
                }
            }
            self.issue(Code::UnknownAttribute, no, offset, || {
                example_text(text.as_bytes())
            });
        }
        let mut mixed = false;
        for (s, &g) in seen.iter().enumerate() {
            if g == 0 {
                continue;
            }
            if g == 3 {
                mixed = true;
            }
            match self.slot_first[s] {
                None if g != 3 => self.slot_first[s] = Some(g),
                Some(first) if first != g => mixed = true,
                _ => {}
            }
        }
        if mixed {
            self.issue(Code::MixedAttributeNames, no, offset, || {
                example_text(text.as_bytes())
            });
        }
        if duplicate {
            self.issue(Code::DuplicateKey, no, offset, || {
                example_text(text.as_bytes())
            });
        }
        if let Some((name, ty)) = bad_type {
            self.invalid += 1;
            let key = format!("{name}: {ty}");
            *self.type_problems.entry(key).or_insert(0) += 1;
            self.issue(Code::JsonType, no, offset, || {
                format!("{name} is {ty}: {}", example_text(text.as_bytes()))
            });
            return;
        }
        let user = r.user.as_deref().filter(|s| !s.is_empty());
        let ts = r.created_at.as_deref().filter(|s| !s.is_empty());
        self.check_row(
            no,
            offset,
            text,
            r.order.as_deref(),
            r.identity.as_deref(),
            user,
            ts,
        );
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn check_row(
        &mut self,
        no: u64,
        offset: u64,
        text: &str,
        order: Option<&str>,
        identity: Option<&str>,
        user: Option<&str>,
        ts: Option<&str>,
    ) {
        use checks::{ID_BLANK, ID_SPREADSHEET, ID_WHITESPACE};
        let mut bad = false;
        let fo = order.map_or(ID_BLANK, checks::id_flags);
        let fi = identity.map_or(ID_BLANK, checks::id_flags);
        // a user id is only dropped when empty, so a blank one still counts for whitespace
        let fu = user.map_or(0, checks::id_flags);
        let order = order.filter(|_| fo & ID_BLANK == 0);
        let identity = identity.filter(|_| fi & ID_BLANK == 0);
        if order.is_none() {
            bad = true;
            self.issue(Code::MissingOrderId, no, offset, || {
                example_text(text.as_bytes())
            });
        }
        if identity.is_none() {
            bad = true;
            self.issue(Code::MissingIdentity, no, offset, || {
                example_text(text.as_bytes())
            });
        }
        let mut key = None;
        if let Some(t) = ts {
            match checks::parse_ts(t) {
                Ok(k) => key = Some(k),
                Err(TsProblem::Zone) => {
                    bad = true;
                    self.issue(Code::TimestampZone, no, offset, || {
                        example_text(t.as_bytes())
                    });
                }
                Err(TsProblem::Format(l)) => {
                    bad = true;
                    *self.looks.entry(l).or_insert(0) += 1;
                    self.issue(Code::TimestampFormat, no, offset, || {
                        format!("{} ({})", example_text(t.as_bytes()), l.describe())
                    });
                }
            }
        }
        // the flags of the ids that are there (a blank order id or identity is missing)
        let ids =
            fu | if order.is_some() { fo } else { 0 } | if identity.is_some() { fi } else { 0 };
        if ids & ID_WHITESPACE != 0 {
            self.issue(Code::WhitespaceId, no, offset, || {
                format!("\"{}\"", example_text(text.as_bytes()))
            });
        }
        if ids & ID_SPREADSHEET != 0 {
            self.issue(Code::SpreadsheetId, no, offset, || {
                example_text(text.as_bytes())
            });
        }
        if bad {
            self.invalid += 1;
            return;
        }
        let (Some(order), Some(identity)) = (order, identity) else {
            self.invalid += 1;
            return;
        };
        self.valid += 1;
        if let Some(k) = key {
            self.rows_with_ts += 1;
            if k > self.now_key {
                self.issue(Code::FutureTimestamp, no, offset, || {
                    example_text(ts.unwrap_or("").as_bytes())
                });
            } else if k < self.old_key {
                self.issue(Code::OldTimestamp, no, offset, || {
                    example_text(ts.unwrap_or("").as_bytes())
                });
            }
            self.first_ts = Some(self.first_ts.map_or(k, |f| f.min(k)));
            self.last_ts = Some(self.last_ts.map_or(k, |f| f.max(k)));
        }
        if user.is_some() {
            self.rows_with_user += 1;
        }
        self.push_row(
            RowRec {
                oh: hash_str(order),
                ih: hash_str(identity),
                uh: user.map_or(0, hash_str),
                th: match (key, ts) {
                    (Some(k), Some(t)) => checks::ts_hash(k, t),
                    _ => 0,
                },
                line: no,
                offset,
                start: 0,
                len: 0,
                in_arena: false,
            },
            text,
        );
    }

    /// Queue a valid row for the aggregation stage; `text` is the record's text.
    #[inline]
    fn push_row(&mut self, mut r: RowRec, text: &str) {
        let p = text.as_ptr() as usize;
        let len = text.len().min(u32::MAX as usize);
        let (lo, hi) = self.block_range;
        if p >= lo && p + text.len() <= hi && p - lo <= u32::MAX as usize {
            r.start = (p - lo) as u32;
        } else {
            let at = self.batch.arena.len();
            if at + len > u32::MAX as usize {
                self.flush();
            }
            r.start = self.batch.arena.len() as u32;
            r.in_arena = true;
            self.batch.arena.extend_from_slice(&text.as_bytes()[..len]);
        }
        r.len = len as u32;
        self.batch.rows.push(r);
        if self.batch.rows.len() >= self.batch_rows {
            self.flush();
        }
    }

    /// End of input.
    pub fn finish(&mut self) {
        self.flush_pending();
        self.flush();
    }

    /// A snapshot of the parsing stage's counters (the aggregate ones are filled in by
    /// [`Collector::fill`]).
    pub fn snapshot(&self, bytes_read: u64, total: u64) -> Snapshot {
        Snapshot {
            bytes_read,
            total_bytes: total,
            rows: self.rows,
            orders: 0,
            multi_item_orders: 0,
            pairs: 0,
            products: 0,
            users: 0,
            first_purchase: self.first_ts.map(checks::format_key),
            last_purchase: self.last_ts.map(checks::format_key),
            issues: Code::ALL
                .iter()
                .filter(|c| self.acc[**c as usize].count > 0)
                .map(|c| (*c, self.acc[*c as usize].count))
                .collect(),
            done: false,
        }
    }
}
