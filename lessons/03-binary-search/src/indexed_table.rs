//! Lesson 03's table format: lesson 02's sorted records, followed by an index of where each
//! record starts.
//!
//! The records are exactly those of lesson 02 (and of the log: lesson 01's
//! [`encode_record`](rkv_01_basic_store::wal::encode_record)). What is new is the **offsets
//! array** after them — the byte offset of every record, in key order — and a footer that says
//! where that array starts. With it, record number `i` can be reached directly, and a lookup can
//! binary-search instead of reading from the start ([`search`](crate::search)).
//!
//! ## Layout
//!
//! All integers are little-endian; `n` is the number of entries.
//!
//! ```text
//! offset            size  field
//! 0                 8     magic "RKV-IDX\0"
//! 8                 4     version u32 (= 1)
//! 12                …     n records, ascending unique keys, back to back:
//!                           kind u8 (1 = put, 2 = delete) | key_len u32 | value_len u32
//!                           | key (key_len bytes) | value (value_len bytes)
//! index_start       8·n   offsets array: u64 offset of record 0, record 1, …, record n-1
//! len - 24          8     entries u64 (= n)
//! len - 16          8     index_start u64
//! len - 8           8     footer magic "RKV-IEND"
//! ```
//!
//! The header's magic differs from lesson 02's `RKV-SST\0`, so either lesson opening the other's
//! table fails with [`Error::Format`] instead of misreading it. The footer sits at a fixed
//! distance from the end, which is how a reader finds the index without reading the records.
//!
//! ## What `open` checks
//!
//! Opening a table reads the header, the footer and the whole offsets array — nothing of the
//! records but the first and the last key (for [`TableSummary`]). Before the array is trusted:
//! - the footer must describe an array of exactly `8·n` bytes ending where the footer begins;
//! - the first record must start right after the header;
//! - offsets must ascend, and each record's *span* (from its offset to the next one, or to the
//!   array for the last record) must hold at least a record's fixed part and at most the largest
//!   record the contract allows.
//!
//! A span check is what makes every later read safe: a length read from the file is compared
//! with its span before anything is allocated, so a garbage length is [`Error::Corruption`] naming
//! the file and offset, never a huge allocation or a read past the record. What `open` cannot see
//! without reading every record is a key changed in place so that the keys no longer ascend;
//! binary search would then answer "absent" for a key that is there. Scans check the order as
//! they go, and lesson 06's checksums catch changed bytes everywhere.
//!
//! ## Why the whole array stays in memory
//!
//! `open` has to read every offset to check it, and once read, keeping it costs 8 bytes per entry
//! and saves a read per probe step. That is cheap for one table of 100 000 keys (800 KB) and too
//! dear for a store of a billion keys (8 GB of RAM). Lesson 05 keeps one index entry per block of
//! records instead — a *sparse* index.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use rkv_01_basic_store::Value;
use rkv_01_basic_store::wal::RECORD_HEADER_LEN;
use rkv_02_sstables::scan_table::{Footer, write_table};
use rkv_02_sstables::table_ends::{check_header, read_footer as read_footer_bytes, u64_at};
use rkv_02_sstables::{NoOptions, Table, TableEntry, TableIter, TableSummary};
use rkv_contract::{Error, IoContext, MAX_KEY_BYTES, MAX_VALUE_BYTES, Result, Stats};

use crate::cursor::Cursor;
use crate::records::RecordFile;
use crate::search::{Position, binary_search};

// ANCHOR: constants
/// First eight bytes of a lesson-03 table.
pub const MAGIC: [u8; 8] = *b"RKV-IDX\0";
/// Version of this format.
pub const VERSION: u32 = 1;
/// Last eight bytes of a lesson-03 table.
pub const FOOTER_MAGIC: [u8; 8] = *b"RKV-IEND";
/// Header length: magic and version, as in lesson 02.
pub use rkv_02_sstables::table_ends::HEADER_LEN;
/// Footer length: entry count, offset of the offsets array, magic.
pub const FOOTER_LEN: u64 = 24;
/// Width of one entry of the offsets array.
pub const OFFSET_LEN: u64 = 8;
/// The largest record the contract allows: fixed part, largest key, largest value.
pub const MAX_RECORD_BYTES: u64 = (RECORD_HEADER_LEN + MAX_KEY_BYTES + MAX_VALUE_BYTES) as u64;
// ANCHOR_END: constants

// ANCHOR: offsets_index
/// Lesson 03's footer: the offsets array, then the entry count, where the array starts, and
/// the footer magic.
#[derive(Default)]
struct OffsetsIndex {
    /// Where every record starts, in order.
    offsets: Vec<u64>,
}

impl Footer for OffsetsIndex {
    fn placed(&mut self, offset: u64) {
        self.offsets.push(offset);
    }

    fn finish(self, summary: &TableSummary, index_start: u64) -> Vec<u8> {
        let mut footer =
            Vec::with_capacity(self.offsets.len() * OFFSET_LEN as usize + FOOTER_LEN as usize);
        for offset in &self.offsets {
            footer.extend_from_slice(&offset.to_le_bytes());
        }
        footer.extend_from_slice(&summary.entries.to_le_bytes());
        footer.extend_from_slice(&index_start.to_le_bytes());
        footer.extend_from_slice(&FOOTER_MAGIC);
        footer
    }
}
// ANCHOR_END: offsets_index

// ANCHOR: struct
/// An open lesson-03 table: the file, and the offset of every record in it.
#[derive(Debug)]
pub struct IndexedTable {
    /// The open file and the offsets array, checked at open (see the module docs).
    records: RecordFile,
    /// Entries and key range.
    summary: TableSummary,
}
// ANCHOR_END: struct

impl Table for IndexedTable {
    type Options = NoOptions;

    // ANCHOR: open
    fn open(path: &Path, _options: &Self::Options) -> Result<Self> {
        let file = File::open(path).at(path)?;
        let len = file.metadata().at(path)?.len();
        let expected = format!("an rkv lesson-03 indexed table (RKV-IDX version {VERSION})");
        check_header(&file, path, len, &MAGIC, VERSION, expected)?;
        let (entries, index_start) = read_footer(&file, path, len)?;
        let records_end = index_start;
        let offsets = read_offsets(&file, path, entries, index_start)?;
        let mut table = IndexedTable {
            records: RecordFile {
                file,
                path: path.to_path_buf(),
                offsets,
                records_end,
            },
            summary: TableSummary {
                entries,
                file_bytes: len,
                // Every record is its fixed part plus its key and value bytes.
                data_bytes: records_end - HEADER_LEN - entries * RECORD_HEADER_LEN as u64,
                ..TableSummary::default()
            },
        };
        if entries > 0 {
            // Opening is not a lookup: this work is not counted in the store's stats.
            let mut uncounted = Stats::default();
            table.summary.smallest = table.records.read_key(0, &mut uncounted)?;
            table.summary.largest = table.records.read_key(table.len() - 1, &mut uncounted)?;
        }
        Ok(table)
    }
    // ANCHOR_END: open

    // ANCHOR: write
    fn write(
        file: &mut File,
        path: &Path,
        entries: &mut dyn Iterator<Item = Result<TableEntry>>,
        _options: &Self::Options,
    ) -> Result<TableSummary> {
        // Lesson 02's header and records; the footer remembers where each record starts.
        write_table(
            file,
            path,
            &MAGIC,
            VERSION,
            entries,
            OffsetsIndex::default(),
        )
    }
    // ANCHOR_END: write

    // ANCHOR: get
    fn get(&self, key: &[u8], stats: &mut Stats) -> Result<Option<Value>> {
        match self.search(key, stats)? {
            Position::Hit(index) => {
                let (_, value) = self.records.read_entry(index, stats)?;
                Ok(Some(value))
            }
            Position::Miss(_) => Ok(None),
        }
    }
    // ANCHOR_END: get

    // ANCHOR: range
    fn range(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<TableIter<'_>> {
        // The same binary search finds where the range begins and ends; the records between
        // are then read in order, many per read. (A scan's searches are not counted in stats:
        // the trait's `range` has no counters to add to.)
        let mut uncounted = Stats::default();
        let first = match start {
            Some(start) => self.search(start, &mut uncounted)?.index(),
            None => 0,
        };
        let last = match end {
            Some(end) => self.search(end, &mut uncounted)?.index(),
            None => self.len(),
        };
        Ok(Box::new(Cursor::new(&self.records, first, last.max(first))))
    }
    // ANCHOR_END: range

    fn summary(&self) -> &TableSummary {
        &self.summary
    }
}

impl IndexedTable {
    /// Number of entries, tombstones included.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True for a table without entries.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    // ANCHOR: search
    /// Finds `key` with a binary search over the records: at most `⌊log₂ n⌋ + 1` key
    /// comparisons, each reading one key and no value.
    pub fn search(&self, key: &[u8], stats: &mut Stats) -> Result<Position> {
        binary_search(self.len(), stats, |i, stats| {
            Ok(self.records.read_key(i, stats)?.as_slice().cmp(key))
        })
    }
    // ANCHOR_END: search
}

// ANCHOR: read_footer
/// Reads the footer; returns the entry count and where the offsets array starts, once both are
/// known to fit the file.
fn read_footer(file: &File, path: &Path, len: u64) -> Result<(u64, u64)> {
    // Lesson 02's check: the file holds a footer, and it ends with the magic.
    let (footer, footer_start) =
        read_footer_bytes::<{ FOOTER_LEN as usize }>(file, path, len, &FOOTER_MAGIC)?;
    let entries = u64_at(&footer, 0);
    let index_start = u64_at(&footer, 8);
    // The array must fill exactly the space between the records and the footer. Checked in
    // u64 with overflow checks: both numbers come from the file.
    let fits = index_start >= HEADER_LEN
        && entries
            .checked_mul(OFFSET_LEN)
            .and_then(|bytes| bytes.checked_add(index_start))
            == Some(footer_start);
    if !fits {
        return Err(Error::corruption(
            path,
            footer_start,
            format!(
                "footer says {entries} entries with the offsets array at {index_start}, \
                 which does not fit a {len}-byte table"
            ),
        ));
    }
    Ok((entries, index_start))
}
// ANCHOR_END: read_footer

// ANCHOR: read_offsets
/// Reads the offsets array and checks that it describes records that tile the bytes between the
/// header and the array, each of a size a record can have.
fn read_offsets(file: &File, path: &Path, entries: u64, index_start: u64) -> Result<Vec<u64>> {
    // The footer check bounds this by the file's size.
    let mut bytes = vec![0u8; (entries * OFFSET_LEN) as usize];
    file.read_exact_at(&mut bytes, index_start).at(path)?;
    let offsets: Vec<u64> = bytes
        .chunks_exact(OFFSET_LEN as usize)
        .map(|chunk| u64_at(chunk, 0))
        .collect();
    // Each record ends where the next begins; the last one where the array begins.
    let ends = offsets.iter().skip(1).copied().chain([index_start]);
    for (i, (&start, end)) in offsets.iter().zip(ends).enumerate() {
        let at = index_start + i as u64 * OFFSET_LEN;
        if i == 0 && start != HEADER_LEN {
            return Err(Error::corruption(
                path,
                at,
                format!("first record at {start}, not right after the {HEADER_LEN}-byte header"),
            ));
        }
        // A span below a record's fixed part also catches offsets that do not ascend.
        let span = end.saturating_sub(start);
        if span < RECORD_HEADER_LEN as u64 || span > MAX_RECORD_BYTES {
            return Err(Error::corruption(
                path,
                at,
                format!(
                    "record {i} at {start} spans {start}..{end}: offsets must ascend, each \
                     record {RECORD_HEADER_LEN} to {MAX_RECORD_BYTES} bytes, inside \
                     {HEADER_LEN}..{index_start}"
                ),
            ));
        }
    }
    if offsets.is_empty() && index_start != HEADER_LEN {
        return Err(Error::corruption(
            path,
            index_start,
            format!("no entries, yet records fill {HEADER_LEN}..{index_start}"),
        ));
    }
    Ok(offsets)
}
// ANCHOR_END: read_offsets
