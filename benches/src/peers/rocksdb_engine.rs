//! RocksDB 7.8, the system library, through the `rocksdb` crate: the reference LSM engine.

use std::path::Path;

use anyhow::Result;
use rkv_contract::{Stats, SyncMode};
use rocksdb::{BlockBasedOptions, Cache, DB, IteratorMode, Options, ReadOptions, WriteOptions};

use crate::engine::{Engine, Opened, Settings};

/// A RocksDB database with its default column family.
struct Rocks {
    /// The database.
    db: DB,
    /// Write options: `sync` as asked.
    write: WriteOptions,
}

/// Opens RocksDB in `dir`.
pub fn open(dir: &Path, settings: &Settings) -> Result<Opened> {
    let mut options = Options::default();
    options.create_if_missing(true);
    let (cache_bytes, cache_shown) = super::cache(settings, "block_cache", ROCKSDB_CACHE_BYTES);
    if settings.cache_bytes.is_some() {
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&Cache::new_lru_cache(usize::try_from(cache_bytes)?)?);
        options.set_block_based_table_factory(&table);
    }
    let db = DB::open(&options, dir)?;
    let mut write = WriteOptions::default();
    write.set_sync(settings.sync == SyncMode::Always);
    let durability = match settings.sync {
        SyncMode::Never => "never (WAL on, each write handed to the OS: WriteOptions sync=false)",
        SyncMode::Always => "always (WAL fsynced on every write: WriteOptions sync=true)",
    };
    Ok(Opened {
        engine: Box::new(Rocks { db, write }),
        settings: vec![
            ("sync".into(), durability.into()),
            super::memtable_not_applied("write_buffer_size 64 MiB"),
            cache_shown,
            (
                "compression".into(),
                "Snappy (the default, when the library has it)".into(),
            ),
            (
                "library".into(),
                "the system librocksdb (ROCKSDB_LIB_DIR)".into(),
            ),
        ],
        honours_cache_budget: settings.cache_bytes.is_some(),
    })
}

/// RocksDB's default block cache (`BlockBasedTableOptions`): an 8 MiB LRU cache.
const ROCKSDB_CACHE_BYTES: u64 = 8 << 20;

impl Engine for Rocks {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        Ok(self.db.put_opt(key, value, &self.write)?)
    }

    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get(key)?)
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        Ok(self.db.delete_opt(key, &self.write)?)
    }

    fn scan(
        &mut self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        limit: usize,
        visit: &mut dyn FnMut(&[u8], &[u8]),
    ) -> Result<usize> {
        let mut read = ReadOptions::default();
        if let Some(end) = end {
            read.set_iterate_upper_bound(end.to_vec());
        }
        let mode = match start {
            Some(start) => IteratorMode::From(start, rocksdb::Direction::Forward),
            None => IteratorMode::Start,
        };
        let mut seen = 0;
        for entry in self.db.iterator_opt(mode, read).take(limit) {
            let (key, value) = entry?;
            visit(&key, &value);
            seen += 1;
        }
        Ok(seen)
    }

    fn flush(&mut self) -> Result<()> {
        Ok(self.db.flush_wal(true)?)
    }

    fn stats(&self) -> Option<Stats> {
        None
    }

    fn reset_stats(&mut self) {}
}
