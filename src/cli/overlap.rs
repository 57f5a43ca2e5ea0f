//! The overlap guard's command-line side: describe the validation report's `already_sent`
//! section, refuse an upload whose orders were already sent, and record a sent file's orders.

use std::path::Path;

use crate::config::sent::{SentSets, entry_key, order_hash};
use crate::config::{ConfigStore, HistoryEntry};
use crate::read::Format;
use crate::read::lines::{LineSplitter, Piece};
use crate::validate::{AlreadySent, Report};

/// The tracker id of a saved tracker name (or the name itself when no tracker has it).
pub fn tracker_id(name: &str) -> Result<String, String> {
    let store = ConfigStore::open_default().map_err(|e| e.to_string())?;
    let loaded = store.load().map_err(|e| e.to_string())?;
    Ok(loaded
        .config
        .tracker(name)
        .map_or_else(|| name.to_string(), |t| t.tracker_id.clone()))
}

/// The warning for earlier uploads that count as sent but whose orders were never recorded
/// (made before lbimport kept sent-order records, or killed while sending), if there are any:
/// the check cannot see their orders, and says so rather than guessing.
pub fn unrecorded_warning(a: &AlreadySent) -> Option<String> {
    let oldest = a.unrecorded.iter().filter_map(|e| e.sent_at).min();
    if a.unrecorded.is_empty() {
        return None;
    }
    Some(format!(
        "{} earlier upload(s) to this tracker{} have no record of their orders (made before \
         lbimport kept one, or stopped while sending): their orders are not part of the \
         already-sent check",
        a.unrecorded.len(),
        oldest
            .map(|t| format!(" (since {})", t.format("%Y-%m-%d")))
            .unwrap_or_default()
    ))
}

/// One line such as "612,118 of 640,002 orders (95.6 %, 1,204,332 rows) were already sent:
/// 612,118 on 2026-11-02 in orders-until-october.csv", from the report's `already_sent`.
pub fn describe(a: &AlreadySent) -> String {
    if a.orders == 0 {
        return "none of the file's orders were sent to this tracker before".into();
    }
    let pct = if a.file_orders > 0 {
        a.orders as f64 * 100.0 / a.file_orders as f64
    } else {
        0.0
    };
    let parts: Vec<String> = a
        .by_upload
        .iter()
        .map(|b| match (b.sent_at, &b.file) {
            (Some(t), Some(f)) => format!(
                "{} on {} in {}",
                group(b.orders),
                t.format("%Y-%m-%d"),
                Path::new(f)
                    .file_name()
                    .map_or_else(|| f.clone(), |n| n.to_string_lossy().into_owned())
            ),
            _ => format!("{} by upload {}", group(b.orders), b.key),
        })
        .collect();
    format!(
        "{} of {} orders ({pct:.1} %, {} rows) were already sent: {}",
        group(a.orders),
        group(a.file_orders),
        group(a.rows),
        parts.join("; ")
    )
}

/// The upload guard on the validation report: print the overlap and return whether the upload
/// may go ahead (no overlap, a check that could not be made — already warned about by the
/// caller, never read as "0 already sent" — or `allow`).
pub fn guard(report: &Report, path: &Path, allow: bool) -> bool {
    let Some(a) = &report.already_sent else {
        return true;
    };
    if let Some(w) = unrecorded_warning(a) {
        eprintln!("lbimport: warning: {w}");
    }
    if a.orders == 0 {
        return true;
    }
    let line = crate::validate::escape_controls(&describe(a)).into_owned();
    if allow {
        eprintln!("lbimport: warning: {line}; uploading anyway (--allow-overlap)");
        return true;
    }
    eprintln!(
        "lbimport: refused: {}: {line}. Uploads cannot be undone: those orders would be \
         imported twice. Leave them out of the file, or pass --allow-overlap if that is \
         really intended. Nothing was sent.",
        crate::validate::escape_controls(&path.display().to_string())
    );
    false
}

/// After an upload attempt: record its orders when it counts as sent (accepted or unknown);
/// a failure to record is a warning.
pub fn record_after_upload(entry: &HistoryEntry, path: &Path) {
    if !entry.outcome.counts_as_sent() {
        return;
    }
    if let Err(e) = record(entry, path, entry.format) {
        eprintln!("lbimport: warning: could not record the sent orders: {e}");
    }
}

/// Remove the record of the orders sent by `entry` (`history forget`). Returns whether there
/// was one.
pub fn forget(entry: &HistoryEntry) -> Result<bool, String> {
    let sets = SentSets::open_default(&entry.tracker_id).map_err(|e| e.to_string())?;
    sets.remove(&entry_key(entry.time, &entry.sha256))
        .map_err(|e| e.to_string())
}

fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Record the orders of `path` as sent by the upload `entry` (call after an accepted or
/// unknown outcome). Returns the number of distinct orders stored.
pub fn record(entry: &HistoryEntry, path: &Path, format: Format) -> Result<u64, String> {
    let hashes = order_hashes(path, format)?;
    let sets = SentSets::open_default(&entry.tracker_id).map_err(|e| e.to_string())?;
    sets.store(&entry_key(entry.time, &entry.sha256), hashes)
        .map_err(|e| e.to_string())
}

/// The stable hashes of every order id in the file (one per run of rows of an order).
fn order_hashes(path: &Path, format: Format) -> Result<Vec<u64>, String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    let mut last = None;
    let mut splitter = LineSplitter::new(1 << 20);
    let mut each = |p: Piece<'_>| {
        let Piece::Line(l) = p else { return };
        let mut bytes = l.bytes;
        if l.no == 1 {
            bytes = bytes.strip_prefix(crate::read::UTF8_BOM).unwrap_or(bytes);
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return;
        };
        if let Some(order) = crate::pipeline::overlap::order_of(format, text) {
            let h = order_hash(&order);
            if last != Some(h) {
                out.push(h);
                last = Some(h);
            }
        }
    };
    let mut buf = vec![0u8; 512 << 10];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        splitter.feed(&buf[..n], &mut each);
    }
    splitter.finish(&mut each);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::group;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(612118), "612,118");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(999), "999");
    }
}
