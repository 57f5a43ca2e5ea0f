//! Colours and modifiers of the wizard, by meaning rather than by hue.

use ratatui::style::{Color, Modifier, Style};

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
    fn default() -> Self {
        Theme {
            name: "default".into(),
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
}
