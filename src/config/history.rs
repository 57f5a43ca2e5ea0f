//! Upload history: `history.jsonl` in the data directory, one JSON object per upload attempt.
//!
//! Each entry is appended with a single `write` on a file opened with `O_APPEND`, so concurrent
//! lbimport processes never interleave inside a line. Unreadable lines (a torn write after a
//! crash, a hand edit) are skipped with a warning rather than making the whole history unusable.
//!
//! An upload is recorded twice under one `attempt` id: as [`Outcome::Sending`] before its first
//! byte leaves, and with its real outcome at the end. Readers keep the last line of each
//! attempt. A `sending` line with no end (the process was killed, the machine lost power) is
//! read as [`Outcome::Unknown`] once its process is gone: the file may have been imported, so
//! it counts as sent and the duplicate guard refuses to send it again.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ConfigError, data_dir, store::create_private_dir};
use crate::read::Format;

/// File name of the history inside the data directory.
pub const HISTORY_FILE: &str = "history.jsonl";

/// Longest `detail` kept in an entry (server bodies can be long).
const MAX_DETAIL_CHARS: usize = 2000;
/// Longest line we read back; longer ones are skipped as corrupt.
const MAX_LINE_BYTES: usize = 256 * 1024;

/// How an upload attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The server answered 2xx.
    Accepted,
    /// The server answered with an error status.
    Rejected,
    /// The request failed before a complete answer (network, deadline, …).
    Failed,
    /// The user cancelled it.
    Cancelled,
    /// We cannot tell whether the server took it (e.g. the connection dropped after the body).
    Unknown,
    /// Recorded before the first byte left; replaced by the real outcome at the end. Left
    /// alone by a process that died, it is read as [`Outcome::Unknown`].
    Sending,
}

impl Outcome {
    /// The serialized name: `accepted`, `rejected`, `failed`, `cancelled`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
            Outcome::Unknown => "unknown",
            Outcome::Sending => "sending",
        }
    }

    /// Whether a later upload of the same bytes would be a duplicate (accepted, unknown, or
    /// still being sent).
    pub fn counts_as_sent(self) -> bool {
        matches!(
            self,
            Outcome::Accepted | Outcome::Unknown | Outcome::Sending
        )
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One upload attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When the attempt started.
    pub time: DateTime<Utc>,
    /// The saved tracker's name (or what the user called it on the command line).
    pub tracker_name: String,
    /// The tracker id the upload was signed for.
    pub tracker_id: String,
    /// The endpoint base.
    pub base_url: String,
    /// The file uploaded (as given, made absolute when possible).
    #[serde(serialize_with = "path_lossy")]
    pub file: PathBuf,
    /// Bytes of the body's file part.
    pub bytes: u64,
    /// sha256 of the bytes sent, lowercase hex.
    pub sha256: String,
    /// `csv` or `json`.
    pub format: Format,
    /// Rows counted by the validator, if it ran.
    #[serde(default)]
    pub rows: Option<u64>,
    /// Orders counted by the validator, if it ran.
    #[serde(default)]
    pub orders: Option<u64>,
    /// The earliest `created_at` of the file, as the validation report gives it (absent in
    /// entries written before lbimport recorded it, or when the validator did not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_purchase: Option<String>,
    /// The latest `created_at` of the file (see `first_purchase`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_purchase: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// HTTP status, when the server answered.
    #[serde(default)]
    pub status: Option<u16>,
    /// Wall time of the attempt in milliseconds.
    pub duration_ms: u64,
    /// A short explanation (server body excerpt, failure reason); bounded when stored.
    #[serde(default)]
    pub detail: Option<String>,
    /// The validation report saved with this attempt (see `lbimport report`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<PathBuf>,
    /// Id shared by the `sending` line of an attempt and the line recording its outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<String>,
    /// The process that wrote a `sending` line (to tell a running upload from a dead one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
}

impl HistoryEntry {
    /// A fresh attempt id: time, process and a counter, unique within this machine.
    pub fn new_attempt_id() -> String {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!(
            "{now:x}-{:x}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }
}

/// Whether the process that wrote a `sending` line still runs. Where that cannot be told,
/// the answer is "no", so the entry is read as unknown (the safe reading for the guard).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        Path::new("/proc").join(pid.to_string()).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Keep the last line of each attempt (in place of its first), and read a `sending` line
/// whose process is gone as unknown.
fn collapse(entries: Vec<HistoryEntry>) -> Vec<HistoryEntry> {
    let mut out: Vec<HistoryEntry> = Vec::with_capacity(entries.len());
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for e in entries {
        match e.attempt.clone() {
            Some(id) => match at.get(&id) {
                Some(&i) => out[i] = e,
                None => {
                    at.insert(id, out.len());
                    out.push(e);
                }
            },
            None => out.push(e),
        }
    }
    for e in &mut out {
        if e.outcome == Outcome::Sending && !e.pid.is_some_and(process_alive) {
            e.outcome = Outcome::Unknown;
            e.detail = Some(
                "the process sending this file ended before recording the answer (killed or \
                 crashed): the file may have been imported"
                    .to_string(),
            );
        }
    }
    out
}

fn path_lossy<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

/// The history file of one data directory.
#[derive(Debug, Clone)]
pub struct History {
    dir: PathBuf,
    path: PathBuf,
}

impl History {
    /// The history in [`data_dir`].
    pub fn open_default() -> Result<Self, ConfigError> {
        Ok(Self::at(data_dir()?))
    }

    /// The history in this directory.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        let path = dir.join(HISTORY_FILE);
        History { dir, path }
    }

    /// The data directory holding it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of `history.jsonl`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one entry (one `write` with `O_APPEND`; the file is created 0600).
    pub fn append(&self, entry: &HistoryEntry) -> Result<(), ConfigError> {
        let mut entry = entry.clone();
        if let Some(d) = &mut entry.detail
            && d.chars().count() > MAX_DETAIL_CHARS
        {
            *d = d.chars().take(MAX_DETAIL_CHARS).collect::<String>() + "…";
        }
        let mut line = serde_json::to_vec(&entry)
            .map_err(|e| ConfigError::io(&self.path, io::Error::other(e)))?;
        line.push(b'\n');
        create_private_dir(&self.dir).map_err(|e| ConfigError::io(&self.dir, e))?;
        let mut opts = OpenOptions::new();
        opts.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts
            .open(&self.path)
            .map_err(|e| ConfigError::io(&self.path, e))?;
        // A torn last line (crash mid-write) must not swallow this entry: start on a new line.
        if ends_without_newline(&file) {
            line.insert(0, b'\n');
        }
        file.write_all(&line)
            .map_err(|e| ConfigError::io(&self.path, e))?;
        Ok(())
    }

    /// All readable entries, newest first. Unreadable lines are skipped and logged with
    /// `tracing::warn!`; use [`History::list_with_warnings`] to show them to the user.
    pub fn list(&self) -> Result<Vec<HistoryEntry>, ConfigError> {
        let (entries, warnings) = self.list_with_warnings()?;
        for w in warnings {
            tracing::warn!("{w}");
        }
        Ok(entries)
    }

    /// All readable entries, newest first, and one warning per skipped line.
    pub fn list_with_warnings(&self) -> Result<(Vec<HistoryEntry>, Vec<String>), ConfigError> {
        let mut entries = Vec::new();
        let warnings = self.scan(|e| entries.push(e))?;
        let mut entries = collapse(entries);
        entries.reverse();
        // Concurrent writers may append slightly out of order: sort by time, newest first,
        // keeping file order (newest last written first) for equal times.
        entries.sort_by_key(|e| std::cmp::Reverse(e.time));
        Ok((entries, warnings))
    }

    /// The most recent entry for this tracker id and sha256 whose outcome was accepted or
    /// unknown: uploading the same bytes again would probably duplicate them.
    pub fn find_duplicate(
        &self,
        tracker_id: &str,
        sha256: &str,
    ) -> Result<Option<HistoryEntry>, ConfigError> {
        let mut all = Vec::new();
        self.scan(|e| {
            if e.tracker_id == tracker_id && e.sha256.eq_ignore_ascii_case(sha256) {
                all.push(e);
            }
        })?;
        Ok(newest_sent(&collapse(all), tracker_id, sha256).cloned())
    }

    /// Stream every readable entry in file order; returns warnings for skipped lines.
    fn scan(&self, mut each: impl FnMut(HistoryEntry)) -> Result<Vec<String>, ConfigError> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ConfigError::io(&self.path, e)),
        };
        let mut reader = BufReader::new(file);
        let mut warnings = Vec::new();
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        loop {
            buf.clear();
            line_no += 1;
            let n = (&mut reader)
                .take(MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut buf)
                .map_err(|e| ConfigError::io(&self.path, e))?;
            if n == 0 {
                break;
            }
            if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
                skip_line(&mut reader).map_err(|e| ConfigError::io(&self.path, e))?;
                warnings.push(format!(
                    "{}:{line_no}: entry longer than {} KiB skipped",
                    self.path.display(),
                    MAX_LINE_BYTES / 1024
                ));
                continue;
            }
            let text = buf.trim_ascii();
            if text.is_empty() {
                continue;
            }
            match serde_json::from_slice::<HistoryEntry>(text) {
                Ok(e) => each(e),
                Err(e) => warnings.push(format!(
                    "{}:{line_no}: unreadable entry skipped ({e})",
                    self.path.display()
                )),
            }
        }
        Ok(warnings)
    }
}

fn skip_line(r: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(i) = memchr::memchr(b'\n', buf) {
            r.consume(i + 1);
            return Ok(());
        }
        let n = buf.len();
        r.consume(n);
    }
}

#[cfg(unix)]
fn ends_without_newline(file: &File) -> bool {
    use std::os::unix::fs::FileExt;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return false;
    }
    let mut last = [0u8; 1];
    matches!(file.read_at(&mut last, len - 1), Ok(1) if last[0] != b'\n')
}

#[cfg(not(unix))]
fn ends_without_newline(_: &File) -> bool {
    false
}

/// sha256 of a file's bytes, read in a streaming way, as lowercase hex.
pub fn sha256_file(path: impl AsRef<Path>) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(to_hex(&hasher.finalize()))
}

/// Lowercase hex of some bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xf) as usize] as char);
    }
    s
}

/// The newest of `entries` that sent these bytes (`sha256`, any case) to this tracker id and
/// counts as sent (accepted, or outcome unknown): sending them again would probably duplicate
/// them.
pub fn newest_sent<'a>(
    entries: impl IntoIterator<Item = &'a HistoryEntry>,
    tracker_id: &str,
    sha256: &str,
) -> Option<&'a HistoryEntry> {
    entries
        .into_iter()
        .filter(|e| {
            e.outcome.counts_as_sent()
                && e.tracker_id == tracker_id
                && e.sha256.eq_ignore_ascii_case(sha256)
        })
        .max_by_key(|e| e.time)
}
