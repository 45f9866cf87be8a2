//! Lesson 05's own tests: tables of every codec and shape round-trip, lookups touch one block,
//! compression pays on repetitive data, and damaged or foreign files are errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::Path;

use proptest::prelude::*;
use rkv_01_basic_store::Value;
use rkv_02_sstables::{Table, TableSummary};
use rkv_05_compression::{Bare, BlockOptions, BlockTable, Codec};
use rkv_contract::{Error, Stats};

type Tbl = BlockTable<Bare>;

fn write(path: &Path, entries: &BTreeMap<Vec<u8>, Value>, options: &BlockOptions) -> TableSummary {
    let mut file = File::create(path).unwrap();
    let mut iter = entries.iter().map(|(k, v)| Ok((k.clone(), v.clone())));
    Tbl::write(&mut file, path, &mut iter, options).unwrap()
}

fn options(codec: Codec, block_bytes: usize, restart_interval: usize) -> BlockOptions {
    BlockOptions {
        block_bytes,
        restart_interval,
        compression: codec,
    }
}

fn sample(n: u32) -> BTreeMap<Vec<u8>, Value> {
    (0..n)
        .map(|i| {
            let key = format!("user:{:08}:profile", i * 3).into_bytes();
            let value = if i % 13 == 0 {
                Value::Tombstone
            } else {
                Value::Put(
                    format!(
                        "name=user{i} city=Paris country=France {}",
                        "x".repeat((i % 90) as usize)
                    )
                    .into_bytes(),
                )
            };
            (key, value)
        })
        .collect()
}

#[test]
fn every_codec_and_interval_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let entries = sample(3000);
    for codec in [Codec::None, Codec::Lz4, Codec::Zstd] {
        for interval in [1, 16] {
            let path = dir.path().join(format!("{codec}-{interval}.sst"));
            let written = write(&path, &entries, &options(codec, 4096, interval));
            let table = Tbl::open(&path, &BlockOptions::default()).unwrap();
            assert_eq!(table.summary(), &written);
            assert_eq!(written.entries, 3000);
            let mut stats = Stats::default();
            for (key, value) in &entries {
                assert_eq!(table.get(key, &mut stats).unwrap().as_ref(), Some(value));
            }
            assert_eq!(
                table.get(b"user:00000001:profile", &mut stats).unwrap(),
                None
            );
            assert_eq!(table.get(b"", &mut stats).unwrap(), None);
            assert_eq!(table.get(b"zzz", &mut stats).unwrap(), None);
            let all: Vec<_> = table
                .range(None, None)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(all, entries.clone().into_iter().collect::<Vec<_>>());
        }
    }
}

// ANCHOR: one_block
#[test]
fn a_lookup_reads_one_block_and_compares_few_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sst");
    let entries = sample(20_000);
    write(&path, &entries, &options(Codec::Lz4, 4096, 16));
    let table = Tbl::open(&path, &BlockOptions::default()).unwrap();
    let mut stats = Stats::default();
    let key = format!("user:{:08}:profile", 12_345 * 3).into_bytes();
    table.get(&key, &mut stats).unwrap();
    assert_eq!(stats.blocks_read, 1);
    // log2(blocks) for the index, log2(restarts) in the block, at most 16 entries scanned.
    assert!(stats.key_comparisons <= 12 + 6 + 16, "{stats:?}");
    assert!(stats.bytes_decompressed > 0);
}
// ANCHOR_END: one_block

// ANCHOR: shrinks
#[test]
fn compression_shrinks_repetitive_data() {
    let dir = tempfile::tempdir().unwrap();
    let entries = sample(5000);
    let size = |codec, interval| {
        let path = dir.path().join(format!("{codec}-{interval}"));
        write(&path, &entries, &options(codec, 4096, interval)).file_bytes
    };
    let plain = size(Codec::None, 1);
    let prefix = size(Codec::None, 16);
    let lz4 = size(Codec::Lz4, 16);
    let zstd = size(Codec::Zstd, 16);
    assert!(prefix < plain, "prefix compression saves key bytes");
    assert!(lz4 < prefix / 2, "lz4 {lz4} vs prefix {prefix}");
    assert!(zstd < lz4, "zstd {zstd} vs lz4 {lz4}");
}
// ANCHOR_END: shrinks

#[test]
fn ranges_respect_bounds_across_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sst");
    let entries = sample(2000);
    write(&path, &entries, &options(Codec::Zstd, 256, 4));
    let table = Tbl::open(&path, &BlockOptions::default()).unwrap();
    let keys: Vec<&Vec<u8>> = entries.keys().collect();
    for (a, b) in [(0usize, 1999usize), (17, 18), (100, 1500), (5, 5)] {
        let got: Vec<Vec<u8>> = table
            .range(Some(keys[a]), Some(keys[b]))
            .unwrap()
            .map(|e| e.unwrap().0)
            .collect();
        let want: Vec<Vec<u8>> = keys[a..b].iter().map(|k| (*k).clone()).collect();
        assert_eq!(got, want);
    }
}

#[test]
fn an_empty_table_opens_and_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sst");
    write(&path, &BTreeMap::new(), &BlockOptions::default());
    let table = Tbl::open(&path, &BlockOptions::default()).unwrap();
    assert_eq!(table.get(b"a", &mut Stats::default()).unwrap(), None);
    assert_eq!(table.range(None, None).unwrap().count(), 0);
}

#[test]
fn a_lesson_02_table_is_a_format_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sst");
    let mut file = File::create(&path).unwrap();
    let mut entries = sample(10).into_iter().map(Ok);
    rkv_02_sstables::ScanTable::write(&mut file, &path, &mut entries, &Default::default()).unwrap();
    assert!(matches!(
        Tbl::open(&path, &BlockOptions::default()),
        Err(Error::Format { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random tables, random shapes: every key is found, every absent probe is absent, and no
    /// byte of the file can be damaged into a panic (only into an error or, without checksums,
    /// possibly a different answer — lesson 06 closes that gap).
    #[test]
    fn random_tables_round_trip_and_damage_never_panics(
        entries in prop::collection::btree_map(
            prop::collection::vec(any::<u8>(), 0..12),
            prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
            0..200),
        probes in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..12), 0..20),
        block_bytes in 64usize..600,
        interval in 1usize..20,
        codec in prop_oneof![Just(Codec::None), Just(Codec::Lz4), Just(Codec::Zstd)],
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sst");
        let entries: BTreeMap<Vec<u8>, Value> = entries.into_iter()
            .map(|(k, v)| (k, v.map_or(Value::Tombstone, Value::Put))).collect();
        write(&path, &entries, &options(codec, block_bytes, interval));
        let table = Tbl::open(&path, &BlockOptions::default()).unwrap();
        let mut stats = Stats::default();
        for (k, v) in &entries {
            let got = table.get(k, &mut stats).unwrap();
            prop_assert_eq!(got.as_ref(), Some(v));
        }
        for probe in &probes {
            let got = table.get(probe, &mut stats).unwrap();
            prop_assert_eq!(got.as_ref(), entries.get(probe));
        }
        drop(table);

        let mut bytes = fs::read(&path).unwrap();
        for (at, xor) in damage {
            let i = at.index(bytes.len());
            bytes[i] ^= xor.max(1);
        }
        fs::write(&path, &bytes).unwrap();
        if let Ok(table) = Tbl::open(&path, &BlockOptions::default()) {
            for probe in entries.keys().chain(&probes) {
                let _ = table.get(probe, &mut stats);
            }
            if let Ok(iter) = table.range(None, None) {
                for _ in iter {}
            }
        }
    }
}
