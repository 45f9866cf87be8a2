//! Lesson 05's table: compressed blocks, an index block, a footer.
//!
//! ```text
//! data block 0 | data block 1 | … | index block | footer
//!
//! block on disk: codec u8 | raw_len u32 | payload (raw_len bytes once decompressed) | trailer
//! index block:   a block like the others; entry i = (last key of data block i,
//!                                                    offset varint | size varint of block i)
//! footer:        index offset u64 | index size u64 | entries u64 | data bytes u64
//!                | version u32 | magic "RKV-BLK\0" | trailer
//! ```
//!
//! Integers are little-endian; `trailer` is whatever the [`Frame`] appends (nothing in this
//! lesson, a CRC32 in lesson 06). A block handle's size counts the whole block on disk.
//!
//! Opening a table reads the footer and the index block and keeps the index in memory — one
//! entry per *block*, not per key as in lesson 03, so a 4 KiB block of 100-byte values costs one
//! index entry instead of about forty. A lookup binary-searches the index for the one block that
//! can hold the key, reads and decompresses that block, and searches it ([`Block::get`]).
//!
//! Every lookup reads its block from the file again: this lesson keeps no decoded block in
//! memory. The pieces a lookup is made of — the index ([`BlockTable::index`]) and reading,
//! checking and decompressing data block `i` ([`BlockTable::read_data_block`]) — are public, so
//! that a store that does keep blocks in memory (lesson 07's block cache) builds on them instead
//! of reading the format again.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::marker::PhantomData;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rkv_01_basic_store::Value;
use rkv_02_sstables::{Table, TableEntry, TableIter, TableSummary};
use rkv_contract::{Error, IoContext, MAX_KEY_BYTES, MAX_VALUE_BYTES, Result, Stats};

use crate::block::Block;
use crate::block_builder::BlockBuilder;
use crate::block_handle::BlockHandle;
use crate::block_index::BlockIndex;
use crate::frame::Frame;
use crate::{BlockOptions, Codec};

/// Last eight bytes of a block table's footer body.
pub const MAGIC: [u8; 8] = *b"RKV-BLK\0";
/// Footer bytes before the frame's trailer.
pub const FOOTER_BODY_LEN: usize = 44;
/// Block header: codec and decompressed length.
pub const BLOCK_HEADER_LEN: usize = 5;
/// The largest decompressed data block a reader accepts: one entry of the largest key and value
/// in a block of the largest size, and some room for lengths.
pub const MAX_DATA_BLOCK: usize = MAX_KEY_BYTES + MAX_VALUE_BYTES + (1 << 20) + 64;
/// The largest decompressed index block a reader accepts (about two million blocks).
pub const MAX_INDEX_BLOCK: usize = 64 << 20;

/// An open block table, generic over how its blocks are framed.
#[derive(Debug)]
pub struct BlockTable<F: Frame> {
    /// Held open for the table's life; read with positioned reads.
    file: File,
    /// The file, for error messages.
    path: PathBuf,
    /// Last key and handle of every data block, in order.
    index: BlockIndex,
    /// What the table holds.
    summary: TableSummary,
    _frame: PhantomData<F>,
}

// ANCHOR: write_block
/// Compresses `raw` with `codec` (if that helps), frames it and writes it at `offset`.
fn write_block<F: Frame>(
    out: &mut impl Write,
    path: &Path,
    offset: &mut u64,
    raw: &[u8],
    codec: Codec,
    scratch: &mut Vec<u8>,
) -> Result<BlockHandle> {
    let (codec, payload) = match codec.compress(raw) {
        Some(packed) => (codec, packed),
        None => (Codec::None, raw.to_vec()),
    };
    scratch.clear();
    scratch.push(codec.id());
    scratch.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    scratch.extend_from_slice(&payload);
    F::seal(scratch, 0);
    out.write_all(scratch).at(path)?;
    let handle = BlockHandle {
        offset: *offset,
        size: scratch.len() as u64,
    };
    *offset += handle.size;
    Ok(handle)
}
// ANCHOR_END: write_block

impl<F: Frame> Table for BlockTable<F> {
    type Options = BlockOptions;

    // ANCHOR: write
    fn write(
        file: &mut File,
        path: &Path,
        entries: &mut dyn Iterator<Item = Result<TableEntry>>,
        options: &BlockOptions,
    ) -> Result<TableSummary> {
        let mut out = BufWriter::new(file);
        let mut offset = 0u64;
        let mut scratch = Vec::new();
        let mut summary = TableSummary::default();
        let mut block = BlockBuilder::new(options.restart_interval);
        let mut index = BlockBuilder::new(options.restart_interval);
        let codec = options.compression;
        for entry in entries {
            let (key, value) = entry?;
            block.add(&key, &value);
            summary.add(&key, &value);
            if block.size_estimate() >= options.block_bytes {
                let last_key = block.last_key().to_vec();
                let raw = block.finish();
                let handle =
                    write_block::<F>(&mut out, path, &mut offset, &raw, codec, &mut scratch)?;
                index.add(&last_key, &Value::Put(handle.encode()));
            }
        }
        if !block.is_empty() {
            let last_key = block.last_key().to_vec();
            let raw = block.finish();
            let handle = write_block::<F>(&mut out, path, &mut offset, &raw, codec, &mut scratch)?;
            index.add(&last_key, &Value::Put(handle.encode()));
        }
        let index_handle = write_block::<F>(
            &mut out,
            path,
            &mut offset,
            &index.finish(),
            codec,
            &mut scratch,
        )?;

        let mut footer = Vec::with_capacity(FOOTER_BODY_LEN + F::TRAILER_LEN);
        footer.extend_from_slice(&index_handle.offset.to_le_bytes());
        footer.extend_from_slice(&index_handle.size.to_le_bytes());
        footer.extend_from_slice(&summary.entries.to_le_bytes());
        footer.extend_from_slice(&summary.data_bytes.to_le_bytes());
        footer.extend_from_slice(&F::VERSION.to_le_bytes());
        footer.extend_from_slice(&MAGIC);
        F::seal(&mut footer, 0);
        out.write_all(&footer).at(path)?;
        out.flush().at(path)?;
        summary.file_bytes = offset + footer.len() as u64;
        Ok(summary)
    }
    // ANCHOR_END: write

    fn open(path: &Path, _options: &BlockOptions) -> Result<Self> {
        let file = File::open(path).at(path)?;
        let len = file.metadata().at(path)?.len();
        let footer_len = (FOOTER_BODY_LEN + F::TRAILER_LEN) as u64;
        let not_ours = |found: String| Error::Format {
            file: path.to_path_buf(),
            expected: format!("an rkv block table (RKV-BLK version {})", F::VERSION),
            found,
        };
        if len < footer_len {
            return Err(not_ours(format!("a file of {len} bytes")));
        }
        let footer_at = len - footer_len;
        let mut footer = vec![0u8; footer_len as usize];
        file.read_exact_at(&mut footer, footer_at).at(path)?;
        let body = &footer[..FOOTER_BODY_LEN];
        if body[36..44] != MAGIC {
            return Err(not_ours(
                "no RKV-BLK magic at the end (another format, or a damaged footer)".into(),
            ));
        }
        let version = le_u32(&body[32..36]);
        if version != F::VERSION {
            return Err(not_ours(format!("version {version}")));
        }
        let mut scratch = Stats::default();
        let body = F::open(&footer, &mut scratch)
            .map_err(|what| Error::corruption(path, footer_at, format!("footer: {what}")))?;
        let index_handle = BlockHandle {
            offset: le_u64(&body[0..8]),
            size: le_u64(&body[8..16]),
        };
        let mut table = BlockTable {
            file,
            path: path.to_path_buf(),
            index: BlockIndex::default(),
            summary: TableSummary {
                entries: le_u64(&body[16..24]),
                data_bytes: le_u64(&body[24..32]),
                file_bytes: len,
                ..TableSummary::default()
            },
            _frame: PhantomData,
        };
        table.index = table.read_index(index_handle, footer_at)?;
        if let Some(first_block) = table.index.handle(0) {
            let last = table.index.last_key(table.index.len() - 1).to_vec();
            let first = table.read_block(first_block, MAX_DATA_BLOCK, &mut scratch)?;
            let smallest = first
                .entries_from(None)
                .map_err(|w| table.corrupt(first_block, w))?
                .next();
            match smallest {
                Some(Ok((key, _))) => table.summary.smallest = key,
                Some(Err(w)) => return Err(table.corrupt(first_block, w)),
                None => return Err(table.corrupt(first_block, "first data block is empty".into())),
            }
            table.summary.largest = last;
        }
        Ok(table)
    }

    // ANCHOR: get
    fn get(&self, key: &[u8], stats: &mut Stats) -> Result<Option<Value>> {
        // The first block whose last key is >= key is the only one that can hold it.
        let i = self.index.find(key, stats);
        let Some(handle) = self.index.handle(i) else {
            return Ok(None); // beyond the table's largest key
        };
        let block = self.read_block(handle, MAX_DATA_BLOCK, stats)?;
        block
            .get(key, stats)
            .map_err(|what| self.corrupt(handle, what))
    }
    // ANCHOR_END: get

    fn seek(&self, start: &[u8], stats: &mut Stats) -> Result<Option<TableEntry>> {
        let i = self.index.find(start, stats);
        let Some(handle) = self.index.handle(i) else {
            return Ok(None);
        };
        // The block's last key is >= start, so the answer is in this block.
        let block = self.read_block(handle, MAX_DATA_BLOCK, stats)?;
        block
            .seek(start, stats)
            .map_err(|what| self.corrupt(handle, what))
    }

    fn range(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<TableIter<'_>> {
        let first = match start {
            Some(start) => self.index.find(start, &mut Stats::default()),
            None => 0,
        };
        Ok(Box::new(BlockTableIter {
            table: self,
            next_block: first,
            current: None,
            current_handle: BlockHandle { offset: 0, size: 0 },
            start: start.map(<[u8]>::to_vec),
            end: end.map(<[u8]>::to_vec),
            done: false,
        }))
    }

    fn summary(&self) -> &TableSummary {
        &self.summary
    }
}

impl<F: Frame> BlockTable<F> {
    /// The index: the last key and the handle of every data block.
    pub fn index(&self) -> &BlockIndex {
        &self.index
    }

    /// Reads data block `i` from the file, checks its frame and decompresses it, counting the
    /// work in `stats`.
    pub fn read_data_block(&self, i: usize, stats: &mut Stats) -> Result<Block> {
        let Some(handle) = self.index.handle(i) else {
            return Err(Error::invalid(
                format!("block {i} of {}", self.path.display()),
                format!("a block number below {}", self.index.len()),
            ));
        };
        self.read_block(handle, MAX_DATA_BLOCK, stats)
    }

    /// The corruption error for a problem (`what`) found inside data block `i`.
    pub fn block_corruption(&self, i: usize, what: String) -> Error {
        let offset = self.index.handle(i).map_or(0, |h| h.offset);
        Error::corruption(&self.path, offset, what)
    }

    fn corrupt(&self, handle: BlockHandle, what: String) -> Error {
        Error::corruption(&self.path, handle.offset, what)
    }

    // ANCHOR: read_block
    /// Reads the block at `handle`, checks its frame and decompresses it.
    fn read_block(&self, handle: BlockHandle, max_raw: usize, stats: &mut Stats) -> Result<Block> {
        // Handles were checked against the file's layout when the index was read.
        let mut framed = vec![0u8; handle.size as usize];
        self.file
            .read_exact_at(&mut framed, handle.offset)
            .at(&self.path)?;
        stats.blocks_read += 1;
        stats.bytes_read += handle.size;
        let bytes = F::open(&framed, stats).map_err(|what| self.corrupt(handle, what))?;
        if bytes.len() < BLOCK_HEADER_LEN {
            return Err(self.corrupt(handle, "block shorter than its header".into()));
        }
        let codec = Codec::from_id(bytes[0])
            .ok_or_else(|| self.corrupt(handle, format!("unknown codec {}", bytes[0])))?;
        let raw_len = le_u32(&bytes[1..5]) as usize;
        if raw_len > max_raw {
            return Err(self.corrupt(
                handle,
                format!("block claims {raw_len} bytes, above {max_raw}"),
            ));
        }
        let raw = codec
            .decompress(&bytes[BLOCK_HEADER_LEN..], raw_len)
            .map_err(|what| self.corrupt(handle, format!("{codec} block: {what}")))?;
        if codec != Codec::None {
            stats.bytes_decompressed += raw_len as u64;
        }
        Block::new(raw).map_err(|what| self.corrupt(handle, what))
    }
    // ANCHOR_END: read_block

    /// Reads the index and checks that its handles tile the data region in order.
    fn read_index(&self, handle: BlockHandle, footer_at: u64) -> Result<BlockIndex> {
        let within = handle
            .offset
            .checked_add(handle.size)
            .is_some_and(|end| end == footer_at);
        if !within || handle.size > (MAX_INDEX_BLOCK + 64) as u64 {
            return Err(self.corrupt(handle, "index handle does not end at the footer".into()));
        }
        let block = self.read_block(handle, MAX_INDEX_BLOCK, &mut Stats::default())?;
        let mut index = BlockIndex::default();
        let mut expected_offset = 0;
        for entry in block
            .entries_from(None)
            .map_err(|w| self.corrupt(handle, w))?
        {
            let (key, value) = entry.map_err(|w| self.corrupt(handle, w))?;
            let block_handle = match &value {
                Value::Put(bytes) => BlockHandle::decode(bytes),
                Value::Tombstone => None,
            };
            let Some(block_handle) = block_handle else {
                return Err(self.corrupt(handle, "index entry is not a block handle".into()));
            };
            let max_block = (MAX_DATA_BLOCK + 64) as u64;
            if block_handle.offset != expected_offset || block_handle.size > max_block {
                return Err(self.corrupt(
                    handle,
                    format!(
                        "index entry for block at {} is out of place",
                        block_handle.offset
                    ),
                ));
            }
            if !index.is_empty() && index.last_key(index.len() - 1) >= key.as_slice() {
                return Err(self.corrupt(handle, "index keys are not ascending".into()));
            }
            expected_offset += block_handle.size;
            index.push(&key, block_handle);
        }
        if expected_offset != handle.offset {
            return Err(self.corrupt(
                handle,
                "data blocks do not end where the index begins".into(),
            ));
        }
        Ok(index)
    }
}

/// The entries of one decoded block, each possibly a reason the block is corrupt.
type BlockEntries<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Value), String>> + Send + 'a>;

/// Streams a table's entries in `[start, end)`, one block at a time.
struct BlockTableIter<'a, F: Frame> {
    table: &'a BlockTable<F>,
    next_block: usize,
    current: Option<BlockEntries<'a>>,
    /// Where the block `current` walks lies in the file (for naming it in an error).
    current_handle: BlockHandle,
    start: Option<Vec<u8>>,
    end: Option<Vec<u8>>,
    done: bool,
}

impl<F: Frame> Iterator for BlockTableIter<'_, F> {
    type Item = Result<TableEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            if let Some(entries) = self.current.as_mut() {
                match entries.next() {
                    Some(Ok((key, value))) => {
                        if self.end.as_ref().is_some_and(|end| key >= *end) {
                            self.done = true;
                            return None;
                        }
                        return Some(Ok((key, value)));
                    }
                    Some(Err(what)) => {
                        self.done = true;
                        return Some(Err(self.table.corrupt(self.current_handle, what)));
                    }
                    None => self.current = None,
                }
            }
            let i = self.next_block;
            let handle = self.table.index.handle(i)?;
            self.next_block += 1;
            self.current_handle = handle;
            let loaded = self
                .table
                .read_block(handle, MAX_DATA_BLOCK, &mut Stats::default())
                .and_then(|block| {
                    block
                        .entries_from(self.start.as_deref())
                        .map_err(|what| self.table.corrupt(handle, what))
                });
            match loaded {
                Ok(entries) => self.current = Some(Box::new(entries)),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

fn le_u32(bytes: &[u8]) -> u32 {
    let mut le = [0u8; 4];
    le.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(le)
}

fn le_u64(bytes: &[u8]) -> u64 {
    let mut le = [0u8; 8];
    le.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(le)
}
