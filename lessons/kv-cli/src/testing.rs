//! A tiny in-memory [`KvStore`] for this crate's tests, backed by the contract's [`Model`].
//!
//! The CLI is generic over the store, and no lesson may be a dependency of the CLI, so the tests
//! drive it with this stand-in. "Directories" live in a process-wide map, so separate one-shot
//! invocations on the same `--dir` see each other's writes, as they would on disk. A directory
//! whose last component is `locked` is locked; a test can give a directory [`Faults`] so that
//! its store fails on purpose.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rkv_contract::{Error, KvStore, Model, Result, Scan, Stats, SyncMode, SyncOptions};

/// The "disks": what is stored in each directory, and how it misbehaves.
static DIRS: Mutex<Option<HashMap<PathBuf, Disk>>> = Mutex::new(None);

/// One directory.
#[derive(Clone, Debug, Default)]
struct Disk {
    /// The data.
    model: Model,
    /// What its store does wrong.
    faults: Faults,
}

/// What a store does wrong on purpose.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Puts and gets of this key fail; a scan fails on reaching it (after the smaller keys).
    pub fail_on: Option<Vec<u8>>,
    /// `compact` is unsupported.
    pub no_compact: bool,
}

/// The test store.
#[derive(Debug, Default)]
pub struct MemStore {
    /// Where writes are mirrored; `None` for a store made by [`MemStore::fresh`].
    dir: Option<PathBuf>,
    /// The data.
    model: Model,
    /// Operation counters.
    stats: Stats,
    /// The sync mode it was opened with.
    pub sync: SyncMode,
    /// What it does wrong.
    pub faults: Faults,
}

/// Runs `f` on the map of directories.
fn with_dirs<T>(f: impl FnOnce(&mut HashMap<PathBuf, Disk>) -> T) -> T {
    let mut dirs = DIRS.lock().unwrap_or_else(PoisonError::into_inner);
    f(dirs.get_or_insert_with(HashMap::new))
}

impl MemStore {
    /// An empty store backed by no directory.
    pub fn fresh() -> Self {
        Self::default()
    }

    /// The data stored for `dir` by earlier opens.
    pub fn contents(dir: &Path) -> Model {
        with_dirs(|dirs| dirs.get(dir).map(|d| d.model.clone()).unwrap_or_default())
    }

    /// Makes every later store opened on `dir` misbehave as `faults` says.
    pub fn break_dir(dir: &Path, faults: Faults) {
        with_dirs(|dirs| dirs.entry(dir.into()).or_default().faults = faults);
    }

    /// Mirrors the model to its directory.
    fn save(&self) {
        if let Some(dir) = &self.dir {
            with_dirs(|dirs| dirs.entry(dir.clone()).or_default().model = self.model.clone());
        }
    }

    fn check(&self, key: &[u8]) -> Result<()> {
        if self.faults.fail_on.as_deref() == Some(key) {
            return Err(Error::invalid("the key is cursed", "no cursed keys"));
        }
        Ok(())
    }
}

impl KvStore for MemStore {
    type Options = SyncOptions;

    fn open(dir: &Path, options: SyncOptions) -> Result<Self> {
        if dir.file_name().is_some_and(|n| n == "locked") {
            return Err(Error::Locked { dir: dir.into() });
        }
        let disk = with_dirs(|dirs| dirs.get(dir).cloned().unwrap_or_default());
        Ok(MemStore {
            dir: Some(dir.into()),
            model: disk.model,
            stats: Stats::default(),
            sync: options.sync,
            faults: disk.faults,
        })
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.stats.puts += 1;
        self.check(key)?;
        self.model.put(key, value);
        self.save();
        Ok(())
    }

    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.stats.gets += 1;
        self.check(key)?;
        Ok(self.model.get(key).map(<[u8]>::to_vec))
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.stats.deletes += 1;
        self.model.delete(key);
        self.save();
        Ok(())
    }

    fn scan(&mut self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<Scan<'_>> {
        self.stats.scans += 1;
        let entries = self.model.scan(start, end);
        let fail_on = self.faults.fail_on.clone();
        let mut failed = false;
        Ok(Box::new(entries.into_iter().map_while(
            move |(k, v)| match &fail_on {
                _ if failed => None,
                Some(bad) if k >= *bad => {
                    failed = true;
                    Some(Err(Error::corruption("table-1", 42, "bad block")))
                }
                _ => Some(Ok((k, v))),
            },
        )))
    }

    fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    fn compact(&mut self) -> Result<()> {
        if self.faults.no_compact {
            return Err(Error::Unsupported("compact"));
        }
        Ok(())
    }

    fn stats(&self) -> Stats {
        self.stats.clone()
    }

    fn reset_stats(&mut self) {
        self.stats = Stats::default();
    }

    fn inspect(&mut self) -> Result<String> {
        let lines = [
            "memory store".to_owned(),
            format!("sync={}", self.sync),
            format!("keys={}", self.model.len()),
        ];
        Ok(lines.join("\n"))
    }
}

/// Standard output whose reader has gone away (`… | head -1`): every write and flush fails with
/// [`io::ErrorKind::BrokenPipe`].
pub struct ClosedPipe;

impl Write for ClosedPipe {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::BrokenPipe.into())
    }

    fn flush(&mut self) -> io::Result<()> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
}
