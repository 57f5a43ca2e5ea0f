//! The saved-report viewer (`lbimport report`): a list of saved reports, one report shown
//! read-only in the Validate step's view (counters, issues with examples, sample orders), and
//! two reports side by side.
//!
//! Input → state ([`ReportViewer::on_key`], [`ReportViewer::check_done`]) is kept apart from
//! drawing ([`ReportViewer::draw`]), so tests drive it without a terminal; [`run`] is the
//! terminal loop around it. The file check (size and sha256) runs on a thread the loop starts
//! when [`Action::StartCheck`] asks for it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::keys::{self, Binding, alias, bind, ch, code, find, hints};
use super::steps::validate::ValidateView;
use super::steps::{TextField, step_selection};
use super::theme::Theme;
use super::ui::{self, KeyHint, hint};
use crate::report_store::{self, CheckProgress, Comparison, FileCheck, Listed, Loaded};
use crate::validate::{Progress, Report, Verdict};

/// Which screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// The saved reports.
    List,
    /// One report.
    View,
    /// The open report against another.
    Compare,
}

/// The list of saved reports.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// All saved reports, newest first.
    pub items: Vec<Listed>,
    /// Selected row among the filtered ones.
    pub sel: usize,
    /// The `/` filter.
    pub filter: TextField,
    /// Typing into the filter.
    pub filtering: bool,
    /// Picking the older report to compare the open one against.
    pub picking: bool,
}

impl Listing {
    /// The rows the filter lets through (case-insensitive match on either path).
    pub fn visible(&self) -> Vec<&Listed> {
        let f = self.filter.value.to_lowercase();
        self.items
            .iter()
            .filter(|l| {
                f.is_empty()
                    || l.file.to_lowercase().contains(&f)
                    || l.path.display().to_string().to_lowercase().contains(&f)
            })
            .collect()
    }
}

/// Where the check of the validated file stands.
#[derive(Debug, Clone)]
pub enum Check {
    /// Not started (embedded in the wizard, where the report cannot go on to an upload).
    Off,
    /// Hashing.
    Running(Arc<CheckProgress>),
    /// Finished.
    Done(FileCheck),
}

/// The open report.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The report and where it came from.
    pub loaded: Loaded,
    /// The Validate step's view holding it (its drawing and keys are reused).
    pub body: ValidateView,
    /// The file check.
    pub check: Check,
}

/// The comparison on screen.
#[derive(Debug, Clone)]
pub struct Compared {
    /// The older report's path.
    pub old_path: PathBuf,
    /// The differences.
    pub cmp: Comparison,
    /// First table row shown.
    pub scroll: usize,
    /// Table rows that fit when last drawn (0: not drawn yet): `↑↓` is offered only when
    /// there is more to see.
    pub fits: std::cell::Cell<usize>,
}

/// What the viewer asks its loop to do.
#[derive(Debug, Clone)]
pub enum Action {
    /// Nothing beyond the state change.
    None,
    /// Leave the viewer.
    Quit,
    /// Check the report's file (size and sha256) on another thread, then call
    /// [`ReportViewer::check_done`].
    StartCheck {
        /// Shared with the check.
        progress: Arc<CheckProgress>,
        /// The report whose file is checked.
        report: Arc<Report>,
    },
    /// Go on to the wizard's Confirm with this report (its file was found unchanged).
    Continue {
        /// The file to upload.
        file: PathBuf,
        /// Its report.
        report: Arc<Report>,
    },
}

/// What the viewer's keys do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Help,
    Quit,
    FilterDone,
    FilterClear,
    Select,
    Open,
    Filter,
    ListBack,
    Continue,
    Body,
    Examples,
    Compare,
    ViewBack,
    Scroll,
    CompareBack,
}

/// The viewer's whole state.
#[derive(Debug, Clone)]
pub struct ReportViewer {
    /// Colours.
    pub theme: Theme,
    /// The screen shown.
    pub screen: Screen,
    /// The saved reports (when the viewer has a list).
    pub listing: Option<Listing>,
    /// The open report.
    pub opened: Option<Opened>,
    /// The comparison.
    pub compared: Option<Compared>,
    /// The `?` help is open.
    pub help: bool,
    /// A one-line notice.
    pub message: Option<String>,
    /// Whether `c` can continue to an upload (not when embedded in the wizard).
    pub can_continue: bool,
}

impl ReportViewer {
    /// A viewer on the list of saved reports.
    pub fn with_list(theme: Theme, items: Vec<Listed>) -> Self {
        ReportViewer {
            theme,
            screen: Screen::List,
            listing: Some(Listing {
                items,
                ..Listing::default()
            }),
            opened: None,
            compared: None,
            help: false,
            message: None,
            can_continue: true,
        }
    }

    /// A viewer on one report; returns the check to start.
    pub fn with_report(theme: Theme, loaded: Loaded) -> (Self, Action) {
        let mut v = ReportViewer {
            listing: None,
            ..ReportViewer::with_list(theme, Vec::new())
        };
        let a = v.open(loaded);
        (v, a)
    }

    /// A viewer on one report inside the wizard (from the upload history): read-only, no file
    /// check, `c` explains how to upload from it.
    pub fn embedded(theme: Theme, loaded: Loaded) -> Self {
        let mut v = ReportViewer {
            listing: None,
            can_continue: false,
            ..ReportViewer::with_list(theme, Vec::new())
        };
        v.open(loaded);
        v
    }

    /// Show `loaded`; returns the file check to start (none when continuing is off).
    pub fn open(&mut self, loaded: Loaded) -> Action {
        let report = Arc::new(loaded.report.clone());
        let mut body = ValidateView::new(
            0,
            report_store::file_location(&report),
            Arc::new(Progress::new()),
            None,
        );
        body.result = Some(Ok(report.clone()));
        let (check, action) = if self.can_continue {
            let p = Arc::new(CheckProgress::default());
            (
                Check::Running(p.clone()),
                Action::StartCheck {
                    progress: p,
                    report,
                },
            )
        } else {
            (Check::Off, Action::None)
        };
        if let Some(Opened {
            check: Check::Running(p),
            ..
        }) = &self.opened
        {
            p.cancel();
        }
        self.message = None;
        self.opened = Some(Opened {
            loaded,
            body,
            check,
        });
        self.compared = None;
        self.screen = Screen::View;
        action
    }

    /// Compare the open report against `old` and show the comparison.
    pub fn compare_with(&mut self, old: Loaded) {
        let Some(o) = &self.opened else { return };
        self.compared = Some(Compared {
            cmp: report_store::compare(&o.loaded.report, &old.report),
            old_path: old.path,
            scroll: 0,
            fits: std::cell::Cell::new(0),
        });
        self.screen = Screen::Compare;
    }

    /// The file check finished (for the report at `path`; a stale result is ignored).
    pub fn check_done(&mut self, path: &std::path::Path, result: FileCheck) {
        if let Some(o) = &mut self.opened
            && o.loaded.path == path
            && matches!(o.check, Check::Running(_))
        {
            o.check = Check::Done(result);
        }
    }

    /// The viewer's keys for its screen: the hint bar and the help show them,
    /// [`ReportViewer::on_key`] dispatches them (a filter being typed and an issue's examples
    /// take the other keys).
    fn bindings(&self) -> Vec<Binding<Key>> {
        let help = |v: &mut Vec<Binding<Key>>, quit_shown: bool| {
            v.push(bind(
                &[ch('?')],
                hint("?", "help", "Show all keys"),
                Key::Help,
            ));
            v.push(if quit_shown {
                bind(&[ch('q')], hint("q", "quit", "Leave the viewer"), Key::Quit)
            } else {
                alias(&[ch('q')], Key::Quit)
            });
        };
        match self.screen {
            Screen::List => {
                let Some(l) = &self.listing else {
                    return Vec::new();
                };
                if l.filtering {
                    return vec![
                        bind(
                            &[code(KeyCode::Enter)],
                            hint("Enter", "done", "Keep the filter and go back to the list"),
                            Key::FilterDone,
                        ),
                        bind(
                            &[code(KeyCode::Esc)],
                            hint("Esc", "clear", "Clear the filter"),
                            Key::FilterClear,
                        ),
                    ];
                }
                let mut v = vec![
                    bind(
                        &keys::SELECT,
                        hint("↑↓", "select", "Select a report"),
                        Key::Select,
                    ),
                    bind(
                        &[code(KeyCode::Enter)],
                        if l.picking {
                            hint(
                                "Enter",
                                "compare",
                                "Compare the open report against the selected one",
                            )
                        } else {
                            hint("Enter", "open", "Open the selected report")
                        },
                        Key::Open,
                    ),
                    bind(
                        &[ch('/')],
                        hint("/", "filter", "Filter by file or report path"),
                        Key::Filter,
                    ),
                    bind(
                        &[code(KeyCode::Esc)],
                        if l.picking {
                            hint("Esc", "back", "Back to the open report")
                        } else if !l.filter.value.is_empty() {
                            hint("Esc", "clear", "Clear the filter")
                        } else {
                            hint("Esc", "quit", "Leave the viewer")
                        },
                        Key::ListBack,
                    ),
                ];
                help(&mut v, true);
                v
            }
            Screen::View => {
                let Some(o) = &self.opened else {
                    return Vec::new();
                };
                if o.body.drill {
                    // the examples view's own keys, passed to it
                    return o
                        .body
                        .keys()
                        .into_iter()
                        .map(|h| Binding {
                            keys: Vec::new(),
                            hint: Some(h),
                            action: Key::Body,
                        })
                        .collect();
                }
                let mut v = Vec::new();
                // `c` is shown when the report may go on to Confirm (its file checked
                // unchanged, no errors); otherwise it only says why not
                let ready = self.can_continue
                    && !o.loaded.report.has_errors()
                    && matches!(&o.check, Check::Done(c) if c.refusal().is_none());
                v.push(if ready {
                    bind(
                        &[ch('c')],
                        hint(
                            "c",
                            "continue",
                            "Go on to Confirm for a tracker with this report (only when the file is unchanged and has no errors)",
                        ),
                        Key::Continue,
                    )
                } else {
                    alias(&[ch('c')], Key::Continue)
                });
                v.extend([
                    bind(
                        &keys::SELECT,
                        hint("↑↓", "select", "Select an issue"),
                        Key::Body,
                    ),
                    bind(
                        &[code(KeyCode::Enter)],
                        hint(
                            "Enter",
                            "examples",
                            "Show where the issue occurs (line, byte, text)",
                        ),
                        Key::Examples,
                    ),
                    bind(
                        &[code(KeyCode::Tab)],
                        hint(
                            "Tab",
                            "samples",
                            "Switch between the issues and the sample orders",
                        ),
                        Key::Body,
                    ),
                    alias(&[code(KeyCode::BackTab)], Key::Body),
                ]);
                let pages = [code(KeyCode::Left), code(KeyCode::Right)];
                v.push(if o.body.tab == crate::tui::steps::validate::Tab::Samples {
                    bind(
                        &pages,
                        hint("←→", "page", "Previous / next sampled order"),
                        Key::Body,
                    )
                } else {
                    alias(&pages, Key::Body)
                });
                v.push(if self.listing.is_some() {
                    bind(
                        &[ch('d')],
                        hint(
                            "d",
                            "compare",
                            "Compare this report against another saved report",
                        ),
                        Key::Compare,
                    )
                } else {
                    alias(&[ch('d')], Key::Compare)
                });
                v.push(bind(
                    &[code(KeyCode::Esc)],
                    if self.listing.is_some() {
                        hint("Esc", "list", "Back to the list of saved reports")
                    } else if self.can_continue {
                        hint("Esc", "quit", "Leave the viewer")
                    } else {
                        hint("Esc", "back", "Back to the upload history")
                    },
                    Key::ViewBack,
                ));
                help(&mut v, self.can_continue);
                v
            }
            Screen::Compare => {
                let more = self
                    .compared
                    .as_ref()
                    .is_some_and(|c| c.fits.get() == 0 || c.cmp.rows().len() > c.fits.get());
                let mut v = vec![
                    if more {
                        bind(
                            &keys::SELECT,
                            hint("↑↓", "scroll", "Scroll the comparison"),
                            Key::Scroll,
                        )
                    } else {
                        alias(&keys::SELECT, Key::Scroll)
                    },
                    bind(
                        &[code(KeyCode::Esc), code(KeyCode::Backspace)],
                        hint("Esc", "back", "Back to the report"),
                        Key::CompareBack,
                    ),
                ];
                help(&mut v, true);
                v
            }
        }
    }

    /// The hints of the viewer's bindings.
    pub fn keys(&self) -> Vec<KeyHint> {
        hints(&self.bindings())
    }

    /// Handle a key.
    pub fn on_key(&mut self, key: &KeyEvent) -> Action {
        if key.kind != KeyEventKind::Press {
            return Action::None;
        }
        if self.help {
            self.help = false;
            return Action::None;
        }
        if key.code == KeyCode::Char('c')
            && key
                .modifiers
                .contains(crossterm::event::KeyModifiers::CONTROL)
        {
            return self.quit();
        }
        let found = find(&self.bindings(), key);
        if !matches!(found, Some(Key::Help) | Some(Key::Quit)) {
            self.message = None;
        }
        match found {
            Some(Key::Help) => {
                self.help = true;
                Action::None
            }
            Some(Key::Quit) => self.quit(),
            found => match self.screen {
                Screen::List => self.list_key(found, key),
                Screen::View => self.view_key(found, key),
                Screen::Compare => {
                    match found {
                        Some(Key::CompareBack) => self.screen = Screen::View,
                        Some(Key::Scroll) => {
                            if let Some(c) = &mut self.compared {
                                let n = c.cmp.rows().len();
                                step_selection(&mut c.scroll, n, key);
                            }
                        }
                        _ => {}
                    }
                    Action::None
                }
            },
        }
    }

    fn quit(&mut self) -> Action {
        if let Some(Opened {
            check: Check::Running(p),
            ..
        }) = &self.opened
        {
            p.cancel();
        }
        Action::Quit
    }

    fn list_key(&mut self, found: Option<Key>, key: &KeyEvent) -> Action {
        let Some(l) = &mut self.listing else {
            return Action::Quit;
        };
        let n = l.visible().len();
        match found {
            Some(Key::FilterDone) => l.filtering = false,
            Some(Key::FilterClear) => {
                l.filter.value.clear();
                l.filtering = false;
            }
            None if l.filtering => {
                l.filter.edit(key);
                l.sel = 0;
            }
            Some(Key::Filter) => l.filtering = true,
            Some(Key::ListBack) if l.picking => {
                l.picking = false;
                self.screen = Screen::View;
            }
            Some(Key::ListBack) if !l.filter.value.is_empty() => l.filter.value.clear(),
            Some(Key::ListBack) => return self.quit(),
            Some(Key::Open) => {
                let Some(item) = l
                    .visible()
                    .get(l.sel.min(n.saturating_sub(1)))
                    .map(|x| (*x).clone())
                else {
                    self.message = Some("no saved report to open".to_string());
                    return Action::None;
                };
                let picking = l.picking;
                l.picking = false;
                match report_store::load(&item.path) {
                    Ok(loaded) if picking => self.compare_with(loaded),
                    Ok(loaded) => return self.open(loaded),
                    Err(e) => {
                        if picking && let Some(l) = &mut self.listing {
                            l.picking = true;
                        }
                        self.message = Some(e.to_string());
                    }
                }
            }
            Some(Key::Select) => {
                step_selection(&mut l.sel, n, key);
            }
            _ => {}
        }
        Action::None
    }

    fn view_key(&mut self, found: Option<Key>, key: &KeyEvent) -> Action {
        let Some(o) = &mut self.opened else {
            return Action::None;
        };
        if o.body.drill {
            o.body.on_key(key);
            return Action::None;
        }
        match found {
            Some(Key::ViewBack) => {
                if self.listing.is_some() {
                    self.screen = Screen::List;
                    return Action::None;
                }
                return self.quit();
            }
            Some(Key::Continue) => return self.try_continue(),
            Some(Key::Compare) => {
                if let Some(l) = &mut self.listing {
                    l.picking = true;
                    self.screen = Screen::List;
                } else {
                    self.message = Some(
                        "no list of saved reports here — use `lbimport report NEW.json --against OLD.json`"
                            .to_string(),
                    );
                }
            }
            Some(Key::Body) => {
                o.body.on_key(key);
            }
            Some(Key::Examples) => {
                if o.body.report().is_some_and(|r| r.issues.is_empty()) {
                    return self.try_continue();
                }
                o.body.on_key(key);
            }
            _ => {}
        }
        Action::None
    }

    /// `c`: go on to Confirm when the file is unchanged and the report has no errors; else say
    /// why not.
    pub fn try_continue(&mut self) -> Action {
        let Some(o) = &self.opened else {
            return Action::None;
        };
        let report = &o.loaded.report;
        let refusal = if !self.can_continue {
            Some(
                "this report is shown from the history — start `lbimport report` on it to upload"
                    .to_string(),
            )
        } else if report.has_errors() {
            Some(format!(
                "{} — fix the file and validate it again",
                super::services::verdict_words(report)
            ))
        } else {
            match &o.check {
                Check::Off => Some("the file was not checked".to_string()),
                Check::Running(p) => {
                    let (done, total) = p.get();
                    Some(format!(
                        "still checking the file ({} of {}) — wait for the check",
                        ui::bytes(done),
                        ui::bytes(total.max(report.file.bytes))
                    ))
                }
                Check::Done(c) => c.refusal(),
            }
        };
        match refusal {
            Some(r) => {
                self.message = Some(format!("cannot continue: {r}"));
                Action::None
            }
            None => Action::Continue {
                file: report_store::file_location(report),
                report: Arc::new(report.clone()),
            },
        }
    }

    /// Draw the viewer over the whole frame.
    pub fn draw(&self, frame: &mut Frame) {
        let area = frame.area();
        let t = &self.theme;
        if area.width < ui::MIN_WIDTH || area.height < ui::MIN_HEIGHT {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    format!(
                        "terminal too small — need {}×{} (now {}×{})",
                        ui::MIN_WIDTH,
                        ui::MIN_HEIGHT,
                        area.width,
                        area.height
                    ),
                    t.warning,
                )),
                area,
            );
            return;
        }
        let [title, body, status, keys] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(10),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        let name = match self.screen {
            Screen::List if self.listing.as_ref().is_some_and(|l| l.picking) => {
                "Saved reports — pick the older one"
            }
            Screen::List => "Saved reports",
            Screen::View => "Report",
            Screen::Compare => "Comparison",
        };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(" lbimport ", t.title),
                Span::styled("│ ", t.border),
                Span::styled(
                    format!("[{name}]"),
                    t.accent.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                ),
            ])),
            title,
        );
        self.draw_in(frame, body);
        let st = match &self.message {
            Some(m) => Line::styled(format!(" {}", ui::sanitize(m, 300)), t.warning),
            None => match (&self.opened, self.screen) {
                (Some(o), Screen::View | Screen::Compare) => Line::styled(
                    format!(
                        " report {}",
                        ui::short_path(
                            &o.loaded.path.display().to_string(),
                            (status.width as usize).saturating_sub(9)
                        )
                    ),
                    t.muted,
                ),
                _ => Line::raw(""),
            },
        };
        frame.render_widget(Paragraph::new(st), status);
        ui::draw_key_bar(frame, keys, t, &self.keys());
    }

    /// Draw the current screen into `area` (the wizard draws it over its body).
    pub fn draw_in(&self, frame: &mut Frame, area: Rect) {
        match self.screen {
            Screen::List => self.draw_list(frame, area),
            Screen::View => self.draw_view(frame, area),
            Screen::Compare => self.draw_compare(frame, area),
        }
        if self.help {
            self.draw_help(frame, area);
        }
    }

    fn draw_list(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let Some(l) = &self.listing else { return };
        let [filter_area, table_area] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
        let filter = if l.filtering {
            Line::from(vec![
                Span::styled(" / ", t.accent.add_modifier(Modifier::BOLD)),
                Span::styled(format!("{}█", ui::sanitize(&l.filter.value, 60)), t.text),
            ])
        } else if l.filter.value.is_empty() {
            Line::styled(" / filters by file or report name", t.muted)
        } else {
            Line::styled(
                format!(" filter: {}", ui::sanitize(&l.filter.value, 60)),
                t.accent,
            )
        };
        frame.render_widget(Paragraph::new(filter), filter_area);
        let visible = l.visible();
        let title = format!("Saved reports ({} of {})", visible.len(), l.items.len());
        if visible.is_empty() {
            let text = if l.items.is_empty() {
                "no saved reports yet — `lbimport validate FILE --report-out PATH`, the wizard's r key and every upload save one"
            } else {
                "no report matches the filter"
            };
            frame.render_widget(
                Paragraph::new(Line::styled(text, t.muted))
                    .wrap(ratatui::widgets::Wrap { trim: true })
                    .block(ui::block(t, title)),
                table_area,
            );
            return;
        }
        let rows: Vec<Row> = visible
            .iter()
            .map(|x| {
                let when = x
                    .when
                    .map(|w| w.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|| "–".to_string());
                let (verdict, st, rows, orders) = match x.summary {
                    Some((v, r, o)) => {
                        let st = match v {
                            Verdict::Ok => t.ok,
                            Verdict::Warnings => t.warning,
                            Verdict::Errors => t.error,
                        };
                        (report_store::verdict_str(v), st, ui::count(r), ui::count(o))
                    }
                    None => ("unreadable", t.error, "–".into(), "–".into()),
                };
                let mut name = match &x.problem {
                    Some(p) => format!("{} — {}", file_name(&x.path), ui::sanitize(p, 80)),
                    None => file_name(std::path::Path::new(&x.file)),
                };
                if let Some(u) = &x.upload {
                    name = format!("{name}  [{}]", ui::sanitize(u, 40));
                }
                Row::new(vec![
                    Cell::from(Span::styled(when, t.muted)),
                    Cell::from(Span::styled(verdict, st)),
                    Cell::from(Span::styled(rows, t.text)),
                    Cell::from(Span::styled(orders, t.text)),
                    Cell::from(Span::styled(name, t.text)),
                ])
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Length(16),
                Constraint::Length(10),
                Constraint::Length(12),
                Constraint::Length(11),
                Constraint::Fill(1),
            ],
        )
        .header(Row::new(["when (UTC)", "verdict", "rows", "orders", "file"]).style(t.muted))
        .row_highlight_style(ui::selected(t))
        .highlight_symbol(ui::SELECT_SYMBOL)
        .block(ui::block(t, title));
        let mut st = TableState::default().with_selected(Some(l.sel.min(visible.len() - 1)));
        frame.render_stateful_widget(table, table_area, &mut st);
    }

    /// The header lines of the open report: verdict, file, provenance, file check.
    pub fn header_lines(&self) -> Vec<Line<'static>> {
        let t = &self.theme;
        let Some(o) = &self.opened else {
            return Vec::new();
        };
        let r = &o.loaded.report;
        let (vst, sym) = match r.verdict {
            Verdict::Ok => (t.ok, "✔ "),
            Verdict::Warnings => (t.warning, "! "),
            Verdict::Errors => (t.error, "✘ "),
        };
        let label = |s: &'static str| Span::styled(format!("{s:<6}"), t.muted);
        let mut lines = vec![Line::from(vec![Span::styled(
            format!("{sym}{}", super::services::verdict_words(r)).to_uppercase(),
            vst.add_modifier(Modifier::BOLD),
        )])];
        let sha: String = r.file.sha256.chars().take(12).collect();
        lines.push(Line::from(vec![
            label("file"),
            Span::styled(ui::short_path(&ui::sanitize(&r.file.path, 300), 60), t.text),
            Span::styled(
                format!(
                    " · {} {} · sha256 {sha}…",
                    ui::bytes(r.file.bytes),
                    r.file.format.extension().to_uppercase()
                ),
                t.muted,
            ),
        ]));
        let made = match (&r.validated_at, &r.validated_by) {
            (Some(at), by) => {
                let mut s = format!("validated {}", at.format("%Y-%m-%d %H:%M UTC"));
                if let Some(b) = by {
                    s.push_str(&format!(" by {}", ui::sanitize(b, 40)));
                }
                if let Some(v) = &r.lbimport_version {
                    s.push_str(&format!(" · lbimport {}", ui::sanitize(v, 20)));
                }
                s
            }
            (None, _) => "validated: not recorded (a report from an older lbimport)".to_string(),
        };
        lines.push(Line::from(vec![label("made"), Span::styled(made, t.text)]));
        let check = match &o.check {
            Check::Off => Span::styled("not checked (shown from the upload history)", t.muted),
            Check::Running(p) => {
                let (done, total) = p.get();
                let total = total.max(r.file.bytes);
                let pct = (done * 100).checked_div(total).unwrap_or(0);
                Span::styled(
                    format!(
                        "checking size and sha256… {pct}% ({} of {})",
                        ui::bytes(done),
                        ui::bytes(total)
                    ),
                    t.muted,
                )
            }
            Check::Done(FileCheck::Unchanged) => Span::styled(
                if r.has_errors() || !self.can_continue {
                    "✔ unchanged (same size and sha256)".to_string()
                } else {
                    "✔ unchanged (same size and sha256) — c continues to Confirm".to_string()
                },
                t.ok,
            ),
            Check::Done(c) => {
                Span::styled(format!("✘ {}", c.refusal().unwrap_or_default()), t.error)
            }
        };
        lines.push(Line::from(vec![label("now"), check]));
        if let Some((k, n)) = o.loaded.part {
            lines.push(Line::from(vec![
                label("part"),
                Span::styled(
                    format!(
                        "{k} of {n} of a split file (`lbimport report FILE --part N` opens another)"
                    ),
                    t.text,
                ),
            ]));
        }
        if !o.loaded.unknown.is_empty() {
            lines.push(Line::from(vec![
                label("note"),
                Span::styled(
                    format!(
                        "made by a newer lbimport; fields not shown: {}",
                        ui::sanitize(&o.loaded.unknown.join(", "), 200)
                    ),
                    t.warning,
                ),
            ]));
        }
        lines
    }

    fn draw_view(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let Some(o) = &self.opened else { return };
        let mut header = self.header_lines();
        if !self.can_continue
            && let Some(m) = &self.message
        {
            header.push(Line::styled(ui::sanitize(m, 300), t.warning));
        }
        let [head, body] = Layout::vertical([
            Constraint::Length(header.len() as u16 + 2),
            Constraint::Min(8),
        ])
        .areas(area);
        frame.render_widget(
            Paragraph::new(header).block(ui::block(t, "Saved report")),
            head,
        );
        o.body.draw_body(frame, body, t);
        if o.body.drill {
            o.body.draw_examples(frame, area, t);
        }
    }

    fn draw_compare(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let (Some(c), Some(o)) = (&self.compared, &self.opened) else {
            return;
        };
        let [head, table_area, products] = Layout::vertical([
            Constraint::Length(4),
            Constraint::Min(5),
            Constraint::Length(4),
        ])
        .areas(area);
        let w = area.width.saturating_sub(40) as usize;
        let side = |label: &'static str,
                    file: &str,
                    at: &Option<chrono::DateTime<chrono::Utc>>,
                    report: &std::path::Path| {
            Line::from(vec![
                Span::styled(label, t.muted),
                Span::styled(ui::short_path(&ui::sanitize(file, 300), w), t.text),
                Span::styled(
                    match at {
                        Some(at) => format!("  validated {}", at.format("%Y-%m-%d %H:%M")),
                        None => format!("  {}", file_name(report)),
                    },
                    t.muted,
                ),
            ])
        };
        frame.render_widget(
            Paragraph::new(vec![
                side(
                    "new  ",
                    &c.cmp.new_file,
                    &c.cmp.new_validated_at,
                    &o.loaded.path,
                ),
                side(
                    "old  ",
                    &c.cmp.old_file,
                    &c.cmp.old_validated_at,
                    &c.old_path,
                ),
            ])
            .block(ui::block(t, "Comparing two saved reports")),
            head,
        );
        let all = c.cmp.rows();
        let fits = (table_area.height as usize).saturating_sub(3).max(1);
        c.fits.set(fits);
        let scroll = c.scroll.min(all.len().saturating_sub(fits));
        let title = if all.len() > fits {
            format!(
                "Side by side — rows {}–{} of {}, ↑↓ scrolls",
                scroll + 1,
                (scroll + fits).min(all.len()),
                all.len()
            )
        } else {
            "Side by side".to_string()
        };
        let rows: Vec<Row> = all
            .into_iter()
            .skip(scroll)
            .map(|[a, b, n, d]| {
                let st = if d == "=" {
                    t.muted
                } else if d.starts_with('−') && a.contains('_') {
                    t.ok
                } else if a.contains('_') {
                    t.warning
                } else {
                    t.accent
                };
                Row::new(vec![
                    Cell::from(Span::styled(a, t.text)),
                    Cell::from(Span::styled(b, t.text)),
                    Cell::from(Span::styled(n, t.text)),
                    Cell::from(Span::styled(d, st)),
                ])
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Length(18),
                Constraint::Length(19),
                Constraint::Length(19),
                Constraint::Fill(1),
            ],
        )
        .header(Row::new(["", "old", "new", "change"]).style(t.muted))
        .block(ui::block(t, title));
        frame.render_widget(table, table_area);
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.iter()
                    .map(|s| ui::sanitize(s, 60))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(vec![
                    Span::styled("appearing     ", t.muted),
                    Span::styled(list(&c.cmp.products_appearing), t.ok),
                ]),
                Line::from(vec![
                    Span::styled("disappearing  ", t.muted),
                    Span::styled(list(&c.cmp.products_disappearing), t.warning),
                ]),
            ])
            .block(ui::block(t, "Top products")),
            products,
        );
    }

    fn draw_help(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let mut lines = vec![Line::styled("Keys", t.title)];
        for k in self.keys() {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {:<10}", k.key),
                    t.accent.add_modifier(Modifier::BOLD),
                ),
                Span::styled(k.description, t.text),
            ]));
        }
        lines.truncate(area.height.saturating_sub(2) as usize);
        ui::popup(
            frame,
            area,
            t,
            "Help — any key closes",
            lines,
            area.width.saturating_sub(8).min(100),
        );
    }
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| ui::sanitize(&n.to_string_lossy(), 40))
        .unwrap_or_default()
}

/// How the viewer was left.
#[derive(Debug)]
pub enum Outcome {
    /// The user quit.
    Quit,
    /// Go on to Confirm with this report's file.
    Continue {
        /// The file.
        file: PathBuf,
        /// Its report.
        report: Arc<Report>,
    },
}

/// Run the viewer full-screen until the user quits or continues. `initial` is the action the
/// construction asked for (the first file check).
pub fn run(mut viewer: ReportViewer, initial: Action) -> anyhow::Result<Outcome> {
    use crossterm::event::{self, Event};
    let mut terminal = super::setup_terminal()?;
    let (tx, rx) = std::sync::mpsc::channel::<(PathBuf, FileCheck)>();
    let start = |a: Action, viewer: &ReportViewer| {
        if let Action::StartCheck { progress, report } = a {
            let tx = tx.clone();
            let path = viewer
                .opened
                .as_ref()
                .map(|o| o.loaded.path.clone())
                .unwrap_or_default();
            std::thread::spawn(move || {
                let r = report_store::check_file(&report, &progress);
                let _ = tx.send((path, r));
            });
        }
    };
    start(initial, &viewer);
    let stop = stop_on_signals();
    let result = (|| -> anyhow::Result<Outcome> {
        loop {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(Outcome::Quit);
            }
            while let Ok((p, r)) = rx.try_recv() {
                viewer.check_done(&p, r);
            }
            // one frame per synchronized update, as in the wizard (no tearing)
            crossterm::queue!(
                terminal.backend_mut(),
                crossterm::terminal::BeginSynchronizedUpdate
            )?;
            terminal.draw(|f| viewer.draw(f))?;
            crossterm::execute!(
                terminal.backend_mut(),
                crossterm::terminal::EndSynchronizedUpdate
            )?;
            if !event::poll(Duration::from_millis(100))? {
                continue;
            }
            match event::read()? {
                Event::Key(k) => match viewer.on_key(&k) {
                    Action::Quit => return Ok(Outcome::Quit),
                    Action::Continue { file, report } => {
                        return Ok(Outcome::Continue { file, report });
                    }
                    a @ Action::StartCheck { .. } => start(a, &viewer),
                    Action::None => {}
                },
                Event::Resize(_, _) => {
                    terminal.autoresize()?;
                }
                _ => {}
            }
        }
    })();
    super::restore_terminal();
    result
}

/// Render a viewer into a buffer of `width`×`height` (snapshots, screenshots).
#[cfg(any(test, feature = "demo"))]
pub fn render(v: &ReportViewer, width: u16, height: u16) -> ratatui::buffer::Buffer {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let Ok(mut term) = ratatui::Terminal::new(backend);
    let _ = term.draw(|f| v.draw(f));
    term.backend().buffer().clone()
}

/// Deterministic viewer states from the demo data (no disk, clock or thread): the list, the
/// list filtered, a report whose file is unchanged, one still being checked, one whose file
/// changed after `c`, an issue's examples, and a comparison.
#[cfg(any(test, feature = "demo"))]
pub fn demo_states(theme: &Theme) -> Vec<(&'static str, ReportViewer)> {
    use chrono::TimeZone;
    let at = |d: u32, h: u32| chrono::Utc.with_ymd_and_hms(2026, 11, d, h, 5, 0).single();
    let mut oct = crate::tui::demo::demo_report(false);
    oct.validated_at = at(2, 9);
    oct.validated_by = Some("ana@shop-export-01".into());
    oct.lbimport_version = Some("0.1.0".into());
    oct.stats.top_products = ["/p/coffee-beans-1kg", "/p/descaler", "/p/milk-frother"]
        .iter()
        .map(|p| crate::validate::TopProduct {
            identity: (*p).into(),
            rows: 1,
        })
        .collect();
    let mut sep = oct.clone();
    sep.file.path = "/home/demo/exports/orders-2026-09.csv".into();
    sep.validated_at = at(1, 8);
    sep.stats.rows = 1_190_004;
    sep.stats.orders = 398_551;
    sep.stats.multi_item_orders = 229_001;
    sep.stats.pairs = 1_360_410;
    sep.stats.products = 18_002;
    sep.stats.users = 95_870;
    sep.stats.first_purchase = Some("2026-09-01 00:02:13".into());
    sep.stats.last_purchase = Some("2026-09-30 23:58:40".into());
    sep.issues
        .retain(|i| i.code != crate::validate::Code::FutureTimestamp);
    sep.stats.top_products[2].identity = "/p/grinder-pro".into();
    let dir = "/home/demo/.local/share/lbimport/reports";
    let loaded = |r: &Report, name: &str| Loaded {
        report: r.clone(),
        path: PathBuf::from(format!("{dir}/{name}")),
        unknown: Vec::new(),
        part: None,
    };
    let listed = |r: &Report, name: &str, upload: Option<&str>| Listed {
        path: PathBuf::from(format!("{dir}/{name}")),
        when: r.validated_at,
        file: r.file.path.clone(),
        summary: Some((r.verdict, r.stats.rows, r.stats.orders)),
        problem: None,
        upload: upload.map(str::to_string),
    };
    let items = vec![
        listed(
            &oct,
            "orders-2026-10-20261102-090500.report.json",
            Some("accepted to shop-prod"),
        ),
        listed(&sep, "orders-2026-09-20261101-080500.report.json", None),
        Listed {
            path: PathBuf::from(format!("{dir}/notes.json")),
            when: at(1, 7),
            file: String::new(),
            summary: None,
            problem: Some("it is not a JSON object".into()),
            upload: None,
        },
    ];
    let mut out = Vec::new();
    let list = ReportViewer::with_list(theme.clone(), items.clone());
    out.push(("report-list", list.clone()));
    let mut filtered = list.clone();
    if let Some(l) = &mut filtered.listing {
        l.filter.value = "2026-09".into();
        l.filtering = true;
    }
    out.push(("report-list-filter", filtered));
    let mut view = list.clone();
    view.open(loaded(&oct, "orders-2026-10-20261102-090500.report.json"));
    let unchanged = |v: &mut ReportViewer, c: Check| {
        if let Some(o) = &mut v.opened {
            o.check = c;
        }
    };
    let mut ok = view.clone();
    unchanged(&mut ok, Check::Done(FileCheck::Unchanged));
    out.push(("report-view", ok.clone()));
    let mut checking = view.clone();
    unchanged(
        &mut checking,
        Check::Running(Arc::new(CheckProgress::at(17_000_000, oct.file.bytes))),
    );
    out.push(("report-view-checking", checking));
    let mut changed = view.clone();
    unchanged(
        &mut changed,
        Check::Done(FileCheck::Resized {
            was: oct.file.bytes,
            now: oct.file.bytes + 4_096,
        }),
    );
    changed.try_continue();
    out.push(("report-view-changed", changed));
    let mut drill = ok.clone();
    if let Some(o) = &mut drill.opened {
        o.body.drill = true;
    }
    out.push(("report-drill", drill));
    let mut cmp = ok;
    cmp.compare_with(loaded(&sep, "orders-2026-09-20261101-080500.report.json"));
    out.push(("report-compare", cmp));
    out
}

/// A flag set on SIGTERM, SIGHUP or SIGINT sent as a signal (a small thread waits for them), so
/// the loop can restore the terminal before leaving.
fn stop_on_signals() -> Arc<std::sync::atomic::AtomicBool> {
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let f2 = flag.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build();
    if let Ok(rt) = rt {
        // register before the first frame, so an early signal is not lost
        let sigs = rt.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            Some((
                signal(SignalKind::terminate()).ok()?,
                signal(SignalKind::hangup()).ok()?,
                signal(SignalKind::interrupt()).ok()?,
            ))
        });
        if let Some((mut term, mut hup, mut int)) = sigs {
            std::thread::spawn(move || {
                rt.block_on(async {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = hup.recv() => {}
                        _ = int.recv() => {}
                    }
                });
                f2.store(true, std::sync::atomic::Ordering::Relaxed);
            });
        }
    }
    flag
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn loaded() -> Loaded {
        Loaded {
            report: crate::tui::demo::demo_report(false),
            path: PathBuf::from("/r/a.report.json"),
            unknown: vec![],
            part: None,
        }
    }

    #[test]
    fn continue_waits_for_the_check_and_refuses_a_changed_file() {
        let (mut v, a) = ReportViewer::with_report(Theme::default(), loaded());
        assert!(matches!(a, Action::StartCheck { .. }));
        assert!(matches!(v.on_key(&key(KeyCode::Char('c'))), Action::None));
        assert!(
            v.message
                .as_deref()
                .unwrap_or("")
                .contains("still checking")
        );
        v.check_done(
            std::path::Path::new("/r/a.report.json"),
            FileCheck::Resized { was: 10, now: 12 },
        );
        assert!(matches!(v.on_key(&key(KeyCode::Char('c'))), Action::None));
        assert_eq!(
            v.message.as_deref(),
            Some(
                "cannot continue: the file changed since it was validated (12 bytes now, 10 then) — validate it again"
            )
        );
    }

    #[test]
    fn continue_goes_on_when_unchanged_and_stale_checks_are_ignored() {
        let (mut v, _) = ReportViewer::with_report(Theme::default(), loaded());
        v.check_done(std::path::Path::new("/r/other.json"), FileCheck::Modified);
        assert!(matches!(
            v.opened.as_ref().unwrap().check,
            Check::Running(_)
        ));
        v.check_done(
            std::path::Path::new("/r/a.report.json"),
            FileCheck::Unchanged,
        );
        match v.on_key(&key(KeyCode::Char('c'))) {
            Action::Continue { file, report } => {
                assert_eq!(file, PathBuf::from("/home/demo/exports/orders-2026-10.csv"));
                assert_eq!(report.stats.rows, 1_204_331);
            }
            a => panic!("expected Continue, got {a:?}"),
        }
    }

    #[test]
    fn a_report_with_errors_never_continues() {
        let mut l = loaded();
        l.report = crate::tui::demo::demo_report(true);
        let (mut v, _) = ReportViewer::with_report(Theme::default(), l);
        v.check_done(
            std::path::Path::new("/r/a.report.json"),
            FileCheck::Unchanged,
        );
        assert!(matches!(v.on_key(&key(KeyCode::Char('c'))), Action::None));
        assert_eq!(
            v.message.as_deref(),
            Some(
                "cannot continue: 1206 errors — the service would reject the whole file — fix the file and validate it again"
            )
        );
    }

    #[test]
    fn list_filters_opens_and_picks_a_report_to_compare() {
        let d = tempfile::tempdir().unwrap();
        let mut a = crate::tui::demo::demo_report(false);
        a.file.path = "/x/orders-2026-10.csv".into();
        let mut b = crate::tui::demo::demo_report(false);
        b.file.path = "/x/orders-2026-09.csv".into();
        b.stats.rows = 1_000;
        let pa = d.path().join("a.report.json");
        let pb = d.path().join("b.report.json");
        std::fs::write(&pa, serde_json::to_vec(&a).unwrap()).unwrap();
        std::fs::write(&pb, serde_json::to_vec(&b).unwrap()).unwrap();
        let items = report_store::list(d.path(), &[]);
        let mut v = ReportViewer::with_list(Theme::default(), items);
        v.on_key(&key(KeyCode::Char('/')));
        for c in "09".chars() {
            v.on_key(&key(KeyCode::Char(c)));
        }
        v.on_key(&key(KeyCode::Enter));
        assert_eq!(v.listing.as_ref().unwrap().visible().len(), 1);
        let a1 = v.on_key(&key(KeyCode::Enter));
        assert!(matches!(a1, Action::StartCheck { .. }));
        assert_eq!(v.screen, Screen::View);
        assert_eq!(v.opened.as_ref().unwrap().loaded.report.stats.rows, 1_000);
        // d → pick the other → comparison
        v.on_key(&key(KeyCode::Char('d')));
        assert_eq!(v.screen, Screen::List);
        v.on_key(&key(KeyCode::Char('/')));
        v.on_key(&key(KeyCode::Esc));
        let n = v.listing.as_ref().unwrap().visible().len();
        assert_eq!(n, 2);
        let idx = v
            .listing
            .as_ref()
            .unwrap()
            .visible()
            .iter()
            .position(|x| x.path == pa)
            .unwrap();
        v.listing.as_mut().unwrap().sel = idx;
        v.on_key(&key(KeyCode::Enter));
        assert_eq!(v.screen, Screen::Compare);
        let c = &v.compared.as_ref().unwrap().cmp;
        assert_eq!(c.counters["rows"].old, 1_204_331);
        assert_eq!(c.counters["rows"].new, 1_000);
        v.on_key(&key(KeyCode::Esc));
        assert_eq!(v.screen, Screen::View);
        assert!(matches!(v.on_key(&key(KeyCode::Char('q'))), Action::Quit));
    }

    #[test]
    fn unknown_fields_stay_in_the_header() {
        let mut l = loaded();
        l.unknown = vec!["catalog_match".into(), "stats.revenue".into()];
        let (mut v, _) = ReportViewer::with_report(Theme::default(), l);
        v.on_key(&key(KeyCode::Down));
        let text = crate::tui::demo::text(&render(&v, 120, 40));
        assert!(
            text.contains(
                "note  made by a newer lbimport; fields not shown: catalog_match, stats.revenue"
            ),
            "{text}"
        );
    }

    #[test]
    fn enter_drills_into_an_issue_and_esc_closes_it() {
        let (mut v, _) = ReportViewer::with_report(Theme::default(), loaded());
        v.on_key(&key(KeyCode::Down));
        v.on_key(&key(KeyCode::Enter));
        let o = v.opened.as_ref().unwrap();
        assert!(o.body.drill);
        assert_eq!(o.body.issue_sel, 1);
        // q while drilling does not quit: the popup takes keys first
        v.on_key(&key(KeyCode::Esc));
        assert!(!v.opened.as_ref().unwrap().body.drill);
    }
}
