//! Writing a table and its bloom filter; opening them again.
//!
//! Every table the engine writes — by a flush or a compaction — gets a sidecar filter file built
//! from the same entries in the same pass. Both are fsynced before the manifest names the table,
//! so a crash never leaves a live table without its filter.
//!
//! A new table decodes its blocks and keeps them itself ("pinning",
//! [`Sst::pin_blocks`](crate::sst::Sst::pin_blocks)) while the block cache's budget has free room, so a store that fits
//! in the budget is served from memory from the moment a table appears.

use std::sync::Arc;

use rkv_01_basic_store::DataDir;
use rkv_02_sstables::{Table, TableEntry};
use rkv_contract::{IoContext, Result};

use crate::bloom::{self, BloomFilter, FilterBuilder};
use crate::cache::BlockCache;
use crate::internal_key;
use crate::options::EngineOptions;
use crate::sst::Sst;
use crate::version::TableHandle;

pub(crate) use crate::files::{filter_name, table_name};

/// Feeds every entry's user key to the filter on its way into the table.
struct Filtering<'a> {
    entries: &'a mut dyn Iterator<Item = Result<TableEntry>>,
    filter: &'a mut FilterBuilder,
}

impl Iterator for Filtering<'_> {
    type Item = Result<TableEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.entries.next()?;
        if let Ok((key, _)) = &item {
            // The filter is keyed by the escaped user key: a lookup has it at hand.
            self.filter.add(internal_key::prefix_of(key));
        }
        Some(item)
    }
}

/// Writes `entries` as table `number` with its filter, both fsynced; `None` if there were no
/// entries (no file is left behind then). The directory is not synced here.
pub fn write(
    dir: &DataDir,
    options: &EngineOptions,
    cache: Option<&Arc<BlockCache>>,
    number: u64,
    level: usize,
    entries: &mut dyn Iterator<Item = Result<TableEntry>>,
) -> Result<Option<(Arc<TableHandle>, u64)>> {
    let name = table_name(number);
    let path = dir.file(&name);
    let mut file = dir.create(&name)?;
    let mut builder = FilterBuilder::new();
    let summary = Sst::write(
        &mut file,
        &path,
        &mut Filtering {
            entries,
            filter: &mut builder,
        },
        &options.table_options(level),
    )?;
    file.sync_all().at(&path)?;
    drop(file);
    if summary.entries == 0 {
        dir.remove(&name)?;
        return Ok(None);
    }
    let mut written = summary.file_bytes;
    let filter = if options.bloom_bits_per_key > 0 {
        let filter = builder.finish(options.bloom_bits_per_key);
        let filter_path = dir.file(&filter_name(number));
        let mut filter_file = dir.create(&filter_name(number))?;
        written += bloom::write_filter_file(&mut filter_file, &filter_path, &filter)?;
        filter_file.sync_all().at(&filter_path)?;
        Some(filter)
    } else {
        None
    };
    let table = open_sst(dir, options, cache, number)?;
    // What the table's blocks weigh once decoded: at most its keys and values (prefix
    // compression only shrinks them), and not less than the file when nothing compressed.
    let decoded_bytes = summary.data_bytes.max(summary.file_bytes);
    if let Some(cache) = cache
        && cache.used_bytes().saturating_add(decoded_bytes) <= cache.capacity()
    {
        // A table just written is about to be read; while the cache has free room, the table
        // decodes all its blocks now, on the background thread, and keeps them itself: a read
        // then finds its block by number, without a cache lookup. Only free room is used:
        // pinning never pushes out blocks that readers are hitting, and the room comes back
        // when the table is dropped.
        table.pin_blocks()?;
    }
    Ok(Some((
        Arc::new(TableHandle::new(number, table, filter)),
        written,
    )))
}

fn open_sst(
    dir: &DataDir,
    options: &EngineOptions,
    cache: Option<&Arc<BlockCache>>,
    number: u64,
) -> Result<Sst> {
    let table = Sst::open(&dir.file(&table_name(number)), &options.table)?;
    Ok(match cache {
        Some(cache) => table.with_cache(number, cache.clone()),
        None => table,
    })
}

/// Opens table `number` and its filter (if it has one).
pub fn open(
    dir: &DataDir,
    options: &EngineOptions,
    cache: Option<&Arc<BlockCache>>,
    number: u64,
) -> Result<Arc<TableHandle>> {
    let table = open_sst(dir, options, cache, number)?;
    let filter_path = dir.file(&filter_name(number));
    let filter: Option<BloomFilter> = if filter_path.exists() {
        Some(bloom::read_filter_file(&filter_path)?)
    } else {
        None
    };
    Ok(Arc::new(TableHandle::new(number, table, filter)))
}
