//! What a validation for a chosen tracker compares the file with: the tracker's catalog (its
//! identities) and what earlier uploads sent to it (its orders). Loaded once per file by the
//! CLI and the wizard alike ([`TrackerChecks::for_tracker`]), handed to the validator
//! ([`TrackerChecks::apply`]), and used to name the earlier uploads in the report
//! ([`TrackerChecks::complete`]).

use std::path::Path;
use std::sync::Arc;

use crate::catalog::{self, StoredCatalog, StoredObject};
use crate::config::sent::{SentLookup, SentSets, entry_key};
use crate::config::{History, HistoryEntry, Outcome};
use crate::validate::lookup::{CatalogIndex, Loading};
use crate::validate::{Options, Report, SentBy};

/// The catalog and the sent orders of one tracker, ready for the validator.
#[derive(Debug, Clone, Default)]
pub struct TrackerChecks {
    /// The tracker's id (sent sets are kept per id).
    pub tracker_id: String,
    /// The catalog's look-up index, when one is stored (or given).
    pub catalog: Option<Arc<CatalogIndex>>,
    /// What earlier uploads sent, loading on another thread (a damaged set makes the report's
    /// `already_sent` say it was skipped, never "0 already sent").
    pub sent: Option<Loading<SentLookup>>,
    /// Checks that could not be made and why (an unreadable catalog, no data directory):
    /// shown as warnings.
    pub skipped: Vec<String>,
}

impl TrackerChecks {
    /// Load both for the saved tracker `name` (its catalog is stored under the name) with id
    /// `tracker_id`, from the data directory.
    pub fn for_tracker(name: &str, tracker_id: &str) -> Self {
        match crate::config::data_dir() {
            Ok(dir) => Self::for_tracker_in(&dir, name, tracker_id),
            Err(e) => TrackerChecks {
                tracker_id: tracker_id.to_string(),
                skipped: vec![format!(
                    "the catalog and already-sent checks were skipped: {e}"
                )],
                ..Default::default()
            },
        }
    }

    /// Like [`TrackerChecks::for_tracker`], with the data directory `dir` (the wizard's).
    pub fn for_tracker_in(dir: &Path, name: &str, tracker_id: &str) -> Self {
        let mut out = TrackerChecks {
            tracker_id: tracker_id.to_string(),
            ..Default::default()
        };
        match catalog::load_index(&catalog::stored_path(dir, name)) {
            Ok(ix) => out.catalog = ix.map(Arc::new),
            Err(e) => out
                .skipped
                .push(format!("the catalog check was skipped: {e}")),
        }
        out.load_sent(SentSets::new(dir, tracker_id));
        out
    }

    /// Start reading the sent sets on another thread (a damaged one skips the check with its
    /// path).
    pub fn load_sent(&mut self, sets: SentSets) {
        self.sent = Some(Loading::spawn(move || {
            sets.load_all()
                .map_err(|e| format!("the already-sent check was skipped: {e}"))
        }));
    }

    /// Use the catalog in `file` (a saved Content Export response, JSON lines with `url`, or
    /// one identity per line) instead of the stored one.
    pub fn with_catalog_file(mut self, file: &Path) -> Result<Self, String> {
        let c = stored_from_file(file)?;
        self.catalog = Some(Arc::new(catalog::index_of(&c)));
        Ok(self)
    }

    /// Hand both to a validation run.
    pub fn apply(&self, opts: &mut Options) {
        opts.catalog.clone_from(&self.catalog);
        opts.sent.clone_from(&self.sent);
    }

    /// Name the earlier uploads of the report's `already_sent` section (date and file, from
    /// the history) and list the ones whose orders were never recorded.
    pub fn complete(&self, report: &mut Report) {
        if report.already_sent.is_none() {
            return;
        }
        let entries = History::open_default()
            .and_then(|h| h.list())
            .unwrap_or_default();
        self.complete_from(&entries, report);
    }

    /// Like [`TrackerChecks::complete`], with the history `entries` (the wizard's).
    pub fn complete_from(&self, entries: &[HistoryEntry], report: &mut Report) {
        let Some(a) = report.already_sent.as_mut() else {
            return;
        };
        let entries: Vec<&HistoryEntry> = entries
            .iter()
            .filter(|e| e.tracker_id == self.tracker_id)
            .collect();
        name_uploads(entries.iter().copied(), &mut a.by_upload);
        let sent = self.sent.as_ref().and_then(|l| l.wait().ok());
        let keys: Vec<&String> = sent
            .as_deref()
            .map_or(Vec::new(), |s| s.keys().iter().collect());
        a.unrecorded = entries
            .iter()
            .filter(|e| without_record(e, &keys))
            .map(|e| SentBy {
                key: entry_key(e.time, &e.sha256),
                sent_at: Some(e.time),
                file: Some(e.file.display().to_string()),
                orders: 0,
            })
            .collect();
    }
}

/// Whether `e` counts as sent (accepted, or outcome unknown) but none of the set `keys` holds
/// its orders (made before lbimport kept sent orders, or stopped while sending): its orders
/// cannot be compared, and the checks say so rather than guessing.
pub fn without_record<K: std::borrow::Borrow<String>>(e: &HistoryEntry, keys: &[K]) -> bool {
    let key = entry_key(e.time, &e.sha256);
    e.outcome.counts_as_sent()
        && e.outcome != Outcome::Sending
        && !keys.iter().any(|k| *k.borrow() == key)
}

/// Give each earlier upload of `by` (named by its set key) its date and file from the history
/// `entries` of its tracker, where they have one.
pub fn name_uploads<'a>(
    entries: impl Iterator<Item = &'a HistoryEntry> + Clone,
    by: &mut [SentBy],
) {
    for b in by {
        if let Some(e) = entries
            .clone()
            .find(|e| entry_key(e.time, &e.sha256) == b.key)
        {
            b.sent_at = Some(e.time);
            b.file = Some(e.file.display().to_string());
        }
    }
}

/// A catalog from a file (see [`TrackerChecks::with_catalog_file`]), as it would be stored.
pub fn stored_from_file(file: &Path) -> Result<StoredCatalog, String> {
    let parsed = crate::server::catalog::Catalog::load(file)?;
    let attr = |o: &crate::server::catalog::Object, k: &str| {
        o.attributes
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Array(l) => {
                    l.iter().find_map(|x| x.as_str().map(str::to_string))
                }
                _ => None,
            })
    };
    let objects: Vec<StoredObject> = parsed
        .objects()
        .iter()
        .map(|o| StoredObject {
            identity: o.url.clone(),
            kind: o.kind.clone(),
            web_url: attr(o, "web_url"),
            title: attr(o, "title"),
        })
        .collect();
    let fetched_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(StoredCatalog {
        source: file.display().to_string(),
        fetched_at,
        total: objects.len() as u64,
        objects,
    })
}
