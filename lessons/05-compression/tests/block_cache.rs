//! The block-cache seam: a table given a cache answers repeated reads from it, with the same
//! results as without one; a table given none behaves exactly as before.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rkv_01_basic_store::Value;
use rkv_02_sstables::Table;
use rkv_05_compression::block::Block;
use rkv_05_compression::{Bare, BlockCache, BlockOptions, BlockTable, Codec};
use rkv_contract::Stats;

type Tbl = BlockTable<Bare>;

/// The simplest cache there is: keeps every block, forever; grants every reservation for
/// pinned blocks unless told not to.
#[derive(Debug, Default)]
struct KeepEverything {
    blocks: Mutex<HashMap<(u64, u64), Block>>,
    /// Bytes reserved for pinned blocks now.
    reserved: Mutex<u64>,
    refuse_reservations: bool,
}

impl BlockCache for KeepEverything {
    fn get(&self, table: u64, offset: u64) -> Option<Block> {
        self.blocks.lock().unwrap().get(&(table, offset)).cloned()
    }

    fn insert(&self, table: u64, offset: u64, block: Block) {
        self.blocks.lock().unwrap().insert((table, offset), block);
    }

    fn remove(&self, table: u64, offset: u64) {
        self.blocks.lock().unwrap().remove(&(table, offset));
    }

    fn reserve(&self, bytes: u64) -> bool {
        if self.refuse_reservations {
            return false;
        }
        *self.reserved.lock().unwrap() += bytes;
        true
    }

    fn release(&self, bytes: u64) {
        *self.reserved.lock().unwrap() -= bytes;
    }
}

fn entries(n: u32) -> BTreeMap<Vec<u8>, Value> {
    (0..n)
        .map(|i| {
            let value = if i % 7 == 0 {
                Value::Tombstone
            } else {
                Value::Put(format!("value-{i}-{}", "v".repeat((i % 50) as usize)).into_bytes())
            };
            (format!("key:{i:06}").into_bytes(), value)
        })
        .collect()
}

fn write(path: &Path, entries: &BTreeMap<Vec<u8>, Value>) {
    let options = BlockOptions {
        block_bytes: 1024,
        restart_interval: 16,
        compression: Codec::Lz4,
    };
    let mut file = File::create(path).unwrap();
    let mut iter = entries.iter().map(|(k, v)| Ok((k.clone(), v.clone())));
    Tbl::write(&mut file, path, &mut iter, &options).unwrap();
}

/// The table at `path`, given a fresh cache under id `table_id`.
fn open_cached(path: &Path, table_id: u64) -> (Tbl, Arc<KeepEverything>) {
    let cache = Arc::new(KeepEverything::default());
    let table = Tbl::open(path, &BlockOptions::default())
        .unwrap()
        .with_cache(table_id, cache.clone());
    (table, cache)
}

#[test]
fn second_read_of_a_block_comes_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000001.sst");
    let entries = entries(2000);
    write(&path, &entries);
    let (table, _cache) = open_cached(&path, 1);

    let key = b"key:000123".as_slice();
    let mut first = Stats::default();
    let value = table.get(key, &mut first).unwrap();
    assert_eq!(value.as_ref(), entries.get(key));
    assert_eq!(
        (first.cache_hits, first.cache_misses, first.blocks_read),
        (0, 1, 1)
    );

    let mut second = Stats::default();
    assert_eq!(table.get(key, &mut second).unwrap(), value);
    assert_eq!((second.cache_hits, second.cache_misses), (1, 0));
    assert_eq!(
        (
            second.blocks_read,
            second.bytes_read,
            second.bytes_decompressed
        ),
        (0, 0, 0)
    );
}

#[test]
fn a_cached_table_reads_the_same_as_an_uncached_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000002.sst");
    let entries = entries(3000);
    write(&path, &entries);
    let plain = Tbl::open(&path, &BlockOptions::default()).unwrap();
    let (cached, cache) = open_cached(&path, 2);

    // Twice: once filling the cache, once reading from it.
    for _ in 0..2 {
        let all: Vec<_> = cached
            .range(None, None)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let want: Vec<_> = entries
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(all, want);
        let from: Vec<_> = cached
            .range(Some(b"key:001000"), Some(b"key:001500"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let want: Vec<_> = plain
            .range(Some(b"key:001000"), Some(b"key:001500"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(from, want);
        for i in (0..3100).step_by(17) {
            let key = format!("key:{i:06}").into_bytes();
            let mut stats = Stats::default();
            assert_eq!(
                cached.get(&key, &mut stats).unwrap(),
                plain.get(&key, &mut Stats::default()).unwrap()
            );
        }
    }
    assert!(!cache.blocks.lock().unwrap().is_empty());
}

#[test]
fn without_a_cache_nothing_is_counted_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000003.sst");
    write(&path, &entries(500));
    let table = Tbl::open(&path, &BlockOptions::default()).unwrap();
    let mut stats = Stats::default();
    for _ in 0..3 {
        table.get(b"key:000010", &mut stats).unwrap();
    }
    assert_eq!(
        (stats.cache_hits, stats.cache_misses, stats.blocks_read),
        (0, 0, 3)
    );
}

#[test]
fn pinned_blocks_answer_every_read_and_give_their_room_back_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.blk");
    let data = entries(2000);
    write(&path, &data);
    let (table, cache) = open_cached(&path, 7);
    assert!(table.pin_blocks().unwrap());
    let reserved = *cache.reserved.lock().unwrap();
    assert!(
        reserved > 1024,
        "a 2000-entry table of 1 KiB blocks has many blocks"
    );
    assert_eq!(reserved, table.pinned_bytes());

    // Every read is now answered by the pinned blocks: not the file, not the cache.
    let mut stats = Stats::default();
    for (key, value) in &data {
        assert_eq!(table.get(key, &mut stats).unwrap().as_ref(), Some(value));
    }
    let got: Vec<_> = table
        .range(None, None)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got.len(), data.len());
    assert_eq!(stats.blocks_read, 0);
    assert_eq!(stats.cache_misses, 0);
    assert_eq!(stats.cache_hits, data.len() as u64);
    assert!(cache.blocks.lock().unwrap().is_empty());

    drop(table);
    assert_eq!(*cache.reserved.lock().unwrap(), 0);

    // A cache that grants no room pins nothing, and reads go through it as before.
    let stingy = Arc::new(KeepEverything {
        refuse_reservations: true,
        ..KeepEverything::default()
    });
    let table = Tbl::open(&path, &BlockOptions::default())
        .unwrap()
        .with_cache(8, stingy.clone());
    assert!(!table.pin_blocks().unwrap());
    assert_eq!(table.pinned_bytes(), 0);
    table.get(b"key:000010", &mut Stats::default()).unwrap();
    assert_eq!(stingy.blocks.lock().unwrap().len(), 1);
    // A table without a cache has nothing to pin into.
    assert!(
        !Tbl::open(&path, &BlockOptions::default())
            .unwrap()
            .pin_blocks()
            .unwrap()
    );
}

#[test]
fn forgetting_takes_a_tables_blocks_out_of_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.blk");
    let data = entries(2000);
    write(&path, &data);
    let (table, cache) = open_cached(&path, 7);
    for key in data.keys() {
        table.get(key, &mut Stats::default()).unwrap();
    }
    assert!(cache.blocks.lock().unwrap().len() > 1);
    table.forget_cached();
    assert!(cache.blocks.lock().unwrap().is_empty());
}
