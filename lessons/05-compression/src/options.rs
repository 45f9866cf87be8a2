//! Options of the block table: block size, restart interval, codec.

use rkv_02_sstables::TableOptions;
use rkv_contract::{Error, Result};

use crate::Codec;

/// Default target size of a data block before compression.
pub const DEFAULT_BLOCK_BYTES: usize = 4096;
/// Default number of entries between two full keys.
pub const DEFAULT_RESTART_INTERVAL: usize = 16;
/// Largest `block_bytes` accepted: blocks are read whole, so they should stay small.
pub const MAX_BLOCK_BYTES: usize = 1 << 20;

/// How block tables are written. (Reading needs none of it: every table describes itself.)
#[derive(Clone, Debug)]
pub struct BlockOptions {
    /// A data block is closed once it holds about this many bytes (`--set block_bytes=N`).
    pub block_bytes: usize,
    /// A full key every this many entries (`--set restart_interval=N`); 1 turns prefix
    /// compression off.
    pub restart_interval: usize,
    /// The codec for new blocks (`--set compression=none|lz4|zstd`).
    pub compression: Codec,
}

impl Default for BlockOptions {
    fn default() -> Self {
        BlockOptions {
            block_bytes: DEFAULT_BLOCK_BYTES,
            restart_interval: DEFAULT_RESTART_INTERVAL,
            compression: Codec::default(),
        }
    }
}

fn number_in(name: &str, value: &str, low: usize, high: usize) -> Result<usize> {
    value
        .parse()
        .ok()
        .filter(|n| (low..=high).contains(n))
        .ok_or_else(|| {
            Error::invalid(
                format!("{name}={value:?}"),
                format!("a number from {low} to {high}"),
            )
        })
}

impl TableOptions for BlockOptions {
    fn set(&mut self, name: &str, value: &str) -> Result<bool> {
        match name {
            "block_bytes" => self.block_bytes = number_in(name, value, 64, MAX_BLOCK_BYTES)?,
            "restart_interval" => self.restart_interval = number_in(name, value, 1, 1024)?,
            "compression" => self.compression = value.parse()?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}
