//! Lesson 02's own tests: the flush boundary, tombstones across tables, merge order, many
//! tables, recovery from an interrupted flush or compaction, and foreign files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::fs;
use std::path::Path;

use rkv_02_sstables::store::file_name;
use rkv_02_sstables::{Options, Store, Table, table_list};
use rkv_contract::{Error, KvStore};

fn options(memtable_bytes: usize) -> Options {
    Options {
        memtable_bytes,
        ..Default::default()
    }
}

fn files(dir: &Path, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(ext))
        .collect();
    names.sort();
    names
}

fn get(store: &mut Store, key: &[u8]) -> Option<Vec<u8>> {
    store.get(key).unwrap()
}

fn all(store: &mut Store) -> Vec<(Vec<u8>, Vec<u8>)> {
    store
        .scan(None, None)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_memtable_flushes_exactly_when_it_reaches_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    // Each put of a 2-byte key and 8-byte value adds 10 bytes.
    let mut store = Store::open(dir.path(), options(50)).unwrap();
    for i in 0..4u8 {
        store.put(&[b'k', i], b"12345678").unwrap();
    }
    assert_eq!(store.tables().len(), 0, "40 bytes: below the threshold");
    // Overwrites replace bytes, they do not add them.
    store.put(&[b'k', 0], b"12345678").unwrap();
    assert_eq!(store.memtable_bytes(), 40);
    assert_eq!(store.tables().len(), 0);
    store.put(b"k4", b"12345678").unwrap();
    assert_eq!(store.tables().len(), 1, "50 bytes: flushed");
    assert_eq!(store.memtable_bytes(), 0);
    assert_eq!(files(dir.path(), ".sst").len(), 1);
    // Only the fresh log remains.
    assert_eq!(files(dir.path(), ".log").len(), 1);
    assert_eq!(get(&mut store, b"k4").as_deref(), Some(&b"12345678"[..]));
}

#[test]
fn a_tombstone_in_a_newer_table_shadows_an_older_value() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), options(1 << 20)).unwrap();
    store.put(b"key", b"old").unwrap();
    store.put(b"other", b"x").unwrap();
    store.flush().unwrap();
    store.delete(b"key").unwrap();
    store.flush().unwrap();
    assert_eq!(store.tables().len(), 2);
    assert_eq!(get(&mut store, b"key"), None);
    assert_eq!(all(&mut store), vec![(b"other".to_vec(), b"x".to_vec())]);
    // An empty value in a newer table is a value, not a tombstone.
    store.put(b"key", b"").unwrap();
    store.flush().unwrap();
    assert_eq!(get(&mut store, b"key"), Some(Vec::new()));
    drop(store);
    let mut store = Store::open(dir.path(), options(1 << 20)).unwrap();
    assert_eq!(get(&mut store, b"key"), Some(Vec::new()));
}

#[test]
fn scan_merges_memtable_and_tables_in_order_newest_winning() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), options(1 << 20)).unwrap();
    for (key, value) in [("a", "1"), ("c", "1"), ("e", "1")] {
        store.put(key.as_bytes(), value.as_bytes()).unwrap();
    }
    store.flush().unwrap();
    for (key, value) in [("b", "2"), ("c", "2"), ("f", "2")] {
        store.put(key.as_bytes(), value.as_bytes()).unwrap();
    }
    store.flush().unwrap();
    store.put(b"d", b"3").unwrap();
    store.delete(b"e").unwrap();
    store.put(b"f", b"3").unwrap();
    let got: Vec<(String, String)> = all(&mut store)
        .into_iter()
        .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
        .collect();
    let want: Vec<(String, String)> = [("a", "1"), ("b", "2"), ("c", "2"), ("d", "3"), ("f", "3")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(got, want);
    let bounded: Vec<Vec<u8>> = store
        .scan(Some(b"b"), Some(b"e"))
        .unwrap()
        .map(|e| e.unwrap().0)
        .collect();
    assert_eq!(bounded, vec![b"b".to_vec(), b"c".to_vec(), b"d".to_vec()]);
}

#[test]
fn the_newest_of_many_tables_wins() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), options(1 << 20)).unwrap();
    for generation in 0..60u32 {
        // Every table holds key "hot"; key "k{g}" is written in generation g and every 7th.
        store.put(b"hot", &generation.to_le_bytes()).unwrap();
        store
            .put(
                format!("k{}", generation % 7).as_bytes(),
                &generation.to_le_bytes(),
            )
            .unwrap();
        store.flush().unwrap();
    }
    assert_eq!(store.tables().len(), 60);
    assert_eq!(get(&mut store, b"hot"), Some(59u32.to_le_bytes().to_vec()));
    for k in 0..7u32 {
        let newest = (0..60).filter(|g| g % 7 == k).max().unwrap();
        assert_eq!(
            get(&mut store, format!("k{k}").as_bytes()),
            Some(newest.to_le_bytes().to_vec())
        );
    }
    store.reset_stats();
    assert_eq!(get(&mut store, b"absent"), None);
    assert_eq!(store.stats().tables_probed, 60, "a miss asks every table");
    store.compact().unwrap();
    assert_eq!(store.tables().len(), 1);
    assert_eq!(files(dir.path(), ".sst").len(), 1);
    assert_eq!(get(&mut store, b"hot"), Some(59u32.to_le_bytes().to_vec()));
}

#[test]
fn compaction_drops_tombstones_and_shadowed_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), options(1 << 20)).unwrap();
    for i in 0..100u32 {
        store.put(&i.to_be_bytes(), b"first").unwrap();
    }
    store.flush().unwrap();
    for i in 0..100u32 {
        if i % 2 == 0 {
            store.delete(&i.to_be_bytes()).unwrap();
        } else {
            store.put(&i.to_be_bytes(), b"second").unwrap();
        }
    }
    store.compact().unwrap();
    let summary = store.tables()[0].summary().clone();
    assert_eq!(summary.entries, 50, "no tombstones, one entry per live key");
    assert_eq!(all(&mut store).len(), 50);
    // Deleting everything and compacting leaves no table at all.
    for i in 0..100u32 {
        store.delete(&i.to_be_bytes()).unwrap();
    }
    store.compact().unwrap();
    assert_eq!(store.tables().len(), 0);
    assert!(files(dir.path(), ".sst").is_empty());
    drop(store);
    let mut store = Store::open(dir.path(), options(1 << 20)).unwrap();
    assert!(all(&mut store).is_empty());
}

/// A crash after the table was written but before `TABLES` named it: the table is a leftover
/// and the log still has every write.
#[test]
fn a_crash_before_the_table_is_listed_leaves_the_log_in_charge() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(dir.path(), options(1 << 20)).unwrap();
        store.put(b"a", b"1").unwrap();
        store.delete(b"zz").unwrap();
    }
    // What an interrupted flush leaves: a table file nobody lists (here: garbage) and a
    // half-written list.
    fs::write(dir.path().join(file_name(99, "sst")), b"half a table").unwrap();
    fs::write(dir.path().join(table_list::TABLES_TMP), b"half a list").unwrap();
    let mut store = Store::open(dir.path(), options(1 << 20)).unwrap();
    assert_eq!(get(&mut store, b"a").as_deref(), Some(&b"1"[..]));
    assert!(
        files(dir.path(), ".sst").is_empty(),
        "the leftover was deleted"
    );
    assert!(!dir.path().join(table_list::TABLES_TMP).exists());
    // New file numbers do not reuse the leftover's.
    store.flush().unwrap();
    assert_eq!(files(dir.path(), ".sst"), vec![file_name(100, "sst")]);
}

/// A crash after `TABLES` was replaced but before the old log was deleted: the old log is
/// obsolete and must not be replayed over newer data.
#[test]
fn a_crash_before_the_old_log_is_deleted_does_not_resurrect_it() {
    let dir = tempfile::tempdir().unwrap();
    let old_log;
    {
        let mut store = Store::open(dir.path(), options(1 << 20)).unwrap();
        store.put(b"k", b"old").unwrap();
        old_log = files(dir.path(), ".log")[0].clone();
        let saved = fs::read(dir.path().join(&old_log)).unwrap();
        store.flush().unwrap();
        store.put(b"k", b"new").unwrap();
        store.flush().unwrap();
        // Put the first log back, as if its deletion had never happened.
        fs::write(dir.path().join(&old_log), saved).unwrap();
    }
    let mut store = Store::open(dir.path(), options(1 << 20)).unwrap();
    assert_eq!(get(&mut store, b"k").as_deref(), Some(&b"new"[..]));
    assert!(!dir.path().join(&old_log).exists());
}

#[test]
fn a_table_of_another_format_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(dir.path(), options(1 << 20)).unwrap();
        store.put(b"a", b"1").unwrap();
        store.flush().unwrap();
    }
    let table = dir.path().join(&files(dir.path(), ".sst")[0]);
    let mut bytes = fs::read(&table).unwrap();
    bytes[8] = 9; // version 9
    fs::write(&table, &bytes).unwrap();
    match Store::open(dir.path(), options(1 << 20)) {
        Err(e @ Error::Format { .. }) => assert!(e.to_string().contains("lesson-02"), "{e}"),
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn a_truncated_table_is_corruption_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(dir.path(), options(1 << 20)).unwrap();
        for i in 0..10u8 {
            store.put(&[i], b"value").unwrap();
        }
        store.flush().unwrap();
    }
    let table = dir.path().join(&files(dir.path(), ".sst")[0]);
    let bytes = fs::read(&table).unwrap();
    fs::write(&table, &bytes[..bytes.len() - 20]).unwrap();
    match Store::open(dir.path(), options(1 << 20)) {
        Err(Error::Corruption { file, .. }) => assert_eq!(file, table),
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn a_lesson_01_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = rkv_01_basic_store::Store::open(dir.path(), Default::default()).unwrap();
        store.put(b"a", b"1").unwrap();
    }
    assert!(matches!(
        Store::open(dir.path(), options(1 << 20)),
        Err(Error::Format { .. })
    ));
}

#[test]
fn lookups_scan_the_table_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), options(1 << 30)).unwrap();
    for i in 0..1000u32 {
        store.put(format!("key{i:06}").as_bytes(), b"v").unwrap();
    }
    store.flush().unwrap();
    store.reset_stats();
    store.get(b"key000999").unwrap();
    assert_eq!(
        store.stats().key_comparisons,
        1000,
        "the last key costs a full pass"
    );
    store.reset_stats();
    store.get(b"key000000").unwrap();
    assert_eq!(store.stats().key_comparisons, 1);
}
