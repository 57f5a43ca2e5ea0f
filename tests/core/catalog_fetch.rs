//! `catalog::fetch` against the sandbox's content export.

use std::sync::Arc;
use std::time::Duration;

use lbimport::catalog::{self, FetchEvent, FetchOptions, StoredCatalog};
use lbimport::config::PrivateKey;
use lbimport::server::catalog::Catalog;
use lbimport::server::{self, Config, Running};
use lbimport::upload;
use tokio_util::sync::CancellationToken;

const TRACKER: &str = "1292-9381";
const KEY: &str = "catalog-fetch-key-abcdef";

async fn start(dir: &std::path::Path, cat: Catalog, ttl: Duration) -> Running {
    upload::install_crypto_provider();
    let mut cfg = Config::new(TRACKER, PrivateKey::new(KEY), dir.join("store"));
    cfg.catalog = Some(Arc::new(cat));
    cfg.cursor_ttl = ttl;
    server::start(cfg).await.expect("start")
}

fn opts(srv: &Running, key: &str) -> FetchOptions {
    let mut o = FetchOptions::new(&srv.base_url, TRACKER, PrivateKey::new(key));
    o.retry_pause = Duration::from_millis(10);
    o
}

#[tokio::test]
async fn fetch_stores_exactly_1234_identities() {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = start(
        dir.path(),
        Catalog::numbered(1234),
        Duration::from_secs(600),
    )
    .await;
    let mut events = Vec::new();
    let cat = catalog::fetch(&opts(&srv, KEY), &CancellationToken::new(), |e| {
        events.push(e)
    })
    .await
    .expect("fetch");
    assert_eq!(cat.total, 1234);
    assert_eq!(cat.objects.len(), 1234);
    let mut ids: Vec<String> = cat.objects.iter().map(|o| o.identity.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1234);
    let o = cat
        .objects
        .iter()
        .find(|o| o.identity == "/p/777")
        .expect("/p/777");
    assert_eq!(o.kind, "item");
    assert_eq!(o.web_url.as_deref(), Some("https://shop.example/p/777"));
    assert_eq!(o.title.as_deref(), Some("Product 777"));
    assert_eq!(
        events,
        vec![
            FetchEvent::Started { attempt: 1 },
            FetchEvent::Page {
                got: 500,
                total: 1234
            },
            FetchEvent::Page {
                got: 1000,
                total: 1234
            },
            FetchEvent::Page {
                got: 1234,
                total: 1234
            },
        ]
    );

    // Stored atomically, 0600, and read back equal.
    let path = catalog::stored_path(dir.path(), "shop");
    catalog::save(&path, &cat).expect("save");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let back: StoredCatalog = catalog::load(&path).expect("load").expect("some");
    assert_eq!(back, cat);
    assert_eq!(
        catalog::load(&dir.path().join("none.json")).expect("load"),
        None
    );
}

#[tokio::test]
async fn expired_next_link_restarts_once_then_fails() {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = start(dir.path(), Catalog::numbered(1234), Duration::ZERO).await;
    let mut events = Vec::new();
    let err = catalog::fetch(&opts(&srv, KEY), &CancellationToken::new(), |e| {
        events.push(e)
    })
    .await
    .expect_err("must fail");
    assert!(err.contains("next link was refused again"), "{err}");
    assert!(err.contains("restart"), "{err}");
    assert_eq!(
        events,
        vec![
            FetchEvent::Started { attempt: 1 },
            FetchEvent::Page {
                got: 500,
                total: 1234
            },
            FetchEvent::Started { attempt: 2 },
            FetchEvent::Page {
                got: 500,
                total: 1234
            },
        ]
    );
}

#[tokio::test]
async fn wrong_key_is_explained() {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = start(dir.path(), Catalog::numbered(5), Duration::from_secs(600)).await;
    let err = catalog::fetch(&opts(&srv, "wrong-key"), &CancellationToken::new(), |_| {})
        .await
        .expect_err("401");
    assert!(err.contains("401"), "{err}");
    assert!(err.contains("private key"), "{err}");
    assert!(!err.contains("wrong-key"), "{err}");
}

#[tokio::test]
async fn too_many_objects_stop_the_export() {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = start(
        dir.path(),
        Catalog::numbered(1200),
        Duration::from_secs(600),
    )
    .await;
    let mut o = opts(&srv, KEY);
    o.max_objects = 700;
    let err = catalog::fetch(&o, &CancellationToken::new(), |_| {})
        .await
        .expect_err("cap");
    assert!(err.contains("more than 700 objects"), "{err}");
}

#[tokio::test]
async fn cancel_stops_the_export() {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = start(dir.path(), Catalog::numbered(10), Duration::from_secs(600)).await;
    let cancel = CancellationToken::new();
    cancel.cancel();
    let err = catalog::fetch(&opts(&srv, KEY), &cancel, |_| {})
        .await
        .expect_err("cancelled");
    assert_eq!(err, "cancelled");
}

#[tokio::test]
#[ignore = "benchmark: cargo test --release --test core catalog_fetch -- --ignored --nocapture"]
async fn fetch_rate_of_a_million_objects() {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = start(
        dir.path(),
        Catalog::numbered(1_000_000),
        Duration::from_secs(600),
    )
    .await;
    let t = std::time::Instant::now();
    let cat = catalog::fetch(&opts(&srv, KEY), &CancellationToken::new(), |_| {})
        .await
        .expect("fetch");
    let s = t.elapsed().as_secs_f64();
    assert_eq!(cat.objects.len(), 1_000_000);
    println!(
        "fetched {} objects in {s:.2} s: {:.0} objects/s",
        cat.objects.len(),
        cat.objects.len() as f64 / s
    );
}

/// A fake export answering every request with `page(n)` (n = 1, 2, …), on 127.0.0.1.
async fn fake(page: fn(u64, &str) -> (u16, String)) -> (String, tokio::task::JoinHandle<()>) {
    use axum::extract::State;
    use axum::routing::get;
    use std::sync::atomic::{AtomicU64, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let n = Arc::new(AtomicU64::new(0));
    let b2 = base.clone();
    let app = axum::Router::new()
        .route(
            "/v1/content_export",
            get(move |State(n): State<Arc<AtomicU64>>| async move {
                let i = n.fetch_add(1, Ordering::Relaxed) + 1;
                let (status, body) = page(i, &b2);
                (
                    axum::http::StatusCode::from_u16(status).expect("status"),
                    body,
                )
            }),
        )
        .with_state(n);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, task)
}

async fn fetch_from(base: &str) -> Result<StoredCatalog, String> {
    let mut o = FetchOptions::new(base, TRACKER, PrivateKey::new(KEY));
    o.retry_pause = Duration::from_millis(5);
    catalog::fetch(&o, &CancellationToken::new(), |_| {}).await
}

#[tokio::test]
async fn a_loop_is_stopped() {
    let (base, _t) = fake(|_, base| {
        (
            200,
            format!(
                "{{\"total\":2,\"objects\":[{{\"url\":\"/a\"}}],\"links\":[{{\"rel\":\"next\",\"href\":\"{base}/v1/content_export?cursor=7\"}}]}}"
            ),
        )
    })
    .await;
    let err = fetch_from(&base).await.expect_err("loop");
    assert!(err.contains("loops"), "{err}");
    assert!(err.contains("cursor=7"), "{err}");
}

#[tokio::test]
async fn not_json_and_no_objects_are_stopped() {
    let (base, _t) = fake(|_, _| (200, "<html>maintenance</html>".into())).await;
    let err = fetch_from(&base).await.expect_err("not json");
    assert!(
        err.contains("not JSON") && err.contains("<html>maintenance"),
        "{err}"
    );

    let (base, _t) = fake(|_, _| (200, "{\"total\":3,\"hits\":[]}".into())).await;
    let err = fetch_from(&base).await.expect_err("no objects");
    assert!(err.contains("no `objects`"), "{err}");
}

#[tokio::test]
async fn transient_errors_are_retried() {
    // 503 twice, then a complete one-page export.
    let (base, _t) = fake(|i, _| {
        if i <= 2 {
            (503, "busy".into())
        } else {
            (
                200,
                "{\"total\":2,\"objects\":[{\"url\":\"/a\"},{\"url\":\"/b\",\"type\":\"item\"}],\"links\":[]}".into(),
            )
        }
    })
    .await;
    let cat = fetch_from(&base).await.expect("after retries");
    let ids: Vec<&str> = cat.objects.iter().map(|o| o.identity.as_str()).collect();
    assert_eq!(ids, vec!["/a", "/b"]);

    let (base, _t) = fake(|_, _| (503, "busy".into())).await;
    let err = fetch_from(&base).await.expect_err("gives up");
    assert!(
        err.contains("after 4 attempts") && err.contains("503"),
        "{err}"
    );
}

#[tokio::test]
async fn an_empty_catalog_is_complete() {
    let (base, _t) = fake(|_, _| (200, "{\"total\":0,\"objects\":[],\"links\":[]}".into())).await;
    let cat = fetch_from(&base).await.expect("empty");
    assert_eq!(cat.total, 0);
    assert!(cat.objects.is_empty());
}
