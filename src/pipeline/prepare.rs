//! Preparing a file for the service: detect its layout, resolve the mapping (detection, a
//! mapping saved for the tracker, the flags), convert and clean it into the data directory,
//! split it when over the part limit. [`prepare`] is what `validate` and `upload` do with
//! their mapping flags; `normalize` uses [`resolve`] and writes where it is told.

use std::path::{Path, PathBuf};

use super::Error;
use crate::config::{ConfigStore, mappings};
use crate::mapping::convert::{Clean, ConvertSummary, convert_path_rewriting};
use crate::mapping::detect::{Detection, Hints, detect_path_with};
use crate::mapping::normalize_name;
use crate::mapping::split::{DEFAULT_PART_BYTES, split_path};
use crate::mapping::{Mapping, Source};
use crate::read::Format;

/// Where converted files go: `<data dir>/converted` (a temporary directory when the data
/// directory cannot be found). The user's file is never written.
pub fn output_dir() -> PathBuf {
    match crate::config::data_dir() {
        Ok(d) => d.join("converted"),
        Err(_) => std::env::temp_dir().join("lbimport-converted"),
    }
}

/// Default output path for an input: `<output_dir>/<stem>.normalized.csv`.
pub fn default_output(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    output_dir().join(format!("{stem}.normalized.csv"))
}

/// How to read, map, clean and fix a file on its way to the documented layout (the
/// mapping flags of `normalize`, `validate` and `upload`).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Field delimiter of the input: `,` `;` `tab` (or `\t`) `|`.
    pub delimiter: Option<String>,
    /// Text encoding of the input: `utf-8`, `utf-16le`, `utf-16be`, `windows-1250`,
    /// `windows-1252`, `iso-8859-2`… (default: from a BOM, the NUL pattern of UTF-16, or a guess
    /// for files that aren't UTF-8). The output is always UTF-8.
    pub encoding: Option<String>,
    /// JSON: the key path of the array of products in each record (`line_items`), exploded
    /// into one row per product (default: found from the records).
    pub items: Option<String>,
    /// The first row is a header.
    pub header: bool,
    /// The first row is data, not a header.
    pub no_header: bool,
    /// Which source column feeds each attribute: letters (A, B…), 1-based numbers, header
    /// names or JSON keys; `-` for none. E.g. `order=B,identity=D,user=C,created_at=A`.
    pub columns: Option<String>,
    /// Format of created_at: strftime (`%d/%m/%Y %H:%M`), `iso8601`, `epoch_s`, `epoch_ms`.
    pub time_format: Option<String>,
    /// Zone of timestamps without one: `UTC`, `+02:00`, or an IANA name (`Europe/Bratislava`).
    pub time_zone: Option<String>,
    /// Leave invalid rows out, writing them with line numbers and reasons to PATH (default:
    /// beside the output, `<name>.invalid.csv`).
    pub exclude_invalid: Option<String>,
    /// Drop exact duplicate rows.
    pub dedupe: bool,
    /// Trim whitespace around ids.
    pub trim: bool,
    /// Drop orders with more than N distinct products.
    pub max_order_items: Option<u64>,
    /// Keep a UTF-8 byte-order mark (it is stripped by default).
    pub keep_bom: bool,
    /// Use a mapping saved for the tracker: its name, its shape, or `auto` (the one saved for
    /// this file's shape). Needs the tracker.
    pub mapping: Option<String>,
    /// Save the mapping used for the tracker, keyed by this file's shape, optionally named.
    pub save_mapping: Option<String>,
    /// Largest part of a converted file (`1GiB`, `64k`, `1000`; default 1 GiB, the service's
    /// limit). A converted file over it is split at order boundaries into parts no larger.
    /// Hidden: meant for trying the split path on small files; the service's limit is 1 GiB.
    pub part_bytes: Option<u64>,
    /// The tracker saved mappings belong to (set by the command that flattens these flags).
    pub tracker: Option<String>,
    /// Rewrite identities that are full URLs to their path: drop scheme and host
    /// (`https://shop.sk/p/1` → `/p/1`).
    pub identity_strip_host: bool,
    /// Rewrite identities without their query string or fragment (`/p/1?ref=x` → `/p/1`).
    pub identity_strip_query: bool,
    /// Rewrite identities without trailing slashes (`/p/1/` → `/p/1`).
    pub identity_trim_slash: bool,
    /// Replace identities by the catalog's: `web_url` (the identity is an object's web_url or
    /// its path: take that object's identity), `case` (the catalog spells it in another case).
    /// Needs the catalog: the tracker's stored one (`--tracker`) or `--catalog FILE`. An
    /// identity the catalog does not know is kept. Repeat the flag for both.
    pub identity_from_catalog: Vec<crate::mapping::identity::FromCatalog>,
    /// The catalog to compare identities with (and to take them from with
    /// `--identity-from-catalog`) instead of the tracker's stored one: a saved Content Export
    /// response, JSON lines with `url`, or one identity per line.
    pub catalog: Option<PathBuf>,
    /// The identity rewrites with their catalog look-ups, once loaded (set by the command
    /// that flattens these flags; without it the rewrites needing no catalog still apply).
    pub identity_rewrite: Option<crate::mapping::identity::IdentityRewrite>,
}

impl Options {
    /// Whether any flag asks for a mapping or cleaning (a tracker alone doesn't).
    pub fn any(&self) -> bool {
        self.delimiter.is_some()
            || self.encoding.is_some()
            || self.items.is_some()
            || self.header
            || self.no_header
            || self.columns.is_some()
            || self.time_format.is_some()
            || self.time_zone.is_some()
            || self.exclude_invalid.is_some()
            || self.dedupe
            || self.trim
            || self.max_order_items.is_some()
            || self.mapping.is_some()
            || self.rewrites()
    }

    /// Whether an identity rewrite (`--identity-…`) is asked.
    pub fn rewrites(&self) -> bool {
        self.identity_strip_host
            || self.identity_strip_query
            || self.identity_trim_slash
            || !self.identity_from_catalog.is_empty()
    }

    /// The identity rewrites to apply: the loaded ones ([`Options::identity_rewrite`]),
    /// else the ones needing no catalog. `None` when none is asked; an error when
    /// `--identity-from-catalog` is asked and no catalog was loaded.
    pub fn rewrite(&self) -> Result<Option<crate::mapping::identity::IdentityRewrite>, Error> {
        if !self.rewrites() {
            return Ok(None);
        }
        if let Some(r) = &self.identity_rewrite {
            return Ok(Some(r.clone()));
        }
        if !self.identity_from_catalog.is_empty() {
            return Err(Error::Invalid(
                "--identity-from-catalog needs the catalog: --tracker NAME (with a catalog \
                 fetched or imported for it) or --catalog FILE"
                    .into(),
            ));
        }
        Ok(Some(crate::mapping::identity::IdentityRewrite::new(
            self.identity_strip_host,
            self.identity_strip_query,
            self.identity_trim_slash,
        )))
    }

    /// Whether a cleaning option is on.
    pub fn cleans(&self) -> bool {
        self.exclude_invalid.is_some()
            || self.dedupe
            || self.trim
            || self.max_order_items.is_some()
            || self.keep_bom
    }

    /// The cleaning options; `invalid_default` is used for a bare `--exclude-invalid`.
    pub fn clean(&self, invalid_default: &Path) -> Clean {
        Clean {
            strip_bom: !self.keep_bom,
            trim_ids: self.trim,
            dedupe: self.dedupe,
            exclude_invalid: self.exclude_invalid.as_ref().map(|p| {
                if p.is_empty() {
                    invalid_default.to_path_buf()
                } else {
                    PathBuf::from(p)
                }
            }),
            max_order_items: self.max_order_items,
        }
    }
}

impl Options {
    /// The largest part a converted file may be (`--part-bytes`, default 1 GiB).
    pub fn part_limit(&self) -> u64 {
        self.part_bytes.unwrap_or(DEFAULT_PART_BYTES)
    }
}

/// Parse a delimiter flag value.
pub fn parse_delimiter(s: &str) -> Result<char, Error> {
    match s {
        "tab" | "\\t" | "\t" | "TAB" => Ok('\t'),
        "comma" => Ok(','),
        "semicolon" => Ok(';'),
        "pipe" => Ok('|'),
        _ => {
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) if c.is_ascii() && c != '"' && c != '\n' => Ok(c),
                _ => Err(Error::Invalid(format!(
                    "delimiter {s:?}: use one ASCII character such as , ; | or `tab`"
                ))),
            }
        }
    }
}

/// A resolved mapping and how it came about.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// What detection saw (with the forced delimiter/header).
    pub detection: Detection,
    /// The mapping to use.
    pub mapping: Mapping,
    /// One-line notices (saved mapping applied, undecided day/month…).
    pub notices: Vec<String>,
    /// Whether the mapping came from flags or a saved mapping (not just detection).
    pub explicit: bool,
    /// Whether a saved mapping was applied because the file's shape matched (not named with
    /// `--mapping NAME`, no `--columns`): the caller must make sure the file doesn't already
    /// validate in the documented layout before using it.
    pub saved_auto: bool,
}

fn role_key(k: &str) -> Option<usize> {
    match normalize_name(k).replace('_', "").as_str() {
        "order" | "orderid" | "session" | "sessionid" => Some(0),
        "identity" | "url" | "sku" | "product" | "item" => Some(1),
        "user" | "userid" | "authuserid" | "customer" => Some(2),
        "createdat" | "created" | "time" | "date" | "ts" | "timestamp" => Some(3),
        _ => None,
    }
}

/// Resolve one `--columns` value against the detection.
fn column_source(v: &str, d: &Detection) -> Result<Option<Source>, Error> {
    let v = v.trim();
    if v == "-" || v.eq_ignore_ascii_case("none") || v.is_empty() {
        return Ok(None);
    }
    if d.format == Format::Json {
        let key = v.strip_prefix("key:").unwrap_or(v);
        let item_rel = d
            .mapping
            .items
            .as_deref()
            .map(|i| format!("{i}.{key}"))
            .filter(|p| d.headers.contains(p));
        if let Some(p) = item_rel {
            return Ok(Some(Source::Key(p)));
        }
        if !d.headers.is_empty() && !d.headers.iter().any(|h| h == key) {
            return Err(Error::Invalid(format!(
                "--columns: no key {key:?} in the file's records (keys: {})",
                d.headers.join(", ")
            )));
        }
        return Ok(Some(Source::Key(key.to_string())));
    }
    if let Some(i) = d.headers.iter().position(|h| h == v).or_else(|| {
        d.headers
            .iter()
            .position(|h| !normalize_name(v).is_empty() && normalize_name(h) == normalize_name(v))
    }) {
        return Ok(Some(Source::Column(i)));
    }
    // a name from the first row while the first row is read as data: say how to fix it
    let first_row_names = !d.header
        && d.sample.first().is_some_and(|r| {
            r.iter()
                .any(|c| c.trim() == v || normalize_name(c) == normalize_name(v))
        });
    if first_row_names && v.chars().count() > 3 {
        return Err(Error::Invalid(format!(
            "--columns: {v:?} is a name in the first row, which is read as data; add --header \
             to read the first row as column names"
        )));
    }
    match Source::parse(v) {
        Some(Source::Column(i)) if !d.columns.is_empty() && i >= d.columns.len() => {
            Err(Error::Invalid(format!(
                "--columns: column {} doesn't exist (the file has {} columns{})",
                v,
                d.columns.len(),
                if d.headers.is_empty() {
                    String::new()
                } else {
                    format!(": {}", d.headers.join(", "))
                }
            )))
        }
        Some(Source::Column(i)) => Ok(Some(Source::Column(i))),
        _ => Err(Error::Invalid(format!(
            "--columns: {v:?} is not a column letter, number or header name"
        ))),
    }
}

/// Apply `--columns order=B,identity=D,user=C,created_at=A` to a mapping.
pub fn apply_columns(m: &mut Mapping, spec: &str, d: &Detection) -> Result<(), Error> {
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| {
            Error::Invalid(format!(
                "--columns: {part:?} should be ROLE=COLUMN (roles: order, identity, user, created_at)"
            ))
        })?;
        let slot = role_key(k).ok_or_else(|| {
            Error::Invalid(format!(
                "--columns: unknown role {k:?} (use order, identity, user, created_at)"
            ))
        })?;
        let src = column_source(v, d)?;
        match slot {
            0 => {
                m.order_id =
                    src.ok_or_else(|| Error::Invalid("--columns: order needs a column".into()))?
            }
            1 => {
                m.identity =
                    src.ok_or_else(|| Error::Invalid("--columns: identity needs a column".into()))?
            }
            2 => m.user_id = src,
            _ => m.created_at = src,
        }
    }
    check_distinct(m)
}

/// Fail when two attributes read the same source.
pub fn check_distinct(m: &Mapping) -> Result<(), Error> {
    let all = [
        ("order id", Some(&m.order_id)),
        ("identity", Some(&m.identity)),
        ("user id", m.user_id.as_ref()),
        ("created_at", m.created_at.as_ref()),
    ];
    for i in 0..4 {
        for j in i + 1..4 {
            if let (Some(a), Some(b)) = (all[i].1, all[j].1)
                && a == b
            {
                return Err(Error::Invalid(format!(
                    "{} feeds both {} and {}",
                    a.label(),
                    all[i].0,
                    all[j].0
                )));
            }
        }
    }
    Ok(())
}

/// Detect the file and build the mapping: detection's guess, replaced by a saved mapping
/// (`--mapping`, or automatically for the tracker when the shape matches and no columns are
/// given), then overridden by the explicit flags.
pub fn resolve(input: &Path, args: &Options) -> Result<Resolved, Error> {
    // a FIFO would block detection, a device would feed the conversion forever
    crate::read::regular_file(input).map_err(|e| Error::io(input, e))?;
    let hints = Hints {
        delimiter: args.delimiter.as_deref().map(parse_delimiter).transpose()?,
        header: if args.header {
            Some(true)
        } else if args.no_header {
            Some(false)
        } else {
            None
        },
        encoding: args
            .encoding
            .as_deref()
            .map(crate::mapping::encoding::by_label)
            .transpose()
            .map_err(Error::Invalid)?,
        items: args.items.clone(),
    };
    let detection = detect_path_with(input, &hints).map_err(|e| Error::io(input, e))?;
    let mut mapping = detection.mapping.clone();
    let mut notices = Vec::new();
    let mut explicit = false;
    let mut saved_auto = false;
    let mut tracker_zone: Option<(String, String)> = None;
    // saved mapping
    if let Some(tracker) = args.tracker.as_deref() {
        let store = ConfigStore::open_default()?;
        let config = store.load()?.config;
        let t = config
            .tracker(tracker)
            .ok_or_else(|| crate::config::ConfigError::NotFound(tracker.to_string()))?;
        tracker_zone = t.time_zone.clone().map(|z| (z, t.name.clone()));
        let auto = matches!(args.mapping.as_deref(), Some("auto") | None);
        let found = match args.mapping.as_deref() {
            // A file in the documented layout is never remapped by a mapping saved for its
            // shape (headerless shapes only know the column count).
            Some("auto") | None if detection.fits => {
                if mappings::find_by_shape(t, &detection.shape).is_some() {
                    notices.push(format!(
                        "the file fits the documented layout: the mapping saved for its shape in \
                         tracker \"{tracker}\" was not applied"
                    ));
                }
                None
            }
            Some("auto") | None => mappings::find_by_shape(t, &detection.shape),
            Some(name) => Some(mappings::find_by_name(t, name).ok_or_else(|| {
                Error::Invalid(format!(
                    "tracker \"{tracker}\" has no saved mapping named {name:?}"
                ))
            })?),
        };
        if let Some(s) = found
            && (args.mapping.is_some() || args.columns.is_none())
        {
            mapping = s.mapping.clone();
            explicit = true;
            saved_auto = auto && args.columns.is_none();
            notices.push(format!(
                "using the mapping saved for tracker \"{tracker}\"{}: {}",
                s.name().map(|n| format!(" ({n})")).unwrap_or_default(),
                mapping.describe()
            ));
        }
    } else if args.mapping.is_some() {
        return Err(Error::Invalid(
            "--mapping needs a tracker (--tracker NAME)".into(),
        ));
    }
    if let Some(d) = &hints.delimiter {
        mapping.delimiter = *d;
        explicit = true;
    }
    if let Some(i) = &hints.items {
        mapping.items = Some(i.clone());
        explicit = true;
    }
    if let Some(e) = hints.encoding {
        mapping.encoding = Some(e.name().to_ascii_lowercase());
        explicit = true;
    }
    if let Some(h) = hints.header {
        mapping.header = h;
        explicit = true;
    }
    if let Some(spec) = &args.columns {
        apply_columns(&mut mapping, spec, &detection)?;
        explicit = true;
    }
    if let Some(f) = &args.time_format {
        mapping.time_format = Some(f.clone());
        explicit = true;
    }
    if let Some(z) = &args.time_zone {
        crate::mapping::time::Zone::parse(z).map_err(Error::Invalid)?;
        mapping.time_zone = Some(z.clone());
        explicit = true;
    }
    if (args.time_format.is_some() || args.time_zone.is_some()) && mapping.created_at.is_none() {
        return Err(Error::Invalid(format!(
            "{} applies to a created_at column, and none is mapped (name it with --columns \
             created_at=COLUMN)",
            if args.time_format.is_some() {
                "--time-format"
            } else {
                "--time-zone"
            }
        )));
    }
    // the shop's zone, saved with its tracker, for naive local times of a converted file
    if let Some((z, name)) = tracker_zone
        && mapping.time_zone.is_none()
        && mapping.created_at.is_some()
        && !detection.fits
    {
        notices.push(format!(
            "created_at without a zone is read in {z}, the time zone of tracker \"{name}\""
        ));
        mapping.time_zone = Some(z);
    }
    if detection.day_month == crate::mapping::detect::DayMonth::Undecided
        && args.time_format.is_none()
    {
        notices.extend(
            detection
                .notes
                .iter()
                .filter(|n| n.contains("day/month"))
                .cloned(),
        );
    }
    check_distinct(&mapping)?;
    Ok(Resolved {
        detection,
        mapping,
        notices,
        explicit,
        saved_auto,
    })
}

/// What [`prepare`] produced.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The file to validate / upload: the input itself, or the converted file.
    pub path_to_use: PathBuf,
    /// The conversion's counts, when a conversion ran.
    pub summary: Option<ConvertSummary>,
    /// `path_to_use` is a converted file lbimport wrote (in [`output_dir`]); the caller may
    /// delete it when done.
    pub temp: bool,
    /// The mapping used, when one was.
    pub mapping: Option<Mapping>,
    /// The detection, when one ran.
    pub detection: Option<Detection>,
    /// One-line notices for the user.
    pub notices: Vec<String>,
    /// When the converted file was over the part limit (1 GiB unless `--part-bytes`): its
    /// parts (split at order boundaries, each within the limit, to be validated and uploaded
    /// one after another); `path_to_use` is the first. Empty otherwise.
    pub parts: Vec<PathBuf>,
    /// The part limit the converted file was measured against.
    pub part_bytes: u64,
}

/// Turn `input` plus mapping flags into the file to validate or upload. Without flags (and
/// without a saved mapping for the tracker's file shape) the input is used as is. Otherwise
/// the file is converted into [`output_dir`] (`<stem>.normalized.csv`); invalid rows, when
/// excluded without a path, go to `<stem>.invalid.csv` there. `--save-mapping` saves the
/// mapping for the tracker.
pub fn prepare(input: &Path, args: &Options) -> Result<Prepared, Error> {
    if !args.any() && args.tracker.is_none() {
        return Ok(Prepared {
            path_to_use: input.to_path_buf(),
            summary: None,
            temp: false,
            mapping: None,
            detection: None,
            notices: Vec::new(),
            parts: Vec::new(),
            part_bytes: args.part_limit(),
        });
    }
    let mut r = resolve(input, args)?;
    // A saved mapping chosen by shape alone must never remap a file that already validates as
    // it is: check the file itself first (the validator reads the whole file, not a sample).
    if r.saved_auto && validates_as_is(input) {
        r.explicit = false;
        r.mapping = match r.detection.format {
            Format::Csv => Mapping::documented(r.detection.columns.len().clamp(2, 4)),
            Format::Json => r.detection.mapping.clone(),
        };
        r.notices
            .retain(|n| !n.starts_with("using the mapping saved"));
        r.notices.push(format!(
            "{} validates in the documented layout: the mapping saved for its shape was not \
             applied",
            input.display()
        ));
        r.detection.fits = true;
    }
    let rewrite = args.rewrite()?;
    if !r.explicit && !args.cleans() && rewrite.is_none() && (r.detection.fits || !args.any()) {
        return Ok(Prepared {
            path_to_use: input.to_path_buf(),
            summary: None,
            temp: false,
            mapping: None,
            detection: Some(r.detection),
            notices: r.notices,
            parts: Vec::new(),
            part_bytes: args.part_limit(),
        });
    }
    let out = default_output(input);
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    let clean = args.clean(&output_dir().join(format!("{stem}.invalid.csv")));
    let summary = convert_path_rewriting(input, &r.mapping, &clean, rewrite.as_ref(), &out, None)?;
    let mut notices = r.notices;
    if let Some(rw) = &rewrite {
        notices.push(identity_notice(&summary, rw));
    }
    let mut parts = Vec::new();
    let limit = args.part_limit();
    if summary.bytes_out > limit {
        parts = split_path(&out, limit, &output_dir(), &stem, None)?;
        std::fs::remove_file(&out).map_err(|e| Error::io(&out, e))?;
        notices.push(format!(
            "the converted file ({} bytes) is over {}: split into {} parts at order boundaries",
            summary.bytes_out,
            crate::units::part_limit(limit),
            parts.len()
        ));
    }
    if let (Some(name), Some(tracker)) = (&args.save_mapping, &args.tracker) {
        let store = ConfigStore::open_default()?;
        let name = Some(name.as_str()).filter(|n| !n.is_empty());
        mappings::save(&store, tracker, &r.detection.shape, name, r.mapping.clone())?;
        notices.push(format!("mapping saved for tracker \"{tracker}\""));
    }
    Ok(Prepared {
        path_to_use: parts.first().cloned().unwrap_or(out),
        summary: Some(summary),
        temp: true,
        mapping: Some(r.mapping),
        detection: Some(r.detection),
        notices,
        parts,
        part_bytes: limit,
    })
}

/// "identities: 1,000 rows rewritten (--identity-strip-host)", with the rows the catalog did
/// not know when a catalog look-up was asked.
pub fn identity_notice(
    s: &ConvertSummary,
    rw: &crate::mapping::identity::IdentityRewrite,
) -> String {
    let mut m = format!(
        "identities: {} of {} rows rewritten ({})",
        crate::validate::text::thousands(s.identities_rewritten),
        crate::validate::text::thousands(s.rows_in),
        rw.describe()
    );
    if s.identities_not_in_catalog > 0 {
        m.push_str(&format!(
            "; {} {} an identity the catalog does not know (kept as it is)",
            crate::validate::text::thousands(s.identities_not_in_catalog),
            if s.identities_not_in_catalog == 1 {
                "row has"
            } else {
                "rows have"
            }
        ));
    }
    m
}

/// Whether `input` validates with no errors in the documented layout.
fn validates_as_is(input: &Path) -> bool {
    crate::validate::validate_path(input, &crate::validate::Options::default(), None)
        .is_ok_and(|r| !r.has_errors())
}
