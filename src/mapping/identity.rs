//! Identity rewrites applied while converting (`--identity-strip-host`,
//! `--identity-strip-query`, `--identity-trim-slash`, `--identity-from-catalog web_url|case`):
//! the fixes the catalog check diagnoses ([`IdentityFix`]), so that a file whose identities
//! are spelled differently from the tracker's catalog can be turned into one that matches it.
//!
//! The rewrites that need no catalog run first, in a fixed order (host, query, trailing
//! slash); the catalog look-ups then replace what is left by the catalog's own identity. An
//! identity the catalog does not know is left as it is (and counted).
//!
//! Memory for the catalog look-ups: the catalog's identities (their bytes plus 16 bytes each)
//! and about 20 bytes per key (a 64-bit hash and a 32-bit index), i.e. roughly 100 MB for a
//! catalog of 1,000,000 objects with a `web_url` each.

use std::fmt;

use hashbrown::{HashMap, HashSet};

use crate::validate::lookup::{IdentityFix, strip_host};

/// Where `--identity-from-catalog` finds the catalog's identity for a file's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FromCatalog {
    /// The file's identity is an object's `web_url` (or its path without scheme and host):
    /// take that object's identity.
    WebUrl,
    /// The file's identity equals a catalog identity but for letter case: take the catalog's
    /// spelling.
    Case,
}

impl std::str::FromStr for FromCatalog {
    type Err = String;

    /// `web_url` (or `web-url`), `case`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "web_url" | "web-url" => Ok(FromCatalog::WebUrl),
            "case" => Ok(FromCatalog::Case),
            _ => Err(format!("{s:?}: use web_url or case")),
        }
    }
}

impl FromCatalog {
    /// The flag as typed.
    pub fn flag(self) -> &'static str {
        match self {
            FromCatalog::WebUrl => "--identity-from-catalog web_url",
            FromCatalog::Case => "--identity-from-catalog case",
        }
    }
}

/// Marks a key that leads to more than one catalog identity (never rewritten).
const AMBIGUOUS: u32 = u32::MAX;

fn hash(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

/// The look-ups of `--identity-from-catalog`, built from a catalog.
#[derive(Default, Clone)]
struct CatalogMaps {
    /// The catalog's identities.
    identities: Vec<Box<str>>,
    /// Hashes of every catalog identity (an identity already in the catalog is kept).
    known: HashSet<u64>,
    /// `web_url` and its path → index in `identities` (when asked).
    web: Option<HashMap<u64, u32>>,
    /// Lower-case identity → index in `identities` (when asked).
    case: Option<HashMap<u64, u32>>,
}

fn insert(map: &mut HashMap<u64, u32>, key: u64, idx: u32, identities: &[Box<str>]) {
    map.entry(key)
        .and_modify(|v| {
            if *v != AMBIGUOUS && identities[*v as usize] != identities[idx as usize] {
                *v = AMBIGUOUS;
            }
        })
        .or_insert(idx);
}

/// Which rewrites to apply to each row's identity; see the module docs for the order.
#[derive(Clone, Default)]
pub struct IdentityRewrite {
    /// Drop scheme and host of full URLs (`https://shop.sk/p/1` → `/p/1`).
    pub strip_host: bool,
    /// Drop a query string or fragment (`/p/1?ref=x` → `/p/1`).
    pub strip_query: bool,
    /// Drop trailing slashes (`/p/1/` → `/p/1`).
    pub trim_slash: bool,
    /// Catalog look-ups, in the order asked.
    from_catalog: Vec<FromCatalog>,
    maps: Option<std::sync::Arc<CatalogMaps>>,
}

impl fmt::Debug for IdentityRewrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityRewrite")
            .field("strip_host", &self.strip_host)
            .field("strip_query", &self.strip_query)
            .field("trim_slash", &self.trim_slash)
            .field("from_catalog", &self.from_catalog)
            .field(
                "catalog_identities",
                &self.maps.as_ref().map(|m| m.identities.len()),
            )
            .finish()
    }
}

/// What [`IdentityRewrite::apply`] made of one identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied<'a> {
    /// The identity to write (the input itself when nothing applied).
    pub value: &'a str,
    /// A catalog look-up was asked and the catalog does not know the identity (kept as the
    /// rewrites before the look-up left it).
    pub not_in_catalog: bool,
}

impl IdentityRewrite {
    /// The rewrites needing no catalog.
    pub fn new(strip_host: bool, strip_query: bool, trim_slash: bool) -> Self {
        IdentityRewrite {
            strip_host,
            strip_query,
            trim_slash,
            ..Default::default()
        }
    }

    /// Add catalog look-ups (`from`, applied in this order) over the catalog's objects,
    /// given as (identity, `web_url`) pairs.
    pub fn with_catalog<'a>(
        mut self,
        from: &[FromCatalog],
        objects: impl Iterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Self {
        let mut from_catalog: Vec<FromCatalog> = Vec::new();
        for f in from {
            if !from_catalog.contains(f) {
                from_catalog.push(*f);
            }
        }
        if from_catalog.is_empty() {
            return self;
        }
        let mut m = CatalogMaps {
            web: from_catalog
                .contains(&FromCatalog::WebUrl)
                .then(HashMap::new),
            case: from_catalog.contains(&FromCatalog::Case).then(HashMap::new),
            ..Default::default()
        };
        for (id, web) in objects {
            if id.is_empty() || m.identities.len() >= AMBIGUOUS as usize - 1 {
                continue;
            }
            if !m.known.insert(hash(id)) && m.case.is_none() && web.is_none() {
                continue;
            }
            let idx = m.identities.len() as u32;
            m.identities.push(id.into());
            if let Some(map) = m.case.as_mut() {
                insert(map, hash(&id.to_lowercase()), idx, &m.identities);
            }
            if let (Some(map), Some(w)) = (m.web.as_mut(), web.filter(|w| !w.is_empty())) {
                insert(map, hash(w), idx, &m.identities);
                if let Some(p) = strip_host(w) {
                    insert(map, hash(p), idx, &m.identities);
                }
            }
        }
        m.identities.shrink_to_fit();
        self.from_catalog = from_catalog;
        self.maps = Some(std::sync::Arc::new(m));
        self
    }

    /// Whether any rewrite is asked.
    pub fn is_active(&self) -> bool {
        self.strip_host || self.strip_query || self.trim_slash || !self.from_catalog.is_empty()
    }

    /// The flags it applies, for people (`--identity-strip-host, --identity-from-catalog
    /// web_url`).
    pub fn describe(&self) -> String {
        let mut v: Vec<&str> = Vec::new();
        if self.strip_host {
            v.push(IdentityFix::StripHost.flag());
        }
        if self.strip_query {
            v.push(IdentityFix::StripQuery.flag());
        }
        if self.trim_slash {
            v.push(IdentityFix::TrimSlash.flag());
        }
        v.extend(self.from_catalog.iter().map(|f| f.flag()));
        v.join(", ")
    }

    /// Rewrite one identity.
    pub fn apply<'a>(&'a self, id: &'a str) -> Applied<'a> {
        let mut s = id;
        if self.strip_host
            && let Some(p) = IdentityFix::StripHost.apply(s)
        {
            s = p;
        }
        if self.strip_query
            && let Some(p) = IdentityFix::StripQuery.apply(s)
        {
            s = p;
        }
        if self.trim_slash
            && let Some(p) = IdentityFix::TrimSlash.apply(s)
        {
            s = p;
        }
        let Some(m) = self.maps.as_deref() else {
            return Applied {
                value: s,
                not_in_catalog: false,
            };
        };
        if s.is_empty() || m.known.contains(&hash(s)) {
            return Applied {
                value: s,
                not_in_catalog: false,
            };
        }
        let found = |map: &HashMap<u64, u32>, key: &str| {
            map.get(&hash(key))
                .copied()
                .filter(|&i| i != AMBIGUOUS)
                .and_then(|i| m.identities.get(i as usize))
                .map(|b| &**b)
        };
        for f in &self.from_catalog {
            let hit = match f {
                FromCatalog::WebUrl => m.web.as_ref().and_then(|map| {
                    found(map, s).or_else(|| strip_host(s).and_then(|p| found(map, p)))
                }),
                FromCatalog::Case => m
                    .case
                    .as_ref()
                    .and_then(|map| found(map, &s.to_lowercase())),
            };
            if let Some(v) = hit {
                return Applied {
                    value: v,
                    not_in_catalog: false,
                };
            }
        }
        Applied {
            value: s,
            not_in_catalog: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v<'a>(r: &'a IdentityRewrite, s: &'a str) -> &'a str {
        r.apply(s).value
    }

    #[test]
    fn rewrites_without_a_catalog() {
        let r = IdentityRewrite::new(true, true, true);
        assert!(r.is_active());
        assert_eq!(v(&r, "https://shop.sk/p/1/?ref=x"), "/p/1");
        assert_eq!(v(&r, "http://shop.sk"), "/");
        assert_eq!(v(&r, "SKU-1"), "SKU-1");
        assert_eq!(v(&r, "/p/2#top"), "/p/2");
        let host = IdentityRewrite::new(true, false, false);
        assert_eq!(v(&host, "https://shop.sk/p/1/?ref=x"), "/p/1/?ref=x");
        assert!(!IdentityRewrite::default().is_active());
        assert_eq!(
            r.describe(),
            "--identity-strip-host, --identity-strip-query, --identity-trim-slash"
        );
    }

    #[test]
    fn web_url_and_case_take_the_catalogs_identity() {
        let objs = [
            ("P-1", Some("https://shop.sk/produkt-1")),
            ("P-2", Some("https://shop.sk/produkt-2/")),
            ("Sku-AbC", None),
            // two objects share one web_url: ambiguous, never rewritten
            ("V-1", Some("https://shop.sk/shared")),
            ("V-2", Some("https://shop.sk/shared")),
        ];
        let r = IdentityRewrite::default().with_catalog(
            &[FromCatalog::WebUrl, FromCatalog::Case],
            objs.iter().map(|(a, b)| (*a, *b)),
        );
        assert_eq!(v(&r, "https://shop.sk/produkt-1"), "P-1");
        assert_eq!(v(&r, "/produkt-1"), "P-1");
        assert_eq!(v(&r, "http://other.example/produkt-2/"), "P-2");
        assert_eq!(v(&r, "sku-abc"), "Sku-AbC");
        assert_eq!(v(&r, "P-1"), "P-1");
        assert!(!r.apply("P-1").not_in_catalog);
        let miss = r.apply("https://shop.sk/unknown");
        assert_eq!(miss.value, "https://shop.sk/unknown");
        assert!(miss.not_in_catalog);
        assert_eq!(v(&r, "https://shop.sk/shared"), "https://shop.sk/shared");
        assert!(format!("{r:?}").contains("catalog_identities: Some(5)"));
    }

    #[test]
    fn catalog_look_up_runs_after_the_plain_rewrites() {
        let objs = [("P-1", Some("https://shop.sk/produkt-1"))];
        let r = IdentityRewrite::new(false, true, false)
            .with_catalog(&[FromCatalog::WebUrl], objs.iter().map(|(a, b)| (*a, *b)));
        assert_eq!(v(&r, "https://shop.sk/produkt-1?utm=x"), "P-1");
        assert_eq!(
            r.describe(),
            "--identity-strip-query, --identity-from-catalog web_url"
        );
    }
}
