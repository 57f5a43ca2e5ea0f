//! `validate` and `upload` take the same mapping flags as `normalize`: the file is converted
//! into the data dir first, the converted file is validated and sent, the original is untouched.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use lbimport::config::{ConfigStore, KeySource, PrivateKey, Tracker};
use lbimport::server;

const TRACKER: &str = "4321-8765";
const KEY: &str = "mapping-flags-test-key-91c2";

/// A shop export: header, semicolons, d/m/Y local times, an extra price column.
const EXPORT: &str = "\u{feff}Datum;Objednavka;Zakaznik;SKU;Cena\n\
22/04/2023 15:04;00017;c1;/p/1;10,5\n\
22/04/2023 15:04;00017;c1;/p/2;3\n\
23/04/2023 09:00;00018;;/p/3;7\n";

/// The documented CSV that export becomes with `--time-zone Europe/Bratislava` (UTC+2 in April).
const CONVERTED: &str = "00017,/p/1,c1,2023-04-22 13:04:00\n\
00017,/p/2,c1,2023-04-22 13:04:00\n\
00018,/p/3,,2023-04-23 07:00:00\n";

const MAPPING: [&str; 8] = [
    "--delimiter",
    ";",
    "--header",
    "--columns",
    "order=B,identity=D,user=C,created_at=A",
    "--time-format",
    "%d/%m/%Y %H:%M",
    "--time-zone=Europe/Bratislava",
];

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lbimport"))
        .args(args)
        .env("LBIMPORT_CONFIG_DIR", dir.join("config"))
        .env("LBIMPORT_DATA_DIR", dir.join("data"))
        .env("LB_FLAGS_KEY", KEY)
        .stdin(Stdio::null())
        .output()
        .expect("run lbimport")
}

/// A sandbox on 127.0.0.1 (on its own runtime, which must live as long as it) and a tracker
/// "shop" for it in `dir`/config, its key from `LB_FLAGS_KEY`.
fn sandbox(dir: &Path) -> (tokio::runtime::Runtime, server::Running) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let cfg = server::Config::new(TRACKER, PrivateKey::new(KEY), dir.join("store"));
    let srv = rt.block_on(server::start(cfg)).expect("sandbox");
    let store = ConfigStore::at(dir.join("config"));
    let mut t = Tracker::new("shop", TRACKER, KeySource::Env("LB_FLAGS_KEY".into()));
    t.base_url = srv.base_url.clone();
    let mut config = lbimport::config::Config::default();
    config.trackers.push(t);
    store.save(&config).expect("save config");
    (rt, srv)
}

#[test]
fn validate_with_mapping_flags_validates_the_converted_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("export.csv");
    std::fs::write(&input, EXPORT).expect("write");

    // As is, the export is rejected (header row, wrong field count…).
    let plain = run(dir.path(), &["validate", input.to_str().unwrap(), "--json"]);
    assert_eq!(plain.status.code(), Some(1));

    let mut args = vec!["validate", input.to_str().unwrap(), "--json"];
    args.extend(MAPPING);
    let out = run(dir.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.contains("validating the converted file"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["stats"]["rows"], 3);
    assert_eq!(report["stats"]["orders"], 2);
    assert_eq!(report["stats"]["pairs"], 1);
    assert_eq!(report["stats"]["first_purchase"], "2023-04-22 13:04:00");
    let converted = report["file"]["path"].as_str().expect("path");
    assert!(converted.starts_with(dir.path().join("data").to_str().unwrap()));
    assert_eq!(std::fs::read_to_string(converted).expect("read"), CONVERTED);
    // The user's file is never modified.
    assert_eq!(std::fs::read_to_string(&input).expect("read"), EXPORT);
}

#[test]
fn upload_with_mapping_flags_sends_the_converted_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_rt, srv) = sandbox(dir.path());

    let input = dir.path().join("export.csv");
    std::fs::write(&input, EXPORT).expect("write");
    let mut args = vec![
        "upload",
        input.to_str().unwrap(),
        "--tracker",
        "shop",
        "--yes",
        "--save-mapping",
        "shop-export",
    ];
    args.extend(MAPPING);
    let out = run(dir.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.contains("sending the converted file"), "{stderr}");
    let received = srv.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].status, 200);
    assert_eq!(received[0].filename, "export.csv");
    assert_eq!(received[0].bytes, CONVERTED.len() as u64);
    let stored = received[0].path.as_ref().expect("stored");
    assert_eq!(std::fs::read_to_string(stored).expect("read"), CONVERTED);

    // The mapping was saved for the tracker: the next export of the same shape needs no flags.
    let next = dir.path().join("export2.csv");
    std::fs::write(&next, EXPORT.replace("00017", "00019")).expect("write");
    let out = run(
        dir.path(),
        &[
            "validate",
            next.to_str().unwrap(),
            "--tracker",
            "shop",
            "--json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["stats"]["orders"], 2);
    assert_eq!(report["stats"]["rows"], 3);
}

/// 60 orders of 3 rows each, every order's rows scattered over the file (all first items,
/// then all second items, then all third); converted, each row is 35 bytes, each order 105.
fn scattered_export() -> String {
    let mut s = String::from("Datum;Objednavka;Zakaznik;SKU;Cena\n");
    for item in 0..3 {
        for order in 0..60 {
            s.push_str(&format!(
                "22/04/2023 15:04;{:05};c{};/p/{}{};1\n",
                100 + order,
                order % 10,
                item + 1,
                order % 10
            ));
        }
    }
    s
}

/// Order ids per part file, and each part's size in bytes.
fn part_orders(parts: &[std::path::PathBuf]) -> Vec<(std::collections::BTreeSet<String>, usize)> {
    parts
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("read part");
            let orders = text
                .lines()
                .map(|l| l.split(',').next().unwrap_or("").to_string())
                .collect();
            (orders, text.lines().count())
        })
        .collect()
}

/// A converted file over the part limit (`--part-bytes`, hidden; 1 GiB by default) is split
/// at order boundaries into parts that `validate` checks one by one, naming each part and its
/// verdict; `normalize --split-size` splits the same way; `upload` refuses, lists the parts
/// and sends nothing.
#[test]
fn a_converted_file_over_the_part_limit_is_split_validated_per_part_and_not_uploaded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("export.csv");
    let export = scattered_export();
    std::fs::write(&input, &export).expect("write");
    let converted = dir.path().join("data").join("converted");
    let parts: Vec<std::path::PathBuf> = (1..=6)
        .map(|n| converted.join(format!("export.part-{n:03}.csv")))
        .collect();
    let check_parts = |parts: &[std::path::PathBuf]| {
        let got = part_orders(parts);
        let mut all = std::collections::BTreeSet::new();
        for (i, (orders, rows)) in got.iter().enumerate() {
            // next fit in first-seen order: ten whole orders (1,050 bytes) per part
            assert_eq!(orders.len(), 10, "part {}: {orders:?}", i + 1);
            assert_eq!(*rows, 30, "part {}", i + 1);
            assert_eq!(std::fs::metadata(&parts[i]).expect("part").len(), 1050);
            let first = 100 + 10 * i;
            let want: std::collections::BTreeSet<String> =
                (first..first + 10).map(|o| format!("{o:05}")).collect();
            assert_eq!(orders, &want, "part {}", i + 1);
            // no order crosses parts
            assert!(all.is_disjoint(orders), "part {}", i + 1);
            all.extend(orders.iter().cloned());
        }
        assert_eq!(all.len(), 60);
    };

    // validate: six parts, each validated, named with its verdict
    let mut args = vec!["validate", input.to_str().unwrap(), "--part-bytes", "1050"];
    args.extend(MAPPING);
    let out = run(dir.path(), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "the converted file (6300 bytes) is over 1.05 kB: split into 6 parts at order boundaries"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("validating each of the 6 parts"),
        "{stderr}"
    );
    assert!(
        stdout.contains("Parts: 6 (split at order boundaries, each at most 1.05 kB)"),
        "{stdout}"
    );
    for (i, p) in parts.iter().enumerate() {
        let line = format!(
            "  part {}/6  WARNINGS  30 rows, 10 orders, 1,050 bytes  {}",
            i + 1,
            p.display()
        );
        assert!(stdout.contains(&line), "{line}\n{stdout}");
        assert_eq!(
            stdout
                .matches(&format!("Validation of {}", p.display()))
                .count(),
            1
        );
    }
    check_parts(&parts);
    // the JSON output: one report per part
    let mut args = vec![
        "validate",
        input.to_str().unwrap(),
        "--part-bytes",
        "1050",
        "--json",
    ];
    args.extend(MAPPING);
    let out = run(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let reports = reports.as_array().expect("an array of reports");
    assert_eq!(reports.len(), 6);
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r["file"]["path"], parts[i].to_str().unwrap());
        assert_eq!(r["verdict"], "warnings");
        assert_eq!(r["stats"]["rows"], 30);
        assert_eq!(r["stats"]["orders"], 10);
    }
    // under the limit: one file, no parts
    let mut args = vec!["validate", input.to_str().unwrap(), "--part-bytes", "6300"];
    args.extend(MAPPING);
    let out = run(dir.path(), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(!stdout.contains("Parts:"), "{stdout}");
    assert!(
        stdout.contains("60 (0 single-item, 60 multi-item)"),
        "{stdout}"
    );

    // normalize --split-size: the same six parts, each validated
    for p in &parts {
        std::fs::remove_file(p).expect("remove part");
    }
    let out_csv = converted.join("export.csv");
    let mut args = vec![
        "normalize",
        input.to_str().unwrap(),
        "-o",
        out_csv.to_str().unwrap(),
        "--split-size",
        "1050",
    ];
    args.extend(MAPPING);
    let out = run(dir.path(), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("split:      6 parts of at most 1050 bytes"),
        "{stdout}"
    );
    assert_eq!(
        stdout
            .matches("validation: warnings — 30 rows, 10 orders, 0 error(s)")
            .count(),
        6,
        "{stdout}"
    );
    check_parts(&parts);
    assert!(!out_csv.exists(), "the unsplit output is removed");

    // upload: the parts are validated and sent in order, each recorded in the history
    let (_rt, srv) = sandbox(dir.path());
    let mut args = vec![
        "upload",
        input.to_str().unwrap(),
        "--tracker",
        "shop",
        "--yes",
        "--part-bytes",
        "1050",
    ];
    args.extend(MAPPING);
    let out = run(dir.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stderr}{stdout}");
    assert!(
        stderr.contains("split at order boundaries into 6 parts"),
        "{stderr}"
    );
    assert!(
        stdout.contains("All 6 parts are in: 6 accepted now, 0 sent before."),
        "{stdout}"
    );
    let shas: Vec<String> = parts
        .iter()
        .map(|p| lbimport::config::sha256_file(p).expect("sha"))
        .collect();
    let got: Vec<String> = srv.received().iter().map(|r| r.sha256.clone()).collect();
    assert_eq!(got, shas, "the parts, in order");

    // again: every part was sent, nothing goes
    let out = run(dir.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("every part was already sent"), "{stderr}");
    assert_eq!(srv.uploads(), 6);

    // as if the first run had stopped after part 3: a re-run sends parts 4–6 only
    let hist = dir.path().join("data/history.jsonl");
    let kept: String = std::fs::read_to_string(&hist)
        .expect("history")
        .lines()
        .filter(|l| shas[..3].iter().any(|s| l.contains(s.as_str())))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&hist, kept).expect("history");
    // and without the sent-order records of parts 4–6 (the run never got to record them)
    let _ = std::fs::remove_dir_all(dir.path().join("data/sent"));
    let out = run(dir.path(), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("All 6 parts are in: 3 accepted now, 3 sent before."),
        "{stdout}"
    );
    let got: Vec<String> = srv.received()[6..]
        .iter()
        .map(|r| r.sha256.clone())
        .collect();
    assert_eq!(got, shas[3..].to_vec());
    check_parts(&parts);
    assert_eq!(std::fs::read_to_string(&input).expect("read"), export);
}
