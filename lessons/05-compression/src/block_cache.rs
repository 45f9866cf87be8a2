//! The seam for a cache of decoded blocks.
//!
//! Reading a data block costs a positioned read, a frame check and a decompression. A store
//! that reads the same hot blocks again and again can keep them decoded in memory instead —
//! but *which* blocks to keep, and how many bytes they may take, is a policy this lesson does
//! not need. So lesson 05 only says what it needs from a cache ([`BlockCache`]), and a
//! [`BlockTable`](crate::BlockTable) asks one — if it was given one with
//! [`BlockTable::with_cache`](crate::BlockTable::with_cache) — before reading a data block from
//! disk. Lesson 07 plugs in a bounded cache shared by every table of the engine.
//!
//! A cached [`Block`] shares its bytes: readers on many threads hold clones of the same
//! decoded block while the cache stays free to evict it; the last reader frees it.

use std::fmt::Debug;

use crate::block::Block;

// ANCHOR: block_cache
/// A cache of decoded data blocks, shared by the tables of a store.
///
/// A block is named by the table's id (unique among the tables sharing the cache, e.g. its file
/// number) and the block's offset in that table. Tables are immutable, so a cached block never
/// goes stale; a table that is deleted can take its blocks out with [`BlockCache::remove`].
pub trait BlockCache: Send + Sync + Debug {
    /// The cached block at `offset` of table `table`, if the cache holds it.
    fn get(&self, table: u64, offset: u64) -> Option<Block>;
    /// Offers the cache a block just read from disk; the cache may keep it or not.
    fn insert(&self, table: u64, offset: u64, block: Block);
    /// Drops the block at `offset` of table `table`, if the cache holds it: its table is gone.
    fn remove(&self, table: u64, offset: u64);

    /// Asks for `bytes` of the budget for blocks a table keeps itself — *pinned*, found by
    /// their number with no lookup at all ([`BlockTable::pin_blocks`](crate::BlockTable::pin_blocks)).
    /// `true` if granted: the cache then holds that much less. The default grants nothing.
    fn reserve(&self, bytes: u64) -> bool {
        let _ = bytes;
        false
    }

    /// Gives back bytes that [`BlockCache::reserve`] granted (the pinned table is gone).
    fn release(&self, bytes: u64) {
        let _ = bytes;
    }

    /// Counts a read answered by a table's pinned blocks, so hit counts cover those too.
    fn count_pinned_hit(&self) {}
}
// ANCHOR_END: block_cache
