//! What the engine's threads share: the state behind one lock, and what sits beside it.
//!
//! Readers, the write leader, the flush thread and the compaction thread all meet here.
//! [`State`] — the memtables, the current version, the first failure — changes only under its
//! lock, and every change that someone may wait for is announced on [`Shared::changed`]. Whoever
//! waits does so through [`Shared::wait_while`], which returns the engine's failure instead of
//! waiting for work that failed (see [`crate::failure`]). Locks are taken through
//! [`Shared::lock`], which applies the one policy for poisoned locks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use rkv_01_basic_store::DataDir;
use rkv_contract::{Error, Result, Stats};

use crate::cache::BlockCache;
use crate::failure::{Cause, Poisoned, Stopped, Task};
use crate::fault::FaultSeam;
use crate::graveyard::Graveyard;
use crate::manifest::Manifest;
use crate::memtable::Memtable;
use crate::options::EngineOptions;
use crate::version::Version;

/// What readers and the background threads share, guarded by [`Shared::state`].
#[derive(Debug)]
pub(crate) struct State {
    /// The memtable receiving writes.
    pub mem: Arc<Memtable>,
    /// A full memtable being flushed, if any.
    pub imm: Option<Arc<Memtable>>,
    /// The live tables.
    pub version: Arc<Version>,
    /// The log that `mem` is protected by; every older log only protects `imm`.
    pub log_number: u64,
    /// The first failed write to disk: the engine takes no more writes after one.
    pub stopped: Option<Stopped>,
    /// Set when the engine is dropped.
    pub shutting_down: bool,
}

/// Everything the engine's threads share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The data directory, locked while the engine is open.
    pub dir: DataDir,
    /// The options the engine was opened with.
    pub options: EngineOptions,
    /// The memtables, the version and the engine's failure.
    pub state: Mutex<State>,
    /// Signalled whenever `state` changes in a way a waiter may care about.
    pub changed: Condvar,
    /// The highest sequence number whose write is complete and visible.
    pub last_seq: AtomicU64,
    /// The next unused file number.
    pub next_file: AtomicU64,
    /// The manifest, appended to by whoever installs a new version.
    pub manifest: Mutex<Manifest>,
    /// Held by whoever compacts (the compaction thread or an explicit `compact`).
    pub compaction: Mutex<()>,
    /// The block cache, if it is on.
    pub cache: Option<Arc<BlockCache>>,
    /// The cost counters.
    pub stats: Mutex<Stats>,
    /// Retired memtables and tables, freed by the compaction thread once no reader holds them.
    pub graveyard: Graveyard,
    /// Where tests make disk writes fail ([`crate::fault`]).
    pub faults: FaultSeam,
}

impl Shared {
    /// The shared state of an engine just recovered: `version` live, an empty memtable protected
    /// by log `log_number`, sequence numbers up to `last_seq` used.
    pub(crate) fn new(
        dir: DataDir,
        options: EngineOptions,
        cache: Option<Arc<BlockCache>>,
        manifest: Manifest,
        recovered: Recovered,
    ) -> Shared {
        Shared {
            state: Mutex::new(State {
                mem: Arc::new(Memtable::new(options.memtable_bytes)),
                imm: None,
                version: Arc::new(recovered.version),
                log_number: recovered.log_number,
                stopped: None,
                shutting_down: false,
            }),
            changed: Condvar::new(),
            last_seq: AtomicU64::new(recovered.last_seq),
            next_file: AtomicU64::new(recovered.next_file),
            manifest: Mutex::new(manifest),
            compaction: Mutex::new(()),
            cache,
            stats: Mutex::new(Stats::default()),
            graveyard: Graveyard::default(),
            faults: FaultSeam::default(),
            dir,
            options,
        }
    }

    /// Locks `mutex` (named `name` in the error), failing if a panicking thread poisoned it.
    pub(crate) fn lock<'a, T>(
        &self,
        mutex: &'a Mutex<T>,
        name: &'static str,
    ) -> Result<MutexGuard<'a, T>> {
        mutex
            .lock()
            .map_err(|_| Poisoned { lock: name }.to_error(self.dir.path()))
    }

    /// Locks the state.
    pub(crate) fn state(&self) -> Result<MutexGuard<'_, State>> {
        self.lock(&self.state, "state")
    }

    // ANCHOR: wait_while
    /// Waits, holding `state` between looks, while `busy` says so — and fails with the engine's
    /// failure if there is one, before waiting or after any wake-up.
    pub(crate) fn wait_while<'a>(
        &self,
        mut state: MutexGuard<'a, State>,
        busy: impl Fn(&State) -> bool,
    ) -> Result<MutexGuard<'a, State>> {
        loop {
            if let Some(stopped) = &state.stopped {
                return Err(stopped.to_error(self.dir.path()));
            }
            if !busy(&state) {
                return Ok(state);
            }
            state = self
                .changed
                .wait(state)
                .map_err(|_| Poisoned { lock: "state" }.to_error(self.dir.path()))?;
        }
    }
    // ANCHOR_END: wait_while

    /// Fails if the engine has stopped taking writes.
    pub(crate) fn check_running(&self, state: &State) -> Result<()> {
        match &state.stopped {
            Some(stopped) => Err(stopped.to_error(self.dir.path())),
            None => Ok(()),
        }
    }

    /// Records that `task` failed with `error`, unless the engine stopped already, wakes every
    /// waiter, and returns the engine's failure: what every caller from now on is told
    /// ([`Stopped::to_error`]).
    pub(crate) fn record_failure(&self, task: Task, error: Error) -> Stopped {
        self.record(task, Cause::Error(Arc::new(error)))
    }

    /// Records that the thread doing `task` panicked (see [`Shared::record_failure`]).
    pub(crate) fn record_panic(&self, task: Task) -> Stopped {
        self.record(task, Cause::Panicked)
    }

    fn record(&self, task: Task, cause: Cause) -> Stopped {
        // Even a poisoned state takes the failure: waiters must wake up and stop.
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stopped = state.stopped.get_or_insert(Stopped { task, cause }).clone();
        drop(state);
        self.changed.notify_all();
        stopped
    }

    /// Adds `stats` to the engine's counters.
    pub(crate) fn count(&self, stats: &Stats) {
        self.stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .add(stats);
    }

    /// Takes a file number.
    pub(crate) fn take_number(&self) -> u64 {
        self.next_file.fetch_add(1, Ordering::SeqCst)
    }
}

/// What recovery hands the running engine.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// The live tables.
    pub version: Version,
    /// The fresh log the first memtable is protected by.
    pub log_number: u64,
    /// The highest sequence number used.
    pub last_seq: u64,
    /// The next unused file number.
    pub next_file: u64,
}
