//! The sandbox's `GET /v1/content_export`, driven with hand-made signed requests.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lbimport::config::PrivateKey;
use lbimport::server::catalog::{CONTENT_EXPORT_CONTENT_TYPE, CONTENT_EXPORT_PATH, Catalog};
use lbimport::server::{self, Config, Running};
use lbimport::upload;
use serde_json::Value;

const TRACKER: &str = "1292-9381";
const KEY: &str = "catalog-test-key-abcdef";

async fn start(dir: &Path, catalog: Option<Catalog>, edit: impl FnOnce(&mut Config)) -> Running {
    upload::install_crypto_provider();
    let mut cfg = Config::new(TRACKER, PrivateKey::new(KEY), dir.join("store"));
    cfg.catalog = catalog.map(Arc::new);
    edit(&mut cfg);
    server::start(cfg).await.expect("start")
}

struct Got {
    status: u16,
    encoding: Option<String>,
    json: Value,
}

/// GET `url` signed with `key` (method GET, the documented content type, the path only).
async fn get_signed(url: &str, key: &str, gzip: bool) -> Got {
    let date = upload::http_date(SystemTime::now());
    let auth = upload::sign(
        TRACKER,
        &PrivateKey::new(key),
        "GET",
        CONTENT_EXPORT_CONTENT_TYPE,
        &date,
        CONTENT_EXPORT_PATH,
    );
    let mut rb = reqwest::Client::new()
        .get(url)
        .header("Date", date)
        .header("Authorization", auth)
        .header("Content-Type", CONTENT_EXPORT_CONTENT_TYPE);
    if gzip {
        rb = rb.header("Accept-Encoding", "gzip");
    }
    let resp = rb.send().await.expect("send");
    let status = resp.status().as_u16();
    let encoding = resp
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = resp.bytes().await.expect("body");
    let text = if encoding.as_deref() == Some("gzip") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .expect("gunzip");
        s
    } else {
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    };
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    Got {
        status,
        encoding,
        json,
    }
}

fn next_href(v: &Value) -> Option<String> {
    v["links"]
        .as_array()?
        .iter()
        .find(|l| l["rel"] == "next")
        .and_then(|l| l["href"].as_str())
        .map(str::to_string)
}

fn urls(v: &Value) -> Vec<String> {
    v["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| o["url"].as_str().expect("url").to_string())
        .collect()
}

#[tokio::test]
async fn pages_of_500_deliver_exactly_the_catalog() {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = start(dir.path(), Some(Catalog::numbered(1234)), |_| {}).await;
    // size above the cap is capped at 500.
    let mut url = format!(
        "{}{CONTENT_EXPORT_PATH}?size=1000&requested_types=item&hit_fields=web_url",
        srv.base_url
    );
    let mut sizes = Vec::new();
    let mut seen = BTreeSet::new();
    let mut hrefs = BTreeSet::new();
    loop {
        let got = get_signed(&url, KEY, true).await;
        assert_eq!(got.status, 200, "{}", got.json);
        assert_eq!(got.encoding.as_deref(), Some("gzip"));
        assert_eq!(got.json["total"], 1234);
        let page = urls(&got.json);
        sizes.push(page.len());
        for o in got.json["objects"].as_array().expect("objects") {
            assert_eq!(o["type"], "item");
            let attrs = o["attributes"].as_object().expect("attributes");
            assert_eq!(attrs.len(), 1, "only web_url asked: {o}");
            let id = o["url"].as_str().expect("url");
            assert_eq!(attrs["web_url"], format!("https://shop.example{id}"));
        }
        seen.extend(page);
        match next_href(&got.json) {
            Some(h) => {
                assert!(hrefs.insert(h.clone()), "a next link came twice: {h}");
                url = h;
            }
            None => break,
        }
    }
    assert_eq!(sizes, vec![500, 500, 234]);
    let want: BTreeSet<String> = (1..=1234).map(|i| format!("/p/{i}")).collect();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn default_size_plain_json_and_all_attributes() {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = start(dir.path(), Some(Catalog::numbered(301)), |_| {}).await;
    let got = get_signed(
        &format!("{}{CONTENT_EXPORT_PATH}", srv.base_url),
        KEY,
        false,
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.encoding, None);
    assert_eq!(urls(&got.json).len(), 300);
    assert_eq!(got.json["objects"][0]["attributes"]["title"], "Product 1");
    let next = next_href(&got.json).expect("next");
    let last = get_signed(&next, KEY, false).await;
    assert_eq!(urls(&last.json), vec!["/p/301".to_string()]);
    assert_eq!(next_href(&last.json), None);
    assert_eq!(last.json["links"], serde_json::json!([]));
}

#[tokio::test]
async fn requested_types_filter_and_queries_are_left_out() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = "{\"url\":\"/a\",\"type\":\"item\"}\n{\"url\":\"/c\",\"type\":\"category\"}\n\
                {\"url\":\"shoes\",\"type\":\"query\"}\n{\"url\":\"/b\"}\n";
    let srv = start(
        dir.path(),
        Some(Catalog::parse(text).expect("parse")),
        |_| {},
    )
    .await;
    let all = get_signed(
        &format!("{}{CONTENT_EXPORT_PATH}", srv.base_url),
        KEY,
        false,
    )
    .await;
    assert_eq!(all.json["total"], 3);
    assert_eq!(urls(&all.json), vec!["/a", "/c", "/b"]);
    let items = get_signed(
        &format!(
            "{}{CONTENT_EXPORT_PATH}?requested_types=item&size=1",
            srv.base_url
        ),
        KEY,
        false,
    )
    .await;
    assert_eq!(items.json["total"], 2);
    assert_eq!(urls(&items.json), vec!["/a"]);
    let next = get_signed(&next_href(&items.json).expect("next"), KEY, false).await;
    assert_eq!(urls(&next.json), vec!["/b"]);
    assert_eq!(next_href(&next.json), None);
}

#[tokio::test]
async fn next_links_expire() {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = start(dir.path(), Some(Catalog::numbered(10)), |c| {
        c.cursor_ttl = Duration::ZERO
    })
    .await;
    let first = get_signed(
        &format!("{}{CONTENT_EXPORT_PATH}?size=4", srv.base_url),
        KEY,
        false,
    )
    .await;
    assert_eq!(first.status, 200);
    let next = get_signed(&next_href(&first.json).expect("next"), KEY, false).await;
    assert_eq!(next.status, 400);
    assert_eq!(next.json["error"], "cursor expired");
    // An unknown cursor is refused the same way.
    let bogus = get_signed(
        &format!("{}{CONTENT_EXPORT_PATH}?cursor=123", srv.base_url),
        KEY,
        false,
    )
    .await;
    assert_eq!(bogus.status, 400);
    assert_eq!(bogus.json["error"], "cursor expired");
}

#[tokio::test]
async fn signature_is_checked_and_no_catalog_is_404() {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = start(dir.path(), Some(Catalog::numbered(3)), |_| {}).await;
    let url = format!("{}{CONTENT_EXPORT_PATH}", srv.base_url);
    let bad = get_signed(&url, "some-other-key", false).await;
    assert_eq!(bad.status, 401);
    let why = bad.json["reason"].as_str().expect("reason");
    assert!(why.contains("GET\\n"), "{why}");
    assert!(!why.contains(KEY));
    // Unsigned.
    let resp = reqwest::get(&url).await.expect("send");
    assert_eq!(resp.status().as_u16(), 401);

    let dir2 = tempfile::tempdir().expect("tmp");
    let none = start(dir2.path(), None, |_| {}).await;
    let got = get_signed(
        &format!("{}{CONTENT_EXPORT_PATH}", none.base_url),
        KEY,
        false,
    )
    .await;
    assert_eq!(got.status, 404);
}
