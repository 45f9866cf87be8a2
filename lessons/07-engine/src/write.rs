//! The write path: group commit, memtable rotation, and write stalls.
//!
//! Under `--sync always` every acknowledged write must be fsynced, and an fsync costs
//! milliseconds. If each writer fsynced its own record, a hundred writers would wait for a
//! hundred fsyncs in a row. **Group commit** makes them share: writers queue up; the writer at
//! the front becomes the *leader*, takes every batch queued behind it, appends them all to the
//! log, fsyncs once, applies them to the memtable, publishes their sequence numbers, and wakes
//! the others with the outcome. Batches that arrived meanwhile form the next group.
//!
//! Before writing, the leader makes room: a full memtable becomes the immutable memtable and a
//! fresh log starts (the background thread flushes it). If the previous immutable memtable is
//! still being flushed, or level 0 has piled up past `l0_stop_trigger`, the leader waits — a
//! *write stall* — so that memory and read cost stay bounded; past `l0_slowdown_trigger` it
//! sleeps a millisecond per group to let compaction catch up gently.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkv_01_basic_store::Value;
use rkv_contract::{Error, Result, Stats, SyncMode};

use crate::batch::{self, WriteBatch};
use crate::engine::{LogState, Shared, State, lock, log_name};
use crate::memtable::Memtable;
use crate::sst::LogFile;

/// The most bytes one group may carry: enough to amortise an fsync, small enough that a
/// leader does not keep followers waiting long.
const MAX_GROUP_BYTES: usize = 4 << 20;

/// A writer waiting in the queue.
#[derive(Debug)]
pub(crate) struct Pending {
    batch: WriteBatch,
    /// Set by the leader that committed this batch (`Err` holds the message).
    outcome: Mutex<Option<std::result::Result<(), String>>>,
}

fn lost(what: String) -> Error {
    Error::io("(engine write)", std::io::Error::other(what))
}

// ANCHOR: commit
/// Commits `batch` through the group-commit queue.
pub(crate) fn commit(shared: &Shared, batch: WriteBatch) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let me = Arc::new(Pending {
        batch,
        outcome: Mutex::new(None),
    });
    let mut queue = lock(&shared.queue, "write queue")?;
    queue.push_back(me.clone());
    loop {
        if let Some(outcome) = lock(&me.outcome, "outcome")?.take() {
            return outcome.map_err(lost); // a leader committed our batch
        }
        if queue.front().is_some_and(|front| Arc::ptr_eq(front, &me)) {
            break; // we lead the next group
        }
        queue = shared
            .queue_turn
            .wait(queue)
            .map_err(|_| lost("write queue poisoned".into()))?;
    }
    let mut bytes = 0;
    let group: Vec<Arc<Pending>> = queue
        .iter()
        .take_while(|p| {
            bytes += p.batch.user_bytes();
            bytes <= MAX_GROUP_BYTES || Arc::ptr_eq(p, &me)
        })
        .cloned()
        .collect();
    drop(queue); // others may queue up while we write

    let result = write_group(shared, &group);

    let mut queue = lock(&shared.queue, "write queue")?;
    for pending in &group {
        queue.pop_front();
        if !Arc::ptr_eq(pending, &me) {
            let outcome = result.as_ref().map(|_| ()).map_err(|e| e.to_string());
            *lock(&pending.outcome, "outcome")? = Some(outcome);
        }
    }
    // Wake the writers that wait: this group's followers (their outcome is set) and whoever
    // leads next. A lone writer wakes nobody — and skips the system call that a notify costs
    // even when no thread is waiting (a sixth of a microsecond, per put, on the test machine).
    if group.len() > 1 || !queue.is_empty() {
        shared.queue_turn.notify_all();
    }
    result
}
// ANCHOR_END: commit

// ANCHOR: write_group
/// Logs, applies and publishes one group. Only the leader runs this.
fn write_group(shared: &Shared, group: &[Arc<Pending>]) -> Result<()> {
    let mut log = lock(&shared.log, "log")?;
    let mem = make_room(shared, &mut log)?;
    let first = shared.last_seq.load(Ordering::Acquire) + 1;
    let mut stats = Stats::default();
    let mut seq = first;
    let mut records = Vec::with_capacity(group.len());
    for pending in group {
        records.extend(batch::records(seq, pending.batch.encode()));
        seq += pending.batch.len() as u64;
    }
    // The whole group in one write call.
    stats.disk_bytes_written += log.log.append_all(&records)?;
    if shared.options.sync == SyncMode::Always {
        log.log.sync()?; // one fsync for the whole group
    }
    let mut seq = first;
    for pending in group {
        for (key, value) in &pending.batch.writes {
            match value {
                Value::Put(bytes) => {
                    stats.puts += 1;
                    stats.user_bytes_written += (key.len() + bytes.len()) as u64;
                }
                Value::Tombstone => {
                    stats.deletes += 1;
                    stats.user_bytes_written += key.len() as u64;
                }
            }
            mem.insert(key, seq, value.clone());
            seq += 1;
        }
    }
    // Readers see the group only from here on, all of it at once.
    shared.last_seq.store(seq - 1, Ordering::Release);
    shared.count(&stats);
    Ok(())
}
// ANCHOR_END: write_group

// ANCHOR: make_room
/// Returns the memtable to write into, rotating a full one and stalling while the background
/// work is too far behind.
fn make_room(shared: &Shared, log: &mut LogState) -> Result<Arc<Memtable>> {
    let mut slowed = false;
    let mut state = lock(&shared.state, "state")?;
    loop {
        if let Some(error) = &state.background_error {
            return Err(lost(format!("background work failed earlier: {error}")));
        }
        let level0 = state.version.levels[0].len();
        if level0 >= shared.options.l0_slowdown_trigger && !slowed {
            drop(state);
            std::thread::sleep(Duration::from_millis(1));
            slowed = true;
            state = lock(&shared.state, "state")?;
            continue;
        }
        if state.mem.bytes() < shared.options.memtable_bytes {
            return Ok(state.mem.clone());
        }
        if state.imm.is_some() || level0 >= shared.options.l0_stop_trigger {
            // Stall until the flush or a compaction finishes.
            state = shared
                .changed
                .wait(state)
                .map_err(|_| lost("state poisoned".into()))?;
            continue;
        }
        rotate(shared, log, &mut state)?;
    }
}

/// The memtable becomes immutable (for the background thread to flush) and a fresh log starts
/// protecting a fresh memtable.
fn rotate(shared: &Shared, log: &mut LogState, state: &mut State) -> Result<()> {
    let number = shared.take_number();
    let fresh = LogFile::open(
        &shared.dir,
        &log_name(number),
        shared.options.sync,
        &mut |_, _| {},
    )?;
    shared.dir.sync()?; // the new log's name must survive a crash
    log.log = fresh;
    log.number = number;
    let fresh_memtable = Arc::new(Memtable::new(shared.options.memtable_bytes));
    state.imm = Some(std::mem::replace(&mut state.mem, fresh_memtable));
    state.log_number = number;
    shared.changed.notify_all();
    Ok(())
}
// ANCHOR_END: make_room

/// Rotates the memtable (even if not full) and waits until it is flushed.
pub(crate) fn flush(shared: &Shared) -> Result<()> {
    let mut log = lock(&shared.log, "log")?;
    log.log.sync()?;
    let mut state = lock(&shared.state, "state")?;
    while state.imm.is_some() {
        state = shared
            .changed
            .wait(state)
            .map_err(|_| lost("state poisoned".into()))?;
    }
    if state.mem.is_empty() {
        return Ok(());
    }
    rotate(shared, &mut log, &mut state)?;
    drop(log);
    while state.imm.is_some() {
        if let Some(error) = &state.background_error {
            return Err(lost(format!("flush failed: {error}")));
        }
        state = shared
            .changed
            .wait(state)
            .map_err(|_| lost("state poisoned".into()))?;
    }
    Ok(())
}
