//! `lbimport validate`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::mapping_args::MappingArgs;

use crate::read::Format;
use crate::validate::{Options, Report, Verdict};

/// Arguments of `lbimport validate`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// The CSV or JSON-lines file to check.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print the JSON report instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "PATH")]
    pub report_out: Option<PathBuf>,
    /// Examples kept per issue.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_examples: usize,
    /// Longest accepted line in bytes (at least 65536).
    #[arg(long, value_name = "N", default_value_t = 1 << 20)]
    pub max_line_bytes: usize,
    /// Read the file as this format instead of deciding by extension / content.
    #[arg(long, value_name = "csv|json", value_parser = parse_format)]
    pub format: Option<Format>,
    /// Saved tracker to check the file for: its saved column mappings apply (`--mapping NAME`,
    /// or automatically by the file's shape), its identities are compared with its stored
    /// catalog and its orders with what earlier uploads sent to it.
    #[arg(long, value_name = "NAME")]
    pub tracker: Option<String>,
    /// Mapping and cleaning: when given, the file is converted first (into the data dir; the
    /// original is never modified) and the converted file is validated.
    #[command(flatten)]
    pub mapping: MappingArgs,
}

fn parse_format(s: &str) -> Result<Format, String> {
    match s {
        "csv" => Ok(Format::Csv),
        "json" => Ok(Format::Json),
        _ => Err("expected csv or json".into()),
    }
}

/// Exit status when errors were found.
pub const EXIT_ERRORS: u8 = 1;

/// Run `lbimport validate`.
pub fn run(args: Args) -> ExitCode {
    if args.max_line_bytes < 65536 {
        return super::fail_usage("validate: --max-line-bytes must be at least 65536");
    }
    let opts = Options {
        max_line_bytes: args.max_line_bytes,
        max_examples: args.max_examples,
        format: args.format,
        ..Options::default()
    };
    let mut checks = match &args.tracker {
        Some(name) => match super::overlap::tracker_id(name) {
            Ok(id) => crate::pipeline::checks::TrackerChecks::for_tracker(name, &id),
            Err(e) => return super::fail_usage(format!("validate: {e}")),
        },
        None => crate::pipeline::checks::TrackerChecks::default(),
    };
    if let Some(file) = &args.mapping.catalog {
        checks = match checks.with_catalog_file(file) {
            Ok(c) => c,
            Err(e) => return super::fail_usage(format!("validate: --catalog {e}")),
        };
    }
    for why in &checks.skipped {
        eprintln!("lbimport: warning: {}", super::terminal_safe(why));
    }
    let prepared = match super::prepare_mapping(&args.file, &args.mapping, args.tracker.as_deref())
    {
        Ok(p) => p,
        Err(e) => {
            return super::fail_usage(format!("validate: {}", super::about_file(&args.file, e)));
        }
    };
    if prepared.temp {
        eprintln!(
            "lbimport: {}",
            super::terminal_safe(&format!(
                "validating the converted file {} (from {})",
                prepared.path_to_use.display(),
                args.file.display()
            ))
        );
    }
    let paths = if prepared.parts.len() > 1 {
        eprintln!(
            "lbimport: validating each of the {} parts: {} (the JSON output is an array with \
             one report per part)",
            prepared.parts.len(),
            super::terminal_safe(&super::join_paths(&prepared.parts))
        );
        prepared.parts
    } else {
        vec![prepared.path_to_use]
    };
    let mut reports = Vec::with_capacity(paths.len());
    for path in &paths {
        match crate::pipeline::validate_file(path, opts.clone(), &checks, None, None) {
            Ok(r) => reports.push(r),
            Err(e) => return super::fail_usage(format!("validate: {e}")),
        }
    }
    let rendered = match reports.as_slice() {
        [one] => serde_json::to_string_pretty(one),
        many => serde_json::to_string_pretty(many),
    };
    let json = match rendered {
        Ok(j) => j,
        Err(e) => return super::fail_usage(format!("validate: cannot render the report: {e}")),
    };
    if let Some(out) = &args.report_out
        && let Err(e) = std::fs::write(out, format!("{json}\n"))
    {
        return super::fail_usage(format!(
            "validate: cannot write the report to {}: {e}",
            out.display()
        ));
    }
    if args.json {
        println!("{json}");
    } else {
        for report in &reports {
            print!("{}", render_text(report));
        }
        if reports.len() > 1 {
            print!("{}", render_parts(&reports, prepared.part_bytes));
        }
    }
    if reports.iter().any(Report::has_errors) {
        ExitCode::from(EXIT_ERRORS)
    } else {
        ExitCode::from(super::EXIT_OK)
    }
}

/// The closing list of a file validated part by part: each part's path and verdict.
pub fn render_parts(reports: &[Report], part_bytes: u64) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Parts: {} (split at order boundaries, each at most {})",
        reports.len(),
        crate::units::part_limit(part_bytes)
    );
    for (i, r) in reports.iter().enumerate() {
        let verdict = match r.verdict {
            Verdict::Ok => "OK",
            Verdict::Warnings => "WARNINGS",
            Verdict::Errors => "ERRORS",
        };
        let _ = writeln!(
            o,
            "  part {}/{}  {:<8}  {} rows, {} orders, {} bytes  {}",
            i + 1,
            reports.len(),
            verdict,
            thousands(r.stats.rows),
            thousands(r.stats.orders),
            thousands(r.file.bytes),
            crate::validate::text::esc(&r.file.path)
        );
    }
    o
}

pub use crate::validate::text::{render_text, thousands};
