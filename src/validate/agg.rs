//! Exact aggregation over valid rows, built for speed and bounded memory.
//!
//! Keys (order, identity, user, created_at) are reduced to 64-bit hashes. Rows of one order
//! usually sit together, so the work is done per *run* (consecutive valid rows of one order):
//! distinct items, duplicate rows and user ids are checked inside the run with a tiny local
//! set. A finished run becomes a 24-byte record (order, first offset and line, distinct items)
//! appended to a hash-partitioned store ([`super::buckets`]); users are appended the same way.
//! Nothing looks a 9-million-order table up while rows stream: at the end each bucket is
//! deduplicated in cache, which counts orders and users exactly and finds the orders that
//! show up again later ("scattered"). Their runs are re-read ([`super::resolve`]) to make
//! items, pairs, duplicates and user checks exact across runs. Products stay in a table
//! (rows per product feed the top-products list as rows stream).
//!
//! Counting distinct values through 64-bit hashes is exact unless two different keys collide;
//! with n keys the chance of any collision is about n² / 2^65 (≈ 1 in 80,000 for 21 million).

use std::hash::{BuildHasher, Hasher};

use hashbrown::{HashMap, HashSet};

use super::buckets::{Compactor, Hll, Keyed, Partition, Scratch};

/// Hasher for keys that are already 64-bit hashes.
#[derive(Debug, Default, Clone, Copy)]
pub struct PreHashed;

/// The [`Hasher`] of [`PreHashed`].
#[derive(Debug, Default, Clone, Copy)]
pub struct PreHasher(u64);

impl Hasher for PreHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl BuildHasher for PreHashed {
    type Hasher = PreHasher;
    fn build_hasher(&self) -> PreHasher {
        PreHasher(0)
    }
}

/// The 64-bit hash of a key (never 0): XXH3-64 (seed 0) of its UTF-8 bytes with the lowest bit
/// set. XXH3's output is frozen by its specification, so hashes stay comparable with ones
/// stored by earlier versions (the already-sent sets store plain XXH3-64: a stored `h` matches
/// a key hashed here when `h | 1` equals it).
#[inline]
pub fn hash_str(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes()) | 1
}

const DISTINCT_BITS: u32 = 24;
const DISTINCT_MAX: u64 = (1 << DISTINCT_BITS) - 1;

#[inline]
fn pack(off: u64, distinct: u64) -> u64 {
    (off << DISTINCT_BITS) | distinct.min(DISTINCT_MAX)
}

#[inline]
fn distinct_of(v: u64) -> u64 {
    v & DISTINCT_MAX
}

#[inline]
fn off_of(v: u64) -> u64 {
    v >> DISTINCT_BITS
}

/// What adding a row changed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Added {
    /// The row starts a run.
    pub run_start: bool,
    /// The run just reached 2 distinct items.
    pub became_multi: bool,
    /// Same order, identity, user and created_at as an earlier row of the run.
    pub duplicate: bool,
    /// The run just got a second, different user id.
    pub multi_user: bool,
}

/// Later runs of an order seen before: (byte offset, line) of each.
#[derive(Debug, Clone, Default)]
pub struct Scattered {
    /// Offset of the order's first run.
    pub first_off: u64,
    /// Line of the order's first run.
    pub first_line: u64,
    /// Start (offset, line) of every later run.
    pub runs: Vec<(u64, u64)>,
}

/// A user and the runs of rows it appears in (each run counted once): an upper bound of its
/// orders, exact when none of its orders is scattered (see [`Agg::dominant_users`]).
#[derive(Debug, Clone, Copy)]
pub struct UserRec {
    user: u64,
    runs: u64,
}

impl Keyed for UserRec {
    #[inline]
    fn key(&self) -> u64 {
        self.user
    }
}

/// One run of an order: (order hash, packed start offset and distinct items, packed start line
/// and rows). After a compaction, the record of an order's first run, with the distinct items
/// (exact once the scattered orders are re-read) and the rows of all its runs added up.
#[derive(Debug, Clone, Copy)]
pub struct RunRec {
    order: u64,
    packed: u64,
    line: u64,
}

/// Flag in the top bit of [`RunRec`]'s line word: the order has later runs.
const SCATTERED: u64 = 1 << 63;
/// Bits of the line word holding the line (up to 2^40 − 1 lines).
const LINE_BITS: u32 = 40;
const LINE_MASK: u64 = (1 << LINE_BITS) - 1;
/// Most rows held in the line word (bits 40–62); an order with more keeps the excess in
/// [`Agg`]'s `extra_rows`.
const ROWS_MAX: u64 = (1 << 23) - 1;

#[inline]
fn pack_line(line: u64, rows: u64) -> u64 {
    (line & LINE_MASK) | (rows.min(ROWS_MAX) << LINE_BITS)
}

impl Keyed for RunRec {
    #[inline]
    fn key(&self) -> u64 {
        self.order
    }
}

impl RunRec {
    /// Byte offset of the run.
    pub fn offset(&self) -> u64 {
        off_of(self.packed)
    }

    /// Line of the run.
    pub fn line(&self) -> u64 {
        self.line & LINE_MASK
    }

    /// Rows counted for the order in this record (at most 2^23 − 1; see [`Agg::rows_of`]).
    pub fn rows(&self) -> u64 {
        (self.line >> LINE_BITS) & ROWS_MAX
    }

    /// The order's hash.
    pub fn order(&self) -> u64 {
        self.order
    }

    /// The order has later runs (set by a compaction).
    pub fn scattered(&self) -> bool {
        self.line & SCATTERED != 0
    }

    /// Distinct items counted for the order.
    pub fn distinct(&self) -> u64 {
        distinct_of(self.packed)
    }
}

/// A product: (identity hash, rows, where its first row is: packed offset and length).
#[derive(Debug, Clone, Copy)]
pub struct ProductRec {
    identity: u64,
    rows: u64,
    pos: u64,
}

impl Keyed for ProductRec {
    #[inline]
    fn key(&self) -> u64 {
        self.identity
    }
}

const LEN_BITS: u32 = 24;

impl ProductRec {
    /// The identity's hash.
    pub fn identity(&self) -> u64 {
        self.identity
    }

    /// Rows of the product.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Byte offset of the product's first row.
    pub fn offset(&self) -> u64 {
        self.pos >> LEN_BITS
    }

    /// Length of the product's first row (at most 16 MiB − 1).
    pub fn len(&self) -> u32 {
        (self.pos & ((1 << LEN_BITS) - 1)) as u32
    }
}

#[derive(Debug, Default)]
struct Run {
    active: bool,
    order: u64,
    off: u64,
    line: u64,
    distinct: u64,
    /// Rows of the run.
    nrows: u64,
    /// (identity, user, created_at) hashes of the run's rows
    rows: Vec<(u64, u64, u64)>,
    big_items: Option<HashSet<u64, PreHashed>>,
    big_rows: Option<HashSet<(u64, u64, u64)>>,
    user: u64,
    multi_user: bool,
    /// Users of the run besides `user` (each counted once per run).
    others: Vec<u64>,
}

const SMALL_RUN: usize = 48;

/// Bytes of stored records before the first compaction of a partition (memory stays bounded
/// when keys repeat; files whose keys do not repeat are compacted once, at the end).
const COMPACT_BYTES: usize = 160 << 20;
/// Product records (one per row until compacted) kept before a compaction: 24 MiB.
const PRODUCT_RECORDS: usize = 1 << 20;

/// How many distinct items orders have: what the report's distribution, pair and order-size
/// counts come from.
#[derive(Debug, Clone)]
pub struct OrderDist {
    /// Orders by distinct items, up to 1,024.
    pub hist: Vec<u64>,
    /// Distinct items of orders with more than 1,024.
    pub big: Vec<u64>,
    /// Orders counted.
    pub orders: u64,
    /// Sum of distinct items.
    pub sum: u64,
    /// Most distinct items.
    pub max: u64,
    /// Orders with one item.
    pub single: u64,
    /// Orders with ≥ 2 items.
    pub multi: u64,
    /// Sum of k(k−1)/2.
    pub pairs: u64,
    /// Orders over the large-order threshold.
    pub large: u64,
}

impl Default for OrderDist {
    fn default() -> Self {
        OrderDist {
            hist: vec![0; 1025],
            big: Vec::new(),
            orders: 0,
            sum: 0,
            max: 0,
            single: 0,
            multi: 0,
            pairs: 0,
            large: 0,
        }
    }
}

impl OrderDist {
    /// Count an order with `k` distinct items.
    #[inline]
    pub fn add(&mut self, k: u64, large_threshold: u64) {
        self.orders += 1;
        self.sum += k;
        self.max = self.max.max(k);
        if k == 1 {
            self.single += 1;
        } else if k >= 2 {
            self.multi += 1;
            self.pairs += k * (k - 1) / 2;
        }
        if k > large_threshold {
            self.large += 1;
        }
        match self.hist.get_mut(k as usize) {
            Some(n) => *n += 1,
            None => self.big.push(k),
        }
    }

    fn merge(&mut self, o: &OrderDist) {
        for (a, b) in self.hist.iter_mut().zip(&o.hist) {
            *a += b;
        }
        self.big.extend_from_slice(&o.big);
        self.orders += o.orders;
        self.sum += o.sum;
        self.max = self.max.max(o.max);
        self.single += o.single;
        self.multi += o.multi;
        self.pairs += o.pairs;
        self.large += o.large;
    }

    /// Nearest-rank percentile `p` of distinct items per order.
    pub fn percentile(&self, p: u64) -> u64 {
        if self.orders == 0 {
            return 0;
        }
        let rank = (self.orders * p).div_ceil(100).max(1);
        let mut acc = 0u64;
        for (k, &n) in self.hist.iter().enumerate() {
            acc += n;
            if acc >= rank {
                return k as u64;
            }
        }
        let mut big = self.big.clone();
        big.sort_unstable();
        let i = (rank - acc - 1) as usize;
        big.get(i).copied().unwrap_or(self.max)
    }
}

/// Compaction of order runs: sums the items of an order's runs (exact once the scattered
/// orders are re-read), flags and lists scattered orders, and at the last compaction counts
/// the other orders into a distribution.
#[derive(Debug, Default)]
struct RunCompactor {
    scattered: HashMap<u64, Scattered, PreHashed>,
    /// Rows of orders beyond what a record holds.
    extra_rows: HashMap<u64, u64, PreHashed>,
    /// The compaction at the end of input.
    last: bool,
    large_threshold: u64,
    dist: OrderDist,
    large: Vec<(u64, u64, u64)>,
}

impl Compactor<RunRec> for RunCompactor {
    fn merge(&mut self, first: &mut RunRec, later: &RunRec) {
        let distinct = (distinct_of(first.packed) + distinct_of(later.packed)).min(DISTINCT_MAX);
        first.packed = pack(off_of(first.packed), distinct);
        let rows = first.rows() + later.rows();
        if rows > ROWS_MAX {
            *self.extra_rows.entry(first.order).or_default() += rows - ROWS_MAX;
        }
        first.line = pack_line(first.line(), rows) | SCATTERED;
        self.scattered
            .entry(first.order)
            .or_insert_with(|| Scattered {
                first_off: off_of(first.packed),
                first_line: first.line(),
                runs: Vec::new(),
            })
            .runs
            .push((off_of(later.packed), later.line()));
    }

    fn bucket_done(&mut self, records: &[RunRec]) {
        if !self.last {
            return;
        }
        for r in records {
            if r.scattered() {
                continue;
            }
            let k = r.distinct();
            self.dist.add(k, self.large_threshold);
            if k > self.large_threshold {
                self.large.push((r.line(), r.offset(), r.order));
            }
        }
    }
}

/// A valid row as the aggregation stage needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowRec {
    /// Hash of the order id.
    pub oh: u64,
    /// Hash of the identity.
    pub ih: u64,
    /// Hash of the user id (0 = none).
    pub uh: u64,
    /// Hash of created_at (0 = none).
    pub th: u64,
    /// 1-based line number of the record.
    pub line: u64,
    /// 0-based byte offset of the record.
    pub offset: u64,
    /// Start of the record's text in the batch's block, or in its arena.
    pub start: u32,
    /// Length of the record's text (saturated).
    pub len: u32,
    /// Whether the text is in the arena (records not cut straight from the block).
    pub in_arena: bool,
}

/// The aggregation state.
#[derive(Debug)]
pub struct Agg {
    runs: Partition<RunRec>,
    users: Partition<UserRec>,
    products: Partition<ProductRec>,
    live_products: Hll,
    run: Run,
    /// Orders whose rows are not all together (known after [`Agg::finish`]).
    pub scattered: HashMap<u64, Scattered, PreHashed>,
    /// Exact distinct items of scattered orders ([`Agg::fix_order`]).
    fixed: HashMap<u64, u64, PreHashed>,
    /// Rows of orders beyond what their record holds (orders of more than 2^23 − 1 rows).
    extra_rows: HashMap<u64, u64, PreHashed>,
    live_orders: Hll,
    live_users: Hll,
    /// Runs with ≥ 2 distinct items (live; the report counts orders exactly at the end).
    pub multi_runs: u64,
    /// Sum of k(k−1)/2 over runs (live; exact at the end for orders).
    pub run_pairs: u64,
    finished: bool,
    /// Distinct items per order: every order after [`Agg::finish`] and [`Agg::fix_order`].
    pub dist: OrderDist,
    large: Vec<(u64, u64, u64)>,
    large_threshold: u64,
}

impl Agg {
    /// Empty state sized for about `est_orders` orders.
    pub fn new(est_orders: usize) -> Self {
        let est = est_orders.min(1 << 28);
        Agg {
            runs: Partition::new(est, (COMPACT_BYTES / 24).max(est)),
            users: Partition::new(est / 4, (COMPACT_BYTES / 4 / 16).max(est / 4)),
            products: Partition::new(1 << 16, PRODUCT_RECORDS),
            live_products: Hll::default(),
            run: Run::default(),
            scattered: HashMap::with_hasher(PreHashed),
            fixed: HashMap::with_hasher(PreHashed),
            extra_rows: HashMap::with_hasher(PreHashed),
            live_orders: Hll::default(),
            live_users: Hll::default(),
            multi_runs: 0,
            run_pairs: 0,
            finished: false,
            dist: OrderDist::default(),
            large: Vec::new(),
            large_threshold: u64::MAX,
        }
    }

    fn end_run(&mut self) {
        if !self.run.active {
            return;
        }
        let r = &mut self.run;
        if r.nrows > ROWS_MAX {
            *self.extra_rows.entry(r.order).or_default() += r.nrows - ROWS_MAX;
        }
        let rec = RunRec {
            order: r.order,
            packed: pack(r.off, r.distinct),
            line: pack_line(r.line, r.nrows),
        };
        self.live_orders.add(r.order);
        r.active = false;
        r.rows.clear();
        r.big_items = None;
        r.big_rows = None;
        if self.runs.push(rec) {
            self.compact_runs();
        }
    }

    #[cold]
    fn compact_runs(&mut self) {
        let mut w = [(Scratch::default(), RunCompactor::default())];
        self.runs.compact_with(&mut w);
        let [(_, c)] = w;
        self.absorb(c);
    }

    /// Take a compactor's scattered orders (runs found by an earlier compaction come first).
    fn absorb(&mut self, c: RunCompactor) {
        for (order, sc) in c.scattered {
            match self.scattered.entry(order) {
                hashbrown::hash_map::Entry::Occupied(mut e) => e.get_mut().runs.extend(sc.runs),
                hashbrown::hash_map::Entry::Vacant(e) => {
                    e.insert(sc);
                }
            }
        }
        for (order, n) in c.extra_rows {
            *self.extra_rows.entry(order).or_default() += n;
        }
        self.dist.merge(&c.dist);
        self.large.extend(c.large);
    }

    #[cold]
    fn compact_users(&mut self) {
        self.users.compact(|first, later| first.runs += later.runs);
    }

    #[inline]
    fn add_product(&mut self, identity: u64, off: u64, len: u32) {
        self.live_products.add(identity);
        let rec = ProductRec {
            identity,
            rows: 1,
            pos: (off << LEN_BITS) | u64::from(len).min((1 << LEN_BITS) - 1),
        };
        if self.products.push(rec) {
            self.compact_products();
        }
    }

    #[cold]
    fn compact_products(&mut self) {
        self.products
            .compact(|first, later| first.rows += later.rows);
    }

    #[inline]
    fn add_user(&mut self, user: u64) {
        self.live_users.add(user);
        if self.users.push(UserRec { user, runs: 1 }) {
            self.compact_users();
        }
    }

    /// Add a valid row (hashes of its fields — user / created_at 0 = none — and position).
    #[inline]
    pub fn add(&mut self, row: &RowRec) -> Added {
        let (order, identity, user, ts) = (row.oh, row.ih, row.uh, row.th);
        let (off, line) = (row.offset, row.line);
        let mut out = Added::default();
        self.add_product(identity, off, row.len);
        if !self.run.active || self.run.order != order {
            self.end_run();
            out.run_start = true;
            let r = &mut self.run;
            r.active = true;
            r.order = order;
            r.off = off;
            r.line = line;
            r.distinct = 0;
            r.nrows = 0;
            r.user = 0;
            r.multi_user = false;
            r.others.clear();
        }
        let r = &mut self.run;
        r.nrows += 1;
        let row = (identity, user, ts);
        let (new_item, dup) = if r.big_items.is_none() && r.rows.len() < SMALL_RUN {
            let mut seen_item = false;
            let mut seen_row = false;
            for x in &r.rows {
                if x.0 == identity {
                    seen_item = true;
                    if *x == row {
                        seen_row = true;
                        break;
                    }
                }
            }
            r.rows.push(row);
            (!seen_item, seen_row)
        } else {
            if r.big_items.is_none() {
                let mut items = HashSet::with_hasher(PreHashed);
                let mut rows = HashSet::new();
                for x in &r.rows {
                    items.insert(x.0);
                    rows.insert(*x);
                }
                r.big_items = Some(items);
                r.big_rows = Some(rows);
            }
            let new_item = r.big_items.as_mut().is_some_and(|s| s.insert(identity));
            let dup = !r.big_rows.as_mut().is_some_and(|s| s.insert(row));
            (new_item, dup)
        };
        out.duplicate = dup;
        if new_item {
            r.distinct += 1;
            self.run_pairs += r.distinct - 1;
            if r.distinct == 2 {
                self.multi_runs += 1;
                out.became_multi = true;
            }
        }
        if user != 0 {
            if r.user == 0 {
                r.user = user;
                self.add_user(user);
            } else if r.user != user && !r.others.contains(&user) {
                if !r.multi_user {
                    r.multi_user = true;
                    out.multi_user = true;
                }
                r.others.push(user);
                self.add_user(user);
            }
        }
        out
    }

    /// Close the current run (end of input) and count orders and users exactly, on `threads`
    /// threads: after this, [`Agg::scattered`] lists every order whose rows are not all
    /// together, and [`Agg::dist`] holds the distinct items of every other order; orders with
    /// more than `large` items among those are in [`Agg::large_runs`].
    pub fn finish(&mut self, threads: usize, large: u64) {
        self.end_run();
        if self.finished {
            return;
        }
        self.finished = true;
        self.large_threshold = large;
        let mut w: Vec<(Scratch, RunCompactor)> = (0..threads.max(1))
            .map(|_| {
                let c = RunCompactor {
                    last: true,
                    large_threshold: large,
                    ..Default::default()
                };
                (Scratch::default(), c)
            })
            .collect();
        self.runs.compact_with(&mut w);
        for (_, c) in w {
            self.absorb(c);
        }
        struct Dedupe;
        impl Compactor<UserRec> for Dedupe {
            fn merge(&mut self, first: &mut UserRec, later: &UserRec) {
                first.runs += later.runs;
            }
        }
        let mut w: Vec<(Scratch, Dedupe)> = (0..threads.max(1))
            .map(|_| (Scratch::default(), Dedupe))
            .collect();
        self.users.compact_with(&mut w);
        self.compact_products();
    }

    /// [`Agg::fix_order`] with the runs' items added up, unless the order was fixed already.
    pub fn fix_order_if_unknown(&mut self, order: u64) {
        if !self.fixed.contains_key(&order) {
            let k = self.items_of(order);
            self.fix_order(order, k);
        }
    }

    /// Orders over the large-order threshold whose rows are all together: (line, offset,
    /// order) of their run, in no particular order (after [`Agg::finish`]).
    pub fn large_runs(&self) -> &[(u64, u64, u64)] {
        &self.large
    }

    /// Set an order's exact distinct item count (after re-reading a scattered order) and
    /// count it in [`Agg::dist`].
    pub fn fix_order(&mut self, order: u64, distinct: u64) {
        if self.fixed.insert(order, distinct).is_none() {
            self.dist.add(distinct, self.large_threshold);
        }
    }

    /// Distinct orders (exact after [`Agg::finish`]; an estimate while streaming).
    pub fn orders(&self) -> u64 {
        if self.finished {
            self.runs.len() as u64
        } else {
            self.live_orders.estimate()
        }
    }

    /// Distinct products (exact after [`Agg::finish`]; an estimate while streaming).
    pub fn products(&self) -> u64 {
        if self.finished {
            self.products.len() as u64
        } else {
            self.live_products.estimate()
        }
    }

    /// Products with the most rows (after [`Agg::finish`]): the `n` first by rows, and every
    /// product tied with the last of them (at most `n + max_ties`), in no particular order.
    pub fn top_products(&self, n: usize, max_ties: usize) -> Vec<ProductRec> {
        let mut all: Vec<ProductRec> = Vec::with_capacity(self.products.len());
        self.products.for_each(|r| all.push(*r));
        if all.len() > n && n > 0 {
            all.select_nth_unstable_by(n - 1, |a, b| b.rows.cmp(&a.rows));
            let last = all[n - 1].rows;
            let (head, tail) = all.split_at_mut(n);
            let mut ties: Vec<ProductRec> =
                tail.iter().filter(|r| r.rows == last).copied().collect();
            ties.sort_unstable_by_key(|r| r.offset());
            ties.truncate(max_ties);
            let mut out = head.to_vec();
            out.extend(ties);
            out
        } else {
            all.truncate(n);
            all
        }
    }

    /// Users that may be on at least `min_orders` orders (after [`Agg::finish`]): every user
    /// whose runs reach it (runs are at least its orders, so none is missed), most runs
    /// first, at most `max`: (user hash, runs).
    pub fn dominant_users(&self, min_orders: u64, max: usize) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        self.users.for_each(|u| {
            if u.runs >= min_orders {
                out.push((u.user, u.runs));
            }
        });
        out.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(max);
        out
    }

    /// Distinct users (exact after [`Agg::finish`]; an estimate while streaming).
    pub fn users(&self) -> u64 {
        if self.finished {
            self.users.len() as u64
        } else {
            self.live_users.estimate()
        }
    }

    /// Distinct items of an order (0 if unknown; after [`Agg::finish`]).
    pub fn items_of(&self, order: u64) -> u64 {
        if let Some(&n) = self.fixed.get(&order) {
            return n;
        }
        self.runs.find(order).map_or(0, RunRec::distinct)
    }

    /// Valid rows of the order a record (from [`Agg::for_each_order`]) stands for, all its
    /// runs added up (after [`Agg::finish`]).
    pub fn rows_of(&self, rec: &RunRec) -> u64 {
        if self.extra_rows.is_empty() {
            return rec.rows();
        }
        rec.rows() + self.extra_rows.get(&rec.order).copied().unwrap_or(0)
    }

    /// Call `f` with the record of every order (its first run), bucket by bucket: in
    /// increasing order of the hash's top bits (after [`Agg::finish`]).
    pub fn for_each_order(&self, f: impl FnMut(&RunRec)) {
        self.runs.for_each(f);
    }

    /// [`Agg::for_each_order`] over share `part` of `parts` (for walking on several threads).
    pub fn for_each_order_in(&self, part: usize, parts: usize, f: impl FnMut(&RunRec)) {
        self.runs.for_each_in(part, parts, f);
    }

    /// Call `f` with every product record, bucket by bucket: in increasing order of the
    /// hash's top bits (after [`Agg::finish`]).
    pub fn for_each_product(&self, f: impl FnMut(&ProductRec)) {
        self.products.for_each(f);
    }

    /// The record of an order's first run (after [`Agg::finish`]).
    pub fn first_run(&self, order: u64) -> Option<RunRec> {
        self.runs.find(order).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row record for tests.
    fn rec(oh: u64, ih: u64, uh: u64, offset: u64, line: u64) -> RowRec {
        RowRec {
            oh,
            ih,
            uh,
            th: 0,
            line,
            offset,
            start: 0,
            len: 5,
            in_arena: false,
        }
    }

    #[test]
    fn runs_count_items_duplicates_and_users() {
        let mut a = Agg::new(10);
        let h = |s: &str| hash_str(s);
        let x = a.add(&rec(h("o1"), h("a"), h("u1"), 0, 1));
        assert!(x.run_start && !x.became_multi);
        let x = a.add(&rec(h("o1"), h("a"), h("u1"), 10, 2));
        assert!(x.duplicate && !x.run_start);
        let x = a.add(&rec(h("o1"), h("b"), h("u2"), 20, 3));
        assert!(x.became_multi && x.multi_user && !x.duplicate);
        let x = a.add(&rec(h("o2"), h("a"), 0, 30, 4));
        assert!(x.run_start);
        let x = a.add(&rec(h("o1"), h("c"), 0, 40, 5));
        assert!(x.run_start && !x.became_multi);
        // live counts while streaming
        assert_eq!((a.multi_runs, a.run_pairs), (1, 1));
        a.finish(1, 100);
        assert_eq!(a.orders(), 2);
        // the runs' items added up (o1: a, b + c) until the re-read fixes it
        assert_eq!(a.items_of(h("o1")), 3);
        let sc = &a.scattered[&h("o1")];
        assert_eq!(
            (sc.first_off, sc.first_line, sc.runs.clone()),
            (0, 1, vec![(40, 5)])
        );
        assert!(!a.scattered.contains_key(&h("o2")));
        let first = a.first_run(h("o2")).unwrap();
        assert_eq!((first.offset(), first.line(), first.distinct()), (30, 4, 1));
        assert_eq!(a.users(), 2);
        assert_eq!(a.products(), 3);
        // o2 is counted at the end, o1 once re-read
        assert_eq!((a.dist.orders, a.dist.single, a.dist.multi), (1, 1, 0));
        a.fix_order(h("o1"), 3);
        assert_eq!(a.items_of(h("o1")), 3);
        assert_eq!((a.dist.orders, a.dist.multi, a.dist.pairs), (2, 1, 3));
        // fixing twice counts once
        a.fix_order_if_unknown(h("o1"));
        assert_eq!(a.dist.orders, 2);
    }

    #[test]
    fn compactions_while_streaming_keep_counts_exact() {
        // tiny thresholds: many compactions, orders coming back after them
        let mut a = Agg::new(10);
        a.runs = Partition::new(10, 0);
        a.users = Partition::new(10, 0);
        let h = |s: String| hash_str(&s);
        let mut line = 0;
        for round in 0..3u64 {
            for o in 0..2000u64 {
                line += 1;
                a.add(&rec(
                    h(format!("o{o}")),
                    h(format!("p{round}")),
                    h(format!("u{}", o % 300)),
                    line * 10,
                    line,
                ));
            }
        }
        a.finish(2, 100);
        assert_eq!(a.orders(), 2000);
        assert_eq!(a.users(), 300);
        assert_eq!(a.scattered.len(), 2000);
        let sc = &a.scattered[&h("o7".into())];
        assert_eq!((sc.first_off, sc.first_line), (80, 8));
        assert_eq!(sc.runs, vec![(20080, 2008), (40080, 4008)]);
        assert_eq!(a.items_of(h("o7".into())), 3);
    }
}
