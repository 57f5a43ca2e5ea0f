//! Mappings saved per tracker, keyed by file shape (see `mapping::detect::shape_key`), so a
//! file of the same shape is converted the same way next time.
//!
//! A saved mapping may carry a name: it is stored in [`SavedMapping::shape`] after a `#`
//! (`csv;semicolon;5;date,order,customer,sku,price#eshop-export`); shapes never contain `#`.

use super::{ConfigError, ConfigStore, Tracker};
use crate::mapping::{Mapping, SavedMapping};

/// The mapping saved in `tracker` for files of this shape.
pub fn find_by_shape<'a>(tracker: &'a Tracker, shape: &str) -> Option<&'a SavedMapping> {
    tracker.mappings.iter().find(|m| m.shape_key() == shape)
}

/// The mapping saved in `tracker` under this name (or, failing that, with this exact shape).
pub fn find_by_name<'a>(tracker: &'a Tracker, name: &str) -> Option<&'a SavedMapping> {
    tracker
        .mappings
        .iter()
        .find(|m| m.name() == Some(name))
        .or_else(|| {
            tracker
                .mappings
                .iter()
                .find(|m| m.shape == name || m.shape_key() == name)
        })
}

/// Add `saved` to `tracker`, replacing any mapping for the same shape (and any with the same
/// name). Returns whether one was replaced.
pub fn upsert(tracker: &mut Tracker, saved: SavedMapping) -> bool {
    let before = tracker.mappings.len();
    let shape = saved.shape_key().to_string();
    let name = saved.name().map(str::to_string);
    tracker
        .mappings
        .retain(|m| m.shape_key() != shape && (name.is_none() || m.name() != name.as_deref()));
    let replaced = tracker.mappings.len() != before;
    tracker.mappings.push(saved);
    replaced
}

/// Look up the saved mapping for `shape` in tracker `tracker_name` of `store`.
pub fn lookup(
    store: &ConfigStore,
    tracker_name: &str,
    shape: &str,
) -> Result<Option<SavedMapping>, ConfigError> {
    let loaded = store.load()?;
    let t = loaded
        .config
        .tracker(tracker_name)
        .ok_or_else(|| ConfigError::NotFound(tracker_name.to_string()))?;
    Ok(find_by_shape(t, shape).cloned())
}

/// Save `mapping` for `shape` (optionally named) in tracker `tracker_name`, replacing the one
/// for the same shape. Returns whether one was replaced.
pub fn save(
    store: &ConfigStore,
    tracker_name: &str,
    shape: &str,
    name: Option<&str>,
    mapping: Mapping,
) -> Result<bool, ConfigError> {
    let replaced = store.update(|config| {
        let t = config
            .tracker_mut(tracker_name)
            .ok_or_else(|| ConfigError::NotFound(tracker_name.to_string()))?;
        Ok(upsert(t, SavedMapping::new(shape, name, mapping)))
    })?;
    Ok(replaced)
}
