//! Files over the part limit in the wizard: split at order boundaries (a scattered order
//! included), every part validated, the parts uploaded one after another to an in-process
//! sandbox on 127.0.0.1, one history entry per part, a failure stopping the later parts, and
//! the duplicate guard per part. The part limit is a few KB so the files stay small.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::KeyCode;
use lbimport::config::{
    Config, History, HistoryEntry, KeySource, Outcome, PrivateKey, Tracker, sha256_file,
};
use lbimport::tui::app::{Input, Step};
use lbimport::tui::services::UploadOutcome;
use lbimport::tui::steps::parts::PartStatus;
use lbimport::tui::theme::Theme;

/// The part limit of these tests.
const LIMIT: u64 = 4000;

use crate::common;

use common::{Harness, ch, key, screen, shop_export};

/// A wizard whose part limit is [`LIMIT`].
fn harness(config: Config) -> Harness {
    let mut h = Harness::new(config);
    h.app.part_bytes = LIMIT;
    h
}

/// From the file step: choose the file, wait for its report, split it, wait for the parts.
async fn choose_and_split(h: &mut Harness, name: &str) -> Vec<PathBuf> {
    h.choose(name);
    h.pump_until("the report", |a| {
        a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    let v = h.app.validate().expect("validate");
    assert!(
        v.over_limit(),
        "{} bytes",
        v.report().expect("r").file.bytes
    );
    let s = screen(&h.app);
    assert!(s.contains("OVER THE 4.00 kB LIMIT OF ONE UPLOAD"), "{s}");
    // c is refused until the file is split.
    h.press(ch('c'));
    assert_eq!(h.app.step().name(), "Validate");
    let msg = h.app.validate().and_then(|v| v.message.clone());
    assert!(
        msg.as_deref()
            .is_some_and(|m| m.contains("press s to split")),
        "{msg:?}"
    );
    split_and_wait(h).await
}

/// In Validate: press `s`, wait until every part is validated, and return the part paths.
async fn split_and_wait(h: &mut Harness) -> Vec<PathBuf> {
    h.press(ch('s'));
    h.pump_until("the parts' reports", |a| {
        a.validate()
            .and_then(|v| v.split.as_ref())
            .is_some_and(|s| s.paths.is_some() && !s.running())
    })
    .await;
    let sp = h
        .app
        .validate()
        .and_then(|v| v.split.clone())
        .expect("split");
    assert_eq!(sp.error, None);
    sp.paths.expect("paths")
}

fn row(order: &str, item: u32) -> String {
    format!("{order},/p/item-{item:05},u-{order},2024-05-01 10:00:00\n")
}

/// About 10 KB in the documented layout: order `SCATTERED` has rows at the start, the middle
/// and the end of the file; the other orders have two rows each, next to each other.
fn scattered_csv() -> String {
    let mut s = String::new();
    s.push_str(&row("SCATTERED", 1));
    for o in 0..100u32 {
        let id = format!("O{:04}", o);
        s.push_str(&row(&id, o * 2));
        s.push_str(&row(&id, o * 2 + 1));
        if o == 50 {
            s.push_str(&row("SCATTERED", 2));
        }
    }
    s.push_str(&row("SCATTERED", 3));
    s
}

/// Order ids of a CSV part.
fn orders_of(p: &PathBuf) -> HashSet<String> {
    std::fs::read_to_string(p)
        .expect("part")
        .lines()
        .map(|l| l.split(',').next().unwrap_or("").to_string())
        .collect()
}

fn history_oldest_first(data: &PathBuf) -> Vec<HistoryEntry> {
    let mut h = History::at(data).list().expect("history");
    h.reverse();
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_limit_is_split_validated_and_sent_part_by_part() {
    let mut h = harness(Config::default());
    let body = scattered_csv();
    let path = h.write("orders.csv", &body);
    let before = sha256_file(&path).expect("sha");
    h.open_files().await;
    // Parts of an earlier, bigger split of the same name.
    let converted = h.data.join("converted");
    std::fs::create_dir_all(&converted).expect("mkdir");
    for n in 4..=7 {
        std::fs::write(converted.join(format!("orders.part-{n:03}.csv")), "stale\n")
            .expect("stale");
    }
    let parts = choose_and_split(&mut h, "orders").await;
    for n in parts.len() + 1..=7 {
        let stale = converted.join(format!("orders.part-{n:03}.csv"));
        assert!(!stale.exists(), "{} left behind", stale.display());
    }

    // At least three parts, each within the limit, in the data directory.
    assert!(parts.len() >= 3, "{parts:?}");
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(p, &converted.join(format!("orders.part-{:03}.csv", i + 1)));
        let n = std::fs::metadata(p).expect("part").len();
        assert!(n <= LIMIT && n > 0, "part {i}: {n} bytes");
    }
    // No order crosses parts; the scattered order is whole in the first part.
    let sets: Vec<HashSet<String>> = parts.iter().map(orders_of).collect();
    for (i, a) in sets.iter().enumerate() {
        for b in sets.iter().skip(i + 1) {
            assert!(
                a.is_disjoint(b),
                "an order crosses parts: {:?}",
                a.intersection(b)
            );
        }
    }
    let first = std::fs::read_to_string(&parts[0]).expect("part 1");
    assert_eq!(
        first
            .lines()
            .filter(|l| l.starts_with("SCATTERED,"))
            .count(),
        3,
        "{first}"
    );
    // Every row is in exactly one part.
    let mut all: Vec<String> = parts
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .expect("part")
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut want: Vec<String> = body.lines().map(str::to_string).collect();
    all.sort();
    want.sort();
    assert_eq!(all, want);

    // Every part validated: per-part lines and the combined verdict.
    let sp = h
        .app
        .validate()
        .and_then(|v| v.split.clone())
        .expect("split");
    let reports: Vec<_> = sp
        .reports
        .iter()
        .map(|r| r.clone().expect("done").expect("report"))
        .collect();
    assert_eq!(reports.iter().map(|r| r.stats.rows).sum::<u64>(), 203);
    assert_eq!(reports.iter().map(|r| r.stats.orders).sum::<u64>(), 101);
    for (r, p) in reports.iter().zip(&parts) {
        assert!(!r.has_errors(), "{:?}", r.issues);
        assert_eq!(r.file.sha256, sha256_file(p).expect("sha"));
    }
    let s = screen(&h.app);
    assert!(
        s.contains(&format!("ALL {} PARTS READY", parts.len())),
        "{s}"
    );
    assert!(s.contains("orders.part-001.csv"), "{s}");
    assert!(s.contains(&format!("Parts ({})", parts.len())), "{s}");

    // Confirm lists every part with its sha256 prefix; no part was sent before.
    h.press(ch('c'));
    assert_eq!(h.app.step().name(), "Confirm");
    let file = h.app.step().file().cloned().expect("file");
    assert_eq!(file.parts.len(), parts.len());
    let c = h.app.confirm().expect("confirm");
    assert_eq!(c.part_duplicates.len(), parts.len());
    assert_eq!(c.parts_already_sent(), 0);
    let s = screen(&h.app);
    assert!(s.contains("About to upload, part by part"), "{s}");
    assert!(s.contains(&reports[1].file.sha256[..12]), "{s}");
    assert!(s.contains("each part within 10:00: the largest"), "{s}");
    assert!(
        s.contains(&format!(
            "sends {} parts in order, stopping at a failure",
            parts.len()
        )),
        "{s}"
    );

    h.press(ch('y'));
    assert_eq!(h.app.step().name(), "Upload");
    assert_eq!(
        h.app.upload().and_then(|u| u.part_of()),
        Some((1, parts.len()))
    );
    h.pump_until("the result", |a| matches!(a.step(), Step::Result(_)))
        .await;

    // The sandbox received exactly the parts' bytes, in order.
    let received = h.driver.sandbox_received();
    assert_eq!(received.len(), parts.len(), "{received:?}");
    for (r, p) in received.iter().zip(&parts) {
        assert_eq!(r.status, 200);
        assert_eq!(r.sha256, sha256_file(p).expect("sha"));
        assert_eq!(r.bytes, std::fs::metadata(p).expect("meta").len());
        assert_eq!(r.filename, p.file_name().expect("name").to_string_lossy());
    }
    // One history entry per part.
    let hist = history_oldest_first(&h.data);
    assert_eq!(hist.len(), parts.len());
    for ((e, r), p) in hist.iter().zip(&reports).zip(&parts) {
        assert_eq!(e.outcome, Outcome::Accepted);
        assert_eq!(e.status, Some(200));
        assert_eq!(e.sha256, r.file.sha256);
        assert_eq!(e.bytes, r.file.bytes);
        assert_eq!(e.rows, Some(r.stats.rows));
        assert_eq!(e.orders, Some(r.stats.orders));
        assert_eq!(e.file, std::fs::canonicalize(p).expect("canon"));
    }
    let r = h.app.result().expect("result");
    assert!(r.accepted());
    let s = screen(&h.app);
    assert!(
        s.contains(&format!("ALL {} PARTS ACCEPTED", parts.len())),
        "{s}"
    );
    for i in 1..=parts.len() {
        assert!(s.contains(&format!("orders.part-{i:03}.csv")), "{s}");
    }
    assert_eq!(
        sha256_file(&path).expect("sha"),
        before,
        "the user's file was modified"
    );

    // The same file again: every part is flagged, y alone sends nothing, D sends them again.
    h.press(ch('f'));
    h.press(key(KeyCode::Enter));
    let again = choose_and_split_again(&mut h).await;
    assert_eq!(again, parts);
    h.press(ch('c'));
    assert_eq!(h.app.step().name(), "Confirm");
    let c = h.app.confirm().expect("confirm");
    assert_eq!(c.parts_already_sent(), parts.len());
    let s = screen(&h.app);
    assert!(
        s.contains(&format!(
            "{} already accepted, skipped; D sends again",
            parts.len()
        )),
        "{s}"
    );
    h.press(ch('y'));
    assert_eq!(h.app.step().name(), "Confirm", "y alone must not resend");
    assert!(
        h.app
            .confirm()
            .and_then(|c| c.message.clone())
            .is_some_and(|m| m.contains("press D")),
    );
    h.press(ch('D'));
    // sending them again sends orders already sent: A as well
    h.press(ch('y'));
    assert_eq!(
        h.app.step().name(),
        "Confirm",
        "D alone must not resend orders"
    );
    h.press(ch('A'));
    h.press(ch('y'));
    assert_eq!(h.app.step().name(), "Upload");
    h.pump_until("the second result", |a| matches!(a.step(), Step::Result(_)))
        .await;
    assert_eq!(h.driver.sandbox_received().len(), 2 * parts.len());
    assert_eq!(history_oldest_first(&h.data).len(), 2 * parts.len());
}

/// Choose the same file again (the browser is still on it) and split it.
async fn choose_and_split_again(h: &mut Harness) -> Vec<PathBuf> {
    assert_eq!(h.app.step().name(), "Validate");
    h.pump_until("the report", |a| {
        a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    split_and_wait(h).await
}

/// Part 1 small, part 2 one big order plus small ones (the largest part), part 3 the rest.
fn three_uneven_parts() -> String {
    let mut s = String::new();
    for o in 0..20u32 {
        s.push_str(&row(&format!("A{o:03}"), o));
    }
    for i in 0..75u32 {
        s.push_str(&row("BIG", 1000 + i));
    }
    for o in 0..30u32 {
        s.push_str(&row(&format!("C{o:03}"), 2000 + o));
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_part_stops_the_later_ones_and_the_result_says_what_is_in_the_service() {
    let body = three_uneven_parts();
    // The same split the wizard makes, to learn the part sizes.
    let probe = tempfile::tempdir().expect("tempdir");
    let input = probe.path().join("in.csv");
    std::fs::write(&input, &body).expect("write");
    let probe_parts = lbimport::mapping::split::split_path(&input, LIMIT, probe.path(), "p", None)
        .expect("split");
    let sizes: Vec<u64> = probe_parts
        .iter()
        .map(|p| std::fs::metadata(p).expect("meta").len())
        .collect();
    assert_eq!(sizes.len(), 3, "{sizes:?}");
    assert!(sizes[1] > sizes[0] && sizes[1] > sizes[2], "{sizes:?}");

    // A sandbox whose size limit lies between part 1 and part 2: it answers 413 to part 2.
    let secret = PrivateKey::new("parts-test-key-0123456789");
    let mut cfg =
        lbimport::server::Config::new("1-parts", secret.clone(), probe.path().join("store"));
    cfg.max_bytes = sizes[0].max(sizes[2]);
    let server = lbimport::server::start(cfg).await.expect("sandbox");
    let mut t = Tracker::new("shop", "1-parts", KeySource::Stored(secret));
    t.base_url = server.base_url.clone();
    let mut h = harness(Config {
        theme: None,
        trackers: vec![t],
    });
    h.write("orders.csv", &body);
    h.press(key(KeyCode::Enter));
    assert_eq!(h.app.step().name(), "File");
    let parts = choose_and_split(&mut h, "orders").await;
    assert_eq!(parts.len(), 3);
    let shas: Vec<String> = parts.iter().map(|p| sha256_file(p).expect("sha")).collect();
    h.press(ch('c'));
    assert_eq!(h.app.step().name(), "Confirm");
    h.press(ch('y'));
    h.pump_until("the result", |a| matches!(a.step(), Step::Result(_)))
        .await;

    // Part 1 accepted, part 2 rejected with 413, part 3 never sent.
    let received = server.received();
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(
        (received[0].status, received[0].sha256.as_str()),
        (200, shas[0].as_str())
    );
    assert_eq!(received[1].status, 413);
    let hist = history_oldest_first(&h.data);
    assert_eq!(hist.len(), 2);
    assert_eq!(
        (hist[0].outcome, hist[0].status),
        (Outcome::Accepted, Some(200))
    );
    assert_eq!(hist[0].sha256, shas[0]);
    assert_eq!(
        (hist[1].outcome, hist[1].status),
        (Outcome::Rejected, Some(413))
    );
    assert_eq!(hist[1].sha256, shas[1]);
    let r = h.app.result().expect("result");
    assert!(!r.accepted());
    let pr = r.parts.as_ref().expect("parts");
    assert!(matches!(
        pr.status[0],
        PartStatus::Done {
            outcome: UploadOutcome::Accepted { .. },
            ..
        }
    ));
    assert!(matches!(
        pr.status[1],
        PartStatus::Done {
            outcome: UploadOutcome::Rejected { status: 413, .. },
            ..
        }
    ));
    assert!(matches!(pr.status[2], PartStatus::NotSent));
    let s = screen(&h.app);
    assert!(s.contains("PART 2 OF 3 REJECTED (413)"), "{s}");
    assert!(
        s.contains("Already in the service (uploads cannot be undone): part 1."),
        "{s}"
    );
    assert!(s.contains("Not in the service: part 2, 3"), "{s}");
    assert!(
        s.contains(&format!(
            "lbimport upload {} --tracker shop",
            parts[2].display()
        )),
        "{s}"
    );

    // r: back to Confirm, where part 1 is skipped as already accepted; part 2 is sent again
    // (and rejected again), part 1 is not.
    h.press(ch('r'));
    assert_eq!(h.app.step().name(), "Confirm");
    let c = h.app.confirm().expect("confirm");
    let flagged: Vec<bool> = c.part_duplicates.iter().map(Option::is_some).collect();
    assert_eq!(flagged, [true, false, false]);
    assert!(screen(&h.app).contains("skip: already accepted"));
    h.press(ch('y'));
    h.pump_until("the second result", |a| matches!(a.step(), Step::Result(_)))
        .await;
    let received = server.received();
    assert_eq!(received.len(), 3, "{received:?}");
    assert_eq!(received[2].status, 413);
    let pr = h.app.result().and_then(|r| r.parts.clone()).expect("parts");
    assert!(matches!(pr.status[0], PartStatus::Skipped(_)));
    assert!(matches!(pr.status[2], PartStatus::NotSent));
    let counts: HashMap<String, usize> = received.iter().fold(HashMap::new(), |mut m, r| {
        *m.entry(r.sha256.clone()).or_default() += 1;
        m
    });
    assert_eq!(counts.get(&shas[0]), Some(&1), "part 1 was sent twice");
    assert_eq!(
        counts.get(&shas[2]),
        None,
        "part 3 was sent after a failure"
    );
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn splitting_can_be_stopped_and_a_small_file_is_not_split() {
    let mut h = harness(Config::default());
    h.write("small.csv", &row("1", 1));
    h.write("orders.csv", &scattered_csv());
    h.open_files().await;
    h.choose("small");
    h.pump_until("the report", |a| {
        a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    h.press(ch('s'));
    let v = h.app.validate().expect("validate");
    assert!(v.split.is_none());
    assert!(
        v.message
            .as_deref()
            .is_some_and(|m| m.contains("no need to split"))
    );
    h.press(ch('c'));
    assert_eq!(h.app.step().name(), "Confirm");
    assert!(h.app.step().file().is_some_and(|f| f.parts.is_empty()));
    assert!(!screen(&h.app).contains("part by part"));

    // A split stopped with Esc: the step stays, s starts it again.
    h.press(key(KeyCode::Esc));
    h.press(key(KeyCode::Esc));
    assert_eq!(h.app.step().name(), "File");
    h.press(key(KeyCode::Esc)); // clears the filter
    h.choose("orders");
    assert_eq!(
        h.app.step().file().map(|f| f.original.clone()),
        Some(h.files.join("orders.csv"))
    );
    h.pump_until("the report", |a| {
        a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    h.press(ch('s'));
    assert!(h.app.validate().is_some_and(|v| v.splitting()));
    h.press(key(KeyCode::Esc));
    assert_eq!(h.app.step().name(), "Validate");
    let v = h.app.validate().expect("validate");
    assert!(!v.splitting());
    assert_eq!(
        v.split.as_ref().and_then(|s| s.error.clone()).as_deref(),
        Some("stopped by you")
    );
    h.press(ch('c'));
    assert_eq!(h.app.step().name(), "Validate");
    h.press(ch('s'));
    h.pump_until("the parts", |a| {
        a.validate()
            .and_then(|v| v.split.as_ref())
            .is_some_and(|s| s.paths.is_some() && !s.running())
    })
    .await;
    h.press(ch('c'));
    assert_eq!(h.app.step().name(), "Confirm");
    assert!(h.app.step().file().is_some_and(|f| f.parts.len() >= 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_converted_file_over_the_limit_is_split_right_after_the_conversion() {
    let mut h = harness(Config::default());
    let body = shop_export(150);
    let path = h.write("export.csv", &body);
    let before = sha256_file(&path).expect("sha");
    h.open_columns("export").await;
    h.press(key(KeyCode::Enter));
    // Converted, validated, over the limit: split and the parts validated without a key.
    h.pump_until("the parts of the converted file", |a| {
        matches!(a.step(), Step::Validate(_))
            && a.validate()
                .and_then(|v| v.split.as_ref())
                .is_some_and(|s| s.paths.is_some() && !s.running())
    })
    .await;
    let file = h.app.step().file().cloned().expect("file");
    assert_ne!(file.upload, path);
    assert!(
        file.upload.starts_with(&h.data),
        "{}",
        file.upload.display()
    );
    let sp = h
        .app
        .validate()
        .and_then(|v| v.split.clone())
        .expect("split");
    let parts = sp.paths.clone().expect("paths");
    assert!(parts.len() >= 2, "{parts:?}");
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(
            p,
            &h.data
                .join("converted")
                .join(format!("export.part-{:03}.csv", i + 1))
        );
        assert!(std::fs::metadata(p).expect("part").len() <= LIMIT);
    }
    let rows: u64 = sp
        .reports
        .iter()
        .map(|r| r.clone().expect("done").expect("report").stats.rows)
        .sum();
    assert_eq!(rows, 300);
    h.press(ch('c'));
    assert_eq!(h.app.step().name(), "Confirm");
    h.press(ch('y'));
    h.pump_until("the result", |a| matches!(a.step(), Step::Result(_)))
        .await;
    let received = h.driver.sandbox_received();
    assert_eq!(received.len(), parts.len());
    for (r, p) in received.iter().zip(&parts) {
        assert_eq!(
            (r.status, r.sha256.clone()),
            (200, sha256_file(p).expect("sha"))
        );
    }
    assert_eq!(sha256_file(&path).expect("sha"), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_over_the_limit_are_split_into_json_parts_byte_for_byte() {
    let mut h = harness(Config::default());
    let mut body = String::new();
    for o in 0..70u32 {
        for i in 0..2u32 {
            body.push_str(&format!(
                "{{\"order_id\": \"J{o:03}\", \"identity\": \"/p/{}\", \"user_id\": \"u{o}\", \"created_at\": \"2024-05-01 10:{:02}:00\"}}\n",
                o * 2 + i,
                i
            ));
        }
        if o == 35 {
            // An order scattered: its second row far from its first.
            body.push_str("{\"order_id\": \"J000\", \"identity\": \"/p/9999\"}\n");
        }
    }
    h.write("orders.json", &body);
    h.open_files().await;
    let parts = choose_and_split(&mut h, "orders").await;
    assert!(parts.len() >= 3, "{parts:?}");
    let texts: Vec<String> = parts
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("part"))
        .collect();
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(
            p,
            &h.data
                .join("converted")
                .join(format!("orders.part-{:03}.json", i + 1))
        );
        assert!(texts[i].len() as u64 <= LIMIT);
    }
    assert_eq!(texts[0].matches("\"J000\"").count(), 3, "{}", texts[0]);
    let mut got: Vec<&str> = texts.iter().flat_map(|t| t.lines()).collect();
    let mut want: Vec<&str> = body.lines().collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "lines must be copied unchanged");
    h.press(ch('c'));
    assert_eq!(h.app.step().name(), "Confirm");
    h.press(ch('y'));
    h.pump_until("the result", |a| matches!(a.step(), Step::Result(_)))
        .await;
    let received = h.driver.sandbox_received();
    assert_eq!(received.len(), parts.len());
    for (r, p) in received.iter().zip(&parts) {
        assert_eq!(r.status, 200, "{}", r.reason);
        assert_eq!(r.sha256, sha256_file(p).expect("sha"));
        assert!(r.filename.ends_with(".json"), "{}", r.filename);
    }
    let hist = history_oldest_first(&h.data);
    assert_eq!(hist.len(), parts.len());
    assert!(
        hist.iter()
            .all(|e| e.format == lbimport::read::Format::Json)
    );
}

#[test]
fn skipped_parts_are_not_sent_and_a_cancelled_part_stops_the_rest() {
    let theme = Theme::default();
    let (_, mut a) = lbimport::tui::demo::apps(&theme)
        .into_iter()
        .find(|(n, _)| *n == "confirm-parts")
        .expect("demo confirm-parts");
    // Part 1 already reached this tracker: y sends part 2 first.
    let fx = a.handle(ch('y'));
    let (run, path) = match fx.as_slice() {
        [lbimport::tui::app::Effect::StartUpload { run, path, .. }] => (*run, path.clone()),
        other => panic!("{other:?}"),
    };
    assert!(
        path.ends_with("orders-2021-2026.part-002.csv"),
        "{}",
        path.display()
    );
    assert_eq!(a.upload().and_then(|u| u.part_of()), Some((2, 3)));
    // A cancelled part ends the run: part 3 is never started.
    let fx = a.handle(Input::Msg(lbimport::tui::app::Msg::UploadDone {
        run,
        outcome: UploadOutcome::Cancelled,
        entry: None,
        history_error: None,
    }));
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(a.step().name(), "Result");
    let pr = a.result().and_then(|r| r.parts.clone()).expect("parts");
    assert!(matches!(pr.status[0], PartStatus::Skipped(_)));
    assert!(matches!(
        pr.status[1],
        PartStatus::Done {
            outcome: UploadOutcome::Cancelled,
            ..
        }
    ));
    assert!(matches!(pr.status[2], PartStatus::NotSent));
    let s = screen(&a);
    assert!(
        s.contains("PART 2 OF 3 CANCELLED — not sent: part 3"),
        "{s}"
    );
    assert!(
        s.contains("Already in the service (uploads cannot be undone): part 1."),
        "{s}"
    );

    // With D, every part is sent, part 1 included; an accepted part starts the next one.
    let (_, mut a) = lbimport::tui::demo::apps(&theme)
        .into_iter()
        .find(|(n, _)| *n == "confirm-parts")
        .expect("demo confirm-parts");
    a.handle(ch('D'));
    let fx = a.handle(ch('y'));
    let run = match fx.as_slice() {
        [lbimport::tui::app::Effect::StartUpload { run, path, .. }] => {
            assert!(path.ends_with("orders-2021-2026.part-001.csv"));
            *run
        }
        other => panic!("{other:?}"),
    };
    let fx = a.handle(Input::Msg(lbimport::tui::app::Msg::UploadDone {
        run,
        outcome: UploadOutcome::Accepted {
            status: 200,
            body: String::new(),
            duration: Duration::from_secs(1),
            bytes: 1,
        },
        entry: None,
        history_error: None,
    }));
    match fx.as_slice() {
        [lbimport::tui::app::Effect::StartUpload { path, sha256, .. }] => {
            assert!(path.ends_with("orders-2021-2026.part-002.csv"));
            assert_eq!(sha256, &"77e0".repeat(16));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(a.step().name(), "Upload");
    assert!(screen(&a).contains("Uploading part 2 of 3"));
}
