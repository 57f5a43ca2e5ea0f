//! `lbimport wizard` (and `lbimport` with no subcommand): the full-screen guided import.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `lbimport wizard`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// A file to validate right away (skips the file step).
    pub file: Option<PathBuf>,
    /// A saved tracker to use (or `Sandbox`), skipping the tracker step.
    #[arg(long, value_name = "NAME")]
    pub tracker: Option<String>,
    /// Colour theme (default, light, high-contrast, mono, or one in the config dir).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Largest file sent in one upload (default 1 GiB, the service's limit); larger files are
    /// split at order boundaries into parts this size at most. For tests and rehearsals.
    #[arg(long, value_name = "SIZE", hide = true, value_parser = parse_part_bytes)]
    pub part_bytes: Option<u64>,
}

fn parse_part_bytes(s: &str) -> Result<u64, String> {
    match crate::mapping::split::parse_size(s) {
        Some(n) if n <= crate::mapping::split::DEFAULT_PART_BYTES => Ok(n),
        Some(_) => Err("at most 1GB (10^9 bytes), the largest part".to_string()),
        None => Err(format!("not a size: {s} (e.g. 4KiB, 500MB, 1GiB)")),
    }
}

/// Run `lbimport wizard`.
pub fn run(args: Args) -> ExitCode {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return super::fail_usage(
            "the wizard needs a terminal; use `lbimport validate` and `lbimport upload` in scripts",
        );
    }
    if let Some(f) = &args.file
        && let Err(e) = crate::read::regular_file(f)
    {
        return super::fail_usage(format!("{}: {e}", f.display()));
    }
    let file = args.file.map(|f| std::fs::canonicalize(&f).unwrap_or(f));
    let opts = crate::tui::Options {
        file,
        tracker: args.tracker,
        theme: args.theme,
        part_bytes: args.part_bytes,
        reviewed: None,
    };
    match crate::tui::run(opts) {
        Ok(ended) => ExitCode::from(ended.exit_code()),
        Err(e) => {
            eprintln!("lbimport: {e:#}");
            ExitCode::from(1)
        }
    }
}
