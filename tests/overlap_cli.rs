//! The overlap guard from the command line: `validate --tracker`, `upload` refusing a file
//! whose orders were already sent, an unknown outcome counting as sent, a damaged set.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use lbimport::config::{ConfigStore, KeySource, PrivateKey, Tracker};
use lbimport::server::{self, Faults, Running};

const TRACKER: &str = "1292-9381";
const KEY: &str = "cli-test-private-key-7d1f3a";

struct Env {
    _rt: tokio::runtime::Runtime,
    srv: Running,
    dir: tempfile::TempDir,
}

impl Env {
    fn new(faults: Faults) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut cfg = server::Config::new(TRACKER, PrivateKey::new(KEY), dir.path().join("store"));
        cfg.validate = false;
        cfg.faults = faults;
        let srv = rt.block_on(server::start(cfg)).expect("sandbox");
        // A saved tracker "shop" pointing at the sandbox, key from LB_TEST_KEY.
        let store = ConfigStore::at(dir.path().join("config"));
        let mut t = Tracker::new("shop", TRACKER, KeySource::Env("LB_TEST_KEY".into()));
        t.base_url = srv.base_url.clone();
        let mut config = lbimport::config::Config::default();
        config.trackers.push(t);
        store.save(&config).expect("save config");
        Env { _rt: rt, srv, dir }
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
    assert!(text(&o).contains("1,000 of 1,500 orders"), "{}", text(&o));
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
    assert!(t.contains("1,000 on") && t.contains("1,500 on"), "{t}");

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
    // the damaged set is left as it is
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
}
