//! The plain merge: a binary heap of the sources' current keys.
//!
//! This is lesson 02's merge (`MergeIter`) over lesson 07's lending cursors. The heap holds a
//! copy of every live source's current key with the source's number; the smallest key — on a
//! tie the earlier source, which holds the newer data — is the current entry. Moving on advances
//! that source, pushes its next key and pops the smallest again.
//!
//! It is simple and obviously right, which is what it is here for: [`crate::merge::Merged`],
//! the merge scans and compactions use, is tested against it, and measured against it by the
//! example `merge_heap_vs_tournament`. `Merged` replaces the heap with a tournament tree that
//! replays one match per level where a heap's sift-down makes up to two comparisons per level,
//! copies no key, and compares abbreviated keys (one integer per match) instead of byte strings.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rkv_contract::Result;

use crate::cursor::Cursor;

// ANCHOR: heap_merged
/// The sources' entries in ascending internal-key order, chosen with a binary heap.
pub struct HeapMerged {
    /// The sources, newest data first.
    sources: Vec<Cursor>,
    /// Every live source's current key and number except the current one's, smallest first.
    heap: BinaryHeap<Reverse<(Vec<u8>, usize)>>,
    /// The source whose entry is current, if any.
    current: Option<usize>,
}

impl HeapMerged {
    /// The merge of `sources`, on the smallest entry among them.
    pub fn new(sources: Vec<Cursor>) -> Self {
        let heap = sources
            .iter()
            .enumerate()
            .filter_map(|(i, source)| source.current_key().map(|key| Reverse((key.to_vec(), i))))
            .collect();
        let mut merged = HeapMerged {
            sources,
            heap,
            current: None,
        };
        merged.current = merged.heap.pop().map(|Reverse((_, i))| i);
        merged
    }

    /// The current entry — internal key and value (`None` for a tombstone) — if there is one.
    pub fn entry(&self) -> Option<(&[u8], Option<&[u8]>)> {
        self.current
            .and_then(|i| self.sources.get(i))
            .and_then(Cursor::entry)
    }

    /// Moves to the next entry in order; `Ok(false)` once every source is exhausted.
    pub fn advance(&mut self) -> Result<bool> {
        let Some(i) = self.current.take() else {
            return Ok(false);
        };
        if let Some(source) = self.sources.get_mut(i) {
            source.advance()?;
            if let Some(key) = source.current_key() {
                self.heap.push(Reverse((key.to_vec(), i)));
            }
        }
        self.current = self.heap.pop().map(|Reverse((_, i))| i);
        Ok(self.current.is_some())
    }
}
// ANCHOR_END: heap_merged
