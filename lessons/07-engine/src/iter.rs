//! Scans: the merged stream of versions turned into the user's view at one point in time.
//!
//! The merge ([`crate::merge`]) yields every version of every key, newest first within a key.
//! [`Visible`] keeps, for each user key, the newest version at or below the scan's sequence
//! number, and hides it if it is a tombstone. It lends each live entry out, so a caller that
//! only looks at the bytes ([`Scan::for_each`]) copies nothing; the [`Scan`] iterator of the
//! store contract copies each live entry once, into the owned pair it returns.

use std::cmp::Ordering;
use std::ops::ControlFlow;

use crate::abbreviated::compare;
use rkv_contract::{Entry, Error, Result};

use crate::cursor::Cursor;
use crate::internal_key::{self, Seq};
use crate::merge::Merged;

// ANCHOR: visible
/// The live entries of a merged stream as of sequence number `seq`.
pub struct Visible {
    merged: Merged,
    seq: Seq,
    /// An error met while opening the sources, returned by the first call.
    pending: Option<Error>,
    /// False until the first entry was looked at (the merge starts *on* an entry).
    started: bool,
    /// The escaped prefix of the last user key decided, so its older versions are skipped.
    last_prefix: Vec<u8>,
    /// True once `last_prefix` holds a key.
    decided: bool,
    /// Room to unescape a user key with a zero byte in it (the rare case).
    unescaped: Vec<u8>,
}

impl Visible {
    /// The view of `sources` (or the error that opening them met) at `seq`.
    pub fn new(sources: Result<Vec<Cursor>>, seq: Seq) -> Self {
        let (sources, pending) = match sources {
            Ok(sources) => (sources, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        Visible {
            merged: Merged::new(sources),
            seq,
            pending,
            started: false,
            last_prefix: Vec::new(),
            decided: false,
            unescaped: Vec::new(),
        }
    }

    /// The next live entry — user key and value — lent until the next call.
    pub fn next_entry(&mut self) -> Result<Option<(&[u8], &[u8])>> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        loop {
            let more = if self.started {
                self.merged.advance()?
            } else {
                self.started = true;
                self.merged.valid()
            };
            let Some((key, value)) = self.merged.entry().filter(|_| more) else {
                return Ok(None);
            };
            let seq = internal_key::seq_of(key).ok_or_else(|| bad_key(key))?;
            let prefix = internal_key::prefix_of(key);
            let same_key = self.decided && compare(&self.last_prefix, prefix) == Ordering::Equal;
            if seq > self.seq || same_key {
                continue; // too new for this view, or an older version of a decided key
            }
            // Remember the decided key in the same buffer each time: no allocation per entry.
            self.last_prefix.clear();
            self.last_prefix.extend_from_slice(prefix);
            self.decided = true;
            if value.is_some() {
                break; // the newest visible version is a value, not a tombstone
            }
        }
        let (key, value) = self.merged.entry().unwrap_or_default();
        let user_key =
            internal_key::user_key_in(key, &mut self.unescaped).ok_or_else(|| bad_key(key))?;
        Ok(Some((user_key, value.unwrap_or_default())))
    }
}
// ANCHOR_END: visible

/// A streaming, consistent scan: it sees the engine as it was when the scan started.
pub struct Scan {
    visible: Visible,
    /// Set once an error was returned: the scan ends after it.
    failed: bool,
}

impl Scan {
    /// The scan of `sources` (or of the error opening them met) at `seq`.
    pub fn new(sources: Result<Vec<Cursor>>, seq: Seq) -> Self {
        Scan {
            visible: Visible::new(sources, seq),
            failed: false,
        }
    }

    // ANCHOR: for_each
    /// Calls `visit` on each live entry in order, lending the key and value, until it returns
    /// [`ControlFlow::Break`] or the entries run out.
    pub fn for_each(
        mut self,
        mut visit: impl FnMut(&[u8], &[u8]) -> ControlFlow<()>,
    ) -> Result<()> {
        while let Some((key, value)) = self.visible.next_entry()? {
            if visit(key, value).is_break() {
                break;
            }
        }
        Ok(())
    }
    // ANCHOR_END: for_each
}

impl Iterator for Scan {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.visible.next_entry() {
            Ok(entry) => entry.map(|(key, value)| Ok((key.to_vec(), value.to_vec()))),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

fn bad_key(key: &[u8]) -> Error {
    Error::corruption(
        "(merged scan)",
        0,
        format!("{} is not an internal key", key.escape_ascii()),
    )
}
