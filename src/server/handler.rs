//! Request handling of the sandbox.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{Conn, MAX_DATE_SKEW_SECS, Received, Shared};
use crate::read::Format;
use crate::upload::{self, SIGNED_CONTENT_TYPE};

/// Multipart framing allowed on top of `max_bytes` before the body counts as too large.
const FRAMING_SLACK: u64 = 64 * 1024;
/// Most bytes read (and discarded) before answering an early error, so the client gets to
/// read the answer instead of a reset connection.
const LINGER_BYTES: u64 = 16 << 20;
/// Most time spent discarding before an early error answer.
const LINGER_TIME: Duration = Duration::from_secs(3);
/// How long the rest of a body is discarded in the background after an early answer.
const LINGER_AFTER: Duration = Duration::from_secs(10);

/// `GET /`: a cheap unauthenticated answer whose `Date` the client's clock check reads.
pub(crate) async fn root(State(sh): State<Arc<Shared>>) -> Response {
    let text = format!(
        "lbimport sandbox of the Luigi's Box import endpoint: POST /v1/interactions/{}/files\n",
        sh.cfg.tracker_id
    );
    with_date(&sh, (StatusCode::OK, text).into_response())
}

/// Anything else: 404.
pub(crate) async fn not_found(State(sh): State<Arc<Shared>>, uri: Uri) -> Response {
    let body = json!({"error": "not found", "path": uri.path()});
    with_date(&sh, json_response(StatusCode::NOT_FOUND, &body))
}

pub(crate) fn json_response(code: StatusCode, body: &serde_json::Value) -> Response {
    let mut text = body.to_string();
    text.push('\n');
    (
        code,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response()
}

pub(crate) fn server_now(sh: &Shared) -> SystemTime {
    upload::shifted(
        SystemTime::now(),
        sh.cfg.faults.skew_secs.saturating_mul(1000),
    )
}

pub(crate) fn with_date(sh: &Shared, mut r: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&upload::http_date(server_now(sh))) {
        r.headers_mut().insert(header::DATE, v);
    }
    r
}

/// What to do with the request.
enum Reply {
    Answer {
        status: u16,
        body: serde_json::Value,
        close: bool,
        retry_after: Option<u64>,
    },
    /// Cut the connection without answering.
    Cut,
}

fn answer(status: u16, body: serde_json::Value) -> Reply {
    Reply::Answer {
        status,
        body,
        close: false,
        retry_after: None,
    }
}

fn answer_close(status: u16, body: serde_json::Value) -> Reply {
    Reply::Answer {
        status,
        body,
        close: true,
        retry_after: None,
    }
}

/// `POST /v1/interactions/{tracker}/files`.
pub(crate) async fn upload(
    State(sh): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    Path(tracker): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let n = sh.uploads.fetch_add(1, Ordering::Relaxed) + 1;
    let faulty = sh.cfg.faults.times.is_none_or(|t| n <= u64::from(t));
    let mut rec = Received {
        sha256: String::new(),
        bytes: 0,
        filename: String::new(),
        path: None,
        status: 0,
        reason: String::new(),
    };
    let reply = handle(
        &sh, &tracker, &uri, &headers, body, faulty, started, &mut rec,
    )
    .await;
    let response = match reply {
        Reply::Cut => {
            conn.kill.kill();
            rec.status = 0;
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Reply::Answer {
            status,
            body,
            close,
            retry_after,
        } => {
            rec.status = status;
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = with_date(&sh, json_response(code, &body));
            if close {
                r.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            if let Some(ra) = retry_after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(ra));
            }
            r
        }
    };
    tracing::info!(
        "{} POST {} -> {} {} bytes {} ms file={:?} sha256={} {}",
        conn.peer,
        uri.path(),
        if rec.status == 0 {
            "cut".to_string()
        } else {
            rec.status.to_string()
        },
        rec.bytes,
        started.elapsed().as_millis(),
        rec.filename,
        if rec.sha256.is_empty() {
            "-"
        } else {
            &rec.sha256
        },
        rec.reason
    );
    sh.record(rec);
    response
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    sh: &Arc<Shared>,
    tracker: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    faulty: bool,
    started: Instant,
    rec: &mut Received,
) -> Reply {
    let cfg = &sh.cfg;
    let faults = &cfg.faults;
    let deadline = started + cfg.timeout;

    if let Err(why) = check_auth(
        sh,
        tracker,
        "POST",
        SIGNED_CONTENT_TYPE,
        uri.path(),
        headers,
    ) {
        rec.reason = format!("401: {why}");
        // An unauthenticated body is not read: at most a little of it, so that the client
        // sees the answer rather than a reset, then the connection is closed.
        let drained = linger(body, LINGER_BYTES, started + LINGER_TIME).await;
        return Reply::Answer {
            status: 401,
            body: json!({"error": "authentication failed", "reason": why}),
            close: !drained,
            retry_after: None,
        };
    }

    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = match content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
        .then(|| multer::parse_boundary(content_type).ok())
        .flatten()
    {
        Some(b) => b,
        None => {
            let why = format!(
                "the body must be multipart/form-data with a boundary (Content-Type was {:?})",
                content_type
            );
            rec.reason = format!("400: {why}");
            let drained = linger(body, LINGER_BYTES, deadline).await;
            return Reply::Answer {
                status: 400,
                body: json!({"error": "bad request", "reason": why}),
                close: !drained,
                retry_after: None,
            };
        }
    };

    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(len) = declared
        && len > cfg.max_bytes + FRAMING_SLACK
    {
        rec.reason = format!("413: Content-Length {len} over the limit");
        let _ = linger(body, LINGER_BYTES, started + LINGER_TIME).await;
        return answer_close(413, too_large(cfg.max_bytes));
    }

    // Read the body through the fault and limit layer.
    let read = Arc::new(ReadState::default());
    let stream = guarded(
        body.into_data_stream(),
        read.clone(),
        cfg.max_bytes + FRAMING_SLACK,
        faulty.then_some(faults.drop_after).flatten(),
        faulty.then_some(faults.throttle).flatten(),
    );
    let mut mp = multer::Multipart::new(stream, boundary);
    let seq = sh.seq.fetch_add(1, Ordering::Relaxed);
    let part = tokio::time::timeout_at(
        tokio::time::Instant::from_std(deadline),
        read_parts(&mut mp, cfg, seq, rec),
    )
    .await;
    drop(mp);
    let part = match part {
        Err(_) => {
            rec.reason = format!(
                "408: the body did not arrive within {} s",
                cfg.timeout.as_secs()
            );
            return answer_close(
                408,
                json!({"error": "request timeout", "reason": format!("the upload must complete within {} s", cfg.timeout.as_secs())}),
            );
        }
        Ok(Err(e)) => {
            let stop = read.stop.lock().ok().and_then(|g| *g);
            return match (stop, e) {
                (Some(Stop::Cut), _) => {
                    rec.reason = format!(
                        "fault: drop-after, cut after {} body bytes",
                        read.raw.load(Ordering::Relaxed)
                    );
                    Reply::Cut
                }
                (Some(Stop::TooLarge), _) | (_, PartError::TooLarge) => {
                    rec.reason = "413: file part over the limit".into();
                    answer_close(413, too_large(cfg.max_bytes))
                }
                (_, PartError::Gone(why)) => {
                    rec.reason = format!("client went away: {why}");
                    Reply::Cut
                }
                (_, PartError::Bad(why)) => {
                    rec.reason = format!("400: {why}");
                    answer_close(400, json!({"error": "bad request", "reason": why}))
                }
                (_, PartError::Io(why)) => {
                    rec.reason = format!("500: {why}");
                    answer_close(
                        500,
                        json!({"error": "sandbox storage failed", "reason": why}),
                    )
                }
            };
        }
        Ok(Ok(p)) => p,
    };

    if faulty && let Some(ms) = faults.answer_delay_ms {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    if faulty && faults.drop_after_body {
        let _ = tokio::fs::remove_file(&part.tmp).await;
        rec.reason = "fault: drop-after-body, cut without answering".into();
        return Reply::Cut;
    }
    if faulty && let Some(status) = faults.fail_with {
        let _ = tokio::fs::remove_file(&part.tmp).await;
        rec.reason = format!("fault: fail-with {status}");
        return Reply::Answer {
            status,
            body: json!({"error": "fault injected by the sandbox", "status": status}),
            close: false,
            retry_after: faults.retry_after,
        };
    }

    if cfg.validate {
        let tmp = part.tmp.clone();
        let format = part.format;
        let res = tokio::task::spawn_blocking(move || {
            let opts = crate::validate::Options {
                format: Some(format),
                ..Default::default()
            };
            crate::validate::validate_path(&tmp, &opts, None)
        })
        .await;
        match res {
            Ok(Ok(report)) if report.has_errors() => {
                let _ = tokio::fs::remove_file(&part.tmp).await;
                rec.reason = format!("400: {} validation errors", report.error_count());
                return answer(400, errors_json(&report));
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                let _ = tokio::fs::remove_file(&part.tmp).await;
                rec.reason = format!("500: validator failed: {e}");
                return answer(
                    500,
                    json!({"error": "the sandbox could not validate the file", "reason": e.to_string()}),
                );
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&part.tmp).await;
                rec.reason = format!("500: validator crashed: {e}");
                return answer(500, json!({"error": "the sandbox's validator failed"}));
            }
        }
    }

    let dest = cfg
        .store_dir
        .join(format!("{}.{}", rec.sha256, part.format.extension()));
    if let Err(e) = tokio::fs::rename(&part.tmp, &dest).await {
        let _ = tokio::fs::remove_file(&part.tmp).await;
        rec.reason = format!("500: cannot store: {e}");
        return answer(500, json!({"error": "sandbox storage failed"}));
    }
    rec.path = Some(dest);
    rec.reason = "accepted".into();
    answer(
        200,
        json!({"status": "accepted", "bytes": rec.bytes, "sha256": rec.sha256, "filename": rec.filename}),
    )
}

fn too_large(max: u64) -> serde_json::Value {
    json!({"error": "payload too large", "reason": format!("the file is larger than the limit of {max} bytes")})
}

/// The report's errors in the shape of the service's 400 answers.
fn errors_json(report: &crate::validate::Report) -> serde_json::Value {
    let mut errors = serde_json::Map::new();
    for i in report
        .issues
        .iter()
        .filter(|i| i.severity == crate::validate::Severity::Error)
    {
        let examples: Vec<_> = i
            .examples
            .iter()
            .map(|e| json!({"line": e.line, "text": e.text}))
            .collect();
        errors.insert(
            i.code.as_str().to_string(),
            json!({"type": i.code.as_str(), "reason": i.message, "count": i.count, "examples": examples}),
        );
    }
    json!({
        "ok_count": report.stats.valid_rows,
        "errors_count": report.error_count(),
        "errors": errors,
    })
}

/// Check the `Authorization` and `Date` of a request signed as `method` with `signed_ct`.
pub(crate) fn check_auth(
    sh: &Shared,
    tracker: &str,
    method: &str,
    signed_ct: &str,
    path: &str,
    headers: &HeaderMap,
) -> Result<(), String> {
    let cfg = &sh.cfg;
    if tracker != cfg.tracker_id {
        return Err(format!(
            "unknown tracker id {tracker:?} in the URL (this sandbox serves {:?})",
            cfg.tracker_id
        ));
    }
    let auth = match headers.get(header::AUTHORIZATION) {
        None => return Err("missing Authorization header".into()),
        Some(v) => v
            .to_str()
            .map_err(|_| "the Authorization header is not plain ASCII".to_string())?,
    };
    let parts = upload::parse_authorization(auth).ok_or_else(|| {
        "the Authorization header must look like `<client-name> <tracker_id>:<digest>`".to_string()
    })?;
    if parts.tracker_id != tracker {
        return Err(format!(
            "the tracker id {:?} in the Authorization header does not match the URL's {tracker:?}",
            parts.tracker_id
        ));
    }
    let date = match headers.get(header::DATE) {
        None => {
            return Err(
                "missing Date header (an HTTP date such as `Thu, 29 Jun 2017 12:11:16 GMT`)".into(),
            );
        }
        Some(v) => v
            .to_str()
            .map_err(|_| "the Date header is not plain ASCII".to_string())?,
    };
    let when = upload::parse_http_date(date).ok_or_else(|| {
        format!(
            "the Date header {date:?} is not an HTTP date such as `Thu, 29 Jun 2017 12:11:16 GMT`"
        )
    })?;
    let secs = |t: SystemTime| -> i64 {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs() as i64),
        }
    };
    let diff = secs(when) - secs(server_now(sh));
    if diff.abs() > MAX_DATE_SKEW_SECS {
        return Err(format!(
            "the Date header is {} s {} the server's clock (at most ±{MAX_DATE_SKEW_SECS} s is \
             allowed): set the clock right or sign with the current time",
            diff.abs(),
            if diff < 0 { "behind" } else { "ahead of" }
        ));
    }
    let expected = upload::digest(&cfg.key, method, signed_ct, date, path);
    if upload::constant_time_eq(expected.as_bytes(), parts.digest.as_bytes()) {
        return Ok(());
    }
    if let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        let full = upload::digest(&cfg.key, method, ct, date, path);
        if signed_ct == SIGNED_CONTENT_TYPE
            && ct != SIGNED_CONTENT_TYPE
            && upload::constant_time_eq(full.as_bytes(), parts.digest.as_bytes())
        {
            return Err(format!(
                "the signature covers the full Content-Type with its boundary; sign \
                 `{SIGNED_CONTENT_TYPE}` only"
            ));
        }
    }
    Err(format!(
        "the signature does not match: expected base64(HMAC-SHA256(private key, \
         \"{method}\\n{signed_ct}\\n<Date>\\n{path}\")); check the private key"
    ))
}

/// Read and discard the body up to `limit` bytes or `until` (at most a minute); true when it
/// ended. When it didn't, the rest keeps being discarded in the background for up to
/// [`LINGER_AFTER`] while the answer goes out, so the client can read the answer instead of
/// running into a reset connection (a "lingering close").
async fn linger(body: Body, limit: u64, until: Instant) -> bool {
    let until = until.min(Instant::now() + Duration::from_secs(60));
    let mut s = body.into_data_stream();
    let mut n = 0u64;
    let work = async {
        while let Some(c) = s.next().await {
            match c {
                Ok(b) => {
                    n += b.len() as u64;
                    if n > limit {
                        return Some(false);
                    }
                }
                Err(_) => return None,
            }
        }
        Some(true)
    };
    let ended = tokio::time::timeout_at(tokio::time::Instant::from_std(until), work).await;
    match ended {
        Ok(Some(true)) => true,
        Ok(None) => false,
        Ok(Some(false)) | Err(_) => {
            tokio::spawn(async move {
                let rest = async { while let Some(Ok(_)) = s.next().await {} };
                let _ = tokio::time::timeout(LINGER_AFTER, rest).await;
            });
            false
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Cut,
    TooLarge,
}

#[derive(Default)]
struct ReadState {
    raw: AtomicU64,
    stop: Mutex<Option<Stop>>,
}

impl ReadState {
    fn stop(&self, s: Stop) {
        if let Ok(mut g) = self.stop.lock() {
            *g = Some(s);
        }
    }
}

/// The body stream with the size limit and the drop/throttle faults applied.
fn guarded(
    inner: impl Stream<Item = Result<Bytes, axum::Error>> + Send + Unpin + 'static,
    read: Arc<ReadState>,
    limit: u64,
    drop_after: Option<u64>,
    throttle: Option<u64>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let start = tokio::time::Instant::now();
    futures_util::stream::unfold(
        (inner, read, false),
        move |(mut inner, read, done)| async move {
            if done {
                return None;
            }
            let item = inner.next().await?;
            let b = match item {
                Ok(b) => b,
                Err(e) => return Some((Err(std::io::Error::other(e)), (inner, read, true))),
            };
            let raw = read.raw.fetch_add(b.len() as u64, Ordering::Relaxed) + b.len() as u64;
            if let Some(n) = drop_after
                && raw >= n
            {
                read.stop(Stop::Cut);
                return Some((
                    Err(std::io::Error::other("cut by the drop-after fault")),
                    (inner, read, true),
                ));
            }
            if raw > limit {
                read.stop(Stop::TooLarge);
                return Some((
                    Err(std::io::Error::other("body over the limit")),
                    (inner, read, true),
                ));
            }
            if let Some(rate) = throttle.filter(|r| *r > 0) {
                let due = start + Duration::from_secs_f64(raw as f64 / rate as f64);
                tokio::time::sleep_until(due).await;
            }
            Some((Ok(b), (inner, read, false)))
        },
    )
}

struct Part {
    tmp: PathBuf,
    format: Format,
}

enum PartError {
    Bad(String),
    TooLarge,
    Gone(String),
    Io(String),
}

fn multer_error(e: multer::Error) -> PartError {
    match e {
        multer::Error::StreamReadFailed(inner) => PartError::Gone(inner.to_string()),
        other => PartError::Bad(format!("malformed multipart body: {other}")),
    }
}

/// Read every part; the one named `file` goes to a temporary file in the store directory.
async fn read_parts(
    mp: &mut multer::Multipart<'static>,
    cfg: &super::Config,
    seq: u64,
    rec: &mut Received,
) -> Result<Part, PartError> {
    let mut found: Option<Part> = None;
    while let Some(mut field) = mp.next_field().await.map_err(multer_error)? {
        if field.name() != Some("file") || found.is_some() {
            while field.chunk().await.map_err(multer_error)?.is_some() {}
            continue;
        }
        let filename = field.file_name().unwrap_or("").to_string();
        rec.filename = filename.clone();
        let ext = filename
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let format = match ext.as_str() {
            "csv" => Format::Csv,
            "json" => Format::Json,
            _ => {
                return Err(PartError::Bad(format!(
                    "the part `file` must have a filename ending in .json or .csv (got {filename:?})"
                )));
            }
        };
        let tmp = cfg.store_dir.join(format!(
            ".incoming-{}-{seq}.{}",
            std::process::id(),
            format.extension()
        ));
        let res = store_field(&mut field, &tmp, cfg.max_bytes, rec).await;
        if let Err(e) = res {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
        found = Some(Part { tmp, format });
    }
    found.ok_or_else(|| {
        PartError::Bad("the multipart body has no part named `file` with a filename".into())
    })
}

async fn store_field(
    field: &mut multer::Field<'static>,
    tmp: &std::path::Path,
    max: u64,
    rec: &mut Received,
) -> Result<(), PartError> {
    let file = tokio::fs::File::create(tmp)
        .await
        .map_err(|e| PartError::Io(format!("cannot create {}: {e}", tmp.display())))?;
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(multer_error)? {
        bytes += chunk.len() as u64;
        rec.bytes = bytes;
        if bytes > max {
            return Err(PartError::TooLarge);
        }
        hasher.update(&chunk);
        out.write_all(&chunk)
            .await
            .map_err(|e| PartError::Io(format!("cannot write {}: {e}", tmp.display())))?;
    }
    out.flush()
        .await
        .map_err(|e| PartError::Io(format!("cannot write {}: {e}", tmp.display())))?;
    rec.sha256 = crate::config::history::to_hex(&hasher.finalize());
    Ok(())
}
