//! Property tests over arbitrary bytes for the readers, detection and validation: none of them
//! panics on any input, and what they count agrees with counts computed here independently.
//! (Coverage-guided fuzzing would need cargo-fuzz, which is not installed where this is built;
//! these run in CI with the normal test suite.)

use lbimport::read::lines::{Ending, LineSplitter, Piece};
use lbimport::read::{csv, json};
use proptest::prelude::*;

/// Bytes that are mostly CSV / JSON punctuation, so that the interesting paths are reached.
fn hostile_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => prop::sample::select(b"\n\r,\"{}:[]\\ ;\t0a/".to_vec()),
        1 => any::<u8>(),
    ];
    prop::collection::vec(byte, 0..max)
}

/// Text built from the same alphabet plus some non-ASCII characters.
fn hostile_text(max: usize) -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        6 => prop::sample::select(",\"{}:[]\\ ;\t0a/-.eE+".chars().collect::<Vec<_>>()),
        1 => any::<char>(),
    ];
    prop::collection::vec(ch, 0..max).prop_map(|v| v.into_iter().collect())
}

/// What the splitter should hand out, computed with `split` on `\n`: (bytes without the
/// terminator, ending) per line.
fn expected_lines(data: &[u8]) -> Vec<(Vec<u8>, Ending)> {
    let mut out = Vec::new();
    let mut parts: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let last = parts.pop().unwrap_or_default();
    for p in parts {
        match p.strip_suffix(b"\r") {
            Some(q) => out.push((q.to_vec(), Ending::Crlf)),
            None => out.push((p.to_vec(), Ending::Lf)),
        }
    }
    if !last.is_empty() {
        out.push((last.to_vec(), Ending::Eof));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn line_splitter_hands_out_every_line_once_whatever_the_blocks(
        data in hostile_bytes(600),
        cuts in prop::collection::vec(0usize..600, 0..8),
        cap in 1usize..80,
    ) {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        cuts.push(0);
        cuts.push(data.len());
        cuts.sort_unstable();
        let mut sp = LineSplitter::new(cap);
        let mut got: Vec<(u64, u64, Vec<u8>, u64, Ending, bool)> = Vec::new();
        let mut push = |p: Piece<'_>| match p {
            Piece::Line(l) => got.push((l.no, l.offset, l.bytes.to_vec(), l.bytes.len() as u64, l.ending, false)),
            Piece::TooLong(l) => got.push((l.no, l.offset, l.prefix.to_vec(), l.len, l.ending, true)),
        };
        for w in cuts.windows(2) {
            sp.feed(&data[w[0]..w[1]], &mut push);
        }
        sp.finish(&mut push);
        let want = expected_lines(&data);
        prop_assert_eq!(got.len(), want.len());
        let mut offset = 0u64;
        for (i, ((no, off, bytes, len, ending, long), (wbytes, wending))) in
            got.iter().zip(&want).enumerate()
        {
            prop_assert_eq!(*no, i as u64 + 1);
            prop_assert_eq!(*off, offset);
            prop_assert_eq!(*ending, *wending);
            prop_assert_eq!(*len, wbytes.len() as u64);
            prop_assert_eq!(*long, wbytes.len() > cap, "line {} of {} bytes, cap {}", no, wbytes.len(), cap);
            prop_assert!(bytes.len() <= cap);
            prop_assert!(wbytes.starts_with(bytes));
            if !*long {
                prop_assert_eq!(bytes, wbytes);
            }
            offset += wbytes.len() as u64 + ending.bytes().len() as u64;
        }
        prop_assert_eq!(offset, data.len() as u64);
    }

    #[test]
    fn csv_split_never_panics_and_counts_plain_fields(rec in hostile_text(200)) {
        let rec: String = rec.chars().filter(|&c| c != '\n').collect();
        match csv::split(&rec) {
            Ok(f) => {
                prop_assert!(f.count >= 1);
                for i in 0..f.count.min(csv::KEPT_FIELDS) {
                    prop_assert!(f.get(i).is_some());
                }
                if !rec.contains('"') {
                    let want: Vec<&str> = rec.split(',').collect();
                    prop_assert_eq!(f.count, want.len());
                    for (i, w) in want.iter().enumerate().take(csv::KEPT_FIELDS) {
                        prop_assert_eq!(f.get(i), Some(*w));
                    }
                }
            }
            Err(e) => {
                prop_assert!(rec.contains('"'), "quote error without a quote: {}", e);
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn json_parse_object_never_panics(line in hostile_text(200)) {
        let r = json::parse_object(&line, &mut |_, _| {});
        if r.is_ok() {
            // whatever it accepts, serde_json accepts as an object too
            let v: Result<serde_json::Value, _> = serde_json::from_str(&line);
            prop_assert!(matches!(v, Ok(serde_json::Value::Object(_))), "{:?}", line);
        }
    }

    #[test]
    fn json_parse_object_hands_out_every_member_in_order(
        members in prop::collection::vec(("[a-z_]{0,6}|.{0,4}", ".{0,8}"), 0..8),
        spaced in any::<bool>(),
    ) {
        // duplicates included: JSON text built by hand, keys and values escaped by serde_json
        let sep = if spaced { ", " } else { "," };
        let body: Vec<String> = members
            .iter()
            .map(|(k, v)| format!(
                "{}:{}",
                serde_json::to_string(k).unwrap_or_default(),
                serde_json::to_string(v).unwrap_or_default()
            ))
            .collect();
        let line = format!("{{{}}}", body.join(sep));
        let mut got: Vec<(String, String)> = Vec::new();
        let r = json::parse_object(&line, &mut |k, v| {
            if let json::Value::Str(s) = v {
                got.push((k.into_owned(), s.into_owned()));
            }
        });
        prop_assert!(r.is_ok(), "{:?}: {:?}", line, r);
        prop_assert_eq!(got, members);
    }

    #[test]
    fn detection_never_panics_and_never_maps_one_source_twice(
        data in hostile_bytes(2000),
        complete in any::<bool>(),
        json_hint in any::<bool>(),
    ) {
        let d = lbimport::mapping::detect::detect_bytes(&data, complete, json_hint);
        prop_assert!(
            lbimport::pipeline::prepare::check_distinct(&d.mapping).is_ok(),
            "{:?} from {:?}",
            d.mapping,
            String::from_utf8_lossy(&data)
        );
        if json_hint {
            prop_assert_eq!(d.format, lbimport::read::Format::Json);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn validation_never_panics_and_its_counts_agree(
        data in hostile_bytes(3000),
        json in any::<bool>(),
        block in 1usize..300,
    ) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let path = dir.path().join(if json { "f.json" } else { "f.csv" });
        std::fs::write(&path, &data).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let opts = lbimport::validate::Options {
            block_bytes: block,
            threads: 1,
            ..lbimport::validate::Options::default()
        };
        let r = lbimport::validate::validate_path(&path, &opts, None)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let s = &r.stats;
        let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&data);
        let newlines = body.iter().filter(|&&b| b == b'\n').count() as u64;
        let physical = newlines + u64::from(!body.is_empty() && !body.ends_with(b"\n"));
        prop_assert!(s.lines <= physical, "lines {} > physical {}", s.lines, physical);
        prop_assert!(s.rows <= s.lines);
        prop_assert_eq!(s.valid_rows + s.invalid_rows, s.rows);
        prop_assert!(s.orders <= s.valid_rows);
        prop_assert!(s.products <= s.valid_rows);
        prop_assert_eq!(r.file.bytes, data.len() as u64);
        let errors = r.issues.iter().any(|i| i.severity == lbimport::validate::Severity::Error);
        prop_assert_eq!(r.has_errors(), errors);
        for i in &r.issues {
            prop_assert!(i.count >= i.examples.len() as u64);
            for e in &i.examples {
                prop_assert!(!e.text.chars().any(|c| c.is_control()), "raw control in {:?}", e.text);
            }
        }
    }
}
