//! Benchmark helper: record every order of FILE as sent to TRACKER_ID (as an accepted upload
//! would), in `$LBIMPORT_DATA_DIR`, without uploading it.
//!
//! `cargo run --release --example sent_record -- FILE TRACKER_ID`

use std::path::PathBuf;
use std::process::ExitCode;

use lbimport::config::{HistoryEntry, Outcome};
use lbimport::read::Format;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, tracker] = args.as_slice() else {
        eprintln!("usage: sent_record FILE TRACKER_ID");
        return ExitCode::from(2);
    };
    let entry = HistoryEntry {
        time: chrono::Utc::now(),
        tracker_name: tracker.clone(),
        tracker_id: tracker.clone(),
        base_url: "http://127.0.0.1".into(),
        file: PathBuf::from(file),
        bytes: 0,
        sha256: "0".repeat(64),
        format: Format::Csv,
        rows: None,
        orders: None,
        outcome: Outcome::Accepted,
        status: Some(200),
        duration_ms: 0,
        detail: None,
    };
    let t0 = std::time::Instant::now();
    match lbimport::cli::overlap::record(&entry, &PathBuf::from(file), Format::Csv) {
        Ok(n) => {
            eprintln!("recorded {n} orders in {:.2} s", t0.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
