//! Saved validation reports: loading (tolerant of newer versions, strict about what is not a
//! report), stamping where and when a report was made, saving (atomic, 0600), checking whether
//! the validated file is still the same bytes, listing the saved ones, and comparing two.
//!
//! No terminal UI here: `lbimport report` ([`crate::cli::report`]) and the wizard's report
//! viewer ([`crate::tui::report_view`]) both build on this module.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::HistoryEntry;
use crate::validate::{Code, Report, Verdict};

/// Reports larger than this are not read (real ones are a few hundred KB at most).
pub const MAX_REPORT_BYTES: u64 = 64 << 20;
/// At most this many files of the reports directory are listed.
pub const MAX_LISTED: usize = 5_000;
/// Name of the reports directory inside the data directory.
pub const REPORTS_DIR: &str = "reports";

/// A report read from disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The report.
    pub report: Report,
    /// Where it was read from.
    pub path: PathBuf,
    /// Fields this version does not know (from a newer lbimport), as dotted paths.
    pub unknown: Vec<String>,
    /// For a file holding the reports of a split file's parts: (this part, number of parts).
    pub part: Option<(usize, usize)>,
}

/// Why a file could not be opened as a report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// The file is readable but is not an lbimport report.
    #[error("{path} is not an lbimport report: {reason}")]
    NotAReport {
        /// The file.
        path: String,
        /// What is wrong, one line.
        reason: String,
    },
}

/// Read a report. Unknown fields are ignored and listed; anything that does not deserialize
/// as a report (not JSON, not an object, a required field missing) is [`LoadError::NotAReport`].
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let shown = path.display().to_string();
    let io = |e: std::io::Error| LoadError::Io {
        path: shown.clone(),
        reason: e.to_string(),
    };
    let not = |reason: String| LoadError::NotAReport {
        path: shown.clone(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(not("it is a directory".to_string()));
    }
    if meta.len() > MAX_REPORT_BYTES {
        return Err(not(format!(
            "{} bytes, reports are under {} MiB (is it the purchases file itself?)",
            meta.len(),
            MAX_REPORT_BYTES >> 20
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_REPORT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    load_part_bytes(&bytes, path, 1).map_err(not)
}

/// [`load`], and for a file holding the reports of a split file's parts (what `validate
/// --report-out` writes for one), part `part` (1-based).
pub fn load_part(path: &Path, part: usize) -> Result<Loaded, LoadError> {
    let mut l = load(path);
    if let Ok(loaded) = &l
        && let Some((_, n)) = loaded.part
        && part != 1
    {
        if part == 0 || part > n {
            return Err(LoadError::NotAReport {
                path: path.display().to_string(),
                reason: format!("it holds {n} part reports; there is no part {part}"),
            });
        }
        let bytes = std::fs::read(path).map_err(|e| LoadError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        l = load_part_bytes(&bytes, path, part).map_err(|reason| LoadError::NotAReport {
            path: path.display().to_string(),
            reason,
        });
    }
    l
}

fn load_part_bytes(bytes: &[u8], path: &Path, part: usize) -> Result<Loaded, String> {
    if let Some(list) = part_reports(bytes)? {
        let n = list.len();
        let one = list
            .into_iter()
            .nth(part.saturating_sub(1))
            .ok_or_else(|| format!("it holds {n} part reports; there is no part {part}"))?;
        let one = serde_json::to_vec(&one).map_err(|e| e.to_string())?;
        let (report, unknown) = parse(&one)?;
        return Ok(Loaded {
            report,
            path: path.to_path_buf(),
            unknown,
            part: Some((part, n)),
        });
    }
    parse(bytes).map(|(report, unknown)| Loaded {
        report,
        path: path.to_path_buf(),
        unknown,
        part: None,
    })
}

/// The raw part reports of a list file, or `None` when the file is not a JSON array.
fn part_reports(bytes: &[u8]) -> Result<Option<Vec<serde_json::Value>>, String> {
    let first = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
    if first.map(|i| bytes[i]) != Some(b'[') {
        return Ok(None);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text ({e})"))?;
    let list: Vec<serde_json::Value> = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| one_line(&e.to_string()))?;
    if list.is_empty() {
        return Err("it is an empty list".to_string());
    }
    Ok(Some(list))
}

/// Parse report JSON; on failure a one-line reason.
pub fn parse(bytes: &[u8]) -> Result<(Report, Vec<String>), String> {
    let first = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
    match first.map(|i| bytes[i]) {
        None => return Err("the file is empty".to_string()),
        Some(b'{') => {}
        Some(b'[') => {
            return Err(
                "it holds a list of reports (one per part of a split file): open it with \
                 `lbimport report FILE --part N`"
                    .to_string(),
            );
        }
        Some(_) => return Err("it is not a JSON object".to_string()),
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text ({e})"))?;
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text.trim_start_matches('\u{feff}'));
    let report: Report = serde_ignored::deserialize(&mut de, |p| unknown.push(p.to_string()))
        .map_err(|e| one_line(&e.to_string()))?;
    de.end().map_err(|e| one_line(&e.to_string()))?;
    Ok((report, unknown))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Fill the provenance fields a report lacks: when (now), who (`$USER@host`), the file's
/// absolute path and this lbimport's version. Fields already set are kept.
pub fn stamp(report: &mut Report) {
    if report.validated_at.is_none() {
        report.validated_at = Some(Utc::now());
    }
    if report.validated_by.is_none() {
        report.validated_by = who();
    }
    if report.file_absolute.is_none() {
        let p = Path::new(&report.file.path);
        let abs = std::fs::canonicalize(p)
            .ok()
            .or_else(|| std::env::current_dir().ok().map(|d| d.join(p)));
        report.file_absolute = abs.map(|a| a.display().to_string());
    }
    if report.lbimport_version.is_none() {
        report.lbimport_version = Some(env!("CARGO_PKG_VERSION").to_string());
    }
}

fn who() -> Option<String> {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())?;
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()));
    Some(match host {
        Some(h) => format!("{user}@{h}"),
        None => user,
    })
}

/// Save `report` (stamped first) as `<stem>-<UTC time>.report.json` and `.report.txt` in
/// `dir`, each written atomically with mode 0600; returns the JSON path.
pub fn save(dir: &Path, report: &Report) -> Result<PathBuf, String> {
    let mut report = report.clone();
    stamp(&mut report);
    create_private_dir(dir)?;
    let stem = Path::new(&report.file.path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_string());
    let at = report.validated_at.unwrap_or_else(Utc::now);
    let mut base = format!("{stem}-{}", at.format("%Y%m%d-%H%M%S"));
    let mut n = 2;
    while dir.join(format!("{base}.report.json")).exists() {
        base = format!("{stem}-{}-{n}", at.format("%Y%m%d-%H%M%S"));
        n += 1;
    }
    let json = dir.join(format!("{base}.report.json"));
    let text = dir.join(format!("{base}.report.txt"));
    let mut body = serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?;
    body.push(b'\n');
    crate::config::write_private(&json, &body)
        .map_err(|e| format!("cannot write {}: {e}", json.display()))?;
    crate::config::write_private(
        &text,
        crate::validate::text::render_text(&report).as_bytes(),
    )
    .map_err(|e| format!("cannot write {}: {e}", text.display()))?;
    Ok(json)
}

/// Save the report of an upload attempt in `reports/` beside `history` (for the entry's
/// `report` link). Failures are logged, never fatal: the attempt is recorded without a link.
pub fn save_for_history(
    history: &crate::config::History,
    report: Option<&Report>,
) -> Option<PathBuf> {
    let dir = history.path().parent()?.join(REPORTS_DIR);
    match save(&dir, report?) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::warn!("saving the upload's report failed: {e}");
            None
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<(), String> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// Where the validated file is looked for: its absolute path when the report has one, else the
/// path as given (relative to the current directory).
pub fn file_location(report: &Report) -> PathBuf {
    match &report.file_absolute {
        Some(a) if !a.is_empty() => PathBuf::from(a),
        _ => PathBuf::from(&report.file.path),
    }
}

/// Whether the validated file is still the bytes the report describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileCheck {
    /// Same size and sha256.
    Unchanged,
    /// Nothing at that path.
    Missing(PathBuf),
    /// The size differs (no need to hash).
    Resized {
        /// Bytes in the report.
        was: u64,
        /// Bytes now.
        now: u64,
    },
    /// Same size, different sha256.
    Modified,
    /// It could not be read.
    Unreadable(String),
    /// The check was cancelled.
    Cancelled,
}

impl FileCheck {
    /// Why continuing to an upload is refused, or `None` when the file is unchanged.
    pub fn refusal(&self) -> Option<String> {
        match self {
            FileCheck::Unchanged => None,
            FileCheck::Missing(p) => Some(format!(
                "the file {} no longer exists — validate it again where it is now",
                p.display()
            )),
            FileCheck::Resized { was, now } => Some(format!(
                "the file changed since it was validated ({now} bytes now, {was} then) — validate it again"
            )),
            FileCheck::Modified => Some(
                "the file changed since it was validated (same size, different sha256) — validate it again"
                    .to_string(),
            ),
            FileCheck::Unreadable(e) => Some(format!("the file cannot be read: {e}")),
            FileCheck::Cancelled => Some("the file check was stopped".to_string()),
        }
    }
}

/// Progress of a [`check_file`] run, shared with the thread doing it.
#[derive(Debug, Default)]
pub struct CheckProgress {
    done: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
}

impl CheckProgress {
    /// Bytes hashed so far and the file's size.
    pub fn get(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }

    /// Progress as of `done` of `total` bytes (demos and tests).
    pub fn at(done: u64, total: u64) -> Self {
        CheckProgress {
            done: AtomicU64::new(done),
            total: AtomicU64::new(total),
            cancel: AtomicBool::new(false),
        }
    }

    /// Ask the check to stop.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// Compare the file at [`file_location`] with the report's size and sha256 (blocking; reads
/// the file once, 1 MiB at a time).
pub fn check_file(report: &Report, progress: &CheckProgress) -> FileCheck {
    use sha2::Digest;
    let path = file_location(report);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return FileCheck::Missing(path),
        Err(e) => return FileCheck::Unreadable(format!("{}: {e}", path.display())),
    };
    if meta.len() != report.file.bytes {
        return FileCheck::Resized {
            was: report.file.bytes,
            now: meta.len(),
        };
    }
    progress.total.store(meta.len(), Ordering::Relaxed);
    let mut f = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => return FileCheck::Unreadable(format!("{}: {e}", path.display())),
    };
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    loop {
        if progress.cancel.load(Ordering::Relaxed) {
            return FileCheck::Cancelled;
        }
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return FileCheck::Unreadable(format!("{}: {e}", path.display())),
        };
        h.update(&buf[..n]);
        done += n as u64;
        progress.done.store(done, Ordering::Relaxed);
    }
    if done != report.file.bytes {
        return FileCheck::Resized {
            was: report.file.bytes,
            now: done,
        };
    }
    let hex = crate::config::history::to_hex(&h.finalize());
    if hex.eq_ignore_ascii_case(&report.file.sha256) {
        FileCheck::Unchanged
    } else {
        FileCheck::Modified
    }
}

/// One saved report in a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// The report file.
    pub path: PathBuf,
    /// When it was made (`validated_at`, else the report file's modification time).
    pub when: Option<DateTime<Utc>>,
    /// The validated file, as the report names it.
    pub file: String,
    /// Verdict, rows and orders; `None` when the report could not be read.
    pub summary: Option<(Verdict, u64, u64)>,
    /// Why it could not be read.
    pub problem: Option<String>,
    /// Linked from an upload in the history (its outcome), when it is.
    pub upload: Option<String>,
}

/// The saved reports: `*.json` in `reports_dir` and those linked from `history`, each once,
/// newest first.
pub fn list(reports_dir: &Path, history: &[HistoryEntry]) -> Vec<Listed> {
    let mut paths: Vec<PathBuf> = Vec::new();
    if let Ok(rd) = std::fs::read_dir(reports_dir) {
        for e in rd.flatten().take(MAX_LISTED) {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "json") && p.is_file() {
                paths.push(p);
            }
        }
    }
    let mut uploads: HashMap<PathBuf, String> = HashMap::new();
    for h in history {
        if let Some(r) = &h.report {
            let key = std::fs::canonicalize(r).unwrap_or_else(|_| r.clone());
            uploads
                .entry(key)
                .or_insert_with(|| format!("{} to {}", h.outcome.as_str(), h.tracker_name));
            paths.push(r.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for p in paths {
        let key = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
        if !seen.insert(key.clone()) {
            continue;
        }
        let mtime = std::fs::metadata(&p)
            .and_then(|m| m.modified())
            .ok()
            .map(DateTime::<Utc>::from);
        let upload = uploads.get(&key).cloned();
        out.push(match load(&p) {
            Ok(l) => Listed {
                when: l.report.validated_at.or(mtime),
                file: l.report.file.path.clone(),
                summary: Some((l.report.verdict, l.report.stats.rows, l.report.stats.orders)),
                problem: None,
                upload,
                path: p,
            },
            Err(e) => Listed {
                when: mtime,
                file: String::new(),
                summary: None,
                problem: Some(match e {
                    LoadError::Io { reason, .. } => reason,
                    LoadError::NotAReport { reason, .. } => reason,
                }),
                upload,
                path: p,
            },
        });
    }
    out.sort_by(|a, b| b.when.cmp(&a.when).then_with(|| a.path.cmp(&b.path)));
    out
}

/// A number in both reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Change {
    /// In the older report.
    pub old: u64,
    /// In the newer report.
    pub new: u64,
}

impl Change {
    /// new − old.
    pub fn delta(&self) -> i128 {
        i128::from(self.new) - i128::from(self.old)
    }

    /// Relative change in percent (`None` when old is 0).
    pub fn percent(&self) -> Option<f64> {
        (self.old > 0).then(|| self.delta() as f64 * 100.0 / self.old as f64)
    }
}

/// The differences between two reports (`new` against `old`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The newer report's file.
    pub new_file: String,
    /// The older report's file.
    pub old_file: String,
    /// When the newer report was made, when recorded.
    pub new_validated_at: Option<DateTime<Utc>>,
    /// When the older report was made, when recorded.
    pub old_validated_at: Option<DateTime<Utc>>,
    /// Verdicts (new, old).
    pub verdict: (Verdict, Verdict),
    /// The counters, by name: rows, orders, multi_item_orders, pairs, products, users.
    pub counters: BTreeMap<&'static str, Change>,
    /// First purchase (old, new).
    pub first_purchase: (Option<String>, Option<String>),
    /// Last purchase (old, new).
    pub last_purchase: (Option<String>, Option<String>),
    /// Each issue code present in either, with its count in each, in report order.
    pub issues: Vec<(Code, Change)>,
    /// Top products of the new report that are not among the old report's top products.
    pub products_appearing: Vec<String>,
    /// Top products of the old report that are not among the new report's top products.
    pub products_disappearing: Vec<String>,
}

/// Names of the compared counters, in display order.
pub const COUNTERS: [&str; 6] = [
    "rows",
    "orders",
    "multi_item_orders",
    "pairs",
    "products",
    "users",
];

/// Compare `new` against `old`.
pub fn compare(new: &Report, old: &Report) -> Comparison {
    let pick = |r: &Report, name: &str| match name {
        "rows" => r.stats.rows,
        "orders" => r.stats.orders,
        "multi_item_orders" => r.stats.multi_item_orders,
        "pairs" => r.stats.pairs,
        "products" => r.stats.products,
        _ => r.stats.users,
    };
    let counters = COUNTERS
        .iter()
        .map(|n| {
            (
                *n,
                Change {
                    old: pick(old, n),
                    new: pick(new, n),
                },
            )
        })
        .collect();
    let count = |r: &Report, c: Code| r.issue(c).map_or(0, |i| i.count);
    let issues = Code::ALL
        .iter()
        .filter(|c| new.issue(**c).is_some() || old.issue(**c).is_some())
        .map(|c| {
            (
                *c,
                Change {
                    old: count(old, *c),
                    new: count(new, *c),
                },
            )
        })
        .collect();
    let top = |r: &Report| -> Vec<String> {
        r.stats
            .top_products
            .iter()
            .map(|t| t.identity.clone())
            .collect()
    };
    let (tn, to) = (top(new), top(old));
    Comparison {
        new_file: new.file.path.clone(),
        old_file: old.file.path.clone(),
        new_validated_at: new.validated_at,
        old_validated_at: old.validated_at,
        verdict: (new.verdict, old.verdict),
        counters,
        first_purchase: (
            old.stats.first_purchase.clone(),
            new.stats.first_purchase.clone(),
        ),
        last_purchase: (
            old.stats.last_purchase.clone(),
            new.stats.last_purchase.clone(),
        ),
        issues,
        products_appearing: tn.iter().filter(|p| !to.contains(p)).cloned().collect(),
        products_disappearing: to.iter().filter(|p| !tn.contains(p)).cloned().collect(),
    }
}

impl Comparison {
    /// The differences as JSON (what `report --against --json` prints).
    pub fn to_json(&self) -> serde_json::Value {
        let ch = |c: &Change| {
            serde_json::json!({
                "old": c.old, "new": c.new, "delta": c.delta() as i64,
                "percent": c.percent().map(|p| (p * 10.0).round() / 10.0),
            })
        };
        let counters: serde_json::Map<String, serde_json::Value> = COUNTERS
            .iter()
            .filter_map(|n| self.counters.get(n).map(|c| (n.to_string(), ch(c))))
            .collect();
        let issues: serde_json::Map<String, serde_json::Value> = self
            .issues
            .iter()
            .map(|(c, v)| (c.as_str().to_string(), ch(v)))
            .collect();
        serde_json::json!({
            "new": {"file": self.new_file, "validated_at": self.new_validated_at},
            "old": {"file": self.old_file, "validated_at": self.old_validated_at},
            "verdict": {"old": self.verdict.1, "new": self.verdict.0},
            "counters": counters,
            "date_range": {
                "old": {"first": self.first_purchase.0, "last": self.last_purchase.0},
                "new": {"first": self.first_purchase.1, "last": self.last_purchase.1},
            },
            "issues": issues,
            "top_products": {
                "appearing": self.products_appearing,
                "disappearing": self.products_disappearing,
            },
        })
    }

    /// The side-by-side table as plain text lines: (label, old, new, change).
    pub fn rows(&self) -> Vec<[String; 4]> {
        let n = thousands;
        let delta = |c: &Change| {
            let d = c.delta();
            if d == 0 {
                "=".to_string()
            } else {
                let sign = if d > 0 { "+" } else { "−" };
                let abs = n(d.unsigned_abs() as u64);
                match c.percent() {
                    Some(p) => format!("{sign}{abs} ({sign}{:.1}%)", p.abs()),
                    None => format!("{sign}{abs}"),
                }
            }
        };
        let mut v = vec![[
            "verdict".to_string(),
            verdict_str(self.verdict.1).to_string(),
            verdict_str(self.verdict.0).to_string(),
            if self.verdict.0 == self.verdict.1 {
                "=".to_string()
            } else {
                "changed".to_string()
            },
        ]];
        for name in COUNTERS {
            if let Some(c) = self.counters.get(name) {
                v.push([name.replace('_', "-"), n(c.old), n(c.new), delta(c)]);
            }
        }
        let d = |s: &Option<String>| s.clone().unwrap_or_else(|| "–".to_string());
        for (label, (o, nw)) in [
            ("first purchase", &self.first_purchase),
            ("last purchase", &self.last_purchase),
        ] {
            v.push([
                label.to_string(),
                d(o),
                d(nw),
                if o == nw { "=" } else { "moved" }.to_string(),
            ]);
        }
        for (code, c) in &self.issues {
            v.push([code.as_str().to_string(), n(c.old), n(c.new), delta(c)]);
        }
        v
    }

    /// The comparison as text (what `report --against` prints).
    pub fn render_text(&self) -> String {
        use std::fmt::Write as _;
        let mut o = String::new();
        let at = |a: &Option<DateTime<Utc>>| {
            a.map(|a| format!(", validated {}", a.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default()
        };
        let _ = writeln!(
            o,
            "Comparing {} (new{})",
            self.new_file,
            at(&self.new_validated_at)
        );
        let _ = writeln!(
            o,
            "     with {} (old{})",
            self.old_file,
            at(&self.old_validated_at)
        );
        let _ = writeln!(o);
        let _ = writeln!(o, "{:<24} {:>22} {:>22}   change", "", "old", "new");
        for [a, b, c, d] in self.rows() {
            let _ = writeln!(o, "{a:<24} {b:>22} {c:>22}   {d}");
        }
        let _ = writeln!(o);
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        let _ = writeln!(
            o,
            "Top products appearing:    {}",
            list(&self.products_appearing)
        );
        let _ = writeln!(
            o,
            "Top products disappearing: {}",
            list(&self.products_disappearing)
        );
        o
    }
}

pub use crate::validate::text::thousands;

/// The verdict as one word.
pub fn verdict_str(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "ok",
        Verdict::Warnings => "warnings",
        Verdict::Errors => "errors",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{Issue, TopProduct};

    fn sample() -> Report {
        crate::tui::demo::demo_report(false)
    }

    #[test]
    fn parse_lists_unknown_fields_and_keeps_the_rest() {
        let mut v = serde_json::to_value(sample()).unwrap();
        v["catalog_match"] = serde_json::json!({"matched": 3});
        v["stats"]["median_basket_value"] = serde_json::json!(12.5);
        let bytes = serde_json::to_vec(&v).unwrap();
        let (r, unknown) = parse(&bytes).unwrap();
        assert_eq!(r.stats.rows, 1_204_331);
        assert_eq!(unknown, vec!["catalog_match", "stats.median_basket_value"]);
    }

    #[test]
    fn parse_rejects_what_is_not_a_report_in_one_line() {
        let e = parse(b"order,identity\n1,/p/a\n").unwrap_err();
        assert_eq!(e, "it is not a JSON object");
        let e = parse(b"{\"file\": 3}").unwrap_err();
        assert!(!e.contains('\n'));
        assert!(e.contains("invalid type"), "{e}");
        let e = parse(b"{}").unwrap_err();
        assert!(e.contains("missing field `file`"), "{e}");
        assert_eq!(parse(b"  ").unwrap_err(), "the file is empty");
        assert!(parse(b"[{}]").unwrap_err().contains("list of reports"));
    }

    #[test]
    fn load_reports_missing_and_directory() {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(
            load(&d.path().join("nope.json")),
            Err(LoadError::Io { .. })
        ));
        assert!(matches!(load(d.path()), Err(LoadError::NotAReport { .. })));
    }

    fn report_for(path: &Path, bytes: &[u8]) -> Report {
        use sha2::Digest;
        std::fs::write(path, bytes).unwrap();
        let mut r = sample();
        r.file.path = path.display().to_string();
        r.file.bytes = bytes.len() as u64;
        r.file.sha256 = crate::config::history::to_hex(&sha2::Sha256::digest(bytes));
        r
    }

    #[test]
    fn check_file_sees_unchanged_resized_modified_and_missing() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("orders.csv");
        let r = report_for(&f, b"1,/p/a\n1,/p/b\n");
        let p = CheckProgress::default();
        assert_eq!(check_file(&r, &p), FileCheck::Unchanged);
        assert_eq!(p.get(), (14, 14));
        std::fs::write(&f, b"1,/p/a\n1,/p/c\n").unwrap();
        assert_eq!(check_file(&r, &p), FileCheck::Modified);
        std::fs::write(&f, b"1,/p/a\n").unwrap();
        assert_eq!(check_file(&r, &p), FileCheck::Resized { was: 14, now: 7 });
        std::fs::remove_file(&f).unwrap();
        assert_eq!(check_file(&r, &p), FileCheck::Missing(f.clone()));
        assert!(FileCheck::Modified.refusal().unwrap().contains("changed"));
        assert_eq!(FileCheck::Unchanged.refusal(), None);
    }

    #[test]
    fn save_is_private_stamped_and_loads_back() {
        let d = tempfile::tempdir().unwrap();
        let r = sample();
        let p = save(d.path(), &r).unwrap();
        let p2 = save(d.path(), &r).unwrap();
        assert_ne!(p, p2, "a second save in the same second gets its own name");
        let l = load(&p).unwrap();
        assert!(l.unknown.is_empty());
        assert!(l.report.validated_at.is_some());
        assert_eq!(
            l.report.lbimport_version.as_deref(),
            Some(env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(l.report.stats, r.stats);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(p.with_extension("txt")).unwrap();
        assert_eq!(text, crate::validate::text::render_text(&l.report));
    }

    #[test]
    fn list_is_newest_first_and_includes_history_links() {
        let d = tempfile::tempdir().unwrap();
        let reports = d.path().join("reports");
        std::fs::create_dir_all(&reports).unwrap();
        let at = |day: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 11, day)
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap()
                .and_utc()
        };
        let mut a = sample();
        a.validated_at = Some(at(2));
        a.stats.rows = 10;
        let mut b = sample();
        b.validated_at = Some(at(5));
        b.stats.rows = 20;
        std::fs::write(
            reports.join("a.report.json"),
            serde_json::to_vec(&a).unwrap(),
        )
        .unwrap();
        std::fs::write(reports.join("junk.json"), b"not json").unwrap();
        let elsewhere = d.path().join("b.report.json");
        std::fs::write(&elsewhere, serde_json::to_vec(&b).unwrap()).unwrap();
        let mut h = crate::tui::demo::demo_history_entry();
        h.report = Some(elsewhere.clone());
        let l = list(&reports, &[h.clone(), h]);
        assert_eq!(l.len(), 3, "{l:?}");
        let with_rows: Vec<_> = l.iter().filter_map(|x| x.summary.map(|s| s.1)).collect();
        // junk.json has today's mtime, so it sorts first; then b (Nov 5), then a (Nov 2)
        assert_eq!(with_rows, vec![20, 10]);
        assert_eq!(l[0].path, reports.join("junk.json"));
        assert!(l[0].problem.is_some());
        assert_eq!(l[1].path, elsewhere);
        assert!(l[1].upload.is_some());
    }

    #[test]
    fn compare_counts_issues_products_and_dates() {
        let old = sample();
        let mut new = sample();
        new.stats.rows = 1_000_000;
        new.stats.orders = 402_118 + 100;
        new.stats.last_purchase = Some("2026-11-30 23:00:00".into());
        new.issues.retain(|i| i.code != Code::FutureTimestamp);
        new.issues.push(Issue {
            code: Code::SpreadsheetId,
            severity: Code::SpreadsheetId.severity(),
            count: 7,
            message: String::new(),
            examples: vec![],
        });
        let tp = |s: &str| TopProduct {
            identity: s.into(),
            rows: 1,
        };
        let mut old = old;
        old.stats.top_products = vec![tp("/p/a"), tp("/p/b")];
        new.stats.top_products = vec![tp("/p/b"), tp("/p/c")];
        let c = compare(&new, &old);
        assert_eq!(c.counters["rows"].delta(), 1_000_000 - 1_204_331);
        assert_eq!(c.counters["orders"].delta(), 100);
        assert_eq!(c.counters["pairs"].delta(), 0);
        let codes: Vec<_> = c
            .issues
            .iter()
            .map(|(k, v)| (k.as_str(), v.old, v.new))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("duplicate_row", 312, 312),
                ("future_timestamp", 3, 0),
                ("spreadsheet_id", 0, 7),
                ("identity_not_in_catalog", 32_515, 32_515)
            ]
        );
        assert_eq!(c.products_appearing, vec!["/p/c"]);
        assert_eq!(c.products_disappearing, vec!["/p/a"]);
        assert_eq!(c.last_purchase.1.as_deref(), Some("2026-11-30 23:00:00"));
        let j = c.to_json();
        assert_eq!(j["counters"]["rows"]["delta"], -204_331);
        assert_eq!(j["issues"]["spreadsheet_id"]["new"], 7);
        assert_eq!(j["counters"]["orders"]["percent"], 0.0);
        let text = c.render_text();
        assert!(text.contains("−204,331 (−17.0%)"), "{text}");
    }
}
