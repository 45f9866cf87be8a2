//! Cursors over one source of a scan: a memtable, or a run of tables read block by block.
//!
//! A scan must keep working while flushes and compactions replace tables and while writes go
//! into the memtable, so every cursor owns what it reads: `Arc`s of the memtable or tables it
//! started with (a table's file stays readable even after a compaction unlinks it). Nothing
//! borrows the engine, so a scan can live as long as its caller likes.
//!
//! A cursor *lends* its current entry (`key()`, `value()`) instead of yielding owned copies, so
//! the merge above it compares keys where they lie and the scan copies an entry only if its
//! caller wants a copy:
//! - a run of tables is read through lesson 05's [`BlockCursor`] on the current block (an
//!   clone of a [`Block`](rkv_05_compression::block::Block) shared with the block cache or the
//!   table, whose bytes are not copied): one binary search per table, none per block;
//! - a memtable is read in chunks: the skip list's iterators borrow the map, so each refill
//!   re-opens a short range read after the last key it returned, copying the entries into one
//!   reused buffer ([`Chunk`]). With a fresh `Vec` per key and value, a scan right after a bulk
//!   load spent a quarter of its time in these refills — the memtable held ~5 % of the entries.

use std::ops::Bound;
use std::sync::Arc;

use rkv_02_sstables::Table;
use rkv_05_compression::block::BlockCursor;
use rkv_contract::Result;

use crate::memtable::{Chunk, Memtable};
use crate::version::TableHandle;

/// Entries fetched by a memtable cursor's first refill: a short scan (the common case) copies
/// a few entries, not a whole chunk.
const FIRST_CHUNK: usize = 8;
/// Each refill fetches twice as many as the one before, up to this many: a long scan then pays
/// one re-seek per this many entries.
const MAX_CHUNK: usize = 256;

/// One source of a scan, positioned on an entry (or exhausted).
pub enum Cursor {
    /// A memtable.
    Memtable(MemCursor),
    /// Tables with disjoint, ascending key ranges (one L0 table, or a level's overlap).
    Tables(TableCursor),
}

impl Cursor {
    /// A cursor on the first entry of `memtable` in `[start, end)` (internal keys).
    pub fn memtable(memtable: Arc<Memtable>, start: Option<&[u8]>, end: Option<&[u8]>) -> Self {
        Cursor::Memtable(MemCursor::new(memtable, start, end))
    }

    /// A cursor on the first entry of `tables` in `[start, end)` (internal keys).
    pub fn tables(
        tables: Vec<Arc<TableHandle>>,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
    ) -> Result<Self> {
        Ok(Cursor::Tables(TableCursor::new(tables, start, end)?))
    }

    /// True while the cursor stands on an entry.
    pub fn valid(&self) -> bool {
        match self {
            Cursor::Memtable(c) => c.current().is_some(),
            Cursor::Tables(c) => c.block.as_ref().is_some_and(BlockCursor::valid),
        }
    }

    /// The current entry's internal key (empty when not valid).
    pub fn key(&self) -> &[u8] {
        match self {
            Cursor::Memtable(c) => c.current().map_or(&[], |(key, _)| key),
            Cursor::Tables(c) => c.block.as_ref().map_or(&[], BlockCursor::key),
        }
    }

    /// The current entry's internal key, or `None` once the cursor is exhausted: what a merge
    /// compares, in one step instead of asking `valid` and then `key`.
    pub fn current_key(&self) -> Option<&[u8]> {
        match self {
            Cursor::Memtable(c) => c.current().map(|(key, _)| key),
            Cursor::Tables(c) => c.block.as_ref().filter(|b| b.valid()).map(BlockCursor::key),
        }
    }

    /// The current entry — internal key and value (`None` for a tombstone) — or `None` once
    /// the cursor is exhausted: one step for a reader that wants both.
    pub fn entry(&self) -> Option<(&[u8], Option<&[u8]>)> {
        match self {
            Cursor::Memtable(c) => c.current(),
            Cursor::Tables(c) => {
                let block = c.block.as_ref().filter(|b| b.valid())?;
                Some((block.key(), block.value()))
            }
        }
    }

    /// The current entry's value; `None` for a tombstone (or when not valid).
    pub fn value(&self) -> Option<&[u8]> {
        match self {
            Cursor::Memtable(c) => c.current().and_then(|(_, value)| value),
            Cursor::Tables(c) => c.block.as_ref().and_then(BlockCursor::value),
        }
    }

    /// The largest key this cursor's source holds, when that costs nothing to know: a table
    /// run's last key, a frozen memtable's last entry. A growing memtable gives none (its
    /// largest key is a skip-list walk away and may change). A hint for the merge, which only
    /// uses it to choose what to abbreviate.
    pub fn last_key_hint(&self) -> Option<&[u8]> {
        match self {
            Cursor::Memtable(c) => {
                let frozen = c.memtable.frozen()?;
                let (key, _) = frozen.entry(frozen.len().checked_sub(1)?)?;
                Some(key)
            }
            Cursor::Tables(c) => c
                .tables
                .last()
                .map(|handle| handle.table.summary().largest.as_slice()),
        }
    }

    /// Moves to the next entry; `Ok(false)` once there is none.
    pub fn advance(&mut self) -> Result<bool> {
        match self {
            Cursor::Memtable(c) => Ok(c.advance()),
            Cursor::Tables(c) => c.advance(),
        }
    }
}

/// Reads a memtable over `[start, end)`: in chunks copied into `buffer` (the current entry is
/// entry `at` of it), or — once the memtable is frozen, see [`Memtable::freeze`] — straight
/// from its frozen copy (the current entry is entry `at` of that, up to `frozen_end`).
pub struct MemCursor {
    memtable: Arc<Memtable>,
    /// Where the next chunk starts.
    next: Bound<Vec<u8>>,
    end: Option<Vec<u8>>,
    buffer: Chunk,
    /// The current entry's place in the buffer.
    at: usize,
    /// Entries the next refill fetches.
    chunk: usize,
    /// True once a refill came back short: the range has nothing more.
    done: bool,
    /// Set when the cursor reads the frozen copy: the index of its first entry at or past
    /// `end`.
    frozen_end: Option<usize>,
}

impl MemCursor {
    fn new(memtable: Arc<Memtable>, start: Option<&[u8]>, end: Option<&[u8]>) -> Self {
        let mut cursor = MemCursor {
            memtable,
            next: start.map_or(Bound::Unbounded, |s| Bound::Included(s.to_vec())),
            end: end.map(<[u8]>::to_vec),
            buffer: Chunk::default(),
            at: 0,
            chunk: FIRST_CHUNK,
            done: false,
            frozen_end: None,
        };
        cursor.refill();
        cursor
    }

    /// The current entry: its internal key and value (`None` for a tombstone).
    fn current(&self) -> Option<(&[u8], Option<&[u8]>)> {
        match self.frozen_end {
            Some(end) if self.at < end => self.memtable.frozen()?.entry(self.at),
            Some(_) => None,
            None => self.buffer.entry(self.at),
        }
    }

    fn refill(&mut self) {
        if let Some(frozen) = self.memtable.frozen() {
            // Frozen meanwhile (or before we started): read the copy from where we are.
            self.at = frozen.first_after(&self.next);
            self.frozen_end = Some(frozen.first_at_or_above(self.end.as_deref()));
            self.buffer = Chunk::default();
            return;
        }
        let want = self.chunk;
        self.chunk = (self.chunk * 2).min(MAX_CHUNK);
        self.memtable
            .chunk_into(&self.next, self.end.as_deref(), want, &mut self.buffer);
        self.at = 0;
        self.done = self.buffer.len() < want;
        if let Some((key, _)) = self
            .buffer
            .len()
            .checked_sub(1)
            .and_then(|last| self.buffer.entry(last))
        {
            let mut next = match std::mem::replace(&mut self.next, Bound::Unbounded) {
                Bound::Included(v) | Bound::Excluded(v) => v,
                Bound::Unbounded => Vec::new(),
            };
            next.clear();
            next.extend_from_slice(key);
            self.next = Bound::Excluded(next);
        }
    }

    fn advance(&mut self) -> bool {
        self.at += 1;
        if self.frozen_end.is_none() && self.at >= self.buffer.len() && !self.done {
            self.refill();
        }
        self.current().is_some()
    }
}

/// Reads a run of tables (disjoint, ascending) over `[start, end)`, block by block.
pub struct TableCursor {
    tables: Vec<Arc<TableHandle>>,
    /// The table being read.
    table: usize,
    /// The block being read in it.
    block_number: usize,
    /// A cursor in that block; `None` once the run is exhausted.
    block: Option<BlockCursor>,
    end: Option<Vec<u8>>,
}

impl TableCursor {
    fn new(
        tables: Vec<Arc<TableHandle>>,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
    ) -> Result<Self> {
        let mut cursor = TableCursor {
            tables,
            table: 0,
            block_number: 0,
            block: None,
            end: end.map(<[u8]>::to_vec),
        };
        // Only the first table can hold keys below `start`: the run's tables after it start
        // above it. (The caller passes only tables that overlap the range.)
        if let Some(handle) = cursor.tables.first() {
            let table = &handle.table;
            let first = start.map_or(0, |s| table.find_block(s));
            cursor.open_block(first, start)?;
        }
        cursor.settle()?;
        Ok(cursor)
    }

    /// Opens block `i` of the current table at the first entry `>= start`; past the table's
    /// last block it leaves no block open.
    fn open_block(&mut self, i: usize, start: Option<&[u8]>) -> Result<()> {
        self.block = None;
        self.block_number = i;
        let Some(handle) = self.tables.get(self.table) else {
            return Ok(());
        };
        let table = &handle.table;
        if i >= table.block_count() {
            return Ok(());
        }
        let block = table.data_block(i)?;
        let cursor =
            BlockCursor::seek(block, start).map_err(|what| table.block_corruption(i, what))?;
        self.block = Some(cursor);
        Ok(())
    }

    /// Moves on from an exhausted block (or table) to the next entry, and ends the run at
    /// `end`: afterwards the block cursor is valid, or there is no block cursor.
    fn settle(&mut self) -> Result<()> {
        loop {
            match &self.block {
                Some(block) if block.valid() => {
                    if self.end.as_deref().is_some_and(|end| block.key() >= end) {
                        self.block = None;
                    }
                    return Ok(());
                }
                Some(_) => self.open_block(self.block_number + 1, None)?,
                None if self.table + 1 < self.tables.len() => {
                    self.table += 1;
                    self.open_block(0, None)?;
                }
                None => return Ok(()),
            }
        }
    }

    fn advance(&mut self) -> Result<bool> {
        let Some(block) = self.block.as_mut() else {
            return Ok(false);
        };
        if let Err(what) = block.advance() {
            let error = self.corruption(what);
            self.block = None; // a corrupt run ends here
            self.table = self.tables.len();
            return Err(error);
        }
        self.settle()?;
        Ok(self.block.is_some())
    }

    fn corruption(&self, what: String) -> rkv_contract::Error {
        match self.tables.get(self.table) {
            Some(handle) => handle.table.block_corruption(self.block_number, what),
            None => rkv_contract::Error::corruption("(scan)", 0, what),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

    use proptest::prelude::*;
    use rkv_01_basic_store::Value;

    use super::*;
    use crate::internal_key;

    /// Everything a cursor yields, owned.
    fn drain(
        mut cursor: Cursor,
        freeze_after: Option<(usize, &Memtable)>,
    ) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut seen = Vec::new();
        while let Some(key) = cursor.current_key() {
            seen.push((key.to_vec(), cursor.value().map(<[u8]>::to_vec)));
            if let Some((after, memtable)) = freeze_after
                && seen.len() == after
            {
                memtable.freeze();
            }
            cursor.advance().unwrap();
        }
        seen
    }

    proptest! {
        #[test]
        fn a_frozen_memtable_reads_like_the_skip_list_also_when_frozen_mid_scan(
            keys in prop::collection::btree_set(prop::collection::vec(0u8..4, 0..5), 0..80),
            start in prop::option::of(prop::collection::vec(0u8..4, 0..5)),
            end in prop::option::of(prop::collection::vec(0u8..4, 0..5)),
            freeze_after in 0usize..40,
        ) {
            let fill = || {
                let memtable = Memtable::new(1 << 16);
                for (i, key) in keys.iter().enumerate() {
                    let value = if i % 3 == 0 { Value::Tombstone } else { Value::Put(vec![i as u8]) };
                    memtable.insert(key, 1 + i as u64, value);
                }
                Arc::new(memtable)
            };
            let from = start.as_deref().map(internal_key::scan_start);
            let to = end.as_deref().map(internal_key::scan_end);
            let (from, to) = (from.as_deref(), to.as_deref());
            let walked = drain(Cursor::memtable(fill(), from, to), None);
            let want: Vec<_> = keys
                .iter()
                .enumerate()
                .filter(|(_, k)| start.as_ref().is_none_or(|s| *k >= s) && end.as_ref().is_none_or(|e| *k < e))
                .map(|(i, k)| (internal_key::encode(k, 1 + i as u64), (i % 3 != 0).then(|| vec![i as u8])))
                .collect();
            prop_assert_eq!(&walked, &want);
            let frozen = fill();
            frozen.freeze();
            prop_assert_eq!(&drain(Cursor::memtable(frozen, from, to), None), &want);
            let later = fill();
            let cursor = Cursor::memtable(later.clone(), from, to);
            prop_assert_eq!(&drain(cursor, Some((freeze_after, &later))), &want);
        }
    }
}
