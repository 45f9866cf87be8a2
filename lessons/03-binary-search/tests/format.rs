//! Lesson 03's own tests of the file format: lesson 02 and lesson 03 refuse each other's tables,
//! and a damaged table — cut short, a bad footer, a bad offsets array, a bad length inside a
//! record, keys out of order, any single byte changed — is an error naming the file and the
//! offset, never a panic and never a huge allocation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use rkv_01_basic_store::Value;
use rkv_02_sstables::{NoOptions, ScanTable, Table};
use rkv_03_binary_search::indexed_table::{FOOTER_LEN, HEADER_LEN};
use rkv_03_binary_search::{IndexedTable, Options, Store};
use rkv_contract::{Error, KvStore, Stats};

const ENTRIES: usize = 21;

fn key(i: usize) -> Vec<u8> {
    format!("key{i:03}").into_bytes()
}

/// Writes a table of `ENTRIES` keys with table format `T` at `dir/000001.sst`.
fn write<T: Table<Options = NoOptions>>(dir: &Path) -> PathBuf {
    let path = dir.join("000001.sst");
    let mut file = File::create(&path).unwrap();
    let mut entries =
        (0..ENTRIES).map(|i| Ok((key(i), Value::Put(format!("value{i}").into_bytes()))));
    T::write(&mut file, &path, &mut entries, &NoOptions).unwrap();
    path
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// The offsets array of a lesson-03 table, read straight from its bytes.
fn offsets(bytes: &[u8]) -> (usize, Vec<u64>) {
    let footer = bytes.len() - FOOTER_LEN as usize;
    let entries = u64_at(bytes, footer) as usize;
    let index_start = u64_at(bytes, footer + 8) as usize;
    let offsets = (0..entries)
        .map(|i| u64_at(bytes, index_start + 8 * i))
        .collect();
    (index_start, offsets)
}

/// Opens the table and reads every key and a full range: the first error, if any.
fn exercise(path: &Path) -> Result<(), Error> {
    let table = IndexedTable::open(path, &NoOptions)?;
    let mut stats = Stats::default();
    for i in 0..=ENTRIES {
        table.get(&key(i), &mut stats)?;
    }
    for entry in table.range(None, None)? {
        entry?;
    }
    Ok(())
}

fn expect_corruption(result: Result<(), Error>, path: &Path, at: u64, what: &str) {
    match result {
        Err(Error::Corruption {
            file,
            offset,
            what: why,
        }) => {
            assert_eq!(file, path);
            assert_eq!(offset, at, "{why}");
            assert!(why.contains(what), "{why:?} should mention {what:?}");
        }
        other => panic!("expected corruption at {at} ({what}), got {other:?}"),
    }
}

// ANCHOR: format_mismatch
#[test]
fn lesson_02_and_lesson_03_refuse_each_others_tables() {
    let dir = tempfile::tempdir().unwrap();
    let old = write::<ScanTable>(dir.path());
    match IndexedTable::open(&old, &NoOptions) {
        Err(e @ Error::Format { .. }) => assert!(e.to_string().contains("lesson-03"), "{e}"),
        other => panic!("lesson 03 opened a lesson-02 table: {other:?}"),
    }
    let new = write::<IndexedTable>(dir.path());
    match ScanTable::open(&new, &NoOptions) {
        Err(e @ Error::Format { .. }) => assert!(e.to_string().contains("lesson-02"), "{e}"),
        other => panic!("lesson 02 opened a lesson-03 table: {other:?}"),
    }
}
// ANCHOR_END: format_mismatch

#[test]
fn a_store_of_the_other_lesson_is_a_format_error() {
    let options_02 = rkv_02_sstables::Options {
        memtable_bytes: 1 << 20,
        ..Default::default()
    };
    let options_03 = Options {
        memtable_bytes: 1 << 20,
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = rkv_02_sstables::Store::open(dir.path(), options_02.clone()).unwrap();
        store.put(b"k", b"v").unwrap();
        store.flush().unwrap();
    }
    assert!(matches!(
        Store::open(dir.path(), options_03.clone()),
        Err(Error::Format { .. })
    ));

    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(dir.path(), options_03).unwrap();
        store.put(b"k", b"v").unwrap();
        store.flush().unwrap();
    }
    assert!(matches!(
        rkv_02_sstables::Store::open(dir.path(), options_02),
        Err(Error::Format { .. })
    ));
}

#[test]
fn another_version_or_a_short_file_is_a_format_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write::<IndexedTable>(dir.path());
    let bytes = fs::read(&path).unwrap();
    let mut newer = bytes.clone();
    newer[8] = 2;
    for contents in [&newer[..], &bytes[..5], &[][..]] {
        fs::write(&path, contents).unwrap();
        assert!(
            matches!(exercise(&path), Err(Error::Format { .. })),
            "{} bytes",
            contents.len()
        );
    }
}

#[test]
fn a_table_cut_short_anywhere_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let path = write::<IndexedTable>(dir.path());
    let bytes = fs::read(&path).unwrap();
    for cut in HEADER_LEN as usize..bytes.len() {
        fs::write(&path, &bytes[..cut]).unwrap();
        match exercise(&path) {
            Err(Error::Corruption { file, .. }) => assert_eq!(file, path),
            other => panic!("cut at {cut}: expected corruption, got {other:?}"),
        }
    }
}

#[test]
fn a_footer_that_does_not_fit_the_file_is_corruption_at_the_footer() {
    let dir = tempfile::tempdir().unwrap();
    let path = write::<IndexedTable>(dir.path());
    let bytes = fs::read(&path).unwrap();
    let footer = bytes.len() - FOOTER_LEN as usize;
    // Entry counts and array positions that would overflow, overlap or leave a gap.
    for (field, value) in [
        (0, ENTRIES as u64 + 1),
        (0, ENTRIES as u64 - 1),
        (0, u64::MAX),
        (0, u64::MAX / 8 + 1),
        (8, 0),
        (8, u64::MAX),
        (8, footer as u64),
    ] {
        let mut bad = bytes.clone();
        bad[footer + field..footer + field + 8].copy_from_slice(&value.to_le_bytes());
        fs::write(&path, &bad).unwrap();
        expect_corruption(exercise(&path), &path, footer as u64, "does not fit");
    }
}

// ANCHOR: bad_offsets
#[test]
fn an_offsets_array_out_of_order_or_outside_the_records_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let path = write::<IndexedTable>(dir.path());
    let bytes = fs::read(&path).unwrap();
    let (index_start, offsets) = offsets(&bytes);
    let entry_at = |i: usize| index_start + 8 * i;
    let cases: Vec<(usize, u64, usize, &str)> = vec![
        // (entry changed, new offset, entry blamed, message)
        (0, 0, 0, "not right after"),
        (0, offsets[1], 0, "not right after"),
        (5, offsets[7], 5, "offsets must ascend"),
        (5, offsets[4], 4, "offsets must ascend"),
        (
            ENTRIES - 1,
            index_start as u64,
            ENTRIES - 1,
            "offsets must ascend",
        ),
        (ENTRIES - 1, u64::MAX, ENTRIES - 2, "offsets must ascend"),
    ];
    for (entry, offset, blamed, what) in cases {
        let mut bad = bytes.clone();
        bad[entry_at(entry)..entry_at(entry) + 8].copy_from_slice(&offset.to_le_bytes());
        fs::write(&path, &bad).unwrap();
        expect_corruption(exercise(&path), &path, entry_at(blamed) as u64, what);
    }
    // An offset moved by one byte still ascends, so open accepts it; the first read of that
    // record finds a fixed part that does not fit its span.
    let mut bad = bytes.clone();
    let moved = offsets[5] + 1;
    bad[entry_at(5)..entry_at(5) + 8].copy_from_slice(&moved.to_le_bytes());
    fs::write(&path, &bad).unwrap();
    expect_corruption(exercise(&path), &path, moved, "does not fit its");
}
// ANCHOR_END: bad_offsets

#[test]
fn a_bad_length_inside_a_record_is_corruption_at_that_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = write::<IndexedTable>(dir.path());
    let bytes = fs::read(&path).unwrap();
    let (_, offsets) = offsets(&bytes);
    // The first probe of every search is the middle record.
    let middle = ENTRIES / 2;
    let at = offsets[middle] as usize;
    let set = |field: usize, value: u32| {
        let mut bad = bytes.clone();
        bad[at + field..at + field + 4].copy_from_slice(&value.to_le_bytes());
        fs::write(&path, &bad).unwrap();
    };
    // A key length beyond the contract, or beyond the record: found at the first probe,
    // before anything is allocated.
    for key_len in [u32::MAX, 1 << 20, 100] {
        set(1, key_len);
        expect_corruption(exercise(&path), &path, at as u64, "does not fit its");
    }
    // A value length beyond the contract, or not matching the record's span: found when the
    // record is read whole.
    set(5, u32::MAX);
    expect_corruption(exercise(&path), &path, at as u64, "exceed the limits");
    set(5, 3);
    expect_corruption(exercise(&path), &path, at as u64, "offsets array gives it");
    set(5, 30);
    expect_corruption(exercise(&path), &path, at as u64, "runs past");
    // An unknown record kind.
    let mut bad = bytes.clone();
    bad[at] = 7;
    fs::write(&path, &bad).unwrap();
    expect_corruption(exercise(&path), &path, at as u64, "kind 7");
}

#[test]
fn keys_out_of_order_are_caught_by_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let path = write::<IndexedTable>(dir.path());
    let mut bytes = fs::read(&path).unwrap();
    let (_, offsets) = offsets(&bytes);
    // Records 3 and 4 have keys of the same length: give record 4 a key smaller than record 3's.
    let key_of_4 = offsets[4] as usize + 9;
    bytes[key_of_4..key_of_4 + 6].copy_from_slice(b"key000");
    fs::write(&path, &bytes).unwrap();
    let table = IndexedTable::open(&path, &NoOptions).unwrap();
    let error = table
        .range(None, None)
        .unwrap()
        .find_map(Result::err)
        .expect("a scan reports the order");
    assert!(matches!(error, Error::Corruption { offset, .. } if offset == offsets[4]));
}

/// Every single byte of the table replaced with two other values: each time, opening and
/// reading either works or fails with an error — never a panic. (Whether the answers are right
/// is lesson 06's promise, with checksums.)
#[test]
fn any_changed_byte_is_an_answer_or_an_error_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = write::<IndexedTable>(dir.path());
    let bytes = fs::read(&path).unwrap();
    for at in 0..bytes.len() {
        for flip in [0x01, 0xFF] {
            let mut bad = bytes.clone();
            bad[at] ^= flip;
            fs::write(&path, &bad).unwrap();
            let _ = exercise(&path);
        }
    }
}

#[test]
fn open_checks_only_the_header_footer_and_offsets_and_the_two_end_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = write::<IndexedTable>(dir.path());
    let table = IndexedTable::open(&path, &NoOptions).unwrap();
    let summary = table.summary();
    assert_eq!(summary.entries, ENTRIES as u64);
    assert_eq!(summary.smallest, key(0));
    assert_eq!(summary.largest, key(ENTRIES - 1));
    assert_eq!(summary.file_bytes, fs::metadata(&path).unwrap().len());
    assert_eq!(table.len(), ENTRIES);
}
