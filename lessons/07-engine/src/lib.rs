//! # Lesson 07 — the full engine
//!
//! Lessons 01–06 built every piece of an LSM tree one at a time, each in a store that one thread
//! drives. This lesson puts them together into an engine a program could embed: many threads
//! read while others write, flushes and compactions run in the background, and reads stay cheap
//! however much data arrives.
//!
//! ```text
//!  writers ──► group commit ──► log (lesson 06 records) ──► memtable (skip list)
//!                                                             │ full
//!                                                             ▼
//!  background threads:  immutable memtable ──flush──► L0 tables (may overlap)
//!                        L0 ──compaction──► L1 ──► L2 …  (sorted runs, ×10 per level)
//!                        every change recorded in the manifest
//!  readers:   memtable → immutable memtable → L0 newest first → one table per level
//!             each table: bloom filter first; then one block, from the block cache or disk
//! ```
//!
//! What is new, one file each:
//! - `internal_key` — versions: a sequence number in every key, sorted newest first;
//! - `memtable` — a concurrent skip list instead of a `BTreeMap`;
//! - `batch` and `write` — atomic write batches and group commit, with write stalls;
//! - `manifest` — the durable, atomic record of the live tables per level; `files` — the name
//!   of every file the engine writes;
//! - `version` — the immutable picture of the levels that readers hold; `install` — recording a
//!   change in the manifest and swapping the new version in;
//! - `flush`, `compaction` (with `release`, its optimisation) and `background` — flushes and
//!   leveled compaction on two background threads; `graveyard` — retired memtables and tables freed there too, never by a reader;
//! - `bloom` — a bloom filter per table, so a miss reads no block at all;
//! - `cache` — a block cache of decompressed blocks;
//! - `sst` and `table_file` — lesson 05's table format with checksums, read through the block
//!   cache: `cached_block` (pinned blocks), `abbreviated_index` and `abbreviated` (index keys as
//!   numbers), `prefetch` (asking memory for a block's lines at once);
//! - `picture`, `cursor`, `merge` and `iter` — reads that see one point in time while writes
//!   continue, scans lending entries out instead of copying them; `heap_merge` — the plain merge
//!   that the tournament in `merge` is tested and measured against (`merge_speed`);
//! - `state` — what the threads share; `failure` — errors that cross threads, and poisoned
//!   locks; `fault` — the seam through which tests fill the disk;
//! - `recovery` — opening a directory, step by step; `engine` — the `Send + Sync` handle tying
//!   it together, with snapshots.
//!
//! The modules are private: a program needs [`Engine`], [`EngineOptions`], [`WriteBatch`],
//! [`Snapshot`] and [`Scan`]. [`Store`] adapts [`Engine`] to the [`KvStore`] contract so the CLI,
//! the conformance suite and the benchmarks drive it like every other stage.

mod abbreviated;
mod abbreviated_index;
mod background;
mod batch;
mod bloom;
mod cache;
mod cached_block;
mod compaction;
mod cursor;
mod engine;
mod failure;
#[cfg(test)]
mod failure_tests;
mod fault;
mod files;
mod flush;
mod graveyard;
mod heap_merge;
mod install;
mod internal_key;
mod iter;
mod manifest;
mod mem_filter;
mod mem_key;
mod memtable;
mod merge;
mod merge_speed;
mod options;
mod picture;
mod prefetch;
mod recovery;
mod release;
mod sst;
#[cfg(test)]
mod sst_cache_tests;
mod state;
mod table_file;
mod version;
mod write;

use std::path::Path;

use rkv_contract::{Bounds, KvStore, Result, Stats, Visit};

pub use batch::WriteBatch;
pub use engine::{Engine, Snapshot};
pub use iter::Scan;
pub use options::EngineOptions;

/// Not the engine's API: the measurement of the plain merge against the tournament, run by
/// `cargo run --release -p rkv-07-engine --example merge_speed`.
#[doc(hidden)]
pub use merge_speed::{Pass, Round, measure_merges};

/// Lesson 07's options.
pub type Options = EngineOptions;

/// The engine behind the [`KvStore`] contract.
#[derive(Clone, Debug)]
pub struct Store {
    engine: Engine,
}

impl Store {
    /// The engine, for its concurrent API (shared handles, snapshots, batches).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl KvStore for Store {
    type Options = EngineOptions;

    fn open(dir: &Path, options: EngineOptions) -> Result<Self> {
        Ok(Store {
            engine: Engine::open(dir, options)?,
        })
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.engine.put(key, value)
    }

    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.engine.get(key)
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.engine.delete(key)
    }

    fn scan(&mut self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<rkv_contract::Scan<'_>> {
        Ok(Box::new(self.engine.scan(start, end)?))
    }

    fn scan_each(&mut self, (start, end): Bounds<'_>, visit: &mut Visit<'_>) -> Result<()> {
        self.engine.scan(start, end)?.for_each(visit)
    }

    fn flush(&mut self) -> Result<()> {
        self.engine.flush()
    }

    fn compact(&mut self) -> Result<()> {
        self.engine.compact()
    }

    fn stats(&self) -> Stats {
        self.engine.stats()
    }

    fn reset_stats(&mut self) {
        self.engine.reset_stats();
    }

    fn inspect(&mut self) -> Result<String> {
        self.engine.inspect()
    }
}
