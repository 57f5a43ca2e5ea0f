//! `lbimport validate`.

use std::process::ExitCode;

/// Arguments of `lbimport validate`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {}

/// Run `lbimport validate`.
pub fn run(_args: Args) -> ExitCode {
    super::fail_usage("validate: not available yet")
}
