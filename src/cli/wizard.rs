//! `lbimport wizard`.

use std::process::ExitCode;

/// Arguments of `lbimport wizard`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {}

/// Run `lbimport wizard`.
pub fn run(_args: Args) -> ExitCode {
    super::fail_usage("wizard: not available yet")
}
