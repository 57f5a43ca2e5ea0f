//! trackers.toml store and history.jsonl, through the public library API.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use lbimport::config::{
    Config, ConfigError, ConfigStore, History, HistoryEntry, KeySource, Outcome, PrivateKey,
    Tracker, sha256_file,
};
use lbimport::mapping::{Mapping, SavedMapping, Source};
use lbimport::read::Format;

const KEY: &str = "sk-CANARY-5e1d9b7a3c2f4e60";

fn sample_config() -> Config {
    let mut stored = Tracker::new("shop", "1292-9381", KeySource::Stored(PrivateKey::new(KEY)));
    stored.client_name = Some("MyApp".into());
    stored.last_dir = Some(PathBuf::from("/home/u/exports"));
    stored.mappings = vec![SavedMapping {
        shape: "csv;4;order,email,user,date".into(),
        mapping: Mapping {
            delimiter: ';',
            header: true,
            order_id: Source::Column(0),
            identity: Source::Key("sku".into()),
            user_id: None,
            created_at: Some(Source::Column(3)),
            time_format: Some("%d.%m.%Y %H:%M".into()),
            time_zone: Some("Europe/Bratislava".into()),
            encoding: None,
            items: None,
        },
    }];
    let mut env = Tracker::new("shop-test", "1292-1", KeySource::Env("LB_KEY".into()));
    env.base_url = "http://127.0.0.1:8080".into();
    let cmd = Tracker::new(
        "other",
        "77-88",
        KeySource::Command("pass show luigi/other".into()),
    );
    Config {
        theme: Some("light".into()),
        trackers: vec![stored, env, cmd],
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn round_trip_keeps_every_field() -> Result<(), ConfigError> {
    let tmp = tempfile::tempdir().map_err(|e| ConfigError::io("tmp", e))?;
    let store = ConfigStore::at(tmp.path().join("nested/conf"));
    let config = sample_config();
    store.save(&config)?;
    let loaded = store.load()?;
    assert_eq!(loaded.config, config);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

    let text = fs::read_to_string(store.path()).map_err(|e| ConfigError::io(store.path(), e))?;
    let theme_at = text.find("theme = \"light\"");
    let first_tracker = text.find("[[tracker]]");
    assert!(theme_at.is_some() && theme_at < first_tracker, "{text}");
    assert_eq!(text.matches("[[tracker]]").count(), 3);
    assert_eq!(text.matches("[[tracker.mappings]]").count(), 1);
    assert!(text.contains("private_key_env = \"LB_KEY\""));
    assert!(text.contains("private_key_command = \"pass show luigi/other\""));
    assert!(text.contains("base_url = \"https://live.luigisbox.com\""));
    assert!(text.contains("client_name = \"MyApp\""));

    // Saving what we loaded changes nothing.
    store.save(&loaded.config)?;
    let again = fs::read_to_string(store.path()).map_err(|e| ConfigError::io(store.path(), e))?;
    assert_eq!(again, text);
    Ok(())
}

#[test]
fn missing_file_is_an_empty_config() -> Result<(), ConfigError> {
    let tmp = tempfile::tempdir().map_err(|e| ConfigError::io("tmp", e))?;
    let loaded = ConfigStore::at(tmp.path()).load()?;
    assert_eq!(loaded.config, Config::default());
    assert!(loaded.warnings.is_empty());
    Ok(())
}

#[test]
fn permissions_are_private() -> Result<(), ConfigError> {
    let tmp = tempfile::tempdir().map_err(|e| ConfigError::io("tmp", e))?;
    let dir = tmp.path().join("lbimport");
    let store = ConfigStore::at(&dir);
    store.save(&sample_config())?;
    let mode = |p: &Path| fs::metadata(p).map(|m| m.permissions().mode() & 0o777).ok();
    assert_eq!(mode(store.path()), Some(0o600));
    assert_eq!(mode(&dir), Some(0o700));

    // A group/world-readable file holding a stored key gets a warning on load, like ssh.
    fs::set_permissions(store.path(), fs::Permissions::from_mode(0o644))
        .map_err(|e| ConfigError::io(store.path(), e))?;
    let loaded = store.load()?;
    assert_eq!(
        loaded.warnings,
        vec![format!(
            "{p} holds 1 stored private key(s) but is readable by other users (mode 644); run \
             `chmod 600 {p}`, or use --private-key-env / --private-key-command instead",
            p = store.path().display()
        )]
    );
    // Saving again restores 0600.
    store.save(&loaded.config)?;
    assert_eq!(mode(store.path()), Some(0o600));

    // Without a stored key, a readable file is fine.
    let mut cfg = sample_config();
    cfg.trackers.remove(0);
    store.save(&cfg)?;
    fs::set_permissions(store.path(), fs::Permissions::from_mode(0o644))
        .map_err(|e| ConfigError::io(store.path(), e))?;
    assert!(store.load()?.warnings.is_empty());
    Ok(())
}

#[test]
fn failed_save_leaves_old_file_and_no_temp() -> Result<(), ConfigError> {
    let tmp = tempfile::tempdir().map_err(|e| ConfigError::io("tmp", e))?;
    let store = ConfigStore::at(tmp.path());
    store.save(&sample_config())?;
    let before = fs::read(store.path()).map_err(|e| ConfigError::io(store.path(), e))?;

    // A path that is not UTF-8 cannot be written as TOML: serialization fails.
    let mut bad = sample_config();
    bad.trackers[1].last_dir = Some(PathBuf::from(std::ffi::OsStr::from_bytes(b"/x/\xff")));
    let err = store
        .save(&bad)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with(&format!(
            "cannot save {}: cannot be written as TOML",
            store.path().display()
        )),
        "{err}"
    );
    // A duplicate name is refused before anything is written.
    let mut dup = sample_config();
    dup.trackers[2].name = "shop".into();
    assert_eq!(
        store.save(&dup).err().map(|e| e.to_string()),
        Some(format!(
            "cannot save {}: two trackers are named \"shop\"; names must be unique",
            store.path().display()
        ))
    );
    let after = fs::read(store.path()).map_err(|e| ConfigError::io(store.path(), e))?;
    assert_eq!(after, before);
    // No temp file left (the lock file of concurrent updates stays, empty).
    assert_eq!(
        names(tmp.path()),
        vec![
            ".trackers.toml.lock".to_string(),
            "trackers.toml".to_string()
        ]
    );
    Ok(())
}

#[test]
fn bad_toml_names_file_line_and_field() -> Result<(), ConfigError> {
    let tmp = tempfile::tempdir().map_err(|e| ConfigError::io("tmp", e))?;
    let store = ConfigStore::at(tmp.path());
    let p = store.path().to_path_buf();
    let write = |s: &str| fs::write(&p, s).map_err(|e| ConfigError::io(&p, e));

    write(
        "theme = \"dark\"\n\n[[tracker]]\nname = \"shop\"\ntracker_id = \"1-2\"\nbase_url = 8080\nprivate_key_env = \"LB\"\n",
    )?;
    assert_eq!(
        store.load().err().map(|e| e.to_string()),
        Some(format!(
            "{}:6:12: tracker[0].base_url: invalid type: integer `8080`, expected a string",
            p.display()
        ))
    );

    write(
        "[[tracker]]\nname = \"shop\"\ntracker_id = \"1-2\"\nbase_url = \"ftp://x\"\nprivate_key_env = \"LB\"\n",
    )?;
    assert_eq!(
        store.load().err().map(|e| e.to_string()),
        Some(format!(
            "{}:4:12: tracker[0].base_url: must start with https:// or http://",
            p.display()
        ))
    );

    write(
        "[[tracker]]\nname = \"shop\"\ntracker_id = \"1-2\"\nprivate_key_env = \"LB\"\n[[tracker]\n",
    )?;
    let e = store
        .load()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.starts_with(&format!("{}:5:", p.display())), "{e}");
    Ok(())
}

#[test]
fn unknown_keys_are_warnings() -> Result<(), ConfigError> {
    let tmp = tempfile::tempdir().map_err(|e| ConfigError::io("tmp", e))?;
    let store = ConfigStore::at(tmp.path());
    fs::write(
        store.path(),
        "[[tracker]]\nname = \"a\"\ntracker_id = \"1\"\nprivate_key_env = \"X\"\n\n[[tracker]]\nname = \"b\"\ntracker_id = \"2\"\nprivate_key_command = \"true\"\nbase_ulr = \"http://x\"\n",
    )
    .map_err(|e| ConfigError::io(store.path(), e))?;
    let loaded = store.load()?;
    assert_eq!(loaded.config.trackers.len(), 2);
    assert_eq!(
        loaded.warnings,
        vec![format!(
            "{}:10: unknown key `tracker[1].base_ulr` ignored (check its spelling)",
            store.path().display()
        )]
    );
    Ok(())
}

#[test]
fn debug_never_shows_the_key() {
    let cfg = sample_config();
    for text in [
        format!("{cfg:?}"),
        format!("{cfg:#?}"),
        format!("{:?}", cfg.trackers[0]),
        format!("{:?}", cfg.trackers[0].key),
        cfg.trackers[0].key_source_label(),
    ] {
        assert!(!text.contains(KEY), "{text}");
        assert!(!text.contains("CANARY"), "{text}");
    }
    assert_eq!(cfg.trackers[0].key_source_label(), "stored");
}

#[test]
fn each_key_source_resolves() {
    let stored = Tracker::new("a", "1", KeySource::Stored(PrivateKey::new(KEY)));
    assert_eq!(
        stored.resolve_key().ok().map(|k| k.expose().to_vec()),
        Some(KEY.as_bytes().to_vec())
    );

    let cmd = Tracker::new(
        "b",
        "1",
        KeySource::Command(format!("printf '%s\\n' {KEY}")),
    );
    assert_eq!(
        cmd.resolve_key().ok().map(|k| k.expose().to_vec()),
        Some(KEY.as_bytes().to_vec())
    );

    let failing = Tracker::new(
        "c",
        "1",
        KeySource::Command(format!("echo {KEY}; echo 'no such entry' >&2; exit 1")),
    );
    let e = failing
        .resolve_key()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        e,
        "private key of tracker \"c\": its command failed (exit status 1): no such entry"
    );

    let slow = Tracker::new("d", "1", KeySource::Command("sleep 3".into()));
    let e = slow
        .resolve_key_with_timeout(std::time::Duration::from_millis(200))
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some(
            "private key of tracker \"d\": its command did not finish within 200 ms and was stopped"
        )
    );

    let env = Tracker::new(
        "e",
        "1",
        KeySource::Env("LBIMPORT_TEST_SURELY_UNSET".into()),
    );
    assert_eq!(
        env.resolve_key().err().map(|e| e.to_string()).as_deref(),
        Some(
            "private key of tracker \"e\": environment variable LBIMPORT_TEST_SURELY_UNSET is not set"
        )
    );
}

fn entry(minute: u32, tracker_id: &str, sha: &str, outcome: Outcome) -> HistoryEntry {
    HistoryEntry {
        time: Utc
            .with_ymd_and_hms(2026, 11, 1, 10, minute, 0)
            .single()
            .unwrap_or_default(),
        tracker_name: "shop".into(),
        tracker_id: tracker_id.into(),
        base_url: "https://live.luigisbox.com".into(),
        file: PathBuf::from("/data/purchases.csv"),
        bytes: 1234,
        sha256: sha.into(),
        format: Format::Csv,
        rows: Some(10),
        orders: Some(4),
        first_purchase: None,
        last_purchase: None,
        outcome,
        status: match outcome {
            Outcome::Accepted => Some(200),
            Outcome::Rejected => Some(400),
            _ => None,
        },
        duration_ms: 1500,
        detail: None,
        attempt: None,
        pid: None,
        report: None,
    }
}

#[test]
fn history_append_list_and_duplicates() -> Result<(), ConfigError> {
    let tmp = tempfile::tempdir().map_err(|e| ConfigError::io("tmp", e))?;
    let h = History::at(tmp.path().join("data"));
    assert_eq!(h.list()?, Vec::new());
    assert_eq!(h.find_duplicate("1-2", "aa")?, None);

    h.append(&entry(1, "1-2", "aa", Outcome::Failed))?;
    h.append(&entry(2, "1-2", "aa", Outcome::Accepted))?;
    h.append(&entry(3, "1-2", "aa", Outcome::Rejected))?;
    h.append(&entry(5, "1-2", "bb", Outcome::Unknown))?;
    h.append(&entry(4, "9-9", "cc", Outcome::Accepted))?;

    let list = h.list()?;
    let minutes: Vec<String> = list
        .iter()
        .map(|e| e.time.format("%M").to_string())
        .collect();
    assert_eq!(minutes, vec!["05", "04", "03", "02", "01"]);

    assert_eq!(
        h.find_duplicate("1-2", "aa")?.map(|e| (e.outcome, e.time)),
        Some((Outcome::Accepted, entry(2, "", "", Outcome::Accepted).time))
    );
    assert_eq!(
        h.find_duplicate("1-2", "BB")?.map(|e| e.outcome),
        Some(Outcome::Unknown)
    );
    assert_eq!(h.find_duplicate("9-9", "aa")?, None);
    assert_eq!(h.find_duplicate("1-2", "cc")?, None);
    h.append(&entry(9, "1-2", "aa", Outcome::Accepted))?;
    assert_eq!(
        h.find_duplicate("1-2", "aa")?
            .map(|e| e.time.format("%M").to_string()),
        Some("09".to_string())
    );

    let text = fs::read_to_string(h.path()).map_err(|e| ConfigError::io(h.path(), e))?;
    assert_eq!(text.lines().count(), 6);
    let first: serde_json::Value =
        serde_json::from_str(text.lines().next().unwrap_or("")).unwrap_or_default();
    assert_eq!(first["outcome"], "failed");
    assert_eq!(first["format"], "csv");
    assert_eq!(first["time"], "2026-11-01T10:01:00Z");
    assert_eq!(
        fs::metadata(h.path())
            .map(|m| m.permissions().mode() & 0o777)
            .ok(),
        Some(0o600)
    );
    Ok(())
}

#[test]
fn corrupt_history_lines_are_skipped() -> Result<(), ConfigError> {
    let tmp = tempfile::tempdir().map_err(|e| ConfigError::io("tmp", e))?;
    let h = History::at(tmp.path());
    h.append(&entry(1, "1-2", "aa", Outcome::Accepted))?;
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(h.path())
        .map_err(|e| ConfigError::io(h.path(), e))?;
    use std::io::Write;
    f.write_all(b"this is not json\n{\"time\": \"2026-11-01T10:00:00Z\", \"trac")
        .map_err(|e| ConfigError::io(h.path(), e))?;
    drop(f);
    // The torn last line does not swallow the next entry.
    h.append(&entry(2, "1-2", "bb", Outcome::Accepted))?;
    let (entries, warnings) = h.list_with_warnings()?;
    assert_eq!(entries.len(), 2);
    assert_eq!(warnings.len(), 2);
    assert!(
        warnings[0].starts_with(&format!(
            "{}:2: unreadable entry skipped",
            h.path().display()
        )),
        "{warnings:?}"
    );
    assert!(
        warnings[1].starts_with(&format!(
            "{}:3: unreadable entry skipped",
            h.path().display()
        )),
        "{warnings:?}"
    );
    assert_eq!(
        h.find_duplicate("1-2", "bb")?.map(|e| e.sha256),
        Some("bb".to_string())
    );
    Ok(())
}

#[test]
fn concurrent_appends_do_not_interleave() -> Result<(), ConfigError> {
    let tmp = tempfile::tempdir().map_err(|e| ConfigError::io("tmp", e))?;
    let dir = tmp.path().to_path_buf();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let h = History::at(dir);
                let mut ok = 0;
                for i in 0..100 {
                    let mut e = entry(i % 60, "1-2", &format!("{t}-{i}"), Outcome::Accepted);
                    e.detail = Some("x".repeat(3000));
                    if h.append(&e).is_ok() {
                        ok += 1;
                    }
                }
                ok
            })
        })
        .collect();
    let written: u32 = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    assert_eq!(written, 400);
    let (entries, warnings) = History::at(&dir).list_with_warnings()?;
    assert_eq!(entries.len(), 400);
    assert!(warnings.is_empty(), "{warnings:?}");
    // detail is bounded when stored.
    assert_eq!(
        entries[0].detail.as_ref().map(|d| d.chars().count()),
        Some(2001)
    );
    Ok(())
}

#[test]
fn sha256_of_a_file() -> std::io::Result<()> {
    let tmp = tempfile::tempdir()?;
    let p = tmp.path().join("f");
    fs::write(&p, b"abc")?;
    assert_eq!(
        sha256_file(&p)?,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    fs::write(&p, vec![b'x'; 600_000])?;
    assert_eq!(sha256_file(&p)?.len(), 64);
    fs::write(&p, b"")?;
    assert_eq!(
        sha256_file(&p)?,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    Ok(())
}
