//! The wizard: tracker → file → validate → (columns) → confirm → upload → result.

pub mod screenshot;
pub mod theme;
