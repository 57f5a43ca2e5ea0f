//! `lbimport tracker …` and `lbimport history` end to end, and the private key never leaking.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{TimeZone, Utc};
use lbimport::config::{History, HistoryEntry, Outcome};
use lbimport::read::Format;

const KEY: &str = "sk-LEAKCANARY-7f3a9c2e1b58d4";

struct Env {
    _tmp: tempfile::TempDir,
    config: PathBuf,
    data: PathBuf,
    /// Everything any command printed, for the leak check.
    seen: String,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let config = tmp.path().join("conf");
        let data = tmp.path().join("data");
        Env {
            _tmp: tmp,
            config,
            data,
            seen: String::new(),
        }
    }

    fn run(&mut self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lbimport"));
        cmd.args(args)
            .env("LBIMPORT_CONFIG_DIR", &self.config)
            .env("LBIMPORT_DATA_DIR", &self.data)
            .env("LB_TEST_KEY", KEY)
            .env_remove("LB_UNSET_VAR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
        if let Some(mut i) = child.stdin.take()
            && let Some(s) = stdin
        {
            let _ = i.write_all(s.as_bytes());
        }
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("wait: {e}"));
        let o = Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.seen
            .push_str(&format!("$ {args:?}\n{}\n{}\n", o.stdout, o.stderr));
        o
    }

    fn trackers_toml(&self) -> PathBuf {
        self.config.join("trackers.toml")
    }
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                all_files(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

#[test]
fn tracker_commands_and_key_never_leaks() {
    let mut env = Env::new();

    // Empty list.
    let o = env.run(&["tracker", "list"], None);
    assert_eq!(o.code, 0);
    assert!(o.stdout.starts_with("No saved trackers."), "{}", o.stdout);
    let o = env.run(&["tracker", "list", "--json"], None);
    assert_eq!((o.code, o.stdout.trim()), (0, "[]"));

    // Add with the key on stdin (as `pass show x | lbimport tracker add …` would).
    let o = env.run(
        &[
            "tracker",
            "add",
            "shop",
            "--tracker-id",
            "1292-9381",
            "--private-key-stdin",
        ],
        Some(&format!("{KEY}\nsecond line is ignored\n")),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout.trim(),
        format!(
            "Saved tracker \"shop\" (1292-9381, https://live.luigisbox.com, key: stored) in {}",
            env.trackers_toml().display()
        )
    );

    // Env and command sources; --base-url trailing slash is dropped.
    let o = env.run(
        &[
            "tracker",
            "add",
            "shop-test",
            "--tracker-id",
            "1292-1",
            "--base-url",
            "http://127.0.0.1:8080/",
            "--private-key-env",
            "LB_UNSET_VAR",
            "--client-name",
            "MyApp",
        ],
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stderr.trim(),
        "lbimport: note: LB_UNSET_VAR is not set in this shell; set it before uploading to \"shop-test\""
    );
    let o = env.run(
        &[
            "tracker",
            "add",
            "vault",
            "--tracker-id",
            "55-66",
            "--private-key-command",
            "printf '%s\\n' \"$LB_TEST_KEY\"",
        ],
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);

    // Duplicates, missing key source, two key sources, bad values.
    let o = env.run(
        &[
            "tracker",
            "add",
            "shop",
            "--tracker-id",
            "1",
            "--private-key-env",
            "X",
        ],
        None,
    );
    assert_eq!(
        (o.code, o.stderr.trim()),
        (2, "lbimport: a tracker named \"shop\" already exists")
    );
    let o = env.run(&["tracker", "add", "x", "--tracker-id", "1"], None);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("give the private key's source"),
        "{}",
        o.stderr
    );
    let o = env.run(
        &[
            "tracker",
            "add",
            "x",
            "--tracker-id",
            "1",
            "--private-key-env",
            "A",
            "--private-key-stdin",
        ],
        Some(KEY),
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = env.run(
        &[
            "tracker",
            "add",
            "x",
            "--tracker-id",
            "1",
            "--base-url",
            "live.luigisbox.com",
            "--private-key-env",
            "A",
        ],
        None,
    );
    assert_eq!(
        (o.code, o.stderr.trim()),
        (2, "lbimport: invalid base_url: relative URL without a base")
    );
    let o = env.run(
        &[
            "tracker",
            "add",
            "empty",
            "--tracker-id",
            "1",
            "--private-key-stdin",
        ],
        Some("\n"),
    );
    assert_eq!(
        (o.code, o.stderr.trim()),
        (2, "lbimport: stdin has no key on its first line")
    );

    // Human table, masked.
    let o = env.run(&["tracker", "list"], None);
    assert_eq!(o.code, 0);
    assert_eq!(
        o.stdout,
        "NAME       TRACKER ID  BASE URL                    KEY\n\
         shop       1292-9381   https://live.luigisbox.com  stored\n\
         shop-test  1292-1      http://127.0.0.1:8080       env:LB_UNSET_VAR\n\
         vault      55-66       https://live.luigisbox.com  command\n"
    );

    // JSON list.
    let o = env.run(&["tracker", "list", "--json"], None);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap_or_default();
    assert_eq!(v.as_array().map(Vec::len), Some(3));
    assert_eq!(v[0]["name"], "shop");
    assert_eq!(v[0]["key_source"], "stored");
    assert_eq!(v[0]["key_kind"], "stored");
    assert_eq!(v[0]["client_name"], "ApiAuth");
    assert_eq!(v[1]["private_key_env"], "LB_UNSET_VAR");
    assert_eq!(v[1]["client_name"], "MyApp");
    assert_eq!(v[1]["base_url"], "http://127.0.0.1:8080");
    assert_eq!(v[2]["key_kind"], "command");
    assert_eq!(v[2]["mapping_count"], 0);

    // Show, human and JSON.
    let o = env.run(&["tracker", "show", "shop"], None);
    assert_eq!(o.code, 0);
    assert!(
        o.stdout.contains("tracker id:   1292-9381\n"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("private key:  stored\n"), "{}", o.stdout);
    let o = env.run(&["tracker", "show", "vault", "--json"], None);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap_or_default();
    assert_eq!(v["tracker_id"], "55-66");
    assert_eq!(v["private_key_command"], "printf '%s\\n' \"$LB_TEST_KEY\"");
    assert_eq!(v["mappings"], serde_json::json!([]));
    let o = env.run(&["tracker", "show", "nope"], None);
    assert_eq!(
        (o.code, o.stderr.trim()),
        (
            2,
            "lbimport: no tracker named \"nope\" (see `lbimport tracker list`)"
        )
    );

    // Edit: rename, new key from stdin, nothing to change.
    let o = env.run(
        &[
            "tracker",
            "edit",
            "shop-test",
            "--rename",
            "staging",
            "--tracker-id",
            "1292-2",
        ],
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = env.run(
        &["tracker", "edit", "staging", "--private-key-stdin"],
        Some(KEY),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout.trim(),
        "Updated tracker \"staging\" (1292-2, http://127.0.0.1:8080, key: stored)"
    );
    let o = env.run(&["tracker", "edit", "staging"], None);
    assert_eq!(o.code, 2);
    let o = env.run(&["tracker", "edit", "staging", "--rename", "vault"], None);
    assert_eq!(
        (o.code, o.stderr.trim()),
        (2, "lbimport: a tracker named \"vault\" already exists")
    );

    // Remove.
    let o = env.run(&["tracker", "remove", "vault"], None);
    assert_eq!(
        (o.code, o.stdout.trim()),
        (0, "Removed tracker \"vault\" (55-66)")
    );
    let o = env.run(&["tracker", "remove", "vault"], None);
    assert_eq!(o.code, 2);

    // History with entries.
    let h = History::at(&env.data);
    for (i, outcome) in [Outcome::Accepted, Outcome::Rejected]
        .into_iter()
        .enumerate()
    {
        let e = HistoryEntry {
            time: Utc
                .with_ymd_and_hms(2026, 11, 2, 9, i as u32, 0)
                .single()
                .unwrap_or_default(),
            tracker_name: "shop".into(),
            tracker_id: "1292-9381".into(),
            base_url: "https://live.luigisbox.com".into(),
            file: PathBuf::from("/data/p.csv"),
            bytes: 2_500_000,
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            format: Format::Csv,
            rows: Some(120_000),
            orders: Some(40_000),
            first_purchase: None,
            last_purchase: None,
            outcome,
            status: Some(if i == 0 { 200 } else { 400 }),
            duration_ms: 2100,
            detail: None,
            attempt: None,
            pid: None,
            report: None,
        };
        assert!(h.append(&e).is_ok());
    }
    let o = env.run(&["history"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout,
        "TIME (UTC)           TRACKER  OUTCOME       BYTES    ROWS    ORDERS  PURCHASES (FIRST – LAST)  SHA256        FILE\n\
         2026-11-02 09:01:00  shop     rejected 400  2.50 MB  120000  40000   —                         9f86d081884c  /data/p.csv\n\
         2026-11-02 09:00:00  shop     accepted 200  2.50 MB  120000  40000   —                         9f86d081884c  /data/p.csv\n"
    );
    let o = env.run(&["history", "--json", "--tracker", "shop"], None);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap_or_default();
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    assert_eq!(v[0]["outcome"], "rejected");
    assert_eq!(v[1]["status"], 200);
    let o = env.run(&["history", "--tracker", "staging"], None);
    assert_eq!(o.stdout.trim(), "No uploads recorded for \"staging\".");

    // A config readable by others with stored keys: warning, still works.
    use std::os::unix::fs::PermissionsExt;
    let toml_path = env.trackers_toml();
    let _ = fs::set_permissions(&toml_path, fs::Permissions::from_mode(0o644));
    let o = env.run(&["tracker", "list"], None);
    assert_eq!(o.code, 0);
    assert!(
        o.stderr
            .contains("holds 2 stored private key(s) but is readable by other users (mode 644)"),
        "{}",
        o.stderr
    );
    let _ = fs::set_permissions(&toml_path, fs::Permissions::from_mode(0o600));

    // Hand edits: a typo'd key is a warning; broken TOML is an error with line and column.
    let good = fs::read_to_string(&toml_path).unwrap_or_default();
    assert_eq!(good.matches(KEY).count(), 2, "{good}");
    let _ = fs::write(&toml_path, format!("{good}privat_key = \"{KEY}\"\n"));
    let o = env.run(&["tracker", "list"], None);
    assert_eq!(o.code, 0);
    let typo_line = good.lines().count() + 1;
    assert_eq!(
        o.stderr.trim(),
        format!(
            "lbimport: warning: {}:{typo_line}: unknown key `tracker[1].privat_key` ignored (check its spelling)",
            toml_path.display()
        )
    );
    let broken = good.replacen(
        &format!("private_key = \"{KEY}\""),
        &format!("private_key = \"{KEY}"),
        1,
    );
    let _ = fs::write(&toml_path, &broken);
    let o = env.run(&["tracker", "list"], None);
    assert_eq!(o.code, 1);
    let bad_line = broken
        .lines()
        .position(|l| l.starts_with("private_key ="))
        .map(|i| i + 1)
        .unwrap_or(0);
    assert!(
        o.stderr
            .starts_with(&format!("lbimport: {}:{bad_line}:", toml_path.display())),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("private_key: "), "{}", o.stderr);
    assert_eq!(o.stderr.lines().count(), 1);
    let _ = fs::write(&toml_path, &good);

    // The key appears in no output, and in no file except trackers.toml.
    assert!(
        !env.seen.contains(KEY),
        "key leaked in output:\n{}",
        env.seen
    );
    assert!(!env.seen.contains("LEAKCANARY"), "key leaked in output");
    let mut files = Vec::new();
    all_files(&env.config, &mut files);
    all_files(&env.data, &mut files);
    assert!(files.len() >= 2, "{files:?}");
    for f in files {
        let text = String::from_utf8_lossy(&fs::read(&f).unwrap_or_default()).into_owned();
        if f == toml_path {
            assert!(text.contains(KEY));
        } else {
            assert!(!text.contains(KEY), "key found in {}", f.display());
        }
    }
}

#[test]
fn twenty_parallel_tracker_adds_all_survive() {
    let env = Env::new();
    let kids: Vec<_> = (0..20)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_lbimport"))
                .args([
                    "tracker",
                    "add",
                    &format!("shop{i}"),
                    "--tracker-id",
                    &format!("{i}-1"),
                    "--private-key-env",
                    "LB_TEST_KEY",
                ])
                .env("LBIMPORT_CONFIG_DIR", &env.config)
                .env("LBIMPORT_DATA_DIR", &env.data)
                .env("LB_TEST_KEY", KEY)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn: {e}"))
        })
        .collect();
    for k in kids {
        let o = k.wait_with_output().unwrap_or_else(|e| panic!("wait: {e}"));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let loaded = lbimport::config::ConfigStore::at(&env.config)
        .load()
        .unwrap_or_else(|e| panic!("load: {e}"));
    let mut names: Vec<_> = loaded
        .config
        .trackers
        .iter()
        .map(|t| t.name.clone())
        .collect();
    names.sort();
    let mut want: Vec<_> = (0..20).map(|i| format!("shop{i}")).collect();
    want.sort();
    assert_eq!(names, want);
}

#[test]
fn a_save_merged_from_an_old_copy_keeps_trackers_added_meanwhile() {
    use lbimport::config::{Config, ConfigStore, KeySource, Tracker};
    let env = Env::new();
    let store = ConfigStore::at(&env.config);
    let t = |name: &str, id: &str| Tracker::new(name, id, KeySource::Env("LB_TEST_KEY".into()));
    let mut base = Config::default();
    base.trackers.push(t("old", "1-1"));
    base.trackers.push(t("gone", "1-3"));
    store.save(&base).unwrap_or_else(|e| panic!("save: {e}"));
    // Another process adds "cli" after the wizard read the file.
    store
        .update(|c| c.add_tracker(t("cli", "1-2")))
        .unwrap_or_else(|e| panic!("update: {e}"));
    // The wizard, from its old copy, edits "old", removes "gone" and adds "wiz".
    let mut mine = base.clone();
    mine.trackers[0].client_name = Some("Shop".into());
    mine.trackers.retain(|t| t.name != "gone");
    mine.trackers.push(t("wiz", "1-4"));
    let merged = store
        .save_merged(&base, &mine)
        .unwrap_or_else(|e| panic!("merge: {e}"));
    let names: Vec<_> = merged.trackers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["old", "cli", "wiz"]);
    assert_eq!(merged.trackers[0].client_name.as_deref(), Some("Shop"));
    let on_disk = store.load().unwrap_or_else(|e| panic!("load: {e}")).config;
    assert_eq!(on_disk, merged);
}

#[cfg(unix)]
#[test]
fn a_symlinked_config_is_written_through_the_link() {
    use lbimport::config::{Config, ConfigStore, KeySource, Tracker};
    let env = Env::new();
    fs::create_dir_all(&env.config).unwrap_or_else(|e| panic!("mkdir: {e}"));
    let real = env.data.join("dotfiles-trackers.toml");
    fs::create_dir_all(&env.data).unwrap_or_else(|e| panic!("mkdir: {e}"));
    fs::write(&real, "").unwrap_or_else(|e| panic!("write: {e}"));
    let link = env.config.join("trackers.toml");
    std::os::unix::fs::symlink(&real, &link).unwrap_or_else(|e| panic!("symlink: {e}"));
    let mut c = Config::default();
    c.trackers.push(Tracker::new(
        "a",
        "1-1",
        KeySource::Env("LB_TEST_KEY".into()),
    ));
    ConfigStore::at(&env.config)
        .save(&c)
        .unwrap_or_else(|e| panic!("save: {e}"));
    assert!(
        fs::symlink_metadata(&link)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false)
    );
    assert!(
        fs::read_to_string(&real)
            .unwrap_or_default()
            .contains("name = \"a\"")
    );
}
