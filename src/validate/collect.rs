//! The aggregation stage: compact records of valid rows → runs of orders, users and products
//! ([`super::agg`]), the issues only aggregation can see within a run (duplicates, several
//! users), and candidate orders for the samples.
//!
//! The parsing stage ([`super::engine`]) hands over [`Batch`]es of [`RowRec`]s (hashes and
//! positions) in file order. This stage runs on its own thread when the run has two workers,
//! inline otherwise; either way it sees the same rows in the same order, so the results are
//! identical.

use std::sync::Arc;
use std::sync::mpsc::SyncSender;

use hashbrown::HashMap;

use super::agg::{Added, Agg, RowRec};
use super::examples::{Acc, example_text, push_issue};
use super::{Code, Options, Progress, Snapshot};

/// Rows kept per sampled order.
pub const SAMPLE_ROWS_CAP: usize = 1000;

/// Issue codes raised by this stage (and by the re-read of scattered orders).
pub(crate) const CODES: [Code; 3] = [
    Code::DuplicateRow,
    Code::OrderMultipleUsers,
    Code::LargeOrder,
];

/// Rows handed from the parsing stage to the aggregation stage.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// The block most rows' text lies in.
    pub block: Option<Arc<Vec<u8>>>,
    /// Text of rows not lying in the block (joined or block-crossing records).
    pub arena: Vec<u8>,
    /// The rows, in file order.
    pub rows: Vec<RowRec>,
    /// The parsing stage's counters after these rows, to publish once aggregated.
    pub snap: Option<Snapshot>,
}

/// Buffers handed back for reuse (blocks to the reader, row vectors to the parsing stage),
/// so the run does not keep allocating and freeing megabytes (which costs page faults and
/// cross-core TLB flushes).
#[derive(Debug, Clone)]
pub(crate) struct Spares {
    /// Emptied blocks for the reader.
    pub blocks: SyncSender<Vec<u8>>,
    /// Emptied row vectors for the parsing stage.
    pub rows: SyncSender<Vec<RowRec>>,
}

impl Spares {
    /// Hand a block back if this was its last user (otherwise just drop this reference).
    pub fn block(&self, b: Arc<Vec<u8>>) {
        if let Ok(v) = Arc::try_unwrap(b) {
            let _ = self.blocks.try_send(v);
        }
    }
}

impl Batch {
    fn text(&self, r: &RowRec) -> &[u8] {
        let src: &[u8] = if r.in_arena {
            &self.arena
        } else {
            self.block.as_deref().map_or(&[], |b| &b[..])
        };
        let s = (r.start as usize).min(src.len());
        let e = (s + r.len as usize).min(src.len());
        &src[s..e]
    }
}

/// Position of a record, for re-reading sampled rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowPos {
    pub line: u64,
    pub offset: u64,
    pub len: u32,
}

#[derive(Debug)]
pub(crate) struct Cand {
    pub order: u64,
    pub first_line: u64,
    pub rows: Vec<RowPos>,
    pub overflow: bool,
}

#[derive(Debug, Default)]
struct SampleRun {
    order: u64,
    /// The run's order's candidate, looked up once per run.
    cand: Option<usize>,
    active: bool,
    rows: Vec<RowPos>,
    overflow: bool,
}

/// A 4,096-bit set of hash bits: a clear bit means the key was never inserted.
#[derive(Debug)]
struct Bits(Box<[u64; 64]>);

impl Default for Bits {
    fn default() -> Self {
        Bits(Box::new([0; 64]))
    }
}

impl Bits {
    #[inline]
    fn slot(h: u64) -> (usize, u64) {
        let i = (h >> 1) as usize & 4095;
        (i / 64, 1 << (i % 64))
    }

    #[inline]
    fn contains(&self, h: u64) -> bool {
        let (w, b) = Self::slot(h);
        self.0[w] & b != 0
    }

    fn insert(&mut self, h: u64) {
        let (w, b) = Self::slot(h);
        self.0[w] |= b;
    }
}

/// The aggregation state.
pub(crate) struct Collector<'o> {
    opts: &'o Options,
    progress: Option<&'o Progress>,
    spares: Option<Spares>,
    pub agg: Agg,
    /// Issues of [`CODES`] (other codes stay empty).
    pub acc: Vec<Acc>,
    pub cands: Vec<Cand>,
    cand_index: HashMap<u64, usize>,
    /// A quick "surely not a candidate" for every run's order before `cand_index`.
    cand_bits: Bits,
    tier1_left: usize,
    tier2_added: usize,
    /// Candidates taken from runs that became multi-item: a few more than the samples asked
    /// for, since a run that turns out not to be its order's first is dropped at the end.
    tier2_max: usize,
    run: SampleRun,
}

impl<'o> Collector<'o> {
    pub fn new(
        opts: &'o Options,
        progress: Option<&'o Progress>,
        est_rows: usize,
        spares: Option<Spares>,
    ) -> Self {
        Collector {
            opts,
            progress,
            spares,
            agg: Agg::new(est_rows / 2),
            acc: vec![Acc::default(); Code::ALL.len()],
            cands: Vec::new(),
            cand_index: HashMap::new(),
            cand_bits: Bits::default(),
            tier1_left: opts.max_samples.saturating_mul(40),
            tier2_added: 0,
            tier2_max: opts.max_samples.saturating_mul(4),
            run: SampleRun::default(),
        }
    }

    /// Aggregate a batch, then publish its snapshot (if any) with the aggregate counters.
    pub fn consume(&mut self, batch: Batch) {
        let rows = &batch.rows;
        for r in rows {
            let added = self.agg.add(r);
            if added.duplicate || added.multi_user {
                self.agg_issues(&batch, r, added);
            }
            if self.opts.max_samples > 0 {
                self.track_sample(r.oh, added, r.line, r.offset, r.len);
            }
        }
        let Batch {
            block,
            mut rows,
            snap,
            ..
        } = batch;
        if let Some(s) = snap
            && let Some(p) = self.progress
        {
            p.publish(self.fill(s));
        }
        if let Some(sp) = &self.spares {
            if let Some(b) = block {
                sp.block(b);
            }
            rows.clear();
            let _ = sp.rows.try_send(rows);
        }
    }

    #[cold]
    fn agg_issues(&mut self, batch: &Batch, r: &RowRec, added: Added) {
        let max = self.opts.max_examples;
        let text = batch.text(r);
        if added.duplicate {
            push_issue(
                &mut self.acc[Code::DuplicateRow as usize],
                max,
                r.line,
                r.offset,
                || example_text(text),
            );
        }
        if added.multi_user {
            push_issue(
                &mut self.acc[Code::OrderMultipleUsers as usize],
                max,
                r.line,
                r.offset,
                || example_text(text),
            );
        }
    }

    fn track_sample(&mut self, oh: u64, added: Added, no: u64, offset: u64, len: u32) {
        let pos = RowPos {
            line: no,
            offset,
            len,
        };
        if added.run_start {
            self.run.active = true;
            self.run.order = oh;
            self.run.rows.clear();
            self.run.overflow = false;
            self.run.cand = if self.cand_bits.contains(oh) {
                self.cand_index.get(&oh).copied()
            } else {
                None
            };
            // while the first orders are all taken, an order not among them is new
            if self.run.cand.is_none() && self.tier1_left > 0 {
                self.tier1_left -= 1;
                self.add_cand(oh, no, vec![pos], false);
                return;
            }
        }
        if self.tier2_added < self.tier2_max {
            if self.run.rows.len() < SAMPLE_ROWS_CAP {
                self.run.rows.push(pos);
            } else {
                self.run.overflow = true;
            }
        }
        if let Some(ci) = self.run.cand {
            let c = &mut self.cands[ci];
            if c.rows.len() < SAMPLE_ROWS_CAP {
                c.rows.push(pos);
            } else {
                c.overflow = true;
            }
        } else if added.became_multi && self.tier2_added < self.tier2_max {
            // whether this run is its order's first is known at the end (then checked)
            self.tier2_added += 1;
            let first = self.run.rows.first().map_or(no, |r| r.line);
            let rows = self.run.rows.clone();
            self.add_cand(oh, first, rows, self.run.overflow);
        }
    }

    fn add_cand(&mut self, order: u64, first_line: u64, rows: Vec<RowPos>, overflow: bool) {
        self.run.cand = Some(self.cands.len());
        self.cand_index.insert(order, self.cands.len());
        self.cand_bits.insert(order);
        self.cands.push(Cand {
            order,
            first_line,
            rows,
            overflow,
        });
    }

    /// End of input.
    pub fn finish(&mut self, threads: usize) {
        self.agg.finish(threads, self.opts.large_order_items);
    }

    /// Complete a parsing-stage snapshot with the aggregate counters and issues.
    pub fn fill(&self, mut s: Snapshot) -> Snapshot {
        s.orders = self.agg.orders();
        s.multi_item_orders = self.agg.multi_runs;
        s.pairs = self.agg.run_pairs;
        s.products = self.agg.products();
        s.users = self.agg.users();
        for c in CODES {
            let n = self.acc[c as usize].count;
            if n > 0 {
                s.issues.push((c, n));
            }
        }
        s.issues.sort_by_key(|(c, _)| *c);
        s
    }
}
