//! Every engine the benchmarks know, in the order tables and charts show them.
//!
//! **Adding a stage is one line** in the `stages!` list below (plus the crate's line under
//! `[dependencies]` in `benches/Cargo.toml`): its name, as the tables show it, and its `Store`
//! type. Every criterion group and every harness phase then runs it, and the book's table gets
//! its row. The order matters: "speed-up against the previous lesson" compares each stage with
//! the one listed before it.

use crate::engine::{EngineSpec, Kind, open_stage};

/// Declares [`STAGES`] from `"name" => StoreType` lines.
macro_rules! stages {
    ($($name:literal => $store:ty),* $(,)?) => {
        /// Our stages, lesson by lesson.
        pub const STAGES: &[EngineSpec] = &[
            $(EngineSpec { name: $name, kind: Kind::Stage, open: open_stage::<$store> },)*
        ];
    };
}

stages! {
    "01-basic-store" => rkv_01_basic_store::Store,
    "02-sstables" => rkv_02_sstables::Store,
    "03-binary-search" => rkv_03_binary_search::Store,
    "04-parallel-search" => rkv_04_parallel_search::Store,
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
