//! The README must not drift from the binary.
//!
//! Every `lbimport …` command in a fenced `sh` block (and `cargo run … -- …` lines) must name
//! real subcommands and real flags (checked against `--help`); the tracker and history
//! commands, which need no network, are also run for real in temporary directories; the
//! example user theme must load without warnings.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use lbimport::tui::theme::Theme;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md is readable")
}

/// The bodies of fenced code blocks whose info string is `lang`.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    // None: outside a block; Some(None): inside another language's block.
    let mut current: Option<Option<String>> = None;
    for line in text.lines() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            match current.take() {
                Some(Some(body)) => out.push(body),
                Some(None) => {}
                None => current = Some((info.trim() == lang).then(String::new)),
            }
            continue;
        }
        if let Some(Some(body)) = &mut current {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// Split a shell line into words: quotes, backslash escapes, `#` comments, a trailing `&`.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                word.push(n);
                            }
                        }
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            '#' if !in_word => break,
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.last().is_some_and(|w| w == "&") {
        words.pop();
    }
    words
}

/// The arguments of every `lbimport` invocation in the README's `sh` blocks.
fn commands(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for body in blocks(text, "sh") {
        let joined = body.replace("\\\n", " ");
        for line in joined.lines() {
            let mut words = shell_words(line);
            // Leading VAR=value assignments.
            while words.first().is_some_and(|w| {
                w.split_once('=').is_some_and(|(k, _)| {
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                })
            }) {
                words.remove(0);
            }
            match words.first().map(String::as_str) {
                Some("lbimport") => out.push(words[1..].to_vec()),
                Some("cargo") if words.get(1).is_some_and(|w| w == "run") => {
                    let args = match words.iter().position(|w| w == "--") {
                        Some(i) => words[i + 1..].to_vec(),
                        None => Vec::new(),
                    };
                    out.push(args);
                }
                _ => {}
            }
        }
    }
    out
}

struct Bin {
    config: tempfile::TempDir,
    data: tempfile::TempDir,
    help: BTreeMap<Vec<String>, Option<String>>,
}

impl Bin {
    fn new() -> Self {
        Bin {
            config: tempfile::tempdir().unwrap(),
            data: tempfile::tempdir().unwrap(),
            help: BTreeMap::new(),
        }
    }

    fn command(&self, args: &[String]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lbimport"));
        cmd.args(args)
            .env("LBIMPORT_CONFIG_DIR", self.config.path())
            .env("LBIMPORT_DATA_DIR", self.data.path())
            .env_remove("NO_COLOR")
            .env("COLUMNS", "200")
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[String], stdin: Option<&str>) -> Output {
        let mut cmd = self.command(args);
        match stdin {
            None => cmd.output().unwrap(),
            Some(input) => {
                let mut child = cmd
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(input.as_bytes())
                    .unwrap();
                child.wait_with_output().unwrap()
            }
        }
    }

    /// `lbimport PATH… --help`, or `None` when PATH is not a (sub)command.
    fn help(&mut self, path: &[String]) -> Option<String> {
        if let Some(h) = self.help.get(path) {
            return h.clone();
        }
        let mut args = path.to_vec();
        args.push("--help".into());
        let out = self.run(&args, None);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let usage = format!("Usage: lbimport {}", path.join(" "));
        let ok = out.status.success()
            && text.lines().any(|l| {
                l.strip_prefix(usage.trim_end())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
            });
        let h = ok.then_some(text);
        self.help.insert(path.to_vec(), h.clone());
        h
    }
}

#[test]
fn shell_words_split_like_a_shell() {
    assert_eq!(
        shell_words("lbimport tracker add x --private-key-command 'pass show a/b' &"),
        [
            "lbimport",
            "tracker",
            "add",
            "x",
            "--private-key-command",
            "pass show a/b"
        ]
    );
    assert_eq!(
        shell_words("cargo run --release   # opens the wizard"),
        ["cargo", "run", "--release"]
    );
    assert_eq!(
        shell_words("a \"b \\\"c\\\"\" d#e"),
        ["a", "b \"c\"", "d#e"]
    );
}

#[test]
fn every_readme_command_names_real_subcommands_and_flags() {
    let text = readme();
    let cmds = commands(&text);
    assert!(cmds.len() >= 15, "found only {} commands", cmds.len());
    let mut bin = Bin::new();
    let mut problems = Vec::new();
    let mut used: Vec<String> = Vec::new();
    for args in &cmds {
        let shown = format!("lbimport {}", args.join(" "));
        let mut path: Vec<String> = Vec::new();
        for a in args.iter().take_while(|a| !a.starts_with('-')) {
            let mut next = path.clone();
            next.push(a.clone());
            if bin.help(&next).is_some() {
                path = next;
            } else {
                break;
            }
        }
        if let Some(first) = path.first() {
            used.push(first.clone());
        }
        let Some(help) = bin.help(&path) else {
            problems.push(format!(
                "{shown}: `lbimport {} --help` fails",
                path.join(" ")
            ));
            continue;
        };
        if path.is_empty() && args.iter().any(|a| !a.starts_with('-')) {
            problems.push(format!("{shown}: `{}` is not a subcommand", args[0]));
            continue;
        }
        for flag in args.iter().filter(|a| a.starts_with('-') && a.len() > 1) {
            let name = flag.split('=').next().unwrap_or(flag);
            let found = help.match_indices(name).any(|(i, _)| {
                let after = help[i + name.len()..].chars().next();
                let before = help[..i].chars().next_back();
                before.is_none_or(|c| c.is_whitespace() || c == '[' || c == ',')
                    && after.is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'))
            });
            if !found {
                problems.push(format!(
                    "{shown}: `lbimport {}` has no flag {name}",
                    path.join(" ")
                ));
            }
        }
    }
    for sub in [
        "validate", "upload", "serve", "tracker", "history", "wizard",
    ] {
        if !used.iter().any(|u| u == sub) {
            problems.push(format!("the README shows no `lbimport {sub}` command"));
        }
    }
    assert!(
        problems.is_empty(),
        "README.md is out of date:\n{}",
        problems.join("\n")
    );
}

#[test]
fn readme_tracker_and_history_commands_run() {
    let text = readme();
    let bin = Bin::new();
    let stdin_key = "readme-stdin-key-4242";
    let mut ran = 0;
    for args in commands(&text) {
        let first = args.first().map(String::as_str);
        if !matches!(first, Some("tracker") | Some("history")) {
            continue;
        }
        let stdin = args
            .iter()
            .any(|a| a == "--private-key-stdin")
            .then(|| format!("{stdin_key}\n"));
        let out = bin.run(&args, stdin.as_deref());
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "lbimport {}\nstdout: {stdout}\nstderr: {stderr}",
            args.join(" ")
        );
        assert!(!stdout.contains(stdin_key) && !stderr.contains(stdin_key));
        ran += 1;
    }
    assert!(ran >= 9, "ran {ran} tracker/history commands");
    // The README's trackers are saved: shop-stage was removed at the end, the rest remain.
    let out = bin.run(&["tracker".into(), "list".into(), "--json".into()], None);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["sandbox", "shop-prod", "shop-test"]);
    let prod = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "shop-prod")
        .unwrap();
    assert_eq!(prod["base_url"], "https://live.luigisbox.tech");
    assert_eq!(prod["key_source"], "env:LB_SHOP_KEY");
}

#[test]
fn readme_theme_example_loads_cleanly() {
    let text = readme();
    let toml_blocks = blocks(&text, "toml");
    assert_eq!(toml_blocks.len(), 1, "one example theme in the README");
    let example = &toml_blocks[0];
    let name = example
        .lines()
        .find_map(|l| l.trim().strip_prefix("# "))
        .and_then(|p| Path::new(p).file_stem().and_then(|s| s.to_str()))
        .map(str::to_string)
        .expect("the example names its file in a comment");
    let config = tempfile::tempdir().unwrap();
    let dir: PathBuf = config.path().join("themes");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.toml")), example).unwrap();
    let env = |k: &str| (k == "COLORTERM").then(|| "truecolor".to_string());
    let (theme, warnings) = Theme::load_with_env(Some(&name), Some(config.path()), &env);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(theme.name, "ocean");
    // As the README says: only bg changes in selection; fg and bold are inherited.
    let default = Theme::builtin("default").unwrap();
    assert_eq!(theme.selection.fg, default.selection.fg);
    assert_eq!(theme.selection.bg, Some(ratatui::style::Color::Indexed(31)));
    assert_eq!(theme.selection.add_modifier, default.selection.add_modifier);
    assert_eq!(theme.text, default.text);
}

#[test]
fn readme_images_exist() {
    let text = readme();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for part in text.split("](").skip(1) {
        let target = part.split(')').next().unwrap_or("");
        if target.starts_with("screenshots/") || target.starts_with("themes/") {
            assert!(
                root.join(target).exists(),
                "README links {target}, which is missing"
            );
            n += 1;
        }
    }
    assert!(n >= 5, "{n} local images/links");
}
