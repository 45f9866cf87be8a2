//! Binary search over a table's records, reading one key per step.
//!
//! The offsets array turns "record number `i`" into a byte offset, so a lookup can do what a
//! person does with a dictionary: open it in the middle, see whether the word there comes before
//! or after the one sought, and throw away the half that cannot hold it. Each step halves the
//! candidates, so `n` records take at most `⌊log₂ n⌋ + 1` steps — 17 for 100 000 keys, where
//! lesson 02 needed up to 100 000.
//!
//! A step reads only what it compares: the record's fixed part (kind and lengths, 9 bytes) and
//! then its key. The value — which may be 16 MiB — is read once, at the end, and only for the
//! record that matched. Both reads are positioned reads (`pread`) on the table's one open file.
//!
//! Every step counts in [`Stats`]: one key comparison, one record read, and two block reads (in
//! this lesson a "block" is whatever one positioned read fetches; lesson 05 makes blocks real,
//! and one block read will then cover many records).

use std::cmp::Ordering;

use rkv_01_basic_store::Value;
use rkv_01_basic_store::wal::{RECORD_HEADER_LEN, RecordRead, read_record};
use rkv_contract::{Error, MAX_KEY_BYTES, Result, Stats};

use crate::indexed_table::IndexedTable;

/// Where a binary search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// Record `i` holds the key.
    Hit(usize),
    /// No record holds the key; records before `i` have smaller keys, records from `i` on
    /// larger ones (so `i` is where the key would be inserted).
    Miss(usize),
}

impl Position {
    /// The index of the first record whose key is not smaller than the one searched for.
    pub fn index(self) -> usize {
        match self {
            Position::Hit(i) | Position::Miss(i) => i,
        }
    }
}

impl IndexedTable {
    // ANCHOR: search
    /// Finds `key` with a binary search: at most `⌊log₂ n⌋ + 1` key comparisons, each reading
    /// one key and no value.
    pub fn search(&self, key: &[u8], stats: &mut Stats) -> Result<Position> {
        // Invariant: every record before `low` has a smaller key than `key`, every record from
        // `high` on a larger one. The candidates `low..high` start as the whole table and halve
        // with every comparison.
        let mut low = 0;
        let mut high = self.offsets.len();
        while low < high {
            let middle = low + (high - low) / 2;
            let probe = self.read_key(middle, stats)?;
            stats.key_comparisons += 1;
            match probe.as_slice().cmp(key) {
                Ordering::Less => low = middle + 1,
                Ordering::Greater => high = middle,
                Ordering::Equal => return Ok(Position::Hit(middle)),
            }
        }
        Ok(Position::Miss(low))
    }
    // ANCHOR_END: search

    // ANCHOR: read_key
    /// Reads the key of record `index` — its fixed part, then the key bytes, never the value.
    pub(crate) fn read_key(&self, index: usize, stats: &mut Stats) -> Result<Vec<u8>> {
        let (offset, span) = self.span(index);
        let mut fixed = [0u8; RECORD_HEADER_LEN];
        self.read_at(offset, &mut fixed, stats)?;
        // The fixed part is lesson 01's: kind u8 | key_len u32 | value_len u32.
        let key_len = u32::from_le_bytes([fixed[1], fixed[2], fixed[3], fixed[4]]) as usize;
        // Checked before allocating: the key must fit the contract and its own record.
        if key_len > MAX_KEY_BYTES || (RECORD_HEADER_LEN + key_len) as u64 > span {
            return Err(Error::corruption(
                &self.path,
                offset,
                format!("key of {key_len} bytes does not fit its {span}-byte record"),
            ));
        }
        let mut key = vec![0u8; key_len];
        self.read_at(offset + RECORD_HEADER_LEN as u64, &mut key, stats)?;
        stats.records_read += 1;
        Ok(key)
    }
    // ANCHOR_END: read_key

    // ANCHOR: read_entry
    /// Reads record `index` whole — the one read of a value per lookup — and decodes it with
    /// lesson 01's record decoder, which checks its kind and lengths.
    pub(crate) fn read_entry(&self, index: usize, stats: &mut Stats) -> Result<(Vec<u8>, Value)> {
        let (offset, span) = self.span(index);
        // Open checked that a span is at most the largest record the contract allows.
        let mut record = vec![0u8; span as usize];
        self.read_at(offset, &mut record, stats)?;
        decode_entry(&self.path, offset, &record)
    }
    // ANCHOR_END: read_entry
}

/// Decodes one whole record whose bytes, according to the offsets array, are `record`. The
/// record must fill them exactly.
pub(crate) fn decode_entry(
    path: &std::path::Path,
    offset: u64,
    record: &[u8],
) -> Result<(Vec<u8>, Value)> {
    match read_record(&mut &record[..], path, offset)? {
        RecordRead::Whole { key, value, len } if len == record.len() as u64 => Ok((key, value)),
        RecordRead::Whole { len, .. } => Err(Error::corruption(
            path,
            offset,
            format!(
                "record is {len} bytes, the offsets array gives it {}",
                record.len()
            ),
        )),
        RecordRead::End | RecordRead::Torn => Err(Error::corruption(
            path,
            offset,
            format!(
                "record runs past the {} bytes the offsets array gives it",
                record.len()
            ),
        )),
    }
}
