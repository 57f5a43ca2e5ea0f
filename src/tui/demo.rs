//! Deterministic demo states of every step, for screenshots and snapshot tests. Nothing here
//! reads the disk, the clock or the network.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use super::app::{App, Chosen, Context, FileChoice, Overlay, Step};
use super::services::{UploadEvent, UploadOutcome};
use super::steps::columns::ColumnsStep;
use super::steps::confirm::ConfirmStep;
use super::steps::file::FileStep;
use super::steps::result::ResultStep;
use super::steps::upload::UploadStep;
use super::steps::validate::ValidateStep;
use super::steps::{columns, confirm, file, result, tracker, upload, validate};
use super::theme::Theme;
use crate::config::{Config, HistoryEntry, KeySource, Outcome, PrivateKey, Tracker};
use crate::read::Format;
use crate::validate::lookup::IdentityFix;
use crate::validate::{
    AlreadySent, CatalogCheck, CatalogDiagnosis, Code, Example, FileInfo, Issue, LineEndings,
    Progress, Report, Sample, SampleRow, SentBy, Snapshot, Stats, TopProduct, Verdict,
};

const SHA: &str = "9f2c4e1a7b3d5f60812a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d";

/// A buffer as text: one line per row, trailing spaces trimmed (snapshots and tests read it).
pub fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Render an app into a buffer of `width`×`height`.
pub fn render(app: &App, width: u16, height: u16) -> Buffer {
    let backend = TestBackend::new(width, height);
    let Ok(mut term) = Terminal::new(backend);
    let _ = term.draw(|f| app.draw(f));
    term.backend().buffer().clone()
}

/// Every step rendered with demo data: tracker, file, validate, samples, columns,
/// confirm-duplicate, upload, result-accepted, result-rejected, and confirm-parts (a file over
/// 1 GiB sent in parts).
pub fn screens(theme: &Theme, width: u16, height: u16) -> Vec<(&'static str, Buffer)> {
    apps(theme)
        .into_iter()
        .filter(|(n, _)| SCREEN_NAMES.contains(n))
        .map(|(n, a)| (n, render(&a, width, height)))
        .collect()
}

/// Names returned by [`screens`], in order.
pub const SCREEN_NAMES: [&str; 10] = [
    "tracker",
    "file",
    "validate",
    "samples",
    "columns",
    "confirm-duplicate",
    "upload",
    "result-accepted",
    "result-rejected",
    "confirm-parts",
];

fn time(d: u32, h: u32, m: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, m, 0)
        .single()
        .unwrap_or_default()
}

fn trackers() -> Config {
    let mut prod = Tracker::new(
        "shop-prod",
        "1292-9381",
        KeySource::Env("LB_KEY_PROD".into()),
    );
    prod.last_dir = Some(PathBuf::from("/home/demo/exports"));
    let mut staging = Tracker::new(
        "shop-staging",
        "1292-1177",
        KeySource::Stored(PrivateKey::new("demo-staging-key-abcd")),
    );
    staging.base_url = "https://live.luigisbox.tech".into();
    Config {
        theme: None,
        trackers: vec![prod, staging],
    }
}

fn history() -> Vec<HistoryEntry> {
    let e = |d, h, name: &str, id: &str, outcome, status, file: &str, bytes| HistoryEntry {
        time: time(d, h, 12),
        tracker_name: name.into(),
        tracker_id: id.into(),
        base_url: "https://live.luigisbox.com".into(),
        file: PathBuf::from(format!("/home/demo/exports/{file}")),
        bytes,
        sha256: if file == "orders-2026-10.csv" {
            SHA.into()
        } else {
            "0".repeat(64)
        },
        format: Format::Csv,
        rows: Some(1_204_331),
        orders: Some(402_118),
        first_purchase: None,
        last_purchase: None,
        outcome,
        status,
        duration_ms: 48_200,
        detail: None,
        attempt: None,
        pid: None,
        report: None,
    };
    vec![
        e(
            20,
            14,
            "shop-prod",
            "1292-9381",
            Outcome::Accepted,
            Some(200),
            "orders-2026-10.csv",
            41_873_202,
        ),
        e(
            12,
            9,
            "shop-staging",
            "1292-1177",
            Outcome::Rejected,
            Some(401),
            "orders-2026-09.csv",
            39_120_774,
        ),
        e(
            3,
            16,
            "shop-prod",
            "1292-9381",
            Outcome::Accepted,
            Some(200),
            "orders-2026-09.csv",
            39_120_774,
        ),
    ]
}

fn prod() -> Chosen {
    Chosen {
        tracker: trackers().trackers[0].clone(),
        sandbox: false,
    }
}

fn file_view() -> file::FileView {
    let e = |name: &str, is_dir: bool, size: u64, modified: &str| file::Entry {
        name: name.into(),
        is_dir,
        size,
        modified: modified.into(),
    };
    let mut v = file::FileView {
        dir: PathBuf::from("/home/demo/exports"),
        entries: vec![
            e("..", true, 0, ""),
            e("archive", true, 0, "2026-10-01 08:00"),
            e("raw", true, 0, "2026-11-02 10:41"),
            e("notes.txt", false, 1_204, "2026-11-02 10:45"),
            e("orders-2026-09.csv", false, 39_120_774, "2026-10-01 07:59"),
            e("orders-2026-10.csv", false, 41_873_202, "2026-11-01 06:30"),
            e("orders-2026-11.json", false, 52_004_118, "2026-11-26 22:10"),
            e("shopify-export.csv", false, 8_302_551, "2026-11-25 17:02"),
        ],
        selected: 5,
        path: super::steps::TextField::new("/home/demo/exports/"),
        ..Default::default()
    };
    v.preview = Some(file::preview_bytes(
        b"1001,/p/espresso-machine-x200,u-88,2026-10-01 08:12:44\n1001,/p/milk-frother,u-88,2026-10-01 08:12:44\n1002,/p/coffee-beans-1kg,,2026-10-01 09:03:10\n1003,/p/descaler,u-12,2026-10-01 09:15:02\n1003,/p/coffee-beans-1kg,u-12,2026-10-01 09:15:02\n1003,/p/cups-set-6,u-12,2026-10-01 09:15:02\n1004,/p/grinder-pro,u-31,2026-10-01 10:40:55\n",
    ));
    v
}

fn report(errors: bool) -> Report {
    let ex = |line, byte, text: &str| Example {
        line,
        byte,
        text: text.into(),
    };
    let mut issues = vec![
        Issue {
            code: Code::DuplicateRow,
            severity: Code::DuplicateRow.severity(),
            count: 312,
            message: "rows repeating an earlier row exactly (same order, identity, user and time)"
                .into(),
            examples: vec![
                ex(
                    4_811,
                    301_220,
                    "1877,/p/coffee-beans-1kg,u-401,2026-10-02 11:20:31",
                ),
                ex(9_020, 566_031, "3102,/p/descaler,,2026-10-03 17:45:00"),
            ],
        },
        Issue {
            code: Code::FutureTimestamp,
            severity: Code::FutureTimestamp.severity(),
            count: 3,
            message: "created_at later than now — a clock or time zone problem?".into(),
            examples: vec![ex(
                1_100_402,
                40_112_930,
                "401877,/p/grinder-pro,u-9,2027-01-04 10:00:00",
            )],
        },
        Issue {
            code: Code::NoTimestamps,
            severity: Code::NoTimestamps.severity(),
            count: 0,
            message: "".into(),
            examples: vec![],
        },
    ];
    issues.truncate(2);
    // what the validator says of the catalog section below (2.7 % of the rows unknown)
    issues.push(Issue {
        code: Code::IdentityNotInCatalog,
        severity: Code::IdentityNotInCatalog.severity(),
        count: 32_515,
        message: "32,515 rows (2.7 %) name a product that is not in the tracker's catalog \
                  (412 of 18,220 identities)"
            .into(),
        examples: vec![ex(
            2_204,
            131_877,
            "1731,/p/gift-card-50,u-77,2026-10-02 08:01:09",
        )],
    });
    if errors {
        issues.insert(
            0,
            Issue {
                code: Code::TimestampZone,
                severity: Code::TimestampZone.severity(),
                count: 1_204,
                message: "created_at carries a time zone (Z or +02:00); the service rejects it — convert to naive UTC".into(),
                examples: vec![
                    ex(17, 1_022, "1009,/p/milk-frother,u-2,2026-10-01T10:02:11+02:00"),
                    ex(18, 1_081, "1009,/p/cups-set-6,u-2,2026-10-01T10:02:11+02:00"),
                ],
            },
        );
        issues.insert(
            1,
            Issue {
                code: Code::FieldCount,
                severity: Code::FieldCount.severity(),
                count: 2,
                message: "rows with fewer than 2 or more than 4 fields".into(),
                examples: vec![ex(
                    77_301,
                    3_001_442,
                    "20311;/p/grinder-pro;u-7;2026-10-04 12:00:00;49.90",
                )],
            },
        );
    }
    let row = |line, id: &str, user: &str, at: &str| SampleRow {
        line,
        identity: id.into(),
        user_id: Some(user.into()),
        created_at: Some(at.into()),
    };
    Report {
        file: FileInfo {
            path: "/home/demo/exports/orders-2026-10.csv".into(),
            bytes: 41_873_202,
            sha256: SHA.into(),
            format: Format::Csv,
            line_endings: LineEndings::Lf,
            bom: false,
        },
        verdict: if errors {
            Verdict::Errors
        } else {
            Verdict::Warnings
        },
        stats: Stats {
            lines: 1_204_331,
            rows: 1_204_331,
            valid_rows: 1_204_331 - if errors { 1_206 } else { 0 },
            invalid_rows: if errors { 1_206 } else { 0 },
            orders: 402_118,
            single_item_orders: 171_400,
            multi_item_orders: 230_718,
            pairs: 1_377_902,
            products: 18_220,
            users: 96_431,
            rows_with_user: 1_010_220,
            rows_with_timestamp: 1_204_331,
            first_purchase: Some("2026-10-01 00:00:41".into()),
            last_purchase: Some("2026-10-31 23:59:12".into()),
            ..Default::default()
        },
        issues,
        samples: vec![
            Sample {
                order_id: "1003".into(),
                rows: vec![
                    row(4, "/p/descaler", "u-12", "2026-10-01 09:15:02"),
                    row(5, "/p/coffee-beans-1kg", "u-12", "2026-10-01 09:15:02"),
                    row(6, "/p/cups-set-6", "u-12", "2026-10-01 09:15:02"),
                ],
            },
            Sample {
                order_id: "1001".into(),
                rows: vec![
                    row(1, "/p/espresso-machine-x200", "u-88", "2026-10-01 08:12:44"),
                    row(2, "/p/milk-frother", "u-88", "2026-10-01 08:12:44"),
                ],
            },
        ],
        validated_at: None,
        validated_by: None,
        file_absolute: None,
        lbimport_version: None,
        catalog: Some(catalog_check(
            1_171_816,
            1_204_331,
            18_220,
            17_808,
            Vec::new(),
        )),
        already_sent: Some(AlreadySent {
            orders: 0,
            rows: 0,
            file_orders: 402_118,
            uploads_compared: 2,
            skipped: None,
            by_upload: Vec::new(),
            unrecorded: Vec::new(),
        }),
    }
}

/// A catalog comparison of `rows` rows (`matched` in the catalog) and `ids` identities.
fn catalog_check(
    matched: u64,
    rows: u64,
    ids: u64,
    ids_matched: u64,
    diagnoses: Vec<CatalogDiagnosis>,
) -> CatalogCheck {
    CatalogCheck {
        source: "https://live.luigisbox.com/v1/content_export".into(),
        fetched_at: Some(time(28, 9, 30)),
        catalog_identities: 19_402,
        skipped: None,
        rows,
        rows_matched: matched,
        identities: ids,
        identities_matched: ids_matched,
        row_match_rate: matched as f64 / rows as f64,
        identity_match_rate: ids_matched as f64 / ids as f64,
        top_unknown: [
            ("https://shop.example/p/espresso-machine-x200", 4_102),
            ("https://shop.example/p/coffee-beans-1kg", 3_877),
            ("https://shop.example/p/milk-frother", 2_015),
        ]
        .into_iter()
        .map(|(identity, rows)| TopProduct {
            identity: identity.into(),
            rows,
        })
        .collect(),
        diagnoses,
    }
}

/// The demo report of a re-export (see [`checked_report`]): a catalog diagnosis and orders
/// already sent.
pub fn demo_checked_report() -> Report {
    checked_report()
}

/// The demo report of a re-export: full URLs where the catalog has paths, and most orders
/// already sent by an earlier upload.
fn checked_report() -> Report {
    let mut r = report(false);
    let fix = IdentityFix::StripHost;
    let cat = catalog_check(
        120_431,
        1_204_331,
        18_220,
        1_822,
        vec![CatalogDiagnosis {
            fix,
            description: fix.describe().into(),
            flag: fix.flag().into(),
            identities: 982,
            rows: 1_050_112,
            tried: 1_000,
            example: "https://shop.example/p/espresso-machine-x200".into(),
        }],
    );
    let ex = |line, byte, text: &str| Example {
        line,
        byte,
        text: text.into(),
    };
    r.issues.insert(
        0,
        Issue {
            code: Code::IdentityNotInCatalog,
            severity: Code::IdentityNotInCatalog.severity(),
            count: cat.rows - cat.rows_matched,
            message: "rows whose identity is not in the tracker's catalog (10.0 % match)".into(),
            examples: vec![ex(
                1,
                0,
                "1001,https://shop.example/p/espresso-machine-x200,u-88,2026-10-01 08:12:44",
            )],
        },
    );
    r.issues.insert(
        1,
        Issue {
            code: Code::OrdersAlreadySent,
            severity: Code::OrdersAlreadySent.severity(),
            count: 384_555,
            message: "orders an earlier upload already sent to this tracker".into(),
            examples: vec![ex(
                1,
                0,
                "1001,https://shop.example/p/espresso-machine-x200,u-88,2026-10-01 08:12:44",
            )],
        },
    );
    r.catalog = Some(cat);
    r.already_sent = Some(AlreadySent {
        orders: 384_555,
        rows: 1_151_002,
        file_orders: 402_118,
        uploads_compared: 2,
        skipped: None,
        by_upload: vec![SentBy {
            key: "20261102T101500000000Z-3be01c77a2d4".into(),
            sent_at: Some(
                Utc.with_ymd_and_hms(2026, 11, 2, 10, 15, 0)
                    .single()
                    .unwrap_or_default(),
            ),
            file: Some("/home/demo/exports/orders-until-october.csv".into()),
            orders: 384_555,
        }],
        unrecorded: Vec::new(),
    });
    r
}

/// The newest entry of the demo history.
pub fn demo_history_entry() -> HistoryEntry {
    history().remove(0)
}

/// The demo report (the Validate step's finished run): with errors, or with warnings only.
pub fn demo_report(errors: bool) -> Report {
    report(errors)
}

fn validate_view(errors: bool, done: bool) -> validate::ValidateView {
    let mut v = validate::ValidateView::new(
        1,
        PathBuf::from("/home/demo/exports/orders-2026-10.csv"),
        Arc::new(Progress::new()),
        None,
    );
    v.elapsed = Duration::from_millis(2_300);
    v.can_map = true;
    if done {
        v.result = Some(Ok(Arc::new(report(errors))));
    } else {
        v.elapsed = Duration::from_millis(1_100);
        v.snap = Snapshot {
            bytes_read: 17_301_114,
            total_bytes: 41_873_202,
            rows: 497_211,
            orders: 166_012,
            multi_item_orders: 95_240,
            pairs: 568_115,
            products: 14_902,
            users: 40_377,
            first_purchase: Some("2026-10-01 00:00:41".into()),
            last_purchase: Some("2026-10-13 08:02:19".into()),
            issues: vec![(Code::DuplicateRow, 131)],
            done: false,
        };
    }
    v
}

fn base(theme: &Theme) -> App {
    let mut app = App::new(Context {
        config: trackers(),
        history: history(),
        start_dir: PathBuf::from("/home/demo/exports"),
        theme: theme.clone(),
        notices: Vec::new(),
    });
    // shop-prod has a catalog of 1,234 items fetched 3 days ago; shop-staging has none
    let fetched = time(25, 9, 30).timestamp().max(0) as u64;
    let names: Vec<String> = (1..=1_234).map(|i| format!("/p/{i}")).collect();
    let ix = crate::validate::lookup::CatalogIndex::build(
        "https://live.luigisbox.com/v1/content_export",
        Some(fetched),
        names.iter().map(|n| (n.as_str(), None)),
    );
    app.tracker.catalogs.insert(
        "shop-prod".into(),
        tracker::CatalogState::Stored(Arc::new(ix), fetched + 3 * 86_400 + 3_600),
    );
    app.tracker
        .catalogs
        .insert("shop-staging".into(), tracker::CatalogState::Missing);
    app.tracker
        .catalogs
        .insert(tracker::SANDBOX_NAME.into(), tracker::CatalogState::Missing);
    app
}

fn choice() -> FileChoice {
    FileChoice::plain(PathBuf::from("/home/demo/exports/orders-2026-10.csv"))
}

/// The demo app with the file step for shop-prod under the tracker step.
fn at_file(theme: &Theme) -> App {
    let mut a = base(theme);
    a.push(Step::File(FileStep {
        tracker: prod(),
        view: file_view(),
    }));
    a
}

fn at_validate(theme: &Theme, errors: bool, done: bool) -> App {
    let mut a = at_file(theme);
    a.push(Step::Validate(ValidateStep {
        tracker: prod(),
        file: choice(),
        view: validate_view(errors, done),
    }));
    a
}

fn at_upload(theme: &Theme) -> App {
    let mut a = at_validate(theme, false, true);
    let r = Arc::new(report(false));
    let mut u = upload::UploadView::new(2, r.file.bytes, None);
    u.apply(UploadEvent::ClockSkew {
        skew_ms: 1_840,
        corrected: true,
    });
    u.apply(UploadEvent::Attempt {
        n: 2,
        reason: Some("503 Service Unavailable — the service is busy".into()),
    });
    u.apply(UploadEvent::Progress {
        sent: 24_117_003,
        total: r.file.bytes,
        rate_bps: 3_400_000.0,
        eta: Some(Duration::from_secs(5)),
        elapsed: Duration::from_secs(19),
    });
    a.push(Step::Upload(UploadStep {
        tracker: prod(),
        file: choice(),
        report: r,
        allow_duplicate: false,
        view: u,
    }));
    a
}

fn at_result(theme: &Theme, outcome: UploadOutcome) -> App {
    let mut a = at_validate(theme, false, true);
    let r = Arc::new(report(false));
    let mut entry = history()[0].clone();
    entry.time = time(27, 3, 41);
    entry.outcome = outcome.history_outcome();
    entry.status = outcome.status();
    a.push(Step::Result(ResultStep {
        tracker: prod(),
        file: choice(),
        report: r,
        outcome: outcome.clone(),
        view: result::ResultView {
            outcome,
            entry: Some(entry),
            history_error: None,
            parts: None,
        },
    }));
    a
}

/// Validate, then Confirm of `report` with `view`.
fn at_confirm(theme: &Theme, report: Arc<Report>, view: confirm::ConfirmView) -> App {
    let mut a = at_validate(theme, false, true);
    a.push(Step::Confirm(ConfirmStep {
        tracker: prod(),
        file: choice(),
        report,
        view,
    }));
    a
}

/// The Columns step of the user's `export`.
fn columns_step(export: PathBuf, view: columns::ColumnsView) -> Step {
    Step::Columns(ColumnsStep {
        tracker: prod(),
        file: FileChoice::plain(export),
        view,
        convert_run: 0,
        detect_run: 0,
    })
}

const BIG: &str = "/home/demo/exports/orders-2021-2026.csv";
const PART_DIR: &str = "/home/demo/.local/share/lbimport/converted";

/// The demo's big file: 2.4 GB, over the 1 GiB limit (the validator says so).
fn big_report() -> Report {
    let mut r = report(false);
    r.file.path = BIG.into();
    r.file.bytes = 2_401_004_118;
    r.file.sha256 = "5d1e".repeat(16);
    r.stats.rows = 69_120_554;
    r.stats.valid_rows = r.stats.rows;
    r.stats.lines = r.stats.rows;
    r.stats.orders = 23_040_117;
    r.verdict = Verdict::Errors;
    r.issues.insert(
        0,
        Issue {
            code: Code::FileTooLarge,
            severity: Code::FileTooLarge.severity(),
            count: 1,
            message: "the file is over the service's 1 GiB limit for one upload".into(),
            examples: vec![],
        },
    );
    r
}

/// The three parts of the big file, each with its own report.
fn big_parts() -> Vec<super::app::Part> {
    let sizes = [1_073_740_002u64, 1_073_716_544, 253_547_572];
    let rows = [30_911_020u64, 30_910_412, 7_299_122];
    let orders = [10_303_541u64, 10_303_004, 2_433_572];
    let shas = ["a3c1", "77e0", "0b9f"];
    (0..3)
        .map(|i| {
            let mut r = report(false);
            r.file.path = format!("{PART_DIR}/orders-2021-2026.part-{:03}.csv", i + 1);
            r.file.bytes = sizes[i];
            r.file.sha256 = shas[i].repeat(16);
            r.stats.rows = rows[i];
            r.stats.valid_rows = rows[i];
            r.stats.orders = orders[i];
            if i == 2 {
                r.verdict = Verdict::Ok;
                r.issues.clear();
            }
            super::app::Part {
                path: PathBuf::from(&r.file.path),
                report: Arc::new(r),
            }
        })
        .collect()
}

fn big_choice(with_parts: bool) -> FileChoice {
    let mut f = FileChoice::plain(PathBuf::from(BIG));
    if with_parts {
        f.parts = big_parts();
    }
    f
}

fn at_validate_big(theme: &Theme, split_done: bool) -> App {
    let mut a = at_file(theme);
    let mut v = validate::ValidateView::new(1, PathBuf::from(BIG), Arc::new(Progress::new()), None);
    v.elapsed = Duration::from_secs(41);
    v.can_map = true;
    v.result = Some(Ok(Arc::new(big_report())));
    let mut sp =
        super::steps::parts::SplitState::new(2, v.part_limit, Arc::new(Progress::new()), None);
    if split_done {
        let parts = big_parts();
        sp.split_done(parts.iter().map(|p| p.path.clone()).collect());
        sp.reports = parts.iter().map(|p| Some(Ok(p.report.clone()))).collect();
        sp.elapsed = Duration::from_secs(97);
        v.tab = validate::Tab::Parts;
    } else {
        sp.snap = Snapshot {
            bytes_read: 3_140_000_000,
            total_bytes: 2 * 2_401_004_118,
            rows: 90_400_112,
            ..Default::default()
        };
        sp.elapsed = Duration::from_secs(33);
        v.tab = validate::Tab::Parts;
    }
    v.split = Some(sp);
    a.push(Step::Validate(ValidateStep {
        tracker: prod(),
        file: big_choice(false),
        view: v,
    }));
    a
}

fn big_history_entry() -> HistoryEntry {
    let p = &big_parts()[0];
    HistoryEntry {
        time: time(26, 18, 5),
        tracker_name: "shop-prod".into(),
        tracker_id: "1292-9381".into(),
        base_url: "https://live.luigisbox.com".into(),
        file: p.path.clone(),
        bytes: p.report.file.bytes,
        sha256: p.report.file.sha256.clone(),
        format: Format::Csv,
        rows: Some(p.report.stats.rows),
        orders: Some(p.report.stats.orders),
        first_purchase: None,
        last_purchase: None,
        outcome: Outcome::Accepted,
        status: Some(200),
        duration_ms: 402_118,
        detail: None,
        attempt: None,
        pid: None,
        report: None,
    }
}

fn big_run(
    statuses: Vec<super::steps::parts::PartStatus>,
    current: Option<usize>,
) -> super::steps::parts::PartsRun {
    let mut pr = super::steps::parts::PartsRun::new(big_parts(), Vec::new());
    pr.status = statuses;
    pr.current = current;
    pr
}

/// The multi-part states: splitting, parts validated, Confirm with a part already sent,
/// uploading part 2 of 3, a result with mixed outcomes.
fn parts_apps(theme: &Theme, out: &mut Vec<(&'static str, App)>) {
    use super::steps::parts::PartStatus;
    let mut over = at_validate_big(theme, false);
    if let Some(v) = over.validate_mut() {
        v.split = None;
        v.tab = validate::Tab::Issues;
    }
    out.push(("validate-over-limit", over));
    out.push(("validate-splitting", at_validate_big(theme, false)));
    out.push(("validate-parts", at_validate_big(theme, true)));

    let mut conf = at_validate_big(theme, true);
    conf.push(Step::Confirm(ConfirmStep {
        tracker: prod(),
        file: big_choice(true),
        report: Arc::new(big_report()),
        view: confirm::ConfirmView {
            skew: Some(Ok(300)),
            part_duplicates: vec![Some(big_history_entry()), None, None],
            ..Default::default()
        },
    }));
    out.push(("confirm-parts", conf));

    // the same parts, the second one overlapping an earlier upload's orders
    let mut file = big_choice(true);
    for (i, p) in file.parts.iter_mut().enumerate() {
        let mut r = (*p.report).clone();
        let orders = r.stats.orders;
        r.catalog = Some(catalog_check(
            r.stats.rows - r.stats.rows / 40,
            r.stats.rows,
            18_220,
            17_900,
            Vec::new(),
        ));
        r.already_sent = Some(AlreadySent {
            orders: if i == 1 { 2_000_000 } else { 0 },
            rows: if i == 1 { 6_000_000 } else { 0 },
            file_orders: orders,
            uploads_compared: 1,
            skipped: None,
            by_upload: if i == 1 {
                vec![SentBy {
                    key: "20261102T101500000000Z-3be01c77a2d4".into(),
                    sent_at: Some(time(2, 10, 15)),
                    file: Some("/home/demo/exports/orders-until-october.csv".into()),
                    orders: 2_000_000,
                }]
            } else {
                Vec::new()
            },
            unrecorded: Vec::new(),
        });
        p.report = Arc::new(r);
    }
    let all: Vec<&Report> = file.parts.iter().map(|p| &*p.report).collect();
    let unsent: Vec<&Report> = file.parts.iter().skip(1).map(|p| &*p.report).collect();
    let view = confirm::ConfirmView {
        skew: Some(Ok(300)),
        part_duplicates: vec![Some(big_history_entry()), None, None],
        guard: confirm::Guard::of(&all),
        guard_unsent: Some(confirm::Guard::of(&unsent)),
        ..Default::default()
    };
    let mut conf = at_validate_big(theme, true);
    conf.push(Step::Confirm(ConfirmStep {
        tracker: prod(),
        file,
        report: Arc::new(big_report()),
        view,
    }));
    out.push(("confirm-parts-overlap", conf));

    let accepted = |ms: u64, bytes: u64| PartStatus::Done {
        outcome: UploadOutcome::Accepted {
            status: 200,
            body: String::new(),
            duration: Duration::from_millis(ms),
            bytes,
        },
        entry: Some(big_history_entry()),
        history_error: None,
    };
    let mut up = at_upload(theme);
    if let Some(Step::Upload(s)) = up.top_mut() {
        let u = &mut s.view;
        u.total = 1_073_716_544;
        u.sent = 611_200_000;
        u.parts = Some(big_run(
            vec![
                accepted(402_118, 1_073_740_002),
                PartStatus::Sending,
                PartStatus::Waiting,
            ],
            Some(1),
        ));
        s.file = big_choice(true);
        s.report = Arc::new(big_report());
    }
    out.push(("upload-parts", up));

    let failed = UploadOutcome::Failed {
        reason: "connection reset by peer after 3 attempts".into(),
        sent: 612_000_000,
    };
    let mut res = at_result(theme, failed.clone());
    if let Some(Step::Result(s)) = res.top_mut() {
        s.view.parts = Some(big_run(
            vec![
                accepted(402_118, 1_073_740_002),
                PartStatus::Done {
                    outcome: failed,
                    entry: Some(big_history_entry()),
                    history_error: None,
                },
                PartStatus::NotSent,
            ],
            None,
        ));
        s.file = big_choice(true);
        s.report = Arc::new(big_report());
    }
    out.push(("result-parts", res));
}

/// Every demo state, named; a superset of [`screens`] used by the snapshot tests (overlays,
/// forms, error states, a running validation, a too-small terminal is just a small size).
pub fn apps(theme: &Theme) -> Vec<(&'static str, App)> {
    let mut out = Vec::new();

    let a = base(theme);
    out.push(("tracker", a.clone()));

    let mut f = a.clone();
    f.tracker.form = Some(tracker::Form::edit(&trackers().trackers[1]));
    out.push(("tracker-form", f));

    let mut fetching = a.clone();
    fetching.tracker.fetching = Some(tracker::Fetching {
        name: "shop-prod".into(),
        got: 12_500,
        total: 19_402,
        attempt: 1,
        ..Default::default()
    });
    out.push(("tracker-fetching", fetching));

    let mut empty = a.clone();
    empty.config = Config::default();
    empty.history.clear();
    out.push(("tracker-empty", empty));

    let fs = at_file(theme);
    out.push(("file", fs.clone()));

    let mut ff = fs.clone();
    if let Some(Step::File(s)) = ff.top_mut() {
        let v = &mut s.view;
        v.filtering = true;
        v.filter = super::steps::TextField::new("o10");
        v.selected = 0;
    }
    out.push(("file-filter", ff));

    out.push(("validate-running", at_validate(theme, false, false)));
    out.push(("validate", at_validate(theme, false, true)));
    let mut drill = at_validate(theme, false, true);
    if let Some(v) = drill.validate_mut() {
        v.drill = true;
    }
    out.push(("validate-examples", drill));
    let mut errs = at_validate(theme, true, true);
    if let Some(v) = errs.validate_mut() {
        v.message = Some("2 errors — fix the file or map its columns (m) before uploading".into());
    }
    out.push(("validate-errors", errs));
    let mut failed = at_validate(theme, false, false);
    if let Some(v) = failed.validate_mut() {
        v.result = Some(Err(
            "cannot read /home/demo/exports/orders-2026-10.csv: Permission denied (os error 13)"
                .into(),
        ));
    }
    out.push(("validate-unreadable", failed));
    let mut samples = at_validate(theme, false, true);
    if let Some(v) = samples.validate_mut() {
        v.tab = validate::Tab::Samples;
    }
    out.push(("samples", samples));

    let mut cols = at_validate(theme, false, true);
    let detection = crate::mapping::detect::detect_bytes(
        b"Date;Order;Customer;SKU;Price\n22/10/2026 15:04;A-1001;c-88;SKU-0042;19.90\n22/10/2026 15:04;A-1001;c-88;SKU-0107;4.50\n23/10/2026 09:12;A-1002;;SKU-0042;19.90\n23/10/2026 18:40;A-1003;c-12;SKU-0311;129.00\n23/10/2026 18:40;A-1003;c-12;SKU-0042;19.90\n",
        true,
        false,
    );
    let export = PathBuf::from("/home/demo/exports/shopify-export.csv");
    let mut view = columns::ColumnsView::new(export.clone(), detection, None, true);
    view.clean.dedupe = true;
    let counts = crate::mapping::convert::ConvertSummary {
        rows_in: 48_210,
        invalid: 3,
        duplicates: 27,
        whitespace_rows: 12,
        orders_dropped: 4,
        rows_in_dropped_orders: 812,
        ..Default::default()
    };
    let _ = view.take_plan_request();
    view.on_plan(view.plan_gen, Ok(counts));
    view.message =
        Some("doesn't fit the documented layout — set each column's role, Enter converts".into());
    cols.push(columns_step(export, view));
    out.push(("columns", cols));

    // a shop export with SKU, product id and URL: the catalog (URLs) picks the identity
    let detection = crate::mapping::detect::detect_bytes(
        b"Date;Order;Customer;SKU;Product ID;URL;Price\n22/10/2026 15:04;A-1001;c-88;SKU-0042;7042;/p/espresso-machine-x200;19.90\n22/10/2026 15:04;A-1001;c-88;SKU-0107;7107;/p/milk-frother;4.50\n23/10/2026 09:12;A-1002;;SKU-0042;7042;/p/espresso-machine-x200;19.90\n23/10/2026 18:40;A-1003;c-12;SKU-0311;7311;/p/grinder-pro;129.00\n23/10/2026 18:40;A-1003;c-12;SKU-0099;7099;/p/descaler;19.90\n",
        true,
        false,
    );
    let export = PathBuf::from("/home/demo/exports/shop-export-ids.csv");
    let mut view = columns::ColumnsView::new(export.clone(), detection, None, true);
    let ix = crate::validate::lookup::CatalogIndex::build(
        "demo",
        None,
        [
            "/p/espresso-machine-x200",
            "/p/milk-frother",
            "/p/grinder-pro",
            "/p/coffee-beans-1kg",
        ]
        .into_iter()
        .map(|u| (u, None)),
    );
    view.rank_by_catalog(Arc::new(ix));
    let _ = view.take_plan_request();
    view.on_plan(
        view.plan_gen,
        Ok(crate::mapping::convert::ConvertSummary {
            rows_in: 5,
            ..Default::default()
        }),
    );
    let mut cc = at_validate(theme, false, true);
    cc.push(columns_step(export, view));
    out.push(("columns-catalog", cc));

    // a re-export of full URLs in the documented layout: the report's catalog diagnosis and
    // its orders already sent are offered as one-key fixes (the first one chosen)
    let detection = crate::mapping::detect::detect_bytes(
        b"1001,https://shop.example/p/espresso-machine-x200,u-88,2026-10-01 08:12:44\n1001,https://shop.example/p/milk-frother,u-88,2026-10-01 08:12:44\n1002,https://shop.example/p/coffee-beans-1kg,u-12,2026-10-01 09:40:02\n1003,https://shop.example/p/grinder-pro,,2026-10-02 18:40:00\n",
        true,
        false,
    );
    let export = PathBuf::from("/home/demo/exports/orders-until-november.csv");
    let mut view = columns::ColumnsView::new(export.clone(), detection, None, true);
    view.offer_fixes(&checked_report());
    if let Some(o) = view.identity_fixes.first_mut() {
        o.on = true;
    }
    view.refresh_preview();
    let _ = view.take_plan_request();
    view.on_plan(
        view.plan_gen,
        Ok(crate::mapping::convert::ConvertSummary {
            rows_in: 1_204_331,
            ..Default::default()
        }),
    );
    let mut cf = at_validate(theme, false, true);
    cf.push(columns_step(export, view));
    out.push(("columns-fixes", cf));

    let r = Arc::new(report(false));
    out.push((
        "confirm-duplicate",
        at_confirm(
            theme,
            r.clone(),
            confirm::ConfirmView {
                duplicate: Some(history()[0].clone()),
                override_duplicate: false,
                message: None,
                key_problem: None,
                skew: Some(Ok(300)),
                skew_run: 0,
                guard: confirm::Guard::of(&[&r]),
                ..Default::default()
            },
        ),
    ));
    out.push((
        "confirm",
        at_confirm(
            theme,
            r.clone(),
            confirm::ConfirmView {
                skew: Some(Ok(300)),
                guard: confirm::Guard::of(&[&r]),
                ..Default::default()
            },
        ),
    ));
    // a re-export: most orders already sent, identities in another form than the catalog's
    let checked = Arc::new(checked_report());
    let overlap = at_confirm(
        theme,
        checked.clone(),
        confirm::ConfirmView {
            skew: Some(Ok(300)),
            guard: confirm::Guard::of(&[&checked]),
            ..Default::default()
        },
    );
    out.push(("confirm-overlap", overlap));
    let mut vc = at_validate(theme, false, true);
    if let Some(v) = vc.validate_mut() {
        v.result = Some(Ok(checked.clone()));
    }
    out.push(("validate-checks", vc.clone()));
    if let Some(v) = vc.validate_mut() {
        v.drill = true;
    }
    out.push(("validate-catalog", vc.clone()));
    if let Some(v) = vc.validate_mut() {
        v.issue_sel = 1;
    }
    out.push(("validate-already-sent", vc));

    out.push(("upload", at_upload(theme)));
    let mut ask = at_upload(theme);
    if let Some(Step::Upload(s)) = ask.top_mut() {
        s.view.asking_cancel = true;
    }
    out.push(("upload-cancel", ask));

    out.push((
        "result-accepted",
        at_result(
            theme,
            UploadOutcome::Accepted {
                status: 200,
                body: String::new(),
                duration: Duration::from_millis(12_400),
                bytes: 41_873_202,
            },
        ),
    ));
    out.push((
        "result-rejected",
        at_result(
            theme,
            UploadOutcome::Rejected {
                status: 401,
                body: "{\"error\":\"Authentication failed: signature mismatch\"}".into(),
                explanation: "authentication failed — check the tracker id and private key".into(),
            },
        ),
    ));
    out.push((
        "result-failed",
        at_result(
            theme,
            UploadOutcome::Failed {
                reason: "connection reset by peer after 3 attempts".into(),
                sent: 12_000_000,
            },
        ),
    ));

    let mut help = at_validate(theme, false, true);
    help.overlay = Some(Overlay::Help);
    out.push(("help", help));
    let mut hist = a.clone();
    hist.overlay = Some(Overlay::History(0));
    out.push(("history", hist.clone()));
    // Enter in the history: the entry's saved report, read-only over the step
    let mut hist_report = hist;
    hist_report.report_viewer = Some(Box::new(super::report_view::ReportViewer::embedded(
        theme.clone(),
        crate::report_store::Loaded {
            report: report(false),
            path: PathBuf::from(
                "/home/demo/.local/share/lbimport/reports/orders-2026-10-20261120-141200.report.json",
            ),
            unknown: Vec::new(),
            part: None,
        },
    )));
    out.push(("history-report", hist_report));
    let mut quit = at_validate(theme, false, true);
    quit.overlay = Some(Overlay::Quit(
        "the validated file has not been uploaded".into(),
    ));
    out.push(("quit-confirm", quit));
    parts_apps(theme, &mut out);
    out
}
