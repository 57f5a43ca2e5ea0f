//! Every wizard step drawn on ratatui's TestBackend at 80×24 and 120×40, from the
//! deterministic demo states (no disk, clock or network), compared with insta snapshots.

use lbimport::tui::demo;
use lbimport::tui::theme::Theme;
use ratatui::buffer::Buffer;

fn text(buf: &Buffer) -> String {
    lbimport::tui::demo::text(buf)
}

fn snap_all(w: u16, h: u16) {
    let theme = Theme::default();
    let apps = demo::apps(&theme);
    assert!(apps.len() >= 20, "demo states: {}", apps.len());
    for (name, app) in apps {
        let buf = demo::render(&app, w, h);
        assert_eq!((buf.area.width, buf.area.height), (w, h));
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), text(&buf));
    }
}

#[test]
fn every_step_at_80x24() {
    snap_all(80, 24);
}

#[test]
fn every_step_at_120x40() {
    snap_all(120, 40);
}

#[test]
fn too_small_terminal_says_so() {
    let theme = Theme::default();
    let (_, app) = demo::apps(&theme).remove(0);
    let t = text(&demo::render(&app, 79, 24));
    assert!(
        t.contains("terminal too small — need 80×24 (now 79×24)"),
        "{t}"
    );
    let t = text(&demo::render(&app, 100, 10));
    assert!(t.contains("need 80×24 (now 100×10)"), "{t}");
    insta::assert_snapshot!("too_small_60x20", text(&demo::render(&app, 60, 20)));
}

#[test]
fn screens_contract_names_and_sizes() {
    let theme = Theme::default();
    let screens = demo::screens(&theme, 100, 30);
    let names: Vec<&str> = screens.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "tracker",
            "file",
            "validate",
            "samples",
            "columns",
            "confirm-duplicate",
            "upload",
            "result-accepted",
            "result-rejected",
            "confirm-parts"
        ]
    );
    for (n, b) in &screens {
        assert_eq!((b.area.width, b.area.height), (100, 30), "{n}");
    }
    let confirm = text(&screens[5].1);
    assert!(confirm.contains("DUPLICATE"), "{confirm}");
    assert!(confirm.contains("cannot be undone"), "{confirm}");
    let validate = text(&screens[2].1);
    assert!(validate.contains("duplicate_row"), "{validate}");
    assert!(validate.contains("READY WITH WARNINGS"), "{validate}");
    let parts = text(&screens[9].1);
    assert!(parts.contains("About to upload, part by part"), "{parts}");
    assert!(parts.contains("1 already accepted, skipped"), "{parts}");
    // Deterministic: drawing twice gives the same buffers.
    assert_eq!(screens, demo::screens(&theme, 100, 30));
}

#[test]
fn selection_is_visible_without_colour() {
    let theme = Theme::default();
    let (_, app) = demo::apps(&theme).remove(0);
    let buf = demo::render(&app, 80, 24);
    let t = text(&buf);
    assert!(t.contains("▶ shop-prod"), "{t}");
    // The selected row also carries a modifier (bold/reversed), not only a colour.
    let y = t
        .lines()
        .position(|l| l.contains("▶ shop-prod"))
        .unwrap_or(0) as u16;
    let x = t
        .lines()
        .nth(y as usize)
        .and_then(|l| l.chars().position(|c| c == 's'))
        .unwrap_or(0) as u16;
    let cell = &buf[(x, y)];
    assert!(
        !cell.modifier.is_empty(),
        "selected cell has no modifier: {:?}",
        cell
    );
}

/// Every key a demo screen's hint bar shows does something there: it changes the screen or
/// the step, or asks the driver for work. (A key that would do nothing is not shown.)
#[test]
fn every_shown_key_does_something() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use lbimport::tui::app::Input;
    let theme = Theme::default();
    let mut dead = Vec::new();
    let mut tried = 0;
    for (name, app) in demo::apps(&theme) {
        for h in app.keys() {
            let code = match h.key {
                "Enter" => KeyCode::Enter,
                "Esc" => KeyCode::Esc,
                "Tab" => KeyCode::Tab,
                "⌫" => KeyCode::Backspace,
                k if k.chars().count() == 1 => match k.chars().next() {
                    Some(c) => KeyCode::Char(c),
                    None => continue,
                },
                _ => continue, // ↑↓, ←→, Esc/Enter…: several keys, tried by the flow tests
            };
            let mut a = app.clone();
            let before = text(&demo::render(&a, 120, 40));
            let step = a.step().name();
            let fx = a.handle(Input::Key(KeyEvent::new(code, KeyModifiers::NONE)));
            let after = text(&demo::render(&a, 120, 40));
            tried += 1;
            if fx.is_empty() && after == before && a.step().name() == step {
                dead.push(format!("{name}: {} ({})", h.key, h.action));
            }
        }
    }
    assert!(tried > 60, "keys tried: {tried}");
    assert!(
        dead.is_empty(),
        "keys shown that do nothing:\n{}",
        dead.join("\n")
    );
}

/// A sampled order longer than the panel scrolls with ↓ (its first shown row moves on).
#[test]
fn a_long_sample_order_scrolls() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use lbimport::tui::app::Input;
    let theme = Theme::default();
    let (_, mut app) = demo::apps(&theme)
        .into_iter()
        .find(|(n, _)| *n == "samples")
        .expect("samples screen");
    // the first sampled order made 30 rows long: more than its 80×24 panel shows
    if let Some(v) = app.validate_mut() {
        let mut r = (**v.report().expect("report")).clone();
        let first = r.samples[0].rows[0].clone();
        r.samples[0].rows = (0..30u64)
            .map(|k| {
                let mut row = first.clone();
                row.line = 100 + k;
                row
            })
            .collect();
        v.result = Some(Ok(std::sync::Arc::new(r)));
        v.sample = 0;
    }
    // an order that fits does not scroll
    let mut short = app.clone();
    if let Some(v) = short.validate_mut() {
        let mut r = (**v.report().expect("report")).clone();
        r.samples[0].rows.truncate(2);
        v.result = Some(Ok(std::sync::Arc::new(r)));
    }
    let still = text(&demo::render(&short, 80, 24));
    short.handle(Input::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)));
    assert_eq!(text(&demo::render(&short, 80, 24)), still);
    let before = text(&demo::render(&app, 80, 24));
    app.handle(Input::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)));
    let after = text(&demo::render(&app, 80, 24));
    assert_ne!(before, after);
    assert!(before.contains("│100 "), "{before}");
    assert!(
        !after.contains("│100 "),
        "the first row scrolled away: {after}"
    );
    assert!(after.contains("↑↓ rows 2–"), "{after}");
    app.handle(Input::Key(KeyEvent::new(KeyCode::Up, KeyModifiers::NONE)));
    assert_eq!(text(&demo::render(&app, 80, 24)), before);
}

/// The keys a hint's label names (`↑↓`, `Esc/Enter`, `1–5`, `o/i/u/t/x`, `S-Tab/↑`…).
pub(crate) fn keys_of(label: &str) -> Vec<crossterm::event::KeyEvent> {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let plain = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    if label == "/" {
        return vec![plain(KeyCode::Char('/'))];
    }
    let mut out = Vec::new();
    for part in label.split('/') {
        let codes: Vec<KeyEvent> = match part {
            "Enter" => vec![plain(KeyCode::Enter)],
            "Esc" => vec![plain(KeyCode::Esc)],
            "Tab" => vec![plain(KeyCode::Tab)],
            "S-Tab" => vec![KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)],
            "Space" => vec![plain(KeyCode::Char(' '))],
            "⌫" => vec![plain(KeyCode::Backspace)],
            "↑" => vec![plain(KeyCode::Up)],
            "↓" => vec![plain(KeyCode::Down)],
            "↑↓" => vec![plain(KeyCode::Up), plain(KeyCode::Down)],
            "←→" => vec![plain(KeyCode::Left), plain(KeyCode::Right)],
            "PgUp" => vec![plain(KeyCode::PageUp)],
            "PgDn" => vec![plain(KeyCode::PageDown)],
            "Home" => vec![plain(KeyCode::Home)],
            "End" => vec![plain(KeyCode::End)],
            "Ctrl-C" => vec![KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)],
            // a text field: typing goes into it
            "type" => vec![plain(KeyCode::Char('x'))],
            p if p.chars().count() == 3 && p.contains('–') => {
                let (a, b) = (p.chars().next(), p.chars().last());
                match (a, b) {
                    (Some(a), Some(b)) => (a..=b).map(|c| plain(KeyCode::Char(c))).collect(),
                    _ => Vec::new(),
                }
            }
            p if p.chars().count() == 1 => p
                .chars()
                .map(|c| {
                    let m = if c.is_uppercase() {
                        KeyModifiers::SHIFT
                    } else {
                        KeyModifiers::NONE
                    };
                    KeyEvent::new(KeyCode::Char(c), m)
                })
                .collect(),
            _ => Vec::new(),
        };
        assert!(
            !codes.is_empty(),
            "a hint label the test cannot press: {label:?}"
        );
        out.extend(codes);
    }
    out
}

/// Every key shown in the hint bar of every demo screen does something: pressing one of the
/// keys its label names changes the screen, asks the run loop for work, or quits. A key that
/// is hinted while it does nothing must not be shown.
#[test]
fn every_hinted_key_does_something() {
    use lbimport::tui::app::Input;
    let theme = Theme::default();
    let mut dead = Vec::new();
    let mut pressed = 0;
    for (name, app) in demo::apps(&theme) {
        // the whole buffer, styles too: a selection may move by its highlight alone
        let before = demo::render(&app, 120, 40);
        for h in app.keys() {
            let live = keys_of(h.key).into_iter().any(|k| {
                let mut a = app.clone();
                let fx = a.handle(Input::Key(k));
                pressed += 1;
                !fx.is_empty() || a.quit || demo::render(&a, 120, 40) != before
            });
            if !live {
                dead.push(format!("{name}: {} ({})", h.key, h.action));
            }
        }
    }
    assert!(pressed > 200, "pressed only {pressed} keys");
    assert!(
        dead.is_empty(),
        "hinted keys that do nothing:\n{}",
        dead.join("\n")
    );
}
