//! The wizard compares a file with the chosen tracker's catalog and with what earlier uploads
//! sent (driven by keys, with the in-process sandbox): the counters, Confirm's guard that
//! needs `A` to send anyway, and the sent orders recorded after an upload.

use crossterm::event::KeyCode;
use lbimport::catalog::{StoredCatalog, StoredObject};
use lbimport::config::Config;
use lbimport::tui::app::Step;

use crate::common;

use common::{Harness, ch, key, screen};

/// Documented-layout CSV rows (no header): `orders` orders from `first`, two rows each, with
/// identity `/p/<n>` where n cycles through 0..100 (the `salt` changes the bytes, not the ids).
fn orders_csv(first: u32, orders: u32, salt: u32) -> String {
    let mut s = String::new();
    for o in first..first + orders {
        for i in 0..2u32 {
            s.push_str(&format!(
                "{o},/p/{},u{},2024-05-{:02} 10:{:02}:{:02}\n",
                (o * 2 + i) % 100,
                o % 50,
                1 + o % 28,
                i,
                salt % 60
            ));
        }
    }
    s
}

async fn validate_file(h: &mut Harness, name: &str) -> std::sync::Arc<lbimport::validate::Report> {
    h.choose(name);
    h.pump_until("the report", |a| {
        a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    h.app
        .validate()
        .and_then(|v| v.report().cloned())
        .expect("report")
}

/// Store the Sandbox tracker's catalog: items with these identities.
fn store_sandbox_catalog(h: &Harness, identities: impl Iterator<Item = String>) {
    let objects: Vec<StoredObject> = identities
        .map(|identity| StoredObject {
            identity,
            kind: "item".into(),
            web_url: None,
            title: None,
        })
        .collect();
    let cat = StoredCatalog {
        source: "test".into(),
        fetched_at: 1_700_000_000,
        total: objects.len() as u64,
        objects,
    };
    lbimport::catalog::save(&lbimport::catalog::stored_path(&h.data, "Sandbox"), &cat)
        .expect("store the catalog");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_export_needs_a_to_send_orders_already_sent() {
    let mut h = Harness::new(Config::default());
    h.write("a.csv", &orders_csv(1, 1000, 0));
    h.write("b.csv", &orders_csv(1, 1500, 7));
    h.open_files().await;
    let tracker_id = h
        .app
        .step()
        .tracker()
        .expect("tracker")
        .tracker
        .tracker_id
        .clone();

    // A: nothing sent before, no guard.
    let report = validate_file(&mut h, "a.csv").await;
    assert_eq!(report.stats.orders, 1000);
    assert_eq!(report.already_sent.as_ref().map(|a| a.orders), Some(0));
    h.press(ch('c'));
    assert_eq!(h.app.step().name(), "Confirm");
    let g = h.app.confirm().expect("confirm").guard.clone();
    assert!(!g.needs_override(), "{g:?}");
    h.press(ch('y'));
    assert_eq!(h.app.step().name(), "Upload");
    h.pump_until("the result", |a| matches!(a.step(), Step::Result(_)))
        .await;
    assert_eq!(h.driver.sandbox_received().len(), 1);
    // A's orders were recorded for the tracker, as `lbimport upload` records them.
    let sets = lbimport::config::sent::SentSets::new(&h.data, &tracker_id);
    let keys = sets.keys().expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(sets.read(&keys[0]).expect("set").len(), 1000);

    // B: orders 1..=1500, of which 1..=1000 went with A.
    h.press(ch('f'));
    assert_eq!(h.app.step().name(), "File");
    // a fresh browser (the old one keeps the name filter typed for a.csv)
    if let Some(Step::File(f)) = h.app.top_mut() {
        f.view = lbimport::tui::steps::file::FileView::open(&h.files);
    }
    let report = validate_file(&mut h, "b.csv").await;
    let sent = report.already_sent.clone().expect("already-sent section");
    assert_eq!(sent.orders, 1000);
    assert_eq!(sent.rows, 2000);
    assert_eq!(sent.file_orders, 1500);
    assert_eq!(sent.by_upload.len(), 1);
    assert!(
        sent.by_upload[0]
            .file
            .as_deref()
            .is_some_and(|f| f.ends_with("a.csv")),
        "{sent:?}"
    );
    let s = screen(&h.app);
    assert!(s.contains("sent before"), "{s}");
    h.press(ch('c'));
    assert_eq!(h.app.step().name(), "Confirm");
    let c = h.app.confirm().expect("confirm");
    assert_eq!(c.guard.sent_orders, 1000);
    assert_eq!(c.guard.file_orders, 1500);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        c.guard.overlap.as_deref(),
        Some(
            format!("1,000 of 1,500 orders (66.7 %) were already sent on {today} in a.csv")
                .as_str()
        )
    );
    let s = screen(&h.app);
    assert!(s.contains("ALREADY SENT: 1,000 of 1,500 orders"), "{s}");
    assert!(s.contains("A send anyway"), "{s}");
    // y alone does not upload.
    h.press(ch('y'));
    assert_eq!(
        h.app.step().name(),
        "Confirm",
        "y alone must not send orders again"
    );
    assert!(
        screen(&h.app).contains("press A first"),
        "{}",
        screen(&h.app)
    );
    assert_eq!(h.driver.sandbox_received().len(), 1);
    // A, then y sends.
    h.press(ch('A'));
    h.press(ch('y'));
    assert_eq!(h.app.step().name(), "Upload");
    h.pump_until("the second result", |a| matches!(a.step(), Step::Result(_)))
        .await;
    assert_eq!(h.driver.sandbox_received().len(), 2);
    assert_eq!(sets.keys().expect("keys").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fewer_than_half_of_the_rows_in_the_catalog_needs_a() {
    let mut h = Harness::new(Config::default());
    // The sandbox tracker's stored catalog: /p/0 … /p/29 (30 of the 100 identities used).
    store_sandbox_catalog(&h, (0..30).map(|i| format!("/p/{i}")));
    let body = orders_csv(1, 500, 0);
    // counted here from the rows themselves
    let rows = body.lines().count() as u64;
    let matched = body
        .lines()
        .filter(|l| {
            let id: u32 = l
                .split(',')
                .nth(1)
                .and_then(|p| p.strip_prefix("/p/"))
                .and_then(|n| n.parse().ok())
                .expect("id");
            id < 30
        })
        .count() as u64;
    assert_eq!(rows, 1000);
    assert_eq!(matched, 300);
    h.write("low.csv", &body);
    h.open_files().await;
    let report = validate_file(&mut h, "low.csv").await;
    let cc = report.catalog.clone().expect("catalog section");
    assert_eq!((cc.rows, cc.rows_matched), (rows, matched));
    let s = screen(&h.app);
    assert!(s.contains("30.0 %"), "{s}");
    h.press(ch('c'));
    assert_eq!(h.app.step().name(), "Confirm");
    let c = h.app.confirm().expect("confirm");
    assert_eq!(c.guard.catalog, Some((rows, matched)));
    assert!(c.guard.low_match());
    assert!(!c.guard.overlaps());
    let s = screen(&h.app);
    assert!(s.contains("only 30.0 % of the rows match"), "{s}");
    assert!(
        s.contains("overlap    none of the 500 orders were sent to this tracker before"),
        "{s}"
    );
    h.press(ch('y'));
    assert_eq!(h.app.step().name(), "Confirm");
    h.press(ch('A'));
    h.press(key(KeyCode::Char('y')));
    assert_eq!(h.app.step().name(), "Upload");
    h.pump_until("the result", |a| matches!(a.step(), Step::Result(_)))
        .await;
    assert_eq!(h.driver.sandbox_received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracker_step_fetches_the_sandbox_catalog_and_validation_uses_it() {
    use lbimport::tui::steps::tracker::CatalogState;
    let mut h = Harness::new(Config::default());
    let fx = h.app.start(None, None);
    h.driver.execute(fx);
    h.pump_until("the stored catalog read", |a| {
        matches!(
            a.tracker.catalogs.get("Sandbox"),
            Some(CatalogState::Missing)
        )
    })
    .await;
    assert!(screen(&h.app).contains("no catalog — c fetches it"));
    // c on the Sandbox row: the sandbox starts, its catalog is fetched and stored
    h.press(ch('c'));
    h.pump_until("the fetched catalog", |a| {
        a.tracker.fetching.is_none()
            && matches!(
                a.tracker.catalogs.get("Sandbox"),
                Some(CatalogState::Stored(..))
            )
    })
    .await;
    assert_eq!(h.app.step().name(), "Tracker");
    let Some(CatalogState::Stored(ix, _)) = h.app.tracker.catalogs.get("Sandbox") else {
        unreachable!()
    };
    // the sandbox's demo catalog: /product/1 … /product/200000 without every tenth
    assert_eq!(ix.objects, 180_000);
    let s = screen(&h.app);
    assert!(s.contains("180,000 items, fetched just now"), "{s}");
    assert!(
        lbimport::catalog::stored_path(&h.data, "Sandbox").is_file(),
        "stored in the data directory"
    );

    // a file of /product/1 … /product/50: /product/10, 20, 30, 40, 50 are not in the catalog
    let mut body = String::new();
    for o in 0..300u32 {
        body.push_str(&format!(
            "{},/product/{},u{},2024-05-{:02} 10:00:00\n",
            5000 + o,
            o % 50 + 1,
            o % 7,
            1 + o % 28
        ));
    }
    let matched = (0..300u32).filter(|o| (o % 50 + 1) % 10 != 0).count() as u64;
    assert_eq!(matched, 270);
    h.write("products.csv", &body);
    h.open_files().await;
    let report = validate_file(&mut h, "products.csv").await;
    let c = report.catalog.clone().expect("catalog section");
    assert_eq!((c.rows, c.rows_matched), (300, matched));
    assert_eq!((c.identities, c.identities_matched), (50, 45));
    let s = screen(&h.app);
    assert!(s.contains("90.0 % of rows"), "{s}");
    assert!(s.contains("5 products"), "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_stops_a_catalog_fetch_and_nothing_is_stored() {
    let mut h = Harness::new(Config::default());
    h.press(ch('c'));
    h.pump_until("the first pages", |a| {
        a.tracker.fetching.as_ref().is_some_and(|f| f.got > 0)
    })
    .await;
    assert!(screen(&h.app).contains("Esc stops"), "{}", screen(&h.app));
    h.press(key(KeyCode::Esc));
    h.pump_until("the fetch to end", |a| a.tracker.fetching.is_none())
        .await;
    let msg = h.app.tracker.message.clone().expect("message");
    assert!(!msg.0 && msg.1.contains("cancelled"), "{msg:?}");
    assert!(!lbimport::catalog::stored_path(&h.data, "Sandbox").exists());
    assert_eq!(h.app.step().name(), "Tracker");
}

/// A shop export with SKU, product id and URL columns side by side (`;`, header), two rows
/// per order.
fn shop_export_with_ids(orders: u32) -> String {
    let mut body = String::from("Date;Order;Customer;SKU;Product ID;URL;Price\n");
    for o in 0..orders {
        for i in 0..2u32 {
            let p = (o * 3 + i * 7) % 50;
            body.push_str(&format!(
                "{:02}/10/2026 15:{:02};A-{};c-{};SKU-{p:04};{};/product/{};19.90\n",
                13 + o % 15,
                i,
                1000 + o,
                o % 30,
                7000 + p,
                p + 1
            ));
        }
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_chooses_the_identity_column_of_a_shop_export() {
    use lbimport::mapping::detect::Role;
    use lbimport::tui::steps::tracker::CatalogState;
    let body = shop_export_with_ids(40);
    // Without a catalog, detection takes the SKU (column D, by its header name).
    let d = lbimport::mapping::detect::detect_bytes(body.as_bytes(), true, false);
    let guessed = d
        .columns
        .iter()
        .position(|c| c.role == Role::Identity)
        .expect("an identity guess");
    assert_eq!(guessed, 3, "{:?}", d.columns);

    let mut h = Harness::new(Config::default());
    // the tracker's catalog holds the product URLs (column F)
    store_sandbox_catalog(&h, (0..50).map(|p| format!("/product/{}", p + 1)));
    let fx = h.app.start(None, None);
    h.driver.execute(fx);
    h.pump_until("the stored catalog read", |a| {
        matches!(
            a.tracker.catalogs.get("Sandbox"),
            Some(CatalogState::Stored(..))
        )
    })
    .await;
    h.write("shop.csv", &body);
    h.open_columns("shop").await;
    let c = h.app.columns().expect("columns");
    assert_eq!(c.roles[5], Role::Identity, "{:?}", c.roles);
    assert_eq!(c.roles[3], Role::Other, "{:?}", c.roles);
    assert_eq!(c.roles.iter().filter(|r| **r == Role::Identity).count(), 1);
    // every sampled URL is in the catalog, no SKU or product id is; the other roles are not
    // candidates
    assert_eq!(c.catalog_rates[5], Some(1.0));
    assert_eq!(c.catalog_rates[3], Some(0.0));
    assert_eq!(c.catalog_rates[4], Some(0.0));
    assert_eq!(&c.catalog_rates[..3], &[None, None, None]);
    let s = screen(&h.app);
    assert!(s.contains("identity 100%"), "{s}");
    assert!(s.contains("% of sampled values in the catalog"), "{s}");
    assert!(s.contains("identity: column F \"URL\""), "{s}");
    // converted with the SKU as identity: every row matches the catalog
    h.press(key(KeyCode::Enter));
    h.pump_until("the converted file's report", |a| {
        matches!(a.step(), Step::Validate(_)) && a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    let report = h
        .app
        .validate()
        .and_then(|v| v.report().cloned())
        .expect("report");
    let cc = report.catalog.clone().expect("catalog section");
    assert_eq!(report.stats.rows, 80);
    assert_eq!((cc.rows, cc.rows_matched), (80, 80));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_sent_set_skips_the_check_with_a_warning_never_zero() {
    let mut h = Harness::new(Config::default());
    h.write("a.csv", &orders_csv(1, 10, 0));
    h.open_files().await;
    let tracker_id = h
        .app
        .step()
        .tracker()
        .expect("tracker")
        .tracker
        .tracker_id
        .clone();
    let sets = lbimport::config::sent::SentSets::new(&h.data, &tracker_id);
    sets.store("20261102T101500000000Z-3be01c77a2d4", vec![1, 2, 3])
        .expect("store");
    let path = sets.path("20261102T101500000000Z-3be01c77a2d4");
    std::fs::write(&path, b"not a sent set").expect("damage it");
    let report = validate_file(&mut h, "a.csv").await;
    // the report says the check was skipped, with the damaged file, and counts nothing
    let a = report.already_sent.as_ref().expect("already_sent section");
    assert!(
        a.skipped
            .as_deref()
            .is_some_and(|w| w.contains(&path.display().to_string())),
        "{a:?}"
    );
    let v = h.app.validate().expect("validate");
    assert_eq!(v.checks_skipped.len(), 1, "{:?}", v.checks_skipped);
    assert!(v.checks_skipped[0].contains("already-sent check was skipped"));
    let s = screen(&h.app);
    assert!(s.contains("skipped (below)"), "{s}");
    assert!(s.contains("already-sent check was skipped"), "{s}");
    // Confirm: no "overlap" line and no guard (never "0 already sent")
    h.press(ch('c'));
    let c = h.app.confirm().expect("confirm");
    assert_eq!(c.guard.overlap, None);
    assert!(!screen(&h.app).contains("overlap"));
}

/// The wizard records a sent file's orders through the same function as `lbimport upload`:
/// an unknown outcome counts as sent, a rejected or failed one does not.
#[test]
fn an_unknown_outcome_records_the_orders_a_rejected_one_does_not() {
    use lbimport::config::Outcome;
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("a.csv");
    std::fs::write(&file, orders_csv(1, 25, 0)).expect("write");
    let mut e = lbimport::tui::demo::demo_history_entry();
    e.tracker_id = "t-1".into();
    e.format = lbimport::read::Format::Csv;
    let sets = lbimport::config::sent::SentSets::new(tmp.path(), "t-1");
    for (outcome, recorded) in [
        (Outcome::Rejected, 0),
        (Outcome::Failed, 0),
        (Outcome::Cancelled, 0),
        (Outcome::Unknown, 1),
        (Outcome::Accepted, 1),
    ] {
        e.outcome = outcome;
        // entry keys take the first 12 hex digits of the sha256
        e.sha256 = format!("{:x}{}", outcome as u8, "0".repeat(63));
        let before = sets.keys().expect("keys").len();
        lbimport::tui::services::record_sent(tmp.path(), &e, &file).expect("record");
        let keys = sets.keys().expect("keys");
        assert_eq!(keys.len() - before, recorded, "{outcome:?}");
        if recorded == 1 {
            let key = lbimport::config::sent::entry_key(e.time, &e.sha256);
            // 25 orders, two rows each
            assert_eq!(sets.read(&key).expect("set").len(), 25, "{outcome:?}");
        }
    }
}

/// The converted file the wizard is validating (after Columns).
fn converted_file(h: &Harness) -> std::path::PathBuf {
    match h.app.step() {
        Step::Validate(v) => {
            assert_ne!(v.file.original, v.file.upload, "a converted file");
            v.file.upload.clone()
        }
        s => panic!("not at Validate: {}", s.name()),
    }
}

async fn converted_report(h: &mut Harness) -> std::sync::Arc<lbimport::validate::Report> {
    h.pump_until("the converted file's report", |a| {
        matches!(a.step(), Step::Validate(v) if v.file.original != v.file.upload)
            && a.validate().is_some_and(|v| v.report().is_some())
    })
    .await;
    h.app
        .validate()
        .and_then(|v| v.report().cloned())
        .expect("report")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_urls_against_a_catalog_of_paths_are_fixed_in_columns_with_one_key() {
    use lbimport::validate::lookup::IdentityFix;
    let mut h = Harness::new(Config::default());
    // the catalog: /p/0 … /p/99, every identity the file uses
    store_sandbox_catalog(&h, (0..100).map(|i| format!("/p/{i}")));
    // the same rows with full URLs: none is in the catalog as it is
    let body = orders_csv(1, 300, 0).replace(",/p/", ",https://shop.example/p/");
    assert_eq!(body.matches("https://shop.example/p/").count(), 600);
    h.write("urls.csv", &body);
    h.open_files().await;
    let report = validate_file(&mut h, "urls.csv").await;
    let cc = report.catalog.clone().expect("catalog section");
    assert_eq!((cc.rows, cc.rows_matched), (600, 0));
    assert_eq!(
        cc.diagnoses.first().map(|d| d.fix),
        Some(IdentityFix::StripHost)
    );
    // m leads to Columns for a file in the documented layout, with the fix offered
    assert!(
        screen(&h.app).contains("m fix in columns"),
        "{}",
        screen(&h.app)
    );
    h.press(ch('m'));
    assert_eq!(h.app.step().name(), "Columns");
    let c = h.app.columns().expect("columns");
    assert_eq!(c.identity_fixes.len(), cc.diagnoses.len());
    assert!(!c.identity_fixes[0].on);
    assert!(c.only_new.is_none(), "nothing was sent");
    let s = screen(&h.app);
    assert!(s.contains("identities: strip scheme and host (1)"), "{s}");
    h.press(ch('1'));
    assert!(h.app.columns().expect("columns").identity_fixes[0].on);
    h.press(key(KeyCode::Enter));
    let report = converted_report(&mut h).await;
    let cc = report.catalog.clone().expect("catalog section");
    assert_eq!(report.stats.rows, 600);
    assert_eq!((cc.rows, cc.rows_matched), (600, 600));
    assert_eq!(cc.row_match_rate, 1.0);
    assert!(
        report
            .issue(lbimport::validate::Code::IdentityNotInCatalog)
            .is_none()
    );
    // the converted file holds the paths, the user's file is untouched
    let out = std::fs::read_to_string(converted_file(&h)).expect("converted");
    assert!(!out.contains("https://"), "{out}");
    assert!(out.contains(",/p/2,"), "{out}");
    assert_eq!(
        std::fs::read_to_string(h.files.join("urls.csv")).expect("original"),
        body
    );
    let s = screen(&h.app);
    assert!(s.contains("identities rewritten in 600 rows"), "{s}");
    // back in Columns from the converted file's report, the fix is still chosen
    h.press(ch('m'));
    assert_eq!(h.app.step().name(), "Columns");
    let c = h.app.columns().expect("columns");
    assert!(c.identity_fixes.first().is_some_and(|o| o.on));
    // and its preview shows the identities as they will be written
    let ids: Vec<&str> = c
        .preview
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|f| f[1].as_str()))
        .collect();
    assert!(
        !ids.is_empty() && ids.iter().all(|i| i.starts_with("/p/")),
        "{ids:?}"
    );
}

/// Record orders `orders` as sent to the chosen tracker by an earlier upload (its sha256 made
/// of `tag`), as a successful upload would.
fn record_sent(h: &Harness, orders: std::ops::RangeInclusive<u32>, tag: &str) {
    let tracker_id = &h.app.step().tracker().expect("tracker").tracker.tracker_id;
    let sets = lbimport::config::sent::SentSets::new(&h.data, tracker_id);
    let sent: Vec<u64> = orders
        .map(|o| lbimport::config::sent::order_hash(&o.to_string()))
        .collect();
    let set_key = lbimport::config::sent::entry_key(chrono::Utc::now(), &tag.repeat(32));
    sets.store(&set_key, sent).expect("store the sent orders");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_new_orders_in_columns_leaves_exactly_the_orders_not_sent() {
    let mut h = Harness::new(Config::default());
    h.write("b.csv", &orders_csv(1, 1500, 7));
    h.open_files().await;
    // orders 1 … 1,000 were sent by an earlier upload
    record_sent(&h, 1..=1000, "ab");

    let report = validate_file(&mut h, "b.csv").await;
    let a = report.already_sent.clone().expect("already-sent section");
    assert_eq!((a.orders, a.rows, a.file_orders), (1000, 2000, 1500));
    h.press(ch('m'));
    assert_eq!(h.app.step().name(), "Columns");
    let c = h.app.columns().expect("columns");
    let o = c.only_new.expect("only new orders offered");
    assert_eq!(
        (o.orders, o.rows, o.file_orders, o.on),
        (1000, 2000, 1500, false)
    );
    assert!(
        screen(&h.app).contains("only new orders (n) — drop 1,000 of 1,500 orders (2,000 rows)"),
        "{}",
        screen(&h.app)
    );
    h.press(ch('n'));
    assert!(
        h.app
            .columns()
            .and_then(|c| c.only_new)
            .is_some_and(|o| o.on)
    );
    h.press(key(KeyCode::Enter));
    let report = converted_report(&mut h).await;
    let a = report.already_sent.clone().expect("already-sent section");
    assert_eq!(a.orders, 0);
    assert!(
        report
            .issue(lbimport::validate::Code::OrdersAlreadySent)
            .is_none()
    );
    assert_eq!(report.stats.orders, 500);
    assert_eq!(report.stats.rows, 1000);
    // exactly orders 1,001 … 1,500, two rows each
    let out = std::fs::read_to_string(converted_file(&h)).expect("converted");
    let mut rows_per_order = std::collections::BTreeMap::<u32, u32>::new();
    for l in out.lines() {
        if let Some(o) = l.split(',').next().and_then(|o| o.parse::<u32>().ok()) {
            *rows_per_order.entry(o).or_default() += 1;
        }
    }
    let orders: Vec<u32> = rows_per_order.keys().copied().collect();
    assert_eq!(orders, (1001..=1500).collect::<Vec<u32>>());
    assert!(rows_per_order.values().all(|n| *n == 2));
    let s = screen(&h.app);
    assert!(
        s.contains("1,000 orders (2,000 rows) already sent dropped"),
        "{s}"
    );
}

/// Only new orders on a file whose every order was sent before: Columns says so and stays,
/// rather than validating an empty file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_new_orders_when_every_order_was_sent_stays_in_columns_and_says_so() {
    let mut h = Harness::new(Config::default());
    h.write("b.csv", &orders_csv(1, 300, 7));
    h.open_files().await;
    record_sent(&h, 1..=300, "cd");
    let report = validate_file(&mut h, "b.csv").await;
    assert_eq!(report.already_sent.as_ref().map(|a| a.orders), Some(300));
    h.press(ch('m'));
    h.press(ch('n'));
    h.press(key(KeyCode::Enter));
    h.pump_until("the conversion", |a| {
        a.columns()
            .and_then(|c| c.message.as_deref())
            .is_some_and(|m| m.contains("already sent"))
    })
    .await;
    assert_eq!(h.app.step().name(), "Columns");
    let said = h
        .app
        .columns()
        .and_then(|c| c.message.clone())
        .unwrap_or_default();
    assert!(
        said.contains("300 orders (600 rows) already sent dropped; 0 rows kept"),
        "{said}"
    );
    // the conclusion comes first, so even one line of it says what happened
    let s = screen(&h.app);
    assert!(
        s.contains("every order in this file was already sent"),
        "{s}"
    );
}
