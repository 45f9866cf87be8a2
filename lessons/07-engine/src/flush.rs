//! The memtable flush: the immutable memtable becomes the newest level-0 table.
//!
//! When the write path rotates a full memtable (see [`crate::write`]), the old one becomes the
//! *immutable* memtable and a fresh log starts. The flush thread then writes the immutable
//! memtable's entries, in key order, as one table; the table and its filter are fsynced, then
//! the manifest records the table together with the number of the fresh log — the first log
//! that still matters. Only after that record are the older logs deleted: until it, a crash
//! recovers the memtable from them.

use rkv_contract::{Result, Stats};

use crate::fault::DiskWrite;
use crate::files::{Numbered, table_name};
use crate::install::{TreeChange, install};
use crate::memtable::Memtable;
use crate::state::Shared;
use crate::table_file;

// ANCHOR: write_level0_table
/// Writes the immutable memtable `imm` as the newest L0 table, records it in the manifest with
/// `log_number`, the first log that still matters, and deletes the logs before it.
pub(crate) fn write_level0_table(shared: &Shared, imm: &Memtable, log_number: u64) -> Result<()> {
    let number = shared.take_number();
    shared
        .faults
        .check(DiskWrite::Table, &shared.dir.file(&table_name(number)))?;
    let mut entries = imm.entries().map(Ok);
    let written = table_file::write(
        &shared.dir,
        &shared.options,
        shared.cache.as_ref(),
        number,
        0,
        &mut entries,
    )?;
    shared.dir.sync()?;
    let mut change = TreeChange::default();
    change.logs_before(
        log_number,
        shared.last_seq.load(std::sync::atomic::Ordering::Acquire),
    );
    if let Some((table, bytes)) = written {
        change.add(0, table);
        shared.count(&Stats {
            disk_bytes_written: bytes,
            ..Default::default()
        });
    }
    install(shared, change, |state| state.imm = None)?;
    remove_logs_below(shared, log_number)
}
// ANCHOR_END: write_level0_table

/// Deletes logs numbered below `first_live` (their data is in tables).
fn remove_logs_below(shared: &Shared, first_live: u64) -> Result<()> {
    for name in shared.dir.list()? {
        if Numbered::Log.number(&name).is_some_and(|n| n < first_live) {
            shared.dir.remove(&name)?;
        }
    }
    Ok(())
}
