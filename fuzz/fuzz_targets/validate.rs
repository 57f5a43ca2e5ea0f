//! The validator (it has unsafe, SIMD and multi-threaded code) on arbitrary files: never panics,
//! and its counts stay consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("lbimport-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let ext = if data.first() == Some(&b'{') { "json" } else { "csv" };
    let p = dir.join(format!("in.{ext}"));
    if std::fs::write(&p, data).is_err() {
        return;
    }
    let opts = lbimport::validate::Options {
        max_line_bytes: 64 * 1024,
        ..Default::default()
    };
    if let Ok(r) = lbimport::validate::validate_path(&p, &opts, None) {
        assert_eq!(r.stats.valid_rows + r.stats.invalid_rows, r.stats.rows);
        assert!(r.stats.orders <= r.stats.valid_rows);
        assert_eq!(r.file.bytes, data.len() as u64);
    }
});
