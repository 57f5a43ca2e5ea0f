//! The sandbox's `GET /v1/content_export`: a local stand-in for the Content Export API.
//!
//! It serves a catalog loaded from a file ([`Catalog::load`]) as documented: HMAC-signed like
//! every private API (the Content-Type sent, or `application/json; charset=utf-8` when none,
//! and the path without the query), `size` (default 300, capped at 500), `hit_fields`,
//! `requested_types` (without it every type but `query`), opaque `rel: next` cursor links that
//! expire after a configurable time, and gzip when the client accepts it.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Shared;
use super::handler::{check_auth, json_response, with_date};

pub use crate::spec::content_export::{
    CONTENT_TYPE as CONTENT_EXPORT_CONTENT_TYPE, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE,
    PATH as CONTENT_EXPORT_PATH,
};
/// How long a next link stays valid by default (the service's 10 minutes).
pub const DEFAULT_CURSOR_TTL: Duration = Duration::from_secs(600);
/// Products of the demo catalog (`lbimport generate`'s default product count).
pub const DEMO_PRODUCTS: u64 = 200_000;
/// Largest catalog file read.
const MAX_CATALOG_FILE_BYTES: u64 = 4 << 30;

/// One catalog object: its identity (`url`), type and attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The identity.
    pub url: String,
    /// The type (`item`, `category`, …).
    pub kind: String,
    /// Attributes (`title`, `web_url`, …), in the file's order.
    pub attributes: Vec<(String, Value)>,
}

/// A served catalog and the cursors handed out for it.
pub struct Catalog {
    objects: OnceLock<Vec<Object>>,
    make: Option<fn() -> Vec<Object>>,
    cursors: Mutex<HashMap<String, Cursor>>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("built", &self.objects.get().map(Vec::len))
            .finish()
    }
}

#[derive(Debug, Clone)]
struct Cursor {
    /// Index into the objects of the next one to look at.
    offset: usize,
    size: usize,
    fields: Option<Vec<String>>,
    types: Option<Vec<String>>,
    total: usize,
    issued: Instant,
}

impl Catalog {
    /// A catalog of these objects.
    pub fn new(objects: Vec<Object>) -> Self {
        Catalog {
            objects: OnceLock::from(objects),
            make: None,
            cursors: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        }
    }

    /// A catalog built by `make` on first use (so an unused demo catalog costs nothing).
    pub fn lazy(make: fn() -> Vec<Object>) -> Self {
        Catalog {
            objects: OnceLock::new(),
            make: Some(make),
            cursors: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        }
    }

    /// The built-in Sandbox's demo catalog: the items `/product/1` … `/product/200000` that
    /// `lbimport generate` draws from (default options), except every tenth
    /// (`/product/10`, `/product/20`, …), so a generated file matches most but not all of it.
    pub fn demo() -> Self {
        Catalog::lazy(|| {
            (1..=DEMO_PRODUCTS)
                .filter(|p| p % 10 != 0)
                .map(|p| Object {
                    url: format!("/product/{p}"),
                    kind: "item".into(),
                    attributes: vec![
                        ("title".into(), Value::String(format!("Product {p}"))),
                        (
                            "web_url".into(),
                            Value::String(format!("https://shop.example/product/{p}")),
                        ),
                    ],
                })
                .collect()
        })
    }

    /// `n` items `/p/1` … `/p/n` with a title and a `web_url` of `https://shop.example/p/i`.
    pub fn numbered(n: usize) -> Self {
        Catalog::new(
            (1..=n)
                .map(|i| Object {
                    url: format!("/p/{i}"),
                    kind: "item".into(),
                    attributes: vec![
                        ("title".into(), Value::String(format!("Product {i}"))),
                        (
                            "web_url".into(),
                            Value::String(format!("https://shop.example/p/{i}")),
                        ),
                    ],
                })
                .collect(),
        )
    }

    /// The objects served (built now when the catalog is lazy).
    pub fn objects(&self) -> &[Object] {
        self.objects
            .get_or_init(|| self.make.map(|f| f()).unwrap_or_default())
    }

    /// Read a catalog file: a saved Content Export response (`{"objects": […]}`, one or several
    /// pages one per line), JSON lines with `url` (and optional `type`, `attributes`), or one
    /// identity per line. Blank lines are skipped; errors name the line.
    pub fn load(path: &Path) -> Result<Catalog, String> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
        if meta.len() > MAX_CATALOG_FILE_BYTES {
            return Err(format!(
                "{shown}: {} bytes is more than the {} bytes a catalog file may have",
                meta.len(),
                MAX_CATALOG_FILE_BYTES
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
        Catalog::parse(&text).map_err(|e| format!("{shown}: {e}"))
    }

    /// [`Catalog::load`] on text.
    pub fn parse(text: &str) -> Result<Catalog, String> {
        let mut objects = Vec::new();
        // A whole-file JSON document (a pretty-printed response) first.
        let trimmed = text.trim_start();
        if trimmed.starts_with('{')
            && let Ok(v) = serde_json::from_str::<Value>(text)
            && v.get("objects").is_some()
        {
            page_objects(&v, &mut objects).map_err(|e| format!("line 1: {e}"))?;
            return Ok(Catalog::new(objects));
        }
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let at = |e: String| format!("line {}: {e}", i + 1);
            if line.starts_with('{') {
                let v: Value = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
                if v.get("objects").is_some() {
                    page_objects(&v, &mut objects).map_err(at)?;
                } else {
                    objects.push(object(&v).map_err(at)?);
                }
            } else {
                objects.push(Object {
                    url: line.to_string(),
                    kind: "item".into(),
                    attributes: Vec::new(),
                });
            }
        }
        Ok(Catalog::new(objects))
    }

    fn cursor_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        // Opaque, distinct per link: a counter mixed with the clock.
        let mixed = n
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(u64::from(nanos));
        format!("{}{}", n, mixed % 1_000_000_000)
    }
}

fn page_objects(v: &Value, out: &mut Vec<Object>) -> Result<(), String> {
    let list = v
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| "`objects` is not a list".to_string())?;
    for (i, o) in list.iter().enumerate() {
        out.push(object(o).map_err(|e| format!("objects[{i}]: {e}"))?);
    }
    Ok(())
}

fn object(v: &Value) -> Result<Object, String> {
    let url = v
        .get("url")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| "an object needs a non-empty string `url` (its identity)".to_string())?;
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("item");
    let attributes = match v.get("attributes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Some(_) => return Err("`attributes` must be an object".into()),
    };
    Ok(Object {
        url: url.to_string(),
        kind: kind.to_string(),
        attributes,
    })
}

fn list(v: &str) -> Option<Vec<String>> {
    let items: Vec<String> = v
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    (!items.is_empty()).then_some(items)
}

fn wanted(types: &Option<Vec<String>>, kind: &str) -> bool {
    match types {
        Some(t) => t.iter().any(|t| t == kind),
        None => kind != "query",
    }
}

fn error(sh: &Shared, status: StatusCode, body: Value) -> Response {
    with_date(sh, json_response(status, &body))
}

/// `GET /v1/content_export`.
pub(crate) async fn content_export(
    State(sh): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some(cat) = sh.cfg.catalog.clone() else {
        return error(
            &sh,
            StatusCode::NOT_FOUND,
            json!({"error": "not found", "reason": "this sandbox serves no catalog (start it with --catalog FILE)"}),
        );
    };
    // The tracker is the one in the Authorization header (the path names none).
    let tracker = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::upload::parse_authorization)
        .map(|p| p.tracker_id.to_string())
        .unwrap_or_else(|| sh.cfg.tracker_id.clone());
    let signed_ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(CONTENT_EXPORT_CONTENT_TYPE)
        .to_string();
    if let Err(why) = check_auth(
        &sh,
        &tracker,
        "GET",
        &signed_ct,
        CONTENT_EXPORT_PATH,
        &headers,
    ) {
        tracing::info!("GET {CONTENT_EXPORT_PATH} -> 401 {why}");
        return error(
            &sh,
            StatusCode::UNAUTHORIZED,
            json!({"error": "authentication failed", "reason": why}),
        );
    }

    let ttl = sh.cfg.cursor_ttl;
    let cursor = match params.get("cursor") {
        Some(id) => {
            let mut cursors = match cat.cursors.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            cursors.retain(|_, c| c.issued.elapsed() < ttl.max(Duration::from_secs(1)) * 2);
            match cursors.get(id) {
                Some(c) if c.issued.elapsed() < ttl => c.clone(),
                found => {
                    let why = if found.is_some() {
                        format!(
                            "the cursor has expired (next links are valid for {} s); restart the export from the beginning",
                            ttl.as_secs()
                        )
                    } else {
                        "unknown or expired cursor; restart the export from the beginning"
                            .to_string()
                    };
                    tracing::info!("GET {CONTENT_EXPORT_PATH} -> 400 {why}");
                    return error(
                        &sh,
                        StatusCode::BAD_REQUEST,
                        json!({"error": "cursor expired", "reason": why}),
                    );
                }
            }
        }
        None => {
            let size = match params.get("size").map(|s| s.trim().parse::<usize>()) {
                None => DEFAULT_PAGE_SIZE,
                Some(Ok(n)) if n > 0 => n.min(MAX_PAGE_SIZE),
                Some(_) => {
                    return error(
                        &sh,
                        StatusCode::BAD_REQUEST,
                        json!({"error": "bad request", "reason": "size must be a positive integer"}),
                    );
                }
            };
            let types = params.get("requested_types").and_then(|s| list(s));
            let total = cat
                .objects()
                .iter()
                .filter(|o| wanted(&types, &o.kind))
                .count();
            Cursor {
                offset: 0,
                size,
                fields: params.get("hit_fields").and_then(|s| list(s)),
                types,
                total,
                issued: Instant::now(),
            }
        }
    };

    let mut page = Vec::with_capacity(cursor.size);
    let mut at = cursor.offset;
    let objects = cat.objects();
    while at < objects.len() && page.len() < cursor.size {
        let o = &objects[at];
        at += 1;
        if !wanted(&cursor.types, &o.kind) {
            continue;
        }
        let attributes: Map<String, Value> = match &cursor.fields {
            None => o.attributes.iter().cloned().collect(),
            Some(f) => o
                .attributes
                .iter()
                .filter(|(k, _)| f.iter().any(|x| x == k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        page.push(json!({
            "url": o.url,
            "attributes": attributes,
            "nested": [],
            "type": o.kind,
            "exact": true,
        }));
    }
    let more = objects[at.min(objects.len())..]
        .iter()
        .any(|o| wanted(&cursor.types, &o.kind));
    let mut links = Vec::new();
    if more {
        let id = cat.cursor_id();
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| sh.cfg.addr.to_string());
        links.push(json!({
            "rel": "next",
            "href": format!("http://{host}{CONTENT_EXPORT_PATH}?cursor={id}"),
        }));
        let next = Cursor {
            offset: at,
            issued: Instant::now(),
            ..cursor.clone()
        };
        match cat.cursors.lock() {
            Ok(mut g) => g.insert(id, next),
            Err(p) => p.into_inner().insert(id, next),
        };
    }
    let n = page.len();
    let body = json!({"total": cursor.total, "objects": page, "links": links});
    let mut text = body.to_string();
    text.push('\n');
    let gzip = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let mut p = t.split(';');
            let name = p.next().unwrap_or("").trim();
            let q0 = p.any(|q| {
                let q = q.trim().replace(' ', "");
                q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000"
            });
            name.eq_ignore_ascii_case("gzip") && !q0
        });
    tracing::debug!("GET {CONTENT_EXPORT_PATH} -> 200 {n} objects gzip={gzip}");
    let mut r = if gzip {
        let mut enc = flate2::write::GzEncoder::new(
            Vec::with_capacity(text.len() / 4),
            flate2::Compression::fast(),
        );
        match enc.write_all(text.as_bytes()).and_then(|_| enc.finish()) {
            Ok(bytes) => {
                let mut r = (StatusCode::OK, bytes).into_response();
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                r
            }
            Err(_) => (StatusCode::OK, text).into_response(),
        }
    } else {
        (StatusCode::OK, text).into_response()
    };
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    with_date(&sh, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_file_forms() {
        let c = Catalog::parse("/p/1\n\n/p/2\n").expect("plain");
        assert_eq!(c.objects().len(), 2);
        assert_eq!(c.objects()[1].url, "/p/2");
        let c = Catalog::parse(
            "{\"url\":\"/a\",\"type\":\"category\",\"attributes\":{\"title\":\"A\"}}\n{\"url\":\"/b\"}\n",
        )
        .expect("lines");
        assert_eq!(c.objects()[0].kind, "category");
        assert_eq!(
            c.objects()[0].attributes,
            vec![("title".to_string(), Value::from("A"))]
        );
        assert_eq!(c.objects()[1].kind, "item");
        let c = Catalog::parse(
            "{\n \"total\": 2, \"objects\": [{\"url\": \"/x\"}, {\"url\": \"/y\"}], \"links\": []\n}\n",
        )
        .expect("response");
        assert_eq!(c.objects().len(), 2);
        let c = Catalog::parse(
            "{\"objects\":[{\"url\":\"/x\"}]}\n{\"objects\":[{\"url\":\"/y\"},{\"url\":\"/z\"}]}\n",
        )
        .expect("pages");
        assert_eq!(c.objects().len(), 3);
        let e = Catalog::parse("/ok\n{\"title\":\"no url\"}\n").expect_err("no url");
        assert!(e.starts_with("line 2:"), "{e}");
        assert_eq!(Catalog::numbered(3).objects()[2].url, "/p/3");
        let demo = Catalog::demo();
        assert_eq!(demo.objects().len(), 180_000);
        assert_eq!(demo.objects()[8].url, "/product/9");
        assert_eq!(demo.objects()[9].url, "/product/11");
    }

    #[test]
    fn demo_catalog_matches_most_but_not_all_generated_rows() {
        let mut out = Vec::new();
        let opts = crate::generate::GenOptions {
            rows: Some(20_000),
            ..Default::default()
        };
        crate::generate::generate(&mut out, &opts).expect("generate");
        let demo = Catalog::demo();
        let ids: std::collections::HashSet<&str> =
            demo.objects().iter().map(|o| o.url.as_str()).collect();
        let text = String::from_utf8(out).expect("utf-8");
        let (mut rows, mut hit) = (0u64, 0u64);
        for line in text.lines() {
            let id = line.split(',').nth(1).expect("identity column");
            rows += 1;
            // Computed independently of the catalog: every tenth product is left out.
            let p: u64 = id.trim_start_matches("/product/").parse().expect("number");
            assert_eq!(ids.contains(id), !p.is_multiple_of(10), "{id}");
            hit += u64::from(ids.contains(id));
        }
        assert!(rows >= 20_000);
        let rate = hit as f64 / rows as f64;
        assert!((0.75..0.97).contains(&rate), "match rate {rate}");
    }
}
