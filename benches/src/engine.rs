//! The [`Engine`] trait: what a workload needs from a store, for our stages and for peers alike.
//!
//! [`KvStore`] has an associated options type and is not object-safe, and the peers (RocksDB,
//! sled, …) do not implement it at all. The workloads therefore drive a small object-safe trait,
//! and every engine is opened into a `Box<dyn Engine>`. The virtual call costs a few nanoseconds,
//! the same for every engine, against operations that take hundreds.

use std::fmt;
use std::ops::ControlFlow;
use std::path::Path;

use anyhow::Result;
use rkv_contract::{KvStore, Stats, StoreOptions, SyncMode};

/// One store, opened in a directory, as the workloads see it.
pub trait Engine {
    /// Sets `key` to `value`.
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()>;

    /// The value of `key`, if any.
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Removes `key`.
    fn delete(&mut self, key: &[u8]) -> Result<()>;

    /// Calls `visit` on the live entries with `start <= key < end` in ascending order, at most
    /// `limit` of them, and returns how many it visited.
    fn scan(
        &mut self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        limit: usize,
        visit: &mut dyn FnMut(&[u8], &[u8]),
    ) -> Result<usize>;

    /// Makes every acknowledged write durable.
    fn flush(&mut self) -> Result<()>;

    /// Our stages' cost counters since the last reset; `None` for peers, which have no such
    /// counters.
    fn stats(&self) -> Option<Stats>;

    /// Sets the counters back to zero (a no-op for peers).
    fn reset_stats(&mut self);
}

/// What every engine is opened with. The same values go to every engine, as far as it has them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Durability of each write. `never` (the default) hands each write to the operating system
    /// before acknowledging it: it survives a killed process, not a power cut. `always` fsyncs
    /// every write, and then every engine measures mostly the disk's fsync latency.
    pub sync: SyncMode,
    /// The memtable size of our LSM stages (`--set memtable_bytes=N`). Kept small by default so
    /// that even a short run writes many tables and the read path has work to do. Stages
    /// without a memtable limit (lesson 01) do not have the option; peers keep their own
    /// defaults (see [`crate::peers`]).
    pub memtable_bytes: usize,
}

/// The default memtable size of the benchmarks: 64 KiB, about 560 entries of 16 + 100 bytes.
/// 10 000 keys then make 18 tables; 1 000 000 keys make about 1 800 (and show what a store
/// without compaction does to reads).
pub const DEFAULT_MEMTABLE_BYTES: usize = 64 << 10;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sync: SyncMode::Never,
            memtable_bytes: DEFAULT_MEMTABLE_BYTES,
        }
    }
}

/// Whether an engine is one of our stages or a real engine to compare against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A lesson crate of rkv.
    Stage,
    /// Another key-value engine, behind the `peers` feature.
    Peer,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Stage => "stage",
            Kind::Peer => "peer",
        })
    }
}

/// An engine opened in a directory, and the settings it really runs with.
pub struct Opened {
    /// The engine.
    pub engine: Box<dyn Engine>,
    /// Each setting as `(name, value)`, including those the engine does not have (value
    /// `n/a: …`) and the engine's own fixed choices (cache size, compression), for the report.
    pub settings: Vec<(String, String)>,
}

/// One entry of the registry: an engine's name and how to open it.
#[derive(Clone, Copy)]
pub struct EngineSpec {
    /// The name shown in tables and used by `--filter`, e.g. `02-sstables` or `rocksdb`.
    pub name: &'static str,
    /// Stage or peer.
    pub kind: Kind,
    /// Opens (creating) the engine in a directory with the given settings.
    pub open: fn(&Path, &Settings) -> Result<Opened>,
}

impl fmt::Debug for EngineSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineSpec")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish()
    }
}

/// Opens stage `S` with `settings`: the sync mode is set through the typed setter, everything
/// else by name through [`StoreOptions::set`], exactly as `--set NAME=VALUE` on the command line
/// would. A stage that does not know an option says so, and the report shows `n/a`.
pub fn open_stage<S: KvStore + 'static>(dir: &Path, settings: &Settings) -> Result<Opened> {
    open_tuned::<S>(dir, settings, true)
}

/// Opens stage `S` with the sync mode of `settings` and the stage's own defaults for
/// everything else: for the full engine, which is tuned for real use like the peers.
pub fn open_stage_with_own_defaults<S: KvStore + 'static>(
    dir: &Path,
    settings: &Settings,
) -> Result<Opened> {
    open_tuned::<S>(dir, settings, false)
}

fn open_tuned<S: KvStore + 'static>(
    dir: &Path,
    settings: &Settings,
    teaching: bool,
) -> Result<Opened> {
    let mut options = S::Options::default();
    options.set_sync(settings.sync);
    let mut applied = vec![("sync".to_string(), settings.sync.to_string())];
    if !teaching {
        applied.push((
            "memtable_bytes".to_string(),
            "the stage's own default (a production setting, like the peers')".to_string(),
        ));
    }
    let by_name = [("memtable_bytes", settings.memtable_bytes.to_string())];
    for (name, value) in by_name.into_iter().filter(|_| teaching) {
        let shown = match options.set(name, &value) {
            Ok(()) => value,
            Err(_) => "n/a (the stage has no such option)".to_string(),
        };
        applied.push((name.to_string(), shown));
    }
    let store = S::open(dir, options)?;
    Ok(Opened {
        engine: Box::new(StageEngine(store)),
        settings: applied,
    })
}

/// Any [`KvStore`] as an [`Engine`].
pub struct StageEngine<S>(pub S);

impl<S: KvStore> Engine for StageEngine<S> {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        Ok(self.0.put(key, value)?)
    }

    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.0.get(key)?)
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        Ok(self.0.delete(key)?)
    }

    fn scan(
        &mut self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        limit: usize,
        visit: &mut dyn FnMut(&[u8], &[u8]),
    ) -> Result<usize> {
        let mut seen = 0;
        if limit == 0 {
            return Ok(0);
        }
        self.0.scan_each((start, end), &mut |key, value| {
            visit(key, value);
            seen += 1;
            if seen == limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        Ok(seen)
    }

    fn flush(&mut self) -> Result<()> {
        Ok(self.0.flush()?)
    }

    fn stats(&self) -> Option<Stats> {
        Some(self.0.stats())
    }

    fn reset_stats(&mut self) {
        self.0.reset_stats();
    }
}
