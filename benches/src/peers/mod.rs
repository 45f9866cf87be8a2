//! Real engines beside our stages: fjall, redb and sled (the `peers` feature, pure Rust, built
//! by every `cargo xtask bench`) and RocksDB (the `rocksdb` feature, the system library, built
//! when `cargo xtask bench` finds it).
//!
//! Each is driven through the same [`Engine`](crate::engine::Engine) trait as our stages, one
//! operation per call, single-threaded, with the same `--sync` setting translated into the
//! engine's own words. Everything else stays at the engine's defaults — except the cache, which
//! the equal-cache run sets to one budget for every engine that has one
//! ([`Settings::cache_bytes`](crate::engine::Settings)) — and every setting that matters for
//! reading the numbers is reported beside them (the table's "settings" column):
//!
//! | engine | `sync=never` | `sync=always` | memory and format defaults |
//! | --- | --- | --- | --- |
//! | fjall 2.11 | each write handed to the OS (its default) | `persist(SyncAll)` after each write | 16 MiB memtable, 32 MiB block cache, lz4, background flush and compaction |
//! | RocksDB 7.8 (system library) | WAL write handed to the OS (`sync=false`) | `WriteOptions::set_sync(true)` | 64 MiB write buffer, 8 MiB block cache, Snappy, background flush and compaction |
//! | sled 0.34 | **weaker**: sled keeps writes in its own buffer and writes them out every 500 ms | `flush()` (which fsyncs) after each write | 1 GiB page cache, no compression |
//! | redb 3.1 | **weaker**: one transaction per write with `Durability::None`, persisted by the next durable commit | `Durability::Immediate` (fsync per commit) | 1 GiB cache, B-tree, no compression |
//!
//! Our stages write every acknowledged write to the OS before returning (`sync=never`): that
//! survives a killed process. fjall and RocksDB do the same; sled and redb have no such mode,
//! only "in memory for a while" or "fsync every write", so at `sync=never` they promise less than
//! the others, and the settings column says so.
//!
//! RocksDB is not built from source (about 25 minutes on 2 cores): the `rocksdb` crate links
//! the system library when `ROCKSDB_LIB_DIR` names its directory, and its build reads the C
//! header with libclang. On Debian or Ubuntu:
//!
//! ```text
//! apt-get install -y librocksdb-dev libclang-dev
//! ROCKSDB_LIB_DIR=/usr/lib/x86_64-linux-gnu cargo bench -p rkv-benches --features rocksdb
//! ```
//!
//! `cargo xtask bench` looks for both, sets the variable itself, and says how to install them
//! when they are missing.

mod fjall_engine;
mod redb_engine;
#[cfg(feature = "rocksdb")]
mod rocksdb_engine;
mod sled_engine;

use std::ops::Bound;

use crate::engine::{EngineSpec, Kind, Settings, mib};

/// The peer engines, in the order tables show them.
pub const PEERS: &[EngineSpec] = &[
    EngineSpec {
        name: "fjall",
        kind: Kind::Peer,
        open: fjall_engine::open,
    },
    #[cfg(feature = "rocksdb")]
    EngineSpec {
        name: "rocksdb",
        kind: Kind::Peer,
        open: rocksdb_engine::open,
    },
    EngineSpec {
        name: "sled",
        kind: Kind::Peer,
        open: sled_engine::open,
    },
    EngineSpec {
        name: "redb",
        kind: Kind::Peer,
        open: redb_engine::open,
    },
];

/// The cache a peer opens with: the equal budget when the run sets one, else `default` bytes;
/// and the `(name, value)` the settings column shows for it under the engine's own `name`.
fn cache(settings: &Settings, name: &str, default: u64) -> (u64, (String, String)) {
    match settings.cache_bytes {
        Some(budget) => (
            budget,
            (name.to_string(), format!("{} (equal budget)", mib(budget))),
        ),
        None => (
            default,
            (name.to_string(), format!("{} (default)", mib(default))),
        ),
    }
}

/// `start..end` with either side open, as the engines' range methods take it.
fn bounds<'a>(
    start: Option<&'a [u8]>,
    end: Option<&'a [u8]>,
) -> (Bound<&'a [u8]>, Bound<&'a [u8]>) {
    (
        start.map_or(Bound::Unbounded, Bound::Included),
        end.map_or(Bound::Unbounded, Bound::Excluded),
    )
}

/// The setting every peer reports for the memtable size our stages get.
fn memtable_not_applied(default: &str) -> (String, String) {
    (
        "memtable_bytes".to_string(),
        format!("n/a (the engine's own default: {default})"),
    )
}
