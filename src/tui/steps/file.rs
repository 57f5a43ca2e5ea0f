//! Step 2, File: a file browser (directories first, size, mtime, fuzzy filter, preview) and a
//! path field with Tab completion.

use std::io::Read;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::{TextField, is_char, step_selection};
use crate::tui::flow::{Chosen, Cx, DrawCx, Effect, FileChoice, Nav, Next, StepScreen, Transition};
use crate::tui::keys::{self, Binding, alias, bind, ch, code, find, hints};
use crate::tui::theme::Theme;
use crate::tui::ui::{self, KeyHint, hint};

/// Most directory entries listed (a huge directory must not stall the UI).
pub const MAX_ENTRIES: usize = 5000;

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// File name (`..` for the parent).
    pub name: String,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Size in bytes (files).
    pub size: u64,
    /// Modification time, formatted.
    pub modified: String,
}

impl Entry {
    fn hidden(&self) -> bool {
        self.name.starts_with('.') && self.name != ".."
    }
    fn importable(&self) -> bool {
        let n = self.name.to_ascii_lowercase();
        !self.is_dir && (n.ends_with(".csv") || n.ends_with(".json") || n.ends_with(".jsonl"))
    }
}

/// The preview of the highlighted file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// First lines, sanitised.
    pub lines: Vec<String>,
    /// What the first bytes look like: `CSV (, separated)`, `JSON lines`, …
    pub sniffed: String,
}

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    /// The list.
    #[default]
    List,
    /// The path field.
    Path,
}

/// State of the file step.
#[derive(Debug, Clone, Default)]
pub struct FileView {
    /// Directory shown.
    pub dir: PathBuf,
    /// Its entries (`..` first, then directories, then files).
    pub entries: Vec<Entry>,
    /// Show dot files.
    pub show_hidden: bool,
    /// Fuzzy filter.
    pub filter: TextField,
    /// Typing goes to the filter.
    pub filtering: bool,
    /// Selected index into [`FileView::visible`].
    pub selected: usize,
    /// Preview of the selected file.
    pub preview: Option<Preview>,
    /// Focused pane.
    pub focus: Focus,
    /// The path field.
    pub path: TextField,
    /// Completion candidates / errors.
    pub message: Option<String>,
    /// Whether the directory listing was cut at [`MAX_ENTRIES`].
    pub truncated: bool,
}

/// What the file step's keys do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Complete,
    OpenPath,
    List,
    Select,
    Choose,
    ClearFilter,
    Back,
    Path,
    FilterBack,
    Parent,
    Filter,
    Hidden,
}

/// What the file step asks the app to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond the state change.
    None,
    /// Back to the tracker step.
    Back,
    /// This file was chosen.
    Choose(PathBuf),
}

impl FileView {
    /// A browser opened on `dir`.
    pub fn open(dir: &Path) -> Self {
        let mut v = FileView::default();
        v.cd(dir);
        v
    }

    /// Show `dir`, reading its entries.
    pub fn cd(&mut self, dir: &Path) {
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        match read_dir(&dir) {
            Ok((entries, truncated)) => {
                self.entries = entries;
                self.truncated = truncated;
                self.dir = dir;
                self.message = None;
            }
            Err(e) => {
                self.message = Some(format!("cannot open {}: {e}", dir.display()));
                if self.entries.is_empty() {
                    self.dir = dir;
                }
            }
        }
        self.filter.value.clear();
        self.filtering = false;
        self.selected = usize::from(self.entries.len() > 1 && self.entries[0].name == "..");
        self.path = TextField::new(format!("{}/", self.dir.display()).replace("//", "/"));
        self.refresh_preview();
    }

    /// Read the shown directory again (files exported meanwhile appear), keeping the selected
    /// entry when it is still there.
    pub fn reread(&mut self) {
        let Ok((entries, truncated)) = read_dir(&self.dir) else {
            return;
        };
        let selected = self
            .visible()
            .get(self.selected)
            .and_then(|&i| self.entries.get(i))
            .map(|e| e.name.clone());
        self.entries = entries;
        self.truncated = truncated;
        if let Some(name) = selected
            && let Some(pos) = self
                .visible()
                .iter()
                .position(|&i| self.entries[i].name == name)
        {
            self.selected = pos;
        } else {
            self.selected = self.selected.min(self.visible().len().saturating_sub(1));
        }
        self.refresh_preview();
    }

    /// Indices of the entries shown, after the hidden toggle and the fuzzy filter.
    pub fn visible(&self) -> Vec<usize> {
        let mut scored: Vec<(i64, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| self.show_hidden || !e.hidden() || self.filter.value.starts_with('.'))
            .filter_map(|(i, e)| {
                if self.filter.value.is_empty() {
                    Some((0, i))
                } else if e.name == ".." {
                    None
                } else {
                    fuzzy(&self.filter.value, &e.name).map(|s| (-s, i))
                }
            })
            .collect();
        if !self.filter.value.is_empty() {
            scored.sort_by_key(|(s, i)| (!self.entries[*i].is_dir, *s, *i));
        }
        scored.into_iter().map(|(_, i)| i).collect()
    }

    fn current(&self) -> Option<&Entry> {
        self.visible()
            .get(self.selected)
            .and_then(|i| self.entries.get(*i))
    }

    /// Re-read the preview of the selected entry.
    pub fn refresh_preview(&mut self) {
        self.preview = match self.current() {
            Some(e) if !e.is_dir => Some(preview(&self.dir.join(&e.name))),
            _ => None,
        };
    }

    /// Whether keys go to a text field.
    pub fn captures_text(&self) -> bool {
        self.filtering || self.focus == Focus::Path
    }

    /// The step's keys for its state: the hint bar shows them, [`FileView::on_key`]
    /// dispatches them (typed text goes to the path or the filter).
    fn bindings(&self) -> Vec<Binding<Key>> {
        if self.focus == Focus::Path {
            return vec![
                bind(
                    &[code(KeyCode::Tab)],
                    hint(
                        "Tab",
                        "complete",
                        "Complete the path (twice lists the choices)",
                    ),
                    Key::Complete,
                ),
                bind(
                    &[code(KeyCode::Enter)],
                    hint("Enter", "open", "Choose the file, or browse the directory"),
                    Key::OpenPath,
                ),
                bind(
                    &[code(KeyCode::Esc), code(KeyCode::BackTab)],
                    hint("Esc", "list", "Back to the list"),
                    Key::List,
                ),
            ];
        }
        let mut v = Vec::new();
        if self.filtering {
            v.push(bind(
                &[],
                hint("type", "filter", "Fuzzy-filter the names"),
                Key::List,
            ));
        }
        v.push(bind(
            &keys::SELECT,
            hint("↑↓", "select", "Move the selection"),
            Key::Select,
        ));
        v.push(bind(
            &[code(KeyCode::Enter)],
            hint("Enter", "choose", "Open the directory or choose the file"),
            Key::Choose,
        ));
        if self.filtering || !self.filter.value.is_empty() {
            v.push(bind(
                &[code(KeyCode::Esc)],
                hint("Esc", "clear", "Clear the filter"),
                Key::ClearFilter,
            ));
        } else {
            v.push(bind(
                &[code(KeyCode::Esc)],
                hint("Esc", "back", "Back to the tracker step"),
                Key::Back,
            ));
        }
        if self.filtering {
            if !self.filter.value.is_empty() {
                v.push(alias(&[code(KeyCode::Backspace)], Key::FilterBack));
            }
            v.push(alias(&[code(KeyCode::Backspace)], Key::Parent));
            v.push(alias(&[code(KeyCode::Tab)], Key::Path));
            return v;
        }
        v.extend([
            bind(
                &[code(KeyCode::Backspace)],
                hint("⌫", "parent", "Go to the parent directory"),
                Key::Parent,
            ),
            bind(
                &[ch('/')],
                hint(
                    "/",
                    "filter",
                    "Type to filter (any letter but the keys here starts it too)",
                ),
                Key::Filter,
            ),
            bind(
                &[ch('.')],
                hint(".", "hidden", "Show or hide dot files"),
                Key::Hidden,
            ),
            bind(
                &[code(KeyCode::Tab)],
                hint("Tab", "path", "Type a path (with Tab completion)"),
                Key::Path,
            ),
        ]);
        v
    }

    /// The hints of the step's bindings.
    pub fn keys(&self) -> Vec<KeyHint> {
        hints(&self.bindings())
    }

    /// Handle a key.
    pub fn on_key(&mut self, key: &KeyEvent) -> Action {
        let Some(k) = find(&self.bindings(), key) else {
            if self.focus == Focus::Path {
                self.path.edit(key);
            } else if self.filtering {
                if self.filter.edit(key) {
                    self.selected = 0;
                    self.refresh_preview();
                }
            } else if let KeyCode::Char(c) = key.code
                && is_char(key, c)
                && (c.is_alphanumeric() || c == '_' || c == '-')
            {
                // typing a name starts the filter
                self.filtering = true;
                self.filter.value.push(c);
                self.selected = 0;
                self.refresh_preview();
            }
            return Action::None;
        };
        match k {
            Key::Complete => self.complete(),
            Key::OpenPath => return self.open_path(),
            Key::List => {
                self.focus = Focus::List;
                self.message = None;
            }
            Key::Select => {
                let len = self.visible().len();
                step_selection(&mut self.selected, len, key);
                self.refresh_preview();
            }
            Key::Choose => return self.enter(),
            Key::ClearFilter => {
                self.filtering = false;
                self.filter.value.clear();
                self.selected = 0;
                self.refresh_preview();
            }
            Key::Back => return Action::Back,
            Key::Path => {
                self.focus = Focus::Path;
                if let Some(e) = self.current()
                    && e.name != ".."
                {
                    self.path = TextField::new(self.dir.join(&e.name).display().to_string());
                }
            }
            Key::FilterBack => {
                self.filter.value.pop();
                self.selected = 0;
                self.refresh_preview();
            }
            Key::Parent => {
                self.filtering = false;
                if let Some(p) = self.dir.parent().map(Path::to_path_buf) {
                    let from = self
                        .dir
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned());
                    self.cd(&p);
                    if let Some(from) = from {
                        self.select_name(&from);
                    }
                }
            }
            Key::Filter => self.filtering = true,
            Key::Hidden => {
                self.show_hidden = !self.show_hidden;
                self.selected = 0;
                self.refresh_preview();
            }
        }
        Action::None
    }

    fn select_name(&mut self, name: &str) {
        if let Some(pos) = self
            .visible()
            .iter()
            .position(|i| self.entries[*i].name == name)
        {
            self.selected = pos;
            self.refresh_preview();
        }
    }

    fn enter(&mut self) -> Action {
        let Some(e) = self.current().cloned() else {
            return Action::None;
        };
        if e.name == ".." {
            if let Some(p) = self.dir.parent().map(Path::to_path_buf) {
                let from = self
                    .dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned());
                self.cd(&p);
                if let Some(from) = from {
                    self.select_name(&from);
                }
            }
            Action::None
        } else if e.is_dir {
            let d = self.dir.join(&e.name);
            self.cd(&d);
            Action::None
        } else {
            let p = self.dir.join(&e.name);
            match crate::read::regular_file(&p) {
                Ok(_) => Action::Choose(p),
                Err(err) => {
                    self.message = Some(format!("{}: {err}", p.display()));
                    Action::None
                }
            }
        }
    }

    fn open_path(&mut self) -> Action {
        let p = expand(&self.path.value);
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => {
                self.cd(&p);
                self.focus = Focus::List;
                Action::None
            }
            Ok(m) if !m.is_file() => {
                self.message = Some(format!(
                    "{}: not a regular file ({})",
                    p.display(),
                    crate::read::file_kind(&m)
                ));
                Action::None
            }
            Ok(_) => Action::Choose(p),
            Err(e) => {
                self.message = Some(format!("{}: {e}", p.display()));
                Action::None
            }
        }
    }

    /// Tab completion of the path field.
    pub fn complete(&mut self) {
        let typed = self.path.value.clone();
        let p = expand(&typed);
        let (dir, prefix) = if typed.ends_with('/') {
            (p.clone(), String::new())
        } else {
            (
                p.parent().map(Path::to_path_buf).unwrap_or_default(),
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        };
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let Ok(rd) = std::fs::read_dir(&dir) else {
            self.message = Some(format!("no such directory: {}", dir.display()));
            return;
        };
        let mut cands: Vec<(String, bool)> = rd
            .flatten()
            .take(MAX_ENTRIES)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (name.starts_with(&prefix) && (prefix.starts_with('.') || !name.starts_with('.')))
                    .then(|| (name, e.path().is_dir()))
            })
            .collect();
        cands.sort();
        let base = typed[..typed.len() - prefix.len().min(typed.len())].to_string();
        match cands.len() {
            0 => self.message = Some("no match".to_string()),
            1 => {
                let (n, d) = &cands[0];
                self.path = TextField::new(format!("{base}{n}{}", if *d { "/" } else { "" }));
                self.message = None;
            }
            _ => {
                let common = cands
                    .iter()
                    .skip(1)
                    .fold(cands[0].0.clone(), |acc, (n, _)| {
                        acc.chars()
                            .zip(n.chars())
                            .take_while(|(a, b)| a == b)
                            .map(|(a, _)| a)
                            .collect()
                    });
                self.path = TextField::new(format!("{base}{common}"));
                let list: Vec<String> = cands
                    .iter()
                    .take(20)
                    .map(|(n, d)| format!("{n}{}", if *d { "/" } else { "" }))
                    .collect();
                self.message = Some(list.join("  "));
            }
        }
    }

    /// Draw the step.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let [top, path_area] =
            Layout::vertical([Constraint::Min(5), Constraint::Length(3)]).areas(area);
        let [list_area, preview_area] =
            Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(top);
        let visible = self.visible();
        let wide = list_area.width >= 70;
        let rows: Vec<Row> = visible
            .iter()
            .filter_map(|i| self.entries.get(*i))
            .map(|e| {
                let (name, style) = if e.is_dir {
                    (format!("{}/", e.name), theme.accent)
                } else if e.importable() {
                    (e.name.clone(), theme.ok)
                } else {
                    (e.name.clone(), theme.text)
                };
                let size = if e.is_dir {
                    String::new()
                } else {
                    ui::bytes(e.size)
                };
                Row::new(vec![
                    Cell::from(Span::styled(ui::sanitize(&name, 200), style)),
                    Cell::from(Span::styled(size, theme.muted)),
                    Cell::from(Span::styled(
                        if wide {
                            e.modified.clone()
                        } else {
                            e.modified.chars().take(10).collect()
                        },
                        theme.muted,
                    )),
                ])
            })
            .collect();
        let mut title = ui::short_path(&self.dir.display().to_string(), 40);
        if self.filtering || !self.filter.value.is_empty() {
            title = format!("{title}  filter: {}▏", ui::sanitize(&self.filter.value, 30));
        }
        if self.show_hidden {
            title.push_str("  +hidden");
        }
        let table = Table::new(
            rows,
            [
                Constraint::Fill(1),
                Constraint::Length(9),
                Constraint::Length(if wide { 16 } else { 10 }),
            ],
        )
        .row_highlight_style(ui::selected(theme))
        .highlight_symbol(ui::SELECT_SYMBOL)
        .block(ui::block(theme, title));
        let mut st =
            TableState::default().with_selected((!visible.is_empty()).then_some(self.selected));
        frame.render_stateful_widget(table, list_area, &mut st);

        let mut lines = Vec::new();
        match (&self.preview, self.current()) {
            (Some(p), Some(e)) => {
                lines.push(Line::from(vec![
                    Span::styled(ui::sanitize(&e.name, 60), theme.title),
                    Span::styled(format!("  {}", ui::bytes(e.size)), theme.muted),
                ]));
                lines.push(Line::styled(p.sniffed.clone(), theme.accent));
                lines.push(Line::raw(""));
                for l in &p.lines {
                    lines.push(Line::styled(l.clone(), theme.text));
                }
            }
            (_, Some(e)) if e.is_dir => {
                lines.push(Line::styled("directory — Enter opens it", theme.muted));
            }
            _ => lines.push(Line::styled(
                if visible.is_empty() {
                    "nothing matches"
                } else {
                    ""
                },
                theme.muted,
            )),
        }
        frame.render_widget(
            Paragraph::new(lines).block(ui::block(theme, "Preview")),
            preview_area,
        );

        let focused = self.focus == Focus::Path;
        let mut spans = vec![Span::styled(
            ui::sanitize(&self.path.value, 300),
            if focused {
                theme.text.add_modifier(Modifier::BOLD)
            } else {
                theme.muted
            },
        )];
        if focused {
            spans.push(Span::styled("▏", theme.accent));
        }
        if let Some(m) = &self.message {
            spans.push(Span::styled(
                format!("   {}", ui::sanitize(m, 200)),
                theme.warning,
            ));
        } else if self.truncated {
            spans.push(Span::styled(
                format!("   (first {MAX_ENTRIES} entries)"),
                theme.warning,
            ));
        }
        let title = if focused {
            "Path (Tab completes, Enter opens)"
        } else {
            "Path (Tab to type one)"
        };
        frame.render_widget(
            Paragraph::new(Line::from(spans)).block(ui::block(theme, title)),
            path_area,
        );
    }
}

fn expand(s: &str) -> PathBuf {
    if let Some(rest) = s.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    PathBuf::from(s)
}

fn read_dir(dir: &Path) -> std::io::Result<(Vec<Entry>, bool)> {
    let mut out = Vec::new();
    let mut truncated = false;
    for (n, e) in std::fs::read_dir(dir)?.flatten().enumerate() {
        if n >= MAX_ENTRIES {
            truncated = true;
            break;
        }
        let meta = std::fs::metadata(e.path()).or_else(|_| e.metadata());
        let (is_dir, size, modified) = match meta {
            Ok(m) => (
                m.is_dir(),
                m.len(),
                m.modified()
                    .ok()
                    .map(|t| {
                        chrono::DateTime::<chrono::Local>::from(t)
                            .format("%Y-%m-%d %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default(),
            ),
            Err(_) => (false, 0, String::new()),
        };
        out.push(Entry {
            name: e.file_name().to_string_lossy().into_owned(),
            is_dir,
            size,
            modified,
        });
    }
    sort_entries(&mut out);
    if dir.parent().is_some() {
        out.insert(
            0,
            Entry {
                name: "..".to_string(),
                is_dir: true,
                size: 0,
                modified: String::new(),
            },
        );
    }
    Ok((out, truncated))
}

/// Directories first, then by name (case-insensitive).
pub fn sort_entries(v: &mut [Entry]) {
    v.sort_by(|a, b| {
        b.is_dir
            .cmp(&a.is_dir)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
}

/// Fuzzy subsequence match, case-insensitive; higher is better, `None` is no match.
pub fn fuzzy(pattern: &str, name: &str) -> Option<i64> {
    let name_l: Vec<char> = name.to_lowercase().chars().collect();
    let mut score = 0i64;
    let mut pos = 0usize;
    let mut last: Option<usize> = None;
    for pc in pattern.to_lowercase().chars() {
        let found = name_l[pos..].iter().position(|c| *c == pc)? + pos;
        score += 10;
        if last.is_some_and(|l| l + 1 == found) {
            score += 15;
        }
        if found == 0
            || matches!(
                name_l.get(found.wrapping_sub(1)),
                Some('_' | '-' | '.' | ' ')
            )
        {
            score += 8;
        }
        score -= (found - pos) as i64;
        last = Some(found);
        pos = found + 1;
    }
    Some(score)
}

/// First lines and sniffed format of a file (reads at most 8 KiB).
pub fn preview(path: &Path) -> Preview {
    let mut buf = vec![0u8; 8192];
    // a FIFO would block the wizard on open, a device would preview endless bytes
    let n = match crate::read::regular_file(path)
        .and_then(|_| std::fs::File::open(path))
        .and_then(|mut f| f.read(&mut buf))
    {
        Ok(n) => n,
        Err(e) => {
            return Preview {
                lines: vec![],
                sniffed: format!("cannot read: {e}"),
            };
        }
    };
    buf.truncate(n);
    preview_bytes(&buf)
}

/// [`preview`] of bytes already read.
pub fn preview_bytes(buf: &[u8]) -> Preview {
    let text = String::from_utf8_lossy(buf);
    let body = text.trim_start_matches('\u{feff}');
    let lines: Vec<String> = body
        .lines()
        .take(30)
        .map(|l| ui::sanitize(l, 160))
        .collect();
    let sniffed = if buf.is_empty() {
        "empty file".to_string()
    } else if buf.contains(&0) {
        "binary (NUL bytes) — not importable".to_string()
    } else if body.trim_start().starts_with('{') {
        "JSON lines".to_string()
    } else {
        let first = body.lines().next().unwrap_or("");
        let delims = [
            (',', "comma"),
            (';', "semicolon"),
            ('\t', "tab"),
            ('|', "pipe"),
        ];
        let best = delims
            .iter()
            .map(|(d, n)| (first.matches(*d).count(), *n))
            .max_by_key(|(c, _)| *c);
        match best {
            Some((c, name)) if c > 0 => format!("CSV, {name}-separated, {} columns", c + 1),
            _ => "text (one column?)".to_string(),
        }
    };
    Preview { lines, sniffed }
}

/// Step 2: the file browser, for the tracker chosen in step 1.
#[derive(Debug, Clone)]
pub struct FileStep {
    /// Answer of step 1.
    pub tracker: Chosen,
    /// The browser.
    pub view: FileView,
}

impl FileStep {
    /// The browser for `tracker`: `view` when there is one from before (read again), else
    /// opened in the directory the tracker remembers, or `start_dir`.
    pub fn open(tracker: Chosen, view: Option<FileView>, start_dir: &Path) -> Self {
        let view = match view {
            Some(mut v) => {
                v.reread();
                v
            }
            None => {
                let dir = tracker
                    .tracker
                    .last_dir
                    .clone()
                    .filter(|d| d.is_dir())
                    .unwrap_or_else(|| start_dir.to_path_buf());
                FileView::open(&dir)
            }
        };
        FileStep { tracker, view }
    }
}

impl StepScreen for FileStep {
    fn keys(&self, _cx: &DrawCx) -> Vec<KeyHint> {
        self.view.keys()
    }

    fn update(&mut self, key: &KeyEvent, cx: &mut Cx) -> Transition {
        match self.view.on_key(key) {
            Action::Back => Transition::to(Nav::Back, Vec::new()),
            Action::None => Transition::none(),
            Action::Choose(p) => {
                let fx = remember_dir(cx, &self.tracker, &p);
                let next = Next::Validate(self.tracker.clone(), FileChoice::plain(p), None);
                Transition::to(Nav::Push(next), fx)
            }
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &DrawCx) {
        self.view.draw(frame, area, cx.theme);
    }

    fn captures_text(&self) -> bool {
        self.view.captures_text()
    }

    fn resume(&mut self) {
        self.view.reread();
    }
}

/// Remember the directory of a file chosen for a saved tracker (not the Sandbox), so the
/// browser opens there next time.
pub fn remember_dir(cx: &mut Cx, chosen: &Chosen, p: &Path) -> Vec<Effect> {
    if chosen.sandbox {
        return Vec::new();
    }
    let dir = p.parent().map(Path::to_path_buf);
    match cx.config.tracker_mut(&chosen.tracker.name) {
        Some(t) if t.last_dir != dir && dir.is_some() => {
            t.last_dir = dir;
            vec![Effect::SaveConfig(Box::new(cx.config.clone()))]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn enter() -> KeyEvent {
        KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)
    }

    #[test]
    fn coming_back_shows_files_written_meanwhile_and_keeps_the_selection() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("b.csv"), "1,/p/1\n").expect("write");
        let mut v = FileView::open(dir.path());
        let name = |v: &FileView| {
            let vis = v.visible();
            v.entries[vis[v.selected]].name.clone()
        };
        assert_eq!(name(&v), "b.csv");
        std::fs::write(dir.path().join("a.csv"), "1,/p/1\n").expect("write");
        std::fs::write(dir.path().join("c.csv"), "1,/p/1\n").expect("write");
        v.reread();
        let names: Vec<&str> = v.entries.iter().map(|e| e.name.as_str()).collect();
        assert!(
            names.contains(&"a.csv") && names.contains(&"c.csv"),
            "{names:?}"
        );
        assert_eq!(name(&v), "b.csv");
    }

    #[test]
    fn a_fifo_or_a_device_is_not_a_regular_file_and_is_never_opened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe.csv");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // listing and previewing the directory must not block on the FIFO
        let mut v = FileView::open(dir.path());
        v.select_name("pipe.csv");
        let shown = v.preview.as_ref().map(|p| p.sniffed.clone());
        assert_eq!(
            shown.as_deref(),
            Some("cannot read: not a regular file (a named pipe)")
        );
        let fifo = std::fs::canonicalize(&fifo).expect("canonical");
        assert_eq!(v.on_key(&enter()), Action::None);
        assert_eq!(
            v.message.as_deref(),
            Some(format!("{}: not a regular file (a named pipe)", fifo.display()).as_str())
        );
        // typed paths: the FIFO, a character device, a missing file
        for (path, want) in [
            (
                fifo.display().to_string(),
                "not a regular file (a named pipe)",
            ),
            (
                "/dev/zero".to_string(),
                "not a regular file (a character device)",
            ),
        ] {
            v.focus = Focus::Path;
            v.path = TextField::new(path.clone());
            assert_eq!(v.on_key(&enter()), Action::None);
            assert_eq!(v.message, Some(format!("{path}: {want}")));
        }
        v.focus = Focus::Path;
        v.path = TextField::new(dir.path().join("missing.csv").display().to_string());
        assert_eq!(v.on_key(&enter()), Action::None);
        let msg = v.message.clone().unwrap_or_default();
        assert!(msg.contains("No such file"), "{msg}");
    }
}
