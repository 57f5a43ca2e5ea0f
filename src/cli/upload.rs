//! `lbimport upload`.

use std::process::ExitCode;

/// Arguments of `lbimport upload`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {}

/// Run `lbimport upload`.
pub fn run(_args: Args) -> ExitCode {
    super::fail_usage("upload: not available yet")
}
