//! The library's parts through their public API: validation (fixtures, checks, garbage, big files,
//! properties), mapping (detection, conversion, splitting, real exports), configuration, the sandbox
//! server, catalog fetching and uploads.
//!
//! One test binary of modules (linking the library once instead of once per file).

mod support;

mod catalog_fetch;
mod config_store;
mod exports;
mod mapping_convert;
mod mapping_detect;
mod mapping_split;
mod properties;
mod server_catalog;
mod server_sandbox;
mod server_validation;
mod upload_sandbox;
mod validate_big;
mod validate_checks;
mod validate_fixtures;
mod validate_garbage;
mod validate_pipeline;
