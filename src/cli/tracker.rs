//! `lbimport tracker …`: add, list, show, remove and edit saved trackers.
//!
//! Exit status: 0 done; 1 the config file could not be read or written (bad TOML, I/O);
//! 2 usage (bad flag values, unknown or duplicate name, no key source).
//! The private key itself is never printed: only its source (`env:LB_KEY`, `command`,
//! `stored (…abcd)`). There is deliberately no `--private-key VALUE` flag: a key on the
//! command line would land in shell history and `ps` output.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use serde::Serialize;

use crate::config::{
    ConfigError, ConfigStore, KeySource, Loaded, PrivateKey, Tracker, check_base_url,
};
use crate::mapping::SavedMapping;

/// The `tracker` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Save a new tracker.
    Add(AddArgs),
    /// List saved trackers (keys masked).
    List(ListArgs),
    /// Show one tracker (key masked).
    Show(ShowArgs),
    /// Delete a saved tracker.
    Remove(RemoveArgs),
    /// Change a saved tracker.
    Edit(EditArgs),
}

/// Where the private key comes from (at most one).
#[derive(Debug, Default, Clone, clap::Args)]
#[group(id = "key_source", multiple = false)]
pub struct KeyArgs {
    /// Read the key from this environment variable at upload time (recommended).
    #[arg(long, value_name = "VAR")]
    pub private_key_env: Option<String>,
    /// Run this shell command at upload time; the first line of its stdout is the key
    /// (e.g. "pass show luigi/shop").
    #[arg(long, value_name = "CMD")]
    pub private_key_command: Option<String>,
    /// Read the key from stdin now (hidden prompt on a terminal) and store it in
    /// trackers.toml (mode 0600).
    #[arg(long)]
    pub private_key_stdin: bool,
}

impl KeyArgs {
    fn given(&self) -> bool {
        self.private_key_env.is_some()
            || self.private_key_command.is_some()
            || self.private_key_stdin
    }

    fn source(&self, tracker_name: &str) -> Result<Option<KeySource>, String> {
        if let Some(var) = &self.private_key_env {
            Ok(Some(KeySource::Env(var.clone())))
        } else if let Some(cmd) = &self.private_key_command {
            Ok(Some(KeySource::Command(cmd.clone())))
        } else if self.private_key_stdin {
            read_key_from_stdin(tracker_name).map(|k| Some(KeySource::Stored(k)))
        } else {
            Ok(None)
        }
    }
}

/// Arguments of `tracker add`.
#[derive(Debug, Default, clap::Args)]
pub struct AddArgs {
    /// A unique, human name for the tracker (e.g. "shop-prod").
    pub name: String,
    /// The Luigi's Box tracker id, e.g. 1292-9381.
    #[arg(long, value_name = "ID")]
    pub tracker_id: String,
    /// Endpoint base URL.
    #[arg(long, value_name = "URL", default_value = crate::config::DEFAULT_BASE_URL)]
    pub base_url: String,
    /// Client name in the Authorization header (default ApiAuth).
    #[arg(long, value_name = "NAME")]
    pub client_name: Option<String>,
    /// The shop's time zone (`Europe/Bratislava`, `+01:00`): naive local times in its exports
    /// are read in it.
    #[arg(long, value_name = "ZONE", allow_hyphen_values = true)]
    pub time_zone: Option<String>,
    /// The private key's source (exactly one is required).
    #[command(flatten)]
    pub key: KeyArgs,
}

/// Arguments of `tracker list`.
#[derive(Debug, Default, clap::Args)]
pub struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `tracker show`.
#[derive(Debug, Default, clap::Args)]
pub struct ShowArgs {
    /// The tracker's name.
    pub name: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `tracker remove`.
#[derive(Debug, Default, clap::Args)]
pub struct RemoveArgs {
    /// The tracker's name.
    pub name: String,
}

/// Arguments of `tracker edit`.
#[derive(Debug, Default, clap::Args)]
pub struct EditArgs {
    /// The tracker's name.
    pub name: String,
    /// New name.
    #[arg(long, value_name = "NEW_NAME")]
    pub rename: Option<String>,
    /// New tracker id.
    #[arg(long, value_name = "ID")]
    pub tracker_id: Option<String>,
    /// New endpoint base URL.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// New client name ("" resets it to the default, ApiAuth).
    #[arg(long, value_name = "NAME")]
    pub client_name: Option<String>,
    /// The shop's time zone ("" removes it).
    #[arg(long, value_name = "ZONE", allow_hyphen_values = true)]
    pub time_zone: Option<String>,
    /// A new private key source (replaces the old one).
    #[command(flatten)]
    pub key: KeyArgs,
}

const EXIT_FILE: u8 = 1;

/// Run a `tracker` subcommand.
pub fn run(cmd: Command) -> ExitCode {
    let store = match ConfigStore::open_default() {
        Ok(s) => s,
        Err(e) => return fail(EXIT_FILE, e),
    };
    run_with(&store, cmd)
}

/// Run a `tracker` subcommand against a given store.
pub fn run_with(store: &ConfigStore, cmd: Command) -> ExitCode {
    let loaded = match load(store) {
        Ok(l) => l,
        Err(code) => return code,
    };
    match cmd {
        Command::List(a) => list(&loaded, a.json),
        Command::Show(a) => match loaded.config.tracker(&a.name) {
            Some(t) => show(store, t, a.json),
            None => fail(super::EXIT_USAGE, ConfigError::NotFound(a.name)),
        },
        Command::Add(a) => {
            let key = match a.key.given() {
                true => a.key.source(&a.name),
                false => {
                    return super::fail_usage(
                        "tracker add: give the private key's source: --private-key-env VAR, \
                         --private-key-command CMD or --private-key-stdin",
                    );
                }
            };
            let key = match key {
                Ok(Some(k)) => k,
                Ok(None) => return super::fail_usage("tracker add: no private key source"),
                Err(e) => return super::fail_usage(e),
            };
            let mut t = Tracker::new(a.name, a.tracker_id, key);
            t.base_url = normalize_url(&a.base_url);
            t.client_name = a.client_name.filter(|c| !c.is_empty());
            t.time_zone = a.time_zone.filter(|z| !z.is_empty());
            // Under the config lock, on the file as it is now: parallel adds all survive.
            match store.update(|cfg| cfg.add_tracker(t.clone())) {
                Ok(()) => {}
                Err(
                    e @ (ConfigError::DuplicateName(_)
                    | ConfigError::Invalid { .. }
                    | ConfigError::InvalidValue { .. }),
                ) => {
                    return fail(super::EXIT_USAGE, e);
                }
                Err(e) => return fail(EXIT_FILE, e),
            }
            println!(
                "Saved tracker \"{}\" ({}, {}, key: {}) in {}",
                t.name,
                t.tracker_id,
                t.base_url,
                t.key_source_label(),
                store.path().display()
            );
            env_hint(&t);
            ExitCode::SUCCESS
        }
        Command::Remove(a) => match store.update(|cfg| cfg.remove_tracker(&a.name)) {
            Err(e @ ConfigError::NotFound(_)) => fail(super::EXIT_USAGE, e),
            Err(e) => fail(EXIT_FILE, e),
            Ok(t) => {
                println!("Removed tracker \"{}\" ({})", t.name, t.tracker_id);
                ExitCode::SUCCESS
            }
        },
        Command::Edit(a) => edit(store, loaded, a),
    }
}

fn edit(store: &ConfigStore, loaded: Loaded, a: EditArgs) -> ExitCode {
    if a.rename.is_none()
        && a.tracker_id.is_none()
        && a.base_url.is_none()
        && a.client_name.is_none()
        && a.time_zone.is_none()
        && !a.key.given()
    {
        return super::fail_usage(
            "tracker edit: nothing to change (give --tracker-id, --base-url, --client-name, \
             --time-zone, --rename or a --private-key-* flag)",
        );
    }
    let Some(current) = loaded.config.tracker(&a.name).cloned() else {
        return fail(super::EXIT_USAGE, ConfigError::NotFound(a.name));
    };
    let mut t = current;
    if let Some(id) = a.tracker_id {
        t.tracker_id = id;
    }
    if let Some(url) = a.base_url {
        t.base_url = normalize_url(&url);
    }
    if let Some(z) = a.time_zone {
        t.time_zone = (!z.is_empty()).then_some(z);
    }
    if let Some(c) = a.client_name {
        t.client_name = (!c.is_empty()).then_some(c);
    }
    match a.key.source(&a.name) {
        Ok(Some(k)) => t.key = k,
        Ok(None) => {}
        Err(e) => return super::fail_usage(e),
    }
    if let Some(new_name) = a.rename {
        if new_name != a.name && loaded.config.tracker(&new_name).is_some() {
            return fail(super::EXIT_USAGE, ConfigError::DuplicateName(new_name));
        }
        t.name = new_name;
    }
    if let Err(e) = t.validate() {
        return fail(super::EXIT_USAGE, e);
    }
    let saved = store.update(|cfg| {
        if t.name != a.name && cfg.tracker(&t.name).is_some() {
            return Err(ConfigError::DuplicateName(t.name.clone()));
        }
        match cfg.tracker_mut(&a.name) {
            Some(slot) => {
                *slot = t.clone();
                Ok(())
            }
            None => Err(ConfigError::NotFound(a.name.clone())),
        }
    });
    match saved {
        Ok(()) => {}
        Err(e @ (ConfigError::DuplicateName(_) | ConfigError::NotFound(_))) => {
            return fail(super::EXIT_USAGE, e);
        }
        Err(e) => return fail(EXIT_FILE, e),
    }
    println!(
        "Updated tracker \"{}\" ({}, {}, key: {})",
        t.name,
        t.tracker_id,
        t.base_url,
        t.key_source_label()
    );
    env_hint(&t);
    ExitCode::SUCCESS
}

/// Load the config, printing its warnings on stderr.
fn load(store: &ConfigStore) -> Result<Loaded, ExitCode> {
    match store.load() {
        Ok(l) => {
            for w in &l.warnings {
                eprintln!("lbimport: warning: {w}");
            }
            Ok(l)
        }
        Err(e) => Err(fail(EXIT_FILE, e)),
    }
}

fn fail(code: u8, e: impl std::fmt::Display) -> ExitCode {
    eprintln!("lbimport: {e}");
    ExitCode::from(code)
}

/// Drop a trailing `/` so paths join cleanly; invalid URLs are left for validation to name.
fn normalize_url(url: &str) -> String {
    let trimmed = url.trim();
    if check_base_url(trimmed).is_ok() {
        trimmed.trim_end_matches('/').to_string()
    } else {
        trimmed.to_string()
    }
}

fn env_hint(t: &Tracker) {
    if let KeySource::Env(var) = &t.key
        && std::env::var_os(var).is_none()
    {
        eprintln!(
            "lbimport: note: {var} is not set in this shell; set it before uploading to \"{}\"",
            t.name
        );
    }
}

/// The JSON shape of a tracker in `list --json` / `show --json`. Never holds the key.
#[derive(Serialize)]
struct TrackerView<'a> {
    name: &'a str,
    tracker_id: &'a str,
    base_url: &'a str,
    /// Masked label, e.g. `env:LB_KEY`.
    key_source: String,
    /// `stored`, `env` or `command`.
    key_kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key_env: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key_command: Option<&'a str>,
    client_name: &'a str,
    time_zone: Option<&'a str>,
    last_dir: Option<String>,
    mapping_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    mappings: Option<&'a [SavedMapping]>,
}

impl<'a> TrackerView<'a> {
    fn new(t: &'a Tracker, with_mappings: bool) -> Self {
        TrackerView {
            name: &t.name,
            tracker_id: &t.tracker_id,
            base_url: &t.base_url,
            key_source: t.key_source_label(),
            key_kind: t.key.kind(),
            private_key_env: match &t.key {
                KeySource::Env(v) => Some(v),
                _ => None,
            },
            private_key_command: match &t.key {
                KeySource::Command(c) => Some(c),
                _ => None,
            },
            client_name: t.client_name(),
            time_zone: t.time_zone.as_deref(),
            last_dir: t.last_dir.as_ref().map(|p| p.display().to_string()),
            mapping_count: t.mappings.len(),
            mappings: with_mappings.then_some(t.mappings.as_slice()),
        }
    }
}

fn print_json(value: &impl Serialize) -> ExitCode {
    match serde_json::to_string_pretty(value) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(EXIT_FILE, e),
    }
}

fn list(loaded: &Loaded, json: bool) -> ExitCode {
    let trackers = &loaded.config.trackers;
    if json {
        let views: Vec<TrackerView<'_>> = trackers
            .iter()
            .map(|t| TrackerView::new(t, false))
            .collect();
        return print_json(&views);
    }
    if trackers.is_empty() {
        println!(
            "No saved trackers. Add one with:\n  lbimport tracker add NAME --tracker-id ID \
             --private-key-env VAR"
        );
        return ExitCode::SUCCESS;
    }
    print!("{}", list_table(trackers));
    ExitCode::SUCCESS
}

/// The human table of `tracker list`.
pub fn list_table(trackers: &[Tracker]) -> String {
    let rows: Vec<[String; 4]> = trackers
        .iter()
        .map(|t| {
            [
                t.name.clone(),
                t.tracker_id.clone(),
                t.base_url.clone(),
                t.key_source_label(),
            ]
        })
        .collect();
    table(&["NAME", "TRACKER ID", "BASE URL", "KEY"], &rows)
}

/// Left-aligned columns separated by two spaces, no trailing spaces.
pub(crate) fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            l.push_str(cell);
            if i + 1 < N {
                let pad = w.saturating_sub(cell.chars().count()) + 2;
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}

fn show(store: &ConfigStore, t: &Tracker, json: bool) -> ExitCode {
    if json {
        return print_json(&TrackerView::new(t, true));
    }
    let key = match &t.key {
        KeySource::Command(c) => format!("command ({c})"),
        _ => t.key_source_label(),
    };
    let last_dir = t
        .last_dir
        .as_ref()
        .map_or("-".to_string(), |p| p.display().to_string());
    println!("name:         {}", t.name);
    println!("tracker id:   {}", t.tracker_id);
    println!("base URL:     {}", t.base_url);
    println!("private key:  {key}");
    println!("client name:  {}", t.client_name());
    println!(
        "time zone:    {}",
        t.time_zone
            .as_deref()
            .unwrap_or("- (naive times are read as UTC)")
    );
    println!("last dir:     {last_dir}");
    println!("mappings:     {}", t.mappings.len());
    for m in &t.mappings {
        println!("  - {}", m.shape);
    }
    println!("config file:  {}", store.path().display());
    ExitCode::SUCCESS
}

/// Most bytes read from a piped stdin for a key.
const MAX_STDIN_KEY: u64 = 64 * 1024;

fn read_key_from_stdin(tracker_name: &str) -> Result<PrivateKey, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let key = read_hidden(&format!(
            "Private key for tracker \"{tracker_name}\" (input hidden): "
        ))
        .map_err(|e| format!("could not read the private key from the terminal: {e}"))?;
        let key = PrivateKey::new(key);
        if key.is_empty() {
            return Err("no private key entered".to_string());
        }
        return Ok(key);
    }
    let mut bytes = Vec::new();
    stdin
        .lock()
        .take(MAX_STDIN_KEY)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("could not read the private key from stdin: {e}"))?;
    PrivateKey::from_first_line(&bytes).map_err(|e| format!("stdin {e}"))
}

/// Read one line from the terminal without echoing it.
fn read_hidden(prompt: &str) -> std::io::Result<String> {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    use std::io::Write;

    struct RawGuard;
    impl Drop for RawGuard {
        fn drop(&mut self) {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }

    let mut err = std::io::stderr();
    write!(err, "{prompt}")?;
    err.flush()?;
    crossterm::terminal::enable_raw_mode()?;
    let guard = RawGuard;
    let mut key = String::new();
    loop {
        match event::read()? {
            Event::Key(k) if k.kind != KeyEventKind::Release => match k.code {
                KeyCode::Enter => break,
                KeyCode::Char('c') | KeyCode::Char('d')
                    if k.modifiers.contains(KeyModifiers::CONTROL) =>
                {
                    drop(guard);
                    writeln!(err)?;
                    return Err(std::io::Error::other("cancelled"));
                }
                KeyCode::Backspace => {
                    key.pop();
                }
                KeyCode::Char(c) if key.len() < 4096 => key.push(c),
                _ => {}
            },
            Event::Paste(s) if key.len() + s.len() < 4096 => key.push_str(&s),
            _ => {}
        }
    }
    drop(guard);
    writeln!(err)?;
    Ok(key)
}
