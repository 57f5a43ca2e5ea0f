//! Step 5, Confirm: everything about to happen, on one screen, before an irreversible upload.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::is_char;
use crate::config::HistoryEntry;
use crate::tui::app::{Chosen, FileChoice};
use crate::tui::services;
use crate::tui::theme::Theme;
use crate::tui::ui::{self, KeyHint, hint};
use crate::validate::{Report, Severity};

/// The service's limit for one upload.
pub const UPLOAD_LIMIT_SECS: u64 = 600;

/// State of the confirm step.
#[derive(Debug, Clone, Default)]
pub struct ConfirmView {
    /// The same bytes already went to this tracker.
    pub duplicate: Option<HistoryEntry>,
    /// The user pressed `D` to upload anyway.
    pub override_duplicate: bool,
    /// A notice.
    pub message: Option<String>,
    /// Why the tracker's key can't be found right now (env var unset, …).
    pub key_problem: Option<String>,
    /// The endpoint's clock: server time minus local time in ms, or why it could not be
    /// read; `None` while it is being measured.
    pub skew: Option<Result<i64, String>>,
    /// Run id of the clock measurement whose answer is awaited.
    pub skew_run: u64,
}

/// Seconds with one decimal and a sign (`+1.2 s`); never `-0.0`.
fn signed_secs(ms: i64) -> String {
    let v = (ms as f64 / 100.0).round() / 10.0;
    let v = if v == 0.0 { 0.0 } else { v };
    format!("{v:+.1} s")
}

/// What the confirm step asks the app to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond the state change.
    None,
    /// Back to Validate.
    Back,
    /// Upload now.
    Upload,
}

impl ConfirmView {
    /// Key bindings of the current state.
    pub fn keys(&self) -> Vec<KeyHint> {
        let mut v = vec![hint(
            "y",
            "upload",
            "Upload the file now (it cannot be undone)",
        )];
        if self.duplicate.is_some() {
            v.push(hint(
                "D",
                "allow duplicate",
                "Upload these bytes again although they already reached this tracker",
            ));
        }
        v.push(hint("Esc", "back", "Back to the validation results"));
        v.push(hint("h", "history", "Show the upload history"));
        v.push(hint("?", "help", "Show all keys"));
        v.push(hint("q", "quit", "Quit lbimport"));
        v
    }

    /// Handle a key.
    pub fn on_key(&mut self, key: &KeyEvent) -> Action {
        match key.code {
            KeyCode::Esc => Action::Back,
            KeyCode::Char('D') if self.duplicate.is_some() => {
                self.override_duplicate = !self.override_duplicate;
                self.message = None;
                Action::None
            }
            _ if is_char(key, 'y') || is_char(key, 'Y') => {
                if self.duplicate.is_some() && !self.override_duplicate {
                    self.message = Some(
                        "this exact file was already uploaded to this tracker — press D first to upload it again"
                            .to_string(),
                    );
                    Action::None
                } else {
                    Action::Upload
                }
            }
            _ => Action::None,
        }
    }

    /// The clock skew line's text and style.
    pub fn skew_text(&self, theme: &Theme) -> (String, ratatui::style::Style) {
        match &self.skew {
            None => ("measuring…".to_string(), theme.muted),
            Some(Ok(ms)) if ms.unsigned_abs() <= services::skew_correction_ms().unsigned_abs() => {
                (format!("{} (within ±5 s)", signed_secs(*ms)), theme.text)
            }
            Some(Ok(ms)) => (
                format!(
                    "server is {:.1} s {} — uploads are signed with the server's time",
                    ms.unsigned_abs() as f64 / 1000.0,
                    if *ms > 0 { "ahead" } else { "behind" }
                ),
                theme.warning,
            ),
            Some(Err(e)) => (
                format!(
                    "could not check: {} — checked again when the upload starts",
                    ui::sanitize(e, 120)
                ),
                theme.warning,
            ),
        }
    }

    /// Draw the step.
    pub fn draw(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        tracker: &Chosen,
        file: &FileChoice,
        report: &Report,
    ) {
        let dup_h = if self.duplicate.is_some() { 5 } else { 0 };
        let [main, dup, foot] = Layout::vertical([
            Constraint::Min(10),
            Constraint::Length(dup_h),
            Constraint::Length(3),
        ])
        .areas(area);
        let t = &tracker.tracker;
        let kv = |k: &str, v: String| {
            Line::from(vec![
                Span::styled(format!("{k:<11}"), theme.muted),
                Span::styled(v, theme.text),
            ])
        };
        let st = &report.stats;
        let warnings: Vec<String> = report
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
            .map(|i| format!("{} ×{}", i.code, ui::count(i.count)))
            .collect();
        let needed = report.file.bytes as f64 / UPLOAD_LIMIT_SECS as f64;
        let mut lines = vec![
            kv(
                "tracker",
                format!(
                    "{} ({}){}",
                    ui::sanitize(&t.name, 40),
                    ui::sanitize(&t.tracker_id, 30),
                    if tracker.sandbox {
                        " — local sandbox"
                    } else {
                        ""
                    }
                ),
            ),
            kv(
                "endpoint",
                ui::sanitize(
                    &format!("{}/v1/interactions/{}/files", t.base_url, t.tracker_id),
                    120,
                ),
            ),
            kv(
                "file",
                ui::short_path(&file.upload.display().to_string(), 64),
            ),
            kv(
                "size",
                format!(
                    "{} ({} bytes), {}",
                    ui::bytes(report.file.bytes),
                    ui::count(report.file.bytes),
                    report.file.format.extension().to_uppercase()
                ),
            ),
            kv("sha256", report.file.sha256.clone()),
            kv(
                "contents",
                format!(
                    "{} rows, {} orders, {} pairs",
                    ui::count(st.rows),
                    ui::count(st.orders),
                    ui::count(st.pairs)
                ),
            ),
            kv(
                "warnings",
                if warnings.is_empty() {
                    "none".to_string()
                } else {
                    warnings.join(", ")
                },
            ),
            kv(
                "changes",
                file.transformations
                    .first()
                    .map_or("none — the file is sent byte for byte".to_string(), |t| {
                        ui::sanitize(t, 200)
                    }),
            ),
            {
                let (v, style) = self.skew_text(theme);
                Line::from(vec![
                    Span::styled(format!("{:<11}", "clock skew"), theme.muted),
                    Span::styled(v, style),
                ])
            },
            kv(
                "time limit",
                format!(
                    "must finish within 10:00 — needs ≥ {}",
                    ui::rate(needed.max(1.0))
                ),
            ),
        ];
        if file.transformations.len() > 1 {
            let at = lines.len() - 2;
            for (i, t) in file.transformations.iter().skip(1).enumerate() {
                lines.insert(at + i, kv("", ui::sanitize(t, 200)));
            }
        }
        if let Some(p) = &self.key_problem {
            lines.insert(
                2,
                Line::from(vec![
                    Span::styled(format!("{:<11}", "key"), theme.muted),
                    Span::styled(format!("⚠ {}", ui::sanitize(p, 120)), theme.error),
                ]),
            );
        }
        if file.original != file.upload {
            lines.insert(
                3,
                kv(
                    "converted",
                    format!(
                        "from {}",
                        ui::short_path(&file.original.display().to_string(), 60)
                    ),
                ),
            );
        }
        frame.render_widget(
            Paragraph::new(lines).block(ui::block(theme, "About to upload")),
            main,
        );
        if let Some(d) = &self.duplicate {
            let (style, head) = if self.override_duplicate {
                (
                    theme.warning,
                    "DUPLICATE ALLOWED — y uploads these bytes a second time",
                )
            } else {
                (
                    theme
                        .error
                        .add_modifier(Modifier::BOLD | Modifier::REVERSED),
                    "⚠ DUPLICATE: this exact file already reached this tracker",
                )
            };
            let lines = vec![
                Line::styled(head, style),
                Line::styled(
                    format!(
                        "{} on {} (status {}). Uploading it again counts every purchase twice; press D to allow it.",
                        d.outcome,
                        d.time.format("%Y-%m-%d %H:%M UTC"),
                        d.status.map_or("–".to_string(), |s| s.to_string())
                    ),
                    theme.text,
                ),
            ];
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: true })
                    .block(ui::block(theme, "Duplicate")),
                dup,
            );
        }
        let mut foot_lines = vec![Line::from(vec![
            Span::styled(
                "An upload cannot be undone or deleted. ",
                theme.warning.add_modifier(Modifier::BOLD),
            ),
            Span::styled("y", theme.accent.add_modifier(Modifier::BOLD)),
            Span::styled(" uploads, ", theme.text),
            Span::styled("Esc", theme.accent.add_modifier(Modifier::BOLD)),
            Span::styled(" goes back.", theme.text),
        ])];
        if let Some(m) = &self.message {
            foot_lines = vec![Line::styled(ui::sanitize(m, 200), theme.error)];
        }
        frame.render_widget(
            Paragraph::new(foot_lines)
                .wrap(Wrap { trim: true })
                .block(ui::block(theme, "Confirm")),
            foot,
        );
    }
}
