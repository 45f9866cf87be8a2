//! Options of an LSM store: durability, when to flush, and the table format's own options.

use rkv_contract::{Error, Result, StoreOptions, SyncMode};

use crate::table::TableOptions;

/// Default memtable size before it is written out as a table: 4 MiB.
pub const DEFAULT_MEMTABLE_BYTES: usize = 4 << 20;

/// Options of [`LsmStore`](crate::LsmStore).
#[derive(Clone, Debug)]
pub struct LsmOptions<T> {
    /// Whether every write is fsynced before it is acknowledged.
    pub sync: SyncMode,
    /// Once the memtable holds this many key and value bytes, it is flushed to a table.
    pub memtable_bytes: usize,
    /// The table format's options.
    pub table: T,
}

impl<T: Default> Default for LsmOptions<T> {
    fn default() -> Self {
        LsmOptions {
            sync: SyncMode::default(),
            memtable_bytes: DEFAULT_MEMTABLE_BYTES,
            table: T::default(),
        }
    }
}

impl<T: TableOptions> StoreOptions for LsmOptions<T> {
    fn sync(&self) -> SyncMode {
        self.sync
    }

    fn set_sync(&mut self, sync: SyncMode) {
        self.sync = sync;
    }

    fn set(&mut self, name: &str, value: &str) -> Result<()> {
        if name == "memtable_bytes" {
            self.memtable_bytes = value
                .parse()
                .ok()
                .filter(|&bytes: &usize| bytes > 0)
                .ok_or_else(|| {
                    Error::invalid(
                        format!("memtable_bytes={value:?}"),
                        "a whole number of bytes above 0",
                    )
                })?;
            return Ok(());
        }
        if self.table.set(name, value)? {
            return Ok(());
        }
        Err(Error::invalid(
            format!("unknown option {name:?}"),
            "known: memtable_bytes and the table format's options",
        ))
    }
}
