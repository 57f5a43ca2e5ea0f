//! One module per wizard step; each owns its state, its keys and its drawing.

pub mod columns;
pub mod confirm;
pub mod file;
pub mod parts;
pub mod result;
pub mod tracker;
pub mod upload;
pub mod validate;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A one-line text field edited at its end (enough for names, ids, paths and filters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextField {
    /// The text.
    pub value: String,
}

impl TextField {
    /// A field holding `s`.
    pub fn new(s: impl Into<String>) -> Self {
        TextField { value: s.into() }
    }

    /// Apply an editing key; returns whether it was one.
    pub fn edit(&mut self, key: &KeyEvent) -> bool {
        match key.code {
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.value.clear();
                true
            }
            KeyCode::Char('w') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                let t = self.value.trim_end_matches(|c: char| c != '/' && c != ' ');
                let t = if t.len() == self.value.len() {
                    self.value[..self.value.len().saturating_sub(1)].to_string()
                } else {
                    t.to_string()
                };
                self.value = t;
                true
            }
            KeyCode::Char(c)
                if !key.modifiers.contains(KeyModifiers::CONTROL)
                    && !key.modifiers.contains(KeyModifiers::ALT)
                    && !c.is_control() =>
            {
                if self.value.chars().count() < 4096 {
                    self.value.push(c);
                }
                true
            }
            KeyCode::Backspace => {
                self.value.pop();
                true
            }
            _ => false,
        }
    }
}

/// Whether `key` is plain `c` (no Ctrl/Alt).
pub fn is_char(key: &KeyEvent, c: char) -> bool {
    key.code == KeyCode::Char(c)
        && !key.modifiers.contains(KeyModifiers::CONTROL)
        && !key.modifiers.contains(KeyModifiers::ALT)
}

/// Move a selection up or down within `len` items.
pub fn step_selection(sel: &mut usize, len: usize, key: &KeyEvent) -> bool {
    if len == 0 {
        *sel = 0;
        return matches!(
            key.code,
            KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown
        );
    }
    match key.code {
        KeyCode::Up => *sel = sel.saturating_sub(1),
        KeyCode::Down => *sel = (*sel + 1).min(len - 1),
        KeyCode::PageUp => *sel = sel.saturating_sub(10),
        KeyCode::PageDown => *sel = (*sel + 10).min(len - 1),
        KeyCode::Home => *sel = 0,
        KeyCode::End => *sel = len - 1,
        _ => return false,
    }
    true
}
