//! The record readers and the timestamp parsers on arbitrary input: never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = lbimport::read::csv::split(&text);
    let _ = lbimport::read::csv::plain_commas(data);
    let _ = lbimport::read::json::parse_object(&text, &mut |_, _| {});
    for line in text.lines() {
        let _ = lbimport::spec::created_at::parse_ts(line);
        let _ = lbimport::mapping::time::parse_fields(line.as_bytes());
        if let Ok(mut c) = lbimport::mapping::time::TimeConverter::from_mapping(None, Some("Europe/Bratislava")) {
            let _ = c.convert(line);
        }
    }
});
