//! Building an [`IdentityRewrite`] from the fixes asked (flags of `normalize`, or the one-key
//! fixes of the wizard's Columns step), shared by the CLI and the wizard. The fixes that look
//! the catalog's spelling up (`case`, `web_url`) read a catalog given by the caller: the
//! tracker's stored one ([`stored_catalog`]) or a file.

use std::path::Path;

use crate::catalog::StoredCatalog;
use crate::mapping::identity::{FromCatalog, IdentityRewrite};
use crate::validate::lookup::IdentityFix;

/// The rewrite for these fixes. `catalog` is called only when a catalog look-up is asked
/// (`from` not empty); an empty catalog is an error.
pub fn rewrite(
    strip_host: bool,
    strip_query: bool,
    trim_slash: bool,
    from: &[FromCatalog],
    catalog: impl FnOnce() -> Result<StoredCatalog, String>,
) -> Result<IdentityRewrite, String> {
    let plain = IdentityRewrite::new(strip_host, strip_query, trim_slash);
    if from.is_empty() {
        return Ok(plain);
    }
    let catalog = catalog()?;
    if catalog.objects.is_empty() {
        return Err(format!(
            "--identity-from-catalog: the catalog ({}) is empty",
            catalog.source
        ));
    }
    Ok(plain.with_catalog(
        from,
        catalog
            .objects
            .iter()
            .map(|o| (o.identity.as_str(), o.web_url.as_deref())),
    ))
}

/// The catalog stored for the tracker `name` in the data directory `dir`, or why there is
/// none.
pub fn stored_catalog(dir: &Path, name: &str) -> Result<StoredCatalog, String> {
    crate::catalog::load(&crate::catalog::stored_path(dir, name))?.ok_or_else(|| {
        format!(
            "tracker \"{name}\" has no stored catalog; fetch it (lbimport catalog fetch \
             --tracker {name}), import it (lbimport catalog import --tracker {name} FILE), or \
             give --catalog FILE"
        )
    })
}

/// The `--identity-from-catalog` look-up a diagnosed fix stands for, if it is one.
pub fn from_catalog(fix: IdentityFix) -> Option<FromCatalog> {
    match fix {
        IdentityFix::Case => Some(FromCatalog::Case),
        IdentityFix::FromWebUrl => Some(FromCatalog::WebUrl),
        IdentityFix::StripHost | IdentityFix::StripQuery | IdentityFix::TrimSlash => None,
    }
}

/// The rewrite applying the diagnosed `fixes` (as the validation report's catalog section
/// names them), with the catalog stored for the tracker `name` in `dir` when a fix needs it.
pub fn from_fixes(
    fixes: &[IdentityFix],
    dir: &Path,
    name: &str,
) -> Result<IdentityRewrite, String> {
    let has = |f: IdentityFix| fixes.contains(&f);
    let from: Vec<FromCatalog> = fixes.iter().filter_map(|f| from_catalog(*f)).collect();
    rewrite(
        has(IdentityFix::StripHost),
        has(IdentityFix::StripQuery),
        has(IdentityFix::TrimSlash),
        &from,
        || stored_catalog(dir, name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::StoredObject;

    fn store(dir: &Path, name: &str, ids: &[(&str, Option<&str>)]) {
        let objects: Vec<StoredObject> = ids
            .iter()
            .map(|(id, web)| StoredObject {
                identity: (*id).into(),
                kind: "item".into(),
                web_url: web.map(Into::into),
                title: None,
            })
            .collect();
        let cat = StoredCatalog {
            source: "test".into(),
            fetched_at: 1_700_000_000,
            total: objects.len() as u64,
            objects,
        };
        crate::catalog::save(&crate::catalog::stored_path(dir, name), &cat).expect("store");
    }

    #[test]
    fn fixes_without_a_catalog_need_none() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let r = from_fixes(&[IdentityFix::StripHost], tmp.path(), "nobody").expect("rewrite");
        assert_eq!(r.apply("https://shop.sk/p/1").value, "/p/1");
        assert_eq!(r.apply("/p/2").value, "/p/2");
    }

    #[test]
    fn catalog_fixes_read_the_stored_catalog_or_say_there_is_none() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let e = from_fixes(&[IdentityFix::Case], tmp.path(), "shop").expect_err("no catalog");
        assert!(e.contains("tracker \"shop\" has no stored catalog"), "{e}");
        store(
            tmp.path(),
            "shop",
            &[("SKU-1", None), ("p2", Some("https://shop.sk/p/2"))],
        );
        let r = from_fixes(&[IdentityFix::Case], tmp.path(), "shop").expect("rewrite");
        assert_eq!(r.apply("sku-1").value, "SKU-1");
        let r = from_fixes(&[IdentityFix::FromWebUrl], tmp.path(), "shop").expect("rewrite");
        assert_eq!(r.apply("/p/2").value, "p2");
        assert_eq!(r.apply("https://shop.sk/p/2").value, "p2");
    }
}
