//! The engine handle: open and recover, read, snapshot, and the shared state behind it.
//!
//! [`Engine`] is `Send + Sync`: share it (it is cheap to clone) between threads, read from all of
//! them, write from any. Writes go through the group commit in [`crate::write`]; flushes and
//! compactions run on one background thread ([`crate::background`]). Readers take a consistent
//! picture — the memtable, the immutable memtable, the current [`Version`] and the last published
//! sequence number — under a lock held only long enough to clone three `Arc`s, and then read
//! without any lock at all.

use std::collections::VecDeque;
use std::fs;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use rkv_01_basic_store::{DataDir, Value};
use rkv_contract::{Error, Result, Stats, SyncMode};

use crate::batch::{Reassembly, WriteBatch};
use crate::bloom;
use crate::cache::BlockCache;
use crate::cursor::Cursor;
use crate::graveyard::Graveyard;
use crate::internal_key::{self, Seq};
pub use crate::iter::Scan;
use crate::manifest::{CURRENT, CURRENT_TMP, Edit, Manifest};
use crate::memtable::Memtable;
use crate::options::EngineOptions;
use crate::sst::LogFile;
use crate::table_file;
use crate::version::Version;
use crate::write::Pending;

/// The name of log number `number`.
pub fn log_name(number: u64) -> String {
    format!("{number:06}.log")
}

/// The number of a file named `NNNNNN.ext`.
pub fn file_number(name: &str, ext: &str) -> Option<u64> {
    let digits = name.strip_suffix(ext)?.strip_suffix('.')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// What readers and the background thread share, guarded by [`Shared::state`].
#[derive(Debug)]
pub(crate) struct State {
    /// The memtable receiving writes.
    pub mem: Arc<Memtable>,
    /// A full memtable being flushed, if any.
    pub imm: Option<Arc<Memtable>>,
    /// The live tables.
    pub version: Arc<Version>,
    /// The log that `mem` is protected by; every older log only protects `imm`.
    pub log_number: u64,
    /// A background failure: the engine refuses writes after one.
    pub background_error: Option<String>,
    /// Set when the engine is dropped.
    pub shutting_down: bool,
}

/// The log being appended to, owned by the write leader.
#[derive(Debug)]
pub(crate) struct LogState {
    pub log: LogFile,
    pub number: u64,
}

/// Everything the engine's threads share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub dir: DataDir,
    pub options: EngineOptions,
    pub state: Mutex<State>,
    /// Signalled whenever `state` changes in a way a waiter may care about.
    pub changed: Condvar,
    pub log: Mutex<LogState>,
    /// Writers waiting for their group to be committed (group commit).
    pub queue: Mutex<VecDeque<Arc<Pending>>>,
    pub queue_turn: Condvar,
    /// The highest sequence number whose write is complete and visible.
    pub last_seq: AtomicU64,
    /// The next unused file number.
    pub next_file: AtomicU64,
    pub manifest: Mutex<Manifest>,
    /// Held by whoever compacts (the background thread or an explicit `compact`).
    pub compaction: Mutex<()>,
    pub cache: Option<Arc<BlockCache>>,
    pub stats: Mutex<Stats>,
    /// Retired memtables and tables, freed by the compaction thread once no reader holds them.
    pub graveyard: Graveyard,
}

/// Locks a mutex, turning poisoning (a thread panicked while holding it) into an error.
pub(crate) fn lock<'a, T>(mutex: &'a Mutex<T>, what: &str) -> Result<MutexGuard<'a, T>> {
    mutex.lock().map_err(|_| {
        Error::io(
            "(engine)",
            std::io::Error::other(format!("{what} lock poisoned")),
        )
    })
}

impl Shared {
    /// Adds `stats` to the engine's counters.
    pub fn count(&self, stats: &Stats) {
        if let Ok(mut total) = self.stats.lock() {
            total.add(stats);
        }
    }

    /// Takes a file number.
    pub fn take_number(&self) -> u64 {
        self.next_file.fetch_add(1, Ordering::SeqCst)
    }

    // ANCHOR: picture
    /// A consistent picture for a reader.
    pub fn picture(&self) -> Result<Picture> {
        let state = lock(&self.state, "state")?;
        Ok(Picture {
            mem: state.mem.clone(),
            imm: state.imm.clone(),
            version: state.version.clone(),
            seq: self.last_seq.load(Ordering::Acquire),
        })
    }
    // ANCHOR_END: picture

    /// Deletes logs numbered below `first_live` (their data is in tables).
    pub fn remove_logs_below(&self, first_live: u64) -> Result<()> {
        for name in self.dir.list()? {
            if file_number(&name, "log").is_some_and(|n| n < first_live) {
                self.dir.remove(&name)?;
            }
        }
        Ok(())
    }
}

/// What a read sees: memtables, tables, and the sequence number that bounds them.
#[derive(Clone, Debug)]
pub struct Picture {
    mem: Arc<Memtable>,
    imm: Option<Arc<Memtable>>,
    version: Arc<Version>,
    seq: Seq,
}

impl Picture {
    // ANCHOR: get
    /// The value of `key` in this picture.
    fn get(&self, key: &[u8], stats: &mut Stats) -> Result<Option<Vec<u8>>> {
        // One seek key for every level (the newest version of `key` at or below `seq`),
        // and one filter hash for the memtables' and the tables' filters.
        let seek = internal_key::encode(key, self.seq);
        let hash = bloom::key_hash(internal_key::prefix_of(&seek));
        let found = match self.mem.get_at(&seek, hash) {
            Some(value) => Some(value),
            None => match self.imm.as_ref().and_then(|imm| imm.get_at(&seek, hash)) {
                Some(value) => Some(value),
                None => self.version.get_at(key, &seek, hash, stats)?,
            },
        };
        Ok(match found {
            Some(Value::Put(bytes)) => Some(bytes),
            _ => None,
        })
    }
    // ANCHOR_END: get

    // ANCHOR: scan
    /// The live entries with `start <= key < end` in this picture, streamed.
    fn scan(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Scan {
        if matches!((start, end), (Some(s), Some(e)) if s >= e) {
            return Scan::new(Ok(Vec::new()), self.seq);
        }
        let from = start.map(internal_key::scan_start);
        let to = end.map(internal_key::scan_end);
        let (from, to) = (from.as_deref(), to.as_deref());
        let mut sources = vec![Cursor::memtable(self.mem.clone(), from, to)];
        if let Some(imm) = &self.imm {
            sources.push(Cursor::memtable(imm.clone(), from, to));
        }
        let tables = || -> Result<Vec<Cursor>> {
            for level in 0..self.version.levels.len() {
                let overlapping = self.version.overlapping(level, start, end);
                if level == 0 {
                    for table in overlapping {
                        sources.push(Cursor::tables(vec![table], from, to)?);
                    }
                } else if !overlapping.is_empty() {
                    sources.push(Cursor::tables(overlapping, from, to)?);
                }
            }
            Ok(sources)
        };
        Scan::new(tables(), self.seq)
    }
    // ANCHOR_END: scan
}

/// A point in time: reads through it ignore every later write.
///
/// It holds the memtables and tables of that moment, so it stays readable however long it is
/// kept — at the price of keeping their memory and files alive.
#[derive(Clone, Debug)]
pub struct Snapshot {
    picture: Picture,
    shared: Arc<Shared>,
}

impl Snapshot {
    /// The sequence number this snapshot reads at.
    pub fn seq(&self) -> Seq {
        self.picture.seq
    }

    /// The value `key` had at this snapshot.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        rkv_contract::check_key(key)?;
        let mut stats = Stats {
            gets: 1,
            ..Stats::default()
        };
        let result = self.picture.get(key, &mut stats);
        self.shared.count(&stats);
        result
    }

    /// The live entries in `[start, end)` at this snapshot.
    pub fn scan(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Scan {
        self.shared.count(&Stats {
            scans: 1,
            ..Stats::default()
        });
        self.picture.scan(start, end)
    }
}

/// The full engine. Cheap to clone; every clone is the same store.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) shared: Arc<Shared>,
    /// Joins the background thread when the last handle is dropped.
    _background: Arc<crate::background::Worker>,
}

/// True for the names the engine writes.
fn is_engine_file(name: &str) -> bool {
    name == CURRENT
        || name == CURRENT_TMP
        || ["log", "sst", "filter", "manifest"]
            .iter()
            .any(|ext| file_number(name, ext).is_some())
}

impl Engine {
    // ANCHOR: open
    /// Opens (or creates) the engine in `path` and recovers everything acknowledged.
    pub fn open(path: &std::path::Path, options: EngineOptions) -> Result<Engine> {
        let dir = DataDir::open(path)?;
        dir.expect_only("rkv-07-engine", is_engine_file)?;
        let (mut manifest, state) = Manifest::open(&dir)?;
        let cache = (options.block_cache_bytes > 0)
            .then(|| Arc::new(BlockCache::new(options.block_cache_bytes)));

        // The tables the manifest names; everything else of ours is a leftover.
        let mut version = Version::empty();
        for (level, numbers) in state.levels.iter().enumerate() {
            for &number in numbers {
                version.levels[level].push(table_file::open(
                    &dir,
                    &options,
                    cache.as_ref(),
                    number,
                )?);
            }
        }
        version.levels[0].sort_by_key(|t| std::cmp::Reverse(t.number));
        for level in &mut version.levels[1..] {
            level.sort_by(|a, b| a.smallest_user.cmp(&b.smallest_user));
        }
        let live: Vec<u64> = version.numbers().collect();
        let mut logs = Vec::new();
        for name in dir.list()? {
            let table = file_number(&name, "sst").or_else(|| file_number(&name, "filter"));
            if table.is_some_and(|n| !live.contains(&n)) || name == CURRENT_TMP {
                dir.remove(&name)?;
            } else if let Some(number) = file_number(&name, "log") {
                if number < state.log_number {
                    dir.remove(&name)?;
                } else {
                    logs.push(number);
                }
            } else if file_number(&name, "manifest").is_some_and(|n| n != manifest.number()) {
                dir.remove(&name)?;
            }
        }
        logs.sort_unstable();

        // Replay the logs into a memtable, each record one batch.
        let recovered = Memtable::new(options.memtable_bytes);
        let mut last_seq = state.last_seq;
        for &number in &logs {
            let name = log_name(number);
            let mut records = Vec::new();
            LogFile::open(&dir, &name, SyncMode::Never, &mut |key, value| {
                records.push((key, value))
            })?;
            let mut parts = Reassembly::default();
            for (index, (key, value)) in records.into_iter().enumerate() {
                let corrupt = |what: String| {
                    Error::corruption(dir.file(&name), 0, format!("record {index}: {what}"))
                };
                let Value::Put(part) = value else {
                    return Err(corrupt("not a batch".into()));
                };
                if let Some((first, batch)) = parts.feed(&key, part).map_err(corrupt)? {
                    last_seq = last_seq.max(first + batch.len().saturating_sub(1) as u64);
                    for (i, (user_key, value)) in batch.writes.into_iter().enumerate() {
                        recovered.insert(&user_key, first + i as u64, value);
                    }
                }
            }
            // Parts still pending belong to a batch whose tail was torn off: it never happened.
        }
        // A rotation numbers its log before any manifest edit records that number, so a log
        // may be numbered at or above the manifest's next file number: the numbers handed out
        // from here on start above every log found, or the fresh log below could take the name
        // of a log just replayed — and be deleted with it.
        let above_logs = logs.last().map_or(0, |&n| n + 1);
        let next_file = AtomicU64::new(state.next_file.max(above_logs));

        // Write what was recovered as an L0 table, then start a fresh log.
        let mut edits = Vec::new();
        if !recovered.is_empty() {
            let number = next_file.fetch_add(1, Ordering::SeqCst);
            let mut entries = recovered.entries().map(Ok);
            if let Some((table, _)) =
                table_file::write(&dir, &options, cache.as_ref(), number, 0, &mut entries)?
            {
                version.levels[0].insert(0, table);
                edits.push(Edit::AddTable { level: 0, number });
            }
        }
        let log_number = next_file.fetch_add(1, Ordering::SeqCst);
        let log = LogFile::open(&dir, &log_name(log_number), SyncMode::Never, &mut |_, _| {})?;
        dir.sync()?;
        edits.extend([
            Edit::LogNumber(log_number),
            Edit::NextFile(next_file.load(Ordering::SeqCst)),
            Edit::LastSeq(last_seq),
        ]);
        manifest.record(&edits)?;
        for number in logs {
            dir.remove(&log_name(number))?;
        }

        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                mem: Arc::new(Memtable::new(options.memtable_bytes)),
                imm: None,
                version: Arc::new(version),
                log_number,
                background_error: None,
                shutting_down: false,
            }),
            changed: Condvar::new(),
            log: Mutex::new(LogState {
                log,
                number: log_number,
            }),
            queue: Mutex::new(VecDeque::new()),
            queue_turn: Condvar::new(),
            last_seq: AtomicU64::new(last_seq),
            next_file,
            manifest: Mutex::new(manifest),
            compaction: Mutex::new(()),
            cache,
            stats: Mutex::new(Stats::default()),
            graveyard: Graveyard::default(),
            dir,
            options,
        });
        let background = crate::background::Worker::start(shared.clone())?;
        Ok(Engine {
            shared,
            _background: Arc::new(background),
        })
    }
    // ANCHOR_END: open

    /// Sets `key` to `value`.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let mut batch = WriteBatch::new();
        batch.put(key, value)?;
        self.write(batch)
    }

    /// Deletes `key`.
    pub fn delete(&self, key: &[u8]) -> Result<()> {
        let mut batch = WriteBatch::new();
        batch.delete(key)?;
        self.write(batch)
    }

    /// Applies every write of `batch` atomically: after a crash, all of them or none.
    pub fn write(&self, batch: WriteBatch) -> Result<()> {
        crate::write::commit(&self.shared, batch)
    }

    /// The current value of `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        rkv_contract::check_key(key)?;
        let mut stats = Stats {
            gets: 1,
            ..Stats::default()
        };
        let result = self.shared.picture()?.get(key, &mut stats);
        self.shared.count(&stats);
        result
    }

    /// A consistent, streaming scan of `[start, end)` as of now.
    pub fn scan(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<Scan> {
        Ok(self.snapshot()?.scan(start, end))
    }

    /// A point-in-time view for reads.
    pub fn snapshot(&self) -> Result<Snapshot> {
        Ok(Snapshot {
            picture: self.shared.picture()?,
            shared: self.shared.clone(),
        })
    }

    /// Writes the memtable to a table and waits until it is done.
    pub fn flush(&self) -> Result<()> {
        crate::write::flush(&self.shared)
    }

    /// Flushes, then compacts every level into the one below until all data sits in one level.
    pub fn compact(&self) -> Result<()> {
        self.flush()?;
        crate::compaction::compact_everything(&self.shared)
    }

    /// The cost counters so far.
    pub fn stats(&self) -> Stats {
        let mut stats = self
            .shared
            .stats
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        if let Some(cache) = &self.shared.cache {
            stats.cache_hits = cache.hits();
            stats.cache_misses = cache.misses();
        }
        if let Ok(picture) = self.shared.picture() {
            let levels = &picture.version.levels;
            stats.table_bytes = (0..levels.len())
                .map(|l| picture.version.level_bytes(l))
                .sum();
            stats.last_level_bytes = (0..levels.len())
                .rev()
                .find(|&l| !levels[l].is_empty())
                .map_or(0, |l| picture.version.level_bytes(l));
        }
        stats
    }

    /// Bytes of decoded blocks the block cache holds now (0 without a cache).
    pub fn block_cache_used_bytes(&self) -> u64 {
        self.shared
            .cache
            .as_ref()
            .map_or(0, |cache| cache.used_bytes())
    }

    /// Sets the counters back to zero.
    pub fn reset_stats(&self) {
        if let Ok(mut stats) = self.shared.stats.lock() {
            *stats = Stats::default();
        }
        if let Some(cache) = &self.shared.cache {
            cache.reset_counters();
        }
    }

    /// The level shape and sizes, one line per item.
    pub fn inspect(&self) -> Result<String> {
        let picture = self.shared.picture()?;
        let mut out = format!(
            "dir: {}\nsequence: {}\nmemtable: {} entries, {} bytes (limit {})\nimmutable memtable: {}",
            self.shared.dir.path().display(),
            picture.seq,
            picture.mem.len(),
            picture.mem.bytes(),
            self.shared.options.memtable_bytes,
            picture
                .imm
                .as_ref()
                .map_or("none".to_string(), |m| format!("{} bytes", m.bytes())),
        );
        let total: u64 = (0..picture.version.levels.len())
            .map(|l| picture.version.level_bytes(l))
            .sum();
        let bottom = picture
            .version
            .levels
            .iter()
            .enumerate()
            .rev()
            .find(|(_, tables)| !tables.is_empty())
            .map_or(0, |(level, _)| picture.version.level_bytes(level));
        for (level, tables) in picture.version.levels.iter().enumerate() {
            if tables.is_empty() {
                continue;
            }
            let target = if level == 0 {
                format!(
                    "compaction at {} tables",
                    self.shared.options.l0_compaction_trigger
                )
            } else {
                format!("target {} bytes", self.shared.options.level_target(level))
            };
            out.push_str(&format!(
                "\nL{level}: {} tables, {} bytes ({target})",
                tables.len(),
                picture.version.level_bytes(level)
            ));
            for table in tables {
                let summary = rkv_02_sstables::Table::summary(&table.table);
                out.push_str(&format!(
                    "\n  {} entries={} keys=[{} .. {}] bytes={}",
                    table_file::table_name(table.number),
                    summary.entries,
                    table.smallest_user.escape_ascii(),
                    table.largest_user.escape_ascii(),
                    summary.file_bytes,
                ));
            }
        }
        let stats = self.stats();
        out.push_str(&format!(
            "\ntables: {total} bytes; space amplification (all levels / last level): {:.2}\nwrite amplification: {}",
            total as f64 / bottom.max(1) as f64,
            stats.write_amplification().map_or("n/a".into(), |w| format!("{w:.2}")),
        ));
        Ok(out)
    }
}

/// Removes a file, ignoring "already gone".
pub(crate) fn remove_quietly(dir: &DataDir, name: &str) -> Result<()> {
    match fs::remove_file(dir.file(name)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(dir.file(name), e)),
    }
}
