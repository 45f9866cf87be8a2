//! Asking memory for several cache lines at once, in safe Rust.
//!
//! Lesson 05 reads a block from the file for every lookup, and then memory latency is lost in
//! the noise of a system call and a decompression. Lesson 07 keeps decoded blocks in memory
//! (the block cache, pinned blocks), and then it is not: what follows is how a point read stops
//! waiting for memory one cache line at a time ([`crate::cached_block`] uses it).
//!
//! A block held in memory is still far from the CPU. A point read lands in a block that no read
//! has touched for a while, so every cache line the search reads there is a trip to main memory
//! (about 200 ns on the machine the book's numbers come from). The search reads those lines one
//! after another, because each read decides the next: the restart point's key decides where the
//! scan starts, each entry's lengths say where the next entry begins. Done like that, the trips
//! add up.
//!
//! A CPU core can have many misses in flight at once (a dozen or two), but only for loads whose
//! addresses it already knows. [`lines`] reads one byte of every 64-byte line of a slice and
//! folds them into a value that nothing waits for: the loads go out together, the core runs on
//! while they arrive, and the search that follows finds its lines in the cache. `black_box`
//! keeps the compiler from deleting loads whose result is unused.
//!
//! This is what prefetch instructions (`_mm_prefetch` on x86) are for; they need `unsafe` and
//! one spelling per architecture, which this workspace does without. Asking for too much costs
//! too: a core has room for only so many misses. Asking for a whole 4 KiB block (64 lines) gained
//! a few per cent right after a load and lost about as much on a settled store, where asking
//! only for the lines the search reads gained about a fifth; so callers ask for what they are
//! about to read.

/// The cache line size of the CPUs this is tuned for (x86-64 and most ARM cores).
pub const CACHE_LINE: usize = 64;

// ANCHOR: lines
/// Reads one byte of every cache line `bytes` spans, without waiting for any of them.
pub fn lines(bytes: &[u8]) {
    let mut folded = bytes.last().copied().unwrap_or(0);
    for &byte in bytes.iter().step_by(CACHE_LINE) {
        folded ^= byte;
    }
    std::hint::black_box(folded);
}
// ANCHOR_END: lines

/// Reads the byte at each of `offsets` in `bytes` (offsets past the end are ignored), without
/// waiting for any of them.
pub fn bytes_at(bytes: &[u8], offsets: impl IntoIterator<Item = usize>) {
    let mut folded = 0;
    for offset in offsets {
        folded ^= bytes.get(offset).copied().unwrap_or(0);
    }
    std::hint::black_box(folded);
}

/// Keeps `loaded` — a value read only to bring its cache line in — from being optimised away.
pub fn value(loaded: usize) {
    std::hint::black_box(loaded);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_for_nothing_outside_the_slice() {
        // Offsets come from block trailers: a damaged one must be skipped, not followed.
        let bytes = vec![7u8; 200];
        bytes_at(&bytes, [0, 199, 200, usize::MAX]);
        lines(&bytes[..0]);
        lines(&bytes[150..]);
    }
}
