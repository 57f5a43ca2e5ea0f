//! Per-check tests of the validator through its library API.

use std::path::PathBuf;

use lbimport::read::Format;
use lbimport::validate::{
    Code, LineEndings, Options, Progress, Report, Severity, ValidateError, Verdict, validate_path,
};

const SEED_CSV: &str = "1,/p/123,4,\"2023-04-22 15:04:30.12312\"\n\
1,/p/234,4,\"2023-04-22 15:01:33.12345\"\n\
2,/p/123,3,\"2023-04-21 00:04:38.12121\"\n\
2,/p/345,3\n";

const SEED_JSON: &str = r#"{"session_id": "1","identity": "/p/123","user_id": "4", "created_at": "2023-04-22 15:04:30.12312"}
{"session_id": "1","identity": "/p/234","user_id": "4", "created_at": "2023-04-22 15:01:33.12345"}
{"session_id": "2","identity": "/p/123","user_id": "3", "created_at": "2023-04-21 00:04:38.12121"}
{"session_id": "2","identity": "/p/345","user_id": "3"}
"#;

use crate::support::{opts, write};

fn check(name: &str, data: &[u8]) -> Report {
    let (_d, p) = write(name, data);
    validate_path(&p, &opts(), None).unwrap()
}

fn count(r: &Report, c: Code) -> u64 {
    r.issue(c).map_or(0, |i| i.count)
}

fn first_line(r: &Report, c: Code) -> u64 {
    r.issue(c)
        .and_then(|i| i.examples.first())
        .map_or(0, |e| e.line)
}

fn errors(r: &Report) -> Vec<(Code, u64)> {
    r.issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| (i.code, i.count))
        .collect()
}

#[test]
fn seed_csv_is_accepted_with_exact_stats() {
    let r = check("seed.csv", SEED_CSV.as_bytes());
    assert_eq!(r.verdict, Verdict::Warnings);
    assert_eq!(errors(&r), vec![]);
    let s = &r.stats;
    assert_eq!(
        (s.lines, s.rows, s.valid_rows, s.invalid_rows),
        (4, 4, 4, 0)
    );
    assert_eq!((s.orders, s.pairs, s.products, s.users), (2, 2, 3, 2));
    assert_eq!((s.single_item_orders, s.multi_item_orders), (0, 2));
    assert_eq!((s.rows_with_user, s.rows_with_timestamp), (4, 3));
    assert_eq!(
        s.first_purchase.as_deref(),
        Some("2023-04-21 00:04:38.121210")
    );
    assert_eq!(
        s.last_purchase.as_deref(),
        Some("2023-04-22 15:04:30.123120")
    );
    assert_eq!(s.items_per_order.max, 2);
    assert_eq!(s.items_per_order.p50, 2);
    assert_eq!(s.top_products[0].identity, "/p/123");
    assert_eq!(s.top_products[0].rows, 2);
    assert_eq!(r.file.format, Format::Csv);
    assert_eq!(r.file.line_endings, LineEndings::Lf);
    assert_eq!(r.file.bytes, SEED_CSV.len() as u64);
    assert_eq!(count(&r, Code::FewCoPurchases), 2);
    assert_eq!(count(&r, Code::PartialTimestamps), 1);
    assert_eq!(r.issues.len(), 2);
    // samples: both orders with all rows
    assert_eq!(r.samples.len(), 2);
    assert_eq!(r.samples[0].order_id, "1");
    assert_eq!(r.samples[0].rows.len(), 2);
    assert_eq!(r.samples[1].rows[1].identity, "/p/345");
    assert_eq!(r.samples[1].rows[1].user_id.as_deref(), Some("3"));
    assert_eq!(r.samples[1].rows[1].created_at, None);
    assert_eq!(
        r.samples[0].rows[1].created_at.as_deref(),
        Some("2023-04-22 15:01:33.123450")
    );
}

#[test]
fn seed_json_is_accepted_with_exact_stats() {
    let r = check("seed.json", SEED_JSON.as_bytes());
    assert_eq!(r.verdict, Verdict::Warnings);
    assert_eq!(errors(&r), vec![]);
    let s = &r.stats;
    assert_eq!((s.lines, s.rows, s.valid_rows), (4, 4, 4));
    assert_eq!((s.orders, s.pairs, s.products, s.users), (2, 2, 3, 2));
    assert_eq!(r.file.format, Format::Json);
    assert_eq!(count(&r, Code::MixedAttributeNames), 0);
    assert_eq!(count(&r, Code::UnknownAttribute), 0);
    assert_eq!(r.samples.len(), 2);
}

#[test]
fn sha256_is_of_the_bytes() {
    let r = check("x.csv", b"abc");
    assert_eq!(
        r.file.sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn structural_errors_are_counted_with_lines() {
    let r = check(
        "x.csv",
        b"1,a\n1\n1,a,b,2023-01-01 00:00:00,x\n,a\n2,\n3,\"a\n4,a\"b\n",
    );
    assert_eq!(count(&r, Code::FieldCount), 2);
    assert_eq!(first_line(&r, Code::FieldCount), 2);
    assert_eq!(count(&r, Code::MissingOrderId), 1);
    assert_eq!(first_line(&r, Code::MissingOrderId), 4);
    assert_eq!(count(&r, Code::MissingIdentity), 1);
    // line 6 opens a quoted field that line 7 closes: one record, broken after the quote
    assert_eq!(count(&r, Code::CsvQuote), 1);
    assert_eq!(first_line(&r, Code::CsvQuote), 6);
    assert_eq!(r.stats.lines, 6);
    assert_eq!(r.stats.rows, 6);
    assert_eq!(r.stats.valid_rows, 1);
    assert_eq!(r.stats.invalid_rows, 5);
    assert_eq!(r.verdict, Verdict::Errors);
    let r = check("x.csv", b"1,a\"b\n2,\"c\"d\n3,\"e\n");
    assert_eq!(count(&r, Code::CsvQuote), 3);
    let lines: Vec<u64> = r
        .issue(Code::CsvQuote)
        .unwrap()
        .examples
        .iter()
        .map(|e| e.line)
        .collect();
    assert_eq!(lines, vec![1, 2, 3]);
}

#[test]
fn quoted_field_may_span_lines() {
    let r = check("x.csv", b"1,\"a\nb\",u\n1,c\n");
    assert_eq!(errors(&r), vec![]);
    assert_eq!(r.stats.lines, 2);
    assert_eq!(r.stats.rows, 2);
    assert_eq!(r.stats.pairs, 1);
}

#[test]
fn timestamps() {
    let r = check(
        "x.csv",
        b"1,a,,2023-04-22T15:04:30\n\
          2,a,,2023-04-22T15:04:30Z\n\
          3,a,,2023-04-22 15:04:30+02:00\n\
          4,a,,1682175870\n\
          5,a,,22/04/2023 15:04\n\
          6,a,,2030-01-01 00:00:00\n\
          7,a,,1999-12-31 23:59:59\n\
          8,a,,1682175870123\n",
    );
    assert_eq!(count(&r, Code::TimestampZone), 2);
    assert_eq!(first_line(&r, Code::TimestampZone), 2);
    assert_eq!(count(&r, Code::TimestampFormat), 3);
    let msg = &r.issue(Code::TimestampFormat).unwrap().message;
    assert!(msg.contains("epoch seconds ×1"), "{msg}");
    assert!(msg.contains("epoch milliseconds ×1"), "{msg}");
    assert!(msg.contains("d/m/Y or m/d/Y ×1"), "{msg}");
    assert_eq!(count(&r, Code::FutureTimestamp), 1);
    assert_eq!(first_line(&r, Code::FutureTimestamp), 6);
    assert_eq!(count(&r, Code::OldTimestamp), 1);
    assert_eq!(r.stats.valid_rows, 3);
    assert_eq!(r.stats.rows_with_timestamp, 3);
    assert_eq!(
        r.stats.first_purchase.as_deref(),
        Some("1999-12-31 23:59:59")
    );
}

#[test]
fn duplicates_users_and_large_orders() {
    let mut data = String::from("1,a,u1,2023-01-01 00:00:00\n1,a,u1,2023-01-01 00:00:00\n");
    data.push_str("1,a,u2,2023-01-01 00:00:00\n1,b,u1\n");
    for i in 0..105 {
        data.push_str(&format!("9,p{i}\n"));
    }
    data.push_str("9,p0\n");
    let r = check("x.csv", data.as_bytes());
    assert_eq!(count(&r, Code::DuplicateRow), 2);
    assert_eq!(first_line(&r, Code::DuplicateRow), 2);
    assert_eq!(count(&r, Code::OrderMultipleUsers), 1);
    assert_eq!(first_line(&r, Code::OrderMultipleUsers), 3);
    assert_eq!(count(&r, Code::LargeOrder), 1);
    assert_eq!(first_line(&r, Code::LargeOrder), 4 + 101);
    assert_eq!(r.stats.orders, 2);
    assert_eq!(r.stats.pairs, 1 + 105 * 104 / 2);
    assert_eq!(r.stats.items_per_order.max, 105);
    assert_eq!(r.stats.products, 2 + 105);
}

#[test]
fn ids_with_whitespace_or_spreadsheet_mangling() {
    let r = check("x.csv", b" 1,a\n2,1.23E+11\n3,b \n4,c,5.0\n");
    assert_eq!(count(&r, Code::WhitespaceId), 2);
    assert_eq!(count(&r, Code::SpreadsheetId), 2);
    assert_eq!(first_line(&r, Code::SpreadsheetId), 2);
    assert_eq!(errors(&r), vec![]);
}

#[test]
fn json_types_names_and_syntax() {
    let r = check(
        "x.json",
        br#"{"order_id":"1","identity":"a","auth_user_id":null}
{"order_id":"1","identity":["a"]}
{"session_id":1,"identity":2,"color":"red"}
{"order_id":"1","identity":"b"
not json
{"order_id":"2"}
"#,
    );
    assert_eq!(count(&r, Code::JsonType), 2);
    assert_eq!(first_line(&r, Code::JsonType), 1);
    assert_eq!(count(&r, Code::JsonSyntax), 2);
    assert_eq!(first_line(&r, Code::JsonSyntax), 4);
    assert_eq!(count(&r, Code::UnknownAttribute), 1);
    assert_eq!(count(&r, Code::MixedAttributeNames), 1);
    assert_eq!(first_line(&r, Code::MixedAttributeNames), 3);
    assert_eq!(count(&r, Code::MissingIdentity), 1);
    // numbers are taken as their text
    assert_eq!(r.stats.valid_rows, 1);
    assert_eq!(r.stats.orders, 1);
}

#[test]
fn encoding_bom_and_endings() {
    let r = check("x.csv", b"\xEF\xBB\xBF1,a\r\n2,\xFFb\r\n3,c\x00\n4,d\re\n");
    assert!(r.file.bom);
    assert_eq!(count(&r, Code::Bom), 1);
    assert_eq!(count(&r, Code::Encoding), 2);
    assert_eq!(first_line(&r, Code::Encoding), 2);
    assert_eq!(count(&r, Code::BareCr), 1);
    assert_eq!(r.file.line_endings, LineEndings::Mixed);
    assert_eq!(r.stats.valid_rows, 1);
    assert_eq!(r.stats.orders, 1);

    let r = check("x.csv", b"\xFF\xFE1\x00,\x00a\x00\n\x00");
    assert_eq!(count(&r, Code::Encoding), 1);
    assert!(r.issue(Code::Encoding).unwrap().message.contains("UTF-16"));
    assert_eq!(r.stats.rows, 0);
}

#[test]
fn empty_header_and_extension() {
    let r = check("x.csv", b"");
    assert_eq!(errors(&r), vec![(Code::EmptyFile, 1)]);
    let r = check("x.csv", b"session_id,identity,user_id,created_at\n1,a\n");
    assert_eq!(count(&r, Code::HeaderRow), 1);
    assert_eq!(r.stats.lines, 2);
    assert_eq!(r.stats.rows, 1);
    let r = check("data.txt", SEED_JSON.as_bytes());
    assert_eq!(r.file.format, Format::Json);
    assert_eq!(count(&r, Code::Extension), 1);
    assert_eq!(r.stats.orders, 2);
    let r = check("data", SEED_CSV.as_bytes());
    assert_eq!(r.file.format, Format::Csv);
    assert_eq!(count(&r, Code::Extension), 1);
}

#[test]
fn long_lines_are_errors_with_bounded_examples() {
    let mut data = b"1,a\n2,".to_vec();
    data.extend(std::iter::repeat_n(b'x', 70_000));
    data.extend_from_slice(b"\n3,b\n");
    let (_d, p) = write("x.csv", &data);
    let o = Options {
        max_line_bytes: 65536,
        ..opts()
    };
    let r = validate_path(&p, &o, None).unwrap();
    assert_eq!(count(&r, Code::LineTooLong), 1);
    let e = &r.issue(Code::LineTooLong).unwrap().examples[0];
    assert_eq!((e.line, e.byte), (2, 4));
    assert!(e.text.chars().count() <= 200);
    assert_eq!(r.stats.rows, 3);
    assert_eq!(r.stats.valid_rows, 2);
}

#[test]
fn examples_are_capped_but_counting_continues() {
    let data: String = (0..50).map(|i| format!("{i}\n")).collect();
    let (_d, p) = write("x.csv", data.as_bytes());
    let o = Options {
        max_examples: 3,
        ..opts()
    };
    let r = validate_path(&p, &o, None).unwrap();
    let i = r.issue(Code::FieldCount).unwrap();
    assert_eq!(i.count, 50);
    assert_eq!(i.examples.len(), 3);
    assert_eq!(i.examples[2].line, 3);
}

#[test]
fn scattered_orders_are_sampled_with_all_rows() {
    let mut data = String::new();
    data.push_str("A,x1\n");
    for i in 0..300 {
        data.push_str(&format!("o{i},p{i}\n"));
    }
    data.push_str("A,x2\n");
    data.push_str("A,x1\n");
    let r = check("x.csv", data.as_bytes());
    let a = r.samples.iter().find(|s| s.order_id == "A").unwrap();
    let lines: Vec<u64> = a.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![1, 302, 303]);
    assert_eq!(r.stats.pairs, 1);
    assert_eq!(r.stats.multi_item_orders, 1);
    assert_eq!(count(&r, Code::DuplicateRow), 1);
}

#[test]
fn progress_and_cancellation() {
    let data: String = (0..200_000)
        .map(|i| format!("{},p{}\n", i / 2, i % 7))
        .collect();
    let (_d, p) = write("x.csv", data.as_bytes());
    let progress = Progress::new();
    let r = validate_path(&p, &opts(), Some(&progress)).unwrap();
    let s = progress.snapshot();
    assert!(s.done);
    assert_eq!(s.bytes_read, data.len() as u64);
    assert_eq!(s.total_bytes, data.len() as u64);
    assert_eq!(s.rows, 200_000);
    assert_eq!(s.orders, 100_000);
    assert_eq!(r.stats.orders, 100_000);
    assert_eq!(r.stats.pairs, 100_000);

    let cancelled = Progress::new();
    cancelled.cancel();
    match validate_path(&p, &opts(), Some(&cancelled)) {
        Err(ValidateError::Cancelled) => {}
        other => panic!("expected cancellation, got {other:?}"),
    }
}

#[test]
fn unreadable_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    match validate_path(&dir.path().join("missing.csv"), &opts(), None) {
        Err(ValidateError::Io { .. }) => {}
        other => panic!("expected an I/O error, got {other:?}"),
    }
    match validate_path(dir.path(), &opts(), None) {
        Err(ValidateError::Io { .. }) => {}
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn scattered_orders_are_exact_across_runs() {
    let r = check(
        "x.csv",
        b"A,x1,u1\nB,y\nA,x1,u1\nbad\nC,z\nA,x2,u2\nA,x3,u2\nB,y\n",
    );
    assert_eq!(r.stats.orders, 3);
    assert_eq!(r.stats.pairs, 3);
    assert_eq!(r.stats.multi_item_orders, 1);
    assert_eq!(r.stats.single_item_orders, 2);
    assert_eq!(r.stats.items_per_order.max, 3);
    assert_eq!(count(&r, Code::DuplicateRow), 2);
    assert_eq!(first_line(&r, Code::DuplicateRow), 3);
    assert_eq!(count(&r, Code::OrderMultipleUsers), 1);
    assert_eq!(first_line(&r, Code::OrderMultipleUsers), 6);
    let a = r.samples.iter().find(|s| s.order_id == "A").unwrap();
    let lines: Vec<u64> = a.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![1, 3, 6, 7]);
}

#[test]
fn generated_file_matches_a_naive_exact_count() {
    use std::collections::{HashMap, HashSet};
    let mut data = Vec::new();
    let g = lbimport::generate::GenOptions {
        rows: Some(60_000),
        products: 2_000,
        users: 5_000,
        ..Default::default()
    };
    lbimport::generate::generate(&mut data, &g).unwrap();
    // naive reference
    let text = String::from_utf8(data.clone()).unwrap();
    let mut items: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut users_of: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut rows_seen: HashSet<&str> = HashSet::new();
    let mut dups = 0u64;
    let mut products: HashSet<&str> = HashSet::new();
    let mut users: HashSet<&str> = HashSet::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(',').collect();
        items.entry(f[0]).or_default().insert(f[1]);
        products.insert(f[1]);
        if let Some(u) = f.get(2).filter(|u| !u.is_empty()) {
            users.insert(u);
            users_of.entry(f[0]).or_default().insert(u);
        }
        if !rows_seen.insert(line) {
            dups += 1;
        }
    }
    let pairs: u64 = items
        .values()
        .map(|s| (s.len() * (s.len() - 1) / 2) as u64)
        .sum();
    let multi_users = users_of.values().filter(|s| s.len() > 1).count() as u64;
    let r = check("gen.csv", &data);
    assert_eq!(r.stats.orders, items.len() as u64);
    assert_eq!(r.stats.pairs, pairs);
    assert_eq!(
        r.stats.multi_item_orders,
        items.values().filter(|s| s.len() > 1).count() as u64
    );
    assert_eq!(r.stats.products, products.len() as u64);
    assert_eq!(r.stats.users, users.len() as u64);
    assert_eq!(count(&r, Code::DuplicateRow), dups);
    assert_eq!(count(&r, Code::OrderMultipleUsers), multi_users);
    assert_eq!(r.stats.invalid_rows, 0);
    assert!(dups > 0, "the generator should repeat some rows");
}

#[test]
fn large_order_examples_are_where_orders_cross_the_threshold() {
    // S: 60 items, then other orders, then 60 more items (crosses at its 101st distinct item);
    // L: 105 items in one run, after S's first run; M: 102 items in one run, last.
    let mut data = String::new();
    let mut line = 0u64;
    let mut push = |data: &mut String, s: String| {
        line += 1;
        data.push_str(&s);
        line
    };
    for i in 0..60 {
        push(&mut data, format!("S,s{i}\n"));
    }
    let mut l_cross = 0;
    for i in 0..105 {
        let n = push(&mut data, format!("L,l{i}\n"));
        if i == 100 {
            l_cross = n;
        }
    }
    let mut s_cross = 0;
    for i in 55..120 {
        // s55..s59 repeat items of the first run
        let n = push(&mut data, format!("S,s{i}\n"));
        if i == 100 {
            s_cross = n;
        }
    }
    let mut m_cross = 0;
    for i in 0..102 {
        let n = push(&mut data, format!("M,m{i},u1\n"));
        if i == 100 {
            m_cross = n;
        }
    }
    let r = check("x.csv", data.as_bytes());
    assert_eq!(count(&r, Code::LargeOrder), 3);
    let ex = &r.issue(Code::LargeOrder).unwrap().examples;
    let lines: Vec<u64> = ex.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![l_cross, s_cross, m_cross]);
    assert_eq!((l_cross, s_cross, m_cross), (161, 211, 331));
    assert_eq!(ex[1].text, "order S reached 101 distinct items here");
    assert_eq!(r.stats.items_per_order.max, 120);
    assert_eq!(r.stats.orders, 3);
    // S's second run alone has 65 items: only its whole count makes it large
    assert_eq!(r.stats.pairs, (120 * 119 + 105 * 104 + 102 * 101) / 2);
}

#[test]
fn samples_skip_orders_whose_multi_item_run_is_not_their_first() {
    // 200 single-item orders fill the first tier of candidates; then S (one item), more
    // orders, S again with two new items (its rows are scattered: not a complete sample from
    // there), and T, a new order with two items.
    let mut data = String::new();
    for i in 0..200 {
        data.push_str(&format!("o{i},p{i}\n"));
    }
    data.push_str("S,a\n");
    for i in 200..210 {
        data.push_str(&format!("o{i},p{i}\n"));
    }
    data.push_str("S,b\nS,c\nT,x\nT,y\n");
    let r = check("x.csv", data.as_bytes());
    let ids: Vec<&str> = r.samples.iter().map(|s| s.order_id.as_str()).collect();
    assert_eq!(ids, vec!["T"]);
    let lines: Vec<u64> = r.samples[0].rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![214, 215]);
    assert_eq!(r.stats.multi_item_orders, 2);
    assert_eq!(r.stats.pairs, 3 + 1);
}

#[test]
fn top_products_are_exact_and_ties_go_by_identity() {
    // alpha (7 rows; its first row is the file's first, after a BOM), z0..z7 (5 rows each),
    // then 20 products with 3 rows each tied for the last place, seen in reverse name order;
    // one of them is quoted and holds a comma ("m,07" sorts before "m00").
    let mut data = String::from("\u{feff}0,alpha\n");
    let mut n = 0;
    for i in 0..8 {
        for _ in 0..5 {
            n += 1;
            data.push_str(&format!("{n},z{i}\n"));
        }
    }
    for i in (0..20).rev() {
        for _ in 0..3 {
            n += 1;
            if i == 7 {
                data.push_str(&format!("{n},\"m,{i:02}\"\n"));
            } else {
                data.push_str(&format!("{n},m{i:02}\n"));
            }
        }
    }
    for _ in 0..6 {
        n += 1;
        data.push_str(&format!("{n},alpha\n"));
    }
    let r = check("x.csv", data.as_bytes());
    let top: Vec<(String, u64)> = r
        .stats
        .top_products
        .iter()
        .map(|t| (t.identity.clone(), t.rows))
        .collect();
    let mut want: Vec<(String, u64)> = vec![("alpha".into(), 7)];
    want.extend((0..8).map(|i| (format!("z{i}"), 5)));
    want.push(("m,07".into(), 3));
    assert_eq!(top, want);
    assert_eq!(r.stats.products, 29);
}

#[test]
fn first_row_after_a_bom_reads_back_whole_in_samples() {
    let r = check("x.csv", "\u{feff}A,first-item,u1\nA,x2\n".as_bytes());
    let a = &r.samples[0];
    assert_eq!(a.order_id, "A");
    let ids: Vec<&str> = a.rows.iter().map(|r| r.identity.as_str()).collect();
    assert_eq!(ids, vec!["first-item", "x2"]);
    assert_eq!(a.rows[0].user_id.as_deref(), Some("u1"));
}

#[test]
fn identity_unique_per_row_is_warned_on_1000_rows_or_more() {
    // 1,200 rows in 400 orders, every identity different (a line-item id as identity)
    let mut s = String::new();
    for i in 0..1200u32 {
        s.push_str(&format!("{},/line/{i}\n", i / 3));
    }
    let r = check("a.csv", s.as_bytes());
    let i = r.issue(Code::IdentityUniquePerRow).expect("warned");
    assert_eq!(i.count, 1200);
    assert_eq!(i.severity, Severity::Warning);
    assert!(
        i.message
            .contains("1200 distinct identities in 1200 valid rows (100 %)")
    );
    // the same rows over 100 products: no warning
    let s: String = (0..1200u32)
        .map(|i| format!("{},/p/{}\n", i / 3, i % 100))
        .collect();
    assert!(
        check("b.csv", s.as_bytes())
            .issue(Code::IdentityUniquePerRow)
            .is_none()
    );
    // under 1,000 rows it can't tell yet
    let s: String = (0..999u32)
        .map(|i| format!("{},/line/{i}\n", i / 3))
        .collect();
    assert!(
        check("c.csv", s.as_bytes())
            .issue(Code::IdentityUniquePerRow)
            .is_none()
    );
}

#[test]
fn duplicate_documented_json_keys_warn_once_per_row() {
    let r = check(
        "dup.json",
        b"{\"order_id\":\"1\",\"identity\":\"/p/1\",\"identity\":\"/p/2\"}\n\
          {\"order_id\":\"1\",\"identity\":\"/p/3\",\"x\":1,\"x\":2}\n\
          {\"order_id\":\"2\",\"order_id\":\"3\",\"created_at\":\"2023-01-01 00:00:00\",\"created_at\":\"2023-01-01 00:00:01\",\"identity\":\"/p/4\"}\n\
          {\"order_id\":\"2\",\"session_id\":\"2\",\"identity\":\"/p/5\"}\n",
    );
    // lines 1 and 3 repeat a documented key; line 2 repeats an unknown one; line 4 uses two
    // generations (that is mixed_attribute_names, not a duplicate)
    assert_eq!(count(&r, Code::DuplicateKey), 2);
    assert_eq!(first_line(&r, Code::DuplicateKey), 1);
    assert_eq!(
        r.issue(Code::DuplicateKey).map(|i| i.severity),
        Some(Severity::Warning)
    );
    assert_eq!(Code::DuplicateKey.as_str(), "duplicate_key");
}

#[test]
fn devices_fifos_and_directories_are_refused_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.csv");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let cases = [
        (PathBuf::from("/dev/zero"), "a character device"),
        (PathBuf::from("/dev/null"), "a character device"),
        (fifo, "a named pipe"),
        (dir.path().to_path_buf(), "a directory"),
    ];
    for (p, kind) in cases {
        let t = std::time::Instant::now();
        match validate_path(&p, &opts(), None) {
            Err(e @ ValidateError::Io { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.contains(&format!("not a regular file ({kind})")),
                    "{}: {msg}",
                    p.display()
                );
                assert!(msg.contains(&p.display().to_string()), "{msg}");
            }
            other => panic!("{}: {other:?}", p.display()),
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }
}

#[test]
fn a_line_spanning_three_blocks_is_checked_for_utf8_in_all_of_them() {
    // blocks of 8 bytes: "1,/p/1\n2" | ",/p/\xffaaa" (not UTF-8) | "aaaaaaaa" | "aaaaaa\n3" | …
    // the second line ends in a clean block after a clean one, but it began in the dirty one
    let data = b"1,/p/1\n2,/p/\xffaaaaaaaaaaaaaaaaa\n3,/p/3\n";
    let (_d, p) = write("span.csv", data);
    for threads in [1, 2] {
        let o = Options {
            block_bytes: 8,
            threads,
            ..opts()
        };
        let r = validate_path(&p, &o, None).unwrap();
        assert_eq!(count(&r, Code::Encoding), 1);
        assert_eq!(first_line(&r, Code::Encoding), 2);
        assert_eq!(r.stats.rows, 3);
        assert_eq!(r.stats.invalid_rows, 1);
    }
}

/// A file of 3,000 orders (some scattered across the file, some with repeated rows), ids and
/// identities chosen by a fixed pseudo-random sequence; returned with the rows as
/// (order, identity, physical line).
fn shop_file() -> (String, Vec<(String, String, u64)>) {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut rows = Vec::new();
    let mut csv = String::new();
    let mut line = 0u64;
    for o in 1..=3000u64 {
        let items = 1 + next(4);
        for _ in 0..items {
            let p = next(900);
            let identity = if p % 3 == 0 {
                format!("https://shop.sk/p/{p}")
            } else {
                format!("/p/{p}")
            };
            line += 1;
            csv.push_str(&format!(
                "o{o},{identity},u{},2024-05-01 10:00:00\n",
                o % 97
            ));
            rows.push((format!("o{o}"), identity, line));
        }
        // every 10th order gets one more row 50 orders later (a scattered order)
        if o > 50 && (o - 50) % 10 == 0 {
            let early = o - 50;
            line += 1;
            csv.push_str(&format!(
                "o{early},/p/1,u{},2024-05-01 10:00:00\n",
                early % 97
            ));
            rows.push((format!("o{early}"), "/p/1".to_string(), line));
        }
    }
    (csv, rows)
}

#[test]
fn identities_are_compared_with_the_catalog_exactly() {
    use lbimport::validate::lookup::{CatalogIndex, IdentityFix};
    use std::collections::HashSet;
    let (csv, rows) = shop_file();
    // the catalog: paths /p/0 … /p/799 (so /p/800 … /p/899 are unknown in any spelling)
    let catalog: Vec<String> = (0..800).map(|i| format!("/p/{i}")).collect();
    let index = CatalogIndex::build("test", Some(0), catalog.iter().map(|s| (s.as_str(), None)));
    let known: HashSet<&str> = catalog.iter().map(String::as_str).collect();
    let rows_matched = rows.iter().filter(|r| known.contains(r.1.as_str())).count() as u64;
    let ids: HashSet<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    let ids_matched = ids.iter().filter(|i| known.contains(*i)).count() as u64;
    let strippable: HashSet<&str> = ids
        .iter()
        .copied()
        .filter(|i| !known.contains(i))
        .filter(|i| {
            i.strip_prefix("https://shop.sk")
                .is_some_and(|p| known.contains(p))
        })
        .collect();
    let first_unknown = rows.iter().find(|r| !known.contains(r.1.as_str())).unwrap();

    let (_d, p) = write("shop.csv", csv.as_bytes());
    let o = Options {
        catalog: Some(std::sync::Arc::new(index)),
        ..opts()
    };
    let r = validate_path(&p, &o, None).unwrap();
    let c = r.catalog.as_ref().unwrap();
    assert_eq!(c.rows, rows.len() as u64);
    assert_eq!(c.rows_matched, rows_matched);
    assert_eq!(c.identities, ids.len() as u64);
    assert_eq!(c.identities_matched, ids_matched);
    assert_eq!(c.catalog_identities, 800);
    assert_eq!(
        count(&r, Code::IdentityNotInCatalog),
        rows.len() as u64 - rows_matched
    );
    let d = &c.diagnoses[0];
    assert_eq!(d.fix, IdentityFix::StripHost);
    assert_eq!(d.identities, strippable.len() as u64);
    assert_eq!(d.flag, "--identity-strip-host");
    let ex = &r.issue(Code::IdentityNotInCatalog).unwrap().examples[0];
    assert_eq!(ex.line, first_unknown.2);
    assert!(ex.text.contains(&first_unknown.1), "{}", ex.text);
    // the unknown identity with the most rows comes first
    let mut unknown_rows: std::collections::HashMap<&str, u64> = Default::default();
    for r in &rows {
        if !known.contains(r.1.as_str()) {
            *unknown_rows.entry(&r.1).or_default() += 1;
        }
    }
    let top = unknown_rows.values().max().unwrap();
    assert_eq!(c.top_unknown[0].rows, *top);

    // an empty catalog disables the check instead of making every row unknown
    let o = Options {
        catalog: Some(std::sync::Arc::new(CatalogIndex::default())),
        ..opts()
    };
    let r = validate_path(&p, &o, None).unwrap();
    assert!(r.catalog.as_ref().unwrap().skipped.is_some());
    assert_eq!(count(&r, Code::IdentityNotInCatalog), 0);
}

#[test]
fn orders_already_sent_are_counted_exactly_with_their_rows() {
    use lbimport::validate::lookup::{Loading, SentLookup};
    use std::collections::HashSet;
    let (csv, rows) = shop_file();
    let h = |s: &str| xxhash_rust::xxh3::xxh3_64(s.as_bytes());
    // upload A sent orders o1 … o1000, upload B o900 … o1200 and o5000 (not in the file)
    let a: Vec<u64> = (1..=1000).map(|i| h(&format!("o{i}"))).collect();
    let mut b: Vec<u64> = (900..=1200).map(|i| h(&format!("o{i}"))).collect();
    b.push(h("o5000"));
    let lookup = SentLookup::new(vec![("A".into(), a), ("B".into(), b)]);
    let sent = |o: &str| {
        let n: u64 = o[1..].parse().unwrap();
        n <= 1200
    };
    let sent_rows = rows.iter().filter(|r| sent(&r.0)).count() as u64;
    let orders: HashSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let first = rows.iter().find(|r| sent(&r.0)).unwrap();

    let (_d, p) = write("shop.csv", csv.as_bytes());
    let o = Options {
        sent: Some(Loading::ready(lookup)),
        ..opts()
    };
    let r = validate_path(&p, &o, None).unwrap();
    let s = r.already_sent.as_ref().unwrap();
    assert_eq!(s.orders, 1200);
    assert_eq!(s.rows, sent_rows);
    assert_eq!(s.file_orders, orders.len() as u64);
    assert_eq!(s.uploads_compared, 2);
    let by: Vec<(&str, u64)> = s
        .by_upload
        .iter()
        .map(|b| (b.key.as_str(), b.orders))
        .collect();
    assert_eq!(by, vec![("A", 1000), ("B", 301)]);
    assert_eq!(count(&r, Code::OrdersAlreadySent), sent_rows);
    let ex = &r.issue(Code::OrdersAlreadySent).unwrap().examples[0];
    assert_eq!((ex.line, ex.text.as_str()), (first.2, first.0.as_str()));

    // one thread and two give the same report
    let o1 = Options {
        threads: 1,
        sent: o.sent.clone(),
        ..opts()
    };
    let r1 = validate_path(&p, &o1, None).unwrap();
    assert_eq!(r1.already_sent, r.already_sent);

    // a set that could not be read skips the check: never "0 already sent"
    let o = Options {
        sent: Some(Loading::failed("damaged".into())),
        ..opts()
    };
    let r = validate_path(&p, &o, None).unwrap();
    assert_eq!(
        r.already_sent.as_ref().unwrap().skipped.as_deref(),
        Some("damaged")
    );
    assert_eq!(count(&r, Code::OrdersAlreadySent), 0);
}

/// Orders `1..=n`, two rows each; `user(o)` gives each row's user. Orders whose number is a
/// multiple of 7 get a third row (same user) 30 orders later, so they are scattered.
fn orders_with_users(n: u64, user: impl Fn(u64, u64) -> String) -> String {
    let mut csv = String::new();
    for o in 1..=n {
        for k in 0..2 {
            csv.push_str(&format!(
                "{o},/p/{},{},2024-05-01 10:00:00\n",
                (o + k) % 50,
                user(o, k)
            ));
        }
        if o > 30 && (o - 30) % 7 == 0 {
            let e = o - 30;
            csv.push_str(&format!("{e},/p/99,{},2024-05-01 10:00:00\n", user(e, 0)));
        }
    }
    csv
}

#[test]
fn one_user_on_a_fifth_of_the_orders_is_a_warning_with_an_exact_count() {
    // "guest" on every 3rd order (333 of 1,000 = 33.3 %), on both rows of most, on the second
    // row only of every 9th (a multi-user order); scattered orders repeat their first user
    let user = |o: u64, k: u64| {
        if o.is_multiple_of(3) && !(o.is_multiple_of(9) && k == 0) {
            "guest".to_string()
        } else {
            format!("u{o}")
        }
    };
    let csv = orders_with_users(1000, user);
    let expected = (1..=1000u64).filter(|o| o % 3 == 0).count() as u64;
    let r = check("guests.csv", csv.as_bytes());
    assert_eq!(r.stats.orders, 1000);
    assert_eq!(count(&r, Code::DominantUser), expected);
    let i = r.issue(Code::DominantUser).unwrap();
    assert_eq!(i.severity, Severity::Warning);
    assert!(
        i.message.contains("333 of 1000 orders (33.3 %"),
        "{}",
        i.message
    );
    // its first row: order 3's first row
    assert_eq!(i.examples[0].line, 5);
    assert!(i.examples[0].text.starts_with("3,") && i.examples[0].text.contains("guest"));

    // on 19 % of the orders: no warning
    let csv = orders_with_users(1000, |o, _| {
        if o % 100 < 19 {
            "guest".into()
        } else {
            format!("u{o}")
        }
    });
    let r = check("fewer.csv", csv.as_bytes());
    assert_eq!(count(&r, Code::DominantUser), 0);
    // a small file says nothing
    let csv = orders_with_users(50, |_, _| "guest".into());
    assert_eq!(
        count(&check("small.csv", csv.as_bytes()), Code::DominantUser),
        0
    );
}
