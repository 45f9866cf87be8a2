//! Counters of what operations cost.
//!
//! A stopwatch says *that* a lesson is faster; these counters say *why*. Lesson 02 does tens of
//! thousands of key comparisons per `get`, lesson 03 a handful; lesson 07's bloom filter turns a
//! miss into zero blocks read. Each stage fills the counters that apply to it and leaves the rest
//! at zero. They count from the moment the store was opened (recovery work is not counted) or
//! from the last [`KvStore::reset_stats`](crate::KvStore::reset_stats).

use std::fmt;

macro_rules! counters {
    ($( $(#[doc = $doc:expr])* $name:ident, )*) => {
        /// Operation and cost counters of one store.
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct Stats {
            $( $(#[doc = $doc])* pub $name: u64, )*
        }

        impl Stats {
            /// Every counter with its name, in a fixed order.
            pub fn pairs(&self) -> Vec<(&'static str, u64)> {
                vec![$( (stringify!($name), self.$name), )*]
            }

            /// Adds every counter of `other` to this one (used to merge per-thread counters).
            pub fn add(&mut self, other: &Stats) {
                $( self.$name += other.$name; )*
            }
        }
    };
}

// ANCHOR: counters
counters! {
    /// `put` calls.
    puts,
    /// `get` calls.
    gets,
    /// `delete` calls.
    deletes,
    /// `scan` calls.
    scans,
    /// Table files consulted by reads.
    tables_probed,
    /// Blocks read from table files (a whole table counts as one block in stages without blocks).
    blocks_read,
    /// Records (entries) decoded from disk by reads.
    records_read,
    /// Bytes read from disk by reads.
    bytes_read,
    /// Key comparisons made while searching tables.
    key_comparisons,
    /// Checksums computed and compared.
    checksums_verified,
    /// Bytes produced by decompression.
    bytes_decompressed,
    /// Tables skipped because their bloom filter said the key is absent.
    filter_skips,
    /// Block reads answered from the block cache.
    cache_hits,
    /// Block reads the block cache could not answer.
    cache_misses,
    /// Key and value bytes the user asked to write.
    user_bytes_written,
    /// Bytes the store wrote to disk (log, tables, manifest), for write amplification.
    disk_bytes_written,
    /// A gauge, not a counter: bytes of all live table files now (stages with levels fill it).
    table_bytes,
    /// A gauge: bytes of the tables on the deepest non-empty level, for space amplification.
    last_level_bytes,
}
// ANCHOR_END: counters

impl Stats {
    /// Bytes written to disk per byte the user wrote; `None` before any user write.
    pub fn write_amplification(&self) -> Option<f64> {
        (self.user_bytes_written > 0)
            .then(|| self.disk_bytes_written as f64 / self.user_bytes_written as f64)
    }

    /// Bytes of all tables per byte of the last level — how much room overwritten and deleted
    /// data still takes; `None` when the stage has no levels.
    pub fn space_amplification(&self) -> Option<f64> {
        (self.last_level_bytes > 0).then(|| self.table_bytes as f64 / self.last_level_bytes as f64)
    }
}

/// One line of `name=value` pairs, the format the CLI's `stats` command prints.
impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (name, value) in self.pairs() {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{name}={value}")?;
        }
        if let Some(wa) = self.write_amplification() {
            write!(f, " write_amplification={wa:.2}")?;
        }
        if let Some(sa) = self.space_amplification() {
            write!(f, " space_amplification={sa:.2}")?;
        }
        Ok(())
    }
}
