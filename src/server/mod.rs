//! The sandbox: a local stand-in for the import endpoint, for tests, demos and rehearsals.
//!
//! It checks what the real service is documented to check — the `Authorization` form, the
//! tracker, the HMAC signature (computed independently), the `Date` (±5 s), a multipart body
//! with one part `file` named `.json`/`.csv`, the size limit (413) and the transfer time (408)
//! — then validates the file with lbimport's validator (400 with the errors) and stores it
//! under its sha256. Fault flags make every client failure path reproducible.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use lbimport::{config::PrivateKey, server};
//! let cfg = server::Config::new("1292-9381", PrivateKey::new("secret"), "/tmp/sandbox".into());
//! let running = server::start(cfg).await?;
//! println!("listening on {}", running.base_url);
//! // … upload to running.base_url …
//! let got = running.received();
//! running.shutdown();
//! # Ok(()) }
//! ```

pub mod catalog;
mod conn;
mod handler;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::PrivateKey;

pub use conn::{Conn, KillSwitch, KillableListener};

/// The clock difference the service tolerates between `Date` and its own clock.
pub const MAX_DATE_SKEW_SECS: i64 = 5;

/// Faults to inject, to exercise the client's failure paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Answer every upload with this status (after reading the body).
    pub fail_with: Option<u16>,
    /// Add `Retry-After: N` (seconds) to `fail_with` answers.
    pub retry_after: Option<u64>,
    /// Cut the connection after reading this many body bytes.
    pub drop_after: Option<u64>,
    /// Read the whole body, then cut the connection without answering.
    pub drop_after_body: bool,
    /// Read the body at most this many bytes per second.
    pub throttle: Option<u64>,
    /// Wait this many milliseconds after reading the whole body before answering.
    pub answer_delay_ms: Option<u64>,
    /// Shift the server's clock (its `Date` headers and its Date check) by this many seconds.
    pub skew_secs: i64,
    /// Apply the upload faults (not the skew) only to the first N uploads; `None` = all.
    pub times: Option<u32>,
}

/// Sandbox settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; `127.0.0.1:0` (a free port) by default.
    pub addr: SocketAddr,
    /// The only tracker id accepted.
    pub tracker_id: String,
    /// Its private key, to check signatures.
    pub key: PrivateKey,
    /// Where accepted files are stored (`<sha256>.<ext>`).
    pub store_dir: PathBuf,
    /// Largest accepted file part (413 above). Default 1 GiB.
    pub max_bytes: u64,
    /// The body must arrive within this (408 otherwise). Default 600 s.
    pub timeout: Duration,
    /// Injected faults.
    pub faults: Faults,
    /// Validate stored files with lbimport's validator (400 with its errors). Default on.
    pub validate: bool,
    /// The catalog `GET /v1/content_export` serves; `None` answers 404.
    pub catalog: Option<Arc<catalog::Catalog>>,
    /// How long a content export next link stays valid. Default 600 s.
    pub cursor_ttl: Duration,
}

impl Config {
    /// Defaults: 127.0.0.1:0, 1 GiB, 600 s, no faults, validation on.
    pub fn new(tracker_id: impl Into<String>, key: PrivateKey, store_dir: PathBuf) -> Self {
        Config {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            tracker_id: tracker_id.into(),
            key,
            store_dir,
            max_bytes: crate::validate::MAX_FILE_BYTES,
            timeout: Duration::from_secs(600),
            faults: Faults::default(),
            validate: true,
            catalog: None,
            cursor_ttl: catalog::DEFAULT_CURSOR_TTL,
        }
    }
}

/// One upload request the sandbox answered (or cut).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// sha256 of the file part read (lowercase hex; empty when none was read).
    pub sha256: String,
    /// Bytes of the file part read.
    pub bytes: u64,
    /// The part's filename (empty when none).
    pub filename: String,
    /// Where it was stored (only accepted files are kept).
    pub path: Option<PathBuf>,
    /// The status answered; 0 when the connection was cut without an answer.
    pub status: u16,
    /// Why, in a few words (`accepted`, `bad signature`, `fault: drop-after`, …).
    pub reason: String,
}

pub(crate) struct Shared {
    pub(crate) cfg: Config,
    pub(crate) received: Mutex<Vec<Received>>,
    pub(crate) uploads: AtomicU64,
    pub(crate) seq: AtomicU64,
}

impl Shared {
    pub(crate) fn record(&self, r: Received) {
        match self.received.lock() {
            Ok(mut g) => g.push(r),
            Err(p) => p.into_inner().push(r),
        }
    }
}

/// A running sandbox. Dropping it stops the server (as [`Running::shutdown`]).
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// `http://ADDR` — the base URL to give the client.
    pub base_url: String,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("addr", &self.addr)
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Running {
    /// Every upload request answered so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        match self.shared.received.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Number of upload requests seen so far (including those still running).
    pub fn uploads(&self) -> u64 {
        self.shared.uploads.load(Ordering::Relaxed)
    }

    /// Stop accepting connections and let in-flight requests finish (non-blocking).
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }

    /// Wait until the server has stopped (after [`Running::shutdown`]), at most `limit`.
    pub async fn stopped(mut self, limit: Duration) {
        self.cancel.cancel();
        if let Some(t) = self.task.take() {
            let abort = t.abort_handle();
            if tokio::time::timeout(limit, t).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Bind and start the sandbox on the current tokio runtime.
pub async fn start(cfg: Config) -> std::io::Result<Running> {
    crate::config::create_private_dir(&cfg.store_dir)?;
    let listener = tokio::net::TcpListener::bind(cfg.addr).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        cfg,
        received: Mutex::new(Vec::new()),
        uploads: AtomicU64::new(0),
        seq: AtomicU64::new(0),
    });
    let app = Router::new()
        .route("/", get(handler::root))
        .route(crate::spec::ENDPOINT_ROUTE, post(handler::upload))
        .route(catalog::CONTENT_EXPORT_PATH, get(catalog::content_export))
        .fallback(handler::not_found)
        .with_state(shared.clone());
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let task = tokio::spawn(async move {
        let serve = axum::serve(
            KillableListener::new(listener),
            app.into_make_service_with_connect_info::<Conn>(),
        )
        .with_graceful_shutdown(stop.cancelled_owned());
        if let Err(e) = serve.await {
            tracing::error!("sandbox server stopped: {e}");
        }
    });
    Ok(Running {
        addr,
        base_url: format!("http://{addr}"),
        shared,
        cancel,
        task: Some(task),
    })
}
