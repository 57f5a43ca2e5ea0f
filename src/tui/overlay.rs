//! The popups over any step: the `?` help, the upload history (`h`) and "quit? work would be
//! lost". Each owns its keys and its drawing, like a step.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::theme::Theme;
use super::ui::{self, KeyHint, hint};
use crate::config::HistoryEntry;

/// A popup over the current step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    /// The `?` help.
    Help,
    /// The upload history, scrolled.
    History(usize),
    /// "Quit? work would be lost".
    Quit(String),
}

/// What a key does to an overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// It stays open, as this.
    Keep(Overlay),
    /// It closes.
    Close,
    /// Quit the wizard.
    Quit,
    /// Open the saved report of history entry `i` over the step (the history stays).
    OpenReport(usize),
}

/// What the help lists.
pub struct HelpText {
    /// The step's name.
    pub step: &'static str,
    /// The step's keys.
    pub step_keys: Vec<KeyHint>,
    /// The keys of every step.
    pub global_keys: Vec<KeyHint>,
}

impl Overlay {
    /// The keys that act in the overlay (the hint bar shows them).
    pub fn keys(&self) -> Vec<KeyHint> {
        match self {
            Overlay::Help => vec![hint("Esc/?", "close", "Close the help")],
            Overlay::History(_) => vec![
                hint("↑↓", "select", "Select an upload"),
                hint("Enter", "report", "Open the upload's saved report"),
                hint("Esc/h", "close", "Close the history"),
            ],
            Overlay::Quit(_) => vec![
                hint("y", "quit", "Quit (work in progress is lost)"),
                hint("n", "stay", "Stay in lbimport"),
            ],
        }
    }

    /// Apply a key (`entries`: how many uploads the history lists).
    pub fn on_key(&self, k: &KeyEvent, entries: usize) -> Next {
        match self {
            Overlay::Quit(_) => {
                if matches!(k.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                    Next::Quit
                } else {
                    Next::Close
                }
            }
            Overlay::Help => match k.code {
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter => {
                    Next::Close
                }
                _ => Next::Keep(self.clone()),
            },
            Overlay::History(scroll) => match k.code {
                KeyCode::Up => Next::Keep(Overlay::History(scroll.saturating_sub(1))),
                KeyCode::Down => {
                    let max = entries.saturating_sub(1);
                    Next::Keep(Overlay::History((scroll + 1).min(max)))
                }
                KeyCode::Enter => Next::OpenReport(*scroll),
                KeyCode::Esc | KeyCode::Char('h') | KeyCode::Char('q') => Next::Close,
                _ => Next::Keep(self.clone()),
            },
        }
    }

    /// Draw the overlay over `area`.
    pub fn draw(
        &self,
        frame: &mut Frame,
        area: Rect,
        t: &Theme,
        history: &[HistoryEntry],
        help: &HelpText,
    ) {
        match self {
            Overlay::Help => draw_help(frame, area, t, help),
            Overlay::History(s) => draw_history(frame, area, t, history, *s),
            Overlay::Quit(reason) => ui::popup(
                frame,
                area,
                t,
                "Quit?",
                vec![
                    Line::styled("Quit lbimport?", t.warning.add_modifier(Modifier::BOLD)),
                    Line::styled(reason.clone(), t.text),
                    Line::styled("y = quit, any other key = stay", t.muted),
                ],
                56,
            ),
        }
    }
}

fn draw_help(frame: &mut Frame, area: Rect, t: &Theme, help: &HelpText) {
    let mut lines = vec![Line::styled(format!("{} step", help.step), t.title)];
    let line = |k: &KeyHint| {
        Line::from(vec![
            Span::styled(
                format!("  {:<10}", k.key),
                t.accent.add_modifier(Modifier::BOLD),
            ),
            Span::styled(k.description, t.text),
        ])
    };
    for k in help
        .step_keys
        .iter()
        .filter(|k| k.key != "?" && k.key != "q" && k.key != "h")
    {
        lines.push(line(k));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Everywhere", t.title));
    for k in &help.global_keys {
        lines.push(line(k));
    }
    let max = area.height.saturating_sub(2) as usize;
    lines.truncate(max);
    ui::popup(
        frame,
        area,
        t,
        "Help — Esc closes",
        lines,
        area.width.saturating_sub(8).min(90),
    );
}

fn draw_history(frame: &mut Frame, area: Rect, t: &Theme, history: &[HistoryEntry], scroll: usize) {
    let r = Rect {
        x: area.x + 2,
        y: area.y + 1,
        width: area.width.saturating_sub(4),
        height: area.height.saturating_sub(2),
    };
    frame.render_widget(Clear, r);
    let mut lines = Vec::new();
    if history.is_empty() {
        lines.push(Line::styled("no uploads yet", t.muted));
    }
    for (i, e) in history.iter().enumerate().skip(scroll) {
        let style = match e.outcome {
            crate::config::Outcome::Accepted => t.ok,
            crate::config::Outcome::Rejected | crate::config::Outcome::Failed => t.error,
            _ => t.warning,
        };
        let name = e
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", e.time.format("%Y-%m-%d %H:%M")), t.muted),
            Span::styled(format!("{:<9} ", e.outcome), style),
            Span::styled(
                format!(
                    "{:<4} ",
                    e.status.map_or("–".to_string(), |s| s.to_string())
                ),
                t.text,
            ),
            Span::styled(
                format!("{:<16} ", ui::sanitize(&e.tracker_name, 16)),
                t.text,
            ),
            Span::styled(format!("{:>9} ", ui::bytes(e.bytes)), t.muted),
            Span::styled(ui::sanitize(&name, 40), t.text),
            Span::styled(if e.report.is_some() { "  report" } else { "" }, t.muted),
        ]));
        if i == scroll
            && let Some(l) = lines.last_mut()
        {
            *l = std::mem::take(l).style(ui::selected(t));
        }
    }
    frame.render_widget(
        Paragraph::new(lines).block(ui::block(
            t,
            format!(
                "Upload history ({}) — ↑↓ select, Enter opens its report, Esc closes",
                history.len()
            ),
        )),
        r,
    );
}
