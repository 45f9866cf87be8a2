//! Lesson 02's table format: the memtable's records, sorted, in one file — and no index.
//!
//! A table is written once, from a sorted stream, and never changed. Its records use exactly
//! the encoding of the write-ahead log (lesson 01's [`encode_record`]), so there is nothing new
//! to learn about them; what is new is that they are sorted and that the file ends with a footer.
//!
//! ```text
//! header:  magic "RKV-SST\0" (8 bytes) | version u32 (= 1)
//! records: kind u8 | key_len u32 | value_len u32 | key | value     (ascending keys, unique)
//! footer:  entries u64 | magic "RKV-END\0" (8 bytes)
//! ```
//!
//! All integers are little-endian. The footer marks the end of the records, so a table cut short
//! by a crash or a bad disk is detected when it is opened.
//!
//! Its weakness is the point of the lesson: **a lookup reads the table from the start** until it
//! reaches the key (or passes where the key would be). On 100 000 keys that is on average 50 000
//! key comparisons and megabytes read per `get`. Lesson 03 adds an index.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rkv_01_basic_store::Value;
use rkv_01_basic_store::wal::{RecordRead, encode_record, read_record};
use rkv_contract::{Error, IoContext, Result, Stats};

use crate::table::{NoOptions, Table, TableEntry, TableIter, TableSummary};
use crate::table_ends::{check_header, read_footer, u64_at};

/// First eight bytes of a lesson-02 table.
pub const MAGIC: [u8; 8] = *b"RKV-SST\0";
/// Version of this format.
pub const VERSION: u32 = 1;
/// Last eight bytes of a lesson-02 table.
pub const FOOTER_MAGIC: [u8; 8] = *b"RKV-END\0";
pub use crate::table_ends::HEADER_LEN;
/// Footer length: entry count and magic.
pub const FOOTER_LEN: u64 = 16;

/// An open lesson-02 table.
#[derive(Debug)]
pub struct ScanTable {
    /// Held open for the table's life; read with positioned reads, so readers never share a
    /// file cursor.
    file: File,
    /// The file, for error messages.
    path: PathBuf,
    /// Where the records end and the footer begins.
    records_end: u64,
    /// Entries and key range, found when the table was opened.
    summary: TableSummary,
}

impl Table for ScanTable {
    type Options = NoOptions;

    // ANCHOR: write
    fn write(
        file: &mut File,
        path: &Path,
        entries: &mut dyn Iterator<Item = Result<TableEntry>>,
        _options: &NoOptions,
    ) -> Result<TableSummary> {
        write_table(file, path, &MAGIC, VERSION, entries, EntryCount)
    }
    // ANCHOR_END: write

    fn open(path: &Path, _options: &NoOptions) -> Result<Self> {
        let file = File::open(path).at(path)?;
        let len = file.metadata().at(path)?.len();
        let expected = format!("an rkv lesson-02 table (RKV-SST version {VERSION})");
        check_header(&file, path, len, &MAGIC, VERSION, expected)?;
        let (footer, records_end) =
            read_footer::<{ FOOTER_LEN as usize }>(&file, path, len, &FOOTER_MAGIC)?;
        let expected_entries = u64_at(&footer, 0);
        let mut table = ScanTable {
            file,
            path: path.to_path_buf(),
            records_end,
            summary: TableSummary {
                file_bytes: len,
                ..TableSummary::default()
            },
        };
        table.summary = table.read_summary(len)?;
        if table.summary.entries != expected_entries {
            return Err(Error::corruption(
                path,
                records_end,
                format!(
                    "footer says {expected_entries} entries, the table holds {}",
                    table.summary.entries
                ),
            ));
        }
        Ok(table)
    }

    // ANCHOR: get
    fn get(&self, key: &[u8], stats: &mut Stats) -> Result<Option<Value>> {
        stats.blocks_read += 1;
        let mut records = self.records();
        while let Some(record) = records.next() {
            let (found, value) = record?;
            stats.records_read += 1;
            stats.key_comparisons += 1;
            match found.as_slice().cmp(key) {
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => {
                    stats.bytes_read += records.offset - HEADER_LEN;
                    return Ok(Some(value));
                }
                // Keys ascend: once past the key, it is not in this table.
                std::cmp::Ordering::Greater => break,
            }
        }
        stats.bytes_read += records.offset - HEADER_LEN;
        Ok(None)
    }
    // ANCHOR_END: get

    fn range(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<TableIter<'_>> {
        let start = start.map(<[u8]>::to_vec);
        let end = end.map(<[u8]>::to_vec);
        let in_range = self
            .records()
            .skip_while(move |record| match (record, &start) {
                (Ok((key, _)), Some(start)) => key < start,
                _ => false,
            })
            .take_while(move |record| match (record, &end) {
                (Ok((key, _)), Some(end)) => key < end,
                _ => true,
            });
        Ok(Box::new(in_range))
    }

    fn summary(&self) -> &TableSummary {
        &self.summary
    }
}

// ANCHOR: write_table
/// What a table format writes after its records, built while the records go by.
pub trait Footer {
    /// Called with every record's offset, before the record is written.
    fn placed(&mut self, offset: u64) {
        let _ = offset;
    }

    /// The bytes that end the table, from what was written and where the records end.
    fn finish(self, summary: &TableSummary, records_end: u64) -> Vec<u8>;
}

/// Lesson 02's footer: the number of entries, then the footer magic.
struct EntryCount;

impl Footer for EntryCount {
    fn finish(self, summary: &TableSummary, _records_end: u64) -> Vec<u8> {
        [summary.entries.to_le_bytes().as_slice(), &FOOTER_MAGIC].concat()
    }
}

/// Writes a table into `file`: the header (`magic`, then `version`), one record per entry,
/// each encoded with lesson 01's [`encode_record`], then `footer`. Returns what was written.
///
/// Lesson 03's indexed table is written by the same function; its footer is the index.
pub fn write_table(
    file: &mut File,
    path: &Path,
    magic: &[u8; 8],
    version: u32,
    entries: &mut dyn Iterator<Item = Result<TableEntry>>,
    mut footer: impl Footer,
) -> Result<TableSummary> {
    let mut out = BufWriter::new(file);
    let mut summary = TableSummary::default();
    let mut record = Vec::new();
    out.write_all(magic).at(path)?;
    out.write_all(&version.to_le_bytes()).at(path)?;
    let mut written = HEADER_LEN;
    for entry in entries {
        let (key, value) = entry?;
        footer.placed(written);
        record.clear();
        encode_record(&key, &value, &mut record);
        out.write_all(&record).at(path)?;
        written += record.len() as u64;
        summary.add(&key, &value);
    }
    let footer = footer.finish(&summary, written);
    out.write_all(&footer).at(path)?;
    out.flush().at(path)?;
    summary.file_bytes = written + footer.len() as u64;
    Ok(summary)
}
// ANCHOR_END: write_table

impl ScanTable {
    /// A cursor over every record, from the first.
    fn records(&self) -> Records<'_> {
        Records {
            reader: BufReader::with_capacity(
                64 * 1024,
                FileSlice {
                    file: &self.file,
                    offset: HEADER_LEN,
                    end: self.records_end,
                },
            ),
            path: &self.path,
            offset: HEADER_LEN,
            end: self.records_end,
            failed: false,
        }
    }

    /// Reads every record once: counts them, finds the key range, checks the order.
    fn read_summary(&self, file_bytes: u64) -> Result<TableSummary> {
        let mut summary = TableSummary {
            file_bytes,
            ..TableSummary::default()
        };
        let mut records = self.records();
        while let Some(record) = records.next() {
            let (key, value) = record?;
            if summary.entries > 0 && key <= summary.largest {
                return Err(Error::corruption(
                    &self.path,
                    records.offset,
                    "keys are not in ascending order",
                ));
            }
            summary.add(&key, &value);
        }
        Ok(summary)
    }
}

/// Iterator over the records of a table, tracking the byte offset for error messages.
struct Records<'a> {
    reader: BufReader<FileSlice<'a>>,
    path: &'a Path,
    /// Offset of the next record.
    offset: u64,
    /// Where the records end.
    end: u64,
    /// Set after an error: the cursor does not resynchronise.
    failed: bool,
}

impl Iterator for Records<'_> {
    type Item = Result<TableEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.end {
            return None;
        }
        let outcome = match read_record(&mut self.reader, self.path, self.offset) {
            Ok(RecordRead::Whole { key, value, len }) => {
                self.offset += len;
                return Some(Ok((key, value)));
            }
            Ok(RecordRead::End | RecordRead::Torn) => Err(Error::corruption(
                self.path,
                self.offset,
                "record runs past the end of the table's records",
            )),
            Err(e) => Err(e),
        };
        self.failed = true;
        Some(outcome)
    }
}

/// A byte range of a file read with positioned reads (`pread`), so many readers can share one
/// open file without sharing a cursor.
struct FileSlice<'a> {
    file: &'a File,
    offset: u64,
    end: u64,
}

impl Read for FileSlice<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.offset);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}
