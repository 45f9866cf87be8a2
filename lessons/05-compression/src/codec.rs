//! Block codecs: none, LZ4 and zstd.
//!
//! Prefix compression removes the repetition *between neighbouring keys*; a general-purpose
//! compressor removes repetition anywhere in the block, values included. LZ4 is fast and
//! compresses moderately; zstd compresses much better and costs more CPU. Writing either by hand
//! is not this lesson, so the well-kept crates `lz4_flex` and `zstd` do it.
//!
//! Each block records the codec it was written with, so a store can change `--set
//! compression=...` between runs and still read its older tables. A block the codec cannot
//! shrink is stored raw: paying to decompress bytes that did not get smaller is pure loss.

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;

use rkv_contract::{Error, Result};

/// How a block's bytes are compressed on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Codec {
    /// Stored as is.
    None,
    /// LZ4 block format.
    #[default]
    Lz4,
    /// Zstandard at its default level.
    Zstd,
}

impl Codec {
    /// The byte recorded in a block.
    pub fn id(self) -> u8 {
        match self {
            Codec::None => 0,
            Codec::Lz4 => 1,
            Codec::Zstd => 2,
        }
    }

    /// The codec recorded as `id`, if there is one.
    pub fn from_id(id: u8) -> Option<Codec> {
        match id {
            0 => Some(Codec::None),
            1 => Some(Codec::Lz4),
            2 => Some(Codec::Zstd),
            _ => None,
        }
    }

    // ANCHOR: codec
    /// Compresses `raw`; `None` when this codec stores blocks raw or could not shrink this one.
    pub fn compress(self, raw: &[u8]) -> Option<Vec<u8>> {
        let packed = match self {
            Codec::None => return None,
            Codec::Lz4 => lz4_flex::block::compress(raw),
            Codec::Zstd => zstd_compress(raw)?,
        };
        (packed.len() < raw.len()).then_some(packed)
    }

    /// Decompresses `packed` into exactly `raw_len` bytes, or explains why it cannot.
    ///
    /// `raw_len` comes from the block header and was bounded by the caller, so a corrupt block
    /// cannot make this allocate more than a block may hold.
    pub fn decompress(self, packed: &[u8], raw_len: usize) -> std::result::Result<Vec<u8>, String> {
        let raw = match self {
            Codec::None => packed.to_vec(),
            Codec::Lz4 => {
                lz4_flex::block::decompress(packed, raw_len).map_err(|e| e.to_string())?
            }
            Codec::Zstd => zstd_decompress(packed, raw_len)?,
        };
        if raw.len() != raw_len {
            return Err(format!(
                "decompressed to {} bytes, expected {raw_len}",
                raw.len()
            ));
        }
        Ok(raw)
    }
    // ANCHOR_END: codec
}

thread_local! {
    // A zstd context holds hundreds of KiB of tables, and setting one up cost more than
    // compressing or decompressing a 4 KiB block with it. So each thread keeps one of each and
    // reuses it for every block.
    static ZSTD_COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { RefCell::new(None) };
    static ZSTD_DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// zstd at its default level, with this thread's context; `None` if zstd failed.
fn zstd_compress(raw: &[u8]) -> Option<Vec<u8>> {
    ZSTD_COMPRESSOR.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if slot.is_none() {
            *slot = Some(zstd::bulk::Compressor::new(zstd::DEFAULT_COMPRESSION_LEVEL).ok()?);
        }
        slot.as_mut()?.compress(raw).ok()
    })
}

/// Decompresses a zstd block of at most `raw_len` bytes with this thread's context.
fn zstd_decompress(packed: &[u8], raw_len: usize) -> std::result::Result<Vec<u8>, String> {
    ZSTD_DECOMPRESSOR.with(|cell| {
        let mut slot = cell.try_borrow_mut().map_err(|e| e.to_string())?;
        if slot.is_none() {
            *slot = Some(zstd::bulk::Decompressor::new().map_err(|e| e.to_string())?);
        }
        match slot.as_mut() {
            Some(decompressor) => decompressor
                .decompress(packed, raw_len)
                .map_err(|e| e.to_string()),
            None => Err("no zstd context".into()),
        }
    })
}

impl FromStr for Codec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(Codec::None),
            "lz4" => Ok(Codec::Lz4),
            "zstd" => Ok(Codec::Zstd),
            other => Err(Error::invalid(
                format!("compression={other:?}"),
                "one of: none, lz4, zstd",
            )),
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Codec::None => "none",
            Codec::Lz4 => "lz4",
            Codec::Zstd => "zstd",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_round_trips_and_shrinks_repetitive_data() {
        let raw: Vec<u8> = b"the same words again and again, ".repeat(100);
        for codec in [Codec::Lz4, Codec::Zstd] {
            let packed = codec.compress(&raw).unwrap();
            assert!(packed.len() < raw.len() / 4, "{codec}");
            assert_eq!(codec.decompress(&packed, raw.len()).unwrap(), raw);
        }
        assert_eq!(Codec::None.compress(&raw), None);
    }

    #[test]
    fn a_wrong_length_or_garbage_is_an_error_not_a_panic() {
        let raw: Vec<u8> = b"abcabcabcabcabcabcabcabc".repeat(10);
        for codec in [Codec::Lz4, Codec::Zstd] {
            let packed = codec.compress(&raw).unwrap();
            assert!(codec.decompress(&packed, raw.len() - 1).is_err());
            assert!(codec.decompress(&[0xff; 7], 100).is_err());
        }
        assert!(Codec::None.decompress(b"abc", 4).is_err());
    }

    #[test]
    fn ids_and_names_round_trip() {
        for codec in [Codec::None, Codec::Lz4, Codec::Zstd] {
            assert_eq!(Codec::from_id(codec.id()), Some(codec));
            assert_eq!(codec.to_string().parse::<Codec>().unwrap(), codec);
        }
        assert_eq!(Codec::from_id(9), None);
    }
}
