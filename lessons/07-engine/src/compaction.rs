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
//! The new tables are fsynced, then one manifest edit swaps inputs for outputs atomically, and
//! only then are the input files deleted.

use std::iter::Peekable;
use std::sync::Arc;

use rkv_01_basic_store::Value;
use rkv_02_sstables::TableEntry;
use rkv_contract::{Result, Stats};

use crate::cursor::Cursor;
use crate::engine::{Shared, State, lock, remove_quietly};
use crate::internal_key;
use crate::manifest::Edit;
use crate::merge::Merged;
use crate::options::{EngineOptions, LEVELS};
use crate::table_file::{self, filter_name, table_name};
use crate::version::{TableHandle, Version};

/// A chosen compaction: input tables per level, merged into `output_level`.
#[derive(Debug)]
pub struct Compaction {
    /// Inputs per level, shallowest first.
    inputs: Vec<(usize, Vec<Arc<TableHandle>>)>,
    /// Where the outputs go.
    output_level: usize,
}

fn user_range(tables: &[Arc<TableHandle>]) -> Option<(Vec<u8>, Vec<u8>)> {
    let smallest = tables.iter().map(|t| &t.smallest_user).min()?.clone();
    let largest = tables.iter().map(|t| &t.largest_user).max()?.clone();
    Some((smallest, largest))
}

// ANCHOR: pick
/// The most urgent compaction, if any level is over its limit.
pub fn pick(version: &Version, options: &EngineOptions) -> Option<Compaction> {
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
    let _only_one = lock(&shared.compaction, "compaction")?;
    let version = lock(&shared.state, "state")?.version.clone();
    match pick(&version, &shared.options) {
        Some(compaction) => run(shared, &version, compaction),
        None => Ok(()),
    }
}

/// Merges every level into the deepest non-empty one (at least L1): after it, one sorted run
/// holds all data, without overwritten values or tombstones.
pub(crate) fn compact_everything(shared: &Shared) -> Result<()> {
    let _only_one = lock(&shared.compaction, "compaction")?;
    let version = lock(&shared.state, "state")?.version.clone();
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
    run(
        shared,
        &version,
        Compaction {
            inputs,
            output_level: deepest,
        },
    )
}

// ANCHOR: drop_obsolete
/// Drops versions no reader of the new tables needs: every version but the newest of a key,
/// and the newest too if it is a tombstone with nothing older left below to hide.
struct DropObsolete<'v, I> {
    inner: I,
    version: &'v Version,
    output_level: usize,
    current: Option<Vec<u8>>,
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

/// Stops a table once it is full, but never between two versions of one user key.
struct UntilFull<'a, I: Iterator<Item = Result<TableEntry>>> {
    source: &'a mut Peekable<I>,
    written: u64,
    limit: u64,
    last: Option<Vec<u8>>,
}

impl<I: Iterator<Item = Result<TableEntry>>> Iterator for UntilFull<'_, I> {
    type Item = Result<TableEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.written >= self.limit
            && let Some(Ok((key, _))) = self.source.peek()
            && self.last.as_deref() != Some(internal_key::prefix_of(key))
        {
            return None;
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
fn run(shared: &Shared, version: &Version, compaction: Compaction) -> Result<()> {
    let output_level = compaction.output_level;
    let mut removed = Vec::new();
    let mut edits = Vec::new();
    for (level, tables) in &compaction.inputs {
        for table in tables {
            removed.push((*level, table.number));
            edits.push(Edit::RemoveTable {
                level: *level,
                number: table.number,
            });
        }
    }
    // A single table with nothing to merge with just moves down: no rewrite.
    if let [(level, tables)] = compaction.inputs.as_slice()
        && let [table] = tables.as_slice()
        && *level > 0
        && output_level == level + 1
    {
        edits.push(Edit::AddTable {
            level: output_level,
            number: table.number,
        });
        return install(
            shared,
            &edits,
            &removed,
            vec![(output_level, table.clone())],
            |_| {},
        );
    }

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
    let mut merged = DropObsolete {
        inner: Merged::new(sources).into_entries(),
        version,
        output_level,
        current: None,
    }
    .peekable();
    let mut added = Vec::new();
    let mut written = 0;
    while merged.peek().is_some() {
        let number = shared.take_number();
        let mut output = UntilFull {
            source: &mut merged,
            written: 0,
            limit: shared.options.table_bytes,
            last: None,
        };
        if let Some((table, bytes)) = table_file::write(
            &shared.dir,
            &shared.options,
            shared.cache.as_ref(),
            number,
            output_level,
            &mut output,
        )? {
            edits.push(Edit::AddTable {
                level: output_level,
                number,
            });
            added.push((output_level, table));
            written += bytes;
        }
    }
    shared.dir.sync()?;
    edits.push(Edit::NextFile(
        shared.next_file.load(std::sync::atomic::Ordering::SeqCst),
    ));
    shared.count(&Stats {
        disk_bytes_written: written,
        ..Stats::default()
    });
    install(shared, &edits, &removed, added, |_| {})?;
    for (_, number) in removed {
        remove_quietly(&shared.dir, &table_name(number))?;
        remove_quietly(&shared.dir, &filter_name(number))?;
    }
    // The inputs' blocks leave the cache now, here on the compaction thread. (A reader still
    // holding an input reads it from its open file, and may bring a block back, to be evicted
    // in time.) Doing it when the last handle drops would put the work — thousands of cache
    // removals — on whichever reader or lock happened to drop it.
    for (_, tables) in &compaction.inputs {
        for table in tables {
            table.table.forget_cached();
        }
    }
    Ok(())
}
// ANCHOR_END: run

// ANCHOR: install
/// Records `edits` in the manifest, then swaps the new version in (and applies `also` to the
/// state in the same step). Manifest order and version order are the same because both happen
/// under the manifest lock.
pub(crate) fn install(
    shared: &Shared,
    edits: &[Edit],
    removed: &[(usize, u64)],
    added: Vec<(usize, Arc<TableHandle>)>,
    also: impl FnOnce(&mut State),
) -> Result<()> {
    let mut manifest = lock(&shared.manifest, "manifest")?;
    let bytes = manifest.record(edits)?;
    shared.count(&Stats {
        disk_bytes_written: bytes,
        ..Stats::default()
    });
    let mut state = lock(&shared.state, "state")?;
    let mut version = (*state.version).clone();
    for (level, number) in removed {
        version.levels[*level].retain(|t| t.number != *number);
    }
    for (level, table) in added {
        if level == 0 {
            version.levels[0].insert(0, table);
        } else {
            let at =
                version.levels[level].partition_point(|t| t.smallest_user < table.smallest_user);
            version.levels[level].insert(at, table);
        }
    }
    state.version = Arc::new(version);
    also(&mut state);
    shared.changed.notify_all();
    Ok(())
}
// ANCHOR_END: install
