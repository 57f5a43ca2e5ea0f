//! Splitting never separates an order and keeps every part within the limit.

use std::collections::{HashMap, HashSet};

use lbimport::mapping::MappingError;
use lbimport::mapping::split::split_path;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn scattered_orders_stay_whole_and_parts_fit() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.csv");
    let mut rng = Lcg(42);
    let mut text = String::new();
    let mut rows_per_order: HashMap<String, usize> = HashMap::new();
    // 2,000 orders whose rows are scattered over the whole file, some ids quoted
    for i in 0..20_000u64 {
        let order = format!("o{}", rng.next() % 2000);
        let order = if order.ends_with('7') {
            format!("\"{order},x\"")
        } else {
            order
        };
        text.push_str(&format!(
            "{order},/p/{},u{},2023-04-22 15:04:{:02}\n",
            rng.next() % 500,
            i % 300,
            i % 60
        ));
        *rows_per_order.entry(order).or_default() += 1;
    }
    std::fs::write(&input, &text).unwrap();
    let limit: u64 = 64 * 1024;
    let parts = split_path(&input, limit, dir.path(), "big", None).unwrap();
    assert!(parts.len() > (text.len() as u64 / limit) as usize);
    assert_eq!(
        parts[0].file_name().unwrap().to_str().unwrap(),
        "big.part-001.csv"
    );
    let mut seen_in: HashMap<String, usize> = HashMap::new();
    let mut total_rows = 0;
    let mut total_bytes = 0;
    for (pi, p) in parts.iter().enumerate() {
        let bytes = std::fs::metadata(p).unwrap().len();
        assert!(bytes <= limit, "part {pi} has {bytes} bytes");
        assert!(bytes > 0);
        total_bytes += bytes;
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(p)
            .unwrap();
        let mut orders_here = HashSet::new();
        for r in rdr.records() {
            let r = r.unwrap();
            total_rows += 1;
            let id = r.get(0).unwrap().to_string();
            let key = if id.contains(',') {
                format!("\"{id}\"")
            } else {
                id
            };
            orders_here.insert(key.clone());
            if let Some(prev) = seen_in.insert(key.clone(), pi) {
                assert_eq!(prev, pi, "order {key} crosses parts {prev} and {pi}");
            }
        }
    }
    assert_eq!(total_rows, 20_000);
    assert_eq!(total_bytes, text.len() as u64);
    assert_eq!(seen_in.len(), rows_per_order.len());
}

#[test]
fn an_order_larger_than_the_limit_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("one.csv");
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!("same,/p/{i}\n"));
    }
    std::fs::write(&input, &text).unwrap();
    let r = split_path(&input, 200, dir.path(), "one", None);
    match r {
        Err(MappingError::Invalid(m)) => assert!(m.contains("one order alone takes"), "{m}"),
        other => panic!("{other:?}"),
    }
    // a limit that fits gives one part, byte-identical
    let parts = split_path(&input, 1 << 20, dir.path(), "one", None).unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(std::fs::read_to_string(&parts[0]).unwrap(), text);
}
