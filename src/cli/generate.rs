//! `lbimport generate`: a deterministic generator of realistic purchase files (benchmarks, demos).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::generate::{GenOptions, generate, parse_size};
use crate::read::Format;

/// Arguments of `lbimport generate`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// Approximate size, e.g. `1.09GB`, `500MB`, `64KiB` (stops at an order boundary).
    #[arg(long, value_name = "SIZE")]
    pub size: Option<String>,
    /// Number of rows (at least; stops at an order boundary). Default 1000 without --size.
    #[arg(long, value_name = "N")]
    pub rows: Option<u64>,
    /// csv or json (JSON lines).
    #[arg(long, value_name = "csv|json", default_value = "csv")]
    pub format: String,
    /// PRNG seed: the same options and seed give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Distinct products to draw from.
    #[arg(long, default_value_t = 200_000)]
    pub products: u64,
    /// Distinct users to draw from.
    #[arg(long, default_value_t = 3_000_000)]
    pub users: u64,
    /// Quote created_at in CSV, as in the documentation's example.
    #[arg(long)]
    pub quote_timestamps: bool,
    /// Output file (default: standard output).
    #[arg(long, short, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

/// Run `lbimport generate`.
pub fn run(args: Args) -> ExitCode {
    let format = match args.format.as_str() {
        "csv" => Format::Csv,
        "json" => Format::Json,
        other => return super::fail_usage(format!("generate: unknown format {other:?}")),
    };
    let bytes = match args.size.as_deref().map(parse_size) {
        None => None,
        Some(Some(b)) => Some(b),
        Some(None) => return super::fail_usage("generate: --size must look like 1.09GB or 500MiB"),
    };
    let opts = GenOptions {
        bytes,
        rows: args.rows,
        format,
        seed: args.seed,
        products: args.products,
        users: args.users,
        quote_timestamps: args.quote_timestamps,
    };
    let res = match &args.out {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => {
                let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
                generate(&mut w, &opts)
            }
            Err(e) => {
                return super::fail_usage(format!("generate: cannot create {}: {e}", p.display()));
            }
        },
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            let r = generate(&mut w, &opts);
            let _ = w.flush();
            r
        }
    };
    match res {
        Ok(s) => {
            eprintln!(
                "generated {} rows, {} orders, {} bytes",
                s.rows, s.orders, s.bytes
            );
            ExitCode::SUCCESS
        }
        Err(e) => super::fail_usage(format!("generate: {e}")),
    }
}
