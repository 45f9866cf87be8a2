//! The [`KvStore`] trait: what every stage of rkv can do.

use std::ops::ControlFlow;
use std::path::Path;

use crate::{Error, Result, Stats, StoreOptions};

// ANCHOR: entry
/// One key and its value, as a scan yields them.
pub type Entry = (Vec<u8>, Vec<u8>);

/// An ordered stream of live entries. Each item may fail (a read error, a corrupt block), and the
/// stream may borrow the store.
pub type Scan<'a> = Box<dyn Iterator<Item = Result<Entry>> + 'a>;

/// What [`KvStore::scan_each`] calls with each entry it lends out: the key and the value, valid
/// during the call only. Returning [`ControlFlow::Break`] ends the scan.
pub type Visit<'a> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'a;

/// The range [`KvStore::scan_each`] visits, as one value: `(start, end)`, the keys with
/// `start <= key < end`; `None` leaves that side open.
pub type Bounds<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);
// ANCHOR_END: entry

// ANCHOR: kv_store
/// An ordered, durable map from byte strings to byte strings, kept in a directory.
///
/// The methods take `&mut self`: a stage that is a single-threaded teaching store need not pay for
/// locks. The full engine of lesson 07 also offers a shared, `Sync` handle of its own.
pub trait KvStore: Sized {
    /// This stage's options.
    type Options: StoreOptions;

    /// Opens (or creates) the store in `dir`, recovering whatever was acknowledged before.
    ///
    /// Fails with [`Error::Locked`] if another process holds the directory open.
    fn open(dir: &Path, options: Self::Options) -> Result<Self>;

    /// Sets `key` to `value`. When this returns, the write is as durable as
    /// [`StoreOptions::sync`] promises.
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()>;

    /// The value of `key`, or `None` if it has none.
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Removes `key`. Removing an absent key is not an error.
    fn delete(&mut self, key: &[u8]) -> Result<()>;

    /// The live entries with `start <= key < end`, in ascending byte order. `None` leaves that
    /// side open.
    fn scan(&mut self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<Scan<'_>>;

    /// Calls `visit` on the live entries with `start <= key < end` in ascending byte order, until
    /// it returns [`ControlFlow::Break`] or the entries run out. The key and value are *lent*:
    /// valid during the call only, so a stage that can hand out its own bytes copies nothing.
    /// The default copies each entry through [`scan`](KvStore::scan).
    fn scan_each(&mut self, (start, end): Bounds<'_>, visit: &mut Visit<'_>) -> Result<()> {
        for entry in self.scan(start, end)? {
            let (key, value) = entry?;
            if visit(&key, &value).is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Makes everything acknowledged so far durable on disk, whatever the sync mode.
    fn flush(&mut self) -> Result<()>;

    /// Rewrites the store's files into their most compact form, if this stage knows how.
    fn compact(&mut self) -> Result<()> {
        Err(Error::Unsupported("compact"))
    }

    /// The cost counters since open or the last [`reset_stats`](KvStore::reset_stats).
    fn stats(&self) -> Stats;

    /// Sets every counter back to zero.
    fn reset_stats(&mut self);

    /// A human-readable report of the store's files and memory, one item per line.
    fn inspect(&mut self) -> Result<String>;
}
// ANCHOR_END: kv_store
