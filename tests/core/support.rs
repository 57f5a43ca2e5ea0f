//! What the validator's tests share: options with a fixed "now", and files written to a
//! temporary directory.

use std::path::PathBuf;

use chrono::TimeZone;
use lbimport::validate::Options;

/// The default options with "now" fixed at 2025-01-01 00:00 UTC (timestamps in the future are
/// checked against it).
pub fn opts() -> Options {
    Options {
        now: Some(chrono::Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()),
        ..Options::default()
    }
}

/// `data` written to `name` in a new temporary directory (kept alive by the returned guard).
pub fn write(name: &str, data: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, data).unwrap();
    (dir, p)
}
