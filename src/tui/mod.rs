//! The wizard: tracker → file → validate → (columns) → confirm → upload → result.
//!
//! [`run`] owns the terminal (alternate screen, raw mode, restored on exit, error, panic,
//! SIGTERM and SIGHUP) and a tokio loop over key events, a render tick and background
//! messages. All state lives in [`app::App`]; effects are executed by [`driver::Driver`].

pub mod app;
pub mod demo;
pub mod driver;
pub mod report_view;
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

/// Open the wizard full-screen and run it until the user quits.
pub fn run(opts: Options) -> anyhow::Result<()> {
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
) -> anyhow::Result<()> {
    // Signal handlers first: a SIGTERM/SIGHUP arriving right after the first frame must still
    // restore the terminal.
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut app = App::new(ctx);
    if let Some(n) = opts.part_bytes {
        app.part_bytes = n;
    }
    app.reviewed = opts.reviewed.clone();
    let mut driver = Driver::new(store, history, data_dir);
    let fx = app.start(opts.tracker.as_deref(), opts.file.clone());
    let mut quit = driver.execute(fx);
    draw(terminal, &app)?;
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
                    Vec::new()
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).context("reading terminal events"),
                None => break,
            },
            _ = tick.tick() => app.handle(Input::Tick(Instant::now())),
            Some(m) = driver.recv() => app.handle(Input::Msg(m)),
            _ = sigterm.recv() => {
                tracing::info!("SIGTERM");
                let mut fx = app.handle(Input::Key(ctrl_c()));
                fx.push(app::Effect::Quit);
                fx
            }
            _ = sighup.recv() => {
                tracing::info!("SIGHUP");
                let mut fx = app.handle(Input::Key(ctrl_c()));
                fx.push(app::Effect::Quit);
                fx
            }
        };
        quit = driver.execute(fx);
        if !quit {
            draw(terminal, &app)?;
        }
    }
    driver.finish(Duration::from_secs(3)).await;
    Ok(())
}

fn ctrl_c() -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('c'),
        crossterm::event::KeyModifiers::CONTROL,
    )
}

/// Draw one frame inside a synchronized update.
fn draw(terminal: &mut Terminal<CrosstermBackend<Stdout>>, app: &App) -> io::Result<()> {
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
    std::fs::create_dir_all(data_dir).ok()?;
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
