//! The command line end to end: each module runs `lbimport` commands (most as subprocesses, against
//! the in-process sandbox on 127.0.0.1) and checks their output, exit codes and the files they write.
//!
//! One test binary of modules (linking the library once instead of once per file).

#[path = "../common/mod.rs"]
mod common;
mod sandbox;

mod catalog_cli;
mod cli_mapping_flags;
mod config_cli;
mod mapping_cli;
mod report_cli;
mod upload_cli;
mod validate_cli;
