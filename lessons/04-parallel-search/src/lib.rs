//! # Lesson 04 — parallel search
//!
//! A `get` that misses the memtable asks the tables one after the other, newest first, until one
//! of them knows the key. With lesson 03's index each question is cheap, but there are as many
//! questions as tables: a key that lives only in the oldest of 200 tables, or a key that is not
//! there at all, costs 200 probes in a row. Nothing in lessons 02–03 merges tables except an
//! explicit `compact`, so a store that is written to steadily piles them up.
//!
//! This lesson tries the obvious remedy: ask many tables **at once**. The stack of tables is cut
//! into runs, one per thread; every thread searches its run newest first; and the answer is the
//! one from the newest run that knows the key — so a tombstone in a newer table still hides a
//! value in an older one, exactly as before.
//!
//! ```text
//!   get ──► memtable ──(miss)──► tables, newest first, cut into runs:
//!                                  run 0 (newest) ── caller's thread ──┐
//!                                  run 1          ── worker 1 ─────────┼──► the newest run's
//!                                  run 2 (oldest) ── worker 2 ─────────┘    answer wins
//! ```
//!
//! Lesson 02 left a seam for this: [`LsmStore`] is generic over a
//! [`Lookup`](rkv_02_sstables::Lookup) strategy. This crate
//! holds only the new strategy and its threads:
//! - [`pool`] — [`WorkerPool`], threads started once with the store and joined when it is
//!   dropped; a `get` hands them work, it never starts a thread;
//! - [`parallel`] — [`Parallel`], the lookup: how the runs are cut, how the newest answer wins,
//!   how an error or a dead worker becomes an [`Error`](rkv_contract::Error), and the fast path
//!   that skips the pool when there are only a few tables ([`INLINE_MAX_TABLES`]).
//!
//! ## When it pays, and when it costs
//! A hand-off to another thread is not free: a job goes on a channel, a sleeping thread must be
//! woken and scheduled, and its reply must come back — about 25 µs on the two-core virtual
//! machine the chapter measured, where probing a cached, indexed table takes about 10 µs. So
//! parallel search pays only when there is enough work to split: **many tables**, and keys that
//! sit in **old tables** or are **absent** (the sequential search has to walk the whole stack for
//! those), all the more when each probe is slow — a **cold cache**, where every probe waits for
//! the disk. It costs when the work is small: **few tables**, or a **hot key in the newest
//! table**, where the sequential search is done after one probe and the parallel one still pays
//! the hand-off. And it never saves CPU, it only spreads it: every table is still probed once,
//! and a hit in a new table adds the hand-off and the older runs' *speculative* probes — work a
//! sequential search would never have done (watch `tables_probed` in `stats`). On a server busy
//! with many requests there is no idle core to spread onto. Even at its best the speed-up is at
//! most the number of cores, and the work still grows with the number of tables.
//!
//! ## What real engines do instead
//! They shrink the work instead of spreading it. A **bloom filter** per table answers "certainly
//! not here" from memory in a few hash probes, so a table without the key costs almost nothing
//! and a miss touches no disk at all. **Compaction** keeps the number of tables small — merging
//! them in the background so a `get` meets a handful of tables, not hundreds. Lesson 07 adds
//! both. Engines do use parallel reads, but across *keys* (many concurrent `get`s, or a batch of
//! keys read together), not to split one key's search.
//!
//! ## What is simplified
//! The pool has a fixed size chosen at open (one worker per core beyond the caller's). Each run
//! goes to one worker; there is no work stealing, so a run of slow tables makes everyone wait.
//! `find` waits for every job it started, even ones that became useless, so that no work
//! outlives a `get`. And the store serves one `get` at a time (`&mut self`), so the pool never
//! has two searches to juggle.

pub mod parallel;
pub mod pool;

pub use parallel::{INLINE_MAX_TABLES, Parallel};
pub use pool::{WorkerPool, running_workers};

use rkv_02_sstables::LsmStore;
use rkv_03_binary_search::IndexedTable;

// ANCHOR: store
/// Lesson 04's store: lesson 03's indexed tables, searched in parallel.
pub type Store = LsmStore<IndexedTable, Parallel>;
// ANCHOR_END: store

/// Lesson 04's options: lesson 03's (parallel search adds none).
pub type Options = rkv_03_binary_search::Options;
