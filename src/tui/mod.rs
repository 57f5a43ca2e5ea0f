//! The wizard: tracker → file → validate → (columns) → confirm → upload → result.
//!
//! [`run`] owns the terminal (alternate screen, raw mode, restored on exit, error, panic,
//! SIGTERM and SIGHUP) and a tokio loop over key events, a render tick and background
//! messages. All state lives in [`app::App`]; effects are executed by [`driver::Driver`].

pub mod app;
#[cfg(any(test, feature = "demo"))]
pub mod demo;
pub mod driver;
pub mod flow;
pub mod keys;
pub mod overlay;
pub mod report_view;
#[cfg(any(test, feature = "demo"))]
pub mod screenshot;
pub mod services;
pub mod steps;
pub mod theme;
pub mod ui;

use std::io::{self, Stdout, Write};
use std::path::PathBuf;
use std::sync::Once;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossterm::event::{Event, EventStream, KeyEventKind};
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute, queue};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::signal::unix::{SignalKind, signal};

use crate::config::{self, ConfigStore, History};
use app::{App, Context, Input};
use driver::Driver;
use theme::Theme;

/// How the wizard was started.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A file to validate right away (skips the file step).
    pub file: Option<PathBuf>,
    /// A saved tracker's name, or `Sandbox` (skips the tracker step).
    pub tracker: Option<String>,
    /// Theme name.
    pub theme: Option<String>,
    /// Largest file sent in one upload (default: the service's 1 GiB); larger files are
    /// split into parts. For tests and rehearsals.
    pub part_bytes: Option<u64>,
    /// The saved report of `file` (its file checked unchanged): Confirm follows the tracker
    /// step without validating again (see `lbimport report`).
    pub reviewed: Option<std::sync::Arc<crate::validate::Report>>,
}

/// Render tick: progress polling and clocks.
pub const TICK: Duration = Duration::from_millis(100);

/// How the wizard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The user quit.
    Quit,
    /// A signal stopped it (after cancelling work and restoring the terminal): its number.
    Signal(i32),
}

impl Ended {
    /// The process exit status: 0, or 128 + the signal's number.
    pub fn exit_code(self) -> u8 {
        match self {
            Ended::Quit => 0,
            Ended::Signal(n) => u8::try_from(128 + n).unwrap_or(1),
        }
    }
}

/// Open the wizard full-screen and run it until the user quits or a signal stops it.
pub fn run(opts: Options) -> anyhow::Result<Ended> {
    let t0 = Instant::now();
    let data_dir = config::data_dir().context("no data directory")?;
    let _log = init_logging(&data_dir);
    let store = ConfigStore::open_default().context("no config directory")?;
    let loaded = store.load().context("cannot read the saved trackers")?;
    let history = History::open_default().context("no data directory")?;
    let (entries, hist_warnings) = history.list_with_warnings().unwrap_or_else(|e| {
        (
            Vec::new(),
            vec![format!("cannot read the upload history: {e}")],
        )
    });
    let config_dir = config::config_dir().ok();
    let (theme, theme_warnings) = Theme::load(
        opts.theme.as_deref().or(loaded.config.theme.as_deref()),
        config_dir.as_deref(),
    );
    let mut notices = loaded.warnings.clone();
    notices.extend(hist_warnings);
    notices.extend(theme_warnings);
    for n in &notices {
        tracing::warn!("{n}");
    }
    let start_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let ctx = Context {
        config: loaded.config,
        history: entries,
        start_dir,
        theme,
        notices,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut terminal = setup_terminal().context("cannot set up the terminal")?;
    let result = rt.block_on(event_loop(
        &mut terminal,
        ctx,
        opts,
        store,
        history,
        data_dir,
        t0,
    ));
    restore_terminal();
    rt.shutdown_timeout(Duration::from_secs(1));
    tracing::info!("wizard closed");
    result
}

async fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    ctx: Context,
    opts: Options,
    store: ConfigStore,
    history: History,
    data_dir: PathBuf,
    t0: Instant,
) -> anyhow::Result<Ended> {
    // Signal handlers first: a SIGTERM/SIGHUP arriving right after the first frame must still
    // restore the terminal.
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // SIGINT as a signal (kill -INT, not the Ctrl-C key, which raw mode turns into a key).
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut ended = Ended::Quit;
    let mut app = App::new(ctx);
    if let Some(n) = opts.part_bytes {
        app.part_bytes = n;
    }
    app.reviewed = opts.reviewed.clone();
    let mut driver = Driver::new(store, history, data_dir);
    driver.set_config_base(app.config.clone());
    let fx = app.start(opts.tracker.as_deref(), opts.file.clone());
    let mut painter = Painter::new()?;
    let mut quit = driver.execute(fx);
    draw(terminal, &mut painter, &app)?;
    tracing::info!(ms = t0.elapsed().as_secs_f64() * 1000.0, "first frame");
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while !quit {
        let fx = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind == KeyEventKind::Press => {
                    let t = Instant::now();
                    let fx = app.handle(Input::Key(k));
                    tracing::trace!(us = t.elapsed().as_micros() as u64, "key handled");
                    fx
                }
                Some(Ok(Event::Resize(_, _))) => {
                    terminal.autoresize()?;
                    painter.invalidate();
                    Vec::new()
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).context("reading terminal events"),
                None => break,
            },
            _ = tick.tick() => app.handle(Input::Tick(Instant::now())),
            Some(m) = driver.recv() => app.handle(Input::Msg(m)),
            _ = sigterm.recv() => stop(&mut app, &mut ended, "SIGTERM", 15),
            _ = sighup.recv() => stop(&mut app, &mut ended, "SIGHUP", 1),
            _ = sigint.recv() => stop(&mut app, &mut ended, "SIGINT", 2),
        };
        quit = driver.execute(fx);
        if !quit {
            draw(terminal, &mut painter, &app)?;
        }
    }
    driver.finish(Duration::from_secs(3)).await;
    Ok(ended)
}

/// A stopping signal: cancel what runs (as Ctrl-C would), then quit; the upload in flight
/// records its outcome before the loop ends (see [`Driver::finish`]).
fn stop(app: &mut App, ended: &mut Ended, name: &str, number: i32) -> Vec<app::Effect> {
    tracing::info!("{name}");
    *ended = Ended::Signal(number);
    let mut fx = app.handle(Input::Key(ctrl_c()));
    fx.push(app::Effect::Quit);
    fx
}

fn ctrl_c() -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('c'),
        crossterm::event::KeyModifiers::CONTROL,
    )
}

/// Renders each frame off-screen first, so that the terminal is written to only when
/// something visible changed (a render tick with nothing new sends no bytes: over SSH an idle
/// wizard is silent).
struct Painter {
    shadow: Terminal<ratatui::backend::TestBackend>,
    last: Option<(ratatui::buffer::Buffer, ratatui::layout::Position, bool)>,
}

impl Painter {
    fn new() -> io::Result<Painter> {
        let shadow = Terminal::new(ratatui::backend::TestBackend::new(1, 1))
            .map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Painter { shadow, last: None })
    }

    /// Forget the last frame: the next draw writes the whole screen (after a resize).
    fn invalidate(&mut self) {
        self.last = None;
    }
}

/// Draw one frame inside a synchronized update, when it differs from the last one drawn.
fn draw(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    painter: &mut Painter,
    app: &App,
) -> io::Result<()> {
    let size = terminal.size()?;
    let shadow_size = painter
        .shadow
        .size()
        .map_err(|e| io::Error::other(e.to_string()))?;
    if shadow_size != size {
        painter.shadow.backend_mut().resize(size.width, size.height);
        painter
            .shadow
            .resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))
            .map_err(|e| io::Error::other(e.to_string()))?;
        painter.invalidate();
    }
    painter
        .shadow
        .draw(|f| app.draw(f))
        .map_err(|e| io::Error::other(e.to_string()))?;
    let b = painter.shadow.backend();
    let frame = (b.buffer().clone(), b.cursor_position(), b.cursor_visible());
    if painter.last.as_ref() == Some(&frame) {
        return Ok(());
    }
    painter.last = Some(frame);
    queue!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    terminal.draw(|f| app.draw(f))?;
    execute!(terminal.backend_mut(), EndSynchronizedUpdate)?;
    Ok(())
}

pub(crate) fn setup_terminal() -> io::Result<Terminal<CrosstermBackend<Stdout>>> {
    install_panic_hook();
    enable_raw_mode()?;
    let mut out = io::stdout();
    if let Err(e) = execute!(out, EnterAlternateScreen, cursor::Hide) {
        restore_terminal();
        return Err(e);
    }
    Terminal::new(CrosstermBackend::new(io::stdout()))
}

/// Leave the alternate screen, show the cursor, leave raw mode. Safe to call twice.
pub fn restore_terminal() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        EndSynchronizedUpdate,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            tracing::error!("panic: {info}");
            prev(info);
        }));
    });
}

fn init_logging(data_dir: &std::path::Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    config::create_private_dir(data_dir).ok()?;
    let appender = tracing_appender::rolling::never(data_dir, "wizard.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("LBIMPORT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ok = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .is_ok();
    ok.then_some(guard)
}

/// Path of the wizard's log file.
pub fn log_path() -> Option<PathBuf> {
    config::data_dir().ok().map(|d| d.join("wizard.log"))
}
