//! redb 3: an embedded copy-on-write B-tree in Rust, with ACID transactions.

use std::path::Path;

use anyhow::Result;
use redb::{Database, Durability, ReadableDatabase, TableDefinition};
use rkv_contract::{Stats, SyncMode};

use crate::engine::{Engine, Opened, Settings};

/// The one table every key goes into.
const TABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("bench");

/// A redb database file.
struct Redb {
    /// The database.
    db: Database,
    /// The durability of every write transaction.
    durability: Durability,
}

/// Opens redb in `dir` (one file, `bench.redb`).
pub fn open(dir: &Path, settings: &Settings) -> Result<Opened> {
    let (cache_bytes, cache_shown) = super::cache(settings, "cache_size", REDB_CACHE_BYTES);
    let db = Database::builder()
        .set_cache_size(usize::try_from(cache_bytes)?)
        .create(dir.join("bench.redb"))?;
    let tx = db.begin_write()?;
    tx.open_table(TABLE)?;
    tx.commit()?;
    let (durability, shown) = match settings.sync {
        SyncMode::Never => (
            Durability::None,
            "never, and weaker than the others: one transaction per write with \
             Durability::None, persisted only by a later durable commit",
        ),
        SyncMode::Always => (
            Durability::Immediate,
            "always (one transaction per write, Durability::Immediate: fsync per commit)",
        ),
    };
    Ok(Opened {
        engine: Box::new(Redb { db, durability }),
        settings: vec![
            ("sync".into(), shown.into()),
            super::memtable_not_applied("none; a B-tree with a page cache"),
            cache_shown,
            ("compression".into(), "none".into()),
        ],
        honours_cache_budget: settings.cache_bytes.is_some(),
    })
}

/// redb 3's default cache (`Builder::new`): 90 % for reads, 10 % for writes.
const REDB_CACHE_BYTES: u64 = 1 << 30;

impl Redb {
    /// Runs `change` on the table in one write transaction and commits it.
    fn write(
        &self,
        durability: Durability,
        change: impl FnOnce(&mut redb::Table<&[u8], &[u8]>) -> Result<()>,
    ) -> Result<()> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(durability)?;
        {
            let mut table = tx.open_table(TABLE)?;
            change(&mut table)?;
        }
        tx.commit()?;
        Ok(())
    }
}

impl Engine for Redb {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.write(self.durability, |t| {
            t.insert(key, value)?;
            Ok(())
        })
    }

    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(TABLE)?;
        Ok(table.get(key)?.map(|v| v.value().to_vec()))
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.write(self.durability, |t| {
            t.remove(key)?;
            Ok(())
        })
    }

    fn scan(
        &mut self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        limit: usize,
        visit: &mut dyn FnMut(&[u8], &[u8]),
    ) -> Result<usize> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(TABLE)?;
        let mut seen = 0;
        for entry in table.range::<&[u8]>(super::bounds(start, end))?.take(limit) {
            let (key, value) = entry?;
            visit(key.value(), value.value());
            seen += 1;
        }
        Ok(seen)
    }

    fn flush(&mut self) -> Result<()> {
        self.write(Durability::Immediate, |_| Ok(()))
    }

    fn stats(&self) -> Option<Stats> {
        None
    }

    fn reset_stats(&mut self) {}
}
