//! Step 5, Confirm: everything about to happen, on one screen, before an irreversible upload.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use super::step_selection;
use crate::config::HistoryEntry;
use crate::tui::flow::{Chosen, FileChoice};
use crate::tui::flow::{Cx, DrawCx, Effect, Nav, Next, StepScreen, Transition};
use crate::tui::keys::{Binding, bind, ch, code, find, hints};
use crate::tui::services;
use crate::tui::theme::Theme;
use crate::tui::ui::{self, KeyHint, hint};
use crate::validate::{Code, Report, Severity};
use std::sync::Arc;

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
    /// What the comparison with the tracker found (orders already sent, catalog match), for
    /// the whole file.
    pub guard: Guard,
    /// For a file sent in parts: the same over the parts not already sent (the ones `y`
    /// sends unless `D` is pressed).
    pub guard_unsent: Option<Guard>,
    /// The user pressed `A` to send although the guard warns.
    pub override_guard: bool,
}

/// Share of rows under which Confirm asks for the extra key: fewer than half of the rows
/// match the tracker's catalog.
pub const LOW_MATCH: f64 = 0.5;

/// What Confirm warns about before an upload, from the file's reports (one, or one per
/// part): orders already sent to the tracker and rows whose identity is not in its catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Guard {
    /// Orders of the file already sent (0 when none, or not checked).
    pub sent_orders: u64,
    /// Orders of the file.
    pub file_orders: u64,
    /// "1,000 of 1,500 orders (66.7 %) were already sent on 2026-12-04 in a.csv", when the
    /// check was made.
    pub overlap: Option<String>,
    /// Rows compared with the catalog and rows matched, when a catalog was compared.
    pub catalog: Option<(u64, u64)>,
    /// Distinct unknown identities (single file only).
    pub unknown: Option<u64>,
}

impl Guard {
    /// The guard of a file validated as `reports` (several for a file sent in parts).
    pub fn of(reports: &[&Report]) -> Guard {
        let mut g = Guard::default();
        let mut by: Vec<(String, Option<String>, Option<String>, u64)> = Vec::new();
        let mut checked = false;
        for r in reports {
            if let Some(a) = &r.already_sent
                && a.skipped.is_none()
            {
                checked = true;
                g.sent_orders += a.orders;
                g.file_orders += a.file_orders;
                for b in &a.by_upload {
                    match by.iter_mut().find(|x| x.0 == b.key) {
                        Some(x) => x.3 += b.orders,
                        None => by.push((
                            b.key.clone(),
                            b.sent_at.map(|t| t.format("%Y-%m-%d").to_string()),
                            b.file.as_deref().map(|f| {
                                std::path::Path::new(f).file_name().map_or_else(
                                    || f.to_string(),
                                    |n| n.to_string_lossy().into_owned(),
                                )
                            }),
                            b.orders,
                        )),
                    }
                }
            }
            if let Some(c) = &r.catalog
                && c.skipped.is_none()
            {
                let (rows, matched) = g.catalog.unwrap_or((0, 0));
                g.catalog = Some((rows + c.rows, matched + c.rows_matched));
            }
        }
        if let [r] = reports
            && let Some(c) = &r.catalog
            && c.skipped.is_none()
        {
            g.unknown = Some(c.identities.saturating_sub(c.identities_matched));
        }
        if checked {
            g.overlap = Some(if g.sent_orders == 0 {
                format!(
                    "none of the {} orders were sent to this tracker before",
                    ui::count(g.file_orders)
                )
            } else {
                by.sort_by_key(|b| std::cmp::Reverse(b.3));
                let one = |(_, at, file, n): &(String, Option<String>, Option<String>, u64),
                           with_count: bool| {
                    let mut t = if with_count {
                        format!("{} ", ui::count(*n))
                    } else {
                        String::new()
                    };
                    match at {
                        Some(at) => t.push_str(&format!("on {at}")),
                        None => t.push_str("by an earlier upload"),
                    }
                    if let Some(f) = file {
                        t.push_str(&format!(" in {f}"));
                    }
                    t
                };
                let pct = g.sent_orders as f64 * 100.0 / g.file_orders.max(1) as f64;
                let whom = match by.as_slice() {
                    [b] => one(b, false),
                    list => list
                        .iter()
                        .map(|b| one(b, true))
                        .collect::<Vec<_>>()
                        .join("; "),
                };
                format!(
                    "{} of {} orders ({pct:.1} %) were already sent {whom}",
                    ui::count(g.sent_orders),
                    ui::count(g.file_orders),
                )
            });
        }
        g
    }

    /// Share of the compared rows whose identity is in the catalog, when compared.
    pub fn match_rate(&self) -> Option<f64> {
        self.catalog
            .filter(|(rows, _)| *rows > 0)
            .map(|(rows, m)| m as f64 / rows as f64)
    }

    /// Fewer than half of the rows match the catalog.
    pub fn low_match(&self) -> bool {
        self.match_rate().is_some_and(|r| r < LOW_MATCH)
    }

    /// Some of the file's orders were already sent.
    pub fn overlaps(&self) -> bool {
        self.sent_orders > 0
    }

    /// Whether sending needs the extra key.
    pub fn needs_override(&self) -> bool {
        self.low_match() || self.overlaps()
    }

    /// "95.2 % of rows match, 12 unknown products" (when a catalog was compared).
    pub fn catalog_text(&self) -> Option<String> {
        self.catalog?;
        let rate = self.match_rate().unwrap_or(0.0) * 100.0;
        let mut t = format!("{rate:.1} % of rows match");
        if let Some(u) = self.unknown {
            t.push_str(&format!(
                ", {} unknown product{}",
                ui::count(u),
                if u == 1 { "" } else { "s" }
            ));
        }
        Some(t)
    }
}

/// Seconds with one decimal and a sign (`+1.2 s`); never `-0.0`.
fn signed_secs(ms: i64) -> String {
    let v = (ms as f64 / 100.0).round() / 10.0;
    let v = if v == 0.0 { 0.0 } else { v };
    format!("{v:+.1} s")
}

/// What the confirm step's keys do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Upload,
    Duplicate,
    Guard,
    Select,
    Back,
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
    /// The guard of what `y` would send now (parts already accepted are skipped unless `D`).
    pub fn active_guard(&self) -> &Guard {
        match &self.guard_unsent {
            Some(g) if !self.override_duplicate => g,
            _ => &self.guard,
        }
    }

    /// Whether the file is sent in parts.
    pub fn in_parts(&self) -> bool {
        !self.part_duplicates.is_empty()
    }

    /// Parts already sent to this tracker (count).
    pub fn parts_already_sent(&self) -> usize {
        self.part_duplicates.iter().filter(|d| d.is_some()).count()
    }

    /// The step's keys for its state: the hint bar shows them, [`ConfirmView::on_key`]
    /// dispatches them.
    fn bindings(&self) -> Vec<Binding<Key>> {
        let parts = self.in_parts();
        let mut v = vec![bind(
            &[ch('y'), ch('Y')],
            if parts {
                hint(
                    "y",
                    "upload parts",
                    "Upload the parts one after another (it cannot be undone)",
                )
            } else {
                hint("y", "upload", "Upload the file now (it cannot be undone)")
            },
            Key::Upload,
        )];
        if parts && self.parts_already_sent() > 0 {
            v.push(bind(
                &[ch('D')],
                hint(
                    "D",
                    if self.override_duplicate {
                        "skip sent parts"
                    } else {
                        "resend sent parts"
                    },
                    "Also send the parts that already reached this tracker (or skip them again)",
                ),
                Key::Duplicate,
            ));
        } else if !parts && self.duplicate.is_some() {
            v.push(bind(
                &[ch('D')],
                hint(
                    "D",
                    "allow duplicate",
                    "Upload these bytes again although they already reached this tracker",
                ),
                Key::Duplicate,
            ));
        }
        if let Some(h) = self.guard_hint() {
            v.push(bind(&[ch('A')], h, Key::Guard));
        }
        if parts {
            v.push(bind(
                &crate::tui::keys::SELECT,
                hint(
                    "↑↓",
                    "part",
                    "Select a part (its path and sha256 are shown in full)",
                ),
                Key::Select,
            ));
        }
        v.push(bind(
            &[code(KeyCode::Esc)],
            hint("Esc", "back", "Back to the validation results"),
            Key::Back,
        ));
        v
    }

    /// The hints of the step's bindings.
    pub fn keys(&self) -> Vec<KeyHint> {
        hints(&self.bindings())
    }

    fn guard_hint(&self) -> Option<KeyHint> {
        self.active_guard().needs_override().then(|| {
            hint(
                "A",
                if self.override_guard {
                    "don't send anyway"
                } else {
                    "send anyway"
                },
                "Send although orders were already sent or most rows are not in the catalog",
            )
        })
    }

    /// Why `y` waits for `A`, when it does.
    fn guard_refusal(&self) -> Option<String> {
        if !self.active_guard().needs_override() || self.override_guard {
            return None;
        }
        Some(if self.active_guard().overlaps() {
            "some orders were already sent to this tracker — press A first to send them again"
                .to_string()
        } else {
            "fewer than half of the rows match the tracker's catalog — press A first to send anyway"
                .to_string()
        })
    }

    /// Handle a key.
    pub fn on_key(&mut self, key: &KeyEvent) -> Action {
        match find(&self.bindings(), key) {
            None => Action::None,
            Some(Key::Back) => Action::Back,
            Some(Key::Guard) => {
                self.override_guard = !self.override_guard;
                self.message = None;
                Action::None
            }
            Some(Key::Duplicate) => {
                self.override_duplicate = !self.override_duplicate;
                self.message = None;
                Action::None
            }
            Some(Key::Select) => {
                step_selection(&mut self.part_sel, self.part_duplicates.len(), key);
                Action::None
            }
            Some(Key::Upload) if self.guard_refusal().is_some() => {
                self.message = self.guard_refusal();
                Action::None
            }
            Some(Key::Upload) if self.in_parts() => {
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
            Some(Key::Upload) => {
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

    /// The "catalog" and "overlap" lines of both views (when the checks were made; one
    /// line when nothing was sent before).
    fn check_lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let g = self.active_guard();
        let line = |k: &str, v: String, st| {
            Line::from(vec![
                Span::styled(format!("{k:<11}"), theme.muted),
                Span::styled(v, st),
            ])
        };
        let cat_style = theme.text;
        // what the guard block shows prominently is not repeated here
        let catalog = g.catalog_text().filter(|_| !g.low_match());
        let overlap = g.overlap.as_ref().filter(|_| !g.overlaps());
        match (catalog, overlap) {
            (Some(c), Some(_)) if !g.overlaps() => {
                vec![line(
                    "catalog",
                    format!("{c} · nothing sent before"),
                    cat_style,
                )]
            }
            (c, o) => {
                let mut v = Vec::new();
                if let Some(c) = c {
                    v.push(line("catalog", c, cat_style));
                }
                if let Some(o) = o {
                    let st = if g.overlaps() {
                        theme.error
                    } else {
                        theme.text
                    };
                    v.push(line("overlap", ui::sanitize(o, 200), st));
                }
                v
            }
        }
    }

    /// The prominent warning when sending needs `A` (empty when it does not).
    fn guard_lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let g = self.active_guard();
        if !g.needs_override() {
            return Vec::new();
        }
        let loud = if self.override_guard {
            theme.warning.add_modifier(Modifier::BOLD)
        } else {
            theme
                .error
                .add_modifier(Modifier::BOLD | Modifier::REVERSED)
        };
        let mut v = Vec::new();
        if g.overlaps() {
            v.push(Line::styled(
                format!(
                    "⚠ ALREADY SENT: {}",
                    ui::sanitize(g.overlap.as_deref().unwrap_or_default(), 200)
                ),
                loud,
            ));
        }
        if g.low_match() {
            v.push(Line::styled(
                format!(
                    "⚠ NOT IN THE CATALOG: only {:.1} % of the rows match the tracker's catalog",
                    g.match_rate().unwrap_or(0.0) * 100.0
                ),
                loud,
            ));
        }
        v.push(Line::styled(
            if self.override_guard {
                "SENDING ANYWAY — y uploads; A takes it back".to_string()
            } else if g.overlaps() {
                "Cannot be undone: those purchases would be imported twice. A sends anyway."
                    .to_string()
            } else {
                "The identities may not be the catalog's (Validate shows why). A sends anyway."
                    .to_string()
            },
            theme.text,
        ));
        v
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
        let guard_lines = self.guard_lines(theme);
        let guard_h = if guard_lines.is_empty() {
            0
        } else {
            wrapped_height(&guard_lines, area.width.saturating_sub(2)) + 2
        };
        let [main, guard, dup, foot] = Layout::vertical([
            Constraint::Min(10),
            Constraint::Length(guard_h),
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
        ];
        lines.extend(self.check_lines(theme));
        lines.extend([
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
        ]);
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
        if !guard_lines.is_empty() {
            frame.render_widget(
                Paragraph::new(guard_lines)
                    .wrap(Wrap { trim: true })
                    .block(ui::block(theme, "Check before sending")),
                guard,
            );
        }
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
            Span::styled(
                if self.guard_refusal().is_some() {
                    "A then y"
                } else {
                    "y"
                },
                theme.accent.add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                if self.guard_refusal().is_some() {
                    " sends anyway, "
                } else {
                    " uploads, "
                },
                theme.text,
            ),
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
        ];
        lines.extend(self.check_lines(theme));
        lines.extend([
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
        ]);
        if let Some(l) = self.key_problem_line(theme) {
            lines.insert(2, l);
        }
        let main_h = lines.len() as u16 + 2;
        // The table as tall as its rows (+ header, borders, the selected part's details).
        let table_h = (parts.len() as u16).saturating_add(5);
        let guard_lines = self.guard_lines(theme);
        let guard_h = if guard_lines.is_empty() {
            0
        } else {
            wrapped_height(&guard_lines, area.width.saturating_sub(2)) + 2
        };
        let [main, guard, table, _, foot] = Layout::vertical([
            Constraint::Length(main_h),
            Constraint::Length(guard_h),
            Constraint::Length(table_h),
            Constraint::Min(0),
            Constraint::Length(3),
        ])
        .areas(area);
        if !guard_lines.is_empty() {
            frame.render_widget(
                Paragraph::new(guard_lines)
                    .wrap(Wrap { trim: true })
                    .block(ui::block(theme, "Check before sending")),
                guard,
            );
        }
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

/// Rows `lines` take when word-wrapped at `width` columns (greedy, as the paragraph wraps;
/// a word longer than a row is broken).
fn wrapped_height(lines: &[Line<'_>], width: u16) -> u16 {
    let w = usize::from(width.max(1));
    let mut rows = 0usize;
    for l in lines {
        let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
        let mut n = 1usize;
        let mut at = 0usize;
        for word in text.split(' ').filter(|x| !x.is_empty()) {
            let len = unicode_width::UnicodeWidthStr::width(word);
            let need = if at == 0 { len } else { at + 1 + len };
            if need <= w {
                at = need;
            } else if len <= w {
                n += 1;
                at = len;
            } else {
                // broken over rows
                if at > 0 {
                    n += 1;
                }
                n += (len - 1) / w;
                at = (len - 1) % w + 1;
            }
        }
        rows += n;
    }
    rows.min(usize::from(u16::MAX)) as u16
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

/// Step 5: confirm sending the validated file (or its parts) to the chosen tracker.
#[derive(Debug, Clone)]
pub struct ConfirmStep {
    /// Answer of step 1.
    pub tracker: Chosen,
    /// Answers of steps 2 and 4 (with the parts when split).
    pub file: FileChoice,
    /// Answer of step 3.
    pub report: Arc<Report>,
    /// Duplicates, guards, clock.
    pub view: ConfirmView,
}

impl ConfirmStep {
    /// Enter Confirm: earlier uploads of the same bytes are looked up in the history, the
    /// guards read from the report(s), and the endpoint's clock is read in the background.
    pub fn enter(
        tracker: Chosen,
        file: FileChoice,
        report: Arc<Report>,
        cx: &mut Cx,
    ) -> (Self, Vec<Effect>) {
        let id = &tracker.tracker.tracker_id;
        let (duplicate, part_duplicates) = if file.parts.is_empty() {
            (cx.find_duplicate(id, &report.file.sha256), Vec::new())
        } else {
            let dups = file
                .parts
                .iter()
                .map(|p| cx.find_duplicate(id, &p.report.file.sha256))
                .collect();
            (None, dups)
        };
        let key_problem = match &tracker.tracker.key {
            crate::config::KeySource::Env(var) if std::env::var_os(var).is_none() => Some(format!(
                "environment variable {var} is not set — the upload will fail"
            )),
            crate::config::KeySource::Stored(k) if k.is_empty() => {
                Some("the stored private key is empty".to_string())
            }
            _ => None,
        };
        let (guard, guard_unsent) = if file.parts.is_empty() {
            (Guard::of(&[&report]), None)
        } else {
            let all: Vec<&Report> = file.parts.iter().map(|p| &*p.report).collect();
            let unsent: Vec<&Report> = file
                .parts
                .iter()
                .zip(&part_duplicates)
                .filter(|(_, d)| d.is_none())
                .map(|(p, _)| &*p.report)
                .collect();
            (Guard::of(&all), Some(Guard::of(&unsent)))
        };
        let run = cx.run();
        let fx = vec![Effect::MeasureClockSkew {
            run,
            base_url: tracker.tracker.base_url.clone(),
        }];
        let view = ConfirmView {
            duplicate,
            override_duplicate: false,
            message: None,
            key_problem,
            skew: None,
            skew_run: run,
            part_duplicates,
            part_sel: 0,
            guard,
            guard_unsent,
            override_guard: false,
        };
        let step = ConfirmStep {
            tracker,
            file,
            report,
            view,
        };
        (step, fx)
    }
}

impl StepScreen for ConfirmStep {
    fn keys(&self, _cx: &DrawCx) -> Vec<KeyHint> {
        self.view.keys()
    }

    fn update(&mut self, key: &KeyEvent, _cx: &mut Cx) -> Transition {
        match self.view.on_key(key) {
            Action::None => Transition::none(),
            Action::Back => Transition::to(Nav::Back, Vec::new()),
            Action::Upload => {
                let already = if self.view.override_duplicate {
                    Vec::new()
                } else {
                    self.view.part_duplicates.clone()
                };
                let next = Next::Upload {
                    tracker: self.tracker.clone(),
                    file: self.file.clone(),
                    report: self.report.clone(),
                    allow_duplicate: self.view.override_duplicate,
                    already,
                };
                Transition::to(Nav::Push(next), Vec::new())
            }
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &DrawCx) {
        self.view.draw(
            frame,
            area,
            cx.theme,
            &self.tracker,
            &self.file,
            &self.report,
        );
    }

    fn work_at_risk(&self) -> Option<String> {
        Some("the validated file has not been uploaded".to_string())
    }
}
