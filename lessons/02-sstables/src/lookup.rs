//! The seam for search strategies: how a `get` that missed the memtable searches the tables.
//!
//! Tables are handed over newest first. Whatever the strategy, the answer must be the state of
//! the key in the *newest* table that mentions it — a value, or a tombstone that hides every
//! older value. Lesson 02 asks one table after the other ([`NewestFirst`]); lesson 04 asks many
//! at once.

use std::sync::Arc;

use rkv_01_basic_store::Value;
use rkv_contract::{Result, Stats};

use crate::Table;

// ANCHOR: lookup_trait
/// A way to find a key in a stack of tables.
pub trait Lookup<T: Table>: Default + Send {
    /// The state of `key` in the newest of `tables` (newest first) that mentions it.
    fn find(&self, tables: &[Arc<T>], key: &[u8], stats: &mut Stats) -> Result<Option<Value>>;
}
// ANCHOR_END: lookup_trait

// ANCHOR: newest_first
/// Probes the tables one by one, newest first, and stops at the first that knows the key.
#[derive(Debug, Default)]
pub struct NewestFirst;

impl<T: Table> Lookup<T> for NewestFirst {
    fn find(&self, tables: &[Arc<T>], key: &[u8], stats: &mut Stats) -> Result<Option<Value>> {
        for table in tables {
            stats.tables_probed += 1;
            if let Some(found) = table.get(key, stats)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}
// ANCHOR_END: newest_first
