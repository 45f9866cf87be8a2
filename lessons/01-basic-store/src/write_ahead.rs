//! `put` and `delete`, written once for every store that logs a write before applying it.
//!
//! A user's write takes the same three steps in every stage that has a write-ahead log: check it
//! against the contract's limits (an oversized key is refused before anything is written), log
//! and apply it, then count it. Only the middle step differs from stage to stage — lesson 01
//! appends to its log and updates the memtable; lesson 02 does the same and then flushes a full
//! memtable to a table — so a stage supplies that one step, [`WriteAhead::write`], and gets the
//! rest from here.

use rkv_contract::{Result, Stats, check_key, check_value};

use crate::memtable::Value;

// ANCHOR: write_ahead
/// A store that acknowledges a write once it is logged and applied.
pub trait WriteAhead {
    /// Logs `value` as the newest state of `key`, then applies it. When this returns, the write
    /// is as durable as the store's sync mode promises.
    fn write(&mut self, key: &[u8], value: Value) -> Result<()>;

    /// The counters a write adds to.
    fn stats_mut(&mut self) -> &mut Stats;

    /// Sets `key` to `value`: checks both against the limits, writes, counts.
    fn put_checked(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        check_key(key)?;
        check_value(value)?;
        self.write(key, Value::Put(value.to_vec()))?;
        let stats = self.stats_mut();
        stats.puts += 1;
        stats.user_bytes_written += (key.len() + value.len()) as u64;
        Ok(())
    }

    /// Deletes `key`: checks it against the limits, writes a tombstone, counts.
    fn delete_checked(&mut self, key: &[u8]) -> Result<()> {
        check_key(key)?;
        self.write(key, Value::Tombstone)?;
        let stats = self.stats_mut();
        stats.deletes += 1;
        stats.user_bytes_written += key.len() as u64;
        Ok(())
    }
}
// ANCHOR_END: write_ahead
