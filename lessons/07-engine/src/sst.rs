//! The engine's table: lesson 06's checksummed block table, read through the block cache.
//!
//! The file format is lesson 06's, unchanged: the engine writes tables with lesson 05's writer
//! and a CRC32 frame, and opens them with lesson 05's reader, which checks the footer and the
//! index. What this file adds is how a table is *read* once blocks live in memory:
//!
//! - **The block cache** ([`crate::cache`]): a table given one ([`Sst::with_cache`]) asks it
//!   for a data block before reading the file, and offers it every block it had to read.
//!   Lesson 05 reads, checks and decompresses the block on every lookup.
//! - **Pinned blocks** ([`Sst::pin_blocks`]): a table just written decodes all its blocks and
//!   keeps them itself, inside the cache's budget, and then finds block `i` by its number —
//!   no hashing, no cache lock, no reference count to bump.
//! - **An abbreviated index** ([`crate::abbreviated_index`]) instead of lesson 05's plain one,
//!   whose last search steps also *touch* the blocks they choose among, and blocks that keep
//!   their first restart offsets beside them ([`crate::cached_block`]).
//!
//! Each was measured when it went in; the book's "Making it fast" appendix has the numbers.
//! Everything about the format — reading a block, checking its frame, decompressing it,
//! decoding entries — is lesson 05's and 06's code, called, not copied.

use std::fs::File;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rkv_01_basic_store::Value;
use rkv_02_sstables::{Table, TableEntry, TableIter, TableSummary};
use rkv_05_compression::BlockTable;
use rkv_05_compression::block::Block;
use rkv_06_checksums::Crc32;
use rkv_contract::{Result, Stats};

use crate::abbreviated_index::AbbreviatedIndex;
use crate::cache::BlockCache;
use crate::cached_block::CachedBlock;

/// The log format of the engine's write-ahead logs and manifest.
pub type LogFile = rkv_06_checksums::ChecksummedLog;

/// The file format of the engine's tables: lesson 05's blocks in lesson 06's checksum frame.
pub type TableFormat = BlockTable<Crc32>;

/// An open table of the engine.
#[derive(Debug)]
pub struct Sst {
    /// The table as lesson 06 opens it: file, footer, lesson 05's index, summary.
    table: TableFormat,
    /// The same blocks, laid out for the point-read search (the keys stay in `table`'s index).
    index: AbbreviatedIndex,
    /// The engine's block cache and this table's id in it (its file number), if it has one.
    cache: Option<(u64, Arc<BlockCache>)>,
    /// Every decoded data block, kept by the table itself once the cache granted the room
    /// ([`Sst::pin_blocks`]); block `i` is found by its number, with no cache lookup.
    pinned: OnceLock<Pinned>,
}

/// A table's pinned blocks and the budget they hold.
#[derive(Debug)]
struct Pinned {
    blocks: Box<[CachedBlock]>,
    bytes: u64,
}

impl Drop for Sst {
    fn drop(&mut self) {
        if let (Some(pinned), Some((_, cache))) = (self.pinned.get(), &self.cache) {
            cache.release(pinned.bytes);
        }
    }
}

/// A decoded block, borrowed from the table's pinned blocks or shared with the cache.
enum BlockRef<'a> {
    Pinned(&'a CachedBlock),
    Shared(CachedBlock),
}

impl std::ops::Deref for BlockRef<'_> {
    type Target = CachedBlock;

    fn deref(&self) -> &CachedBlock {
        match self {
            BlockRef::Pinned(block) => block,
            BlockRef::Shared(block) => block,
        }
    }
}

/// Lesson 06's table format, read through the cache: writing is lesson 05's writer itself.
impl Table for Sst {
    type Options = <TableFormat as Table>::Options;

    fn open(path: &Path, options: &Self::Options) -> Result<Self> {
        let table = TableFormat::open(path, options)?;
        Ok(Sst {
            index: AbbreviatedIndex::new(table.index()),
            table,
            cache: None,
            pinned: OnceLock::new(),
        })
    }

    fn write(
        file: &mut File,
        path: &Path,
        entries: &mut dyn Iterator<Item = Result<TableEntry>>,
        options: &Self::Options,
    ) -> Result<TableSummary> {
        TableFormat::write(file, path, entries, options)
    }

    fn get(&self, key: &[u8], stats: &mut Stats) -> Result<Option<Value>> {
        let found = self.seek(key, stats)?;
        Ok(found.and_then(|(found, value)| (found == key).then_some(value)))
    }

    // ANCHOR: seek
    fn seek(&self, start: &[u8], stats: &mut Stats) -> Result<Option<TableEntry>> {
        // A pinned block's struct is a memory access of its own once the search has found it;
        // touching the candidates' structs during the search's last steps overlaps it.
        let pinned = self.pinned.get();
        let i = self
            .index
            .find_warming(self.table.index(), start, stats, |i| {
                if let Some(block) = pinned.and_then(|p| p.blocks.get(i)) {
                    block.touch();
                }
            });
        if i >= self.index.len() {
            return Ok(None);
        }
        // The block's last key is >= start, so the answer is in this block.
        let block = self.block_ref(i, stats)?;
        block
            .seek(start, stats)
            .map_err(|what| self.table.block_corruption(i, what))
    }
    // ANCHOR_END: seek

    /// Lesson 05's range read, block by block from the file. The engine's own scans walk the
    /// blocks through the cache instead ([`crate::cursor`]).
    fn range(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<TableIter<'_>> {
        self.table.range(start, end)
    }

    fn summary(&self) -> &TableSummary {
        self.table.summary()
    }
}

impl Sst {
    /// Puts `cache` in front of this table's data block reads; `table_id` names this table in
    /// the cache and must differ from the id of every other table sharing it.
    pub fn with_cache(mut self, table_id: u64, cache: Arc<BlockCache>) -> Self {
        self.cache = Some((table_id, cache));
        self
    }

    /// Number of data blocks.
    pub fn block_count(&self) -> usize {
        self.index.len()
    }

    /// The first data block that can hold a key `>= key` (`block_count()` if none can).
    pub fn find_block(&self, key: &[u8]) -> usize {
        self.index
            .find(self.table.index(), key, &mut Stats::default())
    }

    /// Data block `i`, from the pinned blocks or the cache if they hold it: for a scan that
    /// walks the blocks itself, holding the table by an `Arc` rather than a borrow.
    pub fn data_block(&self, i: usize) -> Result<Block> {
        Ok(self.block_ref(i, &mut Stats::default())?.block().clone())
    }

    /// The corruption error for a problem (`what`) found inside data block `i`.
    pub fn block_corruption(&self, i: usize, what: String) -> rkv_contract::Error {
        self.table.block_corruption(i, what)
    }

    // ANCHOR: pin_blocks
    /// Reads and decodes every data block and keeps them in the table itself, if the table has
    /// a cache and the cache grants their size from its budget; returns whether it did. A
    /// store calls it for a table it has just written and expects to be read soon.
    ///
    /// A pinned block is found by its number: no hashing, no cache lock, no reference count to
    /// bump — on a store that fits in memory, the cache lookup was a sixth of a point read.
    /// The budget comes back when the table is dropped.
    pub fn pin_blocks(&self) -> Result<bool> {
        let Some((_, cache)) = &self.cache else {
            return Ok(false);
        };
        if self.pinned.get().is_some() {
            return Ok(true);
        }
        let mut stats = Stats::default();
        let mut blocks = Vec::with_capacity(self.index.len());
        for i in 0..self.index.len() {
            blocks.push(CachedBlock::new(self.table.read_data_block(i, &mut stats)?));
        }
        let bytes = blocks.iter().map(|b| b.size() as u64).sum();
        if !cache.reserve(bytes) {
            return Ok(false);
        }
        let pinned = Pinned {
            blocks: blocks.into_boxed_slice(),
            bytes,
        };
        if let Err(unused) = self.pinned.set(pinned) {
            cache.release(unused.bytes); // pinned meanwhile by another thread
        }
        Ok(true)
    }
    // ANCHOR_END: pin_blocks

    /// Bytes of this table's pinned blocks (0 if it pins none).
    pub fn pinned_bytes(&self) -> u64 {
        self.pinned.get().map_or(0, |p| p.bytes)
    }

    /// Takes every data block of this table out of its cache: for a table about to be deleted,
    /// whose blocks would otherwise hold cache space until evicted.
    pub fn forget_cached(&self) {
        if let Some((table_id, cache)) = &self.cache {
            for handle in self.table.index().handles() {
                cache.remove(*table_id, handle.offset);
            }
        }
    }

    // ANCHOR: block_ref
    /// Data block `i`: from the table's pinned blocks, else from the cache if the table has one
    /// and it holds the block, else from the file (lesson 05's read) — offering it to the cache.
    fn block_ref(&self, i: usize, stats: &mut Stats) -> Result<BlockRef<'_>> {
        let (Some((table_id, cache)), Some(handle)) = (&self.cache, self.index.handle(i)) else {
            // No cache, or no block `i` in this table (lesson 05's read then says so).
            let block = self.table.read_data_block(i, stats)?;
            return Ok(BlockRef::Shared(CachedBlock::new(block)));
        };
        if let Some(block) = self.pinned.get().and_then(|p| p.blocks.get(i)) {
            stats.cache_hits += 1;
            cache.count_pinned_hit();
            return Ok(BlockRef::Pinned(block));
        }
        let offset = handle.offset;
        if let Some(block) = cache.get(*table_id, offset) {
            stats.cache_hits += 1;
            return Ok(BlockRef::Shared(block));
        }
        stats.cache_misses += 1;
        let block = CachedBlock::new(self.table.read_data_block(i, stats)?);
        cache.insert(*table_id, offset, block.clone());
        Ok(BlockRef::Shared(block))
    }
    // ANCHOR_END: block_ref
}
