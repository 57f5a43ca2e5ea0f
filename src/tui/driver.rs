//! Executes the app's [`Effect`]s: threads for validation, tokio tasks for uploads, the
//! sandbox and file writes. Results come back as [`Msg`]s. Used by the run loop and by tests.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use super::flow::{Effect, Msg, TaskError};
use super::services::{self, Received, SharedSandbox, UploadJob, UploadOutcome};
use crate::config::{ConfigStore, History, KeySource, Tracker};
use crate::upload::guard::{Attempt, AttemptFacts};

/// Name of the sandbox tracker.
pub const SANDBOX_TRACKER: &str = "Sandbox";

/// Runs effects and collects their results.
pub struct Driver {
    tx: UnboundedSender<Msg>,
    rx: UnboundedReceiver<Msg>,
    store: ConfigStore,
    history: History,
    data_dir: PathBuf,
    sandbox: SharedSandbox,
    uploads: Vec<JoinHandle<()>>,
    /// The last split thread: a new split waits for it, so two splits never write the same
    /// part files at once.
    split: Option<std::thread::JoinHandle<()>>,
    /// The config the wizard's copy was read as (or last saved as): a save writes only what
    /// changed since, merged into the file as it is now.
    config_base: Option<crate::config::Config>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// A driver writing trackers to `store`, history to `history` and reports, converted
    /// files and the sandbox's store under `data_dir`. Must be created inside a tokio runtime.
    pub fn new(store: ConfigStore, history: History, data_dir: PathBuf) -> Self {
        let (tx, rx) = unbounded_channel();
        Driver {
            tx,
            rx,
            store,
            history,
            data_dir,
            sandbox: Arc::new(Mutex::new(None)),
            uploads: Vec::new(),
            split: None,
            config_base: None,
        }
    }

    /// The config as the wizard read it: later saves merge only the wizard's own changes into
    /// `trackers.toml`, keeping trackers other processes added or changed meanwhile.
    pub fn set_config_base(&mut self, base: crate::config::Config) {
        self.config_base = Some(base);
    }

    /// Wait for the next message.
    pub async fn recv(&mut self) -> Option<Msg> {
        self.rx.recv().await
    }

    /// A message, if one is waiting.
    pub fn try_recv(&mut self) -> Option<Msg> {
        self.rx.try_recv().ok()
    }

    /// What the sandbox has received so far.
    pub fn sandbox_received(&self) -> Vec<Received> {
        match self.sandbox.lock() {
            Ok(g) => g.as_ref().map(|s| s.received()).unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// Run effects; returns `true` when one of them is [`Effect::Quit`].
    pub fn execute(&mut self, effects: Vec<Effect>) -> bool {
        let mut quit = false;
        for fx in effects {
            match fx {
                Effect::Quit => quit = true,
                Effect::LoadCatalog { name } => {
                    let tx = self.tx.clone();
                    let path = crate::catalog::stored_path(&self.data_dir, &name);
                    tokio::task::spawn_blocking(move || {
                        let result = crate::catalog::load_index(&path).map(|o| o.map(Arc::new));
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs());
                        let _ = tx.send(Msg::CatalogLoaded { name, result, now });
                    });
                }
                Effect::FetchCatalog { tracker, cancel } => {
                    let tx = self.tx.clone();
                    let path = crate::catalog::stored_path(&self.data_dir, &tracker.name);
                    tokio::spawn(async move {
                        let name = tracker.name.clone();
                        let result = services::fetch_catalog(*tracker, path, cancel, |event| {
                            let _ = tx.send(Msg::CatalogProgress {
                                name: name.clone(),
                                event,
                            });
                        })
                        .await;
                        match &result {
                            Ok(n) => {
                                tracing::info!(tracker = %name, objects = n, "catalog fetched")
                            }
                            Err(e) => tracing::info!(tracker = %name, "catalog fetch failed: {e}"),
                        }
                        let _ = tx.send(Msg::CatalogFetched { name, result });
                    });
                }
                Effect::CancelValidation(p) => p.cancel(),
                Effect::CancelUpload(t) => t.cancel(),
                Effect::StartConvert {
                    run,
                    input,
                    mapping,
                    progress,
                    clean,
                    fixes,
                    checks,
                } => {
                    let tx = self.tx.clone();
                    let data_dir = self.data_dir.clone();
                    let out = super::steps::columns::converted_path(&self.data_dir, &input);
                    let mut clean = *clean;
                    if clean.exclude_invalid.is_some() {
                        clean.exclude_invalid =
                            Some(out.with_file_name(super::steps::columns::invalid_name(&input)));
                    }
                    let spawned = std::thread::Builder::new()
                        .name("lbimport-convert".into())
                        .spawn(move || {
                            let result = services::convert_fixing(
                                &input, &mapping, &clean, &fixes, &data_dir, &checks, &out,
                                &progress,
                            )
                            .map(|(s, notes)| (out, s, notes));
                            let _ = tx.send(Msg::Converted { run, result });
                        });
                    if let Err(e) = spawned {
                        let _ = self.tx.send(Msg::Converted {
                            run,
                            result: Err(format!("cannot start the conversion thread: {e}")),
                        });
                    }
                }
                Effect::SplitAndValidate {
                    run,
                    input,
                    format,
                    limit,
                    stem,
                    progress,
                    checks,
                } => {
                    let tx = self.tx.clone();
                    let data_dir = self.data_dir.clone();
                    let history = self.history.clone();
                    // Parts go to the data directory, next to converted files, never next to
                    // the user's file.
                    let dir = self.data_dir.join("converted");
                    let previous = self.split.take();
                    let spawned = std::thread::Builder::new()
                        .name("lbimport-split".into())
                        .spawn(move || {
                            // A stopped split may still be writing the same part files.
                            if let Some(h) = previous {
                                let _ = h.join();
                            }
                            let t0 = Instant::now();
                            // loaded once for all the parts
                            let checks = services::tracker_checks(&data_dir, &checks);
                            for w in &checks.skipped {
                                tracing::warn!("{w}");
                            }
                            let entries = history.list().unwrap_or_default();
                            crate::pipeline::split_and_validate(
                                &input,
                                format,
                                limit,
                                &dir,
                                &stem,
                                &progress,
                                &checks,
                                &entries,
                                |paths| {
                                    tracing::info!(
                                        file = %input.display(),
                                        limit,
                                        parts = paths.as_ref().map_or(0, |p| p.len()),
                                        ms = t0.elapsed().as_millis() as u64,
                                        "split finished"
                                    );
                                    let result =
                                        paths.map(<[PathBuf]>::to_vec).map_err(|e| match e {
                                            crate::pipeline::Error::Cancelled => {
                                                "cancelled".to_string()
                                            }
                                            e => e.to_string(),
                                        });
                                    let _ = tx.send(Msg::SplitDone { run, result });
                                },
                                |index, result| {
                                    let result = result.map(Arc::new).map_err(|e| match e {
                                        crate::pipeline::Error::Cancelled => TaskError::Cancelled,
                                        e => TaskError::Failed(e.to_string()),
                                    });
                                    let _ = tx.send(Msg::PartValidated { run, index, result });
                                },
                            );
                        });
                    match spawned {
                        Ok(h) => self.split = Some(h),
                        Err(e) => {
                            let _ = self.tx.send(Msg::SplitDone {
                                run,
                                result: Err(format!("cannot start the split thread: {e}")),
                            });
                        }
                    }
                }
                Effect::Detect { run, path, hints } => {
                    let tx = self.tx.clone();
                    let spawned = std::thread::Builder::new()
                        .name("lbimport-detect".into())
                        .spawn(move || {
                            let result = crate::mapping::detect::detect_path_with(&path, &hints)
                                .map(Box::new)
                                .map_err(|e| e.to_string());
                            let _ = tx.send(Msg::Detected { run, result });
                        });
                    if let Err(e) = spawned {
                        let _ = self.tx.send(Msg::Detected {
                            run,
                            result: Err(format!("cannot start the detection thread: {e}")),
                        });
                    }
                }
                Effect::StartPlan {
                    generation,
                    input,
                    mapping,
                    clean,
                    progress,
                } => {
                    let tx = self.tx.clone();
                    let spawned = std::thread::Builder::new()
                        .name("lbimport-plan".into())
                        .spawn(move || {
                            let result = crate::mapping::convert::plan(
                                &input,
                                &mapping,
                                &clean,
                                Some(&progress),
                            )
                            .map_err(|e| e.to_string());
                            let _ = tx.send(Msg::Planned { generation, result });
                        });
                    if let Err(e) = spawned {
                        let _ = self.tx.send(Msg::Planned {
                            generation,
                            result: Err(format!("cannot start the counting thread: {e}")),
                        });
                    }
                }
                Effect::StartValidation {
                    run,
                    path,
                    progress,
                    detect,
                    checks,
                } => {
                    let tx = self.tx.clone();
                    let data_dir = self.data_dir.clone();
                    let history = self.history.clone();
                    let spawned = std::thread::Builder::new()
                        .name("lbimport-validate".into())
                        .spawn(move || {
                            let t0 = Instant::now();
                            let detection = if detect {
                                services::detect(&path).map(Box::new)
                            } else {
                                None
                            };
                            let checks = services::tracker_checks(&data_dir, &checks);
                            let result = services::validate(&path, &progress, &checks, &history)
                                .map(Arc::new)
                                .map_err(|e| e.to_string());
                            tracing::info!(
                                file = %path.display(),
                                ok = result.is_ok(),
                                ms = t0.elapsed().as_millis() as u64,
                                "validation finished"
                            );
                            // a record of sent orders that could not be read is known only now
                            let mut skipped = checks.skipped;
                            if let Ok(r) = &result
                                && let Some(why) =
                                    r.already_sent.as_ref().and_then(|a| a.skipped.clone())
                            {
                                skipped.push(why);
                            }
                            let _ = tx.send(Msg::Validated {
                                run,
                                result,
                                detection,
                                skipped,
                            });
                        });
                    if let Err(e) = spawned {
                        let _ = self.tx.send(Msg::Validated {
                            run,
                            result: Err(format!("cannot start the validation thread: {e}")),
                            detection: None,
                            skipped: Vec::new(),
                        });
                    }
                }
                Effect::SaveConfig(cfg) => {
                    let store = self.store.clone();
                    let tx = self.tx.clone();
                    let base = self.config_base.replace((*cfg).clone());
                    tokio::task::spawn_blocking(move || {
                        let saved = match &base {
                            Some(base) => store.save_merged(base, &cfg).map(|_| ()),
                            None => store.save(&cfg),
                        };
                        let r = saved
                            .map(|_| store.path().to_path_buf())
                            .map_err(|e| e.to_string());
                        if let Err(e) = &r {
                            tracing::warn!("saving trackers failed: {e}");
                        }
                        let _ = tx.send(Msg::ConfigSaved(r));
                    });
                }
                Effect::SaveReport(report) => {
                    let dir = self.data_dir.join("reports");
                    let tx = self.tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let _ = tx.send(Msg::ReportSaved(services::save_report(&dir, &report)));
                    });
                }
                Effect::MeasureClockSkew { run, base_url } => {
                    let tx = self.tx.clone();
                    tokio::spawn(async move {
                        let result = services::measure_clock_skew(&base_url).await;
                        match &result {
                            Ok(ms) => tracing::info!(skew_ms = ms, "clock measured"),
                            Err(e) => tracing::info!("clock check failed: {e}"),
                        }
                        let _ = tx.send(Msg::ClockSkew { run, result });
                    });
                }
                Effect::StartSandbox => {
                    let tx = self.tx.clone();
                    let shared = self.sandbox.clone();
                    let dir = self.data_dir.join("sandbox");
                    tokio::spawn(async move {
                        let r = match services::start_sandbox(dir).await {
                            Ok(s) => {
                                let mut t = Tracker::new(
                                    SANDBOX_TRACKER,
                                    s.tracker_id.clone(),
                                    KeySource::Stored(s.key.clone()),
                                );
                                t.base_url = s.base_url.clone();
                                tracing::info!(base_url = %s.base_url, "sandbox started");
                                if let Ok(mut g) = shared.lock() {
                                    *g = Some(s);
                                }
                                Ok(t)
                            }
                            Err(e) => Err(e.to_string()),
                        };
                        let _ = tx.send(Msg::SandboxReady(r));
                    });
                }
                Effect::StartUpload {
                    run,
                    tracker,
                    path,
                    format,
                    stats,
                    sha256,
                    cancel,
                    allow_duplicate,
                    report,
                } => {
                    let tx = self.tx.clone();
                    let history = self.history.clone();
                    let data_dir = self.data_dir.clone();
                    let h = tokio::spawn(async move {
                        let facts = AttemptFacts {
                            tracker_name: tracker.name.clone(),
                            tracker_id: tracker.tracker_id.clone(),
                            base_url: tracker.base_url.clone(),
                            file: std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone()),
                            bytes: stats.0,
                            sha256: sha256.clone(),
                            format,
                            rows: Some(stats.1),
                            orders: Some(stats.2),
                            purchases: crate::upload::guard::purchases_of(Some(&report)),
                            report: crate::report_store::save_for_history(&history, Some(&report)),
                        };
                        // The tracker's lock, the duplicate check and the "sending" record,
                        // before the first byte leaves (another process may have sent the
                        // same file since Confirm looked).
                        let h2 = history.clone();
                        let begun = tokio::task::spawn_blocking(move || {
                            Attempt::begin(&h2, facts, allow_duplicate, || {
                                tracing::info!("waiting for another upload to this tracker")
                            })
                        })
                        .await;
                        let attempt = match begun {
                            Ok(Ok(a)) => a,
                            Ok(Err(e)) => {
                                let outcome = UploadOutcome::Failed {
                                    reason: format!("not sent: {e}"),
                                    sent: 0,
                                };
                                let _ = tx.send(Msg::UploadDone {
                                    run,
                                    outcome,
                                    entry: None,
                                    history_error: None,
                                });
                                return;
                            }
                            Err(e) => {
                                let outcome = UploadOutcome::Failed {
                                    reason: format!("not sent: the history check failed ({e})"),
                                    sent: 0,
                                };
                                let _ = tx.send(Msg::UploadDone {
                                    run,
                                    outcome,
                                    entry: None,
                                    history_error: None,
                                });
                                return;
                            }
                        };
                        let t2 = (*tracker).clone();
                        let key = tokio::task::spawn_blocking(move || t2.resolve_key()).await;
                        let outcome = match key {
                            Ok(Ok(key)) => {
                                let job = UploadJob {
                                    base_url: tracker.base_url.clone(),
                                    tracker_id: tracker.tracker_id.clone(),
                                    key,
                                    client_name: tracker.client_name().to_string(),
                                    path: path.clone(),
                                    format,
                                    sha256,
                                };
                                let (etx, mut erx) = unbounded_channel();
                                let tx2 = tx.clone();
                                let fwd = tokio::spawn(async move {
                                    while let Some(event) = erx.recv().await {
                                        let _ = tx2.send(Msg::Upload { run, event });
                                    }
                                });
                                let o = services::upload(job, etx, cancel).await;
                                let _ = fwd.await;
                                o
                            }
                            Ok(Err(e)) => UploadOutcome::Failed {
                                reason: format!("no private key: {e}"),
                                sent: 0,
                            },
                            Err(e) => UploadOutcome::Failed {
                                reason: format!("key lookup failed: {e}"),
                                sent: 0,
                            },
                        };
                        let o2 = outcome.clone();
                        let written =
                            tokio::task::spawn_blocking(move || attempt.finish(&o2)).await;
                        let (entry, history_error) = match written {
                            Ok(Ok(e)) => (Some(e), None),
                            Ok(Err(e)) => (None, Some(e.to_string())),
                            Err(e) => (None, Some(e.to_string())),
                        };
                        // An accepted or unknown outcome: its orders join the tracker's sent
                        // orders (the next file's already-sent check), as with `upload`.
                        if let Some(e) = entry.clone() {
                            let sent = path.clone();
                            let recorded = tokio::task::spawn_blocking(move || {
                                services::record_sent(&data_dir, &e, &sent)
                            })
                            .await
                            .unwrap_or_else(|e| Err(e.to_string()));
                            if let Err(e) = recorded {
                                tracing::warn!("could not record the sent orders: {e}");
                                let _ = tx.send(Msg::SentNotRecorded(e));
                            }
                        }
                        if let Some(e) = &entry {
                            tracing::info!(
                                tracker = %e.tracker_name,
                                outcome = %e.outcome,
                                status = ?e.status,
                                ms = e.duration_ms,
                                "upload finished"
                            );
                        }
                        let _ = tx.send(Msg::UploadDone {
                            run,
                            outcome,
                            entry,
                            history_error,
                        });
                    });
                    self.uploads.push(h);
                }
            }
        }
        quit
    }

    /// Before exit: let running uploads record their outcome (bounded), stop the sandbox.
    pub async fn finish(&mut self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        for h in self.uploads.drain(..) {
            let _ = tokio::time::timeout_at(deadline, h).await;
        }
        if let Ok(mut g) = self.sandbox.lock()
            && let Some(s) = g.take()
        {
            s.shutdown();
        }
    }
}
