//! A tiny in-memory [`KvStore`] for this crate's tests, backed by the contract's [`Model`].
//!
//! The CLI is generic over the store, and no lesson may be a dependency of the CLI, so the tests
//! drive it with this stand-in. "Directories" live in a process-wide map, so separate one-shot
//! invocations on the same `--dir` see each other's writes, as they would on disk. A directory
//! whose last component is `locked` is locked; options can make it fail on purpose.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rkv_contract::{Error, KvStore, Model, Result, Scan, Stats, StoreOptions, SyncMode};

/// The "disks": one model per directory.
static DIRS: Mutex<Option<HashMap<PathBuf, Model>>> = Mutex::new(None);

/// Options of [`MemStore`].
#[derive(Clone, Debug, Default)]
pub struct MemOptions {
    /// Recorded, not acted on.
    pub sync: SyncMode,
    /// See [`MemStore::fail_on`].
    pub fail_on: Option<Vec<u8>>,
    /// See [`MemStore::no_compact`].
    pub no_compact: bool,
}

impl StoreOptions for MemOptions {
    fn sync(&self) -> SyncMode {
        self.sync
    }

    fn set_sync(&mut self, sync: SyncMode) {
        self.sync = sync;
    }

    fn set(&mut self, name: &str, value: &str) -> Result<()> {
        match name {
            "fail_on" => self.fail_on = Some(value.as_bytes().to_vec()),
            "no_compact" => self.no_compact = value == "true",
            _ => {
                return Err(Error::invalid(
                    format!("unknown option {name:?}"),
                    "fail_on, no_compact",
                ));
            }
        }
        Ok(())
    }
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
    /// Puts and gets of this key fail; a scan fails on reaching it (after the smaller keys).
    pub fail_on: Option<Vec<u8>>,
    /// When set, `compact` is unsupported.
    pub no_compact: bool,
}

impl MemStore {
    /// An empty store backed by no directory.
    pub fn fresh() -> Self {
        Self::default()
    }

    /// The data stored for `dir` by earlier opens.
    pub fn contents(dir: &Path) -> Model {
        let dirs = DIRS.lock().unwrap_or_else(PoisonError::into_inner);
        dirs.as_ref()
            .and_then(|d| d.get(dir))
            .cloned()
            .unwrap_or_default()
    }

    /// Mirrors the model to its directory.
    fn save(&self) {
        if let Some(dir) = &self.dir {
            let mut dirs = DIRS.lock().unwrap_or_else(PoisonError::into_inner);
            dirs.get_or_insert_with(HashMap::new)
                .insert(dir.clone(), self.model.clone());
        }
    }

    fn check(&self, key: &[u8]) -> Result<()> {
        if self.fail_on.as_deref() == Some(key) {
            return Err(Error::invalid("the key is cursed", "no cursed keys"));
        }
        Ok(())
    }
}

impl KvStore for MemStore {
    type Options = MemOptions;

    fn open(dir: &Path, options: MemOptions) -> Result<Self> {
        if dir.file_name().is_some_and(|n| n == "locked") {
            return Err(Error::Locked { dir: dir.into() });
        }
        Ok(MemStore {
            dir: Some(dir.into()),
            model: Self::contents(dir),
            stats: Stats::default(),
            sync: options.sync,
            fail_on: options.fail_on,
            no_compact: options.no_compact,
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
        let fail_on = self.fail_on.clone();
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
        if self.no_compact {
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
        Ok(format!(
            "memory store\nsync={}\nkeys={}",
            self.sync,
            self.model.len()
        ))
    }
}
