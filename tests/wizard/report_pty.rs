//! The real `lbimport report` in a pseudo-terminal: open a saved report, drill into an issue,
//! quit cleanly; refuse to continue when the file changed; continue from a reviewed report to
//! an accepted sandbox upload without validating again.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

struct Session {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

fn lbimport(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lbimport"));
    c.current_dir(dir.join("files"))
        .env("LBIMPORT_CONFIG_DIR", dir.join("config"))
        .env("LBIMPORT_DATA_DIR", dir.join("data"));
    c
}

impl Session {
    fn start(dir: &Path, args: &[&str]) -> Session {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 30,
                cols: 100,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_lbimport"));
        cmd.args(args);
        cmd.cwd(dir.join("files"));
        cmd.env("LBIMPORT_CONFIG_DIR", dir.join("config"));
        cmd.env("LBIMPORT_DATA_DIR", dir.join("data"));
        cmd.env("TERM", "xterm-256color");
        let child = pair.slave.spawn_command(cmd).expect("spawn");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(30).expect("rows"),
            std::num::NonZeroU16::new(100).expect("cols"),
            0,
        )));
        let p2 = parser.clone();
        std::thread::spawn(move || {
            let _master = pair.master;
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut p) = p2.lock() {
                    p.process(&buf[..n]);
                }
            }
        });
        Session {
            parser,
            writer,
            child,
        }
    }

    fn screen(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(Instant::now() < deadline, "no {text:?} on screen:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).expect("write");
        self.writer.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(150));
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                std::thread::sleep(Duration::from_millis(200));
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "did not exit:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn assert_restored(&self) {
        let p = self.parser.lock().expect("parser");
        assert!(
            !p.screen().alternate_screen(),
            "still on the alternate screen"
        );
        assert!(!p.screen().hide_cursor(), "cursor still hidden");
    }
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
    let mut s = Session::start(tmp.path(), &["report", "orders.report.json"]);
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
    let mut s = Session::start(tmp.path(), &["report", "orders.report.json"]);
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
    let mut s = Session::start(tmp.path(), &["report", "orders.report.json"]);
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
    let mut s = Session::start(tmp.path(), &["report"]);
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
