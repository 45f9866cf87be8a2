//! The background threads: one flushes immutable memtables, one runs compactions.
//!
//! A pending flush is what stalls writers (the next full memtable has nowhere to go), while a
//! compaction only keeps reads cheap — and a compaction that rewrites a level can take much
//! longer than it takes writers to fill a memtable. With one thread doing both, every long
//! compaction became a write stall. So flushes get a thread of their own and never wait behind
//! a compaction; the two meet only when they install their results (under the manifest and
//! state locks, each applying its edit to the *current* version).
//!
//! Both threads run at a lower CPU priority than the application's (nice 10, on Linux): on a
//! machine with few cores, a reader must not lose its core for a scheduler time slice — several
//! milliseconds — to a compaction that could just as well run a little later.
//!
//! Work is found by looking at the state whenever it changes; a thread sleeps on the engine's
//! condition variable otherwise. The compaction thread also frees retired memtables and tables
//! once no reader holds them (see [`crate::graveyard`]). When the last engine handle is
//! dropped, [`Worker`] tells the threads to stop and joins them.
//!
//! A flush or compaction that fails stops the engine's writes ([`crate::failure`]): the failure
//! is recorded in the state, which wakes everyone waiting for the work, and neither thread takes
//! new work after it. A thread that panics records that on its way out.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rkv_contract::{Error, Result};

use crate::compaction;
use crate::failure::Task;
use crate::flush;
use crate::memtable::Memtable;
use crate::state::Shared;

/// Owns the background threads.
#[derive(Debug)]
pub(crate) struct Worker {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// What a background thread does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Duty {
    Flush,
    Compact,
}

impl Worker {
    /// Starts the threads.
    pub fn start(shared: Arc<Shared>) -> Result<Worker> {
        let mut threads = Vec::new();
        for (duty, name) in [(Duty::Flush, "rkv-flush"), (Duty::Compact, "rkv-compact")] {
            let for_thread = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(name.into())
                .spawn(move || run(&for_thread, duty));
            match spawned {
                Ok(thread) => threads.push(thread),
                Err(e) => {
                    // Stop the thread already started before reporting.
                    let dir = shared.dir.path().to_path_buf();
                    drop(Worker {
                        shared,
                        threads: Mutex::new(threads),
                    });
                    return Err(Error::io(dir, e));
                }
            }
        }
        Ok(Worker {
            shared,
            threads: Mutex::new(threads),
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Even a poisoned state takes the flag: the threads must stop, or this join would hang.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .shutting_down = true;
        self.shared.changed.notify_all();
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        for thread in threads {
            let _ = thread.join();
        }
    }
}

enum Work {
    Flush(Arc<Memtable>, u64),
    Compact(compaction::Compaction),
}

/// How often the compaction thread looks for retired memtables and tables that no reader holds
/// any more, while the graveyard is not empty.
const SWEEP_EVERY: Duration = Duration::from_millis(20);

/// The next piece of work for `duty`; `None` when the engine shuts down. The compaction
/// thread also frees the graveyard's unheld memtables and tables, between compactions and
/// every [`SWEEP_EVERY`] while it waits.
fn next_work(shared: &Shared, duty: Duty) -> Option<Work> {
    loop {
        if duty == Duty::Compact {
            shared.graveyard.sweep();
        }
        let state = shared.state.lock().ok()?;
        if state.shutting_down {
            return None;
        }
        if state.stopped.is_none() {
            match duty {
                Duty::Flush => {
                    if let Some(imm) = &state.imm {
                        return Some(Work::Flush(imm.clone(), state.log_number));
                    }
                }
                Duty::Compact => {
                    if let Some(compaction) = compaction::pick(&state.version, &shared.options) {
                        return Some(Work::Compact(compaction));
                    }
                }
            }
        }
        if duty == Duty::Compact && !shared.graveyard.is_empty() {
            drop(shared.changed.wait_timeout(state, SWEEP_EVERY).ok()?);
        } else {
            drop(shared.changed.wait(state).ok()?);
        }
    }
}

/// Lowers the calling thread's CPU priority (Linux gives each thread its own nice value).
/// Best effort: a thread that cannot be lowered just runs at the normal priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let me = rustix::thread::gettid();
        let _ = rustix::process::setpriority_process(Some(me), 10);
    }
}

/// Records a panic of the thread doing `task` as the engine's failure, when dropped by the
/// unwinding.
struct PanicReport<'a> {
    /// The engine.
    shared: &'a Shared,
    /// What the thread does.
    task: Task,
}

impl Drop for PanicReport<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.shared.record_panic(self.task);
        }
    }
}

fn run(shared: &Shared, duty: Duty) {
    lower_priority();
    let task = match duty {
        Duty::Flush => Task::Flush,
        Duty::Compact => Task::Compaction,
    };
    let _report = PanicReport { shared, task };
    while let Some(work) = next_work(shared, duty) {
        let result = match work {
            Work::Flush(imm, log_number) => {
                let flushed = flush::write_level0_table(shared, &imm, log_number);
                if flushed.is_ok() {
                    shared.graveyard.bury(imm);
                    shared.graveyard.sweep();
                }
                flushed
            }
            Work::Compact(picked) => compaction::run_picked(shared, picked),
        };
        if let Err(error) = result {
            shared.record_failure(task, error);
        }
    }
}
