//! The committed screenshots in `screenshots/` must match what the code draws.
//!
//! - `screenshots/default-<step>.svg`: every wizard step at 100×30 in the default theme,
//!   drawn by `tui::demo::screens` with its deterministic demo data;
//! - `screenshots/default-report-view.svg`, `default-report-compare.svg`: the saved-report
//!   viewer (`lbimport report`) at 100×30;
//! - `screenshots/light-validate.svg`: the validate step in the light theme;
//! - `screenshots/theme-<name>.svg`: a specimen of every built-in theme's styles.
//!
//! A missing step, a screen of the wrong size or a committed image that differs fails the test.
//! Regenerate after a deliberate change to the drawing code or the themes with
//! `UPDATE_SCREENSHOTS=1 cargo test --test wizard themes_screenshots` (also writes PNGs when
//! `rsvg-convert` is installed), then look at the images before committing them.

use std::path::{Path, PathBuf};
use std::process::Command;

use lbimport::tui::demo;
use lbimport::tui::screenshot::buffer_to_svg;
use lbimport::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Widget};

/// Size of the wizard screenshots.
const WIDTH: u16 = 100;
const HEIGHT: u16 = 30;
/// Every wizard step the screenshots must show (the demo may draw more).
const STEPS: [&str; 9] = [
    "tracker",
    "file",
    "validate",
    "samples",
    "columns",
    "confirm-duplicate",
    "upload",
    "result-accepted",
    "result-rejected",
];
/// Screens of the saved-report viewer (`lbimport report`), in the default theme.
const REPORT_SCREENS: [&str; 2] = ["report-view", "report-compare"];
/// Steps also shown in the light theme.
const LIGHT_STEPS: [&str; 1] = ["validate"];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots")
}

fn theme(name: &str) -> Theme {
    Theme::builtin(name).unwrap_or_else(|| panic!("built-in theme {name} must parse"))
}

/// A specimen of every semantic style of a theme, drawn with ratatui widgets.
fn specimen(theme: &Theme) -> Buffer {
    let area = Rect::new(0, 0, 64, 14);
    let mut buf = Buffer::empty(area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(
            format!(" theme: {} ", theme.name),
            theme.title,
        ));
    let inner = block.inner(area);
    block.render(area, &mut buf);
    let [lines, gauge, hints] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let row = |label: &'static str, text: &'static str, style| {
        Line::from(vec![
            Span::styled(format!(" {label:<10}"), theme.muted),
            Span::styled(text, style),
        ])
    };
    Paragraph::new(vec![
        row("title", "Validate  shop-prod.csv", theme.title),
        row("text", "21,034,117 rows · 9,012,554 orders", theme.text),
        row("muted", "rows/s, ETA, units and labels", theme.muted),
        row("accent", "Enter next · Esc back · ? help", theme.accent),
        row(
            "selection",
            "▶ error  timestamp_zone     1,204",
            theme.selection,
        ),
        row("ok", "✔ ready: the file can be uploaded", theme.ok),
        row("warning", "▲ warning  duplicate_row    57", theme.warning),
        row(
            "error",
            "✖ 3 errors: the service would reject it",
            theme.error,
        ),
    ])
    .render(lines, &mut buf);
    Gauge::default()
        .gauge_style(theme.gauge)
        .style(theme.gauge_bg)
        .ratio(0.62)
        .label("62 %  512 MB / 824 MB")
        .render(gauge, &mut buf);
    Paragraph::new(Line::from(vec![
        Span::styled(" ↵", theme.accent.add_modifier(Modifier::BOLD)),
        Span::styled(" next  ", theme.muted),
        Span::styled("esc", theme.accent.add_modifier(Modifier::BOLD)),
        Span::styled(" back  ", theme.muted),
        Span::styled("?", theme.accent.add_modifier(Modifier::BOLD)),
        Span::styled(" help", theme.muted),
    ]))
    .render(hints, &mut buf);
    buf
}

/// Every image the test owns: file stem, SVG.
fn images() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let default = theme("default");
    let screens = demo::screens(&default, WIDTH, HEIGHT);
    for step in STEPS {
        assert!(
            screens.iter().any(|(n, _)| *n == step),
            "tui::demo::screens draws no \"{step}\" screen (it draws: {:?})",
            screens.iter().map(|(n, _)| *n).collect::<Vec<_>>()
        );
    }
    for (name, buf) in &screens {
        assert_eq!(
            (buf.area.width, buf.area.height),
            (WIDTH, HEIGHT),
            "screen {name} has the wrong size"
        );
        out.push((format!("default-{name}"), buffer_to_svg(buf, &default)));
    }
    let viewer = lbimport::tui::report_view::demo_states(&default);
    for name in REPORT_SCREENS {
        let (_, v) = viewer
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("report_view::demo_states draws no \"{name}\" screen"));
        let buf = lbimport::tui::report_view::render(v, WIDTH, HEIGHT);
        out.push((format!("default-{name}"), buffer_to_svg(&buf, &default)));
    }
    let light = theme("light");
    for (name, buf) in demo::screens(&light, WIDTH, HEIGHT) {
        if LIGHT_STEPS.contains(&name) {
            out.push((format!("light-{name}"), buffer_to_svg(&buf, &light)));
        }
    }
    for name in Theme::builtin_names() {
        let t = theme(name);
        out.push((format!("theme-{name}"), buffer_to_svg(&specimen(&t), &t)));
    }
    out
}

fn first_difference(a: &str, b: &str) -> usize {
    a.lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()))
        + 1
}

fn have_rsvg() -> bool {
    Command::new("rsvg-convert")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn committed_screenshots_match_the_drawing_code() {
    let images = images();
    let update = std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1");
    let dir = dir();
    if update {
        std::fs::create_dir_all(&dir).unwrap();
        let png = have_rsvg();
        for (stem, svg) in &images {
            let path = dir.join(format!("{stem}.svg"));
            std::fs::write(&path, svg).unwrap();
            if png {
                let status = Command::new("rsvg-convert")
                    .arg("-o")
                    .arg(dir.join(format!("{stem}.png")))
                    .arg(&path)
                    .status()
                    .unwrap();
                assert!(
                    status.success(),
                    "rsvg-convert failed on {}",
                    path.display()
                );
            }
        }
        // Images of screens that no longer exist go away with their PNGs.
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let ext = path.extension().and_then(|s| s.to_str()).unwrap_or("");
            if matches!(ext, "svg" | "png") && !images.iter().any(|(s, _)| s == stem) {
                std::fs::remove_file(&path).unwrap();
                eprintln!("removed stale {}", path.display());
            }
        }
        eprintln!(
            "wrote {} screenshots to {}{}",
            images.len(),
            dir.display(),
            if png {
                " (SVG and PNG)"
            } else {
                " (SVG only: rsvg-convert not found)"
            }
        );
        return;
    }

    let mut problems = Vec::new();
    for (stem, svg) in &images {
        let path = dir.join(format!("{stem}.svg"));
        match std::fs::read_to_string(&path) {
            Err(e) => problems.push(format!("screenshots/{stem}.svg: cannot read it ({e})")),
            Ok(committed) if committed != *svg => problems.push(format!(
                "screenshots/{stem}.svg differs from what the code draws now (first difference \
                 at line {})",
                first_difference(&committed, svg)
            )),
            Ok(_) => {}
        }
    }
    // A committed SVG that nothing draws any more is stale.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| n.ends_with(".svg"))
            .collect();
        names.sort();
        for n in names {
            let stem = n.trim_end_matches(".svg");
            if !images.iter().any(|(s, _)| s == stem) {
                problems.push(format!(
                    "screenshots/{n} is not drawn by any screen any more (updating removes it)"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\nIf the change is intended, regenerate the images with\n    \
         UPDATE_SCREENSHOTS=1 cargo test --test wizard themes_screenshots\nand look at them before \
         committing.",
        problems.join("\n")
    );
}

#[test]
fn screenshots_are_drawn_in_the_theme_colours() {
    let images = images();
    let svg = |stem: &str| {
        images
            .iter()
            .find(|(s, _)| s == stem)
            .map(|(_, svg)| svg.clone())
            .unwrap_or_else(|| panic!("no image {stem}"))
    };
    // The dark default background and the light theme's own background and title colour.
    assert!(svg("default-validate").contains("rx=\"6\" fill=\"#282a36\""));
    let light = svg("light-validate");
    assert!(light.contains("rx=\"6\" fill=\"#fbfbf8\""));
    assert!(light.contains("{fill:#005f87}"), "light title colour");
    // The same screen differs between the themes only in colour, not in text.
    let text = |svg: &str| {
        svg.split("<tspan")
            .skip(1)
            .filter_map(|t| {
                t.split_once('>')
                    .map(|(_, rest)| rest.split("</tspan>").next().unwrap_or("").to_string())
            })
            .collect::<Vec<_>>()
            .join("")
    };
    assert_eq!(text(&svg("default-validate")), text(&light));
    // Every screen has a breadcrumb/title and is well under 64 KiB.
    for (stem, svg) in &images {
        assert!(svg.len() < 64 * 1024, "{stem}: {} bytes", svg.len());
        assert!(svg.matches("<text ").count() >= 10, "{stem}: nearly empty");
    }
}

#[test]
fn specimen_uses_every_style_of_the_theme() {
    let t = theme("default");
    let svg = buffer_to_svg(&specimen(&t), &t);
    // Title, selection background and gauge colours of the default theme are all present.
    assert!(svg.contains("{fill:#8be9fd}"), "cyan title/selection");
    assert!(
        svg.contains("fill=\"#8be9fd\""),
        "cyan selection background"
    );
    assert!(svg.contains("{fill:#ff5555}"), "red error");
    assert!(svg.contains("{fill:#50fa7b}"), "green ok");
    assert!(svg.contains(">theme: default</tspan>"));
}
