#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

//! Directory states that a crash (or one flipped bit) can leave, built by hand so that each is
//! tested every time rather than when a SIGKILL happens to land in the right microsecond.

use std::fs;
use std::path::{Path, PathBuf};

use rkv_07_engine::{Engine, EngineOptions};

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "LOCK")
        .collect();
    names.sort();
    names
}

fn only(dir: &Path, ext: &str) -> PathBuf {
    let found: Vec<String> = names(dir)
        .into_iter()
        .filter(|n| n.ends_with(ext))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    dir.join(&found[0])
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for name in names(from) {
        fs::copy(from.join(&name), to.join(&name)).unwrap();
    }
}

/// A rotation numbers the new log when the memtable fills, but the manifest hears of that
/// number only when the flush is recorded. Killed in between — say while a compaction that took
/// a few file numbers of its own was running — the directory holds a log numbered at or above
/// the manifest's next file number. Recovery must then not hand that number out again: its
/// fresh log would take the replayed log's name and be deleted with it, and every write after
/// the recovery would go to an unlinked file. Renaming the log simulates the state for a range
/// of numbers.
#[test]
fn a_log_numbered_ahead_of_the_manifest_is_not_reused_after_recovery() {
    for ahead in 1..12 {
        let dir = tempfile::tempdir().unwrap();
        {
            let engine = Engine::open(dir.path(), EngineOptions::default()).unwrap();
            engine.put(b"before", b"in the old log").unwrap();
        } // dropped without a flush: the write is only in the log
        let log = only(dir.path(), ".log");
        let number: u64 = log.file_stem().unwrap().to_str().unwrap().parse().unwrap();
        fs::rename(&log, dir.path().join(format!("{:06}.log", number + ahead))).unwrap();
        {
            let engine = Engine::open(dir.path(), EngineOptions::default()).unwrap();
            engine.put(b"after", b"in the new log").unwrap();
        }
        assert!(
            names(dir.path()).iter().any(|n| n.ends_with(".log")),
            "ahead by {ahead}: the live log was deleted: {:?}",
            names(dir.path())
        );
        let engine = Engine::open(dir.path(), EngineOptions::default()).unwrap();
        assert_eq!(
            engine.get(b"before").unwrap().as_deref(),
            Some(&b"in the old log"[..]),
            "ahead by {ahead}"
        );
        assert_eq!(
            engine.get(b"after").unwrap().as_deref(),
            Some(&b"in the new log"[..]),
            "ahead by {ahead}: a write acknowledged after recovery was lost"
        );
    }
}

/// `CURRENT` names the manifest. A flipped bit in it can name another, missing manifest; opening
/// that would start from an empty manifest and delete every table as a leftover. Every single-bit
/// flip must instead be refused, and destroy nothing.
#[test]
fn every_bit_flip_in_current_is_refused_and_destroys_nothing() {
    let dir = tempfile::tempdir().unwrap();
    {
        let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
        for i in 0..200u32 {
            engine
                .put(format!("key{i:04}").as_bytes(), &[b'v'; 40])
                .unwrap();
        }
        engine.flush().unwrap();
    }
    let before = names(dir.path());
    let current = dir.path().join("CURRENT");
    let good = fs::read(&current).unwrap();
    for at in 0..good.len() {
        for bit in 0..8 {
            let mut bad = good.clone();
            bad[at] ^= 1 << bit;
            fs::write(&current, &bad).unwrap();
            let opened = Engine::open(dir.path(), EngineOptions::tiny());
            assert!(
                opened.is_err(),
                "CURRENT {:?} was accepted",
                String::from_utf8_lossy(&bad)
            );
            assert_eq!(names(dir.path()), before, "a refused open changed files");
        }
    }
    fs::write(&current, &good).unwrap();
    let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
    assert_eq!(engine.scan(None, None).unwrap().count(), 200);
}

/// Opening writes a fresh manifest, then points `CURRENT` at it. Killed between the two, the
/// directory holds the new manifest with its snapshot record while `CURRENT` still names the
/// old one. The next open picks the same number for its fresh manifest; it must start that file
/// anew, not append to it — replaying two snapshots would list every table twice.
#[test]
fn a_manifest_left_by_a_crash_during_open_is_not_replayed_twice() {
    let scratch = tempfile::tempdir().unwrap();
    let crashed = scratch.path().join("crashed");
    let finished = scratch.path().join("finished");
    {
        let engine = Engine::open(&crashed, EngineOptions::tiny()).unwrap();
        for i in 0..300u32 {
            engine
                .put(format!("key{i:04}").as_bytes(), &[b'v'; 40])
                .unwrap();
        }
        engine.flush().unwrap();
    }
    copy_dir(&crashed, &finished);
    drop(Engine::open(&finished, EngineOptions::tiny()).unwrap());
    // The open of `finished` wrote this manifest; its first record is the snapshot that the
    // crashed open had written when it was killed.
    let manifest = only(&finished, ".manifest");
    let bytes = fs::read(&manifest).unwrap();
    let le = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    // File header 12 bytes; record: two CRCs (8), kind (1), key_len, value_len (4 + 4), key, value.
    let first_record_end = 12 + 17 + le(12 + 9) + le(12 + 13);
    let name = manifest.file_name().unwrap();
    fs::write(crashed.join(name), &bytes[..first_record_end]).unwrap();
    assert_ne!(
        fs::read_to_string(crashed.join("CURRENT")).unwrap(),
        format!("{}\n", name.to_str().unwrap())
    );

    for _ in 0..2 {
        let engine = Engine::open(&crashed, EngineOptions::tiny()).unwrap();
        let inspect = engine.inspect().unwrap();
        let listed: Vec<&str> = inspect
            .lines()
            .filter_map(|l| l.strip_prefix("  ")?.split(' ').next())
            .collect();
        let distinct: std::collections::BTreeSet<&str> = listed.iter().copied().collect();
        assert_eq!(
            listed.len(),
            distinct.len(),
            "a table is listed twice:\n{inspect}"
        );
        assert_eq!(engine.scan(None, None).unwrap().count(), 300);
    }
}
