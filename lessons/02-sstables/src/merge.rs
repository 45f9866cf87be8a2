//! The k-way merge: many sorted sources in, one sorted stream out, newest value wins.
//!
//! A scan must see the memtable and every table as one ordered map. Each source is already
//! sorted, so a merge needs only the *front* entry of each: a min-heap of those fronts yields
//! the smallest key next. When several sources hold the same key, the newest source (the lowest
//! index — sources are given newest first) wins and the others' entries for that key are
//! skipped. Memory is one entry per source, whatever the size of the tables: the merge streams.
//!
//! The merge keeps tombstones; [`LiveEntries`] drops them for a user's scan, while a compaction
//! into lower levels (lesson 07) still needs to see them.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rkv_01_basic_store::Value;
use rkv_contract::{Entry, Result};

use crate::table::{TableEntry, TableIter};

// ANCHOR: merge
/// Merges sorted sources, given newest first, into one sorted stream without duplicate keys.
pub struct MergeIter<'a> {
    /// The sources, newest first.
    sources: Vec<TableIter<'a>>,
    /// The front entry of each source that has one, ordered by (key, source index): the
    /// smallest key first and, for equal keys, the newest source first.
    fronts: BinaryHeap<Reverse<(Vec<u8>, usize)>>,
    /// The value of each source's front entry.
    front_values: Vec<Option<Value>>,
    /// An error met while advancing a source; reported once, then the merge ends.
    failed: Option<rkv_contract::Error>,
}

impl<'a> MergeIter<'a> {
    /// A merge of `sources`, which must be given newest first.
    pub fn new(sources: Vec<TableIter<'a>>) -> Self {
        let mut merge = MergeIter {
            front_values: (0..sources.len()).map(|_| None).collect(),
            fronts: BinaryHeap::with_capacity(sources.len()),
            sources,
            failed: None,
        };
        for index in 0..merge.sources.len() {
            merge.advance(index);
        }
        merge
    }

    /// Pulls the next entry of source `index` into the heap.
    fn advance(&mut self, index: usize) {
        match self.sources[index].next() {
            Some(Ok((key, value))) => {
                self.front_values[index] = Some(value);
                self.fronts.push(Reverse((key, index)));
            }
            Some(Err(e)) => {
                self.failed.get_or_insert(e);
            }
            None => {}
        }
    }
}

impl Iterator for MergeIter<'_> {
    type Item = Result<TableEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            self.fronts.clear();
            return Some(Err(e));
        }
        let Reverse((key, newest)) = self.fronts.pop()?;
        let value = self.front_values[newest].take();
        self.advance(newest);
        // Older sources holding the same key are shadowed: skip their entries.
        while let Some(Reverse((next_key, _))) = self.fronts.peek() {
            if *next_key != key {
                break;
            }
            if let Some(Reverse((_, older))) = self.fronts.pop() {
                self.front_values[older] = None;
                self.advance(older);
            }
        }
        match value {
            Some(value) => Some(Ok((key, value))),
            None => self.next(),
        }
    }
}
// ANCHOR_END: merge

/// Drops tombstones from a merged stream: what a user's scan sees.
pub struct LiveEntries<I>(pub I);

impl<I: Iterator<Item = Result<TableEntry>>> Iterator for LiveEntries<I> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.0.next()? {
                Ok((key, Value::Put(value))) => return Some(Ok((key, value))),
                Ok((_, Value::Tombstone)) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn source(entries: Vec<(Vec<u8>, Value)>) -> TableIter<'static> {
        Box::new(entries.into_iter().map(Ok))
    }

    #[test]
    fn newest_source_wins_and_order_is_kept() {
        let newest = source(vec![
            (b"b".to_vec(), Value::Put(b"new".to_vec())),
            (b"d".to_vec(), Value::Tombstone),
        ]);
        let oldest = source(vec![
            (b"a".to_vec(), Value::Put(b"1".to_vec())),
            (b"b".to_vec(), Value::Put(b"old".to_vec())),
            (b"d".to_vec(), Value::Put(b"gone".to_vec())),
        ]);
        let merged: Vec<_> = LiveEntries(MergeIter::new(vec![newest, oldest]))
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            merged,
            vec![
                (b"a".to_vec(), b"1".to_vec()),
                (b"b".to_vec(), b"new".to_vec())
            ]
        );
    }

    #[test]
    fn an_error_in_a_source_is_reported_not_skipped() {
        let broken: TableIter<'static> = Box::new(
            vec![
                Ok((b"a".to_vec(), Value::Tombstone)),
                Err(rkv_contract::Error::corruption("t", 9, "bad")),
            ]
            .into_iter(),
        );
        let results: Vec<_> = MergeIter::new(vec![broken]).collect();
        assert!(results.iter().any(Result::is_err));
    }

    proptest! {
        /// The merge equals applying the sources oldest to newest into a map.
        #[test]
        fn merge_matches_a_map(
            sources in prop::collection::vec(
                prop::collection::btree_map(0u8..30, prop::option::of(0u8..5), 0..20), 0..6)
        ) {
            let mut model = BTreeMap::new();
            for source in sources.iter().rev() {
                for (k, v) in source {
                    model.insert(vec![*k], *v);
                }
            }
            let iters = sources.iter().map(|s| {
                let entries: Vec<_> = s.iter().map(|(k, v)| {
                    (vec![*k], v.map_or(Value::Tombstone, |v| Value::Put(vec![v])))
                }).collect();
                source(entries)
            }).collect();
            let merged: Vec<_> = MergeIter::new(iters).map(Result::unwrap).collect();
            let expected: Vec<_> = model.into_iter().map(|(k, v)| {
                (k, v.map_or(Value::Tombstone, |v| Value::Put(vec![v])))
            }).collect();
            prop_assert_eq!(merged, expected);
        }
    }
}
