//! The in-memory index of a block table: the last key and the handle of every data block.
//!
//! It is lesson 03's offsets array made sparse: one entry per *block* instead of one per record.
//! A lookup asks it for the first block whose last key is at least the key sought — the only
//! block that can hold it — with lesson 03's [`binary_search`], whose probe here compares a
//! block's last key, already in memory, so the search reads nothing from disk.
//!
//! All the last keys live in one byte buffer, one after the other, with where each ends: one
//! allocation for the whole index instead of one per block.

use rkv_03_binary_search::binary_search;
use rkv_contract::Stats;

use crate::block_handle::BlockHandle;

/// The last key and handle of every data block, in block order.
#[derive(Debug, Default)]
pub struct BlockIndex {
    /// Every block's last key, concatenated.
    keys: Vec<u8>,
    /// Where each block's last key ends in `keys`, in block order.
    key_ends: Vec<usize>,
    /// Every block's handle, in block order.
    handles: Vec<BlockHandle>,
}

impl BlockIndex {
    /// Appends block `handle`, whose last key is `last_key`; keys must come in increasing order.
    pub fn push(&mut self, last_key: &[u8], handle: BlockHandle) {
        self.keys.extend_from_slice(last_key);
        self.key_ends.push(self.keys.len());
        self.handles.push(handle);
    }

    /// Number of data blocks.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// True when the table has no data block.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// The last key of block `i`.
    pub fn last_key(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.key_ends[i - 1] };
        &self.keys[start..self.key_ends[i]]
    }

    /// The handle of block `i`, if there is one.
    pub fn handle(&self, i: usize) -> Option<BlockHandle> {
        self.handles.get(i).copied()
    }

    /// Every block's handle, in order.
    pub fn handles(&self) -> impl Iterator<Item = BlockHandle> + '_ {
        self.handles.iter().copied()
    }

    // ANCHOR: find
    /// The first block whose last key is `>= key` — the only block that can hold `key` — or
    /// `len()` when `key` is beyond the table's last key.
    pub fn find(&self, key: &[u8], stats: &mut Stats) -> usize {
        let found = binary_search(self.len(), stats, |i, _| {
            Ok::<_, std::convert::Infallible>(self.last_key(i).cmp(key))
        });
        match found {
            Ok(position) => position.index(),
            Err(never) => match never {},
        }
    }
    // ANCHOR_END: find
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// `find` agrees with a linear search within lesson 03's bound on comparisons, and the
        /// index gives back every key and handle it was given.
        #[test]
        fn find_is_a_binary_search_over_last_keys(
            last_keys in prop::collection::btree_set(prop::collection::vec(0u8..3, 0..4), 0..60),
            sought in prop::collection::vec(0u8..3, 0..5),
        ) {
            let mut index = BlockIndex::default();
            for (i, key) in last_keys.iter().enumerate() {
                index.push(key, BlockHandle { offset: 100 * i as u64, size: 100 });
            }
            for (i, key) in last_keys.iter().enumerate() {
                prop_assert_eq!(index.last_key(i), key.as_slice());
                prop_assert_eq!(index.handle(i), Some(BlockHandle { offset: 100 * i as u64, size: 100 }));
            }
            let mut stats = Stats::default();
            let first_not_below = last_keys.iter().filter(|k| **k < sought).count();
            prop_assert_eq!(index.find(&sought, &mut stats), first_not_below);
            let bound = usize::BITS - index.len().leading_zeros();
            prop_assert!(stats.key_comparisons <= u64::from(bound));
        }
    }
}
