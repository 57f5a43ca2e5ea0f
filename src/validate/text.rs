//! The human text report of a validation (what `lbimport validate` prints, saved beside JSON
//! reports and shown by `lbimport report --text`).

use std::fmt::Write as _;

use super::{Report, Severity, Verdict};
use crate::read::Format;
use crate::validate;

pub use crate::units::thousands;

/// Every field of a report that came from the file (or its name) goes through this: terminal
/// escape sequences in ids must not reach the terminal.
pub(crate) fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    validate::escape_controls(s)
}

/// "1,000 on 2026-11-02 10:15 UTC in orders-until-october.csv".
pub fn sent_by(b: &validate::SentBy) -> String {
    let when = b
        .sent_at
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| format!("upload {}", b.key));
    let file = b
        .file
        .as_deref()
        .map(|f| {
            let name = std::path::Path::new(f)
                .file_name()
                .map_or_else(|| f.to_string(), |n| n.to_string_lossy().into_owned());
            format!(" in {}", esc(&name))
        })
        .unwrap_or_default();
    format!("{} on {when}{file}", thousands(b.orders))
}

/// "1,000 of 1,500 orders (66.7 %, 2,000 rows) were already sent: 1,000 on 2026-11-02 10:15
/// UTC in orders-a.csv", or that none were (with how many earlier uploads were compared).
pub fn already_sent_line(a: &validate::AlreadySent) -> String {
    if a.orders == 0 {
        return format!(
            "none of the {} orders were sent before (compared with {})",
            thousands(a.file_orders),
            uploads(a.uploads_compared)
        );
    }
    let pct = if a.file_orders == 0 {
        0.0
    } else {
        a.orders as f64 * 100.0 / a.file_orders as f64
    };
    format!(
        "{} of {} orders ({pct:.1} %, {} rows) were already sent: {}",
        thousands(a.orders),
        thousands(a.file_orders),
        thousands(a.rows),
        a.by_upload
            .iter()
            .map(sent_by)
            .collect::<Vec<_>>()
            .join("; ")
    )
}

fn uploads(n: u64) -> String {
    match n {
        1 => "1 earlier upload".to_string(),
        n => format!("{} earlier uploads", thousands(n)),
    }
}

/// The human text report: a summary table, then issues by severity with examples, then samples.
pub fn render_text(r: &Report) -> String {
    let s = &r.stats;
    let mut o = String::new();
    let fmt = match r.file.format {
        Format::Csv => "CSV",
        Format::Json => "JSON lines",
    };
    let endings = match r.file.line_endings {
        validate::LineEndings::Lf => "LF",
        validate::LineEndings::Crlf => "CRLF",
        validate::LineEndings::Mixed => "mixed LF/CRLF",
    };
    let verdict = match r.verdict {
        Verdict::Ok => "OK — no problems found",
        Verdict::Warnings => "WARNINGS — the service would accept the file; review the warnings",
        Verdict::Errors => "ERRORS — the service would cancel the whole import",
    };
    let row = |o: &mut String, k: &str, v: String| {
        let _ = writeln!(o, "  {k:<17} {v}");
    };
    let _ = writeln!(o, "Validation of {}", esc(&r.file.path));
    row(
        &mut o,
        "File",
        format!(
            "{} bytes, {fmt}, {endings} line endings{}",
            thousands(r.file.bytes),
            if r.file.bom { ", UTF-8 BOM" } else { "" }
        ),
    );
    row(&mut o, "SHA-256", r.file.sha256.clone());
    row(&mut o, "Verdict", verdict.to_string());
    let _ = writeln!(o);
    row(&mut o, "Lines", thousands(s.lines));
    row(
        &mut o,
        "Rows",
        format!(
            "{} ({} valid, {} invalid)",
            thousands(s.rows),
            thousands(s.valid_rows),
            thousands(s.invalid_rows)
        ),
    );
    row(
        &mut o,
        "Orders",
        format!(
            "{} ({} single-item, {} multi-item)",
            thousands(s.orders),
            thousands(s.single_item_orders),
            thousands(s.multi_item_orders)
        ),
    );
    row(&mut o, "Co-purchase pairs", thousands(s.pairs));
    let d = &s.items_per_order;
    row(
        &mut o,
        "Items per order",
        format!(
            "mean {:.2}, median {}, p90 {}, p99 {}, max {}",
            d.mean, d.p50, d.p90, d.p99, d.max
        ),
    );
    row(&mut o, "Products", thousands(s.products));
    row(
        &mut o,
        "Users",
        format!(
            "{} ({} rows with a user id)",
            thousands(s.users),
            thousands(s.rows_with_user)
        ),
    );
    let span = match (&s.first_purchase, &s.last_purchase) {
        (Some(a), Some(b)) => format!(", {} … {}", esc(a), esc(b)),
        _ => String::new(),
    };
    row(
        &mut o,
        "Timestamps",
        format!("{} rows{span}", thousands(s.rows_with_timestamp)),
    );
    if !s.top_products.is_empty() {
        let top: Vec<String> = s
            .top_products
            .iter()
            .take(5)
            .map(|t| format!("{} ({})", esc(&t.identity), thousands(t.rows)))
            .collect();
        row(&mut o, "Top products", top.join(", "));
    }
    if let Some(c) = &r.catalog {
        let v = match &c.skipped {
            Some(why) => why.clone(),
            None => format!(
                "{:.1} % of rows, {} of {} identities in the catalog ({} identities, {}{})",
                c.row_match_rate * 100.0,
                thousands(c.identities_matched),
                thousands(c.identities),
                thousands(c.catalog_identities),
                esc(&c.source),
                c.fetched_at
                    .map(|t| format!(", fetched {}", t.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default()
            ),
        };
        row(&mut o, "Catalog", v);
        for d in &c.diagnoses {
            row(
                &mut o,
                "",
                format!(
                    "{} of the {} most frequent unknown identities: {} (e.g. {}); fix: normalize {}",
                    thousands(d.identities),
                    thousands(d.tried),
                    d.description,
                    esc(&d.example),
                    d.flag
                ),
            );
        }
    }
    if let Some(a) = &r.already_sent
        && let Some(why) = &a.skipped
    {
        row(&mut o, "Already sent", esc(why).into_owned());
    } else if let Some(a) = &r.already_sent {
        let mut v = already_sent_line(a);
        if let Some(oldest) = a.unrecorded.iter().filter_map(|u| u.sent_at).min() {
            v.push_str(&format!(
                "; {} earlier upload(s) to this tracker (since {}) have no record of their \
                 orders: they were not compared",
                a.unrecorded.len(),
                oldest.format("%Y-%m-%d")
            ));
        }
        row(&mut o, "Already sent", v);
    }

    for sev in [Severity::Error, Severity::Warning, Severity::Info] {
        let list: Vec<_> = r.issues.iter().filter(|i| i.severity == sev).collect();
        let title = match sev {
            Severity::Error => "Errors",
            Severity::Warning => "Warnings",
            Severity::Info => "Info",
        };
        let _ = writeln!(o);
        if list.is_empty() {
            let _ = writeln!(o, "{title}: none");
            continue;
        }
        let _ = writeln!(o, "{title}:");
        for i in list {
            let _ = writeln!(
                o,
                "  {} ×{}: {}",
                i.code.as_str(),
                thousands(i.count),
                esc(&i.message)
            );
            for e in &i.examples {
                if e.line == 0 {
                    let _ = writeln!(o, "      {}", esc(&e.text));
                } else {
                    let _ = writeln!(
                        o,
                        "      line {} (byte {}): {}",
                        e.line,
                        e.byte,
                        esc(&e.text)
                    );
                }
            }
        }
    }
    if !r.samples.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "Sample orders:");
        for smp in &r.samples {
            let _ = writeln!(
                o,
                "  order {} ({} rows)",
                esc(&smp.order_id),
                smp.rows.len()
            );
            for sr in smp.rows.iter().take(20) {
                let _ = writeln!(
                    o,
                    "      line {:<8} {}  user {}  at {}",
                    sr.line,
                    esc(&sr.identity),
                    esc(sr.user_id.as_deref().unwrap_or("-")),
                    esc(sr.created_at.as_deref().unwrap_or("-"))
                );
            }
            if smp.rows.len() > 20 {
                let _ = writeln!(o, "      … {} more rows", smp.rows.len() - 20);
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(21_000_000), "21,000,000");
    }
}
