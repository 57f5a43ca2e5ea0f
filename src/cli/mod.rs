//! Command-line parsing (clap) and output. Each subcommand lives in its own module and owns
//! its `Args` struct and its `run` function; this module only dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod catalog;
pub mod generate;
pub mod history;
pub mod identity;
pub mod mapping_args;
pub mod normalize;
pub mod overlap;
pub mod report;
pub mod serve;
pub mod tracker;
pub mod upload;
pub mod validate;
pub mod wizard;

/// lbimport: prove a past-purchases file is right, fix what can be fixed, and upload it to
/// Luigi's Box safely. With no subcommand it opens the wizard.
#[derive(Debug, Parser)]
#[command(name = "lbimport", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand; none opens the wizard.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a CSV or JSON-lines file and report what the service would say.
    Validate(validate::Args),
    /// Validate, confirm and upload a file to a saved tracker.
    Upload(upload::Args),
    /// Convert a file that doesn't fit the documented layout into one that does.
    Normalize(normalize::Args),
    /// Manage saved trackers (id, endpoint, private key source).
    #[command(subcommand)]
    Tracker(tracker::Command),
    /// A tracker's catalog: fetch it (Content Export API), show it, or import it from a file.
    #[command(subcommand)]
    Catalog(catalog::Command),
    /// List past uploads, newest first.
    History(history::Args),
    /// Review saved validation reports: open one, list them, compare two.
    Report(report::Args),
    /// Run the sandbox import endpoint locally.
    Serve(serve::Args),
    /// Write a deterministic, realistic purchases file (for benchmarks and demos).
    #[command(hide = true)]
    Generate(generate::Args),
    /// Open the wizard, optionally with the file and tracker already chosen.
    Wizard(wizard::Args),
}

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: usage error or unreadable input.
pub const EXIT_USAGE: u8 = 2;

/// Entry point of the `lbimport` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => wizard::run(wizard::Args::default()),
        Some(Command::Validate(a)) => validate::run(a),
        Some(Command::Upload(a)) => upload::run(a),
        Some(Command::Normalize(a)) => normalize::run(a),
        Some(Command::Tracker(c)) => tracker::run(c),
        Some(Command::Catalog(c)) => catalog::run(c),
        Some(Command::History(a)) => history::run(a),
        Some(Command::Report(a)) => report::run(a),
        Some(Command::Serve(a)) => serve::run(a),
        Some(Command::Generate(a)) => generate::run(a),
        Some(Command::Wizard(a)) => wizard::run(a),
    }
}

/// Print a one-line error on stderr and return the usage exit status.
pub fn fail_usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("lbimport: {}", terminal_safe(&msg.to_string()));
    ExitCode::from(EXIT_USAGE)
}

/// `msg` with control characters other than newline and tab escaped (`\u{1b}`): file names and
/// values quoted in messages must not reach the terminal as escape sequences.
pub fn terminal_safe(msg: &str) -> String {
    msg.split('\n')
        .map(|line| {
            line.split('\t')
                .map(|part| crate::validate::escape_controls(part).into_owned())
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Apply the mapping flags shared by `validate` and `upload` (with the command's own tracker
/// for saved mappings) and print the resulting notices on stderr. Without flags and without a
/// saved mapping for the file's shape the file is used as is (`temp == false`).
pub fn prepare_mapping(
    file: &std::path::Path,
    mapping: &mapping_args::MappingArgs,
    tracker: Option<&str>,
) -> Result<crate::pipeline::prepare::Prepared, crate::pipeline::Error> {
    let mut args = mapping.options();
    args.tracker = tracker.map(str::to_string);
    identity::load_rewrite(&mut args, tracker)?;
    let prepared = crate::pipeline::prepare::prepare(file, &args)?;
    for n in &prepared.notices {
        eprintln!("lbimport: {}", terminal_safe(n));
    }
    Ok(prepared)
}

/// An error about `file` as one message that names the file: `e` itself when it already does,
/// else `FILE: e`. Control characters in the name are escaped.
pub fn about_file(file: &std::path::Path, e: impl std::fmt::Display) -> String {
    let shown = file.display().to_string();
    let msg = e.to_string();
    let name = crate::validate::escape_controls(&shown);
    if msg.contains(&shown) || msg.contains(name.as_ref()) {
        msg
    } else {
        format!("{name}: {msg}")
    }
}

/// Paths as one comma-separated line.
pub fn join_paths(paths: &[std::path::PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
