//! The in-memory index of a block table: the last key and the handle of every data block.
//!
//! A lookup binary-searches it on every read, so its memory layout matters more than its code.
//! Kept as a `Vec` of `(Vec<u8>, handle)` pairs, every probe of the search would follow a
//! pointer to a separately allocated key — a likely cache miss per step, ten steps for a table
//! of a thousand blocks. Here every key lives in one byte buffer, one after the other, with
//! their end offsets in a second array: the search reads two arrays, and the first few probes
//! (the middle keys) stay in the CPU cache from one lookup to the next.

use rkv_contract::Stats;

use crate::block_table::BlockHandle;

/// The last key and handle of every data block, in block order.
#[derive(Debug, Default)]
pub struct BlockIndex {
    /// Every block's last key, concatenated.
    keys: Vec<u8>,
    /// Where each key ends in `keys`; key `i` is `keys[ends[i - 1]..ends[i]]`.
    ends: Vec<usize>,
    /// Every block's place in the file.
    handles: Vec<BlockHandle>,
}

impl BlockIndex {
    /// Appends block `handle`, whose last key is `last_key`.
    pub fn push(&mut self, last_key: &[u8], handle: BlockHandle) {
        self.keys.extend_from_slice(last_key);
        self.ends.push(self.keys.len());
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
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.keys[start..self.ends[i]]
    }

    /// The handle of block `i`, if there is one.
    pub fn handle(&self, i: usize) -> Option<BlockHandle> {
        self.handles.get(i).copied()
    }

    /// Every block's handle, in order.
    pub fn handles(&self) -> &[BlockHandle] {
        &self.handles
    }

    /// The first block whose last key is `>= key` — the only block that can hold `key` — or
    /// `len()` when `key` is beyond the table's last key.
    pub fn find(&self, key: &[u8], stats: &mut Stats) -> usize {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            stats.key_comparisons += 1;
            if self.last_key(mid) < key {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn find_agrees_with_a_linear_search(
            keys in prop::collection::btree_set(prop::collection::vec(any::<u8>(), 0..6), 0..40),
            probe in prop::collection::vec(any::<u8>(), 0..6),
        ) {
            let keys: Vec<Vec<u8>> = keys.into_iter().collect();
            let mut index = BlockIndex::default();
            for (i, key) in keys.iter().enumerate() {
                index.push(key, BlockHandle { offset: i as u64 * 10, size: 10 });
            }
            prop_assert_eq!(index.len(), keys.len());
            for (i, key) in keys.iter().enumerate() {
                prop_assert_eq!(index.last_key(i), key.as_slice());
                prop_assert_eq!(index.handle(i).map(|h| h.offset), Some(i as u64 * 10));
            }
            let expected = keys.iter().position(|k| k.as_slice() >= probe.as_slice()).unwrap_or(keys.len());
            prop_assert_eq!(index.find(&probe, &mut Stats::default()), expected);
        }
    }
}
