//! Reading a run of records in order, for scans and compaction.
//!
//! A scan wants records `first..last` one after the other. Reading each with its own `pread`
//! would cost a system call per record; reading the file through a generic buffer would read
//! records the scan does not want. The offsets array allows something in between: each read
//! fetches as many *whole* records as fit in [`CHUNK_BYTES`] (at least one), and the records are
//! then decoded from memory with lesson 01's record decoder.
//!
//! The cursor also checks what binary search has to take on trust: that keys ascend. A table
//! whose keys are out of order is reported as [`Error::Corruption`] at the first record out of
//! place, rather than handed to a merge that assumes order.

use rkv_02_sstables::TableEntry;
use rkv_contract::{Error, Result, Stats};

use crate::records::{RecordFile, decode_entry};

/// How many bytes of whole records one read of a cursor aims for.
pub const CHUNK_BYTES: u64 = 64 * 1024;

/// Iterator over records `next..last` of a table, in key order.
pub struct Cursor<'a> {
    /// The table's records.
    table: &'a RecordFile,
    /// Index of the next record to yield.
    next: usize,
    /// Index one past the last record to yield.
    last: usize,
    /// Whole records read ahead: the bytes of records `chunk_first..chunk_end`.
    chunk: Vec<u8>,
    /// Index of the first record in `chunk`.
    chunk_first: usize,
    /// Index one past the last record in `chunk`.
    chunk_end: usize,
    /// The last key yielded, to check that keys ascend.
    previous: Option<Vec<u8>>,
    /// Set after an error: the cursor yields nothing more.
    failed: bool,
}

impl<'a> Cursor<'a> {
    /// A cursor over records `first..last` of `table` (`first <= last <= table.len()`).
    pub fn new(table: &'a RecordFile, first: usize, last: usize) -> Self {
        Cursor {
            table,
            next: first,
            last,
            chunk: Vec::new(),
            chunk_first: first,
            chunk_end: first,
            previous: None,
            failed: false,
        }
    }

    // ANCHOR: fill
    /// Reads the next chunk: whole records from `self.next` on, up to [`CHUNK_BYTES`] of them
    /// (or one record, if it alone is larger).
    fn fill(&mut self) -> Result<()> {
        let (start, first_span) = self.table.span(self.next);
        let mut end = self.next + 1;
        let mut bytes = first_span;
        while end < self.last {
            let (_, span) = self.table.span(end);
            if bytes + span > CHUNK_BYTES {
                break;
            }
            bytes += span;
            end += 1;
        }
        // Bounded: at most CHUNK_BYTES, or one record, which open bounded by the contract.
        self.chunk.resize(bytes as usize, 0);
        // Scans have no stats to count in (see `IndexedTable::range`, which makes cursors).
        self.table
            .read_at(start, &mut self.chunk, &mut Stats::default())?;
        self.chunk_first = self.next;
        self.chunk_end = end;
        Ok(())
    }
    // ANCHOR_END: fill

    /// Decodes record `self.next`, reading a new chunk first if needed.
    fn decode_next(&mut self) -> Result<TableEntry> {
        if self.next >= self.chunk_end {
            self.fill()?;
        }
        let (offset, span) = self.table.span(self.next);
        let chunk_start = self.table.offsets[self.chunk_first];
        let at = (offset - chunk_start) as usize;
        let (key, value) = decode_entry(
            &self.table.path,
            offset,
            &self.chunk[at..at + span as usize],
        )?;
        if self
            .previous
            .as_ref()
            .is_some_and(|previous| *previous >= key)
        {
            return Err(Error::corruption(
                &self.table.path,
                offset,
                "keys are not in ascending order",
            ));
        }
        // `clone_from` reuses the previous key's allocation.
        match &mut self.previous {
            Some(previous) => previous.clone_from(&key),
            None => self.previous = Some(key.clone()),
        }
        Ok((key, value))
    }
}

impl Iterator for Cursor<'_> {
    type Item = Result<TableEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.next >= self.last {
            return None;
        }
        let entry = self.decode_next();
        self.failed = entry.is_err();
        self.next += 1;
        Some(entry)
    }
}
