//! Validation: checks, statistics and the report, streamed over the file.
//!
//! One pipe — file → records → checks → [`Report`] — reused by `validate`, `normalize`,
//! `serve`, `upload` and the wizard. Runs can be watched ([`Progress::snapshot`]) and cancelled
//! ([`Progress::cancel`]) from another thread.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use crate::read::Format;

mod against;
mod agg;
mod buckets;
pub mod checks;
mod collect;
mod engine;
mod examples;
pub mod lookup;
/// The four fields of one record (for checks over a file's rows outside the validator).
pub(crate) use engine::parse_fields as engine_fields;
pub mod report;
mod resolve;
mod run;
pub mod text;

pub use examples::{escape_controls, example_text};

/// The smallest line cap a run accepts (64 KiB), whatever `Options::max_line_bytes` says.
pub(crate) const MIN_LINE_CAP: usize = 64 << 10;

pub use report::{
    AlreadySent, CatalogCheck, CatalogDiagnosis, Code, Distribution, Example, FileInfo, Issue,
    LineEndings, Report, Sample, SampleRow, SentBy, Severity, Stats, TopProduct, Verdict,
};

/// The service's size limit (1 GiB) and, above 10^9 bytes, the `file_near_limit` warning.
pub use crate::spec::{MAX_FILE_BYTES, NEAR_LIMIT_BYTES};

/// Knobs of a validation run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Longest accepted line in bytes (at least 64 KiB). Default 1 MiB.
    pub max_line_bytes: usize,
    /// Examples kept per issue. Default 5.
    pub max_examples: usize,
    /// Multi-item orders sampled. Default 5.
    pub max_samples: usize,
    /// An order with more distinct items than this gets `large_order`. Default 100.
    pub large_order_items: u64,
    /// Force a format instead of using the extension / sniffing.
    pub format: Option<Format>,
    /// "Now" for `future_timestamp` (tests pin it); `None` = the system clock.
    pub now: Option<DateTime<Utc>>,
    /// Worker threads besides the reader: 1 parses, checks and aggregates on one thread; 2
    /// (or more) aggregates on a second thread while rows stream, and shares the end of the
    /// run (compacting the order and user stores, re-reading scattered orders) among that
    /// many threads. 0 (default) = 2 when the machine has at least two CPUs. Reports are
    /// identical either way.
    pub threads: usize,
    /// Bytes per read (default 512 KiB, so blocks in flight stay in the CPU's caches; tests
    /// use tiny ones to exercise block boundaries).
    pub block_bytes: usize,
    /// Valid rows per batch handed to the aggregation stage (default 4,096).
    pub batch_rows: usize,
    /// The tracker's catalog: when given, identities are compared with it (the report's
    /// `catalog` section and `identity_not_in_catalog`).
    pub catalog: Option<std::sync::Arc<lookup::CatalogIndex>>,
    /// What earlier uploads sent to the tracker: when given, orders are compared with it (the
    /// report's `already_sent` section and `orders_already_sent`).
    pub sent: Option<lookup::Loading<lookup::SentLookup>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_line_bytes: 1 << 20,
            max_examples: 5,
            max_samples: 5,
            large_order_items: 100,
            format: None,
            now: None,
            threads: 0,
            block_bytes: 512 << 10,
            batch_rows: 1 << 12,
            catalog: None,
            sent: None,
        }
    }
}

/// Live counters of a running validation (a snapshot; see [`Progress::snapshot`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Bytes read so far.
    pub bytes_read: u64,
    /// File size.
    pub total_bytes: u64,
    /// Rows so far.
    pub rows: u64,
    /// Distinct orders so far (while the run streams an estimate within ~2 %; exact when done).
    pub orders: u64,
    /// Orders with ≥ 2 distinct items so far (while the run streams: runs of rows of one order
    /// with ≥ 2 items; exact when done).
    pub multi_item_orders: u64,
    /// Pairs so far (while the run streams: counted per run of rows; exact when done).
    pub pairs: u64,
    /// Distinct products so far (while the run streams an estimate within ~2 %; exact when
    /// done).
    pub products: u64,
    /// Distinct users so far (while the run streams an estimate within ~2 %; exact when done).
    pub users: u64,
    /// Earliest created_at so far (normalised).
    pub first_purchase: Option<String>,
    /// Latest created_at so far (normalised).
    pub last_purchase: Option<String>,
    /// Issue counts so far: (code, count), in `Code::ALL` order.
    pub issues: Vec<(Code, u64)>,
    /// The run has finished (successfully, with an error, or cancelled).
    pub done: bool,
}

/// Shared between a validation run and its watchers: progress counters and cancellation.
/// Cheap to read from the UI thread at any rate.
#[derive(Debug, Default)]
pub struct Progress {
    bytes_read: AtomicU64,
    total_bytes: AtomicU64,
    rows: AtomicU64,
    cancelled: AtomicBool,
    snapshot: Mutex<Snapshot>,
}

impl Progress {
    /// A fresh progress handle.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask the run to stop; it returns [`ValidateError::Cancelled`] promptly.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether [`Progress::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Bytes read so far (updated often).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// File size, once known.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes.load(Ordering::Relaxed)
    }

    /// Rows so far (updated often).
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    /// The latest full snapshot (updated every few MB), with the fast counters refreshed.
    pub fn snapshot(&self) -> Snapshot {
        let mut s = match self.snapshot.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        s.bytes_read = s.bytes_read.max(self.bytes_read());
        s.total_bytes = self.total_bytes();
        s.rows = s.rows.max(self.rows());
        s
    }

    /// Record the fast counters (called by the validator).
    pub fn set_counters(&self, bytes_read: u64, rows: u64) {
        self.bytes_read.store(bytes_read, Ordering::Relaxed);
        self.rows.store(rows, Ordering::Relaxed);
    }

    /// Record the file size (called by the validator).
    pub fn set_total(&self, total: u64) {
        self.total_bytes.store(total, Ordering::Relaxed);
    }

    /// Publish a full snapshot (called by the validator).
    pub fn publish(&self, snapshot: Snapshot) {
        self.set_counters(snapshot.bytes_read, snapshot.rows);
        match self.snapshot.lock() {
            Ok(mut g) => *g = snapshot,
            Err(p) => *p.into_inner() = snapshot,
        }
    }
}

/// Why a validation run produced no report.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// The file couldn't be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// [`Progress::cancel`] was called.
    #[error("validation cancelled")]
    Cancelled,
}

/// Validate the file at `path`, streaming it. `progress`, when given, is updated as the run
/// goes and checked for cancellation.
pub fn validate_path(
    path: &Path,
    opts: &Options,
    progress: Option<&Progress>,
) -> Result<Report, ValidateError> {
    let res = run::run(path, opts, progress);
    if let Some(p) = progress {
        let mut s = p.snapshot();
        s.done = true;
        p.publish(s);
    }
    res
}
