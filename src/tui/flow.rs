//! What the wizard's parts share: the answers carried from step to step ([`Chosen`],
//! [`FileChoice`]), the messages background work sends back ([`Msg`]), the work a step asks
//! the run loop to do ([`Effect`]), and the contract every step implements ([`StepScreen`]:
//! its keys, its update → [`Transition`], its drawing, given a [`Cx`]). The steps
//! (`steps/*`) and the router (`app`) both build on this module; it uses neither.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use tokio_util::sync::CancellationToken;

use super::services::{UploadEvent, UploadOutcome};
use super::theme::Theme;
use super::ui::KeyHint;
use crate::config::{Config, HistoryEntry, Tracker};
use crate::read::Format;
use crate::validate::lookup::IdentityFix;
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
    /// The file was read again with other hints for the Columns step.
    Detected {
        /// Its run id.
        run: u64,
        /// What the file looks like now, or why it cannot be read.
        result: Result<Box<crate::mapping::detect::Detection>, String>,
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
        result: Result<Arc<Report>, TaskError>,
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
        fixes: ReportFixes,
        /// The tracker whose catalog and sent orders the fixes use.
        checks: CheckTarget,
    },
    /// Read the start of a file again with other hints (answer: [`Msg::Detected`]).
    Detect {
        /// Run id.
        run: u64,
        /// The user's file.
        path: PathBuf,
        /// Delimiter, header, encoding, items as chosen.
        hints: Box<crate::mapping::detect::Hints>,
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

/// The fixes from the validation report chosen for a conversion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFixes {
    /// Identity rewrites (the catalog-needing ones use the tracker's stored catalog).
    pub identity: Vec<IdentityFix>,
    /// Leave out every row of an order already sent to the tracker.
    pub only_new: bool,
}

/// A tracker's stored catalog, as the wizard knows it.
#[derive(Debug, Clone)]
pub enum CatalogState {
    /// Being read from the data directory.
    Loading,
    /// None stored.
    Missing,
    /// Stored: its look-up index, and the time (seconds since the epoch) it was read at.
    Stored(Arc<crate::validate::lookup::CatalogIndex>, u64),
    /// Stored but unreadable.
    Unreadable(String),
}

/// What a step may read and change besides its own state: the wizard's shared state.
pub struct Cx<'a> {
    /// Colours.
    pub theme: &'a Theme,
    /// Saved trackers (a step that changes them also returns [`Effect::SaveConfig`]).
    pub config: &'a mut Config,
    /// Upload history, newest first.
    pub history: &'a [HistoryEntry],
    /// Where the file browser first opens.
    pub start_dir: &'a Path,
    /// Largest file sent in one upload.
    pub part_bytes: u64,
    /// The trackers' stored catalogs, by tracker name.
    pub catalogs: &'a std::collections::BTreeMap<String, CatalogState>,
    /// The one-line notice at the bottom.
    pub notice: &'a mut Option<String>,
    /// The next run id (every background run gets its own, so stale answers are ignored).
    pub next_run: &'a mut u64,
    /// The running sandbox's tracker.
    pub sandbox: Option<&'a Chosen>,
}

/// What a step may read while drawing.
pub struct DrawCx<'a> {
    /// Colours.
    pub theme: &'a Theme,
    /// Saved trackers.
    pub config: &'a Config,
    /// Upload history, newest first.
    pub history: &'a [HistoryEntry],
    /// The trackers' stored catalogs, by tracker name.
    pub catalogs: &'a std::collections::BTreeMap<String, CatalogState>,
    /// Whether the sandbox is running.
    pub sandbox_running: bool,
}

/// Why background work produced nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskError {
    /// The user stopped it.
    Cancelled,
    /// It failed (why, in words).
    Failed(String),
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskError::Cancelled => f.write_str("cancelled"),
            TaskError::Failed(e) => f.write_str(e),
        }
    }
}

impl Cx<'_> {
    /// A new run id.
    pub fn run(&mut self) -> u64 {
        let r = *self.next_run;
        *self.next_run += 1;
        r
    }

    /// The stored catalog index of the tracker named `name`, when it was read.
    pub fn catalog(&self, name: &str) -> Option<Arc<crate::validate::lookup::CatalogIndex>> {
        match self.catalogs.get(name) {
            Some(CatalogState::Stored(ix, _)) => Some(ix.clone()),
            _ => None,
        }
    }

    /// The newest history entry that sent these bytes to this tracker (accepted or unknown).
    pub fn find_duplicate(&self, tracker_id: &str, sha256: &str) -> Option<HistoryEntry> {
        crate::config::history::newest_sent(self.history, tracker_id, sha256).cloned()
    }
}

/// The answers a step hands on to the next one (the router builds that step from them).
#[derive(Debug, Clone)]
pub enum Next {
    /// Choose a file for this tracker.
    File(Chosen),
    /// Validate this file for this tracker (with a note shown while it runs).
    Validate(Chosen, FileChoice, Option<String>),
    /// Map the columns of the file being validated (`auto`: because it doesn't fit).
    Columns {
        /// Opened on its own, not by the user.
        auto: bool,
    },
    /// Confirm sending the validated file.
    Confirm(Chosen, FileChoice, Arc<Report>),
    /// Send it.
    Upload {
        /// Answer of step 1.
        tracker: Chosen,
        /// Answers of steps 2 and 4.
        file: FileChoice,
        /// Answer of step 3.
        report: Arc<Report>,
        /// The user chose to send bytes the history has as sent already.
        allow_duplicate: bool,
        /// For parts: the earlier upload of each part (those are skipped).
        already: Vec<Option<HistoryEntry>>,
    },
}

/// An earlier step a later one can go back to past the ones between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// The file browser (to pick another file).
    File,
    /// The validation (to confirm again).
    Validate,
}

/// Where the wizard goes after a step handled an input.
#[derive(Debug)]
pub enum Nav {
    /// Stay on this step.
    Stay,
    /// Go on to a new step (going back returns here, with this step as it was).
    Push(Next),
    /// Back to the previous step (its answers and view as they were).
    Back,
    /// Back to the newest earlier step of this kind (kept as it was), then on to `Next`.
    Rewind(Mark, Option<Next>),
    /// Leave the wizard.
    Quit,
}

/// What a step's update returns: the work for the run loop and where to go.
#[derive(Debug)]
pub struct Transition {
    /// Work for the run loop.
    pub fx: Vec<Effect>,
    /// Where the wizard goes.
    pub nav: Nav,
}

impl Transition {
    /// Stay, with these effects.
    pub fn stay(fx: Vec<Effect>) -> Self {
        Transition { fx, nav: Nav::Stay }
    }

    /// Stay, doing nothing.
    pub fn none() -> Self {
        Self::stay(Vec::new())
    }

    /// Go to `nav`, with these effects.
    pub fn to(nav: Nav, fx: Vec<Effect>) -> Self {
        Transition { fx, nav }
    }
}

impl From<Vec<Effect>> for Transition {
    fn from(fx: Vec<Effect>) -> Self {
        Transition::stay(fx)
    }
}

/// The contract of a wizard step: its keys (hint bar and help), what a key does, how it
/// draws, and what it asks of the wizard as a whole (text capture, work at risk, what to
/// cancel when leaving).
pub trait StepScreen {
    /// The keys that act now (from the step's binding table; disabled keys are absent).
    fn keys(&self, cx: &DrawCx) -> Vec<KeyHint>;
    /// Apply a key press.
    fn update(&mut self, key: &KeyEvent, cx: &mut Cx) -> Transition;
    /// Draw the step into `area`.
    fn draw(&self, frame: &mut Frame, area: Rect, cx: &DrawCx);
    /// Whether typed characters go to a text field (global keys then don't apply).
    fn captures_text(&self) -> bool {
        false
    }
    /// The render tick.
    fn tick(&mut self, _now: Instant) {}
    /// Whether quitting now would lose work, and what.
    fn work_at_risk(&self) -> Option<String> {
        None
    }
    /// What to cancel when the wizard quits or leaves the step.
    fn stop(&self) -> Vec<Effect> {
        Vec::new()
    }
    /// Shown again after going back to it.
    fn resume(&mut self) {}
}
