//! Colours and modifiers of the wizard, by meaning rather than by hue.
//!
//! A theme is a TOML file whose keys are the semantic roles of [`Theme`] (`title`, `text`,
//! `muted`, `accent`, `selection`, `border`, `ok`, `warning`, `error`, `gauge`, `gauge_bg`).
//! Each key is a table with any of `fg`, `bg` (a colour: a name such as `cyan` or `darkgray`,
//! `"#rrggbb"`, or an xterm-256 index `0`–`255`) and `modifiers` (`bold`, `dim`, `italic`,
//! `underlined`, `reversed`, `crossed_out`, `slow_blink`, `rapid_blink`, `hidden`):
//!
//! ```toml
//! parent = "default"          # optional; keys not set here come from the parent
//! description = "My colours"  # optional, shown in listings
//! title = { fg = "#ff8700", modifiers = ["bold"] }
//! selection = { fg = "black", bg = 214, modifiers = ["bold"] }
//! ```
//!
//! Inheritance is per field: a key that sets only `fg` keeps the parent's `bg` and
//! `modifiers`; `"reset"` clears a colour back to the terminal's own, `modifiers = []` clears
//! the modifiers. A theme without `parent` starts from the built-in `default`.
//!
//! Built-in themes (`default`, `light`, `high-contrast`, `mono`) are compiled into the
//! binary. Users add themes, or replace a built-in one, with `<config dir>/themes/NAME.toml`;
//! a user theme whose `parent` is its own name (`default.toml` with `parent = "default"`)
//! extends the built-in one of that name.
//!
//! Selection order in [`Theme::load`]: the name the caller passes (from `--theme`, else from
//! `theme = "…"` in the config), else `mono` when `NO_COLOR` is set to a non-empty value, else
//! `default`. A named theme wins over `NO_COLOR`, as <https://no-color.org> asks of
//! configuration files and command-line flags. Any problem (unknown theme, a file that does
//! not parse, a bad colour, a parent cycle) becomes a one-line warning naming the file, line
//! and key, and the built-in `default` is used instead — loading a theme never fails.
//!
//! On terminals that do not announce truecolor (`COLORTERM` is not `truecolor`/`24bit`),
//! `#rrggbb` colours are replaced by the nearest xterm-256 colour (see [`nearest_xterm256`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

/// A theme: one style per semantic role. Every screen draws through these, never raw colours.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// Theme name (`default`, `light`, …).
    pub name: String,
    /// Titles and headings.
    pub title: Style,
    /// Ordinary text.
    pub text: Style,
    /// Secondary text: hints, units, labels.
    pub muted: Style,
    /// Highlights: keys in hints, the current breadcrumb step.
    pub accent: Style,
    /// The selected row/item (must stay visible without colour: it carries a modifier).
    pub selection: Style,
    /// Block borders.
    pub border: Style,
    /// Good news: ready, accepted.
    pub ok: Style,
    /// Warnings.
    pub warning: Style,
    /// Errors and rejections.
    pub error: Style,
    /// Gauge filled part.
    pub gauge: Style,
    /// Gauge empty part.
    pub gauge_bg: Style,
}

impl Default for Theme {
    /// The built-in `default` theme (`themes/default.toml`).
    fn default() -> Self {
        Theme::builtin(DEFAULT_THEME).unwrap_or_else(Theme::fallback)
    }
}

/// Name of the theme used when nothing else is chosen.
pub const DEFAULT_THEME: &str = "default";
/// Name of the colourless theme chosen by `NO_COLOR`.
pub const MONO_THEME: &str = "mono";
/// Sub-directory of the config directory holding user themes.
pub const USER_THEMES_DIR: &str = "themes";

/// The built-in themes: name and TOML source, compiled into the binary.
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// The semantic keys a theme file may set, in display order.
pub const KEYS: [&str; 11] = [
    "title",
    "text",
    "muted",
    "accent",
    "selection",
    "border",
    "ok",
    "warning",
    "error",
    "gauge",
    "gauge_bg",
];

/// Largest theme file read (a theme is a few hundred bytes).
const MAX_THEME_BYTES: u64 = 256 * 1024;
/// Longest parent chain followed.
const MAX_DEPTH: usize = 16;

impl Theme {
    /// The hard-coded twin of `themes/default.toml`, used only if that file could not be
    /// parsed (a test keeps the two equal).
    fn fallback() -> Self {
        Theme {
            name: DEFAULT_THEME.into(),
            title: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            text: Style::new().fg(Color::White),
            muted: Style::new().fg(Color::DarkGray),
            accent: Style::new().fg(Color::Yellow),
            selection: Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            border: Style::new().fg(Color::Gray),
            ok: Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            warning: Style::new().fg(Color::Yellow),
            error: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            gauge: Style::new().fg(Color::Cyan).bg(Color::Black),
            gauge_bg: Style::new().fg(Color::DarkGray),
        }
    }

    /// Names of the built-in themes.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// A built-in theme by name, exactly as its file says (no environment is consulted and
    /// `#rrggbb` colours are kept). `None` for an unknown name or a built-in that does not
    /// parse (tests make sure none does).
    pub fn builtin(name: &str) -> Option<Theme> {
        let catalog = Catalog::new(None);
        catalog.resolve(name).ok()
    }

    /// Load the theme to use, never failing: see the [module docs](self) for the order of
    /// choice. `name` is `--theme`, else the config's `theme = "…"`; `config_dir` is where
    /// `themes/*.toml` user themes live (normally [`crate::config::config_dir`]). Returns the
    /// theme and one-line warnings for the user (bad files, unknown names).
    pub fn load(name: Option<&str>, config_dir: Option<&Path>) -> (Theme, Vec<String>) {
        Theme::load_with_env(name, config_dir, &|k| std::env::var(k).ok())
    }

    /// [`Theme::load`] with the environment lookup injected (`NO_COLOR`, `COLORTERM`), for
    /// tests and for callers that already hold the environment.
    pub fn load_with_env(
        name: Option<&str>,
        config_dir: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> (Theme, Vec<String>) {
        let mut warnings = Vec::new();
        let requested = match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None if no_color(env) => MONO_THEME.to_string(),
            None => DEFAULT_THEME.to_string(),
        };
        let catalog = Catalog::new(config_dir.map(|d| d.join(USER_THEMES_DIR)));
        let mut theme = match catalog.resolve(&requested) {
            Ok(t) => t,
            Err(e) => {
                warnings.push(format!("{e}; using the built-in default theme"));
                Theme::default()
            }
        };
        warnings.extend(catalog.take_warnings());
        if !supports_truecolor(env) {
            theme = theme.to_xterm256();
        }
        (theme, warnings)
    }

    /// Names of every theme available: built-ins and the `*.toml` files in
    /// `<config_dir>/themes/`, sorted, without duplicates.
    pub fn available(config_dir: Option<&Path>) -> Vec<String> {
        let mut names: BTreeSet<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
        if let Some(dir) = config_dir
            && let Ok(entries) = std::fs::read_dir(dir.join(USER_THEMES_DIR))
        {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "toml")
                    && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                    && valid_name(stem)
                {
                    names.insert(stem.to_string());
                }
            }
        }
        names.into_iter().collect()
    }

    /// The same theme with every `#rrggbb` colour replaced by its nearest xterm-256 index.
    pub fn to_xterm256(&self) -> Theme {
        let mut t = self.clone();
        for s in t.styles_mut() {
            s.fg = s.fg.map(downgrade);
            s.bg = s.bg.map(downgrade);
        }
        t
    }

    /// The semantic styles with their key names, in [`KEYS`] order.
    pub fn styles(&self) -> [(&'static str, Style); 11] {
        [
            ("title", self.title),
            ("text", self.text),
            ("muted", self.muted),
            ("accent", self.accent),
            ("selection", self.selection),
            ("border", self.border),
            ("ok", self.ok),
            ("warning", self.warning),
            ("error", self.error),
            ("gauge", self.gauge),
            ("gauge_bg", self.gauge_bg),
        ]
    }

    fn styles_mut(&mut self) -> [&mut Style; 11] {
        [
            &mut self.title,
            &mut self.text,
            &mut self.muted,
            &mut self.accent,
            &mut self.selection,
            &mut self.border,
            &mut self.ok,
            &mut self.warning,
            &mut self.error,
            &mut self.gauge,
            &mut self.gauge_bg,
        ]
    }

    fn style_mut(&mut self, key: &str) -> Option<&mut Style> {
        let i = KEYS.iter().position(|k| *k == key)?;
        let [a, b, c, d, e, f, g, h, i2, j, k] = self.styles_mut();
        [a, b, c, d, e, f, g, h, i2, j, k].into_iter().nth(i)
    }
}

/// `NO_COLOR` is set to a non-empty value.
pub fn no_color(env: &dyn Fn(&str) -> Option<String>) -> bool {
    env("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// The terminal announces 24-bit colour (`COLORTERM=truecolor` or `24bit`).
pub fn supports_truecolor(env: &dyn Fn(&str) -> Option<String>) -> bool {
    env("COLORTERM").is_some_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        v == "truecolor" || v == "24bit"
    })
}

fn downgrade(c: Color) -> Color {
    match c {
        Color::Rgb(r, g, b) => Color::Indexed(nearest_xterm256(r, g, b)),
        other => other,
    }
}

/// The channel levels of the xterm-256 6×6×6 colour cube (indexes 16–231).
pub const CUBE_LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// RGB of an xterm-256 index from 16 up (the cube and the 24-step grey ramp; 0–15 are the
/// terminal's configurable palette and have no fixed value). `None` below 16.
pub fn xterm256_rgb(index: u8) -> Option<(u8, u8, u8)> {
    match index {
        0..=15 => None,
        16..=231 => {
            let i = index - 16;
            Some((
                CUBE_LEVELS[usize::from(i / 36)],
                CUBE_LEVELS[usize::from((i / 6) % 6)],
                CUBE_LEVELS[usize::from(i % 6)],
            ))
        }
        232..=255 => {
            let v = 8 + 10 * (index - 232);
            Some((v, v, v))
        }
    }
}

/// The xterm-256 index (16–255: cube or grey ramp, never the terminal-defined 0–15) nearest
/// to an RGB colour, by squared distance weighted for perceived brightness (2·ΔR² + 4·ΔG² +
/// 3·ΔB²).
pub fn nearest_xterm256(r: u8, g: u8, b: u8) -> u8 {
    let dist = |(r2, g2, b2): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        2 * d(r, r2) + 4 * d(g, g2) + 3 * d(b, b2)
    };
    let mut best = 16u8;
    let mut best_d = i32::MAX;
    for idx in 16..=255u8 {
        if let Some(rgb) = xterm256_rgb(idx) {
            let dd = dist(rgb);
            if dd < best_d {
                best = idx;
                best_d = dd;
            }
        }
    }
    best
}

/// Parse a colour written as a name, `#rrggbb` or an index `0`–`255` (also as a string).
/// Names ignore case, spaces, `-` and `_` (`dark-gray` = `darkgray`); `grey` = `gray`;
/// `reset` (or `default`) is the terminal's own colour.
pub fn parse_color(s: &str) -> Result<Color, String> {
    let t = s.trim();
    if let Some(hex) = t.strip_prefix('#') {
        if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            let v = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
            return Ok(Color::Rgb(v(0), v(2), v(4)));
        }
        return Err(format!("\"{t}\" is not a #rrggbb colour (six hex digits)"));
    }
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
        return match t.parse::<u8>() {
            Ok(i) => Ok(Color::Indexed(i)),
            Err(_) => Err(format!("colour index {t} is out of range 0–255")),
        };
    }
    let key: String = t
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .replace("grey", "gray");
    Ok(match key.as_str() {
        "reset" | "default" | "none" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" => Color::Gray,
        "darkgray" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => {
            return Err(format!(
                "unknown colour \"{t}\" (use a name such as cyan or darkgray, \"#rrggbb\", or 0–255)"
            ));
        }
    })
}

/// Parse a modifier name (`bold`, `dim`, `italic`, `underlined`/`underline`,
/// `reversed`/`reverse`, `crossed_out`/`strikethrough`, `slow_blink`/`blink`, `rapid_blink`,
/// `hidden`).
pub fn parse_modifier(s: &str) -> Result<Modifier, String> {
    let key: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect();
    Ok(match key.as_str() {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" | "underline" => Modifier::UNDERLINED,
        "reversed" | "reverse" => Modifier::REVERSED,
        "crossedout" | "strikethrough" => Modifier::CROSSED_OUT,
        "slowblink" | "blink" => Modifier::SLOW_BLINK,
        "rapidblink" => Modifier::RAPID_BLINK,
        "hidden" => Modifier::HIDDEN,
        _ => {
            return Err(format!(
                "unknown modifier \"{}\" (use bold, dim, italic, underlined, reversed, \
                 crossed_out, slow_blink, rapid_blink or hidden)",
                s.trim()
            ));
        }
    })
}

/// A theme name is a file stem: letters, digits, `-`, `_` (so `--theme ../x` reads nothing).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

// ---------------------------------------------------------------------------------------------
// Files

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Builtin,
    User,
}

struct Source {
    origin: Origin,
    /// What messages call the file: `themes/light.toml (built in)` or its path.
    label: String,
    text: String,
}

#[derive(Deserialize)]
struct RawColor(Spanned<toml::Value>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStyle {
    fg: Option<RawColor>,
    bg: Option<RawColor>,
    modifiers: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
struct RawTheme {
    parent: Option<Spanned<String>>,
    #[allow(dead_code)]
    description: Option<String>,
    title: Option<Spanned<RawStyle>>,
    text: Option<Spanned<RawStyle>>,
    muted: Option<Spanned<RawStyle>>,
    accent: Option<Spanned<RawStyle>>,
    selection: Option<Spanned<RawStyle>>,
    border: Option<Spanned<RawStyle>>,
    ok: Option<Spanned<RawStyle>>,
    warning: Option<Spanned<RawStyle>>,
    error: Option<Spanned<RawStyle>>,
    gauge: Option<Spanned<RawStyle>>,
    gauge_bg: Option<Spanned<RawStyle>>,
}

impl RawTheme {
    fn keyed(self) -> [(&'static str, Option<Spanned<RawStyle>>); 11] {
        [
            ("title", self.title),
            ("text", self.text),
            ("muted", self.muted),
            ("accent", self.accent),
            ("selection", self.selection),
            ("border", self.border),
            ("ok", self.ok),
            ("warning", self.warning),
            ("error", self.error),
            ("gauge", self.gauge),
            ("gauge_bg", self.gauge_bg),
        ]
    }
}

/// One key of a theme file: name, fg, bg, modifiers (each `None` when not set).
type StyleFields = (&'static str, Option<Color>, Option<Color>, Option<Modifier>);

/// What one file says: its parent and the style fields it sets.
struct Layer {
    parent: Option<(String, usize)>,
    /// key, fg, bg, modifiers (each `None` when not set).
    styles: Vec<StyleFields>,
}

struct Catalog {
    user_dir: Option<PathBuf>,
    /// Warnings that do not stop a theme from loading (unknown keys).
    warnings: std::cell::RefCell<Vec<String>>,
}

impl Catalog {
    fn new(user_dir: Option<PathBuf>) -> Self {
        Catalog {
            user_dir,
            warnings: std::cell::RefCell::new(Vec::new()),
        }
    }

    fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.warnings.borrow_mut())
    }

    /// Find a theme's source: a user file first (unless `builtin_only`), then a built-in.
    fn source(&self, name: &str, builtin_only: bool) -> Result<Option<Source>, String> {
        if !builtin_only && let Some(dir) = &self.user_dir {
            let path = dir.join(format!("{name}.toml"));
            match read_bounded(&path) {
                Ok(Some(text)) => {
                    return Ok(Some(Source {
                        origin: Origin::User,
                        label: path.display().to_string(),
                        text,
                    }));
                }
                Ok(None) => {}
                Err(e) => return Err(format!("theme file {}: {e}", path.display())),
            }
        }
        Ok(BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, text)| Source {
                origin: Origin::Builtin,
                label: format!("built-in theme file themes/{n}.toml"),
                text: (*text).to_string(),
            }))
    }

    /// Resolve a theme and its parents into a [`Theme`].
    fn resolve(&self, name: &str) -> Result<Theme, String> {
        if !valid_name(name) {
            return Err(format!(
                "\"{name}\" is not a theme name (letters, digits, - and _ only)"
            ));
        }
        let mut layers: Vec<Layer> = Vec::new();
        let mut seen: Vec<(String, Origin, String)> = Vec::new();
        let mut current = name.to_string();
        let mut builtin_only = false;
        // Where the current name came from, for "no such parent" messages.
        let mut referrer: Option<(String, usize)> = None;
        loop {
            let Some(src) = self.source(&current, builtin_only)? else {
                return Err(match &referrer {
                    None => format!(
                        "no theme named \"{current}\" (available: {})",
                        Theme::available(self.user_dir.as_deref().and_then(Path::parent))
                            .join(", ")
                    ),
                    Some((label, line))
                        if builtin_only
                            && seen
                                .last()
                                .is_some_and(|(n, o, _)| *n == current && *o == Origin::User) =>
                    {
                        format!(
                            "{label}:{line}: parent: a theme can only name itself as parent to \
                         extend the built-in theme of that name, and there is no built-in \"{current}\""
                        )
                    }
                    Some((label, line)) => {
                        format!("{label}:{line}: parent: no theme named \"{current}\"")
                    }
                });
            };
            if seen
                .iter()
                .any(|(n, o, _)| *n == current && *o == src.origin)
            {
                let chain: Vec<&str> = seen.iter().map(|(n, _, _)| n.as_str()).collect();
                let (label, line) = referrer.unwrap_or_default();
                return Err(format!(
                    "{label}:{line}: parent: the themes form a cycle ({} → {current})",
                    chain.join(" → ")
                ));
            }
            if seen.len() >= MAX_DEPTH {
                return Err(format!(
                    "{}: parent: more than {MAX_DEPTH} levels of parents",
                    src.label
                ));
            }
            let (layer, unknown) = parse_layer(&src)?;
            self.warnings.borrow_mut().extend(unknown);
            seen.push((current.clone(), src.origin, src.label.clone()));
            let origin = src.origin;
            let next = match &layer.parent {
                Some((p, line)) => {
                    referrer = Some((src.label.clone(), *line));
                    Some(p.clone())
                }
                None if current == DEFAULT_THEME && origin == Origin::Builtin => None,
                None => {
                    referrer = Some((src.label.clone(), 1));
                    Some(DEFAULT_THEME.to_string())
                }
            };
            layers.push(layer);
            match next {
                None => break,
                Some(p) => {
                    // A user theme naming itself as parent extends the built-in of that name.
                    builtin_only =
                        origin == Origin::User && p == current || origin == Origin::Builtin;
                    current = p;
                }
            }
        }
        let mut theme = Theme::fallback();
        for layer in layers.iter().rev() {
            for (key, fg, bg, mods) in &layer.styles {
                if let Some(style) = theme.style_mut(key) {
                    if let Some(c) = fg {
                        style.fg = Some(*c);
                    }
                    if let Some(c) = bg {
                        style.bg = Some(*c);
                    }
                    if let Some(m) = mods {
                        style.add_modifier = *m;
                        style.sub_modifier = Modifier::empty();
                    }
                }
            }
        }
        theme.name = name.to_string();
        Ok(theme)
    }
}

/// Read a user theme file: `Ok(None)` when it does not exist.
fn read_bounded(path: &Path) -> Result<Option<String>, String> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut bytes = Vec::new();
    file.take(MAX_THEME_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_THEME_BYTES {
        return Err(format!(
            "larger than {} KiB; is it really a theme?",
            MAX_THEME_BYTES / 1024
        ));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "the file is not UTF-8 text".to_string())
}

/// 1-based line of a byte offset.
fn line_of(src: &str, offset: usize) -> usize {
    let offset = offset.min(src.len());
    src.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

const SPANNED_PREFIX: &str = "$__serde_spanned_private_";

/// Parse one theme file: its layer and warnings about unknown keys.
fn parse_layer(src: &Source) -> Result<(Layer, Vec<String>), String> {
    let text = src.text.as_str();
    let at = |offset: usize, key: &str, msg: &str| {
        format!(
            "{}:{}: {key}: {}",
            src.label,
            line_of(text, offset),
            msg.trim().replace('\n', "; ")
        )
    };
    let de = toml::Deserializer::parse(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        format!(
            "{}:{line}: {}",
            src.label,
            e.message().trim().replace('\n', "; ")
        )
    })?;
    let mut unknown: Vec<String> = Vec::new();
    let mut record = |p: serde_ignored::Path<'_>| unknown.push(path_string(&p));
    let ignoring = serde_ignored::Deserializer::new(de, &mut record);
    let raw: RawTheme = serde_path_to_error::deserialize(ignoring).map_err(|e| {
        let key: Vec<String> = e
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Map { key } if !key.starts_with(SPANNED_PREFIX) => {
                    Some(key.clone())
                }
                _ => None,
            })
            .collect();
        let line = e.inner().span().map_or(1, |s| line_of(text, s.start));
        let key = if key.is_empty() {
            "theme".into()
        } else {
            key.join(".")
        };
        format!(
            "{}:{line}: {key}: {}",
            src.label,
            e.inner().message().trim().replace('\n', "; ")
        )
    })?;
    let mut warnings = Vec::new();
    for key in unknown {
        let line = find_key_line(text, &key);
        let known = KEYS.join(", ");
        warnings.push(format!(
            "{}:{line}: {key}: unknown key, ignored (theme keys: parent, description, {known}; \
             inside a key: fg, bg, modifiers)",
            src.label
        ));
    }

    let mut raw = raw;
    let parent = match raw.parent.take() {
        Some(p) => {
            let line = line_of(text, p.span().start);
            let name = p.into_inner();
            if !valid_name(name.trim()) {
                return Err(format!(
                    "{}:{line}: parent: \"{name}\" is not a theme name",
                    src.label
                ));
            }
            Some((name.trim().to_string(), line))
        }
        None => None,
    };
    let mut styles = Vec::new();
    for (key, style) in raw.keyed() {
        let Some(style) = style else { continue };
        let style = style.into_inner();
        let color = |c: Option<RawColor>, field: &str| -> Result<Option<Color>, String> {
            let Some(RawColor(v)) = c else {
                return Ok(None);
            };
            let offset = v.span().start;
            let parsed = match v.get_ref() {
                toml::Value::String(s) => parse_color(s),
                toml::Value::Integer(i) => u8::try_from(*i)
                    .map(Color::Indexed)
                    .map_err(|_| format!("colour index {i} is out of range 0–255")),
                other => Err(format!(
                    "a colour is a name, \"#rrggbb\" or 0–255, not a {}",
                    other.type_str()
                )),
            };
            parsed
                .map(Some)
                .map_err(|m| at(offset, &format!("{key}.{field}"), &m))
        };
        let fg = color(style.fg, "fg")?;
        let bg = color(style.bg, "bg")?;
        let mods = match style.modifiers {
            None => None,
            Some(list) => {
                let mut m = Modifier::empty();
                for item in list.into_inner() {
                    let offset = item.span().start;
                    m |= parse_modifier(item.get_ref())
                        .map_err(|msg| at(offset, &format!("{key}.modifiers"), &msg))?;
                }
                Some(m)
            }
        };
        styles.push((key, fg, bg, mods));
    }
    Ok((Layer { parent, styles }, warnings))
}

fn path_string(p: &serde_ignored::Path<'_>) -> String {
    let mut segs = Vec::new();
    let mut cur = p;
    loop {
        match cur {
            serde_ignored::Path::Root => break,
            serde_ignored::Path::Seq { parent, index } => {
                segs.push(format!("[{index}]"));
                cur = parent;
            }
            serde_ignored::Path::Map { parent, key } => {
                if !key.starts_with(SPANNED_PREFIX) {
                    segs.push(key.clone());
                }
                cur = parent;
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => cur = parent,
        }
    }
    segs.reverse();
    segs.join(".")
}

/// Best-effort line of an unknown key: the first line assigning its last segment
/// (`tilte = …`, `[tilte]`, or `… { foreground = …`).
fn find_key_line(text: &str, dotted: &str) -> usize {
    let last = dotted.rsplit('.').next().unwrap_or(dotted);
    for (i, line) in text.lines().enumerate() {
        let code = line.split('#').next().unwrap_or("");
        let trimmed = code.trim_start();
        if trimmed.starts_with('[')
            && trimmed
                .trim_matches(|c| c == '[' || c == ']' || c == ' ')
                .rsplit('.')
                .next()
                == Some(last)
        {
            return i + 1;
        }
        let mut rest = code;
        while let Some(pos) = rest.find(last) {
            let before = rest[..pos].chars().next_back();
            let after = rest[pos + last.len()..].trim_start();
            let boundary = before.is_none_or(|c| matches!(c, ' ' | '{' | ',' | '.' | '\t'));
            if boundary && after.starts_with('=') {
                return i + 1;
            }
            rest = &rest[pos + last.len()..];
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    const TRUECOLOR: &[(&str, &str)] = &[("COLORTERM", "truecolor")];

    fn load(
        name: Option<&str>,
        dir: Option<&Path>,
        vars: &'static [(&'static str, &'static str)],
    ) -> (Theme, Vec<String>) {
        Theme::load_with_env(name, dir, &env_of(vars))
    }

    fn user_theme(dir: &Path, name: &str, text: &str) {
        let d = dir.join(USER_THEMES_DIR);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("{name}.toml")), text).unwrap();
    }

    #[test]
    fn every_builtin_parses_without_warnings() {
        for (name, _) in BUILTIN {
            let (t, w) = load(Some(name), None, TRUECOLOR);
            assert_eq!(t.name, *name);
            assert!(w.is_empty(), "{name}: {w:?}");
            assert_eq!(Theme::builtin(name).as_ref(), Some(&t));
        }
        assert_eq!(
            Theme::builtin_names(),
            ["default", "light", "high-contrast", "mono"]
        );
    }

    #[test]
    fn default_file_matches_the_hard_coded_fallback() {
        assert_eq!(Theme::builtin("default"), Some(Theme::fallback()));
        assert_eq!(Theme::default(), Theme::fallback());
    }

    #[test]
    fn mono_has_no_colour_and_selection_is_reversed() {
        let t = Theme::builtin("mono").unwrap();
        for (key, s) in t.styles() {
            assert!(
                matches!(s.fg, None | Some(Color::Reset)),
                "{key}.fg {:?}",
                s.fg
            );
            assert!(
                matches!(s.bg, None | Some(Color::Reset)),
                "{key}.bg {:?}",
                s.bg
            );
        }
        assert!(t.selection.add_modifier.contains(Modifier::REVERSED));
        assert_eq!(t.text.add_modifier, Modifier::empty());
        assert_eq!(t.muted.add_modifier, Modifier::DIM);
    }

    #[test]
    fn every_theme_marks_selection_with_a_modifier() {
        for (name, _) in BUILTIN {
            let t = Theme::builtin(name).unwrap();
            assert!(!t.selection.add_modifier.is_empty(), "{name}");
        }
    }

    #[test]
    fn light_inherits_and_overrides() {
        let t = Theme::builtin("light").unwrap();
        assert_eq!(t.title.fg, Some(Color::Rgb(0x00, 0x5f, 0x87)));
        assert_eq!(t.title.add_modifier, Modifier::BOLD);
        assert_eq!(t.gauge.bg, Some(Color::Rgb(0xda, 0xda, 0xda)));
    }

    #[test]
    fn colours_parse() {
        assert_eq!(parse_color("cyan"), Ok(Color::Cyan));
        assert_eq!(parse_color("Dark-Grey"), Ok(Color::DarkGray));
        assert_eq!(parse_color("light_red"), Ok(Color::LightRed));
        assert_eq!(parse_color("reset"), Ok(Color::Reset));
        assert_eq!(parse_color("#1e1e2E"), Ok(Color::Rgb(0x1e, 0x1e, 0x2e)));
        assert_eq!(parse_color("214"), Ok(Color::Indexed(214)));
        assert!(parse_color("256").unwrap_err().contains("out of range"));
        assert!(parse_color("#12345").unwrap_err().contains("#rrggbb"));
        assert!(parse_color("#12345g").is_err());
        assert!(
            parse_color("cyna")
                .unwrap_err()
                .contains("unknown colour \"cyna\"")
        );
        assert_eq!(parse_modifier("Reverse"), Ok(Modifier::REVERSED));
        assert_eq!(parse_modifier("crossed_out"), Ok(Modifier::CROSSED_OUT));
        assert!(parse_modifier("blod").unwrap_err().contains("\"blod\""));
    }

    #[test]
    fn xterm_cube_and_ramp() {
        assert_eq!(xterm256_rgb(16), Some((0, 0, 0)));
        assert_eq!(xterm256_rgb(231), Some((255, 255, 255)));
        assert_eq!(xterm256_rgb(196), Some((255, 0, 0)));
        assert_eq!(xterm256_rgb(232), Some((8, 8, 8)));
        assert_eq!(xterm256_rgb(255), Some((238, 238, 238)));
        assert_eq!(xterm256_rgb(7), None);
        // Exact cube and ramp colours map to themselves.
        for i in 16..=255u8 {
            let (r, g, b) = xterm256_rgb(i).unwrap();
            let j = nearest_xterm256(r, g, b);
            assert_eq!(xterm256_rgb(j), Some((r, g, b)), "index {i} → {j}");
        }
        assert_eq!(nearest_xterm256(0x00, 0x5f, 0x87), 24);
        assert_eq!(nearest_xterm256(0xff, 0x87, 0x00), 208);
        assert_eq!(nearest_xterm256(0x1e, 0x1e, 0x2e), 235);
        assert_eq!(nearest_xterm256(0x80, 0x80, 0x80), 244);
        assert_eq!(nearest_xterm256(0xc4, 0x00, 0x1a), 160);
    }

    #[test]
    fn truecolor_detection_and_downgrade() {
        assert!(supports_truecolor(&env_of(&[("COLORTERM", "truecolor")])));
        assert!(supports_truecolor(&env_of(&[("COLORTERM", "24bit")])));
        assert!(!supports_truecolor(&env_of(&[("COLORTERM", "yes")])));
        assert!(!supports_truecolor(&env_of(&[])));

        let (t, w) = load(Some("light"), None, &[("COLORTERM", "")]);
        assert!(w.is_empty());
        assert_eq!(t.title.fg, Some(Color::Indexed(24)));
        assert_eq!(t.error.fg, Some(Color::Indexed(160)));
        // Named colours are left to the terminal's palette.
        let (d, _) = load(None, None, &[]);
        assert_eq!(d, Theme::builtin("default").unwrap());
        for (_, s) in t.styles() {
            assert!(!matches!(s.fg, Some(Color::Rgb(..))));
            assert!(!matches!(s.bg, Some(Color::Rgb(..))));
        }
        let (t, _) = load(Some("light"), None, TRUECOLOR);
        assert_eq!(t.title.fg, Some(Color::Rgb(0x00, 0x5f, 0x87)));
    }

    #[test]
    fn choice_order_and_no_color() {
        // Nothing named: default.
        assert_eq!(load(None, None, TRUECOLOR).0.name, "default");
        assert_eq!(load(Some("  "), None, TRUECOLOR).0.name, "default");
        // NO_COLOR (non-empty) picks mono when no theme is named …
        let (t, w) = load(None, None, &[("NO_COLOR", "1"), ("COLORTERM", "truecolor")]);
        assert_eq!((t.name.as_str(), w.len()), ("mono", 0));
        // … an empty NO_COLOR does not …
        assert_eq!(load(None, None, &[("NO_COLOR", "")]).0.name, "default");
        // … and a named theme (flag or config) wins over it.
        let (t, _) = load(Some("light"), None, &[("NO_COLOR", "1")]);
        assert_eq!(t.name, "light");
    }

    #[test]
    fn unknown_theme_falls_back_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        user_theme(dir.path(), "ocean", "title = { fg = \"blue\" }\n");
        let (t, w) = load(Some("solarized"), Some(dir.path()), TRUECOLOR);
        assert_eq!(t, Theme::default());
        assert_eq!(
            w,
            [
                "no theme named \"solarized\" (available: default, high-contrast, light, mono, \
                 ocean); using the built-in default theme"
            ]
        );
        let (t, w) = load(Some("../../etc/passwd"), Some(dir.path()), TRUECOLOR);
        assert_eq!(t.name, "default");
        assert!(w[0].contains("is not a theme name"), "{w:?}");
    }

    #[test]
    fn user_theme_with_parent_and_field_inheritance() {
        let dir = tempfile::tempdir().unwrap();
        user_theme(
            dir.path(),
            "ocean",
            "parent = \"light\"\n# comment\n[title]\nfg = \"#ff8700\"\n\n[selection]\nbg = 33\n",
        );
        let (t, w) = load(Some("ocean"), Some(dir.path()), TRUECOLOR);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(t.name, "ocean");
        // fg replaced, modifiers inherited from light.
        assert_eq!(t.title.fg, Some(Color::Rgb(0xff, 0x87, 0x00)));
        assert_eq!(t.title.add_modifier, Modifier::BOLD);
        // bg replaced, fg and modifiers inherited.
        assert_eq!(t.selection.bg, Some(Color::Indexed(33)));
        assert_eq!(t.selection.fg, Some(Color::Rgb(0xff, 0xff, 0xff)));
        // Untouched keys come from light.
        assert_eq!(t.error, Theme::builtin("light").unwrap().error);
        assert_eq!(
            Theme::available(Some(dir.path())),
            ["default", "high-contrast", "light", "mono", "ocean"]
        );
    }

    #[test]
    fn no_parent_starts_from_default_and_modifiers_can_be_cleared() {
        let dir = tempfile::tempdir().unwrap();
        user_theme(dir.path(), "plain", "title = { modifiers = [] }\n");
        let (t, w) = load(Some("plain"), Some(dir.path()), TRUECOLOR);
        assert!(w.is_empty());
        assert_eq!(t.title, Style::new().fg(Color::Cyan));
        assert_eq!(t.text, Theme::default().text);
    }

    #[test]
    fn user_file_overrides_and_extends_a_builtin() {
        let dir = tempfile::tempdir().unwrap();
        user_theme(
            dir.path(),
            "default",
            "parent = \"default\"\naccent = { fg = \"magenta\" }\n",
        );
        let (t, w) = load(None, Some(dir.path()), TRUECOLOR);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(t.accent.fg, Some(Color::Magenta));
        assert_eq!(t.title, Theme::fallback().title);
        // Built-in themes build on built-ins only: light is unchanged.
        let (l, _) = load(Some("light"), Some(dir.path()), TRUECOLOR);
        assert_eq!(Some(l), Theme::builtin("light"));
    }

    #[test]
    fn bad_colour_names_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        user_theme(
            dir.path(),
            "broken",
            "parent = \"default\"\ntitle = { fg = \"cyan\" }\nerror = { fg = \"cyna\" }\n",
        );
        let (t, w) = load(Some("broken"), Some(dir.path()), TRUECOLOR);
        assert_eq!(t, Theme::default());
        let path = dir.path().join("themes/broken.toml");
        assert_eq!(
            w,
            [format!(
                "{}:3: error.fg: unknown colour \"cyna\" (use a name such as cyan or darkgray, \
                 \"#rrggbb\", or 0–255); using the built-in default theme",
                path.display()
            )]
        );
    }

    #[test]
    fn bad_index_modifier_and_type_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "gauge = { bg = 300 }\n",
                "1: gauge.bg: colour index 300 is out of range",
            ),
            (
                "\n\nmuted = { modifiers = [\"bold\", \"blod\"] }\n",
                "3: muted.modifiers: unknown modifier \"blod\"",
            ),
            ("ok = { fg = true }\n", "1: ok.fg: a colour is a name"),
            (
                "\nborder = { fg = \"red\", colour = \"x\" }\n",
                "2: border.colour",
            ),
            ("title = \"cyan\"\n", "1: title"),
            ("title = { fg = \"cyan\" \n", "broken.toml:1"),
        ];
        for (text, expected) in cases {
            user_theme(dir.path(), "broken", text);
            let (t, w) = load(Some("broken"), Some(dir.path()), TRUECOLOR);
            assert_eq!(t.name, "default", "{text}");
            assert_eq!(w.len(), 1, "{text}: {w:?}");
            assert!(w[0].contains(expected), "{text}: {w:?}");
            assert!(w[0].ends_with("using the built-in default theme"), "{w:?}");
        }
    }

    #[test]
    fn unknown_keys_warn_but_the_theme_is_used() {
        let dir = tempfile::tempdir().unwrap();
        user_theme(
            dir.path(),
            "typo",
            "parent = \"default\"\n\ntilte = { fg = \"red\" }\naccent = { fg = \"blue\" }\n",
        );
        let (t, w) = load(Some("typo"), Some(dir.path()), TRUECOLOR);
        assert_eq!(t.name, "typo");
        assert_eq!(t.accent.fg, Some(Color::Blue));
        assert_eq!(w.len(), 1, "{w:?}");
        let path = dir.path().join("themes/typo.toml");
        assert!(
            w[0].starts_with(&format!(
                "{}:3: tilte: unknown key, ignored",
                path.display()
            )),
            "{w:?}"
        );
    }

    #[test]
    fn parent_cycles_and_missing_parents_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        user_theme(dir.path(), "a", "parent = \"b\"\n");
        user_theme(dir.path(), "b", "# b\nparent = \"c\"\n");
        user_theme(dir.path(), "c", "parent = \"a\"\n");
        let (t, w) = load(Some("a"), Some(dir.path()), TRUECOLOR);
        assert_eq!(t.name, "default");
        let c = dir.path().join("themes/c.toml");
        assert_eq!(
            w,
            [format!(
                "{}:1: parent: the themes form a cycle (a → b → c → a); using the built-in \
                 default theme",
                c.display()
            )]
        );
        user_theme(dir.path(), "self", "parent = \"self\"\n");
        let (t, w) = load(Some("self"), Some(dir.path()), TRUECOLOR);
        assert_eq!(t.name, "default");
        assert!(
            w[0].contains("self.toml:1: parent: a theme can only name itself"),
            "{w:?}"
        );

        user_theme(dir.path(), "orphan", "\nparent = \"nowhere\"\n");
        let (_, w) = load(Some("orphan"), Some(dir.path()), TRUECOLOR);
        assert!(
            w[0].contains("orphan.toml:2: parent: no theme named \"nowhere\""),
            "{w:?}"
        );
    }

    #[test]
    fn unreadable_and_oversized_files() {
        let dir = tempfile::tempdir().unwrap();
        user_theme(dir.path(), "big", &"# x\n".repeat(70_000));
        let (t, w) = load(Some("big"), Some(dir.path()), TRUECOLOR);
        assert_eq!(t.name, "default");
        assert!(w[0].contains("larger than 256 KiB"), "{w:?}");
        let d = dir.path().join(USER_THEMES_DIR);
        std::fs::write(d.join("bin.toml"), [0xff, 0xfe, 0x00]).unwrap();
        let (_, w) = load(Some("bin"), Some(dir.path()), TRUECOLOR);
        assert!(w[0].contains("not UTF-8"), "{w:?}");
    }

    #[test]
    fn builtin_cannot_be_shadowed_into_a_cycle() {
        // A user "light" whose parent is "light" extends the built-in light, not itself.
        let dir = tempfile::tempdir().unwrap();
        user_theme(
            dir.path(),
            "light",
            "parent = \"light\"\nok = { fg = 28 }\n",
        );
        let (t, w) = load(Some("light"), Some(dir.path()), TRUECOLOR);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(t.ok.fg, Some(Color::Indexed(28)));
        assert_eq!(t.ok.add_modifier, Modifier::BOLD);
        assert_eq!(t.title, Theme::builtin("light").unwrap().title);
    }
}
