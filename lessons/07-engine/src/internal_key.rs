//! Internal keys: a user key and a sequence number in one byte string that sorts right.
//!
//! The engine keeps several versions of a key — a snapshot may still need an old one — so tables
//! and the memtable store *internal keys*: the user key and the sequence number of the write.
//! They must sort by user key ascending, then by sequence number **descending**, so that the
//! first entry at or after `(key, s)` is the newest version visible at snapshot `s`.
//!
//! The table formats of lessons 02–06 compare keys as plain bytes, so the encoding makes byte
//! order equal that order:
//!
//! ```text
//! escaped user key | 0x00 0x01 | (u64::MAX - seq) big-endian (8 bytes)
//! escaped: every 0x00 byte of the user key is written as 0x00 0xFF
//! ```
//!
//! The escape keeps user-key order and makes the escaped key *prefix-free*: the terminator
//! `00 01` sorts below any continuation (`00 FF` or a byte ≥ 01), so `"a"` sorts before
//! `"a\0"` and before `"ab"`, whatever sequence numbers follow. Inverting the sequence number
//! makes newer versions sort first. (LevelDB instead teaches its tables a custom comparator; the
//! encoding lets us reuse lesson 06's tables unchanged.)

/// A write's position in the total order of writes; 0 is "before everything".
pub type Seq = u64;

/// The terminator between the escaped user key and the sequence number.
const TERMINATOR: [u8; 2] = [0x00, 0x01];

/// The escaped user key and terminator: every internal key of `user_key` starts with it.
pub fn user_prefix(user_key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(user_key.len() + 10);
    push_user_prefix(user_key, &mut out);
    out
}

/// Appends [`user_prefix`]`(user_key)` to `out`.
fn push_user_prefix(user_key: &[u8], out: &mut Vec<u8>) {
    if user_key.contains(&0) {
        for &byte in user_key {
            out.push(byte);
            if byte == 0 {
                out.push(0xFF);
            }
        }
    } else {
        // Most keys have no zero byte: nothing to escape, one copy.
        out.extend_from_slice(user_key);
    }
    out.extend_from_slice(&TERMINATOR);
}

// ANCHOR: encode
/// The internal key of version `seq` of `user_key`.
pub fn encode(user_key: &[u8], seq: Seq) -> Vec<u8> {
    let mut out = Vec::with_capacity(user_key.len() + 10);
    encode_into(user_key, seq, &mut out);
    out
}

/// Replaces the contents of `out` with [`encode`]`(user_key, seq)`, reusing its allocation.
pub fn encode_into(user_key: &[u8], seq: Seq, out: &mut Vec<u8>) {
    out.clear();
    push_user_prefix(user_key, out);
    out.extend_from_slice(&(u64::MAX - seq).to_be_bytes());
}
// ANCHOR_END: encode

/// Splits an internal key into the user key and the sequence number; `None` if it is not one.
pub fn decode(internal: &[u8]) -> Option<(Vec<u8>, Seq)> {
    let split = internal.len().checked_sub(8)?;
    let (escaped, seq) = internal.split_at(split);
    let mut seq_bytes = [0u8; 8];
    seq_bytes.copy_from_slice(seq);
    let body = escaped.strip_suffix(&TERMINATOR)?;
    let mut user = Vec::with_capacity(body.len());
    let mut bytes = body.iter();
    while let Some(&byte) = bytes.next() {
        user.push(byte);
        if byte == 0 && bytes.next() != Some(&0xFF) {
            return None;
        }
    }
    Some((user, u64::MAX - u64::from_be_bytes(seq_bytes)))
}

/// The user key of an internal key, borrowed from it when nothing was escaped (the common case)
/// and otherwise unescaped into `scratch`; `None` if it is not an internal key.
pub fn user_key_in<'a>(internal: &'a [u8], scratch: &'a mut Vec<u8>) -> Option<&'a [u8]> {
    let body_len = internal
        .len()
        .checked_sub(8)?
        .checked_sub(TERMINATOR.len())?;
    if internal[body_len..body_len + TERMINATOR.len()] != TERMINATOR {
        return None;
    }
    let body = &internal[..body_len];
    if !body.contains(&0) {
        return Some(body);
    }
    *scratch = decode(internal)?.0;
    Some(scratch)
}

/// Sets the sequence number of an internal key to 0 (a key shorter than eight bytes is left
/// alone).
pub fn clear_seq(internal: &mut [u8]) {
    let at = internal.len().saturating_sub(8);
    if let Some(seq) = internal.get_mut(at..) {
        // Stored as `u64::MAX - seq`: sequence number 0 is all ones.
        seq.copy_from_slice(&u64::MAX.to_be_bytes()[..seq.len()]);
    }
}

/// The sequence number of an internal key (its last eight bytes), if it has one.
pub fn seq_of(internal: &[u8]) -> Option<Seq> {
    let split = internal.len().checked_sub(8)?;
    let mut seq_bytes = [0u8; 8];
    seq_bytes.copy_from_slice(&internal[split..]);
    Some(u64::MAX - u64::from_be_bytes(seq_bytes))
}

/// The escaped user key with terminator, i.e. the internal key without its sequence number.
pub fn prefix_of(internal: &[u8]) -> &[u8] {
    &internal[..internal.len().saturating_sub(8)]
}

/// The smallest internal key of any user key `>= user_key`: a scan's inclusive start.
pub fn scan_start(user_key: &[u8]) -> Vec<u8> {
    encode(user_key, Seq::MAX)
}

/// Every internal key of a user key `< user_key` sorts below this: a scan's exclusive end.
pub fn scan_end(user_key: &[u8]) -> Vec<u8> {
    user_prefix(user_key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abbreviated::compare;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn order_is_user_key_then_newest_first(
            a in prop::collection::vec(prop_oneof![Just(0u8), Just(1u8), Just(0xFFu8), any::<u8>()], 0..6),
            b in prop::collection::vec(prop_oneof![Just(0u8), Just(1u8), Just(0xFFu8), any::<u8>()], 0..6),
            sa: u64, sb: u64,
        ) {
            let expected = a.cmp(&b).then(sb.cmp(&sa));
            prop_assert_eq!(encode(&a, sa).cmp(&encode(&b, sb)), expected);
            prop_assert_eq!(compare(&encode(&a, sa), &encode(&b, sb)), expected);
            prop_assert_eq!(decode(&encode(&a, sa)), Some((a.clone(), sa)));
            let mut cleared = encode(&a, sa);
            clear_seq(&mut cleared);
            prop_assert_eq!(cleared, encode(&a, 0));
            let (encoded, mut scratch) = (encode(&a, sa), Vec::new());
            prop_assert_eq!(user_key_in(&encoded, &mut scratch), Some(a.as_slice()));
            // Scan bounds bracket every version of exactly the right user keys.
            prop_assert_eq!(encode(&a, sa) >= scan_start(&b), a >= b);
            prop_assert_eq!(encode(&a, sa) < scan_end(&b), a < b);
        }

        #[test]
        fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..20)) {
            let decoded = decode(&bytes).map(|(user, _)| user);
            let _ = seq_of(&bytes);
            prop_assert_eq!(user_key_in(&bytes, &mut Vec::new()).map(<[u8]>::to_vec), decoded);
        }
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert_eq!(decode(b"short"), None);
        assert_eq!(
            decode(&[0x61, 0x00, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]),
            None
        );
    }
}
