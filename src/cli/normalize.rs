//! `lbimport normalize`.

use std::process::ExitCode;

/// Arguments of `lbimport normalize`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {}

/// Run `lbimport normalize`.
pub fn run(_args: Args) -> ExitCode {
    super::fail_usage("normalize: not available yet")
}
