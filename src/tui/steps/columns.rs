//! Step 4, Columns: map the columns of a file that doesn't fit the documented layout — a grid
//! of the first rows with column letters and the detected header, a role per column,
//! delimiter/header toggles, timestamp format and zone, and a live preview of the converted
//! rows. Enter converts (into the data directory; the original is never touched) and the
//! converted file is validated again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Gauge, Paragraph, Row, Table, Wrap};

use super::TextField;
use crate::mapping::convert::{Clean, ConvertSummary};
use crate::mapping::detect::{DayMonth, Detection, Hints, Role};
use crate::mapping::{Mapping, Source};
use crate::read::Format;
use crate::tui::flow::{Chosen, Cx, DrawCx, Effect, FileChoice, Nav, Next, StepScreen, Transition};
use crate::tui::keys::{Binding, alias, bind, ch, code, find, hints};
use crate::tui::services;
use crate::tui::theme::Theme;
use crate::tui::ui::{self, KeyHint, hint};
use crate::validate::Progress;
use crate::validate::lookup::{CatalogIndex, IdentityFix, key_hash};
use crate::validate::{CatalogDiagnosis, Report};

/// Largest-order limits offered, in cycling order (`None` = keep every order).
pub const MAX_ITEMS: [Option<u64>; 4] = [None, Some(100), Some(50), Some(500)];

/// The limit the whole-file count uses while dropping large orders is off.
pub const DEFAULT_MAX_ITEMS: u64 = 100;

/// Cleaning options chosen in the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanOpts {
    /// Drop a UTF-8 BOM.
    pub strip_bom: bool,
    /// Trim whitespace around ids.
    pub trim_ids: bool,
    /// Drop exact duplicate rows.
    pub dedupe: bool,
    /// Leave invalid rows out (to `<stem>.invalid.csv` in the data directory).
    pub exclude_invalid: bool,
    /// Drop orders with more items than this.
    pub max_items: Option<u64>,
}

impl Default for CleanOpts {
    fn default() -> Self {
        CleanOpts {
            strip_bom: true,
            trim_ids: false,
            dedupe: false,
            exclude_invalid: false,
            max_items: None,
        }
    }
}

impl CleanOpts {
    /// The limit the whole-file count is made for.
    pub fn plan_limit(&self) -> u64 {
        self.max_items.unwrap_or(DEFAULT_MAX_ITEMS)
    }
}

/// The whole-file counts for the current mapping.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanState {
    /// Counting in the background.
    Counting,
    /// Counted (with the order-size limit used).
    Done(Box<ConvertSummary>, u64),
    /// The count failed.
    Failed(String),
}

/// Keys of the identity fixes offered, in the report's order.
pub const FIX_KEYS: [&str; 5] = ["1", "2", "3", "4", "5"];

/// An identity fix the catalog check diagnosed, offered as a cleaning option.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityOption {
    /// What the report found.
    pub diagnosis: CatalogDiagnosis,
    /// Applied when converting.
    pub on: bool,
}

/// "Only new orders", offered when the report found orders already sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnlyNewOption {
    /// Orders of the file already sent.
    pub orders: u64,
    /// Their rows.
    pub rows: u64,
    /// Distinct orders of the file.
    pub file_orders: u64,
    /// Applied when converting.
    pub on: bool,
}

pub use crate::tui::flow::ReportFixes;

fn fix_label(f: IdentityFix) -> &'static str {
    match f {
        IdentityFix::StripHost => "identities: strip scheme and host",
        IdentityFix::StripQuery => "identities: strip the query string",
        IdentityFix::TrimSlash => "identities: trim the trailing slash",
        IdentityFix::Case => "identities: the catalog's letter case",
        IdentityFix::FromWebUrl => "identities: the catalog's identity for the web_url",
    }
}

fn fix_short(f: IdentityFix) -> &'static str {
    match f {
        IdentityFix::StripHost => "strip host",
        IdentityFix::StripQuery => "strip query",
        IdentityFix::TrimSlash => "trim slash",
        IdentityFix::Case => "catalog case",
        IdentityFix::FromWebUrl => "from web_url",
    }
}

fn fix_help(f: IdentityFix) -> &'static str {
    match f {
        IdentityFix::StripHost => {
            "Toggle: drop scheme and host of full URLs (--identity-strip-host)"
        }
        IdentityFix::StripQuery => {
            "Toggle: drop query strings from identities (--identity-strip-query)"
        }
        IdentityFix::TrimSlash => {
            "Toggle: drop trailing slashes from identities (--identity-trim-slash)"
        }
        IdentityFix::Case => "Toggle: take the catalog's spelling (--identity-from-catalog case)",
        IdentityFix::FromWebUrl => {
            "Toggle: replace web_urls by the catalog's identity (--identity-from-catalog web_url)"
        }
    }
}

/// Delimiters offered, in cycling order.
pub const DELIMITERS: [char; 4] = [',', ';', '\t', '|'];

/// Which text field is being edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editing {
    /// The strftime-style time format.
    TimeFormat,
    /// The time zone.
    TimeZone,
}

/// State of the columns step.
#[derive(Debug, Clone)]
pub struct ColumnsView {
    /// The user's file.
    pub path: PathBuf,
    /// What detection found (re-run when delimiter/header change).
    pub detection: Box<Detection>,
    /// The delimiter and header asked for while the file is read again (`d`, `H`), so keys
    /// pressed before the answer cycle on from them.
    pub requested: Option<(char, bool)>,
    /// Role per column.
    pub roles: Vec<Role>,
    /// Selected column.
    pub col: usize,
    /// created_at format (empty = auto-detect).
    pub time_format: TextField,
    /// Zone for timestamps without one (empty = UTC).
    pub time_zone: TextField,
    /// A text field being edited.
    pub editing: Option<Editing>,
    /// Save the mapping for this tracker and file shape.
    pub save: bool,
    /// Whether saving is possible (not for the sandbox).
    pub can_save: bool,
    /// Converted preview rows.
    pub preview: Vec<Result<[String; 4], String>>,
    /// A notice (saved mapping applied, errors).
    pub message: Option<String>,
    /// A running conversion.
    pub converting: Option<Arc<Progress>>,
    /// Cleaning options.
    pub clean: CleanOpts,
    /// Whole-file counts for the current mapping.
    pub plan: PlanState,
    /// Generation of the latest count request (older answers are ignored).
    pub plan_gen: u64,
    /// What the last count was requested for.
    planned: Option<(Mapping, u64)>,
    /// A count to start: (generation, mapping, options) — taken by the app.
    plan_request: Option<(u64, Mapping, Clean)>,
    /// Stops the count in flight when a newer one is asked for (typing a zone or a format
    /// must not leave a whole-file count per key running).
    plan_progress: std::sync::Arc<crate::validate::Progress>,
    /// Per column, when the tracker has a catalog: the share of its sampled values that are
    /// catalog identities (identity candidates only: not the order, user or time column).
    pub catalog_rates: Vec<Option<f64>>,
    /// The tracker's catalog the candidates were ranked with (ranked again after a
    /// re-detection).
    pub catalog: Option<Arc<CatalogIndex>>,
    /// Identity fixes the validation report's catalog check diagnosed (keys 1–5).
    pub identity_fixes: Vec<IdentityOption>,
    /// "Only new orders", when the report found orders already sent (key n).
    pub only_new: Option<OnlyNewOption>,
}

/// What the columns step's keys do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    StopEditing,
    Back,
    Convert,
    Column,
    Role,
    NextRole,
    Delimiter,
    Header,
    TimeFormat,
    TimeZone,
    Save,
    Trim,
    Dedupe,
    Exclude,
    LargeOrders,
    Bom,
    Fix(usize),
    OnlyNew,
}

/// What the columns step asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing beyond the state change.
    None,
    /// Back to Validate.
    Back,
    /// Read the file again with these hints (answer: [`ColumnsView::on_detected`]).
    Detect(Hints),
    /// Convert with this mapping (and save it for the tracker when asked).
    Convert {
        /// The mapping.
        mapping: Box<Mapping>,
        /// Save it for the tracker under this shape.
        save_shape: Option<String>,
        /// Cleaning to apply.
        clean: Box<Clean>,
        /// Fixes from the validation report.
        fixes: ReportFixes,
    },
}

impl ColumnsView {
    /// A view of `detection`, starting from `mapping` (a saved one, or the detected best guess).
    pub fn new(
        path: PathBuf,
        detection: Detection,
        mapping: Option<Mapping>,
        can_save: bool,
    ) -> Self {
        let m = mapping.unwrap_or_else(|| detection.mapping.clone());
        let mut v = ColumnsView {
            path,
            requested: None,
            roles: Vec::new(),
            col: 0,
            time_format: TextField::new(m.time_format.clone().unwrap_or_default()),
            time_zone: TextField::new(m.time_zone.clone().unwrap_or_default()),
            editing: None,
            save: can_save,
            can_save,
            preview: Vec::new(),
            message: None,
            converting: None,
            clean: CleanOpts::default(),
            plan: PlanState::Counting,
            plan_gen: 0,
            planned: None,
            plan_request: None,
            plan_progress: std::sync::Arc::new(crate::validate::Progress::new()),
            catalog_rates: Vec::new(),
            catalog: None,
            identity_fixes: Vec::new(),
            only_new: None,
            detection: Box::new(detection),
        };
        v.roles = roles_from(&v.detection, &m);
        v.refresh();
        v
    }

    /// Offer the fixes the validation `report` of the file found: each catalog diagnosis (at
    /// most five) and, when orders were already sent, "only new orders". All start off.
    pub fn offer_fixes(&mut self, report: &Report) {
        self.identity_fixes = report
            .catalog
            .iter()
            .filter(|c| c.skipped.is_none())
            .flat_map(|c| c.diagnoses.iter())
            .take(FIX_KEYS.len())
            .map(|d| IdentityOption {
                diagnosis: d.clone(),
                on: false,
            })
            .collect();
        self.only_new = report
            .already_sent
            .as_ref()
            .filter(|a| a.skipped.is_none() && a.orders > 0)
            .map(|a| OnlyNewOption {
                orders: a.orders,
                rows: a.rows,
                file_orders: a.file_orders,
                on: false,
            });
    }

    /// The fixes offered and chosen in `prev` (the step reopened from the converted file's
    /// report), shown in the preview.
    pub fn keep_fixes(&mut self, prev: &ColumnsView) {
        self.identity_fixes = prev.identity_fixes.clone();
        self.only_new = prev.only_new;
        self.refresh_preview();
    }

    /// The report's fixes chosen.
    pub fn fixes(&self) -> ReportFixes {
        ReportFixes {
            identity: self
                .identity_fixes
                .iter()
                .filter(|o| o.on)
                .map(|o| o.diagnosis.fix)
                .collect(),
            only_new: self.only_new.is_some_and(|o| o.on),
        }
    }

    /// Whether keys go to a text field.
    pub fn captures_text(&self) -> bool {
        self.editing.is_some()
    }

    fn source(&self, i: usize) -> Source {
        match self.detection.format {
            Format::Json => self
                .detection
                .headers
                .get(i)
                .map_or(Source::Column(i), |k| Source::Key(k.clone())),
            Format::Csv => Source::Column(i),
        }
    }

    /// What detection saw in the selected column: why it got its role, or why it was passed
    /// over for one ("column B passed over for identity: …").
    pub fn evidence(&self) -> Option<String> {
        let d = &self.detection;
        let label = d.label(self.col);
        if let Some((role, _, why)) = d.alternatives.iter().find(|a| a.1 == self.col) {
            return Some(format!(
                "column {label} passed over for {}: {why}",
                role.as_str()
            ));
        }
        let c = d.columns.get(self.col)?;
        (c.role != Role::Other && !c.reason.is_empty())
            .then(|| format!("column {label} is {}: {}", c.role.as_str(), c.reason))
    }

    /// The mapping the current choices describe, or what is missing.
    pub fn mapping(&self) -> Result<Mapping, String> {
        let find = |r: Role| {
            self.roles
                .iter()
                .position(|x| *x == r)
                .map(|i| self.source(i))
        };
        let order_id = find(Role::OrderId).ok_or("choose the order id column (o)")?;
        let identity = find(Role::Identity).ok_or("choose the identity column (i)")?;
        let tf = self.time_format.value.trim();
        let tz = self.time_zone.value.trim();
        Ok(Mapping {
            delimiter: self.detection.delimiter,
            header: self.detection.header,
            order_id,
            identity,
            user_id: find(Role::UserId),
            created_at: find(Role::CreatedAt),
            time_format: (!tf.is_empty()).then(|| tf.to_string()),
            time_zone: (!tz.is_empty()).then(|| tz.to_string()),
            encoding: self.detection.mapping.encoding.clone(),
            items: self.detection.mapping.items.clone(),
        })
    }

    /// The encoding detection settled on, kept when detection runs again with new hints.
    fn encoding_hint(&self) -> Option<&'static encoding_rs::Encoding> {
        self.detection
            .mapping
            .encoding
            .as_deref()
            .and_then(|e| crate::mapping::encoding::by_label(e).ok())
    }

    /// Recompute the preview and ask for a whole-file count.
    pub fn refresh(&mut self) {
        self.refresh_preview();
        self.request_plan();
    }

    /// Recompute the preview only (the chosen fixes changed, not the mapping).
    pub fn refresh_preview(&mut self) {
        self.preview = match self.mapping() {
            Ok(m) => crate::mapping::convert::preview_keyed(
                &self.detection.headers,
                &self.detection.sample,
                &m,
                20,
            ),
            Err(e) => vec![Err(e)],
        };
        // the chosen fixes that need no catalog show in the preview too
        let fixes: Vec<IdentityFix> = self.fixes().identity;
        for row in self.preview.iter_mut().flatten() {
            for f in &fixes {
                if let Some(t) = f.apply(&row[1]) {
                    row[1] = t.to_string();
                }
            }
        }
    }

    /// Ask for a whole-file count when the mapping (or the order-size limit) changed.
    fn request_plan(&mut self) {
        let Ok(m) = self.mapping() else {
            self.planned = None;
            self.plan_request = None;
            self.plan =
                PlanState::Failed("no counts until the order id and identity are set".into());
            return;
        };
        // a zone still being typed (`Europe/Bra`) is not counted: the count waits for a zone
        if let Some(z) = &m.time_zone
            && crate::mapping::time::Zone::parse(z).is_err()
        {
            self.plan_request = None;
            self.plan = PlanState::Failed(format!("no counts until the time zone is valid ({z})"));
            return;
        }
        let key = (m.clone(), self.clean.plan_limit());
        if self.planned.as_ref() == Some(&key) {
            return;
        }
        self.planned = Some(key);
        self.plan_progress.cancel();
        self.plan_progress = std::sync::Arc::new(crate::validate::Progress::new());
        self.plan_gen += 1;
        self.plan = PlanState::Counting;
        let clean = Clean {
            strip_bom: true,
            trim_ids: false,
            dedupe: false,
            exclude_invalid: None,
            max_order_items: Some(self.clean.plan_limit()),
        };
        self.plan_request = Some((self.plan_gen, m, clean));
    }

    /// The count to start, if one is due.
    pub fn take_plan_request(&mut self) -> Option<(u64, Mapping, Clean)> {
        self.plan_request.take()
    }

    /// The cancel handle of the latest count.
    pub fn plan_progress(&self) -> std::sync::Arc<crate::validate::Progress> {
        self.plan_progress.clone()
    }

    /// A count finished; stale generations are ignored.
    pub fn on_plan(&mut self, generation: u64, result: Result<ConvertSummary, String>) {
        if generation != self.plan_gen {
            return;
        }
        let limit = self.clean.plan_limit();
        self.plan = match result {
            Ok(s) => PlanState::Done(Box::new(s), limit),
            Err(e) => PlanState::Failed(e),
        };
    }

    /// The cleaning the toggles describe (the invalid-rows side file is named
    /// `<stem>.invalid.csv`; the run loop places it in the data directory).
    pub fn clean_config(&self) -> Clean {
        Clean {
            strip_bom: self.clean.strip_bom,
            trim_ids: self.clean.trim_ids,
            dedupe: self.clean.dedupe,
            exclude_invalid: self
                .clean
                .exclude_invalid
                .then(|| PathBuf::from(invalid_name(&self.path))),
            max_order_items: self.clean.max_items,
        }
    }

    /// The file read again with other hints (delimiter, header), off the key handler: the
    /// roles are guessed again and the preview redrawn, or the message says why not.
    pub fn on_detected(&mut self, result: Result<Detection, String>) {
        self.requested = None;
        match result {
            Ok(d) => {
                let m = d.mapping.clone();
                *self.detection = d;
                self.roles = roles_from(&self.detection, &m);
                self.col = self.col.min(self.roles.len().saturating_sub(1));
                self.message = None;
                self.catalog_rates.clear();
                if let Some(c) = self.catalog.clone() {
                    self.rank_by_catalog(c);
                }
            }
            Err(e) => self.message = Some(format!("cannot read the file: {e}")),
        }
        self.refresh();
    }

    /// Rank the identity candidates (columns not mapped as order id, user or time) by the
    /// share of their sampled values that are identities of the tracker's `catalog`, and make
    /// the best one the identity when it matches more than the current identity column.
    /// Returns the column chosen when the choice changed.
    pub fn rank_by_catalog(&mut self, catalog: Arc<CatalogIndex>) -> Option<usize> {
        if catalog.is_empty() {
            return None;
        }
        self.catalog = Some(catalog.clone());
        let d = &self.detection;
        self.catalog_rates = self
            .roles
            .iter()
            .enumerate()
            .map(|(i, r)| {
                if !matches!(r, Role::Identity | Role::Other) {
                    return None;
                }
                let values: Vec<&str> = d
                    .sample
                    .iter()
                    .filter_map(|row| row.get(i))
                    .map(|v| v.trim())
                    .filter(|v| !v.is_empty())
                    .collect();
                if values.is_empty() {
                    return None;
                }
                let found = values
                    .iter()
                    .filter(|v| catalog.identities.contains(key_hash(v)))
                    .count();
                Some(found as f64 / values.len() as f64)
            })
            .collect();
        let current = self.roles.iter().position(|r| *r == Role::Identity);
        let rate_of = |i: usize| self.catalog_rates.get(i).copied().flatten().unwrap_or(0.0);
        let best = (0..self.roles.len())
            .filter(|i| self.catalog_rates.get(*i).copied().flatten().is_some())
            .max_by(|a, b| {
                rate_of(*a)
                    .partial_cmp(&rate_of(*b))
                    .unwrap_or(std::cmp::Ordering::Equal)
                    // on a tie the current identity column stays
                    .then_with(|| (Some(*a) == current).cmp(&(Some(*b) == current)))
            })?;
        if rate_of(best) <= 0.0
            || Some(best) == current
            || rate_of(best) <= current.map_or(0.0, rate_of)
        {
            return None;
        }
        let name = self.detection.label(best);
        let header = self
            .detection
            .headers
            .get(best)
            .map(|h| format!(" \"{}\"", ui::sanitize(h, 30)))
            .unwrap_or_default();
        let best_rate = rate_of(best);
        let was = self.col;
        self.col = best;
        self.set_role(Role::Identity);
        self.col = was;
        self.message = Some(format!(
            "identity: column {name}{header}, chosen by the catalog ({:.0} % of its values are in it) — Enter converts",
            best_rate * 100.0
        ));
        Some(best)
    }

    fn set_role(&mut self, r: Role) {
        if self.roles.is_empty() {
            return;
        }
        if r != Role::Other {
            for x in self.roles.iter_mut() {
                if *x == r {
                    *x = Role::Other;
                }
            }
        }
        self.roles[self.col] = r;
        self.refresh();
    }

    /// The step's keys for its state: the hint bar shows them, [`ColumnsView::on_key`]
    /// dispatches them (an edited field takes the other keys).
    fn bindings(&self) -> Vec<Binding<Key>> {
        if self.editing.is_some() {
            return vec![
                bind(
                    &[code(KeyCode::Enter)],
                    hint("Enter", "apply", "Use the value"),
                    Key::StopEditing,
                ),
                bind(
                    &[code(KeyCode::Esc)],
                    hint("Esc", "cancel", "Stop editing"),
                    Key::StopEditing,
                ),
            ];
        }
        if self.converting.is_some() {
            return vec![bind(
                &[code(KeyCode::Esc)],
                hint("Esc", "back", "Stop converting and go back"),
                Key::Back,
            )];
        }
        let csv = self.detection.format == Format::Csv;
        let mut v = vec![
            bind(
                &[code(KeyCode::Enter)],
                hint(
                    "Enter",
                    "convert",
                    "Convert into the data directory and validate the result",
                ),
                Key::Convert,
            ),
            bind(
                &[code(KeyCode::Esc)],
                hint("Esc", "back", "Back to the validation results"),
                Key::Back,
            ),
            bind(
                &[code(KeyCode::Left), code(KeyCode::Right)],
                hint("←→", "column", "Select a column"),
                Key::Column,
            ),
            alias(&[code(KeyCode::Tab)], Key::Column),
            bind(
                &[ch('o'), ch('i'), ch('u'), ch('t'), ch('x')],
                hint(
                    "o/i/u/t/x",
                    "role",
                    "Set the column's role: order, identity, user, time, other",
                ),
                Key::Role,
            ),
            bind(
                &[ch(' ')],
                hint("Space", "next role", "Cycle the column's role"),
                Key::NextRole,
            ),
        ];
        if csv {
            v.push(bind(
                &[ch('d')],
                hint("d", "delimiter", "Cycle the delimiter: , ; tab |"),
                Key::Delimiter,
            ));
            v.push(bind(
                &[ch('H')],
                hint("H", "header", "Toggle whether the first row is a header"),
                Key::Header,
            ));
        }
        v.extend([
            bind(
                &[ch('f')],
                hint(
                    "f",
                    "time format",
                    "Edit the created_at format (empty = auto)",
                ),
                Key::TimeFormat,
            ),
            bind(
                &[ch('z')],
                hint(
                    "z",
                    "zone",
                    "Edit the zone of timestamps without one (UTC, +02:00, Europe/Bratislava)",
                ),
                Key::TimeZone,
            ),
        ]);
        // mappings are saved per saved tracker: on the Sandbox `s` only says so
        v.push(if self.can_save {
            bind(
                &[ch('s')],
                hint(
                    "s",
                    "save",
                    "Save the mapping for this tracker (applied next time automatically)",
                ),
                Key::Save,
            )
        } else {
            alias(&[ch('s')], Key::Save)
        });
        v.extend([
            bind(
                &[ch('w')],
                hint("w", "trim ids", "Trim whitespace around ids"),
                Key::Trim,
            ),
            bind(
                &[ch('D')],
                hint("D", "dedupe", "Drop exact duplicate rows"),
                Key::Dedupe,
            ),
            bind(
                &[ch('e')],
                hint(
                    "e",
                    "exclude invalid",
                    "Leave invalid rows out (written with reasons to <name>.invalid.csv)",
                ),
                Key::Exclude,
            ),
            bind(
                &[ch('l')],
                hint(
                    "l",
                    "large orders",
                    "Drop orders with more items than: off, 100, 50, 500",
                ),
                Key::LargeOrders,
            ),
            bind(
                &[ch('b')],
                hint("b", "BOM", "Strip a UTF-8 byte-order mark"),
                Key::Bom,
            ),
        ]);
        for (i, (k, o)) in FIX_KEYS.iter().zip(&self.identity_fixes).enumerate() {
            let c = char::from(b'1' + i as u8);
            v.push(bind(
                &[ch(c)],
                hint(k, fix_label(o.diagnosis.fix), fix_help(o.diagnosis.fix)),
                Key::Fix(i),
            ));
        }
        if self.only_new.is_some() {
            v.push(bind(
                &[ch('n')],
                hint(
                    "n",
                    "only new orders",
                    "Leave out every row of an order already sent to this tracker (--only-new-orders)",
                ),
                Key::OnlyNew,
            ));
        }
        v
    }

    /// The hints of the step's bindings.
    pub fn keys(&self) -> Vec<KeyHint> {
        hints(&self.bindings())
    }

    /// Convert with the roles and options set (or say why the mapping is not complete).
    pub fn convert_action(&mut self) -> Action {
        match self.mapping() {
            Ok(m) => Action::Convert {
                mapping: Box::new(m),
                save_shape: (self.save && self.can_save).then(|| self.detection.shape.clone()),
                clean: Box::new(self.clean_config()),
                fixes: self.fixes(),
            },
            Err(e) => {
                self.message = Some(e);
                Action::None
            }
        }
    }

    /// Handle a key.
    pub fn on_key(&mut self, key: &KeyEvent) -> Action {
        let found = find(&self.bindings(), key);
        if let Some(ed) = self.editing {
            if found == Some(Key::StopEditing) {
                self.editing = None;
            } else {
                let f = match ed {
                    Editing::TimeFormat => &mut self.time_format,
                    Editing::TimeZone => &mut self.time_zone,
                };
                f.edit(key);
            }
            self.refresh();
            return Action::None;
        }
        let Some(k) = found else {
            return Action::None;
        };
        let n = self.roles.len();
        match k {
            Key::StopEditing => {}
            Key::Back => return Action::Back,
            Key::Convert => return self.convert_action(),
            Key::Column if key.code == KeyCode::Left => self.col = self.col.saturating_sub(1),
            Key::Column => self.col = (self.col + 1).min(n.saturating_sub(1)),
            Key::Role => match key.code {
                KeyCode::Char('o') => self.set_role(Role::OrderId),
                KeyCode::Char('i') => self.set_role(Role::Identity),
                KeyCode::Char('u') => self.set_role(Role::UserId),
                KeyCode::Char('t') => self.set_role(Role::CreatedAt),
                _ => self.set_role(Role::Other),
            },
            Key::NextRole => {
                let next = match self.roles.get(self.col) {
                    Some(Role::Other) => Role::OrderId,
                    Some(Role::OrderId) => Role::Identity,
                    Some(Role::Identity) => Role::UserId,
                    Some(Role::UserId) => Role::CreatedAt,
                    _ => Role::Other,
                };
                self.set_role(next);
            }
            Key::Delimiter | Key::Header => {
                let (delimiter, header) = self
                    .requested
                    .unwrap_or((self.detection.delimiter, self.detection.header));
                let want = if k == Key::Header {
                    (delimiter, !header)
                } else {
                    let i = DELIMITERS
                        .iter()
                        .position(|d| *d == delimiter)
                        .map_or(0, |i| (i + 1) % DELIMITERS.len());
                    (DELIMITERS[i], header)
                };
                self.requested = Some(want);
                return Action::Detect(Hints {
                    delimiter: Some(want.0),
                    header: Some(want.1),
                    encoding: self.encoding_hint(),
                    items: self.detection.mapping.items.clone(),
                });
            }
            Key::Trim => self.clean.trim_ids = !self.clean.trim_ids,
            Key::Dedupe => self.clean.dedupe = !self.clean.dedupe,
            Key::Exclude => self.clean.exclude_invalid = !self.clean.exclude_invalid,
            Key::Bom => self.clean.strip_bom = !self.clean.strip_bom,
            Key::OnlyNew => {
                if let Some(o) = &mut self.only_new {
                    o.on = !o.on;
                }
            }
            Key::Fix(i) => {
                if let Some(o) = self.identity_fixes.get_mut(i) {
                    o.on = !o.on;
                    self.refresh_preview();
                }
            }
            Key::LargeOrders => {
                let i = MAX_ITEMS
                    .iter()
                    .position(|x| *x == self.clean.max_items)
                    .map_or(0, |i| (i + 1) % MAX_ITEMS.len());
                self.clean.max_items = MAX_ITEMS[i];
                self.request_plan();
            }
            Key::TimeFormat => self.editing = Some(Editing::TimeFormat),
            Key::TimeZone => self.editing = Some(Editing::TimeZone),
            Key::Save => {
                if self.can_save {
                    self.save = !self.save;
                } else {
                    self.message =
                        Some("mappings are saved per saved tracker, not for the Sandbox".into());
                }
            }
        }
        Action::None
    }

    /// Draw the step.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        // The cleaning options shrink (down to the whole-file line) before the tables do.
        // (plus a line per fix offered from the validation report, where there is room)
        let extra = self.fix_lines() as u16;
        let clean_h = area
            .height
            .saturating_sub(4 + 4 + 4 + 3)
            .clamp(3, 8 + extra);
        let [settings, cleaning, grid, preview, foot] = Layout::vertical([
            Constraint::Length(4),
            Constraint::Length(clean_h),
            Constraint::Min(4),
            Constraint::Min(4),
            Constraint::Length(3),
        ])
        .areas(area);
        let d = &self.detection;
        let delim = match d.delimiter {
            '\t' => "tab".to_string(),
            c => format!("'{c}'"),
        };
        let field = |label: &str, v: &TextField, ed: bool, empty: &str| {
            let text = if v.value.is_empty() && !ed {
                empty.to_string()
            } else {
                ui::sanitize(&v.value, 40)
            };
            let style = if ed { ui::selected(theme) } else { theme.text };
            vec![
                Span::styled(format!("{label} "), theme.muted),
                Span::styled(format!("{text}{}", if ed { "▏" } else { "" }), style),
                Span::raw("   "),
            ]
        };
        let mut l1 = vec![
            Span::styled("delimiter ", theme.muted),
            Span::styled(delim, theme.text),
            Span::styled("   header ", theme.muted),
            Span::styled(if d.header { "yes" } else { "no" }, theme.text),
            Span::styled("   encoding ", theme.muted),
            Span::styled(d.encoding.clone(), theme.text),
            Span::styled("   save for tracker ", theme.muted),
            Span::styled(
                if self.save && self.can_save {
                    "[x]"
                } else {
                    "[ ]"
                },
                theme.text,
            ),
        ];
        if d.format == Format::Json {
            l1.truncate(0);
            l1.push(Span::styled("JSON lines — map the keys", theme.text));
        }
        let mut l2 = field(
            "time format",
            &self.time_format,
            self.editing == Some(Editing::TimeFormat),
            "auto",
        );
        l2.extend(field(
            "zone",
            &self.time_zone,
            self.editing == Some(Editing::TimeZone),
            "UTC",
        ));
        match d.day_month {
            DayMonth::DayFirst => l2.push(Span::styled("dates are day/month", theme.muted)),
            DayMonth::MonthFirst => l2.push(Span::styled("dates are month/day", theme.muted)),
            DayMonth::Undecided => l2.push(Span::styled(
                "day/month undecidable — set the format (f)",
                theme.warning,
            )),
            DayMonth::NotApplicable => {}
        }
        frame.render_widget(
            Paragraph::new(vec![Line::from(l1), Line::from(l2)])
                .block(ui::block(theme, "Settings")),
            settings,
        );

        let (clean_title, clean_lines) = self.cleaning_panel(
            theme,
            cleaning.width.saturating_sub(2),
            cleaning.height.saturating_sub(2),
        );
        frame.render_widget(
            Paragraph::new(clean_lines).block(ui::block(theme, clean_title)),
            cleaning,
        );

        // The grid: one column per source column, a role row, then the first rows.
        let n = self.roles.len();
        let inner_w = grid.width.saturating_sub(2) as usize;
        // one more for the catalog rates (`▶ identity 100%`)
        let colw = if self.catalog_rates.is_empty() {
            14
        } else {
            15
        };
        let visible = (inner_w / (colw + 1)).max(1);
        let first = self.col.saturating_sub(visible.saturating_sub(1));
        let cols: Vec<usize> = (first..n).take(visible).collect();
        let head = Row::new(cols.iter().map(|i| {
            let name = d
                .headers
                .get(*i)
                .map(|h| format!(" {}", ui::sanitize(h, 10)))
                .unwrap_or_default();
            let style = if *i == self.col {
                ui::selected(theme)
            } else {
                theme.title
            };
            Cell::from(Span::styled(format!("{}{name}", d.label(*i)), style))
        }));
        let roles = Row::new(cols.iter().map(|i| {
            let r = self.roles.get(*i).copied().unwrap_or(Role::Other);
            let style = if r == Role::Other {
                theme.muted
            } else {
                theme.accent.add_modifier(Modifier::BOLD)
            };
            let mark = if *i == self.col { "▶ " } else { "  " };
            // with a catalog: the share of the candidate's sampled values in it
            let rate = self
                .catalog_rates
                .get(*i)
                .copied()
                .flatten()
                .map(|x| format!(" {:.0}%", x * 100.0))
                .unwrap_or_default();
            Cell::from(Span::styled(format!("{mark}{}{rate}", r.as_str()), style))
        }));
        let mut rows = vec![roles];
        let shown = grid.height.saturating_sub(4);
        for r in d.sample.iter().take(shown as usize) {
            rows.push(Row::new(cols.iter().map(|i| {
                Cell::from(Span::styled(
                    ui::sanitize(r.get(*i).map_or("", String::as_str), 40),
                    theme.text,
                ))
            })));
        }
        let widths: Vec<Constraint> = cols
            .iter()
            .map(|_| Constraint::Length(colw as u16))
            .collect();
        frame.render_widget(
            Table::new(rows, widths).header(head).block(ui::block(
                theme,
                if self.catalog_rates.is_empty() {
                    format!("Columns ({n}) — first rows")
                } else {
                    format!("Columns ({n}) — first rows · % of sampled values in the catalog")
                },
            )),
            grid,
        );

        let valid = self.preview.iter().filter(|r| r.is_ok()).count();
        let invalid = self.preview.len() - valid;
        let prow: Vec<Row> =
            self.preview
                .iter()
                .map(|r| match r {
                    Ok(f) => Row::new(f.iter().map(|x| Cell::from(ui::sanitize(x, 40))))
                        .style(theme.text),
                    // drawn over the whole row below: a message longer than a column
                    Err(_) => Row::new(vec![Cell::from("")]),
                })
                .collect();
        let inner = Rect {
            x: preview.x + 1,
            y: preview.y + 1,
            width: preview.width.saturating_sub(2),
            height: preview.height.saturating_sub(2),
        };
        frame.render_widget(
            Table::new(
                prow,
                [
                    Constraint::Fill(1),
                    Constraint::Fill(2),
                    Constraint::Fill(1),
                    Constraint::Length(26),
                ],
            )
            .header(
                Row::new(["order_id", "identity", "user_id", "created_at (UTC)"])
                    .style(theme.muted),
            )
            .block(ui::block(
                theme,
                format!(
                    "Converted preview — {valid} valid, {invalid} invalid of the first {}",
                    self.preview.len()
                ),
            )),
            preview,
        );
        // each invalid row's reason across the whole width (under the header line)
        for (i, r) in self.preview.iter().enumerate() {
            let y = inner.y + 1 + i as u16;
            if y >= inner.y + inner.height {
                break;
            }
            if let Err(e) = r {
                frame.render_widget(
                    Paragraph::new(Span::styled(
                        format!("✘ {}", ui::sanitize(e, inner.width as usize)),
                        theme.error,
                    )),
                    Rect {
                        x: inner.x,
                        y,
                        width: inner.width,
                        height: 1,
                    },
                );
            }
        }

        if let Some(p) = &self.converting {
            let s = p.snapshot();
            let ratio = if s.total_bytes > 0 {
                (s.bytes_read as f64 / s.total_bytes as f64).clamp(0.0, 1.0)
            } else {
                0.0
            };
            frame.render_widget(
                Gauge::default()
                    .ratio(ratio)
                    .label(format!("converting… {} rows", ui::count(s.rows)))
                    .gauge_style(theme.gauge)
                    .style(theme.gauge_bg)
                    .block(ui::block(theme, "Converting")),
                foot,
            );
        } else {
            let mut lines = Vec::new();
            if let Some(m) = &self.message {
                lines.push(Line::styled(ui::sanitize(m, 200), theme.warning));
            } else if let Some(e) = self.evidence() {
                lines.push(Line::styled(ui::sanitize(&e, 200), theme.text));
            } else if let Some(note) = d.notes.first() {
                lines.push(Line::styled(ui::sanitize(note, 200), theme.muted));
            } else {
                lines.push(Line::styled(
                    "Enter converts to the documented CSV in the data directory; your file is not modified.",
                    theme.muted,
                ));
            }
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: true })
                    .block(ui::block(theme, "Mapping")),
                foot,
            );
        }
    }
}

impl ColumnsView {
    /// Lines the fixes from the validation report take in the Cleaning panel.
    fn fix_lines(&self) -> usize {
        self.identity_fixes.len() + usize::from(self.only_new.is_some())
    }

    /// One line per fix from the validation report (long form), or the short form for a
    /// panel title.
    fn fix_toggles(&self, theme: &Theme) -> (Vec<Line<'static>>, String) {
        let mut lines = Vec::new();
        let mut short = Vec::new();
        let mark = |on: bool| if on { "[x]" } else { "[ ]" };
        for (k, o) in FIX_KEYS.iter().zip(&self.identity_fixes) {
            let d = &o.diagnosis;
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{} ", mark(o.on)),
                    if o.on { theme.accent } else { theme.muted },
                ),
                Span::styled(fix_label(d.fix), theme.text),
                Span::styled(format!(" ({k})"), theme.muted),
                Span::styled(
                    format!(
                        " — {} of {} unknown identities would match ({})",
                        ui::count(d.identities),
                        ui::count(d.tried),
                        d.fix.flag()
                    ),
                    theme.muted,
                ),
            ]));
            short.push(format!("{} {k} {}", mark(o.on), fix_short(d.fix)));
        }
        if let Some(o) = &self.only_new {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{} ", mark(o.on)),
                    if o.on { theme.accent } else { theme.muted },
                ),
                Span::styled("only new orders", theme.text),
                Span::styled(" (n)", theme.muted),
                Span::styled(
                    format!(
                        " — drop {} of {} orders ({} rows) already sent to this tracker",
                        ui::count(o.orders),
                        ui::count(o.file_orders),
                        ui::count(o.rows)
                    ),
                    theme.muted,
                ),
            ]));
            short.push(format!("{} n only new orders", mark(o.on)));
        }
        (lines, short.join(" · "))
    }

    /// The Cleaning panel for an inner area of `width` × `height`: its title and lines.
    ///
    /// With six lines or more: the whole-file counts, then one line per option. With fewer
    /// (80×24 leaves four), the counts move into the title and, below five lines, the two
    /// short options (BOM, trim ids) share a line — so every option and its count stays
    /// visible at the smallest supported terminal.
    fn cleaning_panel(
        &self,
        theme: &Theme,
        width: u16,
        height: u16,
    ) -> (String, Vec<Line<'static>>) {
        let c = &self.clean;
        let width = usize::from(width);
        let done = match &self.plan {
            PlanState::Done(s, limit) => Some((s, *limit)),
            _ => None,
        };
        let head_text = match &self.plan {
            PlanState::Counting => "whole file: counting…".to_string(),
            PlanState::Failed(e) => format!("whole file: {}", ui::sanitize(e, 120)),
            PlanState::Done(s, _) => format!(
                "whole file: {} valid, {} invalid rows",
                ui::count(s.rows_in.saturating_sub(s.invalid)),
                ui::count(s.invalid)
            ),
        };
        let head = match &self.plan {
            PlanState::Counting => Line::styled(head_text.clone(), theme.muted),
            PlanState::Failed(_) => Line::styled(head_text.clone(), theme.warning),
            PlanState::Done(s, _) => {
                let invalid = s.invalid;
                let valid = s.rows_in.saturating_sub(invalid);
                Line::from(vec![
                    Span::styled("whole file: ", theme.muted),
                    Span::styled(format!("{} valid", ui::count(valid)), theme.text),
                    Span::styled(", ", theme.muted),
                    Span::styled(
                        format!("{} invalid", ui::count(invalid)),
                        if invalid > 0 {
                            theme.warning
                        } else {
                            theme.text
                        },
                    ),
                    Span::styled(" rows with this mapping", theme.muted),
                ])
            }
        };
        let counting = || "counting…".to_string();
        let plural = |n: u64, one: &str, many: &str| {
            format!("{} {}", ui::count(n), if n == 1 { one } else { many })
        };
        let toggle = |on: bool, key: &str, label: String, effect: String| {
            Line::from(vec![
                Span::styled(
                    if on { "[x] " } else { "[ ] " },
                    if on { theme.accent } else { theme.muted },
                ),
                Span::styled(label, theme.text),
                Span::styled(format!(" ({key})"), theme.muted),
                Span::styled(format!(" — {effect}"), theme.muted),
            ])
        };
        let limit = c.plan_limit();
        let trim = |short: bool| {
            toggle(
                c.trim_ids,
                "w",
                "trim ids".into(),
                done.map_or_else(counting, |(s, _)| {
                    if short {
                        plural(s.whitespace_rows, "padded row", "padded rows")
                    } else {
                        format!(
                            "{} padded ids",
                            plural(s.whitespace_rows, "row has", "rows have")
                        )
                    }
                }),
            )
        };
        let bom = |short: bool| {
            toggle(
                c.strip_bom,
                "b",
                "strip BOM".into(),
                done.map_or_else(counting, |(s, _)| {
                    match (s.bom, short) {
                        (true, false) => "the file starts with one",
                        (false, false) => "the file has none",
                        (true, true) => "file has one",
                        (false, true) => "file has none",
                    }
                    .to_string()
                }),
            )
        };
        let dedupe = toggle(
            c.dedupe,
            "D",
            "drop duplicates".into(),
            done.map_or_else(counting, |(s, _)| plural(s.duplicates, "row", "rows")),
        );
        // The side file's name with what it holds; where the line is too narrow for that,
        // just the name (cut with … when even that doesn't fit).
        let exclude = {
            let effect = done.map_or_else(counting, |(s, _)| {
                let rows = plural(s.invalid, "row", "rows");
                let file = format!("converted/{}", invalid_name(&self.path));
                let fixed = "[ ] exclude invalid (e) — ".chars().count() + rows.chars().count();
                let full = " (line numbers and reasons → )".chars().count();
                let file_len = file.chars().count();
                if fixed + full + file_len <= width {
                    format!("{rows} (line numbers and reasons → {file})")
                } else {
                    let room = width.saturating_sub(fixed + " → ".chars().count()).max(12);
                    let file = if file_len > room {
                        ui::sanitize(&file, room - 1)
                    } else {
                        file
                    };
                    format!("{rows} → {file}")
                }
            });
            toggle(c.exclude_invalid, "e", "exclude invalid".into(), effect)
        };
        let large = toggle(
            c.max_items.is_some(),
            "l",
            format!("drop large orders (>{limit})"),
            done.map_or_else(counting, |(s, _)| {
                format!(
                    "{}, {}",
                    plural(s.orders_dropped, "order", "orders"),
                    plural(s.rows_in_dropped_orders, "row", "rows")
                )
            }),
        );
        let (fix_lines, fix_title) = self.fix_toggles(theme);
        if height as usize >= 6 + fix_lines.len() {
            let mut lines = vec![head, trim(false), dedupe, exclude, large, bom(false)];
            lines.extend(fix_lines);
            return ("Cleaning".into(), lines);
        }
        // Too low for a line per fix: the fixes take the title's place (the counts stay on
        // each option's line).
        let title = if fix_lines.is_empty() {
            format!("Cleaning — {}", ui::sanitize(&head_text, 60))
        } else {
            format!("Cleaning — {fix_title}")
        };
        if height >= 5 {
            return (title, vec![trim(false), dedupe, exclude, large, bom(false)]);
        }
        // BOM and trim ids share the first line, in two columns.
        let left = bom(true);
        let gap = 3;
        let mut right = trim(false);
        if (width / 2).max(left.width() + gap) + right.width() > width {
            right = trim(true);
        }
        let col = if width / 2 + right.width() <= width {
            (width / 2).max(left.width() + gap)
        } else {
            left.width() + gap
        };
        let mut spans = left.spans.clone();
        spans.push(Span::raw(" ".repeat(col - left.width())));
        spans.extend(right.spans);
        (title, vec![Line::from(spans), dedupe, exclude, large])
    }
}

/// The name of the side file invalid rows of `input` go to.
pub fn invalid_name(input: &Path) -> String {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    format!("{stem}.invalid.csv")
}

/// Roles per column from a mapping.
fn roles_from(d: &Detection, m: &Mapping) -> Vec<Role> {
    let mut roles = vec![Role::Other; d.column_count()];
    let mut set = |s: Option<&Source>, r: Role| {
        if let Some(i) = s.and_then(|s| d.index_of(s))
            && let Some(x) = roles.get_mut(i)
        {
            *x = r;
        }
    };
    set(Some(&m.order_id), Role::OrderId);
    set(Some(&m.identity), Role::Identity);
    set(m.user_id.as_ref(), Role::UserId);
    set(m.created_at.as_ref(), Role::CreatedAt);
    roles
}

/// Where the converted copy of `input` goes inside `data_dir`.
pub fn converted_path(data_dir: &Path, input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    data_dir
        .join("converted")
        .join(format!("{stem}.normalized.csv"))
}

/// Step 4: the column mapping of the user's file, for the chosen tracker.
#[derive(Debug, Clone)]
pub struct ColumnsStep {
    /// Answer of step 1.
    pub tracker: Chosen,
    /// Answer of step 2 (and the converted copy validated before, when reopened from it).
    pub file: FileChoice,
    /// Roles, cleaning, fixes and preview.
    pub view: ColumnsView,
    /// Run id of the conversion in flight.
    pub convert_run: u64,
    /// Run id of the latest reading of the file with other hints.
    pub detect_run: u64,
}

impl ColumnsStep {
    /// Columns for `file` (validated as `report`, detected as `detection` when known; `prev`:
    /// the Columns step the converted file came from, whose fixes stay). A mapping saved for
    /// this tracker and shape is filled in, and applied at once when `auto` (the file didn't
    /// fit). Err: why the file's columns cannot be read.
    pub fn open(
        tracker: Chosen,
        file: FileChoice,
        detection: Option<Detection>,
        report: Option<&Report>,
        prev: Option<&ColumnsView>,
        auto: bool,
        cx: &mut Cx,
    ) -> Result<(Self, Vec<Effect>), String> {
        let Some(d) = detection.or_else(|| services::detect(&file.original)) else {
            return Err("cannot read the file's columns".to_string());
        };
        let saved = services::saved_mapping(&tracker.tracker, &d.shape);
        let had_saved = saved.is_some();
        let mut view = ColumnsView::new(file.original.clone(), d, saved, !tracker.sandbox);
        // the catalog and already-sent findings of the user's file's report become one-key
        // fixes; reopened from a converted file's report, the fixes chosen before stay
        if file.original == file.upload {
            if let Some(r) = report {
                view.offer_fixes(r);
            }
        } else if let Some(prev) = prev {
            view.keep_fixes(prev);
        }
        // the tracker's catalog decides between identity candidates (not over a saved mapping)
        let mut ranked = false;
        if !had_saved && let Some(ix) = cx.catalog(&tracker.tracker.name) {
            ranked = view.rank_by_catalog(ix).is_some();
        }
        // the shop's zone saved with the tracker, for naive local times
        if view.time_zone.value.trim().is_empty()
            && let Some(z) = &tracker.tracker.time_zone
        {
            view.time_zone.value = z.clone();
        }
        let mut step = ColumnsStep {
            tracker,
            file,
            view,
            convert_run: 0,
            detect_run: 0,
        };
        if had_saved && auto {
            step.view.message = Some("applied the mapping saved for this file shape".to_string());
            let action = step.view.convert_action();
            let mut fx = step.act(action, cx).fx;
            fx.extend(step.plan());
            return Ok((step, fx));
        }
        if ranked {
            // the catalog's choice of the identity column says more than the generic notice
        } else if auto {
            step.view.message = Some(
                "doesn't fit the documented layout — set each column's role, Enter converts"
                    .to_string(),
            );
        } else if had_saved {
            step.view.message =
                Some("the mapping saved for this file shape is filled in".to_string());
        }
        let fx = step.plan();
        Ok((step, fx))
    }

    /// The whole-file count the view asks for, as an effect.
    pub fn plan(&mut self) -> Vec<Effect> {
        match self.view.take_plan_request() {
            Some((generation, mapping, clean)) => vec![Effect::StartPlan {
                generation,
                input: self.file.original.clone(),
                mapping: Box::new(mapping),
                clean: Box::new(clean),
                progress: self.view.plan_progress(),
            }],
            None => Vec::new(),
        }
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> Transition {
        match action {
            Action::None => Transition::none(),
            Action::Detect(hints) => {
                let run = cx.run();
                self.detect_run = run;
                Transition::stay(vec![Effect::Detect {
                    run,
                    path: self.file.original.clone(),
                    hints: Box::new(hints),
                }])
            }
            Action::Back => {
                let mut fx = Vec::new();
                if let Some(p) = self.view.converting.take() {
                    fx.push(Effect::CancelValidation(p));
                    self.convert_run = 0;
                }
                Transition::to(Nav::Back, fx)
            }
            Action::Convert {
                mapping,
                save_shape,
                clean,
                fixes,
            } => {
                let progress = Arc::new(Progress::new());
                self.view.converting = Some(progress.clone());
                self.view.message = None;
                let run = cx.run();
                self.convert_run = run;
                let mut fx = vec![Effect::StartConvert {
                    run,
                    input: self.file.original.clone(),
                    mapping: mapping.clone(),
                    progress,
                    clean,
                    fixes,
                    checks: self.tracker.check_target(),
                }];
                if let Some(shape) = save_shape {
                    fx.extend(self.save_mapping(&shape, &mapping, cx));
                }
                Transition::stay(fx)
            }
        }
    }

    /// Save `mapping` for this tracker and file shape.
    fn save_mapping(&mut self, shape: &str, mapping: &Mapping, cx: &mut Cx) -> Vec<Effect> {
        let saved = crate::mapping::SavedMapping::new(shape, None, mapping.clone());
        let Some(t) = cx.config.tracker_mut(&self.tracker.tracker.name) else {
            return Vec::new();
        };
        crate::config::mappings::upsert(t, saved.clone());
        crate::config::mappings::upsert(&mut self.tracker.tracker, saved);
        vec![Effect::SaveConfig(Box::new(cx.config.clone()))]
    }

    /// The conversion of run `run` ended: validate the converted file (a new Validate step),
    /// or say why it failed.
    pub fn converted(
        &mut self,
        run: u64,
        result: Result<(PathBuf, ConvertSummary, Vec<String>), String>,
    ) -> Transition {
        if self.convert_run != run {
            return Transition::none();
        }
        self.view.converting = None;
        let (out, summary, notes) = match result {
            Ok(r) => r,
            Err(e) => {
                self.view.message = Some(format!("conversion failed: {e}"));
                return Transition::none();
            }
        };
        // every order already sent: nothing is left to validate or upload
        if summary.rows_out == 0 && self.view.only_new.is_some_and(|o| o.on) {
            // the conclusion first: on a narrow screen only the first line shows
            self.view.message = Some(format!(
                "every order in this file was already sent to this tracker: nothing is left \
                 to upload (n keeps them) — {}",
                notes.join("; ")
            ));
            return Transition::none();
        }
        let mapping = self
            .view
            .mapping()
            .ok()
            .map(|m| m.describe())
            .unwrap_or_default();
        let mut t = vec![format!("columns {mapping}")];
        t.push(format!(
            "{} rows in, {} out, {} invalid",
            summary.rows_in, summary.rows_out, summary.invalid
        ));
        if summary.header_skipped {
            t.push("header row dropped".to_string());
        }
        if summary.bom_stripped {
            t.push("BOM stripped".to_string());
        }
        if summary.trimmed > 0 {
            t.push(format!("ids trimmed in {} rows", summary.trimmed));
        }
        if summary.duplicates_dropped > 0 {
            t.push(format!(
                "{} duplicate rows dropped",
                summary.duplicates_dropped
            ));
        }
        if summary.invalid_excluded > 0 {
            t.push(format!(
                "{} invalid rows excluded (to {})",
                summary.invalid_excluded,
                invalid_name(&self.file.original)
            ));
        }
        if summary.orders_dropped > 0 {
            let limit = self.view.clean.max_items.unwrap_or_default();
            t.push(format!(
                "{} orders over {limit} items dropped ({} rows)",
                summary.orders_dropped, summary.rows_in_dropped_orders
            ));
        }
        if summary.timestamps > 0 {
            t.push(format!(
                "{} timestamps converted to UTC",
                summary.timestamps
            ));
        }
        // what the report's fixes did, said in Columns (when going back) and while the
        // converted file is validated
        let said = (!notes.is_empty()).then(|| notes.join("; "));
        self.view.message = said.clone();
        t.extend(notes);
        let choice = FileChoice {
            original: self.file.original.clone(),
            upload: out,
            transformations: t,
            parts: Vec::new(),
        };
        let next = Next::Validate(self.tracker.clone(), choice, said);
        Transition::to(Nav::Push(next), Vec::new())
    }
}

impl StepScreen for ColumnsStep {
    fn keys(&self, _cx: &DrawCx) -> Vec<KeyHint> {
        self.view.keys()
    }

    fn update(&mut self, key: &KeyEvent, cx: &mut Cx) -> Transition {
        let action = self.view.on_key(key);
        let mut t = self.act(action, cx);
        if matches!(t.nav, Nav::Stay) {
            t.fx.extend(self.plan());
        }
        t
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &DrawCx) {
        self.view.draw(frame, area, cx.theme);
    }

    fn captures_text(&self) -> bool {
        self.view.captures_text()
    }

    fn work_at_risk(&self) -> Option<String> {
        Some("the validated file has not been uploaded".to_string())
    }

    fn resume(&mut self) {
        self.view.converting = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn view() -> ColumnsView {
        let d = crate::mapping::detect::detect_bytes(
            b"Date;Order;Customer;SKU\n22/10/2026 15:04;A-1;c-1;S-1\n22/10/2026 15:04;A-1;c-1;S-2\n",
            true,
            false,
        );
        ColumnsView::new(PathBuf::from("/tmp/x.csv"), d, None, true)
    }

    fn press(v: &mut ColumnsView, c: char) -> Action {
        v.on_key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    }

    fn drawn(v: &ColumnsView) -> String {
        drawn_at(v, 140, 40)
    }

    fn drawn_at(v: &ColumnsView, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        t.draw(|f| v.draw(f, f.area(), &Theme::default()))
            .expect("draw");
        crate::tui::demo::text(t.backend().buffer())
    }

    #[test]
    fn the_selected_column_shows_why_it_was_chosen_or_passed_over() {
        // two columns of times: "Created" is named for created_at, "Paid" passed over
        let d = crate::mapping::detect::detect_bytes(
            b"Order;SKU;Paid;Created\nA-1;S-1;2026-10-22 15:04;2026-10-22 15:00\nA-1;S-2;2026-10-22 15:04;2026-10-22 15:00\n",
            true,
            false,
        );
        let mut v = ColumnsView::new(PathBuf::from("/tmp/x.csv"), d, None, true);
        v.col = 2;
        let e = v.evidence().expect("evidence");
        assert!(
            e.starts_with("column C passed over for created_at: also times"),
            "{e}"
        );
        v.col = 3;
        let e = v.evidence().expect("evidence");
        assert!(e.starts_with("column D is created_at: header"), "{e}");
        assert!(drawn_at(&v, 80, 24).contains("column D is created_at"));
    }

    #[test]
    fn an_invalid_preview_row_shows_its_whole_reason_across_the_row() {
        let d = crate::mapping::detect::detect_bytes(
            b"Date;Order;Customer;SKU\n22/10/2026 15:04;A-1;c-1;S-1\n22/10/2026 15:04;;c-1;S-2\n",
            true,
            false,
        );
        let mut v = ColumnsView::new(PathBuf::from("/tmp/x.csv"), d, None, true);
        v.refresh();
        let e = v
            .preview
            .iter()
            .find_map(|r| r.as_ref().err())
            .expect("the row without an order id is invalid")
            .clone();
        assert!(e.len() > 20, "{e}");
        // at 80 columns the reason is not cut to the first column (about 15 characters)
        let s = drawn_at(&v, 80, 40);
        let want: String = e.chars().take(60).collect();
        assert!(s.contains(&format!("✘ {want}")), "{s}");
    }

    #[test]
    fn typing_a_zone_counts_once_it_is_valid_and_stops_the_older_count() {
        let mut v = view();
        assert!(v.take_plan_request().is_some(), "a count on open");
        let first = v.plan_progress();
        let mapped_time = v.mapping().is_ok_and(|m| m.created_at.is_some());
        assert!(mapped_time, "the demo file has a created_at column");
        for partial in ["E", "Europe/", "Europe/Bra"] {
            v.time_zone.value = partial.to_string();
            v.refresh();
            assert!(v.take_plan_request().is_none(), "{partial}: no count yet");
        }
        assert!(!first.is_cancelled(), "nothing newer was asked for yet");
        v.time_zone.value = "Europe/Bratislava".to_string();
        v.refresh();
        assert!(v.take_plan_request().is_some(), "a valid zone is counted");
        assert!(first.is_cancelled(), "the older count was stopped");
    }

    #[test]
    fn counts_are_drawn_and_stale_counts_ignored() {
        let mut v = view();
        let (generation, _, clean) = v.take_plan_request().expect("a count on open");
        assert_eq!(clean.max_order_items, Some(DEFAULT_MAX_ITEMS));
        assert!(drawn(&v).contains("whole file: counting…"));
        let s = ConvertSummary {
            rows_in: 100,
            invalid: 3,
            duplicates: 27,
            whitespace_rows: 12,
            orders_dropped: 4,
            rows_in_dropped_orders: 812,
            ..Default::default()
        };
        v.on_plan(generation + 7, Ok(s.clone()));
        assert_eq!(v.plan, PlanState::Counting, "a stale answer is ignored");
        v.on_plan(generation, Ok(s.clone()));
        let text = drawn(&v);
        for want in [
            "whole file: 97 valid, 3 invalid rows",
            "trim ids (w) — 12 rows have padded ids",
            "drop duplicates (D) — 27 rows",
            "exclude invalid (e) — 3 rows (line numbers and reasons → converted/x.invalid.csv)",
            "drop large orders (>100) (l) — 4 orders, 812 rows",
        ] {
            assert!(text.contains(want), "{want}\n{text}");
        }
        // A new limit asks for a new count; the old generation's answer is then stale.
        press(&mut v, 'l');
        assert_eq!(v.clean.max_items, Some(100));
        assert!(v.take_plan_request().is_none(), "same limit, same counts");
        press(&mut v, 'l');
        assert_eq!(v.clean.max_items, Some(50));
        let (g2, _, c2) = v.take_plan_request().expect("recount");
        assert_eq!(c2.max_order_items, Some(50));
        v.on_plan(generation, Ok(s));
        assert_eq!(v.plan, PlanState::Counting);
        assert!(g2 > generation);
    }

    /// At 80×24 the step gets 80×21 (title bar and key bar take three rows): every cleaning
    /// option must still be on screen with its count, even with eight-digit counts.
    #[test]
    fn every_cleaning_option_fits_at_80x24() {
        let mut v = view();
        let (generation, _, _) = v.take_plan_request().expect("a count on open");
        v.on_plan(
            generation,
            Ok(ConvertSummary {
                rows_in: 14_248_188,
                invalid: 12_345_678,
                duplicates: 27_000_000,
                whitespace_rows: 14_248_188,
                orders_dropped: 4_000_000,
                rows_in_dropped_orders: 13_999_999,
                bom: true,
                ..Default::default()
            }),
        );
        press(&mut v, 'D');
        for (h, wants) in [
            (
                21,
                vec![
                    "Cleaning — whole file: 1,902,510 valid, 12,345,678 invalid rows",
                    "[x] strip BOM (b) — file has one",
                    "[ ] trim ids (w) — 14,248,188 padded rows",
                    "[x] drop duplicates (D) — 27,000,000 rows",
                    "[ ] exclude invalid (e) — 12,345,678 rows → converted/x.invalid.csv",
                    "[ ] drop large orders (>100) (l) — 4,000,000 orders, 13,999,999 rows",
                ],
            ),
            (
                22,
                vec![
                    "Cleaning — whole file: 1,902,510 valid, 12,345,678 invalid rows",
                    "[ ] trim ids (w) — 14,248,188 rows have padded ids",
                    "[x] drop duplicates (D) — 27,000,000 rows",
                    "[ ] exclude invalid (e) — 12,345,678 rows → converted/x.invalid.csv",
                    "[ ] drop large orders (>100) (l) — 4,000,000 orders, 13,999,999 rows",
                    "[x] strip BOM (b) — the file starts with one",
                ],
            ),
            (
                24,
                vec![
                    "whole file: 1,902,510 valid, 12,345,678 invalid rows with this mapping",
                    "[ ] trim ids (w) — 14,248,188 rows have padded ids",
                    "[x] strip BOM (b) — the file starts with one",
                ],
            ),
        ] {
            let text = drawn_at(&v, 80, h);
            for want in wants {
                assert!(text.contains(want), "80×{h}: {want}\n{text}");
            }
        }
        // A long file name is cut with … rather than by the border.
        v.path = PathBuf::from("/tmp/a-very-long-shop-export-name-from-the-shop-backend-2026.csv");
        let text = drawn_at(&v, 80, 21);
        assert!(
            text.contains(
                "[ ] exclude invalid (e) — 12,345,678 rows → converted/a-very-long-shop-export…│"
            ),
            "{text}"
        );
    }

    #[test]
    fn convert_carries_the_toggled_cleaning() {
        let mut v = view();
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        match v.on_key(&enter) {
            Action::Convert { clean, .. } => assert_eq!(*clean, Clean::default()),
            other => panic!("{other:?}"),
        }
        press(&mut v, 'w');
        press(&mut v, 'D');
        press(&mut v, 'e');
        press(&mut v, 'l');
        press(&mut v, 'b');
        assert!(drawn(&v).contains("[x] drop duplicates"));
        match v.on_key(&enter) {
            Action::Convert { clean, .. } => assert_eq!(
                *clean,
                Clean {
                    strip_bom: false,
                    trim_ids: true,
                    dedupe: true,
                    exclude_invalid: Some(PathBuf::from("x.invalid.csv")),
                    max_order_items: Some(100),
                }
            ),
            other => panic!("{other:?}"),
        }
        let keys: Vec<String> = v.keys().iter().map(|k| k.key.to_string()).collect();
        for k in ["w", "D", "e", "l", "b"] {
            assert!(keys.iter().any(|x| x == k), "{k} in {keys:?}");
        }
    }

    #[test]
    fn the_reports_fixes_are_offered_and_toggled_by_one_key_each() {
        let mut v = view();
        // nothing offered without a report
        assert!(v.identity_fixes.is_empty() && v.only_new.is_none());
        assert!(!v.keys().iter().any(|k| k.key == "1" || k.key == "n"));
        press(&mut v, 'n');
        press(&mut v, '1');
        assert_eq!(v.fixes(), ReportFixes::default());

        let r = crate::tui::demo::demo_checked_report();
        v.offer_fixes(&r);
        assert_eq!(v.identity_fixes.len(), 1);
        assert_eq!(v.identity_fixes[0].diagnosis.fix, IdentityFix::StripHost);
        let o = v.only_new.expect("only new offered");
        let a = r.already_sent.as_ref().expect("already sent");
        assert_eq!(
            (o.orders, o.rows, o.file_orders),
            (a.orders, a.rows, a.file_orders)
        );
        let keys: Vec<&str> = v.keys().iter().map(|k| k.key).collect();
        assert!(keys.contains(&"1") && keys.contains(&"n"), "{keys:?}");
        assert!(!keys.contains(&"2"), "{keys:?}");
        assert_eq!(v.fixes(), ReportFixes::default());
        press(&mut v, '1');
        press(&mut v, 'n');
        press(&mut v, '2'); // no second fix: nothing
        assert_eq!(
            v.fixes(),
            ReportFixes {
                identity: vec![IdentityFix::StripHost],
                only_new: true
            }
        );
        let s = drawn(&v);
        assert!(
            s.contains("[x] identities: strip scheme and host (1) — 982 of 1,000 unknown"),
            "{s}"
        );
        assert!(
            s.contains("[x] only new orders (n) — drop 384,555 of 402,118"),
            "{s}"
        );
        // Enter converts with them
        let Action::Convert { fixes, .. } =
            v.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
        else {
            panic!("no conversion");
        };
        assert!(fixes.only_new && fixes.identity == [IdentityFix::StripHost]);
        // at 80×24 they move into the Cleaning title
        let s = drawn_at(&v, 80, 21);
        assert!(
            s.contains("Cleaning — [x] 1 strip host · [x] n only new orders"),
            "{s}"
        );
        press(&mut v, '1');
        assert!(v.fixes().identity.is_empty());
    }

    #[test]
    fn a_skipped_check_offers_nothing() {
        let mut v = view();
        let mut r = crate::tui::demo::demo_checked_report();
        if let Some(a) = r.already_sent.as_mut() {
            a.skipped = Some("damaged".into());
        }
        if let Some(c) = r.catalog.as_mut() {
            c.skipped = Some("empty catalog".into());
        }
        v.offer_fixes(&r);
        assert!(v.identity_fixes.is_empty() && v.only_new.is_none());
    }
}
