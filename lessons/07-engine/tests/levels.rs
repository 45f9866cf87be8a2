#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

//! Where tombstones and old versions go: counted in the tables themselves, through `inspect`
//! (whose `entries=` is each table's `Table::summary`).
//!
//! - After `compact`, the tables hold exactly one entry per live key: overwritten values and
//!   deleted keys take no room.
//! - A compaction into the bottom of the tree drops a tombstone together with what it deletes.
//! - A compaction into an intermediate level keeps a tombstone while an older value of its key
//!   sits deeper: dropping it there would bring that value back to life.

use std::time::{Duration, Instant};

use rkv_07_engine::{Engine, EngineOptions};

/// One table line of `inspect`.
#[derive(Debug)]
struct Listed {
    level: usize,
    /// The table's file name.
    name: String,
    entries: u64,
    smallest: String,
    largest: String,
}

fn tables(engine: &Engine) -> Vec<Listed> {
    let inspect = engine.inspect().unwrap();
    let mut level = 0;
    let mut found = Vec::new();
    for line in inspect.lines() {
        if let Some(rest) = line.strip_prefix('L')
            && let Some((number, _)) = rest.split_once(':')
        {
            level = number.parse().unwrap();
        } else if let Some(rest) = line.strip_prefix("  ") {
            // "  000012.sst entries=4 keys=[a .. b] bytes=123"
            let (name, entries) = rest.split_once(" entries=").unwrap();
            let (entries, keys) = entries.split_once(" keys=[").unwrap();
            let (keys, _) = keys.split_once("] bytes=").unwrap();
            let (smallest, largest) = keys.split_once(" .. ").unwrap();
            found.push(Listed {
                level,
                name: name.to_string(),
                entries: entries.parse().unwrap(),
                smallest: smallest.to_string(),
                largest: largest.to_string(),
            });
        }
    }
    found
}

fn entries_on(engine: &Engine, level: usize) -> u64 {
    tables(engine)
        .iter()
        .filter(|t| t.level == level)
        .map(|t| t.entries)
        .sum()
}

/// Waits until the background thread has brought the tree into the shape `done` wants.
fn wait_for(engine: &Engine, what: &str, done: impl Fn(&[Listed]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(&tables(engine)) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}:\n{}",
            engine.inspect().unwrap()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Flushes only when told to, and never compacts in the background unless L0 holds `l0` tables.
fn manual(l0: usize, base_level_bytes: u64) -> EngineOptions {
    let mut options = EngineOptions {
        memtable_bytes: 1 << 20,
        l0_compaction_trigger: l0,
        l0_slowdown_trigger: l0.max(12),
        l0_stop_trigger: l0.max(20),
        base_level_bytes,
        ..EngineOptions::default()
    };
    options.table.block_bytes = 256;
    options
}

fn key(i: u32) -> Vec<u8> {
    format!("key{i:04}").into_bytes()
}

#[test]
fn after_compact_the_tables_hold_one_entry_per_live_key() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
    for i in 0..600 {
        engine.put(&key(i), b"first").unwrap();
    }
    for i in (0..600).step_by(3) {
        engine.put(&key(i), b"second").unwrap(); // 200 overwrites
    }
    for i in (0..600).step_by(4) {
        engine.delete(&key(i)).unwrap(); // 150 deletes
    }
    for i in 1000..1050 {
        engine.delete(&key(i)).unwrap(); // 50 deletes of keys that never existed
    }
    engine.flush().unwrap();
    let before: u64 = tables(&engine).iter().map(|t| t.entries).sum();
    assert!(
        before > 450,
        "the tables should still hold old versions: {before}"
    );
    engine.compact().unwrap();
    let live = engine.scan(None, None).unwrap().count() as u64;
    assert_eq!(live, 450);
    let after: u64 = tables(&engine).iter().map(|t| t.entries).sum();
    assert_eq!(after, live, "{}", engine.inspect().unwrap());
    // And after a reopen the tree is the same.
    drop(engine);
    let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
    let reopened: u64 = tables(&engine).iter().map(|t| t.entries).sum();
    assert_eq!(reopened, live);
}

#[test]
fn a_compaction_into_the_bottom_drops_tombstones() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), manual(2, 1 << 30)).unwrap();
    engine.put(b"doomed", b"value").unwrap();
    engine.put(b"kept", b"value").unwrap();
    engine.flush().unwrap();
    engine.delete(b"doomed").unwrap();
    engine.flush().unwrap(); // the second L0 table: L0 → L1 runs in the background
    wait_for(&engine, "L0 to be compacted", |t| {
        t.iter().all(|t| t.level == 1)
    });
    // L1 is the bottom: nothing older can hide below, so the tombstone went with the value.
    assert_eq!(entries_on(&engine, 1), 1, "{}", engine.inspect().unwrap());
    assert_eq!(engine.get(b"doomed").unwrap(), None);
    assert_eq!(engine.get(b"kept").unwrap().as_deref(), Some(&b"value"[..]));
}

#[test]
fn an_intermediate_level_keeps_a_tombstone_while_an_older_value_lies_below() {
    let dir = tempfile::tempdir().unwrap();
    // 1. Push "victim" = "old" below L1: with a 1-byte L1 target (10 bytes for L2, 100 for L3,
    //    ...) the background thread moves the table down until a level can hold it.
    {
        let engine = Engine::open(dir.path(), manual(4, 1)).unwrap();
        engine.put(b"victim", b"old").unwrap();
        engine.put(b"zebra", b"stays").unwrap();
        engine.compact().unwrap();
        wait_for(&engine, "the table to leave L1", |t| {
            t.len() == 1 && t[0].level >= 2
        });
    }
    // 2. Reopen with levels that never fill: only an L0 → L1 compaction can run.
    let engine = Engine::open(dir.path(), manual(2, 1 << 30)).unwrap();
    let deep = tables(&engine)[0].level;
    engine.delete(b"victim").unwrap();
    engine.flush().unwrap();
    engine.put(b"apple", b"new").unwrap();
    engine.flush().unwrap(); // two L0 tables: L0 → L1 in the background
    wait_for(&engine, "L0 to be compacted", |t| {
        t.iter().all(|t| t.level != 0)
    });
    let shape = tables(&engine);
    let l1: Vec<&Listed> = shape.iter().filter(|t| t.level == 1).collect();
    assert_eq!(l1.len(), 1, "{shape:?}");
    // L1 holds "apple" and the tombstone of "victim": the old value is still down there.
    assert_eq!(
        (
            l1[0].entries,
            l1[0].smallest.as_str(),
            l1[0].largest.as_str()
        ),
        (2, "apple", "victim"),
        "{shape:?}"
    );
    assert_eq!(entries_on(&engine, deep), 2);
    assert_eq!(engine.get(b"victim").unwrap(), None);
    drop(engine);

    // 3. Still deleted after a reopen: the tombstone is in the manifest's tables, not the log.
    let engine = Engine::open(dir.path(), manual(2, 1 << 30)).unwrap();
    assert_eq!(engine.get(b"victim").unwrap(), None);
    let keys: Vec<Vec<u8>> = engine
        .scan(None, None)
        .unwrap()
        .map(|e| e.unwrap().0)
        .collect();
    assert_eq!(keys, vec![b"apple".to_vec(), b"zebra".to_vec()]);

    // 4. A full compaction reaches the bottom: tombstone and old value both go.
    engine.compact().unwrap();
    assert_eq!(
        tables(&engine).iter().map(|t| t.entries).sum::<u64>(),
        2,
        "{}",
        engine.inspect().unwrap()
    );
    assert_eq!(engine.get(b"victim").unwrap(), None);
}

/// The codec byte of the first block of every table on `level` (a block starts with it).
fn first_block_codecs(dir: &std::path::Path, engine: &Engine, level: usize) -> Vec<u8> {
    tables(engine)
        .iter()
        .filter(|t| t.level == level)
        .map(|t| std::fs::read(dir.join(&t.name)).unwrap()[0])
        .collect()
}

#[test]
fn tables_below_the_cold_level_use_the_cold_codec() {
    use rkv_05_compression::Codec;
    let dir = tempfile::tempdir().unwrap();
    let mut options = manual(100, 1 << 30);
    options.table.compression = Codec::Lz4;
    options.cold_compression = Codec::Zstd;
    options.cold_level = 1;
    let engine = Engine::open(dir.path(), options).unwrap();
    for i in 0..500 {
        // Repetitive values, so that both codecs pay and are kept.
        engine
            .put(&key(i), "the same words again ".repeat(4).as_bytes())
            .unwrap();
    }
    engine.flush().unwrap();
    assert_eq!(
        first_block_codecs(dir.path(), &engine, 0),
        vec![Codec::Lz4.id()]
    );
    engine.compact().unwrap();
    let codecs = first_block_codecs(dir.path(), &engine, 1);
    assert!(!codecs.is_empty());
    assert!(codecs.iter().all(|&c| c == Codec::Zstd.id()), "{codecs:?}");
    for i in (0..500).step_by(37) {
        assert!(engine.get(&key(i)).unwrap().is_some());
    }
}

#[test]
fn every_level_below_l0_stays_a_sorted_run_while_compactions_release_inputs_early() {
    // Tiny tables and levels, so that compactions merge into levels of many tables, releasing
    // the ones the merge has passed while it still runs; the shape is checked between writes,
    // while the background thread works.
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
    for round in 0..40u32 {
        for i in 0..50u32 {
            let k = (i * 7919 + round * 104_729) % 2000;
            engine
                .put(&key(k), format!("value {round} {i}").as_bytes())
                .unwrap();
        }
        let listed = tables(&engine);
        for level in 1..8 {
            let run: Vec<&Listed> = listed.iter().filter(|t| t.level == level).collect();
            for pair in run.windows(2) {
                assert!(
                    pair[0].largest < pair[1].smallest,
                    "L{level} overlaps at {} / {}:\n{}",
                    pair[0].name,
                    pair[1].name,
                    engine.inspect().unwrap()
                );
            }
        }
    }
}
