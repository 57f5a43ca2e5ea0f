//! The mapping flags shared by `normalize`, `validate` and `upload` (clap), turned into the
//! pipeline's [`Options`].

use std::path::PathBuf;

use crate::mapping::identity::FromCatalog;
use crate::mapping::split::parse_size;
use crate::pipeline::prepare::Options;

/// Column-mapping and cleaning flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MappingArgs {
    /// Field delimiter of the input: `,` `;` `tab` (or `\t`) `|`.
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// Text encoding of the input: `utf-8`, `utf-16le`, `utf-16be`, `windows-1250`,
    /// `windows-1252`, `iso-8859-2`… (default: from a BOM, the NUL pattern of UTF-16, or a guess
    /// for files that aren't UTF-8). The output is always UTF-8.
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<String>,
    /// JSON: the key path of the array of products in each record (`line_items`), exploded
    /// into one row per product (default: found from the records).
    #[arg(long, value_name = "PATH")]
    pub items: Option<String>,
    /// The first row is a header.
    #[arg(long, conflicts_with = "no_header")]
    pub header: bool,
    /// The first row is data, not a header.
    #[arg(long)]
    pub no_header: bool,
    /// Which source column feeds each attribute: letters (A, B…), 1-based numbers, header
    /// names or JSON keys; `-` for none. E.g. `order=B,identity=D,user=C,created_at=A`.
    #[arg(long, value_name = "ROLE=COL,…")]
    pub columns: Option<String>,
    /// Format of created_at: strftime (`%d/%m/%Y %H:%M`), `iso8601`, `epoch_s`, `epoch_ms`.
    #[arg(long, value_name = "FORMAT")]
    pub time_format: Option<String>,
    /// Zone of timestamps without one: `UTC`, `+02:00`, or an IANA name (`Europe/Bratislava`).
    #[arg(long, value_name = "ZONE", allow_hyphen_values = true)]
    pub time_zone: Option<String>,
    /// Leave invalid rows out, writing them with line numbers and reasons to PATH (default:
    /// beside the output, `<name>.invalid.csv`).
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "")]
    pub exclude_invalid: Option<String>,
    /// Drop exact duplicate rows.
    #[arg(long)]
    pub dedupe: bool,
    /// Trim whitespace around ids.
    #[arg(long)]
    pub trim: bool,
    /// Drop orders with more than N distinct products.
    #[arg(long, value_name = "N")]
    pub max_order_items: Option<u64>,
    /// Keep a UTF-8 byte-order mark (it is stripped by default).
    #[arg(long, hide = true)]
    pub keep_bom: bool,
    /// Use a mapping saved for the tracker: its name, its shape, or `auto` (the one saved for
    /// this file's shape). Needs the tracker.
    #[arg(long, value_name = "NAME")]
    pub mapping: Option<String>,
    /// Save the mapping used for the tracker, keyed by this file's shape, optionally named.
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "")]
    pub save_mapping: Option<String>,
    /// Largest part of a converted file (`1GiB`, `64k`, `1000`; default 1 GiB, the service's
    /// limit). A converted file over it is split at order boundaries into parts no larger.
    /// Hidden: meant for trying the split path on small files; the service's limit is 1 GiB.
    #[arg(long, value_name = "SIZE", hide = true, value_parser = parse_part_bytes)]
    pub part_bytes: Option<u64>,
    /// The tracker saved mappings belong to (set by the command that flattens these flags).
    #[arg(skip)]
    pub tracker: Option<String>,
    /// Rewrite identities that are full URLs to their path: drop scheme and host
    /// (`https://shop.sk/p/1` → `/p/1`).
    #[arg(long)]
    pub identity_strip_host: bool,
    /// Rewrite identities without their query string or fragment (`/p/1?ref=x` → `/p/1`).
    #[arg(long)]
    pub identity_strip_query: bool,
    /// Rewrite identities without trailing slashes (`/p/1/` → `/p/1`).
    #[arg(long)]
    pub identity_trim_slash: bool,
    /// Replace identities by the catalog's: `web_url` (the identity is an object's web_url or
    /// its path: take that object's identity), `case` (the catalog spells it in another case).
    /// Needs the catalog: the tracker's stored one (`--tracker`) or `--catalog FILE`. An
    /// identity the catalog does not know is kept. Repeat the flag for both.
    #[arg(long, value_name = "web_url|case", value_parser = from_catalog_parser())]
    pub identity_from_catalog: Vec<FromCatalog>,
    /// The catalog to compare identities with (and to take them from with
    /// `--identity-from-catalog`) instead of the tracker's stored one: a saved Content Export
    /// response, JSON lines with `url`, or one identity per line.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// The identity rewrites with their catalog look-ups, once loaded (set by the command
    /// that flattens these flags; without it the rewrites needing no catalog still apply).
    #[arg(skip)]
    pub identity_rewrite: Option<crate::mapping::identity::IdentityRewrite>,
}

impl MappingArgs {
    /// The pipeline's options for these flags.
    pub fn options(&self) -> Options {
        Options {
            delimiter: self.delimiter.clone(),
            encoding: self.encoding.clone(),
            items: self.items.clone(),
            header: self.header,
            no_header: self.no_header,
            columns: self.columns.clone(),
            time_format: self.time_format.clone(),
            time_zone: self.time_zone.clone(),
            exclude_invalid: self.exclude_invalid.clone(),
            dedupe: self.dedupe,
            trim: self.trim,
            max_order_items: self.max_order_items,
            keep_bom: self.keep_bom,
            mapping: self.mapping.clone(),
            save_mapping: self.save_mapping.clone(),
            part_bytes: self.part_bytes,
            tracker: self.tracker.clone(),
            identity_strip_host: self.identity_strip_host,
            identity_strip_query: self.identity_strip_query,
            identity_trim_slash: self.identity_trim_slash,
            identity_from_catalog: self.identity_from_catalog.clone(),
            catalog: self.catalog.clone(),
            identity_rewrite: self.identity_rewrite.clone(),
        }
    }

    /// Whether any flag asks for a mapping or cleaning (a tracker alone doesn't).
    pub fn any(&self) -> bool {
        self.options().any()
    }
}

fn parse_part_bytes(s: &str) -> Result<u64, String> {
    parse_size(s).ok_or_else(|| format!("{s:?}: use e.g. 1GiB, 500MB, 64k, 1048576"))
}

/// `--identity-from-catalog` values, listed in `--help`.
fn from_catalog_parser() -> impl clap::builder::TypedValueParser<Value = FromCatalog> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new([
        PossibleValue::new("web_url").alias("web-url"),
        PossibleValue::new("case"),
    ])
    .try_map(|s| s.parse::<FromCatalog>())
}
