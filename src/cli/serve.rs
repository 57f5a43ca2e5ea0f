//! `lbimport serve`: run the sandbox import endpoint until Ctrl-C.
//!
//! Exit status: 0 stopped by Ctrl-C; 2 usage (bad flags, key variable unset, port taken).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::{KeySource, Tracker};
use crate::server::{self, Faults};

/// Arguments of `lbimport serve`.
/// Largest `--skew-secs` either way: ten years.
pub const MAX_SKEW_SECS: i64 = 10 * 366 * 86_400;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port to listen on (0 picks a free one; the URL is printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, value_name = "IP", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// The tracker id the sandbox accepts.
    #[arg(long, value_name = "ID")]
    pub tracker_id: String,
    /// Environment variable holding the private key signatures are checked with.
    #[arg(long, value_name = "VAR")]
    pub private_key_env: String,
    /// Where accepted files are stored as <sha256>.<ext> (default: DATA_DIR/sandbox).
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Largest accepted file in bytes (413 above).
    #[arg(long, value_name = "N", default_value_t = crate::validate::MAX_FILE_BYTES)]
    pub max_bytes: u64,
    /// Seconds the upload may take (408 after).
    #[arg(long, value_name = "SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=7 * 86_400))]
    pub timeout: u64,
    /// Don't validate received files (accept any well-formed upload).
    #[arg(long)]
    pub no_validate: bool,
    /// Fault: answer every upload with this HTTP status (after reading the body).
    #[arg(long, value_name = "STATUS", value_parser = clap::value_parser!(u16).range(100..=599))]
    pub fail_with: Option<u16>,
    /// Fault: add `Retry-After: SECS` to --fail-with answers.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub retry_after: Option<u64>,
    /// Fault: cut the connection after reading this many body bytes.
    #[arg(long, value_name = "BYTES")]
    pub drop_after: Option<u64>,
    /// Fault: read the whole body, then cut the connection without answering.
    #[arg(long)]
    pub drop_after_body: bool,
    /// Fault: read bodies at most this fast.
    #[arg(long, value_name = "BYTES_PER_S", value_parser = clap::value_parser!(u64).range(1..))]
    pub throttle: Option<u64>,
    /// Fault: wait this many seconds after reading the whole body before answering.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub answer_delay: Option<u64>,
    /// Fault: run the server's clock this many seconds ahead (negative: behind).
    #[arg(
        long,
        value_name = "SECS",
        allow_negative_numbers = true,
        default_value_t = 0,
        value_parser = clap::value_parser!(i64).range(-MAX_SKEW_SECS..=MAX_SKEW_SECS)
    )]
    pub skew_secs: i64,
    /// Serve this catalog at GET /v1/content_export: a saved Content Export response (one or
    /// several pages), JSON lines with `url` (and `type`, `attributes`), or one identity a line.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Seconds a content export next link stays valid (0: every next link has expired).
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub cursor_ttl: u64,
    /// Apply the faults to the first N uploads only.
    #[arg(long, value_name = "N")]
    pub fault_times: Option<u32>,
}

/// Run `lbimport serve`.
pub fn run(a: Args) -> ExitCode {
    let key = match Tracker::new(
        "sandbox",
        a.tracker_id.clone(),
        KeySource::Env(a.private_key_env.clone()),
    )
    .resolve_key()
    {
        Ok(k) => k,
        Err(e) => return super::fail_usage(e),
    };
    if let Err(e) = crate::config::check_tracker_id(&a.tracker_id) {
        return super::fail_usage(e);
    }
    let store = match a.store.clone() {
        Some(s) => s,
        None => match crate::config::data_dir() {
            Ok(d) => d.join("sandbox"),
            Err(e) => return super::fail_usage(e),
        },
    };
    if !a.bind.is_loopback() {
        eprintln!(
            "lbimport: warning: --bind {} is not a loopback address: other machines can reach \
             this sandbox (and the files it stores)",
            a.bind
        );
    }
    let mut cfg = server::Config::new(a.tracker_id.clone(), key, store.clone());
    cfg.addr = SocketAddr::new(a.bind, a.port);
    cfg.max_bytes = a.max_bytes;
    cfg.timeout = Duration::from_secs(a.timeout.max(1));
    cfg.validate = !a.no_validate;
    if let Some(path) = &a.catalog {
        match server::catalog::Catalog::load(path) {
            Ok(c) => cfg.catalog = Some(std::sync::Arc::new(c)),
            Err(e) => return super::fail_usage(format!("cannot read the catalog {e}")),
        }
    }
    cfg.cursor_ttl = Duration::from_secs(a.cursor_ttl);
    cfg.faults = Faults {
        fail_with: a.fail_with,
        retry_after: a.retry_after,
        drop_after: a.drop_after,
        drop_after_body: a.drop_after_body,
        throttle: a.throttle,
        answer_delay_ms: a.answer_delay.map(|s| s * 1000),
        skew_secs: a.skew_secs,
        times: a.fault_times,
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return super::fail_usage(format!("cannot start the async runtime: {e}")),
    };
    rt.block_on(async move {
        let faults = cfg.faults.clone();
        let validate = cfg.validate;
        let catalog = cfg.catalog.clone();
        let running = match server::start(cfg).await {
            Ok(r) => r,
            Err(e) => {
                return super::fail_usage(format!("cannot listen on {}:{}: {e}", a.bind, a.port));
            }
        };
        println!("lbimport sandbox listening on {}", running.base_url);
        println!(
            "  POST {}/v1/interactions/{}/files  (store: {}, validation {})",
            running.base_url,
            a.tracker_id,
            store.display(),
            if validate { "on" } else { "off" }
        );
        if let Some(c) = &catalog {
            println!(
                "  GET  {}/v1/content_export  ({} catalog objects, next links valid {} s)",
                running.base_url,
                c.objects().len(),
                a.cursor_ttl
            );
        }
        if faults != Faults::default() {
            println!("  faults: {faults:?}");
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("stopping…");
        running.stopped(Duration::from_secs(2)).await;
        ExitCode::SUCCESS
    })
}
