//! The seam for the write-ahead log's format.
//!
//! The orchestration appends to a log and replays it; lesson 01's [`Log`] does that. Lesson 06
//! puts a checksum on every record, so the log, too, is a type parameter of the store.
//!
//! The journal also decides how the store's other bookkeeping file, `TABLES`
//! ([`table_list`](crate::table_list)), is protected on disk: lesson 01's log adds nothing, and
//! lesson 06 appends a checksum to it as well. A flipped bit in `TABLES` could otherwise make
//! `open` delete a log that still matters or open the wrong table, so it must be guarded exactly
//! as well as the log is — and by the same lesson.

use rkv_01_basic_store::wal::RecordFormat;
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

    // ANCHOR: list_seal
    /// Version written in the `TABLES` file. A journal that seals the list differently uses
    /// another, so that one stage refuses another's list with `Error::Format`.
    const LIST_VERSION: u32 = 1;

    /// Protects the complete bytes of a new `TABLES` file before they are written. The default
    /// adds nothing.
    fn seal_list(_bytes: &mut Vec<u8>) {}

    /// Checks what [`seal_list`](Journal::seal_list) added to `bytes` and returns the bytes it
    /// protects, or says what is wrong. The default trusts them.
    fn open_list(bytes: &[u8]) -> Result<&[u8], String> {
        Ok(bytes)
    }
    // ANCHOR_END: list_seal
}
// ANCHOR_END: journal_trait

// ANCHOR: journal_for_log
/// Lesson 01's log is a journal for records of any format: plain here, checksummed in lesson 06,
/// which also protects `TABLES` the way it protects records.
impl<F: RecordFormat> Journal for Log<F> {
    const LIST_VERSION: u32 = F::VERSION;

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

    fn seal_list(bytes: &mut Vec<u8>) {
        F::seal(bytes);
    }

    fn open_list(bytes: &[u8]) -> Result<&[u8], String> {
        F::unseal(bytes)
    }
}
// ANCHOR_END: journal_for_log
