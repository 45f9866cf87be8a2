//! The checksummed log's recovery rule: a torn tail is dropped, anything else is corruption.
//!
//! A log is cut at every byte of its last record (what SIGKILL can leave) and must open without
//! that record; every bit of every record is flipped (what a bad disk can leave) and must fail
//! with `Error::Corruption` naming the log and the damaged record's offset, leaving the file as
//! it was.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::fs;
use std::path::Path;

use rkv_01_basic_store::{DataDir, Log, Value};
use rkv_06_checksums::checksummed_log::{self, ChecksummedLog, HEADER_LEN};
use rkv_06_checksums::{Options, Store};
use rkv_contract::{Error, KvStore, Result, SyncMode};

const NAME: &str = "000001.log";

fn records() -> Vec<(Vec<u8>, Value)> {
    vec![
        (b"alpha".to_vec(), Value::Put(b"first value".to_vec())),
        (b"beta".to_vec(), Value::Put(Vec::new())),
        (b"alpha".to_vec(), Value::Tombstone),
        (vec![0, 255, 10], Value::Put(vec![7; 120])),
        (
            b"last".to_vec(),
            Value::Put(b"the record that gets torn".to_vec()),
        ),
    ]
}

/// Writes `records()` as a log in `dir`; returns each record's offset and the file's length.
fn write_log(dir: &Path) -> (Vec<u64>, u64) {
    let data_dir = DataDir::open(dir).unwrap();
    let mut log = ChecksummedLog::open(&data_dir, NAME, SyncMode::Never, &mut |_, _| {}).unwrap();
    let mut offsets = Vec::new();
    let mut at = HEADER_LEN;
    for (key, value) in records() {
        offsets.push(at);
        at += log.append(&key, &value).unwrap();
    }
    (offsets, at)
}

/// Opens the log in `dir` and returns the records it replays.
fn replay(dir: &Path) -> Result<Vec<(Vec<u8>, Value)>> {
    let data_dir = DataDir::open(dir)?;
    let mut seen = Vec::new();
    ChecksummedLog::open(&data_dir, NAME, SyncMode::Never, &mut |k, v| {
        seen.push((k, v))
    })?;
    Ok(seen)
}

#[test]
fn a_whole_log_replays_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let (_, len) = write_log(dir.path());
    assert_eq!(replay(dir.path()).unwrap(), records());
    assert_eq!(fs::metadata(dir.path().join(NAME)).unwrap().len(), len);
}

// ANCHOR: torn_tail_test
#[test]
fn a_torn_tail_at_every_byte_of_the_last_record_is_dropped_and_cut_off() {
    let template = tempfile::tempdir().unwrap();
    let (offsets, len) = write_log(template.path());
    let whole = fs::read(template.path().join(NAME)).unwrap();
    let last = *offsets.last().unwrap();
    for cut in last..len {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(NAME);
        fs::write(&path, &whole[..cut as usize]).unwrap();
        let replayed = replay(dir.path()).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(replayed, records()[..4], "cut at {cut}");
        assert_eq!(
            fs::metadata(&path).unwrap().len(),
            last,
            "cut at {cut}: the torn bytes are gone"
        );
        // The next append lands right after the last whole record and survives a reopen.
        {
            let data_dir = DataDir::open(dir.path()).unwrap();
            let mut log =
                ChecksummedLog::open(&data_dir, NAME, SyncMode::Never, &mut |_, _| {}).unwrap();
            log.append(b"after", &Value::Put(b"recovery".to_vec()))
                .unwrap();
        }
        let again = replay(dir.path()).unwrap();
        assert_eq!(again.len(), 5, "cut at {cut}");
        assert_eq!(
            again[4],
            (b"after".to_vec(), Value::Put(b"recovery".to_vec()))
        );
    }
}
// ANCHOR_END: torn_tail_test

// ANCHOR: corruption_test
#[test]
fn a_flipped_bit_in_any_record_is_corruption_at_that_record() {
    let template = tempfile::tempdir().unwrap();
    let (offsets, len) = write_log(template.path());
    let whole = fs::read(template.path().join(NAME)).unwrap();
    let mut ends = offsets[1..].to_vec();
    ends.push(len);
    for (record, (&start, &end)) in offsets.iter().zip(&ends).enumerate() {
        for bit in start * 8..end * 8 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(NAME);
            let mut damaged = whole.clone();
            damaged[(bit / 8) as usize] ^= 1 << (bit % 8);
            fs::write(&path, &damaged).unwrap();
            match replay(dir.path()) {
                Err(Error::Corruption { file, offset, .. }) => {
                    assert_eq!(file, path);
                    assert_eq!(offset, start, "record {record}, bit {bit}");
                }
                other => panic!("record {record}, bit {bit}: expected corruption, got {other:?}"),
            }
            assert_eq!(
                fs::read(&path).unwrap(),
                damaged,
                "the log is left as found"
            );
        }
    }
}
// ANCHOR_END: corruption_test

/// The last record is complete, so it may have been acknowledged: a bad checksum there is not a
/// torn write (a torn write is shorter, never different) and must not be dropped in silence.
#[test]
fn a_bad_checksum_on_a_complete_last_record_is_corruption_not_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (offsets, len) = write_log(dir.path());
    let path = dir.path().join(NAME);
    // The last byte of the value: the record still ends exactly at the end of the file.
    let mut bytes = fs::read(&path).unwrap();
    bytes[len as usize - 1] ^= 0x20;
    fs::write(&path, &bytes).unwrap();
    match replay(dir.path()) {
        Err(Error::Corruption { offset, what, .. }) => {
            assert_eq!(offset, offsets[4]);
            assert!(what.contains("checksum"), "{what}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}

/// Without a checksum on the lengths, this flip would make record 1 claim a megabyte, run past
/// the end of the file and look torn — and replay would drop records 1 to 4, all acknowledged.
#[test]
fn a_length_flipped_past_the_end_of_the_file_is_corruption_not_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (offsets, len) = write_log(dir.path());
    let path = dir.path().join(NAME);
    let mut bytes = fs::read(&path).unwrap();
    // Record 1's value_len: after two checksums (8), kind (1) and key_len (4). Bit 20 = 1 MiB,
    // well within the contract's limit, well past the end of the file.
    let value_len_at = offsets[1] as usize + 8 + 1 + 4;
    bytes[value_len_at + 2] ^= 0x10;
    fs::write(&path, &bytes).unwrap();
    match replay(dir.path()) {
        Err(Error::Corruption { offset, what, .. }) => {
            assert_eq!(offset, offsets[1]);
            assert!(what.contains("header checksum"), "{what}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    assert_eq!(
        fs::metadata(&path).unwrap().len(),
        len,
        "nothing was cut off"
    );
}

#[test]
fn lesson_01_and_lesson_06_logs_refuse_each_other() {
    let ours = tempfile::tempdir().unwrap();
    write_log(ours.path());
    let data_dir = DataDir::open(ours.path()).unwrap();
    match <Log>::open(&data_dir, NAME, SyncMode::Never, |_, _| {}) {
        Err(Error::Format { .. }) => {}
        other => panic!("lesson 01 opened a lesson-06 log: {other:?}"),
    }
    drop(data_dir);

    let theirs = tempfile::tempdir().unwrap();
    {
        let data_dir = DataDir::open(theirs.path()).unwrap();
        let mut log = <Log>::open(&data_dir, NAME, SyncMode::Never, |_, _| {}).unwrap();
        log.append(b"k", &Value::Put(b"v".to_vec())).unwrap();
    }
    match replay(theirs.path()) {
        Err(e @ Error::Format { .. }) => assert!(e.to_string().contains("version 2"), "{e}"),
        other => panic!("lesson 06 opened a lesson-01 log: {other:?}"),
    }
}

#[test]
fn a_torn_file_header_starts_a_fresh_log() {
    for cut in 0..HEADER_LEN as usize {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path());
        let path = dir.path().join(NAME);
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..cut]).unwrap();
        assert_eq!(replay(dir.path()).unwrap(), vec![], "cut at {cut}");
        assert_eq!(fs::metadata(&path).unwrap().len(), HEADER_LEN);
    }
}

/// The same rule, seen through the whole store: a torn tail costs the unacknowledged write only;
/// a damaged record in the middle stops the open and names the log and the offset.
#[test]
fn the_store_drops_a_torn_tail_and_refuses_a_damaged_middle() {
    let options = || Options {
        memtable_bytes: 1 << 20,
        ..Default::default()
    };
    let template = tempfile::tempdir().unwrap();
    let mut offsets = Vec::new();
    let mut at = HEADER_LEN;
    {
        let mut store = Store::open(template.path(), options()).unwrap();
        for i in 0..10u8 {
            let (key, value) = ([b'k', i], vec![i; 40]);
            store.put(&key, &value).unwrap();
            let mut encoded = Vec::new();
            checksummed_log::encode_record(&key, &Value::Put(value), &mut encoded);
            offsets.push(at);
            at += encoded.len() as u64;
        }
    }
    let log_name = fs::read_dir(template.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.ends_with(".log"))
        .unwrap();
    let whole = fs::read(template.path().join(&log_name)).unwrap();
    assert_eq!(whole.len() as u64, at);

    // Torn: the last record loses its last 5 bytes.
    let torn = tempfile::tempdir().unwrap();
    fs::write(torn.path().join(&log_name), &whole[..whole.len() - 5]).unwrap();
    let mut store = Store::open(torn.path(), options()).unwrap();
    assert_eq!(store.get(&[b'k', 8]).unwrap(), Some(vec![8; 40]));
    assert_eq!(store.get(&[b'k', 9]).unwrap(), None);
    drop(store);

    // Damaged: one bit in the value of record 3.
    let damaged = tempfile::tempdir().unwrap();
    let path = damaged.path().join(&log_name);
    let mut bytes = whole.clone();
    bytes[offsets[3] as usize + 30] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    match Store::open(damaged.path(), options()) {
        Err(Error::Corruption { file, offset, .. }) => {
            assert_eq!((file, offset), (path.clone(), offsets[3]));
        }
        Err(other) => panic!("expected corruption, got {other}"),
        Ok(_) => panic!("a store with a damaged log record opened"),
    }
    assert_eq!(fs::read(&path).unwrap(), bytes, "the evidence is kept");
}
