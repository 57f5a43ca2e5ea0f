//! `lbimport normalize` end to end, saved mappings and the shared mapping flags.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lbimport::config::mappings as saved;
use lbimport::config::{Config, ConfigStore, KeySource, Tracker};
use lbimport::mapping::detect::detect_path;
use lbimport::pipeline::prepare::{Options as MappingArgs, prepare};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("cfg")).unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        Env { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn cfg(&self) -> PathBuf {
        self.path("cfg")
    }
    fn data(&self) -> PathBuf {
        self.path("data")
    }
    fn run(&self, args: &[&str]) -> (Output, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_lbimport"))
            .args(args)
            .env("LBIMPORT_CONFIG_DIR", self.cfg())
            .env("LBIMPORT_DATA_DIR", self.data())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out, text)
    }
    fn add_tracker(&self) {
        let store = ConfigStore::at(self.cfg());
        let cfg = Config {
            theme: None,
            trackers: vec![Tracker::new(
                "shop",
                "1292-9381",
                KeySource::Env("LB_KEY".into()),
            )],
        };
        store.save(&cfg).unwrap();
    }
}

const EXPORT: &str = "\u{feff}Datum;Order ID;Customer;SKU;Price\n\
22/04/2023 15:04;000123;77;/p/123;12,50\n\
22/04/2023 15:04;000123;77;/p/234;3,00\n\
01/03/2023 09:00;000124;;/p/123;12,50\n\
13/07/2023 10:30;000125;78;/p/9;1,00\n\
13/07/2023 10:30;000125;78;/p/9;1,00\n";

const EXPECTED: &str = "000123,/p/123,77,2023-04-22 13:04:00\n\
000123,/p/234,77,2023-04-22 13:04:00\n\
000124,/p/123,,2023-03-01 08:00:00\n\
000125,/p/9,78,2023-07-13 08:30:00\n";

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn normalize_end_to_end() {
    let env = Env::new();
    let input = env.path("export.csv");
    std::fs::write(&input, EXPORT).unwrap();
    let out = env.path("out.csv");
    let (o, text) = env.run(&[
        "normalize",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--time-zone",
        "Europe/Bratislava",
        "--dedupe",
        "--no-validate",
    ]);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("delimiter:  ';'    header row: yes"),
        "{text}"
    );
    assert!(
        text.contains(
            "A   \"Datum\" e.g. \"22/04/2023 15:04\": created_at 95% [%d/%m/%Y %H:%M] — header \"Datum\""
        ),
        "{text}"
    );
    assert!(
        text.contains("B   \"Order ID\" e.g. \"000123\": order 95%"),
        "{text}"
    );
    assert!(text.contains("dates:      day first"), "{text}");
    assert!(
        text.contains(
            "mapping:    order=B identity=D user=C created_at=A (%d/%m/%Y %H:%M, Europe/Bratislava), header skipped"
        ),
        "{text}"
    );
    assert!(text.contains("rows read:  5"), "{text}");
    assert!(text.contains("rows written: 4"), "{text}");
    assert!(
        text.contains("duplicates: 1 exact duplicate rows, 1 dropped"),
        "{text}"
    );
    assert!(text.contains("BOM:        stripped"), "{text}");
    assert!(
        text.contains(&format!("output:     {}", out.display())),
        "{text}"
    );
    assert_eq!(read(&out), EXPECTED);
    assert_eq!(read(&input), EXPORT);
}

#[test]
fn dry_run_writes_nothing() {
    let env = Env::new();
    let input = env.path("export.csv");
    std::fs::write(&input, EXPORT).unwrap();
    let out = env.path("out.csv");
    let (o, text) = env.run(&[
        "normalize",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--dry-run",
        "--dedupe",
        "--max-order-items",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("dry run:    nothing written"), "{text}");
    assert!(text.contains("rows would be written: 2"), "{text}");
    assert!(
        text.contains("large orders: 1 orders (2 rows) would be dropped"),
        "{text}"
    );
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(env.data()).unwrap().count(), 0);
}

#[test]
fn explicit_columns_format_zone_and_excluded_rows() {
    let env = Env::new();
    let input = env.path("raw.txt");
    std::fs::write(
        &input,
        "04/22/2023 15:04|/p/1|u1|A\n04/22/2023 15:05|/p/2|u1|A\nbad|/p/3|u2|B\n",
    )
    .unwrap();
    let out = env.path("sub/out.csv");
    let side = env.path("invalid.csv");
    let (o, text) = env.run(&[
        "normalize",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--delimiter",
        "|",
        "--no-header",
        "--columns",
        "order=D,identity=B,user=C,created_at=A",
        "--time-format",
        "%m/%d/%Y %H:%M",
        "--time-zone",
        "-04:00",
        "--exclude-invalid",
        side.to_str().unwrap(),
        "--no-validate",
    ]);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("invalid:    1 rows, 1 excluded"), "{text}");
    assert_eq!(
        read(&out),
        "A,/p/1,u1,2023-04-22 19:04:00\nA,/p/2,u1,2023-04-22 19:05:00\n"
    );
    let s = read(&side);
    assert!(
        s.starts_with("line,reason,record\n3,\"created_at \"\"bad\"\" (A) doesn't match"),
        "{s}"
    );
    // a bare --exclude-invalid writes beside the output
    let out2 = env.path("out2.csv");
    let (o, text) = env.run(&[
        "normalize",
        input.to_str().unwrap(),
        "-o",
        out2.to_str().unwrap(),
        "--delimiter",
        "|",
        "--columns",
        "order=D,identity=B,user=-,created_at=A",
        "--time-format",
        "%m/%d/%Y %H:%M",
        "--exclude-invalid",
        "--no-validate",
    ]);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(env.path("out2.invalid.csv").exists(), "{text}");
    assert_eq!(
        read(&out2),
        "A,/p/1,,2023-04-22 15:04:00\nA,/p/2,,2023-04-22 15:05:00\n"
    );
}

#[test]
fn usage_errors() {
    let env = Env::new();
    let input = env.path("export.csv");
    std::fs::write(&input, EXPORT).unwrap();
    let (o, text) = env.run(&[
        "normalize",
        input.to_str().unwrap(),
        "-o",
        input.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("must not be the input"), "{text}");
    assert_eq!(read(&input), EXPORT);
    let (o, text) = env.run(&["normalize", "export.csv", "--time-zone", "Mars/Base"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text.contains("unknown time zone"), "{text}");
    let (o, text) = env.run(&["normalize", "export.csv", "--columns", "order=B,identity=B"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text.contains("B feeds both order id and identity"),
        "{text}"
    );
    let (o, text) = env.run(&[
        "normalize",
        "export.csv",
        "--columns",
        "identity=sku,order=Z",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text.contains(
            "column Z doesn't exist (the file has 5 columns: Datum, Order ID, Customer, SKU, Price)"
        ),
        "{text}"
    );
    let (o, text) = env.run(&["normalize", "export.csv", "--save-mapping", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text.contains("--save-mapping needs --tracker"), "{text}");
    let (o, _) = env.run(&["normalize", "missing.csv"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn saved_mapping_is_reapplied() {
    let env = Env::new();
    env.add_tracker();
    // headerless with an undecidable date: the user says how to read it and saves that
    let first = env.path("jan.csv");
    std::fs::write(
        &first,
        "01/02/2023 10:00;5;/p/1\n01/02/2023 10:00;5;/p/2\n03/04/2023 11:00;6;/p/3\n",
    )
    .unwrap();
    let out1 = env.path("jan.out.csv");
    let (o, text) = env.run(&[
        "normalize",
        first.to_str().unwrap(),
        "-o",
        out1.to_str().unwrap(),
        "--columns",
        "order=B,identity=C,created_at=A",
        "--time-format",
        "%m/%d/%Y %H:%M",
        "--time-zone",
        "America/New_York",
        "--tracker",
        "shop",
        "--save-mapping",
        "monthly",
        "--no-validate",
    ]);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("saved:      mapping saved for tracker \"shop\""),
        "{text}"
    );
    assert_eq!(
        read(&out1),
        "5,/p/1,,2023-01-02 15:00:00\n5,/p/2,,2023-01-02 15:00:00\n6,/p/3,,2023-03-04 16:00:00\n"
    );
    let loaded = ConfigStore::at(env.cfg()).load().unwrap().config;
    let t = loaded.tracker("shop").unwrap();
    assert_eq!(t.mappings.len(), 1);
    assert_eq!(t.mappings[0].name(), Some("monthly"));
    assert_eq!(t.mappings[0].shape_key(), "csv;semicolon;3;");
    assert_eq!(
        t.mappings[0].mapping.time_zone.as_deref(),
        Some("America/New_York")
    );

    // next month's file, same shape, no flags: applied automatically with a notice
    let second = env.path("feb.csv");
    std::fs::write(
        &second,
        "02/03/2023 10:00;7;/p/4\n02/03/2023 10:00;7;/p/5\n",
    )
    .unwrap();
    let out2 = env.path("feb.out.csv");
    let (o, text) = env.run(&[
        "normalize",
        second.to_str().unwrap(),
        "-o",
        out2.to_str().unwrap(),
        "--tracker",
        "shop",
        "--no-validate",
    ]);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("notice:     using the mapping saved for tracker \"shop\" (monthly)"),
        "{text}"
    );
    assert_eq!(
        read(&out2),
        "7,/p/4,,2023-02-03 15:00:00\n7,/p/5,,2023-02-03 15:00:00\n"
    );
    // by name
    let (o, text) = env.run(&[
        "normalize",
        second.to_str().unwrap(),
        "-o",
        out2.to_str().unwrap(),
        "--tracker",
        "shop",
        "--mapping",
        "monthly",
        "--no-validate",
    ]);
    assert_eq!(o.status.code(), Some(0), "{text}");
    let (o, text) = env.run(&[
        "normalize",
        second.to_str().unwrap(),
        "--tracker",
        "shop",
        "--mapping",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("no saved mapping named \"nope\""), "{text}");

    // the library API gives the same answers
    let d = detect_path(&second).unwrap();
    let found = saved::find_by_shape(t, &d.shape).unwrap();
    assert_eq!(found.mapping.order_id, lbimport::mapping::Source::Column(1));
    // saving again for the same shape replaces it
    let store = ConfigStore::at(env.cfg());
    let replaced = saved::save(&store, "shop", &d.shape, None, found.mapping.clone()).unwrap();
    assert!(replaced);
    assert_eq!(store.load().unwrap().config.trackers[0].mappings.len(), 1);
}

#[test]
fn split_size_splits_at_order_boundaries() {
    let env = Env::new();
    let input = env.path("many.csv");
    let mut text = String::from("order,sku\n");
    for i in 0..3000 {
        text.push_str(&format!("{},SKU-{}\n", (i * 7919) % 500, i));
    }
    std::fs::write(&input, &text).unwrap();
    let out = env.path("parts/many.csv");
    let (o, text) = env.run(&[
        "normalize",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--split-size",
        "8KiB",
        "--no-validate",
    ]);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(!out.exists());
    let part1 = env.path("parts/many.part-001.csv");
    assert!(part1.exists(), "{text}");
    assert!(text.contains("split:      "), "{text}");
    let mut owner = std::collections::HashMap::new();
    let mut rows = 0;
    for e in std::fs::read_dir(env.path("parts")).unwrap() {
        let p = e.unwrap().path();
        assert!(std::fs::metadata(&p).unwrap().len() <= 8192);
        for line in read(&p).lines() {
            rows += 1;
            let order = line.split(',').next().unwrap().to_string();
            let prev = owner.insert(order, p.clone());
            assert!(prev.is_none_or(|q| q == p));
        }
    }
    assert_eq!(rows, 3000);
}

#[test]
fn prepare_passes_files_through_without_flags() {
    let env = Env::new();
    // (converting through `prepare` writes into the data dir, which this process can't
    // redirect without touching its own environment; the CLI tests above cover conversion)
    let fitting = env.path("ok.csv");
    std::fs::write(&fitting, "1,/p/1\n1,/p/2\n").unwrap();
    let p = prepare(&fitting, &MappingArgs::default()).unwrap();
    assert_eq!(p.path_to_use, fitting);
    assert!(!p.temp);
    assert!(p.summary.is_none());
}

#[test]
fn normalize_output_validates_with_verdict_ok_or_warnings_and_no_errors() {
    let env = Env::new();
    let input = env.path("export.csv");
    std::fs::write(&input, EXPORT).unwrap();
    let out = env.path("out.csv");
    let (o, text) = env.run(&[
        "normalize",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--time-zone",
        "Europe/Bratislava",
        "--dedupe",
    ]);
    assert_eq!(o.status.code(), Some(0), "{text}");
    // a handful of rows: few co-purchases is the only remark
    assert!(
        text.contains("validation: warnings — 4 rows, 3 orders, 0 error(s)"),
        "{text}"
    );
    assert!(text.contains("warning  few_co_purchases"), "{text}");
    assert!(!text.contains("error    "), "{text}");
    // the validator's own report on the output agrees
    let rep =
        lbimport::validate::validate_path(&out, &lbimport::validate::Options::default(), None)
            .unwrap();
    assert_eq!(rep.verdict, lbimport::validate::Verdict::Warnings);
    assert_eq!(rep.error_count(), 0);
    assert_eq!(rep.stats.rows, 4);
    assert_eq!(rep.stats.rows_with_timestamp, 4);
    assert_eq!(
        rep.stats.first_purchase.as_deref(),
        Some("2023-03-01 08:00:00")
    );
}

#[test]
fn invalid_rows_kept_make_the_output_fail_validation() {
    let env = Env::new();
    let input = env.path("export.csv");
    std::fs::write(
        &input,
        "order;sku;date
1;/p/1;22/04/2023 10:00
1;/p/2;someday
",
    )
    .unwrap();
    let out = env.path("out.csv");
    let (o, text) = env.run(&[
        "normalize",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains("invalid:    1 rows (kept unchanged"),
        "{text}"
    );
    assert!(text.contains("validation: errors — 2 rows"), "{text}");
    assert!(text.contains("timestamp_format"), "{text}");
    // excluding them gives a clean file
    let (o, text) = env.run(&[
        "normalize",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--exclude-invalid",
    ]);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("validation: warnings — 1 rows, 1 orders, 0 error(s)"),
        "{text}"
    );
}

/// `normalize` of a file `name` holding `text` (with `flags`) exits 3 saying `why` (with
/// `--dry-run` too, when `dry_run`), and 0 with `--force`; the forced run's output.
fn exits_3_until_forced(
    env: &Env,
    name: &str,
    text: &str,
    flags: &[&str],
    why: &str,
    dry_run: bool,
) -> String {
    let input = env.path(name);
    std::fs::write(&input, text).unwrap();
    let out = env.path("out.csv");
    let args = [
        &[
            "normalize",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ][..],
        flags,
    ]
    .concat();
    let mut runs = vec![args.clone()];
    if dry_run {
        runs.insert(0, [&args[..], &["--dry-run"]].concat());
    }
    for run in &runs {
        let (o, text) = env.run(run);
        assert_eq!(o.status.code(), Some(3), "{run:?}: {text}");
        assert!(text.contains(why), "{run:?}: {text}");
    }
    let (o, text) = env.run(&[&args[..], &["--force"]].concat());
    assert_eq!(o.status.code(), Some(0), "{text}");
    text
}

#[test]
fn an_implausible_mapping_exits_3_unless_forced() {
    // 200 rows; the created_at column of 12 rows in 100 is garbage
    let mut s = String::from("order;sku;date\n");
    for i in 0..200u32 {
        let date = if i % 100 < 12 {
            "soon".to_string()
        } else {
            format!("2024-03-{:02} 10:00:00", 1 + i % 28)
        };
        s.push_str(&format!("{};/p/{};{date}\n", i / 2, i % 37));
    }
    let text = exits_3_until_forced(
        &Env::new(),
        "export.csv",
        &s,
        &["--exclude-invalid"],
        "implausible: 24 of 200 rows (12.0 %) are invalid",
        true,
    );
    assert!(text.contains("accepted (--force)"), "{text}");
}

#[test]
fn one_customer_on_a_fifth_of_the_orders_is_implausible() {
    // 300 orders of two lines; the point-of-sale account "STORE-01" is on every third
    let mut s = String::from("order,sku,customer,date\n");
    for o in 0..300u32 {
        let customer = if o % 3 == 0 {
            "STORE-01".to_string()
        } else {
            format!("c{o}")
        };
        for k in 0..2 {
            s.push_str(&format!(
                "{o},/p/{},{customer},2024-03-{:02} 10:00:00\n",
                (o + k) % 40,
                1 + o % 28
            ));
        }
    }
    exits_3_until_forced(
        &Env::new(),
        "pos.csv",
        &s,
        &[],
        "implausible: user id: one user id is on 100 of 300 orders (33.3 %",
        false,
    );
}

fn utf16le_with_bom(s: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    for u in s.encode_utf16() {
        v.extend_from_slice(&u.to_le_bytes());
    }
    v
}

/// Excel's "Unicode Text": UTF-16LE with a BOM, tab-separated, CRLF, Slovak header names.
#[test]
fn excel_unicode_text_is_read_and_written_as_utf8() {
    let env = Env::new();
    let input = env.path("export.txt");
    let text = "Číslo objednávky\tKód produktu\tZákazník\tDátum\r\n\
                1001\tSKU-Č1\tJán\t2024-03-01 10:00:00\r\n\
                1001\tSKU-Ž2\tJán\t2024-03-01 10:00:00\r\n\
                1002\tSKU-Č1\tŽofia\t2024-03-02 11:30:00\r\n";
    std::fs::write(&input, utf16le_with_bom(text)).unwrap();
    let out = env.path("out.csv");
    let (o, t) = env.run(&[
        "normalize",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--columns",
        "order=Číslo objednávky,identity=Kód produktu,user=Zákazník,created_at=Dátum",
    ]);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("utf-16le (BOM)"), "{t}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "1001,SKU-Č1,Ján,2024-03-01 10:00:00\n\
         1001,SKU-Ž2,Ján,2024-03-01 10:00:00\n\
         1002,SKU-Č1,Žofia,2024-03-02 11:30:00\n"
    );
}

/// A Windows-1250 export with `;` and `d.m.Y H:i` local times: detected with no flags but
/// the shop's zone.
#[test]
fn windows_1250_semicolons_and_day_first_dates() {
    let env = Env::new();
    let input = env.path("objednavky.csv");
    let mut text = String::from("Objednávka;Produkt;Zákazník;Dátum\r\n");
    for (o, day) in [(501, 1), (502, 13), (503, 14)] {
        for (k, p) in ["/p/čaj", "/p/šálka"].iter().enumerate() {
            text.push_str(&format!(
                "{o};{p};zákazník{};{day}.3.2024 1{k}:05\r\n",
                o % 2
            ));
        }
    }
    let (bytes, _, _) = encoding_rs::WINDOWS_1250.encode(&text);
    std::fs::write(&input, &bytes).unwrap();
    let out = env.path("out.csv");
    let (o, t) = env.run(&[
        "normalize",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--time-zone",
        "Europe/Bratislava",
    ]);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("(guessed)"), "{t}");
    let got = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        got.lines().collect::<Vec<_>>(),
        [
            "501,/p/čaj,zákazník1,2024-03-01 09:05:00",
            "501,/p/šálka,zákazník1,2024-03-01 10:05:00",
            "502,/p/čaj,zákazník0,2024-03-13 09:05:00",
            "502,/p/šálka,zákazník0,2024-03-13 10:05:00",
            "503,/p/čaj,zákazník1,2024-03-14 09:05:00",
            "503,/p/šálka,zákazník1,2024-03-14 10:05:00",
        ],
        "{t}"
    );
}

/// The shop's time zone saved with its tracker reads the naive local times of its exports.
#[test]
fn a_trackers_time_zone_reads_naive_local_times() {
    let env = Env::new();
    let (o, t) = env.run(&[
        "tracker",
        "add",
        "shop",
        "--tracker-id",
        "1292-9381",
        "--private-key-env",
        "LB_KEY",
        "--time-zone",
        "Europe/Bratislava",
    ]);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let (_, t) = env.run(&["tracker", "show", "shop"]);
    assert!(t.contains("time zone:    Europe/Bratislava"), "{t}");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports");
    let out = env.path("out.csv");
    let (o, t) = env.run(&[
        "normalize",
        fixtures
            .join("woocommerce_order_export.csv")
            .to_str()
            .unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--tracker",
        "shop",
    ]);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("read in Europe/Bratislava, the time zone of tracker \"shop\""),
        "{t}"
    );
    assert_eq!(
        read(&out),
        read(&fixtures.join("woocommerce_order_export.expected.csv"))
    );
    // a bad zone is refused when saved
    let (o, t) = env.run(&["tracker", "edit", "shop", "--time-zone", "Mars/Olympus"]);
    assert_eq!(o.status.code(), Some(2), "{t}");
}

#[test]
fn a_time_format_without_a_created_at_column_is_an_error() {
    let env = Env::new();
    let input = env.path("two.csv");
    std::fs::write(&input, "1,/p/1\n1,/p/2\n").unwrap();
    let (o, t) = env.run(&[
        "normalize",
        input.to_str().unwrap(),
        "--dry-run",
        "--time-format",
        "%d/%m/%Y",
    ]);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("--time-format applies to a created_at column"),
        "{t}"
    );
}

#[test]
fn messages_say_how_to_fix_things() {
    let env = Env::new();
    // a header name used in --columns while the header is read as data
    let input = env.path("h.csv");
    std::fs::write(&input, "Basket,Sku\n1,/p/1\n1,/p/2\n").unwrap();
    let (o, t) = env.run(&[
        "normalize",
        input.to_str().unwrap(),
        "--dry-run",
        "--no-header",
        "--columns",
        "order=Basket,identity=Sku",
    ]);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("add --header"), "{t}");
    assert!(t.contains("columns:"), "the detection table is shown: {t}");
    // an undecided day/month order suggests the other order with the file's separators
    let input = env.path("d.csv");
    std::fs::write(
        &input,
        "1;/p/1;u1;01.02.2024 10:00\n1;/p/2;u1;01.02.2024 10:00\n2;/p/3;u2;02.03.2024 11:00\n",
    )
    .unwrap();
    let (_, t) = env.run(&["normalize", input.to_str().unwrap(), "--dry-run"]);
    assert!(
        t.contains("set --time-format '%m.%d.%Y %H:%M' if not"),
        "{t}"
    );
}
