//! No input makes the validator panic, and its counters stay consistent.

use lbimport::read::Format;
use lbimport::validate::{Options, validate_path};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn inputs() -> Vec<Vec<u8>> {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut out: Vec<Vec<u8>> = vec![
        b"\"".to_vec(),
        b"\"\"\"".to_vec(),
        b"1,\"".to_vec(),
        b"\",\"\n\"".to_vec(),
        b"\r".to_vec(),
        b"\r\r\n\n".to_vec(),
        b"{".to_vec(),
        b"{\"order_id\":".to_vec(),
        b"{\"order_id\":\"\\ud800\",\"identity\":\"\\u0000\"}".to_vec(),
        b"\xEF\xBB".to_vec(),
        b"\xEF\xBB\xBF".to_vec(),
        b"\xFF\xFE".to_vec(),
        b"1,\xE2\x82".to_vec(),
        b"1,a,,2023-04-22 15:04:30.\n".to_vec(),
        b"1,a,,2023-04-22 15:04:30.1234567890123\n".to_vec(),
        b"1,a,,9999-12-31 23:59:59.999999\n1,b,,0000-01-01 00:00:00\n".to_vec(),
        b",,,,\n,,,\n,,\n,\n".to_vec(),
        vec![b'\n'; 1000],
        vec![b'"'; 1001],
        vec![0u8; 100],
    ];
    // truncated UTF-8 of every length
    let s = "1,/p/žluťoučký kůň,€,2023-04-22 15:04:30\n".as_bytes();
    for n in 0..s.len() {
        out.push(s[..n].to_vec());
    }
    let alphabet = b"\",\n\r{}:[]01a \\\t\xC3\xA9\xFF\x00E+.-T Z";
    for len in [1usize, 2, 3, 5, 8, 13, 40, 100, 1000, 5000] {
        for _ in 0..12 {
            let v: Vec<u8> = (0..len)
                .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
                .collect();
            out.push(v);
            let v: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            out.push(v);
        }
    }
    out
}

#[test]
fn garbage_never_panics_and_counters_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    for (i, data) in inputs().into_iter().enumerate() {
        for (ext, format) in [("csv", None), ("json", None), ("txt", Some(Format::Json))] {
            let p = dir.path().join(format!("g{i}.{ext}"));
            std::fs::write(&p, &data).unwrap();
            let opts = Options {
                max_line_bytes: 65536,
                format,
                ..Options::default()
            };
            let r = validate_path(&p, &opts, None).unwrap();
            let s = &r.stats;
            assert_eq!(s.rows, s.valid_rows + s.invalid_rows, "input {i}");
            assert!(s.lines >= s.rows, "input {i}");
            assert!(s.orders <= s.valid_rows, "input {i}");
            assert_eq!(
                s.orders,
                s.single_item_orders + s.multi_item_orders,
                "input {i}"
            );
            assert_eq!(r.file.bytes, data.len() as u64);
            if s.rows == 0 && !data.starts_with(b"\xFF\xFE") {
                assert!(
                    r.issue(lbimport::validate::Code::EmptyFile).is_some(),
                    "input {i}"
                );
            }
            for issue in &r.issues {
                assert!(issue.count > 0 || issue.code == lbimport::validate::Code::FewCoPurchases);
                assert!(issue.examples.len() <= 5);
                for e in &issue.examples {
                    assert!(e.text.chars().count() <= 200);
                }
            }
            n += 1;
        }
    }
    assert!(n > 600, "{n} inputs");
}
