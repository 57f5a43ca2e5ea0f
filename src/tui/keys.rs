//! One binding table per step: the same list says what a key does and what the hint bar and
//! the `?` help show, so a key can't be hinted while it does nothing, nor work unhinted by
//! accident (a binding that is meant to work unhinted — an alias, Home/End — says so).
//!
//! A step builds its table for its current state (a key that cannot act is left out), looks
//! a pressed key up with [`find`], and matches on the action it gets.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::ui::KeyHint;

/// A key a binding answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A key without Ctrl or Alt (Shift allowed: `Char` codes carry their case).
    Code(KeyCode),
    /// A character, exactly as typed (`D` is not `d`), without Ctrl or Alt.
    Char(char),
}

/// The plain key `c`.
pub const fn ch(c: char) -> Key {
    Key::Char(c)
}

/// The key `code`.
pub const fn code(c: KeyCode) -> Key {
    Key::Code(c)
}

/// Up and Down.
pub const UP_DOWN: [Key; 2] = [Key::Code(KeyCode::Up), Key::Code(KeyCode::Down)];

/// Moving a selection: Up, Down, Page Up/Down, Home, End.
pub const SELECT: [Key; 6] = [
    Key::Code(KeyCode::Up),
    Key::Code(KeyCode::Down),
    Key::Code(KeyCode::PageUp),
    Key::Code(KeyCode::PageDown),
    Key::Code(KeyCode::Home),
    Key::Code(KeyCode::End),
];

impl Key {
    fn matches(&self, k: &KeyEvent) -> bool {
        if k.modifiers.contains(KeyModifiers::CONTROL) || k.modifiers.contains(KeyModifiers::ALT) {
            return false;
        }
        match *self {
            Key::Code(c) => k.code == c,
            Key::Char(c) => k.code == KeyCode::Char(c),
        }
    }
}

/// One entry of a step's table: the keys, the hint (`None`: works but is not shown), the
/// action.
#[derive(Debug, Clone)]
pub struct Binding<A> {
    /// The keys that trigger it.
    pub keys: Vec<Key>,
    /// What the hint bar and the help show.
    pub hint: Option<KeyHint>,
    /// What the step does.
    pub action: A,
}

/// A shown binding.
pub fn bind<A>(keys: &[Key], hint: KeyHint, action: A) -> Binding<A> {
    Binding {
        keys: keys.to_vec(),
        hint: Some(hint),
        action,
    }
}

/// A binding that works without being shown (an alias of a shown one).
pub fn alias<A>(keys: &[Key], action: A) -> Binding<A> {
    Binding {
        keys: keys.to_vec(),
        hint: None,
        action,
    }
}

/// The action of the first binding `k` triggers.
pub fn find<A: Clone>(table: &[Binding<A>], k: &KeyEvent) -> Option<A> {
    table
        .iter()
        .find(|b| b.keys.iter().any(|key| key.matches(k)))
        .map(|b| b.action.clone())
}

/// The hints of the shown bindings, in table order.
pub fn hints<A>(table: &[Binding<A>]) -> Vec<KeyHint> {
    table.iter().filter_map(|b| b.hint).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::ui::hint;

    #[test]
    fn the_first_matching_binding_acts_and_hidden_ones_are_not_hinted() {
        let t = vec![
            bind(&[ch('y'), ch('Y')], hint("y", "yes", "Yes"), 1),
            alias(&[code(KeyCode::Enter)], 1),
            bind(&UP_DOWN, hint("↑↓", "move", "Move"), 2),
            bind(&[ch('D')], hint("D", "dup", "Duplicate"), 3),
        ];
        let k = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert_eq!(find(&t, &k(KeyCode::Char('Y'))), Some(1));
        assert_eq!(find(&t, &k(KeyCode::Enter)), Some(1));
        assert_eq!(find(&t, &k(KeyCode::Down)), Some(2));
        assert_eq!(find(&t, &k(KeyCode::Char('d'))), None);
        assert_eq!(
            find(&t, &KeyEvent::new(KeyCode::Char('D'), KeyModifiers::SHIFT)),
            Some(3)
        );
        assert_eq!(
            find(
                &t,
                &KeyEvent::new(KeyCode::Char('y'), KeyModifiers::CONTROL)
            ),
            None
        );
        let shown: Vec<&str> = hints(&t).iter().map(|h| h.key).collect();
        assert_eq!(shown, ["y", "↑↓", "D"]);
    }
}
