//! The engine's options, each settable by name (`--set name=value`).

use rkv_02_sstables::TableOptions;
use rkv_05_compression::{BlockOptions, Codec};
use rkv_contract::{Error, Result, StoreOptions, SyncMode};

/// How the engine runs. Defaults suit a laptop-sized store; tests shrink every threshold.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Whether a write's group is fsynced before it is acknowledged.
    pub sync: SyncMode,
    /// A memtable this large becomes immutable and is flushed in the background.
    pub memtable_bytes: usize,
    /// Target size of a table written by a compaction.
    pub table_bytes: u64,
    /// L0 tables that trigger a compaction into L1.
    pub l0_compaction_trigger: usize,
    /// L0 tables at which each write is slowed down a little.
    pub l0_slowdown_trigger: usize,
    /// L0 tables at which writes wait for compaction.
    pub l0_stop_trigger: usize,
    /// Target size of L1; level n+1 may hold `level_size_ratio` times level n.
    pub base_level_bytes: u64,
    /// Size ratio between neighbouring levels.
    pub level_size_ratio: u64,
    /// Bloom filter bits per key; 0 turns filters off.
    pub bloom_bits_per_key: usize,
    /// Bytes of decompressed blocks kept in the block cache; 0 turns it off.
    pub block_cache_bytes: u64,
    /// Block size, restart interval and codec of the tables (lesson 05's options).
    pub table: BlockOptions,
    /// The codec of tables written to `cold_level` and below, where most of the data ends up
    /// and is rewritten least often (`--set cold_compression=none|lz4|zstd`).
    pub cold_compression: Codec,
    /// The first level written with `cold_compression` (`--set cold_level=N`).
    pub cold_level: usize,
}

/// Number of levels, L0 included.
pub const LEVELS: usize = 7;

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            sync: SyncMode::default(),
            memtable_bytes: 8 << 20,
            table_bytes: 4 << 20,
            l0_compaction_trigger: 4,
            l0_slowdown_trigger: 12,
            l0_stop_trigger: 20,
            base_level_bytes: 16 << 20,
            level_size_ratio: 10,
            bloom_bits_per_key: 10,
            block_cache_bytes: 256 << 20,
            table: BlockOptions::default(),
            cold_compression: Codec::Zstd,
            cold_level: 1,
        }
    }
}

impl EngineOptions {
    /// Tiny thresholds, so that tests see flushes and compactions all the time.
    pub fn tiny() -> Self {
        let mut options = EngineOptions {
            memtable_bytes: 2048,
            table_bytes: 2048,
            l0_compaction_trigger: 2,
            l0_slowdown_trigger: 6,
            l0_stop_trigger: 10,
            base_level_bytes: 8192,
            level_size_ratio: 4,
            block_cache_bytes: 64 << 10,
            ..EngineOptions::default()
        };
        options.table.block_bytes = 256;
        options
    }

    /// The table options for a table written to `level`.
    pub fn table_options(&self, level: usize) -> BlockOptions {
        let mut options = self.table.clone();
        if level >= self.cold_level {
            options.compression = self.cold_compression;
        }
        options
    }

    /// The target size of level `level` (1 and up).
    pub fn level_target(&self, level: usize) -> u64 {
        let mut target = self.base_level_bytes;
        for _ in 1..level {
            target = target.saturating_mul(self.level_size_ratio.max(2));
        }
        target
    }
}

fn parse<T>(name: &str, value: &str, minimum: T) -> Result<T>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    value.parse().ok().filter(|v| *v >= minimum).ok_or_else(|| {
        Error::invalid(
            format!("{name}={value:?}"),
            format!("a number >= {minimum}"),
        )
    })
}

impl StoreOptions for EngineOptions {
    fn sync(&self) -> SyncMode {
        self.sync
    }

    fn set_sync(&mut self, sync: SyncMode) {
        self.sync = sync;
    }

    fn set(&mut self, name: &str, value: &str) -> Result<()> {
        match name {
            "memtable_bytes" => self.memtable_bytes = parse(name, value, 1)?,
            "table_bytes" => self.table_bytes = parse(name, value, 1)?,
            "l0_compaction_trigger" => self.l0_compaction_trigger = parse(name, value, 1)?,
            "l0_slowdown_trigger" => self.l0_slowdown_trigger = parse(name, value, 1)?,
            "l0_stop_trigger" => self.l0_stop_trigger = parse(name, value, 1)?,
            "base_level_bytes" => self.base_level_bytes = parse(name, value, 1)?,
            "level_size_ratio" => self.level_size_ratio = parse(name, value, 2)?,
            "bloom_bits_per_key" => self.bloom_bits_per_key = parse(name, value, 0)?,
            "block_cache_bytes" => self.block_cache_bytes = parse(name, value, 0)?,
            "cold_compression" => self.cold_compression = value.parse()?,
            "cold_level" => self.cold_level = parse(name, value, 1)?,
            _ => {
                if !self.table.set(name, value)? {
                    return Err(Error::invalid(
                        format!("unknown option {name:?}"),
                        "see EngineOptions and BlockOptions for the names",
                    ));
                }
            }
        }
        if self.l0_slowdown_trigger < self.l0_compaction_trigger
            || self.l0_stop_trigger < self.l0_slowdown_trigger
        {
            return Err(Error::invalid(
                "L0 triggers out of order",
                "l0_compaction_trigger <= l0_slowdown_trigger <= l0_stop_trigger",
            ));
        }
        Ok(())
    }
}
