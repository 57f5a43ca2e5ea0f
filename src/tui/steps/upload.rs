//! Step 6, Upload: progress against the 10-minute limit, attempts and retries, cancel.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph, Wrap};
use tokio_util::sync::CancellationToken;

use super::parts::PartStatus;
use super::parts::PartsRun;
use super::result::ResultView;
use crate::config::HistoryEntry;
use crate::tui::flow::{Chosen, Cx, DrawCx, Effect, FileChoice, StepScreen, Transition};
use crate::tui::keys::{Binding, bind, ch, code, find, hints};
use crate::tui::services::UploadEvent;
use crate::tui::services::UploadOutcome;
use crate::tui::theme::Theme;
use crate::tui::ui::{self, KeyHint, hint};
use crate::validate::Report;
use std::path::PathBuf;
use std::sync::Arc;

/// State of the upload step.
#[derive(Debug, Clone)]
pub struct UploadView {
    /// Run id.
    pub run: u64,
    /// Cancels the upload.
    pub cancel: CancellationToken,
    /// Bytes sent in the current attempt.
    pub sent: u64,
    /// Body size.
    pub total: u64,
    /// Current rate.
    pub rate_bps: f64,
    /// Estimated time left.
    pub eta: Option<Duration>,
    /// Time since start.
    pub elapsed: Duration,
    /// When it started (None in demos).
    pub started: Option<Instant>,
    /// Attempt number (1-based; 0 = not started yet).
    pub attempt: u32,
    /// Why the current attempt is a retry.
    pub retry_reason: Option<String>,
    /// Waiting before the next attempt.
    pub retry_after: Option<Duration>,
    /// Server clock minus ours, and whether it was corrected.
    pub clock_skew: Option<(i64, bool)>,
    /// Asking "cancel the upload?".
    pub asking_cancel: bool,
    /// Cancellation requested.
    pub cancelling: bool,
    /// For a file sent in parts: every part's status (this view sends the current one).
    pub parts: Option<PartsRun>,
}

/// What the upload step's keys do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    AskCancel,
    Cancel,
    KeepGoing,
}

/// What the upload step asks the app to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond the state change.
    None,
    /// Cancel the upload.
    Cancel,
}

impl UploadView {
    /// A fresh upload of `total` bytes.
    pub fn new(run: u64, total: u64, started: Option<Instant>) -> Self {
        UploadView {
            run,
            cancel: CancellationToken::new(),
            sent: 0,
            total,
            rate_bps: 0.0,
            eta: None,
            elapsed: Duration::ZERO,
            started,
            attempt: 0,
            retry_reason: None,
            retry_after: None,
            clock_skew: None,
            asking_cancel: false,
            cancelling: false,
            parts: None,
        }
    }

    /// Apply an event from the upload task.
    pub fn apply(&mut self, ev: UploadEvent) {
        match ev {
            UploadEvent::ClockSkew { skew_ms, corrected } => {
                self.clock_skew = Some((skew_ms, corrected))
            }
            UploadEvent::Attempt { n, reason } => {
                self.attempt = n;
                self.retry_reason = reason;
                self.retry_after = None;
                self.sent = 0;
            }
            UploadEvent::Progress {
                sent,
                total,
                rate_bps,
                eta,
                elapsed,
            } => {
                self.sent = sent;
                self.total = total;
                self.rate_bps = rate_bps;
                self.eta = eta;
                self.elapsed = elapsed;
            }
            UploadEvent::Retrying { after, reason } => {
                self.retry_after = Some(after);
                self.retry_reason = Some(reason);
            }
        }
    }

    /// For a multi-part upload: the current part's number (1-based) and the number of parts.
    pub fn part_of(&self) -> Option<(usize, usize)> {
        let pr = self.parts.as_ref()?;
        Some((pr.current? + 1, pr.parts.len()))
    }

    /// Advance the elapsed clock.
    pub fn tick(&mut self, now: Instant) {
        if let Some(s) = self.started {
            self.elapsed = self.elapsed.max(now.saturating_duration_since(s));
        }
    }

    /// Key bindings of the current state.
    /// The step's keys: the hint bar shows them, [`UploadView::on_key`] dispatches them.
    fn bindings(&self) -> Vec<Binding<Key>> {
        if self.asking_cancel {
            return vec![
                bind(
                    &[ch('y')],
                    hint("y", "cancel upload", "Stop the upload now"),
                    Key::Cancel,
                ),
                bind(
                    &[ch('n'), code(KeyCode::Esc)],
                    hint("n/Esc", "keep going", "Continue uploading"),
                    Key::KeepGoing,
                ),
            ];
        }
        if self.cancelling {
            return Vec::new();
        }
        vec![bind(
            &[code(KeyCode::Esc)],
            hint("Esc", "cancel…", "Ask to cancel the upload"),
            Key::AskCancel,
        )]
    }

    /// The hints of the step's bindings.
    pub fn keys(&self) -> Vec<KeyHint> {
        hints(&self.bindings())
    }

    /// Handle a key.
    pub fn on_key(&mut self, key: &KeyEvent) -> Action {
        let asking = self.asking_cancel;
        match find(&self.bindings(), key) {
            Some(Key::Cancel) => {
                self.asking_cancel = false;
                self.cancelling = true;
                Action::Cancel
            }
            Some(Key::AskCancel) => {
                self.asking_cancel = true;
                Action::None
            }
            // any other key answers "keep going" to the question
            Some(Key::KeepGoing) | None => {
                if asking {
                    self.asking_cancel = false;
                }
                Action::None
            }
        }
    }

    /// Draw the step.
    pub fn draw(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        file_name: &str,
        endpoint: &str,
    ) {
        let info_h = if self.parts.is_some() { 8 } else { 7 };
        let [g, limit, info, rest] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Length(3),
            Constraint::Length(info_h),
            Constraint::Min(0),
        ])
        .areas(area);
        let ratio = if self.total == 0 {
            0.0
        } else {
            (self.sent as f64 / self.total as f64).clamp(0.0, 1.0)
        };
        let label = format!(
            "{:.1}%  {} of {}  {}  ETA {}",
            ratio * 100.0,
            ui::bytes(self.sent),
            ui::bytes(self.total),
            ui::rate(self.rate_bps),
            self.eta.map_or("–".to_string(), ui::clock)
        );
        frame.render_widget(
            Gauge::default()
                .ratio(ratio)
                .label(Span::styled(label, theme.text.add_modifier(Modifier::BOLD)))
                .gauge_style(theme.gauge)
                .style(theme.gauge_bg)
                .block(ui::block(
                    theme,
                    match self.part_of() {
                        Some((i, n)) => {
                            format!("Uploading part {i} of {n}: {}", ui::sanitize(file_name, 50))
                        }
                        None => format!("Uploading {}", ui::sanitize(file_name, 50)),
                    },
                )),
            g,
        );
        let limit_ratio = (self.elapsed.as_secs_f64() / 600.0).clamp(0.0, 1.0);
        let limit_style = if limit_ratio > 0.8 {
            theme.error
        } else {
            theme.gauge
        };
        frame.render_widget(
            Gauge::default()
                .ratio(limit_ratio)
                .label(format!(
                    "elapsed {} of 10:00{}",
                    ui::clock(self.elapsed),
                    if self.parts.is_some() {
                        " (for this part)"
                    } else {
                        ""
                    }
                ))
                .gauge_style(limit_style)
                .style(theme.gauge_bg)
                .block(ui::block(theme, "Time limit")),
            limit,
        );
        let kv = |k: &str, v: String| {
            Line::from(vec![
                Span::styled(format!("{k:<12}"), theme.muted),
                Span::styled(v, theme.text),
            ])
        };
        let mut lines = Vec::new();
        if let Some(pr) = &self.parts {
            let (done, done_bytes) = pr.accepted();
            lines.push(kv(
                "overall",
                format!(
                    "{done} of {} parts accepted · {} of {} sent",
                    pr.to_send(),
                    ui::bytes(done_bytes + self.sent.min(self.total)),
                    ui::bytes(pr.bytes_to_send())
                ),
            ));
        }
        lines.extend([
            kv("endpoint", ui::sanitize(endpoint, 120)),
            kv(
                "attempt",
                if self.attempt == 0 {
                    "starting…".to_string()
                } else {
                    format!("{} of up to 3", self.attempt)
                },
            ),
        ]);
        if let Some(r) = &self.retry_reason {
            let after = self
                .retry_after
                .map(|a| format!(" — next attempt in {}", ui::clock(a)))
                .unwrap_or_default();
            lines.push(Line::styled(
                format!("retry: {}{after}", ui::sanitize(r, 150)),
                theme.warning,
            ));
        }
        lines.push(kv(
            "clock skew",
            match self.clock_skew {
                None => "not measured yet".to_string(),
                Some((ms, true)) => format!("{ms:+} ms — corrected in the Date header"),
                Some((ms, false)) => format!("{ms:+} ms"),
            },
        ));
        if self.cancelling {
            lines.push(Line::styled("cancelling…", theme.warning));
        } else if self.total > 0 && self.sent >= self.total {
            lines.push(Line::styled(
                "all bytes sent — waiting for the server's answer…",
                theme.accent,
            ));
        }
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: true })
                .block(ui::block(theme, "Upload")),
            info,
        );
        if let Some(pr) = &self.parts
            && rest.height > 2
        {
            frame.render_widget(
                Paragraph::new(pr.lines(theme, rest.width as usize))
                    .scroll((
                        pr.current
                            .unwrap_or(0)
                            .saturating_sub(rest.height.saturating_sub(3) as usize)
                            as u16,
                        0,
                    ))
                    .block(ui::block(theme, "Parts — sent one after another")),
                rest,
            );
        }
        if self.asking_cancel {
            ui::popup(
                frame,
                area,
                theme,
                "Cancel?",
                vec![
                    Line::styled(
                        "Cancel the upload?",
                        theme.warning.add_modifier(Modifier::BOLD),
                    ),
                    Line::styled(
                        "The server discards an incomplete upload.  y = cancel, n = keep going",
                        theme.text,
                    ),
                ],
                60,
            );
        }
    }
}

/// Step 6: the file (or its parts, one after another) being sent.
#[derive(Debug, Clone)]
pub struct UploadStep {
    /// Answer of step 1.
    pub tracker: Chosen,
    /// Answers of steps 2 and 4.
    pub file: FileChoice,
    /// Answer of step 3.
    pub report: Arc<Report>,
    /// The user chose to send bytes the history has as sent already.
    pub allow_duplicate: bool,
    /// The upload in flight.
    pub view: UploadView,
}

/// How an upload run ended, for the router.
#[derive(Debug)]
pub enum Done {
    /// Not this step's run: nothing changed.
    Ignored,
    /// The next part is being sent.
    NextPart(Vec<Effect>),
    /// Every part that could be sent was: the result.
    Finished(Box<ResultView>),
}

impl UploadStep {
    /// Start sending: the whole file, or the parts not already sent (`already`: the earlier
    /// upload of each part, when the user did not choose to send them again). `None` when
    /// no part is left to send.
    pub fn start(
        tracker: Chosen,
        file: FileChoice,
        report: Arc<Report>,
        allow_duplicate: bool,
        already: Vec<Option<HistoryEntry>>,
        cx: &mut Cx,
    ) -> Option<(Self, Vec<Effect>)> {
        let parts = (!file.parts.is_empty())
            .then(|| PartsRun::new(file.parts.clone(), already))
            .filter(|pr| pr.next_waiting().is_some());
        if !file.parts.is_empty() && parts.is_none() {
            return None;
        }
        match parts {
            Some(pr) => {
                let mut step = UploadStep {
                    tracker,
                    file,
                    report,
                    allow_duplicate,
                    view: UploadView::new(0, 0, None),
                };
                let fx = step.start_part(pr, cx);
                Some((step, fx))
            }
            None => {
                let (view, fx) = run(&tracker, file.upload.clone(), &report, allow_duplicate, cx);
                let step = UploadStep {
                    tracker,
                    file,
                    report,
                    allow_duplicate,
                    view,
                };
                Some((step, fx))
            }
        }
    }

    /// Send the next waiting part of a multi-part upload.
    fn start_part(&mut self, mut pr: PartsRun, cx: &mut Cx) -> Vec<Effect> {
        let Some(i) = pr.next_waiting() else {
            return Vec::new();
        };
        pr.status[i] = PartStatus::Sending;
        pr.current = Some(i);
        let part = pr.parts[i].clone();
        let (mut view, fx) = run(
            &self.tracker,
            part.path.clone(),
            &part.report,
            self.allow_duplicate,
            cx,
        );
        view.parts = Some(pr);
        self.view = view;
        fx
    }

    /// The upload of run `run` ended as `outcome`: send the next part after an accepted one,
    /// else the result (never a later part after one that did not go through).
    pub fn done(
        &mut self,
        run: u64,
        outcome: UploadOutcome,
        entry: Option<HistoryEntry>,
        history_error: Option<String>,
        cx: &mut Cx,
    ) -> Done {
        if self.view.run != run {
            return Done::Ignored;
        }
        let mut parts = self.view.parts.take();
        if let Some(pr) = &mut parts {
            if let Some(i) = pr.current {
                pr.status[i] = PartStatus::Done {
                    outcome: outcome.clone(),
                    entry: entry.clone(),
                    history_error: history_error.clone(),
                };
            }
            if matches!(outcome, UploadOutcome::Accepted { .. }) && pr.next_waiting().is_some() {
                let pr = pr.clone();
                return Done::NextPart(self.start_part(pr, cx));
            }
            pr.stop();
        }
        Done::Finished(Box::new(crate::tui::steps::result::ResultView {
            outcome,
            entry,
            history_error,
            parts,
        }))
    }
}

/// A new upload run of the file at `path` (validated as `report`): its view and the effect
/// that starts it.
fn run(
    tracker: &Chosen,
    path: PathBuf,
    report: &Report,
    allow_duplicate: bool,
    cx: &mut Cx,
) -> (UploadView, Vec<Effect>) {
    let run = cx.run();
    let view = UploadView::new(run, report.file.bytes, Some(Instant::now()));
    let fx = vec![Effect::StartUpload {
        run,
        tracker: Box::new(tracker.tracker.clone()),
        path,
        format: report.file.format,
        stats: (report.file.bytes, report.stats.rows, report.stats.orders),
        sha256: report.file.sha256.clone(),
        cancel: view.cancel.clone(),
        allow_duplicate,
        report: Arc::new(report.clone()),
    }];
    (view, fx)
}

impl StepScreen for UploadStep {
    fn keys(&self, _cx: &DrawCx) -> Vec<KeyHint> {
        self.view.keys()
    }

    fn update(&mut self, key: &KeyEvent, _cx: &mut Cx) -> Transition {
        match self.view.on_key(key) {
            Action::None => Transition::none(),
            Action::Cancel => {
                Transition::stay(vec![Effect::CancelUpload(self.view.cancel.clone())])
            }
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &DrawCx) {
        let u = &self.view;
        let current = u
            .parts
            .as_ref()
            .and_then(|p| p.current.and_then(|i| p.parts.get(i)))
            .map(|p| p.path.clone());
        let name = current
            .as_ref()
            .unwrap_or(&self.file.upload)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let endpoint = format!(
            "POST {}{}",
            self.tracker.tracker.base_url,
            crate::spec::endpoint_path(&self.tracker.tracker.tracker_id)
        );
        u.draw(frame, area, cx.theme, &name, &endpoint);
    }

    fn captures_text(&self) -> bool {
        self.view.asking_cancel
    }

    fn tick(&mut self, now: Instant) {
        self.view.tick(now);
    }

    fn work_at_risk(&self) -> Option<String> {
        Some("an upload is running — quitting cancels it".to_string())
    }

    fn stop(&self) -> Vec<Effect> {
        vec![Effect::CancelUpload(self.view.cancel.clone())]
    }
}
