//! Distinct keys counted without random access to a big table while streaming.
//!
//! A table of 9 million orders does not fit in any cache, so looking each order up as its rows
//! stream by costs a cache (and TLB) miss per order. Instead, keys are appended to one of
//! [`Partition::buckets`] chosen by their top bits — a sequential write — and each bucket is
//! deduplicated later ([`Partition::compact`]) with a scratch table small enough to stay in the
//! CPU's L2 cache. Compaction runs at the end and, to bound memory when keys repeat a lot,
//! whenever the stored records double; it keeps the first record of each key, in file order,
//! and lets the caller merge the later ones into it.
//!
//! While the run streams, live counts come from a [`Hll`] (HyperLogLog) sketch: within about
//! 2 % of the exact count, which the report gives once the run ends.

/// Records per storage chunk of a bucket (chunks avoid doubling a bucket's whole vector).
const CHUNK: usize = 512;

/// Records of one bucket, in the order they were added: full chunks, then the current one
/// (kept inline so that appending touches the bucket array and the chunk's tail only).
#[derive(Debug)]
struct Bucket<T> {
    cur: Vec<T>,
    full: Vec<Vec<T>>,
}

impl<T> Default for Bucket<T> {
    fn default() -> Self {
        Bucket {
            cur: Vec::new(),
            full: Vec::new(),
        }
    }
}

impl<T: Copy> Bucket<T> {
    #[inline]
    fn push(&mut self, x: T, pool: &mut Vec<Vec<T>>) {
        if self.cur.len() == self.cur.capacity() {
            self.next_chunk(pool);
        }
        self.cur.push(x);
        // the next push to this bucket comes ~a thousand pushes later: fetch the cache line it
        // will write now, so it is not a store miss then (buckets interleave too much for the
        // hardware prefetcher to follow)
        #[cfg(target_arch = "x86_64")]
        {
            let ahead = self.cur.as_ptr().wrapping_add(self.cur.len() + 1) as *const i8;
            // SAFETY: prefetching is a hint; it never faults, even for an address past the end.
            unsafe {
                std::arch::x86_64::_mm_prefetch(ahead, std::arch::x86_64::_MM_HINT_T0);
            }
        }
    }

    #[cold]
    fn next_chunk(&mut self, pool: &mut Vec<Vec<T>>) {
        let next = pool.pop().unwrap_or_else(|| Vec::with_capacity(CHUNK));
        let full = std::mem::replace(&mut self.cur, next);
        if !full.is_empty() {
            self.full.push(full);
        }
    }

    fn len(&self) -> usize {
        self.full.iter().map(Vec::len).sum::<usize>() + self.cur.len()
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.full.iter().flatten().chain(self.cur.iter())
    }

    /// Replace the records with `items`, reusing the chunks' memory; chunks left over go to
    /// `pool` (freeing them would have the next pushes fault fresh pages in again).
    fn refill(&mut self, items: &[T], pool: &mut Vec<Vec<T>>) {
        let mut spare = std::mem::take(&mut self.full);
        spare.push(std::mem::take(&mut self.cur));
        let mut pieces = items.chunks(CHUNK).peekable();
        while let Some(piece) = pieces.next() {
            let mut c = spare.pop().unwrap_or_default();
            c.clear();
            c.reserve_exact(CHUNK);
            c.extend_from_slice(piece);
            if pieces.peek().is_some() {
                self.full.push(c);
            } else {
                self.cur = c;
            }
        }
        for mut c in spare {
            if c.capacity() == CHUNK {
                c.clear();
                pool.push(c);
            }
        }
    }
}

/// A record kept in a [`Partition`]: it names its key.
pub trait Keyed: Copy {
    /// The record's 64-bit key (never 0).
    fn key(&self) -> u64;
}

impl Keyed for u64 {
    #[inline]
    fn key(&self) -> u64 {
        *self
    }
}

/// Scratch open-addressing table of (key tag, index into a compaction's output), reset for
/// each bucket: 8 bytes a slot, so it stays in L2. A new key (most of them) is placed without
/// touching the output; only a matching tag looks the output's record up.
#[derive(Debug, Default)]
pub struct Scratch {
    slots: Vec<(u32, u32)>,
    mask: usize,
}

const EMPTY: u32 = u32::MAX;

impl Scratch {
    fn reset(&mut self, n: usize) {
        let size = (n + n / 2 + 16).next_power_of_two();
        self.slots.clear();
        self.slots.resize(size, (0, EMPTY));
        self.mask = size - 1;
    }

    /// Index in `out` of the record with `x`'s key, or `None` after appending `x` to `out`.
    #[inline]
    fn find_or_push<T: Keyed>(&mut self, out: &mut Vec<T>, x: &T) -> Option<usize> {
        let key = x.key();
        // keys are hashes with the lowest bit set; the bits above it are well mixed (the top
        // ones chose the bucket, the middle ones the slot, the low ones make the tag)
        let tag = (key >> 1) as u32;
        let mut i = (key >> 24) as usize & self.mask;
        loop {
            let (t, v) = self.slots[i];
            if v == EMPTY {
                self.slots[i] = (tag, out.len() as u32);
                out.push(*x);
                return None;
            }
            if t == tag && out[v as usize].key() == key {
                return Some(v as usize);
            }
            i = (i + 1) & self.mask;
        }
    }
}

/// What a compaction does with records of the same key, and with each compacted bucket.
pub trait Compactor<T> {
    /// A later record of `first`'s key (called in the order they were added).
    fn merge(&mut self, first: &mut T, later: &T);
    /// A bucket after compaction: one record per key (still in the cache: the place to look
    /// at every record cheaply).
    fn bucket_done(&mut self, _records: &[T]) {}
}

/// Compact `buckets`; returns the records kept and the chunks freed.
fn compact_buckets<T: Keyed, C: Compactor<T>>(
    buckets: &mut [Bucket<T>],
    scratch: &mut Scratch,
    c: &mut C,
) -> (usize, Vec<Vec<T>>) {
    let mut out = Vec::new();
    let mut pool = Vec::new();
    let mut len = 0;
    for b in buckets {
        out.clear();
        scratch.reset(b.len());
        for r in b.iter() {
            if let Some(i) = scratch.find_or_push(&mut out, r) {
                c.merge(&mut out[i], r);
            }
        }
        c.bucket_done(&out);
        b.refill(&out, &mut pool);
        len += out.len();
    }
    (len, pool)
}

/// Keyed records partitioned into buckets by the key's top bits.
#[derive(Debug)]
pub struct Partition<T> {
    buckets: Vec<Bucket<T>>,
    /// Empty chunks for the buckets to grow into.
    pool: Vec<Vec<T>>,
    bits: u32,
    len: usize,
    /// Compact when `len` reaches this.
    compact_at: usize,
}

impl<T: Keyed> Partition<T> {
    /// `expected` distinct keys choose the bucket count (about 8,192 keys per bucket, so a
    /// compaction works in cache; at most 256, so the tails being appended to stay in L1/L2
    /// while rows stream — appending is the hot path, compaction runs once on both cores);
    /// the store compacts itself once it holds
    /// `min_compact` records (and again each time it doubles since).
    pub fn new(expected: usize, min_compact: usize) -> Self {
        let bits = (expected / 8192)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(4, 8);
        Partition {
            buckets: (0..1usize << bits).map(|_| Bucket::default()).collect(),
            pool: Vec::new(),
            bits,
            len: 0,
            compact_at: min_compact.max(1024),
        }
    }

    #[inline]
    fn bucket_of(&self, key: u64) -> usize {
        (key >> (64 - self.bits)) as usize
    }

    /// Append a record; returns whether it is time to [`Partition::compact`].
    #[inline]
    pub fn push(&mut self, x: T) -> bool {
        let b = self.bucket_of(x.key());
        self.buckets[b].push(x, &mut self.pool);
        self.len += 1;
        self.len >= self.compact_at
    }

    /// Records stored (after a compaction: distinct keys).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Keep one record per key, the first added, in order; `merge(first, later)` is called for
    /// every later record of the same key, in order.
    pub fn compact(&mut self, merge: impl FnMut(&mut T, &T)) {
        struct F<M>(M);
        impl<T, M: FnMut(&mut T, &T)> Compactor<T> for F<M> {
            fn merge(&mut self, first: &mut T, later: &T) {
                (self.0)(first, later)
            }
        }
        let (len, pool) =
            compact_buckets(&mut self.buckets, &mut Scratch::default(), &mut F(merge));
        self.pool.extend(pool);
        self.compacted(len);
    }

    fn compacted(&mut self, len: usize) {
        self.len = len;
        self.compact_at = self.compact_at.max(len.saturating_mul(2));
    }

    /// [`Partition::compact`] with one compactor per thread (each takes an equal share of the
    /// buckets; the first runs on this thread), each with its own scratch table.
    pub fn compact_with<C>(&mut self, workers: &mut [(Scratch, C)])
    where
        T: Send,
        C: Compactor<T> + Send,
    {
        let share = self.buckets.len().div_ceil(workers.len().max(1));
        let done: Vec<(usize, Vec<Vec<T>>)> = std::thread::scope(|scope| {
            let mut jobs = self.buckets.chunks_mut(share).zip(workers.iter_mut());
            let first = jobs.next();
            let rest: Vec<_> = jobs
                .map(|(buckets, (scratch, c))| {
                    scope.spawn(move || compact_buckets(buckets, scratch, c))
                })
                .collect();
            let mut done = vec![first.map_or((0, Vec::new()), |(buckets, (scratch, c))| {
                compact_buckets(buckets, scratch, c)
            })];
            // a worker can only stop by finishing (compaction does not panic on any input)
            done.extend(rest.into_iter().map(|h| h.join().unwrap_or_default()));
            done
        });
        let mut len = 0;
        for (n, pool) in done {
            len += n;
            self.pool.extend(pool);
        }
        self.compacted(len);
    }

    /// Every record, bucket by bucket.
    #[cfg(test)]
    fn iter(&self) -> impl Iterator<Item = &T> {
        self.buckets.iter().flat_map(Bucket::iter)
    }

    /// Call `f` with every record, bucket by bucket.
    pub fn for_each(&self, mut f: impl FnMut(&T)) {
        for b in &self.buckets {
            b.iter().for_each(&mut f);
        }
    }

    /// [`Partition::for_each`] over share `part` of `parts` equal shares of the buckets (for
    /// walking the records on several threads).
    pub fn for_each_in(&self, part: usize, parts: usize, mut f: impl FnMut(&T)) {
        let n = self.buckets.len();
        let parts = parts.max(1);
        for b in &self.buckets[n * part / parts..n * (part + 1) / parts] {
            b.iter().for_each(&mut f);
        }
    }

    /// The first record of `key` (a scan of its bucket).
    pub fn find(&self, key: u64) -> Option<&T> {
        self.buckets[self.bucket_of(key)]
            .iter()
            .find(|r| r.key() == key)
    }
}

/// HyperLogLog sketch with 4,096 registers (standard error ≈ 1.6 %), for live counts.
#[derive(Debug, Clone)]
pub struct Hll {
    regs: Box<[u8; 4096]>,
}

impl Default for Hll {
    fn default() -> Self {
        Hll {
            regs: Box::new([0; 4096]),
        }
    }
}

impl Hll {
    /// Add a hashed key.
    #[inline]
    pub fn add(&mut self, h: u64) {
        // register from the middle bits (the top bits pick buckets, the lowest is always 1)
        let i = ((h >> 40) & 4095) as usize;
        let rank = ((h << 24) | (1 << 23)).leading_zeros() as u8 + 1;
        if rank > self.regs[i] {
            self.regs[i] = rank;
        }
    }

    /// Estimated distinct keys added.
    pub fn estimate(&self) -> u64 {
        let m = 4096.0f64;
        let mut sum = 0.0;
        let mut zeros = 0u32;
        for &r in self.regs.iter() {
            sum += 1.0 / (1u64 << r) as f64;
            if r == 0 {
                zeros += 1;
            }
        }
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let est = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        est.round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::agg::hash_str;

    #[test]
    fn compaction_keeps_first_records_in_order_and_merges_later_ones() {
        #[derive(Clone, Copy, Debug, PartialEq)]
        struct R(u64, u64);
        impl Keyed for R {
            fn key(&self) -> u64 {
                self.0
            }
        }
        let mut p = Partition::new(100, 0);
        let keys: Vec<u64> = (0..5000u64).map(|i| hash_str(&i.to_string())).collect();
        for (n, &k) in keys.iter().enumerate() {
            p.push(R(k, n as u64));
        }
        for &k in keys.iter().step_by(10) {
            p.push(R(k, 1_000_000));
        }
        assert_eq!(p.len(), 5500);
        let mut merged = 0;
        p.compact(|first, later| {
            assert_eq!(later.1, 1_000_000);
            first.1 += later.1;
            merged += 1;
        });
        assert_eq!((p.len(), merged), (5000, 500));
        for (n, &k) in keys.iter().enumerate() {
            let want = n as u64 + if n % 10 == 0 { 1_000_000 } else { 0 };
            assert_eq!(p.find(k), Some(&R(k, want)));
        }
        assert_eq!(p.find(hash_str("absent")), None);
        // records of a bucket stay in the order they came
        let firsts: Vec<u64> = p.iter().map(|r| r.1 % 1_000_000).collect();
        let mut by_bucket = firsts.clone();
        by_bucket.sort_by_key(|&n| (keys[n as usize] >> (64 - p.bits), n));
        assert_eq!(firsts, by_bucket);
    }

    #[test]
    fn compaction_on_two_threads_equals_one() {
        struct Sum(u64);
        impl Compactor<u64> for Sum {
            fn merge(&mut self, _: &mut u64, _: &u64) {
                self.0 += 1;
            }
            fn bucket_done(&mut self, records: &[u64]) {
                self.0 += 1_000_000 * records.len() as u64;
            }
        }
        let keys: Vec<u64> = (0..50_000u64)
            .map(|i| hash_str(&(i % 7_000).to_string()))
            .collect();
        let mut results = Vec::new();
        for threads in [1, 2, 3] {
            let mut p: Partition<u64> = Partition::new(1 << 20, usize::MAX);
            for &k in &keys {
                p.push(k);
            }
            let mut w: Vec<(Scratch, Sum)> =
                (0..threads).map(|_| (Scratch::default(), Sum(0))).collect();
            p.compact_with(&mut w);
            let total: u64 = w.iter().map(|(_, s)| s.0).sum();
            let mut all: Vec<u64> = p.iter().copied().collect();
            all.sort_unstable();
            results.push((p.len(), total, all));
        }
        assert_eq!(results[0].0, 7_000);
        assert_eq!(results[0].1, 7_000 * 1_000_000 + 43_000);
        assert!(results.iter().all(|r| *r == results[0]));
    }

    #[test]
    fn compaction_triggers_when_records_double() {
        let mut p: Partition<u64> = Partition::new(10, 1024);
        let mut due = 0;
        for i in 0..3000u64 {
            if p.push(hash_str(&(i % 100).to_string())) {
                due += 1;
                p.compact(|_, _| {});
                assert_eq!(p.len(), 100);
            }
        }
        // at 1,024 records, then every 924 pushes (100 distinct stay)
        assert_eq!(due, 3);
    }

    #[test]
    fn hll_is_within_a_few_percent() {
        for n in [0u64, 1, 10, 1000, 100_000, 1_000_000] {
            let mut h = Hll::default();
            for i in 0..n {
                h.add(hash_str(&format!("order-{i}")));
                h.add(hash_str(&format!("order-{i}")));
            }
            let e = h.estimate() as f64;
            let err = (e - n as f64).abs() / (n as f64).max(1.0);
            assert!(err < 0.05, "n {n}: estimate {e}");
        }
    }
}
