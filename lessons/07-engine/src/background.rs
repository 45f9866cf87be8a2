//! The background thread: flushes immutable memtables and runs compactions.
//!
//! One thread does both, flushes first: a pending flush is what stalls writers, while a
//! compaction only makes reads cheaper. Work is found by looking at the state whenever it
//! changes; the thread sleeps on the engine's condition variable otherwise. When the last
//! engine handle is dropped, [`Worker`] tells the thread to stop and joins it.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rkv_contract::{Error, Result};

use crate::compaction;
use crate::engine::Shared;
use crate::manifest::Edit;
use crate::memtable::Memtable;
use crate::table_file;

/// Owns the background thread.
#[derive(Debug)]
pub(crate) struct Worker {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Worker {
    /// Starts the thread.
    pub fn start(shared: Arc<Shared>) -> Result<Worker> {
        let for_thread = shared.clone();
        let thread = std::thread::Builder::new()
            .name("rkv-background".into())
            .spawn(move || run(&for_thread))
            .map_err(|e| Error::io("(background thread)", e))?;
        Ok(Worker {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.shutting_down = true;
        }
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

enum Work {
    Flush(Arc<Memtable>, u64),
    Compact(compaction::Compaction),
}

fn next_work(shared: &Shared) -> Option<Work> {
    let mut state = shared.state.lock().ok()?;
    loop {
        if state.shutting_down {
            return None;
        }
        if state.background_error.is_none() {
            if let Some(imm) = &state.imm {
                return Some(Work::Flush(imm.clone(), state.log_number));
            }
            if let Some(compaction) = compaction::pick(&state.version, &shared.options) {
                return Some(Work::Compact(compaction));
            }
        }
        state = shared.changed.wait(state).ok()?;
    }
}

fn run(shared: &Shared) {
    while let Some(work) = next_work(shared) {
        let result = match work {
            Work::Flush(imm, log_number) => flush(shared, &imm, log_number),
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
