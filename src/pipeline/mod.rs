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

/// What [`convert`] wrote.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The conversion's counts (before orders already sent were left out).
    pub summary: crate::mapping::convert::ConvertSummary,
    /// The orders already sent that were left out, when that was asked.
    pub only_new: Option<only_new::Filtered>,
}

/// Convert `input` through `mapping` into `out` (the documented CSV): cleaning, identity
/// rewrites, and — when `only_new` is given — every row of an order in it left out. The
/// directory of `out` is created (owner only). A failure while leaving orders out removes
/// `out`, so an unfiltered file is never left where the filtered one was expected.
/// Cancelled through `progress`.
pub fn convert(
    input: &Path,
    mapping: &crate::mapping::Mapping,
    clean: &crate::mapping::convert::Clean,
    rewrite: Option<&crate::mapping::identity::IdentityRewrite>,
    only_new: Option<&crate::validate::lookup::SentLookup>,
    out: &Path,
    progress: Option<&Progress>,
) -> Result<Converted, Error> {
    if let Some(dir) = out.parent() {
        crate::files::create_private_dir(dir).map_err(|e| Error::io(dir, e))?;
    }
    let summary = crate::mapping::convert::convert_path_rewriting(
        input, mapping, clean, rewrite, out, progress,
    )?;
    let only_new = match only_new {
        Some(lookup) => match only_new::filter_file(out, out, Format::Csv, lookup) {
            Ok(f) => Some(f),
            Err(e) => {
                let _ = std::fs::remove_file(out);
                return Err(e.into());
            }
        },
        None => None,
    };
    Ok(Converted { summary, only_new })
}

/// Validate `path` with `opts` against what the tracker already has (`checks`: its catalog
/// and sent orders), name the earlier uploads it overlaps (from `history`, or the history
/// file when `None` and there is an overlap), and stamp the report (when and by what it was
/// made). Cancelled through `progress`.
pub fn validate_file(
    path: &Path,
    mut opts: crate::validate::Options,
    checks: &checks::TrackerChecks,
    history: Option<&[crate::config::HistoryEntry]>,
    progress: Option<&Progress>,
) -> Result<crate::validate::Report, Error> {
    checks.apply(&mut opts);
    let mut r = crate::validate::validate_path(path, &opts, progress)?;
    match history {
        Some(h) => checks.complete_from(h, &mut r),
        None => checks.complete(&mut r),
    }
    crate::report_store::stamp(&mut r);
    Ok(r)
}

/// Split `input` into parts of at most `limit` bytes in `dir` ([`split_into_parts`]), tell
/// `on_split` the parts, then validate each one ([`validate_file`]) and tell `on_part` its
/// index and report, in order. Stops when cancelled through `progress`.
#[allow(clippy::too_many_arguments)]
pub fn split_and_validate(
    input: &Path,
    format: Format,
    limit: u64,
    dir: &Path,
    stem: &str,
    progress: &Progress,
    checks: &checks::TrackerChecks,
    history: &[crate::config::HistoryEntry],
    on_split: impl FnOnce(Result<&[PathBuf], Error>),
    mut on_part: impl FnMut(usize, Result<crate::validate::Report, Error>),
) {
    let parts = match split_into_parts(input, format, limit, dir, stem, progress) {
        Ok(p) => p,
        Err(e) => {
            on_split(Err(e.into()));
            return;
        }
    };
    on_split(Ok(&parts));
    for (index, p) in parts.iter().enumerate() {
        if progress.is_cancelled() {
            return;
        }
        progress.publish(crate::validate::Snapshot::default());
        let opts = crate::validate::Options::default();
        on_part(
            index,
            validate_file(p, opts, checks, Some(history), Some(progress)),
        );
    }
}
