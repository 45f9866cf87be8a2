//! sled 0.34: a log-structured B-tree-like engine in Rust.

use std::path::Path;

use anyhow::Result;
use rkv_contract::{Stats, SyncMode};

use crate::engine::{Engine, Opened, Settings};

/// A sled database.
struct Sled {
    /// The database (its default tree).
    db: sled::Db,
    /// Whether to flush (fsync) after every write.
    sync: SyncMode,
}

/// Opens sled in `dir`.
pub fn open(dir: &Path, settings: &Settings) -> Result<Opened> {
    let (cache_bytes, cache_shown) = super::cache(settings, "cache_capacity", SLED_CACHE_BYTES);
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(cache_bytes)
        .open()?;
    let durability = match settings.sync {
        SyncMode::Never => {
            "never, and weaker than the others: writes wait in sled's buffer, written out \
             every 500 ms (its default), so a killed process can lose them"
        }
        SyncMode::Always => "always (flush(), which fsyncs, after every write)",
    };
    Ok(Opened {
        engine: Box::new(Sled {
            db,
            sync: settings.sync,
        }),
        settings: vec![
            ("sync".into(), durability.into()),
            super::memtable_not_applied("none; a page cache"),
            cache_shown,
            ("compression".into(), "none (default)".into()),
        ],
        honours_cache_budget: settings.cache_bytes.is_some(),
    })
}

/// sled 0.34's default page cache (`Config::default`).
const SLED_CACHE_BYTES: u64 = 1 << 30;

impl Sled {
    fn flush_if_asked(&self) -> Result<()> {
        if self.sync == SyncMode::Always {
            self.db.flush()?;
        }
        Ok(())
    }
}

impl Engine for Sled {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.db.insert(key, value)?;
        self.flush_if_asked()
    }

    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.db.remove(key)?;
        self.flush_if_asked()
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
            .db
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
        self.db.flush()?;
        Ok(())
    }

    fn stats(&self) -> Option<Stats> {
        None
    }

    fn reset_stats(&mut self) {}
}
