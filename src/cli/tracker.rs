//! `lbimport tracker …`.

use std::process::ExitCode;

/// The `tracker` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List saved trackers (keys masked).
    List,
}

/// Run a `tracker` subcommand.
pub fn run(_cmd: Command) -> ExitCode {
    super::fail_usage("tracker: not available yet")
}
