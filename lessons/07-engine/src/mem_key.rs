//! The memtable's key type: an internal key stored inside the skip-list node when it is short.
//!
//! A skip-list search compares the sought key with a node's key at every step. With `Vec<u8>`
//! keys, each comparison follows two pointers — to the node, then to the key's bytes in a
//! separate allocation — and in a memtable of tens of thousands of entries both are usually
//! cache misses. Most internal keys are short (a 16-byte user key makes a 26-byte internal key),
//! so [`MemKey`] keeps keys of up to [`INLINE`] bytes in the node itself: one miss per step
//! instead of two, and one allocation less per write. Longer keys go to the heap as before.
//!
//! Order and equality are those of the bytes, whichever way they are stored, so the skip list
//! can be searched with a plain `&[u8]` (through `Borrow<[u8]>`).

use std::borrow::Borrow;
use std::cmp::Ordering;

/// Keys up to this many bytes are stored inline.
pub const INLINE: usize = 38;

/// An internal key, inline when short.
#[derive(Clone)]
pub enum MemKey {
    /// A key of `len` bytes, kept at the front of `bytes`.
    Inline {
        /// The key's length, at most [`INLINE`].
        len: u8,
        /// The key, then zeros.
        bytes: [u8; INLINE],
    },
    /// A key longer than [`INLINE`].
    Heap(Box<[u8]>),
}

impl MemKey {
    /// The key's bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            MemKey::Inline { len, bytes } => &bytes[..usize::from(*len)],
            MemKey::Heap(bytes) => bytes,
        }
    }
}

impl From<&[u8]> for MemKey {
    fn from(key: &[u8]) -> Self {
        if key.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..key.len()].copy_from_slice(key);
            MemKey::Inline {
                len: key.len() as u8, // <= INLINE, fits
                bytes,
            }
        } else {
            MemKey::Heap(key.into())
        }
    }
}

impl Borrow<[u8]> for MemKey {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for MemKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for MemKey {}

impl PartialOrd for MemKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MemKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl std::fmt::Debug for MemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.as_slice().escape_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn order_and_bytes_are_those_of_the_slices(
            a in prop::collection::vec(any::<u8>(), 0..60),
            b in prop::collection::vec(any::<u8>(), 0..60),
        ) {
            let (ka, kb) = (MemKey::from(a.as_slice()), MemKey::from(b.as_slice()));
            prop_assert_eq!(ka.as_slice(), a.as_slice());
            prop_assert_eq!(ka.cmp(&kb), a.cmp(&b));
            prop_assert_eq!(ka == kb, a == b);
            prop_assert_eq!(matches!(ka, MemKey::Inline { .. }), a.len() <= INLINE);
        }
    }
}
