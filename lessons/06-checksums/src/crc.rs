//! The checksum: CRC-32, masked, stored little-endian after the bytes it protects.
//!
//! A CRC (cyclic redundancy check) is the remainder of a polynomial division of the data by a
//! fixed 33-bit polynomial. It is not cryptographic — anyone can forge one — but it is cheap
//! (`crc32fast` uses the CPU's carry-less multiply and checks gigabytes per second), and it is
//! *exact* about the damage disks and cables do: CRC-32 detects every single-bit error, every
//! burst of up to 32 flipped bits in a row, and all but one in four billion random garbage
//! patterns.
//!
//! Every checksum lesson 06 writes — after each table block, in each log record, at the end of
//! `TABLES` — comes from [`masked_crc`], and [`seal`] and [`check`] are the two halves of "append
//! a checksum" and "verify and strip it".

/// Bytes of a stored checksum.
pub const CRC_LEN: usize = 4;

// ANCHOR: mask
/// Added to every rotated CRC (LevelDB's constant).
const MASK_DELTA: u32 = 0xa282_ead8;

/// The CRC-32 of `bytes`, masked.
///
/// Why mask? A CRC has an algebraic quirk: the CRC of any data followed by that data's own CRC
/// is a constant (0x2144df1c for CRC-32, whatever the data). So if a checksummed block is itself
/// ever the payload of another checksum — a table file stored as a value, a log record copied
/// into a block — the outer CRC over "bytes + their CRC" says nothing about the bytes. Storing a
/// rotated, offset CRC instead, as LevelDB does, breaks that: the stored trailer is no longer
/// the CRC itself, so no constant appears. It costs one rotate and one add.
pub fn masked_crc(bytes: &[u8]) -> u32 {
    mask(crc32fast::hash(bytes))
}

/// The stored form of a CRC: rotated right by 15 bits, plus a constant.
pub fn mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}
// ANCHOR_END: mask

// ANCHOR: seal_check
/// Appends the masked CRC of `buf[start..]` to `buf`.
pub fn seal(buf: &mut Vec<u8>, start: usize) {
    let crc = masked_crc(buf.get(start..).unwrap_or_default());
    buf.extend_from_slice(&crc.to_le_bytes());
}

/// Verifies the checksum at the end of `sealed` and returns the bytes before it, or says what is
/// wrong.
pub fn check(sealed: &[u8]) -> Result<&[u8], String> {
    let Some(split) = sealed.len().checked_sub(CRC_LEN) else {
        return Err(format!(
            "{} bytes cannot hold a {CRC_LEN}-byte checksum",
            sealed.len()
        ));
    };
    let (bytes, stored) = sealed.split_at(split);
    let stored = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
    let computed = masked_crc(bytes);
    if stored != computed {
        return Err(format!(
            "checksum mismatch over {} bytes (stored {stored:#010x}, computed {computed:#010x})",
            bytes.len()
        ));
    }
    Ok(bytes)
}
// ANCHOR_END: seal_check

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail by panicking

    use super::*;

    #[test]
    fn a_crc_followed_by_itself_is_a_constant_and_masking_breaks_that() {
        let raw_residue = |data: &[u8]| {
            let mut framed = data.to_vec();
            framed.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
            crc32fast::hash(&framed)
        };
        let masked_residue = |data: &[u8]| {
            let mut framed = data.to_vec();
            seal(&mut framed, 0);
            crc32fast::hash(&framed)
        };
        // Unmasked: two unrelated messages, the same CRC over "message + its CRC".
        assert_eq!(raw_residue(b"apple"), 0x2144_df1c);
        assert_eq!(raw_residue(b"a completely different block"), 0x2144_df1c);
        // Masked: the outer CRC depends on the data again.
        assert_ne!(masked_residue(b"apple"), masked_residue(b"banana"));
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let mut sealed = b"the quick brown fox".to_vec();
        seal(&mut sealed, 0);
        assert_eq!(check(&sealed).unwrap(), b"the quick brown fox");
        for bit in 0..sealed.len() * 8 {
            let mut flipped = sealed.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(check(&flipped).is_err(), "bit {bit}");
        }
    }

    #[test]
    fn too_short_is_an_error() {
        assert!(check(b"abc").is_err());
        let mut empty = Vec::new();
        seal(&mut empty, 0);
        assert_eq!(check(&empty).unwrap(), b"");
    }
}
