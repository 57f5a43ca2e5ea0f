//! Files over the upload limit (1 GiB): split at order boundaries into parts, each part
//! validated, the parts uploaded one after another. This module holds the state of a split
//! (shown by the Validate step) and of a multi-part upload (Upload and Result steps), and the
//! drawing both share.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::config::HistoryEntry;
use crate::tui::flow::Part;
use crate::tui::services::{self, UploadOutcome};
use crate::tui::theme::Theme;
use crate::tui::ui;
use crate::validate::{Progress, Report, Snapshot, Verdict};

/// A split in the Validate step: splitting, then validating the parts one by one.
#[derive(Debug, Clone)]
pub struct SplitState {
    /// Run id (answers of older runs are ignored).
    pub run: u64,
    /// The part size limit in bytes.
    pub limit: u64,
    /// Shared with the worker thread (also cancels it).
    pub progress: Arc<Progress>,
    /// Latest progress snapshot.
    pub snap: Snapshot,
    /// The part files, once the split is done.
    pub paths: Option<Vec<PathBuf>>,
    /// Each part's report (in part order), as they arrive.
    pub reports: Vec<Option<Result<Arc<Report>, String>>>,
    /// Why the split stopped (failed or cancelled).
    pub error: Option<String>,
    /// When it started (None in demos).
    pub started: Option<Instant>,
    /// Time since start.
    pub elapsed: Duration,
    /// Selected row of the parts table.
    pub sel: usize,
}

impl SplitState {
    /// A split just started.
    pub fn new(run: u64, limit: u64, progress: Arc<Progress>, started: Option<Instant>) -> Self {
        SplitState {
            run,
            limit,
            progress,
            snap: Snapshot::default(),
            paths: None,
            reports: Vec::new(),
            error: None,
            started,
            elapsed: Duration::ZERO,
            sel: 0,
        }
    }

    /// Whether the worker is still splitting or validating.
    pub fn running(&self) -> bool {
        self.error.is_none() && (self.paths.is_none() || self.reports.iter().any(Option::is_none))
    }

    /// The parts were written; record their paths.
    pub fn split_done(&mut self, paths: Vec<PathBuf>) {
        self.reports = vec![None; paths.len()];
        self.paths = Some(paths);
        self.sel = 0;
    }

    /// Number of parts validated so far.
    pub fn validated(&self) -> usize {
        self.reports.iter().filter(|r| r.is_some()).count()
    }

    /// Every part with its report, when all were validated (errors or not).
    pub fn parts(&self) -> Option<Vec<Part>> {
        let paths = self.paths.as_ref()?;
        if self.error.is_some() {
            return None;
        }
        paths
            .iter()
            .zip(&self.reports)
            .map(|(p, r)| match r {
                Some(Ok(r)) => Some(Part {
                    path: p.clone(),
                    report: r.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Parts whose report has errors (1-based numbers).
    pub fn parts_with_errors(&self) -> Vec<usize> {
        self.reports
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                matches!(r, Some(Ok(r)) if r.has_errors()) || matches!(r, Some(Err(_)))
            })
            .map(|(i, _)| i + 1)
            .collect()
    }

    /// Poll the progress.
    pub fn tick(&mut self, now: Instant) {
        if self.running() {
            self.snap = self.progress.snapshot();
            if let Some(s) = self.started {
                self.elapsed = now.saturating_duration_since(s);
            }
        }
    }

    /// The gauge: title, ratio, label.
    pub fn gauge(&self, file_name: &str) -> (String, f64, String) {
        let s = &self.snap;
        let ratio = if s.total_bytes == 0 {
            0.0
        } else {
            (s.bytes_read as f64 / s.total_bytes as f64).clamp(0.0, 1.0)
        };
        let elapsed = ui::clock(self.elapsed);
        match (&self.paths, &self.error) {
            (_, Some(e)) => (
                format!("Splitting {}", ui::sanitize(file_name, 40)),
                0.0,
                format!("stopped: {}", ui::sanitize(e, 80)),
            ),
            (None, None) => (
                format!(
                    "Splitting {} into parts ≤ {} at order boundaries",
                    ui::sanitize(file_name, 40),
                    crate::units::part_limit(self.limit)
                ),
                ratio,
                format!(
                    "{:.0}%  {} rows  {}  (Esc stops)",
                    ratio * 100.0,
                    ui::count(s.rows),
                    elapsed
                ),
            ),
            (Some(p), None) if self.running() => {
                let i = self.validated() + 1;
                (
                    format!("Validating part {i} of {}", p.len()),
                    ratio,
                    format!(
                        "{:.0}%  {} of {}  {}",
                        ratio * 100.0,
                        ui::bytes(s.bytes_read),
                        ui::bytes(s.total_bytes),
                        elapsed
                    ),
                )
            }
            (Some(p), None) => (
                format!(
                    "{} split into {} ≤ {}",
                    ui::sanitize(file_name, 40),
                    if p.len() == 1 {
                        "1 part".to_string()
                    } else {
                        format!("{} parts", p.len())
                    },
                    crate::units::part_limit(self.limit)
                ),
                1.0,
                format!("split and validated in {elapsed}"),
            ),
        }
    }

    /// The combined verdict line: text and style.
    pub fn verdict(&self, theme: &Theme) -> (String, Style) {
        if let Some(e) = &self.error {
            return (
                format!("✘ SPLIT STOPPED: {}", ui::sanitize(e, 120)),
                theme.error,
            );
        }
        let Some(paths) = &self.paths else {
            return (
                "splitting… every order stays whole in one part".to_string(),
                theme.muted,
            );
        };
        if self.running() {
            return (
                format!(
                    "validating the parts… {} of {} done",
                    self.validated(),
                    paths.len()
                ),
                theme.muted,
            );
        }
        let bad = self.parts_with_errors();
        if !bad.is_empty() {
            return (
                format!(
                    "✘ {} OF {} PARTS HAVE ERRORS (part {}) — the service would reject them",
                    bad.len(),
                    paths.len(),
                    join_numbers(&bad)
                ),
                theme.error,
            );
        }
        let warn = self
            .reports
            .iter()
            .any(|r| matches!(r, Some(Ok(r)) if r.verdict == Verdict::Warnings));
        if warn {
            (
                format!("! ALL {} PARTS READY WITH WARNINGS", paths.len()),
                theme.warning,
            )
        } else {
            (format!("✔ ALL {} PARTS READY", paths.len()), theme.ok)
        }
    }

    /// Draw the parts table (part, file, bytes, rows, orders, verdict); narrow tables leave
    /// out the file names (they only differ by their number) and shorten the verdicts.
    pub fn draw_table(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let Some(paths) = &self.paths else {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "the parts are listed when the split is done",
                    theme.muted,
                ))
                .block(ui::block(theme, "Parts")),
                area,
            );
            return;
        };
        let wide = area.width >= 70;
        let dash = || "–".to_string();
        let rows: Vec<Row> = paths
            .iter()
            .zip(&self.reports)
            .enumerate()
            .map(|(i, (p, r))| {
                let (bytes, rows, orders, verdict, st) = match r {
                    None => (dash(), dash(), dash(), "waiting".to_string(), theme.muted),
                    Some(Err(e)) => (
                        dash(),
                        dash(),
                        dash(),
                        format!("✘ {}", ui::sanitize(e, 60)),
                        theme.error,
                    ),
                    Some(Ok(r)) => {
                        let (v, st) = verdict_cell(r, theme, !wide);
                        (
                            ui::bytes(r.file.bytes),
                            ui::count(r.stats.rows),
                            ui::count(r.stats.orders),
                            v,
                            st,
                        )
                    }
                };
                let mut cells = vec![Cell::from(format!("{}", i + 1))];
                if wide {
                    cells.push(Cell::from(file_name(p)));
                }
                cells.extend([
                    Cell::from(bytes),
                    Cell::from(rows),
                    Cell::from(orders),
                    Cell::from(Span::styled(verdict, st)),
                ]);
                Row::new(cells).style(theme.text)
            })
            .collect();
        let mut widths = vec![Constraint::Length(4)];
        let mut header = vec!["part"];
        if wide {
            widths.push(Constraint::Fill(2));
            header.push("file");
        }
        widths.extend([
            Constraint::Length(9),
            Constraint::Length(11),
            Constraint::Length(11),
            Constraint::Fill(1),
        ]);
        header.extend(["bytes", "rows", "orders", "verdict"]);
        let table = Table::new(rows, widths)
            .header(Row::new(header).style(theme.muted))
            .row_highlight_style(ui::selected(theme))
            .block(ui::block(
                theme,
                format!(
                    "Parts ({}) — each ≤ {}",
                    paths.len(),
                    crate::units::part_limit(self.limit)
                ),
            ));
        let mut st =
            TableState::default().with_selected(Some(self.sel.min(paths.len().saturating_sub(1))));
        frame.render_stateful_widget(table, area, &mut st);
    }
}

/// A report's verdict in a table cell (`short`: a few characters).
pub fn verdict_cell(r: &Report, theme: &Theme, short: bool) -> (String, Style) {
    let count = |sev| r.issues.iter().filter(|i| i.severity == sev).count();
    match r.verdict {
        Verdict::Ok => ("✔ ready".to_string(), theme.ok),
        Verdict::Warnings if short => ("! warn".to_string(), theme.warning),
        Verdict::Warnings => (
            format!("! {} warning(s)", count(crate::validate::Severity::Warning)),
            theme.warning,
        ),
        Verdict::Errors if short => (
            format!("✘ {} err", count(crate::validate::Severity::Error)),
            theme.error,
        ),
        Verdict::Errors => (format!("✘ {}", services::verdict_words(r)), theme.error),
    }
}

/// `1, 2, 5` (at most eight numbers, then `…`).
pub fn join_numbers(n: &[usize]) -> String {
    let mut s: Vec<String> = n.iter().take(8).map(|i| i.to_string()).collect();
    if n.len() > 8 {
        s.push("…".to_string());
    }
    s.join(", ")
}

/// A path's file name, for tables.
pub fn file_name(p: &Path) -> String {
    ui::sanitize(
        &p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        60,
    )
}

/// Where one part stands in a multi-part upload.
#[derive(Debug, Clone)]
pub enum PartStatus {
    /// Already accepted by this tracker (the history entry); not sent again.
    Skipped(HistoryEntry),
    /// Waiting its turn.
    Waiting,
    /// Being sent now.
    Sending,
    /// Sent: how it ended and the history entry written.
    Done {
        /// How the upload ended.
        outcome: UploadOutcome,
        /// The history entry written.
        entry: Option<HistoryEntry>,
        /// Why no history entry could be written.
        history_error: Option<String>,
    },
    /// Not sent because an earlier part did not go through.
    NotSent,
}

impl PartStatus {
    /// Whether this part's bytes are in the service (accepted now or earlier).
    pub fn in_service(&self) -> bool {
        match self {
            PartStatus::Skipped(e) => e.outcome == crate::config::Outcome::Accepted,
            PartStatus::Done { outcome, .. } => matches!(outcome, UploadOutcome::Accepted { .. }),
            _ => false,
        }
    }
}

/// A multi-part upload: the parts, one status each, and the part being sent.
#[derive(Debug, Clone)]
pub struct PartsRun {
    /// The parts, in order.
    pub parts: Vec<Part>,
    /// One status per part.
    pub status: Vec<PartStatus>,
    /// The part being sent (index).
    pub current: Option<usize>,
}

impl PartsRun {
    /// A run over `parts`; those with an entry in `already` (same index) are skipped.
    pub fn new(parts: Vec<Part>, already: Vec<Option<HistoryEntry>>) -> Self {
        let status = (0..parts.len())
            .map(|i| match already.get(i).cloned().flatten() {
                Some(e) => PartStatus::Skipped(e),
                None => PartStatus::Waiting,
            })
            .collect();
        PartsRun {
            parts,
            status,
            current: None,
        }
    }

    /// The next part waiting its turn.
    pub fn next_waiting(&self) -> Option<usize> {
        self.status
            .iter()
            .position(|s| matches!(s, PartStatus::Waiting))
    }

    /// Number of parts this run sends (not skipped).
    pub fn to_send(&self) -> usize {
        self.status
            .iter()
            .filter(|s| !matches!(s, PartStatus::Skipped(_)))
            .count()
    }

    /// Bytes of the parts this run sends.
    pub fn bytes_to_send(&self) -> u64 {
        self.parts
            .iter()
            .zip(&self.status)
            .filter(|(_, s)| !matches!(s, PartStatus::Skipped(_)))
            .map(|(p, _)| p.report.file.bytes)
            .sum()
    }

    /// Parts of this run accepted so far, and their bytes.
    pub fn accepted(&self) -> (usize, u64) {
        self.parts
            .iter()
            .zip(&self.status)
            .filter(|(_, s)| {
                matches!(
                    s,
                    PartStatus::Done {
                        outcome: UploadOutcome::Accepted { .. },
                        ..
                    }
                )
            })
            .fold((0, 0), |(n, b), (p, _)| (n + 1, b + p.report.file.bytes))
    }

    /// Every part is in the service (accepted now or before).
    pub fn all_in_service(&self) -> bool {
        self.status.iter().all(PartStatus::in_service)
    }

    /// After a part did not go through: the parts still waiting are not sent.
    pub fn stop(&mut self) {
        for s in &mut self.status {
            if matches!(s, PartStatus::Waiting | PartStatus::Sending) {
                *s = PartStatus::NotSent;
            }
        }
        self.current = None;
    }

    /// 1-based numbers of the parts in the service, and of those that are not.
    pub fn split_by_service(&self) -> (Vec<usize>, Vec<usize>) {
        let mut inside = Vec::new();
        let mut outside = Vec::new();
        for (i, s) in self.status.iter().enumerate() {
            if s.in_service() {
                inside.push(i + 1);
            } else {
                outside.push(i + 1);
            }
        }
        (inside, outside)
    }

    /// One line per part: number, file, bytes, status.
    pub fn lines(&self, theme: &Theme, width: usize) -> Vec<Line<'static>> {
        let name_w = width.saturating_sub(40).clamp(12, 48);
        self.parts
            .iter()
            .zip(&self.status)
            .enumerate()
            .map(|(i, (p, s))| {
                let (text, st) = status_text(s, theme);
                Line::from(vec![
                    Span::styled(format!("part {:<3}", i + 1), theme.muted),
                    Span::styled(
                        format!("{:<name_w$} ", ui::sanitize(&file_name(&p.path), name_w)),
                        theme.text,
                    ),
                    Span::styled(
                        format!("{:>9}  ", ui::bytes(p.report.file.bytes)),
                        theme.muted,
                    ),
                    Span::styled(text, st),
                ])
            })
            .collect()
    }
}

/// A part's status in words.
pub fn status_text(s: &PartStatus, theme: &Theme) -> (String, Style) {
    match s {
        PartStatus::Skipped(e) => (
            format!(
                "✔ skipped: already {} {}",
                e.outcome,
                e.time.format("%Y-%m-%d")
            ),
            theme.ok,
        ),
        PartStatus::Waiting => ("waiting".to_string(), theme.muted),
        PartStatus::Sending => ("sending…".to_string(), theme.accent),
        PartStatus::NotSent => ("– not sent".to_string(), theme.warning),
        PartStatus::Done { outcome, .. } => match outcome {
            UploadOutcome::Accepted { status, .. } => (format!("✔ accepted ({status})"), theme.ok),
            UploadOutcome::Rejected { status, .. } => {
                (format!("✘ rejected ({status})"), theme.error)
            }
            UploadOutcome::Failed { .. } => ("✘ failed".to_string(), theme.error),
            UploadOutcome::Cancelled => ("■ cancelled".to_string(), theme.warning),
            UploadOutcome::Unknown { .. } => (
                "? unknown — may or may not be in the service".to_string(),
                theme.warning,
            ),
        },
    }
}
