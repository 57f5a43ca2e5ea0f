//! Exact counts for scattered orders: re-read just their runs (sorted by offset, one forward
//! sweep) and recount distinct items, duplicates and users across runs. The same sweep finds
//! where large orders crossed the large-order threshold (the issue's examples).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;

use hashbrown::{HashMap, HashSet};

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

#[derive(Default)]
struct OrderRes {
    items: HashSet<u64>,
    rows: HashSet<(u64, u64, u64)>,
    user: u64,
    multi: bool,
    multi_at: Option<(u64, u64, String)>,
    pass1_multi: bool,
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
/// more than `opts.large_order_items` distinct items.
pub(crate) fn resolve(
    path: &Path,
    format: Format,
    bom: bool,
    cap: usize,
    eng: &mut Engine<'_>,
    agg: &mut Agg,
    large: &[(u64, u64, u64)],
) -> std::io::Result<()> {
    let mut tasks: Vec<(u64, u64, u64)> = Vec::new();
    for (order, sc) in &agg.scattered {
        tasks.push((sc.first_off, *order, sc.first_line));
        for &(off, line) in &sc.runs {
            tasks.push((off, *order, line));
        }
    }
    for &(line, off, order) in large {
        tasks.push((off, order, line));
    }
    let threshold = eng.opts.large_order_items;
    let mut crossings: Vec<Crossing> = Vec::new();
    tasks.sort_unstable();
    let mut rec = Records::new(File::open(path)?, cap, format);
    let mut state: HashMap<u64, OrderRes> = HashMap::new();
    for (off, order, line0) in tasks {
        rec.seek(off)?;
        let st = state.entry(order).or_default();
        let mut run_rows: HashSet<(u64, u64, u64)> = HashSet::new();
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
            if oh != order {
                break;
            }
            if st.items.insert(ih) && st.items.len() as u64 == threshold.saturating_add(1) {
                crossings.push(Crossing {
                    line: this_line,
                    offset: roff,
                    order_id: row_ids(format, text).map(|(o, _)| o).unwrap_or_default(),
                });
            }
            let row = (ih, uh, th);
            let in_run_dup = !run_rows.insert(row);
            if !st.rows.insert(row) && !in_run_dup {
                eng.issue(Code::DuplicateRow, this_line, roff, || {
                    example_text(text.as_bytes())
                });
            }
            if uh != 0 {
                if run_user == 0 {
                    run_user = uh;
                } else if run_user != uh {
                    st.pass1_multi = true;
                }
                if st.user == 0 {
                    st.user = uh;
                } else if st.user != uh && !st.multi {
                    st.multi = true;
                    st.multi_at = Some((this_line, roff, example_text(text.as_bytes())));
                }
            }
        }
    }
    for (order, st) in state {
        // (large orders re-read for their examples are counted already)
        if agg.scattered.contains_key(&order) {
            agg.fix_order(order, st.items.len() as u64);
        }
        if st.multi && !st.pass1_multi {
            let (l, o, t) = st.multi_at.unwrap_or_default();
            eng.issue(Code::OrderMultipleUsers, l, o, || t);
        }
    }
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
    Ok(())
}
