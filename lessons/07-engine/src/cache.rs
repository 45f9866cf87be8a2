//! The block cache: decoded blocks kept in memory, shared by every table and every reader.
//!
//! Reading a data block costs a positioned read (a system call, perhaps a disk access), a
//! checksum over its bytes and a decompression. Real workloads are skewed — a few keys are read
//! far more often than the rest — so the same few blocks are decoded again and again. The block
//! cache keeps decoded blocks in memory, keyed by `(table number, block offset)`, up to a budget
//! in **bytes** (`block_cache_bytes`): a block's weight is its decoded size, so a budget of
//! 256 MiB holds about 64 000 blocks of 4 KiB, whatever their compressed size was.
//!
//! The engine's tables ([`crate::sst`]) use it: a table given the cache asks it before reading
//! a data block with lesson 05's reader, and offers it every block it had to read. Lesson 05
//! knows nothing of caching. Tables are immutable, so a cached
//! block never goes stale; table numbers are never reused. A table just written *pins* its
//! decoded blocks while the budget has free room ([`crate::table_file::write`]): it reserves
//! their bytes here, the cache itself shrinks by as much, and the bytes come back when the table
//! is dropped. A table that is gone takes its cached blocks out (the compaction that replaced it
//! does), so the budget holds blocks that can be read.
//!
//! ## Why a crate
//! The bloom filter is written by hand because it is the lesson; a cache is not. A good
//! concurrent cache is hard in ways that have nothing to do with storage engines: many reader
//! threads must look blocks up at once without serialising on one lock (the cache would become
//! the bottleneck of every read), eviction must be cheap, and the policy must be tuned. We use
//! [`quick_cache`]: small, no `unsafe` in our code, `Send + Sync`, split into independently
//! locked **shards** (a lookup takes one shard's *read* lock), weighted by bytes.
//!
//! ## Why its policy resists scans
//! The obvious policy, LRU (evict the least recently used), has a well-known failure: one long
//! scan — a range query over the whole store, or a compaction reading its inputs — touches
//! thousands of blocks once each, and every one of them becomes "most recently used", pushing
//! out the hot blocks that point lookups were hitting. After the scan the hit rate collapses.
//!
//! `quick_cache` uses a policy close to **S3-FIFO** (Yang et al., SOSP 2023), itself a
//! descendant of 2Q and CLOCK-Pro: a new block enters a small *probationary* queue; only a block
//! that is asked for *again* while there is promoted to the main queue; a block evicted from
//! probation leaves a "ghost" (its key only), so that if it returns soon it goes straight to the
//! main queue. A scan's blocks are each read once, so they pass through probation and leave
//! without disturbing the main queue, where the blocks that earned their place stay. The test
//! `a_scan_does_not_flush_the_hot_blocks` shows it.
//!
//! ## What it counts
//! [`BlockCache::hits`] and [`BlockCache::misses`] count lookups through the seam (atomics,
//! relaxed: they are statistics, not synchronisation); `stats` reports them as `cache_hits` and
//! `cache_misses`.
//!
//! ## Simplifications
//! RocksDB caches index and filter blocks in the same budget, can pin the blocks of level 0,
//! and lets a scan skip filling the cache (`fill_cache = false`). Here index and filter stay
//! resident outside the budget (they are read once, when a table opens), and scans go through
//! the cache like point reads, relying on the policy to keep them from doing harm.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::cached_block::CachedBlock;

/// The size of a typical block, to estimate how many blocks a budget holds.
const TYPICAL_BLOCK_BYTES: u64 = 4096;

/// A block's place in the cache: the table's file number and the block's offset in the file.
type BlockKey = (u64, u64);

/// Weighs a cached block by its decoded size in bytes.
#[derive(Clone, Copy, Debug)]
struct BlockBytes;

impl Weighter<BlockKey, CachedBlock> for BlockBytes {
    fn weight(&self, _key: &BlockKey, block: &CachedBlock) -> u64 {
        // Never zero: a zero-weight entry would never be evicted.
        (block.size() as u64).max(1)
    }
}

// ANCHOR: block_cache
/// A bounded, concurrent cache of decoded data blocks, shared by every table of an engine.
pub struct BlockCache {
    /// The blocks, weighed by bytes; sharded and internally locked.
    blocks: Cache<BlockKey, CachedBlock, BlockBytes>,
    /// The budget in bytes, pinned blocks included.
    capacity: u64,
    /// Bytes granted to tables that pin their blocks; the cache itself may hold the rest.
    pinned: Mutex<u64>,
    /// Lookups answered from the cache.
    hits: AtomicU64,
    /// Lookups the cache could not answer.
    misses: AtomicU64,
}

impl BlockCache {
    /// A cache holding up to `capacity_bytes` bytes of decoded blocks.
    pub fn new(capacity_bytes: u64) -> Self {
        let estimated_blocks = (capacity_bytes / TYPICAL_BLOCK_BYTES).max(1);
        BlockCache {
            blocks: Cache::with_weighter(
                usize::try_from(estimated_blocks).unwrap_or(usize::MAX),
                capacity_bytes,
                BlockBytes,
            ),
            capacity: capacity_bytes,
            pinned: Mutex::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
    // ANCHOR_END: block_cache

    /// Lookups answered from the cache since it was created or its counters reset.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Lookups the cache could not answer since it was created or its counters reset.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// Sets both counters back to zero (what `reset_stats` does); the blocks stay.
    pub fn reset_counters(&self) {
        self.hits.store(0, Ordering::Relaxed);
        self.misses.store(0, Ordering::Relaxed);
    }

    /// The budget in bytes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Bytes of blocks held now, in the cache and pinned by tables (never above
    /// [`BlockCache::capacity`]).
    pub fn used_bytes(&self) -> u64 {
        self.blocks.weight() + self.pinned_bytes()
    }

    /// Bytes granted to tables that pin their blocks.
    pub fn pinned_bytes(&self) -> u64 {
        self.pinned.lock().map_or(0, |p| *p)
    }

    /// Blocks held now.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }
}

impl fmt::Debug for BlockCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockCache")
            .field("capacity", &self.capacity)
            .field("used_bytes", &self.used_bytes())
            .field("pinned_bytes", &self.pinned_bytes())
            .field("blocks", &self.len())
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish()
    }
}

// ANCHOR: seam
/// What a table asks of the cache. A block is named by the table's file number and the block's
/// offset in that table.
impl BlockCache {
    /// The cached block at `offset` of table `table`, if the cache holds it.
    pub fn get(&self, table: u64, offset: u64) -> Option<CachedBlock> {
        let found = self.blocks.get(&(table, offset));
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Offers the cache a block just read from disk; the cache may keep it or not.
    pub fn insert(&self, table: u64, offset: u64, block: CachedBlock) {
        // A block heavier than a shard's budget is not admitted; that is the cache's call.
        self.blocks.insert((table, offset), block);
    }

    /// Drops the block at `offset` of table `table`, if the cache holds it: its table is gone.
    pub fn remove(&self, table: u64, offset: u64) {
        self.blocks.remove(&(table, offset));
    }

    /// Asks for `bytes` of the budget for blocks a table keeps itself (pinned, see
    /// [`crate::sst::Sst::pin_blocks`]); `true` if granted: the cache then holds that much less.
    pub fn reserve(&self, bytes: u64) -> bool {
        let Ok(mut pinned) = self.pinned.lock() else {
            return false;
        };
        // Only free room is granted: pinning never pushes out blocks that readers are hitting.
        if self
            .blocks
            .weight()
            .saturating_add(*pinned)
            .saturating_add(bytes)
            > self.capacity
        {
            return false;
        }
        *pinned += bytes;
        self.blocks.set_capacity(self.capacity - *pinned);
        true
    }

    /// Gives back bytes that [`BlockCache::reserve`] granted (the pinned table is gone).
    pub fn release(&self, bytes: u64) {
        if let Ok(mut pinned) = self.pinned.lock() {
            *pinned = pinned.saturating_sub(bytes);
            self.blocks.set_capacity(self.capacity - *pinned);
        }
    }

    /// Counts a read answered by a table's pinned blocks, so hit counts cover those too.
    pub fn count_pinned_hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }
}
// ANCHOR_END: seam

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

    use super::*;
    use rkv_01_basic_store::Value;
    use rkv_05_compression::block::Block;
    use rkv_05_compression::block_builder::BlockBuilder;
    use std::sync::Arc;

    /// A decoded block of about `bytes` bytes.
    fn block(bytes: usize) -> CachedBlock {
        let mut builder = BlockBuilder::new(16);
        builder.add(b"k", &Value::Put(vec![b'v'; bytes.saturating_sub(16)]));
        CachedBlock::new(Block::new(builder.finish()).unwrap())
    }

    #[test]
    fn is_send_and_sync() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<BlockCache>();
        shared::<Arc<BlockCache>>();
    }

    #[test]
    fn counts_hits_and_misses() {
        let cache = BlockCache::new(1 << 20);
        assert!(cache.get(1, 0).is_none());
        cache.insert(1, 0, block(1000));
        assert!(cache.get(1, 0).is_some());
        assert!(cache.get(1, 0).is_some());
        assert!(cache.get(2, 0).is_none()); // same offset, another table
        assert_eq!((cache.hits(), cache.misses()), (2, 2));
        cache.reset_counters();
        assert_eq!((cache.hits(), cache.misses()), (0, 0));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn stays_within_its_budget_in_bytes() {
        let cache = BlockCache::new(64 << 10);
        let one = block(4096);
        for offset in 0..1000 {
            cache.insert(7, offset * 4096, one.clone());
            assert!(cache.used_bytes() <= cache.capacity());
        }
        assert!(cache.len() <= 16);
        assert!(
            cache.len() >= 8,
            "a 64 KiB cache should hold several 4 KiB blocks"
        );
    }

    #[test]
    fn pinned_room_comes_out_of_the_budget_and_goes_back() {
        let cache = BlockCache::new(64 << 10);
        assert!(cache.reserve(40 << 10));
        assert_eq!(cache.pinned_bytes(), 40 << 10);
        // What is left for cached blocks is the rest of the budget.
        let one = block(4096);
        for offset in 0..100 {
            cache.insert(1, offset * 4096, one.clone());
            assert!(cache.used_bytes() <= cache.capacity());
        }
        assert!(cache.len() <= 6, "{} blocks in 24 KiB", cache.len());
        // A reservation is granted only from free room, never by evicting.
        let cached = cache.len();
        assert!(!cache.reserve(20 << 10));
        assert_eq!(cache.len(), cached);
        cache.count_pinned_hit();
        assert_eq!(cache.hits(), 1);
        cache.release(40 << 10);
        assert_eq!(cache.pinned_bytes(), 0);
        assert!(cache.reserve(20 << 10));
    }

    #[test]
    fn a_scan_does_not_flush_the_hot_blocks() {
        // 64 blocks' worth of budget; 16 hot blocks read over and over, then one pass over
        // 2000 blocks that are each read once. LRU would end with none of the hot blocks.
        let cache = BlockCache::new(64 * 1024);
        let one = block(1024);
        let hot = |i: u64| (1, i * 1024);
        for _ in 0..4 {
            for i in 0..16 {
                let (table, offset) = hot(i);
                if cache.get(table, offset).is_none() {
                    cache.insert(table, offset, one.clone());
                }
            }
        }
        for i in 0..2000 {
            if cache.get(2, i * 1024).is_none() {
                cache.insert(2, i * 1024, one.clone());
            }
        }
        let survivors = (0..16)
            .filter(|&i| cache.get(hot(i).0, hot(i).1).is_some())
            .count();
        assert!(
            survivors >= 12,
            "only {survivors} of 16 hot blocks survived the scan"
        );
    }

    #[test]
    fn many_threads_share_one_cache() {
        let cache = Arc::new(BlockCache::new(1 << 20));
        let one = block(512);
        std::thread::scope(|scope| {
            for t in 0..8u64 {
                let cache = &cache;
                let one = one.clone();
                scope.spawn(move || {
                    for i in 0..1000u64 {
                        let offset = (i * 7 + t) % 300;
                        if cache.get(0, offset).is_none() {
                            cache.insert(0, offset, one.clone());
                        }
                    }
                });
            }
        });
        assert_eq!(cache.hits() + cache.misses(), 8000);
        assert!(cache.hits() > 0);
    }
}
