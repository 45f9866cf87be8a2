//! Dropping a store ends its worker threads: `Drop` closes the workers' channels and joins them.
//!
//! This file holds one test on purpose. It reads a process-wide count of running workers, and
//! the test harness runs the tests of one file in parallel threads of one process: any other
//! test here would start and stop workers of its own in the middle of the counting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use rkv_04_parallel_search::{Options, Parallel, Store, running_workers};
use rkv_contract::{Error, KvStore};

#[test]
fn dropping_the_store_joins_its_workers() {
    assert_eq!(running_workers(), 0, "no store yet, no worker");

    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        memtable_bytes: 1 << 20,
        ..Options::default()
    };
    let mut store = Store::open(dir.path(), options.clone()).unwrap();
    let workers = running_workers();
    assert!(workers >= 1, "the store starts its pool when it opens");

    // Enough tables for every `get` to go through the pool.
    for table in 0..16u32 {
        store
            .put(format!("key-{table}").as_bytes(), b"value")
            .unwrap();
        store.flush().unwrap();
    }
    for round in 0..100u32 {
        let key = format!("key-{}", round % 20);
        let found = store.get(key.as_bytes()).unwrap();
        assert_eq!(found.is_some(), round % 20 < 16);
    }
    assert_eq!(running_workers(), workers, "gets reuse the pool's threads");

    // A second open fails (the directory is locked) and leaves no thread behind.
    assert!(matches!(
        Store::open(dir.path(), options.clone()),
        Err(Error::Locked { .. })
    ));
    assert_eq!(running_workers(), workers);

    drop(store);
    assert_eq!(running_workers(), 0, "drop joined every worker");

    // The same holds for a lookup on its own, and for one that never searched.
    let parallel = Parallel::new(5, 0);
    assert_eq!(parallel.workers(), 5);
    assert_eq!(running_workers(), 5);
    drop(parallel);
    assert_eq!(running_workers(), 0);

    // And the directory opens again, with a fresh pool.
    let mut store = Store::open(dir.path(), options).unwrap();
    assert_eq!(store.get(b"key-3").unwrap().as_deref(), Some(&b"value"[..]));
    assert_eq!(running_workers(), workers);
    drop(store);
    assert_eq!(running_workers(), 0);
}
