//! Files of lesson 05 and lesson 06 refuse each other with `Error::Format`, `TABLES` is
//! checksummed, and `stats` counts every checksum a read verifies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::fs::{self, File};
use std::path::Path;

use rkv_01_basic_store::{DataDir, Log, Value};
use rkv_02_sstables::Table;
use rkv_02_sstables::table_list::{self, TABLES_FILE, TableList};
use rkv_05_compression::{Bare, BlockOptions, BlockTable};
use rkv_06_checksums::{ChecksummedLog, Crc32, Store};
use rkv_contract::{Error, KvStore, Stats};

fn entries() -> Vec<(Vec<u8>, Value)> {
    (0..200u32)
        .map(|i| {
            let value = format!("value number {i}").into_bytes();
            (format!("key{i:04}").into_bytes(), Value::Put(value))
        })
        .collect()
}

fn write_table<T: Table<Options = BlockOptions>>(path: &Path) {
    let mut file = File::create(path).unwrap();
    let mut iter = entries().into_iter().map(Ok);
    T::write(&mut file, path, &mut iter, &BlockOptions::default()).unwrap();
}

#[test]
fn lesson_05_and_lesson_06_tables_refuse_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("bare.sst");
    let framed = dir.path().join("framed.sst");
    write_table::<BlockTable<Bare>>(&bare);
    write_table::<BlockTable<Crc32>>(&framed);
    let options = BlockOptions::default();
    assert!(BlockTable::<Bare>::open(&bare, &options).is_ok());
    assert!(BlockTable::<Crc32>::open(&framed, &options).is_ok());
    match BlockTable::<Crc32>::open(&bare, &options) {
        Err(e @ Error::Format { .. }) => assert!(e.to_string().contains("version 2"), "{e}"),
        other => panic!("lesson 06 opened a lesson-05 table: {other:?}"),
    }
    match BlockTable::<Bare>::open(&framed, &options) {
        Err(e @ Error::Format { .. }) => assert!(e.to_string().contains("version 1"), "{e}"),
        other => panic!("lesson 05 opened a lesson-06 table: {other:?}"),
    }
}

#[test]
fn lesson_05_and_lesson_06_stores_refuse_each_other() {
    let fill = |store: &mut dyn FnMut(&[u8], &[u8])| {
        for i in 0..50u8 {
            store(&[b'k', i], &[i; 30]);
        }
    };
    let ours = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(ours.path(), common::tiny()).unwrap();
        fill(&mut |k, v| store.put(k, v).unwrap());
    }
    assert!(matches!(
        rkv_05_compression::Store::open(ours.path(), Default::default()),
        Err(Error::Format { .. })
    ));

    let theirs = tempfile::tempdir().unwrap();
    {
        let options = rkv_05_compression::Options {
            memtable_bytes: 512,
            ..Default::default()
        };
        let mut store = rkv_05_compression::Store::open(theirs.path(), options).unwrap();
        fill(&mut |k, v| store.put(k, v).unwrap());
    }
    assert!(matches!(
        Store::open(theirs.path(), Default::default()),
        Err(Error::Format { .. })
    ));

    // A store that never flushed has only a log: the log's version tells them apart.
    let log_only = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(log_only.path(), Default::default()).unwrap();
        store.put(b"k", b"v").unwrap();
    }
    assert!(matches!(
        rkv_05_compression::Store::open(log_only.path(), Default::default()),
        Err(Error::Format { .. })
    ));
}

#[test]
fn the_table_list_is_checksummed_and_versioned() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = DataDir::open(dir.path()).unwrap();
    let list = TableList {
        first_log: 12,
        tables: vec![3, 7, 11],
    };
    let written = table_list::replace::<ChecksummedLog>(&data_dir, &list).unwrap();
    assert_eq!(written, 24 + 3 * 8 + 4, "header, three numbers, a checksum");
    assert_eq!(table_list::read::<ChecksummedLog>(&data_dir).unwrap(), list);
    // Lesson 02's journal reads version 1 only.
    assert!(matches!(
        table_list::read::<Log>(&data_dir),
        Err(Error::Format { .. })
    ));

    // first_log 12 -> 13 would make open delete log 12, which may hold acknowledged writes.
    let path = dir.path().join(TABLES_FILE);
    let mut bytes = fs::read(&path).unwrap();
    bytes[12] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    match table_list::read::<ChecksummedLog>(&data_dir) {
        Err(Error::Corruption { file, what, .. }) => {
            assert_eq!(file, path);
            assert!(what.contains("checksum mismatch"), "{what}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn a_damaged_table_list_stops_the_open_before_it_deletes_anything() {
    let dir = tempfile::tempdir().unwrap();
    common::build_store(dir.path(), common::tiny(), 60);
    let before = common::store_files(dir.path());
    // Byte 20 is the low byte of the table count.
    common::flip(&dir.path().join(TABLES_FILE), 20, 0);
    assert!(matches!(
        Store::open(dir.path(), common::tiny()),
        Err(Error::Corruption { .. })
    ));
    assert_eq!(
        common::store_files(dir.path()),
        before,
        "no file was removed"
    );
}

// ANCHOR: stats_test
#[test]
fn stats_count_one_verified_checksum_per_block_read() {
    let dir = tempfile::tempdir().unwrap();
    let expected = common::build_store(dir.path(), common::tiny(), 150);
    let mut store = Store::open(dir.path(), common::tiny()).unwrap();
    store.reset_stats();
    for key in expected.keys() {
        store.get(key).unwrap();
    }
    let stats: Stats = store.stats();
    assert!(stats.blocks_read > 100, "{stats:?}");
    assert_eq!(stats.checksums_verified, stats.blocks_read);
}
// ANCHOR_END: stats_test
