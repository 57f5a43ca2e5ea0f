//! Exact aggregation over valid rows with 64-bit hashes of the keys.
//!
//! - orders: order hash → compact state (distinct identities, first user, flags)
//! - pairs: hash of (order, identity) — distinct items per order
//! - rows: hash of (order, identity, user, created_at) — duplicate rows
//! - products: identity hash → rows; users: user hash set
//!
//! Counting distinct values through 64-bit hashes is exact unless two different keys collide;
//! with n keys the chance of any collision is about n² / 2^65 (≈ 1 in 80,000 for 21 million).

use std::hash::{BuildHasher, Hasher};

use hashbrown::{HashMap, HashSet};

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

const SEED: u64 = 0x6c62_696d_706f_7274;

/// The 64-bit hash of a key.
#[inline]
pub fn hash_str(s: &str) -> u64 {
    foldhash::quality::FixedState::with_seed(SEED).hash_one(s.as_bytes())
}

/// The 64-bit hash of two hashes (order).
#[inline]
pub fn hash2(a: u64, b: u64) -> u64 {
    foldhash::quality::FixedState::with_seed(SEED ^ 0x55).hash_one((a, b))
}

/// The 64-bit hash of four hashes.
#[inline]
pub fn hash4(a: u64, b: u64, c: u64, d: u64) -> u64 {
    foldhash::quality::FixedState::with_seed(SEED ^ 0xAA).hash_one((a, b, c, d))
}

const F_MULTI_USER: u8 = 1;
const F_LARGE: u8 = 2;

#[derive(Debug, Clone, Copy, Default)]
struct OrderState {
    distinct: u32,
    user: u64,
    flags: u8,
}

/// What adding a row changed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Added {
    /// The order is new.
    pub new_order: bool,
    /// The identity is new for the order.
    pub new_item: bool,
    /// The order just reached 2 distinct items.
    pub became_multi: bool,
    /// Same order, identity, user and created_at as an earlier row.
    pub duplicate: bool,
    /// The order just got a second, different user id.
    pub multi_user: bool,
    /// The order just went over the large-order threshold.
    pub became_large: bool,
    /// Rows of this identity so far.
    pub product_rows: u64,
}

/// The aggregation state.
#[derive(Debug)]
pub struct Agg {
    orders: HashMap<u64, OrderState, PreHashed>,
    pairs: HashSet<u64, PreHashed>,
    rows: HashSet<u64, PreHashed>,
    products: HashMap<u64, u64, PreHashed>,
    users: HashSet<u64, PreHashed>,
    large_threshold: u64,
    /// Orders with ≥ 2 distinct items.
    pub multi_orders: u64,
    /// Sum of k(k−1)/2.
    pub pairs_count: u64,
}

impl Agg {
    /// Empty state; `est_rows` preallocates.
    pub fn new(est_rows: usize, large_threshold: u64) -> Self {
        let est = est_rows.min(1 << 26);
        Agg {
            orders: HashMap::with_capacity_and_hasher(est / 2, PreHashed),
            pairs: HashSet::with_capacity_and_hasher(est, PreHashed),
            rows: HashSet::with_capacity_and_hasher(est, PreHashed),
            products: HashMap::with_capacity_and_hasher(1024, PreHashed),
            users: HashSet::with_capacity_and_hasher(1024, PreHashed),
            large_threshold,
            multi_orders: 0,
            pairs_count: 0,
        }
    }

    /// Add a valid row given the hashes of its fields (`user` 0 = none, `ts` 0 = none).
    pub fn add(&mut self, order: u64, identity: u64, user: u64, ts: u64) -> Added {
        let mut out = Added::default();
        let st = self.orders.entry(order).or_insert_with(|| {
            out.new_order = true;
            OrderState::default()
        });
        if self.pairs.insert(hash2(order, identity)) {
            out.new_item = true;
            self.pairs_count += st.distinct as u64;
            st.distinct += 1;
            if st.distinct == 2 {
                self.multi_orders += 1;
                out.became_multi = true;
            }
            if st.distinct as u64 == self.large_threshold + 1 && st.flags & F_LARGE == 0 {
                st.flags |= F_LARGE;
                out.became_large = true;
            }
            self.rows.insert(hash4(order, identity, user, ts));
        } else if !self.rows.insert(hash4(order, identity, user, ts)) {
            out.duplicate = true;
        }
        if user != 0 {
            if st.user == 0 {
                st.user = user;
            } else if st.user != user && st.flags & F_MULTI_USER == 0 {
                st.flags |= F_MULTI_USER;
                out.multi_user = true;
            }
            self.users.insert(user);
        }
        let p = self.products.entry(identity).or_insert(0);
        *p += 1;
        out.product_rows = *p;
        out
    }

    /// Distinct orders.
    pub fn orders(&self) -> u64 {
        self.orders.len() as u64
    }

    /// Distinct products.
    pub fn products(&self) -> u64 {
        self.products.len() as u64
    }

    /// Distinct users.
    pub fn users(&self) -> u64 {
        self.users.len() as u64
    }

    /// Distinct items of an order (0 if unknown).
    pub fn items_of(&self, order: u64) -> u64 {
        self.orders.get(&order).map_or(0, |s| s.distinct as u64)
    }

    /// Every order's distinct item count.
    pub fn for_each_order_items(&self, mut f: impl FnMut(u64)) {
        for s in self.orders.values() {
            f(s.distinct as u64);
        }
    }
}
