//! The real `lbimport report` in a pseudo-terminal: open a saved report, drill into an issue,
//! quit cleanly; refuse to continue when the file changed; continue from a reviewed report to
//! an accepted sandbox upload without validating again.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::pty::Session;

fn lbimport(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lbimport"));
    c.current_dir(dir.join("files"))
        .env("LBIMPORT_CONFIG_DIR", dir.join("config"))
        .env("LBIMPORT_DATA_DIR", dir.join("data"));
    c
}

/// 300 two-item orders (600 rows) with one duplicated row, so there is an issue to drill into.
fn orders() -> String {
    let mut s = String::new();
    for o in 0..300u32 {
        for i in 0..2u32 {
            s.push_str(&format!(
                "{},/p/{},u{},2024-05-01 10:00:0{}\n",
                5000 + o,
                o % 40 + i * 41,
                o % 9,
                i
            ));
        }
    }
    s.push_str("5000,/p/0,u0,2024-05-01 10:00:00\n");
    s
}

/// A temp dir with files/orders.csv validated into files/orders.report.json.
fn prepared() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).expect("mkdir");
    std::fs::write(files.join("orders.csv"), orders()).expect("write");
    let o = lbimport(tmp.path())
        .args([
            "validate",
            "orders.csv",
            "--report-out",
            "orders.report.json",
        ])
        .output()
        .expect("validate");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (tmp, files.join("orders.report.json"))
}

#[test]
fn opens_a_saved_report_drills_into_an_issue_and_quits_cleanly() {
    let (tmp, _) = prepared();
    let mut s = Session::start_in(tmp.path(), &["report", "orders.report.json"], None);
    let screen = s.wait_for("unchanged (same size and sha256)");
    assert!(screen.contains("READY WITH WARNINGS"), "{screen}");
    assert!(screen.contains("601"), "rows counter missing:\n{screen}");
    assert!(screen.contains("duplicate_row"), "{screen}");
    // duplicate_row is the first issue: Enter shows where it occurs (line 601)
    s.send("\r");
    let screen = s.wait_for("Examples");
    assert!(screen.contains("line 601"), "{screen}");
    s.send("\x1b");
    std::thread::sleep(Duration::from_millis(300));
    assert!(!s.screen().contains("Examples"), "{}", s.screen());
    s.send("q");
    let st = s.wait_exit();
    assert!(st.success(), "{st:?}");
    s.assert_restored();
}

#[test]
fn a_changed_file_refuses_to_continue_and_says_why() {
    let (tmp, _) = prepared();
    let csv = tmp.path().join("files/orders.csv");
    let mut body = std::fs::read(&csv).expect("read");
    // same size, one byte different
    let at = body.iter().position(|b| *b == b'u').expect("a u");
    body[at] = b'v';
    std::fs::write(&csv, &body).expect("write");
    let mut s = Session::start_in(tmp.path(), &["report", "orders.report.json"], None);
    s.wait_for("same size, different sha256");
    s.send("c");
    let screen = s.wait_for("cannot continue");
    assert!(
        screen.contains(
            "cannot continue: the file changed since it was validated (same size, different sha256)"
        ),
        "{screen}"
    );
    assert!(
        screen.contains("[Report]"),
        "still in the viewer:\n{screen}"
    );
    s.send("q");
    assert!(s.wait_exit().success());
    s.assert_restored();
}

#[test]
fn an_unchanged_file_continues_to_confirm_and_uploads_to_the_sandbox() {
    let (tmp, _) = prepared();
    let mut s = Session::start_in(tmp.path(), &["report", "orders.report.json"], None);
    s.wait_for("c continues to Confirm");
    s.send("c");
    // the wizard's tracker step (the file was chosen), then straight to Confirm
    s.wait_for("Sandbox");
    s.send("\r");
    let screen = s.wait_for("About to upload");
    assert!(screen.contains("[Confirm]"), "{screen}");
    s.send("y");
    s.wait_for("ACCEPTED");
    s.send("\r");
    assert!(s.wait_exit().success());
    s.assert_restored();
    let h = lbimport::config::History::at(tmp.path().join("data"))
        .list()
        .expect("history");
    assert_eq!(h.len(), 1);
    assert!(h[0].report.as_ref().is_some_and(|p| p.exists()));
}

#[test]
fn the_list_filters_opens_a_report_and_goes_back() {
    let (tmp, report) = prepared();
    let reports = tmp.path().join("data/reports");
    std::fs::create_dir_all(&reports).expect("mkdir");
    std::fs::copy(&report, reports.join("orders.report.json")).expect("copy");
    std::fs::write(reports.join("other.report.json"), "not a report").expect("write");
    let mut s = Session::start_in(tmp.path(), &["report"], None);
    let screen = s.wait_for("Saved reports (2 of 2)");
    assert!(screen.contains("unreadable"), "{screen}");
    s.send("/orders");
    s.send("\r");
    s.wait_for("Saved reports (1 of 2)");
    s.send("\r");
    s.wait_for("unchanged (same size and sha256)");
    s.send("\x1b");
    s.wait_for("Saved reports (1 of 2)");
    s.send("q");
    assert!(s.wait_exit().success());
    s.assert_restored();
}
