//! Loading the catalog for `--identity-from-catalog` (shared by `normalize`, `validate` and
//! `upload`): the tracker's stored catalog, or `--catalog FILE`.

use crate::mapping::MappingError;
use crate::mapping::cli::MappingArgs;
use crate::mapping::identity::IdentityRewrite;

/// Fill [`MappingArgs::identity_rewrite`] when an identity rewrite is asked: the rewrites that
/// need no catalog, plus the catalog look-ups of `--identity-from-catalog` over `--catalog
/// FILE` or the stored catalog of `tracker` (a saved tracker's name).
pub fn load_rewrite(args: &mut MappingArgs, tracker: Option<&str>) -> Result<(), MappingError> {
    if !args.rewrites() || args.identity_rewrite.is_some() {
        return Ok(());
    }
    let plain = IdentityRewrite::new(
        args.identity_strip_host,
        args.identity_strip_query,
        args.identity_trim_slash,
    );
    if args.identity_from_catalog.is_empty() {
        args.identity_rewrite = Some(plain);
        return Ok(());
    }
    let catalog = match (&args.catalog, tracker) {
        (Some(file), _) => crate::pipeline::checks::stored_from_file(file)
            .map_err(|e| MappingError::Invalid(format!("--catalog {e}")))?,
        (None, Some(name)) => {
            let dir = crate::config::data_dir()?;
            let path = crate::catalog::stored_path(&dir, name);
            crate::catalog::load(&path)
                .map_err(MappingError::Invalid)?
                .ok_or_else(|| {
                    MappingError::Invalid(format!(
                        "--identity-from-catalog: tracker \"{name}\" has no stored catalog; \
                         fetch it (lbimport catalog fetch --tracker {name}), import it \
                         (lbimport catalog import --tracker {name} FILE), or give --catalog FILE"
                    ))
                })?
        }
        (None, None) => {
            return Err(MappingError::Invalid(
                "--identity-from-catalog needs the catalog: --tracker NAME (with a catalog \
                 fetched or imported for it) or --catalog FILE"
                    .into(),
            ));
        }
    };
    if catalog.objects.is_empty() {
        return Err(MappingError::Invalid(format!(
            "--identity-from-catalog: the catalog ({}) is empty",
            catalog.source
        )));
    }
    args.identity_rewrite = Some(plain.with_catalog(
        &args.identity_from_catalog,
        catalog
            .objects
            .iter()
            .map(|o| (o.identity.as_str(), o.web_url.as_deref())),
    ));
    Ok(())
}
