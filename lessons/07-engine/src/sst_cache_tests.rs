//! The engine's table read through the block cache: a repeated read comes from the cache, a
//! cached table answers exactly as lesson 06's table does, pinned blocks answer every read and
//! give their room back, and a table about to be deleted takes its blocks out.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use rkv_01_basic_store::Value;
use rkv_02_sstables::Table;
use rkv_05_compression::{BlockOptions, Codec};
use rkv_contract::Stats;

use crate::cache::BlockCache;
use crate::sst::{Sst, TableFormat};

fn entries(n: u32) -> BTreeMap<Vec<u8>, Value> {
    (0..n)
        .map(|i| {
            let value = if i % 7 == 3 {
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
    Sst::write(&mut file, path, &mut iter, &options).unwrap();
}

/// The table at `path` with a cache of `capacity` bytes, under id `table_id`.
fn open_cached(path: &Path, table_id: u64, capacity: u64) -> (Sst, Arc<BlockCache>) {
    let cache = Arc::new(BlockCache::new(capacity));
    let table = Sst::open(path, &BlockOptions::default())
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
    let (table, _cache) = open_cached(&path, 1, 1 << 20);

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
    assert_eq!((second.blocks_read, second.bytes_read), (0, 0));
}

#[test]
fn a_cached_table_reads_the_same_as_lesson_06s_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000002.sst");
    write(&path, &entries(3000));
    let plain = TableFormat::open(&path, &BlockOptions::default()).unwrap();
    let (cached, cache) = open_cached(&path, 2, 1 << 20);
    // Twice: once filling the cache, once reading from it.
    for _ in 0..2 {
        for i in (0..3100).step_by(17) {
            let key = format!("key:{i:06}").into_bytes();
            let (mut ours, mut theirs) = (Stats::default(), Stats::default());
            assert_eq!(
                cached.seek(&key, &mut ours).unwrap(),
                plain.seek(&key, &mut theirs).unwrap()
            );
            assert_eq!(
                cached.get(&key, &mut ours).unwrap(),
                plain.get(&key, &mut theirs).unwrap()
            );
        }
        for i in 0..cached.block_count() {
            let ours: Vec<_> =
                rkv_05_compression::block::Block::entries_from(cached.data_block(i).unwrap(), None)
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
            let theirs: Vec<_> = plain
                .read_data_block(i, &mut Stats::default())
                .unwrap()
                .entries_from(None)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(ours, theirs);
        }
    }
    assert!(cache.len() > 0);
}

#[test]
fn pinned_blocks_answer_every_read_and_give_their_room_back_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000007.sst");
    let data = entries(2000);
    write(&path, &data);
    let (table, cache) = open_cached(&path, 7, 1 << 20);
    assert!(table.pin_blocks().unwrap());
    let reserved = cache.pinned_bytes();
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
    assert_eq!((stats.blocks_read, stats.cache_misses), (0, 0));
    assert_eq!(stats.cache_hits, data.len() as u64);
    assert!(cache.len() == 0);
    drop(table);
    assert_eq!(cache.pinned_bytes(), 0);

    // A cache too small for the table pins nothing, and reads go through it as before.
    let (table, small) = open_cached(&path, 8, 4096);
    assert!(!table.pin_blocks().unwrap());
    assert_eq!((table.pinned_bytes(), small.pinned_bytes()), (0, 0));
    table.get(b"key:000010", &mut Stats::default()).unwrap();
    assert_eq!(small.len(), 1);
    // A table without a cache has nothing to pin into.
    let uncached = Sst::open(&path, &BlockOptions::default()).unwrap();
    assert!(!uncached.pin_blocks().unwrap());
}

#[test]
fn forgetting_takes_a_tables_blocks_out_of_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000009.sst");
    let data = entries(2000);
    write(&path, &data);
    let (table, cache) = open_cached(&path, 9, 1 << 20);
    for key in data.keys() {
        table.get(key, &mut Stats::default()).unwrap();
    }
    assert!(cache.len() > 1);
    table.forget_cached();
    assert!(cache.len() == 0);
}
