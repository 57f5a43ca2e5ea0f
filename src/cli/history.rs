//! `lbimport history`.

use std::process::ExitCode;

/// Arguments of `lbimport history`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {}

/// Run `lbimport history`.
pub fn run(_args: Args) -> ExitCode {
    super::fail_usage("history: not available yet")
}
