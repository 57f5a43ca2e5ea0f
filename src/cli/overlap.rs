//! The overlap guard's command-line side: describe the validation report's `already_sent`
//! section, refuse an upload whose orders were already sent, and record a sent file's orders.

use std::path::Path;

use crate::config::sent::{Overlap, SentSets, entry_key};
use crate::config::{ConfigStore, History, HistoryEntry};
use crate::read::Format;
use crate::validate::text::thousands;
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
    crate::validate::text::already_sent_line(a)
}

/// The upload guard on the validation report: print the overlap and return whether the upload
/// may go ahead (no overlap, a check that could not be made — already warned about by the
/// caller, never read as "0 already sent" — or `allow`).
pub fn guard(report: &Report, path: &Path, allow: bool) -> bool {
    let Some(a) = &report.already_sent else {
        return true;
    };
    if let Some(why) = &a.skipped {
        // never "0 already sent": say the check was not made
        eprintln!(
            "lbimport: warning: {}",
            crate::validate::escape_controls(why)
        );
        return true;
    }
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

/// Which earlier uploads sent the orders counted in `overlap`, e.g. "1,000 on 2026-11-02 10:15
/// UTC in orders-a.csv; 12 on upload <key>".
fn sent_by(tracker_id: &str, overlap: &Overlap) -> String {
    let entries = History::open_default()
        .and_then(|h| h.list())
        .unwrap_or_default();
    let mut by: Vec<crate::validate::SentBy> = overlap
        .by_set
        .iter()
        .map(|(key, orders)| crate::validate::SentBy {
            key: key.clone(),
            sent_at: None,
            file: None,
            orders: *orders,
        })
        .collect();
    crate::pipeline::checks::name_uploads(
        entries.iter().filter(|e| e.tracker_id == tracker_id),
        &mut by,
    );
    by.iter()
        .map(crate::validate::text::sent_by)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The orders recorded as sent to one tracker, for leaving them out of a file
/// (`normalize --only-new-orders`).
#[derive(Debug)]
pub struct SentOrders {
    /// The tracker as the user named it.
    pub name: String,
    /// Its tracker id.
    pub id: String,
    /// Every recorded upload's orders.
    pub lookup: crate::config::sent::SentLookup,
}

/// Load the orders sent to the tracker `name` (a saved name or a tracker id). A damaged or
/// unreadable set is an error naming its path: the caller must then write nothing (never
/// "0 dropped"). Uploads without a record are warned about on stderr.
pub fn sent_orders(name: &str) -> Result<SentOrders, String> {
    let id = tracker_id(name)?;
    let sets = SentSets::open_default(&id).map_err(|e| e.to_string())?;
    let lookup = sets.load_all().map_err(|e| {
        format!("cannot leave out the orders already sent to \"{name}\": {e}; nothing was written")
    })?;
    if let Some(w) = unrecorded_warning_for(&id) {
        eprintln!("lbimport: warning: {w}");
    }
    Ok(SentOrders {
        name: name.to_string(),
        id,
        lookup,
    })
}

/// The line saying which orders in `sent` were left out of the file (`dropped`: what the
/// filter did; `None` when no orders are recorded, so nothing was filtered).
pub fn dropped_line(
    sent: &SentOrders,
    dropped: Option<&crate::pipeline::only_new::Filtered>,
) -> String {
    match dropped {
        None => format!(
            "no orders are recorded as sent to \"{}\"; nothing dropped",
            sent.name
        ),
        Some(f) if f.dropped.orders == 0 => format!(
            "none of the file's orders were sent to \"{}\" before; nothing dropped",
            sent.name
        ),
        Some(f) => format!(
            "dropped {} orders ({} rows) already sent to \"{}\": {}",
            thousands(f.dropped.orders),
            thousands(f.dropped.rows),
            sent.name,
            sent_by(&sent.id, &f.dropped)
        ),
    }
}

/// Earlier uploads to the tracker that count as sent but whose orders were never recorded
/// (made before lbimport kept sent-order records, or killed while sending): the check cannot
/// see their orders, and says so rather than guessing.
pub fn unrecorded(tracker_id: &str) -> Vec<HistoryEntry> {
    let Ok(sets) = SentSets::open_default(tracker_id) else {
        return Vec::new();
    };
    let keys = sets.keys().unwrap_or_default();
    History::open_default()
        .and_then(|h| h.list())
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.tracker_id == tracker_id && crate::pipeline::checks::without_record(e, &keys))
        .collect()
}

/// The warning for [`unrecorded`] uploads, if there are any (for a file not validated for the
/// tracker; a validation report carries them in `already_sent.unrecorded`).
pub fn unrecorded_warning_for(tracker_id: &str) -> Option<String> {
    let list = unrecorded(tracker_id);
    let oldest = list.iter().map(|e| e.time).min()?;
    Some(format!(
        "{} earlier upload(s) to this tracker (since {}) have no record of their orders (made \
         before lbimport kept one, or stopped while sending): their orders are not part of the \
         already-sent check",
        list.len(),
        oldest.format("%Y-%m-%d")
    ))
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

/// Record the orders of `path` as sent by the upload `entry` (call after an accepted or
/// unknown outcome). Returns the number of distinct orders stored.
pub fn record(entry: &HistoryEntry, path: &Path, format: Format) -> Result<u64, String> {
    let sets = SentSets::open_default(&entry.tracker_id).map_err(|e| e.to_string())?;
    crate::pipeline::overlap::record_sent(&sets, entry, path, format)
}
