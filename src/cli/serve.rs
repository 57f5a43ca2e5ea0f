//! `lbimport serve`.

use std::process::ExitCode;

/// Arguments of `lbimport serve`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {}

/// Run `lbimport serve`.
pub fn run(_args: Args) -> ExitCode {
    super::fail_usage("serve: not available yet")
}
