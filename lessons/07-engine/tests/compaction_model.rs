#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

//! The engine's own model test: random operations through the [`Engine`] handle with thresholds
//! so small (512-byte memtables and tables, L1 of 2 KiB, a size ratio of 2, a compaction at two
//! L0 tables) that the background thread flushes and compacts after every few writes, while the
//! test goes on writing and reading. Besides the contract's puts, deletes, scans, flushes,
//! compactions and reopens, it takes snapshots and write batches:
//!
//! - a snapshot keeps a clone of the model as it was when the snapshot was taken; every later
//!   read through the snapshot must equal that clone, however many flushes and compactions
//!   have rewritten the tables since;
//! - a batch of several puts and deletes (the same key may appear twice; the later write wins)
//!   is applied to the model in order, and must be visible all at once.
//!
//! `PROPTEST_CASES` raises the number of cases (32 by default, up to 120 operations each).

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rkv_07_engine::{Engine, EngineOptions, Snapshot, WriteBatch};
use rkv_contract::{Model, StoreOptions};

/// The most snapshots alive at once; taking another drops the oldest.
const MAX_SNAPSHOTS: usize = 4;

#[derive(Clone, Debug)]
enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    /// `None` deletes.
    Batch(Vec<(Vec<u8>, Option<Vec<u8>>)>),
    Get(Vec<u8>),
    Scan(Option<Vec<u8>>, Option<Vec<u8>>),
    Flush,
    Compact,
    Reopen,
    TakeSnapshot,
    /// Reads through the snapshot at this index (modulo the live ones).
    SnapshotGet(usize, Vec<u8>),
    SnapshotScan(usize, Option<Vec<u8>>, Option<Vec<u8>>),
    DropSnapshot(usize),
}

fn options() -> EngineOptions {
    let mut options = EngineOptions::tiny();
    for (name, value) in [
        ("memtable_bytes", "512"),
        ("table_bytes", "512"),
        ("base_level_bytes", "2048"),
        ("level_size_ratio", "2"),
        ("l0_compaction_trigger", "2"),
        ("block_bytes", "128"),
    ] {
        options.set(name, value).unwrap();
    }
    options
}

/// A small pool, so that overwrites, deletes of live keys and snapshot-visible changes are
/// common; a few keys with zero bytes test the internal-key escaping.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        10 => (0u8..48).prop_map(|i| format!("k{i:02}").into_bytes()),
        1 => prop::sample::select(vec![
            Vec::new(),
            vec![0],
            vec![0, 0],
            b"k07\0".to_vec(),
            b"k07\0\xff".to_vec(),
            vec![0xff],
        ]),
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::collection::vec(any::<u8>(), 0..40),
        1 => Just(Vec::new()),
        2 => prop::collection::vec(any::<u8>(), 100..400),
    ]
}

fn bound() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::of(key())
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        25 => (key(), value()).prop_map(|(k, v)| Op::Put(k, v)),
        8 => key().prop_map(Op::Delete),
        6 => prop::collection::vec((key(), prop::option::weighted(0.7, value())), 2..8)
            .prop_map(Op::Batch),
        10 => key().prop_map(Op::Get),
        4 => (bound(), bound()).prop_map(|(a, b)| Op::Scan(a, b)),
        2 => Just(Op::Flush),
        1 => Just(Op::Compact),
        2 => Just(Op::Reopen),
        3 => Just(Op::TakeSnapshot),
        4 => (any::<usize>(), key()).prop_map(|(i, k)| Op::SnapshotGet(i, k)),
        2 => (any::<usize>(), bound(), bound()).prop_map(|(i, a, b)| Op::SnapshotScan(i, a, b)),
        1 => any::<usize>().prop_map(Op::DropSnapshot),
    ]
}

fn io<T>(what: &str, result: rkv_contract::Result<T>) -> Result<T, TestCaseError> {
    result.map_err(|e| TestCaseError::fail(format!("{what}: {e}")))
}

fn scan_of(
    scan: impl Iterator<Item = rkv_contract::Result<rkv_contract::Entry>>,
) -> Result<Vec<rkv_contract::Entry>, TestCaseError> {
    io("scan", scan.collect::<rkv_contract::Result<Vec<_>>>())
}

/// The deepest level holding a table, read from `inspect`.
fn deepest_level(engine: &Engine) -> usize {
    let inspect = engine.inspect().unwrap();
    (1..7)
        .rev()
        .find(|level| inspect.contains(&format!("\nL{level}: ")))
        .unwrap_or(0)
}

/// The entries of every table `inspect` lists, tombstones and old versions included.
fn table_entries(inspect: &str) -> u64 {
    inspect
        .lines()
        .filter_map(|line| {
            line.split(" entries=")
                .nth(1)?
                .split(' ')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

static DEEPEST: AtomicUsize = AtomicUsize::new(0);

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let mut model = Model::new();
    let mut engine = Some(io("open", Engine::open(dir.path(), options()))?);
    // Each live snapshot with the model as it was when the snapshot was taken.
    let mut snapshots: Vec<(Snapshot, Model)> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        let db = engine.as_ref().unwrap();
        match op {
            Op::Put(k, v) => {
                io("put", db.put(k, v))?;
                model.put(k, v);
            }
            Op::Delete(k) => {
                io("delete", db.delete(k))?;
                model.delete(k);
            }
            Op::Batch(writes) => {
                let mut batch = WriteBatch::new();
                for (k, v) in writes {
                    match v {
                        Some(v) => {
                            io("batch put", batch.put(k, v))?;
                            model.put(k, v);
                        }
                        None => {
                            io("batch delete", batch.delete(k))?;
                            model.delete(k);
                        }
                    }
                }
                io("write", db.write(batch))?;
            }
            Op::Get(k) => {
                let got = io("get", db.get(k))?;
                prop_assert_eq!(got.as_deref(), model.get(k), "step {}: get {:?}", step, k);
            }
            Op::Scan(a, b) => {
                let got = scan_of(io("scan", db.scan(a.as_deref(), b.as_deref()))?)?;
                prop_assert_eq!(
                    got,
                    model.scan(a.as_deref(), b.as_deref()),
                    "step {}: scan {:?}..{:?}",
                    step,
                    a,
                    b
                );
            }
            Op::Flush => io("flush", db.flush())?,
            Op::Compact => {
                io("compact", db.compact())?;
                // A full compaction keeps one entry per live key: no overwritten version and no
                // tombstone survives it (snapshots keep their own, older tables alive). The
                // background thread may then move tables down a level, which keeps the count.
                let inspect = io("inspect", db.inspect())?;
                prop_assert_eq!(
                    table_entries(&inspect),
                    model.len() as u64,
                    "step {}: after compact\n{}",
                    step,
                    inspect
                );
            }
            Op::Reopen => {
                // Snapshots hold the engine's directory (and its lock): they end with it.
                snapshots.clear();
                DEEPEST.fetch_max(deepest_level(db), Ordering::Relaxed);
                drop(engine.take());
                engine = Some(io("reopen", Engine::open(dir.path(), options()))?);
            }
            // ANCHOR: snapshots
            Op::TakeSnapshot => {
                if snapshots.len() == MAX_SNAPSHOTS {
                    snapshots.remove(0);
                }
                snapshots.push((io("snapshot", db.snapshot())?, model.clone()));
            }
            Op::SnapshotGet(i, k) if !snapshots.is_empty() => {
                let (snapshot, then) = &snapshots[i % snapshots.len()];
                let got = io("snapshot get", snapshot.get(k))?;
                prop_assert_eq!(
                    got.as_deref(),
                    then.get(k),
                    "step {}: snapshot at seq {} get {:?}",
                    step,
                    snapshot.seq(),
                    k
                );
            }
            Op::SnapshotScan(i, a, b) if !snapshots.is_empty() => {
                let (snapshot, then) = &snapshots[i % snapshots.len()];
                let got = scan_of(snapshot.scan(a.as_deref(), b.as_deref()))?;
                prop_assert_eq!(
                    got,
                    then.scan(a.as_deref(), b.as_deref()),
                    "step {}: snapshot at seq {} scan {:?}..{:?}",
                    step,
                    snapshot.seq(),
                    a,
                    b
                );
            }
            // ANCHOR_END: snapshots
            Op::DropSnapshot(i) if !snapshots.is_empty() => {
                snapshots.remove(i % snapshots.len());
            }
            Op::SnapshotGet(..) | Op::SnapshotScan(..) | Op::DropSnapshot(_) => {}
        }
    }
    // Every snapshot still reads as of its moment at the end, after all the background work.
    for (snapshot, then) in &snapshots {
        prop_assert_eq!(scan_of(snapshot.scan(None, None))?, then.scan(None, None));
    }
    snapshots.clear();
    let db = engine.take().unwrap();
    prop_assert_eq!(
        scan_of(io("scan", db.scan(None, None))?)?,
        model.scan(None, None)
    );
    DEEPEST.fetch_max(deepest_level(&db), Ordering::Relaxed);
    drop(db);
    let reopened = io("final reopen", Engine::open(dir.path(), options()))?;
    prop_assert_eq!(
        scan_of(io("scan", reopened.scan(None, None))?)?,
        model.scan(None, None),
        "after the final reopen"
    );
    Ok(())
}

#[test]
fn compaction_keeps_the_model_with_snapshots_batches_and_reopens() {
    let mut config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 32;
    }
    let mut runner = TestRunner::new(config);
    let strategy = prop::collection::vec(op(), 1..120);
    if let Err(failure) = runner.run(&strategy, |ops| run(&ops)) {
        panic!("compaction model test failed: {failure}");
    }
    // The thresholds did their job: data went down at least two levels.
    assert!(
        DEEPEST.load(Ordering::Relaxed) >= 2,
        "no case pushed data below L1"
    );
}
