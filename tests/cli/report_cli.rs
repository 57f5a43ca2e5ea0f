//! `lbimport report` as a user runs it (text, JSON, comparison, refusals), and the reports that
//! uploads save and link from the history (CLI and wizard, against the sandbox server).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use lbimport::config::{ConfigStore, History, KeySource, Outcome, PrivateKey, Tracker};
use lbimport::tui::app::Step;

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lbimport"))
        .args(args)
        .current_dir(dir)
        .env("LBIMPORT_CONFIG_DIR", dir.join("config"))
        .env("LBIMPORT_DATA_DIR", dir.join("data"))
        .env("LB_TEST_KEY", KEY)
        .stdin(Stdio::null())
        .output()
        .expect("run lbimport")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const KEY: &str = "report-test-private-key-51ac";
// 3 orders: 1 has /p/a,/p/b (1 pair), 2 has /p/a, 3 has /p/c,/p/d,/p/e (3 pairs)
const OCT: &str = "1,/p/a,u1,2026-10-01 10:00:00\n1,/p/b,u1,2026-10-01 10:00:00\n2,/p/a,u2,2026-10-02 11:00:00\n3,/p/c,u3,2026-10-03 12:00:00\n3,/p/d,u3,2026-10-03 12:00:00\n3,/p/e,u3,2026-10-03 12:00:00\n";
// 2 orders: 1 has /p/a,/p/x (1 pair), 2 has /p/a; one row with a zoned timestamp (an error)
const SEP: &str = "1,/p/a,u1,2026-09-01 10:00:00\n1,/p/x,u1,2026-09-01 10:00:00\n2,/p/a,u2,2026-09-02T11:00:00Z\n";

fn validated(dir: &Path, name: &str, body: &str) -> PathBuf {
    std::fs::write(dir.join(name), body).expect("write");
    let report = dir.join(format!("{name}.report.json"));
    let o = run(
        dir,
        &[
            "validate",
            name,
            "--report-out",
            report.to_str().expect("utf-8"),
        ],
    );
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", err(&o));
    report
}

#[test]
fn text_is_the_text_report_of_validate() {
    let d = tempfile::tempdir().expect("tmp");
    let r = validated(d.path(), "oct.csv", OCT);
    let v = run(d.path(), &["validate", "oct.csv"]);
    let o = run(d.path(), &["report", r.to_str().expect("utf-8"), "--text"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), out(&v));
    assert!(
        out(&o).contains("Rows              6 (6 valid, 0 invalid)"),
        "{}",
        out(&o)
    );
}

#[test]
fn against_json_gives_the_differences() {
    let d = tempfile::tempdir().expect("tmp");
    let new = validated(d.path(), "oct.csv", OCT);
    let old = validated(d.path(), "sep.csv", SEP);
    let o = run(
        d.path(),
        &[
            "report",
            new.to_str().expect("utf-8"),
            "--against",
            old.to_str().expect("utf-8"),
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let c = &v["counters"];
    assert_eq!(
        (c["rows"]["old"].as_u64(), c["rows"]["new"].as_u64()),
        (Some(3), Some(6))
    );
    assert_eq!(c["rows"]["delta"], 3);
    assert_eq!(c["rows"]["percent"], 100.0);
    // the zoned row is invalid, so SEP's valid rows name 1 order with 2 items… and order 2 is gone
    assert_eq!(c["orders"]["old"], 1);
    assert_eq!(c["orders"]["new"], 3);
    assert_eq!(c["pairs"]["old"], 1);
    assert_eq!(c["pairs"]["new"], 4);
    assert_eq!(c["multi_item_orders"]["new"], 2);
    assert_eq!(c["products"]["old"], 2);
    assert_eq!(c["products"]["new"], 5);
    assert_eq!(c["users"]["new"], 3);
    assert_eq!(v["issues"]["timestamp_zone"]["old"], 1);
    assert_eq!(v["issues"]["timestamp_zone"]["new"], 0);
    assert_eq!(v["verdict"]["old"], "errors");
    assert_eq!(v["date_range"]["new"]["first"], "2026-10-01 10:00:00");
    assert_eq!(v["date_range"]["new"]["last"], "2026-10-03 12:00:00");
    assert_eq!(v["date_range"]["old"]["last"], "2026-09-01 10:00:00");
    let mut appearing: Vec<&str> = v["top_products"]["appearing"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    appearing.sort_unstable();
    assert_eq!(appearing, ["/p/b", "/p/c", "/p/d", "/p/e"]);
    assert_eq!(
        v["top_products"]["disappearing"],
        serde_json::json!(["/p/x"])
    );
    // without --json (not a terminal): the same comparison as text
    let t = run(
        d.path(),
        &[
            "report",
            new.to_str().expect("utf-8"),
            "--against",
            old.to_str().expect("utf-8"),
        ],
    );
    assert!(out(&t).contains("+3 (+100.0%)"), "{}", out(&t));
}

#[test]
fn a_file_that_is_not_a_report_says_so_in_one_line_and_exits_2() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(d.path().join("oct.csv"), OCT).expect("write");
    let o = run(d.path(), &["report", "oct.csv", "--text"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        err(&o),
        "lbimport: report: oct.csv is not an lbimport report: it is not a JSON object\n"
    );
    std::fs::write(d.path().join("x.json"), "{\"verdict\": \"ok\"}").expect("write");
    let o = run(d.path(), &["report", "x.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(err(&o).lines().count(), 1, "{}", err(&o));
    assert!(err(&o).contains("missing field `file`"), "{}", err(&o));
    let o = run(d.path(), &["report", "missing.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).starts_with("lbimport: report: cannot read missing.json:"));
}

#[test]
fn a_report_from_a_newer_version_opens_and_names_the_unknown_fields() {
    let d = tempfile::tempdir().expect("tmp");
    let r = validated(d.path(), "oct.csv", OCT);
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&r).expect("read")).expect("json");
    v["catalog_match"] = serde_json::json!({"matched": 5});
    v["stats"]["revenue"] = serde_json::json!(10.5);
    std::fs::write(&r, serde_json::to_vec(&v).expect("json")).expect("write");
    let o = run(d.path(), &["report", r.to_str().expect("utf-8"), "--text"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("Orders            3"), "{}", out(&o));
    assert!(
        err(&o)
            .contains("was made by a newer lbimport; ignored fields: catalog_match, stats.revenue"),
        "{}",
        err(&o)
    );
}

#[test]
fn validate_records_when_and_where_and_list_shows_it() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(d.path().join("data/reports")).expect("mkdir");
    std::fs::write(d.path().join("oct.csv"), OCT).expect("write");
    let o = run(
        d.path(),
        &[
            "validate",
            "oct.csv",
            "--report-out",
            "data/reports/oct.json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(d.path().join("data/reports/oct.json")).expect("read"),
    )
    .expect("json");
    assert!(v["validated_at"].is_string());
    let abs = std::fs::canonicalize(d.path().join("oct.csv")).expect("abs");
    assert_eq!(v["file_absolute"], abs.display().to_string());
    let o = run(d.path(), &["report", "--json"]);
    let l: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(l.as_array().map(Vec::len), Some(1), "{l}");
    assert_eq!(l[0]["rows"], 6);
    assert_eq!(l[0]["orders"], 3);
    // fewer than 1,000 multi-item orders: a few_co_purchases warning
    assert_eq!(l[0]["verdict"], "warnings");
}

fn sandbox_tracker(dir: &Path) -> (tokio::runtime::Runtime, lbimport::server::Running) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let cfg = lbimport::server::Config::new("1292-9381", PrivateKey::new(KEY), dir.join("store"));
    let srv = rt.block_on(lbimport::server::start(cfg)).expect("sandbox");
    let store = ConfigStore::at(dir.join("config"));
    let mut t = Tracker::new("shop", "1292-9381", KeySource::Env("LB_TEST_KEY".into()));
    t.base_url = srv.base_url.clone();
    let mut config = lbimport::config::Config::default();
    config.trackers.push(t);
    store.save(&config).expect("save config");
    (rt, srv)
}

#[test]
fn a_cli_upload_saves_its_report_and_links_it_from_the_history() {
    let d = tempfile::tempdir().expect("tmp");
    let (_rt, srv) = sandbox_tracker(d.path());
    std::fs::write(d.path().join("oct.csv"), OCT).expect("write");
    let o = run(
        d.path(),
        &["upload", "oct.csv", "--tracker", "shop", "--yes"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert_eq!(srv.uploads(), 1);
    let h = History::at(d.path().join("data")).list().expect("history");
    assert_eq!(h.len(), 1);
    let link = h[0].report.clone().expect("report link");
    assert!(
        link.starts_with(d.path().join("data/reports")),
        "{}",
        link.display()
    );
    let r = lbimport::report_store::load(&link).expect("load");
    assert_eq!(r.report.file.sha256, h[0].sha256);
    assert_eq!(r.report.stats.rows, 6);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&link).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // and `report --text` lists it with its upload
    let o = run(d.path(), &["report", "--text"]);
    assert!(out(&o).contains("oct.csv"), "{}", out(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewed_report_goes_to_confirm_without_validating_and_the_upload_links_it() {
    let mut h = common::Harness::new(lbimport::config::Config::default());
    let path = h.write("oct.csv", OCT);
    let mut report =
        lbimport::validate::validate_path(&path, &lbimport::validate::Options::default(), None)
            .expect("validate");
    lbimport::report_store::stamp(&mut report);
    assert_eq!(
        lbimport::report_store::check_file(&report, &Default::default()),
        lbimport::report_store::FileCheck::Unchanged
    );
    h.app.reviewed = Some(std::sync::Arc::new(report.clone()));
    let fx = h.app.start(Some("Sandbox"), Some(path.clone()));
    h.driver.execute(fx);
    h.pump_until("Confirm", |a| matches!(a.step(), Step::Confirm(_)))
        .await;
    // no validation ran: the Validate view holds the saved report itself
    let v = h.app.validate().expect("view");
    assert_eq!(
        v.report().map(|r| r.validated_at),
        Some(report.validated_at)
    );
    h.pump_until("the clock check", |a| {
        a.confirm().is_some_and(|c| c.skew.is_some())
    })
    .await;
    h.press(common::ch('y'));
    h.pump_until("the result", |a| matches!(a.step(), Step::Result(_)))
        .await;
    let hist = History::at(&h.data).list().expect("history");
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].outcome, Outcome::Accepted);
    let link = hist[0].report.clone().expect("report link");
    let saved = lbimport::report_store::load(&link).expect("load");
    assert_eq!(saved.report.stats, report.stats);
    assert_eq!(saved.report.validated_at, report.validated_at);
}

#[test]
fn enter_in_the_wizard_history_opens_the_entrys_report() {
    use crossterm::event::KeyCode;
    let mut h = common::Harness::new(lbimport::config::Config::default());
    let path = h.write("oct.csv", OCT);
    let report =
        lbimport::validate::validate_path(&path, &lbimport::validate::Options::default(), None)
            .expect("validate");
    let saved = lbimport::report_store::save(&h.data.join("reports"), &report).expect("save");
    let mut with = lbimport::tui::demo::demo_history_entry();
    with.report = Some(saved);
    let mut without = with.clone();
    without.report = None;
    h.app.history = vec![with, without];
    h.press(common::ch('h'));
    h.press(common::key(KeyCode::Enter));
    assert!(h.app.report_viewer.is_some());
    let s = common::screen(&h.app);
    assert!(s.contains("Saved report"), "{s}");
    assert!(s.contains("rows         6"), "{s}");
    assert!(
        s.contains("not checked (shown from the upload history)"),
        "{s}"
    );
    // `c` explains instead of uploading; Esc goes back to the history
    h.press(common::ch('c'));
    let s = common::screen(&h.app);
    assert!(
        s.contains("cannot continue: this report is shown from the history"),
        "{s}"
    );
    h.press(common::key(KeyCode::Esc));
    assert!(h.app.report_viewer.is_none());
    assert!(common::screen(&h.app).contains("Upload history (2)"));
    // the second entry has no report: a notice says so
    h.press(common::key(KeyCode::Down));
    h.press(common::key(KeyCode::Enter));
    assert!(h.app.report_viewer.is_none());
    assert_eq!(
        h.app.notice.as_deref(),
        Some("this upload has no saved report (older lbimport, or sent with --no-validate)")
    );
}

#[test]
fn check_exits_0_when_unchanged_and_1_with_the_reason_when_not() {
    let d = tempfile::tempdir().expect("tmp");
    let r = validated(d.path(), "oct.csv", OCT);
    let r = r.to_str().expect("utf-8");
    let o = run(d.path(), &["report", r, "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let abs = std::fs::canonicalize(d.path().join("oct.csv")).expect("abs");
    assert!(
        out(&o).starts_with(&format!(
            "unchanged: {} ({} bytes, sha256 ",
            abs.display(),
            OCT.len()
        )),
        "{}",
        out(&o)
    );
    std::fs::write(
        d.path().join("oct.csv"),
        format!("{OCT}4,/p/z,u4,2026-10-04 10:00:00\n"),
    )
    .expect("write");
    let o = run(d.path(), &["report", r, "--check"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        err(&o),
        format!(
            "lbimport: report: the file changed since it was validated ({} bytes now, {} then) — validate it again\n",
            OCT.len() + "4,/p/z,u4,2026-10-04 10:00:00\n".len(),
            OCT.len()
        )
    );
    std::fs::remove_file(d.path().join("oct.csv")).expect("rm");
    let o = run(d.path(), &["report", r, "--check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("no longer exists"), "{}", err(&o));
}

/// The report of a split file is a list of part reports: `--part N` opens one (part 1 by
/// default), and a part that does not exist is one line and exit 2.
#[test]
fn a_split_files_report_opens_part_by_part() {
    let d = tempfile::tempdir().expect("tmp");
    let a = validated(d.path(), "oct.csv", OCT);
    let b = validated(d.path(), "sep.csv", SEP);
    let list = format!(
        "[{}, {}]",
        std::fs::read_to_string(&a).expect("a"),
        std::fs::read_to_string(&b).expect("b")
    );
    std::fs::write(d.path().join("parts.json"), list).expect("write");
    let one = run(d.path(), &["report", "parts.json", "--text"]);
    assert_eq!(one.status.code(), Some(0), "{}", err(&one));
    assert_eq!(
        out(&one),
        out(&run(
            d.path(),
            &["report", a.to_str().expect("a"), "--text"]
        ))
    );
    let two = run(d.path(), &["report", "parts.json", "--part", "2", "--text"]);
    assert_eq!(two.status.code(), Some(0), "{}", err(&two));
    assert_eq!(
        out(&two),
        out(&run(
            d.path(),
            &["report", b.to_str().expect("b"), "--text"]
        ))
    );
    let three = run(d.path(), &["report", "parts.json", "--part", "3", "--text"]);
    assert_eq!(three.status.code(), Some(2));
    assert!(
        err(&three).contains("holds 2 part reports; there is no part 3"),
        "{}",
        err(&three)
    );
}
