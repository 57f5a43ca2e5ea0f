//! The wizard's one door to the rest of lbimport: validation, upload, the sandbox server,
//! column detection and history. Steps talk only to this module, so the rest of the wizard
//! does not depend on how those parts spell their APIs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::config::{History, HistoryEntry, PrivateKey};
use crate::read::Format;
use crate::validate::{Progress, Report};

pub use crate::server::Received;
/// What an upload reports while it runs (the upload client's events).
pub use crate::upload::Event as UploadEvent;
/// How an upload ended (the upload client's outcome).
pub use crate::upload::Outcome as UploadOutcome;

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
    /// sha256 of the validated bytes: the upload stops before the end of the request when
    /// the file no longer hashes to it.
    pub sha256: String,
}

/// Run one upload to the end, reporting events. Never panics; every failure is an outcome.
pub async fn upload(
    job: UploadJob,
    events: UnboundedSender<UploadEvent>,
    cancel: CancellationToken,
) -> UploadOutcome {
    let req = crate::upload::UploadRequest {
        base_url: job.base_url,
        tracker_id: job.tracker_id,
        key: job.key,
        client_name: job.client_name,
        body: crate::upload::Body::Hashed {
            path: job.path,
            format: job.format,
            sha256: job.sha256,
        },
        settings: crate::upload::Settings::default(),
    };
    crate::upload::run(req, Some(events), cancel).await
}

/// Server time minus local time in ms for the endpoint at `base_url` (the check an upload
/// does before it starts), or why it could not be read.
pub async fn measure_clock_skew(base_url: &str) -> Result<i64, String> {
    crate::upload::measure_clock_skew(base_url).await
}

/// Skew (ms, either way) above which an upload signs with the server's time.
pub fn skew_correction_ms() -> i64 {
    crate::upload::Settings::default().max_skew.as_millis() as i64
}

/// A running sandbox server (stopped when dropped).
pub struct Sandbox {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub base_url: String,
    /// The tracker id it accepts.
    pub tracker_id: String,
    /// The key it accepts.
    pub key: PrivateKey,
    running: crate::server::Running,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url)
            .field("tracker_id", &self.tracker_id)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Upload requests it answered so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.running.received()
    }

    /// Stop the server.
    pub fn shutdown(&self) {
        self.running.shutdown();
    }
}

/// Start the sandbox server on 127.0.0.1 with a random tracker id and key, storing accepted
/// uploads in `store_dir`.
pub async fn start_sandbox(store_dir: PathBuf) -> std::io::Result<Sandbox> {
    let key = random_key();
    // The id is derived from a digest of the key, so it reveals nothing of the key itself.
    let digest = <sha2::Sha256 as sha2::Digest>::digest(key.expose());
    let tracker_id = format!("sandbox-{:02x}{:02x}", digest[0], digest[1]);
    let mut cfg = crate::server::Config::new(tracker_id.clone(), key.clone(), store_dir);
    cfg.catalog = Some(Arc::new(crate::server::catalog::Catalog::demo()));
    let running = crate::server::start(cfg).await?;
    Ok(Sandbox {
        base_url: running.base_url.clone(),
        tracker_id,
        key,
        running,
    })
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

/// The catalog and sent orders of the tracker `target`, from the data directory `data_dir`
/// (blocking: it reads the stored catalog).
pub fn tracker_checks(
    data_dir: &Path,
    target: &crate::tui::flow::CheckTarget,
) -> crate::pipeline::checks::TrackerChecks {
    crate::pipeline::checks::TrackerChecks::for_tracker_in(
        data_dir,
        &target.name,
        &target.tracker_id,
    )
}

/// Validate a file against the tracker's `checks`, naming earlier uploads from `history`
/// (blocking; run it on its own thread).
pub fn validate(
    path: &Path,
    progress: &Progress,
    checks: &crate::pipeline::checks::TrackerChecks,
    history: &History,
) -> Result<Report, crate::pipeline::Error> {
    let entries = history.list().unwrap_or_default();
    crate::pipeline::validate_file(
        path,
        crate::validate::Options::default(),
        checks,
        Some(&entries),
        Some(progress),
    )
}

/// Fetch the catalog of `tracker` (its key resolved off the async threads) and store it at
/// `path`, replacing the previous one only when the whole catalog arrived. Returns the number
/// of objects stored.
pub async fn fetch_catalog(
    tracker: crate::config::Tracker,
    path: PathBuf,
    cancel: CancellationToken,
    on_event: impl FnMut(crate::catalog::FetchEvent),
) -> Result<u64, String> {
    let t = tracker.clone();
    let key = tokio::task::spawn_blocking(move || t.resolve_key())
        .await
        .map_err(|e| format!("key lookup failed: {e}"))?
        .map_err(|e| format!("no private key: {e}"))?;
    let opts = crate::catalog::FetchOptions::new(&tracker.base_url, &tracker.tracker_id, key);
    let cat = crate::catalog::fetch(&opts, &cancel, on_event).await?;
    let n = cat.objects.len() as u64;
    tokio::task::spawn_blocking(move || crate::catalog::save(&path, &cat))
        .await
        .map_err(|e| format!("cannot store the catalog: {e}"))??;
    Ok(n)
}

/// After an upload that counts as sent (accepted or unknown outcome): record the file's
/// orders in the tracker's sent sets under `data_dir`, as `lbimport upload` does (blocking).
pub fn record_sent(data_dir: &Path, entry: &HistoryEntry, path: &Path) -> Result<(), String> {
    if !entry.outcome.counts_as_sent() {
        return Ok(());
    }
    let sets = crate::config::sent::SentSets::new(data_dir, &entry.tracker_id);
    crate::pipeline::overlap::record_sent(&sets, entry, path, entry.format).map(|_| ())
}

/// Whether column mapping is available in this build.
pub fn mapping_available() -> bool {
    true
}

/// What the file looks like: delimiter, header, column roles, whether it already fits the
/// documented layout (reads a bounded sample).
pub fn detect(path: &Path) -> Option<crate::mapping::detect::Detection> {
    crate::mapping::detect::detect_path(path).ok()
}

/// The mapping saved for this tracker and file shape.
pub fn saved_mapping(
    tracker: &crate::config::Tracker,
    shape: &str,
) -> Option<crate::mapping::Mapping> {
    crate::config::mappings::find_by_shape(tracker, shape).map(|s| s.mapping.clone())
}

/// Convert `input` through `mapping` into `out` with the fixes the validation report offered: identity rewrites (the
/// catalog-needing ones read the tracker's catalog stored in `data_dir`) and "only new
/// orders" (every row of an order already sent to the tracker is left out of `out`, by
/// [`crate::pipeline::only_new::filter_file`]). Returns one line per fix applied, saying what
/// it changed. The catalog and the sent orders are read before converting, so a failure to
/// read them writes nothing; a failure while filtering removes `out`.
#[allow(clippy::too_many_arguments)]
pub fn convert_fixing(
    input: &Path,
    mapping: &crate::mapping::Mapping,
    clean: &crate::mapping::convert::Clean,
    fixes: &super::steps::columns::ReportFixes,
    data_dir: &Path,
    target: &super::flow::CheckTarget,
    out: &Path,
    progress: &Progress,
) -> Result<(crate::mapping::convert::ConvertSummary, Vec<String>), String> {
    let rewrite = if fixes.identity.is_empty() {
        None
    } else {
        Some(crate::pipeline::rewrite::from_fixes(
            &fixes.identity,
            data_dir,
            &target.name,
        )?)
    };
    let lookup = if fixes.only_new {
        let sets = crate::config::sent::SentSets::new(data_dir, &target.tracker_id);
        Some(sets.load_all().map_err(|e| {
            format!("cannot leave out the orders already sent: {e}; nothing was converted")
        })?)
    } else {
        None
    };
    let c = crate::pipeline::convert(
        input,
        mapping,
        clean,
        rewrite.as_ref(),
        lookup.as_ref(),
        out,
        Some(progress),
    )
    .map_err(|e| e.to_string())?;
    let mut summary = c.summary;
    if let Some(f) = &c.only_new {
        // what is left in the file, as `normalize --only-new-orders` reports it
        summary.rows_out = f.rows_kept;
        summary.bytes_out = f.bytes_kept;
    }
    let mut notes = Vec::new();
    if rewrite.is_some() {
        let flags: Vec<&str> = fixes.identity.iter().map(|f| f.flag()).collect();
        notes.push(format!(
            "identities rewritten in {} rows ({})",
            ui_count(summary.identities_rewritten),
            flags.join(" ")
        ));
    }
    if let Some(f) = &c.only_new {
        notes.push(format!(
            "{} orders ({} rows) already sent dropped; {} rows kept",
            ui_count(f.dropped.orders),
            ui_count(f.dropped.rows),
            ui_count(f.rows_kept)
        ));
    }
    Ok((summary, notes))
}

fn ui_count(n: u64) -> String {
    super::ui::count(n)
}

/// Save a report as JSON and text in `dir` (atomically, 0600, stamped with when and where it
/// was made); returns the JSON path.
pub fn save_report(dir: &Path, report: &Report) -> Result<PathBuf, String> {
    crate::report_store::save(dir, report)
}

/// A plain-text rendering of a report (the same text `lbimport validate` prints).
pub fn report_text(r: &Report) -> String {
    crate::validate::text::render_text(r)
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
