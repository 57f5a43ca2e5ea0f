//! Configuration: saved trackers, their private keys, and the upload history.

mod secret;

pub use secret::PrivateKey;

/// The documented production endpoint base.
pub const DEFAULT_BASE_URL: &str = "https://live.luigisbox.com";

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
}
