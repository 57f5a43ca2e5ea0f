//! The wizard's state machine driven by key events without a terminal: `App::handle` for the
//! state, `Driver` for the real effects (validator thread, in-process sandbox server, history).

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lbimport::config::{Config, History, KeySource, Outcome, Tracker, sha256_file};
use lbimport::tui::app::{App, Context, Effect, Input, Overlay, Step};
use lbimport::tui::services::UploadOutcome;
use lbimport::tui::theme::Theme;

use crate::common;

use common::{Harness, ch, key, screen, shop_export};

fn valid_csv() -> String {
    let mut s = String::new();
    for o in 0..200u32 {
        for i in 0..3u32 {
            s.push_str(&format!(
                "{},/p/{},u{},2024-05-{:02} 10:{:02}:00\n",
                1000 + o,
                (o * 7 + i * 13) % 97,
                o % 50,
                1 + o % 28,
                i
            ));
        }
    }
    s
}

fn saved_tracker() -> Config {
    Config {
        theme: None,
        trackers: vec![Tracker::new(
            "shop",
            "1292-9381",
            KeySource::Env("LBIMPORT_TEST_NO_SUCH_VAR".into()),
        )],
    }
}

fn step(app: &App) -> &'static str {
    app.step().name()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_file_is_accepted_by_the_sandbox_byte_for_byte() {
    let mut h = Harness::new(Config::default());
    let path = h.write("orders.csv", &valid_csv());
    let sha = sha256_file(&path).expect("sha");
    // Tracker: no saved tracker, the Sandbox row is selected.
    h.open_files().await;
    let t = h.app.step().tracker().expect("tracker").clone();
    assert!(t.sandbox);
    assert!(
        t.tracker.base_url.starts_with("http://127.0.0.1:"),
        "{}",
        t.tracker.base_url
    );
    h.choose("orders");
    assert_eq!(step(&h.app), "Validate");
    h.pump_until("the report", |a| {
        a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    let report = h
        .app
        .validate()
        .and_then(|v| v.report().cloned())
        .expect("report");
    assert_eq!(report.stats.rows, 600);
    assert_eq!(report.stats.orders, 200);
    assert_eq!(report.file.sha256, sha);
    h.press(ch('c'));
    assert_eq!(step(&h.app), "Confirm");
    assert!(h.app.confirm().is_some_and(|c| c.duplicate.is_none()));
    // The sandbox's clock is ours: the measured skew is small.
    h.pump_until("the clock check", |a| {
        a.confirm().is_some_and(|c| c.skew.is_some())
    })
    .await;
    let skew = h.app.confirm().and_then(|c| c.skew.clone());
    assert!(
        matches!(skew, Some(Ok(ms)) if ms.abs() <= 1_000),
        "{skew:?}"
    );
    let s = screen(&h.app);
    assert!(s.contains("(within ±5 s)"), "{s}");
    h.press(ch('y'));
    assert_eq!(step(&h.app), "Upload");
    h.pump_until("the result", |a| matches!(a.step(), Step::Result(_)))
        .await;
    let Step::Result(r) = h.app.step() else {
        unreachable!()
    };
    let outcome = &r.outcome;
    match outcome {
        UploadOutcome::Accepted { status, bytes, .. } => {
            assert_eq!(*status, 200);
            assert_eq!(*bytes, std::fs::metadata(&path).expect("meta").len());
        }
        other => panic!("not accepted: {other:?}"),
    }
    let received = h.driver.sandbox_received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].sha256, sha);
    assert_eq!(
        received[0].bytes,
        std::fs::metadata(&path).expect("meta").len()
    );
    let hist = History::at(&h.data).list().expect("history");
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].outcome, Outcome::Accepted);
    assert_eq!(hist[0].sha256, sha);
    assert_eq!(hist[0].rows, Some(600));
    assert_eq!(h.app.history.len(), 1);

    // The same bytes again: Confirm shows the duplicate and `y` alone does not upload.
    h.press(ch('f'));
    assert_eq!(step(&h.app), "File");
    h.press(key(KeyCode::Enter));
    h.pump_until("the second report", |a| {
        a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    h.press(ch('c'));
    assert_eq!(step(&h.app), "Confirm");
    let dup = h
        .app
        .confirm()
        .and_then(|c| c.duplicate.clone())
        .expect("duplicate warning");
    assert_eq!(dup.sha256, sha);
    h.press(ch('y'));
    assert_eq!(
        step(&h.app),
        "Confirm",
        "y alone must not upload a duplicate"
    );
    h.press(ch('D'));
    // the same orders were recorded as sent by the first upload: A as well
    assert_eq!(h.app.confirm().map(|c| c.guard.sent_orders), Some(200));
    h.press(ch('y'));
    assert_eq!(
        step(&h.app),
        "Confirm",
        "D alone must not send orders again"
    );
    h.press(ch('A'));
    h.press(ch('y'));
    assert_eq!(step(&h.app), "Upload");
    h.pump_until("the second result", |a| matches!(a.step(), Step::Result(_)))
        .await;
    assert_eq!(h.driver.sandbox_received().len(), 2);
    assert_eq!(History::at(&h.data).list().expect("history").len(), 2);
    assert!(h.press(key(KeyCode::Enter)), "Enter on the result quits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_with_errors_cannot_reach_confirm() {
    let mut h = Harness::new(saved_tracker());
    h.write(
        "bad.csv",
        "order_id,identity,user_id,created_at\n1,/p/1,u1,2024-05-01T10:00:00Z\n1,/p/2,u1,2024-05-01T10:00:00+02:00\n2,,u2,\n",
    );
    h.press(key(KeyCode::Enter));
    assert_eq!(step(&h.app), "File");
    h.choose("bad");
    h.pump_until("the report", |a| a.validate().is_some_and(|v| !v.running()))
        .await;
    // A header row and zoned timestamps: detection opens Columns; Esc returns to the report.
    assert_eq!(step(&h.app), "Columns");
    h.press(key(KeyCode::Esc));
    assert_eq!(step(&h.app), "Validate");
    let v = h.app.validate().expect("validate");
    let report = v.report().expect("report").clone();
    assert!(report.has_errors(), "{:?}", report.verdict);
    assert!(report.error_count() >= 3, "{}", report.error_count());
    for k in ['c', 'y'] {
        h.press(ch(k));
        assert_eq!(step(&h.app), "Validate");
    }
    let msg = h
        .app
        .validate()
        .and_then(|v| v.message.clone())
        .unwrap_or_default();
    assert!(msg.contains("reject the whole file"), "{msg}");
    // Enter drills into the first issue's examples; it has line numbers.
    h.press(key(KeyCode::Enter));
    assert!(h.app.validate().is_some_and(|v| v.drill));
    assert!(!report.issues[0].examples.is_empty());
    h.press(key(KeyCode::Esc));
    assert!(h.app.validate().is_some_and(|v| !v.drill));
    assert_eq!(step(&h.app), "Validate");
    // r saves the report next to the data dir and shows where.
    h.press(ch('r'));
    h.pump_until("the saved report", |a| {
        a.validate().is_some_and(|v| v.saved.is_some())
    })
    .await;
    let saved = h
        .app
        .validate()
        .and_then(|v| v.saved.clone())
        .expect("saved")
        .expect("ok");
    assert!(saved.starts_with(&h.data), "{}", saved.display());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&saved).expect("read report")).expect("json");
    assert_eq!(json["verdict"], "errors");
    assert!(
        saved.with_extension("txt").exists()
            || Path::new(&saved.display().to_string().replace(".json", ".txt")).exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_goes_back_one_step_and_keeps_the_answers() {
    let mut cfg = saved_tracker();
    cfg.trackers
        .push(Tracker::new("other", "1-2", KeySource::Env("X".into())));
    let mut h = Harness::new(cfg);
    h.write("a.csv", "1,/p/1\n");
    h.write("orders.csv", &valid_csv());
    h.press(key(KeyCode::Down));
    h.press(key(KeyCode::Enter));
    assert_eq!(step(&h.app), "File");
    assert_eq!(
        h.app.step().tracker().map(|t| t.tracker.name.as_str()),
        Some("other")
    );
    h.choose("orders");
    h.pump_until("the report", |a| {
        a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    let run = h.app.validate().map(|v| v.run);
    h.press(ch('c'));
    assert_eq!(step(&h.app), "Confirm");

    // Confirm → Validate: same run, report kept, nothing re-validated.
    h.press(key(KeyCode::Esc));
    assert_eq!(step(&h.app), "Validate");
    assert_eq!(h.app.validate().map(|v| v.run), run);
    assert!(h.app.validate().is_some_and(|v| v.report().is_some()));
    assert_eq!(
        h.app.step().file().map(|f| f.original.clone()),
        Some(h.files.join("orders.csv"))
    );

    // Validate → File: the browser still shows the directory with the file selected.
    h.press(key(KeyCode::Esc));
    assert_eq!(step(&h.app), "File");
    let f = h.app.file().expect("file view");
    let canon = std::fs::canonicalize(&h.files).expect("canon");
    assert_eq!(f.dir, canon);
    assert_eq!(
        h.app.step().tracker().map(|t| t.tracker.name.as_str()),
        Some("other")
    );

    // File → Tracker: the selection is kept.
    h.press(key(KeyCode::Esc)); // clears the filter first
    h.press(key(KeyCode::Esc));
    assert_eq!(step(&h.app), "Tracker");
    assert_eq!(h.app.tracker.selected, 1);
    // Enter again lands in the same file browser state.
    h.press(key(KeyCode::Enter));
    assert_eq!(step(&h.app), "File");
    assert_eq!(h.app.file().map(|f| f.dir.clone()), Some(canon));
}

#[test]
fn quit_asks_only_when_work_would_be_lost_and_ctrl_c_always_quits() {
    let theme = Theme::default();
    let apps = lbimport::tui::demo::apps(&theme);
    let get = |n: &str| {
        apps.iter()
            .find(|(k, _)| *k == n)
            .map(|(_, a)| a.clone())
            .expect(n)
    };

    let mut a = get("tracker");
    let fx = a.handle(ch('q'));
    assert!(matches!(fx.as_slice(), [Effect::Quit]), "{fx:?}");

    let mut a = get("validate");
    assert!(a.handle(ch('q')).is_empty());
    assert!(matches!(a.overlay, Some(Overlay::Quit(_))));
    assert!(a.handle(ch('n')).is_empty());
    assert!(a.overlay.is_none());
    a.handle(ch('q'));
    let fx = a.handle(ch('y'));
    assert!(matches!(fx.last(), Some(Effect::Quit)), "{fx:?}");

    let mut a = get("upload");
    let fx = a.handle(Input::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(
        matches!(fx.as_slice(), [Effect::CancelUpload(_), Effect::Quit]),
        "{fx:?}"
    );

    // Esc on Upload asks first; y cancels through the token.
    let mut a = get("upload");
    assert!(a.handle(key(KeyCode::Esc)).is_empty());
    assert!(a.upload().is_some_and(|u| u.asking_cancel));
    let fx = a.handle(ch('y'));
    match fx.as_slice() {
        [Effect::CancelUpload(t)] => {
            t.cancel();
            assert!(a.upload().is_some_and(|u| u.cancel.is_cancelled()));
        }
        other => panic!("{other:?}"),
    }

    // h and ? open overlays from any step, Esc closes them.
    for n in ["tracker", "file", "validate", "confirm", "result-accepted"] {
        let mut a = get(n);
        a.handle(ch('h'));
        assert_eq!(a.overlay, Some(Overlay::History(0)), "{n}");
        a.handle(key(KeyCode::Esc));
        a.handle(ch('?'));
        assert_eq!(a.overlay, Some(Overlay::Help), "{n}");
        a.handle(key(KeyCode::Esc));
        assert!(a.overlay.is_none());
    }
}

#[test]
fn confirm_needs_d_to_upload_a_duplicate() {
    let theme = Theme::default();
    let (_, mut a) = lbimport::tui::demo::apps(&theme)
        .into_iter()
        .find(|(n, _)| *n == "confirm-duplicate")
        .expect("demo");
    assert!(a.handle(ch('y')).is_empty());
    assert_eq!(step(&a), "Confirm");
    a.handle(ch('D'));
    let fx = a.handle(ch('y'));
    assert!(
        matches!(fx.as_slice(), [Effect::StartUpload { .. }]),
        "{fx:?}"
    );
    assert_eq!(step(&a), "Upload");
}

#[test]
fn tracker_form_saves_through_the_config_and_never_shows_the_key() {
    let mut a = App::new(Context::default());
    a.handle(ch('a'));
    for c in "shop".chars() {
        a.handle(ch(c));
    }
    a.handle(key(KeyCode::Tab));
    for c in "1292-9381".chars() {
        a.handle(ch(c));
    }
    a.handle(key(KeyCode::Tab));
    a.handle(key(KeyCode::Tab));
    a.handle(key(KeyCode::Left)); // env → stored
    a.handle(key(KeyCode::Tab));
    for c in "sk-secret-0123456789".chars() {
        a.handle(ch(c));
    }
    let screen = lbimport::tui::demo::text(&lbimport::tui::demo::render(&a, 100, 30));
    assert!(!screen.contains("secret"), "{screen}");
    assert!(screen.contains("••••"), "{screen}");
    let fx = a.handle(key(KeyCode::Enter));
    match fx.as_slice() {
        // (and the saved tracker's stored catalog is read for the tracker step)
        [Effect::SaveConfig(cfg), Effect::LoadCatalog { name }] if name == "shop" => {
            assert_eq!(cfg.trackers.len(), 1);
            assert_eq!(cfg.trackers[0].name, "shop");
            assert_eq!(cfg.trackers[0].tracker_id, "1292-9381");
            assert_eq!(cfg.trackers[0].key_source_label(), "stored");
        }
        other => panic!("{other:?}"),
    }
    assert!(a.tracker.form.is_none());
    // A bad id is refused with the field named, nothing saved.
    a.handle(ch('a'));
    for c in "x".chars() {
        a.handle(ch(c));
    }
    let fx = a.handle(key(KeyCode::Enter));
    assert!(fx.is_empty());
    let err = a
        .tracker
        .form
        .as_ref()
        .and_then(|f| f.error.clone())
        .unwrap_or_default();
    assert!(err.contains("tracker_id"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_that_doesnt_fit_is_mapped_converted_revalidated_and_uploaded() {
    let mut h = Harness::new(Config::default());
    let body = shop_export(120);
    let path = h.write("export.csv", &body);
    let before = sha256_file(&path).expect("sha");
    h.open_columns("export").await;
    let c = h.app.columns().expect("columns");
    assert_eq!(c.detection.delimiter, ';');
    assert!(c.detection.header);
    let m = c.mapping().expect("detected mapping");
    assert_eq!(m.order_id, lbimport::mapping::Source::Column(1));
    assert_eq!(m.identity, lbimport::mapping::Source::Column(3));
    assert_eq!(m.created_at, Some(lbimport::mapping::Source::Column(0)));
    // Esc goes back to the validation results (errors: header row, field count…), m returns.
    h.press(key(KeyCode::Esc));
    assert_eq!(step(&h.app), "Validate");
    h.press(ch('c'));
    assert_eq!(step(&h.app), "Validate", "errors keep Confirm closed");
    h.press(ch('m'));
    assert_eq!(step(&h.app), "Columns");
    h.press(key(KeyCode::Enter));
    h.pump_until("re-validation of the converted file", |a| {
        matches!(a.step(), Step::Validate(_)) && a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    // Esc from the converted file's results returns to its mapping; Enter converts again.
    h.press(key(KeyCode::Esc));
    assert_eq!(step(&h.app), "Columns");
    h.press(key(KeyCode::Enter));
    h.pump_until("re-validation after going back", |a| {
        matches!(a.step(), Step::Validate(_)) && a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    let file = h.app.step().file().cloned().expect("file");
    assert_eq!(file.original, path);
    assert_ne!(file.upload, path);
    assert!(
        file.upload.starts_with(&h.data),
        "{}",
        file.upload.display()
    );
    assert!(!file.transformations.is_empty());
    let report = h
        .app
        .validate()
        .and_then(|v| v.report().cloned())
        .expect("report");
    assert!(!report.has_errors(), "{:?}", report.issues);
    assert_eq!(report.stats.rows, 240);
    assert_eq!(report.stats.orders, 120);
    let converted = std::fs::read_to_string(&file.upload).expect("converted");
    assert!(
        converted.starts_with("A-1000,SKU-"),
        "{}",
        &converted[..60.min(converted.len())]
    );
    assert!(
        converted
            .lines()
            .next()
            .unwrap_or("")
            .ends_with("2026-10-13 15:00:00")
    );
    h.press(ch('c'));
    assert_eq!(step(&h.app), "Confirm");
    h.press(ch('y'));
    h.pump_until("the result", |a| matches!(a.step(), Step::Result(_)))
        .await;
    let received = h.driver.sandbox_received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].status, 200);
    assert_eq!(received[0].sha256, sha256_file(&file.upload).expect("sha"));
    assert_eq!(
        sha256_file(&path).expect("sha"),
        before,
        "the user's file was modified"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_shows_the_measured_skew_of_a_server_whose_clock_is_ahead() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let secret = lbimport::config::PrivateKey::new("skew-test-key-0123456789");
    let mut cfg = lbimport::server::Config::new("1-skew", secret.clone(), tmp.path().join("store"));
    cfg.faults.skew_secs = 4;
    let server = lbimport::server::start(cfg).await.expect("sandbox");
    let mut t = Tracker::new("skewed", "1-skew", KeySource::Stored(secret));
    t.base_url = server.base_url.clone();
    let mut h = Harness::new(Config {
        theme: None,
        trackers: vec![t],
    });
    let path = h.write("orders.csv", &valid_csv());
    h.press(key(KeyCode::Enter));
    assert_eq!(step(&h.app), "File");
    h.choose("orders");
    h.pump_until("the report", |a| {
        a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    h.press(ch('c'));
    assert_eq!(step(&h.app), "Confirm");
    assert!(screen(&h.app).contains("clock skew measuring…"));
    h.pump_until("the clock check", |a| {
        a.confirm().is_some_and(|c| c.skew.is_some())
    })
    .await;
    let skew = h.app.confirm().and_then(|c| c.skew.clone());
    assert!(
        matches!(skew, Some(Ok(ms)) if (3_000..=5_000).contains(&ms)),
        "{skew:?}"
    );
    let s = screen(&h.app);
    assert!(s.contains("clock skew server is "), "{s}");
    assert!(
        s.contains(" s ahead — uploads are signed with the server's time"),
        "{s}"
    );
    // And the upload, signed with the server's time, is accepted.
    h.press(ch('y'));
    h.pump_until("the result", |a| matches!(a.step(), Step::Result(_)))
        .await;
    let Step::Result(r) = h.app.step() else {
        unreachable!()
    };
    let outcome = &r.outcome;
    assert!(
        matches!(outcome, UploadOutcome::Accepted { .. }),
        "{outcome:?}"
    );
    let received = server.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        received[0].bytes,
        std::fs::metadata(&path).expect("meta").len()
    );
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedupe_in_the_columns_step_sends_the_deduplicated_rows() {
    let mut h = Harness::new(Config::default());
    let mut body = String::from("Date;Order;Customer;SKU;Price\n");
    let mut unique = Vec::new();
    for o in 0..60u32 {
        let line = format!(
            "{:02}/10/2026 15:{:02};A-{};c-{};SKU-{:04};19.90\n",
            13 + o % 15,
            o % 60,
            1000 + o,
            o % 30,
            o % 50
        );
        unique.push(line.clone());
        body.push_str(&line);
        if o % 3 == 0 {
            body.push_str(&line);
        }
    }
    body.push_str("13/10/2026 15:00;;c-1;SKU-0001;19.90\n");
    let path = h.write("dupes.csv", &body);
    h.open_columns("dupes").await;
    h.pump_until("the whole-file counts", |a| {
        a.columns()
            .is_some_and(|c| matches!(c.plan, lbimport::tui::steps::columns::PlanState::Done(..)))
    })
    .await;
    match &h.app.columns().expect("columns").plan {
        lbimport::tui::steps::columns::PlanState::Done(s, _) => assert_eq!(s.duplicates, 20),
        other => panic!("{other:?}"),
    }
    assert!(screen(&h.app).contains("drop duplicates (D) — 20 rows"));
    h.press(ch('D'));
    h.press(ch('e'));
    assert!(
        h.app
            .columns()
            .is_some_and(|c| c.clean.dedupe && c.clean.exclude_invalid)
    );
    h.press(key(KeyCode::Enter));
    h.pump_until("re-validation of the converted file", |a| {
        matches!(a.step(), Step::Validate(_)) && a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    let file = h.app.step().file().cloned().expect("file");
    assert_eq!(file.original, path);
    assert!(
        file.transformations
            .iter()
            .any(|t| t == "20 duplicate rows dropped"),
        "{:?}",
        file.transformations
    );
    let converted = std::fs::read_to_string(&file.upload).expect("converted");
    assert_eq!(converted.lines().count(), unique.len());
    let side = h.data.join("converted").join("dupes.invalid.csv");
    let side = std::fs::read_to_string(&side).expect("invalid rows side file");
    assert!(side.contains("SKU-0001"), "{side}");
    h.press(ch('c'));
    assert_eq!(step(&h.app), "Confirm");
    assert!(screen(&h.app).contains("20 duplicate rows dropped"));
    h.press(ch('y'));
    h.pump_until("the result", |a| matches!(a.step(), Step::Result(_)))
        .await;
    let received = h.driver.sandbox_received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].status, 200);
    assert_eq!(received[0].sha256, sha256_file(&file.upload).expect("sha"));
    assert_eq!(received[0].bytes, converted.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_file_with_empty_user_ids_is_never_remapped() {
    // The documented layout where some user ids are empty: the role guess alone would read
    // column C as the order; a swapped mapping is even saved for this (headerless) shape.
    let mut config = saved_tracker();
    let swapped = lbimport::mapping::Mapping {
        order_id: lbimport::mapping::Source::Column(2),
        user_id: Some(lbimport::mapping::Source::Column(0)),
        ..lbimport::mapping::Mapping::documented(4)
    };
    config.trackers[0]
        .mappings
        .push(lbimport::mapping::SavedMapping::new(
            "csv;comma;4;",
            None,
            swapped,
        ));
    let mut h = Harness::new(config);
    let body: String = valid_csv()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let f: Vec<&str> = l.split(',').collect();
            let user = if i % 3 == 0 { "" } else { f[2] };
            format!("{},{},{user},{}\n", f[0], f[1], f[3])
        })
        .collect();
    let path = h.write("orders.csv", &body);
    // The saved tracker "shop" (first row), then the file.
    h.press(key(KeyCode::Enter));
    assert_eq!(step(&h.app), "File");
    h.choose("orders");
    h.pump_until("validation", |a| {
        a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    assert_eq!(step(&h.app), "Validate", "no Columns step on its own");
    let v = h.app.validate().expect("validate");
    assert!(!v.report().expect("report").has_errors());
    assert!(
        v.detection.as_ref().is_some_and(|d| d.fits),
        "detection sees the documented layout"
    );
    assert!(
        !screen(&h.app).contains("doesn't fit"),
        "{}",
        screen(&h.app)
    );
    h.press(ch('c'));
    assert_eq!(step(&h.app), "Confirm");
    let file = h.app.step().file().cloned().expect("file");
    assert_eq!(file.upload, path, "the user's file is what would be sent");
    assert!(file.transformations.is_empty());
}
