//! `trackers.toml`: loading with precise errors and warnings, atomic private writes.
//!
//! Unknown keys are *warnings*, not errors: a newer lbimport may add keys, and a typo in an
//! optional key should not lock a user out of every tracker. The warning names the key path
//! and line so a typo (`privat_key`) is still obvious; a missing required key is an error.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{
    Config, ConfigError, KeySource, PrivateKey, Tracker, check_base_url, check_client_name,
    check_env_name, check_name, check_tracker_id, config_dir,
};
use crate::mapping::SavedMapping;

/// File name of the tracker configs inside the config directory.
pub const CONFIG_FILE: &str = "trackers.toml";

/// Largest config file we read (a real one is a few KiB).
const MAX_CONFIG_BYTES: u64 = 8 * 1024 * 1024;

const HEADER: &str = "# lbimport saved trackers (see `lbimport tracker --help`). Hand edits are \
                      fine,\n# but comments are not kept when lbimport rewrites this file.\n\n";

/// Reads and writes `trackers.toml` in one directory.
#[derive(Debug, Clone)]
pub struct ConfigStore {
    dir: PathBuf,
    path: PathBuf,
}

/// A loaded config and the warnings found while loading it (unknown keys, loose permissions).
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// One-line warnings to show the user.
    pub warnings: Vec<String>,
}

impl ConfigStore {
    /// The store in [`config_dir`].
    pub fn open_default() -> Result<Self, ConfigError> {
        Ok(Self::at(config_dir()?))
    }

    /// The store in this directory.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        let path = dir.join(CONFIG_FILE);
        ConfigStore { dir, path }
    }

    /// Path of `trackers.toml`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory holding it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Load the config; a missing file is an empty config.
    pub fn load(&self) -> Result<Loaded, ConfigError> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Loaded::default()),
            Err(e) => return Err(ConfigError::io(&self.path, e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| ConfigError::io(&self.path, e))?;
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::io(
                &self.path,
                io::Error::other("file is larger than 8 MiB; is it really a tracker config?"),
            ));
        }
        let mut bytes = Vec::new();
        file.take(MAX_CONFIG_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| ConfigError::io(&self.path, e))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let (line, column) = line_col_bytes(e.as_bytes(), e.utf8_error().valid_up_to());
            ConfigError::Parse {
                path: self.path.clone(),
                line,
                column,
                field: None,
                message: "the file is not UTF-8 text".to_string(),
            }
        })?;
        let mut loaded = parse(&text, &self.path)?;
        if let Some(w) = permission_warning(&self.path, &meta, &loaded.config) {
            loaded.warnings.push(w);
        }
        if let Some(w) = writable_dir_warning(&self.dir) {
            loaded.warnings.push(w);
        }
        Ok(loaded)
    }

    /// Write the config atomically (temp file in the same directory, fsync, rename), mode 0600.
    /// Invalid configs (duplicate or malformed fields) are refused before anything is touched.
    /// This replaces the whole file: to change it, prefer [`ConfigStore::update`] or
    /// [`ConfigStore::save_merged`], which keep what other processes wrote meanwhile.
    pub fn save(&self, config: &Config) -> Result<(), ConfigError> {
        let _lock = self.lock()?;
        self.write(config)
    }

    fn write(&self, config: &Config) -> Result<(), ConfigError> {
        let text = to_toml(config, &self.path)?;
        create_private_dir(&self.dir).map_err(|e| ConfigError::io(&self.dir, e))?;
        // A symlinked trackers.toml (dotfiles kept elsewhere) is written through the link.
        let target = match fs::symlink_metadata(&self.path) {
            Ok(m) if m.file_type().is_symlink() => {
                fs::canonicalize(&self.path).map_err(|e| ConfigError::io(&self.path, e))?
            }
            _ => self.path.clone(),
        };
        write_atomic(&target, text.as_bytes()).map_err(|e| ConfigError::io(&self.path, e))
    }

    /// The lock that serializes read-change-write cycles of `trackers.toml` across processes.
    fn lock(&self) -> Result<super::FileLock, ConfigError> {
        let path = self.dir.join(format!(".{CONFIG_FILE}.lock"));
        super::FileLock::acquire(&path).map_err(|e| ConfigError::io(&path, e))
    }

    /// Change the config under the lock: re-read it, apply `change`, write it. Concurrent
    /// updates from other processes are never lost. Nothing is written when `change` fails.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut Config) -> Result<T, ConfigError>,
    ) -> Result<T, ConfigError> {
        let _lock = self.lock()?;
        let mut config = self.load()?.config;
        let out = change(&mut config)?;
        self.write(&config)?;
        Ok(out)
    }

    /// Save `new`, a config that was `base` when it was read, keeping what other processes
    /// changed meanwhile: under the lock the file is re-read, and only the trackers (by name)
    /// and the theme that differ between `base` and `new` are taken from `new`. Returns the
    /// config written.
    pub fn save_merged(&self, base: &Config, new: &Config) -> Result<Config, ConfigError> {
        let _lock = self.lock()?;
        let mut merged = self.load()?.config;
        if base.theme != new.theme {
            merged.theme = new.theme.clone();
        }
        for b in &base.trackers {
            if new.tracker(&b.name).is_none() {
                merged.trackers.retain(|t| t.name != b.name);
            }
        }
        for n in &new.trackers {
            let changed = base.tracker(&n.name) != Some(n);
            if !changed {
                continue;
            }
            match merged.tracker_mut(&n.name) {
                Some(slot) => *slot = n.clone(),
                None => merged.trackers.push(n.clone()),
            }
        }
        self.write(&merged)?;
        Ok(merged)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

#[derive(Deserialize)]
struct FileIn {
    theme: Option<String>,
    #[serde(default)]
    tracker: Vec<Spanned<TrackerIn>>,
}

#[derive(Deserialize)]
struct TrackerIn {
    name: Spanned<String>,
    tracker_id: Spanned<String>,
    base_url: Option<Spanned<String>>,
    private_key: Option<Spanned<String>>,
    private_key_env: Option<Spanned<String>>,
    private_key_command: Option<Spanned<String>>,
    client_name: Option<Spanned<String>>,
    last_dir: Option<PathBuf>,
    #[serde(default)]
    mappings: Vec<SavedMapping>,
    time_zone: Option<Spanned<String>>,
}

/// Parse the text of a `trackers.toml` (`path` is used in messages only).
pub fn parse(src: &str, path: &Path) -> Result<Loaded, ConfigError> {
    let secrets = stored_key_texts(src);
    let err_at = |span: Option<std::ops::Range<usize>>, field: Option<String>, msg: &str| {
        let (line, column) = span.map(|s| line_col(src, s.start)).unwrap_or((1, 1));
        let mut message = msg.trim().replace('\n', "; ");
        for s in &secrets {
            message = message.replace(s.as_str(), "[redacted]");
        }
        ConfigError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            field,
            message,
        }
    };

    let de = toml::Deserializer::parse(src).map_err(|e| {
        let field = e.span().and_then(|s| key_on_line(src, s.start));
        err_at(e.span(), field, e.message())
    })?;
    let mut unknown: Vec<Vec<String>> = Vec::new();
    let mut record = |p: serde_ignored::Path<'_>| unknown.push(ignored_segments(&p));
    let ignoring = serde_ignored::Deserializer::new(de, &mut record);
    let raw: FileIn = serde_path_to_error::deserialize(ignoring).map_err(|e| {
        let field = tracked_path(e.path());
        err_at(e.inner().span(), field, e.inner().message())
    })?;

    let mut config = Config {
        theme: raw.theme,
        trackers: Vec::with_capacity(raw.tracker.len()),
    };
    let mut spans = Vec::with_capacity(raw.tracker.len());
    for (i, st) in raw.tracker.into_iter().enumerate() {
        let span = st.span();
        let t = st.into_inner();
        let field_err = |f: &str, s: std::ops::Range<usize>, e: ConfigError| {
            let msg = match e {
                ConfigError::InvalidValue { message, .. } => message,
                other => other.to_string(),
            };
            err_at(Some(s), Some(format!("tracker[{i}].{f}")), &msg)
        };
        check_name(t.name.get_ref()).map_err(|e| field_err("name", t.name.span(), e))?;
        check_tracker_id(t.tracker_id.get_ref())
            .map_err(|e| field_err("tracker_id", t.tracker_id.span(), e))?;
        if let Some(u) = &t.base_url {
            check_base_url(u.get_ref()).map_err(|e| field_err("base_url", u.span(), e))?;
        }
        if let Some(c) = &t.client_name {
            check_client_name(c.get_ref()).map_err(|e| field_err("client_name", c.span(), e))?;
        }
        if let Some(z) = &t.time_zone
            && let Err(e) = crate::mapping::time::Zone::parse(z.get_ref())
        {
            return Err(err_at(
                Some(z.span()),
                Some(format!("tracker[{i}].time_zone")),
                &e,
            ));
        }
        let present: Vec<(&str, &Spanned<String>)> = [
            ("private_key", &t.private_key),
            ("private_key_env", &t.private_key_env),
            ("private_key_command", &t.private_key_command),
        ]
        .into_iter()
        .filter_map(|(n, v)| v.as_ref().map(|v| (n, v)))
        .collect();
        let key = match present.as_slice() {
            [] => {
                return Err(err_at(
                    Some(span.clone()),
                    Some(format!("tracker[{i}]")),
                    "needs exactly one of private_key, private_key_env or private_key_command",
                ));
            }
            [(first, _), (second, s), ..] => {
                return Err(err_at(
                    Some(s.span()),
                    Some(format!("tracker[{i}].{second}")),
                    &format!("{first} is set too; keep exactly one private key source"),
                ));
            }
            [("private_key", v)] => {
                let k = PrivateKey::new(v.get_ref().as_str());
                if k.is_empty() {
                    return Err(err_at(
                        Some(v.span()),
                        Some(format!("tracker[{i}].private_key")),
                        "is empty",
                    ));
                }
                KeySource::Stored(k)
            }
            [("private_key_env", v)] => {
                check_env_name(v.get_ref())
                    .map_err(|e| field_err("private_key_env", v.span(), e))?;
                KeySource::Env(v.get_ref().clone())
            }
            [(_, v)] => {
                if v.get_ref().trim().is_empty() {
                    return Err(err_at(
                        Some(v.span()),
                        Some(format!("tracker[{i}].private_key_command")),
                        "is empty",
                    ));
                }
                KeySource::Command(v.get_ref().clone())
            }
        };
        if let Some(j) = config
            .trackers
            .iter()
            .position(|o: &Tracker| o.name == *t.name.get_ref())
        {
            let (other_line, _) = line_col(src, spans_start(&spans, j));
            return Err(err_at(
                Some(t.name.span()),
                Some(format!("tracker[{i}].name")),
                &format!(
                    "\"{}\" is already the name of tracker[{j}] (line {other_line}); names must be unique",
                    t.name.get_ref()
                ),
            ));
        }
        spans.push(span);
        config.trackers.push(Tracker {
            name: t.name.into_inner(),
            tracker_id: t.tracker_id.into_inner(),
            base_url: t
                .base_url
                .map(Spanned::into_inner)
                .unwrap_or_else(|| super::DEFAULT_BASE_URL.to_string()),
            key,
            client_name: t.client_name.map(Spanned::into_inner),
            last_dir: t.last_dir,
            mappings: t.mappings,
            time_zone: t.time_zone.map(Spanned::into_inner),
        });
    }

    let warnings = unknown
        .into_iter()
        .map(|segs| unknown_key_warning(src, path, &segs, &spans))
        .collect();
    Ok(Loaded { config, warnings })
}

/// The key assigned on the line holding `offset` (`tracker_id = 1-2` → `tracker_id`).
fn key_on_line(src: &str, offset: usize) -> Option<String> {
    let offset = offset.min(src.len());
    let start = src.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = src.get(start..)?.lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    .then(|| key.to_string())
}

fn spans_start(spans: &[std::ops::Range<usize>], i: usize) -> usize {
    spans.get(i).map(|s| s.start).unwrap_or(0)
}

const SPANNED_PREFIX: &str = "$__serde_spanned_private_";

/// `tracker[1].base_url` from a serde_path_to_error path.
fn tracked_path(p: &serde_path_to_error::Path) -> Option<String> {
    let segs: Vec<String> = p
        .iter()
        .filter_map(|s| match s {
            serde_path_to_error::Segment::Seq { index } => Some(format!("[{index}]")),
            serde_path_to_error::Segment::Map { key } if !key.starts_with(SPANNED_PREFIX) => {
                Some(key.clone())
            }
            _ => None,
        })
        .collect();
    let joined = join_segments(&segs);
    (!joined.is_empty()).then_some(joined)
}

fn ignored_segments(p: &serde_ignored::Path<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = p;
    loop {
        match cur {
            serde_ignored::Path::Root => break,
            serde_ignored::Path::Seq { parent, index } => {
                out.push(format!("[{index}]"));
                cur = parent;
            }
            serde_ignored::Path::Map { parent, key } => {
                if !key.starts_with(SPANNED_PREFIX) {
                    out.push(key.clone());
                }
                cur = parent;
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => cur = parent,
        }
    }
    out.reverse();
    out
}

fn join_segments(segs: &[String]) -> String {
    let mut s = String::new();
    for seg in segs {
        if !seg.starts_with('[') && !s.is_empty() {
            s.push('.');
        }
        s.push_str(seg);
    }
    s
}

fn unknown_key_warning(
    src: &str,
    path: &Path,
    segs: &[String],
    tracker_spans: &[std::ops::Range<usize>],
) -> String {
    let full = join_segments(segs);
    // Look for `key =` within the tracker's table (or the whole file) to give a line.
    let region = match (segs.first().map(String::as_str), segs.get(1)) {
        (Some("tracker"), Some(idx)) => idx
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<usize>()
            .ok()
            .and_then(|i| {
                // A table's span covers its `[[tracker]]` header; its keys run to the next one.
                let start = tracker_spans.get(i)?.start;
                let end = tracker_spans.get(i + 1).map_or(src.len(), |s| s.start);
                Some(start..end)
            }),
        _ => None,
    }
    .unwrap_or(0..src.len());
    let line = segs.last().and_then(|key| find_key_line(src, region, key));
    match line {
        Some(l) => format!(
            "{}:{l}: unknown key `{full}` ignored (check its spelling)",
            path.display()
        ),
        None => format!(
            "{}: unknown key `{full}` ignored (check its spelling)",
            path.display()
        ),
    }
}

fn find_key_line(src: &str, region: std::ops::Range<usize>, key: &str) -> Option<usize> {
    let start = region.start.min(src.len());
    let end = region.end.min(src.len());
    let mut offset = start;
    for line in src.get(start..end)?.split_inclusive('\n') {
        let t = line.trim_start();
        let header = t.starts_with('[') && t.trim_start_matches('[').trim_start().starts_with(key);
        let assigns = t
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with(['=', '.']));
        if assigns || header {
            return Some(line_col(src, offset).0);
        }
        offset += line.len();
    }
    None
}

/// Values of `private_key = "…"` lines, to scrub from any message (best effort, works even
/// when the file does not parse).
fn stored_key_texts(src: &str) -> Vec<String> {
    src.lines()
        .filter_map(|l| {
            let rest = l.trim_start().strip_prefix("private_key")?;
            let value = rest.trim_start().strip_prefix('=')?;
            let v = value
                .trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .trim()
                .to_string();
            (v.len() >= 4).then_some(v)
        })
        .collect()
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

fn line_col_bytes(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = bytes.get(..offset).unwrap_or(bytes);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    (line, offset - line_start + 1)
}

#[cfg(unix)]
fn permission_warning(path: &Path, meta: &fs::Metadata, config: &Config) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    let stored = config
        .trackers
        .iter()
        .filter(|t| matches!(t.key, KeySource::Stored(_)))
        .count();
    (mode & 0o077 != 0 && stored > 0).then(|| {
        format!(
            "{} holds {stored} stored private key(s) but is readable by other users \
             (mode {mode:03o}); run `chmod 600 {}`, or use --private-key-env / \
             --private-key-command instead",
            path.display(),
            path.display()
        )
    })
}

/// A config directory others may write to lets them replace `trackers.toml` (and with it
/// where uploads go and which key command runs).
#[cfg(unix)]
fn writable_dir_warning(dir: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(dir).ok()?;
    let mode = meta.permissions().mode();
    let sticky = mode & 0o1000 != 0;
    (mode & 0o002 != 0 && !sticky).then(|| {
        format!(
            "{} can be written by other users (mode {:03o}): they could replace the tracker \
             config; run `chmod go-w {}`",
            dir.display(),
            mode & 0o777,
            dir.display()
        )
    })
}

#[cfg(not(unix))]
fn writable_dir_warning(_: &Path) -> Option<String> {
    None
}

#[cfg(not(unix))]
fn permission_warning(_: &Path, _: &fs::Metadata, _: &Config) -> Option<String> {
    None
}

// ---------------------------------------------------------------------------------------------
// Writing

#[derive(Serialize)]
struct FileOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    theme: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tracker: Vec<TrackerOut<'a>>,
}

#[derive(Serialize)]
struct TrackerOut<'a> {
    name: &'a str,
    tracker_id: &'a str,
    base_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key_env: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key_command: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_dir: Option<&'a Path>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_zone: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    mappings: &'a [SavedMapping],
}

/// Validate and render a config as the text of `trackers.toml`.
fn to_toml(config: &Config, path: &Path) -> Result<String, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    for (i, t) in config.trackers.iter().enumerate() {
        t.validate()
            .map_err(|e| invalid(format!("tracker \"{}\": {e}", t.name)))?;
        if config.trackers[..i].iter().any(|o| o.name == t.name) {
            return Err(invalid(format!(
                "two trackers are named \"{}\"; names must be unique",
                t.name
            )));
        }
    }
    let out = FileOut {
        theme: config.theme.as_deref(),
        tracker: config
            .trackers
            .iter()
            .map(|t| {
                let (pk, env, cmd) = match &t.key {
                    KeySource::Stored(k) => (Some(k.expose_str()), None, None),
                    KeySource::Env(v) => (None, Some(v.as_str()), None),
                    KeySource::Command(c) => (None, None, Some(c.as_str())),
                };
                TrackerOut {
                    name: &t.name,
                    tracker_id: &t.tracker_id,
                    base_url: &t.base_url,
                    private_key: pk,
                    private_key_env: env,
                    private_key_command: cmd,
                    client_name: t.client_name.as_deref(),
                    last_dir: t.last_dir.as_deref(),
                    time_zone: t.time_zone.as_deref(),
                    mappings: &t.mappings,
                }
            })
            .collect(),
    };
    let body = toml::to_string(&out).map_err(|e| {
        invalid(format!(
            "cannot be written as TOML: {}",
            e.to_string().trim()
        ))
    })?;
    Ok(format!("{HEADER}{body}"))
}

pub use crate::files::{create_private_dir, create_private_file};

/// Replace `path` with `bytes` atomically: write a 0600 temp file in the same directory, fsync
/// it, rename it over `path`, then fsync the directory. On failure the old file is untouched
/// and the temp file removed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_string());
    let (tmp, mut file) = create_temp(&dir, &base)?;
    let result = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn create_temp(dir: &Path, base: &str) -> io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last = io::Error::other("no temporary name available");
    for n in 0..64u32 {
        let tmp = dir.join(format!(".{base}.{pid}.{nanos:x}{n}.tmp"));
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        match opts.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> PathBuf {
        PathBuf::from("/c/trackers.toml")
    }

    fn err(src: &str) -> String {
        parse(src, &p())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn parses_minimal_and_defaults() {
        let l = parse(
            "theme = \"light\"\n[[tracker]]\nname = \"shop\"\ntracker_id = \"1-2\"\nprivate_key_env = \"LB\"\n",
            &p(),
        );
        let l = l.ok().unwrap_or_default();
        assert_eq!(l.config.theme.as_deref(), Some("light"));
        assert_eq!(l.config.trackers.len(), 1);
        assert_eq!(l.config.trackers[0].base_url, "https://live.luigisbox.com");
        assert_eq!(l.config.trackers[0].key, KeySource::Env("LB".into()));
        assert!(l.warnings.is_empty());
    }

    #[test]
    fn syntax_error_has_line_column_and_field() {
        assert_eq!(
            err("[[tracker]]\nname = \"shop\"\ntracker_id = 1-2\n"),
            "/c/trackers.toml:3:14: tracker_id: invalid date, expected `-` (MM-DD)"
        );
        // An unterminated stored key: the message locates it but never repeats it.
        let e = err("[[tracker]]\nname = \"s\"\ntracker_id = \"1\"\nprivate_key = \"sk-abcdefgh\n");
        assert_eq!(
            e,
            "/c/trackers.toml:4:27: private_key: invalid basic string, expected `\"`"
        );
    }

    #[test]
    fn type_error_names_field() {
        assert_eq!(
            err("[[tracker]]\nname = \"shop\"\ntracker_id = 12\nprivate_key_env = \"LB\"\n"),
            "/c/trackers.toml:3:14: tracker[0].tracker_id: invalid type: integer `12`, expected a string"
        );
        assert_eq!(
            err("[[tracker]]\nname = \"shop\"\nprivate_key_env = \"LB\"\n"),
            "/c/trackers.toml:1:1: tracker[0]: missing field `tracker_id`"
        );
    }

    #[test]
    fn key_source_rules() {
        assert_eq!(
            err("[[tracker]]\nname = \"a\"\ntracker_id = \"1\"\n"),
            "/c/trackers.toml:1:1: tracker[0]: needs exactly one of private_key, private_key_env or private_key_command"
        );
        assert_eq!(
            err(
                "[[tracker]]\nname = \"a\"\ntracker_id = \"1\"\nprivate_key = \"sk-0123456789\"\nprivate_key_env = \"X\"\n"
            ),
            "/c/trackers.toml:5:19: tracker[0].private_key_env: private_key is set too; keep exactly one private key source"
        );
    }

    #[test]
    fn duplicate_names_refused() {
        let src = "[[tracker]]\nname = \"a\"\ntracker_id = \"1\"\nprivate_key_env = \"X\"\n\n[[tracker]]\nname = \"a\"\ntracker_id = \"2\"\nprivate_key_env = \"Y\"\n";
        assert_eq!(
            err(src),
            "/c/trackers.toml:7:8: tracker[1].name: \"a\" is already the name of tracker[0] (line 1); names must be unique"
        );
    }

    #[test]
    fn unknown_keys_warn_with_line() {
        let src = "colour = 1\n[[tracker]]\nname = \"a\"\ntracker_id = \"1\"\nprivate_key_env = \"X\"\nprivat_key = \"zz\"\n";
        let l = parse(src, &p()).ok().unwrap_or_default();
        assert_eq!(
            l.warnings,
            vec![
                "/c/trackers.toml:1: unknown key `colour` ignored (check its spelling)".to_string(),
                "/c/trackers.toml:6: unknown key `tracker[0].privat_key` ignored (check its spelling)"
                    .to_string(),
            ]
        );
        assert_eq!(l.config.trackers.len(), 1);
    }

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("ab\ncčd", 6), (2, 3));
        assert_eq!(line_col("", 0), (1, 1));
    }
}
