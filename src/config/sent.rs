//! Which orders were already sent to a tracker: one compact set of order-id hashes per upload.
//!
//! # Design
//! Every upload that counts as sent (accepted, or outcome unknown) gets its own set file,
//! `sent/<tracker_id>/<key>.bin` in the data directory, where `<key>` names the history entry
//! (see [`entry_key`]). Keeping one set per upload answers "already sent by which earlier
//! uploads, how many each" and lets `history forget` drop exactly one upload's orders (its
//! file is removed). A damaged set is never rewritten: a new upload simply writes its own file
//! beside it.
//!
//! # Order hash
//! An order id is identified by [`order_hash`]: XXH3-64 with seed 0 of the id's UTF-8 bytes
//! (as the validator reads them: surrounding whitespace kept). XXH3's output is frozen by its
//! specification (xxHash ≥ 0.8.0), so sets written by one version of lbimport stay valid in
//! the next. With 64-bit hashes two different ids of a 10 M-order shop collide with a
//! probability of about 3 in a million.
//!
//! # File format (version 1)
//! ```text
//! magic   8 bytes  "LBSENT\0\n"
//! version u32 LE   1
//! count   u64 LE   number of distinct hashes
//! body    count LEB128 varints: the first hash, then the gaps between consecutive sorted hashes
//! check   8 bytes  the first 8 bytes of SHA-256 over everything before
//! ```
//! 9 M random 64-bit hashes take about 6 bytes each. Files are written to a temporary file,
//! fsynced and renamed while holding an advisory lock on `sent/<tracker_id>/.lock`, and are
//! created 0600.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::store::create_private_dir;
pub use crate::validate::lookup::{Overlap, SentLookup};

/// First bytes of every set file.
pub const MAGIC: &[u8; 8] = b"LBSENT\0\n";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// Name of the folder in the data directory.
pub const SENT_DIR: &str = "sent";

const HEADER_BYTES: usize = 8 + 4 + 8;
const CHECK_BYTES: usize = 8;

/// The stable 64-bit hash of an order id (XXH3-64, seed 0, of its UTF-8 bytes).
#[inline]
pub fn order_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// A file-name-safe key for a history entry: its start time (UTC, to the microsecond) and
/// the first 12 hex digits of the sha256 of its bytes, e.g. `20261102T101500123456Z-ab12cd34ef56`.
pub fn entry_key(time: chrono::DateTime<chrono::Utc>, sha256: &str) -> String {
    let sha: String = sha256
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .take(12)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("{}-{sha}", time.format("%Y%m%dT%H%M%S%6fZ"))
}

/// Why a set could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SentError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file is truncated or its contents do not match its checksum.
    #[error("{path} is damaged ({reason}); it is left as it is")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong, e.g. "truncated after 120 of 1,000 orders".
        reason: String,
    },
    /// The file was written by a newer lbimport.
    #[error("{path} was written by a newer lbimport (format {version}, this one reads {VERSION})")]
    NewerVersion {
        /// The file.
        path: PathBuf,
        /// Its format version.
        version: u32,
    },
    /// A key with characters other than letters, digits, `-`, `_`, `.`.
    #[error("invalid set name {0:?}")]
    BadKey(String),
}

impl SentError {
    fn io(path: &Path, source: io::Error) -> Self {
        SentError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    fn corrupt(path: &Path, reason: impl Into<String>) -> Self {
        SentError::Corrupt {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// The sets of one tracker: `<data_dir>/sent/<tracker_id>/`.
#[derive(Debug, Clone)]
pub struct SentSets {
    dir: PathBuf,
}

fn safe_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        out.push('_');
    }
    out
}

fn check_key(key: &str) -> Result<(), SentError> {
    let ok = !key.is_empty()
        && !key.starts_with('.')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(SentError::BadKey(key.to_string()))
    }
}

impl SentSets {
    /// The sets of `tracker_id` under `data_dir` (the id is made file-name safe).
    pub fn new(data_dir: &Path, tracker_id: &str) -> Self {
        SentSets {
            dir: data_dir.join(SENT_DIR).join(safe_name(tracker_id)),
        }
    }

    /// The sets of `tracker_id` in [`super::data_dir`].
    pub fn open_default(tracker_id: &str) -> Result<Self, super::ConfigError> {
        Ok(Self::new(&super::data_dir()?, tracker_id))
    }

    /// The folder holding this tracker's sets.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the set named `key`.
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.bin"))
    }

    /// Keys of all sets, sorted (oldest first, given [`entry_key`]).
    pub fn keys(&self) -> Result<Vec<String>, SentError> {
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(SentError::io(&self.dir, e)),
        };
        let mut keys = Vec::new();
        for ent in rd {
            let ent = ent.map_err(|e| SentError::io(&self.dir, e))?;
            let name = ent.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(k) = name.strip_suffix(".bin")
                && check_key(k).is_ok()
            {
                keys.push(k.to_string());
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn lock(&self) -> Result<File, SentError> {
        create_private_dir(&self.dir).map_err(|e| SentError::io(&self.dir, e))?;
        let p = self.dir.join(".lock");
        let f = private_open(&p, false).map_err(|e| SentError::io(&p, e))?;
        f.lock().map_err(|e| SentError::io(&p, e))?;
        Ok(f)
    }

    /// Store `hashes` (any order, duplicates allowed) as the set `key`: written to a temporary
    /// file, fsynced and renamed under the tracker's lock. An existing set of the same key is
    /// merged in (its hashes kept) unless it is damaged, in which case it is left untouched
    /// and an error is returned. Returns the number of distinct hashes stored.
    pub fn store(&self, key: &str, mut hashes: Vec<u64>) -> Result<u64, SentError> {
        check_key(key)?;
        let lock = self.lock()?;
        let path = self.path(key);
        if path.exists() {
            hashes.extend(read_set(&path)?);
        }
        hashes.sort_unstable();
        hashes.dedup();
        let tmp = self
            .dir
            .join(format!(".{key}.bin.tmp{}", std::process::id()));
        let res = write_file(&tmp, &hashes).and_then(|()| {
            fs::rename(&tmp, &path).map_err(|e| SentError::io(&path, e))?;
            if let Ok(d) = File::open(&self.dir) {
                let _ = d.sync_all();
            }
            Ok(())
        });
        if res.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        drop(lock);
        res.map(|()| hashes.len() as u64)
    }

    /// Remove the set `key` (under the lock). Returns whether it existed.
    pub fn remove(&self, key: &str) -> Result<bool, SentError> {
        check_key(key)?;
        let path = self.path(key);
        if !path.exists() {
            return Ok(false);
        }
        let _lock = self.lock()?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(SentError::io(&path, e)),
        }
    }

    /// Read the set `key`.
    pub fn read(&self, key: &str) -> Result<Vec<u64>, SentError> {
        check_key(key)?;
        read_set(&self.path(key))
    }

    /// Load every set of this tracker for checking a file. Fails on the first damaged set
    /// (the check must then be skipped, never reported as "0 already sent").
    pub fn load_all(&self) -> Result<SentLookup, SentError> {
        let mut lookup = SentLookup::default();
        for k in self.keys()? {
            let hs = read_set(&self.path(&k))?;
            lookup.push(k, hs);
        }
        Ok(lookup)
    }
}

fn private_open(path: &Path, truncate: bool) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true);
    if truncate {
        opts.truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The bytes of a set file for sorted, distinct `hashes`.
pub fn encode(hashes: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_BYTES + hashes.len() * 7 + CHECK_BYTES);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(hashes.len() as u64).to_le_bytes());
    let mut prev = 0u64;
    for (i, &h) in hashes.iter().enumerate() {
        put_varint(&mut out, if i == 0 { h } else { h - prev });
        prev = h;
    }
    let d = Sha256::digest(&out);
    out.extend_from_slice(&d[..CHECK_BYTES]);
    out
}

fn write_file(tmp: &Path, hashes: &[u64]) -> Result<(), SentError> {
    let bytes = encode(hashes);
    let f = private_open(tmp, true).map_err(|e| SentError::io(tmp, e))?;
    let mut w = BufWriter::new(f);
    w.write_all(&bytes).map_err(|e| SentError::io(tmp, e))?;
    let f = w
        .into_inner()
        .map_err(|e| SentError::io(tmp, e.into_error()))?;
    f.sync_all().map_err(|e| SentError::io(tmp, e))
}

/// Read and verify one set file: hashes sorted ascending, distinct.
pub fn read_set(path: &Path) -> Result<Vec<u64>, SentError> {
    let f = File::open(path).map_err(|e| SentError::io(path, e))?;
    let len = f.metadata().map_err(|e| SentError::io(path, e))?.len();
    let mut bytes = Vec::new();
    BufReader::new(f)
        .take(len.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| SentError::io(path, e))?;
    decode(path, &bytes)
}

/// Decode the bytes of a set file (`path` only names it in errors).
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Vec<u64>, SentError> {
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        return Err(SentError::corrupt(path, "not an lbimport sent-orders set"));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version > VERSION {
        return Err(SentError::NewerVersion {
            path: path.to_path_buf(),
            version,
        });
    }
    if version != VERSION {
        return Err(SentError::corrupt(
            path,
            format!("unknown version {version}"),
        ));
    }
    if bytes.len() < HEADER_BYTES + CHECK_BYTES {
        return Err(SentError::corrupt(path, "truncated header"));
    }
    let mut c = [0u8; 8];
    c.copy_from_slice(&bytes[12..20]);
    let count = u64::from_le_bytes(c);
    let body_end = bytes.len() - CHECK_BYTES;
    let d = Sha256::digest(&bytes[..body_end]);
    if d[..CHECK_BYTES] != bytes[body_end..] {
        return Err(SentError::corrupt(
            path,
            "checksum mismatch (truncated or modified)",
        ));
    }
    let body = &bytes[HEADER_BYTES..body_end];
    // every hash takes at least one byte: a count beyond that is impossible
    if count > body.len() as u64 {
        return Err(SentError::corrupt(
            path,
            format!(
                "header says {count} orders but the body has {} bytes",
                body.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(count as usize);
    let mut i = 0usize;
    let mut prev = 0u64;
    while i < body.len() {
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let Some(&b) = body.get(i) else {
                return Err(SentError::corrupt(path, "truncated number"));
            };
            i += 1;
            if shift > 63 || (shift == 63 && b > 1) {
                return Err(SentError::corrupt(path, "number too large"));
            }
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        let h = if out.is_empty() {
            v
        } else {
            if v == 0 {
                return Err(SentError::corrupt(path, "hashes not strictly increasing"));
            }
            prev.checked_add(v)
                .ok_or_else(|| SentError::corrupt(path, "hash out of range"))?
        };
        out.push(h);
        prev = h;
    }
    if out.len() as u64 != count {
        return Err(SentError::corrupt(
            path,
            format!("header says {count} orders, body holds {}", out.len()),
        ));
    }
    Ok(out)
}

/// Counts a file's orders against a [`SentLookup`], row by row.
#[derive(Debug)]
pub struct OverlapCounter<'a> {
    lookup: &'a SentLookup,
    /// Per set, one bit per stored order: seen in the file.
    seen: Vec<Vec<u64>>,
    last: Option<(u64, bool)>,
    orders: u64,
    /// Rows whose order was already sent.
    pub rows: u64,
    /// First rows whose order was already sent: (line, order id).
    pub examples: Vec<(u64, String)>,
    max_examples: usize,
}

impl<'a> OverlapCounter<'a> {
    /// A counter keeping up to `max_examples` examples.
    pub fn new(lookup: &'a SentLookup, max_examples: usize) -> Self {
        OverlapCounter {
            lookup,
            seen: lookup
                .set_counts()
                .iter()
                .map(|&n| vec![0; (n as usize).div_ceil(64)])
                .collect(),
            last: None,
            orders: 0,
            rows: 0,
            examples: Vec::new(),
            max_examples,
        }
    }

    /// One valid row of order `id` at `line`. Returns whether the order was already sent.
    #[inline]
    pub fn row(&mut self, id: &str, line: u64) -> bool {
        let h = order_hash(id);
        let hit = match self.last {
            Some((lh, hit)) if lh == h => hit,
            _ => {
                let mut hit = false;
                let mut new = true;
                for (set, bits) in self.seen.iter_mut().enumerate() {
                    if let Some(i) = self.lookup.position_in(set, h) {
                        hit = true;
                        if bits[i / 64] & (1 << (i % 64)) != 0 {
                            new = false;
                        }
                        bits[i / 64] |= 1 << (i % 64);
                    }
                }
                if hit && new {
                    self.orders += 1;
                }
                self.last = Some((h, hit));
                hit
            }
        };
        if hit {
            self.rows += 1;
            if self.examples.len() < self.max_examples {
                self.examples.push((line, id.to_string()));
            }
        }
        hit
    }

    /// The totals.
    pub fn finish(self) -> Overlap {
        let by_set = self
            .lookup
            .keys()
            .iter()
            .zip(&self.seen)
            .map(|(k, bits)| {
                let n: u64 = bits.iter().map(|w| u64::from(w.count_ones())).sum();
                (k.clone(), n)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        Overlap {
            orders: self.orders,
            rows: self.rows,
            by_set,
            examples: self.examples,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(range: std::ops::RangeInclusive<u32>) -> Vec<u64> {
        range.map(|i| order_hash(&format!("o{i}"))).collect()
    }

    #[test]
    fn order_hash_is_xxh3_seed_0() {
        // reference values of XXH3-64 (seed 0) from the xxHash specification's test vectors
        assert_eq!(order_hash(""), 0x2D06_8005_38D3_94C2);
    }

    #[test]
    fn round_trip_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let sets = SentSets::new(dir.path(), "tr/../x");
        assert!(sets.dir().ends_with("sent/tr____x"));
        let n = sets.store("k1", ids(1..=100_000)).unwrap();
        assert_eq!(n, 100_000);
        let mut want = ids(1..=100_000);
        want.sort_unstable();
        assert_eq!(sets.read("k1").unwrap(), want);
        let size = fs::metadata(sets.path("k1")).unwrap().len();
        assert!(size <= 12 * 100_000, "{size} bytes");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(sets.path("k1")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // storing again under the same key merges
        assert_eq!(sets.store("k1", ids(99_001..=100_500)).unwrap(), 100_500);
        assert_eq!(sets.keys().unwrap(), vec!["k1".to_string()]);
        assert!(sets.remove("k1").unwrap());
        assert!(sets.keys().unwrap().is_empty());
        assert!(sets.store("../x", vec![1]).is_err());
    }

    #[test]
    fn damaged_files_are_typed_errors_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let sets = SentSets::new(dir.path(), "t");
        sets.store("a", ids(1..=1000)).unwrap();
        let p = sets.path("a");
        let good = fs::read(&p).unwrap();
        // truncated
        fs::write(&p, &good[..good.len() / 2]).unwrap();
        let e = sets.read("a").unwrap_err();
        assert!(matches!(e, SentError::Corrupt { .. }), "{e}");
        assert!(e.to_string().contains(&p.display().to_string()));
        // a flipped byte
        let mut bad = good.clone();
        bad[40] ^= 1;
        fs::write(&p, &bad).unwrap();
        assert!(matches!(sets.read("a"), Err(SentError::Corrupt { .. })));
        // newer version
        let mut newer = good.clone();
        newer[8] = 2;
        fs::write(&p, &newer).unwrap();
        assert!(matches!(
            sets.read("a"),
            Err(SentError::NewerVersion { version: 2, .. })
        ));
        // a damaged set is not overwritten by a store under its key, and load_all fails
        assert!(sets.store("a", vec![5]).is_err());
        assert_eq!(fs::read(&p).unwrap(), newer);
        assert!(sets.load_all().is_err());
        // a new set beside it is fine
        sets.store("b", vec![5]).unwrap();
        assert_eq!(sets.read("b").unwrap(), vec![5]);
    }

    #[test]
    fn overlap_counts_orders_rows_and_uploads() {
        // A sent orders 1..=1000, C sent 900..=1100; the file has orders 1..=1500, 2 rows each
        let lookup = SentLookup::new(vec![
            ("A".into(), {
                let mut v = ids(1..=1000);
                v.sort_unstable();
                v
            }),
            ("C".into(), {
                let mut v = ids(900..=1100);
                v.sort_unstable();
                v
            }),
        ]);
        let mut c = OverlapCounter::new(&lookup, 3);
        let mut line = 1;
        for i in 1..=1500u32 {
            for _ in 0..2 {
                line += 1;
                c.row(&format!("o{i}"), line);
            }
        }
        // order 5 again later (scattered): counted as a row, not a new order
        c.row("o5", 9999);
        let o = c.finish();
        assert_eq!(o.orders, 1100);
        assert_eq!(o.rows, 2201);
        assert_eq!(o.by_set, vec![("A".into(), 1000), ("C".into(), 201)]);
        assert_eq!(
            o.examples,
            vec![(2, "o1".into()), (3, "o1".into()), (4, "o2".into())]
        );
        assert!(!lookup.contains(order_hash("o1101")));
        assert!(lookup.contains(order_hash("o1100")));
    }

    #[test]
    fn empty_lookup_finds_nothing() {
        let l = SentLookup::new(Vec::new());
        assert!(!l.contains(0));
        let mut c = OverlapCounter::new(&l, 5);
        assert!(!c.row("x", 1));
        assert_eq!(c.finish().orders, 0);
    }
}
