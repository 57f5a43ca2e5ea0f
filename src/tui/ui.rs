//! Drawing helpers shared by the steps: key hints, breadcrumb, popups and number formatting.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use super::theme::Theme;

/// Smallest terminal the wizard draws into.
pub const MIN_WIDTH: u16 = 80;
/// Smallest terminal height the wizard draws into.
pub const MIN_HEIGHT: u16 = 24;

/// One key binding: what to press, a one-word action for the hint bar, and a sentence for
/// the `?` help overlay. The same list feeds both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyHint {
    /// The key as shown (`Enter`, `↑↓`, `r`).
    pub key: &'static str,
    /// Short action for the bottom bar.
    pub action: &'static str,
    /// Longer description for the help overlay.
    pub description: &'static str,
}

/// Build a [`KeyHint`].
pub const fn hint(key: &'static str, action: &'static str, description: &'static str) -> KeyHint {
    KeyHint {
        key,
        action,
        description,
    }
}

/// A bordered block with a title, styled by the theme.
pub fn block<'a>(theme: &Theme, title: impl Into<String>) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.border)
        .title(Span::styled(format!(" {} ", title.into()), theme.title))
}

/// The selected-row style: the theme's selection plus a modifier, so it stays visible
/// without colour.
pub fn selected(theme: &Theme) -> Style {
    theme
        .selection
        .add_modifier(Modifier::REVERSED | Modifier::BOLD)
}

/// The marker in front of the selected row.
pub const SELECT_SYMBOL: &str = "▶ ";

/// Draw the key-hint bar: as many hints as fit, `? help` always last.
pub fn draw_key_bar(frame: &mut Frame, area: Rect, theme: &Theme, keys: &[KeyHint]) {
    let mut spans: Vec<Span> = Vec::new();
    let tail = [hint("?", "help", ""), hint("q", "quit", "")];
    let tail_len: usize = tail
        .iter()
        .map(|k| k.key.chars().count() + k.action.chars().count() + 3)
        .sum();
    let mut used = 1usize;
    spans.push(Span::raw(" "));
    for k in keys {
        if k.key == "?" || k.key == "q" {
            continue;
        }
        let len = k.key.chars().count() + k.action.chars().count() + 3;
        if used + len + tail_len > area.width as usize {
            continue;
        }
        used += len;
        spans.push(Span::styled(
            k.key,
            theme.accent.add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled(format!(" {}  ", k.action), theme.muted));
    }
    // `?` works on every step; over an overlay (whose keys include a `close`) only its keys act
    let overlay = keys.iter().any(|k| k.action == "close");
    for k in tail {
        if keys.iter().any(|x| x.key == k.key) || (k.key == "?" && !overlay) {
            spans.push(Span::styled(
                k.key,
                theme.accent.add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::styled(format!(" {}  ", k.action), theme.muted));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A centred rectangle of at most `w`×`h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    r
}

/// Draw a modal popup with a title and lines, clearing what is below it.
pub fn popup(frame: &mut Frame, area: Rect, theme: &Theme, title: &str, lines: Vec<Line>, w: u16) {
    let h = (lines.len() as u16).saturating_add(2);
    let r = centered(area, w, h);
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.text)
            .wrap(Wrap { trim: false })
            .block(block(theme, title)),
        r,
    );
}

pub use crate::units::bytes;

/// `12,345,678` with thousands separators.
pub use crate::units::thousands as count;

/// `m:ss` (or `h:mm:ss`) for a duration.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// A rate in bytes per second: `12.3 MB/s`.
pub fn rate(bps: f64) -> String {
    if !bps.is_finite() || bps <= 0.0 {
        return "–".to_string();
    }
    format!("{}/s", bytes(bps as u64))
}

/// Replace control characters (escape sequences included) so text from files and servers
/// can't drive the terminal, and cut it to `max` characters.
pub fn sanitize(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i >= max {
            out.push('…');
            break;
        }
        match c {
            '\t' => out.push(' '),
            c if c.is_control() => out.push('�'),
            c => out.push(c),
        }
    }
    out
}

/// A short path for display: the last `max` characters, prefixed with `…` when cut.
pub fn short_path(p: &str, max: usize) -> String {
    let n = p.chars().count();
    if n <= max {
        return p.to_string();
    }
    let tail: String = p.chars().skip(n - max.saturating_sub(1)).collect();
    format!("…{tail}")
}
