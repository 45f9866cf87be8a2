//! Installing a new version: record the change in the manifest, then swap it in.
//!
//! Flushes and compactions both end the same way: some tables join the tree, some leave it.
//! A [`TreeChange`] collects that change (and, for a flush, the first log that still matters)
//! and [`install`] makes it happen in two steps under the manifest lock — LevelDB calls the same
//! step `LogAndApply`:
//!
//! 1. the manifest records the change as one edit list, appended and fsynced — from here on a
//!    crash recovers the new set of tables;
//! 2. a new [`Version`] — the current one with the change applied — replaces the current one in
//!    the state, and every waiter is woken.
//!
//! Because both steps happen under the manifest lock, the order of the records in the manifest is
//! the order in which versions were installed, whichever thread installs. Each change applies
//! to the version current *then* (not the one its work started from): a flush and a compaction
//! running side by side touch different tables, so neither undoes the other.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rkv_contract::{Result, Stats};

use crate::fault::DiskWrite;
use crate::files::manifest_name;
use crate::manifest::Edit;
use crate::state::{Shared, State};
use crate::version::{TableHandle, Version};

/// Tables joining and leaving the tree, and the edits that record it.
#[derive(Debug, Default)]
pub(crate) struct TreeChange {
    /// The edits the manifest records.
    edits: Vec<Edit>,
    /// `(level, number)` of every table leaving.
    removed: Vec<(usize, u64)>,
    /// Every table joining, with its level.
    added: Vec<(usize, Arc<TableHandle>)>,
}

impl TreeChange {
    /// `table` joins `level`.
    pub(crate) fn add(&mut self, level: usize, table: Arc<TableHandle>) {
        self.edits.push(Edit::AddTable {
            level,
            number: table.number,
        });
        self.added.push((level, table));
    }

    /// Table `number` leaves `level`.
    pub(crate) fn remove(&mut self, level: usize, number: u64) {
        self.edits.push(Edit::RemoveTable { level, number });
        self.removed.push((level, number));
    }

    /// Logs numbered below `number` hold nothing the tables lack (a flush's news), and sequence
    /// numbers up to `last_seq` are taken.
    pub(crate) fn logs_before(&mut self, number: u64, last_seq: u64) {
        self.edits
            .extend([Edit::LogNumber(number), Edit::LastSeq(last_seq)]);
    }
}

// ANCHOR: install
/// Records `change` in the manifest (with the next file number), then swaps the changed version
/// in and applies `also` to the state in the same step.
pub(crate) fn install(
    shared: &Shared,
    change: TreeChange,
    also: impl FnOnce(&mut State),
) -> Result<()> {
    let TreeChange {
        mut edits,
        removed,
        added,
    } = change;
    edits.push(Edit::NextFile(shared.next_file.load(Ordering::SeqCst)));
    let mut manifest = shared.lock(&shared.manifest, "manifest")?;
    let manifest_path = shared.dir.file(&manifest_name(manifest.number()));
    shared.faults.check(DiskWrite::Manifest, &manifest_path)?;
    let bytes = manifest.record(&edits)?;
    shared.count(&Stats {
        disk_bytes_written: bytes,
        ..Stats::default()
    });
    let mut state = shared.state()?;
    state.version = Arc::new(changed(&state.version, &removed, added));
    also(&mut state);
    shared.changed.notify_all();
    Ok(())
}

/// `version` with the tables in `removed` taken out and those in `added` put in their places.
fn changed(
    version: &Version,
    removed: &[(usize, u64)],
    added: Vec<(usize, Arc<TableHandle>)>,
) -> Version {
    let mut version = version.clone();
    for (level, number) in removed {
        version.levels[*level].retain(|t| t.number != *number);
    }
    for (level, table) in added {
        if level == 0 {
            version.levels[0].insert(0, table); // newest first
        } else {
            let at =
                version.levels[level].partition_point(|t| t.smallest_user < table.smallest_user);
            version.levels[level].insert(at, table);
        }
    }
    // Every level below L0 must stay a sorted run (reads pick one table per level by key).
    debug_assert!(
        version.levels[1..].iter().all(|level| level
            .windows(2)
            .all(|pair| pair[0].largest_user < pair[1].smallest_user)),
        "a level below L0 would overlap itself"
    );
    version
}
// ANCHOR_END: install
