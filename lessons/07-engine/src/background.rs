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

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rkv_contract::{Error, Result};

use crate::compaction;
use crate::engine::Shared;
use crate::manifest::Edit;
use crate::memtable::Memtable;
use crate::table_file;

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
                    drop(Worker {
                        shared,
                        threads: Mutex::new(threads),
                    });
                    return Err(Error::io("(background thread)", e));
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
        if let Ok(mut state) = self.shared.state.lock() {
            state.shutting_down = true;
        }
        self.shared.changed.notify_all();
        let threads = self
            .threads
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
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
        if state.background_error.is_none() {
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

fn run(shared: &Shared, duty: Duty) {
    lower_priority();
    while let Some(work) = next_work(shared, duty) {
        let result = match work {
            Work::Flush(imm, log_number) => {
                let flushed = flush(shared, &imm, log_number);
                if flushed.is_ok() {
                    shared.graveyard.bury(imm);
                    shared.graveyard.sweep();
                }
                flushed
            }
            Work::Compact(picked) => compaction::run_picked(shared, picked),
        };
        if let Err(error) = result
            && let Ok(mut state) = shared.state.lock()
        {
            state.background_error = Some(error.to_string());
            shared.changed.notify_all();
        }
    }
}

// ANCHOR: flush
/// Writes the immutable memtable as the newest L0 table, records it in the manifest together
/// with the first log that still matters, and deletes the logs before it.
fn flush(shared: &Shared, imm: &Memtable, log_number: u64) -> Result<()> {
    let number = shared.take_number();
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
    let mut edits = vec![
        Edit::LogNumber(log_number),
        Edit::NextFile(shared.next_file.load(std::sync::atomic::Ordering::SeqCst)),
        Edit::LastSeq(shared.last_seq.load(std::sync::atomic::Ordering::Acquire)),
    ];
    let mut added = Vec::new();
    if let Some((table, bytes)) = written {
        edits.insert(0, Edit::AddTable { level: 0, number });
        added.push((0, table));
        shared.count(&rkv_contract::Stats {
            disk_bytes_written: bytes,
            ..Default::default()
        });
    }
    compaction::install(shared, &edits, &[], added, |state| state.imm = None)?;
    shared.remove_logs_below(log_number)
}
// ANCHOR_END: flush
