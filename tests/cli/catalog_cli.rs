//! `lbimport catalog fetch|show|import` as a user runs them.

use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use lbimport::config::PrivateKey;
use lbimport::server::Running;
use lbimport::server::catalog::Catalog;

use crate::sandbox::{self, TRACKER};

const KEY: &str = "catalog-cli-key-4b2e19";

struct Env {
    _rt: tokio::runtime::Runtime,
    _srv: Running,
    dir: tempfile::TempDir,
}

impl Env {
    fn new(cat: Catalog, ttl: Duration) -> Env {
        let sb = sandbox::start(KEY, |cfg| {
            cfg.catalog = Some(Arc::new(cat));
            cfg.cursor_ttl = ttl;
        });
        Env {
            _rt: sb.rt,
            _srv: sb.srv,
            dir: sb.dir,
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

/// Identities as full URLs of a catalog of relative paths: `validate --catalog` reports the
/// match rate and the strip-host diagnosis; `normalize --identity-strip-host` fixes the file.
mod identity_fixes {
    use super::*;

    fn s(p: &std::path::Path) -> &str {
        p.to_str().expect("utf-8 path")
    }

    /// Orders 1..=`orders`, `per` rows each, product `(o * 7 + k) % 100 + 1`; every fifth
    /// order names its products by path, the others by full URL.
    fn purchases(orders: u32, per: u32) -> (String, u64, u64) {
        crate::sandbox::mixed_identities(
            1,
            orders,
            per,
            |o, k| (o * 7 + k) % 100 + 1,
            "2026-01-02 10:00:00",
        )
    }

    #[test]
    fn full_urls_are_diagnosed_and_strip_host_makes_every_row_match() {
        let env = Env::new(Catalog::numbered(1), Duration::from_secs(600));
        let cat = env.dir.path().join("catalog.txt");
        let ids: String = (1..=100).map(|i| format!("/p/{i}\n")).collect();
        std::fs::write(&cat, ids).expect("write");
        let (text, rows, relative) = purchases(400, 3);
        let file = env.dir.path().join("orders.csv");
        std::fs::write(&file, &text).expect("write");

        let out = env.run(&["validate", s(&file), "--catalog", s(&cat), "--json"]);
        let v = json(&out);
        let c = &v["catalog"];
        assert_eq!(c["rows"], rows);
        assert_eq!(c["rows_matched"], relative);
        let rate = c["row_match_rate"].as_f64().expect("rate");
        assert!(
            (rate - relative as f64 / rows as f64).abs() < 1e-12,
            "{rate}"
        );
        assert_eq!(c["catalog_identities"], 100);
        assert_eq!(c["diagnoses"][0]["fix"], "strip_host");
        assert_eq!(c["diagnoses"][0]["flag"], "--identity-strip-host");
        let codes: Vec<&str> = v["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .filter_map(|i| i["code"].as_str())
            .collect();
        assert!(codes.contains(&"identity_not_in_catalog"), "{codes:?}");

        let fixed = env.dir.path().join("fixed.csv");
        let out = env.run(&[
            "normalize",
            s(&file),
            "--identity-strip-host",
            "-o",
            s(&fixed),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        let rewritten = rows - relative;
        assert!(
            stdout.contains(&format!(
                "identities: {} of {} rows rewritten (--identity-strip-host)",
                thousands(rewritten),
                thousands(rows)
            )),
            "{stdout}"
        );
        // the user's file is untouched
        assert_eq!(std::fs::read_to_string(&file).expect("read"), text);
        let v = json(&env.run(&["validate", s(&fixed), "--catalog", s(&cat), "--json"]));
        assert_eq!(v["catalog"]["row_match_rate"], 1.0);
        assert_eq!(v["catalog"]["rows_matched"], rows);
    }

    #[test]
    fn from_catalog_web_url_takes_the_catalogs_identity_and_keeps_unknown_ones() {
        let env = Env::new(Catalog::numbered(1), Duration::from_secs(600));
        let cat = env.dir.path().join("catalog.jsonl");
        let lines: String = (1..=50)
            .map(|i| {
                format!(
                    "{{\"url\":\"SKU-{i}\",\"attributes\":{{\"web_url\":\"https://shop.example/produkt-{i}\"}}}}\n"
                )
            })
            .collect();
        std::fs::write(&cat, lines).expect("write");
        // products 1..=60: 51..=60 are not in the catalog
        let mut text = String::from("order,url,customer,date\n");
        let mut expected = Vec::new();
        let mut unknown = 0u64;
        for o in 1..=120u32 {
            let p = o % 60 + 1;
            text.push_str(&format!(
                "{o},https://shop.example/produkt-{p},c{o},2026-01-02 10:00:00\n"
            ));
            if p <= 50 {
                expected.push(format!("SKU-{p}"));
            } else {
                unknown += 1;
                expected.push(format!("https://shop.example/produkt-{p}"));
            }
        }
        let file = env.dir.path().join("export.csv");
        std::fs::write(&file, &text).expect("write");
        let out_path = env.dir.path().join("out.csv");
        let out = env.run(&[
            "normalize",
            s(&file),
            "--catalog",
            s(&cat),
            "--identity-from-catalog",
            "web_url",
            "-o",
            s(&out_path),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!(
                "identities: {} of 120 rows rewritten (--identity-from-catalog web_url); {} rows \
                 have an identity the catalog does not know (kept as it is)",
                120 - unknown,
                unknown
            )),
            "{stdout}"
        );
        let written = std::fs::read_to_string(&out_path).expect("read");
        let got: Vec<&str> = written
            .lines()
            .map(|l| l.split(',').nth(1).expect("identity"))
            .collect();
        assert_eq!(got, expected);

        // without a catalog the flag is a usage error naming what is missing
        let out = env.run(&[
            "normalize",
            s(&file),
            "--identity-from-catalog",
            "web_url",
            "-o",
            s(&out_path),
        ]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--catalog FILE"), "{err}");
    }

    #[test]
    fn from_catalog_case_uses_the_trackers_stored_catalog() {
        let env = Env::new(Catalog::numbered(1), Duration::from_secs(600));
        let cat = env.dir.path().join("skus.txt");
        std::fs::write(&cat, "SKU-AbC\nSKU-Def\n").expect("write");
        let out = env.run(&["catalog", "import", "--tracker", "shop", s(&cat)]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = env.dir.path().join("orders.csv");
        std::fs::write(
            &file,
            "1,sku-abc,u1,2026-01-02 10:00:00\n1,SKU-DEF,u1,2026-01-02 10:00:00\n2,sku-xyz,u2,2026-01-02 10:00:00\n",
        )
        .expect("write");
        let out_path = env.dir.path().join("cased.csv");
        let out = env.run(&[
            "normalize",
            s(&file),
            "--tracker",
            "shop",
            "--identity-from-catalog",
            "case",
            "-o",
            s(&out_path),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(
            stdout.contains(
                "identities: 2 of 3 rows rewritten (--identity-from-catalog case); 1 row has an identity"
            ),
            "{stdout}"
        );
        assert_eq!(
            std::fs::read_to_string(&out_path).expect("read"),
            "1,SKU-AbC,u1,2026-01-02 10:00:00\n1,SKU-Def,u1,2026-01-02 10:00:00\n2,sku-xyz,u2,2026-01-02 10:00:00\n"
        );
    }

    fn thousands(n: u64) -> String {
        lbimport::validate::text::thousands(n)
    }
}
