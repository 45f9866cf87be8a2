//! A table's records, addressed by number through the offsets array.
//!
//! [`RecordFile`] is what the search and the scan cursor need from a table and nothing more: the
//! open file, the offset of every record, and where the records end. With them, record `i` is a
//! byte range of the file — its *span*, from its offset to the next record's — and two kinds of
//! read serve every lookup:
//! - [`RecordFile::read_key`] reads a record's fixed part (kind and lengths, 9 bytes) and then
//!   its key, never its value: a binary search step compares keys only;
//! - [`RecordFile::read_entry`] reads one record whole, for the one value a lookup returns.
//!
//! Both are positioned reads (`pread`) on the table's one open file, so readers never share a
//! file cursor. Every length read from the file is checked against the record's span before
//! anything is allocated (open checked every span, see [`indexed_table`](crate::indexed_table)).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rkv_01_basic_store::Value;
use rkv_01_basic_store::wal::{RECORD_HEADER_LEN, RecordRead, read_record};
use rkv_contract::{Error, IoContext, MAX_KEY_BYTES, Result, Stats};

/// An open table file and the offset of every record in it.
#[derive(Debug)]
pub struct RecordFile {
    /// Held open for the table's life; read only with positioned reads (`pread`), so readers
    /// never share a file cursor.
    pub file: File,
    /// The file, for error messages.
    pub path: PathBuf,
    /// Offset of every record, in key order; checked at open.
    pub offsets: Vec<u64>,
    /// Where the records end and the offsets array begins.
    pub records_end: u64,
}

impl RecordFile {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// True for a table without records.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// The bytes of the file that record `index` occupies: from its offset to the next record's
    /// (or to the offsets array, for the last record). Open checked it is a sane size.
    pub fn span(&self, index: usize) -> (u64, u64) {
        let start = self.offsets[index];
        let end = self
            .offsets
            .get(index + 1)
            .copied()
            .unwrap_or(self.records_end);
        (start, end - start)
    }

    /// Reads exactly `buf.len()` bytes at `offset`, counting one block read.
    pub fn read_at(&self, offset: u64, buf: &mut [u8], stats: &mut Stats) -> Result<()> {
        self.file.read_exact_at(buf, offset).at(&self.path)?;
        stats.blocks_read += 1;
        stats.bytes_read += buf.len() as u64;
        Ok(())
    }

    // ANCHOR: read_key
    /// Reads the key of record `index` — its fixed part, then the key bytes, never the value.
    pub fn read_key(&self, index: usize, stats: &mut Stats) -> Result<Vec<u8>> {
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
    pub fn read_entry(&self, index: usize, stats: &mut Stats) -> Result<(Vec<u8>, Value)> {
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
pub fn decode_entry(path: &Path, offset: u64, record: &[u8]) -> Result<(Vec<u8>, Value)> {
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
