//! Every engine the benchmarks know, in the order tables and charts show them.
//!
//! **Adding a stage is one line** in the `stages!` list below (plus the crate's line under
//! `[dependencies]` in `benches/Cargo.toml`): its name, as the tables show it, and its `Store`
//! type. Every criterion group and every harness phase then runs it, and the book's table gets
//! its row. The order matters: "speed-up against the previous lesson" compares each stage with
//! the one listed before it.

use crate::engine::{EngineSpec, Kind, open_stage, open_stage_with_own_defaults};

/// Declares [`STAGES`] from `"name" => StoreType` lines. A line tagged `[own_defaults]` is a
/// stage tuned for real use (the full engine): it runs with its own defaults, like a peer,
/// instead of the benchmark's tiny teaching memtable.
macro_rules! stages {
    ($($name:literal => $store:ty $([$tag:ident])?),* $(,)?) => {
        /// Our stages, lesson by lesson.
        pub const STAGES: &[EngineSpec] = &[
            $(EngineSpec { name: $name, kind: Kind::Stage, open: opener!($store $(, $tag)?) },)*
        ];
    };
}

/// The open function of a stage line.
macro_rules! opener {
    ($store:ty) => {
        open_stage::<$store>
    };
    ($store:ty, own_defaults) => {
        open_stage_with_own_defaults::<$store>
    };
}

stages! {
    "01-basic-store" => rkv_01_basic_store::Store,
    "02-sstables" => rkv_02_sstables::Store,
    "03-binary-search" => rkv_03_binary_search::Store,
    "04-parallel-search" => rkv_04_parallel_search::Store,
    "05-compression" => rkv_05_compression::Store,
    "06-checksums" => rkv_06_checksums::Store,
    "07-engine" => rkv_07_engine::Store [own_defaults],
}

/// The stages, then (with `peers` on and `with_peers` asked for) the peer engines.
pub fn engines(with_peers: bool) -> Vec<EngineSpec> {
    let stages = STAGES.iter();
    #[cfg(feature = "peers")]
    let peers = crate::peers::PEERS.iter().filter(|_| with_peers);
    #[cfg(not(feature = "peers"))]
    let peers = [].iter().filter(|_| with_peers);
    stages.chain(peers).copied().collect()
}

/// Whether this build has the peer engines in it.
pub const HAS_PEERS: bool = cfg!(feature = "peers");

/// Whether this build has RocksDB among the peers.
pub const HAS_ROCKSDB: bool = cfg!(feature = "rocksdb");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_are_unique_and_in_lesson_order() {
        let names: Vec<&str> = STAGES.iter().map(|s| s.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        assert!(names[0].starts_with("01-"));
    }
}
