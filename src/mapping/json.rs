//! JSON exports that are not flat JSON lines: a JSON array of records (a REST API dump such as
//! WooCommerce's `GET /orders`), records with nested objects (`billing.email`), and orders whose
//! products are an array inside the record (`line_items`), exploded into one row per item with
//! the order's fields carried to each.
//!
//! Key paths use dots: `customer_id`, `billing.email`, `line_items.sku`. With an items array
//! (`items` = `line_items`), `line_items.sku` is the item's `sku`; any other path is the order
//! record's (`id`, `date_created`, `billing.email`), else the item's (so `sku` works too).

use std::io::{self, BufRead};

use serde_json::{Map, Value};

/// The longest record read from a JSON array (bytes); longer ones are an error, not memory.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// Whether `text` (a file's start, BOM removed) is a JSON array rather than JSON lines.
pub fn is_array(text: &[u8]) -> bool {
    text.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'[')
}

/// Reads the top-level elements of a JSON array one at a time, without holding the array.
#[derive(Debug, Default)]
pub struct ArraySplitter {
    started: bool,
    done: bool,
    /// 1-based line of the reader's position.
    pub line: u64,
    /// Bytes consumed so far.
    pub byte: u64,
}

impl ArraySplitter {
    /// A splitter at the start of the input.
    pub fn new() -> Self {
        ArraySplitter {
            line: 1,
            ..Default::default()
        }
    }

    /// The next element's bytes into `buf` (cleared first) with the line and byte where it
    /// starts; `None` after the closing `]`. Elements that are not objects are returned as
    /// they are (the caller reports them).
    pub fn next_record(
        &mut self,
        rdr: &mut impl BufRead,
        buf: &mut Vec<u8>,
    ) -> io::Result<Option<(u64, u64)>> {
        buf.clear();
        if self.done {
            return Ok(None);
        }
        let (mut depth, mut in_str, mut esc) = (0usize, false, false);
        let mut start: Option<(u64, u64)> = None;
        loop {
            let chunk = rdr.fill_buf()?;
            if chunk.is_empty() {
                if start.is_some() || !self.started {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the JSON array ends early (line {})", self.line),
                    ));
                }
                self.done = true;
                return Ok(None);
            }
            let mut used = 0;
            let mut finished = false;
            for &c in chunk {
                used += 1;
                self.byte += 1;
                if c == b'\n' {
                    self.line += 1;
                }
                if !self.started {
                    if c.is_ascii_whitespace() || c == 0xEF || c == 0xBB || c == 0xBF {
                        continue;
                    }
                    if c != b'[' {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "not a JSON array (it should start with [)",
                        ));
                    }
                    self.started = true;
                    continue;
                }
                if start.is_none() {
                    match c {
                        b' ' | b'\t' | b'\r' | b'\n' | b',' => continue,
                        b']' => {
                            self.done = true;
                            finished = true;
                            break;
                        }
                        _ => start = Some((self.line, self.byte - 1)),
                    }
                }
                buf.push(c);
                if buf.len() > MAX_RECORD_BYTES {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "a record of the JSON array is over {} MiB (line {})",
                            MAX_RECORD_BYTES >> 20,
                            start.map_or(self.line, |s| s.0)
                        ),
                    ));
                }
                if in_str {
                    if esc {
                        esc = false;
                    } else if c == b'\\' {
                        esc = true;
                    } else if c == b'"' {
                        in_str = false;
                    }
                    continue;
                }
                match c {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            finished = true;
                            break;
                        }
                    }
                    b',' if depth == 0 => {
                        buf.pop();
                        finished = true;
                        break;
                    }
                    _ => {}
                }
            }
            rdr.consume(used);
            if finished {
                return Ok(start.filter(|_| !buf.is_empty()));
            }
        }
    }
}

/// The records of a JSON array held in memory (a detection sample; a truncated last record is
/// left out).
pub fn array_records(bytes: &[u8]) -> Vec<String> {
    let mut rdr = io::BufReader::new(bytes);
    let mut sp = ArraySplitter::new();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while let Ok(Some(_)) = sp.next_record(&mut rdr, &mut buf) {
        out.push(String::from_utf8_lossy(&buf).into_owned());
    }
    out
}

/// Keys of product-like objects (for finding the items array of an order).
const ITEM_KEYS: [&str; 10] = [
    "sku",
    "product_id",
    "item_id",
    "productid",
    "itemid",
    "url",
    "identity",
    "ean",
    "variant_id",
    "product",
];

/// The key path of an array of product-like objects inside the records (`line_items`,
/// `items`, `products`), if the records have one.
pub fn find_items(records: &[Map<String, Value>]) -> Option<String> {
    let mut best: Option<(String, usize)> = None;
    for r in records.iter().take(50) {
        let mut paths = Vec::new();
        arrays_of_objects(r, "", &mut paths);
        for (path, objs) in paths {
            let score = objs
                .iter()
                .filter(|o| {
                    o.keys()
                        .any(|k| ITEM_KEYS.contains(&k.to_ascii_lowercase().as_str()))
                })
                .count();
            if score > 0 && best.as_ref().is_none_or(|b| score > b.1) {
                best = Some((path, score));
            }
        }
    }
    best.map(|b| b.0)
}

fn arrays_of_objects<'a>(
    o: &'a Map<String, Value>,
    prefix: &str,
    out: &mut Vec<(String, Vec<&'a Map<String, Value>>)>,
) {
    for (k, v) in o {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Array(a) => {
                let objs: Vec<_> = a.iter().filter_map(Value::as_object).collect();
                if !objs.is_empty() {
                    out.push((path, objs));
                }
            }
            Value::Object(m) => arrays_of_objects(m, &path, out),
            _ => {}
        }
    }
}

/// The value at a dotted key path in `o` (an exact key with dots wins over nesting).
pub fn lookup<'a>(o: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = o.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    match o.get(head)? {
        Value::Object(m) => lookup(m, rest),
        _ => None,
    }
}

/// One output row of a record: the item (when exploding) and the record.
#[derive(Debug, Clone, Copy)]
pub struct RowCtx<'a> {
    /// The item object, when the record's items array is exploded.
    pub item: Option<&'a Map<String, Value>>,
    /// The record.
    pub record: &'a Map<String, Value>,
}

impl<'a> RowCtx<'a> {
    /// The value at `path` for this row: `ITEMS.x` in the item; any other path in the record,
    /// else in the item.
    pub fn get(&self, path: &str, items: Option<&str>) -> Option<&'a Value> {
        if let (Some(item), Some(items)) = (self.item, items) {
            if let Some(rel) = path.strip_prefix(items).and_then(|r| r.strip_prefix('.')) {
                return lookup(item, rel);
            }
            return lookup(self.record, path).or_else(|| lookup(item, path));
        }
        lookup(self.record, path)
    }
}

/// The rows of a record: one per object of its items array when `items` is set (none when the
/// array is empty or missing), else the record itself.
pub fn rows_of<'a>(record: &'a Map<String, Value>, items: Option<&str>) -> Vec<RowCtx<'a>> {
    match items {
        None => vec![RowCtx { item: None, record }],
        Some(path) => match lookup(record, path) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_object)
                .map(|item| RowCtx {
                    item: Some(item),
                    record,
                })
                .collect(),
            _ => Vec::new(),
        },
    }
}

/// The scalar key paths of a row (item keys as `ITEMS.key`, nested objects with dots; other
/// arrays left out), with their values as text, in order.
pub fn flatten(row: &RowCtx<'_>, items: Option<&str>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    flatten_into(row.record, "", items, &mut out);
    if let (Some(item), Some(items)) = (row.item, items) {
        flatten_into(item, items, None, &mut out);
    }
    out
}

fn flatten_into(
    o: &Map<String, Value>,
    prefix: &str,
    skip: Option<&str>,
    out: &mut Vec<(String, String)>,
) {
    for (k, v) in o {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if skip == Some(path.as_str()) {
            continue;
        }
        match v {
            Value::Object(m) => flatten_into(m, &path, skip, out),
            Value::Array(_) => {}
            other => {
                if let Some(t) = json_text(other) {
                    out.push((path, t));
                }
            }
        }
    }
}

/// Value of a JSON field as text (strings as is, numbers and bools printed, null → empty).
pub fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Null => Some(String::new()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDERS: &str = r#"[
  {"id": 727, "date_created_gmt": "2024-03-01T09:15:22", "customer_id": 12,
   "billing": {"email": "ann@example.com"},
   "line_items": [{"id": 315, "product_id": 93, "sku": "WOO-ALBUM", "quantity": 1},
                  {"id": 316, "product_id": 22, "sku": "WOO-BEANIE", "quantity": 2}]},
  {"id": 728, "date_created_gmt": "2024-03-02T10:00:00", "customer_id": 0,
   "billing": {"email": "bob@example.com"}, "note": "a \"quoted\" ] bracket",
   "line_items": [{"id": 317, "product_id": 93, "sku": "WOO-ALBUM", "quantity": 1}]}
]"#;

    #[test]
    fn splits_an_array_explodes_items_and_carries_order_fields() {
        let recs = array_records(ORDERS.as_bytes());
        assert_eq!(recs.len(), 2);
        let objs: Vec<Map<String, Value>> = recs
            .iter()
            .map(|r| serde_json::from_str(r).unwrap())
            .collect();
        assert_eq!(find_items(&objs).as_deref(), Some("line_items"));
        let rows = rows_of(&objs[0], Some("line_items"));
        assert_eq!(rows.len(), 2);
        let text =
            |r: &RowCtx<'_>, p: &str| r.get(p, Some("line_items")).and_then(super::json_text);
        assert_eq!(text(&rows[1], "sku").as_deref(), Some("WOO-BEANIE"));
        assert_eq!(
            text(&rows[1], "line_items.sku").as_deref(),
            Some("WOO-BEANIE")
        );
        assert_eq!(
            text(&rows[1], "id").as_deref(),
            Some("727"),
            "the record's id"
        );
        assert_eq!(text(&rows[1], "line_items.id").as_deref(), Some("316"));
        assert_eq!(
            text(&rows[1], "billing.email").as_deref(),
            Some("ann@example.com")
        );
        assert_eq!(text(&rows[1], "customer_id").as_deref(), Some("12"));
        assert!(text(&rows[1], "line_items.nope").is_none());
        let flat: Vec<String> = flatten(&rows[0], Some("line_items"))
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert!(flat.contains(&"billing.email".to_string()));
        assert!(flat.contains(&"line_items.sku".to_string()));
        assert!(!flat.contains(&"line_items".to_string()));
    }

    #[test]
    fn streaming_split_reports_lines_and_truncation() {
        let mut rdr = io::BufReader::with_capacity(7, ORDERS.as_bytes());
        let mut sp = ArraySplitter::new();
        let mut buf = Vec::new();
        let (line, _) = sp.next_record(&mut rdr, &mut buf).unwrap().unwrap();
        assert_eq!(line, 2);
        assert!(buf.starts_with(b"{\"id\": 727"));
        assert!(buf.ends_with(b"]}"));
        let (line, _) = sp.next_record(&mut rdr, &mut buf).unwrap().unwrap();
        assert_eq!(line, 6);
        assert!(sp.next_record(&mut rdr, &mut buf).unwrap().is_none());
        let cut = &ORDERS.as_bytes()[..60];
        let mut rdr = io::BufReader::new(cut);
        let mut sp = ArraySplitter::new();
        assert!(sp.next_record(&mut rdr, &mut buf).is_err());
        assert!(is_array(b" \n [{}]"));
        assert!(!is_array(b"{\"a\":1}\n"));
    }
}
