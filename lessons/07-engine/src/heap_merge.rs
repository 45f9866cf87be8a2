//! The plain merge of a scan's sources: a binary heap of their current keys.
//!
//! A scan reads several sorted sources at once — memtables, level-0 tables, one run of tables
//! per deeper level — and must hand out their entries as one sorted stream. The textbook answer
//! is the one lesson 02 used: keep each source's current key in a min-heap, take the entry on
//! top, move that source on, and put its next key back. Each step costs `O(log sources)`
//! comparisons, whatever the number of entries.
//!
//! Here the sources are [`Cursor`]s, which *lend* their current entry instead of handing out
//! copies, so the merge only has to decide which cursor is current. The heap cannot simply hold
//! cursor numbers: `std::collections::BinaryHeap` orders its elements by themselves, so each
//! element carries a copy of its source's current key (into a buffer it reuses, so a step
//! copies bytes but allocates nothing). Of two equal keys, the earlier source — the newer data —
//! comes first; internal keys are unique, so in the engine this never happens, but the order is
//! defined anyway.
//!
//! This is the version to read first, and the one the tests trust: what it does is easy to see.
//! The engine's scans and compactions use the tournament tree in [`crate::merge`] instead,
//! which produces the same stream with less work per step (no key copies, one comparison per
//! level, and most comparisons on eight-byte numbers); a proptest below holds the two to the
//! same output, and [`crate::merge_speed`] measures what the difference is worth.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::collections::binary_heap::PeekMut;

use rkv_contract::Result;

use crate::cursor::Cursor;
use crate::merge::Merged;

// ANCHOR: heap_merged
/// The sources' entries in ascending internal-key order, current entry lent out.
pub struct HeapMerged {
    /// The sources, newest data first.
    sources: Vec<Cursor>,
    /// One head per source that still has an entry; the smallest on top.
    heads: BinaryHeap<Reverse<Head>>,
}

/// A source's current key, copied (the heap orders what it owns), and the source's number.
/// Ordered by key, then by number: of two equal keys the earlier source comes first.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Head {
    key: Vec<u8>,
    source: usize,
}

impl HeapMerged {
    /// The merge of `sources`, on the smallest entry among them.
    pub fn new(sources: Vec<Cursor>) -> Self {
        let heads = sources
            .iter()
            .enumerate()
            .filter_map(|(source, cursor)| {
                let key = cursor.current_key()?.to_vec();
                Some(Reverse(Head { key, source }))
            })
            .collect();
        HeapMerged { sources, heads }
    }

    /// The source on top of the heap.
    fn winner(&self) -> Option<&Cursor> {
        let Reverse(head) = self.heads.peek()?;
        self.sources.get(head.source)
    }

    /// True while there is a current entry.
    pub fn valid(&self) -> bool {
        self.winner().is_some_and(Cursor::valid)
    }

    /// The current entry — internal key and value (`None` for a tombstone) — if there is one.
    pub fn entry(&self) -> Option<(&[u8], Option<&[u8]>)> {
        self.winner().and_then(Cursor::entry)
    }

    /// Moves to the next entry in order; `Ok(false)` once every source is exhausted.
    pub fn advance(&mut self) -> Result<bool> {
        let Some(mut top) = self.heads.peek_mut() else {
            return Ok(false);
        };
        let Reverse(head) = &mut *top;
        // A source that failed (and so ended) while on top ends the merge, as in the tournament.
        let Some(cursor) = self.sources.get_mut(head.source).filter(|c| c.valid()) else {
            return Ok(false);
        };
        cursor.advance()?;
        match cursor.current_key() {
            Some(key) => {
                head.key.clear();
                head.key.extend_from_slice(key);
                drop(top); // moves the changed head down to its place in the heap
            }
            None => {
                PeekMut::pop(top);
            }
        }
        Ok(self.valid())
    }
}
// ANCHOR_END: heap_merged

/// What the plain merge and the tournament have in common, for code that runs either: the
/// tests that hold them to one output, and the measurement in [`crate::merge_speed`].
pub trait MergedStream {
    /// The current entry — internal key and value (`None` for a tombstone) — if there is one.
    fn current(&self) -> Option<(&[u8], Option<&[u8]>)>;
    /// Moves to the next entry in order; `Ok(false)` once every source is exhausted.
    fn step(&mut self) -> Result<bool>;
}

impl MergedStream for HeapMerged {
    fn current(&self) -> Option<(&[u8], Option<&[u8]>)> {
        self.entry()
    }
    fn step(&mut self) -> Result<bool> {
        self.advance()
    }
}

impl MergedStream for Merged {
    fn current(&self) -> Option<(&[u8], Option<&[u8]>)> {
        self.entry()
    }
    fn step(&mut self) -> Result<bool> {
        self.advance()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

    use std::collections::BTreeMap;
    use std::sync::Arc;

    use proptest::prelude::*;
    use rkv_01_basic_store::Value;

    use super::*;
    use crate::internal_key;
    use crate::memtable::Memtable;

    /// An entry of a merged stream, owned: internal key and value (`None` for a tombstone).
    type Owned = (Vec<u8>, Option<Vec<u8>>);

    /// Everything a merge yields, owned; also checks that what `advance` says (more or not)
    /// agrees with whether there is an entry.
    fn drain(mut merge: impl MergedStream) -> Vec<Owned> {
        let mut seen = Vec::new();
        let mut more = merge.current().is_some();
        while let Some((key, value)) = merge.current() {
            assert!(more, "advance said the stream ended, yet it has an entry");
            seen.push((key.to_vec(), value.map(<[u8]>::to_vec)));
            more = merge.step().unwrap();
        }
        assert!(!more, "advance said there is more, yet there is no entry");
        seen
    }

    /// A source's writes, `(user key, seq, tombstone?)`, and whether its memtable is frozen
    /// (its cursor then reads the frozen copy and tells the tournament its last key).
    type Source = (Vec<(Vec<u8>, u64, bool)>, bool);

    /// The entries source `number` holds: its writes as internal keys, a version written twice
    /// kept once (the first), as the engine never writes one version twice. The value names
    /// the source, so the order of equal keys shows in a merged stream.
    fn entries_of(number: usize, (writes, _): &Source) -> BTreeMap<Vec<u8>, Value> {
        let mut entries = BTreeMap::new();
        for (key, seq, tombstone) in writes {
            let value = if *tombstone {
                Value::Tombstone
            } else {
                Value::Put(vec![number as u8])
            };
            entries
                .entry(internal_key::encode(key, *seq))
                .or_insert(value);
        }
        entries
    }

    /// A memtable per source holding its entries, frozen if the source says so.
    fn fill(sources: &[Source]) -> Vec<Arc<Memtable>> {
        sources
            .iter()
            .enumerate()
            .map(|(number, source)| {
                let memtable = Memtable::new(1 << 16);
                for (key, value) in entries_of(number, source) {
                    let (user_key, seq) = internal_key::decode(&key).unwrap();
                    memtable.insert(&user_key, seq, value);
                }
                if source.1 {
                    memtable.freeze();
                }
                Arc::new(memtable)
            })
            .collect()
    }

    /// Keys rich in shared prefixes: a few letters, sometimes after a long common head, so
    /// that many keys agree in the eight bytes the tournament abbreviates (and compare in full).
    fn user_key() -> impl Strategy<Value = Vec<u8>> {
        (any::<bool>(), prop::collection::vec(0u8..3, 0..14)).prop_map(|(long_head, tail)| {
            let mut key = if long_head {
                b"head-of-key/".to_vec()
            } else {
                Vec::new()
            };
            key.extend(tail);
            key
        })
    }

    /// Up to seven sources of up to 40 writes each; versions `(key, seq)` repeat across sources
    /// often, because seqs come from a small range: ties the tie rule must settle.
    fn sources() -> impl Strategy<Value = Vec<Source>> {
        let write = (user_key(), 1u64..6, any::<bool>());
        let source = (prop::collection::vec(write, 0..40), any::<bool>());
        prop::collection::vec(source, 0..8)
    }

    proptest! {
        #[test]
        fn the_heap_merge_yields_every_entry_by_key_then_source(sources in sources()) {
            let memtables = fill(&sources);
            // The model: every source's entries, sorted by internal key, then by source.
            let mut want: Vec<(Vec<u8>, usize, Option<Vec<u8>>)> = Vec::new();
            for (number, source) in sources.iter().enumerate() {
                for (key, value) in entries_of(number, source) {
                    let value = match value {
                        Value::Put(bytes) => Some(bytes),
                        Value::Tombstone => None,
                    };
                    want.push((key, number, value));
                }
            }
            want.sort();
            let want: Vec<Owned> = want.into_iter().map(|(key, _, value)| (key, value)).collect();
            let cursors = memtables.iter().map(|m| Cursor::memtable(m.clone(), None, None)).collect();
            prop_assert_eq!(drain(HeapMerged::new(cursors)), want);
        }

        #[test]
        fn the_tournament_merge_yields_what_the_heap_merge_yields(
            sources in sources(),
            range in prop::option::of((user_key(), user_key())),
        ) {
            let memtables = fill(&sources);
            let (start, end) = match &range {
                Some((a, b)) => (Some(internal_key::scan_start(a.min(b))), Some(internal_key::scan_end(a.max(b)))),
                None => (None, None),
            };
            let cursors = || -> Vec<Cursor> {
                memtables
                    .iter()
                    .map(|m| Cursor::memtable(m.clone(), start.as_deref(), end.as_deref()))
                    .collect()
            };
            let plain = drain(HeapMerged::new(cursors()));
            prop_assert_eq!(drain(Merged::new(cursors())), plain);
        }
    }
}
