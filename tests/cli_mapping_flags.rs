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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let cfg = server::Config::new(TRACKER, PrivateKey::new(KEY), dir.path().join("store"));
    let srv = rt.block_on(server::start(cfg)).expect("sandbox");
    let store = ConfigStore::at(dir.path().join("config"));
    let mut t = Tracker::new("shop", TRACKER, KeySource::Env("LB_FLAGS_KEY".into()));
    t.base_url = srv.base_url.clone();
    let mut config = lbimport::config::Config::default();
    config.trackers.push(t);
    store.save(&config).expect("save config");

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
