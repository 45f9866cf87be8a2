//! `cargo xtask formats`: annotated hex dumps of every file format, taken from real files.
//!
//! The format appendix of the book describes every file byte by byte. A description typed by hand
//! drifts from the code the first time somebody changes an encoder, so the worked examples are
//! produced here instead: this module opens a tiny store of each stage with the real lesson
//! crates, writes a few known keys, flushes, and then reads the files back **field by field**,
//! printing each field's offset, bytes, ASCII and meaning into `book/src/generated/formats/*.md`,
//! which the appendix includes.
//!
//! Lesson 07's engine gets a short history of batches, flushes and a compaction instead of the
//! six writes, driven through its public API only ([`engine`]).
//!
//! The walk over the bytes is written from the appendix's description, not from the lessons'
//! decoders (it borrows only their constants and lesson 06's checksum function), and it refuses
//! anything it does not expect: a wrong magic or version, a length that runs past the end, an
//! offset that points elsewhere, a checksum that does not match the bytes it should cover, bytes
//! left over. So when an encoder changes, `cargo xtask formats` fails (or its
//! output changes, which `--check` reports), and the appendix cannot silently describe a format
//! the code no longer writes.
//!
//! The same command also runs the short command-line sessions the chapters show and writes
//! their output into `book/src/generated/sessions/` ([`sessions`]), so that a sample `stats`
//! line or `load` report cannot drift from what the binaries print either.
//!
//! The generated files are checked in, so `cargo xtask book` does not need to run this.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use rkv_05_compression::{Bare, Codec, Frame, varint};
use rkv_06_checksums::Crc32;
use rkv_06_checksums::crc::CRC_LEN;
use rkv_contract::{KvStore, StoreOptions};

mod dump;
mod engine;
mod sessions;

use dump::{Dump, Walker, show, u32_at, u64_at};

/// Where the generated pages go, relative to the workspace root.
const OUT_DIR: &str = "book/src/generated/formats";

/// The writes every example store receives, in this order: five keys, one of them deleted.
const WRITES: &[Op] = &[
    Op::Put("user:001:name", "Ada"),
    Op::Put("user:001:city", "Paris"),
    Op::Put("user:002:name", "Grace"),
    Op::Put("user:002:city", "Lyon"),
    Op::Put("user:003:name", "Alan"),
    Op::Delete("user:002:city"),
];

/// One write of an example.
#[derive(Clone, Copy, Debug)]
enum Op {
    Put(&'static str, &'static str),
    Delete(&'static str),
}

/// Regenerates the pages, or with `check` only compares them with the files in the tree.
pub fn run(root: &Path, check: bool) -> Result<()> {
    let groups = [
        (OUT_DIR, generate()?),
        (sessions::OUT_DIR, sessions::generate(root)?),
    ];
    if check {
        let mut stale = Vec::new();
        let mut count = 0;
        for (dir, pages) in &groups {
            for (name, text) in pages {
                count += 1;
                let path = root.join(dir).join(name);
                if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                    stale.push(format!("{dir}/{name}"));
                }
            }
        }
        if !stale.is_empty() {
            bail!(
                "{} generated page(s) differ from what the code writes now: {}; \
                 run `cargo xtask formats`",
                stale.len(),
                stale.join(", ")
            );
        }
        println!("formats: {count} page(s) up to date");
        return Ok(());
    }
    for (dir, pages) in &groups {
        let out_dir = root.join(dir);
        fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
        for (name, text) in pages {
            let path = out_dir.join(name);
            fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        println!("formats: wrote {} page(s) into {dir}", pages.len());
    }
    Ok(())
}

/// Every page, by file name.
fn generate() -> Result<Vec<(String, String)>> {
    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    let mut pages = Vec::new();

    // Lesson 01: the write-ahead log.
    let dir = scratch.path().join("01");
    write_store::<rkv_01_basic_store::Store>(&dir, &[], false)?;
    let log = read(&dir, rkv_01_basic_store::LOG_FILE)?;
    pages.push(page(
        "lesson-01-log.md",
        "rkv-01-basic-store",
        &[],
        false,
        &dir,
        &[(rkv_01_basic_store::LOG_FILE, walk_log(&log, false)?)],
    )?);

    // Lesson 02: a table without an index, the TABLES list and a fresh log.
    let dir = scratch.path().join("02");
    write_store::<rkv_02_sstables::Store>(&dir, &[], true)?;
    let table = read(&dir, "000002.sst")?;
    let list = read(&dir, "TABLES")?;
    let log = read(&dir, "000003.log")?;
    pages.push(page(
        "lesson-02-table.md",
        "rkv-02-sstables",
        &[],
        true,
        &dir,
        &[
            ("000002.sst", walk_scan_table(&table)?),
            ("TABLES", walk_table_list(&list, false)?),
            ("000003.log", walk_log(&log, false)?),
        ],
    )?);

    // Lesson 03 (and 04, which reads and writes the same tables): the indexed table.
    let dir = scratch.path().join("03");
    write_store::<rkv_03_binary_search::Store>(&dir, &[], true)?;
    let table = read(&dir, "000002.sst")?;
    pages.push(page(
        "lesson-03-table.md",
        "rkv-03-binary-search",
        &[],
        true,
        &dir,
        &[("000002.sst", walk_indexed_table(&table)?)],
    )?);

    // Lesson 05: a block table, uncompressed and with tiny blocks so that every field shows.
    let settings = [
        ("compression", "none"),
        ("block_bytes", "64"),
        ("restart_interval", "2"),
    ];
    let dir = scratch.path().join("05");
    write_store::<rkv_05_compression::Store>(&dir, &settings, true)?;
    let table = read(&dir, "000002.sst")?;
    pages.push(page(
        "lesson-05-table.md",
        "rkv-05-compression",
        &settings,
        true,
        &dir,
        &[("000002.sst", walk_block_table(&table, false)?)],
    )?);

    // Lesson 05 again with LZ4, where the bytes on disk no longer show the entries.
    let settings = [("compression", "lz4")];
    let dir = scratch.path().join("05-lz4");
    write_store::<rkv_05_compression::Store>(&dir, &settings, true)?;
    let table = read(&dir, "000002.sst")?;
    pages.push(page(
        "lesson-05-table-lz4.md",
        "rkv-05-compression",
        &settings,
        true,
        &dir,
        &[("000002.sst", walk_block_table(&table, false)?)],
    )?);

    // Lesson 06: the checksummed log, before any flush, so that it holds records...
    let dir = scratch.path().join("06-log");
    write_store::<rkv_06_checksums::Store>(&dir, &[], false)?;
    let log = read(&dir, "000001.log")?;
    pages.push(page(
        "lesson-06-log.md",
        "rkv-06-checksums",
        &[],
        false,
        &dir,
        &[("000001.log", walk_log(&log, true)?)],
    )?);

    // ...and after a flush: lesson 05's uncompressed example table, every block sealed, and the
    // sealed TABLES.
    let settings = [
        ("compression", "none"),
        ("block_bytes", "64"),
        ("restart_interval", "2"),
    ];
    let dir = scratch.path().join("06");
    write_store::<rkv_06_checksums::Store>(&dir, &settings, true)?;
    let table = read(&dir, "000002.sst")?;
    let list = read(&dir, "TABLES")?;
    let log = read(&dir, "000003.log")?;
    pages.push(page(
        "lesson-06-table.md",
        "rkv-06-checksums",
        &settings,
        true,
        &dir,
        &[
            ("000002.sst", walk_block_table(&table, true)?),
            ("TABLES", walk_table_list(&list, true)?),
            ("000003.log", walk_log(&log, true)?),
        ],
    )?);

    // Lesson 07: every file the engine writes, from one short history of writes, flushes and a
    // compaction.
    pages.extend(engine::pages(&scratch.path().join("07"))?);

    for (name, text) in &pages {
        // A dump is data; it must never read as an mdBook directive.
        ensure!(
            !text.contains("{{#"),
            "{name} would contain an mdBook directive"
        );
    }
    Ok(pages)
}

/// Opens a fresh store of type `S` in `dir` with `settings`, applies [`WRITES`], flushes it if
/// `flush` says so, and closes it.
fn write_store<S: KvStore>(dir: &Path, settings: &[(&str, &str)], flush: bool) -> Result<()> {
    let mut options = S::Options::default();
    for (name, value) in settings {
        options
            .set(name, value)
            .with_context(|| format!("--set {name}={value}"))?;
    }
    let mut store = S::open(dir, options).with_context(|| format!("opening {}", dir.display()))?;
    for write in WRITES {
        match *write {
            Op::Put(key, value) => store.put(key.as_bytes(), value.as_bytes())?,
            Op::Delete(key) => store.delete(key.as_bytes())?,
        }
    }
    if flush {
        store.flush()?;
    }
    Ok(())
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = dir.join(name);
    fs::read(&path).with_context(|| format!("reading {}", path.display()))
}

/// One generated page: what was written, the directory listing, then each file's dump.
fn page(
    name: &str,
    package: &str,
    settings: &[(&str, &str)],
    flushed: bool,
    dir: &Path,
    dumps: &[(&str, Vec<Dump>)],
) -> Result<(String, String)> {
    let mut text = String::new();
    let sets: String = settings
        .iter()
        .map(|(name, value)| format!(" --set {name}={value}"))
        .collect();
    writeln!(
        text,
        "<!-- Generated by `cargo xtask formats` from files written by {package}. \
         Do not edit: run the command again. -->"
    )?;
    writeln!(text)?;
    writeln!(
        text,
        "Written by `{package}`{}, as if by these commands on a fresh directory:",
        if sets.is_empty() {
            String::new()
        } else {
            format!(" with `{}`", sets.trim_start())
        }
    )?;
    writeln!(text)?;
    writeln!(text, "```text")?;
    for write in WRITES {
        match *write {
            Op::Put(key, value) => writeln!(text, "{package} --dir D{sets} put {key} {value}")?,
            Op::Delete(key) => writeln!(text, "{package} --dir D{sets} delete {key}")?,
        }
    }
    if flushed {
        writeln!(text, "{package} --dir D{sets} flush")?;
    }
    writeln!(text, "```")?;
    writeln!(text)?;
    push_listing(&mut text, dir)?;
    push_dumps(&mut text, dumps)?;
    Ok((name.to_owned(), text))
}

/// The directory's files and their sizes, as a text block.
fn push_listing(text: &mut String, dir: &Path) -> Result<()> {
    writeln!(text, "The directory afterwards:")?;
    writeln!(text)?;
    writeln!(text, "```text")?;
    let mut entries: Vec<(String, u64)> = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        entries.push((
            entry.file_name().to_string_lossy().into_owned(),
            entry.metadata()?.len(),
        ));
    }
    entries.sort();
    let width = entries
        .iter()
        .map(|(file, _)| file.len())
        .max()
        .unwrap_or(0)
        .max(12);
    for (file, bytes) in &entries {
        writeln!(text, "{file:<width$} {bytes:>6} bytes")?;
    }
    writeln!(text, "```")?;
    Ok(())
}

/// Each file's dumps, each under the file's name.
fn push_dumps(text: &mut String, dumps: &[(&str, Vec<Dump>)]) -> Result<()> {
    for (file, file_dumps) in dumps {
        for dump in file_dumps {
            writeln!(text)?;
            writeln!(text, "`{file}`{}:", dump.title)?;
            writeln!(text)?;
            writeln!(text, "```text")?;
            text.push_str(&dump.render());
            writeln!(text, "```")?;
        }
    }
    Ok(())
}

/// What follows a record's kind and lengths: its key and value bytes, walked by the caller.
/// Lessons 01–06 store plain keys and values ([`plain_body`]); lesson 07 gives both a
/// structure of their own.
type RecordBody<'f> = dyn FnMut(&mut Walker<'_>, u8, usize, usize) -> Result<()> + 'f;

/// The key and value of a record, as they are.
fn plain_body(w: &mut Walker<'_>, kind: u8, key_len: usize, value_len: usize) -> Result<()> {
    w.bytes(key_len, "key")?;
    if kind == 1 {
        w.bytes(value_len, "value")?;
    }
    Ok(())
}

/// One record of lesson 01's log, also the record of lesson 02's and 03's tables; with `crc`,
/// lesson 06's log record: two checksums in front of the same bytes.
fn walk_record(w: &mut Walker<'_>, number: usize, crc: bool) -> Result<()> {
    walk_record_as(w, number, crc, &mut plain_body)
}

/// [`walk_record`] with the key and value walked by `body`.
fn walk_record_as(
    w: &mut Walker<'_>,
    number: usize,
    crc: bool,
    body: &mut RecordBody<'_>,
) -> Result<()> {
    // A delete has no value bytes, so no value row either.
    w.section(format!("record {number}"));
    if crc {
        let fixed = w.at + 2 * CRC_LEN;
        let key_len = u32_at(w.bytes, fixed + 1)? as usize;
        let value_len = u32_at(w.bytes, fixed + 5)? as usize;
        w.crc("header_crc", fixed..fixed + 9)?;
        w.crc("record_crc", fixed..fixed + 9 + key_len + value_len)?;
    }
    let kind = w.u8(|k| match k {
        1 => "kind = 1 (put)".into(),
        2 => "kind = 2 (delete)".into(),
        other => format!("kind = {other} (unknown!)"),
    })?;
    ensure!(
        kind == 1 || kind == 2,
        "record {number}: unknown kind {kind}"
    );
    let key_len = w.u32("key_len")? as usize;
    let value_len = w.u32("value_len")? as usize;
    ensure!(
        kind == 1 || value_len == 0,
        "record {number}: a delete with a value"
    );
    let start = w.at;
    body(w, kind, key_len, value_len)?;
    ensure!(
        w.at == start + key_len + value_len,
        "record {number}: its key and value were not walked exactly"
    );
    Ok(())
}

/// Lesson 01's log (`wal.log`), also every `NNNNNN.log` of lessons 02–05; with `crc`, lesson
/// 06's checksummed log.
fn walk_log(bytes: &[u8], crc: bool) -> Result<Vec<Dump>> {
    walk_log_as(bytes, crc, &mut plain_body)
}

/// [`walk_log`] with every record's key and value walked by `body`.
fn walk_log_as(bytes: &[u8], crc: bool, body: &mut RecordBody<'_>) -> Result<Vec<Dump>> {
    let mut w = Walker::new(bytes);
    w.section("header");
    w.magic(&rkv_01_basic_store::wal::MAGIC, "magic")?;
    let version = w.u32("version")?;
    let expected = if crc {
        rkv_06_checksums::checksummed_log::VERSION
    } else {
        rkv_01_basic_store::wal::VERSION
    };
    ensure!(version == expected, "log version {version}, not {expected}");
    let mut number = 0;
    while w.remaining() > 0 {
        walk_record_as(&mut w, number, crc, body)?;
        number += 1;
    }
    Ok(vec![w.finish("")?])
}

/// Lesson 02's table: header, records, footer.
fn walk_scan_table(bytes: &[u8]) -> Result<Vec<Dump>> {
    use rkv_02_sstables::scan_table::{FOOTER_LEN, FOOTER_MAGIC, MAGIC, VERSION};
    let footer_len = FOOTER_LEN as usize;
    let mut w = Walker::new(bytes);
    w.section("header");
    w.magic(&MAGIC, "magic")?;
    ensure!(w.u32("version")? == VERSION, "table version");
    let mut number = 0;
    while w.remaining() > footer_len {
        walk_record(&mut w, number, false)?;
        number += 1;
    }
    w.section("footer");
    let entries = w.u64("entries")?;
    ensure!(entries == number as u64, "footer counts {entries} entries");
    w.magic(&FOOTER_MAGIC, "footer magic")?;
    Ok(vec![w.finish("")?])
}

/// Lesson 02's `TABLES` list; with `crc`, lesson 06's, sealed with a checksum.
fn walk_table_list(bytes: &[u8], crc: bool) -> Result<Vec<Dump>> {
    let mut w = Walker::new(bytes);
    w.magic(b"RKV-TBL\0", "magic")?;
    let expected = if crc {
        rkv_06_checksums::checksummed_log::LIST_VERSION
    } else {
        1
    };
    ensure!(w.u32("version")? == expected, "TABLES version");
    w.u64("first_log (logs numbered below are flushed)")?;
    let count = w.u32("count")?;
    for i in 0..count {
        w.u64(&format!("table {i} (oldest first)"))?;
    }
    if crc {
        w.crc("crc", 0..w.at)?;
    }
    Ok(vec![w.finish("")?])
}

/// Lesson 03's indexed table: header, records, offsets array, footer.
fn walk_indexed_table(bytes: &[u8]) -> Result<Vec<Dump>> {
    use rkv_03_binary_search::indexed_table::{FOOTER_LEN, FOOTER_MAGIC, MAGIC, VERSION};
    let footer_len = FOOTER_LEN as usize;
    let footer_at = bytes
        .len()
        .checked_sub(footer_len)
        .context("shorter than a footer")?;
    let index_start = usize::try_from(u64_at(bytes, footer_at + 8)?)?;
    let mut w = Walker::new(bytes);
    w.section("header");
    w.magic(&MAGIC, "magic")?;
    ensure!(w.u32("version")? == VERSION, "table version");
    let mut starts = Vec::new();
    while w.at < index_start {
        starts.push(w.at as u64);
        walk_record(&mut w, starts.len() - 1, false)?;
    }
    let number = starts.len();
    ensure!(w.at == index_start, "records overrun the offsets array");
    w.section("offsets array");
    for (i, start) in starts.iter().enumerate() {
        let offset = w.u64(&format!("offset of record {i}"))?;
        ensure!(
            offset == *start,
            "offset of record {i} is {offset}, not {start}"
        );
    }
    ensure!(
        w.at == footer_at,
        "offsets array does not end at the footer"
    );
    w.section("footer");
    ensure!(w.u64("entries")? == number as u64, "footer entry count");
    w.u64("index_start")?;
    w.magic(&FOOTER_MAGIC, "footer magic")?;
    Ok(vec![w.finish("")?])
}

/// An entry decoded from a block: key and value (`None` for a tombstone).
type BlockEntry = (Vec<u8>, Option<Vec<u8>>);

/// Lesson 05's block table: data blocks, index block, footer; with `crc`, lesson 06's, where
/// every block and the footer end in a checksum.
fn walk_block_table(bytes: &[u8], crc: bool) -> Result<Vec<Dump>> {
    Ok(walk_block_table_entries(bytes, crc)?.0)
}

/// [`walk_block_table`], also returning the table's entries in order.
fn walk_block_table_entries(bytes: &[u8], crc: bool) -> Result<(Vec<Dump>, Vec<BlockEntry>)> {
    use rkv_05_compression::block_table::{BLOCK_HEADER_LEN, FOOTER_BODY_LEN, MAGIC};
    let (trailer, version) = if crc {
        (Crc32::TRAILER_LEN, Crc32::VERSION)
    } else {
        (Bare::TRAILER_LEN, Bare::VERSION)
    };
    ensure!(
        trailer == if crc { CRC_LEN } else { 0 },
        "frame trailer length"
    );
    let footer_at = bytes
        .len()
        .checked_sub(FOOTER_BODY_LEN + trailer)
        .context("shorter than a footer")?;
    let index_offset = usize::try_from(u64_at(bytes, footer_at)?)?;
    let index_size = usize::try_from(u64_at(bytes, footer_at + 8)?)?;
    ensure!(
        index_offset + index_size == footer_at,
        "the index block does not end at the footer"
    );
    // Read the index first (without recording anything) for the size of every data block.
    let index_raw = unpack(&bytes[index_offset..footer_at], trailer)?;
    let index = walk_block(&mut Walker::new(&index_raw), index_raw.len(), true)?;

    let mut w = Walker::new(bytes);
    let mut unpacked = Vec::new();
    let mut entries = 0;
    let mut all_entries = Vec::new();
    for (i, (last_key, handle)) in index.iter().enumerate() {
        let handle = handle.as_deref().context("index entry without a handle")?;
        let (offset, used) = varint::get(handle).context("bad block handle")?;
        let (size, _) = varint::get(&handle[used..]).context("bad block handle")?;
        ensure!(
            offset as usize == w.at,
            "data block {i} is not where the index says"
        );
        let title = format!("data block {i} (last key {})", show(last_key));
        let stored = bytes
            .get(w.at..w.at + size as usize)
            .with_context(|| format!("data block {i} runs past the end"))?;
        let raw = unpack(stored, trailer)?;
        let block = walk_block(&mut Walker::new(&raw), raw.len(), false)?;
        ensure!(
            block.last().map(|(k, _)| k) == Some(last_key),
            "data block {i} does not end with its index key"
        );
        entries += block.len() as u64;
        all_entries.extend(block);
        if let Some(raw) = walk_stored_block(&mut w, &title, size as usize, false, trailer)? {
            unpacked.push((title, raw));
        }
    }
    ensure!(w.at == index_offset, "data blocks do not end at the index");
    let title = "index block";
    if let Some(raw) = walk_stored_block(&mut w, title, index_size, true, trailer)? {
        unpacked.push((title.to_owned(), raw));
    }
    w.section("footer");
    w.u64("index block offset")?;
    w.u64("index block size")?;
    ensure!(w.u64("entries")? == entries, "footer entry count");
    w.u64("data bytes (keys + values)")?;
    ensure!(w.u32("version")? == version, "block table version");
    w.magic(&MAGIC, "magic")?;
    if crc {
        w.crc("crc", footer_at..footer_at + FOOTER_BODY_LEN)?;
    }
    let mut dumps = vec![w.finish("")?];
    ensure!(
        BLOCK_HEADER_LEN == 5,
        "block header is no longer codec u8 + raw_len u32"
    );

    for (title, (raw, index)) in unpacked {
        let mut w = Walker::new(&raw);
        walk_block(&mut w, raw.len(), index)?;
        dumps.push(w.finish(format!(
            ", {title} after decompression (offsets within the block)"
        ))?);
    }
    Ok((dumps, all_entries))
}

/// The decompressed bytes of a stored block.
fn unpack(stored: &[u8], trailer: usize) -> Result<Vec<u8>> {
    let stored = stored
        .get(..stored.len().saturating_sub(trailer))
        .unwrap_or_default();
    ensure!(stored.len() >= 5, "block shorter than its header");
    let codec = Codec::from_id(stored[0]).with_context(|| format!("codec {}", stored[0]))?;
    let raw_len = u32_at(stored, 1)? as usize;
    codec
        .decompress(&stored[5..], raw_len)
        .map_err(|what| anyhow::anyhow!("{codec} block: {what}"))
}

/// A block as stored: codec, raw length, payload, and the frame's `trailer` bytes (a checksum
/// in lesson 06). An uncompressed payload is walked in place; a compressed one is returned
/// (decompressed) to be shown separately.
fn walk_stored_block(
    w: &mut Walker<'_>,
    title: &str,
    size: usize,
    index: bool,
    trailer: usize,
) -> Result<Option<(Vec<u8>, bool)>> {
    let start = w.at;
    w.section(title);
    let codec = w.u8(|id| match Codec::from_id(id) {
        Some(codec) => format!("codec = {id} ({codec})"),
        None => format!("codec = {id} (unknown!)"),
    })?;
    let raw_len = w.u32("raw_len (bytes once decompressed)")? as usize;
    let payload_len = size
        .checked_sub(5 + trailer)
        .context("block shorter than its header")?;
    if codec == Codec::None.id() {
        ensure!(
            raw_len == payload_len,
            "{title}: raw block of the wrong length"
        );
        walk_block(w, raw_len, index)?;
        if trailer > 0 {
            w.section(format!("{title}: frame trailer"));
            w.crc("crc", start..w.at)?;
        }
        ensure!(w.at == start + size, "{title}: does not fill its handle");
        return Ok(None);
    }
    let payload = w.field(payload_len, |b| {
        format!(
            "compressed payload, {} bytes (shown decompressed below)",
            b.len()
        )
    })?;
    if trailer > 0 {
        w.crc("crc", start..w.at)?;
    }
    let raw = unpack(&w.bytes[start..start + size], trailer)?;
    ensure!(
        raw.len() == raw_len && payload.len() == payload_len,
        "{title}: sizes"
    );
    Ok(Some((raw, index)))
}

/// The entries and restart points of a raw block of `len` bytes starting at the walker's
/// position. Index entries' values are block handles.
fn walk_block(w: &mut Walker<'_>, len: usize, index: bool) -> Result<Vec<BlockEntry>> {
    let start = w.at;
    let end = start + len;
    let count = u32_at(
        w.bytes,
        end.checked_sub(4).context("block without a trailer")?,
    )? as usize;
    let entries_end = (end - 4)
        .checked_sub(4 * count)
        .context("restart offsets do not fit")?;
    let mut restarts = Vec::with_capacity(count);
    for i in 0..count {
        restarts.push(u32_at(w.bytes, entries_end + 4 * i)? as usize);
    }
    let mut entries: Vec<BlockEntry> = Vec::new();
    let mut key: Vec<u8> = Vec::new();
    while w.at < entries_end {
        let restart = restarts.contains(&(w.at - start));
        w.section(format!(
            "entry {}{}",
            entries.len(),
            if restart { " (restart point)" } else { "" }
        ));
        let shared = w.varint("shared")? as usize;
        let unshared = w.varint("unshared")? as usize;
        let value_len = w.varint("value_len")? as usize;
        let kind = w.u8(|k| match k {
            1 => "kind = 1 (put)".into(),
            2 => "kind = 2 (delete)".into(),
            other => format!("kind = {other} (unknown!)"),
        })?;
        ensure!(
            shared <= key.len(),
            "entry shares more than the previous key"
        );
        key.truncate(shared);
        let suffix = w.field(unshared, |suffix| {
            let mut full = key.clone();
            full.extend_from_slice(suffix);
            if shared == 0 {
                format!("key {}", show(&full))
            } else {
                format!("key suffix {} -> key {}", show(suffix), show(&full))
            }
        })?;
        key.extend_from_slice(suffix);
        let value = match (kind, index) {
            (2, _) => {
                ensure!(value_len == 0, "a tombstone with a value");
                None
            }
            (1, false) => Some(w.bytes(value_len, "value")?.to_vec()),
            (1, true) => {
                let value_start = w.at;
                let offset = w.varint("handle: block offset")?;
                let size = w.varint("handle: block size")?;
                ensure!(
                    w.at == value_start + value_len,
                    "handle of the wrong length"
                );
                let mut handle = Vec::new();
                varint::put(&mut handle, offset);
                varint::put(&mut handle, size);
                Some(handle)
            }
            (other, _) => bail!("unknown kind {other}"),
        };
        entries.push((key.clone(), value));
    }
    ensure!(w.at == entries_end, "entries overrun the restart offsets");
    w.section("block trailer");
    for i in 0..count {
        w.u32(&format!("restart {i}: offset in block"))?;
    }
    w.u32("restart count")?;
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_is_generated_from_real_files() {
        let pages = generate().unwrap();
        let names: Vec<&str> = pages.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "lesson-01-log.md",
                "lesson-02-table.md",
                "lesson-03-table.md",
                "lesson-05-table.md",
                "lesson-05-table-lz4.md",
                "lesson-06-log.md",
                "lesson-06-table.md",
                "lesson-07-directory.md",
                "lesson-07-current.md",
                "lesson-07-manifest.md",
                "lesson-07-log.md",
                "lesson-07-table.md",
                "lesson-07-filter.md",
                "lesson-07-table-bottom.md",
            ]
        );
        for (name, text) in &pages {
            assert!(
                text.starts_with("<!-- Generated by `cargo xtask formats`"),
                "{name}"
            );
            if !name.starts_with("lesson-07") {
                assert!(text.contains("put user:001:name Ada"), "{name}");
            }
        }
        let page = |name: &str| &pages.iter().find(|(n, _)| n == name).unwrap().1;
        assert!(page("lesson-02-table.md").contains("magic \"RKV-TBL\\0\""));
        assert!(page("lesson-05-table.md").contains("(restart point)"));
        assert!(page("lesson-05-table-lz4.md").contains("codec = 1 (lz4)"));
        assert!(page("lesson-06-log.md").contains("record_crc = 0x"));
        assert!(page("lesson-06-table.md").contains("version = 2 (u32 LE)"));
        assert!(page("lesson-07-directory.md").contains("put \"user:001:name\" \"Ada\""));
        assert!(page("lesson-07-manifest.md").contains("edit tag = 2 (remove table"));
        assert!(page("lesson-07-log.md").contains("key: first sequence number = "));
        assert!(page("lesson-07-table.md").contains("escaped user key -> \"zero\\0byte\""));
        assert!(page("lesson-07-table-bottom.md").contains("seq = 0"));
        // Generating twice gives the same bytes: `--check` depends on it.
        assert_eq!(generate().unwrap(), pages);
    }

    #[test]
    fn a_walk_refuses_what_the_format_does_not_say() {
        let mut log = rkv_01_basic_store::wal::MAGIC.to_vec();
        log.extend_from_slice(&1u32.to_le_bytes());
        log.extend_from_slice(&[1, 1, 0, 0, 0, 1, 0, 0, 0, b'k', b'v']);
        let dump = walk_log(&log, false).unwrap();
        assert!(dump[0].render().contains("key \"k\""));

        let mut extra = log.clone();
        extra.push(7);
        assert!(walk_log(&extra, false).is_err(), "a byte left over");
        let mut wrong = log.clone();
        wrong[0] = b'X';
        assert!(walk_log(&wrong, false).is_err(), "a wrong magic");
        assert!(
            walk_log(&log[..log.len() - 1], false).is_err(),
            "a torn record"
        );
        assert!(
            walk_log(&log, true).is_err(),
            "version 1 is not lesson 06's log"
        );
    }

    #[test]
    fn a_checksum_that_does_not_match_is_refused() {
        let mut log = rkv_01_basic_store::wal::MAGIC.to_vec();
        log.extend_from_slice(&rkv_06_checksums::checksummed_log::VERSION.to_le_bytes());
        rkv_06_checksums::checksummed_log::encode_record(
            b"k",
            &rkv_01_basic_store::Value::Put(b"v".to_vec()),
            &mut log,
        );
        assert!(walk_log(&log, true).is_ok());
        let last = log.len() - 1;
        log[last] ^= 1;
        let Err(error) = walk_log(&log, true) else {
            panic!("a damaged record passed");
        };
        let error = error.to_string();
        assert!(error.contains("record_crc"), "{error}");
    }
}
