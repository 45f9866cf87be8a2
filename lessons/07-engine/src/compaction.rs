//! Leveled compaction: keep every level a sorted run, each about ten times the one above.
//!
//! Flushes pile tables into L0, where ranges overlap and every table must be asked. Compaction
//! merges tables down a level, so that:
//! - **L0 stays short**: once it holds `l0_compaction_trigger` tables, all of them merge with
//!   the overlapping L1 tables into new L1 tables;
//! - **each level n ≥ 1 stays under its target** (`base_level_bytes × ratio^(n-1)`): the level
//!   furthest over target (highest *score*, size ÷ target) gives one table, which merges with
//!   the tables it overlaps one level down. A table that overlaps nothing below just moves.
//!
//! A merge keeps the newest version of every key and drops the rest: readers that still need an
//! older picture hold their own `Arc` of the old tables. A tombstone is dropped too once no
//! deeper level can hold an older value for it — until then it is needed to hide that value.
//! Outputs are cut into tables of about `table_bytes`, never splitting one user key's versions.
//!
//! [`run`] is the plain compaction — merge the inputs, write the outputs, install them in place
//! of the inputs ([`crate::install`]), delete the inputs' files — with one optimisation on top,
//! marked where it acts: the inputs of the output level are swapped out and deleted as soon as
//! the merge has passed them, not at the end ([`crate::release`]). Either way an input's file is
//! deleted only after a manifest edit, recorded once the outputs replacing it are fsynced, has
//! swapped it out.

use std::iter::Peekable;
use std::sync::Arc;

use rkv_01_basic_store::Value;
use rkv_02_sstables::TableEntry;
use rkv_contract::{Result, Stats};

use crate::cursor::Cursor;
use crate::fault::DiskWrite;
use crate::files::{remove_table, table_name};
use crate::install::{TreeChange, install};
use crate::internal_key;
use crate::merge::Merged;
use crate::options::{EngineOptions, LEVELS};
use crate::release::Release;
use crate::state::Shared;
use crate::table_file;
use crate::version::{TableHandle, Version};

/// A chosen compaction: input tables per level, merged into `output_level`.
#[derive(Debug)]
pub(crate) struct Compaction {
    /// Inputs per level, shallowest first.
    inputs: Vec<(usize, Vec<Arc<TableHandle>>)>,
    /// Where the outputs go.
    output_level: usize,
}

impl Compaction {
    /// The inputs on `level`, in the order the version holds them.
    fn inputs_in(&self, level: usize) -> Vec<Arc<TableHandle>> {
        self.inputs
            .iter()
            .filter(|(l, _)| *l == level)
            .flat_map(|(_, tables)| tables.iter().cloned())
            .collect()
    }
}

fn user_range(tables: &[Arc<TableHandle>]) -> Option<(Vec<u8>, Vec<u8>)> {
    let smallest = tables.iter().map(|t| &t.smallest_user).min()?.clone();
    let largest = tables.iter().map(|t| &t.largest_user).max()?.clone();
    Some((smallest, largest))
}

// ANCHOR: pick
/// The most urgent compaction, if any level is over its limit.
pub(crate) fn pick(version: &Version, options: &EngineOptions) -> Option<Compaction> {
    let mut best: Option<(f64, usize)> = None;
    let level0 = version.levels[0].len() as f64 / options.l0_compaction_trigger.max(1) as f64;
    if level0 >= 1.0 {
        best = Some((level0, 0));
    }
    for level in 1..LEVELS - 1 {
        let score = version.level_bytes(level) as f64 / options.level_target(level) as f64;
        if score >= 1.0 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, level));
        }
    }
    let (_, level) = best?;
    let inputs = if level == 0 {
        version.levels[0].clone()
    } else {
        // The largest table of the level: it frees the most room per compaction.
        let largest = version.levels[level]
            .iter()
            .max_by_key(|t| t.file_bytes())?;
        vec![largest.clone()]
    };
    let (smallest, largest) = user_range(&inputs)?;
    let below = version.overlapping(level + 1, Some(&smallest), Some(&largest));
    let mut chosen = vec![(level, inputs)];
    if !below.is_empty() {
        chosen.push((level + 1, below));
    }
    Some(Compaction {
        inputs: chosen,
        output_level: level + 1,
    })
}
// ANCHOR_END: pick

/// Runs a compaction chosen by [`pick`] (re-checked under the compaction lock).
pub(crate) fn run_picked(shared: &Shared, _hint: Compaction) -> Result<()> {
    let _only_one = shared.lock(&shared.compaction, "compaction")?;
    let version = shared.state()?.version.clone();
    match pick(&version, &shared.options) {
        Some(compaction) => run(shared, &version, compaction),
        None => Ok(()),
    }
}

/// Merges every level into the deepest non-empty one (at least L1): after it, one sorted run
/// holds all data, without overwritten values or tombstones.
pub(crate) fn compact_everything(shared: &Shared) -> Result<()> {
    let _only_one = shared.lock(&shared.compaction, "compaction")?;
    let version = {
        let state = shared.state()?;
        // The background compaction this may have waited for can have failed meanwhile.
        shared.check_running(&state)?;
        state.version.clone()
    };
    let deepest = (1..LEVELS)
        .rev()
        .find(|&l| !version.levels[l].is_empty())
        .unwrap_or(1);
    let inputs: Vec<(usize, Vec<Arc<TableHandle>>)> = (0..=deepest)
        .filter(|&l| !version.levels[l].is_empty())
        .map(|l| (l, version.levels[l].clone()))
        .collect();
    if inputs.is_empty() {
        return Ok(());
    }
    let result = run(
        shared,
        &version,
        Compaction {
            inputs,
            output_level: deepest,
        },
    );
    drop(version);
    // This thread's references to the inputs are gone: free whatever no reader holds now, so
    // the caller of an explicit compaction gets the memory (and cache budget) back.
    shared.graveyard.sweep();
    result
}

// ANCHOR: drop_obsolete
/// Drops versions no reader of the new tables needs: every version but the newest of a key,
/// and the newest too if it is a tombstone with nothing older left below to hide.
///
/// At the bottom of the tree (no level below the output holds anything) the one version left
/// of a key is also the oldest anywhere, so its sequence number orders it against nothing:
/// it becomes 0, eight bytes that compress to almost nothing. (Snapshots read the tables of
/// their own moment, never these new ones.)
struct DropObsolete<'v, I> {
    inner: I,
    version: &'v Version,
    output_level: usize,
    current: Option<Vec<u8>>,
    /// True when every level below the output is empty.
    bottom: bool,
}

impl<I: Iterator<Item = Result<TableEntry>>> Iterator for DropObsolete<'_, I> {
    type Item = Result<TableEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (key, value) = match self.inner.next()? {
                Ok(entry) => entry,
                Err(e) => return Some(Err(e)),
            };
            let prefix = internal_key::prefix_of(&key);
            if self.current.as_deref() == Some(prefix) {
                continue; // an older version of a key already decided
            }
            self.current = Some(prefix.to_vec());
            if value == Value::Tombstone && self.nothing_below(&key) {
                continue; // nothing older is left for it to hide
            }
            let mut key = key;
            if self.bottom {
                internal_key::clear_seq(&mut key);
            }
            return Some(Ok((key, value)));
        }
    }
}

impl<I> DropObsolete<'_, I> {
    fn nothing_below(&self, key: &[u8]) -> bool {
        let Some((user_key, _)) = internal_key::decode(key) else {
            return false;
        };
        self.version.levels[self.output_level + 1..]
            .iter()
            .flatten()
            .all(|t| !t.covers(&user_key))
    }
}
// ANCHOR_END: drop_obsolete

/// Stops a table once it is full — or, once it holds a quarter of that, where the merge passes
/// the end of an input table of the output level — but never between two versions of one
/// user key.
///
/// Cutting at input ends lets the compaction give inputs back while the merge runs
/// ([`crate::release`]); the quarter
/// keeps that from cutting the level into slivers (an input that ends just after the last cut
/// would otherwise become a table of a few entries, and its end the next sliver's).
struct UntilFull<'a, I: Iterator<Item = Result<TableEntry>>> {
    source: &'a mut Peekable<I>,
    written: u64,
    limit: u64,
    /// The user-key prefixes ([`internal_key::user_prefix`]) where inputs of the output level
    /// end, from the first one this table reaches.
    ends: &'a [Vec<u8>],
    /// The user-key prefix of the last entry written.
    last: Option<Vec<u8>>,
}

impl<I: Iterator<Item = Result<TableEntry>>> Iterator for UntilFull<'_, I> {
    type Item = Result<TableEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(Ok((key, _))) = self.source.peek()
            && let Some(last) = self.last.as_deref()
        {
            let prefix = internal_key::prefix_of(key);
            if prefix != last {
                if self.written >= self.limit {
                    return None;
                }
                let mut crossed = false;
                while let Some((end, rest)) = self.ends.split_first()
                    && prefix > end.as_slice()
                {
                    self.ends = rest;
                    crossed = true;
                }
                if crossed && self.written >= self.limit / 4 {
                    return None;
                }
            }
        }
        let item = self.source.next()?;
        if let Ok((key, value)) = &item {
            self.written += (key.len() + value.as_live().map_or(0, <[u8]>::len)) as u64;
            self.last = Some(internal_key::prefix_of(key).to_vec());
        }
        Some(item)
    }
}

// ANCHOR: run
/// Runs `compaction` on `version`: merges the inputs, writes the outputs, installs them in place
/// of the inputs and deletes the inputs' files.
fn run(shared: &Shared, version: &Version, compaction: Compaction) -> Result<()> {
    let output_level = compaction.output_level;
    // A single table with nothing to merge with just moves down: no rewrite.
    if let [(level, tables)] = compaction.inputs.as_slice()
        && let [table] = tables.as_slice()
        && *level > 0
        && output_level == level + 1
    {
        let mut change = TreeChange::default();
        change.remove(*level, table.number);
        change.add(output_level, table.clone());
        return install(shared, change, |_| {});
    }

    // 1. Merge the inputs, keeping only what a reader of the new tables may need.
    let mut merged = merge_inputs(version, &compaction)?;
    // The optimisation: the inputs already in the output level, released as the merge passes.
    let mut early = Release::new(compaction.inputs_in(output_level));
    let mut change = TreeChange::default();
    let mut written = 0;
    while let Some(next) = next_prefix(&mut merged) {
        // 2. Write the next output table.
        let (output, last) =
            write_output(shared, &mut merged, output_level, early.ends_from(&next))?;
        if let Some((table, bytes)) = output {
            change.add(output_level, table);
            written += bytes;
        }
        // The optimisation: once whole inputs of the output level are behind the merge, the
        // outputs so far replace them now, and their space comes back now, not at the end.
        if let (Some(last), Some(next)) = (last, next_prefix(&mut merged)) {
            let passed = early.passed(&last, &next);
            if !passed.is_empty() {
                for table in &passed {
                    change.remove(output_level, table.number);
                }
                swap_in(shared, std::mem::take(&mut change))?;
                retire(shared, &passed)?;
            }
        }
    }
    shared.count(&Stats {
        disk_bytes_written: written,
        ..Stats::default()
    });
    // 3. Install the outputs in place of the inputs (those not released already)...
    let mut rest = Vec::new();
    for (level, tables) in &compaction.inputs {
        for table in tables {
            if *level != output_level || !early.released(table.number) {
                change.remove(*level, table.number);
                rest.push(table.clone());
            }
        }
    }
    swap_in(shared, change)?;
    // 4. ... and only then delete their files.
    retire(shared, &rest)
}
// ANCHOR_END: run

/// The inputs of `compaction` merged into one stream, newest version of each key first, with
/// what no reader of the outputs needs dropped.
fn merge_inputs<'v>(
    version: &'v Version,
    compaction: &Compaction,
) -> Result<Peekable<impl Iterator<Item = Result<TableEntry>> + 'v>> {
    let mut sources = Vec::new();
    for (level, tables) in &compaction.inputs {
        if *level == 0 {
            for table in tables {
                sources.push(Cursor::tables(vec![table.clone()], None, None)?);
            }
        } else {
            sources.push(Cursor::tables(tables.clone(), None, None)?);
        }
    }
    let output_level = compaction.output_level;
    Ok(DropObsolete {
        inner: Merged::new(sources).into_entries(),
        version,
        output_level,
        current: None,
        bottom: version.levels[output_level + 1..].iter().all(Vec::is_empty),
    }
    .peekable())
}

/// The user-key prefix of the merge's next entry; `None` at its end (an error counts as an
/// entry: the next write meets it).
fn next_prefix(merged: &mut Peekable<impl Iterator<Item = Result<TableEntry>>>) -> Option<Vec<u8>> {
    match merged.peek()? {
        Ok((key, _)) => Some(internal_key::prefix_of(key).to_vec()),
        Err(_) => Some(Vec::new()),
    }
}

/// An output table and its size in bytes (`None` if it had no entries), with the user-key
/// prefix of the last entry written.
type Output = (Option<(Arc<TableHandle>, u64)>, Option<Vec<u8>>);

/// Writes one output table to `level` from `merged`, cut when full or at one of `ends`.
fn write_output(
    shared: &Shared,
    merged: &mut Peekable<impl Iterator<Item = Result<TableEntry>>>,
    level: usize,
    ends: &[Vec<u8>],
) -> Result<Output> {
    let number = shared.take_number();
    shared
        .faults
        .check(DiskWrite::Table, &shared.dir.file(&table_name(number)))?;
    let mut output = UntilFull {
        source: merged,
        written: 0,
        limit: shared.options.table_bytes,
        ends,
        last: None,
    };
    let table = table_file::write(
        &shared.dir,
        &shared.options,
        shared.cache.as_ref(),
        number,
        level,
        &mut output,
    )?;
    Ok((table, output.last.take()))
}

// ANCHOR: retire
/// Makes the new tables durable, then installs `change`.
fn swap_in(shared: &Shared, change: TreeChange) -> Result<()> {
    shared.dir.sync()?;
    install(shared, change, |_| {})
}

/// Deletes the files of input tables the manifest no longer names, takes their blocks out of
/// the cache, and leaves the handles in the graveyard — here, on the thread that compacts. (A
/// reader still holding one reads it from its open file, and may bring a block back, to be
/// evicted in time.) Doing it when the last handle drops would put the work — thousands of
/// cache removals, thousands of pinned blocks to free — on whichever reader or lock happened to
/// drop it.
fn retire(shared: &Shared, tables: &[Arc<TableHandle>]) -> Result<()> {
    for table in tables {
        remove_table(&shared.dir, table.number)?;
        table.table.forget_cached();
        shared.graveyard.bury(table.clone());
    }
    Ok(())
}
// ANCHOR_END: retire
