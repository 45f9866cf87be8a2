//! The model: a `BTreeMap` that every stage must agree with.
//!
//! The model has no files, no limits and no bugs worth speaking of, which is what makes it an
//! oracle. The model test drives a stage and the model with the same random operations and
//! demands the same answers.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::Entry;

/// An in-memory ordered map with the contract's semantics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Model {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Model {
    /// An empty model.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: &[u8], value: &[u8]) {
        self.map.insert(key.to_vec(), value.to_vec());
    }

    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.map.get(key).map(Vec::as_slice)
    }

    /// Removes `key`.
    pub fn delete(&mut self, key: &[u8]) {
        self.map.remove(key);
    }

    /// The entries with `start <= key < end`, in order.
    pub fn scan(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Vec<Entry> {
        let lower = start.map_or(Bound::Unbounded, Bound::Included);
        let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
        if let (Some(s), Some(e)) = (start, end)
            && s >= e
        {
            // BTreeMap::range panics on an inverted range; the contract says it is empty.
            return Vec::new();
        }
        self.map
            .range::<[u8], _>((lower, upper))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The number of live keys.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no key is live.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
