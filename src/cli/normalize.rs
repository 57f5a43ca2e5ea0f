//! `lbimport normalize`: detect a file's layout, convert it to the documented CSV, clean it,
//! optionally split it, and validate the result.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::mapping_args::MappingArgs;
use crate::config::mappings;
use crate::mapping::Source;
use crate::mapping::convert::{ConvertSummary, plan_rewriting};
use crate::mapping::detect::{DayMonth, Detection};
use crate::mapping::split::{DEFAULT_PART_BYTES, parse_size, split_path};
use crate::pipeline::Error;
use crate::pipeline::prepare::{
    Options as MappingOptions, default_output, identity_notice, resolve,
};
use crate::validate::{Options, Verdict, validate_path};

/// Exit status: the output still has errors (the service would reject it).
pub const EXIT_INVALID: u8 = 1;
/// Exit status: the mapping gives an implausible file (over 5 % of rows invalid, identities
/// unique per row); `--force` accepts it.
pub const EXIT_IMPLAUSIBLE: u8 = 3;

/// Arguments of `lbimport normalize`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// The file to convert (CSV or JSON lines). It is only read.
    pub file: PathBuf,
    /// Where to write the documented CSV (default: `<data dir>/converted/<name>.normalized.csv`).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Mapping and cleaning.
    #[command(flatten)]
    pub mapping: MappingArgs,
    /// Tracker whose saved mappings `--mapping` / `--save-mapping` use; with it, a mapping
    /// saved for this file's shape is applied automatically.
    #[arg(long, value_name = "NAME")]
    pub tracker: Option<String>,
    /// Split the output into parts of at most this size at order boundaries (`1GiB`, `500MB`).
    /// Without the flag, an output over 1 GiB is split at 1 GiB.
    #[arg(long, value_name = "SIZE")]
    pub split_size: Option<String>,
    /// Leave out every row of each order already sent to `--tracker` (orders are matched by
    /// id, against the record kept of every accepted or unknown-outcome upload).
    #[arg(long, requires = "tracker")]
    pub only_new_orders: bool,
    /// Show what would be done (detection and counts) without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Don't validate the output.
    #[arg(long)]
    pub no_validate: bool,
    /// Accept a mapping whose result looks implausible (over 5 % of rows invalid, an identity
    /// that differs on nearly every row, one user id on a fifth of the orders) instead of
    /// exiting with status 3.
    #[arg(long)]
    pub force: bool,
}

/// Why a conversion's result looks wrong, if it does: the mapping is probably not what the
/// file holds, and the file should not be uploaded as is. Excluded invalid rows count too: a
/// mapping that throws away most rows is as wrong as one that keeps them.
fn implausible(s: &ConvertSummary, report: Option<&crate::validate::Report>) -> Vec<String> {
    let mut why = Vec::new();
    // (on 100 rows or more: a handful of rows says nothing about a mapping)
    if s.rows_in >= 100 && s.invalid * 20 > s.rows_in {
        why.push(format!(
            "{} of {} rows ({:.1} %) are invalid under this mapping",
            s.invalid,
            s.rows_in,
            s.invalid as f64 * 100.0 / s.rows_in as f64
        ));
    }
    if let Some(i) = report.and_then(|r| r.issue(crate::validate::Code::IdentityUniquePerRow)) {
        why.push(format!("identity: {}", i.message));
    }
    if let Some(i) = report.and_then(|r| r.issue(crate::validate::Code::DominantUser)) {
        why.push(format!("user id: {}", i.message));
    }
    why
}

/// Print the reasons and decide the exit status.
fn implausible_exit(file: &Path, why: &[String], force: bool) -> Option<ExitCode> {
    if why.is_empty() {
        return None;
    }
    for w in why {
        println!("implausible: {w}");
    }
    if force {
        println!("implausible: accepted (--force)");
        return None;
    }
    eprintln!(
        "lbimport: {}: the mapping looks wrong for this file ({}); check the columns above, fix \
         the mapping (--columns, --time-format), or pass --force to accept it",
        crate::validate::escape_controls(&file.display().to_string()),
        why.join("; ")
    );
    Some(ExitCode::from(EXIT_IMPLAUSIBLE))
}

/// Run `lbimport normalize`.
pub fn run(args: Args) -> ExitCode {
    let mut opts = args.mapping.options();
    opts.tracker = args.tracker.clone();
    if let Err(e) = super::identity::load_rewrite(&mut opts, args.tracker.as_deref()) {
        return super::fail_usage(format!("normalize: {e}"));
    }
    if opts.save_mapping.is_some() && args.tracker.is_none() {
        return super::fail_usage("--save-mapping needs --tracker NAME");
    }
    match run_inner(&args, &opts) {
        Ok(code) => code,
        Err(e) => super::fail_usage(format!("normalize: {}", super::about_file(&args.file, e))),
    }
}

fn pct(c: f32) -> String {
    format!("{:.0}%", c * 100.0)
}

/// Print what detection saw.
pub fn print_detection(d: &Detection) {
    println!(
        "format:     {} ({})",
        match d.format {
            crate::read::Format::Csv => "CSV",
            crate::read::Format::Json => "JSON lines",
        },
        d.encoding
    );
    if d.format == crate::read::Format::Csv {
        let delim = match d.delimiter {
            '\t' => "tab".to_string(),
            c => format!("'{c}'"),
        };
        println!(
            "delimiter:  {delim}    header row: {}",
            if d.header { "yes" } else { "no" }
        );
    }
    println!("columns:");
    for (i, c) in d.columns.iter().enumerate() {
        let name = c
            .name
            .as_deref()
            .filter(|_| d.format == crate::read::Format::Csv)
            .map(|n| format!(" {n:?}"))
            .unwrap_or_default();
        let example = d
            .sample
            .first()
            .and_then(|r| r.get(i))
            .map(|v| {
                let v: String = v.chars().take(30).collect();
                format!(" e.g. {v:?}")
            })
            .unwrap_or_default();
        let fmt = c
            .time_format
            .as_deref()
            .map(|f| format!(" [{f}]"))
            .unwrap_or_default();
        println!(
            "  {:<3}{name}{example}: {} {}{fmt} — {}",
            d.label(i),
            c.role.as_str(),
            pct(c.confidence),
            c.reason
        );
    }
    for (k, (role, i, why)) in d.alternatives.iter().enumerate() {
        let name = d.columns[*i]
            .name
            .as_deref()
            .filter(|_| d.format == crate::read::Format::Csv)
            .map(|n| format!(" {n:?}"))
            .unwrap_or_default();
        println!(
            "{}{}: not {}{name} — {}",
            if k == 0 {
                "passed over: "
            } else {
                "             "
            },
            role.as_str(),
            d.label(*i),
            crate::validate::escape_controls(why)
        );
    }
    match d.day_month {
        DayMonth::DayFirst => println!("dates:      day first (a day above 12 was seen)"),
        DayMonth::MonthFirst => {
            println!("dates:      month first (a month position above 12 was seen)")
        }
        DayMonth::Undecided => {
            // the month-first twin of the detected format, with the file's own separators
            let month_first = d
                .mapping
                .time_format
                .as_deref()
                .unwrap_or("%d/%m/%Y %H:%M")
                .replace("%d", "\0")
                .replace("%m", "%d")
                .replace('\0', "%m");
            println!(
                "dates:      day/month order undecided; assuming day first (set --time-format '{month_first}' if not)"
            )
        }
        DayMonth::NotApplicable => {}
    }
    println!("shape:      {}", d.shape);
    if d.fits {
        println!("layout:     already the documented layout");
    }
    for n in &d.notes {
        if !n.contains("day/month") {
            println!("note:       {n}");
        }
    }
}

/// Print a conversion's counts.
pub fn print_summary(s: &ConvertSummary, dry_run: bool) {
    let would = if dry_run { "would be " } else { "" };
    println!("rows read:  {}", s.rows_in);
    println!("rows {}written: {}", would, s.rows_out);
    if s.header_skipped {
        println!("header row: skipped");
    }
    if s.bom {
        println!(
            "BOM:        {}",
            if s.bom_stripped {
                format!("{would}stripped")
            } else {
                "kept".into()
            }
        );
    }
    println!(
        "whitespace: {} rows with spaces around ids{}",
        s.whitespace_rows,
        if s.trimmed > 0 {
            format!(", {} {would}trimmed", s.trimmed)
        } else if s.whitespace_rows > 0 {
            " (use --trim)".into()
        } else {
            String::new()
        }
    );
    if dry_run || s.duplicates_dropped > 0 || s.duplicates > 0 {
        println!(
            "duplicates: {} exact duplicate rows{}",
            s.duplicates,
            if s.duplicates_dropped > 0 {
                format!(", {} {would}dropped", s.duplicates_dropped)
            } else if s.duplicates > 0 {
                " (use --dedupe)".into()
            } else {
                String::new()
            }
        );
    }
    println!(
        "invalid:    {} rows{}",
        s.invalid,
        if s.invalid_excluded > 0 {
            format!(", {} {would}excluded", s.invalid_excluded)
        } else if s.invalid > 0 {
            " (kept unchanged; use --exclude-invalid to leave them out)".into()
        } else {
            String::new()
        }
    );
    for (reason, n) in &s.reasons {
        println!("  {n:>10}  {reason}");
    }
    if s.orders_dropped > 0 || s.rows_in_dropped_orders > 0 {
        println!(
            "large orders: {} orders ({} rows) {would}dropped",
            s.orders_dropped, s.rows_in_dropped_orders
        );
    }
    if s.timestamps > 0 {
        println!("timestamps: {} converted to UTC", s.timestamps);
    }
    if s.carried_down > 0 {
        println!(
            "carried:    {} rows took the user id or created_at of their order's first line",
            s.carried_down
        );
    }
    if s.placeholders > 0 {
        println!(
            "placeholders: {} ids like NULL, N/A, -, 0 or guest read as absent (users left \
             empty)",
            s.placeholders
        );
    }
    if s.dst_gaps > 0 || s.dst_overlaps > 0 {
        println!(
            "daylight saving: {} local time(s) in a gap (read with the offset before it), {} in an overlap (first occurrence taken)",
            s.dst_gaps, s.dst_overlaps
        );
    }
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn run_inner(args: &Args, opts: &MappingOptions) -> Result<ExitCode, Error> {
    let input = &args.file;
    if let Err(e) = crate::read::regular_file(input) {
        return Err(Error::io(input, e));
    }
    let r = match resolve(input, opts) {
        Ok(r) => r,
        Err(e @ Error::Invalid(_)) => {
            // show what detection saw, so the message can be acted on
            if let Ok(d) = crate::mapping::detect::detect_path(input) {
                print_detection(&d);
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    print_detection(&r.detection);
    for n in &r.notices {
        println!("notice:     {n}");
    }
    let m = &r.mapping;
    let label = |s: &Source| s.label();
    println!(
        "mapping:    {}{}",
        m.describe(),
        if m.header && r.detection.format == crate::read::Format::Csv {
            ", header skipped"
        } else {
            ""
        }
    );
    let _ = label;
    let output = args.output.clone().unwrap_or_else(|| default_output(input));
    if same_path(input, &output) {
        return Err(Error::Invalid(
            "the output must not be the input file".into(),
        ));
    }
    let invalid_default = {
        let name = output
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        output.with_file_name(format!("{name}.invalid.csv"))
    };
    let clean = opts.clean(&invalid_default);
    // `--split-size`, or the hidden `--part-bytes` that validate and upload share
    let split = match &args.split_size {
        Some(s) => Some(parse_size(s).ok_or_else(|| {
            Error::Invalid(format!("--split-size {s:?}: use e.g. 1GiB, 500MB, 1048576"))
        })?),
        None => opts.part_bytes,
    };
    // the sent orders first: a damaged record stops the run before anything is written
    let only_new = match (&args.tracker, args.only_new_orders) {
        (Some(t), true) => Some(super::overlap::sent_orders(t).map_err(Error::Invalid)?),
        _ => None,
    };
    if args.dry_run {
        println!("dry run:    nothing written");
        if let Some(sent) = only_new.as_ref().filter(|s| s.lookup.is_empty()) {
            println!(
                "only new:   no orders are recorded as sent to \"{}\"; nothing would be dropped",
                sent.name
            );
        } else if let Some(sent) = &only_new {
            println!(
                "only new:   the orders of {} recorded upload(s) to \"{}\" would be left out \
                 (counted when the file is written)",
                sent.lookup.keys().len(),
                sent.name
            );
        }
        let rewrite = opts.rewrite()?;
        let s = plan_rewriting(input, m, &clean, rewrite.as_ref(), None)?;
        print_summary(&s, true);
        if let Some(rw) = &rewrite {
            println!("{}", identity_notice(&s, rw));
        }
        println!("output size: {} bytes", s.bytes_out);
        if let Some(code) = implausible_exit(input, &implausible(&s, None), args.force) {
            return Ok(code);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rewrite = opts.rewrite()?;
    // no orders recorded: nothing to leave out, the file is not filtered
    let lookup = only_new
        .as_ref()
        .map(|sent| &sent.lookup)
        .filter(|l| !l.is_empty());
    let c = crate::pipeline::convert(input, m, &clean, rewrite.as_ref(), lookup, &output, None)?;
    let mut s = c.summary;
    if let Some(f) = &c.only_new {
        s.rows_out = f.rows_kept;
        s.bytes_out = f.bytes_kept;
    }
    let only_new_line = only_new
        .as_ref()
        .map(|sent| super::overlap::dropped_line(sent, c.only_new.as_ref()));
    print_summary(&s, false);
    if let Some(rw) = &rewrite {
        println!("{}", identity_notice(&s, rw));
    }
    if let Some(line) = only_new_line {
        println!("only new:   {line}");
    }
    if let Some(x) = &s.invalid_file {
        println!("invalid rows: {}", x.display());
    }
    let limit = split.unwrap_or(DEFAULT_PART_BYTES);
    let outputs: Vec<PathBuf> = if s.bytes_out > limit {
        let dir = output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let stem = output
            .file_stem()
            .map(|x| x.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let parts = split_path(&output, limit, &dir, &stem, None)?;
        std::fs::remove_file(&output).map_err(|e| Error::io(&output, e))?;
        println!("split:      {} parts of at most {limit} bytes", parts.len());
        parts
    } else {
        vec![output.clone()]
    };
    for o in &outputs {
        println!("output:     {}", o.display());
    }
    if let (Some(name), Some(tracker)) = (&opts.save_mapping, &args.tracker) {
        let store = crate::config::ConfigStore::open_default()?;
        let name = Some(name.as_str()).filter(|n| !n.is_empty());
        let replaced = mappings::save(&store, tracker, &r.detection.shape, name, m.clone())?;
        println!(
            "saved:      mapping {} for tracker \"{tracker}\" (shape {})",
            if replaced { "replaced" } else { "saved" },
            r.detection.shape
        );
    }
    if args.no_validate {
        if let Some(code) = implausible_exit(input, &implausible(&s, None), args.force) {
            return Ok(code);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut worst = Verdict::Ok;
    let mut why = implausible(&s, None);
    for o in &outputs {
        match validate_path(o, &Options::default(), None) {
            Ok(rep) => {
                if outputs.len() == 1 {
                    why = implausible(&s, Some(&rep));
                }
                let v = match rep.verdict {
                    Verdict::Ok => "ok",
                    Verdict::Warnings => "warnings",
                    Verdict::Errors => "errors",
                };
                println!(
                    "validation: {v} — {} rows, {} orders, {} error(s){}",
                    rep.stats.rows,
                    rep.stats.orders,
                    rep.error_count(),
                    if outputs.len() > 1 {
                        format!(" ({})", o.display())
                    } else {
                        String::new()
                    }
                );
                for i in &rep.issues {
                    println!(
                        "  {:<8} {:<22} {:>8}  {}",
                        i.severity.as_str(),
                        i.code.as_str(),
                        i.count,
                        i.message
                    );
                }
                if rep.verdict == Verdict::Errors {
                    worst = Verdict::Errors;
                } else if rep.verdict == Verdict::Warnings && worst == Verdict::Ok {
                    worst = Verdict::Warnings;
                }
            }
            Err(e) => {
                println!("validation: not run ({e})");
            }
        }
    }
    if worst == Verdict::Errors {
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    if let Some(code) = implausible_exit(input, &why, args.force) {
        return Ok(code);
    }
    Ok(ExitCode::SUCCESS)
}
