//! The module graph follows the layer order of ARCHITECTURE.md: a module may use its own layer's
//! modules' items only through its own files, and modules of lower layers; never a higher
//! layer or a sibling of the same layer. Read from the sources: every `crate::NAME` path.

use std::collections::BTreeSet;
use std::path::Path;

/// Top-level modules, lowest layer first. Modules of one layer may not use each other.
const LAYERS: &[&[&str]] = &[
    &["spec", "files"],
    &["read", "units"],
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
const KNOWN: &[(&str, &str, &str)] = &[];

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

/// The files of `module` (its `src/<module>/*.rs`) and which siblings each uses through
/// `super::NAME` or `crate::<module>::NAME` (outside comments and its tests).
fn sibling_uses(module: &str) -> Vec<(String, BTreeSet<String>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(module);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let name = p.file_stem()?.to_str()?.to_string();
            (p.extension()? == "rs" && name != "mod")
                .then(|| (name, std::fs::read_to_string(&p).unwrap_or_default()))
        })
        .collect();
    files.sort();
    let names: BTreeSet<String> = files.iter().map(|f| f.0.clone()).collect();
    files
        .iter()
        .map(|(name, text)| {
            let code: String = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or("")
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let mut deps = BTreeSet::new();
            for prefix in ["super::".to_string(), format!("crate::{module}::")] {
                let mut rest = code.as_str();
                while let Some(i) = rest.find(&prefix) {
                    rest = &rest[i + prefix.len()..];
                    let dep: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if names.contains(&dep) && &dep != name {
                        deps.insert(dep);
                    }
                }
            }
            (name.clone(), deps)
        })
        .collect()
}

/// A cycle among the files of `module`, if there is one.
fn cycle(module: &str) -> Option<Vec<String>> {
    let uses = sibling_uses(module);
    fn walk(
        at: &str,
        uses: &[(String, BTreeSet<String>)],
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == at) {
            let mut c = path[i..].to_vec();
            c.push(at.to_string());
            return Some(c);
        }
        if done.contains(at) {
            return None;
        }
        path.push(at.to_string());
        let deps = uses.iter().find(|u| u.0 == at).map(|u| u.1.clone());
        for d in deps.into_iter().flatten() {
            if let Some(c) = walk(&d, uses, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(at.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for (name, _) in &uses {
        if let Some(c) = walk(name, &uses, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_validators_files_use_each_other_without_cycles() {
    let uses = sibling_uses("validate");
    assert!(uses.len() >= 10, "{uses:?}");
    assert!(uses.iter().any(|u| u.0 == "run" && u.1.contains("engine")));
    assert_eq!(cycle("validate"), None);
}

/// `mapping`'s files: detection previews conversions (detect → convert), conversion and
/// detection read JSON through `json`; nothing goes back up.
#[test]
fn the_mapping_files_use_each_other_without_cycles() {
    let uses = sibling_uses("mapping");
    assert!(uses.len() >= 6, "{uses:?}");
    assert!(
        uses.iter()
            .any(|u| u.0 == "detect" && u.1.contains("convert"))
    );
    assert_eq!(cycle("mapping"), None);
}

/// The wizard's steps, their shared contract (`tui::flow`), the overlays and the services
/// never use the router (`tui::app`): the router builds on them, not the other way round.
/// Only the run loop (`tui/mod.rs`) and the demo screens use it.
#[test]
fn wizard_steps_do_not_use_the_router() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    assert!(
        files.len() > 10,
        "the scan found too little: {}",
        files.len()
    );
    let mut bad = Vec::new();
    for p in files {
        let rel = p
            .strip_prefix(&root)
            .map(|r| r.to_string_lossy().into_owned());
        let rel = rel.unwrap_or_default();
        if ["app.rs", "mod.rs", "demo.rs"].contains(&rel.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for pat in ["crate::tui::app", "super::app", "super::super::app"] {
            if code.contains(pat) {
                bad.push(format!("src/tui/{rel} uses {pat}"));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
