//! The walker every format page is read with, and the dump it produces: each byte of a file
//! assigned to a labelled field, printed as offset, hex, ASCII and meaning.

use anyhow::{Context, Result, ensure};
use rkv_05_compression::varint;
use rkv_06_checksums::crc::{CRC_LEN, masked_crc};

/// Bytes per line of a dump.
const WIDTH: usize = 16;

/// A file (or a decompressed block) with every byte assigned to a labelled field.
pub(super) struct Dump {
    /// Said after the file name: empty for the file itself.
    pub(super) title: String,
    bytes: Vec<u8>,
    rows: Vec<Row>,
}

enum Row {
    /// A heading before a group of fields.
    Section(String),
    /// `len` bytes at `offset`, and what they mean.
    Field {
        offset: usize,
        len: usize,
        label: String,
    },
}

impl Dump {
    pub(super) fn render(&self) -> String {
        let digits = format!("{:x}", self.bytes.len().max(1)).len().max(6);
        let mut out = format!(
            "{:<digits$}  {:<hex$}  {:<WIDTH$}  field\n",
            "offset",
            "bytes",
            "ascii",
            hex = WIDTH * 3 - 1,
        );
        for row in &self.rows {
            match row {
                Row::Section(title) => {
                    out.push_str(&format!("{:<digits$}  -- {title}\n", ""));
                }
                Row::Field { offset, len, label } => {
                    let field = &self.bytes[*offset..offset + len];
                    if field.is_empty() {
                        let line = format!(
                            "{offset:0digits$x}  {:<hex$}  {:<WIDTH$}  {label}",
                            "(none)",
                            "",
                            hex = WIDTH * 3 - 1
                        );
                        out.push_str(line.trim_end());
                        out.push('\n');
                    }
                    for (i, chunk) in field.chunks(WIDTH).enumerate() {
                        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
                        let ascii: String = chunk
                            .iter()
                            .map(|&b| {
                                if b.is_ascii_graphic() || b == b' ' {
                                    b as char
                                } else {
                                    '.'
                                }
                            })
                            .collect();
                        let line = format!(
                            "{:0digits$x}  {:<hex_w$}  {:<WIDTH$}  {}",
                            offset + i * WIDTH,
                            hex.join(" "),
                            ascii,
                            if i == 0 { label.as_str() } else { "" },
                            hex_w = WIDTH * 3 - 1
                        );
                        out.push_str(line.trim_end());
                        out.push('\n');
                    }
                }
            }
        }
        out
    }
}

/// Reads a byte string field by field, recording a label for each.
pub(super) struct Walker<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) at: usize,
    rows: Vec<Row>,
}

impl<'a> Walker<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Walker {
            bytes,
            at: 0,
            rows: Vec::new(),
        }
    }

    pub(super) fn section(&mut self, title: impl Into<String>) {
        self.rows.push(Row::Section(title.into()));
    }

    /// The next `len` bytes, labelled by `label` once it has seen them.
    pub(super) fn field(
        &mut self,
        len: usize,
        label: impl FnOnce(&[u8]) -> String,
    ) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .with_context(|| {
                format!(
                    "a field of {len} bytes at offset {} runs past the end ({} bytes)",
                    self.at,
                    self.bytes.len()
                )
            })?;
        let bytes = &self.bytes[self.at..end];
        self.rows.push(Row::Field {
            offset: self.at,
            len,
            label: label(bytes),
        });
        self.at = end;
        Ok(bytes)
    }

    pub(super) fn bytes(&mut self, len: usize, name: &str) -> Result<&'a [u8]> {
        self.field(len, |b| format!("{name} {}", show(b)))
    }

    pub(super) fn magic(&mut self, expected: &[u8], name: &str) -> Result<()> {
        let found = self.field(expected.len(), |b| format!("{name} {}", show(b)))?;
        ensure!(
            found == expected,
            "expected {name} {} at offset {}, found {}",
            show(expected),
            self.at - expected.len(),
            show(found)
        );
        Ok(())
    }

    pub(super) fn u8(&mut self, label: impl FnOnce(u8) -> String) -> Result<u8> {
        Ok(self.field(1, |b| label(b[0]))?[0])
    }

    pub(super) fn u32(&mut self, name: &str) -> Result<u32> {
        self.u32_with(|v| format!("{name} = {v} (u32 LE)"))
    }

    pub(super) fn u32_with(&mut self, label: impl FnOnce(u32) -> String) -> Result<u32> {
        let decode = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        Ok(decode(self.field(4, |b| label(decode(b)))?))
    }

    pub(super) fn u64(&mut self, name: &str) -> Result<u64> {
        let decode = |b: &[u8]| {
            let mut le = [0u8; 8];
            le.copy_from_slice(b);
            u64::from_le_bytes(le)
        };
        let b = self.field(8, |b| format!("{name} = {} (u64 LE)", decode(b)))?;
        Ok(decode(b))
    }

    pub(super) fn varint(&mut self, name: &str) -> Result<u64> {
        let (value, len) = self
            .bytes
            .get(self.at..)
            .and_then(varint::get)
            .with_context(|| format!("no varint {name} at offset {}", self.at))?;
        self.field(len, |_| format!("{name} = {value} (varint)"))?;
        Ok(value)
    }

    /// A stored masked CRC-32 of `covered` (offsets in this walker's bytes), which must match.
    pub(super) fn crc(&mut self, name: &str, covered: std::ops::Range<usize>) -> Result<()> {
        let (start, end) = (covered.start, covered.end);
        let data = self
            .bytes
            .get(covered)
            .with_context(|| format!("{name} covers {start}..{end}, past the end"))?;
        let computed = masked_crc(data);
        let stored = self.u32_with(|v| {
            format!("{name} = {v:#010x} (masked CRC-32 of {start:#06x}..{end:#06x}, u32 LE)")
        })?;
        ensure!(
            stored == computed,
            "{name} at offset {}: stored {stored:#010x}, computed {computed:#010x} over \
             {start}..{end}",
            self.at - CRC_LEN
        );
        Ok(())
    }

    pub(super) fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// The dump, once every byte has been read.
    pub(super) fn finish(self, title: impl Into<String>) -> Result<Dump> {
        ensure!(
            self.at == self.bytes.len(),
            "{} bytes left over at offset {}",
            self.bytes.len() - self.at,
            self.at
        );
        Ok(Dump {
            title: title.into(),
            bytes: self.bytes.to_vec(),
            rows: self.rows,
        })
    }
}

/// `"text"` with anything unprintable escaped (a zero byte as `\0`, as the lessons write it).
pub(super) fn show(bytes: &[u8]) -> String {
    format!("\"{}\"", bytes.escape_ascii()).replace("\\x00", "\\0")
}

pub(super) fn u32_at(bytes: &[u8], at: usize) -> Result<u32> {
    let b = bytes
        .get(at..at + 4)
        .with_context(|| format!("no u32 at offset {at}"))?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

pub(super) fn u64_at(bytes: &[u8], at: usize) -> Result<u64> {
    let b = bytes
        .get(at..at + 8)
        .with_context(|| format!("no u64 at offset {at}"))?;
    let mut le = [0u8; 8];
    le.copy_from_slice(b);
    Ok(u64::from_le_bytes(le))
}
