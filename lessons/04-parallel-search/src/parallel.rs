//! [`Parallel`]: lesson 02's [`Lookup`] seam, answered with several threads at once.
//!
//! The tables arrive newest first. They are cut into contiguous **runs**, one per thread; the
//! caller's own thread takes run 0 (the newest tables) and each pool worker one older run:
//!
//! ```text
//!   tables, newest first:  t0  t1  t2  t3 | t4  t5  t6  t7 | t8  t9  t10 t11
//!                          ── run 0 ──────  ── run 1 ──────  ── run 2 ───────
//!                          caller thread    worker 1         worker 2
//! ```
//!
//! Each run is searched exactly as [`NewestFirst`] would search it — newest table first, stop at
//! the first table that mentions the key (a value *or* a tombstone) or fails. So each run reports
//! one of: found this state, absent from the whole run, failed with this error — or *abandoned*,
//! below. The answer is then the first report, in run order, that is not "absent". That is the
//! newest-wins rule: a report from run 0 beats one from run 1 whatever the order in which the
//! threads finished, and a tombstone in run 0 hides a value in run 2. It is also exactly the
//! answer [`NewestFirst`] gives, errors included: an error in a table older than the newest hit
//! is one `NewestFirst` never reaches, so it cannot matter; an error in a newer one would have
//! stopped `NewestFirst` too, so it is returned.
//!
//! **Abandoning.** Once run 1 has found the key, nothing in runs 2, 3, … can change the answer.
//! A shared number — the lowest run that has decided — lets the workers of older runs stop
//! before their next table. It is only a hint that saves work: the answer comes from the reports,
//! never from the hint, so the hint needs no stronger memory ordering than `Relaxed`.
//!
//! **Waiting for everyone.** `find` returns only after every job it handed out has reported (or
//! died). Then no job outlives the call that started it, every probe is counted in the caller's
//! [`Stats`], and a worker is idle again when the next `get` arrives. Abandoning keeps the wait
//! short: a late worker finishes at most the one table it is probing.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

use rkv_01_basic_store::Value;
use rkv_02_sstables::{Lookup, NewestFirst, Table};
use rkv_contract::{Error, Result, Stats};

use crate::pool::{WorkerPool, worker_lost};

// ANCHOR: inline_max
/// With this many tables or fewer, [`Parallel`] searches on the caller's thread, as
/// [`NewestFirst`] does.
///
/// Handing a run of tables to a worker costs a channel send, waking a sleeping thread (the kernel
/// has to schedule it) and a reply: about 25 µs on the two-core virtual machine of the chapter's
/// measurements, where probing a cached indexed table costs about 10 µs. With one or two tables
/// there is at most one probe to move to another thread — never worth a hand-off — so they are
/// probed inline, exactly as [`NewestFirst`] does. Above this the pool is used, and whether that
/// pays depends on what a count of tables cannot see: a cold cache makes every probe slow and
/// the pool pays from 4 tables on; a warm one only from about 16; and a hot key in the newest
/// table pays the hand-off for nothing at any size. That is why real engines keep the number
/// of tables small instead (compaction and bloom filters, lesson 07).
pub const INLINE_MAX_TABLES: usize = 2;
// ANCHOR_END: inline_max

// ANCHOR: parallel
/// Searches many tables at once on a pool of worker threads started with the store, and returns
/// the state of the key in the newest table that mentions it.
pub struct Parallel {
    /// The workers; run `r` (for `r >= 1`) goes to worker `r - 1`.
    pool: WorkerPool,
    /// With this many tables or fewer, search inline (see [`INLINE_MAX_TABLES`]).
    inline_max: usize,
}

impl Parallel {
    /// A lookup with `workers` pool threads (besides the caller's) that searches inline when
    /// there are at most `inline_max` tables.
    pub fn new(workers: usize, inline_max: usize) -> Self {
        Parallel {
            pool: WorkerPool::new(workers),
            inline_max,
        }
    }
}

/// One worker per core beyond the caller's — the caller searches too — and at least one, so that
/// the lesson's code runs even on a single core (where it can only cost).
impl Default for Parallel {
    fn default() -> Self {
        let cores = thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Parallel::new(cores.saturating_sub(1).max(1), INLINE_MAX_TABLES)
    }
}
// ANCHOR_END: parallel

impl Parallel {
    /// How many pool workers there are (the caller's thread searches too).
    pub fn workers(&self) -> usize {
        self.pool.len()
    }

    /// The fast-path threshold: with this many tables or fewer, the search is inline.
    pub fn inline_max(&self) -> usize {
        self.inline_max
    }
}

impl fmt::Debug for Parallel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parallel")
            .field("workers", &self.pool.len())
            .field("inline_max", &self.inline_max)
            .finish()
    }
}

// ANCHOR: probe
/// What the search of one run of tables found.
#[derive(Debug)]
enum Probe {
    /// The newest table of the run that mentions the key holds this value or tombstone.
    Found(Value),
    /// No table of the run mentions the key.
    Absent,
    /// A table failed before any newer table of the run mentioned the key.
    Failed(Error),
    /// Stopped early: a newer run has already decided the answer, so this one cannot matter.
    Abandoned,
}

/// Searches `tables` (run number `run`) newest first, as [`NewestFirst`] does, but gives up as
/// soon as a newer run has decided. When this run decides, it says so in `decided`.
fn probe_run<T: Table>(
    tables: &[Arc<T>],
    key: &[u8],
    run: usize,
    decided: &AtomicUsize,
    stats: &mut Stats,
) -> Probe {
    for table in tables {
        if decided.load(Ordering::Relaxed) < run {
            return Probe::Abandoned;
        }
        stats.tables_probed += 1;
        let probe = match table.get(key, stats) {
            Ok(None) => continue,
            Ok(Some(value)) => Probe::Found(value),
            Err(error) => Probe::Failed(error),
        };
        decided.fetch_min(run, Ordering::Relaxed);
        return probe;
    }
    Probe::Absent
}
// ANCHOR_END: probe

// ANCHOR: newest_wins
/// The answer from every run's report, `reports[0]` being the newest run: the first report that
/// is not "absent". A run that never reported (its job died) is an error if it could matter.
fn newest_answer(reports: Vec<Option<Probe>>) -> Result<Option<Value>> {
    for (run, report) in reports.into_iter().enumerate() {
        match report {
            Some(Probe::Found(value)) => return Ok(Some(value)),
            Some(Probe::Failed(error)) => return Err(error),
            Some(Probe::Absent) => {}
            // A run abandons only after a newer run decided, and the loop returned at that one.
            Some(Probe::Abandoned) => {}
            None => return Err(worker_lost(run.saturating_sub(1))),
        }
    }
    Ok(None)
}
// ANCHOR_END: newest_wins

/// Where run `run` of `runs` starts in a list of `len` tables: the runs differ in length by at
/// most one table.
fn run_start(run: usize, runs: usize, len: usize) -> usize {
    run * len / runs
}

// ANCHOR: find
impl<T: Table> Lookup<T> for Parallel {
    fn find(&self, tables: &[Arc<T>], key: &[u8], stats: &mut Stats) -> Result<Option<Value>> {
        // The fast path: too few tables to be worth a hand-off.
        if tables.len() <= self.inline_max || self.pool.is_empty() {
            return NewestFirst.find(tables, key, stats);
        }
        let runs = (self.pool.len() + 1).min(tables.len());
        let bounds =
            |run: usize| run_start(run, runs, tables.len())..run_start(run + 1, runs, tables.len());
        let decided = Arc::new(AtomicUsize::new(usize::MAX));
        let shared_key: Arc<[u8]> = Arc::from(key);
        let (reply, replies) = mpsc::channel::<(usize, Probe, Stats)>();

        // Hand runs 1.. to the workers: each job owns what it reads (the tables are `Arc`s).
        for run in 1..runs {
            let run_tables = tables[bounds(run)].to_vec();
            let (key, decided, reply) = (shared_key.clone(), decided.clone(), reply.clone());
            let job = Box::new(move || {
                let mut worker_stats = Stats::default();
                let probe = probe_run(&run_tables, &key, run, &decided, &mut worker_stats);
                // The caller waits for this reply, so the send cannot fail.
                let _ = reply.send((run, probe, worker_stats));
            });
            // A worker that is gone leaves its run without a report: `newest_answer` decides.
            let _ = self.pool.submit(run - 1, job);
        }
        drop(reply);

        // Meanwhile the caller searches the newest run itself.
        let mut reports: Vec<Option<Probe>> = (0..runs).map(|_| None).collect();
        reports[0] = Some(probe_run(&tables[bounds(0)], key, 0, &decided, stats));

        // Wait for every job: the loop ends when every job's `reply` is gone, answered or not.
        for (run, probe, worker_stats) in replies {
            stats.add(&worker_stats);
            if let Some(slot) = reports.get_mut(run) {
                *slot = Some(probe);
            }
        }
        newest_answer(reports)
    }
}
// ANCHOR_END: find
