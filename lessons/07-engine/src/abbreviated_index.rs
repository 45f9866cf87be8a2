//! The engine's in-memory block index: lesson 05's index, laid out for a search that runs on
//! every point read.
//!
//! Lesson 05's [`BlockIndex`] keeps every block's last key in one buffer and
//! its handle in another, and its binary search (lesson 03's) compares whole keys: each probe
//! reads two arrays and calls `memcmp`. Once blocks come from memory instead of the disk, that
//! search is a visible part of a point read. Here each block has one fixed-size entry holding
//! where its key ends, its handle, and an **abbreviated key**, and the search does not read the
//! keys at all in the common case. It is built from lesson 05's index when a table opens
//! ([`AbbreviatedIndex::new`]), and answers the same question with the same result.
//!
//! ## Abbreviated keys
//! Every key of the index starts with the prefix its first and last keys share (everything
//! sorted between two keys shares their common prefix), so the index stores it once and, per
//! block, the key's [abbreviation](crate::abbreviated) after it. A probe of the search is then
//! one 24-byte entry (the abbreviation and the handle) — instead of two reads in two arrays, and one
//! integer comparison instead of a `memcmp`; only equal abbreviations compare the keys.

use rkv_05_compression::BlockHandle;
use rkv_05_compression::block_index::BlockIndex;
use rkv_contract::Stats;

use crate::abbreviated::{abbreviate, common_prefix};

/// [`AbbreviatedIndex::find_warming`] warms the blocks a search looks at once at most this many are
/// left (its last four steps, and the bound it starts them with): the answer is one of those.
/// Earlier steps look at blocks far from the answer.
const WARM_BELOW: usize = 8;

/// One data block in the index: everything one probe of the search needs, side by side.
#[derive(Clone, Copy, Debug)]
struct IndexEntry {
    /// The block's last key abbreviated after the shared prefix ([`abbreviate`]).
    abbreviated: u64,
    /// The block's place in the file.
    handle: BlockHandle,
}

/// The handle and the abbreviated last key of every data block, in block order. The keys
/// themselves stay in lesson 05's [`BlockIndex`], which every search is handed: it reads them
/// only to check the shared prefix and to break a tie.
#[derive(Debug, Default)]
pub struct AbbreviatedIndex {
    /// One entry per block, in block order.
    entries: Vec<IndexEntry>,
    /// How many leading bytes every key in the index shares (those of the first and last key;
    /// every key sorted between two keys shares their common prefix).
    shared: usize,
}

impl AbbreviatedIndex {
    /// The blocks of lesson 05's `index`, abbreviated.
    pub fn new(index: &BlockIndex) -> Self {
        let shared = match index.len() {
            0 => 0,
            blocks => common_prefix(index.last_key(0), index.last_key(blocks - 1)),
        };
        let entries = (0..index.len())
            .filter_map(|i| {
                let handle = index.handle(i)?;
                let abbreviated = abbreviate(index.last_key(i), shared);
                Some(IndexEntry {
                    abbreviated,
                    handle,
                })
            })
            .collect();
        AbbreviatedIndex { entries, shared }
    }

    /// Number of data blocks.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The handle of block `i`, if there is one.
    pub fn handle(&self, i: usize) -> Option<BlockHandle> {
        self.entries.get(i).map(|entry| entry.handle)
    }

    // ANCHOR: find
    /// The first block whose last key is `>= key` — the only block that can hold `key` — or
    /// `len()` when `key` is beyond the table's last key. `keys` is the lesson 05 index this one
    /// was built from.
    pub fn find(&self, keys: &BlockIndex, key: &[u8], stats: &mut Stats) -> usize {
        self.find_warming(keys, key, stats, |_| {})
    }

    /// [`AbbreviatedIndex::find`], calling `warm(i)` for the few blocks `i` the search still has
    /// to choose from in its last steps (the answer is one of them, or `len()`), so that the
    /// caller can ask memory for what it will read of the answer while the search goes on.
    pub fn find_warming(
        &self,
        keys: &BlockIndex,
        key: &[u8],
        stats: &mut Stats,
        mut warm: impl FnMut(usize),
    ) -> usize {
        if self.entries.is_empty() || keys.len() != self.entries.len() {
            return 0;
        }
        // Every key here starts with the shared prefix; a key that does not is below them all
        // or above them all.
        let Some(prefix) = keys.last_key(0).get(..self.shared) else {
            return 0; // not the index this one was built from
        };
        stats.key_comparisons += 1;
        let below_all = match key[..key.len().min(prefix.len())].cmp(prefix) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Greater => return self.len(),
            std::cmp::Ordering::Equal => key.len() < prefix.len(),
        };
        if below_all {
            warm(0);
            return 0;
        }
        let abbreviated = abbreviate(key, self.shared);
        let (mut low, mut high) = (0, self.len());
        let mut warming = false;
        while low < high {
            let mid = low + (high - low) / 2;
            if high - low <= WARM_BELOW {
                if !warming && high < self.len() {
                    warm(high); // the answer if every step from here goes low
                }
                warming = true;
                warm(mid);
            }
            stats.key_comparisons += 1;
            let entry = self.entries[mid].abbreviated;
            // Only equal abbreviations need the keys themselves to decide.
            let below = entry < abbreviated
                || (entry == abbreviated && keys.last_key(mid)[self.shared..] < key[self.shared..]);
            if below {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }
    // ANCHOR_END: find
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Checks `find` (and the stored keys and handles) against a linear search.
    fn agrees_with_a_linear_search(keys: &[Vec<u8>], probe: &[u8]) -> Result<(), TestCaseError> {
        let mut plain = BlockIndex::default();
        let handle = |i: usize| BlockHandle {
            offset: i as u64 * 10,
            size: 10,
        };
        keys.iter()
            .enumerate()
            .for_each(|(i, key)| plain.push(key, handle(i)));
        let index = AbbreviatedIndex::new(&plain);
        // Lesson 05's search over the plain index gives the same answers.
        let expected_plain = plain.find(probe, &mut Stats::default());
        prop_assert_eq!(index.len(), keys.len());
        for i in 0..keys.len() {
            prop_assert_eq!(index.handle(i).map(|h| h.offset), Some(i as u64 * 10));
        }
        let expected = keys
            .iter()
            .position(|k| k.as_slice() >= probe)
            .unwrap_or(keys.len());
        prop_assert_eq!(index.find(&plain, probe, &mut Stats::default()), expected);
        prop_assert_eq!(expected_plain, expected);
        // The answer is among the few blocks warmed (when it is a block).
        let mut warmed = Vec::new();
        let found = index.find_warming(&plain, probe, &mut Stats::default(), |i| warmed.push(i));
        prop_assert_eq!(found, expected);
        prop_assert!(
            found == keys.len() || warmed.contains(&found),
            "{found} not in {warmed:?}"
        );
        prop_assert!(warmed.len() <= 5, "warmed {warmed:?}");
        Ok(())
    }

    /// Bytes from a three-letter alphabet, so that keys share prefixes and tie often.
    fn bytes(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop::sample::select(vec![0u8, 1, 0xff]), len)
    }

    proptest! {
        #[test]
        fn find_agrees_with_a_linear_search(
            keys in prop::collection::btree_set(prop::collection::vec(any::<u8>(), 0..6), 0..40),
            probe in prop::collection::vec(any::<u8>(), 0..6),
        ) {
            let keys: Vec<Vec<u8>> = keys.into_iter().collect();
            agrees_with_a_linear_search(&keys, &probe)?;
        }

        /// Keys with a long shared prefix and tails longer than an abbreviation: the prefix
        /// shrinks as keys arrive, abbreviations tie, and probes fall inside and outside it.
        #[test]
        fn find_agrees_with_a_linear_search_when_abbreviations_tie(
            prefix in bytes(0..12),
            tails in prop::collection::btree_set(bytes(0..14), 1..40),
            probe_prefix_len in 0usize..14,
            probe_tail in bytes(0..14),
        ) {
            let mut keys: Vec<Vec<u8>> = tails.iter().map(|t| [prefix.as_slice(), t].concat()).collect();
            keys.sort();
            let cut = probe_prefix_len.min(prefix.len());
            let probe = [&prefix[..cut], probe_tail.as_slice()].concat();
            agrees_with_a_linear_search(&keys, &probe)?;
        }
    }
}
