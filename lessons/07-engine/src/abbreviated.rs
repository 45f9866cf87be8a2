//! Abbreviated keys: eight bytes of a key, taken after a prefix its neighbours share, as one
//! number.
//!
//! Sorted keys share prefixes (all of `key0000000012324 … key0000003999990` start with
//! `key000000`), and a byte-wise comparison spends its time in that prefix before it reaches a
//! byte that differs. If every key in a set starts with the same prefix, the next eight bytes of
//! each, read as a big-endian `u64` and zero-padded, order the keys whenever two numbers differ:
//! padding only makes a shorter key compare as smaller, which it is. Only equal numbers need the
//! keys themselves. A comparison is then one integer comparison instead of a `memcmp`.
//! (Databases call these *abbreviated keys*; PostgreSQL's sort uses them the same way.)
//!
//! The block index ([`crate::abbreviated_index`]) abbreviates its keys after the prefix its
//! first and last keys share; the merge ([`crate::merge`]) abbreviates the current key of every
//! source it merges. Both are measured optimisations over what lessons 03 and 05 do (a plain
//! byte-wise comparison in a binary search or a heap): see the book's "Making it fast" appendix.

use std::cmp::Ordering;

pub use rkv_05_compression::block::common_prefix;

/// How many bytes of a key (after the shared prefix) its abbreviation keeps.
pub const ABBREVIATED: usize = 8;

/// The [`ABBREVIATED`] bytes of `key` from `from` on, zero-padded, as a big-endian number.
#[inline]
pub fn abbreviate(key: &[u8], from: usize) -> u64 {
    let rest = key.get(from..).unwrap_or_default();
    if let Some(bytes) = rest.first_chunk::<ABBREVIATED>() {
        return u64::from_be_bytes(*bytes); // the common case, without a variable-length copy
    }
    let mut bytes = [0u8; ABBREVIATED];
    bytes[..rest.len()].copy_from_slice(rest);
    u64::from_be_bytes(bytes)
}

// ANCHOR: abbreviate_under
/// The abbreviation of any `key` against `prefix`, for sets where not every key is known to
/// start with it: a key below every key that starts with `prefix` is 0, one above them all is
/// `u64::MAX`, and the rest abbreviate after the prefix. The result never decreases as the key
/// grows, so unequal abbreviations still order two keys, and equal ones still fall back to the
/// keys.
#[inline]
pub fn abbreviate_under(prefix: &[u8], key: &[u8]) -> u64 {
    match key.get(..prefix.len()).map(|head| compare(head, prefix)) {
        Some(Ordering::Equal) => abbreviate(key, prefix.len()),
        Some(Ordering::Less) => 0,
        Some(Ordering::Greater) => u64::MAX,
        // Shorter than the prefix: below it if it is a prefix of it or sorts before it.
        None if key <= prefix => 0,
        None => u64::MAX,
    }
}
// ANCHOR_END: abbreviate_under

/// The byte order of two keys, as `a.cmp(b)`, compared eight bytes at a time.
///
/// Keys are short (a 16-byte user key makes a 26-byte internal key in lesson 07), and a merge
/// compares them on every step; a call to `memcmp` for each costs more than the comparison.
#[inline]
pub fn compare(a: &[u8], b: &[u8]) -> Ordering {
    let (mut a_rest, mut b_rest) = (a, b);
    while let (Some((x, a_next)), Some((y, b_next))) = (
        a_rest.split_first_chunk::<8>(),
        b_rest.split_first_chunk::<8>(),
    ) {
        if x != y {
            return u64::from_be_bytes(*x).cmp(&u64::from_be_bytes(*y));
        }
        (a_rest, b_rest) = (a_next, b_next);
    }
    // Fewer than eight bytes left in one of them: byte by byte, still without a call.
    for (x, y) in a_rest.iter().zip(b_rest) {
        if x != y {
            return x.cmp(y);
        }
    }
    a_rest.len().cmp(&b_rest.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn unequal_abbreviations_order_keys_like_the_keys(
            prefix in prop::collection::vec(0u8..3, 0..4),
            a in prop::collection::vec(0u8..3, 0..14),
            b in prop::collection::vec(0u8..3, 0..14),
        ) {
            let (x, y) = (abbreviate_under(&prefix, &a), abbreviate_under(&prefix, &b));
            if x != y {
                prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            }
            if a == b {
                prop_assert_eq!(x, y);
            }
        }
    }

    proptest! {
        #[test]
        fn compare_is_byte_order(
            a in prop::collection::vec(prop_oneof![Just(0u8), Just(0xFFu8), any::<u8>()], 0..40),
            b in prop::collection::vec(prop_oneof![Just(0u8), Just(0xFFu8), any::<u8>()], 0..40),
            shared in 0usize..40,
        ) {
            // Long shared prefixes, so that the chunked comparison runs past its first chunks.
            let mut b = b;
            let shared = shared.min(a.len());
            b.splice(0..shared.min(b.len()), a[..shared].iter().copied());
            prop_assert_eq!(compare(&a, &b), a.cmp(&b));
            prop_assert_eq!(compare(&b, &a), b.cmp(&a));
            prop_assert_eq!(compare(&a, &a), Ordering::Equal);
        }
    }

    #[test]
    fn keys_outside_the_prefix_go_to_the_ends() {
        assert_eq!(abbreviate_under(b"key0", b"key"), 0);
        assert_eq!(abbreviate_under(b"key0", b"a"), 0);
        assert_eq!(abbreviate_under(b"key0", b"kez"), u64::MAX);
        assert_eq!(abbreviate_under(b"key0", b"key1"), u64::MAX);
        assert_eq!(abbreviate_under(b"key0", b"key0\x01"), 1 << 56);
    }
}
