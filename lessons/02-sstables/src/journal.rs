//! The seam for the write-ahead log's format.
//!
//! The orchestration appends to a log and replays it; lesson 01's [`Log`] does that. Lesson 06
//! puts a checksum on every record, so the log, too, is a type parameter of the store.

use rkv_01_basic_store::{DataDir, Log, Value};
use rkv_contract::{Result, SyncMode};

// ANCHOR: journal_trait
/// A write-ahead log: append records, replay them on open.
pub trait Journal: Sized + Send {
    /// Opens (or creates) the log `name`, handing every whole record to `apply` in order.
    fn open(
        dir: &DataDir,
        name: &str,
        sync: SyncMode,
        apply: &mut dyn FnMut(Vec<u8>, Value),
    ) -> Result<Self>;

    /// Appends one record with the promised durability; returns the bytes written.
    fn append(&mut self, key: &[u8], value: &Value) -> Result<u64>;

    /// Forces every appended record to disk.
    fn sync(&mut self) -> Result<()>;

    /// Bytes in the log file.
    fn len(&self) -> u64;

    /// True when the log holds no record.
    fn is_empty(&self) -> bool;
}
// ANCHOR_END: journal_trait

impl Journal for Log {
    fn open(
        dir: &DataDir,
        name: &str,
        sync: SyncMode,
        apply: &mut dyn FnMut(Vec<u8>, Value),
    ) -> Result<Self> {
        Log::open(dir, name, sync, apply)
    }

    fn append(&mut self, key: &[u8], value: &Value) -> Result<u64> {
        Log::append(self, key, value)
    }

    fn sync(&mut self) -> Result<()> {
        Log::sync(self)
    }

    fn len(&self) -> u64 {
        Log::len(self)
    }

    fn is_empty(&self) -> bool {
        Log::is_empty(self)
    }
}
