//! Real shop exports, laid out as their platforms write them (see EXPORTS.md), converted by
//! `lbimport normalize` with no flags but the shop's time zone for naive local times. Each
//! expected output (`*.expected.csv`) was written by hand from the export: which columns are
//! the order, product, customer and time, and each time converted to UTC.

use std::path::Path;
use std::process::Command;

/// (export, flags): the time zone only where the export has naive local times.
const EXPORTS: &[(&str, &[&str])] = &[
    ("shopify_orders_export.csv", &[]),
    (
        "woocommerce_order_export.csv",
        &["--time-zone", "Europe/Bratislava"],
    ),
    ("woocommerce_rest_orders.json", &[]),
    ("magento2_sales_order_items.csv", &[]),
    ("ga4_bigquery_purchase_items.csv", &[]),
    (
        "excel_us_utf8_bom.csv",
        &["--time-zone", "America/New_York"],
    ),
    (
        "excel_cz_windows1250.csv",
        &["--time-zone", "Europe/Prague"],
    ),
    ("excel_unicode_text.txt", &["--time-zone", "Europe/Berlin"]),
    ("jsonl_nested_products.jsonl", &[]),
];

#[test]
fn every_export_converts_right_with_no_flags_but_the_zone() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    for (name, flags) in EXPORTS {
        let input = dir.join(name);
        let stem = name.rsplit_once('.').map_or(*name, |(s, _)| s);
        let want = std::fs::read_to_string(dir.join(format!("{stem}.expected.csv")))
            .expect("expected output");
        let out = tmp.path().join(format!("{stem}.out.csv"));
        let before = std::fs::read(&input).expect("read export");
        let o = Command::new(env!("CARGO_BIN_EXE_lbimport"))
            .arg("normalize")
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .args(*flags)
            .env("LBIMPORT_CONFIG_DIR", tmp.path().join("cfg"))
            .env("LBIMPORT_DATA_DIR", tmp.path().join("data"))
            .output()
            .expect("run lbimport");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let got = std::fs::read_to_string(&out).unwrap_or_default();
        if o.status.code() != Some(0) || got != want {
            failures.push(format!(
                "{name}: exit {:?}\n--- got\n{got}--- want\n{want}--- output\n{text}",
                o.status.code()
            ));
        }
        assert_eq!(
            std::fs::read(&input).expect("read export"),
            before,
            "{name} changed"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
