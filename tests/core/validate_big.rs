//! A 100 MB single-line file, generated at test time: `line_too_long`, completes, bounded memory.

use std::io::Write;

use lbimport::validate::{Code, Options, validate_path};

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn hundred_megabyte_single_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("one-line.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
        let chunk = vec![b'x'; 1 << 20];
        f.write_all(b"1,").unwrap();
        for _ in 0..100 {
            f.write_all(&chunk).unwrap();
        }
        f.write_all(b"\n2,/p/2\n").unwrap();
    }
    let before = peak_rss_kib();
    let r = validate_path(&p, &Options::default(), None).unwrap();
    let i = r.issue(Code::LineTooLong).unwrap();
    assert_eq!(i.count, 1);
    assert_eq!((i.examples[0].line, i.examples[0].byte), (1, 0));
    assert!(
        i.examples[0]
            .text
            .starts_with(&format!("{} bytes", 2 + (100 << 20)))
    );
    assert_eq!(r.stats.lines, 2);
    assert_eq!(r.stats.rows, 2);
    assert_eq!(r.stats.valid_rows, 1);
    assert_eq!(r.file.bytes, 2 + (100 << 20) + 8);
    if let (Some(b), Some(a)) = (before, peak_rss_kib()) {
        // blocks in flight (a few × 512 KiB) and the 1 MiB line cap; never the 100 MB line
        assert!(a < b + 80 * 1024, "peak RSS grew from {b} KiB to {a} KiB");
    }
}
