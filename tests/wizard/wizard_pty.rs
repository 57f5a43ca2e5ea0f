//! The real `lbimport` binary in a pseudo-terminal: walk Sandbox → file → validate → confirm →
//! upload → result by keys, read the screen through a VT100 emulator, and check the terminal
//! is restored at exit (normal exit and SIGTERM).

use std::path::Path;
use std::time::Duration;

use crate::pty;

struct Session(pty::Session);

impl std::ops::Deref for Session {
    type Target = pty::Session;
    fn deref(&self) -> &pty::Session {
        &self.0
    }
}

impl std::ops::DerefMut for Session {
    fn deref_mut(&mut self) -> &mut pty::Session {
        &mut self.0
    }
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
        let path = tmp.path().to_path_buf();
        Session(pty::Session::start_in(&path, args, Some(tmp)))
    }

    /// Restored (see [`pty::Session::assert_restored`]), and the frames were drawn inside
    /// synchronized updates.
    fn assert_restored(&self) {
        self.0.assert_restored();
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
    assert!(Path::new(&s.dir().join("data/history.jsonl")).exists());
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
    let history = std::fs::read_to_string(s.dir().join("data/history.jsonl")).expect("history");
    // Each part: a "sending" line before its first byte, then its outcome.
    assert_eq!(history.lines().count(), 6, "{history}");
    assert_eq!(history.matches("\"sending\"").count(), 3, "{history}");
    assert_eq!(history.matches("\"accepted\"").count(), 3, "{history}");
    for n in 1..=3 {
        let part = s
            .dir()
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
