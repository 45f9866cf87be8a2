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
//! fresh log starts (the flush thread writes it as a table). If the previous immutable memtable is
//! still being flushed, or level 0 has piled up past `l0_stop_trigger`, the leader waits — a
//! *write stall* — so that memory and read cost stay bounded; past `l0_slowdown_trigger` it
//! sleeps a millisecond per group to let compaction catch up gently.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use rkv_01_basic_store::Value;
use rkv_contract::{Result, Stats, SyncMode};

use crate::batch::{self, WriteBatch};
use crate::failure::{Poisoned, Stopped, Task};
use crate::fault::DiskWrite;
use crate::files::log_name;
use crate::memtable::Memtable;
use crate::sst::LogFile;
use crate::state::{Shared, State};

/// The most bytes one group may carry: enough to amortise an fsync, small enough that a
/// leader does not keep followers waiting long.
const MAX_GROUP_BYTES: usize = 4 << 20;

/// The write path's own state: the log and the queue of writers.
#[derive(Debug)]
pub(crate) struct Writer {
    /// The log being appended to, owned by the write leader.
    log: Mutex<LogState>,
    /// Writers waiting for their group to be committed (group commit).
    queue: Mutex<VecDeque<Arc<Pending>>>,
    /// Signalled when a group is done: its followers' outcomes are set, the next leader may go.
    queue_turn: Condvar,
}

/// The log being appended to.
#[derive(Debug)]
struct LogState {
    /// The open log.
    log: LogFile,
}

/// A writer waiting in the queue.
#[derive(Debug)]
struct Pending {
    /// What it writes.
    batch: WriteBatch,
    /// Set by the leader that committed this batch: `Err` when the group failed, which stopped
    /// the engine.
    outcome: Mutex<Option<std::result::Result<(), Stopped>>>,
}

impl Writer {
    /// The write path of an engine whose current log is `log`.
    pub(crate) fn new(log: LogFile) -> Writer {
        Writer {
            log: Mutex::new(LogState { log }),
            queue: Mutex::new(VecDeque::new()),
            queue_turn: Condvar::new(),
        }
    }
}

// ANCHOR: commit
/// Commits `batch` through the group-commit queue.
pub(crate) fn commit(shared: &Shared, writer: &Writer, batch: WriteBatch) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let me = Arc::new(Pending {
        batch,
        outcome: Mutex::new(None),
    });
    let dir = shared.dir.path();
    let mut queue = shared.lock(&writer.queue, "write queue")?;
    queue.push_back(me.clone());
    loop {
        if let Some(outcome) = shared.lock(&me.outcome, "outcome")?.take() {
            return outcome.map_err(|stopped| stopped.to_error(dir)); // a leader committed our batch
        }
        if queue.front().is_some_and(|front| Arc::ptr_eq(front, &me)) {
            break; // we lead the next group
        }
        queue = writer.queue_turn.wait(queue).map_err(|_| {
            Poisoned {
                lock: "write queue",
            }
            .to_error(dir)
        })?;
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

    // Should writing panic (a bug), the followers still get an outcome instead of waiting.
    let _on_panic = HandOverOnPanic {
        shared,
        writer,
        group: &group,
    };
    let result = write_group(shared, writer, &group);
    hand_over(writer, &group, &result);
    result.map_err(|stopped| stopped.to_error(dir))
}

/// Takes `group` off the queue, gives each follower the group's `outcome`, and wakes whoever
/// waits. The queue and the outcome slots are taken even from a poisoned lock: they only hold
/// whole pointers and results, never half a change (see [`crate::failure`]).
fn hand_over(writer: &Writer, group: &[Arc<Pending>], outcome: &std::result::Result<(), Stopped>) {
    let mut queue = writer.queue.lock().unwrap_or_else(PoisonError::into_inner);
    for (i, pending) in group.iter().enumerate() {
        queue.pop_front();
        if i > 0 {
            // The first is the leader, who returns the outcome itself.
            *pending
                .outcome
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(outcome.clone());
        }
    }
    // Wake the writers that wait: this group's followers (their outcome is set) and whoever
    // leads next. A lone writer wakes nobody — and skips the system call that a notify costs
    // even when no thread is waiting (a sixth of a microsecond, per put, on the test machine).
    if group.len() > 1 || !queue.is_empty() {
        writer.queue_turn.notify_all();
    }
}

/// Hands the group over with the engine's failure if the leader panics while writing it.
struct HandOverOnPanic<'a> {
    /// The engine.
    shared: &'a Shared,
    /// Its write path.
    writer: &'a Writer,
    /// The group being written, the leader first.
    group: &'a [Arc<Pending>],
}

impl Drop for HandOverOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let stopped = self.shared.record_panic(Task::Write);
            hand_over(self.writer, self.group, &Err(stopped));
        }
    }
}
// ANCHOR_END: commit

// ANCHOR: write_group
/// Logs, applies and publishes one group. Only the leader runs this. A failure stops the engine
/// before the log is let go of, so that no later group appends after a torn record.
fn write_group(
    shared: &Shared,
    writer: &Writer,
    group: &[Arc<Pending>],
) -> std::result::Result<(), Stopped> {
    let stop = |error| shared.record_failure(Task::Write, error);
    let mut log = shared.lock(&writer.log, "log").map_err(stop)?;
    let mem = make_room(shared, &mut log).map_err(stop)?;
    let first = shared.last_seq.load(Ordering::Acquire) + 1;
    let mut stats = Stats::default();
    let mut seq = first;
    let mut records = Vec::with_capacity(group.len());
    for pending in group {
        records.extend(batch::records(seq, pending.batch.encode()));
        seq += pending.batch.len() as u64;
    }
    // The whole group in one write call, and one fsync for the whole group.
    let appended = append(shared, &mut log, &records).map_err(stop)?;
    stats.disk_bytes_written += appended;
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

/// Appends `records` to the log, fsynced under `--sync always`; returns the bytes written.
fn append(shared: &Shared, log: &mut LogState, records: &[(Vec<u8>, Value)]) -> Result<u64> {
    shared.faults.check(DiskWrite::Log, log.log.path())?;
    let bytes = log.log.append_all(records)?;
    if shared.options.sync == SyncMode::Always {
        log.log.sync()?;
    }
    Ok(bytes)
}

// ANCHOR: make_room
/// Returns the memtable to write into, rotating a full one and stalling while the background
/// work is too far behind.
fn make_room(shared: &Shared, log: &mut LogState) -> Result<Arc<Memtable>> {
    let mut slowed = false;
    let mut state = shared.state()?;
    loop {
        shared.check_running(&state)?;
        let level0 = state.version.levels[0].len();
        if level0 >= shared.options.l0_slowdown_trigger && !slowed {
            drop(state);
            std::thread::sleep(Duration::from_millis(1));
            slowed = true;
            state = shared.state()?;
            continue;
        }
        if state.mem.bytes() < shared.options.memtable_bytes {
            return Ok(state.mem.clone());
        }
        let stop = shared.options.l0_stop_trigger;
        if state.imm.is_some() || level0 >= stop {
            // Stall until the flush or a compaction finishes (or fails).
            state = shared.wait_while(state, |s| {
                s.imm.is_some() || s.version.levels[0].len() >= stop
            })?;
            continue;
        }
        rotate(shared, log, &mut state)?;
    }
}

/// The memtable becomes immutable (for the flush thread to write) and a fresh log starts
/// protecting a fresh memtable.
fn rotate(shared: &Shared, log: &mut LogState, state: &mut State) -> Result<()> {
    let number = shared.take_number();
    let name = log_name(number);
    shared
        .faults
        .check(DiskWrite::Log, &shared.dir.file(&name))?;
    let fresh = LogFile::open(&shared.dir, &name, shared.options.sync, &mut |_, _| {})?;
    shared.dir.sync()?; // the new log's name must survive a crash
    log.log = fresh;
    let fresh_memtable = Arc::new(Memtable::new(shared.options.memtable_bytes));
    state.imm = Some(std::mem::replace(&mut state.mem, fresh_memtable));
    state.log_number = number;
    shared.changed.notify_all();
    Ok(())
}
// ANCHOR_END: make_room

// ANCHOR: rotate_and_await_flush
/// Makes everything written so far durable in a table: syncs the log, rotates the memtable
/// (even if not full) and waits until the flush thread has written it. Every wait returns the
/// engine's failure instead of waiting on, and the log is not held while waiting for an earlier
/// flush, so writers can go on meanwhile.
pub(crate) fn rotate_and_await_flush(shared: &Shared, writer: &Writer) -> Result<()> {
    loop {
        let mut log = shared.lock(&writer.log, "log")?;
        let state = shared.state()?;
        shared.check_running(&state)?;
        if state.imm.is_some() {
            // An earlier memtable is still being flushed: wait for it, then look again.
            drop(log);
            drop(shared.wait_while(state, |s| s.imm.is_some())?);
            continue;
        }
        if state.mem.is_empty() {
            return Ok(());
        }
        let mut state = state;
        let rotated = log
            .log
            .sync()
            .and_then(|()| rotate(shared, &mut log, &mut state));
        if let Err(error) = rotated {
            drop(state);
            // Recorded while the log is still held: no writer appends after a torn record.
            return Err(shared
                .record_failure(Task::Write, error)
                .to_error(shared.dir.path()));
        }
        drop(log);
        drop(shared.wait_while(state, |s| s.imm.is_some())?);
        return Ok(());
    }
}
// ANCHOR_END: rotate_and_await_flush
