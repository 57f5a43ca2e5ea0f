//! Step 5, Confirm: everything about to happen, on one screen, before an irreversible upload.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use super::{is_char, step_selection};
use crate::config::HistoryEntry;
use crate::tui::app::{Chosen, FileChoice};
use crate::tui::services;
use crate::tui::theme::Theme;
use crate::tui::ui::{self, KeyHint, hint};
use crate::validate::{Code, Report, Severity};

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
    /// For a file sent in parts: per part, the history entry of the same bytes already sent
    /// to this tracker (such parts are skipped unless `D` is pressed).
    pub part_duplicates: Vec<Option<HistoryEntry>>,
    /// Selected part (its full path and sha256 are shown).
    pub part_sel: usize,
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
    /// Whether the file is sent in parts.
    pub fn in_parts(&self) -> bool {
        !self.part_duplicates.is_empty()
    }

    /// Parts already sent to this tracker (count).
    pub fn parts_already_sent(&self) -> usize {
        self.part_duplicates.iter().filter(|d| d.is_some()).count()
    }

    fn has_duplicates(&self) -> bool {
        self.duplicate.is_some() || self.parts_already_sent() > 0
    }

    /// Key bindings of the current state.
    pub fn keys(&self) -> Vec<KeyHint> {
        if self.in_parts() {
            let mut v = vec![hint(
                "y",
                "upload parts",
                "Upload the parts one after another (it cannot be undone)",
            )];
            if self.parts_already_sent() > 0 {
                v.push(hint(
                    "D",
                    if self.override_duplicate {
                        "skip sent parts"
                    } else {
                        "resend sent parts"
                    },
                    "Also send the parts that already reached this tracker (or skip them again)",
                ));
            }
            v.push(hint(
                "↑↓",
                "part",
                "Select a part (its path and sha256 are shown in full)",
            ));
            v.extend(leave_hints());
            return v;
        }
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
        v.extend(leave_hints());
        v
    }

    /// Handle a key.
    pub fn on_key(&mut self, key: &KeyEvent) -> Action {
        match key.code {
            KeyCode::Esc => Action::Back,
            KeyCode::Char('D') if self.has_duplicates() => {
                self.override_duplicate = !self.override_duplicate;
                self.message = None;
                Action::None
            }
            KeyCode::Up | KeyCode::Down | KeyCode::Home | KeyCode::End if self.in_parts() => {
                step_selection(&mut self.part_sel, self.part_duplicates.len(), key);
                Action::None
            }
            _ if (is_char(key, 'y') || is_char(key, 'Y')) && self.in_parts() => {
                if self.parts_already_sent() == self.part_duplicates.len()
                    && !self.override_duplicate
                {
                    self.message = Some(
                        "every part already reached this tracker — nothing left to send; press D to send them all again"
                            .to_string(),
                    );
                    Action::None
                } else {
                    Action::Upload
                }
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
    /// The "clock skew" line of both views.
    fn skew_line(&self, theme: &Theme) -> Line<'static> {
        let (v, style) = self.skew_text(theme);
        Line::from(vec![
            Span::styled(format!("{:<11}", "clock skew"), theme.muted),
            Span::styled(v, style),
        ])
    }

    /// The "key" line of both views when the tracker's key cannot be read.
    fn key_problem_line(&self, theme: &Theme) -> Option<Line<'static>> {
        self.key_problem.as_ref().map(|p| {
            Line::from(vec![
                Span::styled(format!("{:<11}", "key"), theme.muted),
                Span::styled(format!("⚠ {}", ui::sanitize(p, 120)), theme.error),
            ])
        })
    }

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
        if !file.parts.is_empty() {
            self.draw_parts(frame, area, theme, tracker, file);
            return;
        }
        let dup_h = if self.duplicate.is_some() { 5 } else { 0 };
        let [main, dup, foot] = Layout::vertical([
            Constraint::Min(10),
            Constraint::Length(dup_h),
            Constraint::Length(3),
        ])
        .areas(area);
        let kv = |k: &str, v: String| kv_line(theme, k, v);
        let st = &report.stats;
        let warnings: Vec<(Code, u64)> = report
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
            .map(|i| (i.code, i.count))
            .collect();
        let needed = report.file.bytes as f64 / UPLOAD_LIMIT_SECS as f64;
        let [tracker_line, endpoint_line] = tracker_lines(theme, tracker);
        let mut lines = vec![
            tracker_line,
            endpoint_line,
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
            kv("warnings", warnings_text(&warnings)),
            kv(
                "changes",
                file.transformations
                    .first()
                    .map_or("none — the file is sent byte for byte".to_string(), |t| {
                        ui::sanitize(t, 200)
                    }),
            ),
            self.skew_line(theme),
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
        if let Some(l) = self.key_problem_line(theme) {
            lines.insert(2, l);
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

    /// Draw the step for a file sent in parts: totals, the per-part table with the duplicate
    /// guard, the ETA against the per-part time limit.
    fn draw_parts(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        tracker: &Chosen,
        file: &FileChoice,
    ) {
        let parts = &file.parts;
        let kv = |k: &str, v: String| kv_line(theme, k, v);
        let total: u64 = parts.iter().map(|p| p.report.file.bytes).sum();
        let rows: u64 = parts.iter().map(|p| p.report.stats.rows).sum();
        let orders: u64 = parts.iter().map(|p| p.report.stats.orders).sum();
        let largest = parts.iter().map(|p| p.report.file.bytes).max().unwrap_or(0);
        let mut warnings: Vec<(Code, u64)> = Vec::new();
        for p in parts {
            for i in p
                .report
                .issues
                .iter()
                .filter(|i| i.severity == Severity::Warning)
            {
                match warnings.iter_mut().find(|(c, _)| *c == i.code) {
                    Some(w) => w.1 += i.count,
                    None => warnings.push((i.code, i.count)),
                }
            }
        }
        let already = self.parts_already_sent();
        let sending = if self.override_duplicate {
            parts.len()
        } else {
            parts.len().saturating_sub(already)
        };
        let [tracker_line, endpoint_line] = tracker_lines(theme, tracker);
        let mut lines = vec![
            tracker_line,
            endpoint_line,
            kv(
                "file",
                format!(
                    "{} (split)",
                    ui::short_path(&file.upload.display().to_string(), 56)
                ),
            ),
            kv(
                "parts",
                format!(
                    "{} parts · {} · {} rows · {} orders",
                    parts.len(),
                    ui::bytes(total),
                    ui::count(rows),
                    ui::count(orders)
                ),
            ),
            kv("warnings", warnings_text(&warnings)),
            kv(
                "changes",
                file.transformations.first().map_or(
                    "none besides the split — rows are sent as they are".to_string(),
                    |t| ui::sanitize(t, 200),
                ),
            ),
            self.skew_line(theme),
            kv(
                "time limit",
                format!(
                    "each part within 10:00: the largest ({}) needs ≥ {}",
                    ui::bytes(largest),
                    ui::rate((largest as f64 / UPLOAD_LIMIT_SECS as f64).max(1.0))
                ),
            ),
        ];
        if let Some(l) = self.key_problem_line(theme) {
            lines.insert(2, l);
        }
        let main_h = lines.len() as u16 + 2;
        // The table as tall as its rows (+ header, borders, the selected part's details).
        let table_h = (parts.len() as u16).saturating_add(5);
        let [main, table, _, foot] = Layout::vertical([
            Constraint::Length(main_h),
            Constraint::Length(table_h),
            Constraint::Min(0),
            Constraint::Length(3),
        ])
        .areas(area);
        frame.render_widget(
            Paragraph::new(lines).block(ui::block(theme, "About to upload, part by part")),
            main,
        );
        let sel = self.part_sel.min(parts.len().saturating_sub(1));
        // Narrow: no file column (the names differ only by their number; the selected
        // part's full path is shown under the table when there is room).
        let wide = table.width >= 110;
        let rows: Vec<Row> = parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let r = &p.report;
                let (status, st) = match self.part_duplicates.get(i).cloned().flatten() {
                    Some(d) if self.override_duplicate => {
                        (format!("send AGAIN (already {})", d.outcome), theme.warning)
                    }
                    Some(d) if wide => (
                        format!(
                            "skip: already {} {}",
                            d.outcome,
                            d.time.format("%m-%d %H:%M")
                        ),
                        theme.ok,
                    ),
                    Some(d) => (
                        format!("skip: {} {}", d.outcome, d.time.format("%m-%d")),
                        theme.ok,
                    ),
                    None => ("send".to_string(), theme.text),
                };
                let sha: String = r.file.sha256.chars().take(12).collect();
                let mut cells = vec![Cell::from(format!("{}", i + 1))];
                if wide {
                    cells.push(Cell::from(super::parts::file_name(&p.path)));
                }
                cells.extend([
                    Cell::from(ui::bytes(r.file.bytes)),
                    Cell::from(ui::count(r.stats.rows)),
                    Cell::from(ui::count(r.stats.orders)),
                    Cell::from(format!("{sha}…")),
                    Cell::from(Span::styled(status, st)),
                ]);
                Row::new(cells).style(theme.text)
            })
            .collect();
        let detail_h = if table.height >= parts.len() as u16 + 5 {
            2
        } else {
            1
        };
        let [tab_area, detail] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(detail_h)]).areas(table);
        let title = if already == 0 {
            format!(
                "Parts ({}) — sent one after another, in this order",
                parts.len()
            )
        } else if self.override_duplicate {
            format!(
                "Parts ({}) — DUPLICATES ALLOWED: {already} sent again; D skips them",
                parts.len()
            )
        } else {
            format!(
                "Parts ({}) — {already} already accepted, skipped; D sends again",
                parts.len()
            )
        };
        let mut widths = vec![Constraint::Length(3)];
        let mut header = vec!["#"];
        if wide {
            widths.push(Constraint::Fill(1));
            header.push("file");
        }
        widths.extend([
            Constraint::Length(9),
            Constraint::Length(11),
            Constraint::Length(11),
            Constraint::Length(13),
            if wide {
                Constraint::Length(34)
            } else {
                Constraint::Fill(3)
            },
        ]);
        header.extend(["bytes", "rows", "orders", "sha256", "this upload"]);
        let table_w = Table::new(rows, widths)
            .header(Row::new(header).style(theme.muted))
            .row_highlight_style(ui::selected(theme))
            .block(ui::block(theme, title));
        let mut st = TableState::default().with_selected(Some(sel));
        frame.render_stateful_widget(table_w, tab_area, &mut st);
        if let Some(p) = parts.get(sel) {
            let mut detail_lines = vec![Line::from(vec![
                Span::styled(format!(" part {} sha256 ", sel + 1), theme.muted),
                Span::styled(p.report.file.sha256.clone(), theme.text),
            ])];
            if detail_h > 1 {
                detail_lines.push(Line::from(vec![
                    Span::styled(" path ", theme.muted),
                    Span::styled(
                        ui::short_path(&p.path.display().to_string(), 200),
                        theme.text,
                    ),
                ]));
            }
            frame.render_widget(Paragraph::new(detail_lines), detail);
        }
        let text = match &self.message {
            Some(m) => Line::styled(ui::sanitize(m, 200), theme.error),
            None => Line::from(vec![
                Span::styled(
                    "An upload cannot be undone or deleted. ",
                    theme.warning.add_modifier(Modifier::BOLD),
                ),
                Span::styled("y", theme.accent.add_modifier(Modifier::BOLD)),
                Span::styled(
                    format!(
                        " sends {sending} part{} in order, stopping at a failure.",
                        if sending == 1 { "" } else { "s" }
                    ),
                    theme.text,
                ),
            ]),
        };
        frame.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .block(ui::block(theme, "Confirm")),
            foot,
        );
    }
}

/// `key        value`, the key padded and muted.
/// The keys both views end their hints with: back, history, help, quit.
fn leave_hints() -> [KeyHint; 4] {
    [
        hint("Esc", "back", "Back to the validation results"),
        hint("h", "history", "Show the upload history"),
        hint("?", "help", "Show all keys"),
        hint("q", "quit", "Quit lbimport"),
    ]
}

/// Warning codes with their counts, or "none".
fn warnings_text(warnings: &[(Code, u64)]) -> String {
    if warnings.is_empty() {
        return "none".to_string();
    }
    warnings
        .iter()
        .map(|(c, n)| format!("{c} ×{}", ui::count(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn kv_line(theme: &Theme, k: &str, v: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{k:<11}"), theme.muted),
        Span::styled(v, theme.text),
    ])
}

/// The tracker and endpoint lines that open both Confirm views.
fn tracker_lines(theme: &Theme, tracker: &Chosen) -> [Line<'static>; 2] {
    let t = &tracker.tracker;
    [
        kv_line(
            theme,
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
        kv_line(
            theme,
            "endpoint",
            ui::sanitize(
                &format!(
                    "{}{}",
                    t.base_url,
                    crate::spec::endpoint_path(&t.tracker_id)
                ),
                120,
            ),
        ),
    ]
}
