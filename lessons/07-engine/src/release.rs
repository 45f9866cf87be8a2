//! Giving a compaction's inputs back while it runs: the optimisation on top of the plain
//! compaction in [`crate::compaction`].
//!
//! A plain compaction writes all its outputs, installs them in one edit, and only then deletes
//! its inputs. For the whole merge the disk holds inputs *and* outputs: a compaction into L1 at
//! the default sizes merges about 30 MB of L0 with 16 MB of L1 into some 45 MB of new tables,
//! and a measurement of disk use taken at a random moment mostly measures how far the current
//! compaction has got.
//!
//! The inputs from the output level need not wait: they form a sorted run, which the merge
//! passes one table after the other. So the compaction also cuts an output table where the merge
//! passes the end of such an input (`ends_from` gives the cut points), and as soon as whole
//! inputs lie behind the merge (`passed`), one manifest edit puts the outputs written so far in
//! their place and their files are deleted. Measured with the benchmark harness (`fillrandom`,
//! 1 M keys, disk use right after the last put, four runs each): 130–140 MB with every input
//! deleted at the end, 113–117 MB released as the merge passes them, at the default 16 MiB L1
//! target; the write rate did not move.

use std::sync::Arc;

use crate::internal_key;
use crate::version::TableHandle;

// ANCHOR: release
/// The compaction's inputs from the output level itself — a sorted run — and how far the
/// merge has passed them.
///
/// An output table is cut where the merge passes the end of one of these inputs. Once the merge
/// is beyond a whole input, the outputs written so far replace it in the level: together they
/// cover exactly the keys up to there, so the level stays a sorted run. Its file is deleted at
/// once, and a long compaction never holds all its inputs and all its outputs on disk at the
/// same time. (The inputs from the level above — every L0 table spans the whole key range —
/// stay until the end; until then they shadow the outputs with the same versions.)
pub(crate) struct Release {
    /// The inputs in the output level, in key order.
    tables: Vec<Arc<TableHandle>>,
    /// The user-key prefix ([`internal_key::user_prefix`]) of each one's largest key.
    ends: Vec<Vec<u8>>,
    /// How many of them (from the first) are released.
    done: usize,
}

impl Release {
    /// Tracks `tables`, the compaction's inputs in its output level, in key order.
    pub(crate) fn new(tables: Vec<Arc<TableHandle>>) -> Self {
        let ends = tables
            .iter()
            .map(|t| internal_key::user_prefix(&t.largest_user))
            .collect();
        Release {
            tables,
            ends,
            done: 0,
        }
    }

    /// The ends of the inputs not yet released, from the first one an output table starting at
    /// `next` (a user-key prefix) reaches.
    pub(crate) fn ends_from(&self, next: &[u8]) -> &[Vec<u8>] {
        let remaining = &self.ends[self.done..];
        &remaining[remaining.partition_point(|end| end.as_slice() < next)..]
    }

    /// Releases the inputs that end before `next`, the user-key prefix the merge stands on —
    /// provided the outputs written so far, which end at `last`, do not overlap the first input
    /// left; returns the released ones.
    pub(crate) fn passed(&mut self, last: &[u8], next: &[u8]) -> Vec<Arc<TableHandle>> {
        let mut until = self.done;
        while self
            .ends
            .get(until)
            .is_some_and(|end| end.as_slice() < next)
        {
            until += 1;
        }
        // An input straddling `last` would overlap the outputs: wait until it is passed too.
        if let Some(first_left) = self.tables.get(until)
            && internal_key::user_prefix(&first_left.smallest_user).as_slice() <= last
        {
            return Vec::new();
        }
        let passed = self.tables[self.done..until].to_vec();
        self.done = until;
        passed
    }

    /// True if table `number` was released.
    pub(crate) fn released(&self, number: u64) -> bool {
        self.tables[..self.done].iter().any(|t| t.number == number)
    }
}
// ANCHOR_END: release
