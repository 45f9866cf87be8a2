//! Decoder robustness: arbitrary and mutated bytes fed to every decoder lesson 06 reads with —
//! log records, table blocks, the index, the footer, `TABLES` — give an error or a valid result,
//! never a panic, and never a wrong answer where a checksum stands guard.
//!
//! Two kinds of damage are generated. *Raw* damage (random bytes, flipped bits, cuts) must be
//! caught by the checksums. *Forged* damage recomputes the checksum after changing the bytes, as
//! if the damage had happened before the checksum was taken (a bug, or a one-in-four-billion
//! collision): then wrong answers are possible, but the decoders behind the checksum must still
//! refuse garbage cleanly — in particular a garbage length must be bounded before anything is
//! allocated for it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::Path;

use proptest::prelude::*;
use rkv_01_basic_store::wal::RecordRead;
use rkv_01_basic_store::{DataDir, Value};
use rkv_02_sstables::Table;
use rkv_02_sstables::table_list::{self, TABLES_FILE, TableList};
use rkv_05_compression::{BlockOptions, BlockTable, Codec};
use rkv_06_checksums::checksummed_log::{RECORD_HEADER_LEN, encode_record, read_record};
use rkv_06_checksums::crc::{masked_crc, seal};
use rkv_06_checksums::{ChecksummedLog, Crc32};
use rkv_contract::{Error, MAX_KEY_BYTES, MAX_VALUE_BYTES, Stats};

type Tbl = BlockTable<Crc32>;

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..40).prop_map(Value::Put),
        1 => Just(Value::Tombstone),
    ]
}

fn records() -> impl Strategy<Value = Vec<(Vec<u8>, Value)>> {
    prop::collection::vec((prop::collection::vec(any::<u8>(), 0..12), value()), 1..12)
}

/// A record decoded from a log: its offset, key and value.
type Decoded = (u64, Vec<u8>, Value);

/// Decodes records from `bytes` until the end, a torn record or an error; never loops forever
/// (every whole record is at least a header long).
fn decode_all(bytes: &[u8]) -> (Vec<Decoded>, Result<RecordRead, Error>) {
    let path = Path::new("test.log");
    let mut reader = bytes;
    let mut offset = 0;
    let mut whole = Vec::new();
    loop {
        match read_record(&mut reader, path, offset) {
            Ok(RecordRead::Whole { key, value, len }) => {
                assert!(len >= RECORD_HEADER_LEN as u64);
                whole.push((offset, key, value));
                offset += len;
            }
            other => return (whole, other),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn log_records_from_garbage_are_errors(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let (whole, _) = decode_all(&bytes);
        // A random 17-byte header matches its own checksum once in four billion tries.
        prop_assert!(whole.is_empty());
    }

    /// Flipped bits and a cut, anywhere in a log: every record decoded is the one written there,
    /// decoding stops with corruption at the first damaged record, and a cut is a torn tail.
    #[test]
    fn damaged_logs_decode_to_a_true_prefix(
        records in records(),
        flips in prop::collection::vec(any::<prop::sample::Index>(), 0..3),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let mut bytes = Vec::new();
        let mut starts = Vec::new();
        for (key, value) in &records {
            starts.push(bytes.len());
            encode_record(key, value, &mut bytes);
        }
        let record_of = |at: usize| starts.iter().rposition(|&s| s <= at).unwrap();
        let cut = cut.map(|i| i.index(bytes.len()));
        let original = bytes.clone();
        for flip in &flips {
            let bit = flip.index(bytes.len() * 8);
            bytes[bit / 8] ^= 1 << (bit % 8);
        }
        let end = cut.unwrap_or(bytes.len());
        // A bit flipped twice is no damage: compare with the original.
        let first_damaged = (0..end)
            .find(|&at| bytes[at] != original[at])
            .map(record_of);
        let first_cut = cut.filter(|c| !starts.contains(c)).map(record_of);
        let (whole, last) = decode_all(&bytes[..end]);

        let good = first_damaged.unwrap_or(usize::MAX).min(first_cut.unwrap_or(usize::MAX));
        for (i, (offset, key, value)) in whole.iter().enumerate() {
            prop_assert!(i < good, "record {} decoded although damaged or cut", i);
            prop_assert_eq!(*offset, starts[i] as u64);
            prop_assert_eq!((key, value), (&records[i].0, &records[i].1));
        }
        match (first_damaged, first_cut) {
            (None, None) => prop_assert!(matches!(last, Ok(RecordRead::End))),
            (None, Some(c)) => {
                prop_assert_eq!(whole.len(), c);
                prop_assert!(matches!(last, Ok(RecordRead::Torn)));
            }
            (Some(d), c) if c.is_none_or(|c| d < c) => {
                prop_assert_eq!(whole.len(), d);
                match last {
                    Err(Error::Corruption { offset, .. }) => {
                        prop_assert_eq!(offset, starts[d] as u64);
                    }
                    other => prop_assert!(false, "expected corruption at {}, got {:?}", d, other),
                }
            }
            (Some(d), Some(c)) if c < d => {
                prop_assert_eq!(whole.len(), c);
                prop_assert!(matches!(last, Ok(RecordRead::Torn)));
            }
            (Some(d), _) => {
                // Damaged *and* cut: whether the damage is seen depends on where the cut is.
                prop_assert_eq!(whole.len(), d);
                let torn_or_corrupt =
                    matches!(last, Ok(RecordRead::Torn) | Err(Error::Corruption { .. }));
                prop_assert!(torn_or_corrupt, "{:?}", last);
            }
        }
    }

    /// A header whose checksum was forged to match: any kind, any lengths. Lengths above the
    /// contract's limits are refused before anything is allocated; nothing panics.
    #[test]
    fn forged_log_headers_are_bounded_before_allocating(
        kind in any::<u8>(),
        key_len in prop_oneof![0u32..64, any::<u32>()],
        value_len in prop_oneof![0u32..64, any::<u32>()],
        body in prop::collection::vec(any::<u8>(), 0..128),
    ) {
        let mut fixed = vec![kind];
        fixed.extend_from_slice(&key_len.to_le_bytes());
        fixed.extend_from_slice(&value_len.to_le_bytes());
        let mut bytes = masked_crc(&fixed).to_le_bytes().to_vec();
        let mut record = fixed.clone();
        record.extend_from_slice(&body);
        bytes.extend_from_slice(&masked_crc(&record).to_le_bytes());
        bytes.extend_from_slice(&record);
        let (whole, last) = decode_all(&bytes);
        if key_len as usize > MAX_KEY_BYTES || value_len as usize > MAX_VALUE_BYTES {
            prop_assert!(whole.is_empty());
            let corrupt = matches!(last, Err(Error::Corruption { .. }));
            prop_assert!(corrupt, "{:?}", last);
        }
        for (_, key, value) in whole {
            prop_assert!(key.len() <= MAX_KEY_BYTES);
            prop_assert!(value.as_live().is_none_or(|v| v.len() <= MAX_VALUE_BYTES));
        }
    }
}

// --- tables -------------------------------------------------------------------------------------

fn table_entries() -> impl Strategy<Value = BTreeMap<Vec<u8>, Value>> {
    prop::collection::btree_map(prop::collection::vec(any::<u8>(), 0..10), value(), 1..120)
}

fn write_table(path: &Path, entries: &BTreeMap<Vec<u8>, Value>, codec: Codec) {
    let options = BlockOptions {
        block_bytes: 64,
        restart_interval: 3,
        compression: codec,
    };
    let mut file = File::create(path).unwrap();
    let mut iter = entries.iter().map(|(k, v)| Ok((k.clone(), v.clone())));
    Tbl::write(&mut file, path, &mut iter, &options).unwrap();
}

fn codec() -> impl Strategy<Value = Codec> {
    prop_oneof![Just(Codec::None), Just(Codec::Lz4), Just(Codec::Zstd)]
}

/// Opens the table at `path` and reads every key and the whole range. With `expected`, every
/// answer must be right or an error; without, anything but a panic goes.
fn read_table(path: &Path, expected: Option<&BTreeMap<Vec<u8>, Value>>, probes: &[Vec<u8>]) {
    let Ok(table) = Tbl::open(path, &BlockOptions::default()) else {
        return;
    };
    let mut stats = Stats::default();
    for probe in probes {
        let got = table.get(probe, &mut stats);
        if let (Some(expected), Ok(got)) = (expected, got) {
            assert_eq!(got.as_ref(), expected.get(probe), "WRONG VALUE");
        }
    }
    if let Ok(range) = table.range(None, None) {
        let mut want = expected.map(|e| e.iter());
        for item in range {
            let Ok((key, value)) = item else { break };
            if let Some(want) = want.as_mut() {
                assert_eq!(want.next(), Some((&key, &value)), "WRONG RANGE ENTRY");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn tables_from_garbage_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sst");
        fs::write(&path, &bytes).unwrap();
        read_table(&path, None, &[vec![], b"a".to_vec()]);
    }

    /// A footer with a correct magic, version and checksum around garbage handles and counts.
    #[test]
    fn forged_footers_are_errors(
        front in prop::collection::vec(any::<u8>(), 0..300),
        fields in prop::collection::vec(any::<u8>(), 32),
        small in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sst");
        let mut footer = fields.clone();
        if small {
            // An index handle that points inside the file: the index decoder gets to run.
            let size = (fields[8] as u64 % 64).min(front.len() as u64);
            let offset = front.len() as u64 - size;
            footer[0..8].copy_from_slice(&offset.to_le_bytes());
            footer[8..16].copy_from_slice(&size.to_le_bytes());
        }
        footer.extend_from_slice(&2u32.to_le_bytes());
        footer.extend_from_slice(b"RKV-BLK\0");
        seal(&mut footer, 0);
        let mut bytes = front;
        bytes.extend_from_slice(&footer);
        fs::write(&path, &bytes).unwrap();
        read_table(&path, None, &[vec![], b"a".to_vec()]);
    }

    /// Bits flipped anywhere in a real table: the right answer or an error, never another.
    #[test]
    fn damaged_tables_never_give_a_wrong_answer(
        entries in table_entries(),
        codec in codec(),
        damage in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sst");
        write_table(&path, &entries, codec);
        let mut bytes = fs::read(&path).unwrap();
        for (at, xor) in damage {
            let i = at.index(bytes.len());
            bytes[i] ^= xor;
        }
        fs::write(&path, &bytes).unwrap();
        let probes: Vec<Vec<u8>> = entries.keys().cloned().chain([b"zz".to_vec()]).collect();
        read_table(&path, Some(&entries), &probes);
    }

    /// Damage behind a forged checksum in one data block, the index block or the footer: the
    /// block, index and footer decoders of lesson 05 meet garbage directly. Wrong answers are
    /// possible here (the checksum was forged); a panic is not.
    #[test]
    fn garbage_behind_a_valid_checksum_never_panics(
        entries in table_entries(),
        codec in codec(),
        which in any::<prop::sample::Index>(),
        damage in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..6),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sst");
        write_table(&path, &entries, codec);
        let mut bytes = fs::read(&path).unwrap();
        let (data, index) = common::block_spans(&bytes);
        let footer = common::Span {
            offset: bytes.len() - common::FOOTER_LEN,
            size: common::FOOTER_LEN,
        };
        let mut spans = data;
        spans.push(index);
        spans.push(footer);
        let span = spans[which.index(spans.len())];
        // Damage the block's bytes (not the magic and version at the end of a footer), then
        // give it the checksum of the damaged bytes.
        let protected = if span == footer { 32 } else { span.size - 4 };
        let body = span.offset..span.offset + span.size - 4;
        for (at, xor) in damage {
            bytes[span.offset + at.index(protected)] ^= xor;
        }
        let crc = masked_crc(&bytes[body.clone()]);
        bytes[body.end..body.end + 4].copy_from_slice(&crc.to_le_bytes());
        fs::write(&path, &bytes).unwrap();
        let probes: Vec<Vec<u8>> = entries.keys().cloned().chain([b"zz".to_vec()]).collect();
        read_table(&path, None, &probes);
    }

    /// `TABLES`: random bytes, and a real list with bits flipped, are errors; only the intact
    /// list reads back, as written.
    #[test]
    fn table_lists_are_read_exactly_or_refused(
        garbage in prop::collection::vec(any::<u8>(), 0..80),
        first_log in any::<u64>(),
        tables in prop::collection::vec(any::<u64>(), 0..6),
        flip in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = DataDir::open(dir.path()).unwrap();
        let path = dir.path().join(TABLES_FILE);
        fs::write(&path, &garbage).unwrap();
        prop_assert!(table_list::read::<ChecksummedLog>(&data_dir).is_err());

        let list = TableList { first_log, tables };
        table_list::replace::<ChecksummedLog>(&data_dir, &list).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        match flip {
            None => prop_assert_eq!(table_list::read::<ChecksummedLog>(&data_dir).unwrap(), list),
            Some(at) => {
                let bit = at.index(bytes.len() * 8);
                bytes[bit / 8] ^= 1 << (bit % 8);
                fs::write(&path, &bytes).unwrap();
                prop_assert!(table_list::read::<ChecksummedLog>(&data_dir).is_err());
            }
        }
    }
}
