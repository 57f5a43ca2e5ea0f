//! The duplicate guard around one upload: a per-tracker lock held from the history check to
//! the recorded outcome, and the attempt written to the history before the first byte leaves.
//!
//! ```text
//! Attempt::begin   lock tracker → history has these bytes as sent? refuse : record "sending"
//! … upload …
//! Attempt::finish  record the outcome (same attempt id) → unlock
//! ```
//!
//! Two processes sending the same file to one tracker are serialized by the lock, so the second
//! sees the first's record and is refused. A process killed mid-upload leaves its `sending`
//! record, read later as unknown (see [`crate::config::history`]): the file is not sent again
//! without `--allow-duplicate`.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Outcome;
use crate::config::{
    ConfigError, FileLock, History, HistoryEntry, Outcome as HistoryOutcome, upload_lock_path,
};
use crate::read::Format;

/// What the history records about the file and where it goes.
#[derive(Debug, Clone)]
pub struct AttemptFacts {
    /// The saved tracker's name (or what the user called it).
    pub tracker_name: String,
    /// The tracker id the upload is signed for.
    pub tracker_id: String,
    /// The endpoint base.
    pub base_url: String,
    /// The file sent (absolute when possible).
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// sha256 of its bytes, lowercase hex.
    pub sha256: String,
    /// Its format.
    pub format: Format,
    /// Rows counted by the validator, if it ran.
    pub rows: Option<u64>,
    /// Orders counted by the validator, if it ran.
    pub orders: Option<u64>,
    /// The earliest and latest `created_at` of the file, from its validation report.
    pub purchases: (Option<String>, Option<String>),
    /// The validation report saved for this attempt (linked from its history entry).
    pub report: Option<PathBuf>,
}

/// Why an upload may not start.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// The history says these bytes were already sent to this tracker.
    #[error("these exact bytes were already sent to tracker {} on {} (outcome: {})",
        .0.tracker_id, .0.time.format("%Y-%m-%d %H:%M:%S UTC"), .0.outcome)]
    Duplicate(Box<HistoryEntry>),
    /// The tracker's upload lock could not be taken.
    #[error("cannot take the upload lock {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The history could not be read or the attempt not recorded: without a record the
    /// duplicate guard could not protect a later run, so nothing is sent.
    #[error("cannot record the upload in the history: {0}")]
    History(#[from] ConfigError),
}

/// One upload attempt between its `sending` record and its outcome; holds the tracker's lock.
#[derive(Debug)]
pub struct Attempt {
    history: History,
    entry: HistoryEntry,
    started: std::time::Instant,
    _lock: FileLock,
}

impl Attempt {
    /// Take the tracker's upload lock (calling `waiting` once if another process holds it),
    /// refuse when the history has these bytes as sent to this tracker (unless
    /// `allow_duplicate`), and record the attempt as `sending`.
    pub fn begin(
        history: &History,
        facts: AttemptFacts,
        allow_duplicate: bool,
        waiting: impl FnOnce(),
    ) -> Result<Attempt, GuardError> {
        let path = upload_lock_path(history.dir(), &facts.tracker_id);
        let lock = FileLock::acquire_or_wait(&path, waiting)
            .map_err(|source| GuardError::Lock { path, source })?;
        if !allow_duplicate
            && let Some(prev) = history.find_duplicate(&facts.tracker_id, &facts.sha256)?
        {
            return Err(GuardError::Duplicate(Box::new(prev)));
        }
        let entry = sending_entry(facts, Utc::now());
        history.append(&entry)?;
        Ok(Attempt {
            history: history.clone(),
            entry,
            started: std::time::Instant::now(),
            _lock: lock,
        })
    }

    /// The `sending` record.
    pub fn entry(&self) -> &HistoryEntry {
        &self.entry
    }

    /// Record how the upload ended (replacing the `sending` record) and release the lock.
    /// Returns the entry written; on a write error the `sending` record stays, read later as
    /// unknown.
    pub fn finish(self, outcome: &Outcome) -> Result<HistoryEntry, ConfigError> {
        match self.finish_keeping(outcome) {
            (entry, None) => Ok(entry),
            (_, Some(e)) => Err(e),
        }
    }

    /// [`Attempt::finish`], always giving the entry of the outcome (what the upload did does
    /// not depend on whether the history could record it) and the write error, if any.
    pub fn finish_keeping(self, outcome: &Outcome) -> (HistoryEntry, Option<ConfigError>) {
        let entry = finished_entry(self.entry.clone(), outcome, self.started.elapsed());
        let written = self.history.append(&entry).err();
        (entry, written)
    }
}

/// The purchase range an attempt records, from its validation report (if the validator ran):
/// the report's first and last `created_at`.
pub fn purchases_of(report: Option<&crate::validate::Report>) -> (Option<String>, Option<String>) {
    report.map_or((None, None), |r| {
        (
            r.stats.first_purchase.clone(),
            r.stats.last_purchase.clone(),
        )
    })
}

/// The `sending` record of a new attempt.
pub fn sending_entry(f: AttemptFacts, time: DateTime<Utc>) -> HistoryEntry {
    HistoryEntry {
        time,
        tracker_name: f.tracker_name,
        tracker_id: f.tracker_id,
        base_url: f.base_url,
        file: f.file,
        bytes: f.bytes,
        sha256: f.sha256,
        format: f.format,
        rows: f.rows,
        orders: f.orders,
        first_purchase: f.purchases.0,
        last_purchase: f.purchases.1,
        outcome: HistoryOutcome::Sending,
        status: None,
        duration_ms: 0,
        detail: None,
        attempt: Some(HistoryEntry::new_attempt_id()),
        pid: Some(std::process::id()),
        report: f.report,
    }
}

/// The record of how an attempt ended, from its `sending` record.
pub fn finished_entry(sending: HistoryEntry, outcome: &Outcome, took: Duration) -> HistoryEntry {
    HistoryEntry {
        outcome: outcome.history_outcome(),
        status: outcome.status(),
        duration_ms: took.as_millis().min(u128::from(u64::MAX)) as u64,
        detail: outcome.detail(),
        pid: None,
        ..sending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(sha: &str) -> AttemptFacts {
        AttemptFacts {
            tracker_name: "shop".into(),
            tracker_id: "1-2".into(),
            base_url: "http://127.0.0.1:1".into(),
            file: "/x/orders.csv".into(),
            bytes: 10,
            sha256: sha.into(),
            format: Format::Csv,
            rows: Some(1),
            orders: Some(1),
            purchases: (None, None),
            report: None,
        }
    }

    #[test]
    fn a_sending_record_guards_until_its_outcome_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::at(dir.path());
        let a = Attempt::begin(&h, facts("aa"), false, || {}).unwrap();
        // While it runs, the same bytes are refused (the record says "sending").
        let dup = h
            .find_duplicate("1-2", "aa")
            .unwrap()
            .expect("sending counts");
        assert_eq!(dup.outcome, HistoryOutcome::Sending);
        let e = a
            .finish(&Outcome::Failed {
                reason: "connection refused".into(),
                sent: 0,
            })
            .unwrap();
        assert_eq!(e.outcome, HistoryOutcome::Failed);
        // A failed attempt does not count as sent: the one line left for it says failed.
        assert!(h.find_duplicate("1-2", "aa").unwrap().is_none());
        let list = h.list().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].outcome, HistoryOutcome::Failed);
        assert_eq!(list[0].detail.as_deref(), Some("connection refused"));
        // Now it can be sent again, and a second begin on another sha is independent.
        let a = Attempt::begin(&h, facts("aa"), false, || {}).unwrap();
        a.finish(&Outcome::Unknown {
            reason: "no answer".into(),
        })
        .unwrap();
        let err = Attempt::begin(&h, facts("aa"), false, || {}).unwrap_err();
        assert!(matches!(err, GuardError::Duplicate(_)), "{err}");
        assert!(Attempt::begin(&h, facts("aa"), true, || {}).is_ok());
    }

    #[test]
    fn a_sending_record_of_a_dead_process_reads_as_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::at(dir.path());
        let mut e = sending_entry(facts("bb"), Utc::now());
        e.pid = Some(u32::MAX - 7); // no such process
        h.append(&e).unwrap();
        let list = h.list().unwrap();
        assert_eq!(list[0].outcome, HistoryOutcome::Unknown);
        assert!(list[0].detail.as_deref().unwrap().contains("ended before"));
        let dup = h
            .find_duplicate("1-2", "bb")
            .unwrap()
            .expect("counts as sent");
        assert_eq!(dup.outcome, HistoryOutcome::Unknown);
    }
}
