//! The saved-report viewer drawn on ratatui's TestBackend at 80×24 and 120×40 from
//! deterministic demo states, compared with insta snapshots.

use lbimport::tui::demo;
use lbimport::tui::report_view;
use lbimport::tui::theme::Theme;

fn snap_all(w: u16, h: u16) {
    let states = report_view::demo_states(&Theme::default());
    assert_eq!(states.len(), 7);
    for (name, v) in states {
        let buf = report_view::render(&v, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), demo::text(&buf));
    }
}

#[test]
fn viewer_at_80x24() {
    snap_all(80, 24);
}

#[test]
fn viewer_at_120x40() {
    snap_all(120, 40);
}

#[test]
fn the_screens_say_what_matters() {
    let states = report_view::demo_states(&Theme::default());
    let screen = |n: &str| {
        let v = &states.iter().find(|(k, _)| *k == n).expect(n).1;
        demo::text(&report_view::render(v, 120, 40))
    };
    let view = screen("report-view");
    assert!(
        view.contains("validated 2026-11-02 09:05 UTC by ana@shop-export-01"),
        "{view}"
    );
    assert!(
        view.contains("✔ unchanged (same size and sha256) — c continues to Confirm"),
        "{view}"
    );
    assert!(view.contains("duplicate_row"), "{view}");
    let changed = screen("report-view-changed");
    assert!(
        changed.contains("cannot continue: the file changed since it was validated (41877298 bytes now, 41873202 then)"),
        "{changed}"
    );
    let checking = screen("report-view-checking");
    assert!(
        checking.contains("checking size and sha256… 40% (17.0 MB of 41.9 MB)"),
        "{checking}"
    );
    let cmp = screen("report-compare");
    // 1,204,331 − 1,190,004 = 14,327 rows more; 14,327 / 1,190,004 = 1.2 %
    assert!(cmp.contains("+14,327 (+1.2%)"), "{cmp}");
    assert!(cmp.contains("/p/milk-frother"), "{cmp}");
    let list = screen("report-list-filter");
    assert!(list.contains("Saved reports (1 of 3)"), "{list}");
}

/// Every key the report viewer's hint bar shows, on every demo state, does something: the
/// screen changes (styles included) or the viewer asks its loop for something (leave, check,
/// go on to Confirm).
#[test]
fn every_hinted_key_of_the_viewer_does_something() {
    let mut dead = Vec::new();
    let mut pressed = 0;
    for (name, v) in report_view::demo_states(&Theme::default()) {
        let before = report_view::render(&v, 120, 40);
        for h in v.keys() {
            let live = crate::wizard_snapshots::keys_of(h.key)
                .into_iter()
                .any(|k| {
                    let mut w = v.clone();
                    pressed += 1;
                    !matches!(w.on_key(&k), report_view::Action::None)
                        || report_view::render(&w, 120, 40) != before
                });
            if !live {
                dead.push(format!("{name}: {} ({})", h.key, h.action));
            }
        }
    }
    assert!(pressed > 30, "pressed only {pressed} keys");
    assert!(
        dead.is_empty(),
        "hinted keys that do nothing:\n{}",
        dead.join("\n")
    );
}
