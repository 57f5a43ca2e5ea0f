//! The path a file takes on its way to the service, shared by the CLI and the wizard:
//! file → (detect, convert) → split → validate each part → confirm → send each part → history.
//!
//! Today this module holds the steps both front ends use in the same way: splitting a file too
//! large for one upload into parts ([`split_into_parts`]). Sending and recording go through
//! [`crate::upload::guard`]; converting through [`crate::mapping`].

pub mod checks;
pub mod only_new;
pub mod overlap;
pub mod prepare;
pub mod rewrite;

use std::path::{Path, PathBuf};

use crate::mapping::MappingError;
use crate::read::Format;
use crate::validate::Progress;

/// Why a step of the pipeline produced nothing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The run was stopped through its progress handle.
    #[error("cancelled")]
    Cancelled,
    /// A file couldn't be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The mapping, a flag or a setting is not usable (why, in words).
    #[error("{0}")]
    Invalid(String),
    /// Reading or writing the tracker configuration failed.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The validator could not read the file.
    #[error(transparent)]
    Validate(crate::validate::ValidateError),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<MappingError> for Error {
    fn from(e: MappingError) -> Self {
        match e {
            MappingError::Io { path, source } => Error::Io { path, source },
            MappingError::Invalid(m) => Error::Invalid(m),
            MappingError::Cancelled => Error::Cancelled,
        }
    }
}

impl From<crate::validate::ValidateError> for Error {
    fn from(e: crate::validate::ValidateError) -> Self {
        match e {
            crate::validate::ValidateError::Cancelled => Error::Cancelled,
            e => Error::Validate(e),
        }
    }
}

/// Split `input` (documented layout, CSV or JSON lines) at order boundaries into parts of at
/// most `limit` bytes in `dir`, named `<stem>.part-NNN.<ext>`. Parts left in `dir` by an
/// earlier split of the same name into more parts are removed. Cancelled through `progress`.
pub fn split_into_parts(
    input: &Path,
    format: Format,
    limit: u64,
    dir: &Path,
    stem: &str,
    progress: &Progress,
) -> Result<Vec<PathBuf>, MappingError> {
    let parts = match format {
        Format::Csv => crate::mapping::split::split_path(input, limit, dir, stem, Some(progress)),
        Format::Json => {
            crate::mapping::split::split_json_path(input, limit, dir, stem, Some(progress))
        }
    }?;
    let ext = format.extension();
    let mut n = parts.len() + 1;
    while n < 100_000 {
        let stale = dir.join(format!("{stem}.part-{n:03}.{ext}"));
        if std::fs::remove_file(&stale).is_err() {
            break;
        }
        n += 1;
    }
    Ok(parts)
}
