//! A row of the report: one engine with one cache setting.
//!
//! Every engine runs once at its own defaults. The equal-cache run then runs again every engine
//! that has a cache, with that cache set to one budget for all of them, under the name
//! `<engine>@<budget>` (`07-engine@8MiB`, `fjall@8MiB`): lesson 07's default cache is 256 MiB,
//! fjall's 32 MiB, RocksDB's 8 MiB, sled's and redb's 1 GiB, so a comparison at the defaults
//! alone cannot tell a faster engine from a larger cache. Engines without a cache (lessons
//! 01–06) have nothing to change and run once.

use crate::engine::EngineSpec;

/// One engine and the cache budget it runs with.
#[derive(Clone, Debug)]
pub struct Variant {
    /// The engine.
    pub spec: EngineSpec,
    /// The cache budget in bytes, or `None` for the engine's own default.
    pub cache_bytes: Option<u64>,
}

impl Variant {
    /// The engine at its own defaults.
    pub fn default_of(spec: EngineSpec) -> Self {
        Variant {
            spec,
            cache_bytes: None,
        }
    }

    /// The name of its row: the engine's name, and `@<budget>` for the equal-cache run.
    pub fn name(&self) -> String {
        match self.cache_bytes {
            None => self.spec.name.to_string(),
            Some(bytes) => format!("{}@{}", self.spec.name, short_size(bytes)),
        }
    }
}

/// A size without spaces, for a name: `8MiB`, `512KiB`, `1000B`.
fn short_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b.is_multiple_of(1 << 30) => format!("{}GiB", b >> 30),
        b if b >= 1 << 20 && b.is_multiple_of(1 << 20) => format!("{}MiB", b >> 20),
        b if b >= 1 << 10 && b.is_multiple_of(1 << 10) => format!("{}KiB", b >> 10),
        b => format!("{b}B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::STAGES;

    #[test]
    fn equal_cache_rows_carry_the_budget_in_their_name() {
        let engine = STAGES[STAGES.len() - 1];
        assert_eq!(Variant::default_of(engine).name(), engine.name);
        let budgeted = Variant {
            spec: engine,
            cache_bytes: Some(8 << 20),
        };
        assert_eq!(budgeted.name(), format!("{}@8MiB", engine.name));
        assert_eq!(short_size(1 << 30), "1GiB");
        assert_eq!(short_size(3 << 10), "3KiB");
        assert_eq!(short_size(1000), "1000B");
    }
}
