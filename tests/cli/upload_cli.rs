//! `lbimport upload` and `lbimport serve` as a user runs them: exit codes, output, history.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use lbimport::config::{ConfigStore, History, Outcome};
use lbimport::server::{Faults, Running};

use crate::sandbox::{self, TRACKER};

const KEY: &str = "cli-test-private-key-7d1f3a";

struct Env {
    _rt: tokio::runtime::Runtime,
    srv: Running,
    dir: tempfile::TempDir,
}

impl Env {
    fn new(faults: Faults) -> Env {
        let sb = sandbox::start(KEY, |cfg| {
            cfg.validate = false;
            cfg.faults = faults;
        });
        Env {
            _rt: sb.rt,
            srv: sb.srv,
            dir: sb.dir,
        }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    fn run(&self, args: &[&str], key: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_lbimport"))
            .args(args)
            .env("LBIMPORT_CONFIG_DIR", self.dir.path().join("config"))
            .env("LBIMPORT_DATA_DIR", self.dir.path().join("data"))
            .env("LB_TEST_KEY", key)
            .stdin(Stdio::null())
            .output()
            .expect("run lbimport")
    }

    fn history(&self) -> Vec<lbimport::config::HistoryEntry> {
        History::at(self.dir.path().join("data"))
            .list()
            .expect("history")
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const DATA: &str = "1,/p/1,u1\n1,/p/2,u1\n2,/p/3,u2\n";

#[test]
fn accepted_upload_exits_0_and_is_recorded_then_duplicates_are_refused() {
    let env = Env::new(Faults::default());
    let f = env.file("orders.csv", DATA);
    let args = [
        "upload",
        path_str(&f),
        "--tracker",
        "shop",
        "--yes",
        "--no-validate",
    ];
    let o = env.run(&args, KEY);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("accepted (HTTP 200)"));
    let h = env.history();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].outcome, Outcome::Accepted);
    assert_eq!(h[0].status, Some(200));
    assert_eq!(h[0].tracker_name, "shop");
    assert_eq!(h[0].bytes, DATA.len() as u64);
    assert_eq!(h[0].sha256, env.srv.received()[0].sha256);

    // The same bytes again: refused before sending, saying when they were sent.
    let o = env.run(&args, KEY);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(
        text(&o).contains("already sent to tracker 1292-9381 on"),
        "{}",
        text(&o)
    );
    assert_eq!(env.srv.uploads(), 1);

    // Unless asked for, as JSON.
    let mut with = args.to_vec();
    with.extend(["--allow-duplicate", "--json"]);
    let o = env.run(&with, KEY);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json on stdout");
    assert_eq!(v["outcome"], "accepted");
    assert_eq!(v["status"], 200);
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["attempts"], 1);
    assert_eq!(v["bytes"], DATA.len());
    assert_eq!(env.srv.uploads(), 2);
    assert_eq!(env.history().len(), 2);
}

#[test]
fn rejected_upload_exits_1_and_is_recorded() {
    let env = Env::new(Faults::default());
    let f = env.file("orders.csv", DATA);
    let o = env.run(
        &[
            "upload",
            path_str(&f),
            "--tracker",
            "shop",
            "--yes",
            "--no-validate",
        ],
        "a-wrong-key",
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("rejected (HTTP 401)"), "{out}");
    assert!(out.contains("signature does not match"), "{out}");
    let h = env.history();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].outcome, Outcome::Rejected);
    assert_eq!(h[0].status, Some(401));
    // A rejected upload is no duplicate: the right key may go ahead.
    let o = env.run(
        &[
            "upload",
            path_str(&f),
            "--tracker",
            "shop",
            "--yes",
            "--no-validate",
        ],
        KEY,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn unknown_outcome_exits_4_and_blocks_a_blind_retry() {
    let env = Env::new(Faults {
        drop_after_body: true,
        ..Faults::default()
    });
    let f = env.file("orders.csv", DATA);
    let args = [
        "upload",
        path_str(&f),
        "--tracker",
        "shop",
        "--yes",
        "--no-validate",
    ];
    let o = env.run(&args, KEY);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("outcome unknown"), "{}", text(&o));
    assert_eq!(env.srv.uploads(), 1, "not retried");
    assert_eq!(env.history()[0].outcome, Outcome::Unknown);
    let o = env.run(&args, KEY);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(text(&o).contains("outcome: unknown"), "{}", text(&o));
}

#[test]
fn network_failure_exits_3() {
    let env = Env::new(Faults::default());
    let f = env.file("orders.csv", DATA);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let o = env.run(
        &[
            "upload",
            path_str(&f),
            "--tracker-id",
            TRACKER,
            "--private-key-env",
            "LB_TEST_KEY",
            "--base-url",
            &format!("http://127.0.0.1:{port}"),
            "--yes",
            "--no-validate",
            "--max-attempts",
            "1",
        ],
        KEY,
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert_eq!(env.history()[0].outcome, Outcome::Failed);
}

#[test]
fn dry_run_signs_without_sending_and_never_shows_the_key() {
    let env = Env::new(Faults::default());
    let f = env.file("orders.txt", DATA);
    let o = env.run(
        &[
            "upload",
            path_str(&f),
            "--tracker",
            "shop",
            "--dry-run",
            "--no-validate",
        ],
        KEY,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("POST /v1/interactions/1292-9381/files HTTP/1.1"),
        "{out}"
    );
    assert!(out.contains("Authorization: ApiAuth 1292-9381:"), "{out}");
    assert!(
        out.contains("Content-Type: multipart/form-data; boundary=lbimport-"),
        "{out}"
    );
    assert!(out.contains("filename \"orders.csv\""), "{out}");
    assert!(!out.contains(KEY), "the key leaked: {out}");
    assert!(!out.contains(&KEY[..12]), "part of the key leaked: {out}");
    assert_eq!(env.srv.uploads(), 0);
    assert!(env.history().is_empty());
}

#[test]
fn no_confirmation_without_a_terminal_exits_2() {
    let env = Env::new(Faults::default());
    let f = env.file("orders.csv", DATA);
    let o = env.run(
        &["upload", path_str(&f), "--tracker", "shop", "--no-validate"],
        KEY,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("pass --yes") || text(&o).contains("Pass --yes"),
        "{}",
        text(&o)
    );
    assert_eq!(env.srv.uploads(), 0);
}

#[test]
fn over_one_gib_of_garbage_is_refused_with_5_before_splitting() {
    let env = Env::new(Faults::default());
    let p = env.dir.path().join("huge.csv");
    std::fs::File::create(&p)
        .expect("create")
        .set_len((1 << 30) + 10)
        .expect("sparse");
    let o = env.run(&["upload", path_str(&p), "--tracker", "shop", "--yes"], KEY);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(
        text(&o).contains("is over 1 GB and has") && text(&o).contains("error(s) besides its size"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("Nothing was sent."), "{}", text(&o));
    assert_eq!(env.srv.uploads(), 0);
    assert!(env.history().is_empty());
    assert!(
        !env.dir.path().join("data/converted").exists(),
        "nothing was split"
    );
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new(Faults::default());
    let f = env.file("orders.csv", DATA);
    let o = env.run(&["upload", path_str(&f), "--tracker", "nope", "--yes"], KEY);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no saved tracker named \"nope\""),
        "{}",
        text(&o)
    );
    let o = env.run(&["upload", path_str(&f), "--yes"], KEY);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = env.run(
        &[
            "upload",
            "/does/not/exist.csv",
            "--tracker",
            "shop",
            "--yes",
        ],
        KEY,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn serve_prints_its_url_and_accepts_an_upload() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lbimport"))
        .args([
            "serve",
            "--port",
            "0",
            "--tracker-id",
            TRACKER,
            "--private-key-env",
            "LB_TEST_KEY",
            "--no-validate",
            "--store",
        ])
        .arg(dir.path().join("store"))
        .env("LBIMPORT_CONFIG_DIR", dir.path().join("config"))
        .env("LBIMPORT_DATA_DIR", dir.path().join("data"))
        .env("LB_TEST_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("line");
    let url = line.trim().rsplit(' ').next().unwrap_or("").to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let f = dir.path().join("o.csv");
    std::fs::write(&f, DATA).expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_lbimport"))
        .args([
            "upload",
            path_str(&f),
            "--tracker-id",
            TRACKER,
            "--private-key-env",
            "LB_TEST_KEY",
            "--base-url",
            &url,
            "--yes",
            "--no-validate",
        ])
        .env("LBIMPORT_CONFIG_DIR", dir.path().join("config"))
        .env("LBIMPORT_DATA_DIR", dir.path().join("data"))
        .env("LB_TEST_KEY", KEY)
        .stdin(Stdio::null())
        .output()
        .expect("upload");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stored: Vec<_> = std::fs::read_dir(dir.path().join("store"))
        .expect("store")
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        std::fs::read(stored[0].path()).expect("read"),
        DATA.as_bytes()
    );
}

#[test]
fn proxies_from_the_environment_are_used() {
    // The sandbox understands absolute-form requests, so it can stand in for an HTTP proxy:
    // the upload names a host that doesn't resolve and only reaches it through HTTP_PROXY.
    let env = Env::new(Faults::default());
    let f = env.file("orders.csv", DATA);
    let o = Command::new(env!("CARGO_BIN_EXE_lbimport"))
        .args([
            "upload",
            path_str(&f),
            "--tracker-id",
            TRACKER,
            "--private-key-env",
            "LB_TEST_KEY",
            "--base-url",
            "http://import.sandbox.invalid",
            "--yes",
            "--no-validate",
            "--max-attempts",
            "1",
        ])
        .env("LBIMPORT_CONFIG_DIR", env.dir.path().join("config"))
        .env("LBIMPORT_DATA_DIR", env.dir.path().join("data"))
        .env("LB_TEST_KEY", KEY)
        .env("HTTP_PROXY", &env.srv.base_url)
        .env("http_proxy", &env.srv.base_url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .stdin(Stdio::null())
        .output()
        .expect("run lbimport");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(env.srv.uploads(), 1);
    assert_eq!(env.srv.received()[0].status, 200);
}

#[test]
fn validation_errors_refuse_with_5_and_a_clean_file_records_its_counts() {
    let env = Env::new(Faults::default());
    let bad = env.file("bad.csv", "1,/p/1,u1\njust-one-field\n");
    let o = env.run(
        &["upload", path_str(&bad), "--tracker", "shop", "--yes"],
        KEY,
    );
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("field_count"), "{out}");
    assert!(out.contains("line 2"), "{out}");
    assert_eq!(env.srv.uploads(), 0);
    assert!(env.history().is_empty());

    let good = env.file("good.csv", DATA);
    let o = env.run(
        &["upload", path_str(&good), "--tracker", "shop", "--yes"],
        KEY,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let h = env.history();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].rows, Some(3));
    assert_eq!(h[0].orders, Some(2));
    assert_eq!(h[0].sha256, env.srv.received()[0].sha256);
}

// ---------------------------------------------------------------------------------------------
// The duplicate guard across processes and signals.

impl Env {
    fn spawn(&self, args: &[&str]) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_lbimport"))
            .args(args)
            .env("LBIMPORT_CONFIG_DIR", self.dir.path().join("config"))
            .env("LBIMPORT_DATA_DIR", self.dir.path().join("data"))
            .env("LB_TEST_KEY", KEY)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn lbimport")
    }

    /// Wait until the history has an entry with this outcome (as read now), at most 20 s.
    fn wait_for_outcome(&self, outcome: Outcome) {
        let t0 = std::time::Instant::now();
        while t0.elapsed() < std::time::Duration::from_secs(20) {
            if self.history().iter().any(|e| e.outcome == outcome) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("no {outcome} entry in the history: {:?}", self.history());
    }
}

fn kill(child: &std::process::Child, signal: &str) {
    let st = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(st.success());
}

/// A body of about `rows` rows, distinct per `seed`.
fn rows(n: usize, seed: u32) -> String {
    (0..n)
        .map(|i| format!("{seed}{:06},/p/{},u{}\n", i / 3, i % 97, i / 3))
        .collect()
}

#[test]
fn three_concurrent_uploads_of_one_file_send_it_once() {
    // Each upload takes ~1 s at this rate, so all three are in flight together.
    let env = Env::new(Faults {
        throttle: Some(40_000),
        ..Faults::default()
    });
    let f = env.file("orders.csv", &rows(2000, 1));
    let args = ["upload", path_str(&f), "--tracker", "shop", "--yes"];
    let kids: Vec<_> = (0..3).map(|_| env.spawn(&args)).collect();
    let outs: Vec<Output> = kids
        .into_iter()
        .map(|k| k.wait_with_output().expect("wait"))
        .collect();
    let mut codes: Vec<i32> = outs.iter().map(|o| o.status.code().unwrap_or(-1)).collect();
    codes.sort();
    assert_eq!(
        codes,
        vec![0, 5, 5],
        "{:#?}",
        outs.iter().map(text).collect::<Vec<_>>()
    );
    assert_eq!(env.srv.uploads(), 1, "sent once");
    for o in outs.iter().filter(|o| o.status.code() == Some(5)) {
        assert!(
            text(o).contains("were already sent to tracker")
                || text(o).contains("were sent to tracker"),
            "{}",
            text(o)
        );
    }
    let h = env.history();
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].outcome, Outcome::Accepted);
}

#[test]
fn sigterm_after_the_whole_body_records_unknown_and_a_rerun_is_refused() {
    // The sandbox reads the body, then waits 30 s before answering.
    let env = Env::new(Faults {
        answer_delay_ms: Some(30_000),
        ..Faults::default()
    });
    let f = env.file("orders.csv", &rows(300, 2));
    let args = ["upload", path_str(&f), "--tracker", "shop", "--yes"];
    let child = env.spawn(&args);
    env.wait_for_outcome(Outcome::Sending);
    // The body is small: give it time to be read whole by the sandbox.
    let t0 = std::time::Instant::now();
    while env.srv.received().is_empty() && t0.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    kill(&child, "-TERM");
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(4), "unknown outcome: {}", text(&o));
    let h = env.history();
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].outcome, Outcome::Unknown, "{h:?}");
    // Sending it again is refused: it may have been imported.
    let o = env.run(&args, KEY);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(text(&o).contains("outcome: unknown"), "{}", text(&o));
}

#[test]
fn sigterm_during_the_body_cancels_with_143_and_allows_a_rerun() {
    // Larger than what loopback socket buffers hold, read slowly: killed mid-body.
    let env = Env::new(Faults {
        throttle: Some(1_000_000),
        ..Faults::default()
    });
    let f = env.file("orders.csv", &rows(1_200_000, 3));
    let args = ["upload", path_str(&f), "--tracker", "shop", "--yes"];
    let child = env.spawn(&args);
    env.wait_for_outcome(Outcome::Sending);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    kill(&child, "-TERM");
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(143), "{}", text(&o));
    let h = env.history();
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].outcome, Outcome::Cancelled, "{h:?}");
}

#[test]
fn a_killed_upload_leaves_a_sending_record_that_refuses_a_rerun() {
    let env = Env::new(Faults {
        throttle: Some(20_000),
        ..Faults::default()
    });
    let f = env.file("orders.csv", &rows(4000, 4));
    let args = ["upload", path_str(&f), "--tracker", "shop", "--yes"];
    let mut child = env.spawn(&args);
    env.wait_for_outcome(Outcome::Sending);
    kill(&child, "-KILL");
    let _ = child.wait();
    // The process is gone: its "sending" record reads as unknown.
    let h = env.history();
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].outcome, Outcome::Unknown, "{h:?}");
    let o = env.run(&args, KEY);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    let o = env.run(&[&args[..], &["--allow-duplicate"]].concat(), KEY);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_file_changed_in_place_during_the_upload_is_stopped_before_the_end() {
    use std::io::{Seek, SeekFrom, Write};
    // Larger than what loopback socket buffers hold, read slowly: the tail is still unread
    // when it changes.
    let env = Env::new(Faults {
        throttle: Some(1_000_000),
        ..Faults::default()
    });
    let body = rows(1_200_000, 5);
    let f = env.file("orders.csv", &body);
    let args = ["upload", path_str(&f), "--tracker", "shop", "--yes"];
    let child = env.spawn(&args);
    env.wait_for_outcome(Outcome::Sending);
    // Same size, other bytes near the end (not yet read at 20 kB/s).
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&f)
        .expect("open");
    file.seek(SeekFrom::Start(body.len() as u64 - 10))
        .expect("seek");
    file.write_all(b"/p/9999\nX\n").expect("write");
    drop(file);
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("changed while it was being uploaded"),
        "{}",
        text(&o)
    );
    let received = env.srv.received();
    assert!(received.iter().all(|r| r.status != 200), "{received:?}");
    assert_eq!(env.history()[0].outcome, Outcome::Failed);
}

#[test]
fn a_valid_file_is_never_remapped_by_a_mapping_saved_for_its_shape() {
    let env = Env::new(Faults::default());
    // The documented layout with some user ids empty (the role guess reads it as a swap).
    let data = "1000000001,/product/86691\n\
                1000000004,/product/155,u1698349,2022-01-01 04:14:39\n\
                1000000006,/product/188454,,2022-01-01 06:12:50\n\
                1000000006,/product/18,,2022-01-01 06:12:50\n\
                1000000007,/product/1199,u1873131,2022-01-01 08:58:32\n";
    let f = env.file("orders.csv", data);
    // A swapped mapping saved for headerless 4-column comma files.
    let o = env.run(
        &[
            "normalize",
            path_str(&f),
            "--tracker",
            "shop",
            "--columns",
            "order=C,identity=B,user=A,created_at=D",
            "--save-mapping",
            "-o",
            path_str(&env.dir.path().join("out.csv")),
        ],
        KEY,
    );
    assert!(text(&o).contains("mapping saved"), "{}", text(&o));
    let saved = ConfigStore::at(env.dir.path().join("config"))
        .load()
        .expect("config");
    assert_eq!(saved.config.trackers[0].mappings.len(), 1);
    let o = env.run(&["upload", path_str(&f), "--tracker", "shop", "--yes"], KEY);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        !text(&o).contains("converted file"),
        "the original is sent: {}",
        text(&o)
    );
    assert!(text(&o).contains("was not applied"), "{}", text(&o));
    let want = lbimport::config::sha256_file(&f).expect("hash");
    assert_eq!(
        env.srv.received()[0].sha256,
        want,
        "the user's bytes reached the server"
    );
}

#[test]
fn a_file_over_the_part_limit_is_split_and_sent_part_by_part() {
    let env = Env::new(Faults::default());
    let body = rows(600, 6); // ~12 kB, orders of three rows
    let f = env.file("orders.csv", &body);
    let args = [
        "upload",
        path_str(&f),
        "--tracker",
        "shop",
        "--yes",
        "--part-bytes",
        "4KiB",
    ];
    let o = env.run(&args, KEY);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let n = env.srv.uploads() as usize;
    assert!(n >= 3, "{n} parts: {}", text(&o));
    assert!(
        text(&o).contains(&format!("All {n} parts are in: {n} accepted now")),
        "{}",
        text(&o)
    );
    // Every row arrived exactly once, each order whole in one part.
    let mut got: Vec<String> = Vec::new();
    for r in env.srv.received() {
        let p = r.path.clone().expect("stored");
        let text = std::fs::read_to_string(p).expect("read part");
        assert!(text.len() <= 4096);
        got.extend(text.lines().map(str::to_string));
    }
    let mut want: Vec<String> = body.lines().map(str::to_string).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let h = env.history();
    assert_eq!(h.len(), n);
    assert!(h.iter().all(|e| e.outcome == Outcome::Accepted));
    // The user's file is untouched and not re-sent.
    assert_eq!(std::fs::read_to_string(&f).expect("read"), body);
    let o = env.run(&args, KEY);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
}

/// The overlap guard from the command line: `validate --tracker`, `upload` refusing a file
/// whose orders were already sent, an unknown outcome counting as sent, a damaged set.
mod overlap {
    use super::*;

    /// Orders `1..=n`, two rows each; `tag` changes the bytes (product urls).
    fn orders(n: u32, tag: &str) -> String {
        let mut s = String::new();
        for i in 1..=n {
            for k in 0..2 {
                s.push_str(&format!("{i},/{tag}/{k},u{i},2025-01-02 10:00:00\n"));
            }
        }
        s
    }

    #[test]
    fn a_re_export_is_refused_until_allowed_and_counts_exactly() {
        let env = Env::new(Faults::default());
        let a = env.file("orders-a.csv", &orders(1000, "a"));
        let b = env.file("orders-b.csv", &orders(1500, "b"));
        let o = env.run(&["upload", path_str(&a), "--tracker", "shop", "--yes"], KEY);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_eq!(env.srv.uploads(), 1);

        // validate --tracker reports the overlap
        let o = env.run(&["validate", path_str(&b), "--tracker", "shop"], KEY);
        let t = text(&o);
        assert!(
            t.contains("1,000 of 1,500 orders (66.7 %, 2,000 rows) were already sent: 1,000 on"),
            "{t}"
        );
        assert!(t.contains("in orders-a.csv"), "{t}");

        // upload B is refused with 5 and nothing is sent
        let args = ["upload", path_str(&b), "--tracker", "shop", "--yes"];
        let o = env.run(&args, KEY);
        assert_eq!(o.status.code(), Some(5), "{}", text(&o));
        assert!(
            text(&o)
                .contains("1,000 of 1,500 orders (66.7 %, 2,000 rows) were already sent: 1,000 on"),
            "{}",
            text(&o)
        );
        assert!(text(&o).contains("in orders-a.csv"), "{}", text(&o));
        assert_eq!(env.srv.uploads(), 1);

        // allowed: sent, and its orders recorded too
        let mut with = args.to_vec();
        with.push("--allow-overlap");
        let o = env.run(&with, KEY);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_eq!(env.srv.uploads(), 2);
        let c = env.file("orders-c.csv", &orders(1600, "c"));
        let o = env.run(&["validate", path_str(&c), "--tracker", "shop"], KEY);
        let t = text(&o);
        assert!(t.contains("1,500 of 1,600 orders"), "{t}");
        assert!(t.contains("1,000 on ") && t.contains("1,500 on "), "{t}");

        // forget the newest upload (B): only A's 1,000 orders remain
        let o = env.run(
            &["history", "forget", "--tracker", "shop", "--entry", "1"],
            KEY,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(text(&o).contains("orders-b.csv"), "{}", text(&o));
        let o = env.run(&["validate", path_str(&c), "--tracker", "shop"], KEY);
        let t = text(&o);
        assert!(
            t.contains("1,000 of 1,600 orders (62.5 %, 2,000 rows)"),
            "{t}"
        );
        let o = env.run(
            &["history", "forget", "--tracker", "shop", "--entry", "9"],
            KEY,
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    }

    #[test]
    fn an_unknown_outcome_counts_as_sent() {
        let env = Env::new(Faults {
            drop_after_body: true,
            ..Faults::default()
        });
        let a = env.file("a.csv", &orders(10, "a"));
        let o = env.run(&["upload", path_str(&a), "--tracker", "shop", "--yes"], KEY);
        assert_eq!(o.status.code(), Some(4), "{}", text(&o));
        let b = env.file("b.csv", &orders(20, "b"));
        let o = env.run(&["upload", path_str(&b), "--tracker", "shop", "--yes"], KEY);
        assert_eq!(o.status.code(), Some(5), "{}", text(&o));
        assert!(text(&o).contains("10 of 20 orders"), "{}", text(&o));
        assert_eq!(env.srv.uploads(), 1);
        // normalize --only-new-orders leaves them out too
        let out = env.dir.path().join("new.csv");
        let o = env.run(
            &[
                "normalize",
                path_str(&b),
                "--only-new-orders",
                "--tracker",
                "shop",
                "-o",
                path_str(&out),
            ],
            KEY,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(
            text(&o).contains("dropped 10 orders (20 rows) already sent"),
            "{}",
            text(&o)
        );
        let (ids, rows) = order_ids(&std::fs::read_to_string(&out).expect("output"));
        assert_eq!(ids, (11..=20).collect());
        assert_eq!(rows, 20);
        // history shows its range as for an accepted upload
        let o = env.run(&["history", "--tracker", "shop", "--json"], KEY);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        assert_eq!(v[0]["outcome"], "unknown");
        assert_eq!(v[0]["orders"], 10);
        assert_eq!(v[0]["first_purchase"], "2025-01-02 10:00:00");
    }

    #[test]
    fn a_corrupt_set_skips_the_check_with_a_warning() {
        let env = Env::new(Faults::default());
        let a = env.file("a.csv", &orders(10, "a"));
        let o = env.run(&["upload", path_str(&a), "--tracker", "shop", "--yes"], KEY);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let dir = env.dir.path().join("data/sent").join(TRACKER);
        let set = std::fs::read_dir(&dir)
            .expect("sent dir")
            .map(|e| e.expect("entry").path())
            .find(|p| p.extension().is_some_and(|x| x == "bin"))
            .expect("a set file");
        let mut bytes = std::fs::read(&set).expect("read set");
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&set, &bytes).expect("damage");
        let b = env.file("b.csv", &orders(20, "b"));
        let o = env.run(&["validate", path_str(&b), "--tracker", "shop"], KEY);
        let t = text(&o);
        assert!(t.contains("the already-sent check was skipped"), "{t}");
        assert!(t.contains(&set.display().to_string()), "{t}");
        assert!(!t.contains("none of the file's orders"), "{t}");
        // upload warns, skips the check (never "0 already sent") and sends
        let o = env.run(&["upload", path_str(&b), "--tracker", "shop", "--yes"], KEY);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(0), "{t}");
        assert!(
            t.contains("warning: the already-sent check was skipped")
                && t.contains(&set.display().to_string()),
            "{t}"
        );
        assert!(!t.contains("were already sent"), "{t}");
        assert_eq!(env.srv.uploads(), 2);
        // the damaged set is left as it is
        assert_eq!(std::fs::read(&set).expect("read"), bytes);
    }

    /// Orders in `ids`, two rows each, each order's `created_at` set by its id (as a re-export
    /// of the same shop would have it); `tag` changes the bytes.
    fn dated(ids: std::ops::RangeInclusive<u32>, tag: &str) -> String {
        let mut s = String::new();
        for i in ids {
            for k in 0..2 {
                s.push_str(&format!("{i},/{tag}/{k},u{i},{}\n", when(i)));
            }
        }
        s
    }

    fn when(i: u32) -> String {
        format!(
            "2025-{:02}-{:02} {:02}:{:02}:00",
            1 + i % 12,
            1 + i % 28,
            i % 24,
            i % 60
        )
    }

    /// The order ids of a documented CSV's rows, and the number of rows.
    fn order_ids(csv: &str) -> (std::collections::BTreeSet<u32>, usize) {
        let mut ids = std::collections::BTreeSet::new();
        let mut rows = 0;
        for l in csv.lines() {
            rows += 1;
            let id = l.split(',').next().expect("a field");
            ids.insert(id.parse().expect("a numeric order id"));
        }
        (ids, rows)
    }

    /// The case: A sent orders 1–1,000; B (1–1,500, other bytes) is refused;
    /// `normalize B --only-new-orders` writes exactly orders 1,001–1,500, which upload cleanly;
    /// `history --tracker` shows A's purchase range and order count.
    #[test]
    fn only_new_orders_turns_a_re_export_into_the_delta() {
        let env = Env::new(Faults::default());
        let a = env.file("orders-a.csv", &dated(1..=1000, "a"));
        let b = env.file("orders-b.csv", &dated(1..=1500, "b"));
        let o = env.run(&["upload", path_str(&a), "--tracker", "shop", "--yes"], KEY);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let o = env.run(&["upload", path_str(&b), "--tracker", "shop", "--yes"], KEY);
        assert_eq!(o.status.code(), Some(5), "{}", text(&o));
        assert_eq!(env.srv.uploads(), 1);

        // what normalize writes for B without the option, and with it
        let all = env.dir.path().join("b-all.csv");
        let o = env.run(&["normalize", path_str(&b), "-o", path_str(&all)], KEY);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let new = env.dir.path().join("b-new.csv");
        let o = env.run(
            &[
                "normalize",
                path_str(&b),
                "--only-new-orders",
                "--tracker",
                "shop",
                "-o",
                path_str(&new),
            ],
            KEY,
        );
        let t = text(&o);
        assert_eq!(o.status.code(), Some(0), "{t}");
        assert!(
            t.contains(
                "only new:   dropped 1,000 orders (2,000 rows) already sent to \"shop\": 1,000 on"
            ),
            "{t}"
        );
        assert!(t.contains("in orders-a.csv"), "{t}");
        assert!(t.contains("rows written: 1000\n"), "{t}");
        let written = std::fs::read_to_string(&new).expect("output");
        let (ids, rows) = order_ids(&written);
        assert_eq!(ids, (1001..=1500).collect());
        assert_eq!(rows, 1000);
        // byte for byte what normalize writes, minus the sent orders' rows
        let all = std::fs::read_to_string(&all).expect("output");
        let want: String = all
            .split_inclusive('\n')
            .filter(|l| l.split(',').next().and_then(|i| i.parse::<u32>().ok()) > Some(1000))
            .collect();
        assert_eq!(written, want);
        // the user's file is untouched
        assert_eq!(
            std::fs::read_to_string(&b).expect("read"),
            dated(1..=1500, "b")
        );

        // a dry run names what would be matched and writes nothing
        let dry = env.dir.path().join("dry.csv");
        let o = env.run(
            &[
                "normalize",
                path_str(&b),
                "--only-new-orders",
                "--tracker",
                "shop",
                "--dry-run",
                "-o",
                path_str(&dry),
            ],
            KEY,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(
            text(&o).contains("the orders of 1 recorded upload(s) to \"shop\" would be left out"),
            "{}",
            text(&o)
        );
        assert!(!dry.exists());

        // the delta uploads without an overlap warning
        let o = env.run(
            &["upload", path_str(&new), "--tracker", "shop", "--yes"],
            KEY,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(!text(&o).contains("already sent"), "{}", text(&o));
        assert_eq!(env.srv.uploads(), 2);

        // history --tracker: A's range and order count (entry 2; the delta is entry 1)
        let rows_a: Vec<String> = (1..=1000).map(when).collect();
        let first = rows_a.iter().min().expect("rows");
        let last = rows_a.iter().max().expect("rows");
        let o = env.run(&["history", "--tracker", "shop"], KEY);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(0), "{t}");
        // (columns compared with single spaces: their padding depends on the widest cell)
        let words = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
        let line_a = t
            .lines()
            .map(words)
            .find(|l| l.contains("orders-a.csv"))
            .unwrap_or_else(|| panic!("no entry for A: {t}"));
        assert!(line_a.starts_with("2 "), "{t}");
        assert!(
            line_a.contains(&format!(" 2000 1000 {first} – {last} ")),
            "{t}"
        );
        assert!(t.contains("PURCHASES (FIRST – LAST)"), "{t}");
        let rows_new: Vec<String> = (1001..=1500).map(when).collect();
        let line_new = t
            .lines()
            .map(words)
            .find(|l| l.contains("b-new.csv"))
            .expect("delta");
        assert!(line_new.starts_with("1 "), "{t}");
        assert!(
            line_new.contains(&format!(
                " 1000 500 {} – {} ",
                rows_new.iter().min().expect("rows"),
                rows_new.iter().max().expect("rows")
            )),
            "{t}"
        );
        let o = env.run(&["history", "--tracker", "shop", "--json"], KEY);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        assert_eq!(v[1]["orders"], 1000);
        assert_eq!(v[1]["first_purchase"], first.as_str());
        assert_eq!(v[1]["last_purchase"], last.as_str());
    }

    /// The filter composes with a mapping (columns in another order, a header) and splitting.
    #[test]
    fn only_new_orders_composes_with_a_mapping_and_splitting() {
        let env = Env::new(Faults::default());
        let a = env.file("a.csv", &dated(1..=100, "a"));
        let o = env.run(&["upload", path_str(&a), "--tracker", "shop", "--yes"], KEY);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        // orders 1..=300 as "created;product;order" with a header
        let mut b = String::from("created;product;order\n");
        for i in 1..=300u32 {
            for k in 0..3 {
                b.push_str(&format!("{};/b/{k};{i}\n", when(i)));
            }
        }
        let b = env.file("b.csv", &b);
        let out = env.dir.path().join("split").join("new.csv");
        let o = env.run(
            &[
                "normalize",
                path_str(&b),
                "--only-new-orders",
                "--tracker",
                "shop",
                "--columns",
                "order=C,identity=B,created_at=A",
                "--split-size",
                "4KiB",
                "-o",
                path_str(&out),
            ],
            KEY,
        );
        let t = text(&o);
        assert_eq!(o.status.code(), Some(0), "{t}");
        assert!(
            t.contains("dropped 100 orders (300 rows) already sent to \"shop\""),
            "{t}"
        );
        let mut parts: Vec<PathBuf> = std::fs::read_dir(env.dir.path().join("split"))
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .collect();
        parts.sort();
        assert!(parts.len() >= 3, "{parts:?} {t}");
        let mut all = String::new();
        for p in &parts {
            let part = std::fs::read_to_string(p).expect("part");
            assert!(part.len() <= 4096, "{p:?}");
            all.push_str(&part);
        }
        let (ids, rows) = order_ids(&all);
        assert_eq!(ids, (101..=300).collect());
        assert_eq!(rows, 600);
    }

    #[test]
    fn only_new_orders_with_nothing_sent_writes_the_file_as_normalize_would() {
        let env = Env::new(Faults::default());
        let b = env.file("b.csv", &dated(1..=30, "b"));
        let all = env.dir.path().join("all.csv");
        let o = env.run(&["normalize", path_str(&b), "-o", path_str(&all)], KEY);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let new = env.dir.path().join("new.csv");
        let args = [
            "normalize",
            path_str(&b),
            "--only-new-orders",
            "--tracker",
            "shop",
            "-o",
            path_str(&new),
        ];
        let o = env.run(&args, KEY);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(
            text(&o).contains("no orders are recorded as sent to \"shop\"; nothing dropped"),
            "{}",
            text(&o)
        );
        assert_eq!(
            std::fs::read(&new).expect("new"),
            std::fs::read(&all).expect("all")
        );
        // sent orders that the file does not hold: nothing dropped either
        let a = env.file("a.csv", &dated(100..=110, "a"));
        let o = env.run(&["upload", path_str(&a), "--tracker", "shop", "--yes"], KEY);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let o = env.run(&args, KEY);
        assert!(
            text(&o).contains("none of the file's orders were sent to \"shop\" before"),
            "{}",
            text(&o)
        );
        assert_eq!(
            std::fs::read(&new).expect("new"),
            std::fs::read(&all).expect("all")
        );
        // the option needs a tracker
        let o = env.run(&["normalize", path_str(&b), "--only-new-orders"], KEY);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("--tracker"), "{}", text(&o));
    }

    #[test]
    fn only_new_orders_with_a_damaged_set_fails_naming_it_and_writes_nothing() {
        let env = Env::new(Faults::default());
        let a = env.file("a.csv", &dated(1..=10, "a"));
        let o = env.run(&["upload", path_str(&a), "--tracker", "shop", "--yes"], KEY);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let dir = env.dir.path().join("data/sent").join(TRACKER);
        let set = std::fs::read_dir(&dir)
            .expect("sent dir")
            .map(|e| e.expect("entry").path())
            .find(|p| p.extension().is_some_and(|x| x == "bin"))
            .expect("a set file");
        let mut bytes = std::fs::read(&set).expect("read set");
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&set, &bytes).expect("damage");
        let b = env.file("b.csv", &dated(1..=20, "b"));
        let out = env.dir.path().join("out.csv");
        let o = env.run(
            &[
                "normalize",
                path_str(&b),
                "--only-new-orders",
                "--tracker",
                "shop",
                "-o",
                path_str(&out),
            ],
            KEY,
        );
        let t = text(&o);
        assert_ne!(o.status.code(), Some(0), "{t}");
        assert!(t.contains(&set.display().to_string()), "{t}");
        assert!(t.contains("nothing was written"), "{t}");
        assert!(!t.contains("dropped"), "{t}");
        assert!(!out.exists());
        assert_eq!(std::fs::read(&set).expect("read"), bytes);
    }

    /// An upload whose orders were never recorded (made before lbimport kept records) is named
    /// instead of being silently left out of the check.
    #[test]
    fn uploads_without_a_record_are_named_not_guessed() {
        let env = Env::new(Faults::default());
        let a = env.file("a.csv", &orders(10, "a"));
        let o = env.run(&["upload", path_str(&a), "--tracker", "shop", "--yes"], KEY);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        // as if it had been uploaded by a version that kept no records
        std::fs::remove_dir_all(env.dir.path().join("data/sent")).expect("remove records");
        let b = env.file("b.csv", &orders(20, "b"));
        let o = env.run(&["validate", path_str(&b), "--tracker", "shop"], KEY);
        let t = text(&o);
        assert!(
            t.contains("1 earlier upload(s) to this tracker")
                && t.contains("have no record of their orders"),
            "{t}"
        );
        // upload names it too, and finds nothing to refuse
        let o = env.run(&["upload", path_str(&b), "--tracker", "shop", "--yes"], KEY);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(0), "{t}");
        assert!(
            t.contains("1 earlier upload(s) to this tracker (since")
                && t.contains("have no record of their orders"),
            "{t}"
        );
    }
}

/// The catalog guard: a file whose identities mostly miss the tracker's catalog is refused.
mod catalog_guard {
    use super::*;

    /// Orders `from..=to`, two rows each; every fifth order names products by path, the
    /// others by full URL. Returns the text, its rows and the rows named by path.
    fn orders(from: u32, to: u32) -> (String, u64, u64) {
        crate::sandbox::mixed_identities(
            from,
            to,
            2,
            |o, k| (o + k) % 40 + 1,
            "2025-01-02 10:00:00",
        )
    }

    #[test]
    fn unknown_identities_refuse_until_fixed_or_allowed() {
        let env = Env::new(Faults::default());
        let ids: String = (1..=40).map(|i| format!("/p/{i}\n")).collect();
        let cat = env.file("catalog.txt", &ids);
        let o = env.run(
            &["catalog", "import", "--tracker", "shop", path_str(&cat)],
            KEY,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));

        let (a_text, rows, relative) = orders(1, 400);
        let a = env.file("a.csv", &a_text);
        let o = env.run(&["upload", path_str(&a), "--tracker", "shop", "--yes"], KEY);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(5), "{t}");
        let pct = relative as f64 * 100.0 / rows as f64;
        assert!(
            t.contains(&format!(
                "only {pct:.1} % of the rows ({relative} of {rows}) name a product in the \
                 tracker's catalog"
            )),
            "{t}"
        );
        assert!(t.contains("fix: --identity-strip-host"), "{t}");
        assert!(t.contains("--allow-unknown-identities"), "{t}");
        assert_eq!(env.srv.uploads(), 0);
        assert!(env.history().is_empty());

        // the fix on the command line: the converted file matches and is sent
        let o = env.run(
            &[
                "upload",
                path_str(&a),
                "--tracker",
                "shop",
                "--yes",
                "--identity-strip-host",
            ],
            KEY,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_eq!(env.srv.uploads(), 1);
        let sent = std::fs::read_to_string(&env.history()[0].file).expect("converted file");
        assert!(!sent.contains("https://"), "{sent}");
        assert_eq!(sent.lines().count() as u64, rows);

        // allowed: another file of unknown identities is sent, with a warning
        let (b_text, _, _) = orders(401, 800);
        let b = env.file("b.csv", &b_text);
        let o = env.run(
            &[
                "upload",
                path_str(&b),
                "--tracker",
                "shop",
                "--yes",
                "--allow-unknown-identities",
            ],
            KEY,
        );
        let t = text(&o);
        assert_eq!(o.status.code(), Some(0), "{t}");
        assert!(
            t.contains("uploading anyway (--allow-unknown-identities)"),
            "{t}"
        );
        assert_eq!(env.srv.uploads(), 2);
    }
}
