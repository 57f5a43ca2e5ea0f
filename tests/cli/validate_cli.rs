//! `lbimport validate`: exit codes, JSON contract keys, --report-out.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/validate")
        .join(name)
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lbimport"))
        .args(args)
        .env("LBIMPORT_CONFIG_DIR", dir.join("config"))
        .env("LBIMPORT_DATA_DIR", dir.join("data"))
        .output()
        .unwrap()
}

#[test]
fn exit_zero_for_a_file_with_only_warnings() {
    let d = tempfile::tempdir().unwrap();
    let out = run(
        d.path(),
        &["validate", fixture("seed.csv").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Rows              4 (4 valid, 0 invalid)"),
        "{text}"
    );
    assert!(
        text.contains("Orders            2 (0 single-item, 2 multi-item)"),
        "{text}"
    );
    assert!(text.contains("Errors: none"), "{text}");
    assert!(text.contains("few_co_purchases ×2"), "{text}");
    assert!(text.find("Warnings:").unwrap() < text.find("Info:").unwrap());
}

#[test]
fn exit_one_when_errors_are_found() {
    let d = tempfile::tempdir().unwrap();
    let out = run(
        d.path(),
        &["validate", fixture("ts_zone.csv").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("timestamp_zone ×2"), "{text}");
    assert!(
        text.contains("line 1 (byte 0): 2023-04-22T15:04:30Z"),
        "{text}"
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn exit_two_with_a_one_line_reason() {
    let d = tempfile::tempdir().unwrap();
    for args in [
        vec!["validate", "/definitely/not/here.csv"],
        vec!["validate"],
        vec!["validate", "x.csv", "--max-line-bytes", "10"],
        vec!["validate", "x.csv", "--max-examples", "many"],
    ] {
        let out = run(d.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.trim().is_empty(), "{args:?}");
    }
    let out = run(d.path(), &["validate", "/definitely/not/here.csv"]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/definitely/not/here.csv"), "{err}");
}

#[test]
fn json_report_has_the_contract_keys_and_report_out_matches() {
    let d = tempfile::tempdir().unwrap();
    let out_path = d.path().join("report.json");
    let out = run(
        d.path(),
        &[
            "validate",
            fixture("duplicates.csv").to_str().unwrap(),
            "--json",
            "--max-examples",
            "1",
            "--report-out",
            out_path.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in ["file", "verdict", "stats", "issues", "samples"] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    for k in ["path", "bytes", "sha256", "format", "line_endings", "bom"] {
        assert!(v["file"].get(k).is_some(), "missing file.{k}");
    }
    for k in [
        "lines",
        "rows",
        "valid_rows",
        "invalid_rows",
        "orders",
        "single_item_orders",
        "multi_item_orders",
        "pairs",
        "items_per_order",
        "products",
        "users",
        "rows_with_user",
        "rows_with_timestamp",
        "first_purchase",
        "last_purchase",
        "top_products",
    ] {
        assert!(v["stats"].get(k).is_some(), "missing stats.{k}");
    }
    for k in ["mean", "p50", "p90", "p99", "max"] {
        assert!(v["stats"]["items_per_order"].get(k).is_some());
    }
    assert_eq!(v["verdict"], "warnings");
    assert_eq!(v["file"]["format"], "csv");
    assert_eq!(v["stats"]["rows"], 4);
    let dup = v["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "duplicate_row")
        .unwrap();
    assert_eq!(dup["severity"], "warning");
    assert_eq!(dup["count"], 2);
    assert_eq!(dup["examples"].as_array().unwrap().len(), 1);
    assert_eq!(dup["examples"][0]["line"], 2);
    assert_eq!(dup["examples"][0]["byte"], 30);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    assert_eq!(written, v);
}

#[test]
fn report_out_failure_is_exit_two() {
    let d = tempfile::tempdir().unwrap();
    let out = run(
        d.path(),
        &[
            "validate",
            fixture("seed.csv").to_str().unwrap(),
            "--report-out",
            "/definitely/not/here/report.json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn generator_is_deterministic() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a.csv");
    let b = d.path().join("b.csv");
    for p in [&a, &b] {
        let out = run(
            d.path(),
            &[
                "generate",
                "--rows",
                "5000",
                "--seed",
                "7",
                "--out",
                p.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(0));
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let out = run(d.path(), &["validate", a.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["stats"]["rows"].as_u64().unwrap() >= 5000);
    assert_eq!(v["stats"]["invalid_rows"], 0);
}
