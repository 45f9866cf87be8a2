//! Opening a data directory: from the files on disk back to a running engine's state.
//!
//! [`recover`] runs the steps in order, each a function of its own:
//!
//! 1. **read the manifest** ([`Manifest::open`]): which tables are live on which level, the first
//!    log that still matters, the next file number, the last sequence number;
//! 2. **open the tables** it names, each with its filter ([`open_tables`]);
//! 3. **remove leftovers** of a crash — tables no manifest names (a flush or compaction that
//!    did not finish), logs older than the manifest's log number, an older manifest, a
//!    `CURRENT.tmp` — and list the logs to replay ([`remove_leftovers`]);
//! 4. **replay the logs** into a memtable, oldest first, each record one batch; a batch whose
//!    last parts were torn off never happened ([`replay_logs`]);
//! 5. **save what was replayed** as a level-0 table and **start a fresh log**, record both in
//!    the manifest, then delete the replayed logs ([`save_replayed`]).
//!
//! After step 5 the replayed logs are no longer needed: a crash from here on recovers from the
//! table. A failure anywhere (a full disk, say) leaves the directory as a crash would — the next
//! open starts again from step 1.

use std::sync::Arc;

use rkv_01_basic_store::{DataDir, Value};
use rkv_contract::{Error, Result, SyncMode};

use crate::batch::Reassembly;
use crate::cache::BlockCache;
use crate::files::{CURRENT_TMP, Numbered, log_name};
use crate::manifest::{Edit, Manifest, ManifestState};
use crate::memtable::Memtable;
use crate::options::EngineOptions;
use crate::sst::LogFile;
use crate::state::Recovered;
use crate::table_file;
use crate::version::Version;

// ANCHOR: recover
/// Recovers everything acknowledged in `dir`; returns the manifest, the recovered state and the
/// fresh log that protects the first memtable.
pub(crate) fn recover(
    dir: &DataDir,
    options: &EngineOptions,
    cache: Option<&Arc<BlockCache>>,
) -> Result<(Manifest, Recovered, LogFile)> {
    let (mut manifest, listed) = Manifest::open(dir)?;
    let mut version = open_tables(dir, options, cache, &listed)?;
    let logs = remove_leftovers(dir, &version, &listed, manifest.number())?;
    let (replayed, last_seq) = replay_logs(dir, options, &logs, listed.last_seq)?;
    // A rotation numbers its log before any manifest edit records that number, so a log may be
    // numbered at or above the manifest's next file number: the numbers handed out from here on
    // start above every log found, or the fresh log could take the name of a log just replayed
    // — and be deleted with it.
    let mut next_file = listed.next_file.max(logs.last().map_or(0, |&n| n + 1));
    let (log, log_number) = save_replayed(
        dir,
        options,
        cache,
        &mut manifest,
        Replayed {
            memtable: &replayed,
            logs: &logs,
            last_seq,
        },
        &mut version,
        &mut next_file,
    )?;
    let recovered = Recovered {
        version,
        log_number,
        last_seq,
        next_file,
    };
    Ok((manifest, recovered, log))
}
// ANCHOR_END: recover

/// Opens the tables the manifest lists: L0 newest first, every other level in key order.
fn open_tables(
    dir: &DataDir,
    options: &EngineOptions,
    cache: Option<&Arc<BlockCache>>,
    listed: &ManifestState,
) -> Result<Version> {
    let mut version = Version::empty();
    for (level, numbers) in listed.levels.iter().enumerate() {
        for &number in numbers {
            version.levels[level].push(table_file::open(dir, options, cache, number)?);
        }
    }
    version.levels[0].sort_by_key(|t| std::cmp::Reverse(t.number));
    for level in &mut version.levels[1..] {
        level.sort_by(|a, b| a.smallest_user.cmp(&b.smallest_user));
    }
    Ok(version)
}

/// Deletes every file of ours that nothing needs — tables and filters the manifest does not
/// name, logs below its log number, other manifests, `CURRENT.tmp` — and returns the numbers
/// of the logs to replay, oldest first.
fn remove_leftovers(
    dir: &DataDir,
    version: &Version,
    listed: &ManifestState,
    manifest_number: u64,
) -> Result<Vec<u64>> {
    let live: Vec<u64> = version.numbers().collect();
    let mut logs = Vec::new();
    for name in dir.list()? {
        let table = Numbered::Table
            .number(&name)
            .or_else(|| Numbered::Filter.number(&name));
        let leftover = if let Some(number) = table {
            !live.contains(&number)
        } else if let Some(number) = Numbered::Log.number(&name) {
            let old = number < listed.log_number;
            if !old {
                logs.push(number);
            }
            old
        } else if let Some(number) = Numbered::Manifest.number(&name) {
            number != manifest_number
        } else {
            name == CURRENT_TMP
        };
        if leftover {
            dir.remove(&name)?;
        }
    }
    logs.sort_unstable();
    Ok(logs)
}

/// Replays `logs` into a fresh memtable; returns it and the highest sequence number seen (at
/// least `last_seq`, the manifest's).
fn replay_logs(
    dir: &DataDir,
    options: &EngineOptions,
    logs: &[u64],
    mut last_seq: u64,
) -> Result<(Memtable, u64)> {
    let replayed = Memtable::new(options.memtable_bytes);
    for &number in logs {
        let name = log_name(number);
        let mut records = Vec::new();
        LogFile::open(dir, &name, SyncMode::Never, &mut |key, value| {
            records.push((key, value))
        })?;
        let mut parts = Reassembly::default();
        for (index, (key, value)) in records.into_iter().enumerate() {
            let corrupt = |what: String| {
                Error::corruption(dir.file(&name), 0, format!("record {index}: {what}"))
            };
            let Value::Put(part) = value else {
                return Err(corrupt("not a batch".into()));
            };
            if let Some((first, batch)) = parts.feed(&key, part).map_err(corrupt)? {
                last_seq = last_seq.max(first + batch.len().saturating_sub(1) as u64);
                for (i, (user_key, value)) in batch.writes.into_iter().enumerate() {
                    replayed.insert(&user_key, first + i as u64, value);
                }
            }
        }
        // Parts still pending belong to a batch whose tail was torn off: it never happened.
    }
    Ok((replayed, last_seq))
}

/// What [`replay_logs`] recovered.
struct Replayed<'a> {
    /// The entries of every replayed log.
    memtable: &'a Memtable,
    /// The logs they came from.
    logs: &'a [u64],
    /// The highest sequence number in them (or the manifest's).
    last_seq: u64,
}

/// Writes the replayed entries as the newest L0 table of `version` and starts a fresh log; once
/// the manifest records both, deletes the replayed logs. Returns the fresh log and its number.
fn save_replayed(
    dir: &DataDir,
    options: &EngineOptions,
    cache: Option<&Arc<BlockCache>>,
    manifest: &mut Manifest,
    replayed: Replayed<'_>,
    version: &mut Version,
    next_file: &mut u64,
) -> Result<(LogFile, u64)> {
    let mut take_number = || {
        *next_file += 1;
        *next_file - 1
    };
    let mut edits = Vec::new();
    if !replayed.memtable.is_empty() {
        let number = take_number();
        let mut entries = replayed.memtable.entries().map(Ok);
        if let Some((table, _)) = table_file::write(dir, options, cache, number, 0, &mut entries)? {
            version.levels[0].insert(0, table);
            edits.push(Edit::AddTable { level: 0, number });
        }
    }
    let log_number = take_number();
    let log = LogFile::open(dir, &log_name(log_number), SyncMode::Never, &mut |_, _| {})?;
    dir.sync()?;
    edits.extend([
        Edit::LogNumber(log_number),
        Edit::NextFile(*next_file),
        Edit::LastSeq(replayed.last_seq),
    ]);
    manifest.record(&edits)?;
    for &number in replayed.logs {
        dir.remove(&log_name(number))?;
    }
    Ok((log, log_number))
}
