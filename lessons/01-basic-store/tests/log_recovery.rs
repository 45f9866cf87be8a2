//! Lesson 01's own tests: what replay does with torn tails, corruption and foreign files, and
//! the permissions of what it creates.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::fs::{self, OpenOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rkv_01_basic_store::{LOG_FILE, Options, Store, wal};
use rkv_contract::{Error, KvStore};

fn open(dir: &Path) -> Result<Store, Error> {
    Store::open(dir, Options::default())
}

fn write_three(dir: &Path) -> u64 {
    let mut store = open(dir).unwrap();
    store.put(b"one", b"1").unwrap();
    store.put(b"two", b"22").unwrap();
    let before_last = fs::metadata(dir.join(LOG_FILE)).unwrap().len();
    store.put(b"three", b"333").unwrap();
    before_last
}

#[test]
fn every_torn_tail_of_the_last_record_is_dropped() {
    let scratch = tempfile::tempdir().unwrap();
    let reference = scratch.path().join("reference");
    let last_start = write_three(&reference);
    let full = fs::read(reference.join(LOG_FILE)).unwrap();
    // Cut the file at every byte inside the last record.
    for cut in last_start..full.len() as u64 {
        let dir = scratch.path().join(format!("cut-{cut}"));
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join(LOG_FILE), &full[..cut as usize]).unwrap();
        let mut store = open(&dir).unwrap();
        assert_eq!(store.get(b"one").unwrap().as_deref(), Some(&b"1"[..]));
        assert_eq!(store.get(b"two").unwrap().as_deref(), Some(&b"22"[..]));
        assert_eq!(store.get(b"three").unwrap(), None, "cut at {cut}");
        // The torn tail was cut off, so a new write follows the last whole record.
        store.put(b"four", b"4").unwrap();
        drop(store);
        assert_eq!(
            fs::metadata(dir.join(LOG_FILE)).unwrap().len(),
            last_start + 14
        );
        let mut store = open(&dir).unwrap();
        assert_eq!(store.get(b"four").unwrap().as_deref(), Some(&b"4"[..]));
    }
}

#[test]
fn a_torn_header_of_a_new_log_is_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(LOG_FILE), &wal::MAGIC[..5]).unwrap();
    let mut store = open(dir.path()).unwrap();
    store.put(b"k", b"v").unwrap();
    drop(store);
    let mut store = open(dir.path()).unwrap();
    assert_eq!(store.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
}

#[test]
fn an_unknown_record_kind_in_the_middle_is_corruption_at_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    write_three(dir.path());
    let path = dir.path().join(LOG_FILE);
    let mut bytes = fs::read(&path).unwrap();
    // The second record starts after the header and the first record (9 + 3 + 1 bytes).
    let second = wal::HEADER_LEN as usize + wal::RECORD_HEADER_LEN + 4;
    bytes[second] = 7;
    fs::write(&path, &bytes).unwrap();
    match open(dir.path()) {
        Err(Error::Corruption { file, offset, what }) => {
            assert_eq!(file, path);
            assert_eq!(offset, second as u64);
            assert!(what.contains("kind 7"), "{what}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn a_huge_length_is_corruption_not_an_allocation() {
    let dir = tempfile::tempdir().unwrap();
    write_three(dir.path());
    let path = dir.path().join(LOG_FILE);
    let mut bytes = fs::read(&path).unwrap();
    let first_key_len = wal::HEADER_LEN as usize + 1;
    bytes[first_key_len..first_key_len + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        open(dir.path()),
        Err(Error::Corruption { offset: 12, .. })
    ));
}

#[test]
fn a_foreign_file_is_a_format_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(LOG_FILE), b"SQLite format 3\0 and more").unwrap();
    assert!(matches!(open(dir.path()), Err(Error::Format { .. })));

    let dir = tempfile::tempdir().unwrap();
    let mut header = wal::MAGIC.to_vec();
    header.extend_from_slice(&99u32.to_le_bytes());
    fs::write(dir.path().join(LOG_FILE), &header).unwrap();
    match open(dir.path()) {
        Err(e @ Error::Format { .. }) => assert!(e.to_string().contains("version 1")),
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn directory_is_private_and_files_are_private() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let mut store = open(&dir).unwrap();
    store.put(b"secret", b"value").unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(LOG_FILE)), 0o600);
    assert_eq!(mode(&dir.join("LOCK")), 0o600);
}

#[test]
fn the_lock_is_released_when_the_store_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path()).unwrap();
    assert!(matches!(open(dir.path()), Err(Error::Locked { .. })));
    drop(first);
    open(dir.path()).unwrap();
    // A leftover LOCK file from a dead process does not block anyone: the lock is not the file.
    OpenOptions::new()
        .write(true)
        .open(dir.path().join("LOCK"))
        .unwrap();
    open(dir.path()).unwrap();
}

#[test]
fn stats_count_operations_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path()).unwrap();
    store.put(b"ab", b"cde").unwrap();
    store.delete(b"ab").unwrap();
    store.get(b"ab").unwrap();
    let stats = store.stats();
    assert_eq!((stats.puts, stats.deletes, stats.gets), (1, 1, 1));
    assert_eq!(stats.user_bytes_written, 5 + 2);
    // Two records: 9-byte fixed part each, plus key and value bytes.
    assert_eq!(stats.disk_bytes_written, (9 + 5) + (9 + 2));
    store.reset_stats();
    assert_eq!(store.stats(), rkv_contract::Stats::default());
}

#[test]
fn a_directory_of_another_stage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("000001.sst"), b"not ours").unwrap();
    match open(dir.path()) {
        Err(e @ Error::Format { .. }) => assert!(e.to_string().contains("000001.sst"), "{e}"),
        other => panic!("expected a format error, got {other:?}"),
    }
}
