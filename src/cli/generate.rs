//! `lbimport generate`: a deterministic generator of realistic purchase files (benchmarks, demos).

use std::process::ExitCode;

/// Arguments of `lbimport generate`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {}

/// Run `lbimport generate`.
pub fn run(_args: Args) -> ExitCode {
    super::fail_usage("generate: not available yet")
}
