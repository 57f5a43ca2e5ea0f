//! The real upload client against the in-process sandbox: success, rejections, retries,
//! dropped connections, stalls, cancellation, clock skew and size limits.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lbimport::config::{PrivateKey, sha256_file};
use lbimport::read::Format;
use lbimport::server::{self, Faults, Running};
use lbimport::upload::{self, Body, Event, Outcome, Settings, UploadRequest};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio_util::sync::CancellationToken;

const TRACKER: &str = "1292-9381";
const KEY: &str = "sandbox-secret-key-0123456789";

/// A deterministic CSV-like file of about `bytes` bytes.
fn data_file(dir: &Path, name: &str, bytes: usize) -> PathBuf {
    let mut s = String::with_capacity(bytes + 64);
    let mut i = 0u64;
    while s.len() < bytes {
        s.push_str(&format!(
            "{},/p/{},{},\"2024-01-{:02} 10:00:00\"\n",
            i / 3,
            i * 7919 % 100_003,
            i % 977,
            i % 28 + 1
        ));
        i += 1;
    }
    let p = dir.join(name);
    std::fs::write(&p, s).expect("write data file");
    p
}

async fn sandbox(dir: &Path, faults: Faults) -> Running {
    let mut cfg = server::Config::new(TRACKER, PrivateKey::new(KEY), dir.join("store"));
    cfg.faults = faults;
    cfg.validate = false;
    server::start(cfg).await.expect("start sandbox")
}

/// A temporary directory, a file of `bytes` bytes in it (`a.csv`), and a sandbox with
/// `faults` storing there.
async fn with_faults(bytes: usize, faults: Faults) -> (tempfile::TempDir, PathBuf, Running) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = data_file(dir.path(), "a.csv", bytes);
    let srv = sandbox(dir.path(), faults).await;
    (dir, file, srv)
}

fn settings() -> Settings {
    Settings {
        backoff: Duration::from_millis(50),
        progress_interval: Duration::from_millis(50),
        ..Settings::default()
    }
}

fn request(base: &str, key: &str, path: &Path, settings: Settings) -> UploadRequest {
    UploadRequest {
        base_url: base.to_string(),
        tracker_id: TRACKER.to_string(),
        key: PrivateKey::new(key),
        client_name: "ApiAuth".to_string(),
        body: Body::File {
            path: path.to_path_buf(),
            format: Format::Csv,
        },
        settings,
    }
}

async fn run_collect(req: UploadRequest) -> (Outcome, Vec<Event>) {
    let (tx, mut rx) = unbounded_channel();
    let outcome = upload::run(req, Some(tx), CancellationToken::new()).await;
    (outcome, drain(&mut rx))
}

fn drain(rx: &mut UnboundedReceiver<Event>) -> Vec<Event> {
    let mut v = Vec::new();
    while let Ok(e) = rx.try_recv() {
        v.push(e);
    }
    v
}

fn attempts(events: &[Event]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Attempt { n, .. } => Some(*n),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn accepted_upload_is_byte_identical_at_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = data_file(dir.path(), "orders export.txt", 3 << 20);
    let srv = sandbox(dir.path(), Faults::default()).await;
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &file, settings())).await;
    let len = std::fs::metadata(&file).expect("meta").len();
    match &outcome {
        Outcome::Accepted {
            status,
            bytes,
            body,
            ..
        } => {
            assert_eq!(*status, 200);
            assert_eq!(*bytes, len);
            assert!(body.contains("\"status\":\"accepted\""), "{body}");
        }
        other => panic!("expected accepted, got {other:?}"),
    }
    let got = srv.received();
    assert_eq!(got.len(), 1);
    let local_sha = sha256_file(&file).expect("hash");
    assert_eq!(got[0].sha256, local_sha);
    assert_eq!(got[0].bytes, len);
    assert_eq!(got[0].status, 200);
    // The filename follows the format, not the local name.
    assert_eq!(got[0].filename, "orders_export.csv");
    let stored = got[0].path.clone().expect("stored path");
    assert_eq!(
        stored.file_name().and_then(|n| n.to_str()),
        Some(format!("{local_sha}.csv").as_str())
    );
    assert_eq!(
        std::fs::read(&stored).expect("stored"),
        std::fs::read(&file).expect("local")
    );
    // Events: a clock check without correction, one attempt, progress up to the total.
    assert!(
        matches!(events.first(), Some(Event::ClockSkew { corrected: false, skew_ms }) if skew_ms.abs() <= 1500)
    );
    assert_eq!(attempts(&events), vec![1]);
    let last = events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Progress { sent, total, .. } => Some((*sent, *total)),
            _ => None,
        })
        .expect("progress events");
    assert_eq!(last.0, last.1);
    assert!(
        last.1 > len && last.1 < len + 400,
        "total {} for {len}",
        last.1
    );
}

#[tokio::test]
async fn wrong_key_is_rejected_with_the_reason() {
    let (_dir, file, srv) = with_faults(10_000, Faults::default()).await;
    let (outcome, events) =
        run_collect(request(&srv.base_url, "not-the-key", &file, settings())).await;
    match &outcome {
        Outcome::Rejected {
            status,
            body,
            explanation,
        } => {
            assert_eq!(*status, 401);
            assert!(body.contains("signature does not match"), "{body}");
            assert!(explanation.contains("private key"), "{explanation}");
            assert!(explanation.contains("clock"), "{explanation}");
        }
        other => panic!("expected 401, got {other:?}"),
    }
    assert_eq!(outcome.exit_code(), 1);
    assert_eq!(attempts(&events), vec![1], "401 is never retried");
    assert_eq!(srv.uploads(), 1);
    assert_eq!(srv.received()[0].status, 401);
}

#[tokio::test]
async fn skewed_server_clock_is_corrected() {
    let (_dir, file, srv) = with_faults(
        10_000,
        Faults {
            skew_secs: 40,
            ..Faults::default()
        },
    )
    .await;
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &file, settings())).await;
    assert!(
        matches!(outcome, Outcome::Accepted { status: 200, .. }),
        "{outcome:?}"
    );
    let skew = events
        .iter()
        .find_map(|e| match e {
            Event::ClockSkew { skew_ms, corrected } => Some((*skew_ms, *corrected)),
            _ => None,
        })
        .expect("clock skew event");
    assert!((38_500..=41_500).contains(&skew.0), "skew {}", skew.0);
    assert!(skew.1, "a 40 s skew is corrected");

    // Without the clock check the server says what is wrong.
    let mut s = settings();
    s.clock_check = false;
    let (outcome, _) = run_collect(request(&srv.base_url, KEY, &file, s)).await;
    match outcome {
        Outcome::Rejected { status, body, .. } => {
            assert_eq!(status, 401);
            assert!(body.contains("behind the server's clock"), "{body}");
            // The sandbox runs 40 s ahead; whole seconds on both sides give 39–41.
            let n: u64 = body
                .split("the Date header is ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no seconds in {body}"));
            assert!((39..=42).contains(&n), "reported {n} s behind: {body}");
        }
        other => panic!("expected 401, got {other:?}"),
    }
}

#[tokio::test]
async fn too_many_requests_is_retried_after_retry_after() {
    let (_dir, file, srv) = with_faults(
        50_000,
        Faults {
            fail_with: Some(429),
            retry_after: Some(1),
            times: Some(1),
            ..Faults::default()
        },
    )
    .await;
    let t = Instant::now();
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &file, settings())).await;
    assert!(
        matches!(outcome, Outcome::Accepted { status: 200, .. }),
        "{outcome:?}"
    );
    assert!(t.elapsed() >= Duration::from_secs(1), "Retry-After obeyed");
    assert_eq!(attempts(&events), vec![1, 2]);
    let retry = events
        .iter()
        .find_map(|e| match e {
            Event::Retrying { after, reason } => Some((*after, reason.clone())),
            _ => None,
        })
        .expect("retrying event");
    assert_eq!(retry.0, Duration::from_secs(1));
    assert!(retry.1.contains("429"), "{}", retry.1);
    let statuses: Vec<u16> = srv.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 200]);
}

#[tokio::test]
async fn too_many_requests_gives_up_after_three_attempts() {
    let (_dir, file, srv) = with_faults(
        20_000,
        Faults {
            fail_with: Some(429),
            retry_after: Some(0),
            ..Faults::default()
        },
    )
    .await;
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &file, settings())).await;
    match outcome {
        Outcome::Rejected {
            status,
            explanation,
            ..
        } => {
            assert_eq!(status, 429);
            assert!(explanation.contains("after 3 attempts"), "{explanation}");
        }
        other => panic!("expected 429, got {other:?}"),
    }
    assert_eq!(attempts(&events), vec![1, 2, 3]);
    assert_eq!(srv.uploads(), 3);
}

#[tokio::test]
async fn retry_after_beyond_the_deadline_gives_up_and_says_why() {
    let (_dir, file, srv) = with_faults(
        20_000,
        Faults {
            fail_with: Some(429),
            retry_after: Some(3600),
            ..Faults::default()
        },
    )
    .await;
    let s = Settings {
        deadline: Duration::from_secs(120),
        ..settings()
    };
    let t = Instant::now();
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &file, s)).await;
    match outcome {
        Outcome::Rejected {
            status,
            explanation,
            ..
        } => {
            assert_eq!(status, 429);
            assert!(
                explanation.contains("retry after 3600 s, later than the 120 s deadline"),
                "{explanation}"
            );
        }
        other => panic!("expected 429, got {other:?}"),
    }
    assert_eq!(attempts(&events), vec![1]);
    assert!(t.elapsed() < Duration::from_secs(30), "did not wait");
    assert_eq!(srv.uploads(), 1);
}

#[tokio::test]
async fn retry_after_longer_than_the_longest_wait_is_cut_and_said() {
    let (_dir, file, srv) = with_faults(
        20_000,
        Faults {
            fail_with: Some(429),
            retry_after: Some(5),
            times: Some(1),
            ..Faults::default()
        },
    )
    .await;
    let s = Settings {
        backoff_max: Duration::from_secs(1),
        ..settings()
    };
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &file, s)).await;
    assert!(
        matches!(outcome, Outcome::Accepted { status: 200, .. }),
        "{outcome:?}"
    );
    let retry = events
        .iter()
        .find_map(|e| match e {
            Event::Retrying { after, reason } => Some((*after, reason.clone())),
            _ => None,
        })
        .expect("retrying event");
    assert_eq!(retry.0, Duration::from_secs(1));
    assert!(
        retry
            .1
            .contains("asked to retry after 5 s; retrying after 1 s, the longest"),
        "{}",
        retry.1
    );
}

#[tokio::test]
async fn server_error_is_not_retried() {
    let (_dir, file, srv) = with_faults(
        20_000,
        Faults {
            fail_with: Some(500),
            ..Faults::default()
        },
    )
    .await;
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &file, settings())).await;
    match outcome {
        Outcome::Rejected {
            status,
            explanation,
            ..
        } => {
            assert_eq!(status, 500);
            assert!(explanation.contains("internal error"), "{explanation}");
        }
        other => panic!("expected 500, got {other:?}"),
    }
    assert_eq!(attempts(&events), vec![1]);
    assert_eq!(srv.uploads(), 1);
}

#[tokio::test]
async fn connection_dropped_mid_body_is_retried() {
    let (_dir, file, srv) = with_faults(
        8 << 20,
        Faults {
            drop_after: Some(100_000),
            times: Some(1),
            ..Faults::default()
        },
    )
    .await;
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &file, settings())).await;
    assert!(
        matches!(outcome, Outcome::Accepted { status: 200, .. }),
        "{outcome:?}"
    );
    assert_eq!(attempts(&events), vec![1, 2]);
    let got = srv.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].status, 0, "first connection cut");
    assert!(got[0].reason.contains("drop-after"), "{}", got[0].reason);
    assert_eq!(got[1].sha256, sha256_file(&file).expect("hash"));
}

#[tokio::test]
async fn connection_dropped_mid_body_every_time_fails() {
    let (_dir, file, srv) = with_faults(
        8 << 20,
        Faults {
            drop_after: Some(100_000),
            ..Faults::default()
        },
    )
    .await;
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &file, settings())).await;
    match &outcome {
        Outcome::Failed { reason, sent } => {
            assert!(reason.contains("connection failed"), "{reason}");
            assert!(reason.contains("gave up after 3 attempts"), "{reason}");
            assert!(*sent < (8 << 20), "sent {sent}");
        }
        other => panic!("expected failed, got {other:?}"),
    }
    assert_eq!(outcome.exit_code(), 3);
    assert_eq!(attempts(&events), vec![1, 2, 3]);
    assert_eq!(srv.uploads(), 3);
}

#[tokio::test]
async fn dropped_after_the_whole_body_is_unknown_and_not_retried() {
    let (_dir, file, srv) = with_faults(
        200_000,
        Faults {
            drop_after_body: true,
            ..Faults::default()
        },
    )
    .await;
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &file, settings())).await;
    match &outcome {
        Outcome::Unknown { reason } => {
            assert!(reason.contains("whole file"), "{reason}");
        }
        other => panic!("expected unknown, got {other:?}"),
    }
    assert_eq!(outcome.exit_code(), 4);
    assert_eq!(attempts(&events), vec![1]);
    assert_eq!(srv.uploads(), 1);
    let got = srv.received();
    assert_eq!(got[0].status, 0);
    assert_eq!(got[0].sha256, sha256_file(&file).expect("hash"));
}

#[tokio::test]
async fn a_stall_aborts_with_the_reason() {
    let (_dir, file, srv) = with_faults(
        8 << 20,
        Faults {
            throttle: Some(1),
            ..Faults::default()
        },
    )
    .await;
    let mut s = settings();
    s.stall = Duration::from_secs(1);
    let t = Instant::now();
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &file, s)).await;
    match &outcome {
        Outcome::Failed { reason, sent } => {
            assert!(reason.starts_with("stalled"), "{reason}");
            assert!(*sent > 0 && *sent < (8 << 20), "sent {sent}");
        }
        other => panic!("expected a stall, got {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(attempts(&events), vec![1], "a stall is not retried");
}

#[tokio::test]
async fn the_deadline_aborts_a_slow_upload() {
    let (_dir, file, srv) = with_faults(
        8 << 20,
        Faults {
            throttle: Some(1),
            ..Faults::default()
        },
    )
    .await;
    let mut s = settings();
    s.deadline = Duration::from_millis(1500);
    let t = Instant::now();
    let (outcome, _) = run_collect(request(&srv.base_url, KEY, &file, s)).await;
    match &outcome {
        Outcome::Failed { reason, .. } => assert!(reason.contains("deadline"), "{reason}"),
        other => panic!("expected the deadline, got {other:?}"),
    }
    let el = t.elapsed();
    assert!(
        el >= Duration::from_millis(1400) && el < Duration::from_secs(3),
        "{el:?}"
    );
}

#[tokio::test]
async fn cancel_aborts_within_a_second() {
    let (_dir, file, srv) = with_faults(
        8 << 20,
        Faults {
            throttle: Some(100_000),
            ..Faults::default()
        },
    )
    .await;
    let cancel = CancellationToken::new();
    let (tx, mut rx) = unbounded_channel();
    let job = tokio::spawn(upload::run(
        request(&srv.base_url, KEY, &file, settings()),
        Some(tx),
        cancel.clone(),
    ));
    // Wait until bytes flow, then cancel.
    loop {
        match rx.recv().await {
            Some(Event::Progress { sent, .. }) if sent > 0 => break,
            Some(_) => {}
            None => panic!("upload ended before progress"),
        }
    }
    let t = Instant::now();
    cancel.cancel();
    let outcome = job.await.expect("join");
    let took = t.elapsed();
    assert_eq!(outcome, Outcome::Cancelled);
    assert_eq!(outcome.exit_code(), 130);
    assert!(took < Duration::from_secs(1), "cancel took {took:?}");
}

#[tokio::test]
async fn over_one_gib_is_refused_before_connecting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.csv");
    let f = std::fs::File::create(&big).expect("create");
    f.set_len((1u64 << 30) + 1).expect("sparse file");
    let srv = sandbox(dir.path(), Faults::default()).await;
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &big, settings())).await;
    match &outcome {
        Outcome::Failed { reason, sent } => {
            assert_eq!(*sent, 0);
            assert!(reason.contains("limit"), "{reason}");
            assert!(reason.contains("Nothing was sent"), "{reason}");
        }
        other => panic!("expected refusal, got {other:?}"),
    }
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(srv.uploads(), 0);
}

#[tokio::test]
async fn connection_refused_is_retried_then_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = data_file(dir.path(), "a.csv", 1000);
    // A port that was free a moment ago.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let (outcome, events) = run_collect(request(&base, KEY, &file, settings())).await;
    match &outcome {
        Outcome::Failed { reason, sent } => {
            assert_eq!(*sent, 0);
            assert!(reason.contains("gave up after 3 attempts"), "{reason}");
        }
        other => panic!("expected failed, got {other:?}"),
    }
    assert_eq!(attempts(&events), vec![1, 2, 3]);
}

#[tokio::test]
async fn too_large_for_the_server_is_rejected_with_413() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = data_file(dir.path(), "a.csv", 20 << 20);
    let mut cfg = server::Config::new(TRACKER, PrivateKey::new(KEY), dir.path().join("store"));
    cfg.validate = false;
    cfg.max_bytes = 100_000;
    let srv = server::start(cfg).await.expect("start");
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &file, settings())).await;
    match &outcome {
        Outcome::Rejected {
            status,
            explanation,
            body,
        } => {
            assert_eq!(*status, 413);
            assert!(explanation.contains("Split"), "{explanation}");
            assert!(body.contains("limit of 100000 bytes"), "{body}");
        }
        other => panic!("expected 413, got {other:?}"),
    }
    assert_eq!(attempts(&events), vec![1]);
}

/// A small file fits in the socket buffers: all of it is "sent" at once. When the server then
/// resets the connection having read only part of it, nothing was imported: failed (exit 3),
/// not unknown, and not retried.
#[tokio::test]
async fn a_small_file_cut_mid_body_is_failed_not_unknown() {
    let (_dir, file, srv) = with_faults(
        60_000,
        Faults {
            drop_after: Some(1_000),
            ..Faults::default()
        },
    )
    .await;
    let (outcome, events) = run_collect(request(&srv.base_url, KEY, &file, settings())).await;
    match &outcome {
        Outcome::Failed { reason, .. } => {
            assert!(
                reason.contains("reset the connection before reading the whole file")
                    || reason.contains("connection failed"),
                "{reason}"
            );
        }
        other => panic!("expected failed, got {other:?}"),
    }
    assert_eq!(outcome.exit_code(), 3);
    assert!(srv.received().iter().all(|r| r.status == 0));
    // a reset seen after the whole body was handed over is never retried: every retry is
    // for a connection that failed before the body went out (which attempt sees which
    // depends on how much the socket buffers took, so the count of attempts may vary)
    for e in &events {
        if let Event::Attempt { n, reason: Some(r) } = e {
            assert!(
                r.contains("the connection failed after"),
                "attempt {n} retried because: {r}"
            );
        }
    }
}
