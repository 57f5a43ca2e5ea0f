//! A tracker's catalog, read through the Content Export API and stored per tracker.
//!
//! [`fetch`] sends HMAC-signed `GET /v1/content_export` requests (`size=500`,
//! `requested_types`, `hit_fields=web_url,title`, `Accept-Encoding: gzip`) and follows each
//! `rel: next` link exactly as returned until there is none. An expired next link restarts the
//! export once from the beginning; a second expiry, a loop (a next link seen before), a page
//! that is not JSON or has no `objects`, more than [`MAX_OBJECTS`] objects, a 401 or a
//! cancellation stop it with a clear message. Nothing is stored unless the whole export
//! arrived; [`save`] replaces the stored catalog atomically (0600).

use std::collections::HashSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::config::PrivateKey;
use crate::spec::content_export::{
    CONTENT_TYPE as CONTENT_EXPORT_CONTENT_TYPE, MAX_PAGE_SIZE, PATH as CONTENT_EXPORT_PATH,
};
use crate::upload::{http_date, install_crypto_provider, sign};
pub use crate::validate::lookup::CatalogIndex;
use crate::validate::lookup::HashIndex;

/// More objects than this stop the export.
pub const MAX_OBJECTS: usize = 10_000_000;
/// The attributes kept for each object.
pub const HIT_FIELDS: &str = "web_url,title";
/// Statuses (and transport errors) worth another attempt.
const RETRYABLE: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// One catalog object as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredObject {
    /// Its identity (the export's `url`).
    pub identity: String,
    /// Its type (`item`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its `web_url` attribute, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_url: Option<String>,
    /// Its `title` attribute, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A stored catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCatalog {
    /// Where it came from (the export URL, or the imported file).
    pub source: String,
    /// When it was fetched, seconds since the Unix epoch.
    pub fetched_at: u64,
    /// The `total` the service announced.
    pub total: u64,
    /// The objects.
    pub objects: Vec<StoredObject>,
}

/// What to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// `https://live.luigisbox.com` or a sandbox's URL.
    pub base_url: String,
    /// The tracker id signing the requests.
    pub tracker_id: String,
    /// Its private key (used only to sign).
    pub key: PrivateKey,
    /// `requested_types` (default `item`).
    pub types: Vec<String>,
    /// Attempts per page for transient errors (default 4).
    pub attempts: u32,
    /// Pause before the first retry, doubled each time (default 1 s).
    pub retry_pause: Duration,
    /// Most objects accepted (default [`MAX_OBJECTS`]).
    pub max_objects: usize,
}

impl FetchOptions {
    /// Items only, 4 attempts a page, 1 s first pause, at most [`MAX_OBJECTS`].
    pub fn new(base_url: &str, tracker_id: &str, key: PrivateKey) -> Self {
        FetchOptions {
            base_url: base_url.trim_end_matches('/').to_string(),
            tracker_id: tracker_id.to_string(),
            key,
            types: vec!["item".into()],
            attempts: 4,
            retry_pause: Duration::from_secs(1),
            max_objects: MAX_OBJECTS,
        }
    }
}

/// What [`fetch`] reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchEvent {
    /// The export starts from its first page (attempt 1; 2 after an expired next link).
    Started {
        /// 1, then 2 after a restart.
        attempt: u32,
    },
    /// A page arrived.
    Page {
        /// Objects received so far.
        got: u64,
        /// The announced total.
        total: u64,
    },
}

/// Fetch the whole catalog. See the module docs.
pub async fn fetch(
    opts: &FetchOptions,
    cancel: &CancellationToken,
    mut on_event: impl FnMut(FetchEvent),
) -> Result<StoredCatalog, String> {
    install_crypto_provider();
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(120))
        .user_agent(concat!("lbimport/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up HTTPS: {e}"))?;
    let first = format!(
        "{}{CONTENT_EXPORT_PATH}?size={MAX_PAGE_SIZE}&requested_types={}&hit_fields={HIT_FIELDS}",
        opts.base_url,
        opts.types.join(",")
    );
    let mut attempt = 1;
    'export: loop {
        on_event(FetchEvent::Started { attempt });
        let mut url = first.clone();
        let mut seen: HashSet<String> = HashSet::new();
        let mut objects: Vec<StoredObject> = Vec::new();
        let mut total = 0u64;
        let mut page_no = 0u64;
        loop {
            page_no += 1;
            let (status, body) = get_page(&client, opts, &url, cancel).await?;
            if status == 401 {
                return Err(format!(
                    "the catalog export refused the signature (401): check the tracker id {:?}, \
                     its private key and this computer's clock (the Date header must be within \
                     a few seconds). The service said: {}",
                    opts.tracker_id,
                    shorten(&body)
                ));
            }
            if page_no > 1 && (400..500).contains(&status) {
                if attempt == 1 {
                    attempt = 2;
                    continue 'export;
                }
                return Err(format!(
                    "the catalog export's next link was refused again ({status}) after a restart \
                     from the beginning (next links expire after 10 minutes; a slow or stalled \
                     connection can outlast them). The service said: {}",
                    shorten(&body)
                ));
            }
            if !(200..300).contains(&status) {
                return Err(format!(
                    "the catalog export answered {status} on page {page_no}: {}",
                    shorten(&body)
                ));
            }
            let v: Value = serde_json::from_slice(&body).map_err(|e| {
                format!(
                    "page {page_no} of the catalog export is not JSON ({e}); it begins: {}",
                    shorten(&body)
                )
            })?;
            let list = v.get("objects").and_then(Value::as_array).ok_or_else(|| {
                format!("page {page_no} of the catalog export has no `objects` list")
            })?;
            if let Some(t) = v.get("total").and_then(Value::as_u64) {
                total = t;
            }
            for o in list {
                let Some(id) = o.get("url").and_then(Value::as_str) else {
                    continue;
                };
                let attr = |k: &str| {
                    o.get("attributes")
                        .and_then(|a| a.get(k))
                        .and_then(first_text)
                };
                objects.push(StoredObject {
                    identity: id.to_string(),
                    kind: o
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("item")
                        .to_string(),
                    web_url: attr("web_url"),
                    title: attr("title"),
                });
            }
            if objects.len() > opts.max_objects {
                return Err(format!(
                    "the catalog export sent more than {} objects; stopped",
                    opts.max_objects
                ));
            }
            on_event(FetchEvent::Page {
                got: objects.len() as u64,
                total,
            });
            let next = v
                .get("links")
                .and_then(Value::as_array)
                .and_then(|l| {
                    l.iter()
                        .find(|x| x.get("rel").and_then(Value::as_str) == Some("next"))
                })
                .and_then(|x| x.get("href").and_then(Value::as_str));
            match next {
                None => {
                    return Ok(StoredCatalog {
                        source: first,
                        fetched_at: SystemTime::now()
                            .duration_since(SystemTime::UNIX_EPOCH)
                            .map(|d| d.as_secs())
                            .unwrap_or(0),
                        total,
                        objects,
                    });
                }
                Some(h) => {
                    if !seen.insert(h.to_string()) {
                        return Err(format!(
                            "the catalog export loops: page {page_no} links to {h}, a page \
                             already read; stopped"
                        ));
                    }
                    url = h.to_string();
                }
            }
        }
    }
}

/// A text attribute, or the first text of a list attribute.
fn first_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.iter().find_map(|x| x.as_str().map(str::to_string)),
        _ => None,
    }
}

fn shorten(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(200)]);
    s.trim().replace('\n', " ")
}

/// One signed GET with retries; the status and the (un-gzipped) body.
async fn get_page(
    client: &reqwest::Client,
    opts: &FetchOptions,
    url: &str,
    cancel: &CancellationToken,
) -> Result<(u16, Vec<u8>), String> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| format!("bad catalog export link {url:?}: {e}"))?;
    let mut pause = opts.retry_pause;
    let mut last = String::new();
    for n in 1..=opts.attempts.max(1) {
        if n > 1 {
            tokio::select! {
                _ = cancel.cancelled() => return Err("cancelled".into()),
                _ = tokio::time::sleep(pause) => {}
            }
            pause = pause.saturating_mul(2);
        }
        let date = http_date(SystemTime::now());
        let auth = sign(
            &opts.tracker_id,
            &opts.key,
            "GET",
            CONTENT_EXPORT_CONTENT_TYPE,
            &date,
            parsed.path(),
        );
        let send = async {
            let resp = client
                .get(parsed.clone())
                .header("Date", &date)
                .header("Content-Type", CONTENT_EXPORT_CONTENT_TYPE)
                .header("Accept-Encoding", "gzip")
                .header("Authorization", &auth)
                .send()
                .await?;
            let status = resp.status().as_u16();
            let gz = resp
                .headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
            let bytes = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, gz, bytes))
        };
        let got = tokio::select! {
            _ = cancel.cancelled() => return Err("cancelled".into()),
            r = send => r,
        };
        match got {
            Ok((status, gz, bytes)) => {
                let body = if gz {
                    let mut out = Vec::with_capacity(bytes.len() * 4);
                    flate2::read::GzDecoder::new(&bytes[..])
                        .read_to_end(&mut out)
                        .map_err(|e| format!("a catalog export page is not valid gzip: {e}"))?;
                    out
                } else {
                    bytes.to_vec()
                };
                if RETRYABLE.contains(&status) {
                    last = format!("{status}: {}", shorten(&body));
                    continue;
                }
                return Ok((status, body));
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!(
        "the catalog export failed after {} attempts: {last}",
        opts.attempts.max(1)
    ))
}

/// Where a tracker's catalog is stored: `DATA_DIR/catalogs/<tracker name>.json`.
pub fn stored_path(data_dir: &Path, tracker: &str) -> PathBuf {
    let safe: String = tracker
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    data_dir.join("catalogs").join(format!("{safe}.json"))
}

/// Store `cat` at `path`, replacing the previous one atomically (0600), with its look-up index
/// beside it ([`index_path`]).
pub fn save(path: &Path, cat: &StoredCatalog) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let bytes = serde_json::to_vec(cat).map_err(|e| format!("cannot encode the catalog: {e}"))?;
    crate::config::store::write_atomic(path, &bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let ix = index_of(cat);
    save_index(&index_path(path), &ix, bytes.len() as u64)
}

/// The validator's look-up index of a stored catalog.
pub fn index_of(cat: &StoredCatalog) -> CatalogIndex {
    CatalogIndex::build(
        &cat.source,
        Some(cat.fetched_at),
        cat.objects
            .iter()
            .map(|o| (o.identity.as_str(), o.web_url.as_deref())),
    )
}

/// Where the look-up index of the catalog stored at `path` is kept (`<name>.idx` beside it):
/// the hashes the validator compares with, so a check never parses the whole catalog.
pub fn index_path(path: &Path) -> PathBuf {
    path.with_extension("idx")
}

const INDEX_MAGIC: &[u8; 8] = b"LBCATIX\n";
const INDEX_VERSION: u32 = 1;

fn save_index(path: &Path, ix: &CatalogIndex, json_bytes: u64) -> Result<(), String> {
    let mut out = Vec::with_capacity(64 + ix.heap_bytes());
    out.extend_from_slice(INDEX_MAGIC);
    out.extend_from_slice(&INDEX_VERSION.to_le_bytes());
    out.extend_from_slice(&json_bytes.to_le_bytes());
    out.extend_from_slice(&ix.fetched_at.unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&ix.objects.to_le_bytes());
    out.extend_from_slice(&(ix.source.len() as u64).to_le_bytes());
    out.extend_from_slice(ix.source.as_bytes());
    for set in [&ix.identities, &ix.lowercase, &ix.web_urls, &ix.web_paths] {
        let hs = set.hashes();
        out.extend_from_slice(&(hs.len() as u64).to_le_bytes());
        for h in hs {
            out.extend_from_slice(&h.to_le_bytes());
        }
    }
    crate::config::store::write_atomic(path, &out).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_index(path: &Path, json_bytes: u64) -> Option<CatalogIndex> {
    let b = std::fs::read(path).ok()?;
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = b.get(at..at.checked_add(n)?)?;
        at += n;
        Some(s)
    };
    let u64_of = |s: &[u8]| -> Option<u64> { Some(u64::from_le_bytes(s.try_into().ok()?)) };
    if take(8)? != INDEX_MAGIC || take(4)? != INDEX_VERSION.to_le_bytes() {
        return None;
    }
    if u64_of(take(8)?)? != json_bytes {
        return None;
    }
    let fetched_at = u64_of(take(8)?)?;
    let objects = u64_of(take(8)?)?;
    let n = usize::try_from(u64_of(take(8)?)?).ok()?;
    let source = String::from_utf8(take(n)?.to_vec()).ok()?;
    let mut sets = Vec::new();
    for _ in 0..4 {
        let n = usize::try_from(u64_of(take(8)?)?).ok()?;
        let raw = take(n.checked_mul(8)?)?;
        let hs: Vec<u64> = raw
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect();
        sets.push(HashIndex::from_hashes(hs));
    }
    let mut it = sets.into_iter();
    Some(CatalogIndex {
        source,
        fetched_at: Some(fetched_at),
        objects,
        identities: it.next()?,
        lowercase: it.next()?,
        web_urls: it.next()?,
        web_paths: it.next()?,
    })
}

/// The look-up index of the catalog stored at `path`; `Ok(None)` when there is none. Read from
/// the index file beside it, rebuilt (and rewritten) from the catalog when that is missing or
/// does not belong to it.
pub fn load_index(path: &Path) -> Result<Option<CatalogIndex>, String> {
    let json_bytes = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let ixp = index_path(path);
    if let Some(ix) = read_index(&ixp, json_bytes) {
        return Ok(Some(ix));
    }
    let Some(cat) = load(path)? else {
        return Ok(None);
    };
    let ix = index_of(&cat);
    drop(cat);
    // a failed rewrite only costs the next check a rebuild
    let _ = save_index(&ixp, &ix, json_bytes);
    Ok(Some(ix))
}

/// Read a stored catalog; `Ok(None)` when there is none.
pub fn load(path: &Path) -> Result<Option<StoredCatalog>, String> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| format!("{}: not a stored catalog: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}
