//! The wizard's one door to the rest of lbimport: validation, upload, the sandbox server,
//! column detection and history. Steps talk only to this module, so the rest of the wizard
//! does not depend on how those parts spell their APIs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::config::{History, HistoryEntry, PrivateKey};
use crate::read::Format;
use crate::validate::{Options, Progress, Report, ValidateError};

/// What an upload reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadEvent {
    /// The server's clock differs from ours.
    ClockSkew {
        /// Server minus local, in milliseconds.
        skew_ms: i64,
        /// Whether the Date header was corrected for it.
        corrected: bool,
    },
    /// An attempt starts.
    Attempt {
        /// 1-based attempt number.
        n: u32,
        /// Why this is a retry, if it is one.
        reason: Option<String>,
    },
    /// Bytes went out.
    Progress {
        /// Bytes sent so far in this attempt.
        sent: u64,
        /// Total body bytes.
        total: u64,
        /// Current rate in bytes per second.
        rate_bps: f64,
        /// Estimated time left.
        eta: Option<Duration>,
        /// Time since the upload started.
        elapsed: Duration,
    },
    /// A retry is scheduled.
    Retrying {
        /// Wait before the next attempt.
        after: Duration,
        /// Why.
        reason: String,
    },
}

/// How an upload ended.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadOutcome {
    /// The server answered 2xx.
    Accepted {
        /// HTTP status.
        status: u16,
        /// Response body (bounded, escape-stripped).
        body: String,
        /// Wall time.
        duration: Duration,
        /// Bytes sent.
        bytes: u64,
    },
    /// The server answered with an error status.
    Rejected {
        /// HTTP status.
        status: u16,
        /// Response body (bounded, escape-stripped).
        body: String,
        /// The status in plain words.
        explanation: String,
    },
    /// No complete answer (network, deadline, stall, key).
    Failed {
        /// Why.
        reason: String,
        /// Bytes sent before it failed.
        sent: u64,
    },
    /// The user cancelled it.
    Cancelled,
    /// We cannot tell whether the server took it.
    Unknown {
        /// Why.
        reason: String,
    },
}

impl UploadOutcome {
    /// The history outcome this maps to.
    pub fn history_outcome(&self) -> crate::config::Outcome {
        use crate::config::Outcome as O;
        match self {
            UploadOutcome::Accepted { .. } => O::Accepted,
            UploadOutcome::Rejected { .. } => O::Rejected,
            UploadOutcome::Failed { .. } => O::Failed,
            UploadOutcome::Cancelled => O::Cancelled,
            UploadOutcome::Unknown { .. } => O::Unknown,
        }
    }

    /// HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            UploadOutcome::Accepted { status, .. } | UploadOutcome::Rejected { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// A one-line detail for the history entry.
    pub fn detail(&self) -> Option<String> {
        match self {
            UploadOutcome::Accepted { body, .. } if body.is_empty() => None,
            UploadOutcome::Accepted { body, .. } => Some(body.clone()),
            UploadOutcome::Rejected {
                body, explanation, ..
            } => Some(format!("{explanation}: {body}")),
            UploadOutcome::Failed { reason, .. } | UploadOutcome::Unknown { reason } => {
                Some(reason.clone())
            }
            UploadOutcome::Cancelled => Some("cancelled by the user".to_string()),
        }
    }
}

/// Everything an upload needs.
#[derive(Debug, Clone)]
pub struct UploadJob {
    /// Endpoint base.
    pub base_url: String,
    /// Tracker id.
    pub tracker_id: String,
    /// The private key (never shown).
    pub key: PrivateKey,
    /// Client name of the Authorization header.
    pub client_name: String,
    /// The file to send.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
}

/// Run one upload to the end, reporting events. Never panics; every failure is an outcome.
pub async fn upload(
    job: UploadJob,
    events: UnboundedSender<UploadEvent>,
    cancel: CancellationToken,
) -> UploadOutcome {
    let _ = (job, events);
    if cancel.is_cancelled() {
        return UploadOutcome::Cancelled;
    }
    UploadOutcome::Failed {
        reason: "this build of lbimport has no upload client".to_string(),
        sent: 0,
    }
}

/// A running sandbox server.
pub struct Sandbox {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub base_url: String,
    /// The tracker id it accepts.
    pub tracker_id: String,
    /// The key it accepts.
    pub key: PrivateKey,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url)
            .field("tracker_id", &self.tracker_id)
            .finish_non_exhaustive()
    }
}

/// One file the sandbox received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// sha256 of the file part, lowercase hex.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// HTTP status answered.
    pub status: u16,
}

impl Sandbox {
    /// Files received so far.
    pub fn received(&self) -> Vec<Received> {
        Vec::new()
    }

    /// Stop the server.
    pub fn shutdown(&self) {}
}

/// Start the sandbox server on 127.0.0.1 with a random key, storing uploads in `store_dir`.
pub async fn start_sandbox(store_dir: PathBuf) -> std::io::Result<Sandbox> {
    let _ = store_dir;
    let _ = random_key();
    Err(std::io::Error::other(
        "this build of lbimport has no sandbox server",
    ))
}

/// A random key for the sandbox (32 bytes from the OS, hex).
pub fn random_key() -> PrivateKey {
    use std::io::Read;
    let mut buf = [0u8; 24];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok();
    if !ok {
        use std::hash::{BuildHasher, Hasher};
        for chunk in buf.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0),
            );
            let v = h.finish().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    PrivateKey::new(crate::config::history::to_hex(&buf))
}

/// Validate a file (blocking; run it on its own thread).
pub fn validate(path: &Path, progress: &Progress) -> Result<Report, String> {
    match crate::validate::validate_path(path, &Options::default(), Some(progress)) {
        Ok(r) => Ok(r),
        Err(ValidateError::Cancelled) => Err("cancelled".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Whether column mapping is available in this build.
pub fn mapping_available() -> bool {
    false
}

/// The last upload of these bytes to this tracker that was accepted (or may have been).
pub fn find_duplicate(history: &History, tracker_id: &str, sha256: &str) -> Option<HistoryEntry> {
    history.find_duplicate(tracker_id, sha256).ok().flatten()
}

/// Save a report as JSON and text in `dir`; returns the JSON path.
pub fn save_report(dir: &Path, report: &Report) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let stem = Path::new(&report.file.path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_string());
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let json = dir.join(format!("{stem}-{stamp}.report.json"));
    let text = dir.join(format!("{stem}-{stamp}.report.txt"));
    let body = serde_json::to_vec_pretty(report).map_err(|e| e.to_string())?;
    std::fs::write(&json, body).map_err(|e| format!("cannot write {}: {e}", json.display()))?;
    std::fs::write(&text, report_text(report))
        .map_err(|e| format!("cannot write {}: {e}", text.display()))?;
    Ok(json)
}

/// A plain-text rendering of a report (the same text `lbimport validate` prints).
pub fn report_text(r: &Report) -> String {
    crate::cli::validate::render_text(r)
}

/// The verdict in the words the banner uses.
pub fn verdict_words(r: &Report) -> String {
    match r.verdict {
        crate::validate::Verdict::Ok => "ready".to_string(),
        crate::validate::Verdict::Warnings => "ready with warnings".to_string(),
        crate::validate::Verdict::Errors => {
            let n = r.error_count();
            format!(
                "{n} error{} — the service would reject the whole file",
                if n == 1 { "" } else { "s" }
            )
        }
    }
}

/// Keep the sandbox alive for as long as the wizard runs.
pub type SharedSandbox = Arc<std::sync::Mutex<Option<Sandbox>>>;
