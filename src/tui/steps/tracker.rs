//! Step 1, Tracker: choose, add, edit or delete a saved tracker, or use the built-in Sandbox.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use std::collections::BTreeMap;

use tokio_util::sync::CancellationToken;

use super::{TextField, step_selection};
use crate::config::{Config, HistoryEntry, KeySource, PrivateKey, Tracker};
use crate::tui::keys::{self, Binding, alias, bind, ch, code, find, hints};
use crate::tui::theme::Theme;
use crate::tui::ui::{self, KeyHint, hint};

use crate::tui::flow::{Chosen, Cx, DrawCx, Effect, Msg, Nav, Next, StepScreen, Transition};

/// Name of the built-in sandbox entry.
pub const SANDBOX_NAME: &str = "Sandbox";

/// Where the key of a tracker being edited comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Stored in trackers.toml.
    Stored,
    /// An environment variable.
    Env,
    /// A shell command.
    Command,
}

impl KeyKind {
    fn next(self) -> Self {
        match self {
            KeyKind::Stored => KeyKind::Env,
            KeyKind::Env => KeyKind::Command,
            KeyKind::Command => KeyKind::Stored,
        }
    }
    fn prev(self) -> Self {
        self.next().next()
    }
    fn label(self) -> &'static str {
        match self {
            KeyKind::Stored => "stored in trackers.toml (0600)",
            KeyKind::Env => "environment variable",
            KeyKind::Command => "command (e.g. pass show luigi/shop)",
        }
    }
}

/// Fields of the add/edit form, in order.
pub const FIELDS: [&str; 6] = [
    "Name",
    "Tracker id",
    "Base URL",
    "Key source",
    "Key",
    "Client name",
];

/// The add/edit form.
#[derive(Debug, Clone)]
pub struct Form {
    /// Name of the tracker being edited; `None` when adding.
    pub editing: Option<String>,
    /// Name, tracker id, base URL.
    pub name: TextField,
    /// Tracker id.
    pub tracker_id: TextField,
    /// Base URL.
    pub base_url: TextField,
    /// Key source kind.
    pub kind: KeyKind,
    /// Key value (stored key, env var name or command).
    pub key: TextField,
    /// Optional client name.
    pub client_name: TextField,
    /// The stored key kept when editing and the key field is left empty.
    pub existing_key: Option<PrivateKey>,
    /// Focused field index into [`FIELDS`].
    pub focus: usize,
    /// Why the last save was refused.
    pub error: Option<String>,
}

impl Form {
    /// An empty form for a new tracker.
    pub fn new() -> Self {
        Form {
            editing: None,
            name: TextField::default(),
            tracker_id: TextField::default(),
            base_url: TextField::new(crate::config::DEFAULT_BASE_URL),
            kind: KeyKind::Env,
            key: TextField::default(),
            client_name: TextField::default(),
            existing_key: None,
            focus: 0,
            error: None,
        }
    }

    /// A form pre-filled from a saved tracker.
    pub fn edit(t: &Tracker) -> Self {
        let (kind, key, existing) = match &t.key {
            KeySource::Stored(k) => (KeyKind::Stored, String::new(), Some(k.clone())),
            KeySource::Env(v) => (KeyKind::Env, v.clone(), None),
            KeySource::Command(c) => (KeyKind::Command, c.clone(), None),
        };
        Form {
            editing: Some(t.name.clone()),
            name: TextField::new(&t.name),
            tracker_id: TextField::new(&t.tracker_id),
            base_url: TextField::new(&t.base_url),
            kind,
            key: TextField::new(key),
            client_name: TextField::new(t.client_name.clone().unwrap_or_default()),
            existing_key: existing,
            focus: 0,
            error: None,
        }
    }

    fn field_mut(&mut self, i: usize) -> Option<&mut TextField> {
        match i {
            0 => Some(&mut self.name),
            1 => Some(&mut self.tracker_id),
            2 => Some(&mut self.base_url),
            4 => Some(&mut self.key),
            5 => Some(&mut self.client_name),
            _ => None,
        }
    }

    /// The tracker this form describes (not yet checked).
    pub fn tracker(&self, base: Option<&Tracker>) -> Tracker {
        let key = match self.kind {
            KeyKind::Stored => match (&self.existing_key, self.key.value.is_empty()) {
                (Some(k), true) => KeySource::Stored(k.clone()),
                _ => KeySource::Stored(PrivateKey::new(self.key.value.clone())),
            },
            KeyKind::Env => KeySource::Env(self.key.value.trim().to_string()),
            KeyKind::Command => KeySource::Command(self.key.value.clone()),
        };
        let mut t = base
            .cloned()
            .unwrap_or_else(|| Tracker::new("", "", key.clone()));
        t.name = self.name.value.trim().to_string();
        t.tracker_id = self.tracker_id.value.trim().to_string();
        t.base_url = self.base_url.value.trim().trim_end_matches('/').to_string();
        t.key = key;
        let c = self.client_name.value.trim();
        t.client_name = (!c.is_empty()).then(|| c.to_string());
        t
    }
}

impl Default for Form {
    fn default() -> Self {
        Self::new()
    }
}

pub use crate::tui::flow::CatalogState;

/// A catalog fetch in progress.
#[derive(Debug, Clone, Default)]
pub struct Fetching {
    /// The tracker whose catalog is fetched.
    pub name: String,
    /// Objects received so far.
    pub got: u64,
    /// The total the service announced (0 until the first page).
    pub total: u64,
    /// 1, then 2 after an expired next link restarted the export.
    pub attempt: u32,
    /// Cancels it (Esc).
    pub cancel: CancellationToken,
}

/// What the tracker step's keys do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    NextField,
    PrevField,
    Source,
    Save,
    CloseForm,
    Delete,
    Keep,
    CancelFetch,
    Select,
    Choose,
    Catalog,
    Add,
    Edit,
    AskDelete,
}

/// State of the tracker step.
#[derive(Debug, Clone, Default)]
pub struct TrackerView {
    /// Selected row (saved trackers, then Sandbox).
    pub selected: usize,
    /// The add/edit form, when open.
    pub form: Option<Form>,
    /// Asking "delete tracker X?".
    pub confirm_delete: bool,
    /// A notice (saved, deleted, errors).
    pub message: Option<(bool, String)>,
    /// Something is in progress (starting the sandbox).
    pub busy: Option<String>,
    /// The stored catalog per tracker name (read off the UI thread when first selected).
    pub catalogs: BTreeMap<String, CatalogState>,
    /// The catalog fetch running, if any.
    pub fetching: Option<Fetching>,
    /// Fetch the Sandbox's catalog once the sandbox runs.
    pub pending_fetch: bool,
}

/// What the tracker step asks the app to do.
#[derive(Debug, Clone)]
pub enum Action {
    /// Nothing beyond the state change.
    None,
    /// Use the saved tracker at this index.
    Choose(usize),
    /// Use the built-in sandbox.
    Sandbox,
    /// Save this tracker (replacing `original` when editing).
    Save {
        /// The name before editing.
        original: Option<String>,
        /// The new tracker.
        tracker: Box<Tracker>,
    },
    /// Delete the tracker with this name.
    Delete(String),
    /// Fetch (or refresh) the catalog of the saved tracker at this index, or of the Sandbox
    /// (`None`).
    FetchCatalog(Option<usize>),
    /// Stop the catalog fetch.
    CancelFetch,
}

impl TrackerView {
    /// Whether keys go to a text field.
    pub fn captures_text(&self) -> bool {
        self.form.is_some() || self.confirm_delete
    }

    /// Whether unsaved edits would be lost by quitting.
    pub fn dirty(&self) -> bool {
        self.form.is_some()
    }

    /// The step's keys for its state (`trackers`: how many are saved; the Sandbox is the row
    /// after them): the hint bar shows them, [`TrackerView::on_key`] dispatches them.
    fn bindings(&self, trackers: usize) -> Vec<Binding<Key>> {
        if let Some(form) = &self.form {
            let mut v = vec![
                bind(
                    &[code(KeyCode::Tab), code(KeyCode::Down)],
                    hint("Tab/↓", "next field", "Move to the next field"),
                    Key::NextField,
                ),
                bind(
                    &[code(KeyCode::BackTab), code(KeyCode::Up)],
                    hint("S-Tab/↑", "previous", "Move to the previous field"),
                    Key::PrevField,
                ),
            ];
            if form.focus == 3 {
                v.push(bind(
                    &[code(KeyCode::Left), code(KeyCode::Right), ch(' ')],
                    hint(
                        "←→",
                        "key source",
                        "Choose where the key comes from: stored / env / command",
                    ),
                    Key::Source,
                ));
            }
            v.extend([
                bind(
                    &[code(KeyCode::Enter)],
                    hint("Enter", "save", "Check the fields and save the tracker"),
                    Key::Save,
                ),
                bind(
                    &[code(KeyCode::Esc)],
                    hint("Esc", "cancel", "Close the form without saving"),
                    Key::CloseForm,
                ),
            ]);
            return v;
        }
        if self.confirm_delete {
            return vec![
                bind(
                    &[ch('y')],
                    hint("y", "delete", "Delete the tracker from trackers.toml"),
                    Key::Delete,
                ),
                bind(
                    &[ch('n'), code(KeyCode::Esc)],
                    hint("n/Esc", "keep", "Keep it"),
                    Key::Keep,
                ),
            ];
        }
        if self.busy.is_some() {
            return Vec::new();
        }
        if self.fetching.is_some() {
            return vec![bind(
                &[code(KeyCode::Esc)],
                hint(
                    "Esc",
                    "stop fetch",
                    "Stop fetching the catalog (the stored one is kept)",
                ),
                Key::CancelFetch,
            )];
        }
        // the saved trackers and the Sandbox
        let mut v = Vec::new();
        let select = if trackers > 0 {
            bind(
                &keys::SELECT,
                hint("↑↓", "select", "Move the selection"),
                Key::Select,
            )
        } else {
            alias(&keys::SELECT, Key::Select)
        };
        v.push(select);
        v.extend([
            bind(
                &[code(KeyCode::Enter)],
                hint(
                    "Enter",
                    "choose",
                    "Use the selected tracker and go to the file step",
                ),
                Key::Choose,
            ),
            bind(
                &[ch('c')],
                hint(
                    "c",
                    "catalog",
                    "Fetch (or refresh) the selected tracker's catalog, which validation compares identities with",
                ),
                Key::Catalog,
            ),
            bind(
                &[ch('a')],
                hint("a", "add", "Add a tracker (id, endpoint, key source)"),
                Key::Add,
            ),
        ]);
        // the Sandbox can be neither edited nor deleted: the keys say so, unhinted
        let saved = self.selected < trackers;
        let edit = [ch('e')];
        let delete = [ch('d'), code(KeyCode::Delete)];
        if saved {
            v.push(bind(
                &edit,
                hint("e", "edit", "Edit the selected tracker"),
                Key::Edit,
            ));
            v.push(bind(
                &delete,
                hint("d", "delete", "Delete the selected tracker"),
                Key::AskDelete,
            ));
        } else {
            v.push(alias(&edit, Key::Edit));
            v.push(alias(&delete, Key::AskDelete));
        }
        v
    }

    /// The hints of the step's bindings.
    pub fn keys(&self, trackers: usize) -> Vec<KeyHint> {
        hints(&self.bindings(trackers))
    }

    /// Handle a key. `config` is the current configuration.
    pub fn on_key(&mut self, key: &KeyEvent, config: &Config) -> Action {
        let trackers = config.trackers.len();
        let found = find(&self.bindings(trackers), key);
        if let Some(form) = &mut self.form {
            return form_key(form, found, key, config).unwrap_or_else(|| {
                self.form = None;
                Action::None
            });
        }
        if self.confirm_delete {
            // any key answers; only y deletes
            self.confirm_delete = false;
            if found == Some(Key::Delete)
                && let Some(t) = config.trackers.get(self.selected)
            {
                return Action::Delete(t.name.clone());
            }
            return Action::None;
        }
        if self.fetching.is_some() && found.is_none() {
            self.message = Some((false, "fetching the catalog — Esc stops it".to_string()));
            return Action::None;
        }
        let Some(k) = found else {
            return Action::None;
        };
        match k {
            Key::CancelFetch => Action::CancelFetch,
            Key::Select => {
                step_selection(&mut self.selected, trackers + 1, key);
                self.message = None;
                Action::None
            }
            Key::Choose if self.selected < trackers => Action::Choose(self.selected),
            Key::Choose => Action::Sandbox,
            Key::Add => {
                self.form = Some(Form::new());
                Action::None
            }
            Key::Catalog => {
                self.message = None;
                Action::FetchCatalog((self.selected < trackers).then_some(self.selected))
            }
            Key::Edit => {
                match config.trackers.get(self.selected) {
                    Some(t) => self.form = Some(Form::edit(t)),
                    None => self.message = Some((false, "the Sandbox can't be edited".to_string())),
                }
                Action::None
            }
            Key::AskDelete => {
                if self.selected < trackers {
                    self.confirm_delete = true;
                } else {
                    self.message = Some((false, "the Sandbox can't be deleted".to_string()));
                }
                Action::None
            }
            // the form's and the delete question's keys are handled above
            _ => Action::None,
        }
    }

    /// Draw the step.
    pub fn draw(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        config: &Config,
        history: &[HistoryEntry],
        sandbox_running: bool,
    ) {
        if let Some(form) = &self.form {
            draw_form(frame, area, theme, form);
            return;
        }
        let [list, info] =
            Layout::vertical([Constraint::Min(6), Constraint::Length(6)]).areas(area);
        let wide = area.width >= 110;
        let mut header = vec!["Name", "Tracker id", "Key", "Last upload"];
        if wide {
            header.insert(2, "Base URL");
        }
        let header = Row::new(header).style(theme.muted);
        let mut rows: Vec<Row> = config
            .trackers
            .iter()
            .map(|t| {
                let mut cells = vec![
                    Cell::from(ui::sanitize(&t.name, 40)),
                    Cell::from(ui::sanitize(&t.tracker_id, 30)),
                    Cell::from(t.key_source_label()),
                    Cell::from(last_upload(history, &t.name)),
                ];
                if wide {
                    cells.insert(2, Cell::from(ui::sanitize(&t.base_url, 60)));
                }
                Row::new(cells).style(theme.text)
            })
            .collect();
        let mut sandbox = vec![
            Cell::from(SANDBOX_NAME),
            Cell::from("(random id)"),
            Cell::from("random key"),
            Cell::from(if sandbox_running {
                "running on 127.0.0.1"
            } else {
                "offline rehearsal"
            }),
        ];
        if wide {
            sandbox.insert(2, Cell::from("http://127.0.0.1"));
        }
        rows.push(Row::new(sandbox).style(theme.muted));
        let mut widths = vec![
            Constraint::Fill(2),
            Constraint::Fill(1),
            Constraint::Length(18),
            Constraint::Length(25),
        ];
        if wide {
            widths.insert(2, Constraint::Fill(3));
        }
        let table = Table::new(rows, widths)
            .header(header)
            .row_highlight_style(ui::selected(theme))
            .highlight_symbol(ui::SELECT_SYMBOL)
            .block(ui::block(theme, "Trackers"));
        let mut st = TableState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(table, list, &mut st);

        let mut lines = Vec::new();
        if config.trackers.is_empty() {
            lines.push(Line::styled(
                "No tracker saved yet. Press a to add one, or choose Sandbox to walk the whole flow offline.",
                theme.text,
            ));
        } else if self.selected >= config.trackers.len() {
            lines.push(Line::styled(
                "Sandbox: a local stand-in for the import endpoint on 127.0.0.1 with a random key. Nothing leaves this machine.",
                theme.text,
            ));
        } else if let Some(t) = config.trackers.get(self.selected) {
            lines.push(Line::from(vec![
                Span::styled("Endpoint ", theme.muted),
                Span::styled(
                    ui::sanitize(
                        &format!(
                            "{}{}",
                            t.base_url,
                            crate::spec::endpoint_path(&t.tracker_id)
                        ),
                        120,
                    ),
                    theme.text,
                ),
            ]));
            lines.push(Line::from(vec![
                Span::styled("Key      ", theme.muted),
                Span::styled(t.key_source_label(), theme.text),
                Span::styled("   client ", theme.muted),
                Span::styled(ui::sanitize(t.client_name(), 40), theme.text),
            ]));
        }
        let name = config
            .trackers
            .get(self.selected)
            .map_or(SANDBOX_NAME, |t| t.name.as_str());
        lines.push(self.catalog_line(name, theme));
        if let Some(b) = &self.busy {
            lines.push(Line::styled(b.clone(), theme.accent));
        }
        if self.confirm_delete
            && let Some(t) = config.trackers.get(self.selected)
        {
            lines.push(Line::styled(
                format!(
                    "Delete tracker {}? y = delete, n = keep",
                    ui::sanitize(&t.name, 40)
                ),
                theme.warning,
            ));
        }
        if let Some((ok, m)) = &self.message {
            lines.push(Line::styled(
                m.clone(),
                if *ok { theme.ok } else { theme.error },
            ));
        }
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: true })
                .block(ui::block(theme, "Details")),
            info,
        );
    }
}

impl TrackerView {
    /// "Catalog  1,234 items, fetched 3 days ago" (or none, reading, fetching …) for the
    /// tracker `name`.
    fn catalog_line(&self, name: &str, theme: &Theme) -> Line<'static> {
        let (text, style) = match (&self.fetching, self.catalogs.get(name)) {
            (Some(f), _) if f.name == name => (
                format!(
                    "fetching… {} of {} objects{} — Esc stops",
                    ui::count(f.got),
                    if f.total > 0 {
                        ui::count(f.total)
                    } else {
                        "?".to_string()
                    },
                    if f.attempt > 1 {
                        " (restarted: a page link expired)"
                    } else {
                        ""
                    }
                ),
                theme.accent,
            ),
            (_, None | Some(CatalogState::Loading)) => ("reading…".to_string(), theme.muted),
            (_, Some(CatalogState::Missing)) => (
                "no catalog — c fetches it (identities are then checked against it)".to_string(),
                theme.muted,
            ),
            (_, Some(CatalogState::Unreadable(e))) => {
                (format!("unreadable: {}", ui::sanitize(e, 120)), theme.error)
            }
            (_, Some(CatalogState::Stored(ix, now))) => (
                format!(
                    "{} items, fetched {} — c refreshes",
                    ui::count(ix.objects),
                    ix.fetched_at
                        .map_or("at an unknown time".to_string(), |t| age(
                            now.saturating_sub(t)
                        ))
                ),
                theme.text,
            ),
        };
        Line::from(vec![
            Span::styled("Catalog  ", theme.muted),
            Span::styled(text, style),
        ])
    }
}

/// "just now", "5 minutes ago", "3 hours ago", "3 days ago".
pub fn age(secs: u64) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match secs {
        0..60 => "just now".to_string(),
        60..3_600 => plural(secs / 60, "minute"),
        3_600..86_400 => plural(secs / 3_600, "hour"),
        _ => plural(secs / 86_400, "day"),
    }
}

fn form_key(
    form: &mut Form,
    found: Option<Key>,
    key: &KeyEvent,
    config: &Config,
) -> Option<Action> {
    match found {
        Some(Key::CloseForm) => return None,
        Some(Key::NextField) => form.focus = (form.focus + 1) % FIELDS.len(),
        Some(Key::PrevField) => form.focus = (form.focus + FIELDS.len() - 1) % FIELDS.len(),
        Some(Key::Source) if key.code == KeyCode::Left => form.kind = form.kind.prev(),
        Some(Key::Source) => {
            form.kind = form.kind.next();
            form.key.value.clear();
            if form.kind != KeyKind::Stored {
                form.existing_key = None;
            }
        }
        Some(Key::Save) => {
            let base = form.editing.as_deref().and_then(|n| config.tracker(n));
            let t = form.tracker(base);
            if let Err(e) = t.validate() {
                form.error = Some(e.to_string());
                return Some(Action::None);
            }
            if form.editing.as_deref() != Some(t.name.as_str()) && config.tracker(&t.name).is_some()
            {
                form.error = Some(format!("a tracker named {} already exists", t.name));
                return Some(Action::None);
            }
            return Some(Action::Save {
                original: form.editing.clone(),
                tracker: Box::new(t),
            });
        }
        _ => {
            let focus = form.focus;
            if let Some(f) = form.field_mut(focus) {
                f.edit(key);
                form.error = None;
            }
        }
    }
    Some(Action::None)
}

fn draw_form(frame: &mut Frame, area: Rect, theme: &Theme, form: &Form) {
    let title = match &form.editing {
        Some(n) => format!("Edit tracker {}", ui::sanitize(n, 40)),
        None => "Add a tracker".to_string(),
    };
    let mut lines = Vec::new();
    for (i, label) in FIELDS.iter().enumerate() {
        let focused = form.focus == i;
        let (label, value) = match i {
            0 => (*label, form.name.value.clone()),
            1 => (*label, form.tracker_id.value.clone()),
            2 => (*label, form.base_url.value.clone()),
            3 => (*label, format!("◀ {} ▶", form.kind.label())),
            4 => match form.kind {
                KeyKind::Stored => (
                    "Private key",
                    if form.key.value.is_empty() {
                        match &form.existing_key {
                            Some(_) => "(unchanged, hidden)".to_string(),
                            None => String::new(),
                        }
                    } else {
                        "•".repeat(form.key.value.chars().count().min(64))
                    },
                ),
                KeyKind::Env if form.key.value.is_empty() && !focused => {
                    ("Env variable", "(e.g. LB_PRIVATE_KEY)".to_string())
                }
                KeyKind::Env => ("Env variable", form.key.value.clone()),
                KeyKind::Command if form.key.value.is_empty() && !focused => {
                    ("Command", "(e.g. pass show luigi/shop)".to_string())
                }
                KeyKind::Command => ("Command", form.key.value.clone()),
            },
            _ => ("Client name", form.client_name.value.clone()),
        };
        let marker = if focused { ui::SELECT_SYMBOL } else { "  " };
        let vstyle = if focused {
            ui::selected(theme)
        } else {
            theme.text
        };
        let cursor = if focused && i != 3 { "▏" } else { "" };
        lines.push(Line::from(vec![
            Span::styled(marker, theme.accent),
            Span::styled(format!("{label:<13}"), theme.muted),
            Span::styled(format!("{}{cursor}", ui::sanitize(&value, 200)), vstyle),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "The key is never shown; stored keys live in trackers.toml (mode 0600). Client name is optional (default ApiAuth).",
        theme.muted,
    ));
    if let Some(e) = &form.error {
        lines.push(Line::styled(ui::sanitize(e, 300), theme.error));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(ui::block(theme, title)),
        area,
    );
}

/// "2026-11-20 14:03 accepted" for the newest history entry of a tracker, or "never".
pub fn last_upload(history: &[HistoryEntry], name: &str) -> String {
    history
        .iter()
        .find(|e| e.tracker_name == name)
        .map(|e| format!("{} {}", e.time.format("%Y-%m-%d %H:%M"), e.outcome))
        .unwrap_or_else(|| "never".to_string())
}

impl TrackerView {
    /// Start fetching the catalog of `t` (stored under its name).
    fn fetch_catalog(&mut self, t: Tracker) -> Vec<Effect> {
        let cancel = CancellationToken::new();
        self.fetching = Some(Fetching {
            name: t.name.clone(),
            attempt: 1,
            cancel: cancel.clone(),
            ..Default::default()
        });
        vec![Effect::FetchCatalog {
            tracker: Box::new(t),
            cancel,
        }]
    }

    /// Read the selected tracker's stored catalog when it was not read yet.
    pub fn catalog_request(&mut self, config: &Config) -> Vec<Effect> {
        let name = config
            .trackers
            .get(self.selected)
            .map_or(SANDBOX_NAME.to_string(), |t| t.name.clone());
        if self.catalogs.contains_key(&name) {
            return Vec::new();
        }
        self.catalogs.insert(name.clone(), CatalogState::Loading);
        vec![Effect::LoadCatalog { name }]
    }

    /// The sandbox started (`sandbox`): fetch its catalog when that was asked for, else
    /// choose it when the tracker step is shown (`here`).
    pub fn sandbox_ready(&mut self, sandbox: &Chosen, here: bool) -> Transition {
        self.busy = None;
        if std::mem::take(&mut self.pending_fetch) {
            return Transition::stay(self.fetch_catalog(sandbox.tracker.clone()));
        }
        if here {
            return Transition::to(Nav::Push(Next::File(sandbox.clone())), Vec::new());
        }
        Transition::none()
    }

    /// The sandbox could not start.
    pub fn sandbox_failed(&mut self, e: &str) {
        self.pending_fetch = false;
        self.busy = None;
        self.message = Some((false, format!("cannot start the sandbox: {e}")));
    }

    /// A catalog message: read from the data directory, fetch progress, fetch ended.
    pub fn on_catalog(&mut self, m: Msg) -> Vec<Effect> {
        match m {
            Msg::CatalogLoaded { name, result, now } => {
                let state = match result {
                    Ok(Some(ix)) => CatalogState::Stored(ix, now),
                    Ok(None) => CatalogState::Missing,
                    Err(e) => CatalogState::Unreadable(e),
                };
                self.catalogs.insert(name, state);
                Vec::new()
            }
            Msg::CatalogProgress { name, event } => {
                if let Some(f) = &mut self.fetching
                    && f.name == name
                {
                    match event {
                        crate::catalog::FetchEvent::Started { attempt } => {
                            f.attempt = attempt;
                            f.got = 0;
                        }
                        crate::catalog::FetchEvent::Page { got, total } => {
                            f.got = got;
                            f.total = total;
                        }
                    }
                }
                Vec::new()
            }
            Msg::CatalogFetched { name, result } => {
                self.fetching = None;
                match result {
                    Ok(n) => {
                        self.message = Some((
                            true,
                            format!(
                                "catalog of {}: {} items stored",
                                ui::sanitize(&name, 40),
                                ui::count(n)
                            ),
                        ));
                        self.catalogs.insert(name.clone(), CatalogState::Loading);
                        vec![Effect::LoadCatalog { name }]
                    }
                    Err(e) => {
                        self.message = Some((
                            false,
                            format!(
                                "catalog not fetched (the stored one is kept): {}",
                                ui::sanitize(&e, 200)
                            ),
                        ));
                        Vec::new()
                    }
                }
            }
            _ => Vec::new(),
        }
    }
}

impl StepScreen for TrackerView {
    fn keys(&self, cx: &DrawCx) -> Vec<KeyHint> {
        TrackerView::keys(self, cx.config.trackers.len())
    }

    fn update(&mut self, key: &KeyEvent, cx: &mut Cx) -> Transition {
        let t = match self.on_key(key, cx.config) {
            Action::None => Transition::none(),
            Action::FetchCatalog(Some(i)) => match cx.config.trackers.get(i) {
                Some(t) => Transition::stay(self.fetch_catalog(t.clone())),
                None => Transition::none(),
            },
            Action::FetchCatalog(None) => match cx.sandbox {
                Some(s) => Transition::stay(self.fetch_catalog(s.tracker.clone())),
                None => {
                    self.pending_fetch = true;
                    self.busy = Some("starting the sandbox on 127.0.0.1…".to_string());
                    Transition::stay(vec![Effect::StartSandbox])
                }
            },
            Action::CancelFetch => {
                if let Some(f) = &self.fetching {
                    f.cancel.cancel();
                    self.message = Some((true, "stopping the catalog fetch…".to_string()));
                }
                Transition::none()
            }
            Action::Choose(i) => match cx.config.trackers.get(i) {
                Some(t) => {
                    let chosen = Chosen {
                        tracker: t.clone(),
                        sandbox: false,
                    };
                    Transition::to(Nav::Push(Next::File(chosen)), Vec::new())
                }
                None => Transition::none(),
            },
            Action::Sandbox => match cx.sandbox {
                Some(s) => Transition::to(Nav::Push(Next::File(s.clone())), Vec::new()),
                None => {
                    self.busy = Some("starting the sandbox on 127.0.0.1…".to_string());
                    Transition::stay(vec![Effect::StartSandbox])
                }
            },
            Action::Save { original, tracker } => {
                let mut cfg = cx.config.clone();
                let res = match &original {
                    Some(name) => match cfg.trackers.iter().position(|t| &t.name == name) {
                        Some(i) => {
                            cfg.trackers[i] = (*tracker).clone();
                            Ok(i)
                        }
                        None => Err(format!("tracker {name} no longer exists")),
                    },
                    None => cfg
                        .add_tracker((*tracker).clone())
                        .map(|_| cfg.trackers.len() - 1)
                        .map_err(|e| e.to_string()),
                };
                match res {
                    Ok(i) => {
                        *cx.config = cfg;
                        self.form = None;
                        self.selected = i;
                        self.message = Some((true, format!("saving {}…", tracker.name)));
                        Transition::stay(vec![Effect::SaveConfig(Box::new(cx.config.clone()))])
                    }
                    Err(e) => {
                        if let Some(f) = &mut self.form {
                            f.error = Some(e);
                        }
                        Transition::none()
                    }
                }
            }
            Action::Delete(name) => match cx.config.remove_tracker(&name) {
                Ok(_) => {
                    self.selected = self.selected.min(cx.config.trackers.len());
                    self.message = Some((true, format!("deleted {name}")));
                    Transition::stay(vec![Effect::SaveConfig(Box::new(cx.config.clone()))])
                }
                Err(e) => {
                    self.message = Some((false, e.to_string()));
                    Transition::none()
                }
            },
        };
        if matches!(t.nav, Nav::Stay) {
            let mut t = t;
            t.fx.extend(self.catalog_request(cx.config));
            return t;
        }
        t
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &DrawCx) {
        TrackerView::draw(
            self,
            frame,
            area,
            cx.theme,
            cx.config,
            cx.history,
            cx.sandbox_running,
        );
    }

    fn captures_text(&self) -> bool {
        TrackerView::captures_text(self)
    }

    fn work_at_risk(&self) -> Option<String> {
        self.dirty()
            .then(|| "the tracker form has unsaved changes".to_string())
    }
}
