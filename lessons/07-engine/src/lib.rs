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
//!  background thread:   immutable memtable ──flush──► L0 tables (may overlap)
//!                        L0 ──compaction──► L1 ──► L2 …  (sorted runs, ×10 per level)
//!                        every change recorded in the manifest
//!  readers:   memtable → immutable memtable → L0 newest first → one table per level
//!             each table: bloom filter first; then one block, from the block cache or disk
//! ```
//!
//! What is new, one file each:
//! - [`internal_key`] — versions: a sequence number in every key, sorted newest first;
//! - [`memtable`] — a concurrent skip list instead of a `BTreeMap`;
//! - [`batch`] and [`write`] — atomic write batches and group commit, with write stalls;
//! - [`manifest`] — the durable, atomic record of the live tables per level;
//! - [`version`] — the immutable picture of the levels that readers hold;
//! - [`compaction`] and [`background`] — leveled compaction and flushes on a background thread;
//!   [`graveyard`] — retired memtables and tables freed there too, never by a reader;
//! - [`bloom`] — a bloom filter per table, so a miss reads no block at all;
//! - [`cache`] — a block cache of decompressed blocks;
//! - [`cursor`], [`merge`] and [`iter`] — scans that see one point in time while writes
//!   continue, lending entries out instead of copying them; `heap_merge` — the plain merge
//!   that the tournament in [`merge`] is measured against (`merge_speed`);
//! - [`engine`] — the `Send + Sync` handle tying it together, with snapshots.
//!
//! [`Store`] adapts [`Engine`] to the [`KvStore`] contract so the CLI, the conformance suite and
//! the benchmarks drive it like every other stage.

pub mod background;
pub mod batch;
pub mod bloom;
pub mod cache;
pub mod compaction;
pub mod cursor;
pub mod engine;
pub mod graveyard;
mod heap_merge;
pub mod internal_key;
pub mod iter;
pub mod manifest;
pub mod mem_filter;
pub mod mem_key;
pub mod memtable;
pub mod merge;
mod merge_speed;
pub mod options;
pub mod sst;
pub mod table_file;
pub mod version;
pub mod write;

use std::path::Path;

use rkv_contract::{KvStore, Result, Scan, Stats, Visit};

pub use batch::WriteBatch;
pub use engine::{Engine, Snapshot};
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

    fn scan(&mut self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<Scan<'_>> {
        Ok(Box::new(self.engine.scan(start, end)?))
    }

    fn scan_each(
        &mut self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        visit: &mut Visit<'_>,
    ) -> Result<()> {
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
