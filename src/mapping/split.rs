//! Splitting a converted CSV into parts no larger than a size limit, at order boundaries:
//! every row of an order lands in the same part even when the order's rows are scattered
//! through the file.
//!
//! Two passes: the first sums the bytes of every order (one 64-bit hash and one counter per
//! distinct order); orders are then assigned to parts in first-seen order, a new part being
//! started when the next order would overflow the current one. The second pass routes each
//! row to its order's part. Rows keep their relative order within a part.

use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::MappingError;
use super::convert::push_field;
use crate::validate::Progress;

/// The default (and largest) part size: 10^9 bytes. The service documents "1 GB" and checks
/// 1 GiB; parts of at most 10^9 bytes fit either reading.
pub const DEFAULT_PART_BYTES: u64 = crate::spec::PART_BYTES;

/// Parse a size: `1GiB`, `500MB`, `1048576`, `2G`, `64k` (K/M/G = binary multiples, KB/MB/GB =
/// decimal, KiB/MiB/GiB = binary).
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "kb" => 1e3,
        "m" | "mib" => 1024.0 * 1024.0,
        "mb" => 1e6,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "gb" => 1e9,
        _ => return None,
    };
    let v = n * mult;
    (v.is_finite() && v >= 1.0).then_some(v as u64)
}

/// Part file names: `<stem>.part-001.csv`, … in `dir`.
pub fn part_path(dir: &Path, stem: &str, n: usize) -> PathBuf {
    dir.join(format!("{stem}.part-{n:03}.csv"))
}

type IdBuild = std::hash::BuildHasherDefault<IdHasher>;

#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
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

fn reader(input: &Path) -> Result<csv::Reader<File>, MappingError> {
    let f = File::open(input).map_err(|e| MappingError::io(input, e))?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(f))
}

fn serialize(rec: &csv::ByteRecord, out: &mut Vec<u8>) {
    out.clear();
    for (i, f) in rec.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_field(out, f);
    }
    out.push(b'\n');
}

/// Bytes per order key, and the keys in the order they were first seen.
#[derive(Default)]
struct OrderSizes {
    sizes: hashbrown::HashMap<u64, u64, IdBuild>,
    first_seen: Vec<u64>,
}

impl OrderSizes {
    /// Count `bytes` for the order with key `h`.
    fn add(&mut self, h: u64, bytes: u64) {
        let first_seen = &mut self.first_seen;
        *self.sizes.entry(h).or_insert_with(|| {
            first_seen.push(h);
            0
        }) += bytes;
    }
}

/// Assigns orders to parts, next-fit in first-seen order: returns each order key's 0-based
/// part number and the number of parts.
fn assign_parts(
    orders: OrderSizes,
    max_bytes: u64,
) -> Result<(hashbrown::HashMap<u64, u64, IdBuild>, usize), MappingError> {
    let OrderSizes {
        mut sizes,
        first_seen,
    } = orders;
    let mut part: u32 = 0;
    let mut used: u64 = 0;
    for h in &first_seen {
        if let Some(e) = sizes.get_mut(h) {
            let bytes = *e;
            if bytes > max_bytes {
                return Err(MappingError::Invalid(format!(
                    "one order alone takes {bytes} bytes, more than the part size {max_bytes}"
                )));
            }
            if used + bytes > max_bytes && used > 0 {
                part += 1;
                used = 0;
            }
            used += bytes;
            *e = u64::from(part);
        }
    }
    Ok((sizes, part as usize + 1))
}

/// Every 16,384th row (`count`): publish `bytes` and `rows` to `progress`, or stop when it was
/// cancelled.
fn tick(
    progress: Option<&Progress>,
    count: u64,
    bytes: u64,
    rows: u64,
) -> Result<(), MappingError> {
    if count.is_multiple_of(1 << 14)
        && let Some(p) = progress
    {
        if p.is_cancelled() {
            return Err(MappingError::Cancelled);
        }
        p.set_counters(bytes, rows);
    }
    Ok(())
}

/// Flush the parts' writers; on an error (cancelled or failed), remove the parts instead.
fn finish_parts(
    paths: Vec<PathBuf>,
    mut writers: Vec<BufWriter<File>>,
    routed: Result<(), MappingError>,
) -> Result<Vec<PathBuf>, MappingError> {
    if let Err(e) = routed {
        drop(writers);
        for p in &paths {
            let _ = std::fs::remove_file(p);
        }
        return Err(e);
    }
    for (w, p) in writers.iter_mut().zip(&paths) {
        w.flush().map_err(|e| MappingError::io(p, e))?;
    }
    Ok(paths)
}

/// Creates `dir` and the files of `parts` parts named by `name(n)` (1-based).
fn create_parts(
    dir: &Path,
    parts: usize,
    name: impl Fn(usize) -> PathBuf,
) -> Result<(Vec<PathBuf>, Vec<BufWriter<File>>), MappingError> {
    crate::files::create_private_dir(dir).map_err(|e| MappingError::io(dir, e))?;
    let paths: Vec<PathBuf> = (1..=parts).map(name).collect();
    let mut writers = Vec::with_capacity(parts);
    for p in &paths {
        let f = crate::files::create_private_file(p).map_err(|e| MappingError::io(p, e))?;
        writers.push(BufWriter::with_capacity(1 << 18, f));
    }
    Ok((paths, writers))
}

/// Tells `progress` that `input` will be read twice (the total is twice its size); returns the
/// size.
fn announce_two_passes(input: &Path, progress: Option<&Progress>) -> Result<u64, MappingError> {
    let size = std::fs::metadata(input)
        .map_err(|e| MappingError::io(input, e))?
        .len();
    if let Some(p) = progress {
        p.set_total(size * 2);
    }
    Ok(size)
}

/// Split the documented-layout CSV `input` into parts of at most `max_bytes` in `dir`, named
/// `<stem>.part-NNN.csv`. Returns the part paths in order. A file that already fits is still
/// written as one part. Fails when a single order is larger than `max_bytes`. Cancelled through
/// `progress`; when cancelled or when writing fails, the parts written are removed.
pub fn split_path(
    input: &Path,
    max_bytes: u64,
    dir: &Path,
    stem: &str,
    progress: Option<&Progress>,
) -> Result<Vec<PathBuf>, MappingError> {
    let hasher = hashbrown::DefaultHashBuilder::default();
    let size = announce_two_passes(input, progress)?;
    let csv_err = |e: csv::Error| MappingError::io(input, std::io::Error::other(e));
    // pass 1: bytes per order, first-seen order list
    let mut orders = OrderSizes::default();
    let mut rdr = reader(input)?;
    let mut rec = csv::ByteRecord::new();
    let mut buf = Vec::with_capacity(256);
    let mut rows: u64 = 0;
    while rdr.read_byte_record(&mut rec).map_err(csv_err)? {
        rows += 1;
        serialize(&rec, &mut buf);
        orders.add(hasher.hash_one(rec.get(0).unwrap_or(b"")), buf.len() as u64);
        tick(progress, rows, rec.position().map_or(0, |x| x.byte()), rows)?;
    }
    // one u64 per order: its bytes in pass 1, then its part number (16 bytes an entry)
    let (part_of, parts) = assign_parts(orders, max_bytes)?;
    let (paths, mut writers) = create_parts(dir, parts, |n| part_path(dir, stem, n))?;
    // pass 2: route rows
    let mut route = || -> Result<(), MappingError> {
        let mut rdr = reader(input)?;
        let mut n: u64 = 0;
        while rdr.read_byte_record(&mut rec).map_err(csv_err)? {
            n += 1;
            serialize(&rec, &mut buf);
            let h = hasher.hash_one(rec.get(0).unwrap_or(b""));
            let part = part_of.get(&h).map_or(0, |e| *e) as usize;
            writers[part]
                .write_all(&buf)
                .map_err(|e| MappingError::io(&paths[part], e))?;
            let at = size + rec.position().map_or(0, |x| x.byte());
            tick(progress, n, at, rows)?;
        }
        Ok(())
    };
    let routed = route();
    finish_parts(paths, writers, routed)
}

/// JSON-lines part file names: `<stem>.part-001.json`, … in `dir`.
pub fn json_part_path(dir: &Path, stem: &str, n: usize) -> PathBuf {
    dir.join(format!("{stem}.part-{n:03}.json"))
}

/// The order key of a JSON-lines record into `out`: the text of `order_id` (else of the older
/// `session_id`), string or number alike; empty when the line has neither or is not an object.
fn json_order_key(line: &[u8], out: &mut Vec<u8>) {
    use crate::read::json::Value;
    out.clear();
    let Ok(text) = std::str::from_utf8(line) else {
        return;
    };
    let mut order: Option<String> = None;
    let mut session: Option<String> = None;
    let _ = crate::read::json::parse_object(text.trim(), &mut |k, v| {
        let t = match v {
            Value::Str(t) | Value::Num(t) => Some(t.into_owned()),
            _ => None,
        };
        if k == "order_id" && order.is_none() {
            order = t;
        } else if k == "session_id" && session.is_none() {
            session = t;
        }
    });
    if let Some(t) = order.or(session) {
        out.extend_from_slice(t.as_bytes());
    }
}

/// Read the next non-blank line of a JSON-lines file into `line` (with its newline, if any);
/// returns the bytes consumed (blank lines included), 0 at the end.
fn next_json_line(
    r: &mut std::io::BufReader<File>,
    line: &mut Vec<u8>,
    input: &Path,
) -> Result<u64, MappingError> {
    use std::io::BufRead;
    let mut consumed = 0u64;
    loop {
        line.clear();
        let n = r
            .read_until(b'\n', line)
            .map_err(|e| MappingError::io(input, e))?;
        if n == 0 {
            return Ok(consumed);
        }
        consumed += n as u64;
        if !line.iter().all(u8::is_ascii_whitespace) {
            return Ok(consumed);
        }
    }
}

/// Split the JSON-lines file `input` at order boundaries (`order_id`, or the older
/// `session_id`) into parts of at most `max_bytes` in `dir`, named `<stem>.part-NNN.json`, the
/// same two passes as [`split_path`]. Lines are copied byte for byte (a missing final newline
/// is added; blank lines are dropped); lines that are not JSON objects with an order id all go
/// with the first of them, for the validator to report. Returns the part paths in order; fails
/// when a single order is larger than `max_bytes`. Cancelled through `progress`; when cancelled
/// or when writing fails, the parts written are removed.
pub fn split_json_path(
    input: &Path,
    max_bytes: u64,
    dir: &Path,
    stem: &str,
    progress: Option<&Progress>,
) -> Result<Vec<PathBuf>, MappingError> {
    let hasher = hashbrown::DefaultHashBuilder::default();
    let size = announce_two_passes(input, progress)?;
    let open = || -> Result<std::io::BufReader<File>, MappingError> {
        let f = File::open(input).map_err(|e| MappingError::io(input, e))?;
        Ok(std::io::BufReader::with_capacity(1 << 20, f))
    };
    let len_of = |line: &[u8]| line.len() as u64 + u64::from(line.last() != Some(&b'\n'));
    // pass 1: bytes per order, first-seen order list
    let mut orders = OrderSizes::default();
    let mut r = open()?;
    let mut line = Vec::with_capacity(256);
    let mut key = Vec::with_capacity(64);
    let (mut rows, mut pos) = (0u64, 0u64);
    loop {
        let n = next_json_line(&mut r, &mut line, input)?;
        if n == 0 {
            break;
        }
        pos += n;
        if line.iter().all(u8::is_ascii_whitespace) {
            break;
        }
        rows += 1;
        json_order_key(&line, &mut key);
        orders.add(hasher.hash_one(&key[..]), len_of(&line));
        tick(progress, rows, pos, rows)?;
    }
    // one u64 per order: its bytes in pass 1, then its part number (16 bytes an entry)
    let (part_of, parts) = assign_parts(orders, max_bytes)?;
    let (paths, mut writers) = create_parts(dir, parts, |n| json_part_path(dir, stem, n))?;
    // pass 2: route lines
    let mut route = || -> Result<(), MappingError> {
        let mut r = open()?;
        let (mut n_rows, mut pos) = (0u64, 0u64);
        loop {
            let n = next_json_line(&mut r, &mut line, input)?;
            if n == 0 || line.iter().all(u8::is_ascii_whitespace) {
                break;
            }
            pos += n;
            n_rows += 1;
            json_order_key(&line, &mut key);
            let h = hasher.hash_one(&key[..]);
            let part = part_of.get(&h).map_or(0, |e| *e) as usize;
            let w = &mut writers[part];
            w.write_all(&line)
                .and_then(|()| {
                    if line.last() == Some(&b'\n') {
                        Ok(())
                    } else {
                        w.write_all(b"\n")
                    }
                })
                .map_err(|e| MappingError::io(&paths[part], e))?;
            tick(progress, n_rows, size + pos, rows)?;
        }
        Ok(())
    };
    let routed = route();
    finish_parts(paths, writers, routed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("500MB"), Some(500_000_000));
        assert_eq!(parse_size("64k"), Some(65536));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("ten"), None);
        assert_eq!(parse_size("0"), None);
    }

    #[test]
    fn json_lines_split_at_order_boundaries_byte_for_byte() {
        let dir = tempfile::tempdir().expect("tmp");
        let input = dir.path().join("in.json");
        let mut body = String::new();
        body.push_str("{\"order_id\": \"S\", \"identity\": \"/p/0\"}\n");
        for o in 0..40 {
            body.push_str(&format!(
                "{{\"session_id\": {o}, \"identity\": \"/p/{o}\", \"user_id\": \"u\"}}\n"
            ));
            if o == 20 {
                body.push_str("\n{\"order_id\":\"S\",\"identity\":\"/p/1\"}\n");
            }
        }
        body.push_str("{\"identity\": \"/p/2\", \"order_id\": \"S\"}");
        std::fs::write(&input, &body).expect("write");
        let parts = split_json_path(&input, 600, dir.path(), "in", None).expect("split");
        assert!(parts.len() >= 3, "{parts:?}");
        let texts: Vec<String> = parts
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("part"))
            .collect();
        for (p, t) in parts.iter().zip(&texts) {
            assert!(t.len() <= 600, "{}: {}", p.display(), t.len());
            assert!(p.to_string_lossy().ends_with(".json"));
        }
        // The scattered order S is whole in part 1; every other line is copied unchanged.
        assert_eq!(texts[0].matches("\"S\"").count(), 3, "{}", texts[0]);
        let mut got: Vec<&str> = texts.iter().flat_map(|t| t.lines()).collect();
        let mut want: Vec<&str> = body.lines().filter(|l| !l.trim().is_empty()).collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
        // One order over the limit is refused.
        assert!(split_json_path(&input, 40, dir.path(), "tiny", None).is_err());
    }

    #[test]
    fn a_cancelled_split_stops_and_leaves_no_parts() {
        let dir = tempfile::tempdir().expect("tmp");
        let csv: String = (0..20_000)
            .map(|i| format!("o{},p{}\n", i / 2, i % 7))
            .collect();
        let json: String = (0..20_000)
            .map(|i| format!("{{\"order_id\":\"o{}\",\"identity\":\"p\"}}\n", i / 2))
            .collect();
        std::fs::write(dir.path().join("in.csv"), &csv).expect("write");
        std::fs::write(dir.path().join("in.json"), &json).expect("write");
        let progress = Progress::new();
        progress.cancel();
        let out = dir.path().join("parts");
        let r = split_path(
            &dir.path().join("in.csv"),
            1 << 16,
            &out,
            "c",
            Some(&progress),
        );
        assert!(matches!(r, Err(MappingError::Cancelled)), "{r:?}");
        let r = split_json_path(
            &dir.path().join("in.json"),
            1 << 16,
            &out,
            "j",
            Some(&progress),
        );
        assert!(matches!(r, Err(MappingError::Cancelled)), "{r:?}");
        let left = std::fs::read_dir(&out).map_or(0, |d| d.count());
        assert_eq!(left, 0);
        // not cancelled: the same files split into parts that hold every row
        let parts =
            split_path(&dir.path().join("in.csv"), 1 << 16, &out, "c", None).expect("split");
        assert!(parts.len() >= 3, "{parts:?}");
        let rows: usize = parts
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("part").lines().count())
            .sum();
        assert_eq!(rows, 20_000);
    }
}
