//! Lesson 03's own tests of the search: it finds every key that is there and no key that is not,
//! wherever the key falls; it stays within `⌊log₂ n⌋ + 1` comparisons; it never reads a value
//! while probing; and a range read starts and stops at the right records.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use proptest::prelude::*;
use rkv_01_basic_store::Value;
use rkv_01_basic_store::wal::RECORD_HEADER_LEN;
use rkv_02_sstables::{NoOptions, Table};
use rkv_03_binary_search::{IndexedTable, Options, Position, Store};
use rkv_contract::{KvStore, Stats};

/// Writes `entries` (ascending keys) as a table in `dir` and opens it.
fn build(dir: &Path, entries: impl IntoIterator<Item = (Vec<u8>, Value)>) -> IndexedTable {
    let path = dir.join("000001.sst");
    let mut file = File::create(&path).unwrap();
    let mut stream = entries.into_iter().map(Ok);
    let summary = IndexedTable::write(&mut file, &path, &mut stream, &NoOptions).unwrap();
    drop(file);
    let table = IndexedTable::open(&path, &NoOptions).unwrap();
    assert_eq!(table.summary(), &summary, "open finds what write wrote");
    table
}

fn key(i: usize) -> Vec<u8> {
    format!("key{i:07}").into_bytes()
}

fn put(bytes: &[u8]) -> Value {
    Value::Put(bytes.to_vec())
}

/// The largest number of comparisons a binary search over `n` records may make.
fn bound(n: usize) -> u64 {
    (usize::BITS - n.leading_zeros()) as u64 // ⌊log₂ n⌋ + 1 for n > 0, 0 for n = 0
}

fn range(table: &IndexedTable, start: Option<&[u8]>, end: Option<&[u8]>) -> Vec<Vec<u8>> {
    table
        .range(start, end)
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect()
}

#[test]
fn finds_the_first_the_last_the_middle_and_every_key() {
    let dir = tempfile::tempdir().unwrap();
    // Keys 0, 2, 4, …: odd numbers fall between two keys.
    let n = 1001;
    let table = build(dir.path(), (0..n).map(|i| (key(2 * i), put(&key(i)))));
    for i in [0, n - 1, n / 2, 1, n - 2] {
        let mut stats = Stats::default();
        assert_eq!(
            table.get(&key(2 * i), &mut stats).unwrap(),
            Some(put(&key(i))),
            "key {i}"
        );
    }
    for i in 0..n {
        let mut stats = Stats::default();
        assert_eq!(
            table.search(&key(2 * i), &mut stats).unwrap(),
            Position::Hit(i)
        );
    }
}

#[test]
fn an_absent_key_is_absent_wherever_it_would_be() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1001;
    let table = build(dir.path(), (0..n).map(|i| (key(2 * i + 1), put(b"v"))));
    let mut stats = Stats::default();
    // Before the first key, after the last, and between every two neighbours.
    assert_eq!(table.search(b"", &mut stats).unwrap(), Position::Miss(0));
    assert_eq!(table.search(b"a", &mut stats).unwrap(), Position::Miss(0));
    assert_eq!(
        table.search(&key(0), &mut stats).unwrap(),
        Position::Miss(0)
    );
    assert_eq!(table.search(b"z", &mut stats).unwrap(), Position::Miss(n));
    assert_eq!(
        table.search(&key(2 * n), &mut stats).unwrap(),
        Position::Miss(n)
    );
    for i in 1..n {
        assert_eq!(
            table.search(&key(2 * i), &mut stats).unwrap(),
            Position::Miss(i),
            "between {} and {}",
            2 * i - 1,
            2 * i + 1
        );
        assert_eq!(table.get(&key(2 * i), &mut stats).unwrap(), None);
    }
    // A key that is a prefix of a present key, and one that extends it, are other keys.
    assert_eq!(table.get(b"key000000", &mut stats).unwrap(), None);
    assert_eq!(table.get(b"key00000010", &mut stats).unwrap(), None);
}

#[test]
fn tombstones_and_empty_values_come_back_as_they_were_written() {
    let dir = tempfile::tempdir().unwrap();
    let table = build(
        dir.path(),
        vec![
            (b"a".to_vec(), put(b"1")),
            (b"b".to_vec(), Value::Tombstone),
            (b"c".to_vec(), put(b"")),
        ],
    );
    let mut stats = Stats::default();
    assert_eq!(table.get(b"b", &mut stats).unwrap(), Some(Value::Tombstone));
    assert_eq!(table.get(b"c", &mut stats).unwrap(), Some(put(b"")));
    assert_eq!(table.get(b"d", &mut stats).unwrap(), None);
}

#[test]
fn an_empty_table_answers_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    let table = build(dir.path(), Vec::new());
    let mut stats = Stats::default();
    assert_eq!(table.get(b"anything", &mut stats).unwrap(), None);
    assert_eq!(stats, Stats::default());
    assert!(range(&table, None, None).is_empty());
    assert_eq!(table.summary().entries, 0);
}

// ANCHOR: comparison_bound
#[test]
fn a_lookup_in_100_000_keys_makes_at_most_17_comparisons() {
    let dir = tempfile::tempdir().unwrap();
    let n = 100_000;
    let table = build(dir.path(), (0..n).map(|i| (key(2 * i), put(&[b'v'; 100]))));
    assert_eq!(bound(n), 17);
    let hits = (0..n).step_by(997).chain([0, n / 2, n - 1]);
    let misses = (0..n).step_by(991).map(|i| 2 * i + 1).chain([2 * n]);
    for (i, expected_hit) in hits
        .map(|i| (2 * i, true))
        .chain(misses.map(|i| (i, false)))
    {
        let mut stats = Stats::default();
        let found = table.get(&key(i), &mut stats).unwrap();
        assert_eq!(found.is_some(), expected_hit, "key {i}");
        let steps = stats.key_comparisons;
        assert!(steps <= bound(n), "key {i}: {steps} comparisons");
        // Each step reads one record's fixed part and key (two reads, no value)...
        assert_eq!(stats.records_read, steps);
        let key_bytes = steps * (RECORD_HEADER_LEN + key(i).len()) as u64;
        // ...and a hit reads its one record whole, once, at the end.
        let (reads, bytes) = if expected_hit {
            (
                2 * steps + 1,
                key_bytes + (RECORD_HEADER_LEN + 10 + 100) as u64,
            )
        } else {
            (2 * steps, key_bytes)
        };
        assert_eq!(
            (stats.blocks_read, stats.bytes_read),
            (reads, bytes),
            "key {i}"
        );
    }
}
// ANCHOR_END: comparison_bound

#[test]
fn probing_never_reads_a_value() {
    let dir = tempfile::tempdir().unwrap();
    // Values of 100 KB: reading even one of them while probing would show in bytes_read.
    let big = vec![b'x'; 100_000];
    let table = build(dir.path(), (0..64).map(|i| (key(2 * i), put(&big))));
    let mut stats = Stats::default();
    assert_eq!(table.get(&key(61), &mut stats).unwrap(), None);
    assert!(stats.key_comparisons > 0);
    assert_eq!(
        stats.bytes_read,
        stats.key_comparisons * (RECORD_HEADER_LEN + 10) as u64
    );
}

#[test]
fn ranges_start_and_stop_at_the_right_records() {
    let dir = tempfile::tempdir().unwrap();
    let keys: Vec<Vec<u8>> = (0..50).map(|i| key(2 * i)).collect();
    let table = build(dir.path(), keys.iter().map(|k| (k.clone(), put(k))));
    let bounds: Vec<Option<Vec<u8>>> = [None, Some(b"".to_vec()), Some(b"z".to_vec())]
        .into_iter()
        .chain((0..101).step_by(7).map(|i| Some(key(i))))
        .collect();
    for start in &bounds {
        for end in &bounds {
            let want: Vec<Vec<u8>> = keys
                .iter()
                .filter(|k| start.as_ref().is_none_or(|s| *k >= s))
                .filter(|k| end.as_ref().is_none_or(|e| *k < e))
                .cloned()
                .collect();
            assert_eq!(
                range(&table, start.as_deref(), end.as_deref()),
                want,
                "range {start:?}..{end:?}"
            );
        }
    }
}

#[test]
fn a_range_wider_than_one_read_chunk_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    // About 10 MB of records: many chunks, and values larger than a chunk among them.
    let value = |i: usize| vec![(i % 251) as u8; if i.is_multiple_of(100) { 200_000 } else { 500 }];
    let table = build(dir.path(), (0..10_000).map(|i| (key(i), put(&value(i)))));
    let all: Vec<_> = table
        .range(None, None)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(all.len(), 10_000);
    for (i, (k, v)) in all.into_iter().enumerate() {
        assert_eq!((k, v), (key(i), put(&value(i))));
    }
}

// ANCHOR: store_stats
#[test]
fn the_store_searches_its_tables_instead_of_scanning_them() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        memtable_bytes: 1 << 30,
        ..Default::default()
    };
    let mut store = Store::open(dir.path(), options).unwrap();
    let n = 5000;
    for i in 0..n {
        store.put(&key(i), b"value").unwrap();
    }
    store.flush().unwrap();
    assert_eq!(store.tables().len(), 1);
    for i in [0, n / 2, n - 1] {
        store.reset_stats();
        assert_eq!(store.get(&key(i)).unwrap().as_deref(), Some(&b"value"[..]));
        let stats = store.stats();
        assert_eq!(stats.tables_probed, 1);
        assert!(stats.key_comparisons <= bound(n), "{stats}");
    }
    // Lesson 02's store, on the same keys, passes every record before the key.
    let dir_02 = tempfile::tempdir().unwrap();
    let mut store_02 = rkv_02_sstables::Store::open(dir_02.path(), options_02()).unwrap();
    for i in 0..n {
        store_02.put(&key(i), b"value").unwrap();
    }
    store_02.flush().unwrap();
    store_02.get(&key(n - 1)).unwrap();
    assert_eq!(store_02.stats().key_comparisons, n as u64);
}
// ANCHOR_END: store_stats

fn options_02() -> rkv_02_sstables::Options {
    rkv_02_sstables::Options {
        memtable_bytes: 1 << 30,
        ..Default::default()
    }
}

/// A sorted map of keys to values or tombstones (`None`), as a table holds it.
fn contents() -> impl Strategy<Value = BTreeMap<Vec<u8>, Option<Vec<u8>>>> {
    let key = prop::collection::vec(any::<u8>(), 0..6);
    let value = prop::option::weighted(0.9, prop::collection::vec(any::<u8>(), 0..20));
    prop::collection::btree_map(key, value, 0..300)
}

fn as_value(value: &Option<Vec<u8>>) -> Value {
    value
        .as_ref()
        .map_or(Value::Tombstone, |v| Value::Put(v.clone()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any table: every key written is found with its value, every other key is absent, each
    /// lookup within the comparison bound, and every range equals the map's.
    #[test]
    fn a_table_agrees_with_the_map_it_was_built_from(
        map in contents(),
        others in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..6), 0..50),
        bounds in prop::collection::vec(
            (prop::option::of(prop::collection::vec(any::<u8>(), 0..4)),
             prop::option::of(prop::collection::vec(any::<u8>(), 0..4))), 0..10),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let table = build(dir.path(), map.iter().map(|(k, v)| (k.clone(), as_value(v))));
        for (k, v) in &map {
            let mut stats = Stats::default();
            prop_assert_eq!(table.get(k, &mut stats).unwrap(), Some(as_value(v)));
            prop_assert!(stats.key_comparisons <= bound(map.len()));
        }
        for k in others.iter().filter(|k| !map.contains_key(*k)) {
            let mut stats = Stats::default();
            prop_assert_eq!(table.get(k, &mut stats).unwrap(), None);
            prop_assert!(stats.key_comparisons <= bound(map.len()));
        }
        for (start, end) in &bounds {
            let want: Vec<Vec<u8>> = map
                .keys()
                .filter(|k| start.as_ref().is_none_or(|s| *k >= s))
                .filter(|k| end.as_ref().is_none_or(|e| *k < e))
                .cloned()
                .collect();
            prop_assert_eq!(range(&table, start.as_deref(), end.as_deref()), want);
        }
    }
}
