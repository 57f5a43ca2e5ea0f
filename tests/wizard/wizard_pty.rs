//! The real `lbimport` binary in a pseudo-terminal: walk Sandbox → file → validate → confirm →
//! upload → result by keys, read the screen through a VT100 emulator, and check the terminal
//! is restored at exit (normal exit and SIGTERM).

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

struct Session {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _tmp: tempfile::TempDir,
}

impl Session {
    fn start(files: &[(&str, String)]) -> Session {
        Session::start_with(files, &[])
    }

    fn start_with(files: &[(&str, String)], args: &[&str]) -> Session {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("files");
        std::fs::create_dir_all(&dir).expect("mkdir");
        for (n, body) in files {
            std::fs::write(dir.join(n), body).expect("write");
        }
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows: 30,
                cols: 100,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_lbimport"));
        cmd.args(args);
        cmd.cwd(&dir);
        cmd.env("LBIMPORT_CONFIG_DIR", tmp.path().join("config"));
        cmd.env("LBIMPORT_DATA_DIR", tmp.path().join("data"));
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
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (p2, r2) = (parser.clone(), raw.clone());
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
                if let Ok(mut r) = r2.lock() {
                    r.extend_from_slice(&buf[..n]);
                }
            }
        });
        Session {
            parser,
            raw,
            writer,
            child,
            _tmp: tmp,
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
        let raw = self.raw.lock().expect("raw");
        let s = String::from_utf8_lossy(&raw);
        let entered = s
            .rfind("\x1b[?1049h")
            .expect("entered the alternate screen");
        let left = s.rfind("\x1b[?1049l").expect("left the alternate screen");
        assert!(left > entered);
        assert!(s[left..].contains("\x1b[?25h") || s.rfind("\x1b[?25h") > Some(entered));
        assert!(
            s.contains("\x1b[?2026h"),
            "frames are not wrapped in synchronized updates"
        );
    }
}

fn valid_csv() -> String {
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
    s
}

#[test]
fn walks_sandbox_to_accepted_and_restores_the_terminal() {
    let mut s = Session::start(&[("orders.csv", valid_csv()), ("notes.txt", "hi\n".into())]);
    let screen = s.wait_for("Sandbox");
    assert!(screen.contains("[Tracker]"), "{screen}");
    s.send("\r");
    let screen = s.wait_for("[File]");
    assert!(screen.contains("orders.csv"), "{screen}");
    s.send("/orders");
    s.send("\r");
    let screen = s.wait_for("READY");
    assert!(screen.contains("[Validate]"), "{screen}");
    assert!(screen.contains("600"), "rows counter missing:\n{screen}");
    s.send("c");
    let screen = s.wait_for("About to upload");
    assert!(screen.contains("cannot be undone"), "{screen}");
    assert!(screen.contains("127.0.0.1"), "{screen}");
    s.send("y");
    let screen = s.wait_for("ACCEPTED");
    assert!(screen.contains("200"), "{screen}");
    s.send("\r");
    let st = s.wait_exit();
    assert!(st.success(), "{st:?}");
    s.assert_restored();
    assert!(Path::new(&s._tmp.path().join("data/history.jsonl")).exists());
}

#[test]
fn sigterm_restores_the_terminal() {
    let mut s = Session::start(&[("orders.csv", valid_csv())]);
    s.wait_for("Sandbox");
    let pid = s.child.process_id().expect("pid");
    let st = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(st.success());
    s.wait_exit();
    s.assert_restored();
}

#[test]
fn ctrl_c_quits_cleanly_from_any_step() {
    let mut s = Session::start(&[("orders.csv", valid_csv())]);
    s.wait_for("Sandbox");
    s.send("\r");
    s.wait_for("[File]");
    s.send("\x03");
    let st = s.wait_exit();
    assert!(st.success(), "{st:?}");
    s.assert_restored();
}

#[test]
fn a_file_over_a_small_part_limit_is_split_and_sent_in_parts() {
    // 600 rows of about 35 bytes, parts of at most 8 KiB: three parts.
    let mut s = Session::start_with(
        &[("orders.csv", valid_csv())],
        &["wizard", "--tracker", "Sandbox", "--part-bytes", "8KiB"],
    );
    let screen = s.wait_for("[File]");
    assert!(screen.contains("orders.csv"), "{screen}");
    s.send("/orders");
    s.send("\r");
    let screen = s.wait_for("OVER THE 8.19 kB LIMIT OF ONE UPLOAD");
    assert!(screen.contains("s split"), "{screen}");
    s.send("s");
    let screen = s.wait_for("PARTS READY");
    assert!(screen.contains("Parts (3) — each ≤ 8.19 kB"), "{screen}");
    s.send("c");
    let screen = s.wait_for("About to upload, part by part");
    assert!(screen.contains("sends 3 parts in order"), "{screen}");
    s.send("y");
    let screen = s.wait_for("ALL 3 PARTS ACCEPTED");
    assert!(screen.contains("orders.part-002.csv"), "{screen}");
    s.send("\r");
    let st = s.wait_exit();
    assert!(st.success(), "{st:?}");
    s.assert_restored();
    let history =
        std::fs::read_to_string(s._tmp.path().join("data/history.jsonl")).expect("history");
    // Each part: a "sending" line before its first byte, then its outcome.
    assert_eq!(history.lines().count(), 6, "{history}");
    assert_eq!(history.matches("\"sending\"").count(), 3, "{history}");
    assert_eq!(history.matches("\"accepted\"").count(), 3, "{history}");
    for n in 1..=3 {
        let part = s
            ._tmp
            .path()
            .join(format!("data/converted/orders.part-{n:03}.csv"));
        assert!(part.exists(), "{}", part.display());
    }
}

/// A file big enough that validating it takes a while in a test build.
fn big_csv() -> String {
    let mut s = String::with_capacity(40 << 20);
    for o in 0..600_000u32 {
        for i in 0..2u32 {
            s.push_str(&format!(
                "{},/p/{},u{},2024-05-01 10:00:0{}\n",
                5_000_000 + o,
                o % 4000 + i * 4001,
                o % 90_000,
                i
            ));
        }
    }
    s
}

#[test]
fn every_stopping_signal_during_validation_restores_the_terminal_and_sets_the_exit_status() {
    let body = big_csv();
    for (sig, code) in [("-INT", 130), ("-TERM", 143), ("-HUP", 129)] {
        let mut s = Session::start_with(
            &[("orders.csv", body.clone())],
            &["wizard", "--tracker", "Sandbox", "orders.csv"],
        );
        s.wait_for("[Validate]");
        let pid = s.child.process_id().expect("pid");
        let st = std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .expect("kill");
        assert!(st.success());
        let st = s.wait_exit();
        assert_eq!(st.exit_code(), code, "{sig}");
        s.assert_restored();
    }
}

#[test]
fn an_idle_screen_sends_nothing() {
    let mut s = Session::start(&[("orders.csv", valid_csv())]);
    s.wait_for("Sandbox");
    std::thread::sleep(Duration::from_millis(500));
    let before = s.raw.lock().expect("raw").len();
    std::thread::sleep(Duration::from_millis(1500));
    let after = s.raw.lock().expect("raw").len();
    assert_eq!(after, before, "bytes written while nothing changed");
    // A key that changes the screen is drawn.
    s.send("\r");
    s.wait_for("[File]");
    s.send("q");
    s.wait_exit();
    s.assert_restored();
}
