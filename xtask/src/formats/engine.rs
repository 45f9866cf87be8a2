//! Lesson 07's files: `CURRENT`, the manifest, the write-ahead log of batches, tables of
//! internal keys and their bloom filters, all from one short history of a real engine.
//!
//! The engine is driven only through its public API (`Engine`, `EngineOptions`, `WriteBatch`),
//! and every file is read back here from the appendix's description, not with the engine's
//! decoders: the manifest's edits, the batch records, the internal keys' trailers and the
//! filter's hash are decoded field by field, and the walk refuses what the description does not
//! say. On top of the byte walk, the files must agree with each other and with the history:
//! `CURRENT` names the manifest in the directory, the manifest's live tables are exactly the
//! tables there, each table's keys are the writes that reached it, and every key of a table
//! finds all its probe bits set in the table's filter.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use rkv_07_engine::{Engine, EngineOptions, WriteBatch};
use rkv_contract::StoreOptions;

mod files;

use files::{TableKey, batch_body, walk_current, walk_filter, walk_internal_keys, walk_manifest};

use super::{Dump, Op, push_dumps, push_listing, show, walk_block_table_entries, walk_log_as};

/// The options of the example: no compression anywhere (so the bytes on disk show the
/// entries), and tiny blocks (so that a table has several) with a restart point every 4 entries
/// (so that two versions of one key show what they share).
const SETTINGS: &[(&str, &str)] = &[
    ("compression", "none"),
    ("cold_compression", "none"),
    ("block_bytes", "64"),
    ("restart_interval", "4"),
];

/// One step of the example's history.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// One `Engine::write` of a batch (a single put or delete is a batch of one).
    Write(&'static [Op]),
    /// `Engine::flush`: the memtable becomes a table in L0.
    Flush,
    /// `Engine::compact`: everything merged into one level.
    Compact,
}

/// The history: two flushes and a compaction (so the manifest holds every kind of edit), a
/// third flush (an L0 table beside the compacted one), then writes left in the log.
const STEPS: &[Step] = &[
    Step::Write(&[
        Op::Put("user:001:name", "Ada"),
        Op::Put("user:001:city", "Paris"),
        Op::Put("user:002:name", "Grace"),
    ]),
    Step::Write(&[Op::Put("user:002:city", "Lyon")]),
    Step::Write(&[Op::Put("user:003:name", "Alan")]),
    Step::Flush,
    Step::Write(&[
        Op::Delete("user:002:city"),
        Op::Put("user:001:city", "Rome"),
    ]),
    Step::Flush,
    Step::Compact,
    Step::Write(&[
        Op::Delete("user:001:name"),
        Op::Put("zero\0byte", "escaped"),
        Op::Put("user:001:city", "Oslo"),
    ]),
    Step::Write(&[Op::Put("user:001:city", "Turin")]),
    Step::Flush,
    Step::Write(&[
        Op::Put("user:004:name", "Edsger"),
        Op::Delete("user:003:name"),
    ]),
    Step::Write(&[Op::Put("user:005:name", "Barbara")]),
];

/// The package named in the pages.
const PACKAGE: &str = "rkv-07-engine";

/// Runs the history in `dir`, then walks every file the engine left there: one page per file
/// kind, by file name.
pub(super) fn pages(dir: &Path) -> Result<Vec<(String, String)>> {
    run_history(dir)?;
    let names = file_names(dir)?;

    let current = read(dir, "CURRENT")?;
    let (current_dump, manifest_name) = walk_current(&current)?;
    ensure!(
        names.contains(&manifest_name),
        "CURRENT names {manifest_name}, which is not in the directory"
    );
    let manifest = read(dir, &manifest_name)?;
    let (manifest_dumps, state) = walk_manifest(&manifest)?;

    // The directory holds exactly what the manifest says is live, and nothing else.
    let live: Vec<u64> = state.levels.values().flatten().copied().collect();
    let log_name = format!("{:06}.log", state.log_number);
    let mut expected = vec![
        "CURRENT".to_owned(),
        "LOCK".to_owned(),
        manifest_name.clone(),
        log_name.clone(),
    ];
    for number in &live {
        expected.push(format!("{number:06}.sst"));
        expected.push(format!("{number:06}.filter"));
    }
    expected.sort();
    ensure!(
        names == expected,
        "the directory holds {names:?}, the manifest accounts for {expected:?}"
    );
    let level = |l: u64| -> Result<u64> {
        match state.levels.get(&l).map(Vec::as_slice) {
            Some([number]) => Ok(*number),
            other => bail!("expected one table in L{l}, the manifest says {other:?}"),
        }
    };
    let (newest, bottom) = (level(0)?, level(1)?);
    ensure!(
        state.levels.keys().eq([0u64, 1].iter()),
        "tables outside L0 and L1"
    );

    let log = read(dir, &log_name)?;
    let log_dumps = walk_log_as(&log, true, &mut batch_body)?;

    // The table of the last flush, whole, with its filter and the probes of its keys.
    let name = format!("{newest:06}.sst");
    let (mut table_dumps, entries) = walk_block_table_entries(&read(dir, &name)?, true)?;
    let (key_dump, newest_keys) = walk_internal_keys(&entries)?;
    table_dumps.push(key_dump);
    let filter_name = format!("{newest:06}.filter");
    let (filter_dump, probes) = walk_filter(&read(dir, &filter_name)?, &newest_keys)?;
    // The compacted table is walked as closely, but only its keys are shown: its blocks look
    // like the other's.
    let bottom_name = format!("{bottom:06}.sst");
    let (_, entries) = walk_block_table_entries(&read(dir, &bottom_name)?, true)?;
    let (bottom_dump, bottom_keys) = walk_internal_keys(&entries)?;
    walk_filter(&read(dir, &format!("{bottom:06}.filter"))?, &bottom_keys)?;

    // What the history says each table holds.
    let (flushed, compacted) = expected_tables();
    ensure!(
        newest_keys == flushed,
        "the L0 table holds {newest_keys:?}, expected {flushed:?}"
    );
    ensure!(
        bottom_keys == compacted,
        "the L1 table holds {bottom_keys:?}, expected {compacted:?}"
    );

    let mut pages = Vec::new();
    let mut text = header();
    push_history(&mut text)?;
    writeln!(text)?;
    push_listing(&mut text, dir)?;
    pages.push(("lesson-07-directory.md".to_owned(), text));

    let one = |name: &str, dumps: &[(&str, Vec<Dump>)]| -> Result<(String, String)> {
        let mut text = header();
        push_dumps(&mut text, dumps)?;
        // `push_dumps` starts every dump with a blank line; the header already ends in one.
        Ok((name.to_owned(), text.replacen("\n\n\n", "\n\n", 1)))
    };
    pages.push(one(
        "lesson-07-current.md",
        &[("CURRENT", vec![current_dump])],
    )?);
    pages.push(one(
        "lesson-07-manifest.md",
        &[(manifest_name.as_str(), manifest_dumps)],
    )?);
    pages.push(one("lesson-07-log.md", &[(log_name.as_str(), log_dumps)])?);
    pages.push(one("lesson-07-table.md", &[(name.as_str(), table_dumps)])?);
    let mut filter = one(
        "lesson-07-filter.md",
        &[(filter_name.as_str(), vec![filter_dump])],
    )?;
    writeln!(filter.1)?;
    writeln!(
        filter.1,
        "The probes of each user key of `{name}`, each of which must find its bit set:"
    )?;
    writeln!(filter.1)?;
    writeln!(filter.1, "```text")?;
    filter.1.push_str(&probes);
    writeln!(filter.1, "```")?;
    pages.push(filter);
    pages.push(one(
        "lesson-07-table-bottom.md",
        &[(bottom_name.as_str(), vec![bottom_dump])],
    )?);
    Ok(pages)
}

/// The comment every page starts with.
fn header() -> String {
    format!(
        "<!-- Generated by `cargo xtask formats` from files written by {PACKAGE}. \
         Do not edit: run the command again. -->\n\n"
    )
}

/// Opens an engine with [`SETTINGS`] in `dir`, applies [`STEPS`], and closes it.
fn run_history(dir: &Path) -> Result<()> {
    let mut options = EngineOptions::default();
    for (name, value) in SETTINGS {
        options
            .set(name, value)
            .with_context(|| format!("--set {name}={value}"))?;
    }
    let engine =
        Engine::open(dir, options).with_context(|| format!("opening {}", dir.display()))?;
    for step in STEPS {
        match step {
            Step::Write(ops) => {
                let mut batch = WriteBatch::new();
                for op in *ops {
                    match *op {
                        Op::Put(key, value) => batch.put(key.as_bytes(), value.as_bytes())?,
                        Op::Delete(key) => batch.delete(key.as_bytes())?,
                    };
                }
                engine.write(batch)?;
            }
            Step::Flush => engine.flush()?,
            Step::Compact => engine.compact()?,
        }
    }
    // Dropping the last handle stops the background threads; nothing is flushed on the way out.
    drop(engine);
    Ok(())
}

/// The history, as the page shows it, with the sequence numbers each write received.
fn push_history(text: &mut String) -> Result<()> {
    let sets: Vec<String> = SETTINGS
        .iter()
        .map(|(name, value)| format!("--set {name}={value}"))
        .collect();
    writeln!(
        text,
        "Written by `{PACKAGE}` with `{}`, through its API (`Engine::write` of a `WriteBatch`, \
         `Engine::flush`, `Engine::compact`), in this order on a fresh directory:",
        sets.join(" ")
    )?;
    writeln!(text)?;
    writeln!(text, "```text")?;
    let mut seq = 1;
    for step in STEPS {
        match step {
            Step::Write(ops) => {
                let writes: Vec<String> = ops
                    .iter()
                    .map(|op| match *op {
                        Op::Put(key, value) => {
                            format!("put {} {}", show(key.as_bytes()), show(value.as_bytes()))
                        }
                        Op::Delete(key) => format!("delete {}", show(key.as_bytes())),
                    })
                    .collect();
                let last = seq + ops.len() as u64 - 1;
                let seqs = if last == seq {
                    format!("seq {seq}")
                } else {
                    format!("seq {seq}..={last}")
                };
                writeln!(text, "write [{}]   ({seqs})", writes.join(", "))?;
                seq = last + 1;
            }
            Step::Flush => writeln!(text, "flush")?,
            Step::Compact => writeln!(text, "compact")?,
        }
    }
    writeln!(text, "close")?;
    writeln!(text, "```")?;
    Ok(())
}

/// The keys (with their sequence numbers and kinds) the two tables must hold, derived from
/// [`STEPS`]: the table of the last flush holds every version written since the compaction,
/// newest version of a key first; the compacted table the newest version of every key written
/// before it, with sequence number 0, and no tombstone (nothing older is left to hide).
fn expected_tables() -> (Vec<TableKey>, Vec<TableKey>) {
    let mut seq = 0;
    let mut memtable: Vec<TableKey> = Vec::new();
    let mut level0: Vec<Vec<TableKey>> = Vec::new();
    let mut compacted: BTreeMap<Vec<u8>, bool> = BTreeMap::new();
    for step in STEPS {
        if matches!(step, Step::Flush | Step::Compact) && !memtable.is_empty() {
            level0.push(std::mem::take(&mut memtable));
        }
        match step {
            Step::Write(ops) => {
                for op in *ops {
                    seq += 1;
                    let (key, put) = match *op {
                        Op::Put(key, _) => (key, true),
                        Op::Delete(key) => (key, false),
                    };
                    memtable.push(TableKey {
                        user_key: key.as_bytes().to_vec(),
                        seq,
                        put,
                    });
                }
            }
            Step::Flush => {}
            Step::Compact => {
                // Oldest table first, each in write order: the last write of a key wins.
                for key in level0.drain(..).flatten() {
                    compacted.insert(key.user_key, key.put);
                }
            }
        }
    }
    let mut flushed: Vec<TableKey> = level0.into_iter().flatten().collect();
    flushed.sort_by(|a, b| a.user_key.cmp(&b.user_key).then(b.seq.cmp(&a.seq)));
    let compacted = compacted
        .into_iter()
        .filter(|(_, put)| *put)
        .map(|(user_key, _)| TableKey {
            user_key,
            seq: 0,
            put: true,
        })
        .collect();
    (flushed, compacted)
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = dir.join(name);
    fs::read(&path).with_context(|| format!("reading {}", path.display()))
}

/// The directory's file names, sorted.
fn file_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}
