//! `lbimport catalog fetch|show|import`: a saved tracker's catalog (Content Export API).
//!
//! Exit status: 0 done; 2 usage (unknown tracker, unreadable file); 3 the export failed (the
//! previous stored catalog is kept); 130 cancelled by Ctrl-C (nothing stored).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::catalog::{self, FetchEvent, FetchOptions, StoredCatalog};
use crate::config::{ConfigStore, KeySource, Tracker};

/// The `catalog` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Download the tracker's catalog through the Content Export API and store it.
    Fetch(FetchArgs),
    /// Show the stored catalog: size, age, examples.
    Show(ShowArgs),
    /// Store a catalog from a file: a saved Content Export response (one or several pages),
    /// JSON lines with `url`, or one identity per line.
    Import(ImportArgs),
}

/// Arguments of `lbimport catalog fetch`.
#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    /// A saved tracker (see `lbimport tracker list`).
    #[arg(long, value_name = "NAME")]
    pub tracker: String,
    /// Object types to request (comma list).
    #[arg(long, value_name = "TYPES", default_value = "item")]
    pub types: String,
    /// Endpoint base URL (overrides the saved tracker's).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Read the private key from this environment variable (overrides the saved tracker's).
    #[arg(long, value_name = "VAR")]
    pub private_key_env: Option<String>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `lbimport catalog show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A saved tracker.
    #[arg(long, value_name = "NAME")]
    pub tracker: String,
    /// Print as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `lbimport catalog import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The tracker name the catalog is stored for.
    #[arg(long, value_name = "NAME")]
    pub tracker: String,
    /// The catalog file.
    pub file: PathBuf,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Run `lbimport catalog …`.
pub fn run(c: Command) -> ExitCode {
    match c {
        Command::Fetch(a) => fetch(a),
        Command::Show(a) => show(a),
        Command::Import(a) => import(a),
    }
}

fn stored_path(tracker: &str) -> Result<PathBuf, String> {
    let dir = crate::config::data_dir().map_err(|e| e.to_string())?;
    Ok(catalog::stored_path(&dir, tracker))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn summary_json(tracker: &str, path: &std::path::Path, c: &StoredCatalog) -> serde_json::Value {
    let examples: Vec<_> = c
        .objects
        .iter()
        .take(5)
        .map(|o| json!({"identity": o.identity, "type": o.kind, "web_url": o.web_url, "title": o.title}))
        .collect();
    json!({
        "tracker": tracker,
        "path": path.display().to_string(),
        "source": c.source,
        "fetched_at": c.fetched_at,
        "age_secs": now_secs().saturating_sub(c.fetched_at),
        "total": c.total,
        "objects": c.objects.len(),
        "examples": examples,
    })
}

fn print_summary(tracker: &str, path: &std::path::Path, c: &StoredCatalog) {
    let age = now_secs().saturating_sub(c.fetched_at);
    println!(
        "Catalog of {tracker}: {} objects (announced total {}), {} old, from {}",
        c.objects.len(),
        c.total,
        human_age(age),
        c.source
    );
    println!("  stored in {}", path.display());
    for o in c.objects.iter().take(5) {
        println!(
            "  {}  [{}]{}",
            o.identity,
            o.kind,
            o.web_url
                .as_deref()
                .map(|u| format!("  web_url {u}"))
                .unwrap_or_default()
        );
    }
    if c.objects.is_empty() {
        println!("  the catalog is empty: the identity check is off for this tracker");
    }
}

/// `42 s`, `5 min`, `3 h`, `2 days`.
pub fn human_age(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86400 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86400),
    }
}

fn fetch(a: FetchArgs) -> ExitCode {
    let store = match ConfigStore::open_default() {
        Ok(s) => s,
        Err(e) => return super::fail_usage(e),
    };
    let loaded = match store.load() {
        Ok(l) => l,
        Err(e) => return super::fail_usage(e),
    };
    let Some(t) = loaded.config.tracker(&a.tracker) else {
        return super::fail_usage(format!(
            "no saved tracker named {:?} (see `lbimport tracker list`)",
            a.tracker
        ));
    };
    let key = match &a.private_key_env {
        Some(var) => Tracker::new("command line", "-", KeySource::Env(var.clone())).resolve_key(),
        None => t.resolve_key(),
    };
    let key = match key {
        Ok(k) => k,
        Err(e) => return super::fail_usage(e),
    };
    let path = match stored_path(&t.name) {
        Ok(p) => p,
        Err(e) => return super::fail_usage(e),
    };
    let base = a.base_url.clone().unwrap_or_else(|| t.base_url.clone());
    let mut opts = FetchOptions::new(&base, &t.tracker_id, key);
    opts.types = a
        .types
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return super::fail_usage(format!("cannot start the async runtime: {e}")),
    };
    let cancel = CancellationToken::new();
    let started = Instant::now();
    let quiet = a.json;
    let result = rt.block_on(async {
        let c2 = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                c2.cancel();
            }
        });
        let mut t0 = Instant::now();
        catalog::fetch(&opts, &cancel, |e| match e {
            FetchEvent::Started { attempt } => {
                t0 = Instant::now();
                if attempt > 1 && !quiet {
                    eprintln!("\nthe next link expired; restarting the export from the beginning");
                }
            }
            FetchEvent::Page { got, total } => {
                if quiet {
                    return;
                }
                let secs = t0.elapsed().as_secs_f64().max(1e-3);
                let rate = got as f64 / secs;
                let eta = if rate > 0.0 && total > got {
                    format!("{:.0} s", (total - got) as f64 / rate)
                } else {
                    "-".into()
                };
                eprint!("\r{got} of {total} objects, {rate:.0} objects/s, ETA {eta}    ");
            }
        })
        .await
    });
    if !quiet {
        eprintln!();
    }
    match result {
        Ok(c) => {
            if let Err(e) = catalog::save(&path, &c) {
                return fail(3, format!("cannot store the catalog: {e}"));
            }
            if a.json {
                let mut v = summary_json(&t.name, &path, &c);
                v["seconds"] = json!(started.elapsed().as_secs_f64());
                println!("{v}");
            } else {
                print_summary(&t.name, &path, &c);
            }
            ExitCode::SUCCESS
        }
        Err(_) if cancel.is_cancelled() => fail(130, "cancelled; the stored catalog is unchanged"),
        Err(e) => fail(3, format!("{e} (the stored catalog is unchanged)")),
    }
}

fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("lbimport: {msg}");
    ExitCode::from(code)
}

fn show(a: ShowArgs) -> ExitCode {
    let path = match stored_path(&a.tracker) {
        Ok(p) => p,
        Err(e) => return super::fail_usage(e),
    };
    match catalog::load(&path) {
        Ok(Some(c)) => {
            if a.json {
                println!("{}", summary_json(&a.tracker, &path, &c));
            } else {
                print_summary(&a.tracker, &path, &c);
            }
            ExitCode::SUCCESS
        }
        Ok(None) => {
            if a.json {
                println!("{}", json!({"tracker": a.tracker, "objects": null}));
            } else {
                println!(
                    "No catalog stored for {} (`lbimport catalog fetch --tracker {}`)",
                    a.tracker, a.tracker
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => super::fail_usage(e),
    }
}

fn import(a: ImportArgs) -> ExitCode {
    let path = match stored_path(&a.tracker) {
        Ok(p) => p,
        Err(e) => return super::fail_usage(e),
    };
    let c = match crate::pipeline::checks::stored_from_file(&a.file) {
        Ok(c) => c,
        Err(e) => return super::fail_usage(e),
    };
    if let Err(e) = catalog::save(&path, &c) {
        return fail(3, format!("cannot store the catalog: {e}"));
    }
    if a.json {
        println!("{}", summary_json(&a.tracker, &path, &c));
    } else {
        print_summary(&a.tracker, &path, &c);
    }
    ExitCode::SUCCESS
}
