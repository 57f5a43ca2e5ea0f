//! The sandbox endpoint's own checks, driven with hand-made requests.

use std::path::Path;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use lbimport::config::PrivateKey;
use lbimport::server::{self, Config, Faults, Running};
use lbimport::upload::{self, SIGNED_CONTENT_TYPE};

const TRACKER: &str = "1292-9381";
const KEY: &str = "server-test-key-abcdef";
const PATH: &str = "/v1/interactions/1292-9381/files";

async fn start(dir: &Path, edit: impl FnOnce(&mut Config)) -> Running {
    upload::install_crypto_provider();
    let mut cfg = Config::new(TRACKER, PrivateKey::new(KEY), dir.join("store"));
    cfg.validate = false;
    edit(&mut cfg);
    server::start(cfg).await.expect("start")
}

fn body_bytes(boundary: &str, name: &str, filename: &str, data: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\r\n"
    )
    .into_bytes();
    v.extend_from_slice(data);
    v.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    v
}

fn signed(date: &str) -> String {
    upload::sign(
        TRACKER,
        &PrivateKey::new(KEY),
        "POST",
        SIGNED_CONTENT_TYPE,
        date,
        PATH,
    )
}

async fn post(
    srv: &Running,
    path: &str,
    headers: &[(&str, String)],
    body: reqwest::Body,
) -> (u16, String) {
    let client = reqwest::Client::new();
    let mut rb = client.post(format!("{}{path}", srv.base_url)).body(body);
    for (k, v) in headers {
        rb = rb.header(*k, v);
    }
    let resp = rb.send().await.expect("send");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

fn good_headers(len: usize) -> Vec<(&'static str, String)> {
    let date = upload::http_date(SystemTime::now());
    vec![
        ("Authorization", signed(&date)),
        ("Date", date),
        ("Content-Type", "multipart/form-data; boundary=XyZ".into()),
        ("Content-Length", len.to_string()),
    ]
}

#[tokio::test]
async fn root_answers_with_a_possibly_skewed_date() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = start(dir.path(), |c| c.faults.skew_secs = 100).await;
    let resp = reqwest::get(&srv.base_url).await.expect("get");
    assert_eq!(resp.status().as_u16(), 200);
    let date = resp
        .headers()
        .get("date")
        .and_then(|v| v.to_str().ok())
        .and_then(upload::parse_http_date)
        .expect("date header");
    let ahead = date
        .duration_since(SystemTime::now())
        .expect("server is ahead")
        .as_secs();
    assert!((98..=101).contains(&ahead), "{ahead}");
    let text = resp.text().await.expect("text");
    assert!(text.contains("/v1/interactions/1292-9381/files"), "{text}");
    let other = reqwest::get(format!("{}/nope", srv.base_url))
        .await
        .expect("get");
    assert_eq!(other.status().as_u16(), 404);
}

#[tokio::test]
async fn authorization_problems_are_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = start(dir.path(), |_| {}).await;
    let data = body_bytes("XyZ", "file", "a.csv", b"1,/p/1\n");
    let now = upload::http_date(SystemTime::now());
    let stale = upload::http_date(SystemTime::now() - Duration::from_secs(60));
    let full_ct = upload::sign(
        TRACKER,
        &PrivateKey::new(KEY),
        "POST",
        "multipart/form-data; boundary=XyZ",
        &now,
        PATH,
    );
    type Case<'a> = (Vec<(&'a str, String)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("Date", now.clone())],
            PATH,
            "missing Authorization header",
        ),
        (
            vec![
                ("Date", now.clone()),
                ("Authorization", "Bearer abc".into()),
            ],
            PATH,
            "must look like",
        ),
        (
            vec![("Date", now.clone()), ("Authorization", signed(&now))],
            "/v1/interactions/9999-1/files",
            "unknown tracker id",
        ),
        (
            vec![
                ("Date", now.clone()),
                ("Authorization", "ApiAuth 1-1:abc=".into()),
            ],
            PATH,
            "does not match the URL",
        ),
        (
            vec![("Authorization", signed(&now))],
            PATH,
            "missing Date header",
        ),
        (
            vec![
                ("Date", "yesterday".into()),
                ("Authorization", signed("yesterday")),
            ],
            PATH,
            "is not an HTTP date",
        ),
        (
            vec![("Date", stale.clone()), ("Authorization", signed(&stale))],
            PATH,
            " s behind the server's clock (at most ±5 s is allowed)",
        ),
        (
            vec![("Date", now.clone()), ("Authorization", full_ct)],
            PATH,
            "full Content-Type",
        ),
        (
            vec![
                ("Date", now.clone()),
                (
                    "Authorization",
                    upload::sign(
                        TRACKER,
                        &PrivateKey::new("wrong"),
                        "POST",
                        SIGNED_CONTENT_TYPE,
                        &now,
                        PATH,
                    ),
                ),
            ],
            PATH,
            "signature does not match",
        ),
    ];
    for (mut headers, path, expect) in cases {
        headers.push(("Content-Type", "multipart/form-data; boundary=XyZ".into()));
        let (status, text) = post(&srv, path, &headers, reqwest::Body::from(data.clone())).await;
        assert_eq!(status, 401, "{expect}: {text}");
        assert!(text.contains(expect), "expected {expect:?} in {text}");
        if expect.starts_with(" s behind") {
            // The Date was signed 60 s in the past; the sandbox reports the whole seconds it
            // measured, which can only grow by the time this test took to get here.
            let n: u64 = text
                .split("the Date header is ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no seconds in {text}"));
            assert!(
                (60..=90).contains(&n),
                "reported {n} s behind, expected 60–90: {text}"
            );
        }
    }
    assert!(
        srv.received()
            .iter()
            .all(|r| r.status == 401 && r.path.is_none())
    );
}

#[tokio::test]
async fn a_chunked_body_is_accepted_and_stored_by_sha256() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = start(dir.path(), |_| {}).await;
    let payload: Vec<u8> = (0..300_000u32)
        .map(|i| b"0123456789,/p/\n"[(i % 15) as usize])
        .collect();
    let framed = body_bytes("XyZ", "file", "orders.json", &payload);
    // Send in small pieces without a Content-Length: chunked transfer encoding.
    let pieces: Vec<Result<Bytes, std::io::Error>> = framed
        .chunks(10_000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let date = upload::http_date(SystemTime::now());
    let headers = vec![
        ("Authorization", signed(&date)),
        ("Date", date),
        (
            "Content-Type",
            "multipart/form-data; boundary=XyZ".to_string(),
        ),
    ];
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(pieces));
    let (status, text) = post(&srv, PATH, &headers, body).await;
    assert_eq!(status, 200, "{text}");
    let got = srv.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].bytes, payload.len() as u64);
    assert_eq!(got[0].filename, "orders.json");
    let stored = got[0].path.clone().expect("stored");
    assert_eq!(std::fs::read(&stored).expect("read"), payload);
    assert_eq!(
        stored
            .file_name()
            .and_then(|n| n.to_str())
            .map(String::from),
        Some(format!("{}.json", got[0].sha256))
    );
    assert!(text.contains(&got[0].sha256), "{text}");
}

#[tokio::test]
async fn body_shape_problems_are_400() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = start(dir.path(), |_| {}).await;
    let cases = [
        (
            body_bytes("XyZ", "upload", "a.csv", b"1,/p/1\n"),
            "no part named `file`",
        ),
        (
            body_bytes("XyZ", "file", "a.txt", b"1,/p/1\n"),
            "ending in .json or .csv",
        ),
        (b"--XyZ\r\ngarbage".to_vec(), "malformed multipart"),
    ];
    for (data, expect) in cases {
        let (status, text) = post(&srv, PATH, &good_headers(data.len()), data.into()).await;
        assert_eq!(status, 400, "{expect}: {text}");
        assert!(text.contains(expect), "expected {expect:?} in {text}");
    }
    let date = upload::http_date(SystemTime::now());
    let headers = vec![
        ("Authorization", signed(&date)),
        ("Date", date),
        ("Content-Type", "application/json".to_string()),
    ];
    let (status, text) = post(&srv, PATH, &headers, "{}".into()).await;
    assert_eq!(status, 400);
    assert!(
        text.contains("multipart/form-data with a boundary"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("store"))
            .expect("store")
            .count(),
        0
    );
}

#[tokio::test]
async fn too_large_is_413_by_length_and_by_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = start(dir.path(), |c| c.max_bytes = 1000).await;
    let data = body_bytes("XyZ", "file", "a.csv", &[b'x'; 5000]);
    // Declared too large: refused from the Content-Length (over max + framing allowance).
    let big = body_bytes("XyZ", "file", "a.csv", &vec![b'x'; 100_000]);
    let (status, text) = post(&srv, PATH, &good_headers(big.len()), big.into()).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("limit of 1000 bytes"), "{text}");
    // Within the framing allowance but the file part is over the limit.
    let (status, text) = post(&srv, PATH, &good_headers(data.len()), data.into()).await;
    assert_eq!(status, 413, "{text}");
    let r = srv.received();
    assert_eq!(r.len(), 2);
    assert!(r.iter().all(|r| r.status == 413 && r.path.is_none()));
}

#[tokio::test]
async fn a_slow_body_gets_408() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = start(dir.path(), |c| {
        c.timeout = Duration::from_secs(1);
        c.faults.throttle = Some(20_000);
    })
    .await;
    let data = body_bytes("XyZ", "file", "a.csv", &vec![b'x'; 100_000]);
    let (status, text) = post(&srv, PATH, &good_headers(data.len()), data.into()).await;
    assert_eq!(status, 408, "{text}");
    assert!(text.contains("within 1 s"), "{text}");
}

#[tokio::test]
async fn faults_apply_to_the_first_uploads_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = start(dir.path(), |c| {
        c.faults = Faults {
            fail_with: Some(503),
            retry_after: Some(7),
            times: Some(1),
            ..Faults::default()
        }
    })
    .await;
    let data = body_bytes("XyZ", "file", "a.csv", b"1,/p/1\n");
    let client = reqwest::Client::new();
    let hs = good_headers(data.len());
    let mut rb = client
        .post(format!("{}{PATH}", srv.base_url))
        .body(data.clone());
    for (k, v) in &hs {
        rb = rb.header(*k, v);
    }
    let resp = rb.send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("7")
    );
    let (status, _) = post(&srv, PATH, &good_headers(data.len()), data.into()).await;
    assert_eq!(status, 200);
    let statuses: Vec<u16> = srv.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![503, 200]);
}
