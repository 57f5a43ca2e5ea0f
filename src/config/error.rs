//! Errors of the configuration and history layer. Every message is one line and none ever
//! contains a private key.

use std::path::PathBuf;

/// Everything that can go wrong reading or writing configs, resolving keys or keeping history.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither an override variable nor a home directory gives a place for our files.
    #[error("cannot determine the {what} directory: set {var} (or HOME)")]
    NoDirectory {
        /// `config` or `data`.
        what: &'static str,
        /// The environment variable that overrides it.
        var: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or doesn't have the expected shape.
    #[error("{}:{line}:{column}: {}{message}", path.display(), field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default())]
    Parse {
        /// The config file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// The field involved, e.g. `tracker[1].base_url`, when known.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The configuration cannot be written as it is (e.g. a duplicate or empty name).
    #[error("cannot save {}: {message}", path.display())]
    Invalid {
        /// The config file that would have been written.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A tracker with this name exists already.
    #[error("a tracker named \"{0}\" already exists")]
    DuplicateName(String),
    /// No tracker with this name.
    #[error("no tracker named \"{0}\" (see `lbimport tracker list`)")]
    NotFound(String),
    /// A value given for a tracker field is not acceptable.
    #[error("invalid {field}: {message}")]
    InvalidValue {
        /// The field, e.g. `base_url`.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The private key could not be obtained from its source.
    #[error("private key of tracker \"{tracker}\": {message}")]
    Key {
        /// The tracker's name.
        tracker: String,
        /// What went wrong (never the key itself, never the command's stdout).
        message: String,
    },
}

impl ConfigError {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ConfigError::Io {
            path: path.into(),
            source,
        }
    }
}
