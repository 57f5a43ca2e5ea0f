//! Wizard performance measurements (ignored by default; they are benchmarks, not timed
//! tests). Run:
//!   cargo test --release --test wizard wizard_bench -- --ignored --nocapture --test-threads 1
//! Sizes: WIZARD_BENCH_MB (default 1000) for the file validated in the background.

use std::io::Read;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lbimport::config::{Config, ConfigStore, History, KeySource, Tracker};
use lbimport::tui::app::{App, Context, Input};
use lbimport::tui::demo;
use lbimport::tui::driver::Driver;
use lbimport::tui::theme::Theme;

fn stats(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = v.iter().map(|d| ms(*d)).sum::<f64>() / v.len().max(1) as f64;
    let p99 = v.get(v.len() * 99 / 100).copied().unwrap_or_default();
    (mean, ms(p99), ms(v.last().copied().unwrap_or_default()))
}

#[test]
#[ignore]
fn frame_render_120x40() {
    let theme = Theme::default();
    let mut all = Vec::new();
    for (name, app) in demo::apps(&theme) {
        let mut times = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            let b = demo::render(&app, 120, 40);
            times.push(t.elapsed());
            assert_eq!(b.area.width, 120);
        }
        let (mean, p99, max) = stats(times.clone());
        println!("render {name:<20} mean {mean:.3} ms  p99 {p99:.3} ms  max {max:.3} ms");
        all.extend(times);
    }
    let (mean, p99, max) = stats(all);
    println!("render ALL 120x40        mean {mean:.3} ms  p99 {p99:.3} ms  max {max:.3} ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn keypress_redraw_while_a_big_file_validates() {
    let mb: u64 = std::env::var("WIZARD_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("big.csv");
    {
        let f = std::fs::File::create(&path).expect("create");
        let mut w = std::io::BufWriter::new(f);
        let opts = lbimport::generate::GenOptions {
            bytes: Some(mb * 1_000_000),
            rows: None,
            ..Default::default()
        };
        lbimport::generate::generate(&mut w, &opts).expect("generate");
    }
    let size = std::fs::metadata(&path).expect("meta").len();
    let cfg = Config {
        theme: None,
        trackers: vec![Tracker::new("shop", "1-2", KeySource::Env("X".into()))],
    };
    let mut app = App::new(Context {
        config: cfg,
        history: Vec::new(),
        start_dir: tmp.path().to_path_buf(),
        theme: Theme::default(),
        notices: Vec::new(),
    });
    let mut driver = Driver::new(
        ConfigStore::at(tmp.path().join("c")),
        History::at(tmp.path().join("d")),
        tmp.path().join("d"),
    );
    let fx = app.start(Some("shop"), Some(path.clone()));
    driver.execute(fx);
    let key = |c| Input::Key(KeyEvent::new(c, KeyModifiers::NONE));
    let started = Instant::now();
    let mut times = Vec::new();
    let mut i = 0u32;
    while app.validate().is_some_and(|v| v.running()) {
        while let Some(m) = driver.try_recv() {
            let fx = app.handle(Input::Msg(m));
            driver.execute(fx);
        }
        app.handle(Input::Tick(Instant::now()));
        let code = [KeyCode::Tab, KeyCode::Down, KeyCode::Up, KeyCode::Tab][i as usize % 4];
        let t = Instant::now();
        app.handle(key(code));
        let _ = demo::render(&app, 120, 40);
        times.push(t.elapsed());
        i += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        if let Some(m) = driver.try_recv() {
            app.handle(Input::Msg(m));
        }
    }
    let took = started.elapsed();
    let (mean, p99, max) = stats(times.clone());
    println!(
        "keypress→frame during validation of {} ({} samples, validation {:.1} s): mean {mean:.3} ms  p99 {p99:.3} ms  max {max:.3} ms",
        size,
        times.len(),
        took.as_secs_f64()
    );
    assert!(app.validate().is_some_and(|v| v.report().is_some()));
}

#[test]
#[ignore]
fn first_frame_of_the_real_binary() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let mut firsts = Vec::new();
    for _ in 0..5 {
        let tmp = tempfile::tempdir().expect("tmp");
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_lbimport"));
        cmd.cwd(tmp.path());
        cmd.env("LBIMPORT_CONFIG_DIR", tmp.path().join("c"));
        cmd.env("LBIMPORT_DATA_DIR", tmp.path().join("d"));
        let t0 = Instant::now();
        let mut child = pair.slave.spawn_command(cmd).expect("spawn");
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let first = loop {
            let n = reader.read(&mut buf).expect("read");
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains("Sandbox") {
                break t0.elapsed();
            }
            assert!(t0.elapsed() < Duration::from_secs(10));
        };
        firsts.push(first);
        let _ = child.kill();
        let _ = child.wait();
    }
    let (mean, _, max) = stats(firsts);
    println!("first frame (spawn → tracker list on the pty): mean {mean:.1} ms  max {max:.1} ms");
}

/// Peak resident memory of this process (VmHWM), in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A file over 1 GiB through the whole wizard: validate, split at the default 1 GiB, validate
/// the parts, upload them one after another to the in-process sandbox. The file is
/// `WIZARD_BENCH_SPLIT_FILE` (default `/work/bench/big.csv`); skipped when missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn split_and_send_a_file_over_1gib() {
    let path = std::path::PathBuf::from(
        std::env::var("WIZARD_BENCH_SPLIT_FILE").unwrap_or_else(|_| "/work/bench/big.csv".into()),
    );
    let Ok(meta) = std::fs::metadata(&path) else {
        println!("skipped: no {}", path.display());
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let mut app = App::new(Context {
        config: Config::default(),
        history: Vec::new(),
        start_dir: tmp.path().to_path_buf(),
        theme: Theme::default(),
        notices: Vec::new(),
    });
    let data = tmp.path().join("d");
    let mut driver = Driver::new(
        ConfigStore::at(tmp.path().join("c")),
        History::at(&data),
        data.clone(),
    );
    let fx = app.start(Some("Sandbox"), Some(path.clone()));
    driver.execute(fx);
    let key = |c| Input::Key(KeyEvent::new(c, KeyModifiers::NONE));
    let mut frames = Vec::new();
    // Pump messages and draw a frame every 100 ms until `done`.
    macro_rules! run_until {
        ($done:expr) => {{
            let t0 = Instant::now();
            loop {
                while let Some(m) = driver.try_recv() {
                    let fx = app.handle(Input::Msg(m));
                    driver.execute(fx);
                }
                if $done(&app) {
                    break;
                }
                app.handle(Input::Tick(Instant::now()));
                let t = Instant::now();
                let _ = demo::render(&app, 120, 40);
                frames.push(t.elapsed());
                assert!(t0.elapsed() < Duration::from_secs(3600), "stuck");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            t0.elapsed()
        }};
    }
    let validate = run_until!(|a: &App| a.validate().is_some_and(|v| v.report().is_some()));
    assert!(app.validate().is_some_and(|v| v.over_limit()));
    let rss_validate = peak_rss_mb();
    let fx = app.handle(key(KeyCode::Char('s')));
    driver.execute(fx);
    let split = run_until!(|a: &App| a
        .validate()
        .and_then(|v| v.split.as_ref())
        .is_some_and(|s| s.paths.is_some() || s.error.is_some()));
    let rss_split = peak_rss_mb();
    let parts_validate = run_until!(|a: &App| a
        .validate()
        .and_then(|v| v.split.as_ref())
        .is_some_and(|s| !s.running()));
    let sp = app.validate().and_then(|v| v.split.clone()).expect("split");
    assert_eq!(sp.error, None);
    let sizes: Vec<u64> = sp
        .paths
        .iter()
        .flatten()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .collect();
    let fx = app.handle(key(KeyCode::Char('c')));
    driver.execute(fx);
    assert_eq!(app.step().name(), "Confirm");
    let fx = app.handle(key(KeyCode::Char('y')));
    driver.execute(fx);
    let upload = run_until!(|a: &App| matches!(a.step(), lbimport::tui::app::Step::Result(_)));
    let received = driver.sandbox_received();
    let (mean, p99, max) = stats(frames);
    println!(
        "file {} bytes → parts {sizes:?}\n  validate whole file {:.1} s\n  split (2 passes) {:.1} s\n  validate {} parts {:.1} s\n  upload {} parts to the sandbox {:.1} s (statuses {:?})\n  frames 120x40 meanwhile: mean {mean:.3} ms  p99 {p99:.3} ms  max {max:.3} ms\n  peak RSS after validation {rss_validate:.0} MB, after the split {rss_split:.0} MB, at the end {:.0} MB",
        meta.len(),
        validate.as_secs_f64(),
        split.as_secs_f64(),
        sizes.len(),
        parts_validate.as_secs_f64(),
        received.len(),
        upload.as_secs_f64(),
        received.iter().map(|r| r.status).collect::<Vec<_>>(),
        peak_rss_mb()
    );
    assert!(sizes.len() >= 2);
    assert!(sizes.iter().all(|s| *s <= 1 << 30));
    assert!(received.iter().all(|r| r.status == 200));
}
