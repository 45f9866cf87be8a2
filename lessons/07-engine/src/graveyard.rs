//! Where retired memtables and tables wait until the last reader lets go of them, so that
//! freeing them is background work.
//!
//! A flushed memtable is a skip list of tens of thousands of nodes; a compacted-away table may
//! hold thousands of pinned blocks. Whoever drops the last `Arc` frees all of that — and a scan
//! that started before the flush or compaction holds such an `Arc` to its end. Measured on a
//! 1 M-key store scanned right after loading it, the scan's own drop took 27–33 ms of a
//! 190 ms scan: the reader paid for memory the engine had already given up.
//!
//! So whoever retires a memtable or table (the flush thread, or whoever compacts) also keeps one
//! `Arc` of it here. A reader's drop is then never the last one. The compaction thread sweeps
//! the graveyard between compactions and every few milliseconds while it waits (the flush thread
//! too, right after it retires a memtable, and an explicit `compact` when it is done), freeing
//! whatever nobody else holds any more.

use std::any::Any;
use std::sync::{Arc, Mutex};

/// Retired memtables and tables, each kept alive until only the graveyard holds it.
#[derive(Default)]
pub struct Graveyard {
    buried: Mutex<Vec<Arc<dyn Any + Send + Sync>>>,
}

impl std::fmt::Debug for Graveyard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graveyard")
            .field("buried", &self.len())
            .finish()
    }
}

impl Graveyard {
    /// Keeps `retired` until no one else holds it.
    pub fn bury(&self, retired: Arc<dyn Any + Send + Sync>) {
        self.buried().push(retired);
    }

    /// The list, also from a lock a panic poisoned: a list of things to free is never left
    /// half changed in a way that matters (see `crate::failure`).
    fn buried(&self) -> std::sync::MutexGuard<'_, Vec<Arc<dyn Any + Send + Sync>>> {
        self.buried
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    // ANCHOR: sweep
    /// Frees everything only the graveyard still holds; returns how many it freed.
    pub fn sweep(&self) -> usize {
        // The count cannot rise again once it is 1: the graveyard's `Arc` is the only one
        // left, and the graveyard never hands it out.
        let free: Vec<_> = self
            .buried()
            .extract_if(.., |r| Arc::strong_count(r) == 1)
            .collect();
        // Dropped here, outside the lock, so a `bury` never waits for the freeing.
        free.len()
    }
    // ANCHOR_END: sweep

    /// Number of retired things still held.
    pub fn len(&self) -> usize {
        self.buried().len()
    }

    /// True when nothing waits to be freed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frees_only_what_no_one_else_holds() {
        let graveyard = Graveyard::default();
        let held_by_reader = Arc::new(vec![1u8; 16]);
        let released = Arc::new(vec![2u8; 16]);
        graveyard.bury(held_by_reader.clone());
        graveyard.bury(released.clone());
        let watch = Arc::downgrade(&released);
        drop(released);
        // The reader's drop was not the last: the graveyard still holds it.
        assert!(watch.upgrade().is_some());
        assert_eq!(graveyard.sweep(), 1);
        assert!(watch.upgrade().is_none());
        assert_eq!(graveyard.len(), 1);
        let watch = Arc::downgrade(&held_by_reader);
        drop(held_by_reader);
        assert_eq!(graveyard.sweep(), 1);
        assert!(watch.upgrade().is_none());
        assert!(graveyard.is_empty());
    }
}
