//! `lbimport validate`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::mapping::cli::MappingArgs;

use crate::read::Format;
use crate::validate::{self, Options, Report, Severity, Verdict};

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
    /// Tracker whose saved column mappings apply (`--mapping NAME`, or automatically by the
    /// file's shape).
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
    let prepared = match super::prepare_mapping(&args.file, &args.mapping, args.tracker.as_deref())
    {
        Ok(p) => p,
        Err(e) => return super::fail_usage(format!("validate: {e}")),
    };
    if prepared.temp {
        eprintln!(
            "lbimport: validating the converted file {} (from {})",
            prepared.path_to_use.display(),
            args.file.display()
        );
    }
    let paths = if prepared.parts.len() > 1 {
        eprintln!(
            "lbimport: validating each of the {} parts: {} (the JSON output is an array with \
             one report per part)",
            prepared.parts.len(),
            super::join_paths(&prepared.parts)
        );
        prepared.parts
    } else {
        vec![prepared.path_to_use]
    };
    let mut reports = Vec::with_capacity(paths.len());
    for path in &paths {
        match validate::validate_path(path, &opts, None) {
            Ok(r) => reports.push(r),
            Err(e) => return super::fail_usage(format!("validate: {e}")),
        }
    }
    if let Some(name) = &args.tracker {
        super::overlap::print_checks(name, &paths, &reports);
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
        crate::mapping::cli::limit_text(part_bytes)
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
            r.file.path
        );
    }
    o
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The human text report: a summary table, then issues by severity with examples, then samples.
pub fn render_text(r: &Report) -> String {
    let s = &r.stats;
    let mut o = String::new();
    let fmt = match r.file.format {
        Format::Csv => "CSV",
        Format::Json => "JSON lines",
    };
    let endings = match r.file.line_endings {
        validate::LineEndings::Lf => "LF",
        validate::LineEndings::Crlf => "CRLF",
        validate::LineEndings::Mixed => "mixed LF/CRLF",
    };
    let verdict = match r.verdict {
        Verdict::Ok => "OK — no problems found",
        Verdict::Warnings => "WARNINGS — the service would accept the file; review the warnings",
        Verdict::Errors => "ERRORS — the service would cancel the whole import",
    };
    let row = |o: &mut String, k: &str, v: String| {
        let _ = writeln!(o, "  {k:<17} {v}");
    };
    let _ = writeln!(o, "Validation of {}", r.file.path);
    row(
        &mut o,
        "File",
        format!(
            "{} bytes, {fmt}, {endings} line endings{}",
            thousands(r.file.bytes),
            if r.file.bom { ", UTF-8 BOM" } else { "" }
        ),
    );
    row(&mut o, "SHA-256", r.file.sha256.clone());
    row(&mut o, "Verdict", verdict.to_string());
    let _ = writeln!(o);
    row(&mut o, "Lines", thousands(s.lines));
    row(
        &mut o,
        "Rows",
        format!(
            "{} ({} valid, {} invalid)",
            thousands(s.rows),
            thousands(s.valid_rows),
            thousands(s.invalid_rows)
        ),
    );
    row(
        &mut o,
        "Orders",
        format!(
            "{} ({} single-item, {} multi-item)",
            thousands(s.orders),
            thousands(s.single_item_orders),
            thousands(s.multi_item_orders)
        ),
    );
    row(&mut o, "Co-purchase pairs", thousands(s.pairs));
    let d = &s.items_per_order;
    row(
        &mut o,
        "Items per order",
        format!(
            "mean {:.2}, median {}, p90 {}, p99 {}, max {}",
            d.mean, d.p50, d.p90, d.p99, d.max
        ),
    );
    row(&mut o, "Products", thousands(s.products));
    row(
        &mut o,
        "Users",
        format!(
            "{} ({} rows with a user id)",
            thousands(s.users),
            thousands(s.rows_with_user)
        ),
    );
    let span = match (&s.first_purchase, &s.last_purchase) {
        (Some(a), Some(b)) => format!(", {a} … {b}"),
        _ => String::new(),
    };
    row(
        &mut o,
        "Timestamps",
        format!("{} rows{span}", thousands(s.rows_with_timestamp)),
    );
    if !s.top_products.is_empty() {
        let top: Vec<String> = s
            .top_products
            .iter()
            .take(5)
            .map(|t| format!("{} ({})", t.identity, thousands(t.rows)))
            .collect();
        row(&mut o, "Top products", top.join(", "));
    }
    for sev in [Severity::Error, Severity::Warning, Severity::Info] {
        let list: Vec<_> = r.issues.iter().filter(|i| i.severity == sev).collect();
        let title = match sev {
            Severity::Error => "Errors",
            Severity::Warning => "Warnings",
            Severity::Info => "Info",
        };
        let _ = writeln!(o);
        if list.is_empty() {
            let _ = writeln!(o, "{title}: none");
            continue;
        }
        let _ = writeln!(o, "{title}:");
        for i in list {
            let _ = writeln!(
                o,
                "  {} ×{}: {}",
                i.code.as_str(),
                thousands(i.count),
                i.message
            );
            for e in &i.examples {
                if e.line == 0 {
                    let _ = writeln!(o, "      {}", e.text);
                } else {
                    let _ = writeln!(o, "      line {} (byte {}): {}", e.line, e.byte, e.text);
                }
            }
        }
    }
    if !r.samples.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "Sample orders:");
        for smp in &r.samples {
            let _ = writeln!(o, "  order {} ({} rows)", smp.order_id, smp.rows.len());
            for sr in smp.rows.iter().take(20) {
                let _ = writeln!(
                    o,
                    "      line {:<8} {}  user {}  at {}",
                    sr.line,
                    sr.identity,
                    sr.user_id.as_deref().unwrap_or("-"),
                    sr.created_at.as_deref().unwrap_or("-")
                );
            }
            if smp.rows.len() > 20 {
                let _ = writeln!(o, "      … {} more rows", smp.rows.len() - 20);
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(21_000_000), "21,000,000");
    }
}
