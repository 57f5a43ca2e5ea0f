//! Detection on arbitrary bytes: never panics, and never maps one source to two roles.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (flags, body) = data.split_first().map_or((0, data), |(f, b)| (*f, b));
    let d = lbimport::mapping::detect::detect_bytes(body, flags & 1 == 1, flags & 2 == 2);
    assert!(
        lbimport::mapping::cli::check_distinct(&d.mapping).is_ok(),
        "{:?}",
        d.mapping
    );
    let _ = lbimport::mapping::json::array_records(body);
});
