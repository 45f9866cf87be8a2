//! Single-bit damage in every kind of file: each `get` answers the right value or an error.
//!
//! A store with several tables, a log with records in it and a `TABLES` file is written once.
//! Then, one flip at a time and always on a fresh copy of the directory, a bit is flipped in one
//! file, the store is opened, every key ever written is read, and the whole store is scanned.
//! A wrong value, a missing value or a panic fails the test; an error (from the open, a get or
//! the scan) is what damage must produce. Because every byte of every file is covered by a
//! checksum (or is a magic number or version, checked exactly), every flip must be *noticed* by
//! one of them — the test asserts that too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{
    Expected, block_keys, block_spans, build_store, copy_dir, flip, is_damage_error, store_files,
    tiny,
};
use rkv_06_checksums::Store;
use rkv_contract::{Error, KvStore};

/// Where damage was first noticed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Noticed {
    Open,
    Get,
    Scan,
}

/// Opens the store in `dir` and reads everything; panics on a wrong answer.
fn read_everything(dir: &Path, expected: &Expected, label: &str) -> Option<Noticed> {
    let mut store = match Store::open(dir, tiny()) {
        Ok(store) => store,
        Err(e) => {
            assert!(is_damage_error(&e), "{label}: open failed oddly: {e}");
            return Some(Noticed::Open);
        }
    };
    let mut noticed = None;
    for (key, want) in expected {
        match store.get(key) {
            Ok(got) => assert_eq!(
                &got,
                want,
                "{label}: WRONG VALUE for {}",
                key.escape_ascii()
            ),
            Err(e) => {
                assert!(is_damage_error(&e), "{label}: get failed oddly: {e}");
                noticed.get_or_insert(Noticed::Get);
            }
        }
    }
    let live: Vec<(Vec<u8>, Vec<u8>)> = expected
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
        .collect();
    let mut seen = 0;
    for item in store.scan(None, None).unwrap() {
        match item {
            Ok(entry) => {
                assert_eq!(Some(&entry), live.get(seen), "{label}: WRONG SCAN ENTRY");
                seen += 1;
            }
            Err(e) => {
                assert!(is_damage_error(&e), "{label}: scan failed oddly: {e}");
                noticed.get_or_insert(Noticed::Scan);
                return noticed;
            }
        }
    }
    assert_eq!(seen, live.len(), "{label}: the scan lost entries");
    noticed
}

/// Every byte of a small file; about `samples` spread-out bytes of a larger one, plus all of
/// its last 64 (the footer and the end of the index).
fn positions(len: usize, samples: usize, seed: usize) -> Vec<usize> {
    if len <= samples {
        return (0..len).collect();
    }
    let tail = len.saturating_sub(64);
    let stride = tail / samples + 1;
    let mut at: Vec<usize> = (0..tail)
        .step_by(stride)
        .map(|p| (p + seed * 13) % tail)
        .collect();
    at.extend(tail..len);
    at.sort_unstable();
    at.dedup();
    at
}

fn kind(name: &str) -> &'static str {
    if name.ends_with(".sst") {
        "table"
    } else if name.ends_with(".log") {
        "log"
    } else {
        "TABLES"
    }
}

// ANCHOR: bit_flip_test
#[test]
fn a_flipped_bit_in_any_file_is_an_error_never_a_wrong_value() {
    let template = tempfile::tempdir().unwrap();
    let expected = build_store(template.path(), tiny(), 150);
    let files = store_files(template.path());
    let count = |ext: &str| files.iter().filter(|n| n.ends_with(ext)).count();
    assert!(count(".sst") >= 3, "several tables: {files:?}");
    assert_eq!(count(".log"), 1);
    assert!(files.contains(&"TABLES".to_string()));
    let log_len = fs::metadata(
        template
            .path()
            .join(files.iter().find(|n| n.ends_with(".log")).unwrap()),
    )
    .unwrap()
    .len();
    assert!(log_len > 100, "the log holds records");

    // kind -> (flips, noticed at open, at a get, by the scan)
    let mut report: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for (file_number, name) in files.iter().enumerate() {
        let len = fs::metadata(template.path().join(name)).unwrap().len() as usize;
        for (n, at) in positions(len, 160, file_number).into_iter().enumerate() {
            let bit = ((at * 7 + file_number * 3 + n) % 8) as u32;
            let dir = tempfile::tempdir().unwrap();
            copy_dir(template.path(), dir.path());
            flip(&dir.path().join(name), at, bit);
            let label = format!("{name} byte {at} bit {bit}");
            let noticed = read_everything(dir.path(), &expected, &label);
            let row = report.entry(kind(name)).or_default();
            row[0] += 1;
            match noticed {
                Some(Noticed::Open) => row[1] += 1,
                Some(Noticed::Get) => row[2] += 1,
                Some(Noticed::Scan) => row[3] += 1,
                None => panic!("{label}: the damage went unnoticed"),
            }
        }
    }
    for (kind, [flips, open, get, scan]) in &report {
        eprintln!(
            "{kind:>6}: {flips} flips, noticed by open {open}, by a get {get}, by the scan {scan}"
        );
    }
    assert_eq!(report.len(), 3, "every kind of file was damaged");
}
// ANCHOR_END: bit_flip_test

/// The newest table (it answers for its keys), its second data block (the first is read at open
/// for `inspect`'s smallest key) and a key only that block can answer.
fn damage_second_block(dir: &Path, expected: &Expected) -> (String, usize, Vec<u8>) {
    let newest = store_files(dir)
        .into_iter()
        .filter(|n| n.ends_with(".sst"))
        .max()
        .unwrap();
    let path = dir.join(&newest);
    let bytes = fs::read(&path).unwrap();
    let (data, _) = block_spans(&bytes);
    assert!(data.len() >= 3, "{newest} has {} blocks", data.len());
    let span = data[1];
    let key = block_keys(&bytes, span)
        .into_iter()
        .find(|k| !k.starts_with(b"log") && k.as_slice() != b"key00001" && expected.contains_key(k))
        .unwrap();
    flip(&path, span.offset + span.size / 2, 3);
    (newest, span.offset, key)
}

#[test]
fn a_damaged_block_fails_the_gets_that_need_it_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let expected = build_store(dir.path(), tiny(), 150);
    let (table, block_offset, key) = damage_second_block(dir.path(), &expected);
    let mut store = Store::open(dir.path(), tiny()).unwrap();
    let mut failed = 0;
    for (k, want) in &expected {
        match store.get(k) {
            Ok(got) => assert_eq!(&got, want),
            Err(Error::Corruption { file, offset, what }) => {
                assert_eq!(file, dir.path().join(&table));
                assert_eq!(offset, block_offset as u64);
                assert!(what.contains("checksum mismatch"), "{what}");
                failed += 1;
            }
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    assert!(failed >= 1);
    assert!(store.get(&key).is_err());
    // The store is still usable: writes work, and so do reads elsewhere.
    store.put(b"new", b"value").unwrap();
    assert_eq!(store.get(b"new").unwrap(), Some(b"value".to_vec()));
}

// ANCHOR: shell_test
#[test]
fn the_shell_answers_err_for_a_damaged_block_and_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let expected = build_store(dir.path(), tiny(), 150);
    let (table, block_offset, key) = damage_second_block(dir.path(), &expected);
    let mut child = Command::new(env!("CARGO_BIN_EXE_rkv-06-checksums"))
        .arg("--dir")
        .arg(dir.path())
        .args(["--set", "memtable_bytes=600", "shell"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = format!(
        "get {}\nget log3\nget key00002\n",
        String::from_utf8(key).unwrap()
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("ERR corruption in "), "{}", lines[0]);
    assert!(
        lines[0].contains(&format!(
            "{table} at offset {block_offset}: checksum mismatch"
        )),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], "in-the-log-3");
    assert_eq!(lines[2], "value-2-vv");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}
// ANCHOR_END: shell_test
