//! The module graph follows the layer order of ARCHITECTURE.md: a module may use its own layer's
//! modules' items only through its own files, and modules of lower layers; never a higher
//! layer or a sibling of the same layer. Read from the sources: every `crate::NAME` path.

use std::collections::BTreeSet;
use std::path::Path;

/// Top-level modules, lowest layer first. Modules of one layer may not use each other.
const LAYERS: &[&[&str]] = &[
    &["spec"],
    &["read"],
    &["validate", "generate"],
    &["mapping"],
    &["config"],
    &["report_store"],
    &["upload"],
    &["catalog"],
    &["server"],
    &["pipeline"],
    &["tui"],
    &["cli"],
];

/// Known exceptions, each to be removed by moving the code named: (from, to, why).
const KNOWN: &[(&str, &str, &str)] = &[(
    "mapping",
    "config",
    "saved mappings and `prepare` read trackers.toml; converted files go to the data dir",
)];

fn layer(m: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&m))
}

fn visit(dir: &Path, out: &mut Vec<(String, String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            visit(&p, out);
            continue;
        }
        if p.extension().and_then(|x| x.to_str()) != Some("rs") {
            continue;
        }
        let rel = p
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_default();
        let top = rel
            .split('/')
            .next()
            .unwrap_or("")
            .trim_end_matches(".rs")
            .to_string();
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        // Everything from a test module on is the module's own tests: not part of the graph.
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or("")
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let code = code.as_str();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let dep: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if dep != top && layer(&dep).is_some() {
                out.push((top.clone(), dep, rel.clone()));
            }
        }
        // `use crate::{a, b}` groups
        let mut rest = code;
        while let Some(i) = rest.find("use crate::{") {
            rest = &rest[i + "use crate::{".len()..];
            let group = rest.split('}').next().unwrap_or("");
            for part in group.split(',') {
                let dep: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if dep != top && layer(&dep).is_some() {
                    out.push((top.clone(), dep, rel.clone()));
                }
            }
        }
    }
}

#[test]
fn modules_import_only_lower_layers() {
    let mut uses = Vec::new();
    visit(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut uses,
    );
    assert!(uses.len() > 50, "the scan found too little: {}", uses.len());
    let mut bad = BTreeSet::new();
    let mut seen_known = BTreeSet::new();
    for (from, to, file) in &uses {
        let (Some(a), Some(b)) = (layer(from), layer(to)) else {
            continue;
        };
        if b < a {
            continue;
        }
        if KNOWN.iter().any(|(f, t, _)| f == from && t == to) {
            seen_known.insert((from.clone(), to.clone()));
            continue;
        }
        bad.insert(format!("{file}: {from} uses crate::{to} (layer {b} ≥ {a})"));
    }
    assert!(
        bad.is_empty(),
        "imports against the layer order (see ARCHITECTURE.md):\n{}",
        bad.into_iter().collect::<Vec<_>>().join("\n")
    );
    // An exception that no longer happens must leave the list.
    for (f, t, why) in KNOWN {
        assert!(
            seen_known.contains(&(f.to_string(), t.to_string())),
            "{f} → {t} is gone: remove it from KNOWN ({why})"
        );
    }
}
