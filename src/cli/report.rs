//! `lbimport report`: review saved validation reports — open one in the terminal viewer, list
//! them, print one as text, or compare two.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::report_store::{self, LoadError, Loaded};

/// Arguments of `lbimport report`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// A saved report (JSON from `validate --report-out`, the wizard's `r`, or an upload).
    /// Without it, the saved reports are listed.
    #[arg(value_name = "REPORT.json")]
    pub report: Option<PathBuf>,
    /// Compare REPORT (the newer) against this older report.
    #[arg(long, value_name = "OLD.json", requires = "report")]
    pub against: Option<PathBuf>,
    /// Print JSON instead of opening the viewer: the differences with `--against`, else the
    /// report (or, without a path, the list of saved reports).
    #[arg(long, conflicts_with = "text")]
    pub json: bool,
    /// Print the text report of `lbimport validate` (with `--against`, the comparison as text)
    /// instead of opening the viewer.
    #[arg(long)]
    pub text: bool,
    /// Only check whether the validated file is still the same bytes (size and sha256): exit 0
    /// when unchanged, 1 when it changed, is gone or cannot be read (the reason on stderr).
    #[arg(long, conflicts_with_all = ["against", "json", "text"], requires = "report")]
    pub check: bool,
    /// The tracker to continue to (skips the wizard's tracker step when the report goes on
    /// to an upload).
    #[arg(long, value_name = "NAME")]
    pub tracker: Option<String>,
    /// Colour theme (default, light, high-contrast, mono, or one in the config dir).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// For a report of a split file (a list of part reports): which part (1-based).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub part: u32,
}

/// Run `lbimport report`.
pub fn run(a: Args) -> ExitCode {
    let Some(path) = &a.report else {
        return list(&a);
    };
    let new = match open(path, a.part as usize) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if a.check {
        return check(&new);
    }
    let old = match &a.against {
        Some(p) => match open(p, 1) {
            Ok(l) => Some(l),
            Err(code) => return code,
        },
        None => None,
    };
    let interactive = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if a.json || a.text || !interactive {
        match &old {
            Some(old) => {
                let cmp = report_store::compare(&new.report, &old.report);
                if a.json {
                    print_json(&cmp.to_json());
                } else {
                    out(&cmp.render_text());
                }
            }
            None if a.json => match serde_json::to_value(&new.report) {
                Ok(v) => print_json(&v),
                Err(e) => return super::fail_usage(format!("report: {e}")),
            },
            None => out(&crate::cli::validate::render_text(&new.report)),
        }
        return ExitCode::from(super::EXIT_OK);
    }
    let theme = theme(&a);
    let (mut viewer, first) = crate::tui::report_view::ReportViewer::with_report(theme, new);
    if let Some(old) = old {
        viewer.compare_with(old);
    } else if let Some(items) = saved_reports() {
        // `d` compares against a saved report picked from the list; Esc shows the list
        viewer.listing = Some(crate::tui::report_view::Listing {
            items,
            ..Default::default()
        });
    }
    finish(viewer, first, &a)
}

fn check(l: &Loaded) -> ExitCode {
    let file = report_store::file_location(&l.report);
    let r = report_store::check_file(&l.report, &report_store::CheckProgress::default());
    match r.refusal() {
        None => {
            out(&format!(
                "unchanged: {} ({} bytes, sha256 {})\n",
                file.display(),
                l.report.file.bytes,
                l.report.file.sha256
            ));
            ExitCode::from(super::EXIT_OK)
        }
        Some(why) => {
            eprintln!("lbimport: report: {why}");
            ExitCode::from(1)
        }
    }
}

fn list(a: &Args) -> ExitCode {
    let items = saved_reports().unwrap_or_default();
    let interactive = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if a.json || a.text || !interactive {
        if a.json {
            let v: Vec<serde_json::Value> = items
                .iter()
                .map(|l| {
                    serde_json::json!({
                        "path": l.path.display().to_string(),
                        "when": l.when,
                        "file": l.file,
                        "verdict": l.summary.map(|s| report_store::verdict_str(s.0)),
                        "rows": l.summary.map(|s| s.1),
                        "orders": l.summary.map(|s| s.2),
                        "upload": l.upload,
                        "problem": l.problem,
                    })
                })
                .collect();
            print_json(&serde_json::Value::Array(v));
        } else {
            let mut o = String::new();
            if items.is_empty() {
                o.push_str("no saved reports\n");
            }
            for l in &items {
                let when = l
                    .when
                    .map(|w| w.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|| "-".into());
                match l.summary {
                    Some((v, rows, orders)) => o.push_str(&format!(
                        "{when}  {:<8}  {:>12} rows  {:>11} orders  {}  ({})\n",
                        report_store::verdict_str(v),
                        report_store::thousands(rows),
                        report_store::thousands(orders),
                        l.file,
                        l.path.display()
                    )),
                    None => o.push_str(&format!(
                        "{when}  unreadable: {} ({})\n",
                        l.problem.clone().unwrap_or_default(),
                        l.path.display()
                    )),
                }
            }
            out(&o);
        }
        return ExitCode::from(super::EXIT_OK);
    }
    let viewer = crate::tui::report_view::ReportViewer::with_list(theme(a), items);
    finish(viewer, crate::tui::report_view::Action::None, a)
}

/// The saved reports of the data directory and those linked from the history.
fn saved_reports() -> Option<Vec<report_store::Listed>> {
    let data = crate::config::data_dir().ok()?;
    let history = crate::config::History::at(&data)
        .list_with_warnings()
        .map(|(e, _)| e)
        .unwrap_or_default();
    Some(report_store::list(
        &data.join(report_store::REPORTS_DIR),
        &history,
    ))
}

fn theme(a: &Args) -> crate::tui::theme::Theme {
    let store_theme = crate::config::ConfigStore::open_default()
        .ok()
        .and_then(|s| s.load().ok())
        .and_then(|l| l.config.theme);
    let config_dir = crate::config::config_dir().ok();
    crate::tui::theme::Theme::load(
        a.theme.as_deref().or(store_theme.as_deref()),
        config_dir.as_deref(),
    )
    .0
}

fn finish(
    viewer: crate::tui::report_view::ReportViewer,
    first: crate::tui::report_view::Action,
    a: &Args,
) -> ExitCode {
    match crate::tui::report_view::run(viewer, first) {
        Ok(crate::tui::report_view::Outcome::Quit) => ExitCode::from(super::EXIT_OK),
        Ok(crate::tui::report_view::Outcome::Continue { file, report }) => {
            let opts = crate::tui::Options {
                file: Some(file),
                tracker: a.tracker.clone(),
                theme: a.theme.clone(),
                part_bytes: None,
                reviewed: Some(report),
            };
            match crate::tui::run(opts) {
                Ok(ended) => ExitCode::from(ended.exit_code()),
                Err(e) => {
                    eprintln!("lbimport: {e:#}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("lbimport: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Load a report for the command line: unknown fields are mentioned on stderr; a file that is
/// not a report is one line on stderr and exit status 2.
fn open(path: &Path, part: usize) -> Result<Loaded, ExitCode> {
    match report_store::load_part(path, part) {
        Ok(l) => {
            if !l.unknown.is_empty() {
                eprintln!(
                    "lbimport: {} was made by a newer lbimport; ignored fields: {}",
                    path.display(),
                    l.unknown.join(", ")
                );
            }
            Ok(l)
        }
        Err(e @ (LoadError::Io { .. } | LoadError::NotAReport { .. })) => {
            Err(super::fail_usage(format!("report: {e}")))
        }
    }
}

fn print_json(v: &serde_json::Value) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => out(&format!("{s}\n")),
        Err(e) => eprintln!("lbimport: report: {e}"),
    }
}

/// Print to stdout; a closed pipe (`| head`) is not an error.
fn out(s: &str) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(s.as_bytes()).and_then(|_| o.flush());
}
