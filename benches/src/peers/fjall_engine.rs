//! fjall 2: an LSM-tree engine in Rust, with a journal, background flushes and compaction.

use std::path::Path;

use anyhow::Result;
use fjall::{Config, Keyspace, PartitionCreateOptions, PartitionHandle, PersistMode};
use rkv_contract::{Stats, SyncMode};

use crate::engine::{Engine, Opened, Settings};

/// A fjall keyspace with one partition.
struct Fjall {
    /// The keyspace: the journal and the background workers.
    keyspace: Keyspace,
    /// The partition every key goes into.
    partition: PartitionHandle,
    /// Whether to fsync after every write.
    sync: SyncMode,
}

/// Opens fjall in `dir`.
pub fn open(dir: &Path, settings: &Settings) -> Result<Opened> {
    let (cache_bytes, cache_shown) = super::cache(settings, "cache_size", FJALL_CACHE_BYTES);
    let keyspace = Config::new(dir).cache_size(cache_bytes).open()?;
    let partition = keyspace.open_partition("bench", PartitionCreateOptions::default())?;
    let durability = match settings.sync {
        SyncMode::Never => "never (each write handed to the OS: fjall's default)",
        SyncMode::Always => "always (persist(SyncAll) after every write)",
    };
    Ok(Opened {
        engine: Box::new(Fjall {
            keyspace,
            partition,
            sync: settings.sync,
        }),
        settings: vec![
            ("sync".into(), durability.into()),
            super::memtable_not_applied("16 MiB"),
            cache_shown,
            ("compression".into(), "lz4 (default)".into()),
            (
                "background".into(),
                "flush and compaction threads (default)".into(),
            ),
        ],
        honours_cache_budget: settings.cache_bytes.is_some(),
    })
}

/// fjall 2's default cache (`Config::default`): blocks and blobs, shared by all partitions.
const FJALL_CACHE_BYTES: u64 = 32 << 20;

impl Fjall {
    fn persist_if_asked(&self) -> Result<()> {
        if self.sync == SyncMode::Always {
            self.keyspace.persist(PersistMode::SyncAll)?;
        }
        Ok(())
    }
}

impl Engine for Fjall {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.partition.insert(key, value)?;
        self.persist_if_asked()
    }

    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.partition.get(key)?.map(|v| v.to_vec()))
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.partition.remove(key)?;
        self.persist_if_asked()
    }

    fn scan(
        &mut self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        limit: usize,
        visit: &mut dyn FnMut(&[u8], &[u8]),
    ) -> Result<usize> {
        let mut seen = 0;
        for entry in self
            .partition
            .range::<&[u8], _>(super::bounds(start, end))
            .take(limit)
        {
            let (key, value) = entry?;
            visit(&key, &value);
            seen += 1;
        }
        Ok(seen)
    }

    fn flush(&mut self) -> Result<()> {
        Ok(self.keyspace.persist(PersistMode::SyncAll)?)
    }

    fn stats(&self) -> Option<Stats> {
        None
    }

    fn reset_stats(&mut self) {}
}
