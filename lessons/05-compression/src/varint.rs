//! Variable-length integers (LEB128): small numbers in few bytes.
//!
//! Inside a block most lengths are tiny — a shared prefix of 12 bytes, a suffix of 4, a value of
//! 100 — so spending four bytes on each would waste most of what prefix compression saves. A
//! varint stores seven bits per byte, low bits first, and sets the top bit of every byte but the
//! last: 0–127 take one byte, up to 16 383 two, and a `u32` at most five.

/// Appends `value` as a varint.
pub fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a varint at the front of `input`; returns it and the bytes it took, or `None` when the
/// input ends inside it or it does not fit in 64 bits (both mean corrupt input).
pub fn get(input: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in input.iter().enumerate().take(10) {
        let bits = u64::from(byte & 0x7f);
        if i == 9 && byte > 1 {
            return None; // more than 64 bits
        }
        value |= bits << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encodings() {
        let encode = |v| {
            let mut out = Vec::new();
            put(&mut out, v);
            out
        };
        assert_eq!(encode(0), [0]);
        assert_eq!(encode(127), [0x7f]);
        assert_eq!(encode(128), [0x80, 0x01]);
        assert_eq!(encode(300), [0xac, 0x02]);
        assert_eq!(encode(u64::MAX).len(), 10);
    }

    #[test]
    fn truncated_and_overlong_inputs_are_refused() {
        assert_eq!(get(&[]), None);
        assert_eq!(get(&[0x80]), None);
        assert_eq!(get(&[0xff; 11]), None);
        assert_eq!(
            get(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
            None
        );
    }

    proptest! {
        #[test]
        fn round_trip(value: u64, tail in prop::collection::vec(any::<u8>(), 0..4)) {
            let mut out = Vec::new();
            put(&mut out, value);
            let len = out.len();
            out.extend_from_slice(&tail);
            prop_assert_eq!(get(&out), Some((value, len)));
        }

        #[test]
        fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..12)) {
            let _ = get(&bytes);
        }
    }
}
