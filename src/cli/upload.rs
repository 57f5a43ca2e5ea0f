//! `lbimport upload FILE --tracker NAME`: validate, guard against duplicates, confirm, upload
//! with progress, record the attempt in the history, print the result.
//!
//! Exit status: 0 accepted; 1 rejected by the server; 2 usage (bad flags, unknown tracker,
//! unreadable file, no confirmation possible); 3 network failure or timeout; 4 unknown outcome
//! (the whole file was sent but no answer came); 5 refused before sending (validation errors,
//! a duplicate per the history, too large, declined); 130 cancelled.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::mapping_args::MappingArgs;
use crate::config::{
    ConfigStore, DEFAULT_BASE_URL, DEFAULT_CLIENT_NAME, History, KeySource, PrivateKey, Tracker,
};
use crate::pipeline::checks::TrackerChecks;
use crate::read::Format;
use crate::upload::guard::{Attempt, AttemptFacts, GuardError};
use crate::upload::{self, Body, Event, Outcome, Settings, UploadRequest};
use crate::validate::{self, MAX_FILE_BYTES, Severity};

/// Exit status: rejected by the server.
pub const EXIT_REJECTED: u8 = 1;
/// Exit status: network failure or timeout.
pub const EXIT_FAILED: u8 = 3;
/// Exit status: the outcome is unknown.
pub const EXIT_UNKNOWN: u8 = 4;
/// Exit status: refused before sending.
pub const EXIT_REFUSED: u8 = 5;
/// Exit status: cancelled.
pub const EXIT_CANCELLED: u8 = 130;

/// Arguments of `lbimport upload`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// The CSV or JSON-lines file to upload.
    pub file: PathBuf,
    /// A saved tracker (see `lbimport tracker list`).
    #[arg(long, value_name = "NAME")]
    pub tracker: Option<String>,
    /// Tracker id, for uploading without a saved tracker (with --private-key-env).
    #[arg(long, value_name = "ID")]
    pub tracker_id: Option<String>,
    /// Endpoint base URL (overrides the saved tracker's).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Read the private key from this environment variable (overrides the saved tracker's).
    #[arg(long, value_name = "VAR")]
    pub private_key_env: Option<String>,
    /// Client name in the Authorization header (default: the tracker's, else ApiAuth).
    #[arg(long, value_name = "NAME")]
    pub client_name: Option<String>,
    /// Don't ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Sign and print the request line and headers, send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Upload even if the history says these exact bytes were already sent to this tracker.
    #[arg(long)]
    pub allow_duplicate: bool,
    /// Upload even if some of the file's orders were already sent to this tracker by an
    /// earlier upload (of any file). `--allow-duplicate` implies it.
    #[arg(long)]
    pub allow_overlap: bool,
    /// Upload even if fewer than half of the file's rows name a product in the tracker's
    /// catalog (the recommender would learn little from the rest).
    #[arg(long)]
    pub allow_unknown_identities: bool,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Force the format instead of using the validator's / the extension.
    #[arg(long, value_name = "csv|json", value_parser = parse_format)]
    pub format: Option<Format>,
    /// Skip validation (the service cancels the whole import on any error: use with care).
    #[arg(long)]
    pub no_validate: bool,
    /// Give up the whole upload after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=7 * 86_400))]
    pub deadline_secs: u64,
    /// Abort when no bytes are accepted for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub stall_secs: u64,
    /// Most attempts (retries happen only when nothing can have been imported).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub max_attempts: u32,
    /// Don't read the server's clock before signing.
    #[arg(long)]
    pub no_clock_check: bool,
    /// Mapping and cleaning: when given (or when the tracker has a mapping saved for this
    /// file's shape), the file is converted first into the data dir and the converted file is
    /// validated and sent; the original is never modified.
    #[command(flatten)]
    pub mapping: MappingArgs,
}

fn parse_format(s: &str) -> Result<Format, String> {
    match s.to_ascii_lowercase().as_str() {
        "csv" => Ok(Format::Csv),
        "json" | "jsonl" => Ok(Format::Json),
        _ => Err("expected csv or json".into()),
    }
}

/// Where to upload.
struct Target {
    name: String,
    tracker_id: String,
    base_url: String,
    key: PrivateKey,
    key_label: String,
    client_name: String,
}

/// A path as printed: control characters in a file name never reach the terminal.
fn shown(p: &Path) -> String {
    validate::escape_controls(&p.display().to_string()).into_owned()
}

fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("lbimport: {}", super::terminal_safe(&msg.to_string()));
    ExitCode::from(code)
}

fn resolve_target(a: &Args) -> Result<Target, String> {
    let key_from_env = |var: &str| -> Result<PrivateKey, String> {
        Tracker::new("command line", "-", KeySource::Env(var.to_string()))
            .resolve_key()
            .map_err(|e| e.to_string())
    };
    if let Some(name) = &a.tracker {
        if a.tracker_id.is_some() {
            return Err("give either --tracker or --tracker-id, not both".into());
        }
        let store = ConfigStore::open_default().map_err(|e| e.to_string())?;
        let loaded = store.load().map_err(|e| e.to_string())?;
        for w in &loaded.warnings {
            eprintln!("lbimport: warning: {w}");
        }
        let t = loaded.config.tracker(name).ok_or_else(|| {
            format!("no saved tracker named {name:?} (see `lbimport tracker list`)")
        })?;
        let (key, key_label) = match &a.private_key_env {
            Some(var) => (key_from_env(var)?, format!("env:{var}")),
            None => (
                t.resolve_key().map_err(|e| e.to_string())?,
                t.key_source_label(),
            ),
        };
        Ok(Target {
            name: t.name.clone(),
            tracker_id: t.tracker_id.clone(),
            base_url: a.base_url.clone().unwrap_or_else(|| t.base_url.clone()),
            key,
            key_label,
            client_name: a
                .client_name
                .clone()
                .unwrap_or_else(|| t.client_name().to_string()),
        })
    } else {
        let id = a.tracker_id.clone().ok_or(
            "say where to upload: --tracker NAME (a saved tracker) or --tracker-id ID with \
             --private-key-env VAR",
        )?;
        crate::config::check_tracker_id(&id).map_err(|e| e.to_string())?;
        let var = a
            .private_key_env
            .clone()
            .ok_or("--tracker-id needs --private-key-env VAR (the variable holding the key)")?;
        let base_url = a
            .base_url
            .clone()
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        crate::config::check_base_url(&base_url).map_err(|e| e.to_string())?;
        Ok(Target {
            name: id.clone(),
            tracker_id: id,
            base_url,
            key: key_from_env(&var)?,
            key_label: format!("env:{var}"),
            client_name: a
                .client_name
                .clone()
                .unwrap_or_else(|| DEFAULT_CLIENT_NAME.to_string()),
        })
    }
}

/// Format from the extension (leniently), else sniffed from the first bytes.
fn guess_format(path: &Path) -> Format {
    let mut buf = [0u8; 4096];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut buf))
        .unwrap_or(0);
    crate::spec::format_of_export(path, &buf[..n])
}

/// What validation (or hashing) found out about the file.
struct Facts {
    format: Format,
    sha256: String,
    rows: Option<u64>,
    orders: Option<u64>,
    summary: String,
    /// The validation report (saved with the attempt and linked from its history entry).
    report: Option<Box<validate::Report>>,
}

/// The catalog and sent orders of the target tracker, for the validation of the file to send
/// (the stored catalog of a saved tracker, or `--catalog FILE`). Checks that cannot be made
/// are printed as warnings.
fn tracker_checks(a: &Args, target: &Target) -> Result<TrackerChecks, ExitCode> {
    let mut checks = match &a.tracker {
        Some(name) => TrackerChecks::for_tracker(name, &target.tracker_id),
        None => {
            let mut c = TrackerChecks {
                tracker_id: target.tracker_id.clone(),
                ..Default::default()
            };
            match crate::config::data_dir() {
                Ok(dir) => {
                    c.load_sent(crate::config::sent::SentSets::new(&dir, &target.tracker_id))
                }
                Err(e) => c
                    .skipped
                    .push(format!("the already-sent check was skipped: {e}")),
            }
            c
        }
    };
    if let Some(file) = &a.mapping.catalog {
        checks = checks
            .with_catalog_file(file)
            .map_err(|e| fail(super::EXIT_USAGE, format!("upload: --catalog {e}")))?;
    }
    if a.no_validate {
        eprintln!(
            "lbimport: warning: the catalog and already-sent checks are part of the validation: \
             skipped (--no-validate)"
        );
    } else {
        for why in &checks.skipped {
            eprintln!("lbimport: warning: {}", super::terminal_safe(why));
        }
    }
    Ok(checks)
}

/// The guards on the validation report before anything is sent: orders already sent by
/// earlier uploads (`--allow-overlap`) and identities the catalog does not know
/// (`--allow-unknown-identities`). Prints why and returns false when the upload must not go.
fn report_guards(a: &Args, path: &Path, report: Option<&validate::Report>) -> bool {
    let Some(r) = report else {
        return true;
    };
    super::overlap::guard(r, path, a.allow_overlap || a.allow_duplicate)
        && super::identity::catalog_guard(r, path, a.allow_unknown_identities)
}

fn validate_file(path: &Path, a: &Args, checks: &TrackerChecks) -> Result<Facts, ExitCode> {
    if a.no_validate {
        let sha256 = crate::config::sha256_file(path).map_err(|e| {
            fail(
                super::EXIT_USAGE,
                format!("cannot read {}: {e}", shown(path)),
            )
        })?;
        return Ok(Facts {
            format: a.format.unwrap_or_else(|| guess_format(path)),
            sha256,
            rows: None,
            orders: None,
            summary: "not validated (--no-validate)".into(),
            report: None,
        });
    }
    let opts = validate::Options {
        format: a.format,
        ..Default::default()
    };
    if std::io::stderr().is_terminal() {
        eprint!("Validating {}…\r", shown(path));
    }
    let result = crate::pipeline::validate_file(path, opts, checks, None, None);
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            return Err(fail(
                super::EXIT_USAGE,
                format!("cannot validate: {e} (--no-validate skips validation)"),
            ));
        }
    };
    let errors: Vec<_> = report
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .collect();
    let warnings = report
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Warning)
        .count();
    if !errors.is_empty() {
        eprintln!(
            "lbimport: refused: {} has {} error(s); the service would cancel the whole import:",
            shown(path),
            report.error_count()
        );
        for i in &errors {
            eprintln!("  {} ×{}: {}", i.code, i.count, i.message);
            if let Some(ex) = i.examples.first() {
                eprintln!("    line {}: {}", ex.line, ex.text);
            }
        }
        eprintln!(
            "Run `lbimport validate {}` for the full report.",
            shown(path)
        );
        return Err(ExitCode::from(EXIT_REFUSED));
    }
    Ok(Facts {
        format: report.file.format,
        sha256: report.file.sha256.clone(),
        rows: Some(report.stats.rows),
        orders: Some(report.stats.orders),
        summary: format!(
            "{} rows in {} orders, no errors, {warnings} warning kind(s)",
            report.stats.rows, report.stats.orders
        ),
        report: Some(Box::new(report)),
    })
}

/// Run `lbimport upload`.
pub fn run(a: Args) -> ExitCode {
    let path = a.file.clone();
    let meta = match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => m,
        Ok(m) => {
            return fail(
                super::EXIT_USAGE,
                format!(
                    "{}: not a regular file ({})",
                    shown(&path),
                    crate::read::file_kind(&m)
                ),
            );
        }
        Err(e) => {
            return fail(
                super::EXIT_USAGE,
                format!("cannot read {}: {e}", shown(&path)),
            );
        }
    };
    let target = match resolve_target(&a) {
        Ok(t) => t,
        Err(e) => return fail(super::EXIT_USAGE, e),
    };
    let checks = match tracker_checks(&a, &target) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let source = path.clone();
    let prepared = match super::prepare_mapping(&path, &a.mapping, a.tracker.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            let msg = super::about_file(&path, e);
            return fail(super::EXIT_USAGE, format!("upload: {msg}"));
        }
    };
    if prepared.parts.len() > 1 {
        eprintln!(
            "lbimport: the converted file is over {}: split at order boundaries into {} parts",
            crate::units::part_limit(prepared.part_bytes),
            prepared.parts.len()
        );
        return run_parts(&a, &target, &checks, prepared.parts);
    }
    let converted = prepared.temp;
    let mapping_applied = prepared.mapping.as_ref().map(|m| m.describe());
    if converted {
        eprintln!(
            "lbimport: sending the converted file {} instead of {}",
            shown(&prepared.path_to_use),
            shown(&source)
        );
        if let Some(m) = &mapping_applied {
            eprintln!("lbimport: mapping applied: {m}");
        }
    }
    let path = prepared.path_to_use;
    let meta = if converted {
        match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                return fail(
                    super::EXIT_USAGE,
                    format!("cannot read {}: {e}", shown(&path)),
                );
            }
        }
    } else {
        meta
    };
    if meta.len() > prepared.part_bytes && !a.no_validate && !a.dry_run {
        // Too large for one upload: split at order boundaries and send the parts in order,
        // like the wizard (a re-run skips the parts already accepted).
        // Whole-file errors first (other than its size): no split of a file that cannot go.
        let opts = validate::Options {
            format: a.format,
            ..Default::default()
        };
        match validate::validate_path(&path, &opts, None) {
            Ok(r) => {
                let blocking: Vec<_> = r
                    .issues
                    .iter()
                    .filter(|i| {
                        i.severity == Severity::Error && i.code != validate::Code::FileTooLarge
                    })
                    .collect();
                if !blocking.is_empty() {
                    eprintln!(
                        "lbimport: refused: {} is over {} and has {} error(s) besides its size; \
                         the service would cancel the whole import:",
                        shown(&path),
                        crate::units::part_limit(prepared.part_bytes),
                        blocking.iter().map(|i| i.count).sum::<u64>()
                    );
                    for i in &blocking {
                        eprintln!("  {} ×{}: {}", i.code, i.count, i.message);
                    }
                    eprintln!("Nothing was sent.");
                    return ExitCode::from(EXIT_REFUSED);
                }
            }
            Err(e) => {
                return fail(
                    super::EXIT_USAGE,
                    format!("cannot validate: {e} (--no-validate skips validation)"),
                );
            }
        }
        let format = a.format.unwrap_or_else(|| guess_format(&path));
        let dir = match crate::config::data_dir() {
            Ok(d) => d.join("converted"),
            Err(e) => return fail(super::EXIT_USAGE, e),
        };
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "upload".into());
        eprintln!(
            "lbimport: {} is {} ({} bytes), over {} for one upload: splitting it at order \
             boundaries into {}…",
            shown(&path),
            crate::units::bytes(meta.len()),
            meta.len(),
            crate::units::part_limit(prepared.part_bytes),
            shown(&dir)
        );
        let progress = validate::Progress::new();
        let parts = match crate::pipeline::split_into_parts(
            &path,
            format,
            prepared.part_bytes,
            &dir,
            &stem,
            &progress,
        ) {
            Ok(p) => p,
            Err(e) => return fail(EXIT_REFUSED, format!("refused: cannot split: {e}")),
        };
        return run_parts(&a, &target, &checks, parts);
    }
    if meta.len() > MAX_FILE_BYTES {
        return fail(
            EXIT_REFUSED,
            format!(
                "refused: {} is {} ({} bytes), over the service's 1 GiB limit ({MAX_FILE_BYTES} \
                 bytes). Split it into smaller files, keeping each order in one file. Nothing \
                 was sent.",
                shown(&path),
                crate::units::bytes(meta.len()),
                meta.len()
            ),
        );
    }
    let facts = match validate_file(&path, &a, &checks) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let history = match History::open_default() {
        Ok(h) => h,
        Err(e) => return fail(super::EXIT_USAGE, e),
    };
    match history.find_duplicate(&target.tracker_id, &facts.sha256) {
        Ok(Some(prev)) => {
            let when = prev.time.format("%Y-%m-%d %H:%M:%S UTC");
            let what = format!(
                "these exact bytes (sha256 {}…) were already sent to tracker {} on {when} \
                 (outcome: {}{})",
                &facts.sha256[..facts.sha256.len().min(12)],
                target.tracker_id,
                prev.outcome,
                prev.status
                    .map(|s| format!(", HTTP {s}"))
                    .unwrap_or_default()
            );
            if !a.allow_duplicate {
                return fail(
                    EXIT_REFUSED,
                    format!(
                        "refused: {what}. Uploads cannot be undone and a second one imports the \
                         purchases twice. Pass --allow-duplicate if that is really intended."
                    ),
                );
            }
            eprintln!("lbimport: warning: {what}; uploading again (--allow-duplicate)");
        }
        Ok(None) => {}
        Err(e) => eprintln!("lbimport: warning: cannot read the upload history: {e}"),
    }
    if !report_guards(&a, &path, facts.report.as_deref()) {
        return fail(EXIT_REFUSED, "not sent.");
    }

    let abs = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
    let body = if converted {
        Body::Converted {
            path: abs.clone(),
            source: std::path::absolute(&source).unwrap_or_else(|_| source.clone()),
            format: facts.format,
            sha256: Some(facts.sha256.clone()),
        }
    } else {
        Body::Hashed {
            path: abs.clone(),
            format: facts.format,
            sha256: facts.sha256.clone(),
        }
    };
    let settings = settings_of(&a);
    let req = UploadRequest {
        base_url: target.base_url.clone(),
        tracker_id: target.tracker_id.clone(),
        key: target.key.clone(),
        client_name: target.client_name.clone(),
        body,
        settings,
    };

    eprintln!(
        "File:     {} ({}, {}, sent as \"{}\")",
        shown(&path),
        crate::units::bytes(meta.len()),
        facts.format.extension(),
        req.body.filename()
    );
    eprintln!("Content:  {}", facts.summary);
    if let Some(m) = &mapping_applied {
        eprintln!("Mapping:  {m}, converted from {}", shown(&source));
    }
    eprintln!("sha256:   {}", facts.sha256);
    eprintln!(
        "Tracker:  {} ({}) at {}, key {}",
        target.name, target.tracker_id, target.base_url, target.key_label
    );

    if a.dry_run {
        return dry_run(&req, &a);
    }

    if let Err(code) = confirm(&a, "Upload it?") {
        return code;
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let facts_h = AttemptFacts {
        tracker_name: target.name.clone(),
        tracker_id: target.tracker_id.clone(),
        base_url: target.base_url.clone(),
        file: abs.clone(),
        bytes: meta.len(),
        sha256: facts.sha256.clone(),
        format: facts.format,
        rows: facts.rows,
        orders: facts.orders,
        purchases: crate::upload::guard::purchases_of(facts.report.as_deref()),
        report: crate::report_store::save_for_history(&history, facts.report.as_deref()),
    };
    // Lock the tracker, check the history again under the lock, and record the attempt
    // before the first byte leaves: a killed process leaves a "sending" record that later
    // runs read as unknown, and two processes cannot both pass the duplicate guard.
    let attempt = match Attempt::begin(&history, facts_h, a.allow_duplicate, || {
        eprintln!(
            "lbimport: another lbimport is uploading to tracker {}; waiting for it to finish…",
            target.tracker_id
        )
    }) {
        Ok(at) => at,
        Err(GuardError::Duplicate(prev)) => {
            return fail(
                EXIT_REFUSED,
                format!(
                    "refused: these exact bytes (sha256 {}…) were sent to tracker {} on {} \
                     while this upload was being prepared (outcome: {}). Uploads cannot be \
                     undone and a second one imports the purchases twice. Pass \
                     --allow-duplicate if that is really intended. Nothing was sent.",
                    &facts.sha256[..facts.sha256.len().min(12)],
                    target.tracker_id,
                    prev.time.format("%Y-%m-%d %H:%M:%S UTC"),
                    prev.outcome
                ),
            );
        }
        Err(e) => return fail(EXIT_REFUSED, format!("refused: {e}. Nothing was sent.")),
    };
    let t0 = Instant::now();
    let (outcome, attempts, skew, signal) = rt.block_on(drive(req));
    let duration = t0.elapsed();
    let entry = finish(attempt, &outcome);
    // the orders of an upload that counts as sent join the tracker's sent set
    super::overlap::record_after_upload(&entry, &path);

    if a.json {
        let mut v = json!({
            "outcome": outcome.history_outcome().as_str(),
            "exit_code": outcome.exit_code(),
            "status": outcome.status(),
            "file": abs.to_string_lossy(),
            "bytes": meta.len(),
            "sha256": facts.sha256,
            "format": facts.format.extension(),
            "tracker": target.name,
            "tracker_id": target.tracker_id,
            "base_url": target.base_url,
            "attempts": attempts,
            "clock_skew_ms": skew,
            "duration_ms": duration.as_millis() as u64,
            "summary": outcome.summary(),
            "mapping": mapping_applied,
        });
        match &outcome {
            Outcome::Accepted { body, duration, .. } => {
                v["body"] = json!(body);
                v["transfer_ms"] = json!(duration.as_millis() as u64);
            }
            Outcome::Rejected {
                body, explanation, ..
            } => {
                v["body"] = json!(body);
                v["explanation"] = json!(explanation);
            }
            Outcome::Failed { reason, sent } => {
                v["reason"] = json!(reason);
                v["sent"] = json!(sent);
            }
            Outcome::Unknown { reason } => v["reason"] = json!(reason),
            Outcome::Cancelled => {}
        }
        println!("{v:#}");
    } else {
        println!("Upload {}", outcome.summary());
        match &outcome {
            Outcome::Rejected { body, .. } | Outcome::Accepted { body, .. } if !body.is_empty() => {
                println!("Server said:\n{body}");
            }
            _ => {}
        }
    }
    match (signal, &outcome) {
        (Some(sig), Outcome::Cancelled) => ExitCode::from(sig.exit_code()),
        _ => ExitCode::from(outcome.exit_code()),
    }
}

/// Upload `parts` (files split at order boundaries) one after another: every part is validated
/// first (an error in any of them sends nothing), parts the history has as sent are skipped,
/// and the first part that is not accepted stops the run (a re-run resumes after the parts
/// accepted).
fn run_parts(a: &Args, target: &Target, checks: &TrackerChecks, parts: Vec<PathBuf>) -> ExitCode {
    let mut facts = Vec::with_capacity(parts.len());
    for (i, p) in parts.iter().enumerate() {
        eprintln!(
            "lbimport: validating part {} of {}: {}",
            i + 1,
            parts.len(),
            shown(p)
        );
        match validate_file(p, a, checks) {
            Ok(f) => facts.push(f),
            Err(code) => return code,
        }
    }
    let history = match History::open_default() {
        Ok(h) => h,
        Err(e) => return fail(super::EXIT_USAGE, e),
    };
    eprintln!(
        "Tracker:  {} ({}) at {}, key {}",
        target.name, target.tracker_id, target.base_url, target.key_label
    );
    let mut waiting = 0;
    let mut to_send = Vec::with_capacity(parts.len());
    for (i, (p, f)) in parts.iter().zip(&facts).enumerate() {
        let sent = history
            .find_duplicate(&target.tracker_id, &f.sha256)
            .ok()
            .flatten()
            .filter(|_| !a.allow_duplicate);
        let bytes = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        to_send.push(sent.is_none());
        let state = match &sent {
            Some(prev) => format!(
                "already sent on {} ({}): skipped",
                prev.time.format("%Y-%m-%d %H:%M UTC"),
                prev.outcome
            ),
            None => {
                waiting += 1;
                "to send".to_string()
            }
        };
        eprintln!(
            "Part {}/{}: {} ({}), {} — {state}",
            i + 1,
            parts.len(),
            shown(p),
            crate::units::bytes(bytes),
            f.summary
        );
    }
    if a.dry_run {
        eprintln!("Dry run: nothing is sent.");
        return ExitCode::SUCCESS;
    }
    // orders sent by earlier uploads (of other files) are refused here too, for each part
    // still to send (the parts already accepted are skipped, their orders are theirs)
    for ((p, f), _) in parts.iter().zip(&facts).zip(&to_send).filter(|(_, s)| **s) {
        if !report_guards(a, p, f.report.as_deref()) {
            return fail(EXIT_REFUSED, "not sent.");
        }
    }
    if waiting == 0 {
        return fail(
            EXIT_REFUSED,
            "refused: every part was already sent to this tracker (pass --allow-duplicate to \
             send them again). Nothing was sent.",
        );
    }
    if let Err(code) = confirm(a, &format!("Upload {waiting} part(s) in order?")) {
        return code;
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let settings = settings_of(a);
    let (mut accepted, mut skipped) = (0usize, 0usize);
    let mut results = Vec::new();
    for (i, (p, f)) in parts.iter().zip(&facts).enumerate() {
        let n = i + 1;
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
        let bytes = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let facts_h = AttemptFacts {
            tracker_name: target.name.clone(),
            tracker_id: target.tracker_id.clone(),
            base_url: target.base_url.clone(),
            file: abs.clone(),
            bytes,
            sha256: f.sha256.clone(),
            format: f.format,
            rows: f.rows,
            orders: f.orders,
            purchases: crate::upload::guard::purchases_of(f.report.as_deref()),
            report: crate::report_store::save_for_history(&history, f.report.as_deref()),
        };
        let attempt = match Attempt::begin(&history, facts_h, a.allow_duplicate, || {
            eprintln!(
                "lbimport: another lbimport is uploading to tracker {}; waiting…",
                target.tracker_id
            )
        }) {
            Ok(at) => at,
            Err(GuardError::Duplicate(prev)) => {
                eprintln!(
                    "Part {n}/{}: already sent on {} ({}): skipped",
                    parts.len(),
                    prev.time.format("%Y-%m-%d %H:%M UTC"),
                    prev.outcome
                );
                skipped += 1;
                results
                    .push(json!({"part": n, "file": abs.to_string_lossy(), "outcome": "skipped"}));
                continue;
            }
            Err(e) => {
                return fail(
                    EXIT_REFUSED,
                    format!("refused: {e}. Part {n} was not sent."),
                );
            }
        };
        eprintln!("Part {n}/{}: sending {}", parts.len(), shown(p));
        let req = UploadRequest {
            base_url: target.base_url.clone(),
            tracker_id: target.tracker_id.clone(),
            key: target.key.clone(),
            client_name: target.client_name.clone(),
            body: Body::Hashed {
                path: abs.clone(),
                format: f.format,
                sha256: f.sha256.clone(),
            },
            settings: settings.clone(),
        };
        let (outcome, _attempts, _skew, signal) = rt.block_on(drive(req));
        let entry = finish(attempt, &outcome);
        super::overlap::record_after_upload(&entry, p);
        results.push(json!({
            "part": n,
            "file": abs.to_string_lossy(),
            "outcome": outcome.history_outcome().as_str(),
            "status": outcome.status(),
            "sha256": f.sha256,
        }));
        println!("Part {n}/{}: {}", parts.len(), outcome.summary());
        if !matches!(outcome, Outcome::Accepted { .. }) {
            eprintln!(
                "lbimport: stopped after part {n} of {}: {accepted} accepted now, {skipped} sent \
                 before. Run the same command again to send the rest (parts already accepted \
                 are skipped).",
                parts.len()
            );
            if a.json {
                println!("{:#}", json!({"parts": results, "complete": false}));
            }
            return match (signal, &outcome) {
                (Some(sig), Outcome::Cancelled) => ExitCode::from(sig.exit_code()),
                _ => ExitCode::from(outcome.exit_code()),
            };
        }
        accepted += 1;
    }
    if a.json {
        println!("{:#}", json!({"parts": results, "complete": true}));
    }
    println!(
        "All {} parts are in: {accepted} accepted now, {skipped} sent before.",
        parts.len()
    );
    ExitCode::SUCCESS
}

/// Record how an attempt ended; a history that cannot be written is a warning (the `sending`
/// record stays, read later as unknown). The entry of the outcome either way.
fn finish(attempt: Attempt, outcome: &Outcome) -> crate::config::HistoryEntry {
    let (entry, err) = attempt.finish_keeping(outcome);
    if let Some(e) = err {
        eprintln!(
            "lbimport: warning: could not record the outcome in the history ({e}); it stays \
             recorded as sending, which later runs read as unknown"
        );
    }
    entry
}

/// The upload knobs the flags set.
fn settings_of(a: &Args) -> Settings {
    Settings {
        deadline: Duration::from_secs(a.deadline_secs.max(1)),
        stall: Duration::from_secs(a.stall_secs.max(1)),
        max_attempts: a.max_attempts,
        clock_check: !a.no_clock_check,
        ..Settings::default()
    }
}

/// Ask `question` unless `--yes`; without a terminal to ask on, refuse.
fn confirm(a: &Args, question: &str) -> Result<(), ExitCode> {
    if a.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(fail(
            super::EXIT_USAGE,
            "refusing to upload without confirmation: stdin is not a terminal. Pass --yes to \
             confirm (uploads cannot be undone).",
        ));
    }
    eprint!("{question} This cannot be undone. [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    if matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(fail(EXIT_REFUSED, "not sent."))
    }
}

/// The runtime an upload runs on.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| fail(EXIT_FAILED, format!("cannot start the async runtime: {e}")))
}

fn dry_run(req: &UploadRequest, a: &Args) -> ExitCode {
    let p = match upload::preview(req, SystemTime::now()) {
        Ok(p) => p,
        Err(e) => return fail(super::EXIT_USAGE, e),
    };
    if a.json {
        let headers: serde_json::Map<String, serde_json::Value> = p
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let v = json!({
            "dry_run": true,
            "method": p.method,
            "url": p.url,
            "headers": headers,
            "filename": p.filename,
            "file_bytes": p.file_bytes,
        });
        println!("{v:#}");
    } else {
        println!("Dry run: nothing is sent. The request would be:\n");
        print!("{}", p.to_text());
        println!(
            "\n[multipart body: one part \"file\", filename \"{}\", {} bytes from {}]",
            p.filename,
            p.file_bytes,
            shown(req.body.path())
        );
        println!(
            "(The Date and signature are made fresh when actually sending; the private key is \
             never shown.)"
        );
    }
    ExitCode::SUCCESS
}

/// A signal that stopped an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Int,
    Term,
    Hup,
}

impl Stop {
    /// The conventional exit status: 128 + the signal's number.
    fn exit_code(self) -> u8 {
        match self {
            Stop::Int => EXIT_CANCELLED,
            Stop::Term => 143,
            Stop::Hup => 129,
        }
    }
}

/// Run the upload with progress on stderr; SIGINT (Ctrl-C), SIGTERM and SIGHUP cancel it, and
/// the outcome is still recorded (after the whole body was sent, as unknown).
async fn drive(req: UploadRequest) -> (Outcome, u32, Option<i64>, Option<Stop>) {
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let stopped = std::sync::Arc::new(std::sync::Mutex::new(None::<Stop>));
    let s2 = stopped.clone();
    tokio::spawn(async move {
        let sig = wait_for_stop().await;
        if let Ok(mut g) = s2.lock() {
            *g = Some(sig);
        }
        c2.cancel();
    });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let max_attempts = req.settings.max_attempts;
    let job = tokio::spawn(upload::run(req, Some(tx), cancel.clone()));
    let tty = std::io::stderr().is_terminal();
    let mut printer = Printer {
        tty,
        last_line: None,
        bar_shown: false,
        done_printed: false,
    };
    let mut attempts = 0;
    let mut skew = None;
    while let Some(ev) = rx.recv().await {
        match ev {
            Event::ClockSkew { skew_ms, corrected } => {
                skew = Some(skew_ms);
                if !corrected {
                    printer.line(&format!(
                        "Clock: within {:.1} s of the server's (±0.5 s), fine.",
                        skew_ms.unsigned_abs() as f64 / 1000.0
                    ));
                } else {
                    printer.line(&format!(
                        "Clock: this computer is {:.1} s {} the server; signing with the \
                         server's time.",
                        skew_ms.unsigned_abs() as f64 / 1000.0,
                        if skew_ms > 0 { "behind" } else { "ahead of" }
                    ));
                }
            }
            Event::Attempt { n, reason } => {
                attempts = n;
                if n > 1 {
                    printer.line(&format!(
                        "Attempt {n} of {max_attempts}{}",
                        reason.map(|r| format!(" (after: {r})")).unwrap_or_default()
                    ));
                }
            }
            Event::Retrying { after, reason } => printer.line(&format!(
                "Will retry in {:.1} s: {reason}",
                after.as_secs_f64()
            )),
            Event::Progress {
                sent,
                total,
                rate_bps,
                eta,
                elapsed,
            } => printer.progress(sent, total, rate_bps, eta, elapsed),
        }
    }
    printer.finish();
    let outcome = match job.await {
        Ok(o) => o,
        Err(e) => Outcome::Failed {
            reason: format!("the upload task ended unexpectedly: {e}"),
            sent: 0,
        },
    };
    let signal = stopped.lock().ok().and_then(|g| *g);
    (outcome, attempts, skew, signal)
}

/// The first of SIGINT, SIGTERM, SIGHUP.
#[cfg(unix)]
async fn wait_for_stop() -> Stop {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return Stop::Int;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Stop::Int,
        _ = term.recv() => Stop::Term,
        _ = hup.recv() => Stop::Hup,
    }
}

#[cfg(not(unix))]
async fn wait_for_stop() -> Stop {
    let _ = tokio::signal::ctrl_c().await;
    Stop::Int
}

struct Printer {
    tty: bool,
    last_line: Option<Instant>,
    bar_shown: bool,
    done_printed: bool,
}

impl Printer {
    fn line(&mut self, s: &str) {
        if self.bar_shown {
            eprint!("\r\x1b[2K");
            self.bar_shown = false;
        }
        eprintln!("{s}");
    }

    fn progress(&mut self, sent: u64, total: u64, rate: f64, eta: Option<Duration>, el: Duration) {
        let pct = if total == 0 {
            100.0
        } else {
            sent as f64 * 100.0 / total as f64
        };
        let eta_s = match eta {
            _ if sent >= total => "all sent, waiting for the answer".to_string(),
            Some(d) => format!("{} left", clock(d)),
            None => "estimating".into(),
        };
        if self.tty {
            let width = 30usize;
            let filled = ((pct / 100.0) * width as f64).round() as usize;
            let bar: String =
                "█".repeat(filled.min(width)) + &"░".repeat(width - filled.min(width));
            eprint!(
                "\r\x1b[2K{bar} {pct:5.1}%  {} / {}  {}/s  {eta_s}  {}",
                crate::units::bytes(sent),
                crate::units::bytes(total),
                crate::units::bytes(rate as u64),
                clock(el)
            );
            let _ = std::io::stderr().flush();
            self.bar_shown = true;
        } else {
            let due = self
                .last_line
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(5));
            let finished = sent >= total;
            if !self.done_printed && (due || finished) {
                self.done_printed = finished;
                self.last_line = Some(Instant::now());
                eprintln!(
                    "upload: {pct:.0}% ({} of {}) at {}/s, {eta_s}, {} elapsed",
                    crate::units::bytes(sent),
                    crate::units::bytes(total),
                    crate::units::bytes(rate as u64),
                    clock(el)
                );
            }
        }
    }

    fn finish(&mut self) {
        if self.bar_shown {
            eprintln!();
            self.bar_shown = false;
        }
    }
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}
