//! Detection then conversion of arbitrary files: never panics; what is written validates or
//! is counted as invalid.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("lbimport-fuzz-conv-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let p = dir.join("in.txt");
    if std::fs::write(&p, data).is_err() {
        return;
    }
    let Ok(d) = lbimport::mapping::detect::detect_path(&p) else {
        return;
    };
    let out = dir.join("out.csv");
    let clean = lbimport::mapping::convert::Clean::default();
    if let Ok(s) = lbimport::mapping::convert::convert_path(&p, &d.mapping, &clean, &out, None) {
        assert!(s.rows_out <= s.rows_in);
        assert!(s.invalid <= s.rows_in);
    }
});
