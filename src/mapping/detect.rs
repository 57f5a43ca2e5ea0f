//! Detection: from a bounded sample (the first 64 KiB, at most 200 lines) guess the format,
//! encoding, delimiter, header row and the role of every column, and propose a [`Mapping`].

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use super::json::json_text;
pub use super::normalize_name;
use super::time::{DateOrder, Fields, is_service_format, parse_fields};
use super::{Mapping, Source, column_letter};
use crate::read::Format;

/// Bytes read for detection.
pub const SAMPLE_BYTES: usize = 64 * 1024;
/// Lines looked at for detection.
pub const SAMPLE_LINES: usize = 200;
/// Data rows kept in [`Detection::sample`].
pub const SAMPLE_ROWS: usize = 20;

/// What a column (or JSON key) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Groups the products bought together.
    OrderId,
    /// The product.
    Identity,
    /// The buyer.
    UserId,
    /// The purchase time.
    CreatedAt,
    /// Anything else (price, quantity, name…).
    Other,
}

impl Role {
    /// Short name: `order`, `identity`, `user`, `created_at`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::OrderId => "order",
            Role::Identity => "identity",
            Role::UserId => "user",
            Role::CreatedAt => "created_at",
            Role::Other => "other",
        }
    }
}

/// Day-first vs month-first, as decided from the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayMonth {
    /// A first part > 12 was seen: `22/04/2023`.
    DayFirst,
    /// A second part > 12 was seen: `04/22/2023`.
    MonthFirst,
    /// No value tells; the user must choose (the mapping assumes day first).
    Undecided,
    /// The timestamps are not in a day/month form (ISO, epoch) or there are none.
    NotApplicable,
}

/// The guess for one column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnGuess {
    /// The role.
    pub role: Role,
    /// 0.0–1.0.
    pub confidence: f32,
    /// For timestamps: the detected format (`%d/%m/%Y %H:%M`, `epoch_ms`, …).
    pub time_format: Option<String>,
    /// The header name (CSV with a header) or the key (JSON lines).
    pub name: Option<String>,
    /// Why: plain words (`header "Order ID"`, `95% of values look like /p/ paths`).
    pub reason: String,
}

/// The result of looking at a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// CSV or JSON lines.
    pub format: Format,
    /// The CSV delimiter (`,` for JSON lines).
    pub delimiter: char,
    /// Whether the first CSV row is a header.
    pub header: bool,
    /// Header names (CSV with a header), keys in first-seen order (JSON lines), else empty.
    pub headers: Vec<String>,
    /// The first ≤ 20 data rows, split into fields (JSON: values in `headers` order).
    pub sample: Vec<Vec<String>>,
    /// One guess per column / key.
    pub columns: Vec<ColumnGuess>,
    /// The best-guess mapping.
    pub mapping: Mapping,
    /// Already in the documented layout: nothing to convert.
    pub fits: bool,
    /// Day/month order of the timestamps.
    pub day_month: DayMonth,
    /// The shape key saved mappings are looked up by.
    pub shape: String,
    /// The quote character.
    pub quote: char,
    /// `utf-8`, `utf-8 with BOM`, `utf-16le`, `utf-16be` or `unknown`.
    pub encoding: String,
    /// Whether the file starts with a UTF-8 byte-order mark.
    pub bom: bool,
    /// Remarks for the user (undecided day/month, missing roles…).
    pub notes: Vec<String>,
    /// Other columns that could have served a role, and why the chosen one won: (role, column
    /// index, why it lost), per role in the order identity, order, user, created_at.
    pub alternatives: Vec<(Role, usize, String)>,
}

impl Detection {
    /// Number of columns (CSV) or keys (JSON).
    pub fn column_count(&self) -> usize {
        self.columns.len()
    }

    /// Column label: `A`… for CSV, the key for JSON.
    pub fn label(&self, i: usize) -> String {
        match self.format {
            Format::Json => self
                .headers
                .get(i)
                .cloned()
                .unwrap_or_else(|| column_letter(i)),
            Format::Csv => column_letter(i),
        }
    }

    /// Live preview of the first `n` sample rows under `m` (CSV columns, header names and
    /// JSON keys all resolve): see [`super::convert::preview`].
    pub fn preview(&self, m: &Mapping, n: usize) -> Vec<Result<[String; 4], String>> {
        super::convert::preview_keyed(&self.headers, &self.sample, m, n)
    }

    /// The index a source refers to in `sample` rows.
    pub fn index_of(&self, s: &Source) -> Option<usize> {
        match s {
            Source::Column(i) => Some(*i),
            Source::Key(k) => self.headers.iter().position(|h| h == k),
        }
    }
}

/// A letter of Central and Western European alphabets without its diacritics (`č` → `c`,
/// `ß` → `s`), for matching header names written in the shop's language.
fn fold_letter(c: char) -> char {
    match c {
        'á' | 'ä' | 'à' | 'â' | 'ą' | 'ã' | 'å' => 'a',
        'č' | 'ć' | 'ç' => 'c',
        'ď' => 'd',
        'é' | 'ě' | 'ë' | 'è' | 'ê' | 'ę' => 'e',
        'í' | 'ï' | 'î' | 'ì' => 'i',
        'ĺ' | 'ľ' | 'ł' => 'l',
        'ň' | 'ń' | 'ñ' => 'n',
        'ó' | 'ô' | 'ö' | 'ő' | 'ò' | 'õ' => 'o',
        'ŕ' | 'ř' => 'r',
        'š' | 'ś' | 'ß' => 's',
        'ť' => 't',
        'ú' | 'ů' | 'ü' | 'ű' | 'ù' | 'û' => 'u',
        'ý' | 'ÿ' => 'y',
        'ž' | 'ź' | 'ż' => 'z',
        c => c,
    }
}

/// Whether a name is one of the exact synonyms (`order_id`, `sku`, `customer_id`, `created_at`)
/// rather than a name that merely contains a word.
fn name_is_exact(name: &str) -> bool {
    let joined: String = normalize_name(name)
        .chars()
        .map(fold_letter)
        .filter(|c| *c != '_')
        .collect();
    [
        "orderid",
        "sessionid",
        "invoiceid",
        "transactionid",
        "identity",
        "url",
        "sku",
        "productid",
        "userid",
        "authuserid",
        "customerid",
        "clientid",
        "createdat",
        "timestamp",
    ]
    .contains(&joined.as_str())
}

/// The role a header name suggests, by synonyms (case- and punctuation-insensitive; English,
/// and the common words of Slovak, Czech, German, Polish, Hungarian, French, Spanish and
/// Italian exports, diacritics ignored).
pub fn role_from_name(name: &str) -> Option<Role> {
    let n: String = normalize_name(name).chars().map(fold_letter).collect();
    if n.is_empty() {
        return None;
    }
    let words: Vec<&str> = n.split('_').collect();
    let has = |w: &[&str]| words.iter().any(|x| w.contains(x));
    let joined = n.replace('_', "");
    let exact = |w: &[&str]| w.contains(&joined.as_str());
    if exact(&[
        "orderid",
        "sessionid",
        "invoiceid",
        "transactionid",
        "basketid",
        "cartid",
        "order",
    ]) {
        return Some(Role::OrderId);
    }
    if exact(&[
        "identity",
        "url",
        "sku",
        "productid",
        "itemid",
        "productcode",
        "itemcode",
    ]) {
        return Some(Role::Identity);
    }
    if exact(&[
        "userid",
        "authuserid",
        "customerid",
        "clientid",
        "user",
        "customer",
    ]) {
        return Some(Role::UserId);
    }
    if exact(&["createdat", "ts", "timestamp", "datetime", "date", "time"]) {
        return Some(Role::CreatedAt);
    }
    if has(&[
        "price",
        "qty",
        "quantity",
        "amount",
        "total",
        "name",
        "title",
        "description",
        "desc",
        "currency",
        "count",
        "status",
        "category",
        "brand",
        "discount",
        "tax",
        "vat",
        // other languages: price, quantity, name, amount, status…
        "cena",
        "mnozstvo",
        "mnozstvi",
        "pocet",
        "ks",
        "nazov",
        "nazev",
        "popis",
        "stav",
        "suma",
        "preis",
        "menge",
        "anzahl",
        "bezeichnung",
        "betrag",
        "ilosc",
        "nazwa",
        "ar",
        "mennyiseg",
        "nev",
        "prix",
        "quantite",
        "nom",
        "precio",
        "cantidad",
        "nombre",
        "prezzo",
        "quantita",
        "nome",
    ]) {
        return None;
    }
    if has(&[
        "date",
        "time",
        "timestamp",
        "created",
        "ts",
        "datetime",
        "purchased",
        "when",
        "datum",
        "cas",
        "zeit",
        "fecha",
        "datumu",
        "datumy",
        "idopont",
    ]) || exact(&["data"])
        || joined.contains("timestamp")
        || joined.contains("date")
    {
        return Some(Role::CreatedAt);
    }
    if has(&[
        "customer",
        "user",
        "client",
        "buyer",
        "email",
        "member",
        "account",
        "zakaznik",
        "zakaznika",
        "kunde",
        "kunden",
        "kundennummer",
        "klient",
        "klienta",
        "vevo",
        "cliente",
    ]) {
        return Some(Role::UserId);
    }
    if has(&[
        "sku",
        "product",
        "item",
        "url",
        "identity",
        "ean",
        "article",
        "variant",
        "gtin",
        "isbn",
        "produkt",
        "produktu",
        "tovar",
        "tovaru",
        "zbozi",
        "artikel",
        "artikelnummer",
        "towar",
        "termek",
        "produit",
        "producto",
        "prodotto",
        "articolo",
    ]) {
        return Some(Role::Identity);
    }
    if has(&[
        "order",
        "session",
        "invoice",
        "transaction",
        "basket",
        "cart",
        "receipt",
        "txn",
        "objednavka",
        "objednavky",
        "bestellung",
        "bestellnummer",
        "auftrag",
        "zamowienie",
        "zamowienia",
        "rendeles",
        "commande",
        "pedido",
        "ordine",
        "faktura",
        "doklad",
    ]) {
        return Some(Role::OrderId);
    }
    None
}

/// Detect the layout of the file at `path` from its first 64 KiB (≤ 200 lines).
pub fn detect_path(path: &Path) -> std::io::Result<Detection> {
    detect_path_with(path, &Hints::default())
}

/// Settings the user forced; detection works around them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    /// Use this delimiter.
    pub delimiter: Option<char>,
    /// The first row is (true) / is not (false) a header.
    pub header: Option<bool>,
    /// Read the file in this encoding (else found from its first bytes).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// JSON: explode this array of products in each record (else found from the records).
    pub items: Option<String>,
}

/// [`detect_path`] with forced settings.
pub fn detect_path_with(path: &Path, hints: &Hints) -> std::io::Result<Detection> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = Vec::with_capacity(SAMPLE_BYTES);
    (&mut f).take(SAMPLE_BYTES as u64).read_to_end(&mut buf)?;
    let complete = buf.len() < SAMPLE_BYTES;
    let ext_json = crate::spec::format_hint_from_extension(path) == Some(Format::Json);
    let mut d = detect_bytes_with(&buf, complete, ext_json, hints);
    if !complete && d.day_month == DayMonth::Undecided {
        let size = f.metadata()?.len();
        settle_day_month(&mut d, &mut f, size)?;
    }
    Ok(d)
}

/// Pieces read spread evenly over a file, for what its head cannot settle (exports are sorted
/// by date: the first lines of a month-first export are all ambiguous while a line of
/// 13 March further down settles it). 64 × 64 KiB: 4 MiB of any file.
const SPREAD_CHUNKS: u64 = 64;
const SPREAD_CHUNK_BYTES: u64 = 64 * 1024;

/// Whole lines of [`SPREAD_CHUNKS`] pieces spread over the file (the partial first and last
/// line of each piece dropped).
fn spread_lines(f: &mut std::fs::File, size: u64) -> std::io::Result<Vec<String>> {
    use std::io::{Seek, SeekFrom};
    let mut lines = Vec::new();
    let mut buf = Vec::with_capacity(SPREAD_CHUNK_BYTES as usize);
    for k in 0..SPREAD_CHUNKS {
        let at = size / SPREAD_CHUNKS * k;
        f.seek(SeekFrom::Start(at))?;
        buf.clear();
        (&mut *f).take(SPREAD_CHUNK_BYTES).read_to_end(&mut buf)?;
        let text = String::from_utf8_lossy(&buf);
        let mut it = text.split('\n');
        if at > 0 {
            it.next(); // partial first line
        }
        let mut piece: Vec<&str> = it.collect();
        piece.pop(); // partial (or empty) last line
        lines.extend(
            piece
                .into_iter()
                .map(|l| l.trim_end_matches('\r').to_string()),
        );
    }
    Ok(lines)
}

/// Decide day/month order of a CSV created_at column from a sample spread over the whole
/// file, when the head had no day or month above 12. The deciding value is named in a note.
fn settle_day_month(d: &mut Detection, f: &mut std::fs::File, size: u64) -> std::io::Result<()> {
    let Some(Source::Column(col)) = d.mapping.created_at.clone() else {
        return Ok(());
    };
    if d.format != Format::Csv {
        return Ok(());
    }
    let lines = spread_lines(f, size)?;
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let delim = u8::try_from(d.delimiter).unwrap_or(b',');
    let (mut day_first, mut month_first): (Option<String>, Option<String>) = (None, None);
    for r in split_rows(&refs, delim) {
        let Some(v) = r.get(col).map(|v| v.trim()) else {
            continue;
        };
        let Some(fl) = parse_fields(v.as_bytes()) else {
            continue;
        };
        if fl.a_digits > 2 {
            continue;
        }
        if fl.a > 12 && fl.b <= 12 && day_first.is_none() {
            day_first = Some(v.to_string());
        }
        if fl.b > 12 && fl.a <= 12 && month_first.is_none() {
            month_first = Some(v.to_string());
        }
    }
    let (order, dm, evidence) = match (day_first, month_first) {
        (Some(v), None) => (DateOrder::Dmy, DayMonth::DayFirst, v),
        (None, Some(v)) => (DateOrder::Mdy, DayMonth::MonthFirst, v),
        (Some(a), Some(b)) => {
            d.notes.push(format!(
                "day/month order: both {a:?} (day first) and {b:?} (month first) occur in the \
                 file; set the time format"
            ));
            return Ok(());
        }
        (None, None) => return Ok(()),
    };
    let first = d
        .sample
        .iter()
        .filter_map(|r| r.get(col))
        .find_map(|v| parse_fields(v.trim().as_bytes()));
    let Some(first) = first else {
        return Ok(());
    };
    let fmt = first.pattern(order);
    d.day_month = dm;
    d.mapping.time_format = Some(fmt.clone());
    if let Some(c) = d.columns.get_mut(col) {
        c.time_format = Some(fmt);
    }
    d.notes.retain(|n| !n.contains("day/month"));
    d.notes.push(format!(
        "day/month order: {} — the head of the file is ambiguous; {evidence:?}, further down, \
         settles it (a sample spread over the whole file)",
        if dm == DayMonth::DayFirst {
            "day first"
        } else {
            "month first"
        }
    ));
    Ok(())
}

/// Detect from bytes already read. `complete`: `bytes` is the whole file (else the last
/// partial line is ignored). `json_hint`: the extension says JSON lines.
pub fn detect_bytes(bytes: &[u8], complete: bool, json_hint: bool) -> Detection {
    detect_bytes_with(bytes, complete, json_hint, &Hints::default())
}

/// [`detect_bytes`] with forced settings.
pub fn detect_bytes_with(
    bytes: &[u8],
    complete: bool,
    json_hint: bool,
    hints: &Hints,
) -> Detection {
    let sniffed = match hints.encoding {
        Some(e) => super::encoding::Sniffed {
            encoding: e,
            evidence: "--encoding",
        },
        None => super::encoding::sniff(bytes, complete),
    };
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let mut body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // A JSON array is split into records by its own syntax (a truncated last record is left
    // out), not by lines: an API's compact array is one line longer than the sample.
    let array_head = super::json::is_array(body);
    if !complete && sniffed.is_utf8() && !array_head {
        // only whole lines: a first line longer than the sample gives nothing to sample
        body = memchr::memrchr(b'\n', body).map_or(&[][..], |p| &body[..=p]);
    }
    let text: String = if sniffed.is_utf8() {
        String::from_utf8_lossy(body).into_owned()
    } else {
        let mut t = super::encoding::decode(bytes, sniffed.encoding);
        if !complete
            && !array_head
            && let Some(p) = t.rfind('\n')
        {
            t.truncate(p + 1);
        }
        t
    };
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(SAMPLE_LINES)
        .collect();
    let first = lines.first().map(|l| l.trim_start()).unwrap_or("");
    let array = super::json::is_array(text.as_bytes());
    let records;
    let mut d = if array {
        // a JSON array (an API dump): its records, however they are laid out on lines
        records = super::json::array_records(text.as_bytes());
        let refs: Vec<&str> = records
            .iter()
            .map(String::as_str)
            .take(SAMPLE_LINES)
            .collect();
        let mut d = detect_json(&refs, hints.items.as_deref());
        d.fits = false;
        d.notes.push(format!(
            "a JSON array of {} records in the sample: converted to the documented CSV",
            refs.len()
        ));
        d
    } else if first.starts_with('{') || json_hint {
        detect_json(&lines, hints.items.as_deref())
    } else {
        detect_csv(&lines, hints)
    };
    d.bom = bom;
    if sniffed.is_utf8() {
        d.encoding = if bom { "utf-8 with BOM" } else { "utf-8" }.to_string();
    } else {
        d.encoding = sniffed.describe();
        let name = sniffed.encoding.name().to_ascii_lowercase();
        d.notes.push(format!(
            "the file is {}: it is read as such and the output is UTF-8{}",
            d.encoding,
            if sniffed.evidence == "guessed" {
                " (a guess: --encoding sets it)"
            } else {
                ""
            }
        ));
        d.mapping.encoding = Some(name);
        d.fits = false;
    }
    d
}

fn split_rows(lines: &[&str], delim: u8) -> Vec<Vec<String>> {
    let joined = lines.join("\n");
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .from_reader(joined.as_bytes());
    let mut rows = Vec::new();
    let mut rec = csv::StringRecord::new();
    while let Ok(true) = rdr.read_record(&mut rec) {
        rows.push(rec.iter().map(str::to_string).collect());
    }
    rows
}

fn pick_delimiter(lines: &[&str]) -> u8 {
    let mut best = (b',', f64::MIN);
    for d in [b',', b';', b'\t', b'|'] {
        let rows = split_rows(lines, d);
        if rows.is_empty() {
            continue;
        }
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for r in &rows {
            *counts.entry(r.len()).or_default() += 1;
        }
        let (modal, n) = counts
            .iter()
            .max_by_key(|(len, n)| (**n, **len))
            .map(|(a, b)| (*a, *b))
            .unwrap_or((1, 0));
        if modal < 2 {
            continue;
        }
        let consistency = n as f64 / rows.len() as f64;
        // consistency first, then more columns; comma wins ties (documented layout)
        let score = consistency * 100.0 + (modal as f64).min(30.0) * 0.5
            - if d == b',' { 0.0 } else { 0.01 };
        if score > best.1 {
            best = (d, score);
        }
    }
    best.0
}

/// Statistics of one column's values.
#[derive(Debug, Default, Clone)]
struct ColStats {
    nonempty: usize,
    ints: usize,
    paths: usize,
    urls: usize,
    skus: usize,
    emails: usize,
    decimals: usize,
    words: usize,
    ts_fields: usize,
    ts_service: usize,
    epoch_s: usize,
    epoch_ms: usize,
    epoch_us: usize,
    epoch_ns: usize,
    first_gt12: usize,
    second_gt12: usize,
    ymd: usize,
    distinct: usize,
    adjacent_repeats: usize,
    leading_zero: usize,
    first_fields: Option<Fields>,
}

fn col_stats(values: &[&str]) -> ColStats {
    let mut s = ColStats::default();
    let mut seen = std::collections::HashSet::new();
    let mut prev: Option<&str> = None;
    for v in values {
        let v = v.trim();
        if v.is_empty() {
            prev = None;
            continue;
        }
        s.nonempty += 1;
        if seen.insert(v) {
            s.distinct += 1;
        }
        if prev == Some(v) {
            s.adjacent_repeats += 1;
        }
        prev = Some(v);
        let b = v.as_bytes();
        let digits = b.iter().all(u8::is_ascii_digit);
        if digits {
            s.ints += 1;
            if b.len() > 1 && b[0] == b'0' {
                s.leading_zero += 1;
            }
            if b.len() == 10 && (&b"0946684800"[..]..=&b"4102444800"[..]).contains(&b) {
                s.epoch_s += 1;
            }
            if b.len() == 13 && (&b"0946684800000"[..]..=&b"4102444800000"[..]).contains(&b) {
                s.epoch_ms += 1;
            }
            if b.len() == 16 && (&b"0946684800000000"[..]..=&b"4102444800000000"[..]).contains(&b) {
                s.epoch_us += 1;
            }
            if b.len() == 19
                && (&b"0946684800000000000"[..]..=&b"4102444800000000000"[..]).contains(&b)
            {
                s.epoch_ns += 1;
            }
        }
        if v.starts_with('/') {
            s.paths += 1;
        }
        if v.starts_with("http://") || v.starts_with("https://") {
            s.urls += 1;
        }
        if v.contains('@') && v.contains('.') && !v.contains(' ') {
            s.emails += 1;
        }
        let dec = v.replace(',', ".");
        if !digits && dec.parse::<f64>().is_ok() {
            s.decimals += 1;
        }
        if v.contains(' ') && !v.bytes().any(|c| c.is_ascii_digit()) {
            s.words += 1;
        }
        if !digits
            && !v.contains(' ')
            && b.iter().any(u8::is_ascii_digit)
            && b.iter().any(u8::is_ascii_alphabetic)
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        {
            s.skus += 1;
        }
        if let Some(f) = parse_fields(b) {
            let ok = if f.a_digits == 4 {
                f.naive(DateOrder::Ymd).is_some()
            } else {
                f.naive(DateOrder::Dmy).is_some() || f.naive(DateOrder::Mdy).is_some()
            };
            if ok {
                s.ts_fields += 1;
                if f.a_digits == 4 {
                    s.ymd += 1;
                } else {
                    if f.a > 12 {
                        s.first_gt12 += 1;
                    }
                    if f.b > 12 {
                        s.second_gt12 += 1;
                    }
                }
                if is_service_format(v) {
                    s.ts_service += 1;
                }
                if s.first_fields.is_none() {
                    s.first_fields = Some(f);
                }
            }
        }
    }
    s
}

impl ColStats {
    fn rate(&self, k: usize) -> f32 {
        if self.nonempty == 0 {
            0.0
        } else {
            k as f32 / self.nonempty as f32
        }
    }

    /// (confidence, format, day/month) if this looks like a timestamp column.
    fn timestamp(&self) -> Option<(f32, String, DayMonth)> {
        self.timestamp_at(0.8)
    }

    /// [`ColStats::timestamp`] with the share of values that must parse.
    fn timestamp_at(&self, min: f32) -> Option<(f32, String, DayMonth)> {
        if self.nonempty == 0 {
            return None;
        }
        let ts = self.rate(self.ts_fields);
        let es = self.rate(self.epoch_s);
        let ems = self.rate(self.epoch_ms);
        let eus = self.rate(self.epoch_us);
        let ens = self.rate(self.epoch_ns);
        if ts >= min && ts > 0.0 {
            let f = self.first_fields?;
            let (order, dm) = if f.a_digits == 4 {
                (DateOrder::Ymd, DayMonth::NotApplicable)
            } else if self.first_gt12 > 0 && self.second_gt12 == 0 {
                (DateOrder::Dmy, DayMonth::DayFirst)
            } else if self.second_gt12 > 0 && self.first_gt12 == 0 {
                (DateOrder::Mdy, DayMonth::MonthFirst)
            } else {
                (DateOrder::Dmy, DayMonth::Undecided)
            };
            let fmt = if order == DateOrder::Ymd && f.offset.is_some() {
                "iso8601".to_string()
            } else {
                f.pattern(order)
            };
            return Some((ts.min(0.97), fmt, dm));
        }
        if ens >= min && ens > 0.0 {
            return Some((ens.min(0.95), "epoch_ns".into(), DayMonth::NotApplicable));
        }
        if eus >= min && eus > 0.0 {
            return Some((eus.min(0.95), "epoch_us".into(), DayMonth::NotApplicable));
        }
        if ems >= min && ems > 0.0 {
            return Some((ems.min(0.95), "epoch_ms".into(), DayMonth::NotApplicable));
        }
        if es >= min && es > 0.0 {
            return Some((es.min(0.9), "epoch_s".into(), DayMonth::NotApplicable));
        }
        None
    }

    /// A different value on every row of a sample big enough to tell: a row or line-item id,
    /// never a product identity (no product would be bought twice).
    fn unique_per_row(&self) -> bool {
        self.nonempty >= 20 && self.distinct == self.nonempty
    }

    /// So few distinct values that it is a quantity, a flag or a status, not a user id.
    fn few_values(&self) -> bool {
        self.nonempty >= 20 && self.distinct <= 3
    }

    fn id_like(&self) -> bool {
        self.nonempty > 0
            && self.rate(self.words) < 0.3
            && self.rate(self.decimals) < 0.5
            && self.rate(self.ts_fields) < 0.5
    }
}

/// Columns (not yet given a role) compared pairwise when looking for the order id.
const PAIRWISE_COLUMNS: usize = 64;

/// Whether value in column `a` determines the value in column `b` (same a → same b) on
/// rows where both are set, and `a` repeats at least once.
fn determines(rows: &[Vec<String>], a: usize, b: usize) -> (bool, usize) {
    let mut map: HashMap<&str, &str> = HashMap::new();
    let mut repeats = 0;
    for r in rows {
        let (Some(x), Some(y)) = (r.get(a), r.get(b)) else {
            continue;
        };
        let (x, y) = (x.trim(), y.trim());
        if x.is_empty() {
            continue;
        }
        match map.get(x) {
            Some(prev) => {
                repeats += 1;
                if *prev != y {
                    return (false, repeats);
                }
            }
            None => {
                map.insert(x, y);
            }
        }
    }
    (true, repeats)
}

fn looks_like_header(row: &[String], data: &[Vec<String>], stats: &[ColStats]) -> (bool, usize) {
    let mut synonyms = 0;
    let mut wordy = 0;
    let mut data_like = 0;
    for (i, cell) in row.iter().enumerate() {
        let c = cell.trim().trim_start_matches('\u{feff}');
        if role_from_name(c).is_some() {
            synonyms += 1;
        }
        let b = c.as_bytes();
        let has_alpha = b.iter().any(u8::is_ascii_alphabetic);
        // A name with a digit (`Billing Address1`, `Tax 1 Name`, `Address 1&2 (Billing)`) is
        // still a name; a digit makes a cell data only when the cell is shaped like an id
        // (no space, few letters: `A-1000`, `SKU123` above a column of such ids).
        let id_shaped = b.iter().any(u8::is_ascii_digit)
            && role_from_name(c).is_none()
            && !c.contains(' ')
            && (b.iter().filter(|x| x.is_ascii_alphabetic()).count() <= 3
                || stats.get(i).is_some_and(|s| s.rate(s.skus) > 0.5));
        if parse_fields(b).is_some()
            || c.starts_with('/')
            || c.starts_with("http")
            || (!b.is_empty() && b.iter().all(u8::is_ascii_digit))
            || id_shaped
        {
            data_like += 1;
            continue;
        }
        if has_alpha {
            if let Some(s) = stats.get(i) {
                // a word above a column of numbers, timestamps, paths or SKUs
                if s.rate(s.ints) > 0.8
                    || s.rate(s.ts_fields) > 0.8
                    || s.rate(s.paths + s.urls) > 0.8
                    || s.rate(s.decimals) > 0.8
                    || s.rate(s.skus) > 0.8
                {
                    wordy += 2;
                    continue;
                }
            }
            wordy += 1;
        }
    }
    let _ = data;
    let cols = row.len().max(1);
    let is = data_like == 0 && (synonyms >= 1 || wordy * 2 >= cols * 2);
    (is, synonyms)
}

struct Guessed {
    columns: Vec<ColumnGuess>,
    mapping: Mapping,
    day_month: DayMonth,
    notes: Vec<String>,
    /// Per column: its statistics and how to name it (for [`alternatives`]).
    stats: Vec<ColStats>,
    labels: Vec<String>,
    rows: usize,
}

/// Most alternatives listed per role.
const ALTERNATIVES_PER_ROLE: usize = 3;

/// Columns that could have served each role the final guess fills, and why they lost: filled
/// on (nearly) every sampled row and holding values fit for the role.
fn alternatives(
    stats: &[ColStats],
    labels: &[String],
    rows: usize,
    cols: &[ColumnGuess],
) -> Vec<(Role, usize, String)> {
    let label = |i: usize| labels.get(i).cloned().unwrap_or_else(|| column_letter(i));
    let mut out = Vec::new();
    for role in [Role::Identity, Role::OrderId, Role::UserId, Role::CreatedAt] {
        let Some(won) = cols.iter().position(|c| c.role == role) else {
            continue;
        };
        let Some(w) = stats.get(won) else {
            continue;
        };
        let mut n = 0;
        for (i, s) in stats.iter().enumerate().take(cols.len()) {
            if n == ALTERNATIVES_PER_ROLE {
                break;
            }
            // an order's first line may be the only one carrying its user and time
            let filled = s.nonempty > 0
                && match role {
                    Role::UserId | Role::CreatedAt => s.nonempty * 10 >= rows * 3,
                    _ => s.nonempty * 10 >= rows * 9,
                };
            if i == won || cols[i].role != Role::Other || !filled {
                continue;
            }
            let won_why = format!("{} won: {}", label(won), cols[won].reason);
            let why = match role {
                Role::CreatedAt => s
                    .timestamp_at(0.8)
                    .map(|_| format!("also times; {won_why}")),
                Role::Identity => {
                    let product_like = s.rate(s.paths + s.urls) >= 0.6 || s.rate(s.skus) >= 0.8;
                    (product_like && s.id_like()).then(|| {
                        if s.unique_per_row() {
                            "a different value on every row: a row or line-item id, never bought \
                             twice"
                                .to_string()
                        } else if w.rate(w.paths + w.urls) >= 0.6 && s.rate(s.paths + s.urls) < 0.6
                        {
                            format!(
                                "SKU-like; {} holds product paths or URLs, which catalogs use",
                                label(won)
                            )
                        } else {
                            format!("also product-like; {won_why}")
                        }
                    })
                }
                Role::OrderId => (s.id_like()
                    && s.adjacent_repeats > 0
                    && s.distinct >= 3
                    && s.distinct * 5 >= s.nonempty
                    && s.rate(s.ints + s.skus) >= 0.8
                    && s.rate(s.ts_fields) < 0.5)
                    .then(|| format!("its values repeat on consecutive rows too; {won_why}")),
                Role::UserId => {
                    (s.rate(s.emails) >= 0.8).then(|| format!("also e-mail addresses; {won_why}"))
                }
                Role::Other => None,
            };
            if let Some(why) = why {
                out.push((role, i, why));
                n += 1;
            }
        }
    }
    out
}

fn guess_roles(
    names: Option<&[String]>,
    rows: &[Vec<String>],
    ncols: usize,
    key: impl Fn(usize) -> Source,
) -> Guessed {
    let stats: Vec<ColStats> = (0..ncols)
        .map(|i| {
            let vals: Vec<&str> = rows
                .iter()
                .map(|r| r.get(i).map_or("", String::as_str))
                .collect();
            col_stats(&vals)
        })
        .collect();
    let mut cols: Vec<ColumnGuess> = (0..ncols)
        .map(|i| ColumnGuess {
            role: Role::Other,
            confidence: 0.5,
            time_format: None,
            name: names.and_then(|n| n.get(i).cloned()),
            reason: String::new(),
        })
        .collect();
    let mut taken: HashMap<Role, usize> = HashMap::new();
    let mut day_month = DayMonth::NotApplicable;
    let mut notes = Vec::new();

    // 1. header names: exact names (`customer_id`, the last part of a key path) before names
    // that only contain a word (`billing.email`), each in file order
    if let Some(names) = names {
        let mut order: Vec<(u8, usize)> = names
            .iter()
            .enumerate()
            .take(ncols)
            .map(|(i, n)| {
                let last = n.rsplit('.').next().unwrap_or(n);
                (u8::from(!(name_is_exact(n) || name_is_exact(last))), i)
            })
            .collect();
        order.sort();
        for (_, i) in order {
            let n = &names[i];
            let Some(role) = role_from_name(n) else {
                continue;
            };
            if taken.contains_key(&role) {
                continue;
            }
            let s = &stats[i];
            // Contents first: a name is believed only when the values agree with it.
            let why_not = match role {
                _ if s.nonempty == 0 && role != Role::Other => Some("it is empty in the sample"),
                Role::OrderId | Role::Identity if s.nonempty * 10 < rows.len() * 9 => {
                    Some("it is empty on more than a tenth of the rows")
                }
                Role::CreatedAt if s.timestamp_at(0.3).is_none() => Some("its values aren't times"),
                Role::Identity | Role::OrderId | Role::UserId if s.rate(s.ts_fields) >= 0.5 => {
                    Some("its values are times")
                }
                Role::Identity if s.unique_per_row() => {
                    Some("it has a different value on every row (a row id, not a product)")
                }
                Role::UserId if s.few_values() => {
                    Some("it has at most 3 distinct values (a quantity or a flag, not a user)")
                }
                Role::UserId if s.rate(s.decimals) > 0.5 => Some("its values are decimals"),
                _ => None,
            };
            if let Some(why) = why_not {
                notes.push(format!(
                    "{n:?} is named like {} but {why}: not used for it",
                    role.as_str()
                ));
                continue;
            }
            taken.insert(role, i);
            cols[i].role = role;
            cols[i].confidence = 0.95;
            cols[i].reason = format!("header {n:?}");
        }
    }

    // 2. timestamps from content
    if !taken.contains_key(&Role::CreatedAt) {
        let best = (0..ncols)
            .filter(|i| !taken.values().any(|t| t == i))
            .filter_map(|i| stats[i].timestamp().map(|t| (i, t.0)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((i, conf)) = best {
            taken.insert(Role::CreatedAt, i);
            cols[i].role = Role::CreatedAt;
            cols[i].confidence = conf;
            cols[i].reason = format!("{:.0}% of values are timestamps", conf * 100.0);
        }
    }
    if let Some(&i) = taken.get(&Role::CreatedAt)
        && let Some((_, fmt, dm)) = stats[i].timestamp_at(0.3)
    {
        cols[i].time_format = Some(fmt.clone());
        day_month = dm;
        if dm == DayMonth::Undecided {
            notes.push(format!(
                "{}: no day or month above 12 in the sample, so day/month order is a guess (day first); set the time format if it's month first",
                cols[i].name.clone().unwrap_or_else(|| column_letter(i))
            ));
        }
    }

    // 3. identity from content: paths/URLs, then SKUs
    if !taken.contains_key(&Role::Identity) {
        let free: Vec<usize> = (0..ncols)
            .filter(|i| !taken.values().any(|t| t == i))
            .collect();
        let by_path = free
            .iter()
            .map(|&i| (i, stats[i].rate(stats[i].paths + stats[i].urls)))
            .filter(|(_, r)| *r >= 0.6)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        // SKU-like columns: prefer many distinct values that don't repeat row to row (order
        // ids repeat), then the documented position
        let by_sku = free
            .iter()
            .map(|&i| (i, stats[i].rate(stats[i].skus)))
            .filter(|(_, r)| *r >= 0.8)
            .max_by(|a, b| {
                let score = |(i, r): (usize, f32)| {
                    let s = &stats[i];
                    r + s.rate(s.distinct) * 0.2
                        - s.rate(s.adjacent_repeats) * 0.3
                        - if s.unique_per_row() { 0.5 } else { 0.0 }
                        - (i as f32 - 1.0).abs() * 0.001
                };
                score(*a).total_cmp(&score(*b))
            });
        if let Some((i, r)) = by_path {
            taken.insert(Role::Identity, i);
            cols[i].role = Role::Identity;
            cols[i].confidence = (0.5 + r * 0.45).min(0.95);
            cols[i].reason = format!("{:.0}% of values are /p/ paths or URLs", r * 100.0);
        } else if let Some((i, r)) = by_sku {
            taken.insert(Role::Identity, i);
            cols[i].role = Role::Identity;
            cols[i].confidence = 0.4 + r * 0.3;
            cols[i].reason = format!("{:.0}% of values look like SKUs", r * 100.0);
        }
    }

    // 4. order / user among the remaining id-like columns
    let free: Vec<usize> = (0..ncols)
        .filter(|i| !taken.values().any(|t| t == i))
        .filter(|&i| stats[i].id_like())
        .collect();
    if !taken.contains_key(&Role::UserId) && stats.iter().any(|s| s.emails > 0) {
        let best = free
            .iter()
            .copied()
            .find(|&i| stats[i].rate(stats[i].emails) >= 0.8);
        if let Some(i) = best {
            taken.insert(Role::UserId, i);
            cols[i].role = Role::UserId;
            cols[i].confidence = 0.8;
            cols[i].reason = "values are e-mail addresses".into();
        }
    }
    let free: Vec<usize> = free
        .into_iter()
        .filter(|i| !taken.values().any(|t| t == i))
        .collect();
    if !taken.contains_key(&Role::OrderId) {
        // the order column repeats (several products per order) and determines the user; it is
        // filled on (nearly) every row and has more than one value — a sparse column (an
        // order-level field given on an order's first line only) or a constant is no order id.
        // Pairs of columns are compared: at most the first 64 candidates, so that a file with
        // thousands of columns is detected in linear time.
        let candidates: Vec<usize> = free
            .iter()
            .copied()
            .filter(|&i| {
                let s = &stats[i];
                s.nonempty * 10 >= rows.len() * 9 && (rows.len() < 3 || s.distinct >= 2)
            })
            .take(PAIRWISE_COLUMNS)
            .collect();
        let candidates = &candidates[..];
        let mut best: Option<(usize, f32)> = None;
        for &i in candidates {
            let s = &stats[i];
            let mut score = 0.3 + s.rate(s.adjacent_repeats) * 0.5;
            if let Some(&u) = taken.get(&Role::UserId) {
                let (det, _) = determines(rows, i, u);
                score += if det { 0.15 } else { -0.2 };
            }
            for &j in candidates {
                if j != i {
                    let (ij, _) = determines(rows, i, j);
                    let (ji, _) = determines(rows, j, i);
                    if ij && !ji {
                        score += 0.1;
                    } else if ji && !ij {
                        score -= 0.1;
                    }
                }
            }
            // documented position breaks ties
            score -= i as f32 * 0.001;
            if best.is_none_or(|b| score > b.1) {
                best = Some((i, score));
            }
        }
        if let Some((i, score)) = best {
            taken.insert(Role::OrderId, i);
            cols[i].role = Role::OrderId;
            cols[i].confidence = score.clamp(0.3, 0.9);
            cols[i].reason = if stats[i].adjacent_repeats > 0 {
                "values repeat on consecutive rows (products of one order)".into()
            } else {
                "id-like values".into()
            };
        }
    }
    if !taken.contains_key(&Role::Identity) {
        // a remaining id-like column with many distinct values, but not one per row
        let best = free
            .iter()
            .copied()
            .filter(|i| !taken.values().any(|t| t == i))
            .max_by(|&a, &b| {
                (!stats[a].unique_per_row())
                    .cmp(&!stats[b].unique_per_row())
                    .then(stats[a].distinct.cmp(&stats[b].distinct))
                    .then(b.cmp(&a))
            });
        if let Some(i) = best {
            taken.insert(Role::Identity, i);
            cols[i].role = Role::Identity;
            cols[i].confidence = 0.4;
            cols[i].reason = "id-like values with many distinct values".into();
        }
    }
    if !taken.contains_key(&Role::UserId)
        && let Some(&o) = taken.get(&Role::OrderId)
    {
        let best = free
            .iter()
            .copied()
            .filter(|i| !taken.values().any(|t| t == i))
            .find(|&j| {
                let s = &stats[j];
                determines(rows, o, j).0
                    && (s.ints + s.skus + s.emails) * 2 >= s.nonempty
                    && !s.few_values()
            });
        if let Some(i) = best {
            taken.insert(Role::UserId, i);
            cols[i].role = Role::UserId;
            cols[i].confidence = 0.5;
            cols[i].reason = "id-like values, one per order".into();
        }
    }
    for (i, c) in cols.iter_mut().enumerate() {
        if c.role == Role::Other {
            c.confidence = 0.5;
            c.reason = if c.name.is_some() {
                "no known name".into()
            } else {
                "not needed".into()
            };
        }
        if c.role != Role::CreatedAt
            && matches!(c.role, Role::OrderId | Role::UserId | Role::Identity)
            && stats[i].leading_zero > 0
        {
            c.reason.push_str("; leading zeros kept");
        }
    }

    let order = taken.get(&Role::OrderId).copied();
    let identity = taken.get(&Role::Identity).copied();
    if let Some(i) = identity
        && stats[i].unique_per_row()
    {
        notes.push(format!(
            "identity {} has a different value on every row of the sample: no product would be \
             bought twice (is it a line-item id?)",
            cols[i].name.clone().unwrap_or_else(|| column_letter(i))
        ));
    }
    if order.is_none() {
        notes.push(format!(
            "no order id column found; assuming column {} (the first one no other role uses)",
            column_letter(
                (0..ncols.max(2))
                    .find(|i| !taken.values().any(|t| t == i))
                    .unwrap_or(0)
            )
        ));
    }
    if identity.is_none() {
        notes.push(format!(
            "no identity column found; assuming column {} (the first one no other role uses)",
            column_letter(
                (0..ncols.max(2))
                    .find(|i| *i != order.unwrap_or(0) && !taken.values().any(|t| t == i))
                    .unwrap_or(1)
            )
        ));
    }
    // a fallback order id is a column no other role took
    let order_i = order.unwrap_or_else(|| {
        (0..ncols.max(2))
            .find(|i| !taken.values().any(|t| t == i))
            .unwrap_or(0)
    });
    // a fallback identity is a column no other role took
    let identity_i = identity.unwrap_or_else(|| {
        (0..ncols.max(2))
            .find(|i| *i != order_i && !taken.values().any(|t| t == i))
            .unwrap_or(if order_i == 1 { 0 } else { 1 })
    });
    let created = taken.get(&Role::CreatedAt).copied();
    let mapping = Mapping {
        delimiter: ',',
        header: false,
        order_id: key(order_i),
        identity: key(identity_i),
        user_id: taken.get(&Role::UserId).map(|&i| key(i)),
        created_at: created.map(&key),
        time_format: created.and_then(|i| cols[i].time_format.clone()),
        time_zone: None,
        encoding: None,
        items: None,
    };
    let labels = (0..ncols)
        .map(|i| match key(i) {
            Source::Key(k) => k,
            Source::Column(_) => match &cols[i].name {
                Some(n) => format!("{} {n:?}", column_letter(i)),
                None => column_letter(i),
            },
        })
        .collect();
    Guessed {
        columns: cols,
        mapping,
        day_month,
        notes,
        stats,
        labels,
        rows: rows.len(),
    }
}

fn delimiter_name(d: char) -> &'static str {
    match d {
        ',' => "comma",
        ';' => "semicolon",
        '\t' => "tab",
        '|' => "pipe",
        _ => "other",
    }
}

/// The shape key: format, delimiter, column count and normalised header names.
pub fn shape_key(format: Format, delimiter: char, columns: usize, headers: &[String]) -> String {
    let names: Vec<String> = headers.iter().map(|h| normalize_name(h)).collect();
    match format {
        Format::Csv => format!(
            "csv;{};{};{}",
            delimiter_name(delimiter),
            columns,
            names.join(",")
        ),
        Format::Json => {
            let mut names = names;
            names.sort();
            format!("json;{};{}", columns, names.join(","))
        }
    }
}

fn detect_csv(lines: &[&str], hints: &Hints) -> Detection {
    let delim = match hints.delimiter.and_then(|c| u8::try_from(c).ok()) {
        Some(d) => d,
        None => pick_delimiter(lines),
    };
    let rows = split_rows(lines, delim);
    let ncols = {
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for r in &rows {
            *counts.entry(r.len()).or_default() += 1;
        }
        counts
            .into_iter()
            .max_by_key(|(len, n)| (*n, *len))
            .map_or(0, |(l, _)| l)
    };
    let header_stats: Vec<ColStats> = (0..ncols)
        .map(|i| {
            let vals: Vec<&str> = rows
                .iter()
                .skip(1)
                .map(|r| r.get(i).map_or("", String::as_str))
                .collect();
            col_stats(&vals)
        })
        .collect();
    let (header, _) = match (hints.header, rows.first()) {
        (Some(h), _) => (h && !rows.is_empty(), 0),
        (None, r) => match r {
            Some(r) if rows.len() > 1 => looks_like_header(r, &rows[1..], &header_stats),
            Some(r) => {
                let all_synonyms = r.iter().all(|c| role_from_name(c).is_some());
                (all_synonyms, 0)
            }
            None => (false, 0),
        },
    };
    let headers: Vec<String> = if header {
        rows[0]
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .collect()
    } else {
        Vec::new()
    };
    let data: Vec<Vec<String>> = rows.iter().skip(usize::from(header)).cloned().collect();
    let mut g = guess_roles(
        header.then_some(headers.as_slice()),
        &data,
        ncols,
        Source::Column,
    );
    let delimiter = char::from(delim);
    g.mapping.delimiter = delimiter;
    g.mapping.header = header;
    // The documented layout is decided by structure and contents alone, never by the role
    // guess: a headerless comma file of 2–4 columns whose first two fields are filled and whose
    // fourth (when present) is empty or a timestamp the service accepts. A file like that is
    // used as it is even when the role guess (made for files that don't fit) would swap columns.
    let fits = !header
        && delimiter == ','
        && (2..=4).contains(&ncols)
        && !data.is_empty()
        && data.iter().all(|r| {
            (2..=4).contains(&r.len())
                && r.first().is_some_and(|v| !v.trim().is_empty())
                && r.get(1).is_some_and(|v| !v.trim().is_empty())
                && r.get(3)
                    .is_none_or(|v| v.trim().is_empty() || is_service_format(v))
        })
        // Timestamps where the documented layout has ids (epoch seconds in a third column)
        // are not user ids: that file needs a mapping.
        && !g
            .columns
            .iter()
            .enumerate()
            .any(|(i, c)| c.role == Role::CreatedAt && i != 3);
    if fits {
        g.mapping = Mapping {
            delimiter,
            ..Mapping::documented(ncols)
        };
    }
    let shape = shape_key(Format::Csv, delimiter, ncols, &headers);
    let alternatives = alternatives(&g.stats, &g.labels, g.rows, &g.columns);
    Detection {
        format: Format::Csv,
        delimiter,
        header,
        headers,
        sample: data.into_iter().take(SAMPLE_ROWS).collect(),
        columns: g.columns,
        mapping: g.mapping,
        fits,
        day_month: g.day_month,
        shape,
        quote: '"',
        encoding: String::new(),
        bom: false,
        notes: g.notes,
        alternatives,
    }
}

/// The documented JSON-lines keys as a mapping.
fn documented_json_mapping() -> Mapping {
    Mapping {
        delimiter: ',',
        header: false,
        order_id: Source::Key("order_id".into()),
        identity: Source::Key("identity".into()),
        user_id: Some(Source::Key("auth_user_id".into())),
        created_at: Some(Source::Key("created_at".into())),
        time_format: None,
        time_zone: None,
        encoding: None,
        items: None,
    }
}

const DOCUMENTED_KEYS: [&str; 7] = crate::spec::attr::ALL;

/// A JSON object with its keys in file order.
struct Ordered(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Ordered, A::Error> {
                let mut v = Vec::new();
                while let Some((k, val)) = a.next_entry::<String, serde_json::Value>()? {
                    v.push((k, val));
                }
                Ok(Ordered(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// JSON records with an array of products inside (`line_items`), or nested objects: one row
/// per product, keys flattened to dotted paths.
fn detect_nested_json(
    maps: &[serde_json::Map<String, serde_json::Value>],
    items: Option<&str>,
) -> Detection {
    let mut keys: Vec<String> = Vec::new();
    let mut flat_rows: Vec<HashMap<String, String>> = Vec::new();
    for m in maps {
        for row in super::json::rows_of(m, items) {
            let flat = super::json::flatten(&row, items);
            for (k, _) in &flat {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
            flat_rows.push(flat.into_iter().collect());
        }
    }
    let rows: Vec<Vec<String>> = flat_rows
        .iter()
        .map(|o| {
            keys.iter()
                .map(|k| o.get(k).cloned().unwrap_or_default())
                .collect()
        })
        .collect();
    let kk = keys.clone();
    let g = guess_roles(Some(&keys), &rows, keys.len(), |i| {
        Source::Key(kk.get(i).cloned().unwrap_or_default())
    });
    let mut notes = g.notes;
    let (stats, labels, nrows) = (g.stats, g.labels, g.rows);
    if let Some(i) = items {
        notes.push(format!(
            "each record holds its products in {i:?}: one row per product, the record's fields \
             (order id, customer, date) carried to each"
        ));
    }
    let mut mapping = g.mapping;
    let mut cols = g.columns;
    mapping.items = items.map(str::to_string);
    let filled = |k: &str| {
        let i = keys.iter().position(|x| x == k);
        i.is_some_and(|i| rows.iter().all(|r| r.get(i).is_some_and(|v| !v.is_empty())))
    };
    let role_of = |cols: &mut Vec<ColumnGuess>, key: &str, role: Role, why: String| {
        for c in cols.iter_mut() {
            if c.role == role {
                c.role = Role::Other;
                c.confidence = 0.5;
                c.reason = "not needed".into();
            }
        }
        if let Some(i) = keys.iter().position(|x| x == key) {
            cols[i].role = role;
            cols[i].confidence = 0.9;
            cols[i].reason = why;
        }
    };
    if items.is_some() {
        // the order is the record: its id, filled on every row, not a key of the items
        let current = match &mapping.order_id {
            Source::Key(k) => Some(k.clone()),
            Source::Column(_) => None,
        };
        let record_level = |k: &str| !items.is_some_and(|i| k.starts_with(&format!("{i}.")));
        if current
            .as_deref()
            .is_none_or(|k| !record_level(k) || !filled(k))
        {
            let pick = ["order_id", "id", "number", "order_number", "increment_id"]
                .into_iter()
                .find(|k| filled(k));
            if let Some(k) = pick {
                mapping.order_id = Source::Key(k.to_string());
                role_of(
                    &mut cols,
                    k,
                    Role::OrderId,
                    "the record's id: every product of a record is one order".into(),
                );
            }
        }
    }
    // a created_at with a UTC twin (`date_created` and `date_created_gmt`): take the UTC one
    if let Some(Source::Key(k)) = mapping.created_at.clone() {
        let twin = ["_gmt", "_utc", "Gmt", "Utc", "_GMT", "_UTC"]
            .iter()
            .map(|s| format!("{k}{s}"))
            .find(|t| filled(t));
        if let Some(t) = twin {
            mapping.created_at = Some(Source::Key(t.clone()));
            role_of(
                &mut cols,
                &t,
                Role::CreatedAt,
                format!("the UTC twin of {k:?}: no time zone needed"),
            );
            if let Some(i) = keys.iter().position(|x| *x == t)
                && let Some(v) = rows.iter().filter_map(|r| r.get(i)).find(|v| !v.is_empty())
                && let Some(f) = parse_fields(v.as_bytes())
            {
                let fmt = f.pattern(DateOrder::Ymd);
                cols[i].time_format = Some(fmt.clone());
                mapping.time_format = Some(fmt);
            }
        }
    }
    let shape = shape_key(Format::Json, ',', keys.len(), &keys);
    let alternatives = alternatives(&stats, &labels, nrows, &cols);
    Detection {
        format: Format::Json,
        delimiter: ',',
        header: false,
        headers: keys,
        sample: rows.into_iter().take(SAMPLE_ROWS).collect(),
        columns: cols,
        mapping,
        fits: false,
        day_month: g.day_month,
        shape,
        quote: '"',
        encoding: String::new(),
        bom: false,
        notes,
        alternatives,
    }
}

fn detect_json(lines: &[&str], items: Option<&str>) -> Detection {
    // Records with an items array or nested objects are flattened; flat ones keep their order.
    let maps: Vec<serde_json::Map<String, serde_json::Value>> = lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let items = items
        .map(str::to_string)
        .or_else(|| super::json::find_items(&maps));
    let nested = maps
        .iter()
        .any(|m| m.values().any(|v| v.is_object() || v.is_array()));
    if items.is_some() || nested {
        return detect_nested_json(&maps, items.as_deref());
    }
    let mut keys: Vec<String> = Vec::new();
    let mut objs = Vec::new();
    let mut bad = 0;
    for l in lines {
        match serde_json::from_str::<Ordered>(l) {
            Ok(o) => {
                for (k, _) in &o.0 {
                    if !keys.contains(k) {
                        keys.push(k.clone());
                    }
                }
                objs.push(o.0.into_iter().collect::<HashMap<_, _>>());
            }
            Err(_) => bad += 1,
        }
    }
    let rows: Vec<Vec<String>> = objs
        .iter()
        .map(|o| {
            keys.iter()
                .map(|k| o.get(k).and_then(json_text).unwrap_or_default())
                .collect()
        })
        .collect();
    let kk = keys.clone();
    let g = guess_roles(Some(&keys), &rows, keys.len(), |i| {
        Source::Key(kk.get(i).cloned().unwrap_or_default())
    });
    let (mut notes, mapping) = if keys.is_empty() {
        // Nothing to learn from (an empty file, a first line longer than the sample, no object
        // at all): read it with the documented keys and let validation judge every line.
        let note = "no JSON object in the sampled head; reading the documented keys";
        (vec![note.to_string()], documented_json_mapping())
    } else {
        (g.notes, g.mapping)
    };
    if bad > 0 {
        notes.push(format!("{bad} sampled lines are not JSON objects"));
    }
    let created_ok = mapping.created_at.as_ref().is_none_or(|c| {
        let idx = keys.iter().position(|k| Source::Key(k.clone()) == *c);
        idx.is_some_and(|i| {
            rows.iter().all(|r| {
                r.get(i)
                    .is_none_or(|v| v.is_empty() || is_service_format(v))
            })
        })
    });
    let fits = bad == 0
        && (keys.is_empty()
            || (keys.iter().all(|k| DOCUMENTED_KEYS.contains(&k.as_str())) && created_ok));
    let shape = shape_key(Format::Json, ',', keys.len(), &keys);
    let alternatives = alternatives(&g.stats, &g.labels, g.rows, &g.columns);
    Detection {
        format: Format::Json,
        delimiter: ',',
        header: false,
        headers: keys,
        sample: rows.into_iter().take(SAMPLE_ROWS).collect(),
        columns: g.columns,
        mapping,
        fits,
        day_month: g.day_month,
        shape,
        quote: '"',
        encoding: String::new(),
        bom: false,
        notes,
        alternatives,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms() {
        assert_eq!(role_from_name("Order ID"), Some(Role::OrderId));
        assert_eq!(role_from_name("session_id"), Some(Role::OrderId));
        assert_eq!(role_from_name("Invoice-No"), Some(Role::OrderId));
        assert_eq!(role_from_name("SKU"), Some(Role::Identity));
        assert_eq!(role_from_name("Product URL"), Some(Role::Identity));
        assert_eq!(role_from_name("customer"), Some(Role::UserId));
        assert_eq!(role_from_name("ts"), Some(Role::CreatedAt));
        assert_eq!(role_from_name("Order Date"), Some(Role::CreatedAt));
        assert_eq!(role_from_name("Created"), Some(Role::CreatedAt));
        assert_eq!(role_from_name("Product name"), None);
        assert_eq!(role_from_name("Unit price"), None);
        assert_eq!(normalize_name("\u{feff}Order  ID"), "order_id");
    }

    #[test]
    fn documented_layout_fits() {
        let d = detect_bytes(
            b"1,/p/123,4,\"2023-04-22 15:04:30.12312\"\n1,/p/234,4,\"2023-04-22 15:01:33.12345\"\n2,/p/123,3,\"2023-04-21 00:04:38.12121\"\n2,/p/345,3\n",
            true,
            false,
        );
        assert_eq!(d.delimiter, ',');
        assert!(!d.header);
        assert!(d.fits, "{d:#?}");
        assert_eq!(d.mapping.order_id, Source::Column(0));
        assert_eq!(d.mapping.identity, Source::Column(1));
        assert_eq!(d.mapping.user_id, Some(Source::Column(2)));
        assert_eq!(d.mapping.created_at, Some(Source::Column(3)));
    }

    #[test]
    fn a_compact_json_array_longer_than_the_sample_is_read_by_its_records() {
        // an API page written on one line, far longer than the 64 KiB head
        let orders: Vec<String> = (0..2000)
            .map(|i| {
                format!(
                    r#"{{"id":{i},"customer_id":{},"date_created_gmt":"2024-03-01T09:15:00","line_items":[{{"product_id":{},"quantity":1}},{{"product_id":{},"quantity":2}}]}}"#,
                    i % 97,
                    i % 50,
                    i % 50 + 1
                )
            })
            .collect();
        let json = format!("[{}]", orders.join(","));
        assert!(json.len() > 2 * SAMPLE_BYTES && !json.contains('\n'));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("orders.json");
        std::fs::write(&p, &json).unwrap();
        let d = detect_path(&p).unwrap();
        assert!(
            d.notes.iter().any(|n| n.contains("a JSON array of")),
            "{:?}",
            d.notes
        );
        assert_eq!(d.mapping.order_id, Source::Key("id".into()), "{d:#?}");
        assert_eq!(
            d.mapping.identity,
            Source::Key("line_items.product_id".into())
        );
    }

    #[test]
    fn alternatives_say_which_columns_lost_and_why() {
        // headerless: URL paths beat SKUs for identity; two columns of times, two of e-mails
        let mut csv = String::new();
        for o in 0..40 {
            for k in 0..2 {
                csv.push_str(&format!(
                    "{o},SKU-{0}{k},/p/{0}{k},a{o}@x.sk,b{o}@y.sk,2024-03-{1:02} 10:00:00,2024-04-{1:02} 10:00:00\n",
                    o % 7,
                    1 + o % 28
                ));
            }
        }
        let d = detect_bytes(csv.as_bytes(), true, false);
        assert_eq!(d.mapping.identity, Source::Column(2), "{d:#?}");
        let alt: Vec<(Role, usize)> = d.alternatives.iter().map(|a| (a.0, a.1)).collect();
        assert!(alt.contains(&(Role::Identity, 1)), "{alt:?}");
        let why = &d
            .alternatives
            .iter()
            .find(|a| a.0 == Role::Identity)
            .unwrap()
            .2;
        assert!(why.contains("holds product paths or URLs"), "{why}");
        let users = d
            .columns
            .iter()
            .position(|c| c.role == Role::UserId)
            .unwrap();
        let times = d
            .columns
            .iter()
            .position(|c| c.role == Role::CreatedAt)
            .unwrap();
        assert!(alt.contains(&(Role::UserId, 7 - users)), "{alt:?}");
        assert!(alt.contains(&(Role::CreatedAt, 11 - times)), "{alt:?}");
    }
}
