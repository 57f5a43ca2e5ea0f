//! Configuration: saved trackers, their private keys, and the upload history.
//!
//! - [`ConfigStore`] reads and writes `trackers.toml` in [`config_dir`] (atomically, 0600).
//! - [`Tracker::resolve_key`] fetches a tracker's [`PrivateKey`] from its [`KeySource`].
//! - [`history::History`] appends to and reads `history.jsonl` in [`data_dir`].
//!
//! The private key never appears in any `Debug`/`Display` output or error of this module.

mod error;
pub mod history;
pub mod lock;
pub mod mappings;
mod paths;
mod secret;
pub mod sent;
pub(crate) mod store;

use std::time::Duration;

pub use error::ConfigError;
pub use history::{History, HistoryEntry, Outcome, sha256_file};
pub use lock::{FileLock, upload_lock_path};
pub use paths::{CONFIG_DIR_ENV, DATA_DIR_ENV, config_dir, data_dir};
pub use secret::PrivateKey;
pub use store::{CONFIG_FILE, ConfigStore, Loaded, create_private_dir, create_private_file};

/// Replace `path` with `bytes` atomically (temp file in the same directory, mode 0600, fsync,
/// rename): how every piece of stored state is written.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    store::write_atomic(path, bytes)
}

/// The documented production endpoint base.
pub const DEFAULT_BASE_URL: &str = "https://live.luigisbox.com";

/// Client name put in the `Authorization` header when a tracker sets none.
pub const DEFAULT_CLIENT_NAME: &str = "ApiAuth";

/// How long a `private_key_command` may run before it is stopped.
pub const KEY_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a tracker's private key comes from. Exactly one source per tracker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// Stored in `trackers.toml` itself (`private_key = "…"`).
    Stored(PrivateKey),
    /// Read from this environment variable (`private_key_env = "LB_KEY"`).
    Env(String),
    /// The stdout of this shell command (`private_key_command = "pass show luigi/shop"`).
    Command(String),
}

impl KeySource {
    /// A human label that shows nothing of a key: `env:LB_KEY`, `command`, or `stored`.
    pub fn label(&self) -> String {
        match self {
            KeySource::Stored(_) => "stored".to_string(),
            KeySource::Env(var) => format!("env:{var}"),
            KeySource::Command(_) => "command".to_string(),
        }
    }

    /// The kind of source as used in JSON output: `stored`, `env` or `command`.
    pub fn kind(&self) -> &'static str {
        match self {
            KeySource::Stored(_) => "stored",
            KeySource::Env(_) => "env",
            KeySource::Command(_) => "command",
        }
    }
}

/// The whole `trackers.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The wizard's theme name (`theme = "light"`), if chosen.
    pub theme: Option<String>,
    /// Saved trackers, in file order.
    pub trackers: Vec<Tracker>,
}

impl Config {
    /// The tracker with exactly this name.
    pub fn tracker(&self, name: &str) -> Option<&Tracker> {
        self.trackers.iter().find(|t| t.name == name)
    }

    /// The tracker with exactly this name, for changing it.
    pub fn tracker_mut(&mut self, name: &str) -> Option<&mut Tracker> {
        self.trackers.iter_mut().find(|t| t.name == name)
    }

    /// Add a tracker after checking its fields; a taken name is refused.
    pub fn add_tracker(&mut self, tracker: Tracker) -> Result<(), ConfigError> {
        tracker.validate()?;
        if self.tracker(&tracker.name).is_some() {
            return Err(ConfigError::DuplicateName(tracker.name));
        }
        self.trackers.push(tracker);
        Ok(())
    }

    /// Remove and return the tracker with this name.
    pub fn remove_tracker(&mut self, name: &str) -> Result<Tracker, ConfigError> {
        match self.trackers.iter().position(|t| t.name == name) {
            Some(i) => Ok(self.trackers.remove(i)),
            None => Err(ConfigError::NotFound(name.to_string())),
        }
    }
}

/// A saved tracker: one shop/site and its endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracker {
    /// Unique, human name.
    pub name: String,
    /// The Luigi's Box tracker id, e.g. `1292-9381`.
    pub tracker_id: String,
    /// Endpoint base, e.g. `https://live.luigisbox.com`.
    pub base_url: String,
    /// Where the private key comes from.
    pub key: KeySource,
    /// Client name for the `Authorization` header (default `ApiAuth`).
    pub client_name: Option<String>,
    /// Last directory browsed in the wizard's file step.
    pub last_dir: Option<std::path::PathBuf>,
    /// Column mappings saved for this tracker, keyed by file shape.
    pub mappings: Vec<crate::mapping::SavedMapping>,
    /// The shop's time zone (`Europe/Bratislava`, `+01:00`): naive local times in its exports
    /// are read in it unless a mapping or `--time-zone` says otherwise.
    pub time_zone: Option<String>,
}

impl Tracker {
    /// A tracker with the default base URL and no optional settings.
    pub fn new(name: impl Into<String>, tracker_id: impl Into<String>, key: KeySource) -> Self {
        Tracker {
            name: name.into(),
            tracker_id: tracker_id.into(),
            base_url: DEFAULT_BASE_URL.to_string(),
            key,
            client_name: None,
            last_dir: None,
            mappings: Vec::new(),
            time_zone: None,
        }
    }

    /// The client name to put in the `Authorization` header.
    pub fn client_name(&self) -> &str {
        self.client_name.as_deref().unwrap_or(DEFAULT_CLIENT_NAME)
    }

    /// A masked label of the key's source: `env:LB_KEY`, `command`, or `stored (…abcd)`.
    pub fn key_source_label(&self) -> String {
        self.key.label()
    }

    /// Fetch the private key from its source (command runs at most [`KEY_COMMAND_TIMEOUT`]).
    pub fn resolve_key(&self) -> Result<PrivateKey, ConfigError> {
        self.resolve_key_with_timeout(KEY_COMMAND_TIMEOUT)
    }

    /// [`Tracker::resolve_key`] with a chosen command timeout.
    pub fn resolve_key_with_timeout(&self, timeout: Duration) -> Result<PrivateKey, ConfigError> {
        let fail = |message: String| ConfigError::Key {
            tracker: self.name.clone(),
            message,
        };
        match &self.key {
            KeySource::Stored(k) if k.is_empty() => {
                Err(fail("the stored private_key is empty".to_string()))
            }
            KeySource::Stored(k) => Ok(k.clone()),
            KeySource::Env(var) => match std::env::var_os(var) {
                None => Err(fail(format!("environment variable {var} is not set"))),
                Some(v) => {
                    let v = v
                        .into_string()
                        .map_err(|_| fail(format!("environment variable {var} is not UTF-8")))?;
                    let key = PrivateKey::new(v);
                    if key.is_empty() {
                        Err(fail(format!("environment variable {var} is empty")))
                    } else {
                        Ok(key)
                    }
                }
            },
            KeySource::Command(cmd) => secret::run_key_command(cmd, timeout).map_err(fail),
        }
    }

    /// Check every field; the error names the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_name(&self.name)?;
        check_tracker_id(&self.tracker_id)?;
        check_base_url(&self.base_url)?;
        match &self.key {
            KeySource::Stored(k) if k.is_empty() => return Err(invalid("private_key", "is empty")),
            KeySource::Stored(_) => {}
            KeySource::Env(var) => check_env_name(var)?,
            KeySource::Command(cmd) if cmd.trim().is_empty() => {
                return Err(invalid("private_key_command", "is empty"));
            }
            KeySource::Command(_) => {}
        }
        if let Some(c) = &self.client_name {
            check_client_name(c)?;
        }
        if let Some(z) = &self.time_zone {
            crate::mapping::time::Zone::parse(z).map_err(|e| invalid("time_zone", e))?;
        }
        Ok(())
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::InvalidValue {
        field,
        message: message.into(),
    }
}

/// A tracker name: non-empty, at most 100 characters, no control characters, no
/// surrounding spaces.
pub fn check_name(name: &str) -> Result<(), ConfigError> {
    if name.trim().is_empty() {
        return Err(invalid("name", "is empty"));
    }
    if name.trim() != name {
        return Err(invalid("name", "has leading or trailing spaces"));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("name", "contains control characters"));
    }
    if name.chars().count() > 100 {
        return Err(invalid("name", "is longer than 100 characters"));
    }
    Ok(())
}

/// A tracker id: non-empty, no whitespace, control characters or `:` (it goes into the
/// `Authorization` header as `ID:digest`).
pub fn check_tracker_id(id: &str) -> Result<(), ConfigError> {
    if id.is_empty() {
        return Err(invalid("tracker_id", "is empty"));
    }
    if id
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ':')
    {
        return Err(invalid(
            "tracker_id",
            "must not contain spaces, control characters or ':'",
        ));
    }
    Ok(())
}

/// A base URL: `http` or `https`, with a host, without query or fragment.
pub fn check_base_url(url: &str) -> Result<(), ConfigError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid("base_url", format!("{e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("base_url", "must start with https:// or http://"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("base_url", "has no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("base_url", "must not have a query or fragment"));
    }
    Ok(())
}

/// An environment variable name: non-empty, without `=`, NUL or whitespace.
pub fn check_env_name(var: &str) -> Result<(), ConfigError> {
    if var.is_empty()
        || var
            .chars()
            .any(|c| c == '=' || c == '\0' || c.is_whitespace())
    {
        return Err(invalid(
            "private_key_env",
            "must be an environment variable name",
        ));
    }
    Ok(())
}

/// A client name: non-empty, no whitespace or control characters.
pub fn check_client_name(name: &str) -> Result<(), ConfigError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            "client_name",
            "must be one word without spaces or control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_masked() {
        let t = Tracker::new(
            "shop",
            "1-2",
            KeySource::Stored(PrivateKey::new("sk-test-0123456789wxyz")),
        );
        assert_eq!(t.key_source_label(), "stored");
        assert_eq!(KeySource::Env("LB_KEY".into()).label(), "env:LB_KEY");
        assert_eq!(KeySource::Command("pass show x".into()).label(), "command");
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("0123456789"), "{dbg}");
        assert!(dbg.contains("PrivateKey([redacted])"), "{dbg}");
    }

    #[test]
    fn env_source() {
        let t = Tracker::new(
            "shop",
            "1-2",
            KeySource::Env("LBIMPORT_TEST_UNSET_VAR".into()),
        );
        assert_eq!(
            t.resolve_key().err().map(|e| e.to_string()).as_deref(),
            Some(
                "private key of tracker \"shop\": environment variable LBIMPORT_TEST_UNSET_VAR is not set"
            )
        );
        // PATH is always set in a test run: it resolves to its value.
        let t = Tracker::new("shop", "1-2", KeySource::Env("PATH".into()));
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(
            t.resolve_key().ok().map(|k| k.expose().to_vec()),
            Some(path.trim().as_bytes().to_vec())
        );
    }

    #[test]
    fn stored_and_command_sources() {
        let t = Tracker::new("s", "1-2", KeySource::Stored(PrivateKey::new("abc")));
        assert_eq!(t.resolve_key().ok(), Some(PrivateKey::new("abc")));
        let t = Tracker::new("s", "1-2", KeySource::Command("echo cmdkey".into()));
        assert_eq!(t.resolve_key().ok(), Some(PrivateKey::new("cmdkey")));
        let t = Tracker::new("s", "1-2", KeySource::Command("exit 4".into()));
        assert_eq!(
            t.resolve_key().err().map(|e| e.to_string()).as_deref(),
            Some("private key of tracker \"s\": its command failed (exit status 4)")
        );
    }

    #[test]
    fn validation() {
        let mut c = Config::default();
        let ok = Tracker::new("shop", "1292-9381", KeySource::Env("LB_KEY".into()));
        assert!(c.add_tracker(ok.clone()).is_ok());
        assert_eq!(
            c.add_tracker(ok).err().map(|e| e.to_string()).as_deref(),
            Some("a tracker named \"shop\" already exists")
        );
        let mut bad = Tracker::new("x", "1 2", KeySource::Env("LB".into()));
        assert_eq!(
            bad.validate().err().map(|e| e.to_string()).as_deref(),
            Some("invalid tracker_id: must not contain spaces, control characters or ':'")
        );
        bad.tracker_id = "1-2".into();
        bad.base_url = "ftp://x".into();
        assert_eq!(
            bad.validate().err().map(|e| e.to_string()).as_deref(),
            Some("invalid base_url: must start with https:// or http://")
        );
        bad.base_url = "http://127.0.0.1:8080".into();
        assert!(bad.validate().is_ok());
        assert_eq!(
            c.remove_tracker("nope")
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some("no tracker named \"nope\" (see `lbimport tracker list`)")
        );
        assert_eq!(
            c.remove_tracker("shop").ok().map(|t| t.name),
            Some("shop".into())
        );
        assert!(c.trackers.is_empty());
    }
}
