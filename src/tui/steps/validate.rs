//! Step 3, Validate: live progress, counters, issues with examples, sample orders, verdict.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Gauge, Paragraph, Row, Table, TableState, Tabs, Wrap};

use super::parts::SplitState;
use super::step_selection;
use crate::tui::flow::{
    Chosen, Cx, DrawCx, Effect, FileChoice, Nav, Next, StepScreen, TaskError, Transition,
};
use crate::tui::keys::{self, Binding, alias, bind, ch, code, find, hints};
use crate::tui::services;
use crate::tui::theme::Theme;
use crate::tui::ui::{self, KeyHint, hint};
use crate::validate::{Code, Progress, Report, Severity, Snapshot, Verdict};

/// Which panel the right side shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    /// The issues table.
    #[default]
    Issues,
    /// Sampled multi-item orders.
    Samples,
    /// The parts of a file split for upload.
    Parts,
}

/// State of the validate step.
#[derive(Debug, Clone)]
pub struct ValidateView {
    /// Run id (results of older runs are ignored).
    pub run: u64,
    /// The file validated.
    pub path: PathBuf,
    /// Shared with the validation thread.
    pub progress: Arc<Progress>,
    /// Latest snapshot.
    pub snap: Snapshot,
    /// When the run started (None in demos).
    pub started: Option<Instant>,
    /// Time since start.
    pub elapsed: Duration,
    /// The report, or why there is none.
    pub result: Option<Result<Arc<Report>, String>>,
    /// Right panel.
    pub tab: Tab,
    /// Selected issue.
    pub issue_sel: usize,
    /// Examples popup open.
    pub drill: bool,
    /// Sample order shown.
    pub sample: usize,
    /// First row shown of the sampled order (↑↓ scroll a long order).
    pub sample_scroll: usize,
    /// Where the report was saved, or why not.
    pub saved: Option<Result<PathBuf, String>>,
    /// A notice.
    pub message: Option<String>,
    /// Whether `m` (columns) is available.
    pub can_map: bool,
    /// What the file looks like (CSV delimiter, header, roles), when detected.
    pub detection: Option<Box<crate::mapping::detect::Detection>>,
    /// The largest file sent in one upload; a larger file is split into parts.
    pub part_limit: u64,
    /// The split of a file over `part_limit`, once started.
    pub split: Option<SplitState>,
    /// Checks against the tracker (catalog, already sent) that could not be made, and why.
    pub checks_skipped: Vec<String>,
}

/// What the validate step's keys do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    DrillSelect,
    DrillClose,
    Split,
    Continue,
    Back,
    CancelSplit,
    NextTab,
    IssueSelect,
    Examples,
    SamplePage,
    SampleScroll,
    PartSelect,
    Save,
    Columns,
}

/// What the validate step asks the app to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond the state change.
    None,
    /// Back to the file step (cancels a running validation).
    Back,
    /// Go on to Confirm.
    Continue,
    /// Open the Columns step.
    Columns,
    /// Save the report.
    SaveReport,
    /// Split the file into parts at order boundaries.
    Split,
    /// Stop the running split.
    CancelSplit,
}

/// An issue row: from the report when done, from the snapshot while running.
struct IssueRow {
    code: Code,
    severity: Severity,
    count: u64,
    message: String,
}

impl ValidateView {
    /// A fresh run on `path`.
    pub fn new(run: u64, path: PathBuf, progress: Arc<Progress>, started: Option<Instant>) -> Self {
        ValidateView {
            run,
            path,
            progress,
            snap: Snapshot::default(),
            started,
            elapsed: Duration::ZERO,
            result: None,
            tab: Tab::Issues,
            issue_sel: 0,
            drill: false,
            sample: 0,
            sample_scroll: 0,
            saved: None,
            message: None,
            can_map: false,
            detection: None,
            part_limit: crate::mapping::split::DEFAULT_PART_BYTES,
            split: None,
            checks_skipped: Vec::new(),
        }
    }

    /// Whether the validated file is over the part limit (it must be split to be sent).
    pub fn over_limit(&self) -> bool {
        self.report()
            .is_some_and(|r| r.file.bytes > self.part_limit)
    }

    /// Whether a split (or the validation of its parts) is running.
    pub fn splitting(&self) -> bool {
        self.split.as_ref().is_some_and(SplitState::running)
    }

    /// The validated parts, when the file was split and no part has errors.
    pub fn ready_parts(&self) -> Option<Vec<crate::tui::flow::Part>> {
        let parts = self.split.as_ref()?.parts()?;
        (!parts.iter().any(|p| p.report.has_errors())).then_some(parts)
    }

    /// Whether the run is still going.
    pub fn running(&self) -> bool {
        self.result.is_none()
    }

    /// The report, once done.
    pub fn report(&self) -> Option<&Arc<Report>> {
        self.result.as_ref().and_then(|r| r.as_ref().ok())
    }

    /// Poll the progress (called on every tick).
    pub fn tick(&mut self, now: Instant) {
        if self.running() {
            self.snap = self.progress.snapshot();
            if let Some(s) = self.started {
                self.elapsed = now.saturating_duration_since(s);
            }
        }
        if let Some(sp) = &mut self.split {
            sp.tick(now);
        }
    }

    fn issues(&self) -> Vec<IssueRow> {
        if let Some(r) = self.report() {
            return r
                .issues
                .iter()
                .map(|i| IssueRow {
                    code: i.code,
                    severity: i.severity,
                    count: i.count,
                    message: i.message.clone(),
                })
                .collect();
        }
        let mut v: Vec<IssueRow> = self
            .snap
            .issues
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(c, n)| IssueRow {
                code: *c,
                severity: c.severity(),
                count: *n,
                message: String::new(),
            })
            .collect();
        v.sort_by_key(|r| r.severity);
        v
    }

    /// The step's keys for its state: the hint bar shows them, [`ValidateView::on_key`]
    /// dispatches them. Keys that only explain why they cannot act yet (`c` while running,
    /// `s` on a file that fits) work unhinted.
    fn bindings(&self) -> Vec<Binding<Key>> {
        if self.drill {
            return vec![
                bind(
                    &keys::SELECT,
                    hint(
                        "↑↓",
                        "issue",
                        "Show the examples of the previous/next issue",
                    ),
                    Key::DrillSelect,
                ),
                bind(
                    &[code(KeyCode::Esc), code(KeyCode::Enter)],
                    hint("Esc/Enter", "close", "Close the examples"),
                    Key::DrillClose,
                ),
            ];
        }
        let mut v = Vec::new();
        // `s` is shown only when it splits, `c` only when it goes on (a file with errors,
        // still validating or over the limit keeps Confirm closed, and the bar says so instead
        // of offering a dead key)
        if self.over_limit()
            && !self.splitting()
            && self.split.as_ref().is_none_or(|s| s.error.is_some())
        {
            v.push(bind(
                &[ch('s')],
                hint(
                    "s",
                    "split",
                    "Split the file at order boundaries into parts that each fit one upload",
                ),
                Key::Split,
            ));
        } else {
            v.push(alias(&[ch('s')], Key::Split));
        }
        if self.can_continue() {
            v.push(bind(
                &[ch('c')],
                hint("c", "continue", "Go on to Confirm"),
                Key::Continue,
            ));
        } else {
            v.push(alias(&[ch('c')], Key::Continue));
        }
        v.push(if self.splitting() {
            bind(
                &[code(KeyCode::Esc)],
                hint(
                    "Esc",
                    "stop split",
                    "Stop splitting (the parts written are removed)",
                ),
                Key::CancelSplit,
            )
        } else {
            bind(
                &[code(KeyCode::Esc)],
                hint(
                    "Esc",
                    "back",
                    "Back to the file step (stops a running validation)",
                ),
                Key::Back,
            )
        });
        v.push(bind(
            &[code(KeyCode::Tab)],
            hint(
                "Tab",
                match self.next_tab() {
                    Tab::Issues => "issues",
                    Tab::Samples => "samples",
                    Tab::Parts => "parts",
                },
                if self.split.is_some() {
                    "Switch between the issues, the sample orders and the parts"
                } else {
                    "Switch between the issues and the sample orders"
                },
            ),
            Key::NextTab,
        ));
        v.push(alias(&[code(KeyCode::BackTab)], Key::NextTab));
        match self.tab {
            Tab::Issues => {
                if self.report().is_some_and(|r| !r.issues.is_empty()) {
                    v.push(bind(
                        &keys::SELECT,
                        hint("↑↓", "select", "Select an issue"),
                        Key::IssueSelect,
                    ));
                    v.push(bind(
                        &[code(KeyCode::Enter)],
                        hint(
                            "Enter",
                            "examples",
                            "Show where the issue occurs (line, byte, text)",
                        ),
                        Key::Examples,
                    ));
                } else {
                    v.push(alias(&keys::SELECT, Key::IssueSelect));
                    v.push(alias(&[code(KeyCode::Enter)], Key::Examples));
                }
            }
            Tab::Samples => {
                v.push(bind(
                    &[code(KeyCode::Left), code(KeyCode::Right)],
                    hint("←→", "page", "Previous / next sampled order"),
                    Key::SamplePage,
                ));
                let long = self
                    .report()
                    .and_then(|r| r.samples.get(self.sample))
                    .is_some_and(|s| s.rows.len() > 8);
                if long {
                    v.push(bind(
                        &keys::UP_DOWN,
                        hint("↑↓", "scroll", "Scroll a long order"),
                        Key::SampleScroll,
                    ));
                } else {
                    v.push(alias(&keys::UP_DOWN, Key::SampleScroll));
                }
            }
            Tab::Parts => {
                let parts = self
                    .split
                    .as_ref()
                    .and_then(|s| s.paths.as_ref())
                    .map_or(0, Vec::len);
                let keys = [
                    code(KeyCode::Up),
                    code(KeyCode::Down),
                    code(KeyCode::Home),
                    code(KeyCode::End),
                ];
                if parts > 1 {
                    v.push(bind(
                        &keys,
                        hint("↑↓", "select", "Select a part"),
                        Key::PartSelect,
                    ));
                } else {
                    v.push(alias(&keys, Key::PartSelect));
                }
            }
        }
        v.push(bind(
            &[ch('r')],
            hint(
                "r",
                "save report",
                "Save the report as JSON and text in the data directory",
            ),
            Key::Save,
        ));
        if self.can_map {
            // the catalog's diagnoses and the orders already sent are fixed in Columns
            let fixes = self.report().is_some_and(|r| {
                r.catalog
                    .as_ref()
                    .is_some_and(|c| c.skipped.is_none() && !c.diagnoses.is_empty())
                    || r.already_sent
                        .as_ref()
                        .is_some_and(|a| a.skipped.is_none() && a.orders > 0)
            });
            v.push(bind(
                &[ch('m')],
                if fixes {
                    hint(
                        "m",
                        "fix in columns",
                        "Open the Columns step: one-key fixes for the identities the catalog \
                         does not know and the orders already sent",
                    )
                } else {
                    hint(
                        "m",
                        "columns",
                        "Map the columns of a CSV that doesn't fit the layout",
                    )
                },
                Key::Columns,
            ));
        } else {
            v.push(alias(&[ch('m')], Key::Columns));
        }
        v
    }

    /// The hints of the step's bindings.
    pub fn keys(&self) -> Vec<KeyHint> {
        hints(&self.bindings())
    }

    /// Handle a key.
    pub fn on_key(&mut self, key: &KeyEvent) -> Action {
        let n_issues = self.issues().len();
        let Some(k) = find(&self.bindings(), key) else {
            return Action::None;
        };
        match k {
            Key::DrillClose => self.drill = false,
            Key::DrillSelect | Key::IssueSelect => {
                step_selection(&mut self.issue_sel, n_issues, key);
            }
            Key::CancelSplit => {
                self.message = Some("split stopped".to_string());
                return Action::CancelSplit;
            }
            Key::Back => return Action::Back,
            Key::NextTab => self.tab = self.next_tab(),
            Key::PartSelect => {
                if let Some(sp) = &mut self.split {
                    let n = sp.paths.as_ref().map_or(0, Vec::len);
                    step_selection(&mut sp.sel, n, key);
                }
            }
            Key::Split => {
                if !self.over_limit() {
                    self.message = Some(format!(
                        "the file fits one upload (≤ {}) — no need to split it",
                        crate::units::part_limit(self.part_limit)
                    ));
                } else if self.splitting() {
                    self.message = Some("already splitting — Esc stops it".to_string());
                } else if self.split.as_ref().is_some_and(|s| s.error.is_none()) {
                    self.message =
                        Some("the file is already split — see the Parts tab".to_string());
                } else {
                    return Action::Split;
                }
            }
            Key::Examples => {
                if self.report().is_some() && n_issues > 0 {
                    self.drill = true;
                } else if self.running() {
                    self.message = Some("examples are shown when the run is done".to_string());
                } else if self.report().is_some() {
                    return self.try_continue();
                }
            }
            Key::SamplePage if key.code == KeyCode::Left => {
                self.sample = self.sample.saturating_sub(1);
                self.sample_scroll = 0;
            }
            Key::SamplePage => {
                let n = self.report().map_or(0, |r| r.samples.len());
                self.sample = (self.sample + 1).min(n.saturating_sub(1));
                self.sample_scroll = 0;
            }
            Key::SampleScroll if key.code == KeyCode::Up => {
                self.sample_scroll = self.sample_scroll.saturating_sub(1);
            }
            Key::SampleScroll => {
                let rows = self
                    .report()
                    .and_then(|r| r.samples.get(self.sample))
                    .map_or(0, |s| s.rows.len());
                self.sample_scroll = (self.sample_scroll + 1).min(rows.saturating_sub(1));
            }
            Key::Continue => return self.try_continue(),
            Key::Save => {
                if self.report().is_some() {
                    return Action::SaveReport;
                }
                self.message = Some("the report can be saved when the run is done".to_string());
            }
            Key::Columns => {
                if self.can_map {
                    return Action::Columns;
                }
                self.message = Some("column mapping applies to CSV files".to_string());
            }
        }
        Action::None
    }

    fn next_tab(&self) -> Tab {
        match self.tab {
            Tab::Issues => Tab::Samples,
            Tab::Samples if self.split.is_some() => Tab::Parts,
            Tab::Samples | Tab::Parts => Tab::Issues,
        }
    }

    /// Whether `c` goes on to Confirm now.
    pub fn can_continue(&self) -> bool {
        if self.over_limit() {
            return self.split.as_ref().is_some_and(|s| {
                !s.running() && s.error.is_none() && s.parts_with_errors().is_empty()
            });
        }
        matches!(&self.result, Some(Ok(r)) if !r.has_errors())
    }

    fn try_continue(&mut self) -> Action {
        if self.over_limit() {
            let limit = crate::units::part_limit(self.part_limit);
            self.message = Some(match &self.split {
                None => format!(
                    "the file is over the {limit} limit of one upload — press s to split it into parts"
                ),
                Some(s) if s.running() => {
                    "still splitting and validating the parts — wait for the verdict".to_string()
                }
                Some(s) if s.error.is_some() => format!(
                    "the split stopped ({}) — press s to split again",
                    s.error.clone().unwrap_or_default()
                ),
                Some(s) if !s.parts_with_errors().is_empty() => format!(
                    "part {} has errors — the service would reject it; fix the file first",
                    super::parts::join_numbers(&s.parts_with_errors())
                ),
                Some(_) => return Action::Continue,
            });
            return Action::None;
        }
        match &self.result {
            None => {
                self.message = Some("still validating — wait for the verdict".to_string());
                Action::None
            }
            Some(Err(e)) => {
                self.message = Some(format!("no report: {e}"));
                Action::None
            }
            Some(Ok(r)) if r.has_errors() => {
                self.message = Some(format!(
                    "{} — fix the file{} before uploading",
                    services::verdict_words(r),
                    if self.can_map {
                        " or map its columns (m)"
                    } else {
                        ""
                    }
                ));
                Action::None
            }
            Some(Ok(_)) => Action::Continue,
        }
    }

    /// Draw the step.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let [gauge_area, mid, banner] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Min(8),
            Constraint::Length(4),
        ])
        .areas(area);
        self.draw_gauge(frame, gauge_area, theme);
        self.draw_body(frame, mid, theme);
        self.draw_banner(frame, banner, theme);
        if self.drill {
            self.draw_examples(frame, area, theme);
        }
    }

    /// The middle of the step: counters on the left, the issues / sample orders / parts tabs
    /// on the right (also the body of the saved-report viewer).
    pub fn draw_body(&self, frame: &mut Frame, mid: Rect, theme: &Theme) {
        let [counters, right] =
            Layout::horizontal([Constraint::Length(32), Constraint::Min(20)]).areas(mid);
        self.draw_counters(frame, counters, theme);
        let [tabs_area, panel] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(right);
        let n_issues = self.issues().len();
        let n_samples = self.report().map_or(0, |r| r.samples.len());
        let mut titles = vec![
            format!("Issues ({n_issues})"),
            format!("Sample orders ({n_samples})"),
        ];
        if let Some(sp) = &self.split {
            titles.push(format!(
                "Parts ({})",
                sp.paths
                    .as_ref()
                    .map_or("…".to_string(), |p| p.len().to_string())
            ));
        }
        let tabs = Tabs::new(titles)
            .select(match self.tab {
                Tab::Issues => 0,
                Tab::Samples => 1,
                Tab::Parts => 2,
            })
            .style(theme.muted)
            .highlight_style(
                theme
                    .accent
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            )
            .divider(" │ ");
        frame.render_widget(tabs, tabs_area);
        match self.tab {
            Tab::Issues => self.draw_issues(frame, panel, theme),
            Tab::Samples => self.draw_samples(frame, panel, theme),
            Tab::Parts => match &self.split {
                Some(sp) => sp.draw_table(frame, panel, theme),
                None => self.draw_issues(frame, panel, theme),
            },
        }
    }

    fn draw_gauge(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        if let Some(sp) = &self.split {
            let name = self
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (title, ratio, label) = sp.gauge(&name);
            frame.render_widget(
                Gauge::default()
                    .ratio(ratio)
                    .label(Span::styled(label, theme.text.add_modifier(Modifier::BOLD)))
                    .gauge_style(theme.gauge)
                    .style(theme.gauge_bg)
                    .block(ui::block(theme, title)),
                area,
            );
            return;
        }
        let s = &self.snap;
        let (total, read) = match self.report() {
            Some(r) => (r.file.bytes, r.file.bytes),
            None => (
                s.total_bytes,
                s.bytes_read.min(s.total_bytes.max(s.bytes_read)),
            ),
        };
        let failed = matches!(self.result, Some(Err(_)));
        let ratio = if total == 0 || failed {
            if self.running() || failed { 0.0 } else { 1.0 }
        } else {
            (read as f64 / total as f64).clamp(0.0, 1.0)
        };
        let secs = self.elapsed.as_secs_f64();
        let rows = self.report().map_or(s.rows, |r| r.stats.rows);
        let rps = if secs > 0.0 { rows as f64 / secs } else { 0.0 };
        let bps = if secs > 0.0 { read as f64 / secs } else { 0.0 };
        let eta = if self.running() && bps > 0.0 && total > read {
            format!(
                "ETA {}",
                ui::clock(Duration::from_secs_f64((total - read) as f64 / bps))
            )
        } else if self.running() {
            "ETA –".to_string()
        } else if failed {
            "stopped".to_string()
        } else {
            format!("done in {}", ui::clock(self.elapsed))
        };
        let label = format!(
            "{:.0}%  {} of {}  {} rows/s  {}",
            ratio * 100.0,
            ui::bytes(read),
            ui::bytes(total),
            ui::count(rps as u64),
            eta
        );
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        frame.render_widget(
            Gauge::default()
                .ratio(ratio)
                .label(Span::styled(label, theme.text.add_modifier(Modifier::BOLD)))
                .gauge_style(theme.gauge)
                .style(theme.gauge_bg)
                .block(ui::block(
                    theme,
                    format!("Validating {}", ui::sanitize(&name, 50)),
                )),
            area,
        );
    }

    fn draw_counters(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let s = &self.snap;
        let (rows, orders, multi, pairs, products, users, first, last) = match self.report() {
            Some(r) => {
                let st = &r.stats;
                (
                    st.rows,
                    st.orders,
                    st.multi_item_orders,
                    st.pairs,
                    st.products,
                    st.users,
                    st.first_purchase.clone(),
                    st.last_purchase.clone(),
                )
            }
            None => (
                s.rows,
                s.orders,
                s.multi_item_orders,
                s.pairs,
                s.products,
                s.users,
                s.first_purchase.clone(),
                s.last_purchase.clone(),
            ),
        };
        let kv = |k: &str, v: String| {
            Line::from(vec![
                Span::styled(format!("{k:<13}"), theme.muted),
                Span::styled(v, theme.text),
            ])
        };
        let short = |t: Option<String>| {
            t.map(|t| t.chars().take(16).collect::<String>())
                .unwrap_or_else(|| "–".to_string())
        };
        // while the file streams, distinct counts are estimates (exact in the report)
        let about = |n: u64| {
            if self.report().is_some() {
                ui::count(n)
            } else {
                format!("≈ {}", ui::count(n))
            }
        };
        let mut lines = vec![
            kv("rows", ui::count(rows)),
            kv("orders", about(orders)),
            kv("multi-item", about(multi)),
            kv("pairs", about(pairs)),
            kv("products", about(products)),
            kv("users", about(users)),
            kv("first", short(first)),
            kv("last", short(last)),
        ];
        if let Some(r) = self.report() {
            lines.extend(check_counters(r, theme));
        }
        if !self.checks_skipped.is_empty() {
            lines.push(Line::from(vec![
                Span::styled(format!("{:<13}", "checks"), theme.muted),
                Span::styled("skipped (below)", theme.warning),
            ]));
        }
        frame.render_widget(
            Paragraph::new(lines).block(ui::block(theme, "Counters")),
            area,
        );
    }

    fn draw_issues(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let issues = self.issues();
        if issues.is_empty() {
            let text = if self.running() {
                "no issues so far"
            } else {
                "no issues"
            };
            frame.render_widget(
                Paragraph::new(Line::styled(text, theme.ok)).block(ui::block(theme, "Issues")),
                area,
            );
            return;
        }
        // Narrow (an 80-column terminal): the message goes on a second line of each row, full width,
        // instead of being cut to a few letters.
        // (the wide layout leaves the message `width - 40` columns: under 30 it is too narrow)
        let narrow = area.width < 70;
        let msg_width = if narrow {
            // borders 2, the selection mark 2, the severity 5 and a space: the rest, less one for
            // the `…` of a cut message
            area.width.saturating_sub(11) as usize
        } else {
            200
        };
        let rows: Vec<Row> = issues
            .iter()
            .map(|i| {
                let (sym, st) = severity_style(theme, i.severity);
                let message = ui::sanitize(&i.message, msg_width);
                if narrow {
                    Row::new(vec![
                        Cell::from(Span::styled(sym, st)),
                        Cell::from(vec![
                            Line::from(vec![
                                Span::styled(i.code.as_str(), st),
                                Span::styled(format!("  ×{}", ui::count(i.count)), theme.text),
                            ]),
                            Line::styled(message, theme.muted),
                        ]),
                    ])
                    .height(2)
                } else {
                    Row::new(vec![
                        Cell::from(Span::styled(sym, st)),
                        Cell::from(Span::styled(i.code.as_str(), st)),
                        Cell::from(Span::styled(ui::count(i.count), theme.text)),
                        Cell::from(Span::styled(message, theme.muted)),
                    ])
                }
            })
            .collect();
        let table = if narrow {
            Table::new(rows, [Constraint::Length(5), Constraint::Fill(1)])
                .header(Row::new(["sev", "code ×count / message"]).style(theme.muted))
        } else {
            Table::new(
                rows,
                [
                    Constraint::Length(5),
                    Constraint::Length(23),
                    Constraint::Length(9),
                    Constraint::Fill(1),
                ],
            )
            .header(Row::new(["sev", "code", "count", "message"]).style(theme.muted))
        }
        .row_highlight_style(ui::selected(theme))
        .highlight_symbol(ui::SELECT_SYMBOL)
        .block(ui::block(theme, "Issues"));
        let mut st =
            TableState::default().with_selected(Some(self.issue_sel.min(issues.len() - 1)));
        frame.render_stateful_widget(table, area, &mut st);
    }

    fn draw_samples(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let Some(r) = self.report() else {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "sample orders are shown when the run is done",
                    theme.muted,
                ))
                .block(ui::block(theme, "Sample orders")),
                area,
            );
            return;
        };
        let Some(s) = r
            .samples
            .get(self.sample.min(r.samples.len().saturating_sub(1)))
        else {
            frame.render_widget(
                Paragraph::new(Line::styled("no multi-item orders to sample", theme.muted))
                    .block(ui::block(theme, "Sample orders")),
                area,
            );
            return;
        };
        let title = format!(
            "Order {} — {} rows — {}/{}  ←→",
            ui::sanitize(&s.order_id, 30),
            s.rows.len(),
            self.sample.min(r.samples.len() - 1) + 1,
            r.samples.len()
        );
        // rows that fit under the borders and the header; an order that fits never scrolls
        let visible = area.height.saturating_sub(3) as usize;
        let skip = self
            .sample_scroll
            .min(s.rows.len().saturating_sub(visible.max(1)));
        let title = if s.rows.len() > visible {
            format!("{title}  ↑↓ rows {}–", skip + 1)
        } else {
            title
        };
        let rows: Vec<Row> = s
            .rows
            .iter()
            .skip(skip)
            .map(|row| {
                Row::new(vec![
                    Cell::from(row.line.to_string()),
                    Cell::from(ui::sanitize(&row.identity, 80)),
                    Cell::from(ui::sanitize(row.user_id.as_deref().unwrap_or("–"), 30)),
                    Cell::from(row.created_at.clone().unwrap_or_else(|| "–".to_string())),
                ])
                .style(theme.text)
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Length(8),
                Constraint::Fill(2),
                Constraint::Fill(1),
                Constraint::Length(19),
            ],
        )
        .header(Row::new(["line", "identity", "user", "created_at"]).style(theme.muted))
        .block(ui::block(theme, title));
        frame.render_widget(table, area);
    }

    fn draw_banner(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let mut lines = Vec::new();
        match &self.result {
            Some(Ok(r)) if self.over_limit() => match &self.split {
                None => {
                    lines.push(Line::styled(
                        format!(
                            "✘ {} — OVER THE {} LIMIT OF ONE UPLOAD",
                            ui::bytes(r.file.bytes),
                            crate::units::part_limit(self.part_limit)
                        ),
                        theme.error.add_modifier(Modifier::BOLD),
                    ));
                    lines.push(Line::from(vec![
                        Span::styled("press ", theme.text),
                        Span::styled("s", theme.accent.add_modifier(Modifier::BOLD)),
                        Span::styled(
                            " to split it at order boundaries into parts; your file is not changed",
                            theme.text,
                        ),
                    ]));
                }
                Some(sp) => {
                    let (text, st) = sp.verdict(theme);
                    let next = if self.ready_parts().is_some() {
                        "   — press c to continue"
                    } else {
                        ""
                    };
                    lines.push(Line::from(vec![
                        Span::styled(text, st.add_modifier(Modifier::BOLD)),
                        Span::styled(next, theme.muted),
                    ]));
                    if let Some(dir) = sp
                        .paths
                        .as_ref()
                        .and_then(|p| p.first())
                        .and_then(|p| p.parent())
                    {
                        lines.push(Line::styled(
                            format!(
                                "parts in {} · counters: the whole file",
                                ui::short_path(&dir.display().to_string(), 56)
                            ),
                            theme.muted,
                        ));
                    }
                }
            },
            None => lines.push(Line::styled(
                "validating… the verdict follows when the whole file is read",
                theme.muted,
            )),
            Some(Err(e)) => lines.push(Line::styled(
                format!("cannot validate: {}", ui::sanitize(e, 200)),
                theme.error,
            )),
            Some(Ok(r)) => {
                let st = match r.verdict {
                    Verdict::Ok => theme.ok,
                    Verdict::Warnings => theme.warning,
                    Verdict::Errors => theme.error,
                };
                let sym = match r.verdict {
                    Verdict::Ok => "✔ ",
                    Verdict::Warnings => "! ",
                    Verdict::Errors => "✘ ",
                };
                let next = if r.has_errors() {
                    ""
                } else {
                    "   — press c to continue"
                };
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{sym}{}", services::verdict_words(r)).to_uppercase(),
                        st.add_modifier(Modifier::BOLD),
                    ),
                    Span::styled(next, theme.muted),
                ]));
            }
        }
        match &self.saved {
            Some(Ok(p)) => lines.push(Line::styled(
                format!(
                    "report saved: {}",
                    ui::short_path(&p.display().to_string(), 120)
                ),
                theme.ok,
            )),
            Some(Err(e)) => lines.push(Line::styled(ui::sanitize(e, 200), theme.error)),
            None => {}
        }
        // the answer to the last key goes right under the verdict, where it is always seen
        if let Some(m) = self.message.as_ref().or(self.checks_skipped.first()) {
            lines.insert(
                1.min(lines.len()),
                Line::styled(ui::sanitize(m, 200), theme.warning),
            );
        }
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: true })
                .block(ui::block(theme, "Verdict")),
            area,
        );
    }

    /// The examples popup of the selected issue, over `area`.
    pub fn draw_examples(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let Some(r) = self.report() else { return };
        let Some(issue) = r.issues.get(self.issue_sel) else {
            return;
        };
        let (_, st) = severity_style(theme, issue.severity);
        let mut lines = vec![
            Line::styled(
                format!("{} × {}", issue.code, ui::count(issue.count)),
                st.add_modifier(Modifier::BOLD),
            ),
            Line::styled(ui::sanitize(&issue.message, 400), theme.text),
            Line::raw(""),
        ];
        // the comparison with the tracker first: it says why, the examples only where
        let details = check_details(r, issue.code, theme);
        let has_details = !details.is_empty();
        lines.extend(details);
        if has_details {
            lines.push(Line::raw(""));
        }
        if issue.examples.is_empty() {
            lines.push(Line::styled(
                "no examples (the issue is about the whole file)",
                theme.muted,
            ));
        }
        for e in &issue.examples {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("line {:<8} byte {:<10} ", e.line, e.byte),
                    theme.muted,
                ),
                Span::styled(ui::sanitize(&e.text, 200), theme.text),
            ]));
        }
        let w = area.width.saturating_sub(6);
        ui::popup(frame, area, theme, "Examples", lines, w);
    }
}

/// The "catalog", "unknown" and "sent before" counters of a report compared with a tracker.
fn check_counters(r: &Report, theme: &Theme) -> Vec<Line<'static>> {
    let kv = |k: &str, v: String, st: ratatui::style::Style| {
        Line::from(vec![
            Span::styled(format!("{k:<13}"), theme.muted),
            Span::styled(v, st),
        ])
    };
    let mut v = Vec::new();
    if let Some(c) = &r.catalog {
        match &c.skipped {
            Some(_) => v.push(kv("catalog", "not checked".into(), theme.warning)),
            None => {
                let st = if c.row_match_rate < super::confirm::LOW_MATCH {
                    theme.error
                } else if c.rows_matched < c.rows {
                    theme.warning
                } else {
                    theme.ok
                };
                v.push(kv(
                    "catalog",
                    format!("{:.1} % of rows", c.row_match_rate * 100.0),
                    st,
                ));
                let unknown = c.identities.saturating_sub(c.identities_matched);
                v.push(kv(
                    "unknown",
                    format!(
                        "{} product{}",
                        ui::count(unknown),
                        if unknown == 1 { "" } else { "s" }
                    ),
                    if unknown > 0 {
                        theme.warning
                    } else {
                        theme.text
                    },
                ));
            }
        }
    }
    if let Some(a) = &r.already_sent {
        let (t, st) = if a.skipped.is_some() {
            ("skipped".to_string(), theme.warning)
        } else if a.orders == 0 {
            ("none".to_string(), theme.ok)
        } else {
            (format!("{} orders", ui::count(a.orders)), theme.error)
        };
        v.push(kv("sent before", t, st));
    }
    v
}

/// What the examples popup adds for the checks against the tracker: the most frequent
/// unknown identities and why they are unknown (with the `normalize` flag that fixes it), or
/// the earlier uploads that sent the orders.
fn check_details(r: &Report, code: Code, theme: &Theme) -> Vec<Line<'static>> {
    let mut v = Vec::new();
    match code {
        Code::IdentityNotInCatalog => {
            let Some(c) = &r.catalog else { return v };
            v.push(Line::styled(
                format!(
                    "{:.1} % of rows ({} of {}) and {} of {} products are in the catalog ({} items)",
                    c.row_match_rate * 100.0,
                    ui::count(c.rows_matched),
                    ui::count(c.rows),
                    ui::count(c.identities_matched),
                    ui::count(c.identities),
                    ui::count(c.catalog_identities),
                ),
                theme.text,
            ));
            if c.diagnoses.is_empty() {
                v.push(Line::styled(
                    "No usual rewrite (host, slash, query, case, web_url) finds them in the catalog.",
                    theme.muted,
                ));
            } else {
                v.push(Line::styled("Why, and the fix:", theme.accent));
                for d in &c.diagnoses {
                    v.push(Line::from(vec![
                        Span::styled(
                            format!(
                                "  {} — {} of {} tried, {} rows: ",
                                ui::sanitize(&d.description, 80),
                                ui::count(d.identities),
                                ui::count(d.tried),
                                ui::count(d.rows)
                            ),
                            theme.text,
                        ),
                        Span::styled(
                            format!("lbimport normalize {}", d.flag),
                            theme.accent.add_modifier(Modifier::BOLD),
                        ),
                    ]));
                }
            }
            if !c.top_unknown.is_empty() {
                v.push(Line::styled(
                    "Most frequent unknown identities (rows):",
                    theme.accent,
                ));
                for t in c.top_unknown.iter().take(5) {
                    v.push(Line::from(vec![
                        Span::styled(format!("  {:>9}  ", ui::count(t.rows)), theme.muted),
                        Span::styled(ui::sanitize(&t.identity, 200), theme.text),
                    ]));
                }
            }
        }
        Code::OrdersAlreadySent => {
            let Some(a) = &r.already_sent else { return v };
            v.push(Line::styled(
                format!(
                    "{} of {} orders ({} rows) were already sent by:",
                    ui::count(a.orders),
                    ui::count(a.file_orders),
                    ui::count(a.rows)
                ),
                theme.text,
            ));
            for b in &a.by_upload {
                v.push(Line::styled(
                    format!(
                        "  {} orders  {}  {}",
                        ui::count(b.orders),
                        b.sent_at.map_or("–".to_string(), |t| t
                            .format("%Y-%m-%d %H:%M")
                            .to_string()),
                        ui::sanitize(b.file.as_deref().unwrap_or(&b.key), 120)
                    ),
                    theme.text,
                ));
            }
            if !a.unrecorded.is_empty() {
                v.push(Line::styled(
                    format!(
                        "{} earlier upload(s) have no record of their orders: not compared",
                        a.unrecorded.len()
                    ),
                    theme.warning,
                ));
            }
        }
        _ => {}
    }
    v
}

/// A severity's marker and style (the marker keeps it readable without colour).
pub fn severity_style(theme: &Theme, s: Severity) -> (&'static str, ratatui::style::Style) {
    match s {
        Severity::Error => ("✘ err", theme.error),
        Severity::Warning => ("! wrn", theme.warning),
        Severity::Info => ("i inf", theme.muted),
    }
}

/// Step 3: a file being validated for the chosen tracker.
#[derive(Debug, Clone)]
pub struct ValidateStep {
    /// Answer of step 1.
    pub tracker: Chosen,
    /// Answers of steps 2 and 4 (the file and its converted copy).
    pub file: FileChoice,
    /// The validation's progress and report.
    pub view: ValidateView,
}

impl ValidateStep {
    /// Start validating `file` for `tracker`, with `note` shown while it runs.
    pub fn start(
        tracker: Chosen,
        file: FileChoice,
        note: Option<String>,
        cx: &mut Cx,
    ) -> (Self, Vec<Effect>) {
        let run = cx.run();
        let progress = Arc::new(Progress::new());
        let mut view = ValidateView::new(
            run,
            file.upload.clone(),
            progress.clone(),
            Some(Instant::now()),
        );
        view.part_limit = cx.part_bytes;
        view.can_map = services::mapping_available()
            && file
                .original
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("txt"));
        view.message = note;
        let fx = vec![Effect::StartValidation {
            run,
            path: file.upload.clone(),
            progress,
            detect: file.original == file.upload,
            checks: tracker.check_target(),
        }];
        (
            ValidateStep {
                tracker,
                file,
                view,
            },
            fx,
        )
    }

    /// The step for a saved report of `f` (checked unchanged) instead of a fresh validation.
    pub fn reviewed(tracker: Chosen, f: PathBuf, report: Arc<Report>, cx: &mut Cx) -> Self {
        let run = cx.run();
        let mut view = ValidateView::new(run, f.clone(), Arc::new(Progress::new()), None);
        view.part_limit = cx.part_bytes;
        view.result = Some(Ok(report));
        view.message = Some("from a saved report; the file was checked unchanged".to_string());
        ValidateStep {
            tracker,
            file: FileChoice::plain(f),
            view,
        }
    }

    /// Whether the file validated is a converted copy of the user's file.
    pub fn converted(&self) -> bool {
        self.file.original != self.file.upload
    }

    /// Split the validated file (over the part limit) into parts, then validate each part.
    fn start_split(&mut self, cx: &mut Cx) -> Vec<Effect> {
        let Some(format) = self.view.report().map(|r| r.file.format) else {
            return Vec::new();
        };
        let stem = self
            .file
            .original
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "input".to_string());
        let run = cx.run();
        let progress = Arc::new(Progress::new());
        let v = &mut self.view;
        v.split = Some(SplitState::new(
            run,
            v.part_limit,
            progress.clone(),
            Some(Instant::now()),
        ));
        v.tab = Tab::Parts;
        v.message = None;
        vec![Effect::SplitAndValidate {
            run,
            input: self.file.upload.clone(),
            format,
            limit: v.part_limit,
            stem,
            progress,
            checks: self.tracker.check_target(),
        }]
    }

    /// The validation of run `run` ended: show it; a file with errors that doesn't fit the
    /// documented layout opens Columns, a converted file over the part limit is split.
    pub fn validated(
        &mut self,
        result: Result<Arc<Report>, String>,
        detection: Option<Box<crate::mapping::detect::Detection>>,
        skipped: Vec<String>,
        cx: &mut Cx,
    ) -> Transition {
        let v = &mut self.view;
        v.snap = v.progress.snapshot();
        if let Some(s) = v.started {
            v.elapsed = s.elapsed();
        }
        // A file that validates in the documented layout is never remapped: the Columns step
        // opens on its own only when the file has errors as it is.
        let has_errors = result.as_ref().is_ok_and(|r| r.has_errors());
        let route = has_errors && detection.as_ref().is_some_and(|d| !d.fits);
        if let Some(d) = &detection {
            v.can_map = true;
            if !d.fits && has_errors {
                v.message = Some(
                    "this file doesn't fit the documented layout — m maps its columns".to_string(),
                );
            }
        }
        v.detection = detection;
        v.checks_skipped = skipped;
        v.result = Some(result);
        if route {
            return Transition::to(Nav::Push(Next::Columns { auto: true }), Vec::new());
        }
        if v.over_limit() && self.converted() {
            // A converted file over the limit: split it right away.
            return Transition::stay(self.start_split(cx));
        }
        Transition::none()
    }

    /// The split of run `run` wrote its parts, or failed.
    pub fn split_done(&mut self, run: u64, result: Result<Vec<PathBuf>, String>) {
        if let Some(sp) = self.view.split.as_mut()
            && sp.run == run
            && sp.error.is_none()
        {
            match result {
                Ok(paths) => sp.split_done(paths),
                Err(e) => sp.error = Some(e),
            }
            sp.snap = sp.progress.snapshot();
        }
    }

    /// Part `index` of the split of run `run` was validated.
    pub fn part_validated(
        &mut self,
        run: u64,
        index: usize,
        result: Result<Arc<Report>, TaskError>,
    ) {
        if let Some(sp) = self.view.split.as_mut()
            && sp.run == run
            && sp.error.is_none()
            && let Some(slot) = sp.reports.get_mut(index)
        {
            let result = match result {
                Ok(r) => Ok(r),
                Err(TaskError::Cancelled) => {
                    sp.error = Some("stopped by you".to_string());
                    Err("cancelled".to_string())
                }
                Err(TaskError::Failed(e)) => Err(e),
            };
            *slot = Some(result);
            if !sp.running()
                && let Some(s) = sp.started
            {
                sp.elapsed = s.elapsed();
            }
        }
    }
}

impl StepScreen for ValidateStep {
    fn keys(&self, _cx: &DrawCx) -> Vec<KeyHint> {
        self.view.keys()
    }

    fn update(&mut self, key: &KeyEvent, cx: &mut Cx) -> Transition {
        let v = &mut self.view;
        match v.on_key(key) {
            Action::None => Transition::none(),
            Action::Back => Transition::to(Nav::Back, self.stop()),
            Action::SaveReport => match v.report() {
                Some(r) => Transition::stay(vec![Effect::SaveReport(r.clone())]),
                None => Transition::none(),
            },
            Action::Columns => Transition::to(Nav::Push(Next::Columns { auto: false }), Vec::new()),
            Action::Continue => {
                let parts = match (v.report(), v.ready_parts()) {
                    (Some(_), Some(parts)) if v.over_limit() => parts,
                    (Some(report), _) if !report.has_errors() && !v.over_limit() => Vec::new(),
                    _ => return Transition::none(),
                };
                let Some(report) = v.report().cloned() else {
                    return Transition::none();
                };
                let file = FileChoice {
                    parts,
                    ..self.file.clone()
                };
                let next = Next::Confirm(self.tracker.clone(), file, report);
                Transition::to(Nav::Push(next), Vec::new())
            }
            Action::Split => Transition::stay(self.start_split(cx)),
            Action::CancelSplit => match &mut v.split {
                Some(sp) => {
                    sp.error = Some("stopped by you".to_string());
                    Transition::stay(vec![Effect::CancelValidation(sp.progress.clone())])
                }
                None => Transition::none(),
            },
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &DrawCx) {
        self.view.draw(frame, area, cx.theme);
    }

    fn tick(&mut self, now: Instant) {
        self.view.tick(now);
    }

    fn work_at_risk(&self) -> Option<String> {
        let v = &self.view;
        if v.running() {
            Some("the validation is still running".to_string())
        } else if v.splitting() {
            Some("the file is being split into parts".to_string())
        } else if v.report().is_none() {
            None
        } else {
            Some("the validated file has not been uploaded".to_string())
        }
    }

    fn stop(&self) -> Vec<Effect> {
        let mut v = Vec::new();
        if self.view.running() {
            v.push(Effect::CancelValidation(self.view.progress.clone()));
        }
        if let Some(sp) = &self.view.split
            && sp.running()
        {
            v.push(Effect::CancelValidation(sp.progress.clone()));
        }
        v
    }
}
