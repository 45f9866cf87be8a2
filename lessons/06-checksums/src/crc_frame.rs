//! The checksum frame for table blocks: lesson 05's format, with a CRC after every block.
//!
//! Lesson 05 wrote every block of a table — each data block, the index block, the footer —
//! through its [`Frame`] seam, and plugged in a frame that adds nothing. This frame appends the
//! block's masked CRC-32 when the block is written and checks it whenever the block is read,
//! *before* a single byte of it is decompressed or decoded:
//!
//! ```text
//! lesson 05 block:  codec u8 | raw_len u32 | payload
//! lesson 06 block:  codec u8 | raw_len u32 | payload | crc u32   (masked CRC-32 of what precedes)
//! lesson 06 footer: index offset u64 | index size u64 | entries u64 | data bytes u64
//!                   | version u32 (= 2) | magic "RKV-BLK\0" | crc u32
//! ```
//!
//! Nothing else in the table format changes, and nothing else needs to: the decoders of lesson
//! 05 are only ever handed bytes whose checksum matched.

use rkv_05_compression::Frame;
use rkv_contract::Stats;

use crate::crc;

// ANCHOR: frame
/// Protects every block with a masked CRC-32, verified on every read.
#[derive(Clone, Copy, Debug, Default)]
pub struct Crc32;

impl Frame for Crc32 {
    /// Lesson 05's [`Bare`](rkv_05_compression::Bare) frame writes version 1.
    const VERSION: u32 = 2;
    const TRAILER_LEN: usize = crc::CRC_LEN;

    fn seal(buf: &mut Vec<u8>, start: usize) {
        crc::seal(buf, start);
    }

    fn open<'a>(framed: &'a [u8], stats: &mut Stats) -> Result<&'a [u8], String> {
        if framed.len() >= crc::CRC_LEN {
            stats.checksums_verified += 1;
        }
        crc::check(framed)
    }
}
// ANCHOR_END: frame
