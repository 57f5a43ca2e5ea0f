//! `lbimport catalog fetch|show|import` as a user runs them.

use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use lbimport::config::{ConfigStore, KeySource, PrivateKey, Tracker};
use lbimport::server::catalog::Catalog;
use lbimport::server::{self, Running};

const TRACKER: &str = "1292-9381";
const KEY: &str = "catalog-cli-key-4b2e19";

struct Env {
    _rt: tokio::runtime::Runtime,
    _srv: Running,
    dir: tempfile::TempDir,
}

impl Env {
    fn new(cat: Catalog, ttl: Duration) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut cfg = server::Config::new(TRACKER, PrivateKey::new(KEY), dir.path().join("store"));
        cfg.catalog = Some(Arc::new(cat));
        cfg.cursor_ttl = ttl;
        let srv = rt.block_on(server::start(cfg)).expect("sandbox");
        let store = ConfigStore::at(dir.path().join("config"));
        let mut t = Tracker::new("shop", TRACKER, KeySource::Env("LB_TEST_KEY".into()));
        t.base_url = srv.base_url.clone();
        let mut config = lbimport::config::Config::default();
        config.trackers.push(t);
        store.save(&config).expect("save config");
        Env {
            _rt: rt,
            _srv: srv,
            dir,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_lbimport"))
            .args(args)
            .env("LBIMPORT_CONFIG_DIR", self.dir.path().join("config"))
            .env("LBIMPORT_DATA_DIR", self.dir.path().join("data"))
            .env("LB_TEST_KEY", KEY)
            .stdin(Stdio::null())
            .output()
            .expect("run lbimport")
    }
}

fn json(o: &Output) -> serde_json::Value {
    let s = String::from_utf8_lossy(&o.stdout);
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("{e}: {s}"))
}

#[test]
fn fetch_then_show_then_a_failed_fetch_keeps_the_catalog() {
    let env = Env::new(Catalog::numbered(1234), Duration::from_secs(600));
    let out = env.run(&["catalog", "fetch", "--tracker", "shop", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["objects"], 1234);
    assert_eq!(v["total"], 1234);
    let out = env.run(&["catalog", "show", "--tracker", "shop", "--json"]);
    assert!(out.status.success());
    assert_eq!(json(&out)["objects"], 1234);
    let text = String::from_utf8_lossy(&env.run(&["catalog", "show", "--tracker", "shop"]).stdout)
        .to_string();
    assert!(text.contains("1234 objects"), "{text}");
    assert!(!text.contains(KEY));

    // A wrong key: exit 3, explained, the stored catalog unchanged.
    let out = Command::new(env!("CARGO_BIN_EXE_lbimport"))
        .args(["catalog", "fetch", "--tracker", "shop"])
        .env("LBIMPORT_CONFIG_DIR", env.dir.path().join("config"))
        .env("LBIMPORT_DATA_DIR", env.dir.path().join("data"))
        .env("LB_TEST_KEY", "not-the-key")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("401") && err.contains("unchanged"), "{err}");
    let out = env.run(&["catalog", "show", "--tracker", "shop", "--json"]);
    assert_eq!(json(&out)["objects"], 1234);
}

#[test]
fn expired_links_fail_with_exit_3() {
    let env = Env::new(Catalog::numbered(1234), Duration::ZERO);
    let out = env.run(&["catalog", "fetch", "--tracker", "shop"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("restarting the export"), "{err}");
    assert!(err.contains("refused again"), "{err}");
    let out = env.run(&["catalog", "show", "--tracker", "shop", "--json"]);
    assert_eq!(json(&out)["objects"], serde_json::Value::Null);
}

#[test]
fn import_reads_the_three_forms() {
    let env = Env::new(Catalog::numbered(1), Duration::from_secs(600));
    let cases = [
        ("ids.txt", "/p/1\n/p/2\n\n/p/3\n", 3),
        (
            "lines.jsonl",
            "{\"url\":\"/a\",\"attributes\":{\"web_url\":\"https://s.sk/a\"}}\n{\"url\":\"/b\"}\n",
            2,
        ),
        (
            "pages.json",
            "{\"total\":3,\"objects\":[{\"url\":\"/x\"},{\"url\":\"/y\"}],\"links\":[]}\n{\"total\":3,\"objects\":[{\"url\":\"/z\"}]}\n",
            3,
        ),
    ];
    for (name, text, n) in cases {
        let p = env.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        let out = env.run(&[
            "catalog",
            "import",
            "--tracker",
            "shop",
            p.to_str().expect("utf-8"),
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(json(&out)["objects"], n, "{name}");
    }
    let v = json(&env.run(&["catalog", "show", "--tracker", "shop", "--json"]));
    assert_eq!(v["examples"][0]["identity"], "/x");
    let bad = env.dir.path().join("bad.jsonl");
    std::fs::write(&bad, "/ok\n{\"title\":\"no url\"}\n").expect("write");
    let out = env.run(&[
        "catalog",
        "import",
        "--tracker",
        "shop",
        bad.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn serve_with_a_catalog_file_serves_it() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("tempdir");
    let cat = dir.path().join("catalog.txt");
    let ids: String = (1..=1234).map(|i| format!("/item/{i}\n")).collect();
    std::fs::write(&cat, ids).expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lbimport"))
        .args([
            "serve",
            "--port",
            "0",
            "--tracker-id",
            TRACKER,
            "--private-key-env",
            "LB_TEST_KEY",
            "--store",
            dir.path().join("store").to_str().expect("utf-8"),
            "--catalog",
            cat.to_str().expect("utf-8"),
        ])
        .env("LB_TEST_KEY", KEY)
        .env("LBIMPORT_DATA_DIR", dir.path().join("data"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("read");
    let base = first.rsplit(' ').next().expect("url").trim().to_string();
    let second = lines.next().expect("a line").expect("read");
    let third = lines.next().expect("a line").expect("read");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let got = rt.block_on(async {
        let o = lbimport::catalog::FetchOptions::new(&base, TRACKER, PrivateKey::new(KEY));
        lbimport::catalog::fetch(&o, &tokio_util::sync::CancellationToken::new(), |_| {}).await
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(second.contains("/files"), "{second}");
    assert!(third.contains("1234 catalog objects"), "{third}");
    let cat = got.expect("fetch");
    assert_eq!(cat.objects.len(), 1234);
    assert_eq!(cat.objects[1233].identity, "/item/1234");
}
