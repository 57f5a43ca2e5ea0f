//! Step 4, Columns: map the columns of a CSV that doesn't fit the documented layout.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::theme::Theme;
use crate::tui::ui::{self, KeyHint, hint};

/// State of the columns step.
#[derive(Debug, Clone, Default)]
pub struct ColumnsView {
    /// A notice.
    pub message: Option<String>,
}

/// What the columns step asks the app to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    None,
    /// Back to Validate.
    Back,
}

impl ColumnsView {
    /// Key bindings.
    pub fn keys(&self) -> Vec<KeyHint> {
        vec![hint("Esc", "back", "Back to the validation results")]
    }

    /// Whether keys go to a text field.
    pub fn captures_text(&self) -> bool {
        false
    }

    /// Handle a key.
    pub fn on_key(&mut self, key: &KeyEvent) -> Action {
        if key.code == KeyCode::Esc {
            Action::Back
        } else {
            Action::None
        }
    }

    /// Draw the step.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        frame.render_widget(
            Paragraph::new(Line::styled(
                self.message
                    .clone()
                    .unwrap_or_else(|| "column mapping is not available in this build".into()),
                theme.muted,
            ))
            .wrap(Wrap { trim: true })
            .block(ui::block(theme, "Columns")),
            area,
        );
    }
}
