//! The memtable: every live key, sorted, in memory.
//!
//! A `BTreeMap` keeps keys in byte order, so a `get` is a tree lookup and a scan is an in-order
//! walk. A delete leaves a [`Value::Tombstone`] instead of removing the key: in this lesson that
//! is only a little wasted memory, but from lesson 02 on the memtable is written out to files, and
//! a tombstone is how a newer file says "this key is gone" about a value in an older file.
//!
//! The memtable also keeps a running count of its size — key plus value bytes, once per key, not
//! once per overwrite — which lesson 02 uses to decide when to write it out.

use std::collections::BTreeMap;
use std::ops::Bound;

// ANCHOR: value
/// What the store knows about one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// The key holds these bytes (possibly none: an empty value is a value).
    Put(Vec<u8>),
    /// The key was deleted.
    Tombstone,
}

impl Value {
    /// The bytes, or `None` for a tombstone.
    pub fn as_live(&self) -> Option<&[u8]> {
        match self {
            Value::Put(bytes) => Some(bytes),
            Value::Tombstone => None,
        }
    }

    fn byte_len(&self) -> usize {
        self.as_live().map_or(0, <[u8]>::len)
    }
}
// ANCHOR_END: value

// ANCHOR: memtable
/// Sorted in-memory map of the newest value of every key written since the last flush.
#[derive(Debug, Default)]
pub struct Memtable {
    /// Key → newest value or tombstone.
    entries: BTreeMap<Vec<u8>, Value>,
    /// Sum of key and value lengths over `entries`.
    bytes: usize,
}

impl Memtable {
    /// Records `value` as the newest state of `key`.
    pub fn insert(&mut self, key: &[u8], value: Value) {
        let added = value.byte_len();
        match self.entries.get_mut(key) {
            Some(old) => {
                self.bytes = self.bytes - old.byte_len() + added;
                *old = value;
            }
            None => {
                self.bytes += key.len() + added;
                self.entries.insert(key.to_vec(), value);
            }
        }
    }

    /// The newest state of `key`, if the memtable knows it.
    pub fn get(&self, key: &[u8]) -> Option<&Value> {
        self.entries.get(key)
    }
    // ANCHOR_END: memtable

    /// Entries (tombstones included) with `start <= key < end`, in order.
    pub fn range<'a>(
        &'a self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
    ) -> impl Iterator<Item = (&'a [u8], &'a Value)> + 'a {
        // BTreeMap::range panics on an inverted range; the contract calls it empty.
        let inverted = matches!((start, end), (Some(s), Some(e)) if s > e);
        let bounds = if inverted {
            (Bound::Included(&[][..]), Bound::Excluded(&[][..]))
        } else {
            (
                start.map_or(Bound::Unbounded, Bound::Included),
                end.map_or(Bound::Unbounded, Bound::Excluded),
            )
        };
        self.entries
            .range::<[u8], _>(bounds)
            .map(|(k, v)| (k.as_slice(), v))
    }

    /// Number of keys, tombstones included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the memtable holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Approximate memory held by keys and values, in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Number of tombstones.
    pub fn tombstones(&self) -> usize {
        self.entries
            .values()
            .filter(|v| matches!(v, Value::Tombstone))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_counts_each_key_once() {
        let mut m = Memtable::default();
        m.insert(b"key", Value::Put(b"12345".to_vec()));
        assert_eq!(m.bytes(), 8);
        m.insert(b"key", Value::Put(b"1".to_vec()));
        assert_eq!(m.bytes(), 4, "an overwrite replaces the value's bytes");
        m.insert(b"key", Value::Tombstone);
        assert_eq!(m.bytes(), 3, "a tombstone keeps only the key");
        m.insert(b"other", Value::Put(Vec::new()));
        assert_eq!(m.bytes(), 8);
        assert_eq!(m.len(), 2);
        assert_eq!(m.tombstones(), 1);
    }

    #[test]
    fn inverted_and_equal_ranges_are_empty() {
        let mut m = Memtable::default();
        for k in [b"a", b"b", b"c"] {
            m.insert(k, Value::Put(k.to_vec()));
        }
        assert_eq!(m.range(Some(b"c"), Some(b"a")).count(), 0);
        assert_eq!(m.range(Some(b"b"), Some(b"b")).count(), 0);
        assert_eq!(m.range(Some(b"b"), None).count(), 2);
    }
}
