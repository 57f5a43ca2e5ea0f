//! Conversion exactness (every timestamp checked against chrono) and cleaning counts.

use std::path::Path;

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use lbimport::mapping::convert::{Clean, convert_path, plan, preview};
use lbimport::mapping::{Mapping, MappingError, Source};
use lbimport::validate::Progress;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn expected_text(utc: NaiveDateTime) -> String {
    let mut s = utc.format("%Y-%m-%d %H:%M:%S").to_string();
    let micros = utc.nanosecond() / 1000;
    if micros != 0 {
        s.push_str(&format!(".{micros:06}"));
    }
    s
}

fn mapping(delim: char, header: bool, fmt: &str, zone: &str) -> Mapping {
    Mapping {
        delimiter: delim,
        header,
        order_id: Source::Column(1),
        identity: Source::Column(2),
        user_id: Some(Source::Column(3)),
        created_at: Some(Source::Column(0)),
        time_format: Some(fmt.to_string()),
        time_zone: Some(zone.to_string()),
        encoding: None,
        items: None,
    }
}

fn read_lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Local wall-clock values in `zone`, rendered with `fmt` by chrono, must come out as
/// chrono's own UTC conversion (overlaps: the earlier instant).
fn check_zone_format(fmt: &str, zone: &str, with_fraction: bool, seed: u64) {
    let tz: Option<Tz> = zone.parse().ok();
    let fixed: Option<FixedOffset> = if zone == "UTC" {
        FixedOffset::east_opt(0)
    } else {
        DateTime::parse_from_str(&format!("2020-01-01 00:00 {zone}"), "%Y-%m-%d %H:%M %:z")
            .ok()
            .map(|d| *d.offset())
    };
    let mut rng = Lcg(seed);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let mut text = String::from("when;order;sku;user\n");
    let mut expected = Vec::new();
    let start = DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z")
        .unwrap()
        .timestamp();
    while expected.len() < 3000 {
        let secs = start + (rng.next() % (6 * 365 * 86400)) as i64;
        let nanos = if with_fraction {
            (rng.next() % 1_000_000) as u32 * 1000
        } else {
            0
        };
        let local = DateTime::from_timestamp(secs, nanos).unwrap().naive_utc();
        let local = if fmt.contains("%S") {
            local
        } else {
            local.with_second(0).unwrap().with_nanosecond(0).unwrap()
        };
        let utc = match (tz, fixed) {
            (Some(tz), _) => match tz.from_local_datetime(&local) {
                LocalResult::Single(d) => d.naive_utc(),
                LocalResult::Ambiguous(a, b) => a.naive_utc().min(b.naive_utc()),
                LocalResult::None => continue, // gaps are checked separately
            },
            (None, Some(f)) => f.from_local_datetime(&local).unwrap().naive_utc(),
            _ => panic!("zone"),
        };
        let n = expected.len();
        text.push_str(&format!(
            "{};{:06};SKU-{};{}\n",
            local.format(fmt),
            n / 3,
            n % 97,
            n / 7
        ));
        expected.push(expected_text(utc));
    }
    std::fs::write(&input, &text).unwrap();
    let out = dir.path().join("out.csv");
    let m = mapping(';', true, fmt, zone);
    let s = convert_path(&input, &m, &Clean::default(), &out, None).unwrap();
    assert_eq!(s.rows_in, 3000, "{fmt} {zone}");
    assert_eq!(s.rows_out, 3000);
    assert_eq!(s.invalid, 0, "{:?}", s.reasons);
    assert_eq!(s.timestamps, 3000);
    assert!(s.header_skipped);
    let lines = read_lines(&out);
    assert_eq!(lines.len(), 3000);
    for (i, (line, want)) in lines.iter().zip(&expected).enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 4, "{line}");
        assert_eq!(fields[0], format!("{:06}", i / 3));
        assert_eq!(fields[1], format!("SKU-{}", i % 97));
        // user "0" is a placeholder for "no user"
        let user = if i / 7 == 0 {
            String::new()
        } else {
            format!("{}", i / 7)
        };
        assert_eq!(fields[2], user);
        assert_eq!(fields[3], want, "row {i} {fmt} {zone}: {line}");
    }
}

#[test]
fn day_month_in_bratislava() {
    check_zone_format("%d/%m/%Y %H:%M", "Europe/Bratislava", false, 1);
}

#[test]
fn month_day_seconds_in_new_york() {
    check_zone_format("%m/%d/%Y %H:%M:%S", "America/New_York", false, 2);
}

#[test]
fn fractional_iso_space_in_sydney() {
    check_zone_format("%Y-%m-%d %H:%M:%S%.6f", "Australia/Sydney", true, 3);
}

#[test]
fn fixed_offset_and_utc() {
    check_zone_format("%Y-%m-%d %H:%M:%S", "+05:30", false, 4);
    check_zone_format("%d.%m.%Y %H:%M", "UTC", false, 5);
}

#[test]
fn iso_offsets_epochs_exact() {
    // values carrying their own offset, in several zones around DST transitions
    let zones: [&str; 4] = [
        "Europe/Bratislava",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
    ];
    let mut rng = Lcg(9);
    let dir = tempfile::tempdir().unwrap();
    let (mut iso, mut es, mut ems) = (String::new(), String::new(), String::new());
    let mut expected = Vec::new();
    let base = DateTime::parse_from_rfc3339("2021-01-01T00:00:00Z")
        .unwrap()
        .timestamp();
    for i in 0..2000u64 {
        let secs = base + (rng.next() % (4 * 365 * 86400)) as i64;
        let millis = rng.next() % 1000;
        let utc_ms: DateTime<Utc> =
            DateTime::from_timestamp(secs, (millis * 1_000_000) as u32).unwrap();
        let tz: Tz = zones[(i % 4) as usize].parse().unwrap();
        let local = utc_ms.with_timezone(&tz);
        iso.push_str(&format!(
            "{},o{},/p/{}\n",
            local.format("%Y-%m-%dT%H:%M:%S%.3f%:z"),
            i / 2,
            i
        ));
        es.push_str(&format!("{},o{},/p/{}\n", secs, i / 2, i));
        ems.push_str(&format!(
            "{},o{},/p/{}\n",
            utc_ms.timestamp_millis(),
            i / 2,
            i
        ));
        expected.push((
            utc_ms.naive_utc(),
            utc_ms.naive_utc().with_nanosecond(0).unwrap(),
        ));
    }
    let m = |fmt: &str| Mapping {
        delimiter: ',',
        header: false,
        order_id: Source::Column(1),
        identity: Source::Column(2),
        user_id: None,
        created_at: Some(Source::Column(0)),
        time_format: Some(fmt.into()),
        // the zone must not matter for values with an offset or epochs
        time_zone: Some("America/Los_Angeles".into()),
        encoding: None,
        items: None,
    };
    for (name, body, fmt, with_ms) in [
        ("iso.csv", &iso, "iso8601", true),
        ("es.csv", &es, "epoch_s", false),
        ("ems.csv", &ems, "epoch_ms", true),
    ] {
        let input = dir.path().join(name);
        std::fs::write(&input, body).unwrap();
        let out = dir.path().join(format!("{name}.out"));
        let s = convert_path(&input, &m(fmt), &Clean::default(), &out, None).unwrap();
        assert_eq!(s.rows_out, 2000);
        assert_eq!(s.invalid, 0, "{fmt}: {:?}", s.reasons);
        for (i, line) in read_lines(&out).iter().enumerate() {
            let want = if with_ms {
                expected[i].0
            } else {
                expected[i].1
            };
            // empty user id between identity and created_at
            assert_eq!(
                line,
                &format!("o{},/p/{},,{}", i / 2, i, expected_text(want)),
                "{fmt}"
            );
        }
    }
}

#[test]
fn dst_gaps_and_overlaps_follow_the_documented_rule() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("dst.csv");
    std::fs::write(
        &input,
        "2024-03-31 02:30:00,1,/p/1\n\
         2024-10-27 02:30:00,1,/p/2\n\
         2024-10-27 03:30:00,1,/p/3\n\
         2024-03-31 01:59:59,2,/p/4\n\
         2024-03-31 03:00:00,2,/p/5\n",
    )
    .unwrap();
    let m = Mapping {
        delimiter: ',',
        header: false,
        order_id: Source::Column(1),
        identity: Source::Column(2),
        user_id: None,
        created_at: Some(Source::Column(0)),
        time_format: Some("%Y-%m-%d %H:%M:%S".into()),
        time_zone: Some("Europe/Bratislava".into()),
        encoding: None,
        items: None,
    };
    let out = dir.path().join("out.csv");
    let s = convert_path(&input, &m, &Clean::default(), &out, None).unwrap();
    assert_eq!(s.dst_gaps, 1);
    assert_eq!(s.dst_overlaps, 1);
    assert_eq!(
        read_lines(&out),
        [
            "1,/p/1,,2024-03-31 01:30:00",
            "1,/p/2,,2024-10-27 00:30:00",
            "1,/p/3,,2024-10-27 02:30:00",
            "2,/p/4,,2024-03-31 00:59:59",
            "2,/p/5,,2024-03-31 01:00:00",
        ]
    );
}

fn messy() -> &'static str {
    // header, BOM, whitespace ids, duplicates, invalid rows, one big order
    "\u{feff}order;sku;user;date\n\
     1;/p/1;u1;22/04/2023 10:00\n\
     1;/p/2;u1;22/04/2023 10:00\n\
     1;/p/2;u1;22/04/2023 10:00\n\
     \u{20}2 ;/p/1 ;u2;23/04/2023 11:00\n\
     2;/p/1;u2;23/04/2023 11:00\n\
     ;/p/9;u3;23/04/2023 11:00\n\
     3;/p/3;u3;31/02/2023 11:00\n\
     4;/p/4;u4;not a date\n\
     5\n\
     9;/p/1;u9;01/01/2023 00:00\n\
     9;/p/2;u9;01/01/2023 00:00\n\
     9;/p/3;u9;01/01/2023 00:00\n\
     9;/p/4;u9;01/01/2023 00:00\n\
     6;\"/p/6,x\";u6;01/01/2023 00:00\n"
}

fn messy_mapping() -> Mapping {
    Mapping {
        delimiter: ';',
        header: true,
        order_id: Source::Column(0),
        identity: Source::Column(1),
        user_id: Some(Source::Column(2)),
        created_at: Some(Source::Column(3)),
        time_format: Some("%d/%m/%Y %H:%M".into()),
        time_zone: Some("UTC".into()),
        encoding: None,
        items: None,
    }
}

#[test]
fn cleaning_counts_and_side_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("messy.csv");
    std::fs::write(&input, messy()).unwrap();
    let before = std::fs::read(&input).unwrap();
    let m = messy_mapping();

    // nothing but the default BOM strip: everything counted, invalid rows kept unchanged
    let out0 = dir.path().join("plain.csv");
    let s0 = convert_path(&input, &m, &Clean::default(), &out0, None).unwrap();
    assert_eq!(s0.rows_in, 14);
    assert_eq!(s0.rows_out, 14);
    assert!(s0.bom && s0.bom_stripped && s0.header_skipped);
    assert_eq!(s0.whitespace_rows, 1);
    assert_eq!(s0.trimmed, 0);
    // a conversion without dedupe doesn't track duplicates; a plan counts them
    assert_eq!(s0.duplicates, 0);
    assert_eq!(s0.duplicates_dropped, 0);
    let p0 = plan(&input, &m, &Clean::default(), None).unwrap();
    assert_eq!(p0.duplicates, 1);
    assert_eq!(p0.duplicates_dropped, 0);
    assert_eq!(p0.rows_out, 14);
    assert_eq!(p0.invalid, 4);
    assert_eq!(s0.invalid, 4);
    assert_eq!(s0.invalid_excluded, 0);
    let mut reasons = s0.reasons.clone();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            ("created_at doesn't match the time format".to_string(), 1),
            ("created_at is not a real date/time".to_string(), 1),
            ("no identity column".to_string(), 1),
            ("order id is empty".to_string(), 1),
        ]
    );
    let plain = read_lines(&out0);
    assert_eq!(plain[0], "1,/p/1,u1,2023-04-22 10:00:00");
    assert_eq!(plain[3], " 2 ,/p/1 ,u2,2023-04-23 11:00:00");
    assert_eq!(plain[6], "3,/p/3,u3,31/02/2023 11:00");
    assert_eq!(plain[13], "6,\"/p/6,x\",u6,2023-01-01 00:00:00");

    // every option on
    let side = dir.path().join("invalid.csv");
    let clean = Clean {
        strip_bom: true,
        trim_ids: true,
        dedupe: true,
        exclude_invalid: Some(side.clone()),
        max_order_items: Some(3),
    };
    let planned = plan(&input, &m, &clean, None).unwrap();
    let out = dir.path().join("clean.csv");
    let s = convert_path(&input, &m, &clean, &out, None).unwrap();
    assert_eq!(s.rows_in, 14);
    assert_eq!(s.trimmed, 1);
    // " 2 ;/p/1 " trimmed duplicates "2;/p/1": two duplicates now
    assert_eq!(s.duplicates, 2);
    assert_eq!(s.duplicates_dropped, 2);
    assert_eq!(s.invalid, 4);
    assert_eq!(s.invalid_excluded, 4);
    assert_eq!(s.orders_dropped, 1);
    assert_eq!(s.rows_in_dropped_orders, 4);
    assert_eq!(s.rows_out, 14 - 2 - 4 - 4);
    assert_eq!(
        read_lines(&out),
        [
            "1,/p/1,u1,2023-04-22 10:00:00",
            "1,/p/2,u1,2023-04-22 10:00:00",
            "2,/p/1,u2,2023-04-23 11:00:00",
            "6,\"/p/6,x\",u6,2023-01-01 00:00:00",
        ]
    );
    // the plan counts what the conversion did, without writing
    assert_eq!(planned.rows_out, s.rows_out);
    assert_eq!(planned.duplicates_dropped, s.duplicates_dropped);
    assert_eq!(planned.invalid_excluded, s.invalid_excluded);
    assert_eq!(planned.orders_dropped, s.orders_dropped);
    assert_eq!(planned.bytes_out, s.bytes_out);
    assert_eq!(planned.output, None);
    assert_eq!(s.bytes_out, std::fs::metadata(&out).unwrap().len());
    // the side file: header + 4 rows with line numbers and reasons
    let side_lines = read_lines(&side);
    assert_eq!(side_lines.len(), 5);
    assert_eq!(side_lines[0], "line,reason,record");
    assert!(side_lines[1].starts_with("7,order id (A) is empty,;/p/9;u3;"));
    assert!(
        side_lines[2]
            .starts_with("8,\"created_at \"\"31/02/2023 11:00\"\" (D) is not a real date/time")
    );
    assert!(side_lines[3].starts_with("9,\"created_at \"\"not a date\"\" (D) doesn't match"));
    assert_eq!(side_lines[4], "10,the row has no B (identity),5");
    // the input is untouched
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

/// A plan with an order-size limit counts in one pass what the conversion (which finds the
/// large orders in a first pass) does, for every combination of the other options, on a file
/// with scattered orders, large orders holding duplicates, padded ids and invalid rows.
#[test]
fn plan_with_an_order_limit_counts_what_the_conversion_does() {
    for grouped in [false, true] {
        plan_matches_conversion(grouped);
    }
}

/// Rows for [`plan_with_an_order_limit_counts_what_the_conversion_does`]: orders scattered
/// over the file, or mostly one run of consecutive rows per order (some orders of 40–80 rows,
/// a few coming back later).
fn order_rows(grouped: bool) -> (String, u64) {
    let mut rng = Lcg(if grouped { 11 } else { 7 });
    let mut text = String::from("order;sku;user;date\n");
    let mut rows = 0u64;
    let mut row = |rng: &mut Lcg, order: u64, n: u64, text: &mut String| {
        let sku = if order.is_multiple_of(50) {
            rng.next() % 40
        } else if grouped && order.is_multiple_of(37) {
            // long runs under the limit, with many duplicates
            rng.next() % 8
        } else {
            rng.next() % 6
        };
        let pad = if rng.next().is_multiple_of(20) {
            " "
        } else {
            ""
        };
        let date = match rng.next() % 50 {
            0 => "31/02/2023 10:00".to_string(),
            1 => String::new(),
            _ => format!("{:02}/03/2023 10:00", 1 + (n % 5)),
        };
        let id = if rng.next().is_multiple_of(97) {
            String::new()
        } else {
            format!("{pad}{order}")
        };
        text.push_str(&format!("{id};/p/{sku}{pad};u{};{date}\n", order % 7));
        rows += 1;
    };
    if grouped {
        for order in 0..400u64 {
            let again = if order > 10 && rng.next().is_multiple_of(30) {
                Some(rng.next() % order)
            } else {
                None
            };
            let n = if order % 37 == 0 || order % 50 == 0 {
                40 + rng.next() % 40
            } else {
                1 + rng.next() % 6
            };
            for k in 0..n {
                // the same date within a run: repeated skus are duplicates
                row(&mut rng, order, order + k % 5, &mut text);
            }
            if let Some(o) = again {
                for k in 0..1 + rng.next() % 30 {
                    row(&mut rng, o, o + k % 2, &mut text);
                }
            }
        }
    } else {
        for n in 0..3000u64 {
            // order ids repeat over the file (scattered orders); a few grow past the limit
            let order = if rng.next().is_multiple_of(4) {
                50 * (rng.next() % 8)
            } else {
                rng.next() % 400
            };
            row(&mut rng, order, n, &mut text);
        }
    }
    (text, rows)
}

fn plan_matches_conversion(grouped: bool) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("orders.csv");
    let (text, rows) = order_rows(grouped);
    std::fs::write(&input, &text).unwrap();
    let m = messy_mapping();
    let mut checked_drops = 0;
    for trim in [false, true] {
        for dedupe in [false, true] {
            for exclude in [false, true] {
                let clean = Clean {
                    strip_bom: true,
                    trim_ids: trim,
                    dedupe,
                    exclude_invalid: exclude.then(|| dir.path().join("invalid.csv")),
                    max_order_items: Some(10),
                };
                let planned = plan(&input, &m, &clean, None).unwrap();
                let out = dir.path().join("out.csv");
                let done = convert_path(&input, &m, &clean, &out, None).unwrap();
                // the same options, deduplicating: the duplicates a plan counts
                let deduped = convert_path(
                    &input,
                    &m,
                    &Clean {
                        dedupe: true,
                        exclude_invalid: None,
                        ..clean.clone()
                    },
                    &dir.path().join("dedupe.csv"),
                    None,
                )
                .unwrap();
                let what =
                    format!("grouped {grouped}, trim {trim}, dedupe {dedupe}, exclude {exclude}");
                assert_eq!(planned.rows_in, rows, "{what}");
                assert_eq!(planned.rows_out, done.rows_out, "{what}");
                assert_eq!(planned.bytes_out, done.bytes_out, "{what}");
                assert_eq!(
                    done.bytes_out,
                    std::fs::metadata(&out).unwrap().len(),
                    "{what}"
                );
                assert_eq!(planned.orders_dropped, done.orders_dropped, "{what}");
                assert_eq!(
                    planned.rows_in_dropped_orders, done.rows_in_dropped_orders,
                    "{what}"
                );
                assert_eq!(planned.invalid, done.invalid, "{what}");
                assert_eq!(planned.invalid_excluded, done.invalid_excluded, "{what}");
                assert_eq!(planned.duplicates, deduped.duplicates, "{what}");
                assert_eq!(
                    planned.duplicates_dropped, done.duplicates_dropped,
                    "{what}"
                );
                assert_eq!(planned.whitespace_rows, done.whitespace_rows, "{what}");
                // the file really has large orders with duplicates and invalid rows in them
                assert!(done.orders_dropped >= 6, "{what}: {done:?}");
                assert!(done.rows_in_dropped_orders > 200, "{what}: {done:?}");
                assert!(deduped.duplicates > 100, "{what}: {deduped:?}");
                assert!(done.invalid > 50, "{what}: {done:?}");
                checked_drops += done.orders_dropped;
                if exclude && dedupe {
                    // ground truth: the output without dedupe, first occurrences kept
                    let all = dir.path().join("all.csv");
                    convert_path(
                        &input,
                        &m,
                        &Clean {
                            dedupe: false,
                            ..clean.clone()
                        },
                        &all,
                        None,
                    )
                    .unwrap();
                    let mut seen = std::collections::HashSet::new();
                    let want: Vec<String> = read_lines(&all)
                        .into_iter()
                        .filter(|l| seen.insert(l.clone()))
                        .collect();
                    assert_eq!(read_lines(&out), want, "{what}");
                    assert_eq!(
                        done.duplicates_dropped,
                        read_lines(&all).len() as u64 - want.len() as u64,
                        "{what}"
                    );
                }
            }
        }
    }
    assert!(checked_drops >= 48);
}

#[test]
fn json_lines_convert() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.json");
    std::fs::write(
        &input,
        "{\"basket\":\"b1\",\"sku\":\"A1\",\"customer\":7,\"ts\":\"2023-04-22T15:04:30+02:00\"}\n\
         \n\
         {\"basket\":\"b1\",\"sku\":\"A2\",\"customer\":null,\"ts\":\"2023-04-22T15:04:31Z\"}\n\
         {\"basket\":\"b2\",\"sku\":[1],\"customer\":\"c\"}\n\
         not json\n\
         {\"basket\":\"b3\",\"sku\":\"A3\"}\n",
    )
    .unwrap();
    let m = Mapping {
        delimiter: ',',
        header: false,
        order_id: Source::Key("basket".into()),
        identity: Source::Key("sku".into()),
        user_id: Some(Source::Key("customer".into())),
        created_at: Some(Source::Key("ts".into())),
        time_format: Some("iso8601".into()),
        time_zone: None,
        encoding: None,
        items: None,
    };
    let side = dir.path().join("bad.csv");
    let clean = Clean {
        exclude_invalid: Some(side.clone()),
        ..Clean::default()
    };
    let out = dir.path().join("out.csv");
    let s = convert_path(&input, &m, &clean, &out, None).unwrap();
    assert_eq!(s.rows_in, 5);
    assert_eq!(s.invalid, 2);
    assert_eq!(
        read_lines(&out),
        [
            "b1,A1,7,2023-04-22 13:04:30",
            // the customer of basket b1's first line, carried down
            "b1,A2,7,2023-04-22 15:04:31",
            "b3,A3"
        ]
    );
    let bad = read_lines(&side);
    assert_eq!(bad.len(), 3);
    assert!(bad[1].starts_with("4,identity (sku) is an array or object"));
    assert!(bad[2].starts_with("5,the line is not a JSON object"));
}

#[test]
fn cancellation_leaves_no_output_and_input_is_protected() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let mut text = String::new();
    for i in 0..50_000 {
        text.push_str(&format!("{},/p/{}\n", i / 2, i));
    }
    std::fs::write(&input, &text).unwrap();
    let m = Mapping::documented(2);
    let out = dir.path().join("out.csv");
    let p = Progress::new();
    p.cancel();
    let r = convert_path(&input, &m, &Clean::default(), &out, Some(&p));
    assert!(matches!(r, Err(MappingError::Cancelled)));
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // progress counters reach the end on a normal run
    let p = Progress::new();
    let s = convert_path(&input, &m, &Clean::default(), &out, Some(&p)).unwrap();
    assert_eq!(s.rows_out, 50_000);
    assert_eq!(p.rows(), 50_000);
    assert_eq!(p.bytes_read(), text.len() as u64);
    assert_eq!(p.total_bytes(), text.len() as u64);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
    // never onto the input
    let r = convert_path(&input, &m, &Clean::default(), &input, None);
    assert!(matches!(r, Err(MappingError::Invalid(_))));
    assert_eq!(std::fs::read_to_string(&input).unwrap(), text);
}

#[test]
fn preview_matches_conversion() {
    let sample = vec![
        vec![
            "22/04/2023 15:04".to_string(),
            "000123".into(),
            "/p/1".into(),
        ],
        vec![
            "31/03/2024 02:30".to_string(),
            "000123".into(),
            "/p/2".into(),
        ],
        vec!["xx".to_string(), "000124".into(), "/p/3".into()],
    ];
    let m = Mapping {
        delimiter: ';',
        header: true,
        order_id: Source::Column(1),
        identity: Source::Column(2),
        user_id: None,
        created_at: Some(Source::Column(0)),
        time_format: Some("%d/%m/%Y %H:%M".into()),
        time_zone: Some("Europe/Bratislava".into()),
        encoding: None,
        items: None,
    };
    let p = preview(&sample, &m, 2);
    assert_eq!(p.len(), 2);
    assert_eq!(
        p[0].clone().unwrap(),
        [
            "000123".to_string(),
            "/p/1".into(),
            String::new(),
            "2023-04-22 13:04:00".into()
        ]
    );
    assert_eq!(p[1].clone().unwrap()[3], "2024-03-31 01:30:00");
    let p = preview(&sample, &m, 10);
    assert!(p[2].clone().unwrap_err().contains("\"xx\""));
}

#[test]
fn placeholder_ids_are_read_as_absent() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(
        &input,
        "2024-01-01 10:00:00;1;/p/1;0\n\
         2024-01-01 10:00:00;1;/p/2;NULL\n\
         2024-01-01 11:00:00;2;/p/3;Guest\n\
         2024-01-01 12:00:00;3;N/A;u7\n\
         2024-01-01 13:00:00;4;/p/4; u8\n",
    )
    .unwrap();
    let out = dir.path().join("out.csv");
    let m = mapping(';', false, "iso8601", "UTC");
    let s = convert_path(&input, &m, &Clean::default(), &out, None).unwrap();
    assert_eq!(
        s.placeholders, 4,
        "0, NULL, Guest as users; N/A as identity"
    );
    assert_eq!(
        s.invalid, 1,
        "a row whose identity is a placeholder has none"
    );
    let lines = read_lines(&out);
    assert_eq!(lines[0], "1,/p/1,,2024-01-01 10:00:00");
    assert_eq!(lines[1], "1,/p/2,,2024-01-01 10:00:00");
    assert_eq!(lines[2], "2,/p/3,,2024-01-01 11:00:00");
}
