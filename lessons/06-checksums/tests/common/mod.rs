//! Helpers shared by lesson 06's test files: a store with every kind of file, copies of it,
//! bit flips, and a reader of a table's block layout (to aim damage at one block).

#![allow(dead_code)] // each test file uses a different part

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use rkv_01_basic_store::Value;
use rkv_05_compression::block::Block;
use rkv_05_compression::{Codec, varint};
use rkv_06_checksums::{Options, Store};
use rkv_contract::{Error, KvStore};

/// What every key the test wrote should read as: `Some(value)` or `None` (deleted).
pub type Expected = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Lesson 05's tiny memtable and tiny blocks: many tables, several blocks each.
pub fn tiny() -> Options {
    Options {
        memtable_bytes: 600,
        ..rkv_05_compression::tiny_options()
    }
}

/// Fills `dir` with a closed store holding several tables (overwrites and deletes across them),
/// a log with records in it, and `TABLES`; returns what each key must read as.
pub fn build_store(dir: &Path, options: Options, keys: u32) -> Expected {
    let mut expected = Expected::new();
    let mut store = Store::open(dir, options).unwrap();
    let mut put = |store: &mut Store, key: String, value: String| {
        store.put(key.as_bytes(), value.as_bytes()).unwrap();
        expected.insert(key.into_bytes(), Some(value.into_bytes()));
    };
    for i in 0..keys {
        put(
            &mut store,
            format!("key{i:05}"),
            format!("value-{i}-{}", "v".repeat((i % 7) as usize)),
        );
    }
    for i in (0..keys).step_by(5) {
        put(&mut store, format!("key{i:05}"), format!("second-{i}"));
    }
    let mut store_deleted = Vec::new();
    for i in (0..keys).step_by(9) {
        store.delete(format!("key{i:05}").as_bytes()).unwrap();
        store_deleted.push(format!("key{i:05}").into_bytes());
    }
    for key in store_deleted {
        expected.insert(key, None);
    }
    // A few writes after the last flush stay in the log only.
    store.flush().unwrap();
    for i in 0..6 {
        let key = format!("log{i}");
        let value = format!("in-the-log-{i}");
        store.put(key.as_bytes(), value.as_bytes()).unwrap();
        expected.insert(key.into_bytes(), Some(value.into_bytes()));
    }
    store.delete(b"key00001").unwrap();
    expected.insert(b"key00001".to_vec(), None);
    drop(store);
    expected
}

/// Copies every file of `from` into `to` (which must exist).
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Flips bit `bit` (0 = lowest) of byte `at` of the file at `path`.
pub fn flip(path: &Path, at: usize, bit: u32) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at] ^= 1 << bit;
    fs::write(path, bytes).unwrap();
}

/// The names of the files in `dir` that a store wrote (everything but `LOCK`), sorted.
pub fn store_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "LOCK")
        .collect();
    names.sort();
    names
}

/// True for the errors damage may cause: corruption, a foreign-looking format, or a failed read.
pub fn is_damage_error(error: &Error) -> bool {
    matches!(
        error,
        Error::Corruption { .. } | Error::Format { .. } | Error::Io { .. }
    )
}

/// One block of a table file, as the table's index (or footer) places it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Offset of the block's first byte.
    pub offset: usize,
    /// Bytes of the block on disk, its 4-byte checksum included.
    pub size: usize,
}

/// Footer bytes of a lesson-06 table: lesson 05's 44 and the checksum.
pub const FOOTER_LEN: usize = 48;

/// The data blocks of a lesson-06 table, then its index block, read from the (intact) bytes.
pub fn block_spans(table: &[u8]) -> (Vec<Span>, Span) {
    let footer = &table[table.len() - FOOTER_LEN..];
    let le = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
    let index = Span {
        offset: le(&footer[0..8]),
        size: le(&footer[8..16]),
    };
    let framed = &table[index.offset..index.offset + index.size - 4];
    let codec = Codec::from_id(framed[0]).unwrap();
    let raw_len = u32::from_le_bytes(framed[1..5].try_into().unwrap()) as usize;
    let raw = codec.decompress(&framed[5..], raw_len).unwrap();
    let mut data = Vec::new();
    for entry in Block::new(raw).unwrap().entries_from(None).unwrap() {
        let (_, value) = entry.unwrap();
        let Value::Put(handle) = value else {
            panic!("index entry without a handle")
        };
        let (offset, used) = varint::get(&handle).unwrap();
        let (size, _) = varint::get(&handle[used..]).unwrap();
        data.push(Span {
            offset: offset as usize,
            size: size as usize,
        });
    }
    (data, index)
}

/// The keys stored in the data block at `span` of the (intact) table bytes, in order.
pub fn block_keys(table: &[u8], span: Span) -> Vec<Vec<u8>> {
    let framed = &table[span.offset..span.offset + span.size - 4];
    let codec = Codec::from_id(framed[0]).unwrap();
    let raw_len = u32::from_le_bytes(framed[1..5].try_into().unwrap()) as usize;
    let raw = codec.decompress(&framed[5..], raw_len).unwrap();
    Block::new(raw)
        .unwrap()
        .entries_from(None)
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect()
}
