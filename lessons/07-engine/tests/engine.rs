//! The engine's own tests: snapshots under concurrent writes, atomic batches across a torn log,
//! bloom filters keeping misses off the disk, and many threads at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rkv_07_engine::{Engine, EngineOptions, WriteBatch};

fn key(i: usize) -> Vec<u8> {
    format!("key{i:05}").into_bytes()
}

/// Every scan sees one point in time: batches set all keys to the same round number, so a scan
/// that mixed two moments would see two numbers.
#[test]
fn scans_and_snapshots_see_one_point_in_time_while_writes_continue() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
    const KEYS: usize = 40;
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let engine = engine.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            for round in 0..150u32 {
                let mut batch = WriteBatch::new();
                for i in 0..KEYS {
                    batch.put(&key(i), &round.to_be_bytes()).unwrap();
                }
                engine.write(batch).unwrap();
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let mut readers = Vec::new();
    for _ in 0..2 {
        let engine = engine.clone();
        let done = done.clone();
        readers.push(std::thread::spawn(move || {
            let mut last_round = 0u32;
            let mut checks = 0;
            while !done.load(Ordering::SeqCst) || checks < 5 {
                let snapshot = engine.snapshot().unwrap();
                let entries: Vec<_> = snapshot.scan(None, None).map(Result::unwrap).collect();
                if entries.is_empty() {
                    continue;
                }
                assert_eq!(entries.len(), KEYS, "a scan saw part of a batch");
                let round = u32::from_be_bytes(entries[0].1.as_slice().try_into().unwrap());
                assert!(
                    entries
                        .iter()
                        .all(|(_, v)| v.as_slice() == round.to_be_bytes())
                );
                assert!(round >= last_round, "time went backwards");
                // The snapshot keeps answering as of its moment, whatever happens meanwhile.
                assert_eq!(
                    snapshot.get(&key(KEYS - 1)).unwrap(),
                    Some(round.to_be_bytes().to_vec())
                );
                last_round = round;
                checks += 1;
            }
        }));
    }
    writer.join().unwrap();
    for reader in readers {
        reader.join().unwrap();
    }
    assert_eq!(
        engine.get(&key(0)).unwrap(),
        Some(149u32.to_be_bytes().to_vec())
    );
}

/// A batch is one log record: cut the log anywhere inside it and reopen — all of its writes
/// are there or none is.
#[test]
fn a_batch_is_all_or_nothing_after_a_torn_log() {
    let scratch = tempfile::tempdir().unwrap();
    let original = scratch.path().join("original");
    let options = || EngineOptions {
        memtable_bytes: 1 << 20,
        ..EngineOptions::default()
    };
    let log_before;
    {
        let engine = Engine::open(&original, options()).unwrap();
        engine.put(b"before", b"1").unwrap();
        let log = fs::read_dir(&original)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "log"))
            .unwrap();
        log_before = (log.clone(), fs::metadata(&log).unwrap().len());
        let mut batch = WriteBatch::new();
        for i in 0..10 {
            batch.put(&key(i), b"batch-value").unwrap();
        }
        batch.delete(b"before").unwrap();
        engine.write(batch).unwrap();
    }
    let (log_path, start) = log_before;
    let full = fs::read(&log_path).unwrap();
    let name = log_path.file_name().unwrap();
    for cut in (start as usize..=full.len()).step_by(7).chain([full.len()]) {
        let copy = scratch.path().join(format!("cut-{cut}"));
        copy_dir(&original, &copy);
        fs::write(copy.join(name), &full[..cut]).unwrap();
        let engine = Engine::open(&copy, options()).unwrap();
        let present = (0..10)
            .filter(|&i| engine.get(&key(i)).unwrap().is_some())
            .count();
        let before = engine.get(b"before").unwrap();
        if cut == full.len() {
            assert_eq!((present, before), (10, None));
        } else {
            assert_eq!((present, before), (0, Some(b"1".to_vec())), "cut at {cut}");
        }
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "LOCK" {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// With bloom filters, a lookup of an absent key almost never reads a block.
#[test]
fn misses_are_answered_by_the_bloom_filters() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
    for i in 0..3000 {
        engine.put(&key(i * 2), b"value").unwrap();
    }
    engine.compact().unwrap();
    engine.reset_stats();
    for i in 0..1000 {
        assert_eq!(engine.get(&key(i * 2 + 1)).unwrap(), None);
    }
    let stats = engine.stats();
    assert!(stats.filter_skips >= 950, "{stats:?}");
    assert!(stats.blocks_read <= 50, "{stats:?}");
    for i in (0..3000).step_by(97) {
        assert_eq!(
            engine.get(&key(i * 2)).unwrap().as_deref(),
            Some(&b"value"[..])
        );
    }
}

#[test]
fn new_tables_are_read_from_the_cache_and_replaced_ones_leave_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = EngineOptions::tiny();
    options.block_cache_bytes = 4 << 20;
    // Uncompressed, so that a table's decoded blocks weigh about what its file does.
    options.table.compression = rkv_05_compression::Codec::None;
    options.cold_compression = rkv_05_compression::Codec::None;
    let engine = Engine::open(dir.path(), options).unwrap();
    for round in 0..5 {
        for i in 0..2000 {
            engine
                .put(&key(i), format!("value {round}").as_bytes())
                .unwrap();
        }
        engine.compact().unwrap();
    }
    // Every table was warmed when it was written: no read goes to the disk.
    engine.reset_stats();
    for i in 0..2000 {
        assert_eq!(
            engine.get(&key(i)).unwrap().as_deref(),
            Some(&b"value 4"[..])
        );
    }
    let stats = engine.stats();
    assert_eq!(stats.blocks_read, 0, "{stats:?}");
    assert_eq!(stats.cache_misses, 0, "{stats:?}");
    // Five rounds of rewrites replaced every table several times; only the live ones' blocks
    // are left in the cache.
    let used = engine.block_cache_used_bytes();
    assert!(used > 0);
    assert!(
        used <= stats.table_bytes,
        "cache holds {used} bytes, live tables are {} bytes",
        stats.table_bytes
    );
}

/// Many writers and readers at once; afterwards the store holds exactly the last write of each
/// key, also after a reopen.
#[test]
fn concurrent_writers_and_readers_agree_with_the_model() {
    let dir = tempfile::tempdir().unwrap();
    {
        let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
        let mut threads = Vec::new();
        for t in 0..4usize {
            let engine = engine.clone();
            threads.push(std::thread::spawn(move || {
                for i in 0..400usize {
                    // Each thread owns the keys congruent to t mod 4.
                    let k = key((i * 4 + t) % 800);
                    if i % 5 == 4 {
                        engine.delete(&k).unwrap();
                    } else {
                        engine.put(&k, format!("{t}-{i}").as_bytes()).unwrap();
                    }
                    let _ = engine.get(&key(i)).unwrap();
                }
            }));
        }
        for thread in threads {
            thread.join().unwrap();
        }
        check_final(&engine);
    }
    let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
    check_final(&engine);
}

fn check_final(engine: &Engine) {
    let mut expected = std::collections::BTreeMap::new();
    for t in 0..4usize {
        for i in 0..400usize {
            let k = key((i * 4 + t) % 800);
            if i % 5 == 4 {
                expected.remove(&k);
            } else {
                expected.insert(k, format!("{t}-{i}").into_bytes());
            }
        }
    }
    let got: std::collections::BTreeMap<_, _> = engine
        .scan(None, None)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, expected);
}

/// The handle, its snapshots and its scans can be shared with and sent to other threads; if a
/// change made one of them lose `Send` or `Sync`, this stops compiling.
#[test]
fn handles_are_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    fn sendable<T: Send>() {}
    shareable::<Engine>();
    shareable::<rkv_07_engine::Snapshot>();
    sendable::<rkv_07_engine::Scan>();
    shareable::<rkv_07_engine::Store>();
}
