//! The engine handle: open, write, read, snapshot.
//!
//! [`Engine`] is `Send + Sync`: share it (it is cheap to clone) between threads, read from all of
//! them, write from any. Writes go through the group commit in [`crate::write`]; two background
//! threads ([`crate::background`]) flush full memtables and compact levels. Readers take a
//! consistent [`Picture`] — the memtable, the immutable memtable, the current version and the
//! last published sequence number — under a lock held only long enough to clone three `Arc`s, and
//! then read without any lock at all.
//!
//! This file only ties the parts together; each part has its own file: opening in
//! [`crate::recovery`], the shared state in [`crate::state`], the write path in
//! [`crate::write`], installing new versions in [`crate::install`].

use std::path::Path;
use std::sync::Arc;

use rkv_01_basic_store::DataDir;
use rkv_contract::{Result, Stats};

use crate::background::Worker;
use crate::batch::WriteBatch;
use crate::cache::BlockCache;
use crate::compaction;
use crate::failure::Task;
use crate::files::{is_engine_file, table_name};
use crate::iter::Scan;
use crate::options::EngineOptions;
use crate::picture::Picture;
use crate::recovery;
use crate::state::Shared;
use crate::write::{self, Writer};

/// A point in time: reads through it ignore every later write.
///
/// It holds the memtables and tables of that moment, so it stays readable however long it is
/// kept — at the price of keeping their memory and files alive.
#[derive(Clone, Debug)]
pub struct Snapshot {
    picture: Picture,
    shared: Arc<Shared>,
}

impl Snapshot {
    /// The sequence number this snapshot reads at: it sees the writes numbered up to it.
    pub fn seq(&self) -> u64 {
        self.picture.seq
    }

    /// The value `key` had at this snapshot.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        rkv_contract::check_key(key)?;
        let mut stats = Stats {
            gets: 1,
            ..Stats::default()
        };
        let result = self.picture.get(key, &mut stats);
        self.shared.count(&stats);
        result
    }

    /// The live entries in `[start, end)` at this snapshot.
    pub fn scan(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Scan {
        self.shared.count(&Stats {
            scans: 1,
            ..Stats::default()
        });
        self.picture.scan(start, end)
    }
}

/// The full engine. Cheap to clone; every clone is the same store.
#[derive(Clone, Debug)]
pub struct Engine {
    /// What the engine's threads share.
    pub(crate) shared: Arc<Shared>,
    /// The log and the group-commit queue.
    writer: Arc<Writer>,
    /// Joins the background threads when the last handle is dropped.
    _background: Arc<Worker>,
}

impl Engine {
    // ANCHOR: open
    /// Opens (or creates) the engine in `path` and recovers everything acknowledged.
    pub fn open(path: &Path, options: EngineOptions) -> Result<Engine> {
        let dir = DataDir::open(path)?;
        dir.expect_only("rkv-07-engine", is_engine_file)?;
        let cache = (options.block_cache_bytes > 0)
            .then(|| Arc::new(BlockCache::new(options.block_cache_bytes)));
        let (manifest, recovered, log) = recovery::recover(&dir, &options, cache.as_ref())?;
        let writer = Writer::new(log);
        let shared = Arc::new(Shared::new(dir, options, cache, manifest, recovered));
        let background = Worker::start(shared.clone())?;
        Ok(Engine {
            shared,
            writer: Arc::new(writer),
            _background: Arc::new(background),
        })
    }
    // ANCHOR_END: open

    /// Sets `key` to `value`.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let mut batch = WriteBatch::new();
        batch.put(key, value)?;
        self.write(batch)
    }

    /// Deletes `key`.
    pub fn delete(&self, key: &[u8]) -> Result<()> {
        let mut batch = WriteBatch::new();
        batch.delete(key)?;
        self.write(batch)
    }

    /// Applies every write of `batch` atomically: after a crash, all of them or none.
    pub fn write(&self, batch: WriteBatch) -> Result<()> {
        write::commit(&self.shared, &self.writer, batch)
    }

    /// The current value of `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        rkv_contract::check_key(key)?;
        let mut stats = Stats {
            gets: 1,
            ..Stats::default()
        };
        let result = Picture::of(&self.shared)?.get(key, &mut stats);
        self.shared.count(&stats);
        result
    }

    /// A consistent, streaming scan of `[start, end)` as of now.
    pub fn scan(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<Scan> {
        Ok(self.snapshot()?.scan(start, end))
    }

    /// A point-in-time view for reads.
    pub fn snapshot(&self) -> Result<Snapshot> {
        Ok(Snapshot {
            picture: Picture::of(&self.shared)?,
            shared: self.shared.clone(),
        })
    }

    /// Writes the memtable to a table and waits until it is done (or failed: then the error).
    pub fn flush(&self) -> Result<()> {
        write::rotate_and_await_flush(&self.shared, &self.writer)
    }

    /// Flushes, then compacts every level into the one below until all data sits in one level.
    pub fn compact(&self) -> Result<()> {
        self.flush()?;
        compaction::compact_everything(&self.shared).map_err(|error| {
            let stopped = self.shared.record_failure(Task::Compaction, error);
            stopped.to_error(self.shared.dir.path())
        })
    }

    /// The cost counters so far.
    pub fn stats(&self) -> Stats {
        let mut stats = self
            .shared
            .stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(cache) = &self.shared.cache {
            stats.cache_hits = cache.hits();
            stats.cache_misses = cache.misses();
        }
        if let Ok(picture) = Picture::of(&self.shared) {
            let levels = &picture.version.levels;
            stats.table_bytes = (0..levels.len())
                .map(|l| picture.version.level_bytes(l))
                .sum();
            stats.last_level_bytes = (0..levels.len())
                .rev()
                .find(|&l| !levels[l].is_empty())
                .map_or(0, |l| picture.version.level_bytes(l));
        }
        stats
    }

    /// Bytes of decoded blocks the block cache holds now (0 without a cache).
    pub fn block_cache_used_bytes(&self) -> u64 {
        self.shared
            .cache
            .as_ref()
            .map_or(0, |cache| cache.used_bytes())
    }

    /// Sets the counters back to zero.
    pub fn reset_stats(&self) {
        *self
            .shared
            .stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Stats::default();
        if let Some(cache) = &self.shared.cache {
            cache.reset_counters();
        }
    }

    /// The level shape and sizes, one line per item.
    pub fn inspect(&self) -> Result<String> {
        let picture = Picture::of(&self.shared)?;
        let mut out = format!(
            "dir: {}\nsequence: {}\nmemtable: {} entries, {} bytes (limit {})\nimmutable memtable: {}",
            self.shared.dir.path().display(),
            picture.seq,
            picture.mem.len(),
            picture.mem.bytes(),
            self.shared.options.memtable_bytes,
            picture
                .imm
                .as_ref()
                .map_or("none".to_string(), |m| format!("{} bytes", m.bytes())),
        );
        let total: u64 = (0..picture.version.levels.len())
            .map(|l| picture.version.level_bytes(l))
            .sum();
        let bottom = picture
            .version
            .levels
            .iter()
            .enumerate()
            .rev()
            .find(|(_, tables)| !tables.is_empty())
            .map_or(0, |(level, _)| picture.version.level_bytes(level));
        for (level, tables) in picture.version.levels.iter().enumerate() {
            if tables.is_empty() {
                continue;
            }
            let target = if level == 0 {
                format!(
                    "compaction at {} tables",
                    self.shared.options.l0_compaction_trigger
                )
            } else {
                format!("target {} bytes", self.shared.options.level_target(level))
            };
            out.push_str(&format!(
                "\nL{level}: {} tables, {} bytes ({target})",
                tables.len(),
                picture.version.level_bytes(level)
            ));
            for table in tables {
                let summary = rkv_02_sstables::Table::summary(&table.table);
                out.push_str(&format!(
                    "\n  {} entries={} keys=[{} .. {}] bytes={}",
                    table_name(table.number),
                    summary.entries,
                    table.smallest_user.escape_ascii(),
                    table.largest_user.escape_ascii(),
                    summary.file_bytes,
                ));
            }
        }
        let stats = self.stats();
        out.push_str(&format!(
            "\ntables: {total} bytes; space amplification (all levels / last level): {:.2}\nwrite amplification: {}",
            total as f64 / bottom.max(1) as f64,
            stats.write_amplification().map_or("n/a".into(), |w| format!("{w:.2}")),
        ));
        Ok(out)
    }
}
