//! `lbimport history [--tracker NAME] [--json]`: past uploads, newest first.
//!
//! Exit status: 0 listed (even when empty); 1 the history could not be read.

use std::process::ExitCode;

use crate::config::{History, HistoryEntry};

/// Arguments of `lbimport history`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// Only uploads to this tracker (its saved name, or its tracker id).
    #[arg(long, value_name = "NAME")]
    pub tracker: Option<String>,
    /// Print JSON (an array of entries, newest first).
    #[arg(long)]
    pub json: bool,
    /// `forget`: remove one upload's orders from the already-sent record.
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
}

/// Subcommands of `lbimport history`.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Remove the orders of entry N (1 = the newest upload listed by `history --tracker NAME`)
    /// from the record of orders already sent, e.g. for an upload the service later rejected.
    Forget {
        /// The tracker (its saved name, or its tracker id).
        #[arg(long, value_name = "NAME")]
        tracker: String,
        /// The entry's number in `lbimport history --tracker NAME` (newest = 1).
        #[arg(long, value_name = "N")]
        entry: usize,
    },
}

/// Run `lbimport history`.
pub fn run(args: Args) -> ExitCode {
    match History::open_default() {
        Ok(h) => run_with(&h, args),
        Err(e) => {
            eprintln!("lbimport: {e}");
            ExitCode::from(1)
        }
    }
}

/// Run `lbimport history` against a given history file.
pub fn run_with(history: &History, args: Args) -> ExitCode {
    let (entries, warnings) = match history.list_with_warnings() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("lbimport: {e}");
            return ExitCode::from(1);
        }
    };
    for w in &warnings {
        eprintln!("lbimport: warning: {w}");
    }
    if let Some(Cmd::Forget { tracker, entry }) = &args.cmd {
        let mine: Vec<&HistoryEntry> = entries
            .iter()
            .filter(|e| &e.tracker_name == tracker || &e.tracker_id == tracker)
            .collect();
        let Some(e) = entry.checked_sub(1).and_then(|i| mine.get(i)) else {
            eprintln!(
                "lbimport: history forget: no entry {entry} for \"{tracker}\" ({} entries)",
                mine.len()
            );
            return ExitCode::from(2);
        };
        return match super::overlap::forget(e) {
            Ok(true) => {
                println!(
                    "Forgot the orders of the upload of {} on {} (entry {entry}).",
                    e.file.display(),
                    e.time.format("%Y-%m-%d %H:%M:%S UTC")
                );
                ExitCode::SUCCESS
            }
            Ok(false) => {
                println!("Entry {entry} has no record of its orders; nothing to forget.");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("lbimport: history forget: {err}");
                ExitCode::from(1)
            }
        };
    }
    let entries: Vec<HistoryEntry> = match &args.tracker {
        Some(t) => entries
            .into_iter()
            .filter(|e| &e.tracker_name == t || &e.tracker_id == t)
            .collect(),
        None => entries,
    };
    if args.json {
        return match serde_json::to_string_pretty(&entries) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("lbimport: {e}");
                ExitCode::from(1)
            }
        };
    }
    if entries.is_empty() {
        match &args.tracker {
            Some(t) => println!("No uploads recorded for \"{t}\"."),
            None => println!("No uploads recorded yet."),
        }
        return ExitCode::SUCCESS;
    }
    if args.tracker.is_some() {
        // numbered as `history forget --entry N` takes them
        print!("{}", numbered_table(&entries));
    } else {
        print!("{}", history_table(&entries));
    }
    ExitCode::SUCCESS
}

/// The purchase range of an entry, "first – last" (`—` for entries written before lbimport
/// recorded it, or uploaded without validation).
pub fn purchase_range(e: &HistoryEntry) -> String {
    match (&e.first_purchase, &e.last_purchase) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        _ => "—".to_string(),
    }
}

const HEADERS: [&str; 9] = [
    "TIME (UTC)",
    "TRACKER",
    "OUTCOME",
    "BYTES",
    "ROWS",
    "ORDERS",
    "PURCHASES (FIRST – LAST)",
    "SHA256",
    "FILE",
];

/// The human table of `lbimport history` (times in UTC).
pub fn history_table(entries: &[HistoryEntry]) -> String {
    let rows: Vec<[String; 9]> = entries.iter().map(row).collect();
    super::tracker::table(&HEADERS, &rows)
}

/// The table of `lbimport history --tracker NAME`: the columns of [`history_table`] after the
/// entry's number (newest = 1), the `N` that `history forget --entry N` takes.
pub fn numbered_table(entries: &[HistoryEntry]) -> String {
    let rows: Vec<[String; 10]> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let [a, b, c, d, f, g, h, j, k] = row(e);
            [(i + 1).to_string(), a, b, c, d, f, g, h, j, k]
        })
        .collect();
    let [a, b, c, d, f, g, h, j, k] = HEADERS;
    super::tracker::table(&["N", a, b, c, d, f, g, h, j, k], &rows)
}

fn row(e: &HistoryEntry) -> [String; 9] {
    [
        e.time.format("%Y-%m-%d %H:%M:%S").to_string(),
        e.tracker_name.clone(),
        match e.status {
            Some(s) => format!("{} {s}", e.outcome),
            None => e.outcome.to_string(),
        },
        crate::units::bytes(e.bytes),
        e.rows.map_or("-".to_string(), |r| r.to_string()),
        e.orders.map_or("-".to_string(), |r| r.to_string()),
        purchase_range(e),
        e.sha256.chars().take(12).collect(),
        e.file.display().to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_numbers() {
        let mut e = crate::tui::demo::demo_history_entry();
        assert_eq!(purchase_range(&e), "—");
        e.first_purchase = Some("2025-01-01 00:00:00".into());
        assert_eq!(purchase_range(&e), "—");
        e.last_purchase = Some("2025-12-28 23:59:00".into());
        assert_eq!(
            purchase_range(&e),
            "2025-01-01 00:00:00 – 2025-12-28 23:59:00"
        );
        let older = crate::tui::demo::demo_history_entry();
        let t = numbered_table(&[e, older]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("N  TIME (UTC)"), "{t}");
        assert!(lines[1].starts_with("1  "), "{t}");
        assert!(
            lines[1].contains("402118  2025-01-01 00:00:00 – 2025-12-28 23:59:00  "),
            "{t}"
        );
        assert!(lines[2].starts_with("2  "), "{t}");
        assert!(lines[2].contains("402118  —  "), "{t}");
    }

    #[test]
    fn sizes() {
        assert_eq!(crate::units::bytes(999), "999 B");
        assert_eq!(crate::units::bytes(1_234_567), "1.23 MB");
        assert_eq!(crate::units::bytes(1_000_000_000), "1.00 GB");
    }
}
