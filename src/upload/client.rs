//! The HTTP side: clock check, the attempt loop, progress, deadline, stall and cancellation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, DATE, RETRY_AFTER};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::{
    Event, Multipart, Outcome, SIGNED_CONTENT_TYPE, Settings, UploadRequest,
    clean_body_for_display, endpoint_path, explain_status, http_date, parse_http_date, shifted,
    sign_as,
};

/// Statuses worth another attempt: the server took nothing or asked to retry.
const RETRYABLE: [u16; 5] = [408, 429, 502, 503, 504];

/// Below this many bytes an attempt's rate says little about the link.
const MIN_BYTES_FOR_RATE: u64 = 1 << 20;

/// The signed request that would be sent, for `--dry-run` and confirmation screens.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestPreview {
    /// `POST`.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Headers in sending order (`Host`, `Date`, `Content-Type`, `Content-Length`,
    /// `Authorization`); the digest is shown, the private key never.
    pub headers: Vec<(String, String)>,
    /// The multipart filename.
    pub filename: String,
    /// Bytes of the file.
    pub file_bytes: u64,
}

impl RequestPreview {
    /// The request line and headers as they go on the wire (HTTP/1.1).
    pub fn to_text(&self) -> String {
        let path = reqwest::Url::parse(&self.url)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| self.url.clone());
        let mut s = format!("{} {path} HTTP/1.1\n", self.method);
        for (k, v) in &self.headers {
            s.push_str(&format!("{k}: {v}\n"));
        }
        s
    }
}

/// Sign the request `req` would send at `now` (with no clock correction) without sending it.
pub fn preview(req: &UploadRequest, now: SystemTime) -> Result<RequestPreview, String> {
    let url = endpoint_url(&req.base_url, &req.tracker_id)?;
    let len = std::fs::metadata(req.body.path())
        .map_err(|e| format!("cannot read {}: {e}", req.body.path().display()))?
        .len();
    let filename = req.body.filename();
    let mp = Multipart::new(&filename, len);
    let date = http_date(now);
    let auth = sign_as(
        &req.client_name,
        &req.tracker_id,
        &req.key,
        "POST",
        SIGNED_CONTENT_TYPE,
        &date,
        url.path(),
    );
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    };
    Ok(RequestPreview {
        method: "POST".into(),
        url: url.to_string(),
        headers: vec![
            ("Host".into(), host),
            ("Date".into(), date),
            ("Content-Type".into(), mp.content_type()),
            ("Content-Length".into(), mp.content_length().to_string()),
            ("Authorization".into(), auth),
        ],
        filename,
        file_bytes: len,
    })
}

fn endpoint_url(base: &str, tracker_id: &str) -> Result<reqwest::Url, String> {
    let base = base.trim().trim_end_matches('/');
    let full = format!("{base}{}", endpoint_path(tracker_id));
    let url = reqwest::Url::parse(&full).map_err(|e| format!("invalid base URL {base:?}: {e}"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        s => Err(format!(
            "invalid base URL {base:?}: scheme {s} is not http or https"
        )),
    }
}

/// Install rustls' `ring` crypto provider for the process, once (needed before any reqwest
/// client is built; an already installed provider is kept).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already; that is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn build_client(s: &Settings) -> Result<reqwest::Client, String> {
    install_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(s.connect_timeout)
        .user_agent(concat!("lbimport/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| format!("cannot set up HTTPS: {}", error_chain(&e)))
}

/// The error and its causes on one line.
/// Whether an error comes from the peer resetting the connection. A TCP endpoint that closes a
/// connection while bytes it received are still unread sends a reset instead of a normal close:
/// the server closed before reading everything the client wrote.
fn was_reset(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionReset
        {
            return true;
        }
        cur = c.source();
    }
    false
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = c.source();
    }
    parts.join(": ")
}

struct Emitter(Option<UnboundedSender<Event>>);

impl Emitter {
    fn send(&self, e: Event) {
        if let Some(tx) = &self.0 {
            let _ = tx.send(e);
        }
    }
}

/// Upload `req.body`, reporting to `events`, until it ends or `cancel` fires.
///
/// Never panics and never returns early without an [`Outcome`]; the private key is used only
/// to sign. See the module docs for an example.
pub async fn run(
    req: UploadRequest,
    events: Option<UnboundedSender<Event>>,
    cancel: CancellationToken,
) -> Outcome {
    let em = Emitter(events);
    let started = Instant::now();
    let s = req.settings.clone();
    let deadline_at = started + s.deadline;

    let path = req.body.path().to_path_buf();
    let file_len = match tokio::fs::metadata(&path).await {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => {
            return failed(format!("{} is not a regular file", path.display()), 0);
        }
        Err(e) => return failed(format!("cannot read {}: {e}", path.display()), 0),
    };
    if file_len > s.max_bytes {
        return failed(
            format!(
                "the file is {} ({file_len} bytes), over the service's limit of {} bytes; \
                 split it into smaller files. Nothing was sent",
                crate::units::bytes(file_len),
                s.max_bytes
            ),
            0,
        );
    }
    let url = match endpoint_url(&req.base_url, &req.tracker_id) {
        Ok(u) => u,
        Err(e) => return failed(e, 0),
    };
    let client = match build_client(&s) {
        Ok(c) => c,
        Err(e) => return failed(e, 0),
    };

    // Clock check.
    let mut offset_ms: i64 = 0;
    if s.clock_check {
        let base = req.base_url.trim().to_string();
        tokio::select! {
            _ = cancel.cancelled() => return Outcome::Cancelled,
            r = clock_skew(&client, &base, s.clock_check_timeout) => match r {
                Ok(skew_ms) => {
                    let corrected = skew_ms.unsigned_abs() > s.max_skew.as_millis() as u64;
                    if corrected {
                        offset_ms = skew_ms;
                    }
                    em.send(Event::ClockSkew { skew_ms, corrected });
                }
                Err(e) => tracing::info!("clock check skipped: {e}"),
            }
        }
    }

    let filename = req.body.filename();
    let mut retry_reason: Option<String> = None;
    let mut n = 0u32;
    loop {
        n += 1;
        em.send(Event::Attempt {
            n,
            reason: retry_reason.take(),
        });
        let date = http_date(shifted(SystemTime::now(), offset_ms));
        let auth = sign_as(
            &req.client_name,
            &req.tracker_id,
            &req.key,
            "POST",
            SIGNED_CONTENT_TYPE,
            &date,
            url.path(),
        );
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) => return failed(format!("cannot open {}: {e}", path.display()), 0),
        };
        let mp = Multipart::new(&filename, file_len);
        let total = mp.content_length();
        let sent = Arc::new(AtomicU64::new(0));
        let local_error = Arc::new(Mutex::new(None));
        let stream = mp
            .stream(file, s.chunk_size, sent.clone(), local_error.clone())
            .expect_sha256(req.body.sha256().map(str::to_string));
        let request = client
            .post(url.clone())
            .header(DATE, &date)
            .header(AUTHORIZATION, &auth)
            .header(CONTENT_TYPE, mp.content_type())
            .header(CONTENT_LENGTH, total)
            .body(reqwest::Body::wrap_stream(stream));

        let r = attempt(request, &s, &em, &cancel, deadline_at, &sent, total).await;
        let local = local_error.lock().ok().and_then(|g| g.clone());
        let at_end = Instant::now();
        let sent_now = sent.load(Ordering::Relaxed);
        let complete = sent_now >= total;
        let (wait, reason) = match r {
            AttemptEnd::Answer {
                status,
                body,
                retry_after,
                elapsed,
            } => {
                if (200..300).contains(&status) {
                    return Outcome::Accepted {
                        status,
                        body,
                        duration: elapsed,
                        bytes: file_len,
                    };
                }
                let rejected = |extra: &str| Outcome::Rejected {
                    status,
                    body: body.clone(),
                    explanation: format!("{}{extra}", explain_status(status)),
                };
                if !RETRYABLE.contains(&status) {
                    return rejected("");
                }
                if n >= s.max_attempts {
                    return rejected(&format!(" (gave up after {n} attempts)"));
                }
                if let Some(ra) = retry_after
                    && ra > deadline_at.saturating_duration_since(at_end)
                {
                    return rejected(&format!(
                        " Not retried: the server asked to retry after {} s, later than the \
                         {} s deadline allows.",
                        ra.as_secs(),
                        s.deadline.as_secs()
                    ));
                }
                let wait = match retry_after {
                    Some(ra) => ra.min(s.backoff_max),
                    None => backoff(&s, n),
                };
                let rate = rate_of(sent_now, elapsed);
                if let Err(why) = budget_allows(at_end, wait, total, rate, deadline_at) {
                    return rejected(&format!(" Not retried: {why}."));
                }
                let reason = match retry_after {
                    Some(ra) if ra > wait => format!(
                        "the server answered HTTP {status} and asked to retry after {} s; \
                         retrying after {} s, the longest lbimport waits between attempts",
                        ra.as_secs(),
                        wait.as_secs()
                    ),
                    Some(ra) => format!(
                        "the server answered HTTP {status} and asked to retry after {} s",
                        ra.as_secs()
                    ),
                    None => format!("the server answered HTTP {status}"),
                };
                (wait, reason)
            }
            AttemptEnd::Transport {
                error,
                reset,
                elapsed,
            } => {
                if let Some(l) = local {
                    return failed(l, sent_now);
                }
                if complete && reset {
                    // Every byte went into the socket, but the server reset the connection:
                    // it closed with part of the body unread (small files fit in the socket
                    // buffers, so "all written" is not "all read"). An incomplete multipart
                    // body imports nothing; not retried, so that a wrong reading of a reset
                    // can never import twice.
                    return failed(
                        format!(
                            "the server reset the connection before reading the whole file \
                             ({error}); an incomplete request imports nothing"
                        ),
                        sent_now,
                    );
                }
                if complete {
                    return Outcome::Unknown {
                        reason: format!(
                            "the whole file ({}) was sent but the connection ended without an \
                             answer ({error})",
                            crate::units::bytes(file_len)
                        ),
                    };
                }
                let reason = format!(
                    "the connection failed after {} of {} ({error})",
                    crate::units::bytes(sent_now),
                    crate::units::bytes(total)
                );
                if n >= s.max_attempts {
                    return failed(format!("{reason}; gave up after {n} attempts"), sent_now);
                }
                let wait = backoff(&s, n);
                let rate = rate_of(sent_now, elapsed);
                if let Err(why) = budget_allows(at_end, wait, total, rate, deadline_at) {
                    return failed(format!("{reason}; not retried: {why}"), sent_now);
                }
                (wait, reason)
            }
            AttemptEnd::Cancelled => {
                if complete {
                    return Outcome::Unknown {
                        reason: "cancelled after the whole file was sent, before the answer \
                                 arrived"
                            .into(),
                    };
                }
                return Outcome::Cancelled;
            }
            AttemptEnd::Deadline => {
                let d = s.deadline.as_secs();
                if complete {
                    return Outcome::Unknown {
                        reason: format!(
                            "the whole file was sent but no answer came within the {d} s deadline"
                        ),
                    };
                }
                return failed(
                    format!(
                        "the {d} s deadline passed after sending {} of {}",
                        crate::units::bytes(sent_now),
                        crate::units::bytes(total)
                    ),
                    sent_now,
                );
            }
            AttemptEnd::Stalled => {
                return failed(
                    format!(
                        "stalled: the server accepted no data for {} s (sent {} of {}); the \
                         connection is too slow or the server stopped reading",
                        s.stall.as_secs_f64().round(),
                        crate::units::bytes(sent_now),
                        crate::units::bytes(total)
                    ),
                    sent_now,
                );
            }
            AttemptEnd::NoAnswer => {
                return Outcome::Unknown {
                    reason: format!(
                        "the whole file was sent but no answer came within {} s",
                        s.response_timeout.as_secs()
                    ),
                };
            }
        };
        em.send(Event::Retrying {
            after: wait,
            reason: reason.clone(),
        });
        tokio::select! {
            _ = cancel.cancelled() => return Outcome::Cancelled,
            _ = tokio::time::sleep(wait) => {}
        }
        retry_reason = Some(reason);
    }
}

fn failed(reason: String, sent: u64) -> Outcome {
    Outcome::Failed { reason, sent }
}

fn backoff(s: &Settings, n: u32) -> Duration {
    let factor = 1u32 << (n.saturating_sub(1)).min(16);
    s.backoff.saturating_mul(factor).min(s.backoff_max)
}

fn rate_of(sent: u64, elapsed: Duration) -> Option<f64> {
    let secs = elapsed.as_secs_f64();
    (sent >= MIN_BYTES_FOR_RATE && secs > 0.0).then(|| sent as f64 / secs)
}

/// Whether another attempt, after `wait`, can finish before the deadline at `rate`.
fn budget_allows(
    now: Instant,
    wait: Duration,
    total: u64,
    rate: Option<f64>,
    deadline_at: Instant,
) -> Result<(), String> {
    let need = match rate {
        Some(r) if r > 0.0 => Duration::from_secs_f64((total as f64 / r).min(1e9)),
        _ => Duration::ZERO,
    };
    if now + wait + need > deadline_at {
        Err(match rate {
            Some(r) => format!(
                "at the measured {}/s another attempt would not finish before the deadline",
                crate::units::bytes(r as u64)
            ),
            None => "the deadline does not leave time for another attempt".into(),
        })
    } else {
        Ok(())
    }
}

/// Measure how far the clock of the server at `base_url` is from ours: server time minus
/// local time, in milliseconds (±500 ms: the `Date` header has second resolution).
///
/// This is the same check [`run`] does before an upload (a `GET` of the base URL, reading its
/// `Date` header), with the default connect and clock-check timeouts. Nothing is signed and
/// no key is needed. The error says in plain words why the clock could not be read.
///
/// ```no_run
/// # async fn demo() {
/// match lbimport::upload::measure_clock_skew("https://live.luigisbox.com").await {
///     Ok(ms) => println!("server clock is {ms:+} ms from ours"),
///     Err(e) => println!("could not check: {e}"),
/// }
/// # }
/// ```
pub async fn measure_clock_skew(base_url: &str) -> Result<i64, String> {
    let s = Settings::default();
    let base = base_url.trim();
    let url = reqwest::Url::parse(base).map_err(|e| format!("invalid base URL {base:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "invalid base URL {base:?}: scheme {} is not http or https",
            url.scheme()
        ));
    }
    let client = build_client(&s)?;
    clock_skew(&client, base, s.clock_check_timeout).await
}

/// Server time minus local time, in ms, from the `Date` header of a GET to `base`.
async fn clock_skew(
    client: &reqwest::Client,
    base: &str,
    timeout: Duration,
) -> Result<i64, String> {
    let t0 = SystemTime::now();
    let resp = client
        .get(base)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| error_chain(&e))?;
    let t1 = SystemTime::now();
    let date = resp
        .headers()
        .get(DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date)
        .ok_or_else(|| "the server sent no usable Date header".to_string())?;
    drop(resp);
    let ms = |t: SystemTime| -> i64 {
        match t.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => d.as_millis() as i64,
            Err(e) => -(e.duration().as_millis() as i64),
        }
    };
    let local_mid = (ms(t0) + ms(t1)) / 2;
    // The Date header is truncated to the second: the server's time is in [date, date + 1 s).
    Ok(ms(date) + 500 - local_mid)
}

enum AttemptEnd {
    Answer {
        status: u16,
        body: String,
        retry_after: Option<Duration>,
        elapsed: Duration,
    },
    Transport {
        error: String,
        /// The peer reset the connection (TCP RST) within a second of the last body byte being
        /// handed over: it closed it with bytes it never read (not a proxy's timeout).
        reset: bool,
        elapsed: Duration,
    },
    Cancelled,
    Deadline,
    Stalled,
    NoAnswer,
}

async fn send_and_read(
    request: reqwest::RequestBuilder,
) -> Result<(u16, Vec<u8>, Option<Duration>), reqwest::Error> {
    let mut resp = request.send().await?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                let room = super::MAX_BODY_SHOWN + 1 - body.len();
                body.extend_from_slice(&c[..c.len().min(room)]);
                if body.len() > super::MAX_BODY_SHOWN {
                    break;
                }
            }
            Ok(None) => break,
            // The status arrived; a cut-off answer body doesn't change it.
            Err(_) => break,
        }
    }
    Ok((status, body, retry_after))
}

/// `Retry-After`: delay in seconds or an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let t = parse_http_date(v)?;
    Some(
        t.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

struct RateMeter {
    last_sent: u64,
    last_at: Instant,
    rate: f64,
    primed: bool,
}

impl RateMeter {
    /// Exponential smoothing with a 2 s time constant.
    fn update(&mut self, sent: u64, now: Instant) -> f64 {
        let dt = now.duration_since(self.last_at).as_secs_f64();
        if dt <= 0.0 {
            return self.rate;
        }
        let inst = sent.saturating_sub(self.last_sent) as f64 / dt;
        if self.primed {
            let alpha = 1.0 - (-dt / 2.0).exp();
            self.rate += alpha * (inst - self.rate);
        } else {
            self.rate = inst;
            self.primed = true;
        }
        self.last_sent = sent;
        self.last_at = now;
        self.rate
    }
}

async fn attempt(
    request: reqwest::RequestBuilder,
    s: &Settings,
    em: &Emitter,
    cancel: &CancellationToken,
    deadline_at: Instant,
    sent: &AtomicU64,
    total: u64,
) -> AttemptEnd {
    let start = Instant::now();
    let fut = send_and_read(request);
    tokio::pin!(fut);
    let tick_every = s
        .progress_interval
        .clamp(Duration::from_millis(20), Duration::from_secs(1));
    let check_every = Duration::from_millis(100).min(tick_every);
    let mut ticker = tokio::time::interval(check_every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_emit = start;
    let mut last_change = start;
    let mut last_seen = 0u64;
    let mut body_done_at: Option<Instant> = None;
    let mut meter = RateMeter {
        last_sent: 0,
        last_at: start,
        rate: 0.0,
        primed: false,
    };
    let deadline = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline_at));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return AttemptEnd::Cancelled,
            r = &mut fut => {
                let elapsed = start.elapsed();
                let now_sent = sent.load(Ordering::Relaxed);
                em.send(progress_event(now_sent, total, &mut meter, elapsed, start));
                return match r {
                    Ok((status, body, retry_after)) => AttemptEnd::Answer {
                        status,
                        body: clean_body_for_display(&body),
                        retry_after,
                        elapsed,
                    },
                    Err(e) => AttemptEnd::Transport {
                        error: error_chain(&e),
                        reset: was_reset(&e)
                            && body_done_at.is_none_or(|d| d.elapsed() < Duration::from_secs(1)),
                        elapsed,
                    },
                };
            }
            _ = &mut deadline => return AttemptEnd::Deadline,
            _ = ticker.tick() => {
                let now = Instant::now();
                let now_sent = sent.load(Ordering::Relaxed);
                if now_sent != last_seen {
                    last_seen = now_sent;
                    last_change = now;
                }
                if now_sent >= total {
                    let done = *body_done_at.get_or_insert(now);
                    if now.duration_since(done) >= s.response_timeout {
                        return AttemptEnd::NoAnswer;
                    }
                } else if now.duration_since(last_change) >= s.stall {
                    return AttemptEnd::Stalled;
                }
                if now.duration_since(last_emit) >= tick_every {
                    last_emit = now;
                    em.send(progress_event(now_sent, total, &mut meter, now.duration_since(start), start));
                }
            }
        }
    }
}

fn progress_event(
    sent: u64,
    total: u64,
    meter: &mut RateMeter,
    elapsed: Duration,
    start: Instant,
) -> Event {
    let rate = meter.update(sent, start + elapsed);
    let left = total.saturating_sub(sent);
    let eta = if left == 0 {
        Some(Duration::ZERO)
    } else if rate > 1.0 {
        Some(Duration::from_secs_f64((left as f64 / rate).min(1e7)))
    } else {
        None
    };
    Event::Progress {
        sent,
        total,
        rate_bps: rate,
        eta,
        elapsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let s = Settings {
            backoff: Duration::from_secs(1),
            backoff_max: Duration::from_secs(5),
            ..Settings::default()
        };
        assert_eq!(backoff(&s, 1), Duration::from_secs(1));
        assert_eq!(backoff(&s, 2), Duration::from_secs(2));
        assert_eq!(backoff(&s, 3), Duration::from_secs(4));
        assert_eq!(backoff(&s, 4), Duration::from_secs(5));
        assert_eq!(backoff(&s, 40), Duration::from_secs(5));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Thu, 29 Jun 2017 12:11:16 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn budget_uses_the_measured_rate() {
        let now = Instant::now();
        let deadline = now + Duration::from_secs(100);
        // 1 GB at 10 MB/s needs 100 s: no time left for it after waiting 1 s.
        assert!(
            budget_allows(
                now,
                Duration::from_secs(1),
                1_000_000_000,
                Some(1e7),
                deadline
            )
            .is_err()
        );
        assert!(
            budget_allows(
                now,
                Duration::from_secs(1),
                100_000_000,
                Some(1e7),
                deadline
            )
            .is_ok()
        );
        assert!(budget_allows(now, Duration::from_secs(101), 1, None, deadline).is_err());
        assert_eq!(rate_of(1000, Duration::from_secs(1)), None);
        assert_eq!(
            rate_of(2 << 20, Duration::from_secs(2)),
            Some((1 << 20) as f64)
        );
    }

    #[test]
    fn clock_measurement_refuses_a_bad_base_url() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let e = rt
            .block_on(measure_clock_skew("ftp://example.com"))
            .expect_err("ftp");
        assert!(e.contains("not http or https"), "{e}");
        let e = rt
            .block_on(measure_clock_skew("not a url"))
            .expect_err("garbage");
        assert!(e.contains("invalid base URL"), "{e}");
    }

    #[test]
    fn urls() {
        let u = endpoint_url("http://127.0.0.1:8080/", "1292-9381").expect("url");
        assert_eq!(u.path(), "/v1/interactions/1292-9381/files");
        assert!(endpoint_url("ftp://x", "1").is_err());
        assert!(endpoint_url("not a url", "1").is_err());
    }
}
