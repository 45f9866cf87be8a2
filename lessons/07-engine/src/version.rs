//! The shape of the tree at one moment: which tables are live, on which level.
//!
//! A [`Version`] is immutable. A flush or a compaction builds a new one and swaps it in; readers
//! that took an `Arc` of the old one keep a consistent picture until they drop it. This is how
//! reads never wait for background work.
//!
//! - **L0** holds flushed memtables, newest first. Their key ranges may overlap, so a lookup asks
//!   each one whose range covers the key.
//! - **L1 and below** are each one sorted run: tables with disjoint key ranges, in key order, so
//!   a lookup asks at most one table per level, found by binary search. Every version of a user
//!   key lives in the same table of a level, and a level holds only data older than the levels
//!   above it.

use std::sync::Arc;

use rkv_01_basic_store::Value;
use rkv_02_sstables::Table;
use rkv_contract::{Result, Stats};

use crate::bloom::BloomFilter;
use crate::internal_key;
use crate::options::LEVELS;
use crate::sst::Sst;

/// A live table with what the engine knows about it.
#[derive(Debug)]
pub struct TableHandle {
    /// File number (`NNNNNN.sst`, `NNNNNN.filter`).
    pub number: u64,
    /// The open table.
    pub table: Sst,
    /// Its bloom filter over user keys, if filters are on.
    pub filter: Option<BloomFilter>,
    /// Smallest and largest user keys in the table.
    pub smallest_user: Vec<u8>,
    /// Largest user key in the table.
    pub largest_user: Vec<u8>,
}

impl TableHandle {
    /// Wraps an open table, reading its key range from its summary.
    pub fn new(number: u64, table: Sst, filter: Option<BloomFilter>) -> Self {
        let summary = table.summary();
        let user = |key: &[u8]| {
            internal_key::decode(key)
                .map(|(user, _)| user)
                .unwrap_or_default()
        };
        TableHandle {
            number,
            smallest_user: user(&summary.smallest),
            largest_user: user(&summary.largest),
            filter,
            table,
        }
    }

    /// Size of the table file.
    pub fn file_bytes(&self) -> u64 {
        self.table.summary().file_bytes
    }

    /// True when `user_key` lies within the table's range.
    pub fn covers(&self, user_key: &[u8]) -> bool {
        self.smallest_user.as_slice() <= user_key && user_key <= self.largest_user.as_slice()
    }

    // ANCHOR: lookup
    /// The newest version at or below the seek key's sequence number, if this table has one.
    /// `key_hash` is the filter hash of the seek key's user key (`bloom::key_hash` of its
    /// prefix), computed once for all the tables a lookup asks.
    fn lookup(&self, seek: &[u8], key_hash: u64, stats: &mut Stats) -> Result<Option<Value>> {
        if let Some(filter) = &self.filter
            && !filter.may_contain_hash(key_hash)
        {
            stats.filter_skips += 1; // the filter is sure: no block is read
            return Ok(None);
        }
        stats.tables_probed += 1;
        Ok(match self.table.seek(seek, stats)? {
            Some((key, value))
                if internal_key::prefix_of(&key) == internal_key::prefix_of(seek) =>
            {
                Some(value)
            }
            _ => None,
        })
    }
    // ANCHOR_END: lookup
}

/// The live tables, per level.
#[derive(Debug, Default, Clone)]
pub struct Version {
    /// `levels[0]` newest first; the others in key order.
    pub levels: Vec<Vec<Arc<TableHandle>>>,
}

impl Version {
    /// An empty tree.
    pub fn empty() -> Self {
        Version {
            levels: vec![Vec::new(); LEVELS],
        }
    }

    // ANCHOR: get
    /// The newest version of `user_key` in the tables at or below the sequence number of `seek`,
    /// the user key's seek key (`internal_key::encode(user_key, seq)`); `key_hash` is the
    /// filter hash of its prefix (`bloom::key_hash`), computed once by the caller.
    pub fn get_at(
        &self,
        user_key: &[u8],
        seek: &[u8],
        key_hash: u64,
        stats: &mut Stats,
    ) -> Result<Option<Value>> {
        for table in &self.levels[0] {
            if table.covers(user_key)
                && let Some(value) = table.lookup(seek, key_hash, stats)?
            {
                return Ok(Some(value));
            }
        }
        for level in &self.levels[1..] {
            let i = level.partition_point(|t| t.largest_user.as_slice() < user_key);
            if let Some(table) = level.get(i)
                && table.covers(user_key)
                && let Some(value) = table.lookup(seek, key_hash, stats)?
            {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }
    // ANCHOR_END: get

    /// Tables of `level` whose user-key range meets `[start, end]` (inclusive; `None` is open).
    pub fn overlapping(
        &self,
        level: usize,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
    ) -> Vec<Arc<TableHandle>> {
        self.levels[level]
            .iter()
            .filter(|t| {
                start.is_none_or(|s| t.largest_user.as_slice() >= s)
                    && end.is_none_or(|e| t.smallest_user.as_slice() <= e)
            })
            .cloned()
            .collect()
    }

    /// Bytes of table files on `level`.
    pub fn level_bytes(&self, level: usize) -> u64 {
        self.levels[level].iter().map(|t| t.file_bytes()).sum()
    }

    /// Every live table number.
    pub fn numbers(&self) -> impl Iterator<Item = u64> + '_ {
        self.levels.iter().flatten().map(|t| t.number)
    }
}
