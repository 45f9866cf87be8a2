//! The LSM orchestration, written once: memtable, log, flush, tables, merge, compaction.
//!
//! [`LsmStore`] is generic over the three things later lessons replace — the table format `T`,
//! the lookup strategy `L`, and the log format `J` — and owns everything else, above all the
//! order of the steps that make a flush or a compaction crash-safe.
//!
//! Files in the data directory, all numbered from one counter:
//! - `NNNNNN.log` — write-ahead logs; the newest receives appends;
//! - `NNNNNN.sst` — tables, immutable once written;
//! - `TABLES` — which tables are live and which logs still matter ([`table_list`]).

use std::sync::Arc;

use rkv_01_basic_store::{DataDir, Log, Memtable, Value, WriteAhead};
use rkv_contract::{IoContext, KvStore, Result, Scan, Stats, check_key};

use crate::journal::Journal;
use crate::lookup::{Lookup, NewestFirst};
use crate::merge::{LiveEntries, MergeIter};
use crate::options::LsmOptions;
use crate::table::{Table, TableIter, TableSummary};
use crate::table_list::{self, TABLES_FILE, TABLES_TMP, TableList};

/// The name of file number `number` with extension `ext`.
pub fn file_name(number: u64, ext: &str) -> String {
    format!("{number:06}.{ext}")
}

/// The number of a file named `NNNNNN.ext`, if `name` is one.
pub fn parse_file_name(name: &str, ext: &str) -> Option<u64> {
    let digits = name.strip_suffix(ext)?.strip_suffix('.')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A log-structured merge store over table format `T`, lookup strategy `L` and log `J`.
#[derive(Debug)]
pub struct LsmStore<T: Table, L: Lookup<T> = NewestFirst, J: Journal = Log> {
    /// The locked data directory.
    dir: DataDir,
    /// The options it was opened with.
    options: LsmOptions<T::Options>,
    /// Writes not yet in a table.
    memtable: Memtable,
    /// The log receiving appends; protects `memtable` together with `older_logs`.
    journal: J,
    /// Number of `journal`'s file.
    journal_number: u64,
    /// Older logs whose records are in `memtable` too, oldest first (left by a crash).
    older_logs: Vec<u64>,
    /// Live tables, newest first.
    tables: Vec<Arc<T>>,
    /// Their file numbers, in the same order.
    table_numbers: Vec<u64>,
    /// The next unused file number.
    next_number: u64,
    /// How a `get` searches the tables.
    lookup: L,
    /// Cost counters.
    stats: Stats,
}

/// True for the names an LSM store writes.
fn is_lsm_file(name: &str) -> bool {
    name == TABLES_FILE
        || name == TABLES_TMP
        || parse_file_name(name, "log").is_some()
        || parse_file_name(name, "sst").is_some()
}

impl<T: Table, L: Lookup<T>, J: Journal> LsmStore<T, L, J> {
    /// The live tables, newest first.
    pub fn tables(&self) -> &[Arc<T>] {
        &self.tables
    }

    /// Bytes of keys and values in the memtable.
    pub fn memtable_bytes(&self) -> usize {
        self.memtable.bytes()
    }

    /// Writes `entries` as table number `number` and fsyncs it; returns what was written.
    /// (The directory entry is made durable by the caller's next `dir.sync()`.)
    fn write_table(
        dir: &DataDir,
        options: &T::Options,
        number: u64,
        entries: &mut dyn Iterator<Item = Result<(Vec<u8>, Value)>>,
    ) -> Result<TableSummary> {
        let name = file_name(number, "sst");
        let path = dir.file(&name);
        let mut file = dir.create(&name)?;
        let summary = T::write(&mut file, &path, entries, options)?;
        file.sync_all().at(&path)?;
        Ok(summary)
    }

    /// Opens table number `number`.
    fn open_table(&self, number: u64) -> Result<Arc<T>> {
        let path = self.dir.file(&file_name(number, "sst"));
        Ok(Arc::new(T::open(&path, &self.options.table)?))
    }

    // ANCHOR: flush
    /// Writes the memtable out as the newest table and retires the logs that protected it.
    ///
    /// The order is what makes a crash at any point harmless: (1) the table is written and
    /// fsynced — a crash now leaves an unlisted file, deleted on open, and the logs replay;
    /// (2) a fresh log is created; (3) `TABLES` is replaced atomically, naming the new table and
    /// the new log as the first that matters — from here on, the old logs are garbage;
    /// (4) the old logs are deleted.
    fn flush_memtable(&mut self) -> Result<()> {
        if self.memtable.is_empty() {
            return Ok(());
        }
        let table_number = self.take_number();
        // On an error below, the memtable stays as it is: still logged, still served.
        let summary = {
            let mut entries = self
                .memtable
                .range(None, None)
                .map(|(key, value)| Ok((key.to_vec(), value.clone())));
            Self::write_table(&self.dir, &self.options.table, table_number, &mut entries)?
        };
        self.stats.disk_bytes_written += summary.file_bytes;
        self.dir.sync()?;
        let table = self.open_table(table_number)?;

        let log_number = self.take_number();
        let fresh = J::open(
            &self.dir,
            &file_name(log_number, "log"),
            self.options.sync,
            &mut |_, _| {},
        )?;
        let retired = std::mem::replace(&mut self.journal, fresh);
        drop(retired);
        let mut live = self.listed_tables();
        live.push(table_number);
        self.stats.disk_bytes_written += table_list::replace::<J>(
            &self.dir,
            &TableList {
                first_log: log_number,
                tables: live,
            },
        )?;
        self.tables.insert(0, table);
        self.table_numbers.insert(0, table_number);
        self.memtable = Memtable::default();

        let mut old_logs = std::mem::take(&mut self.older_logs);
        old_logs.push(std::mem::replace(&mut self.journal_number, log_number));
        for number in old_logs {
            self.dir.remove(&file_name(number, "log"))?;
        }
        self.dir.sync()
    }
    // ANCHOR_END: flush

    /// Live table numbers, oldest first, as `TABLES` lists them.
    fn listed_tables(&self) -> Vec<u64> {
        self.table_numbers.iter().rev().copied().collect()
    }

    fn take_number(&mut self) -> u64 {
        self.next_number += 1;
        self.next_number - 1
    }

    /// Every source of entries for `[start, end)`, newest first: the memtable, then the tables.
    fn sources(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<Vec<TableIter<'_>>> {
        let memtable: TableIter<'_> = Box::new(
            self.memtable
                .range(start, end)
                .map(|(key, value)| Ok((key.to_vec(), value.clone()))),
        );
        let mut sources = vec![memtable];
        for table in &self.tables {
            sources.push(table.range(start, end)?);
        }
        Ok(sources)
    }
}

// ANCHOR: write
/// `put` and `delete` are lesson 01's; the step in the middle is lesson 01's "log, then apply"
/// plus one test.
impl<T: Table, L: Lookup<T>, J: Journal> WriteAhead for LsmStore<T, L, J> {
    /// Logs the write, applies it, and flushes the memtable once it is full.
    fn write(&mut self, key: &[u8], value: Value) -> Result<()> {
        self.stats.disk_bytes_written += self.journal.append(key, &value)?;
        self.memtable.insert(key, value);
        if self.memtable.bytes() >= self.options.memtable_bytes {
            self.flush_memtable()?;
        }
        Ok(())
    }

    fn stats_mut(&mut self) -> &mut Stats {
        &mut self.stats
    }
}
// ANCHOR_END: write

impl<T: Table, L: Lookup<T>, J: Journal> KvStore for LsmStore<T, L, J> {
    type Options = LsmOptions<T::Options>;

    // ANCHOR: open
    fn open(path: &std::path::Path, options: Self::Options) -> Result<Self> {
        let dir = DataDir::open(path)?;
        dir.expect_only("rkv LSM (lessons 02-06)", is_lsm_file)?;
        let list = table_list::read::<J>(&dir)?;
        let names = dir.list()?;

        // Leftovers of an interrupted flush or compaction: unlisted tables, a half-written list,
        // and logs that a listed table already holds.
        let mut logs = Vec::new();
        let mut highest = list
            .tables
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .max(list.first_log);
        for name in &names {
            if let Some(number) = parse_file_name(name, "sst") {
                highest = highest.max(number);
                if !list.tables.contains(&number) {
                    dir.remove(name)?;
                }
            } else if let Some(number) = parse_file_name(name, "log") {
                highest = highest.max(number);
                if number < list.first_log {
                    dir.remove(name)?;
                } else {
                    logs.push(number);
                }
            } else if name == TABLES_TMP {
                dir.remove(name)?;
            }
        }
        logs.sort_unstable();

        let table_numbers: Vec<u64> = list.tables.iter().rev().copied().collect();
        let mut tables = Vec::with_capacity(table_numbers.len());
        for &number in &table_numbers {
            let table = T::open(&dir.file(&file_name(number, "sst")), &options.table)?;
            tables.push(Arc::new(table));
        }

        // Replay the logs oldest first; keep appending to the newest.
        let mut memtable = Memtable::default();
        let mut apply = |key: Vec<u8>, value: Value| memtable.insert(&key, value);
        let journal_number = logs.pop().unwrap_or(highest + 1);
        for &number in &logs {
            J::open(&dir, &file_name(number, "log"), options.sync, &mut apply)?;
        }
        let journal = J::open(
            &dir,
            &file_name(journal_number, "log"),
            options.sync,
            &mut apply,
        )?;
        Ok(LsmStore {
            dir,
            memtable,
            journal,
            journal_number,
            older_logs: logs,
            tables,
            table_numbers,
            next_number: highest.max(journal_number) + 1,
            lookup: L::default(),
            stats: Stats::default(),
            options,
        })
    }
    // ANCHOR_END: open

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.put_checked(key, value)
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.delete_checked(key)
    }

    // ANCHOR: get
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        check_key(key)?;
        self.stats.gets += 1;
        let found = match self.memtable.get(key) {
            Some(value) => Some(value.clone()),
            None => self.lookup.find(&self.tables, key, &mut self.stats)?,
        };
        Ok(found.and_then(|value| match value {
            Value::Put(bytes) => Some(bytes),
            Value::Tombstone => None,
        }))
    }
    // ANCHOR_END: get

    // ANCHOR: scan
    fn scan(&mut self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<Scan<'_>> {
        self.stats.scans += 1;
        self.stats.tables_probed += self.tables.len() as u64;
        let sources = self.sources(start, end)?;
        Ok(Box::new(LiveEntries(MergeIter::new(sources))))
    }
    // ANCHOR_END: scan

    fn flush(&mut self) -> Result<()> {
        self.journal.sync()?;
        self.flush_memtable()
    }

    // ANCHOR: compact
    /// Merges every table into one, dropping overwritten values and tombstones: with all tables
    /// in the merge, nothing older remains for a tombstone to hide.
    fn compact(&mut self) -> Result<()> {
        self.flush()?;
        if self.tables.is_empty() {
            return Ok(());
        }
        let number = self.take_number();
        let summary = {
            let mut live = LiveEntries(MergeIter::new(self.sources(None, None)?))
                .map(|entry| entry.map(|(key, value)| (key, Value::Put(value))));
            Self::write_table(&self.dir, &self.options.table, number, &mut live)?
        };
        self.stats.disk_bytes_written += summary.file_bytes;
        self.dir.sync()?;
        let (new_tables, new_numbers) = if summary.entries == 0 {
            (Vec::new(), Vec::new())
        } else {
            (vec![self.open_table(number)?], vec![number])
        };
        self.tables = new_tables;
        let old_numbers = std::mem::replace(&mut self.table_numbers, new_numbers);
        self.stats.disk_bytes_written += table_list::replace::<J>(
            &self.dir,
            &TableList {
                first_log: self.journal_number,
                tables: self.listed_tables(),
            },
        )?;
        for old in old_numbers {
            self.dir.remove(&file_name(old, "sst"))?;
        }
        if summary.entries == 0 {
            self.dir.remove(&file_name(number, "sst"))?;
        }
        self.dir.sync()
    }
    // ANCHOR_END: compact

    fn stats(&self) -> Stats {
        self.stats.clone()
    }

    fn reset_stats(&mut self) {
        self.stats = Stats::default();
    }

    fn inspect(&mut self) -> Result<String> {
        let mut report = format!(
            "dir: {}\nmemtable: {} keys, {} of {} bytes before a flush\nlog: {} ({} bytes)\n\
             tables: {} (newest first)",
            self.dir.path().display(),
            self.memtable.len(),
            self.memtable.bytes(),
            self.options.memtable_bytes,
            file_name(self.journal_number, "log"),
            self.journal.len(),
            self.tables.len(),
        );
        for (number, table) in self.table_numbers.iter().zip(&self.tables) {
            let summary = table.summary();
            report.push_str(&format!(
                "\n  {} entries={} keys=[{} .. {}] file_bytes={} data_bytes={} ratio={:.2}",
                file_name(*number, "sst"),
                summary.entries,
                summary.smallest.escape_ascii(),
                summary.largest.escape_ascii(),
                summary.file_bytes,
                summary.data_bytes,
                summary.file_bytes as f64 / summary.data_bytes.max(1) as f64,
            ));
        }
        Ok(report)
    }
}
