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
    /// One block-cache budget for every engine that has a cache, in bytes; `None` leaves each
    /// engine at its own default (lesson 07: 256 MiB, fjall: 32 MiB, RocksDB: 8 MiB, sled and
    /// redb: 1 GiB). The equal-cache run sets it, so that a faster engine cannot owe its speed
    /// to a larger cache.
    pub cache_bytes: Option<u64>,
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
            cache_bytes: None,
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
    /// Whether the engine has a cache and set it to [`Settings::cache_bytes`]: engines without
    /// a cache (lessons 01–06) have nothing to run at an equal budget.
    pub honours_cache_budget: bool,
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
    if teaching {
        let value = settings.memtable_bytes.to_string();
        let shown = match options.set("memtable_bytes", &value) {
            Ok(()) => value,
            Err(_) => "n/a (the stage has no such option)".to_string(),
        };
        applied.push(("memtable_bytes".to_string(), shown));
    } else {
        applied.push((
            "memtable_bytes".to_string(),
            "the stage's own default (a production setting, like the peers')".to_string(),
        ));
    }
    let honours_cache_budget = match settings.cache_bytes {
        Some(budget) => {
            let set = options.set(CACHE_OPTION, &budget.to_string()).is_ok();
            if set {
                applied.push((CACHE_OPTION.to_string(), mib(budget)));
            }
            set
        }
        None => {
            if let Some(default) = debug_field(&options, CACHE_OPTION) {
                let shown = default
                    .parse::<u64>()
                    .map_or(default, |bytes| format!("{} (default)", mib(bytes)));
                applied.push((CACHE_OPTION.to_string(), shown));
            }
            false
        }
    };
    let store = S::open(dir, options)?;
    Ok(Opened {
        engine: Box::new(StageEngine(store)),
        settings: applied,
        honours_cache_budget,
    })
}

/// The option by which a stage that has a block cache (lesson 07) takes its budget.
const CACHE_OPTION: &str = "block_cache_bytes";

/// The value of field `name` in `value`'s `Debug` output, such as `268435456` for
/// `block_cache_bytes: 268435456`: the page then shows the stage's real default, read from its
/// options, not a number typed again here.
fn debug_field(value: &impl fmt::Debug, name: &str) -> Option<String> {
    let text = format!("{value:?}");
    let needle = format!("{name}: ");
    let at = text.find(&needle)? + needle.len();
    let rest = &text[at..];
    let end = rest.find([',', ' ', '}']).unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

/// A byte count in GiB or MiB when it is a whole number of them, as the settings column shows
/// it.
pub fn mib(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} B")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Options {
        block_cache_bytes: u64,
        other: u32,
    }

    #[test]
    fn a_field_is_read_from_debug_output() {
        let options = Options {
            block_cache_bytes: 268_435_456,
            other: 7,
        };
        assert_eq!(
            debug_field(&options, "block_cache_bytes").as_deref(),
            Some("268435456")
        );
        assert_eq!(debug_field(&options, "other").as_deref(), Some("7"));
        assert_eq!(debug_field(&options, "missing"), None);
    }

    #[test]
    fn budgets_read_in_mib() {
        assert_eq!(mib(8 << 20), "8 MiB");
        assert_eq!(mib(1 << 30), "1 GiB");
        assert_eq!(mib(1000), "1000 B");
    }
}
