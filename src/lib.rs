//! lbimport — validate, fix and safely upload past purchases to Luigi's Box.
//!
//! The library holds the whole product; the `lbimport` binary only calls [`cli::main`].
//! Core modules ([`read`], [`validate`], [`mapping`], [`upload`], [`config`], [`server`])
//! have no terminal-UI dependency; the wizard lives in [`tui`].

pub mod catalog;
pub mod cli;
pub mod config;
pub mod files;
pub mod generate;
pub mod mapping;
pub mod pipeline;
pub mod read;
pub mod report_store;
pub mod server;
pub mod spec;
pub mod tui;
pub mod units;
pub mod upload;
pub mod validate;
