//! Where a block lives in a table file, and how the index block stores that.

use crate::varint;

// ANCHOR: handle
/// Where a block lives in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockHandle {
    /// Offset of the block's first byte.
    pub offset: u64,
    /// Size of the block on disk, header and trailer included.
    pub size: u64,
}

impl BlockHandle {
    /// The handle as the index block stores it: offset and size as varints.
    pub fn encode(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12);
        varint::put(&mut out, self.offset);
        varint::put(&mut out, self.size);
        out
    }

    /// The handle `bytes` hold, if they are exactly two varints.
    pub fn decode(bytes: &[u8]) -> Option<BlockHandle> {
        let (offset, used) = varint::get(bytes)?;
        let (size, rest) = varint::get(&bytes[used..])?;
        (used + rest == bytes.len()).then_some(BlockHandle { offset, size })
    }
}
// ANCHOR_END: handle
