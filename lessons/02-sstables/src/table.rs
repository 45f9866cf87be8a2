//! The seam for table formats: what the LSM orchestration needs from a sorted table file.
//!
//! Lesson 02 writes the orchestration — memtable, log, flush, merge, compaction — once. What
//! changes from lesson to lesson is the *file format* of a table and how a lookup searches it:
//! a plain run of records here, an indexed file in lesson 03, compressed blocks in lesson 05,
//! checksummed blocks in lesson 06. Each is a type implementing [`Table`], and the store is
//! generic over it.
//!
//! The orchestration owns everything about durability (creating the file, fsyncing it, renaming
//! it into place); a table format only encodes and decodes.

use std::fmt::Debug;
use std::fs::File;
use std::path::Path;

use rkv_01_basic_store::Value;
use rkv_contract::{Result, Stats};

/// One entry as tables store it: a key and its value or tombstone.
pub type TableEntry = (Vec<u8>, Value);

/// A stream of table entries in ascending key order, each read possibly failing.
pub type TableIter<'a> = Box<dyn Iterator<Item = Result<TableEntry>> + Send + 'a>;

/// Options of a table format, set by name from the command line (`--set block_bytes=4096`).
pub trait TableOptions: Default + Clone + Debug + Send + Sync + 'static {
    /// Sets the option `name`; returns `false` if this format has no option of that name.
    fn set(&mut self, name: &str, value: &str) -> Result<bool>;
}

/// The options of a format that has none.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoOptions;

impl TableOptions for NoOptions {
    fn set(&mut self, _name: &str, _value: &str) -> Result<bool> {
        Ok(false)
    }
}

/// What a table holds, as `inspect` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableSummary {
    /// Entries, tombstones included.
    pub entries: u64,
    /// Smallest key (empty for an empty table).
    pub smallest: Vec<u8>,
    /// Largest key (empty for an empty table).
    pub largest: Vec<u8>,
    /// Size of the file in bytes.
    pub file_bytes: u64,
    /// Bytes of keys and values the entries hold, before any encoding: the size a user would
    /// guess. `file_bytes / data_bytes` shows what the format costs, or saves.
    pub data_bytes: u64,
}

impl TableSummary {
    /// Counts one more entry, which must come after every entry counted so far.
    pub fn add(&mut self, key: &[u8], value: &Value) {
        if self.entries == 0 {
            self.smallest = key.to_vec();
        }
        self.largest = key.to_vec();
        self.entries += 1;
        self.data_bytes += (key.len() + value.as_live().map_or(0, <[u8]>::len)) as u64;
    }
}

// ANCHOR: table_trait
/// An immutable, sorted table file.
pub trait Table: Sized + Send + Sync + Debug + 'static {
    /// The format's options.
    type Options: TableOptions;

    /// Writes `entries` (ascending, unique keys) as a new table into `file`, which the caller
    /// created empty at `path` and will fsync and rename afterwards. Returns what was written.
    fn write(
        file: &mut File,
        path: &Path,
        entries: &mut dyn Iterator<Item = Result<TableEntry>>,
        options: &Self::Options,
    ) -> Result<TableSummary>;

    /// Opens the table at `path`, checking its magic number and version.
    fn open(path: &Path, options: &Self::Options) -> Result<Self>;

    /// The newest state of `key` in this table: a value, a tombstone, or `None` if the table
    /// does not mention the key. Counts its work in `stats`.
    fn get(&self, key: &[u8], stats: &mut Stats) -> Result<Option<Value>>;

    /// The entries with `start <= key < end`, tombstones included, in order.
    fn range(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<TableIter<'_>>;

    /// The first entry with a key `>= start`, counting its work in `stats`. Lesson 07 finds the
    /// newest version of a key this way; a format can answer it more cheaply than a full
    /// `range` (and count what it read).
    fn seek(&self, start: &[u8], stats: &mut Stats) -> Result<Option<TableEntry>> {
        stats.records_read += 1;
        self.range(Some(start), None)?.next().transpose()
    }

    /// What the table holds.
    fn summary(&self) -> &TableSummary;
}
// ANCHOR_END: table_trait
