//! The wizard's router. [`App::handle`] turns an [`Input`] into a state change and a list of
//! [`Effect`]s for the run loop to execute; [`App::draw`] renders the state. Nothing here
//! touches the terminal, the network or threads, so tests drive it directly.
//!
//! The steps are a stack ([`Step`], each variant a step that owns its answers, its view, its
//! keys and its drawing through [`StepScreen`]); the router passes a key to the step on top,
//! applies the [`Transition`] it returns (push the next step from the answers handed on, go
//! back, rewind), and routes the answers of background work to the step that asked for them.
//! Global keys, overlays and quitting live here.

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub use super::flow::{
    CatalogState, CheckTarget, Chosen, Cx, DrawCx, Effect, FileChoice, Input, Mark, Msg, Nav, Next,
    Part, ReportFixes, StepScreen, TaskError, Transition,
};
use super::overlay;
pub use super::overlay::Overlay;
use super::steps::columns::{ColumnsStep, ColumnsView};
use super::steps::confirm::{ConfirmStep, ConfirmView};
use super::steps::file::{FileStep, FileView};
use super::steps::result::{ResultStep, ResultView};
use super::steps::tracker::{self, TrackerView};
use super::steps::upload::{self, UploadStep, UploadView};
use super::steps::validate::{ValidateStep, ValidateView};
use super::theme::Theme;
use super::ui::{self, KeyHint, hint};
use crate::config::{Config, HistoryEntry};
use crate::validate::Report;

/// A step of the wizard, owning its answers and its view. The wizard is a stack of them
/// (going back pops one, with the earlier steps as they were).
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// 1. Choose a tracker (its view is [`App::tracker`], the stack's root).
    Tracker,
    /// 2. Choose a file.
    File(FileStep),
    /// 3. Validate it.
    Validate(ValidateStep),
    /// 4. Map its columns.
    Columns(ColumnsStep),
    /// 5. Confirm.
    Confirm(ConfirmStep),
    /// 6. Upload.
    Upload(UploadStep),
    /// 7. Result.
    Result(ResultStep),
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
            Step::File(_) => 1,
            Step::Validate(_) => 2,
            Step::Columns(_) => 3,
            Step::Confirm(_) => 4,
            Step::Upload(_) => 5,
            Step::Result(_) => 6,
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
            Step::File(s) => Some(&s.tracker),
            Step::Validate(s) => Some(&s.tracker),
            Step::Columns(s) => Some(&s.tracker),
            Step::Confirm(s) => Some(&s.tracker),
            Step::Upload(s) => Some(&s.tracker),
            Step::Result(s) => Some(&s.tracker),
        }
    }

    /// The chosen file, from step 3 on.
    pub fn file(&self) -> Option<&FileChoice> {
        match self {
            Step::Tracker | Step::File(_) => None,
            Step::Validate(s) => Some(&s.file),
            Step::Columns(s) => Some(&s.file),
            Step::Confirm(s) => Some(&s.file),
            Step::Upload(s) => Some(&s.file),
            Step::Result(s) => Some(&s.file),
        }
    }

    /// The validation report handed on, from step 5 on.
    pub fn report(&self) -> Option<&Arc<Report>> {
        match self {
            Step::Confirm(s) => Some(&s.report),
            Step::Upload(s) => Some(&s.report),
            Step::Result(s) => Some(&s.report),
            _ => None,
        }
    }

    /// The step behind the contract (the tracker step's view is the app's).
    fn screen(&self) -> Option<&dyn StepScreen> {
        match self {
            Step::Tracker => None,
            Step::File(s) => Some(s),
            Step::Validate(s) => Some(s),
            Step::Columns(s) => Some(s),
            Step::Confirm(s) => Some(s),
            Step::Upload(s) => Some(s),
            Step::Result(s) => Some(s),
        }
    }

    fn screen_mut(&mut self) -> Option<&mut dyn StepScreen> {
        match self {
            Step::Tracker => None,
            Step::File(s) => Some(s),
            Step::Validate(s) => Some(s),
            Step::Columns(s) => Some(s),
            Step::Confirm(s) => Some(s),
            Step::Upload(s) => Some(s),
            Step::Result(s) => Some(s),
        }
    }
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

/// The keys that work on every step, declared once: they feed the dispatch, the help
/// overlay and [`App::global_keys`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Global {
    Help,
    History,
    Quit,
}

/// Global keys that are plain characters (dispatched by the router when no text field
/// takes them), and the others (Esc is each step's "back", Ctrl-C quits at once).
const GLOBAL: [(char, Global, KeyHint); 3] = [
    (
        '?',
        Global::Help,
        hint("?", "help", "Show or hide this help"),
    ),
    (
        'h',
        Global::History,
        hint("h", "history", "Show the upload history (from any step)"),
    ),
    (
        'q',
        Global::Quit,
        hint("q", "quit", "Quit (asks first when work would be lost)"),
    ),
];
const GLOBAL_OTHER: [KeyHint; 2] = [
    hint("Esc", "back", "Back to the previous step; answers are kept"),
    hint(
        "Ctrl-C",
        "quit now",
        "Quit at once, cancelling a running upload",
    ),
];

/// No catalogs (the tracker step reads its own).
static NO_CATALOGS: std::collections::BTreeMap<String, CatalogState> =
    std::collections::BTreeMap::new();

/// The whole wizard state.
#[derive(Debug, Clone)]
pub struct App {
    /// Colours.
    pub theme: Theme,
    /// Saved trackers.
    pub config: Config,
    /// Upload history, newest first.
    pub history: Vec<HistoryEntry>,
    /// Where the file browser first opens.
    pub start_dir: PathBuf,
    /// Step 1 state (the root of the stack).
    pub tracker: TrackerView,
    /// The steps, [`Step::Tracker`] first; the last one is shown.
    steps: Vec<Step>,
    /// The file browser of a File step gone back from (opened again where it was).
    parked_file: Option<FileView>,
    /// Popup.
    pub overlay: Option<Overlay>,
    /// One-line notice at the bottom.
    pub notice: Option<String>,
    /// The running sandbox's tracker.
    pub sandbox: Option<Chosen>,
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
        App {
            theme: ctx.theme,
            config: ctx.config,
            history: ctx.history,
            start_dir: ctx.start_dir,
            tracker: TrackerView::default(),
            steps: vec![Step::Tracker],
            parked_file: None,
            overlay: None,
            notice: ctx.notices.first().cloned(),
            sandbox: None,
            pending_file: None,
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
        fx.extend(self.tracker.catalog_request(&self.config));
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
                self.pending_file = file;
                self.push_next(Next::File(chosen))
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

    /// The step shown.
    pub fn step(&self) -> &Step {
        self.steps.last().unwrap_or(&Step::Tracker)
    }

    /// Every step on the stack, [`Step::Tracker`] first.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Put `step` on top of the stack (demos and tests build screens this way).
    pub fn push(&mut self, step: Step) {
        self.steps.push(step);
    }

    /// The step shown, to change (demos and tests).
    pub fn top_mut(&mut self) -> Option<&mut Step> {
        self.steps.last_mut()
    }

    /// The file browser (of the newest File step, or the one kept from before).
    pub fn file(&self) -> Option<&FileView> {
        self.steps
            .iter()
            .rev()
            .find_map(|s| match s {
                Step::File(f) => Some(&f.view),
                _ => None,
            })
            .or(self.parked_file.as_ref())
    }

    /// The newest Validate step's view.
    pub fn validate(&self) -> Option<&ValidateView> {
        self.steps.iter().rev().find_map(|s| match s {
            Step::Validate(v) => Some(&v.view),
            _ => None,
        })
    }

    /// The newest Validate step's view, to change.
    pub fn validate_mut(&mut self) -> Option<&mut ValidateView> {
        self.steps.iter_mut().rev().find_map(|s| match s {
            Step::Validate(v) => Some(&mut v.view),
            _ => None,
        })
    }

    /// The newest Columns step's view.
    pub fn columns(&self) -> Option<&ColumnsView> {
        self.steps.iter().rev().find_map(|s| match s {
            Step::Columns(c) => Some(&c.view),
            _ => None,
        })
    }

    /// The newest Confirm step's view.
    pub fn confirm(&self) -> Option<&ConfirmView> {
        self.steps.iter().rev().find_map(|s| match s {
            Step::Confirm(c) => Some(&c.view),
            _ => None,
        })
    }

    /// The Upload step's view.
    pub fn upload(&self) -> Option<&UploadView> {
        match self.step() {
            Step::Upload(u) => Some(&u.view),
            _ => None,
        }
    }

    /// The Result step's view.
    pub fn result(&self) -> Option<&ResultView> {
        match self.step() {
            Step::Result(r) => Some(&r.view),
            _ => None,
        }
    }

    /// Run `f` with the steps and the shared state. With `tracker_view`, `f` also gets the
    /// tracker step's view to change (the shared state then reads no catalogs: they are that
    /// view's).
    fn with_cx<R>(
        &mut self,
        tracker_view: bool,
        f: impl FnOnce(&mut Vec<Step>, Option<&mut TrackerView>, &mut Cx) -> R,
    ) -> R {
        let App {
            steps,
            theme,
            config,
            history,
            start_dir,
            part_bytes,
            tracker,
            notice,
            next_run,
            sandbox,
            ..
        } = self;
        let (view, catalogs) = if tracker_view {
            (Some(tracker), &NO_CATALOGS)
        } else {
            (None, &tracker.catalogs)
        };
        let mut cx = Cx {
            theme,
            config,
            history,
            start_dir,
            part_bytes: *part_bytes,
            catalogs,
            notice,
            next_run,
            sandbox: sandbox.as_ref(),
        };
        f(steps, view, &mut cx)
    }

    /// Pass a key to the step shown.
    fn update_top(&mut self, k: &KeyEvent) -> Transition {
        let at_tracker = self.step().screen().is_none();
        self.with_cx(at_tracker, |steps, view, cx| {
            match (steps.last_mut().and_then(Step::screen_mut), view) {
                (Some(s), _) => s.update(k, cx),
                (None, Some(v)) => v.update(k, cx),
                (None, None) => Transition::none(),
            }
        })
    }

    /// Run `f` with the newest step `pick` finds and the shared state; its transition is
    /// applied only when that step is the one shown.
    fn with_step(
        &mut self,
        pick: impl Fn(&Step) -> bool,
        f: impl FnOnce(&mut Step, &mut Cx) -> Transition,
    ) -> Vec<Effect> {
        let Some(i) = self.steps.iter().rposition(pick) else {
            return Vec::new();
        };
        let on_top = i + 1 == self.steps.len();
        let t = self.with_cx(false, |steps, _, cx| f(&mut steps[i], cx));
        if on_top { self.apply(t) } else { t.fx }
    }

    /// The shared state for drawing.
    fn draw_cx(&self) -> DrawCx<'_> {
        DrawCx {
            theme: &self.theme,
            config: &self.config,
            history: &self.history,
            catalogs: &self.tracker.catalogs,
            sandbox_running: self.sandbox.is_some(),
        }
    }

    /// Go where a transition says.
    fn apply(&mut self, t: Transition) -> Vec<Effect> {
        let mut fx = t.fx;
        match t.nav {
            Nav::Stay => {}
            Nav::Push(next) => fx.extend(self.push_next(next)),
            Nav::Back => self.back(),
            Nav::Rewind(mark, next) => {
                self.rewind(mark);
                if let Some(next) = next {
                    fx.extend(self.push_next(next));
                }
            }
            Nav::Quit => fx.extend(self.quit_now()),
        }
        fx
    }

    /// Back to the previous step, as it was.
    fn back(&mut self) {
        if self.steps.len() <= 1 {
            return;
        }
        if let Some(Step::File(f)) = self.steps.pop() {
            self.parked_file = Some(f.view);
        }
        if let Some(s) = self.steps.last_mut().and_then(Step::screen_mut) {
            s.resume();
        }
    }

    /// Back to the newest step of kind `mark`, as it was.
    fn rewind(&mut self, mark: Mark) {
        let is = |s: &Step| match mark {
            Mark::File => matches!(s, Step::File(_)),
            Mark::Validate => matches!(s, Step::Validate(_)),
        };
        if let Some(j) = self.steps.iter().rposition(is) {
            self.steps.truncate(j + 1);
            if let Some(s) = self.steps.last_mut().and_then(Step::screen_mut) {
                s.resume();
            }
        }
    }

    /// Build the step the answers `next` lead to, and show it.
    fn push_next(&mut self, next: Next) -> Vec<Effect> {
        match next {
            Next::File(chosen) => {
                self.steps.truncate(1);
                let view = self.parked_file.take();
                let step = FileStep::open(chosen.clone(), view, &self.start_dir);
                self.steps.push(Step::File(step));
                // a file given on the command line: validate it, or — when a reviewed saved
                // report of it came along — go straight to Confirm
                let Some(f) = self.pending_file.take() else {
                    return Vec::new();
                };
                match self.reviewed.take() {
                    Some(r) => {
                        let step = self.with_cx(false, |_, _, cx| {
                            ValidateStep::reviewed(chosen.clone(), f.clone(), r.clone(), cx)
                        });
                        self.steps.push(Step::Validate(step));
                        self.push_next(Next::Confirm(chosen, FileChoice::plain(f), r))
                    }
                    None => self.push_next(Next::Validate(chosen, FileChoice::plain(f), None)),
                }
            }
            Next::Validate(tracker, file, note) => {
                let mut fx = self.stop_all();
                let (step, more) = self.with_cx(false, |_, _, cx| {
                    ValidateStep::start(tracker, file, note, cx)
                });
                self.steps.push(Step::Validate(step));
                fx.extend(more);
                fx
            }
            Next::Columns { auto } => {
                let Some(Step::Validate(v)) = self.steps.last() else {
                    return Vec::new();
                };
                let (tracker, file) = (v.tracker.clone(), v.file.clone());
                let detection = v.view.detection.clone().map(|d| *d);
                let report = v.view.report().cloned();
                let prev = self.columns().cloned();
                let opened = self.with_cx(false, |_, _, cx| {
                    ColumnsStep::open(
                        tracker,
                        file,
                        detection,
                        report.as_deref(),
                        prev.as_ref(),
                        auto,
                        cx,
                    )
                });
                match opened {
                    Ok((step, fx)) => {
                        self.steps.push(Step::Columns(step));
                        fx
                    }
                    Err(e) => {
                        if let Some(Step::Validate(v)) = self.steps.last_mut() {
                            v.view.message = Some(e);
                        }
                        Vec::new()
                    }
                }
            }
            Next::Confirm(tracker, file, report) => {
                let (step, fx) = self.with_cx(false, |_, _, cx| {
                    ConfirmStep::enter(tracker, file, report, cx)
                });
                self.steps.push(Step::Confirm(step));
                fx
            }
            Next::Upload {
                tracker,
                file,
                report,
                allow_duplicate,
                already,
            } => {
                let started = self.with_cx(false, |_, _, cx| {
                    UploadStep::start(tracker, file, report, allow_duplicate, already, cx)
                });
                match started {
                    Some((step, fx)) => {
                        self.steps.push(Step::Upload(step));
                        fx
                    }
                    None => Vec::new(),
                }
            }
        }
    }
}

impl App {
    /// Apply one input; returns the effects for the run loop.
    pub fn handle(&mut self, input: Input) -> Vec<Effect> {
        match input {
            Input::Tick(now) => {
                if let Some(s) = self.steps.last_mut().and_then(Step::screen_mut) {
                    s.tick(now);
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
        match self.step().screen() {
            Some(s) => s.work_at_risk(),
            None => StepScreen::work_at_risk(&self.tracker),
        }
    }

    fn captures_text(&self) -> bool {
        match self.step().screen() {
            Some(s) => s.captures_text(),
            None => self.tracker.captures_text(),
        }
    }

    /// Everything that has to stop before leaving.
    fn stop_all(&self) -> Vec<Effect> {
        self.steps
            .iter()
            .filter_map(Step::screen)
            .flat_map(|s| s.stop())
            .collect()
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
        if let Some(ov) = self.overlay.take() {
            match ov.on_key(&k, self.history.len()) {
                overlay::Next::Keep(o) => self.overlay = Some(o),
                overlay::Next::Close => {}
                overlay::Next::Quit => return self.quit_now(),
                overlay::Next::OpenReport(i) => {
                    self.overlay = Some(ov);
                    self.open_history_report(i);
                }
            }
            return Vec::new();
        }
        if !self.captures_text()
            && k.modifiers.difference(KeyModifiers::SHIFT).is_empty()
            && let KeyCode::Char(c) = k.code
            && let Some((_, g, _)) = GLOBAL.iter().find(|(ch, _, _)| *ch == c)
        {
            return self.global(*g);
        }
        self.notice = None;
        let t = self.update_top(&k);
        self.apply(t)
    }

    fn global(&mut self, g: Global) -> Vec<Effect> {
        match g {
            Global::Help => self.overlay = Some(Overlay::Help),
            Global::History => self.overlay = Some(Overlay::History(0)),
            Global::Quit => {
                if matches!(self.step(), Step::Result(_)) {
                    return self.quit_now();
                }
                match self.work_at_risk() {
                    Some(r) => self.overlay = Some(Overlay::Quit(r)),
                    None => return self.quit_now(),
                }
            }
        }
        Vec::new()
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

    fn on_msg(&mut self, m: Msg) -> Vec<Effect> {
        match m {
            Msg::SandboxReady(Ok(t)) => {
                let chosen = Chosen {
                    tracker: t,
                    sandbox: true,
                };
                self.sandbox = Some(chosen.clone());
                let here = matches!(self.step(), Step::Tracker);
                let t = self.tracker.sandbox_ready(&chosen, here);
                self.apply(t)
            }
            Msg::SandboxReady(Err(e)) => {
                self.tracker.sandbox_failed(&e);
                Vec::new()
            }
            m @ (Msg::CatalogLoaded { .. }
            | Msg::CatalogProgress { .. }
            | Msg::CatalogFetched { .. }) => self.tracker.on_catalog(m),
            Msg::SentNotRecorded(e) => {
                self.notice = Some(format!(
                    "could not record the sent orders ({}) — the already-sent check will not see them",
                    ui::sanitize(&e, 120)
                ));
                Vec::new()
            }
            Msg::ConfigSaved(r) => {
                let m = match r {
                    Ok(p) => (true, format!("saved to {}", p.display())),
                    Err(e) => (false, format!("not saved: {e}")),
                };
                if matches!(self.step(), Step::Tracker) {
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
            } => self.with_step(
                |s| matches!(s, Step::Validate(v) if v.view.run == run),
                |s, cx| match s {
                    Step::Validate(v) => v.validated(result, detection, skipped, cx),
                    _ => Transition::none(),
                },
            ),
            Msg::SplitDone { run, result } => self.with_step(
                |s| matches!(s, Step::Validate(_)),
                |s, _| {
                    if let Step::Validate(v) = s {
                        v.split_done(run, result);
                    }
                    Transition::none()
                },
            ),
            Msg::PartValidated { run, index, result } => self.with_step(
                |s| matches!(s, Step::Validate(_)),
                |s, _| {
                    if let Step::Validate(v) = s {
                        v.part_validated(run, index, result);
                    }
                    Transition::none()
                },
            ),
            Msg::ReportSaved(r) => {
                if let Some(v) = self.validate_mut() {
                    v.saved = Some(r);
                }
                Vec::new()
            }
            Msg::Converted { run, result } => {
                if !matches!(self.step(), Step::Columns(_)) {
                    return Vec::new();
                }
                self.with_step(
                    |s| matches!(s, Step::Columns(_)),
                    |s, _| match s {
                        Step::Columns(c) => c.converted(run, result),
                        _ => Transition::none(),
                    },
                )
            }
            Msg::Detected { run, result } => self.with_step(
                |s| matches!(s, Step::Columns(c) if c.detect_run == run),
                |s, _| {
                    if let Step::Columns(c) = s {
                        c.view.on_detected(result.map(|d| *d));
                        return Transition::stay(c.plan());
                    }
                    Transition::none()
                },
            ),
            Msg::Planned { generation, result } => self.with_step(
                |s| matches!(s, Step::Columns(_)),
                |s, _| {
                    if let Step::Columns(c) = s {
                        c.view.on_plan(generation, result);
                    }
                    Transition::none()
                },
            ),
            Msg::ClockSkew { run, result } => self.with_step(
                |s| matches!(s, Step::Confirm(_)),
                |s, _| {
                    if let Step::Confirm(c) = s
                        && c.view.skew_run == run
                    {
                        c.view.skew = Some(result);
                    }
                    Transition::none()
                },
            ),
            Msg::Upload { run, event } => {
                if let Some(Step::Upload(u)) = self.steps.last_mut()
                    && u.view.run == run
                {
                    u.view.apply(event);
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
                let mut done = upload::Done::Ignored;
                let fx = self.with_step(
                    |s| matches!(s, Step::Upload(_)),
                    |s, cx| {
                        if let Step::Upload(u) = s {
                            done = u.done(run, outcome, entry, history_error, cx);
                        }
                        Transition::none()
                    },
                );
                match done {
                    upload::Done::Ignored => fx,
                    upload::Done::NextPart(more) => more,
                    upload::Done::Finished(view) => {
                        if let Some(Step::Upload(u)) = self.steps.pop() {
                            let outcome = view.outcome.clone();
                            self.steps.push(Step::Result(ResultStep {
                                tracker: u.tracker,
                                file: u.file,
                                report: u.report,
                                outcome,
                                view: *view,
                            }));
                        }
                        fx
                    }
                }
            }
        }
    }

    /// The keys that act now (they feed the hint bar): an open overlay's, else the step's.
    pub fn keys(&self) -> Vec<KeyHint> {
        if let Some(v) = &self.report_viewer {
            return v.keys();
        }
        match &self.overlay {
            Some(o) => o.keys(),
            None if self.captures_text() => self.step_keys(),
            None => {
                let mut v = self.step_keys();
                v.extend(GLOBAL.iter().map(|(_, _, h)| *h));
                v
            }
        }
    }

    /// Key bindings of the current step (the help overlay lists them).
    pub fn step_keys(&self) -> Vec<KeyHint> {
        if let Some(v) = &self.report_viewer {
            return v.keys();
        }
        match self.step().screen() {
            Some(s) => s.keys(&self.draw_cx()),
            None => self.tracker.keys(self.config.trackers.len()),
        }
    }

    /// Keys that work on every step.
    pub fn global_keys() -> Vec<KeyHint> {
        let mut v: Vec<KeyHint> = GLOBAL.iter().map(|(_, _, h)| *h).collect();
        v.insert(2, GLOBAL_OTHER[0]);
        v.push(GLOBAL_OTHER[1]);
        v
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
        if let Some(o) = &self.overlay {
            let help = overlay::HelpText {
                step: self.step().name(),
                step_keys: self.step_keys(),
                global_keys: Self::global_keys(),
            };
            o.draw(frame, body, t, &self.history, &help);
        }
        if let Some(v) = &self.report_viewer {
            frame.render_widget(Clear, body);
            v.draw_in(frame, body);
        }
    }

    fn draw_breadcrumb(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let cur = self.step().index();
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
            if let Some(c) = self.step().tracker() {
                spans.push(Span::styled("tracker ", t.muted));
                spans.push(Span::styled(ui::sanitize(&c.tracker.name, 30), t.text));
                spans.push(Span::styled(
                    format!(" ({})", ui::sanitize(&c.tracker.tracker_id, 24)),
                    t.muted,
                ));
            }
            if let Some(f) = self.step().file() {
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
        let cx = self.draw_cx();
        match self.step().screen() {
            Some(s) => s.draw(frame, area, &cx),
            None => StepScreen::draw(&self.tracker, frame, area, &cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(app: &App) -> String {
        super::super::demo::text(&super::super::demo::render(app, 120, 40))
    }

    /// The demo state named `name`.
    fn demo_app(name: &str) -> App {
        super::super::demo::apps(&Theme::default())
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| a)
            .unwrap_or_else(|| panic!("no demo state {name}"))
    }

    fn at_confirm() -> (App, u64, String) {
        let mut app = demo_app("validate");
        let fx = app.handle(Input::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::NONE,
        )));
        assert_eq!(app.step().name(), "Confirm");
        let (run, base_url) = match fx.as_slice() {
            [Effect::MeasureClockSkew { run, base_url }] => (*run, base_url.clone()),
            other => panic!("{other:?}"),
        };
        (app, run, base_url)
    }

    #[test]
    fn confirm_measures_the_clock_and_shows_the_skew() {
        let (mut app, run, base_url) = at_confirm();
        let tracker = app.step().tracker().expect("tracker");
        assert_eq!(base_url, tracker.tracker.base_url);
        let c = app.confirm().expect("confirm");
        assert_eq!((c.skew.clone(), c.skew_run), (None, run));
        assert!(screen(&app).contains("clock skew measuring…"));

        // An answer of an older measurement is ignored.
        app.handle(Input::Msg(Msg::ClockSkew {
            run: run + 100,
            result: Ok(9_000),
        }));
        assert_eq!(app.confirm().and_then(|c| c.skew.clone()), None);

        app.handle(Input::Msg(Msg::ClockSkew {
            run,
            result: Ok(1_234),
        }));
        assert_eq!(app.confirm().and_then(|c| c.skew.clone()), Some(Ok(1_234)));
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
        let c = app.confirm().expect("confirm");
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
        assert_eq!(app.step().name(), "Validate");
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
        assert_eq!(app.confirm().and_then(|c| c.skew.clone()), None);
    }

    #[test]
    fn columns_convert_effect_carries_the_toggles_and_plans_are_tagged() {
        let mut app = demo_app("columns");
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

    #[test]
    fn columns_reads_the_file_again_off_the_key_handler() {
        let mut app = demo_app("columns");
        // `d` asks for the file to be read with the next delimiter; nothing is read here
        let fx = app.handle(Input::Key(KeyEvent::new(
            KeyCode::Char('d'),
            KeyModifiers::NONE,
        )));
        let (run, hints) = match fx.as_slice() {
            [Effect::Detect { run, hints, .. }] => (*run, hints.clone()),
            other => panic!("{other:?}"),
        };
        assert_eq!(hints.delimiter, Some('\t'));
        let d = crate::mapping::detect::detect_bytes(
            b"Date\tOrder\tSKU\n22/10/2026 15:04\tA-1\tS-1\n",
            true,
            false,
        );
        // an older answer is ignored
        app.handle(Input::Msg(Msg::Detected {
            run: run - 1,
            result: Ok(Box::new(d.clone())),
        }));
        assert_eq!(app.columns().map(|c| c.detection.delimiter), Some(';'));
        app.handle(Input::Msg(Msg::Detected {
            run,
            result: Ok(Box::new(d)),
        }));
        assert_eq!(app.columns().map(|c| c.detection.delimiter), Some('\t'));
        assert!(screen(&app).contains("delimiter tab"), "{}", screen(&app));
    }

    #[test]
    fn keys_pressed_before_the_file_is_read_again_cycle_on_from_the_last_asked() {
        let mut app = demo_app("columns");
        let mut asked = Vec::new();
        for c in ['d', 'd', 'H'] {
            let fx = app.handle(Input::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::NONE,
            )));
            match fx.as_slice() {
                [Effect::Detect { hints, .. }] => asked.push((hints.delimiter, hints.header)),
                other => panic!("{other:?}"),
            }
        }
        // ';' (detected, with a header) → tab → '|' → '|' without the header
        assert_eq!(
            asked,
            [
                (Some('\t'), Some(true)),
                (Some('|'), Some(true)),
                (Some('|'), Some(false))
            ]
        );
    }
}
