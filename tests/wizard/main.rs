//! The wizard and the report viewer: the state machine driven without a terminal (with the real
//! Driver and the sandbox), every screen as an insta snapshot, real terminals (portable-pty + vt100),
//! themes and the committed screenshots.
//!
//! One test binary of modules (linking the library once instead of once per file).

#[path = "../common/mod.rs"]
mod common;
mod pty;

mod report_pty;
mod report_snapshots;
mod themes_config;
mod themes_readme;
mod themes_screenshots;
mod wizard_bench;
mod wizard_checks;
mod wizard_flow;
mod wizard_parts;
mod wizard_pty;
mod wizard_snapshots;
