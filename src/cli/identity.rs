//! Loading the catalog for `--identity-from-catalog` (shared by `normalize`, `validate` and
//! `upload`): the tracker's stored catalog, or `--catalog FILE`.

use crate::pipeline::Error;
use crate::pipeline::prepare::Options;

/// Fill [`Options::identity_rewrite`] when an identity rewrite is asked: the rewrites that
/// need no catalog, plus the catalog look-ups of `--identity-from-catalog` over `--catalog
/// FILE` or the stored catalog of `tracker` (a saved tracker's name).
pub fn load_rewrite(args: &mut Options, tracker: Option<&str>) -> Result<(), Error> {
    if !args.rewrites() || args.identity_rewrite.is_some() {
        return Ok(());
    }
    let rewrite = crate::pipeline::rewrite::rewrite(
        args.identity_strip_host,
        args.identity_strip_query,
        args.identity_trim_slash,
        &args.identity_from_catalog,
        || match (&args.catalog, tracker) {
            (Some(file), _) => crate::pipeline::checks::stored_from_file(file)
                .map_err(|e| format!("--catalog {e}")),
            (None, Some(name)) => {
                let dir = crate::config::data_dir().map_err(|e| e.to_string())?;
                crate::pipeline::rewrite::stored_catalog(&dir, name)
                    .map_err(|e| format!("--identity-from-catalog: {e}"))
            }
            (None, None) => Err("--identity-from-catalog needs the catalog: --tracker NAME \
                 (with a catalog fetched or imported for it) or --catalog FILE"
                .into()),
        },
    )
    .map_err(Error::Invalid)?;
    args.identity_rewrite = Some(rewrite);
    Ok(())
}

/// The share of rows below which `upload` refuses a file for its catalog match.
pub const MIN_ROW_MATCH_RATE: f64 = 0.5;

/// The upload guard on the report's `catalog` section: when fewer than half of the rows name
/// a product of the tracker's catalog, print why (the match rate and the first diagnosis with
/// its flag) and return false, unless `allow` (`--allow-unknown-identities`). A check that was
/// not made (no catalog, an empty one) lets the upload go.
pub fn catalog_guard(
    report: &crate::validate::Report,
    path: &std::path::Path,
    allow: bool,
) -> bool {
    let Some(c) = &report.catalog else {
        return true;
    };
    if c.skipped.is_some() || c.rows == 0 || c.row_match_rate >= MIN_ROW_MATCH_RATE {
        return true;
    }
    let t = crate::validate::text::thousands;
    let mut line = format!(
        "only {:.1} % of the rows ({} of {}) name a product in the tracker's catalog ({} \
         identities, {}); the recommender learns nothing from the others",
        c.row_match_rate * 100.0,
        t(c.rows_matched),
        t(c.rows),
        t(c.catalog_identities),
        c.source
    );
    if let Some(d) = c.diagnoses.first() {
        line.push_str(&format!(
            ". {} of the {} most frequent unknown identities: {} (e.g. {}); fix: {} (with \
             normalize, or on this command)",
            t(d.identities),
            t(d.tried),
            d.description,
            d.example,
            d.flag
        ));
    }
    let line = crate::validate::escape_controls(&line).into_owned();
    if allow {
        eprintln!("lbimport: warning: {line}; uploading anyway (--allow-unknown-identities)");
        return true;
    }
    eprintln!(
        "lbimport: refused: {}: {line}. Uploads cannot be undone. Pass \
         --allow-unknown-identities if the file is really meant for this tracker. Nothing was \
         sent.",
        crate::validate::escape_controls(&path.display().to_string())
    );
    false
}
