//! Step 7, Result: accepted, or what went wrong in plain words and what to do next.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::parts::{PartStatus, PartsRun, join_numbers};
use crate::config::HistoryEntry;
use crate::tui::flow::{Chosen, Cx, DrawCx, FileChoice, Mark, Nav, Next, StepScreen, Transition};
use crate::tui::keys::{Binding, alias, bind, ch, code, find, hints};
use crate::tui::services::UploadOutcome;
use crate::tui::theme::Theme;
use crate::tui::ui::{self, KeyHint, hint};
use crate::validate::Report;
use std::sync::Arc;

/// State of the result step.
#[derive(Debug, Clone)]
pub struct ResultView {
    /// How it ended.
    pub outcome: UploadOutcome,
    /// The history entry written.
    pub entry: Option<HistoryEntry>,
    /// Why no history entry could be written.
    pub history_error: Option<String>,
    /// For a file sent in parts: every part's outcome (`outcome` is the last part sent).
    pub parts: Option<PartsRun>,
}

/// What the result step asks the app to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    None,
    /// Back to Confirm to try again.
    Retry,
    /// Back to the file step.
    File,
    /// Quit.
    Quit,
}

impl ResultView {
    /// The closing lines of both views: where the history entry went (`recorded` says it when
    /// it was written) and what the keys do next (`retry` when the upload failed).
    fn push_history_and_next(
        &self,
        lines: &mut Vec<Line<'static>>,
        theme: &Theme,
        recorded: impl FnOnce(&HistoryEntry) -> Line<'static>,
        retry: &str,
    ) {
        match (&self.entry, &self.history_error) {
            (Some(e), _) => lines.push(recorded(e)),
            (None, Some(err)) => lines.push(Line::styled(
                format!("history not written: {}", ui::sanitize(err, 200)),
                theme.error,
            )),
            _ => {}
        }
        let next = if self.accepted() {
            "Next: f uploads another file, Enter or q quits.".to_string()
        } else {
            format!("Next: {retry}, f picks another file, q quits.")
        };
        lines.push(Line::styled(next, theme.accent));
    }

    /// Whether the server accepted the file.
    pub fn accepted(&self) -> bool {
        match &self.parts {
            Some(p) => p.all_in_service(),
            None => matches!(self.outcome, UploadOutcome::Accepted { .. }),
        }
    }

    /// Key bindings.
    /// The step's keys: the hint bar shows them, [`ResultView::on_key`] dispatches them.
    pub fn bindings(&self) -> Vec<Binding<Action>> {
        let mut v = Vec::new();
        if !self.accepted() {
            v.push(bind(
                &[ch('r')],
                hint("r", "retry", "Back to Confirm to upload again"),
                Action::Retry,
            ));
        }
        v.push(bind(
            &[ch('f')],
            hint("f", "another file", "Back to the file step"),
            Action::File,
        ));
        v.push(alias(&[code(KeyCode::Esc)], Action::File));
        v.push(bind(
            &[code(KeyCode::Enter)],
            hint("Enter", "quit", "Quit lbimport"),
            Action::Quit,
        ));
        v
    }

    /// The hints of [`ResultView::bindings`].
    pub fn keys(&self) -> Vec<KeyHint> {
        hints(&self.bindings())
    }

    /// Handle a key.
    pub fn on_key(&mut self, key: &KeyEvent) -> Action {
        find(&self.bindings(), key).unwrap_or(Action::None)
    }

    /// Draw the step.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, sha256: &str, file: &str) {
        let [head, body] =
            Layout::vertical([Constraint::Length(4), Constraint::Min(5)]).areas(area);
        let kv = |k: &str, v: String| {
            Line::from(vec![
                Span::styled(format!("{k:<12}"), theme.muted),
                Span::styled(v, theme.text),
            ])
        };
        let (banner, style, mut lines): (String, _, Vec<Line>) = match &self.outcome {
            UploadOutcome::Accepted {
                status,
                body,
                duration,
                bytes,
            } => {
                let secs = duration.as_secs_f64();
                let avg = if secs > 0.0 {
                    *bytes as f64 / secs
                } else {
                    0.0
                };
                let mut l = vec![
                    kv(
                        "status",
                        format!("{status} — accepted; the service processes it in the background"),
                    ),
                    kv("file", ui::short_path(file, 90)),
                    kv(
                        "duration",
                        format!("{} ({:.1} s)", ui::clock(*duration), secs),
                    ),
                    kv(
                        "sent",
                        format!("{} at {} average", ui::bytes(*bytes), ui::rate(avg)),
                    ),
                    kv("sha256", sha256.to_string()),
                ];
                if !body.trim().is_empty() {
                    l.push(Line::styled("server said:", theme.muted));
                    for line in body.trim().lines().take(4) {
                        l.push(Line::styled(ui::sanitize(line, 300), theme.text));
                    }
                }
                ("✔ ACCEPTED".to_string(), theme.ok, l)
            }
            UploadOutcome::Rejected {
                status,
                body,
                explanation,
            } => {
                let mut l = vec![
                    kv(
                        "status",
                        format!("{status} — {}", ui::sanitize(explanation, 200)),
                    ),
                    kv("file", ui::short_path(file, 90)),
                    Line::raw(""),
                    Line::styled(
                        "The server's answer (bounded, control characters removed):",
                        theme.muted,
                    ),
                ];
                for line in body.lines().take(8) {
                    l.push(Line::styled(ui::sanitize(line, 200), theme.text));
                }
                if body.trim().is_empty() {
                    l.push(Line::styled("(empty body)", theme.muted));
                }
                (
                    "✘ REJECTED — nothing was imported".to_string(),
                    theme.error,
                    l,
                )
            }
            UploadOutcome::Failed { reason, sent } => (
                "✘ FAILED — the upload did not complete".to_string(),
                theme.error,
                vec![
                    kv("cause", ui::sanitize(reason, 300)),
                    kv("sent", format!("{} before it stopped", ui::bytes(*sent))),
                    kv("file", ui::short_path(file, 90)),
                ],
            ),
            UploadOutcome::Cancelled => (
                "■ CANCELLED — the upload was stopped".to_string(),
                theme.warning,
                vec![
                    kv(
                        "cause",
                        "you cancelled it; an incomplete upload is discarded".to_string(),
                    ),
                    kv("file", ui::short_path(file, 90)),
                ],
            ),
            UploadOutcome::Unknown { reason } => (
                "? UNKNOWN — the server may or may not have taken it".to_string(),
                theme.warning,
                vec![
                    kv("cause", ui::sanitize(reason, 300)),
                    kv(
                        "careful",
                        "uploading again may duplicate the data; check with Luigi's Box first"
                            .to_string(),
                    ),
                ],
            ),
        };
        lines.push(Line::raw(""));
        self.push_history_and_next(
            &mut lines,
            theme,
            |e| {
                kv(
                    "history",
                    format!(
                        "recorded {} as {} (lbimport history)",
                        e.time.format("%Y-%m-%d %H:%M:%S UTC"),
                        e.outcome
                    ),
                )
            },
            "r retries (back to Confirm)",
        );
        draw_panels(
            frame,
            theme,
            [head, body],
            (banner, style),
            lines,
            "Details".to_string(),
        );
    }

    /// Draw the step for a file sent in parts: each part's outcome, and when only some went
    /// through, which parts are in the service and which remain (with their paths).
    pub fn draw_parts(&self, frame: &mut Frame, area: Rect, theme: &Theme, tracker_name: &str) {
        let Some(pr) = &self.parts else { return };
        let n = pr.parts.len();
        let (inside, outside) = pr.split_by_service();
        let failed_at = pr.status.iter().position(|s| {
            matches!(s, PartStatus::Done { outcome, .. } if !matches!(outcome, UploadOutcome::Accepted { .. }))
        });
        let (banner, style) = match failed_at {
            None if outside.is_empty() => (format!("✔ ALL {n} PARTS ACCEPTED"), theme.ok),
            None => (
                format!("■ {} OF {n} PARTS IN THE SERVICE", inside.len()),
                theme.warning,
            ),
            Some(i) => {
                let what = match &pr.status[i] {
                    PartStatus::Done { outcome, .. } => match outcome {
                        UploadOutcome::Rejected { status, .. } => format!("REJECTED ({status})"),
                        UploadOutcome::Failed { .. } => "FAILED".to_string(),
                        UploadOutcome::Cancelled => "CANCELLED".to_string(),
                        UploadOutcome::Unknown { .. } => "UNKNOWN".to_string(),
                        UploadOutcome::Accepted { .. } => "ACCEPTED".to_string(),
                    },
                    _ => String::new(),
                };
                let later: Vec<usize> = pr
                    .status
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| matches!(s, PartStatus::NotSent))
                    .map(|(i, _)| i + 1)
                    .collect();
                (
                    format!(
                        "✘ PART {} OF {n} {what}{}",
                        i + 1,
                        if !later.is_empty() {
                            format!(" — not sent: part {}", join_numbers(&later))
                        } else {
                            String::new()
                        }
                    ),
                    theme.error,
                )
            }
        };
        let [head, body] =
            Layout::vertical([Constraint::Length(4), Constraint::Min(5)]).areas(area);
        let mut lines = pr.lines(theme, body.width as usize);
        lines.push(Line::raw(""));
        if failed_at.is_some() || !outside.is_empty() {
            if let Some(PartStatus::Done { outcome, .. }) = failed_at.map(|i| &pr.status[i]) {
                let why = match outcome {
                    UploadOutcome::Rejected { body, .. } => {
                        body.lines().next().unwrap_or("").to_string()
                    }
                    UploadOutcome::Failed { reason, .. } | UploadOutcome::Unknown { reason } => {
                        reason.clone()
                    }
                    _ => String::new(),
                };
                if !why.trim().is_empty() {
                    lines.push(Line::styled(
                        format!("server/cause: {}", ui::sanitize(&why, 200)),
                        theme.text,
                    ));
                }
            }
            if inside.is_empty() {
                lines.push(Line::styled(
                    "No part is in the service: nothing was imported.",
                    theme.text,
                ));
            } else {
                lines.push(Line::styled(
                    format!(
                        "Already in the service (uploads cannot be undone): part {}.",
                        join_numbers(&inside)
                    ),
                    theme.warning,
                ));
            }
            lines.push(Line::styled(
                format!(
                    "Not in the service: part {} — r retries them (parts already accepted are skipped), or later:",
                    join_numbers(&outside)
                ),
                theme.text,
            ));
            for i in &outside {
                if let Some(p) = pr.parts.get(i - 1) {
                    lines.push(Line::styled(
                        format!(
                            "  lbimport upload {} --tracker {}",
                            ui::sanitize(&p.path.display().to_string(), 300),
                            ui::sanitize(tracker_name, 60)
                        ),
                        theme.accent,
                    ));
                }
            }
        } else {
            lines.push(Line::styled(
                "Every part is in the service; it processes them in the background.",
                theme.text,
            ));
        }
        self.push_history_and_next(
            &mut lines,
            theme,
            |_| {
                Line::styled(
                    "history: one entry per part sent (lbimport history)",
                    theme.muted,
                )
            },
            "r retries the parts not in the service (back to Confirm)",
        );
        draw_panels(
            frame,
            theme,
            [head, body],
            (banner, style),
            lines,
            format!("Parts ({n})"),
        );
    }
}

/// The banner panel and the details panel under it, shared by the single-file and parts views.
fn draw_panels(
    frame: &mut Frame,
    theme: &Theme,
    [head, body]: [Rect; 2],
    (banner, style): (String, ratatui::style::Style),
    lines: Vec<Line<'static>>,
    title: String,
) {
    frame.render_widget(
        Paragraph::new(Line::styled(banner, style.add_modifier(Modifier::BOLD)))
            .block(ui::block(theme, "Result")),
        head,
    );
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(ui::block(theme, title)),
        body,
    );
}

/// Step 7: how the upload ended.
#[derive(Debug, Clone)]
pub struct ResultStep {
    /// Answer of step 1.
    pub tracker: Chosen,
    /// Answers of steps 2 and 4.
    pub file: FileChoice,
    /// Answer of step 3.
    pub report: Arc<Report>,
    /// How the upload ended (the last part sent, for parts).
    pub outcome: UploadOutcome,
    /// The outcome, history entry and parts shown.
    pub view: ResultView,
}

impl StepScreen for ResultStep {
    fn keys(&self, _cx: &DrawCx) -> Vec<KeyHint> {
        self.view.keys()
    }

    fn update(&mut self, key: &KeyEvent, _cx: &mut Cx) -> Transition {
        match self.view.on_key(key) {
            Action::None => Transition::none(),
            Action::Quit => Transition::to(Nav::Quit, Vec::new()),
            Action::File => Transition::to(Nav::Rewind(Mark::File, None), Vec::new()),
            Action::Retry => {
                let next =
                    Next::Confirm(self.tracker.clone(), self.file.clone(), self.report.clone());
                Transition::to(Nav::Rewind(Mark::Validate, Some(next)), Vec::new())
            }
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &DrawCx) {
        if self.view.parts.is_some() {
            self.view
                .draw_parts(frame, area, cx.theme, &self.tracker.tracker.name);
        } else {
            self.view.draw(
                frame,
                area,
                cx.theme,
                &self.report.file.sha256,
                &self.file.upload.display().to_string(),
            );
        }
    }
}
