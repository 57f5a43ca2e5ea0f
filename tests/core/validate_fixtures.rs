//! Every fixture in tests/fixtures/validate/ → its exact issue codes, counts and the line of the
//! first example; plus the stats that matter. (Fixtures are written by make_fixtures.py there.)

use std::path::PathBuf;

use chrono::TimeZone;
use lbimport::validate::{LineEndings, Options, Verdict, validate_path};

struct Fx {
    name: &'static str,
    /// lines, rows, valid rows, orders, pairs
    stats: [u64; 5],
    /// (code, count, line of the first example or 0 when the issue has no examples)
    issues: &'static [(&'static str, u64, u64)],
}

fn fx(name: &'static str, stats: [u64; 5], issues: &'static [(&'static str, u64, u64)]) -> Fx {
    Fx {
        name,
        stats,
        issues,
    }
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/validate")
}

fn opts() -> Options {
    Options {
        max_line_bytes: 65536,
        now: Some(chrono::Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()),
        ..Options::default()
    }
}

fn table() -> Vec<Fx> {
    vec![
        fx("binary.csv", [5, 5, 0, 0, 0], &[("encoding", 5, 1)]),
        fx(
            "blank_lines.csv",
            [4, 4, 2, 1, 1],
            &[
                ("field_count", 2, 2),
                ("few_co_purchases", 1, 0),
                ("no_user_ids", 2, 0),
                ("no_timestamps", 2, 0),
            ],
        ),
        fx("cr_only.csv", [1, 1, 0, 0, 0], &[("bare_cr", 1, 1)]),
        fx(
            "crlf_mixed.csv",
            [3, 3, 3, 2, 1],
            &[
                ("few_co_purchases", 1, 0),
                ("no_user_ids", 3, 0),
                ("no_timestamps", 3, 0),
            ],
        ),
        fx(
            "duplicates.csv",
            [4, 4, 4, 1, 0],
            &[
                ("duplicate_row", 2, 2),
                ("few_co_purchases", 0, 0),
                ("mostly_single_item", 1, 0),
            ],
        ),
        fx("empty.csv", [0, 0, 0, 0, 0], &[("empty_file", 1, 0)]),
        fx(
            "field_count.csv",
            [4, 4, 2, 2, 0],
            &[
                ("field_count", 2, 2),
                ("few_co_purchases", 0, 0),
                ("mostly_single_item", 2, 0),
                ("no_user_ids", 2, 0),
                ("no_timestamps", 2, 0),
            ],
        ),
        fx(
            "header_only.csv",
            [1, 0, 0, 0, 0],
            &[("header_row", 1, 1), ("empty_file", 1, 0)],
        ),
        fx(
            "header_then_rows.csv",
            [5, 4, 4, 2, 2],
            &[
                ("header_row", 1, 1),
                ("few_co_purchases", 2, 0),
                ("partial_timestamps", 1, 0),
            ],
        ),
        fx(
            "invalid_utf8.csv",
            [3, 3, 2, 2, 0],
            &[
                ("encoding", 1, 2),
                ("few_co_purchases", 0, 0),
                ("mostly_single_item", 2, 0),
                ("no_user_ids", 2, 0),
                ("no_timestamps", 2, 0),
            ],
        ),
        fx(
            "json_missing.json",
            [4, 4, 1, 1, 0],
            &[
                ("missing_order_id", 2, 1),
                ("missing_identity", 1, 2),
                ("few_co_purchases", 0, 0),
                ("mostly_single_item", 1, 0),
                ("no_user_ids", 1, 0),
                ("no_timestamps", 1, 0),
            ],
        ),
        fx(
            "json_numbers.json",
            [2, 2, 2, 1, 1],
            &[("few_co_purchases", 1, 0), ("no_timestamps", 2, 0)],
        ),
        fx(
            "json_syntax.json",
            [5, 5, 1, 1, 0],
            &[
                ("json_syntax", 4, 2),
                ("few_co_purchases", 0, 0),
                ("mostly_single_item", 1, 0),
                ("no_user_ids", 1, 0),
                ("no_timestamps", 1, 0),
            ],
        ),
        fx(
            "json_types.json",
            [5, 5, 1, 1, 0],
            &[
                ("json_type", 4, 1),
                ("few_co_purchases", 0, 0),
                ("mostly_single_item", 1, 0),
                ("no_user_ids", 1, 0),
                ("no_timestamps", 1, 0),
            ],
        ),
        fx(
            "large_order.csv",
            [151, 151, 151, 2, 11175],
            &[
                ("large_order", 1, 101),
                ("few_co_purchases", 1, 0),
                ("no_user_ids", 151, 0),
                ("no_timestamps", 151, 0),
            ],
        ),
        fx(
            "long_line.csv",
            [3, 3, 2, 2, 0],
            &[
                ("line_too_long", 1, 2),
                ("few_co_purchases", 0, 0),
                ("mostly_single_item", 2, 0),
                ("no_user_ids", 2, 0),
                ("no_timestamps", 2, 0),
            ],
        ),
        fx(
            "missing_ids.csv",
            [4, 4, 1, 1, 0],
            &[
                ("missing_order_id", 1, 2),
                ("missing_identity", 2, 3),
                ("whitespace_id", 1, 4),
                ("few_co_purchases", 0, 0),
                ("mostly_single_item", 1, 0),
                ("no_user_ids", 1, 0),
                ("no_timestamps", 1, 0),
            ],
        ),
        fx(
            "mixed_names.json",
            [4, 4, 4, 2, 2],
            &[
                ("mixed_attribute_names", 2, 2),
                ("few_co_purchases", 2, 0),
                ("no_user_ids", 4, 0),
                ("no_timestamps", 4, 0),
            ],
        ),
        fx(
            "mostly_single.csv",
            [12, 12, 12, 11, 1],
            &[
                ("few_co_purchases", 1, 0),
                ("mostly_single_item", 10, 0),
                ("no_user_ids", 12, 0),
                ("no_timestamps", 12, 0),
            ],
        ),
        fx(
            "multi_users.csv",
            [5, 5, 5, 2, 4],
            &[
                ("order_multiple_users", 1, 2),
                ("few_co_purchases", 2, 0),
                ("no_timestamps", 5, 0),
            ],
        ),
        fx(
            "nul_bytes.csv",
            [2, 2, 1, 1, 0],
            &[
                ("encoding", 1, 2),
                ("few_co_purchases", 0, 0),
                ("mostly_single_item", 1, 0),
                ("no_user_ids", 1, 0),
                ("no_timestamps", 1, 0),
            ],
        ),
        fx(
            "purchases",
            [4, 4, 4, 2, 2],
            &[
                ("extension", 1, 1),
                ("few_co_purchases", 2, 0),
                ("partial_timestamps", 1, 0),
            ],
        ),
        fx(
            "purchases.jsonl",
            [4, 4, 4, 2, 2],
            &[
                ("extension", 1, 1),
                ("few_co_purchases", 2, 0),
                ("partial_timestamps", 1, 0),
            ],
        ),
        fx(
            "seed.csv",
            [4, 4, 4, 2, 2],
            &[("few_co_purchases", 2, 0), ("partial_timestamps", 1, 0)],
        ),
        fx(
            "seed.json",
            [4, 4, 4, 2, 2],
            &[("few_co_purchases", 2, 0), ("partial_timestamps", 1, 0)],
        ),
        fx(
            "spreadsheet_ids.csv",
            [4, 4, 4, 3, 1],
            &[
                ("spreadsheet_id", 3, 1),
                ("few_co_purchases", 1, 0),
                ("no_user_ids", 4, 0),
                ("no_timestamps", 4, 0),
            ],
        ),
        fx(
            "stray_quote.csv",
            [3, 3, 1, 1, 0],
            &[
                ("csv_quote", 2, 2),
                ("few_co_purchases", 0, 0),
                ("mostly_single_item", 1, 0),
                ("no_user_ids", 1, 0),
                ("no_timestamps", 1, 0),
            ],
        ),
        fx("ts_dmy.csv", [4, 4, 0, 0, 0], &[("timestamp_format", 4, 1)]),
        fx(
            "ts_epoch.csv",
            [3, 3, 1, 1, 0],
            &[
                ("timestamp_format", 2, 1),
                ("few_co_purchases", 0, 0),
                ("mostly_single_item", 1, 0),
                ("no_user_ids", 1, 0),
            ],
        ),
        fx(
            "ts_future_old.csv",
            [3, 3, 3, 2, 1],
            &[
                ("future_timestamp", 1, 1),
                ("old_timestamp", 1, 2),
                ("few_co_purchases", 1, 0),
                ("no_user_ids", 3, 0),
            ],
        ),
        fx(
            "ts_zone.csv",
            [3, 3, 1, 1, 0],
            &[
                ("timestamp_zone", 2, 1),
                ("few_co_purchases", 0, 0),
                ("mostly_single_item", 1, 0),
                ("no_user_ids", 1, 0),
            ],
        ),
        fx(
            "unclosed_quote_eof.csv",
            [3, 3, 2, 2, 0],
            &[
                ("csv_quote", 1, 2),
                ("few_co_purchases", 0, 0),
                ("mostly_single_item", 2, 0),
                ("no_user_ids", 2, 0),
                ("no_timestamps", 2, 0),
            ],
        ),
        fx(
            "unknown_attr.json",
            [3, 3, 3, 2, 1],
            &[
                ("unknown_attribute", 2, 1),
                ("few_co_purchases", 1, 0),
                ("no_user_ids", 3, 0),
                ("no_timestamps", 3, 0),
            ],
        ),
        fx("utf16_bom.csv", [0, 0, 0, 0, 0], &[("encoding", 1, 1)]),
        fx(
            "utf8_bom.csv",
            [4, 4, 4, 2, 2],
            &[
                ("bom", 1, 1),
                ("few_co_purchases", 2, 0),
                ("partial_timestamps", 1, 0),
            ],
        ),
        fx(
            "whitespace_ids.csv",
            [4, 4, 4, 3, 1],
            &[
                ("whitespace_id", 3, 1),
                ("few_co_purchases", 1, 0),
                ("no_timestamps", 4, 0),
            ],
        ),
    ]
}

#[test]
fn every_fixture_gives_exactly_its_issues() {
    let table = table();
    assert!(table.len() >= 36);
    let mut failures = Vec::new();
    for f in &table {
        let r = validate_path(&dir().join(f.name), &opts(), None)
            .unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let s = &r.stats;
        let got_stats = [s.lines, s.rows, s.valid_rows, s.orders, s.pairs];
        if got_stats != f.stats {
            failures.push(format!(
                "{}: stats {:?} != {:?}",
                f.name, got_stats, f.stats
            ));
        }
        let got: Vec<(String, u64, u64)> = r
            .issues
            .iter()
            .map(|i| {
                (
                    i.code.as_str().to_string(),
                    i.count,
                    i.examples.first().map_or(0, |e| e.line),
                )
            })
            .collect();
        let want: Vec<(String, u64, u64)> = f
            .issues
            .iter()
            .map(|(c, n, l)| (c.to_string(), *n, *l))
            .collect();
        if got != want {
            failures.push(format!("{}: issues {:?} != {:?}", f.name, got, want));
        }
        let errors = f.issues.iter().any(|(c, _, _)| {
            lbimport::validate::Code::ALL
                .iter()
                .any(|k| k.as_str() == *c && k.severity() == lbimport::validate::Severity::Error)
        });
        if errors != (r.verdict == Verdict::Errors) {
            failures.push(format!("{}: verdict {:?}", f.name, r.verdict));
        }
        for i in &r.issues {
            for e in &i.examples {
                assert!(e.text.chars().count() <= 200, "{}: long example", f.name);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fixture_file_is_in_the_table() {
    let names: Vec<&str> = table().iter().map(|f| f.name).collect();
    for e in std::fs::read_dir(dir()).unwrap() {
        let n = e.unwrap().file_name().into_string().unwrap();
        if n == "make_fixtures.py" {
            continue;
        }
        assert!(names.contains(&n.as_str()), "{n} has no expectations");
    }
}

#[test]
fn fixture_file_details() {
    let v = |n: &str| validate_path(&dir().join(n), &opts(), None).unwrap();
    assert_eq!(v("crlf_mixed.csv").file.line_endings, LineEndings::Mixed);
    assert!(v("utf8_bom.csv").file.bom);
    let r = v("utf16_bom.csv");
    assert!(r.issues[0].message.contains("UTF-16 (little-endian)"));
    let r = v("ts_dmy.csv");
    let m = &r.issues[0].message;
    assert!(m.contains("d/m/Y or m/d/Y ×1"), "{m}");
    assert!(m.contains("d.m.Y ×1"), "{m}");
    assert!(m.contains("d-m-Y ×1"), "{m}");
    assert!(m.contains("a date without a time ×1"), "{m}");
    let r = v("ts_epoch.csv");
    let m = &r.issues[0].message;
    assert!(
        m.contains("epoch seconds ×1") && m.contains("epoch milliseconds ×1"),
        "{m}"
    );
    let r = v("unknown_attr.json");
    let m = &r.issues[0].message;
    assert!(m.contains("price ×2"), "{m}");
    let r = v("long_line.csv");
    let e = &r.issues[0].examples[0];
    assert_eq!((e.line, e.byte), (2, 7));
    assert!(e.text.starts_with("70002 bytes: 2,xxx"), "{}", e.text);
    let r = v("binary.csv");
    assert_eq!(r.issues[0].examples[0].byte, 0);
    let r = v("json_types.json");
    let m = &r.issues[0].message;
    assert!(m.contains("auth_user_id: null ×1"), "{m}");
    assert!(m.contains("identity: boolean ×1"), "{m}");
}
