//! Exact counts for scattered orders: re-read just their runs (sorted by offset, one forward
//! sweep) and recount distinct items, duplicates and users across runs. The same sweep finds
//! where large orders crossed the large-order threshold (the issue's examples).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;

use hashbrown::HashSet;

use super::Code;
use super::agg::Agg;
use super::engine::{Acc, Engine, example_text, push_issue, row_ids, valid_row_hashes};
use crate::read::{Format, UTF8_BOM, csv};

/// Read buffer: runs are short and far apart, so small reads copy less than big ones.
const BUF: usize = 4 << 10;

/// A record: (offset, bytes, physical lines, within the cap).
type Rec = (u64, Vec<u8>, u64, bool);

/// Reads records (physical lines, joined across a quoted line break like the main pass) from
/// an offset, never buffering more than the cap per line.
struct Records {
    rdr: BufReader<File>,
    pos: u64,
    cap: usize,
    format: Format,
    back: VecDeque<(u64, Vec<u8>, bool)>,
}

impl Records {
    fn new(file: File, cap: usize, format: Format) -> Self {
        Records {
            rdr: BufReader::with_capacity(BUF, file),
            pos: 0,
            cap,
            format,
            back: VecDeque::new(),
        }
    }

    fn seek(&mut self, off: u64) -> std::io::Result<()> {
        self.back.clear();
        let delta = off as i64 - self.pos as i64;
        if (0..BUF as i64).contains(&delta) {
            self.rdr.seek_relative(delta)?;
        } else {
            self.rdr.seek(SeekFrom::Start(off))?;
        }
        self.pos = off;
        Ok(())
    }

    /// One physical line: (offset, bytes without terminator, fits the cap).
    fn line(&mut self) -> std::io::Result<Option<(u64, Vec<u8>, bool)>> {
        if let Some(l) = self.back.pop_front() {
            return Ok(Some(l));
        }
        let start = self.pos;
        let mut buf = Vec::new();
        let mut total = 0usize;
        let mut ended = false;
        loop {
            let chunk = self.rdr.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let room = (self.cap + 2).saturating_sub(buf.len());
            buf.extend_from_slice(&chunk[..take.min(room)]);
            total += take;
            self.rdr.consume(take);
            if done {
                ended = true;
                break;
            }
        }
        self.pos += total as u64;
        if total == 0 {
            return Ok(None);
        }
        let mut len = total;
        if ended {
            buf.pop();
            len -= 1;
            if buf.last() == Some(&b'\r') {
                buf.pop();
                len -= 1;
            }
        }
        Ok(Some((start, buf, len <= self.cap)))
    }

    /// One record: (offset, bytes, physical lines, valid-length, joined).
    fn record(&mut self) -> std::io::Result<Option<Rec>> {
        let Some((off, bytes, fits)) = self.line()? else {
            return Ok(None);
        };
        let opens = self.format == Format::Csv
            && fits
            && csv::quote_open(&bytes)
            && bytes.len() < self.cap
            && std::str::from_utf8(&bytes)
                .is_ok_and(|t| matches!(csv::split(t), Err(csv::QuoteError::Unclosed { .. })));
        if !opens {
            return Ok(Some((off, bytes, 1, fits)));
        }
        let mut joined = bytes.clone();
        let mut taken = Vec::new();
        loop {
            match self.line()? {
                None => break,
                Some((o, b, f)) => {
                    if !f || joined.len() + 1 + b.len() > self.cap {
                        taken.push((o, b, f));
                        break;
                    }
                    joined.push(b'\n');
                    joined.extend_from_slice(&b);
                    let closes = csv::quote_open(&b);
                    taken.push((o, b, f));
                    if closes {
                        return Ok(Some((off, joined, taken.len() as u64 + 1, true)));
                    }
                }
            }
        }
        // never closed: the first line alone, the rest re-read on their own
        for t in taken.into_iter().rev() {
            self.back.push_front(t);
        }
        Ok(Some((off, bytes, 1, true)))
    }
}

/// Examples of one issue code found by a worker: the count, and the examples with the smallest
/// offsets (the report keeps the first ones in file order).
#[derive(Default)]
struct Found {
    count: u64,
    examples: Vec<(u64, u64, String)>,
}

impl Found {
    fn push(&mut self, max: usize, line: u64, offset: u64, text: impl FnOnce() -> String) {
        self.count += 1;
        if max == 0 {
            return;
        }
        if self.examples.len() >= 4 * max {
            self.examples.sort_unstable_by_key(|e| e.1);
            self.examples.truncate(max);
        }
        if self.examples.len() < max || self.examples.iter().any(|e| e.1 > offset) {
            self.examples.push((line, offset, text()));
        }
    }

    fn merge(&mut self, o: Found) {
        self.count += o.count;
        self.examples.extend(o.examples);
    }
}

/// What a worker of [`resolve`] found.
#[derive(Default)]
struct Outcome {
    /// (order, exact distinct items) of scattered orders.
    fixed: Vec<(u64, u64)>,
    crossings: Vec<Crossing>,
    duplicates: Found,
    multi_users: Found,
    /// Per candidate user: runs counted for it beyond the first in each scattered order.
    extra_runs: Vec<u64>,
}

/// One order to re-read: its hash, whether it is scattered (else: a large order re-read for
/// its example), and its runs' (offset, line), first run first.
struct Job {
    order: u64,
    scattered: bool,
    runs: Vec<(u64, u64)>,
}

/// Where an order first has more distinct items than the large-order threshold.
#[derive(Debug)]
struct Crossing {
    line: u64,
    offset: u64,
    order_id: String,
}

/// Re-read the runs of scattered orders and fix the engine's counts; also re-read the runs of
/// `large` (orders over the threshold whose rows are together: (line, offset, order hash)),
/// and give `large_order` its examples: the first rows, in file order, where an order reached
/// more than `opts.large_order_items` distinct items. Orders are taken one at a time, in the
/// order of their first run, shared out over `threads` threads. For each user of `users`
/// (candidates of `dominant_user`), returns how many of its runs were later runs of an order
/// it was already on (its runs minus those make its exact orders).
#[allow(clippy::too_many_arguments)]
pub(crate) fn resolve(
    path: &Path,
    format: Format,
    bom: bool,
    cap: usize,
    threads: usize,
    eng: &mut Engine<'_>,
    agg: &mut Agg,
    large: &[(u64, u64, u64)],
    users: &[u64],
) -> std::io::Result<Vec<u64>> {
    let mut jobs: Vec<Job> = agg
        .scattered
        .iter()
        .map(|(order, sc)| {
            let mut runs = Vec::with_capacity(sc.runs.len() + 1);
            runs.push((sc.first_off, sc.first_line));
            runs.extend_from_slice(&sc.runs);
            Job {
                order: *order,
                scattered: true,
                runs,
            }
        })
        .collect();
    jobs.extend(large.iter().map(|&(line, off, order)| Job {
        order,
        scattered: false,
        runs: vec![(off, line)],
    }));
    jobs.sort_unstable_by_key(|j| j.runs[0].0);
    let threshold = eng.opts.large_order_items;
    let max = eng.opts.max_examples;
    let share = jobs.len().div_ceil(threads.max(1)).max(1);
    let outcomes: Vec<std::io::Result<Outcome>> = std::thread::scope(|scope| {
        let mut parts = jobs.chunks(share);
        let first = parts.next();
        let rest: Vec<_> = parts
            .map(|part| {
                scope.spawn(move || reread(path, format, bom, cap, threshold, max, part, users))
            })
            .collect();
        let mut out = vec![first.map_or_else(
            || Ok(Outcome::default()),
            |part| reread(path, format, bom, cap, threshold, max, part, users),
        )];
        out.extend(rest.into_iter().map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(std::io::Error::other("re-reading stopped unexpectedly")))
        }));
        out
    });
    let mut all = Outcome::default();
    let mut extra_runs = vec![0u64; users.len()];
    for o in outcomes {
        let o = o?;
        for (a, b) in extra_runs.iter_mut().zip(&o.extra_runs) {
            *a += b;
        }
        all.fixed.extend(o.fixed);
        all.crossings.extend(o.crossings);
        all.duplicates.merge(o.duplicates);
        all.multi_users.merge(o.multi_users);
    }
    for (order, k) in all.fixed {
        agg.fix_order(order, k);
    }
    for (code, mut found) in [
        (Code::DuplicateRow, all.duplicates),
        (Code::OrderMultipleUsers, all.multi_users),
    ] {
        found.examples.sort_unstable_by_key(|e| e.1);
        let offered = found.examples.len() as u64;
        for (line, offset, text) in found.examples {
            eng.issue(code, line, offset, || text);
        }
        eng.acc[code as usize].count += found.count.saturating_sub(offered);
    }
    let mut crossings = all.crossings;
    crossings.sort_by_key(|c| c.line);
    crossings.truncate(eng.opts.max_examples);
    let n = threshold.saturating_add(1);
    let mut acc = Acc::default();
    for c in crossings {
        push_issue(&mut acc, usize::MAX, c.line, c.offset, || {
            format!(
                "order {} reached {n} distinct items here",
                example_text(c.order_id.as_bytes())
            )
        });
    }
    eng.acc[Code::LargeOrder as usize].examples = acc.examples;
    Ok(extra_runs)
}

/// The first valid row (from the start of the file) whose field hashes (order, identity, user,
/// created_at) satisfy `pick`: (line, offset, the row as example text).
pub(crate) fn first_row(
    path: &Path,
    format: Format,
    bom: bool,
    cap: usize,
    pick: impl Fn([u64; 4]) -> bool,
) -> Option<(u64, u64, String)> {
    let mut rec = Records::new(File::open(path).ok()?, cap, format);
    let mut line = 1u64;
    while let Some((roff, bytes, nlines, fits)) = rec.record().ok()? {
        let this_line = line;
        line += nlines;
        if !fits {
            continue;
        }
        let mut b: &[u8] = &bytes;
        if roff == 0 && bom {
            b = b.strip_prefix(UTF8_BOM).unwrap_or(b);
        }
        let Ok(text) = std::str::from_utf8(b) else {
            continue;
        };
        if let Some(h) = valid_row_hashes(format, text, roff == 0)
            && pick(h)
        {
            return Some((this_line, roff, example_text(text.as_bytes())));
        }
    }
    None
}

/// Re-read `jobs` (in the order given), each order on its own: exact items, duplicates and
/// user changes across its runs, and where it crossed the large-order threshold.
#[allow(clippy::too_many_arguments)]
fn reread(
    path: &Path,
    format: Format,
    bom: bool,
    cap: usize,
    threshold: u64,
    max: usize,
    jobs: &[Job],
    users: &[u64],
) -> std::io::Result<Outcome> {
    let mut out = Outcome {
        extra_runs: vec![0; users.len()],
        ..Default::default()
    };
    // per candidate user: runs of the current order it is on, and whether this run counted it
    let mut user_runs = vec![0u64; users.len()];
    let mut in_run = vec![false; users.len()];
    let mut rec = Records::new(File::open(path)?, cap, format);
    let mut items: HashSet<u64> = HashSet::new();
    let mut rows: HashSet<(u64, u64, u64)> = HashSet::new();
    let mut run_rows: HashSet<(u64, u64, u64)> = HashSet::new();
    for job in jobs {
        items.clear();
        rows.clear();
        let mut user = 0u64;
        let mut multi_at: Option<(u64, u64, String)> = None;
        let mut pass1_multi = false;
        user_runs.iter_mut().for_each(|n| *n = 0);
        for &(off, line0) in &job.runs {
            rec.seek(off)?;
            run_rows.clear();
            in_run.iter_mut().for_each(|b| *b = false);
            let mut run_user = 0u64;
            let mut line = line0;
            while let Some((roff, bytes, nlines, fits)) = rec.record()? {
                let this_line = line;
                line += nlines;
                if !fits || memchr::memchr(0, &bytes).is_some() {
                    continue;
                }
                let mut b: &[u8] = &bytes;
                if roff == 0 && bom {
                    b = b.strip_prefix(UTF8_BOM).unwrap_or(b);
                }
                let Ok(text) = std::str::from_utf8(b) else {
                    continue;
                };
                if nlines == 1 && memchr::memchr(b'\r', b).is_some() {
                    continue;
                }
                let Some([oh, ih, uh, th]) = valid_row_hashes(format, text, roff == 0) else {
                    continue;
                };
                if oh != job.order {
                    break;
                }
                if items.insert(ih) && items.len() as u64 == threshold.saturating_add(1) {
                    out.crossings.push(Crossing {
                        line: this_line,
                        offset: roff,
                        order_id: row_ids(format, text).map(|(o, _)| o).unwrap_or_default(),
                    });
                }
                let row = (ih, uh, th);
                let in_run_dup = !run_rows.insert(row);
                if !rows.insert(row) && !in_run_dup {
                    out.duplicates
                        .push(max, this_line, roff, || example_text(text.as_bytes()));
                }
                if uh != 0
                    && let Some(i) = users.iter().position(|&u| u == uh)
                    && !in_run[i]
                {
                    in_run[i] = true;
                    user_runs[i] += 1;
                }
                if uh != 0 {
                    if run_user == 0 {
                        run_user = uh;
                    } else if run_user != uh {
                        pass1_multi = true;
                    }
                    if user == 0 {
                        user = uh;
                    } else if user != uh && multi_at.is_none() {
                        multi_at = Some((this_line, roff, example_text(text.as_bytes())));
                    }
                }
            }
        }
        if job.scattered {
            out.fixed.push((job.order, items.len() as u64));
            for (e, &n) in out.extra_runs.iter_mut().zip(&user_runs) {
                *e += n.saturating_sub(1);
            }
        }
        if let Some((l, o, t)) = multi_at
            && !pass1_multi
        {
            out.multi_users.push(max, l, o, || t);
        }
    }
    Ok(out)
}
