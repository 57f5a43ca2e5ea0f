//! The real `lbimport` binary in a pseudo-terminal (portable-pty), its screen read through a
//! VT100 emulator: shared by the wizard's and the report viewer's terminal tests.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// A running `lbimport` in a 100×30 terminal.
pub struct Session {
    parser: Arc<Mutex<vt100::Parser>>,
    /// Every byte the program wrote.
    pub raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    /// The program.
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    dir: std::path::PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl Session {
    /// `lbimport ARGS` run in `dir/files`, with its configuration and data in `dir/config`
    /// and `dir/data`; `tmp` (the directory's owner, if any) lives as long as the session.
    pub fn start_in(dir: &Path, args: &[&str], tmp: Option<tempfile::TempDir>) -> Session {
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
            dir: dir.to_path_buf(),
            _tmp: tmp,
        }
    }

    /// The directory holding `files/`, `config/` and `data/`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The screen's text.
    pub fn screen(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Wait (30 s at most) until `text` is on the screen; the screen then.
    pub fn wait_for(&self, text: &str) -> String {
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

    /// Type `s`.
    pub fn send(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).expect("write");
        self.writer.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Wait (20 s at most) for the program to exit.
    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
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

    /// The terminal is back as it was: main screen, cursor shown.
    pub fn assert_restored(&self) {
        let p = self.parser.lock().expect("parser");
        assert!(
            !p.screen().alternate_screen(),
            "still on the alternate screen"
        );
        assert!(!p.screen().hide_cursor(), "cursor still hidden");
    }
}
