//! The hostile corpus runner: every input of `corpus::all()` through `lbimport validate`,
//! `validate --trim` (conversion first), `normalize --dry-run` and `upload --dry-run` (to a tracker on the in-process sandbox), each
//! as a subprocess with a timeout, while its peak RSS (VmHWM) is polled. A run fails the test when
//! it panics, hangs, grows past the memory bound, prints raw terminal control characters, or
//! fails without a clear message (empty stderr, no final newline, no file name).

mod corpus;
#[path = "../cli/sandbox.rs"]
#[allow(dead_code)]
mod sandbox;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lbimport::server::Faults;

const KEY: &str = "hostile-test-private-key-41c2";
/// Longest a single run may take before it counts as a hang.
const TIMEOUT: Duration = Duration::from_secs(20);
/// Peak RSS bound for one run on these small inputs, in KiB.
const MAX_RSS_KIB: u64 = 200 * 1024;

/// Known gaps, printed but not failing: (case name prefix, command). `upload` still prints the
/// file name raw in a dozen messages of `src/cli/upload.rs` (its errors through `fail` are
/// escaped); remove the entries when that is fixed.
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// What one subprocess did.
struct Outcome {
    code: Option<i32>,
    timed_out: bool,
    peak_kib: u64,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    elapsed: Duration,
}

/// Peak resident set (VmHWM) of a running process, in KiB.
fn vm_hwm(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Run `lbimport args…` with a timeout, polling its VmHWM.
fn run(args: &[&std::ffi::OsStr], env: &[(&str, PathBuf)]) -> Outcome {
    let start = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lbimport"));
    cmd.args(args)
        .env("LB_TEST_KEY", KEY)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // reaped below with wait4 (which clippy does not see)
    #[allow(clippy::zombie_processes)]
    let mut child = cmd.spawn().expect("spawn lbimport");
    let pid = child.id();
    // drain the pipes on threads so that a chatty child never blocks on a full pipe
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    // VmHWM is polled while it runs (every 5 ms: runs shorter than that show a low peak; the
    // child's ru_maxrss is no help, it counts the test process's pages from before exec)
    let mut peak = 0;
    let mut timed_out = false;
    let reap = |flags: i32| -> Option<i32> {
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value to be overwritten.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: pid is our own unreaped child; the pointers are valid for the call.
        let r = unsafe { libc::wait4(pid as i32, &mut status, flags, &mut ru) };
        (r == pid as i32).then_some(status)
    };
    let status = loop {
        if let Some(k) = vm_hwm(pid) {
            peak = peak.max(k);
        }
        if let Some(done) = reap(libc::WNOHANG) {
            break done;
        }
        if start.elapsed() > TIMEOUT {
            timed_out = true;
            let _ = child.kill();
            break reap(0).expect("wait4");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        timed_out,
        peak_kib: peak,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
        elapsed: start.elapsed(),
    }
}

/// Control characters that must never reach a terminal from lbimport's output: everything in
/// C0 but tab and newline, DEL, and the C1 range (as UTF-8).
fn raw_controls(bytes: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(bytes);
    s.chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t')
        .map(|c| format!("U+{:04X}", c as u32))
}

/// Everything wrong with one run, as lines of text (empty when the run was fine).
fn problems(cmd: &str, case: &corpus::Case, path: &Path, o: &Outcome) -> Vec<String> {
    let mut p = Vec::new();
    let who = format!("{} {cmd}", case.name);
    let stderr = String::from_utf8_lossy(&o.stderr);
    if o.timed_out {
        p.push(format!("{who}: HANG (killed after {:?})", TIMEOUT));
    }
    if o.code == Some(101) || stderr.contains("panicked") {
        p.push(format!("{who}: PANIC: {}", stderr.trim_end()));
    }
    if o.peak_kib > MAX_RSS_KIB {
        p.push(format!("{who}: peak RSS {} MiB", o.peak_kib / 1024));
    }
    for (stream, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        if let Some(c) = raw_controls(bytes) {
            p.push(format!("{who}: raw control character {c} on {stream}"));
        }
    }
    if case.name == "escapes_csv" && cmd == "validate" {
        // the identities are in the report, escaped
        let out = String::from_utf8_lossy(&o.stdout);
        if !out.contains("/p/\\u{1b}]0;pwned\\u{7}title") || !out.contains("\\u{9b}31mc1") {
            p.push(format!(
                "{who}: escaped identities missing from the report:\n{out}"
            ));
        }
    }
    // a failure that is not "the file has errors" (exit 1, explained on stdout) must explain
    // itself on stderr, end with a newline, and name the file
    let explained_elsewhere = o.code == Some(1) && !o.stdout.is_empty();
    if !o.timed_out && o.code != Some(0) && !explained_elsewhere {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if stderr.trim().is_empty() {
            p.push(format!("{who}: exit {:?} with an empty stderr", o.code));
        } else {
            if !stderr.ends_with('\n') {
                p.push(format!(
                    "{who}: stderr does not end with a newline: {stderr:?}"
                ));
            }
            let all = format!("{}{stderr}", String::from_utf8_lossy(&o.stdout));
            let shown = lbimport::validate::escape_controls(&name);
            if !all.contains(shown.as_ref()) {
                p.push(format!("{who}: failure does not name {name}: {stderr:?}"));
            }
        }
    }
    p
}

#[test]
fn hostile_corpus_never_panics_hangs_bloats_or_mumbles() {
    let cases = corpus::all();
    assert!(cases.len() >= 60, "corpus has {} inputs", cases.len());

    let sb = sandbox::start(KEY, |cfg| cfg.faults = Faults::default());
    let (_rt, _srv, dir) = (sb.rt, sb.srv, sb.dir);
    let inputs = dir.path().join("inputs");
    std::fs::create_dir(&inputs).expect("mkdir");
    let env = [
        ("LBIMPORT_CONFIG_DIR", dir.path().join("config")),
        ("LBIMPORT_DATA_DIR", dir.path().join("data")),
    ];

    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let paths: Vec<PathBuf> = cases.iter().map(|c| c.create(&inputs)).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let grower = cases
        .iter()
        .zip(&paths)
        .find(|(c, _)| matches!(c.make, corpus::Make::Growing))
        .map(|(_, p)| {
            let (p, stop) = (p.clone(), stop.clone());
            std::thread::spawn(move || corpus::keep_growing(p, stop))
        });

    let commands: [(&str, Vec<&str>); 4] = [
        ("validate", vec!["validate"]),
        ("trim", vec!["validate", "--trim"]),
        ("normalize", vec!["normalize", "--dry-run"]),
        (
            "upload",
            vec![
                "upload",
                "--tracker",
                "shop",
                "--dry-run",
                "--no-clock-check",
            ],
        ),
    ];
    let mut jobs = Vec::new();
    for (case, path) in cases.iter().zip(&paths) {
        for (cmd, args) in &commands {
            jobs.push((case, path, *cmd, args.clone()));
        }
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((case, path, cmd, args)) = jobs.get(i) else {
                        break;
                    };
                    let mut argv: Vec<&std::ffi::OsStr> =
                        args.iter().map(std::ffi::OsStr::new).collect();
                    argv.push(path.as_os_str());
                    let o = run(&argv, &env);
                    let mut p = problems(cmd, case, path, &o);
                    if matches!(case.make, corpus::Make::Unreadable(_))
                        && !root
                        && o.code == Some(0)
                    {
                        p.push(format!("{} {cmd}: an unreadable file succeeded", case.name));
                    }
                    results
                        .lock()
                        .expect("results")
                        .push((case.name, *cmd, o.code, o.peak_kib, o.elapsed, p));
                }
            });
        }
    });
    stop.store(true, Ordering::Relaxed);
    if let Some(g) = grower {
        let _ = g.join();
    }

    let results = results.into_inner().expect("results");
    let mut all_problems = Vec::new();
    let mut peak = (0, "", "");
    let mut slowest = (Duration::ZERO, "", "");
    for (name, cmd, code, kib, elapsed, p) in &results {
        eprintln!(
            "{name:<28} {cmd:<9} exit {:>4}  peak {:>6} KiB  {:>6} ms",
            code.map_or("sig".to_string(), |c| c.to_string()),
            kib,
            elapsed.as_millis()
        );
        if *kib > peak.0 {
            peak = (*kib, name, cmd);
        }
        if *elapsed > slowest.0 {
            slowest = (*elapsed, name, cmd);
        }
        if KNOWN_GAPS
            .iter()
            .any(|(prefix, c)| name.starts_with(prefix) && cmd == c)
        {
            for line in p {
                eprintln!("KNOWN GAP (not failing): {line}");
            }
        } else {
            all_problems.extend(p.iter().cloned());
        }
    }
    eprintln!(
        "corpus: {} inputs, {} runs; highest peak RSS {} KiB ({} {}); slowest {:?} ({} {})",
        cases.len(),
        results.len(),
        peak.0,
        peak.1,
        peak.2,
        slowest.0,
        slowest.1,
        slowest.2
    );
    assert_eq!(results.len(), cases.len() * commands.len());
    assert!(
        all_problems.is_empty(),
        "{} problems:\n{}",
        all_problems.len(),
        all_problems.join("\n")
    );
}

/// Conversion holds at most one capped row in memory: a 40 MB line, a 40 MB JSON line and an
/// unclosed quote swallowing 40 MB stop `normalize` and `validate --trim` with the row's line
/// and byte, in far less memory than the line (it used to take ~2.4x the line).
#[test]
fn conversion_memory_is_bounded_by_the_row_cap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = 40_000_000;
    let cases = [
        (
            "long.csv",
            format!("1,/p/1,u1\n2,/p/{},u2\n3,/p/3,u3\n", "y".repeat(big)),
            2,
            10,
        ),
        (
            "long.json",
            format!(
                "{{\"order_id\":\"1\",\"identity\":\"/p/1\"}}\n{{\"order_id\":\"2\",\"identity\":\"{}\"}}\n",
                "y".repeat(big)
            ),
            2,
            35,
        ),
        (
            "unclosed.csv",
            format!("1,/p/1\n2,\"/p/2\n{}", "3,/p/3\n".repeat(big / 7)),
            2,
            7,
        ),
    ];
    let env = [
        ("LBIMPORT_CONFIG_DIR", dir.path().join("config")),
        ("LBIMPORT_DATA_DIR", dir.path().join("data")),
    ];
    for (name, text, line, byte) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        for args in [&["normalize", "--dry-run"][..], &["validate", "--trim"][..]] {
            let mut argv: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
            argv.push(path.as_os_str());
            let o = run(&argv, &env);
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.code, Some(2), "{name} {args:?}: {stderr}");
            let want = format!("line {line} (byte {byte}): a row longer than 1048576 bytes");
            assert!(stderr.contains(&want), "{name} {args:?}: {stderr}");
            assert!(stderr.contains(name), "{stderr}");
            assert!(
                o.peak_kib < 64 * 1024,
                "{name} {args:?}: peak RSS {} KiB",
                o.peak_kib
            );
        }
    }
}

/// Absurd numbers on the command line are refused by clap with the accepted range (they used
/// to overflow a `Duration` / `Instant` and panic).
#[test]
fn absurd_flag_values_are_refused_with_the_range() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a.csv");
    std::fs::write(&file, corpus::VALID).expect("write");
    let f = file.to_str().expect("utf-8 path");
    let env = [
        ("LBIMPORT_CONFIG_DIR", dir.path().join("config")),
        ("LBIMPORT_DATA_DIR", dir.path().join("data")),
    ];
    let max = u64::MAX.to_string();
    let imax = i64::MAX.to_string();
    let imin = i64::MIN.to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["upload", "--deadline-secs", &max, "--dry-run", f],
        vec!["upload", "--deadline-secs", "0", "--dry-run", f],
        vec!["upload", "--stall-secs", &max, "--dry-run", f],
        vec![
            "serve",
            "--skew-secs",
            &imax,
            "--tracker-id",
            "1-1",
            "--private-key-env",
            "K",
        ],
        vec![
            "serve",
            "--skew-secs",
            &imin,
            "--tracker-id",
            "1-1",
            "--private-key-env",
            "K",
        ],
        vec![
            "serve",
            "--timeout",
            &max,
            "--tracker-id",
            "1-1",
            "--private-key-env",
            "K",
        ],
        vec![
            "serve",
            "--retry-after",
            &max,
            "--tracker-id",
            "1-1",
            "--private-key-env",
            "K",
        ],
        vec![
            "serve",
            "--throttle",
            "0",
            "--tracker-id",
            "1-1",
            "--private-key-env",
            "K",
        ],
    ];
    for args in cases {
        let argv: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        let o = run(&argv, &env);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("is not in"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.ends_with('\n'));
    }
}
