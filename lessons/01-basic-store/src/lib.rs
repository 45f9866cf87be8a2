//! # Lesson 01 — a memtable in front of a write-ahead log
//!
//! The simplest store that keeps its promises. All data lives in a sorted in-memory map, the
//! *memtable*; every write is first appended to a file, the *write-ahead log*, and only then
//! applied to the memtable and acknowledged. When the process starts again — after a clean exit,
//! a crash or a `kill -9` — opening the store reads the log from the start and rebuilds the
//! memtable. Nothing acknowledged is lost, because nothing is acknowledged before it is in the
//! log.
//!
//! ```text
//!   put(k, v) ──► append record to the log ──► (fsync, if --sync always) ──► memtable ──► OK
//!   get(k)    ──► memtable
//!   open      ──► replay the log into an empty memtable (drop a torn last record)
//! ```
//!
//! The pieces, one file each:
//! - [`memtable`] — the sorted map, with tombstones and a size count the next lesson needs;
//! - [`wal`] — the log's record format, append and replay, torn-tail handling;
//! - [`data_dir`] — the directory: private permissions and an exclusive lock;
//! - [`write_ahead`] — `put` and `delete` around the one step a store supplies: log, then apply;
//! - this file — [`Store`], which ties them together behind the [`KvStore`] contract.
//!
//! ## What this stage cannot do yet
//! - **Everything lives in memory.** A store is as large as RAM allows, and opening it costs a
//!   read of every write ever made.
//! - **The log grows forever.** Overwriting one key a million times leaves a million records.
//!
//! Lesson 02 fixes both: when the memtable grows past a threshold it is written out as a sorted,
//! immutable file (an SSTable), and the log that protected it is deleted.
//!
//! What this stage gets right, and every later stage keeps: the durability promise of `OK`, the
//! torn-tail rule, the lock that keeps a second process out, and a typed error for every bad
//! input or bad file.

pub mod data_dir;
pub mod memtable;
pub mod wal;
pub mod write_ahead;

use std::path::Path;

use rkv_contract::{KvStore, Result, Scan, Stats, SyncOptions};

pub use data_dir::DataDir;
pub use memtable::{Memtable, Value};
pub use wal::Log;
pub use write_ahead::WriteAhead;

/// Name of the log file inside the data directory.
pub const LOG_FILE: &str = "wal.log";

/// Options of lesson 01: only the durability of a write, which every stage has.
pub type Options = SyncOptions;

/// The lesson 01 store: a memtable, and the log that makes it durable.
#[derive(Debug)]
pub struct Store {
    /// The locked data directory.
    dir: DataDir,
    /// Every acknowledged write, in order.
    log: Log,
    /// The newest value of every key.
    memtable: Memtable,
    /// Cost counters.
    stats: Stats,
}

impl KvStore for Store {
    type Options = Options;

    // ANCHOR: open
    fn open(path: &Path, options: Options) -> Result<Self> {
        let dir = DataDir::open(path)?;
        dir.expect_only("rkv-01-basic-store", |name| name == LOG_FILE)?;
        let mut memtable = Memtable::default();
        let log = Log::open(&dir, LOG_FILE, options.sync, |key, value| {
            memtable.insert(&key, value)
        })?;
        Ok(Store {
            dir,
            log,
            memtable,
            stats: Stats::default(),
        })
    }
    // ANCHOR_END: open

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.put_checked(key, value)
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.delete_checked(key)
    }

    // ANCHOR: read
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.stats.gets += 1;
        Ok(self
            .memtable
            .get(key)
            .and_then(Value::as_live)
            .map(<[u8]>::to_vec))
    }

    fn scan(&mut self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<Scan<'_>> {
        self.stats.scans += 1;
        let live = self
            .memtable
            .range(start, end)
            .filter_map(|(key, value)| Some(Ok((key.to_vec(), value.as_live()?.to_vec()))));
        Ok(Box::new(live))
    }
    // ANCHOR_END: read

    fn flush(&mut self) -> Result<()> {
        self.log.sync()
    }

    fn stats(&self) -> Stats {
        self.stats.clone()
    }

    fn reset_stats(&mut self) {
        self.stats = Stats::default();
    }

    fn inspect(&mut self) -> Result<String> {
        Ok(format!(
            "stage: rkv-01-basic-store\n\
             dir: {}\n\
             log: {} ({} bytes, {} records)\n\
             memtable: {} keys ({} tombstones), {} bytes of keys and values",
            self.dir.path().display(),
            LOG_FILE,
            self.log.len(),
            self.log.records(),
            self.memtable.len(),
            self.memtable.tombstones(),
            self.memtable.bytes(),
        ))
    }
}

// ANCHOR: write
impl WriteAhead for Store {
    /// Logs the write, then applies it: the order is the whole durability argument.
    fn write(&mut self, key: &[u8], value: Value) -> Result<()> {
        let written = self.log.append(key, &value)?;
        self.stats.disk_bytes_written += written;
        self.memtable.insert(key, value);
        Ok(())
    }

    fn stats_mut(&mut self) -> &mut Stats {
        &mut self.stats
    }
}
// ANCHOR_END: write
