//! A decoded block as the engine keeps it in memory: lesson 05's [`Block`], with its first
//! restart offsets copied beside it and a point read that asks memory for what it will read.
//!
//! Lesson 05 reads a block from the file on every lookup, decodes it, searches it and drops it.
//! The engine keeps decoded blocks (the block cache, a table's pinned blocks), so a point read
//! starts from a block that is already in memory — but not in the CPU's caches: a block no read
//! has touched for a while costs a trip to main memory (about 200 ns on the machine the book's
//! numbers come from) for every cache line the search reads, and lesson 05's search reads them
//! one after another, each deciding the next. Two changes remove most of those waits:
//!
//! - **The first restart offsets beside the struct.** Lesson 05 reads restart offsets from the
//!   block's trailer — its last bytes, a cache line of their own — so a point read waited for
//!   the trailer before it could even look at a key. A 4 KiB block with a restart point every
//!   16 entries has two or three of them: the first [`INLINE_RESTARTS`] are copied here when
//!   the block is decoded, into the small struct a reader touches first anyway.
//! - **Asking for the lines early** ([`crate::prefetch`]): the restart points' entries all at
//!   once before the restart search, then the entries up to the next restart point before the
//!   scan, instead of one line at a time as the search reaches them.
//!
//! The search itself is lesson 05's: [`Block::seek_restart_by`] with these offsets, then
//! [`Block::seek_from`]. Its answers, and the comparisons it counts, are the same.

use rkv_01_basic_store::Value;
use rkv_05_compression::block::{Block, BlockError};
use rkv_contract::Stats;

use crate::prefetch;

/// How many restart offsets a [`CachedBlock`] keeps beside the block.
pub const INLINE_RESTARTS: usize = 4;

/// The most bytes of entries a point read asks memory for ahead of its scan (32 cache lines:
/// the entries between two restart points of a 4 KiB block holding 100-byte values).
const PREFETCH_LIMIT: usize = 2048;

// ANCHOR: cached_block
/// A decoded block and its first restart offsets. Cloning one shares the block's bytes.
#[derive(Clone, Debug)]
pub struct CachedBlock {
    /// The block, as lesson 05 decodes it.
    block: Block,
    /// The first [`INLINE_RESTARTS`] restart offsets, copied out of the block's trailer.
    first_restarts: [u32; INLINE_RESTARTS],
}
// ANCHOR_END: cached_block

impl CachedBlock {
    /// Wraps a block just decoded, copying its first restart offsets.
    pub fn new(block: Block) -> Self {
        let mut first_restarts = [0; INLINE_RESTARTS];
        for (i, slot) in first_restarts
            .iter_mut()
            .enumerate()
            .take(block.restart_count())
        {
            // `Block::new` checked every restart offset against the block's size.
            *slot = block.restart(i) as u32;
        }
        CachedBlock {
            block,
            first_restarts,
        }
    }

    /// The block.
    pub fn block(&self) -> &Block {
        &self.block
    }

    /// Bytes of the decoded block: what it costs to keep it in memory.
    pub fn size(&self) -> usize {
        self.block.size()
    }

    /// Where restart point `i`'s entry starts: from the copy when it has one.
    #[inline]
    fn restart(&self, i: usize) -> usize {
        match self.first_restarts.get(i) {
            Some(&offset) => offset as usize,
            None => self.block.restart(i),
        }
    }

    /// Reads this struct's fields without waiting for them (see [`prefetch`]): a reader that
    /// will soon need the block asks memory for it early.
    pub fn touch(&self) {
        prefetch::value(self.first_restarts[0] as usize ^ self.block.restart_count());
    }

    // ANCHOR: seek
    /// The first entry with a key `>= target`, if the block has one: lesson 05's search, with
    /// the cache lines it will read asked for ahead.
    pub fn seek(
        &self,
        target: &[u8],
        stats: &mut Stats,
    ) -> Result<Option<(Vec<u8>, Value)>, BlockError> {
        let block = &self.block;
        let restarts = block.restart_count();
        if restarts == 0 {
            return Ok(None);
        }
        // Ask memory for the restart points' entries all at once (a 4 KiB block has two or
        // three), not one after another as the binary search reaches them...
        if restarts <= INLINE_RESTARTS {
            let offsets = self.first_restarts.iter().take(restarts);
            prefetch::bytes_at(block.bytes(), offsets.map(|&offset| offset as usize));
        }
        let restart = block.seek_restart_by(target, stats, |i| self.restart(i))?;
        let offset = self.restart(restart);
        // ...then for the entries the scan may decode, up to the next restart point.
        let scan_end = match restart + 1 {
            next if next < restarts => self.restart(next),
            _ => block.entries_end(),
        };
        let scan_end = scan_end.min(offset + PREFETCH_LIMIT);
        prefetch::lines(block.bytes().get(offset..scan_end).unwrap_or_default());
        block.seek_from(offset, target, stats)
    }
    // ANCHOR_END: seek
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rkv_05_compression::block_builder::BlockBuilder;
    use std::collections::BTreeMap;

    proptest! {
        /// The cached block answers exactly as lesson 05's block does, counting the same work.
        #[test]
        fn seeks_like_the_block_it_wraps(
            entries in prop::collection::btree_map(
                prop::collection::vec(0u8..4, 0..6),
                prop::collection::vec(any::<u8>(), 0..8),
                0..80),
            probes in prop::collection::vec(prop::collection::vec(0u8..4, 0..6), 0..30),
            interval in 1usize..8,
        ) {
            let entries: BTreeMap<_, _> = entries;
            let mut builder = BlockBuilder::new(interval);
            for (key, value) in &entries {
                builder.add(key, &Value::Put(value.clone()));
            }
            let Ok(block) = Block::new(builder.finish()) else {
                return Err(TestCaseError::fail("a built block decodes"));
            };
            let cached = CachedBlock::new(block.clone());
            for probe in entries.keys().chain(&probes) {
                let (mut theirs, mut ours) = (Stats::default(), Stats::default());
                prop_assert_eq!(cached.seek(probe, &mut ours), block.seek(probe, &mut theirs));
                prop_assert_eq!(&ours, &theirs);
            }
        }
    }
}
