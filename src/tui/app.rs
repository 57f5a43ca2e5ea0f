//! The wizard's state machine: [`App::handle`] turns an [`Input`] into a state change and a
//! list of [`Effect`]s for the run loop to execute; [`App::draw`] renders the state. Nothing
//! here touches the terminal, the network or threads, so tests drive it directly.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use tokio_util::sync::CancellationToken;

use super::services::{UploadEvent, UploadOutcome};
use super::steps::{columns, confirm, file, result, tracker, upload, validate};
use super::theme::Theme;
use super::ui::{self, KeyHint, hint};
use crate::config::{Config, HistoryEntry, Tracker};
use crate::read::Format;
use crate::validate::{Progress, Report};

/// The tracker chosen in step 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    /// The tracker (for the sandbox: an in-memory one with a random key).
    pub tracker: Tracker,
    /// Whether it is the built-in sandbox.
    pub sandbox: bool,
}

impl Chosen {
    /// What a validation for this tracker compares the file with (its catalog, stored under
    /// the tracker's name, and the orders sent to its id).
    pub fn check_target(&self) -> CheckTarget {
        CheckTarget {
            name: self.tracker.name.clone(),
            tracker_id: self.tracker.tracker_id.clone(),
        }
    }
}

/// The tracker whose catalog and sent orders a validation compares the file with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckTarget {
    /// The tracker's name (its catalog is stored under it).
    pub name: String,
    /// Its id (sent orders are kept per id).
    pub tracker_id: String,
}

/// One part of a file split for upload (in the data directory), with its report.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The part file.
    pub path: PathBuf,
    /// Its validation report (bytes, sha256, rows, orders, verdict).
    pub report: Arc<Report>,
}

/// The file chosen in step 2, and what will actually be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct FileChoice {
    /// The user's file (never modified).
    pub original: PathBuf,
    /// The file uploaded: the original, or a converted copy in the data directory.
    pub upload: PathBuf,
    /// Transformations applied to get from `original` to `upload`, in words.
    pub transformations: Vec<String>,
    /// When `upload` is over the part limit: the parts sent instead, one after another.
    pub parts: Vec<Part>,
}

impl FileChoice {
    /// The user's file, sent as is.
    pub fn plain(p: PathBuf) -> Self {
        FileChoice {
            original: p.clone(),
            upload: p,
            transformations: Vec::new(),
            parts: Vec::new(),
        }
    }
}

/// Where the wizard is, with the answers given so far.
#[derive(Debug, Clone)]
pub enum Step {
    /// 1. Choose a tracker.
    Tracker,
    /// 2. Choose a file.
    File {
        /// Answer of step 1.
        tracker: Chosen,
    },
    /// 3. Validate it.
    Validate {
        /// Answer of step 1.
        tracker: Chosen,
        /// Answer of step 2.
        file: FileChoice,
    },
    /// 4. Map its columns.
    Columns {
        /// Answer of step 1.
        tracker: Chosen,
        /// Answer of step 2.
        file: FileChoice,
    },
    /// 5. Confirm.
    Confirm {
        /// Answer of step 1.
        tracker: Chosen,
        /// Answers of steps 2 and 4.
        file: FileChoice,
        /// Answer of step 3.
        report: Arc<Report>,
    },
    /// 6. Upload.
    Upload {
        /// Answer of step 1.
        tracker: Chosen,
        /// Answers of steps 2 and 4.
        file: FileChoice,
        /// Answer of step 3.
        report: Arc<Report>,
    },
    /// 7. Result.
    Result {
        /// Answer of step 1.
        tracker: Chosen,
        /// Answers of steps 2 and 4.
        file: FileChoice,
        /// Answer of step 3.
        report: Arc<Report>,
        /// How the upload ended.
        outcome: UploadOutcome,
    },
}

/// Names of the steps, in order, as the breadcrumb shows them.
pub const STEP_NAMES: [&str; 7] = [
    "Tracker", "File", "Validate", "Columns", "Confirm", "Upload", "Result",
];

impl Step {
    /// 0-based position in [`STEP_NAMES`].
    pub fn index(&self) -> usize {
        match self {
            Step::Tracker => 0,
            Step::File { .. } => 1,
            Step::Validate { .. } => 2,
            Step::Columns { .. } => 3,
            Step::Confirm { .. } => 4,
            Step::Upload { .. } => 5,
            Step::Result { .. } => 6,
        }
    }

    /// The step's name.
    pub fn name(&self) -> &'static str {
        STEP_NAMES[self.index()]
    }

    /// The chosen tracker, from step 2 on.
    pub fn tracker(&self) -> Option<&Chosen> {
        match self {
            Step::Tracker => None,
            Step::File { tracker }
            | Step::Validate { tracker, .. }
            | Step::Columns { tracker, .. }
            | Step::Confirm { tracker, .. }
            | Step::Upload { tracker, .. }
            | Step::Result { tracker, .. } => Some(tracker),
        }
    }

    /// The chosen file, from step 3 on.
    pub fn file(&self) -> Option<&FileChoice> {
        match self {
            Step::Tracker | Step::File { .. } => None,
            Step::Validate { file, .. }
            | Step::Columns { file, .. }
            | Step::Confirm { file, .. }
            | Step::Upload { file, .. }
            | Step::Result { file, .. } => Some(file),
        }
    }
}

/// Results of background work, delivered back to the app.
#[derive(Debug)]
pub enum Msg {
    /// A tracker's stored catalog was read.
    CatalogLoaded {
        /// The tracker's name.
        name: String,
        /// Its look-up index (`None`: none stored), or why it cannot be read.
        result: Result<Option<Arc<crate::validate::lookup::CatalogIndex>>, String>,
        /// When it was read (seconds since the epoch), for its age.
        now: u64,
    },
    /// A sent file's orders could not be recorded for the already-sent check (why).
    SentNotRecorded(String),
    /// A catalog fetch made progress.
    CatalogProgress {
        /// The tracker's name.
        name: String,
        /// What happened.
        event: crate::catalog::FetchEvent,
    },
    /// A catalog fetch ended: the objects stored, or why none were (the previous catalog is
    /// then kept).
    CatalogFetched {
        /// The tracker's name.
        name: String,
        /// Objects stored, or why not.
        result: Result<u64, String>,
    },
    /// The sandbox server started (the tracker to use), or why not.
    SandboxReady(Result<Tracker, String>),
    /// trackers.toml was written, or why not.
    ConfigSaved(Result<PathBuf, String>),
    /// A validation run finished.
    Validated {
        /// Its run id.
        run: u64,
        /// The report or why there is none.
        result: Result<Arc<Report>, String>,
        /// What the file looks like (for the Columns step), when detection ran.
        detection: Option<Box<crate::mapping::detect::Detection>>,
        /// Checks against the tracker that could not be made, and why.
        skipped: Vec<String>,
    },
    /// A conversion finished: the converted file and its counts, or why not.
    Converted {
        /// Its run id.
        run: u64,
        /// Output path, summary, and what the report's fixes did (one line each).
        result: Result<
            (
                PathBuf,
                crate::mapping::convert::ConvertSummary,
                Vec<String>,
            ),
            String,
        >,
    },
    /// The whole-file counts for the Columns step's cleaning options.
    Planned {
        /// The request's generation (stale answers are ignored).
        generation: u64,
        /// The counts, or why not.
        result: Result<crate::mapping::convert::ConvertSummary, String>,
    },
    /// The report was saved (JSON path), or why not.
    ReportSaved(Result<PathBuf, String>),
    /// A split finished writing its parts (paths in order), or why not.
    SplitDone {
        /// Its run id.
        run: u64,
        /// The part files, or why there are none.
        result: Result<Vec<PathBuf>, String>,
    },
    /// One part of a split was validated.
    PartValidated {
        /// The split's run id.
        run: u64,
        /// The part's index (0-based).
        index: usize,
        /// Its report, or why there is none.
        result: Result<Arc<Report>, String>,
    },
    /// The server's clock was read for the Confirm step.
    ClockSkew {
        /// Its run id.
        run: u64,
        /// Server time minus local time in ms, or why it could not be read.
        result: Result<i64, String>,
    },
    /// Upload progress.
    Upload {
        /// Its run id.
        run: u64,
        /// The event.
        event: UploadEvent,
    },
    /// An upload ended.
    UploadDone {
        /// Its run id.
        run: u64,
        /// How.
        outcome: UploadOutcome,
        /// The history entry written.
        entry: Option<HistoryEntry>,
        /// Why no history entry could be written.
        history_error: Option<String>,
    },
}

/// Work the run loop does for the app.
#[derive(Debug)]
pub enum Effect {
    /// Read a tracker's stored catalog (answer: [`Msg::CatalogLoaded`]).
    LoadCatalog {
        /// The tracker's name.
        name: String,
    },
    /// Fetch a tracker's catalog from the Content Export API and store it (answers:
    /// [`Msg::CatalogProgress`], then [`Msg::CatalogFetched`]).
    FetchCatalog {
        /// The tracker (its key is resolved off the UI thread).
        tracker: Box<Tracker>,
        /// Stops it.
        cancel: CancellationToken,
    },
    /// Start the in-process sandbox server (answer: [`Msg::SandboxReady`]).
    StartSandbox,
    /// Write trackers.toml (answer: [`Msg::ConfigSaved`]).
    SaveConfig(Box<Config>),
    /// Validate a file on its own thread (answer: [`Msg::Validated`]).
    StartValidation {
        /// Run id.
        run: u64,
        /// The file.
        path: PathBuf,
        /// Progress shared with the UI.
        progress: Arc<Progress>,
        /// Also detect the layout (for the Columns step).
        detect: bool,
        /// Compare with this tracker's catalog and sent orders.
        checks: CheckTarget,
    },
    /// Convert a file through a mapping on its own thread (answer: [`Msg::Converted`]).
    StartConvert {
        /// Run id.
        run: u64,
        /// The user's file.
        input: PathBuf,
        /// The mapping.
        mapping: Box<crate::mapping::Mapping>,
        /// Progress shared with the UI (also cancels).
        progress: Arc<Progress>,
        /// Cleaning to apply (a side file for invalid rows goes to the data directory).
        clean: Box<crate::mapping::convert::Clean>,
        /// Fixes from the validation report (identity rewrites, only new orders).
        fixes: columns::ReportFixes,
        /// The tracker whose catalog and sent orders the fixes use.
        checks: CheckTarget,
    },
    /// Count over the whole file what each cleaning option would change (answer:
    /// [`Msg::Planned`]).
    StartPlan {
        /// Generation of the request.
        generation: u64,
        /// The user's file.
        input: PathBuf,
        /// The mapping.
        mapping: Box<crate::mapping::Mapping>,
        /// The options counted for.
        clean: Box<crate::mapping::convert::Clean>,
        /// Cancelled when a newer count is asked for.
        progress: Arc<Progress>,
    },
    /// Split a file at order boundaries into parts in the data directory, then validate each
    /// part, on one thread (answers: [`Msg::SplitDone`], then one [`Msg::PartValidated`] per
    /// part).
    SplitAndValidate {
        /// Run id.
        run: u64,
        /// The file to split (the original or the converted copy).
        input: PathBuf,
        /// Its format (CSV rows are re-written, JSON lines copied as they are).
        format: Format,
        /// Largest part in bytes.
        limit: u64,
        /// Name stem of the parts (`<stem>.part-001.csv`, …).
        stem: String,
        /// Progress shared with the UI (also cancels).
        progress: Arc<Progress>,
        /// Compare each part with this tracker's catalog and sent orders.
        checks: CheckTarget,
    },
    /// Stop a validation run.
    CancelValidation(Arc<Progress>),
    /// Save a report in the data directory (answer: [`Msg::ReportSaved`]).
    SaveReport(Arc<Report>),
    /// Read the endpoint's clock (answer: [`Msg::ClockSkew`]).
    MeasureClockSkew {
        /// Run id.
        run: u64,
        /// Endpoint base of the chosen tracker.
        base_url: String,
    },
    /// Upload a file (answers: [`Msg::Upload`], then [`Msg::UploadDone`]).
    StartUpload {
        /// Run id.
        run: u64,
        /// The tracker (its key is resolved by the loop, off the UI thread).
        tracker: Box<Tracker>,
        /// The file sent.
        path: PathBuf,
        /// Its format.
        format: Format,
        /// Validated bytes, rows and orders (for the history entry).
        stats: (u64, u64, u64),
        /// sha256 of the file.
        sha256: String,
        /// Cancels it.
        cancel: CancellationToken,
        /// The user chose to send bytes the history has as sent already.
        allow_duplicate: bool,
        /// The validation report (saved with the attempt, linked from the history entry).
        report: Arc<Report>,
    },
    /// Cancel an upload.
    CancelUpload(CancellationToken),
    /// Leave the wizard.
    Quit,
}

/// An input to the state machine.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Input {
    /// A key press.
    Key(KeyEvent),
    /// The render tick (progress polling).
    Tick(Instant),
    /// Background work reported.
    Msg(Msg),
}

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

/// What the wizard starts with.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Saved trackers.
    pub config: Config,
    /// Upload history, newest first.
    pub history: Vec<HistoryEntry>,
    /// Where the file browser opens (unless the tracker remembers a directory).
    pub start_dir: PathBuf,
    /// Colours.
    pub theme: Theme,
    /// Notices to show once (config warnings, …).
    pub notices: Vec<String>,
}

/// The whole wizard state.
#[derive(Debug, Clone)]
pub struct App {
    /// Colours.
    pub theme: Theme,
    /// Current step and the answers so far.
    pub step: Step,
    /// Saved trackers.
    pub config: Config,
    /// Upload history, newest first.
    pub history: Vec<HistoryEntry>,
    /// Where the file browser first opens.
    pub start_dir: PathBuf,
    /// Step 1 state.
    pub tracker: tracker::TrackerView,
    /// Step 2 state (kept when going back).
    pub file: Option<file::FileView>,
    /// Step 3 state (kept when going back from Confirm).
    pub validate: Option<validate::ValidateView>,
    /// Step 4 state.
    pub columns: Option<columns::ColumnsView>,
    /// Step 5 state.
    pub confirm: Option<confirm::ConfirmView>,
    /// Step 6 state.
    pub upload: Option<upload::UploadView>,
    /// Step 7 state.
    pub result: Option<result::ResultView>,
    /// Popup.
    pub overlay: Option<Overlay>,
    /// One-line notice at the bottom.
    pub notice: Option<String>,
    /// The running sandbox's tracker.
    pub sandbox: Option<Chosen>,
    /// Run id of the conversion in flight.
    pub convert_run: u64,
    /// A file given on the command line, used once a tracker is chosen.
    pub pending_file: Option<PathBuf>,
    /// Set when the app wants to quit.
    pub quit: bool,
    /// Largest file sent in one upload; larger files are split into parts this size at most
    /// (the service's 1 GiB by default; tests use a few KB).
    pub part_bytes: u64,
    /// A saved report of the pending file (its file checked unchanged): once a tracker is
    /// chosen, Confirm follows without validating again.
    pub reviewed: Option<Arc<Report>>,
    /// A saved report opened from the history (`h`, Enter), shown over the step.
    pub report_viewer: Option<Box<crate::tui::report_view::ReportViewer>>,
    next_run: u64,
}

impl App {
    /// A wizard at step 1.
    pub fn new(ctx: Context) -> Self {
        let selected = 0;
        App {
            theme: ctx.theme,
            step: Step::Tracker,
            config: ctx.config,
            history: ctx.history,
            start_dir: ctx.start_dir,
            tracker: tracker::TrackerView {
                selected,
                ..Default::default()
            },
            file: None,
            validate: None,
            columns: None,
            confirm: None,
            upload: None,
            result: None,
            overlay: None,
            notice: ctx.notices.first().cloned(),
            sandbox: None,
            pending_file: None,
            convert_run: 0,
            quit: false,
            part_bytes: crate::mapping::split::DEFAULT_PART_BYTES,
            reviewed: None,
            report_viewer: None,
            next_run: 1,
        }
    }

    /// Skip the steps already answered on the command line: `tracker` (a saved name, or
    /// `Sandbox`) and `file`. Returns the effects to run.
    pub fn start(&mut self, tracker: Option<&str>, file: Option<PathBuf>) -> Vec<Effect> {
        let mut fx = self.start_steps(tracker, file);
        fx.extend(self.catalog_request());
        fx
    }

    fn start_steps(&mut self, tracker: Option<&str>, file: Option<PathBuf>) -> Vec<Effect> {
        let Some(name) = tracker else {
            if let Some(f) = file {
                self.tracker.message = Some((
                    true,
                    format!(
                        "file {} chosen — pick the tracker to upload it to",
                        ui::sanitize(&f.display().to_string(), 80)
                    ),
                ));
                self.pending_file = Some(f);
            }
            return Vec::new();
        };
        if name.eq_ignore_ascii_case(tracker::SANDBOX_NAME) && self.config.tracker(name).is_none() {
            self.pending_file = file;
            self.tracker.selected = self.config.trackers.len();
            self.tracker.busy = Some("starting the sandbox…".to_string());
            return vec![Effect::StartSandbox];
        }
        match self.config.trackers.iter().position(|t| t.name == name) {
            Some(i) => {
                self.tracker.selected = i;
                let chosen = Chosen {
                    tracker: self.config.trackers[i].clone(),
                    sandbox: false,
                };
                match file {
                    Some(f) => self.begin_file(chosen, f),
                    None => {
                        self.go_file(chosen);
                        Vec::new()
                    }
                }
            }
            None => {
                self.tracker.message = Some((
                    false,
                    format!("no saved tracker named {}", ui::sanitize(name, 60)),
                ));
                self.pending_file = file;
                Vec::new()
            }
        }
    }
}

impl App {
    /// Apply one input; returns the effects for the run loop.
    pub fn handle(&mut self, input: Input) -> Vec<Effect> {
        match input {
            Input::Tick(now) => {
                if let Some(v) = &mut self.validate
                    && matches!(self.step, Step::Validate { .. })
                {
                    v.tick(now);
                }
                if let Some(u) = &mut self.upload
                    && matches!(self.step, Step::Upload { .. })
                {
                    u.tick(now);
                }
                Vec::new()
            }
            Input::Msg(m) => self.on_msg(m),
            Input::Key(k) if k.kind == KeyEventKind::Press => self.on_key(k),
            Input::Key(_) => Vec::new(),
        }
    }

    /// Whether quitting now would lose work, and what.
    pub fn work_at_risk(&self) -> Option<String> {
        if self.tracker.dirty() {
            return Some("the tracker form has unsaved changes".to_string());
        }
        match &self.step {
            Step::Upload { .. } => Some("an upload is running — quitting cancels it".to_string()),
            Step::Validate { .. } if self.validate.as_ref().is_some_and(|v| v.running()) => {
                Some("the validation is still running".to_string())
            }
            Step::Validate { .. } if self.validate.as_ref().is_some_and(|v| v.splitting()) => {
                Some("the file is being split into parts".to_string())
            }
            Step::Validate { .. }
                if self.validate.as_ref().is_some_and(|v| v.report().is_none()) =>
            {
                None
            }
            Step::Validate { .. } | Step::Columns { .. } | Step::Confirm { .. } => {
                Some("the validated file has not been uploaded".to_string())
            }
            _ => None,
        }
    }

    fn captures_text(&self) -> bool {
        match &self.step {
            Step::Tracker => self.tracker.captures_text(),
            Step::File { .. } => self.file.as_ref().is_some_and(|f| f.captures_text()),
            Step::Columns { .. } => self.columns.as_ref().is_some_and(|c| c.captures_text()),
            Step::Upload { .. } => self.upload.as_ref().is_some_and(|u| u.asking_cancel),
            _ => false,
        }
    }

    /// Everything that has to stop before leaving.
    fn stop_all(&self) -> Vec<Effect> {
        let mut v = Vec::new();
        if let Some(u) = &self.upload
            && matches!(self.step, Step::Upload { .. })
        {
            v.push(Effect::CancelUpload(u.cancel.clone()));
        }
        if let Some(val) = &self.validate
            && val.running()
        {
            v.push(Effect::CancelValidation(val.progress.clone()));
        }
        if let Some(sp) = self.validate.as_ref().and_then(|v| v.split.as_ref())
            && sp.running()
        {
            v.push(Effect::CancelValidation(sp.progress.clone()));
        }
        v
    }

    fn quit_now(&mut self) -> Vec<Effect> {
        let mut v = self.stop_all();
        v.push(Effect::Quit);
        self.quit = true;
        v
    }

    fn on_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if k.modifiers.contains(KeyModifiers::CONTROL)
            && matches!(k.code, KeyCode::Char('c') | KeyCode::Char('C'))
        {
            return self.quit_now();
        }
        if let Some(v) = &mut self.report_viewer {
            if matches!(v.on_key(&k), crate::tui::report_view::Action::Quit) {
                self.report_viewer = None;
            }
            return Vec::new();
        }
        if let Some(ov) = self.overlay.clone() {
            match ov {
                Overlay::Quit(_) => {
                    self.overlay = None;
                    if matches!(k.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                        return self.quit_now();
                    }
                }
                Overlay::Help => {
                    if matches!(
                        k.code,
                        KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter
                    ) {
                        self.overlay = None;
                    }
                }
                Overlay::History(scroll) => match k.code {
                    KeyCode::Up => self.overlay = Some(Overlay::History(scroll.saturating_sub(1))),
                    KeyCode::Down => {
                        let max = self.history.len().saturating_sub(1);
                        self.overlay = Some(Overlay::History((scroll + 1).min(max)));
                    }
                    KeyCode::Enter => self.open_history_report(scroll),
                    KeyCode::Esc | KeyCode::Char('h') | KeyCode::Char('q') => self.overlay = None,
                    _ => {}
                },
            }
            return Vec::new();
        }
        if !self.captures_text() && k.modifiers.difference(KeyModifiers::SHIFT).is_empty() {
            match k.code {
                KeyCode::Char('?') => {
                    self.overlay = Some(Overlay::Help);
                    return Vec::new();
                }
                KeyCode::Char('h') => {
                    self.overlay = Some(Overlay::History(0));
                    return Vec::new();
                }
                KeyCode::Char('q') => {
                    if matches!(self.step, Step::Result { .. }) {
                        return self.quit_now();
                    }
                    match self.work_at_risk() {
                        Some(r) => self.overlay = Some(Overlay::Quit(r)),
                        None => return self.quit_now(),
                    }
                    return Vec::new();
                }
                _ => {}
            }
        }
        self.notice = None;
        match self.step.clone() {
            Step::Tracker => self.tracker_key(&k),
            Step::File { tracker } => {
                let Some(f) = &mut self.file else {
                    return Vec::new();
                };
                match f.on_key(&k) {
                    file::Action::Back => {
                        self.step = Step::Tracker;
                        Vec::new()
                    }
                    file::Action::None => Vec::new(),
                    file::Action::Choose(p) => {
                        let mut fx = self.remember_dir(&tracker, &p);
                        fx.extend(self.start_validation(tracker, FileChoice::plain(p)));
                        fx
                    }
                }
            }
            Step::Validate { tracker, file } => {
                let Some(v) = &mut self.validate else {
                    return Vec::new();
                };
                match v.on_key(&k) {
                    validate::Action::None => Vec::new(),
                    validate::Action::Back => {
                        let fx = self.stop_all();
                        if file.original != file.upload && self.columns.is_some() {
                            // A converted file: back to the mapping that produced it.
                            let original = FileChoice::plain(file.original.clone());
                            if let Some(c) = &mut self.columns {
                                c.converting = None;
                            }
                            self.step = Step::Columns {
                                tracker,
                                file: original,
                            };
                        } else {
                            self.go_file(tracker);
                        }
                        fx
                    }
                    validate::Action::SaveReport => match v.report() {
                        Some(r) => vec![Effect::SaveReport(r.clone())],
                        None => Vec::new(),
                    },
                    validate::Action::Columns => {
                        let _ = (tracker, file);
                        self.open_columns(false)
                    }
                    validate::Action::Continue => match (v.report().cloned(), v.ready_parts()) {
                        (Some(report), Some(parts)) if v.over_limit() => {
                            let file = FileChoice { parts, ..file };
                            self.go_confirm(tracker, file, report)
                        }
                        (Some(report), _) if !report.has_errors() && !v.over_limit() => {
                            let file = FileChoice {
                                parts: Vec::new(),
                                ..file
                            };
                            self.go_confirm(tracker, file, report)
                        }
                        _ => Vec::new(),
                    },
                    validate::Action::Split => self.start_split(),
                    validate::Action::CancelSplit => match &mut v.split {
                        Some(sp) => {
                            sp.error = Some("stopped by you".to_string());
                            vec![Effect::CancelValidation(sp.progress.clone())]
                        }
                        None => Vec::new(),
                    },
                }
            }
            Step::Columns { tracker, file } => {
                let Some(c) = &mut self.columns else {
                    return Vec::new();
                };
                let action = c.on_key(&k);
                let plan = c.take_plan_request();
                let plan_progress = c.plan_progress();
                let input = file.original.clone();
                let mut fx = match action {
                    columns::Action::None => Vec::new(),
                    columns::Action::Back => {
                        let mut fx = Vec::new();
                        if let Some(p) = c.converting.take() {
                            fx.push(Effect::CancelValidation(p));
                            self.convert_run = 0;
                        }
                        self.step = Step::Validate { tracker, file };
                        fx
                    }
                    columns::Action::Convert {
                        mapping,
                        save_shape,
                        clean,
                        fixes,
                    } => {
                        let progress = Arc::new(Progress::new());
                        c.converting = Some(progress.clone());
                        c.message = None;
                        let run = self.next_run;
                        self.next_run += 1;
                        self.convert_run = run;
                        let mut fx = vec![Effect::StartConvert {
                            run,
                            input: file.original.clone(),
                            mapping: mapping.clone(),
                            progress,
                            clean,
                            fixes,
                            checks: tracker.check_target(),
                        }];
                        if let Some(shape) = save_shape {
                            fx.extend(self.save_mapping(&tracker, &shape, &mapping));
                        }
                        fx
                    }
                };
                if let Some((generation, mapping, clean)) = plan
                    && matches!(self.step, Step::Columns { .. })
                {
                    fx.push(Effect::StartPlan {
                        generation,
                        input,
                        mapping: Box::new(mapping),
                        clean: Box::new(clean),
                        progress: plan_progress,
                    });
                }
                fx
            }
            Step::Confirm {
                tracker,
                file,
                report,
            } => {
                let Some(c) = &mut self.confirm else {
                    return Vec::new();
                };
                match c.on_key(&k) {
                    confirm::Action::None => Vec::new(),
                    confirm::Action::Back => {
                        self.step = Step::Validate { tracker, file };
                        Vec::new()
                    }
                    confirm::Action::Upload => self.start_upload(tracker, file, report),
                }
            }
            Step::Upload { .. } => {
                let Some(u) = &mut self.upload else {
                    return Vec::new();
                };
                match u.on_key(&k) {
                    upload::Action::None => Vec::new(),
                    upload::Action::Cancel => vec![Effect::CancelUpload(u.cancel.clone())],
                }
            }
            Step::Result {
                tracker,
                file,
                report,
                ..
            } => {
                let Some(r) = &mut self.result else {
                    return Vec::new();
                };
                match r.on_key(&k) {
                    result::Action::None => Vec::new(),
                    result::Action::Quit => self.quit_now(),
                    result::Action::File => {
                        self.go_file(tracker);
                        Vec::new()
                    }
                    result::Action::Retry => self.go_confirm(tracker, file, report),
                }
            }
        }
    }

    fn tracker_key(&mut self, k: &KeyEvent) -> Vec<Effect> {
        let mut fx = self.tracker_action(k);
        if matches!(self.step, Step::Tracker) {
            fx.extend(self.catalog_request());
        }
        fx
    }

    /// Read the selected tracker's stored catalog when it was not read yet.
    pub fn catalog_request(&mut self) -> Vec<Effect> {
        let name = self
            .config
            .trackers
            .get(self.tracker.selected)
            .map_or(tracker::SANDBOX_NAME.to_string(), |t| t.name.clone());
        if self.tracker.catalogs.contains_key(&name) {
            return Vec::new();
        }
        self.tracker
            .catalogs
            .insert(name.clone(), tracker::CatalogState::Loading);
        vec![Effect::LoadCatalog { name }]
    }

    /// Start fetching the catalog of `t` (stored under its name).
    fn fetch_catalog(&mut self, t: Tracker) -> Vec<Effect> {
        let cancel = CancellationToken::new();
        self.tracker.fetching = Some(tracker::Fetching {
            name: t.name.clone(),
            attempt: 1,
            cancel: cancel.clone(),
            ..Default::default()
        });
        vec![Effect::FetchCatalog {
            tracker: Box::new(t),
            cancel,
        }]
    }

    fn tracker_action(&mut self, k: &KeyEvent) -> Vec<Effect> {
        match self.tracker.on_key(k, &self.config) {
            tracker::Action::None => Vec::new(),
            tracker::Action::FetchCatalog(Some(i)) => match self.config.trackers.get(i) {
                Some(t) => self.fetch_catalog(t.clone()),
                None => Vec::new(),
            },
            tracker::Action::FetchCatalog(None) => match self.sandbox.clone() {
                Some(s) => self.fetch_catalog(s.tracker),
                None => {
                    self.tracker.pending_fetch = true;
                    self.tracker.busy = Some("starting the sandbox on 127.0.0.1…".to_string());
                    vec![Effect::StartSandbox]
                }
            },
            tracker::Action::CancelFetch => match &self.tracker.fetching {
                Some(f) => {
                    f.cancel.cancel();
                    self.tracker.message = Some((true, "stopping the catalog fetch…".to_string()));
                    Vec::new()
                }
                None => Vec::new(),
            },
            tracker::Action::Choose(i) => {
                let Some(t) = self.config.trackers.get(i) else {
                    return Vec::new();
                };
                let chosen = Chosen {
                    tracker: t.clone(),
                    sandbox: false,
                };
                self.chosen(chosen)
            }
            tracker::Action::Sandbox => match self.sandbox.clone() {
                Some(s) => self.chosen(s),
                None => {
                    self.tracker.busy = Some("starting the sandbox on 127.0.0.1…".to_string());
                    vec![Effect::StartSandbox]
                }
            },
            tracker::Action::Save { original, tracker } => {
                let mut cfg = self.config.clone();
                let res = match &original {
                    Some(name) => match cfg.trackers.iter().position(|t| &t.name == name) {
                        Some(i) => {
                            cfg.trackers[i] = (*tracker).clone();
                            Ok(i)
                        }
                        None => Err(format!("tracker {name} no longer exists")),
                    },
                    None => cfg
                        .add_tracker((*tracker).clone())
                        .map(|_| cfg.trackers.len() - 1)
                        .map_err(|e| e.to_string()),
                };
                match res {
                    Ok(i) => {
                        self.config = cfg;
                        self.tracker.form = None;
                        self.tracker.selected = i;
                        self.tracker.message = Some((true, format!("saving {}…", tracker.name)));
                        vec![Effect::SaveConfig(Box::new(self.config.clone()))]
                    }
                    Err(e) => {
                        if let Some(f) = &mut self.tracker.form {
                            f.error = Some(e);
                        }
                        Vec::new()
                    }
                }
            }
            tracker::Action::Delete(name) => match self.config.remove_tracker(&name) {
                Ok(_) => {
                    self.tracker.selected = self.tracker.selected.min(self.config.trackers.len());
                    self.tracker.message = Some((true, format!("deleted {name}")));
                    vec![Effect::SaveConfig(Box::new(self.config.clone()))]
                }
                Err(e) => {
                    self.tracker.message = Some((false, e.to_string()));
                    Vec::new()
                }
            },
        }
    }

    fn chosen(&mut self, chosen: Chosen) -> Vec<Effect> {
        match self.pending_file.take() {
            Some(f) => self.begin_file(chosen, f),
            None => {
                self.go_file(chosen);
                Vec::new()
            }
        }
    }

    fn remember_dir(&mut self, chosen: &Chosen, p: &std::path::Path) -> Vec<Effect> {
        if chosen.sandbox {
            return Vec::new();
        }
        let dir = p.parent().map(std::path::Path::to_path_buf);
        match self.config.tracker_mut(&chosen.tracker.name) {
            Some(t) if t.last_dir != dir && dir.is_some() => {
                t.last_dir = dir;
                vec![Effect::SaveConfig(Box::new(self.config.clone()))]
            }
            _ => Vec::new(),
        }
    }

    /// Go to the file step for this tracker (keeping the browser where it was, its directory
    /// read again).
    pub fn go_file(&mut self, tracker: Chosen) {
        if let Some(f) = self.file.as_mut() {
            f.reread();
        } else {
            let dir = tracker
                .tracker
                .last_dir
                .clone()
                .filter(|d| d.is_dir())
                .unwrap_or_else(|| self.start_dir.clone());
            self.file = Some(file::FileView::open(&dir));
        }
        self.step = Step::File { tracker };
    }

    /// Enter in the history: open the selected entry's saved report over the step.
    fn open_history_report(&mut self, sel: usize) {
        let Some(e) = self.history.get(sel) else {
            return;
        };
        let Some(path) = e.report.clone() else {
            self.notice = Some(
                "this upload has no saved report (older lbimport, or sent with --no-validate)"
                    .to_string(),
            );
            self.overlay = None;
            return;
        };
        match crate::report_store::load(&path) {
            Ok(l) => {
                self.report_viewer = Some(Box::new(
                    crate::tui::report_view::ReportViewer::embedded(self.theme.clone(), l),
                ))
            }
            Err(e) => {
                self.notice = Some(e.to_string());
                self.overlay = None;
            }
        }
    }

    /// A file given on the command line: validate it, or — when a reviewed saved report of
    /// it came along — go straight to Confirm.
    fn begin_file(&mut self, tracker: Chosen, f: PathBuf) -> Vec<Effect> {
        match self.reviewed.take() {
            Some(r) => self.start_reviewed(tracker, f, r),
            None => self.start_validation(tracker, FileChoice::plain(f)),
        }
    }

    /// Confirm for `tracker` with a saved report of `f` (checked unchanged by the report
    /// viewer) instead of a fresh validation; Esc from Confirm shows that report.
    pub fn start_reviewed(
        &mut self,
        tracker: Chosen,
        f: PathBuf,
        report: Arc<Report>,
    ) -> Vec<Effect> {
        let run = self.next_run;
        self.next_run += 1;
        let mut view = validate::ValidateView::new(run, f.clone(), Arc::new(Progress::new()), None);
        view.part_limit = self.part_bytes;
        view.result = Some(Ok(report.clone()));
        view.message = Some("from a saved report; the file was checked unchanged".to_string());
        self.validate = Some(view);
        self.go_confirm(tracker, FileChoice::plain(f), report)
    }

    /// Start validating `file` for `tracker`.
    pub fn start_validation(&mut self, tracker: Chosen, file: FileChoice) -> Vec<Effect> {
        let run = self.next_run;
        self.next_run += 1;
        let progress = Arc::new(Progress::new());
        let mut fx = self.stop_all();
        let mut view = validate::ValidateView::new(
            run,
            file.upload.clone(),
            progress.clone(),
            Some(Instant::now()),
        );
        view.part_limit = self.part_bytes;
        view.can_map = super::services::mapping_available()
            && file
                .original
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("txt"));
        self.validate = Some(view);
        self.confirm = None;
        fx.push(Effect::StartValidation {
            run,
            path: file.upload.clone(),
            progress,
            detect: file.original == file.upload,
            checks: tracker.check_target(),
        });
        self.step = Step::Validate { tracker, file };
        fx
    }

    /// Split the validated file (over the part limit) into parts, then validate each part.
    fn start_split(&mut self) -> Vec<Effect> {
        let Step::Validate { file, tracker } = &self.step else {
            return Vec::new();
        };
        let checks = tracker.check_target();
        let input = file.upload.clone();
        let stem = file
            .original
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "input".to_string());
        let run = self.next_run;
        let Some(v) = &mut self.validate else {
            return Vec::new();
        };
        let Some(format) = v.report().map(|r| r.file.format) else {
            return Vec::new();
        };
        self.next_run += 1;
        let progress = Arc::new(Progress::new());
        v.split = Some(super::steps::parts::SplitState::new(
            run,
            v.part_limit,
            progress.clone(),
            Some(Instant::now()),
        ));
        v.tab = validate::Tab::Parts;
        v.message = None;
        vec![Effect::SplitAndValidate {
            run,
            input,
            format,
            limit: v.part_limit,
            stem,
            progress,
            checks,
        }]
    }

    /// Open the Columns step for the file being validated (`auto`: because detection said
    /// it doesn't fit). A mapping saved for this tracker and shape is applied at once.
    fn open_columns(&mut self, auto: bool) -> Vec<Effect> {
        let Step::Validate { tracker, file } = self.step.clone() else {
            return Vec::new();
        };
        let detection = self
            .validate
            .as_ref()
            .and_then(|v| v.detection.clone())
            .map(|d| *d)
            .or_else(|| super::services::detect(&file.original));
        let Some(d) = detection else {
            if let Some(v) = &mut self.validate {
                v.message = Some("cannot read the file's columns".to_string());
            }
            return Vec::new();
        };
        let saved = super::services::saved_mapping(&tracker.tracker, &d.shape);
        let had_saved = saved.is_some();
        let mut view = columns::ColumnsView::new(file.original.clone(), d, saved, !tracker.sandbox);
        // the catalog and already-sent findings of the user's file's report become one-key
        // fixes; reopened from a converted file's report, the fixes chosen before stay
        if file.original == file.upload {
            if let Some(r) = self.validate.as_ref().and_then(|v| v.report()) {
                view.offer_fixes(r);
            }
        } else if let Some(prev) = &self.columns {
            view.keep_fixes(prev);
        }
        // the tracker's catalog decides between identity candidates (not over a saved mapping)
        let mut ranked = false;
        if !had_saved
            && let Some(tracker::CatalogState::Stored(ix, _)) =
                self.tracker.catalogs.get(&tracker.tracker.name)
        {
            ranked = view.rank_by_catalog(ix.clone()).is_some();
        }
        // the shop's zone saved with the tracker, for naive local times
        if view.time_zone.value.trim().is_empty()
            && let Some(z) = &tracker.tracker.time_zone
        {
            view.time_zone.value = z.clone();
        }
        let file_path = file.original.clone();
        self.step = Step::Columns { tracker, file };
        if had_saved && auto {
            view.message = Some("applied the mapping saved for this file shape".to_string());
            self.columns = Some(view);
            let k = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
            return self.on_key(k);
        }
        if ranked {
            // the catalog's choice of the identity column says more than the generic notice
        } else if auto {
            view.message = Some(
                "doesn't fit the documented layout — set each column's role, Enter converts"
                    .to_string(),
            );
        } else if had_saved {
            view.message = Some("the mapping saved for this file shape is filled in".to_string());
        }
        let fx = match view.take_plan_request() {
            Some((generation, mapping, clean)) => vec![Effect::StartPlan {
                generation,
                input: file_path,
                mapping: Box::new(mapping),
                clean: Box::new(clean),
                progress: view.plan_progress(),
            }],
            None => Vec::new(),
        };
        self.columns = Some(view);
        fx
    }

    fn save_mapping(
        &mut self,
        chosen: &Chosen,
        shape: &str,
        mapping: &crate::mapping::Mapping,
    ) -> Vec<Effect> {
        let saved = crate::mapping::SavedMapping::new(shape, None, mapping.clone());
        let Some(t) = self.config.tracker_mut(&chosen.tracker.name) else {
            return Vec::new();
        };
        crate::mapping::saved::upsert(t, saved.clone());
        if let Step::Columns { tracker, .. } = &mut self.step {
            crate::mapping::saved::upsert(&mut tracker.tracker, saved);
        }
        vec![Effect::SaveConfig(Box::new(self.config.clone()))]
    }

    /// Enter Confirm; the endpoint's clock is read in the background.
    fn go_confirm(
        &mut self,
        tracker: Chosen,
        file: FileChoice,
        report: Arc<Report>,
    ) -> Vec<Effect> {
        let (duplicate, part_duplicates) = if file.parts.is_empty() {
            (
                self.find_duplicate(&tracker.tracker.tracker_id, &report.file.sha256),
                Vec::new(),
            )
        } else {
            let dups = file
                .parts
                .iter()
                .map(|p| self.find_duplicate(&tracker.tracker.tracker_id, &p.report.file.sha256))
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
            (confirm::Guard::of(&[&report]), None)
        } else {
            let all: Vec<&Report> = file.parts.iter().map(|p| &*p.report).collect();
            let unsent: Vec<&Report> = file
                .parts
                .iter()
                .zip(&part_duplicates)
                .filter(|(_, d)| d.is_none())
                .map(|(p, _)| &*p.report)
                .collect();
            (confirm::Guard::of(&all), Some(confirm::Guard::of(&unsent)))
        };
        let run = self.next_run;
        self.next_run += 1;
        let fx = vec![Effect::MeasureClockSkew {
            run,
            base_url: tracker.tracker.base_url.clone(),
        }];
        self.confirm = Some(confirm::ConfirmView {
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
        });
        self.step = Step::Confirm {
            tracker,
            file,
            report,
        };
        fx
    }

    /// The newest history entry that sent these bytes to this tracker (accepted or unknown).
    pub fn find_duplicate(&self, tracker_id: &str, sha256: &str) -> Option<HistoryEntry> {
        self.history
            .iter()
            .filter(|e| {
                e.outcome.counts_as_sent()
                    && e.tracker_id == tracker_id
                    && e.sha256.eq_ignore_ascii_case(sha256)
            })
            .max_by_key(|e| e.time)
            .cloned()
    }

    fn start_upload(
        &mut self,
        tracker: Chosen,
        file: FileChoice,
        report: Arc<Report>,
    ) -> Vec<Effect> {
        if !file.parts.is_empty() {
            let already = match &self.confirm {
                Some(c) if !c.override_duplicate => c.part_duplicates.clone(),
                _ => Vec::new(),
            };
            let pr = super::steps::parts::PartsRun::new(file.parts.clone(), already);
            if pr.next_waiting().is_none() {
                return Vec::new();
            }
            self.result = None;
            self.step = Step::Upload {
                tracker: tracker.clone(),
                file,
                report,
            };
            return self.start_part(&tracker, pr);
        }
        let (view, fx) = self.upload_run(&tracker, file.upload.clone(), &report);
        self.upload = Some(view);
        self.result = None;
        self.step = Step::Upload {
            tracker,
            file,
            report,
        };
        fx
    }

    /// A new upload run of the file at `path` (validated as `report`): its view and the effect
    /// that starts it.
    fn upload_run(
        &mut self,
        tracker: &Chosen,
        path: PathBuf,
        report: &Report,
    ) -> (upload::UploadView, Vec<Effect>) {
        let run = self.next_run;
        self.next_run += 1;
        let view = upload::UploadView::new(run, report.file.bytes, Some(Instant::now()));
        let fx = vec![Effect::StartUpload {
            run,
            tracker: Box::new(tracker.tracker.clone()),
            path,
            format: report.file.format,
            stats: (report.file.bytes, report.stats.rows, report.stats.orders),
            sha256: report.file.sha256.clone(),
            cancel: view.cancel.clone(),
            allow_duplicate: self.confirm.as_ref().is_some_and(|c| c.override_duplicate),
            report: Arc::new(report.clone()),
        }];
        (view, fx)
    }

    /// Send the next waiting part of a multi-part upload.
    fn start_part(
        &mut self,
        tracker: &Chosen,
        mut pr: super::steps::parts::PartsRun,
    ) -> Vec<Effect> {
        let Some(i) = pr.next_waiting() else {
            return Vec::new();
        };
        pr.status[i] = super::steps::parts::PartStatus::Sending;
        pr.current = Some(i);
        let part = pr.parts[i].clone();
        let (mut view, fx) = self.upload_run(tracker, part.path.clone(), &part.report);
        view.parts = Some(pr);
        self.upload = Some(view);
        fx
    }

    fn on_msg(&mut self, m: Msg) -> Vec<Effect> {
        match m {
            Msg::SandboxReady(Ok(t)) => {
                self.tracker.busy = None;
                let chosen = Chosen {
                    tracker: t,
                    sandbox: true,
                };
                self.sandbox = Some(chosen.clone());
                if std::mem::take(&mut self.tracker.pending_fetch) {
                    return self.fetch_catalog(chosen.tracker);
                }
                if matches!(self.step, Step::Tracker) {
                    return self.chosen(chosen);
                }
                Vec::new()
            }
            Msg::CatalogLoaded { name, result, now } => {
                let state = match result {
                    Ok(Some(ix)) => tracker::CatalogState::Stored(ix, now),
                    Ok(None) => tracker::CatalogState::Missing,
                    Err(e) => tracker::CatalogState::Unreadable(e),
                };
                self.tracker.catalogs.insert(name, state);
                Vec::new()
            }
            Msg::SentNotRecorded(e) => {
                self.notice = Some(format!(
                    "could not record the sent orders ({}) — the already-sent check will not see them",
                    ui::sanitize(&e, 120)
                ));
                Vec::new()
            }
            Msg::CatalogProgress { name, event } => {
                if let Some(f) = &mut self.tracker.fetching
                    && f.name == name
                {
                    match event {
                        crate::catalog::FetchEvent::Started { attempt } => {
                            f.attempt = attempt;
                            f.got = 0;
                        }
                        crate::catalog::FetchEvent::Page { got, total } => {
                            f.got = got;
                            f.total = total;
                        }
                    }
                }
                Vec::new()
            }
            Msg::CatalogFetched { name, result } => {
                self.tracker.fetching = None;
                match result {
                    Ok(n) => {
                        self.tracker.message = Some((
                            true,
                            format!(
                                "catalog of {}: {} items stored",
                                ui::sanitize(&name, 40),
                                ui::count(n)
                            ),
                        ));
                        self.tracker
                            .catalogs
                            .insert(name.clone(), tracker::CatalogState::Loading);
                        vec![Effect::LoadCatalog { name }]
                    }
                    Err(e) => {
                        self.tracker.message = Some((
                            false,
                            format!(
                                "catalog not fetched (the stored one is kept): {}",
                                ui::sanitize(&e, 200)
                            ),
                        ));
                        Vec::new()
                    }
                }
            }
            Msg::SandboxReady(Err(e)) => {
                self.tracker.pending_fetch = false;
                self.tracker.busy = None;
                self.tracker.message = Some((false, format!("cannot start the sandbox: {e}")));
                Vec::new()
            }
            Msg::ConfigSaved(r) => {
                let m = match r {
                    Ok(p) => (true, format!("saved to {}", p.display())),
                    Err(e) => (false, format!("not saved: {e}")),
                };
                if matches!(self.step, Step::Tracker) {
                    self.tracker.message = Some(m);
                } else if !m.0 {
                    self.notice = Some(m.1);
                }
                Vec::new()
            }
            Msg::Validated {
                run,
                result,
                detection,
                skipped,
            } => {
                let mut route = false;
                let mut split = false;
                if let Some(v) = &mut self.validate
                    && v.run == run
                {
                    v.snap = v.progress.snapshot();
                    if let Some(s) = v.started {
                        v.elapsed = s.elapsed();
                    }
                    // A file that validates in the documented layout is never remapped: the
                    // Columns step opens on its own only when the file has errors as it is.
                    let has_errors = result.as_ref().is_ok_and(|r| r.has_errors());
                    route = has_errors && detection.as_ref().is_some_and(|d| !d.fits);
                    if let Some(d) = &detection {
                        v.can_map = true;
                        if !d.fits && has_errors {
                            v.message = Some(
                                "this file doesn't fit the documented layout — m maps its columns"
                                    .to_string(),
                            );
                        }
                    }
                    v.detection = detection;
                    v.checks_skipped = skipped;
                    v.result = Some(result);
                    split = v.over_limit()
                        && matches!(&self.step, Step::Validate { file, .. } if file.original != file.upload);
                }
                if route && matches!(self.step, Step::Validate { .. }) {
                    return self.open_columns(true);
                }
                if split {
                    // A converted file over the limit: split it right away.
                    return self.start_split();
                }
                Vec::new()
            }
            Msg::Converted { run, result } => {
                let Step::Columns { tracker, file } = self.step.clone() else {
                    return Vec::new();
                };
                if self.convert_run != run {
                    return Vec::new();
                }
                match result {
                    Ok((out, summary, notes)) => {
                        let mapping = self
                            .columns
                            .as_ref()
                            .and_then(|c| c.mapping().ok())
                            .map(|m| m.describe())
                            .unwrap_or_default();
                        let mut t = vec![format!("columns {mapping}")];
                        t.push(format!(
                            "{} rows in, {} out, {} invalid",
                            summary.rows_in, summary.rows_out, summary.invalid
                        ));
                        if summary.header_skipped {
                            t.push("header row dropped".to_string());
                        }
                        if summary.bom_stripped {
                            t.push("BOM stripped".to_string());
                        }
                        if summary.trimmed > 0 {
                            t.push(format!("ids trimmed in {} rows", summary.trimmed));
                        }
                        if summary.duplicates_dropped > 0 {
                            t.push(format!(
                                "{} duplicate rows dropped",
                                summary.duplicates_dropped
                            ));
                        }
                        if summary.invalid_excluded > 0 {
                            t.push(format!(
                                "{} invalid rows excluded (to {})",
                                summary.invalid_excluded,
                                columns::invalid_name(&file.original)
                            ));
                        }
                        if summary.orders_dropped > 0 {
                            let limit = self
                                .columns
                                .as_ref()
                                .and_then(|c| c.clean.max_items)
                                .unwrap_or_default();
                            t.push(format!(
                                "{} orders over {limit} items dropped ({} rows)",
                                summary.orders_dropped, summary.rows_in_dropped_orders
                            ));
                        }
                        if summary.timestamps > 0 {
                            t.push(format!(
                                "{} timestamps converted to UTC",
                                summary.timestamps
                            ));
                        }
                        // what the report's fixes did, said in Columns (when going back) and
                        // while the converted file is validated
                        let said = (!notes.is_empty()).then(|| notes.join("; "));
                        if let Some(c) = &mut self.columns {
                            c.converting = None;
                            c.message = said.clone();
                        }
                        t.extend(notes);
                        let choice = FileChoice {
                            original: file.original.clone(),
                            upload: out,
                            transformations: t,
                            parts: Vec::new(),
                        };
                        let fx = self.start_validation(tracker, choice);
                        if let (Some(v), Some(m)) = (&mut self.validate, said) {
                            v.message = Some(m);
                        }
                        fx
                    }
                    Err(e) => {
                        if let Some(c) = &mut self.columns {
                            c.converting = None;
                            c.message = Some(format!("conversion failed: {e}"));
                        }
                        Vec::new()
                    }
                }
            }
            Msg::Planned { generation, result } => {
                if let Some(c) = &mut self.columns {
                    c.on_plan(generation, result);
                }
                Vec::new()
            }
            Msg::SplitDone { run, result } => {
                if let Some(sp) = self.validate.as_mut().and_then(|v| v.split.as_mut())
                    && sp.run == run
                    && sp.error.is_none()
                {
                    match result {
                        Ok(paths) => sp.split_done(paths),
                        Err(e) => sp.error = Some(e),
                    }
                    sp.snap = sp.progress.snapshot();
                }
                Vec::new()
            }
            Msg::PartValidated { run, index, result } => {
                if let Some(sp) = self.validate.as_mut().and_then(|v| v.split.as_mut())
                    && sp.run == run
                    && sp.error.is_none()
                    && let Some(slot) = sp.reports.get_mut(index)
                {
                    if let Err(e) = &result
                        && e == "cancelled"
                    {
                        sp.error = Some("stopped by you".to_string());
                    }
                    *slot = Some(result);
                    if !sp.running()
                        && let Some(s) = sp.started
                    {
                        sp.elapsed = s.elapsed();
                    }
                }
                Vec::new()
            }
            Msg::ReportSaved(r) => {
                if let Some(v) = &mut self.validate {
                    v.saved = Some(r);
                }
                Vec::new()
            }
            Msg::ClockSkew { run, result } => {
                if let Some(c) = &mut self.confirm
                    && c.skew_run == run
                {
                    c.skew = Some(result);
                }
                Vec::new()
            }
            Msg::Upload { run, event } => {
                if let Some(u) = &mut self.upload
                    && u.run == run
                {
                    u.apply(event);
                }
                Vec::new()
            }
            Msg::UploadDone {
                run,
                outcome,
                entry,
                history_error,
            } => {
                if let Some(e) = &entry {
                    self.history.insert(0, e.clone());
                }
                if self.upload.as_ref().is_none_or(|u| u.run != run) {
                    return Vec::new();
                }
                if let Step::Upload {
                    tracker,
                    file,
                    report,
                } = self.step.clone()
                {
                    let mut parts = self.upload.as_mut().and_then(|u| u.parts.take());
                    if let Some(pr) = &mut parts {
                        if let Some(i) = pr.current {
                            pr.status[i] = super::steps::parts::PartStatus::Done {
                                outcome: outcome.clone(),
                                entry: entry.clone(),
                                history_error: history_error.clone(),
                            };
                        }
                        if matches!(outcome, UploadOutcome::Accepted { .. })
                            && pr.next_waiting().is_some()
                        {
                            let pr = pr.clone();
                            return self.start_part(&tracker, pr);
                        }
                        // Never send later parts after one did not go through.
                        pr.stop();
                    }
                    self.result = Some(result::ResultView {
                        outcome: outcome.clone(),
                        entry,
                        history_error,
                        parts,
                    });
                    self.step = Step::Result {
                        tracker,
                        file,
                        report,
                        outcome,
                    };
                }
                Vec::new()
            }
        }
    }

    /// The keys that act now (they feed the hint bar): an open overlay's, else the step's.
    pub fn keys(&self) -> Vec<KeyHint> {
        if let Some(v) = &self.report_viewer {
            return v.keys();
        }
        match &self.overlay {
            Some(Overlay::Help) => vec![hint("Esc/?", "close", "Close the help")],
            Some(Overlay::History(_)) => vec![
                hint("↑↓", "select", "Select an upload"),
                hint("Enter", "report", "Open the upload's saved report"),
                hint("Esc/h", "close", "Close the history"),
            ],
            Some(Overlay::Quit(_)) => vec![
                hint("y", "quit", "Quit (work in progress is lost)"),
                hint("n", "stay", "Stay in lbimport"),
            ],
            None => self.step_keys(),
        }
    }

    /// Key bindings of the current step (the help overlay lists them).
    pub fn step_keys(&self) -> Vec<KeyHint> {
        if let Some(v) = &self.report_viewer {
            return v.keys();
        }
        match &self.step {
            Step::Tracker => self.tracker.keys(),
            Step::File { .. } => self.file.as_ref().map(|f| f.keys()).unwrap_or_default(),
            Step::Validate { .. } => self.validate.as_ref().map(|v| v.keys()).unwrap_or_default(),
            Step::Columns { .. } => self.columns.as_ref().map(|c| c.keys()).unwrap_or_default(),
            Step::Confirm { .. } => self.confirm.as_ref().map(|c| c.keys()).unwrap_or_default(),
            Step::Upload { .. } => self.upload.as_ref().map(|u| u.keys()).unwrap_or_default(),
            Step::Result { .. } => self.result.as_ref().map(|r| r.keys()).unwrap_or_default(),
        }
    }

    /// Keys that work on every step.
    pub fn global_keys() -> Vec<KeyHint> {
        vec![
            hint("?", "help", "Show or hide this help"),
            hint("h", "history", "Show the upload history (from any step)"),
            hint("Esc", "back", "Back to the previous step; answers are kept"),
            hint("q", "quit", "Quit (asks first when work would be lost)"),
            hint(
                "Ctrl-C",
                "quit now",
                "Quit at once, cancelling a running upload",
            ),
        ]
    }

    /// Draw the whole screen.
    pub fn draw(&self, frame: &mut Frame) {
        let area = frame.area();
        let t = &self.theme;
        if area.width < ui::MIN_WIDTH || area.height < ui::MIN_HEIGHT {
            let msg = format!(
                "terminal too small — need {}×{} (now {}×{})",
                ui::MIN_WIDTH,
                ui::MIN_HEIGHT,
                area.width,
                area.height
            );
            let r = ui::centered(area, area.width, 1);
            frame.render_widget(
                Paragraph::new(Line::styled(msg, t.warning))
                    .alignment(ratatui::layout::Alignment::Center),
                r,
            );
            return;
        }
        let [crumb, body, status, keys] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(10),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        self.draw_breadcrumb(frame, crumb);
        self.draw_step(frame, body);
        self.draw_status(frame, status);
        ui::draw_key_bar(frame, keys, t, &self.keys());
        match &self.overlay {
            None => {}
            Some(Overlay::Help) => self.draw_help(frame, body),
            Some(Overlay::History(s)) => self.draw_history(frame, body, *s),
            Some(Overlay::Quit(reason)) => ui::popup(
                frame,
                body,
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
        if let Some(v) = &self.report_viewer {
            frame.render_widget(Clear, body);
            v.draw_in(frame, body);
        }
    }

    fn draw_breadcrumb(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let cur = self.step.index();
        let mut spans = vec![
            Span::styled(" lbimport ", t.title),
            Span::styled("│ ", t.border),
        ];
        for (i, name) in STEP_NAMES.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" › ", t.muted));
            }
            if i == cur {
                spans.push(Span::styled(
                    format!("[{name}]"),
                    t.accent.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                ));
            } else if i < cur {
                spans.push(Span::styled(*name, t.text));
            } else {
                spans.push(Span::styled(*name, t.muted));
            }
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    fn draw_status(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let mut spans = vec![Span::raw(" ")];
        if let Some(n) = &self.notice {
            spans.push(Span::styled(ui::sanitize(n, 200), t.warning));
        } else {
            if let Some(c) = self.step.tracker() {
                spans.push(Span::styled("tracker ", t.muted));
                spans.push(Span::styled(ui::sanitize(&c.tracker.name, 30), t.text));
                spans.push(Span::styled(
                    format!(" ({})", ui::sanitize(&c.tracker.tracker_id, 24)),
                    t.muted,
                ));
            }
            if let Some(f) = self.step.file() {
                spans.push(Span::styled("  file ", t.muted));
                let name = f
                    .original
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                spans.push(Span::styled(ui::sanitize(&name, 40), t.text));
            }
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    fn draw_step(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        match &self.step {
            Step::Tracker => self.tracker.draw(
                frame,
                area,
                t,
                &self.config,
                &self.history,
                self.sandbox.is_some(),
            ),
            Step::File { .. } => {
                if let Some(f) = &self.file {
                    f.draw(frame, area, t);
                }
            }
            Step::Validate { .. } => {
                if let Some(v) = &self.validate {
                    v.draw(frame, area, t);
                }
            }
            Step::Columns { .. } => {
                if let Some(c) = &self.columns {
                    c.draw(frame, area, t);
                }
            }
            Step::Confirm {
                tracker,
                file,
                report,
            } => {
                if let Some(c) = &self.confirm {
                    c.draw(frame, area, t, tracker, file, report);
                }
            }
            Step::Upload { tracker, file, .. } => {
                if let Some(u) = &self.upload {
                    let current = u
                        .parts
                        .as_ref()
                        .and_then(|p| p.current.and_then(|i| p.parts.get(i)))
                        .map(|p| p.path.clone());
                    let name = current
                        .as_ref()
                        .unwrap_or(&file.upload)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let endpoint = format!(
                        "POST {}{}",
                        tracker.tracker.base_url,
                        crate::spec::endpoint_path(&tracker.tracker.tracker_id)
                    );
                    u.draw(frame, area, t, &name, &endpoint);
                }
            }
            Step::Result {
                tracker,
                file,
                report,
                ..
            } => {
                if let Some(r) = &self.result {
                    if r.parts.is_some() {
                        r.draw_parts(frame, area, t, &tracker.tracker.name);
                    } else {
                        r.draw(
                            frame,
                            area,
                            t,
                            &report.file.sha256,
                            &file.upload.display().to_string(),
                        );
                    }
                }
            }
        }
    }

    fn draw_help(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let mut lines = vec![Line::styled(format!("{} step", self.step.name()), t.title)];
        let line = |k: &KeyHint| {
            Line::from(vec![
                Span::styled(
                    format!("  {:<10}", k.key),
                    t.accent.add_modifier(Modifier::BOLD),
                ),
                Span::styled(k.description, t.text),
            ])
        };
        for k in self
            .step_keys()
            .iter()
            .filter(|k| k.key != "?" && k.key != "q" && k.key != "h")
        {
            lines.push(line(k));
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled("Everywhere", t.title));
        for k in &Self::global_keys() {
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

    fn draw_history(&self, frame: &mut Frame, area: Rect, scroll: usize) {
        let t = &self.theme;
        let r = Rect {
            x: area.x + 2,
            y: area.y + 1,
            width: area.width.saturating_sub(4),
            height: area.height.saturating_sub(2),
        };
        frame.render_widget(Clear, r);
        let mut lines = Vec::new();
        if self.history.is_empty() {
            lines.push(Line::styled("no uploads yet", t.muted));
        }
        for (i, e) in self.history.iter().enumerate().skip(scroll) {
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
                    self.history.len()
                ),
            )),
            r,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(app: &App) -> String {
        super::super::demo::text(&super::super::demo::render(app, 120, 40))
    }

    fn at_confirm() -> (App, u64, String) {
        let theme = Theme::default();
        let (_, mut app) = super::super::demo::apps(&theme)
            .into_iter()
            .find(|(n, _)| *n == "validate")
            .expect("demo validate state");
        let fx = app.handle(Input::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::NONE,
        )));
        assert_eq!(app.step.name(), "Confirm");
        let (run, base_url) = match fx.as_slice() {
            [Effect::MeasureClockSkew { run, base_url }] => (*run, base_url.clone()),
            other => panic!("{other:?}"),
        };
        (app, run, base_url)
    }

    #[test]
    fn confirm_measures_the_clock_and_shows_the_skew() {
        let (mut app, run, base_url) = at_confirm();
        let tracker = app.step.tracker().expect("tracker");
        assert_eq!(base_url, tracker.tracker.base_url);
        let c = app.confirm.as_ref().expect("confirm");
        assert_eq!((c.skew.clone(), c.skew_run), (None, run));
        assert!(screen(&app).contains("clock skew measuring…"));

        // An answer of an older measurement is ignored.
        app.handle(Input::Msg(Msg::ClockSkew {
            run: run + 100,
            result: Ok(9_000),
        }));
        assert_eq!(app.confirm.as_ref().and_then(|c| c.skew.clone()), None);

        app.handle(Input::Msg(Msg::ClockSkew {
            run,
            result: Ok(1_234),
        }));
        assert_eq!(
            app.confirm.as_ref().and_then(|c| c.skew.clone()),
            Some(Ok(1_234))
        );
        let s = screen(&app);
        assert!(s.contains("clock skew +1.2 s (within ±5 s)"), "{s}");

        app.handle(Input::Msg(Msg::ClockSkew {
            run,
            result: Ok(3_400),
        }));
        let s = screen(&app);
        assert!(
            s.contains("server is 3.4 s ahead — uploads are signed with the server's time"),
            "{s}"
        );
        let c = app.confirm.as_ref().expect("confirm");
        assert_eq!(c.skew_text(&app.theme).1, app.theme.warning);

        app.handle(Input::Msg(Msg::ClockSkew {
            run,
            result: Ok(-2_600),
        }));
        assert!(screen(&app).contains("server is 2.6 s behind"));

        app.handle(Input::Msg(Msg::ClockSkew {
            run,
            result: Err("connection refused".into()),
        }));
        let s = screen(&app);
        assert!(
            s.contains(
                "could not check: connection refused — checked again when the upload starts"
            ),
            "{s}"
        );
    }

    #[test]
    fn going_back_to_confirm_measures_again() {
        let (mut app, run, _) = at_confirm();
        app.handle(Input::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
        assert_eq!(app.step.name(), "Validate");
        let fx = app.handle(Input::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::NONE,
        )));
        match fx.as_slice() {
            [Effect::MeasureClockSkew { run: r2, .. }] => assert_ne!(*r2, run),
            other => panic!("{other:?}"),
        }
        app.handle(Input::Msg(Msg::ClockSkew {
            run,
            result: Ok(100),
        }));
        assert_eq!(app.confirm.as_ref().and_then(|c| c.skew.clone()), None);
    }

    #[test]
    fn columns_convert_effect_carries_the_toggles_and_plans_are_tagged() {
        let theme = Theme::default();
        let (_, mut app) = super::super::demo::apps(&theme)
            .into_iter()
            .find(|(n, _)| *n == "columns")
            .expect("demo columns state");
        let press = |app: &mut App, c: KeyCode| {
            app.handle(Input::Key(KeyEvent::new(c, KeyModifiers::NONE)))
        };
        // A new order-size limit asks for a new whole-file count, tagged with a new generation.
        assert!(
            press(&mut app, KeyCode::Char('l')).is_empty(),
            "100: same count"
        );
        let generation = match press(&mut app, KeyCode::Char('l')).as_slice() {
            [
                Effect::StartPlan {
                    generation, clean, ..
                },
            ] => {
                assert_eq!(clean.max_order_items, Some(50));
                *generation
            }
            other => panic!("{other:?}"),
        };
        let stale = crate::mapping::convert::ConvertSummary {
            duplicates: 999,
            ..Default::default()
        };
        app.handle(Input::Msg(Msg::Planned {
            generation: generation - 1,
            result: Ok(stale),
        }));
        assert!(!screen(&app).contains("999"));
        let fresh = crate::mapping::convert::ConvertSummary {
            rows_in: 10,
            duplicates: 5,
            ..Default::default()
        };
        app.handle(Input::Msg(Msg::Planned {
            generation,
            result: Ok(fresh),
        }));
        assert!(screen(&app).contains("drop duplicates (D) — 5 rows"));
        press(&mut app, KeyCode::Char('w'));
        press(&mut app, KeyCode::Char('e'));
        let fx = press(&mut app, KeyCode::Enter);
        let clean = fx
            .iter()
            .find_map(|f| match f {
                Effect::StartConvert { clean, .. } => Some(clean.clone()),
                _ => None,
            })
            .expect("convert effect");
        assert_eq!(
            *clean,
            crate::mapping::convert::Clean {
                strip_bom: true,
                trim_ids: true,
                dedupe: true,
                exclude_invalid: Some(PathBuf::from("shopify-export.invalid.csv")),
                max_order_items: Some(50),
            }
        );
    }
}
