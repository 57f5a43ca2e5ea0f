//! Sets of 64-bit hashes the validator looks a file's orders and identities up in, once the
//! file has been read: what was already sent to a tracker ([`SentLookup`]) and what the
//! tracker's catalog holds ([`CatalogIndex`]).
//!
//! Both are built from sorted hashes with a radix index on the top bits
//! ([`HashIndex`]), so a look-up touches about one cache line; the validator looks keys up
//! in increasing order of their top bits (bucket by bucket), so consecutive look-ups land
//! next to each other.
//!
//! Hashes are the validator's own ([`key_hash`]: XXH3-64 with the lowest bit set). Stored
//! plain XXH3-64 hashes are compared with the lowest bit set ([`HashIndex::from_hashes`]
//! sets it), which keeps their order and doubles a negligible collision rate.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

/// A value loaded on another thread while the file is read: the validator waits for it only
/// once the file has been read (a tracker's sent orders take a moment to load, and the pass
/// over the file does not need them).
#[derive(Debug, Clone)]
pub struct Loading<T>(Arc<OnceLock<Result<Arc<T>, String>>>);

impl<T: Send + Sync + 'static> Loading<T> {
    /// A value already there.
    pub fn ready(v: T) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(Ok(Arc::new(v)));
        Loading(Arc::new(cell))
    }

    /// A value that could not be loaded, and why.
    pub fn failed(why: String) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(Err(why));
        Loading(Arc::new(cell))
    }

    /// Start loading on a new thread (a loader that panics or a thread that cannot start
    /// gives an error, never a wait without end).
    pub fn spawn(load: impl FnOnce() -> Result<T, String> + Send + 'static) -> Self {
        let cell: Arc<OnceLock<Result<Arc<T>, String>>> = Arc::new(OnceLock::new());
        let c = Arc::clone(&cell);
        let started = std::thread::Builder::new()
            .name("lbimport-load".into())
            .spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(load))
                    .unwrap_or_else(|_| Err("loading stopped unexpectedly".into()));
                let _ = c.set(r.map(Arc::new));
            });
        if let Err(e) = started {
            let _ = cell.set(Err(format!("cannot start loading: {e}")));
        }
        Loading(cell)
    }

    /// The value (waiting for it if it is still loading), or why it could not be loaded.
    pub fn wait(&self) -> Result<Arc<T>, String> {
        self.0.wait().clone()
    }
}

/// The hash the validator gives an order id or identity (XXH3-64 of its UTF-8 bytes, lowest bit
/// set, so never 0).
#[inline]
pub fn key_hash(s: &str) -> u64 {
    super::agg::hash_str(s)
}

/// Sorted distinct hashes with a radix index on their top bits: 8 bytes per hash plus about
/// half a byte of index.
#[derive(Debug, Clone, Default)]
pub struct HashIndex {
    hashes: Vec<u64>,
    index: Vec<u32>,
    shift: u32,
}

impl HashIndex {
    /// Index `hashes` (any order, duplicates allowed; the lowest bit of each is set).
    pub fn from_hashes(mut hashes: Vec<u64>) -> Self {
        let sorted = hashes.windows(2).all(|w| w[0] <= w[1]);
        for h in &mut hashes {
            *h |= 1;
        }
        if !sorted {
            hashes.sort_unstable();
        }
        hashes.dedup();
        if hashes.capacity() > hashes.len() + hashes.len() / 16 {
            hashes.shrink_to_fit();
        }
        // about 8 hashes per index slot
        let total = hashes.len();
        let bits = (usize::BITS - (total / 8).max(1).leading_zeros()).clamp(1, 28);
        let shift = 64 - bits;
        let mut index = vec![0u32; (1usize << bits) + 1];
        let mut j = 0usize;
        for (b, slot) in index.iter_mut().enumerate() {
            while j < total && ((hashes[j] >> shift) as usize) < b {
                j += 1;
            }
            *slot = u32::try_from(j).unwrap_or(u32::MAX);
        }
        HashIndex {
            hashes,
            index,
            shift,
        }
    }

    /// Whether `h` (lowest bit set, as [`key_hash`] gives) is in the set.
    #[inline]
    pub fn contains(&self, h: u64) -> bool {
        self.position(h).is_some()
    }

    /// Where `h` is among the sorted hashes.
    #[inline]
    pub fn position(&self, h: u64) -> Option<usize> {
        if self.hashes.is_empty() {
            return None;
        }
        let h = h | 1;
        let b = (h >> self.shift) as usize;
        let lo = self.index[b] as usize;
        let hi = (self.index[b + 1] as usize).max(lo);
        let s = &self.hashes[lo..hi];
        s.binary_search(&h).ok().map(|i| lo + i)
    }

    /// The hashes, sorted.
    pub fn hashes(&self) -> &[u64] {
        &self.hashes
    }

    /// Number of hashes.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.hashes.capacity() * 8 + self.index.capacity() * 4
    }
}

/// Everything sent to a tracker, one set per earlier upload (named by its key), for counting a
/// file's orders that were already sent and by which uploads. A file order is looked up in
/// every set: uploads are few, and each look-up touches about one cache line.
#[derive(Debug, Clone, Default)]
pub struct SentLookup {
    keys: Vec<String>,
    sets: Vec<HashIndex>,
}

impl SentLookup {
    /// Sets (each sorted or not, plain XXH3-64 order hashes), given with their keys.
    pub fn new(sets: Vec<(String, Vec<u64>)>) -> Self {
        let mut out = SentLookup::default();
        for (k, hs) in sets {
            out.push(k, hs);
        }
        out
    }

    /// Add one set (loaded one at a time, so only one set is ever held twice).
    pub fn push(&mut self, key: String, hashes: Vec<u64>) {
        self.keys.push(key);
        self.sets.push(HashIndex::from_hashes(hashes));
    }

    /// Keys of the sets, in the order [`SentLookup::sets_of`] numbers them.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Distinct hashes of each set.
    pub fn set_counts(&self) -> Vec<u64> {
        self.sets.iter().map(|s| s.len() as u64).collect()
    }

    /// Number of sets.
    pub fn sets(&self) -> usize {
        self.sets.len()
    }

    /// Number of stored hashes, all sets added up.
    pub fn len(&self) -> usize {
        self.sets.iter().map(HashIndex::len).sum()
    }

    /// Whether nothing was ever recorded.
    pub fn is_empty(&self) -> bool {
        self.sets.iter().all(HashIndex::is_empty)
    }

    /// Call `f` with the number of every set holding `h` (an order hash, plain XXH3-64 or as
    /// [`key_hash`] gives); returns whether any does.
    #[inline]
    pub fn sets_of(&self, h: u64, mut f: impl FnMut(usize)) -> bool {
        let mut any = false;
        for (i, s) in self.sets.iter().enumerate() {
            if s.contains(h) {
                f(i);
                any = true;
            }
        }
        any
    }

    /// Whether `h` was sent by any upload.
    #[inline]
    pub fn contains(&self, h: u64) -> bool {
        self.sets.iter().any(|s| s.contains(h))
    }

    /// Position of `h` in set `set`, if it holds it (for marking which stored orders were
    /// seen).
    #[inline]
    pub fn position_in(&self, set: usize, h: u64) -> Option<usize> {
        self.sets.get(set)?.position(h)
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.sets.iter().map(HashIndex::heap_bytes).sum()
    }
}

/// How many of a file's orders were already sent, counted against a [`SentLookup`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overlap {
    /// Distinct orders of the file already sent (by any earlier upload).
    pub orders: u64,
    /// Rows of those orders.
    pub rows: u64,
    /// Per earlier upload (set key, distinct orders of the file it sent), in key order,
    /// only uploads with at least one.
    pub by_set: Vec<(String, u64)>,
    /// First rows of already-sent orders: (line, order id).
    pub examples: Vec<(u64, String)>,
}

/// A tracker's catalog as the validator needs it: hashes of every object's identity, and of
/// the forms the diagnoses compare unknown identities with. About 40 bytes per object.
#[derive(Debug, Clone, Default)]
pub struct CatalogIndex {
    /// Where the catalog came from (an export URL or an imported file).
    pub source: String,
    /// When it was fetched or imported (seconds since the Unix epoch), if known.
    pub fetched_at: Option<u64>,
    /// Objects in the catalog.
    pub objects: u64,
    /// Identities.
    pub identities: HashIndex,
    /// Identities in lower case.
    pub lowercase: HashIndex,
    /// `web_url` attributes.
    pub web_urls: HashIndex,
    /// `web_url` attributes without scheme and host (`/p/123`), for those that have them.
    pub web_paths: HashIndex,
}

impl CatalogIndex {
    /// Build from (identity, web_url) pairs.
    pub fn build<'a>(
        source: &str,
        fetched_at: Option<u64>,
        objects: impl Iterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Self {
        let (mut ids, mut lower, mut urls, mut paths) = (vec![], vec![], vec![], vec![]);
        let mut n = 0u64;
        for (id, web) in objects {
            n += 1;
            ids.push(key_hash(id));
            lower.push(key_hash(&id.to_lowercase()));
            if let Some(w) = web.filter(|w| !w.is_empty()) {
                urls.push(key_hash(w));
                if let Some(p) = strip_host(w) {
                    paths.push(key_hash(p));
                }
            }
        }
        CatalogIndex {
            source: source.to_string(),
            fetched_at,
            objects: n,
            identities: HashIndex::from_hashes(ids),
            lowercase: HashIndex::from_hashes(lower),
            web_urls: HashIndex::from_hashes(urls),
            web_paths: HashIndex::from_hashes(paths),
        }
    }

    /// Whether the catalog has no object (the check is then skipped).
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.identities.heap_bytes()
            + self.lowercase.heap_bytes()
            + self.web_urls.heap_bytes()
            + self.web_paths.heap_bytes()
    }

    /// Which rewrite of `unknown` (an identity not in the catalog) would find it, trying the
    /// usual mistakes in a fixed order; `None` when none does.
    pub fn diagnose(&self, unknown: &str) -> Option<IdentityFix> {
        let has = |s: &str| self.identities.contains(key_hash(s));
        let stripped = strip_host(unknown);
        if let Some(p) = stripped
            && has(p)
        {
            return Some(IdentityFix::StripHost);
        }
        let base = stripped.unwrap_or(unknown);
        if let Some(q) = strip_query(base)
            && (has(q) || (q.len() > 1 && has(q.trim_end_matches('/'))))
        {
            return Some(IdentityFix::StripQuery);
        }
        if base.len() > 1 && base.ends_with('/') && has(base.trim_end_matches('/')) {
            return Some(IdentityFix::TrimSlash);
        }
        if self.lowercase.contains(key_hash(&unknown.to_lowercase())) {
            return Some(IdentityFix::Case);
        }
        if self.web_urls.contains(key_hash(unknown))
            || self.web_paths.contains(key_hash(unknown))
            || stripped.is_some_and(|p| self.web_paths.contains(key_hash(p)))
        {
            return Some(IdentityFix::FromWebUrl);
        }
        None
    }
}

/// A rewrite of identities that makes unknown ones match the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityFix {
    /// Full URLs where the catalog has paths: drop scheme and host (`https://shop.sk/p/1` →
    /// `/p/1`).
    StripHost,
    /// Drop a query string or fragment (`/p/1?ref=x` → `/p/1`).
    StripQuery,
    /// Drop a trailing slash (`/p/1/` → `/p/1`).
    TrimSlash,
    /// The catalog spells them in another case: take the catalog's spelling.
    Case,
    /// They are the catalog objects' `web_url` (or its path): take those objects' identity.
    FromWebUrl,
}

impl IdentityFix {
    /// Every fix, in the order they are tried.
    pub const ALL: [IdentityFix; 5] = [
        IdentityFix::StripHost,
        IdentityFix::StripQuery,
        IdentityFix::TrimSlash,
        IdentityFix::Case,
        IdentityFix::FromWebUrl,
    ];

    /// What it does, for people.
    pub fn describe(self) -> &'static str {
        match self {
            IdentityFix::StripHost => {
                "they are full URLs; the catalog has the path without scheme and host"
            }
            IdentityFix::StripQuery => "they carry a query string; the catalog has them without it",
            IdentityFix::TrimSlash => "they end with a slash; the catalog has them without it",
            IdentityFix::Case => "the catalog spells them in another case",
            IdentityFix::FromWebUrl => "they are the catalog objects' web_url, not their identity",
        }
    }

    /// The `normalize` option applying it.
    pub fn flag(self) -> &'static str {
        match self {
            IdentityFix::StripHost => "--identity-strip-host",
            IdentityFix::StripQuery => "--identity-strip-query",
            IdentityFix::TrimSlash => "--identity-trim-slash",
            IdentityFix::Case => "--identity-from-catalog case",
            IdentityFix::FromWebUrl => "--identity-from-catalog web_url",
        }
    }

    /// Whether applying it needs the catalog (it looks the catalog's spelling up).
    pub fn needs_catalog(self) -> bool {
        matches!(self, IdentityFix::Case | IdentityFix::FromWebUrl)
    }

    /// The rewrite for the fixes that need no catalog; `None` when it does not apply (or needs
    /// the catalog).
    pub fn apply(self, id: &str) -> Option<&str> {
        match self {
            IdentityFix::StripHost => strip_host(id),
            IdentityFix::StripQuery => strip_query(id),
            IdentityFix::TrimSlash => {
                let t = id.trim_end_matches('/');
                (id.len() > 1 && t.len() < id.len() && !t.is_empty()).then_some(t)
            }
            IdentityFix::Case | IdentityFix::FromWebUrl => None,
        }
    }
}

/// The path (with its query) of a full `http(s)://host/...` URL; `/` for a bare host. `None`
/// when `s` is not a full http(s) URL.
pub fn strip_host(s: &str) -> Option<&str> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .or_else(|| s.strip_prefix("HTTPS://"))
        .or_else(|| s.strip_prefix("HTTP://"))
        .or_else(|| s.strip_prefix("//"))?;
    match rest.find(['/', '?', '#']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (i > 0).then(|| &rest[i..]),
        Some(_) => None,
        None => (!rest.is_empty()).then_some("/"),
    }
}

/// `s` without its query string or fragment; `None` when it has neither.
pub fn strip_query(s: &str) -> Option<&str> {
    let i = s.find(['?', '#'])?;
    (i > 0).then(|| &s[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_index_finds_exactly_what_it_holds() {
        let hs: Vec<u64> = (0..10_000).map(|i| key_hash(&format!("o{i}"))).collect();
        let ix = HashIndex::from_hashes(hs.iter().rev().copied().collect());
        assert_eq!(ix.len(), 10_000);
        assert!(hs.iter().all(|&h| ix.contains(h)));
        assert!(!(10_000..20_000).any(|i| ix.contains(key_hash(&format!("o{i}")))));
        // plain XXH3 as stored by the sent sets matches the validator's hash
        let plain = xxhash_rust::xxh3::xxh3_64(b"o17");
        assert!(ix.contains(plain));
        assert!(HashIndex::default().position(5).is_none());
    }

    #[test]
    fn sent_lookup_names_the_sets_holding_an_order() {
        let h = |s: &str| xxhash_rust::xxh3::xxh3_64(s.as_bytes());
        let l = SentLookup::new(vec![
            ("a".into(), vec![h("1"), h("2")]),
            ("b".into(), vec![h("2"), h("3")]),
        ]);
        let mut got = vec![];
        assert!(l.sets_of(key_hash("2"), |i| got.push(i)));
        assert_eq!(got, vec![0, 1]);
        assert!(!l.sets_of(key_hash("4"), |_| {}));
        assert_eq!(l.len(), 4);
        assert_eq!(l.set_counts(), vec![2, 2]);
    }

    #[test]
    fn strip_host_and_query() {
        assert_eq!(strip_host("https://shop.sk/p/123"), Some("/p/123"));
        assert_eq!(strip_host("http://shop.sk"), Some("/"));
        assert_eq!(strip_host("https://shop.sk/p/1?x=2"), Some("/p/1?x=2"));
        assert_eq!(strip_host("/p/123"), None);
        assert_eq!(strip_host("https:///p"), None);
        assert_eq!(strip_host("SKU-1"), None);
        assert_eq!(strip_query("/p/1?ref=x"), Some("/p/1"));
        assert_eq!(strip_query("/p/1#top"), Some("/p/1"));
        assert_eq!(strip_query("/p/1"), None);
        assert_eq!(IdentityFix::TrimSlash.apply("/p/1/"), Some("/p/1"));
        assert_eq!(IdentityFix::TrimSlash.apply("/"), None);
    }

    #[test]
    fn diagnoses_the_usual_mistakes() {
        let objs = [
            ("/p/1", Some("https://shop.sk/produkt-1")),
            ("/p/2", None),
            ("SKU-AbC", None),
        ];
        let c = CatalogIndex::build("t", None, objs.iter().map(|(a, b)| (*a, *b)));
        assert_eq!(c.objects, 3);
        assert_eq!(
            c.diagnose("https://shop.sk/p/1"),
            Some(IdentityFix::StripHost)
        );
        assert_eq!(c.diagnose("/p/2?utm=1"), Some(IdentityFix::StripQuery));
        assert_eq!(
            c.diagnose("https://shop.sk/p/2/?a=1"),
            Some(IdentityFix::StripQuery)
        );
        assert_eq!(c.diagnose("/p/2/"), Some(IdentityFix::TrimSlash));
        assert_eq!(c.diagnose("sku-abc"), Some(IdentityFix::Case));
        assert_eq!(
            c.diagnose("https://shop.sk/produkt-1"),
            Some(IdentityFix::FromWebUrl)
        );
        assert_eq!(c.diagnose("/produkt-1"), Some(IdentityFix::FromWebUrl));
        assert_eq!(c.diagnose("/p/9"), None);
    }
}
