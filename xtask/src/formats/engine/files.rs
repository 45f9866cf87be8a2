//! The walks of lesson 07's own files and records: `CURRENT`, the manifest's edits, the log's
//! batch records, the internal keys of a table and the bloom filter file. Each is written from
//! the appendix's description, not from the engine's decoders, and refuses what the
//! description does not say.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Context, Result, bail, ensure};

use crate::formats::{BlockEntry, Dump, Walker, show, walk_log_as};

/// One entry of a table: its user key, sequence number and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TableKey {
    pub(super) user_key: Vec<u8>,
    pub(super) seq: u64,
    pub(super) put: bool,
}

/// `CURRENT`: the live manifest's name and a newline. Returns the name.
pub(super) fn walk_current(bytes: &[u8]) -> Result<(Dump, String)> {
    let mut w = Walker::new(bytes);
    let name_len = bytes
        .iter()
        .position(|&b| b == b'\n')
        .context("CURRENT has no newline")?;
    let name = w.field(name_len, |b| {
        format!("name of the live manifest {}", show(b))
    })?;
    let name = String::from_utf8(name.to_vec()).context("CURRENT is not UTF-8")?;
    let digits = name
        .strip_suffix(".manifest")
        .with_context(|| format!("{name:?} is not NNNNNN.manifest"))?;
    ensure!(
        digits.len() >= 6 && digits.bytes().all(|b| b.is_ascii_digit()),
        "{name:?} is not NNNNNN.manifest"
    );
    w.field(1, |_| "newline".into())?;
    Ok((w.finish("")?, name))
}

/// What the manifest's edits add up to.
#[derive(Debug, Default)]
pub(super) struct ManifestState {
    /// Live tables per level.
    pub(super) levels: BTreeMap<u64, Vec<u64>>,
    /// Logs numbered below this are in tables.
    pub(super) log_number: u64,
}

/// The manifest: lesson 06's checksummed log, each record's key `"edit"` and its value a list
/// of edits. Returns the dump and the state the edits add up to.
pub(super) fn walk_manifest(bytes: &[u8]) -> Result<(Vec<Dump>, ManifestState)> {
    let mut state = ManifestState::default();
    let mut kinds_seen = [false; 5];
    let dumps = walk_log_as(bytes, true, &mut |w, kind, key_len, value_len| {
        ensure!(kind == 1, "a manifest record that is not a put");
        let key = w.bytes(key_len, "key")?;
        ensure!(key == b"edit", "manifest record key {}", show(key));
        let end = w.at + value_len;
        while w.at < end {
            let tag = w.u8(|tag| {
                let what = match tag {
                    1 => "add table: level, number",
                    2 => "remove table: level, number",
                    3 => "log number: logs below it are in tables",
                    4 => "next file number",
                    5 => "last sequence number",
                    _ => "unknown!",
                };
                format!("edit tag = {tag} ({what})")
            })?;
            ensure!((1..=5).contains(&tag), "unknown edit tag {tag}");
            kinds_seen[usize::from(tag - 1)] = true;
            let first = w.varint(match tag {
                1 | 2 => "level",
                3 => "log number",
                4 => "next file",
                _ => "last sequence",
            })?;
            match tag {
                1 | 2 => {
                    ensure!(first < 7, "level {first}");
                    let number = w.varint("table number")?;
                    let level = state.levels.entry(first).or_default();
                    if tag == 1 {
                        level.push(number);
                    } else {
                        ensure!(
                            level.contains(&number),
                            "removes table {number}, not in L{first}"
                        );
                        level.retain(|&n| n != number);
                    }
                }
                3 => state.log_number = first,
                _ => {}
            }
        }
        ensure!(w.at == end, "an edit runs past its record");
        Ok(())
    })?;
    ensure!(
        kinds_seen.iter().all(|&seen| seen),
        "the example's manifest should hold every kind of edit, saw {kinds_seen:?}"
    );
    state.levels.retain(|_, tables| !tables.is_empty());
    Ok((dumps, state))
}

/// A batch record of the write-ahead log: a 16-byte key (first sequence number, part index,
/// part count, all big-endian) and the encoded batch.
pub(super) fn batch_body(
    w: &mut Walker<'_>,
    kind: u8,
    key_len: usize,
    value_len: usize,
) -> Result<()> {
    ensure!(kind == 1, "a log record that is not a put");
    ensure!(key_len == 16, "a batch record key of {key_len} bytes");
    let first = be_u64(w, "key: first sequence number")?;
    let index = be_u32(w, "key: part index")?;
    let count = be_u32(w, "key: part count")?;
    ensure!(
        index == 0 && count == 1,
        "the example's batches fit in one part"
    );
    let end = w.at + value_len;
    let writes = w.u32("batch: count of writes")?;
    for i in 0..writes {
        w.section(format!(
            "write {i} of the batch (seq {})",
            first + u64::from(i)
        ));
        let kind = w.u8(|k| match k {
            1 => "kind = 1 (put)".into(),
            2 => "kind = 2 (delete)".into(),
            other => format!("kind = {other} (unknown!)"),
        })?;
        let key_len = w.varint("key_len")?;
        w.bytes(usize::try_from(key_len)?, "key")?;
        match kind {
            1 => {
                let value_len = w.varint("value_len")?;
                w.bytes(usize::try_from(value_len)?, "value")?;
            }
            2 => {}
            other => bail!("unknown write kind {other}"),
        }
    }
    ensure!(w.at == end, "the batch does not fill its record");
    Ok(())
}

fn be_u64(w: &mut Walker<'_>, name: &str) -> Result<u64> {
    let decode = |b: &[u8]| b.iter().fold(0u64, |n, &byte| n << 8 | u64::from(byte));
    let b = w.field(8, |b| format!("{name} = {} (u64 BE)", decode(b)))?;
    Ok(decode(b))
}

fn be_u32(w: &mut Walker<'_>, name: &str) -> Result<u32> {
    let decode = |b: &[u8]| b.iter().fold(0u32, |n, &byte| n << 8 | u32::from(byte));
    let b = w.field(4, |b| format!("{name} = {} (u32 BE)", decode(b)))?;
    Ok(decode(b))
}

/// Every key of a table split into its parts: escaped user key, terminator, inverted sequence
/// number. Checks the order (user key ascending, then sequence number descending) and returns
/// the decoded keys.
pub(super) fn walk_internal_keys(entries: &[BlockEntry]) -> Result<(Dump, Vec<TableKey>)> {
    let bytes: Vec<u8> = entries.iter().flat_map(|(key, _)| key.clone()).collect();
    let mut w = Walker::new(&bytes);
    let mut keys: Vec<TableKey> = Vec::new();
    for (i, (key, value)) in entries.iter().enumerate() {
        w.section(format!(
            "entry {i}'s key ({})",
            if value.is_some() {
                "a put"
            } else {
                "a tombstone"
            }
        ));
        let escaped_len = key
            .len()
            .checked_sub(10)
            .with_context(|| format!("key {} is too short", show(key)))?;
        let mut user_key = Vec::with_capacity(escaped_len);
        let mut bytes = key[..escaped_len].iter();
        while let Some(&byte) = bytes.next() {
            user_key.push(byte);
            if byte == 0 {
                ensure!(
                    bytes.next() == Some(&0xff),
                    "a zero byte not escaped as 00 ff in {}",
                    show(key)
                );
            }
        }
        let escaped = &key[..escaped_len];
        w.field(escaped_len, |_| {
            if escaped == user_key.as_slice() {
                format!("user key {}", show(&user_key))
            } else {
                format!("escaped user key -> {}", show(&user_key))
            }
        })?;
        let terminator = w.field(2, |_| "terminator 00 01".into())?;
        ensure!(terminator == [0, 1], "no terminator in {}", show(key));
        let inverted = w.field(8, |b| {
            let stored = b.iter().fold(0u64, |n, &byte| n << 8 | u64::from(byte));
            format!("u64::MAX - seq (BE) -> seq = {}", u64::MAX - stored)
        })?;
        let stored = inverted
            .iter()
            .fold(0u64, |n, &byte| n << 8 | u64::from(byte));
        let key = TableKey {
            user_key,
            seq: u64::MAX - stored,
            put: value.is_some(),
        };
        if let Some(previous) = keys.last() {
            ensure!(
                (&previous.user_key, std::cmp::Reverse(previous.seq))
                    < (&key.user_key, std::cmp::Reverse(key.seq)),
                "keys out of order: {previous:?} then {key:?}"
            );
        }
        keys.push(key);
    }
    Ok((
        w.finish(", its keys: every entry's full key (shared prefix and suffix) split in parts")?,
        keys,
    ))
}

/// A filter file: magic, version, probes per key, bit array, CRC-32. Checks that every key of
/// `keys` finds its probe bits set and returns them, one line per key.
pub(super) fn walk_filter(bytes: &[u8], keys: &[TableKey]) -> Result<(Dump, String)> {
    let mut w = Walker::new(bytes);
    w.magic(b"RKV-BLM\0", "magic")?;
    ensure!(w.u32("version")? == 1, "filter version");
    let k = w.u8(|k| format!("k = {k} (probes per key)"))?;
    ensure!((1..=30).contains(&k), "{k} probes per key");
    let array_len = w
        .remaining()
        .checked_sub(4)
        .filter(|&n| n > 0)
        .context("no bit array")?;
    let bits = w.field(array_len, |b| {
        format!(
            "bit array, m = {} bits (bit i: byte i / 8, bit i % 8)",
            b.len() * 8
        )
    })?;
    let covered = w.at;
    let computed = crc32fast::hash(&bytes[..covered]);
    let stored = w.u32_with(|v| {
        format!("crc = {v:#010x} (CRC-32 of 0x0000..{covered:#06x}, not masked, u32 LE)")
    })?;
    ensure!(
        stored == computed,
        "filter crc: stored {stored:#010x}, computed {computed:#010x}"
    );
    let dump = w.finish("")?;

    let m = bits.len() as u64 * 8;
    let mut probes = String::new();
    let mut previous: Option<&[u8]> = None;
    for key in keys {
        if previous == Some(key.user_key.as_slice()) {
            continue; // one hash per user key
        }
        previous = Some(&key.user_key);
        let hash = key_hash(&filter_key(&key.user_key));
        let positions: Vec<u64> = (0..u64::from(k))
            .map(|i| (hash & 0xffff_ffff).wrapping_add(i.wrapping_mul((hash >> 32) | 1)) % m)
            .collect();
        for &bit in &positions {
            ensure!(
                bits[(bit / 8) as usize] & (1 << (bit % 8)) != 0,
                "bit {bit} of {} is not set",
                show(&key.user_key)
            );
        }
        let list: Vec<String> = positions.iter().map(u64::to_string).collect();
        writeln!(
            probes,
            "{:<18} hash {hash:#018x}  bits {}",
            show(&key.user_key),
            list.join(" ")
        )?;
    }
    Ok((dump, probes))
}

/// What the filter hashes for a user key: the key escaped and terminated, as in an internal
/// key without its sequence number.
fn filter_key(user_key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(user_key.len() + 2);
    for &byte in user_key {
        out.push(byte);
        if byte == 0 {
            out.push(0xff);
        }
    }
    out.extend_from_slice(&[0, 1]);
    out
}

/// FNV-1a 64 over the bytes, then MurmurHash3's 64-bit finalizer.
fn key_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest holding one record whose value is `value`.
    fn manifest_with(value: &[u8]) -> Vec<u8> {
        let mut log = rkv_01_basic_store::wal::MAGIC.to_vec();
        log.extend_from_slice(&rkv_06_checksums::checksummed_log::VERSION.to_le_bytes());
        rkv_06_checksums::checksummed_log::encode_record(
            b"edit",
            &rkv_01_basic_store::Value::Put(value.to_vec()),
            &mut log,
        );
        log
    }

    #[test]
    fn a_manifest_walk_refuses_unknown_edits_and_removals_of_unknown_tables() {
        // Every kind once: add 0/4, remove 0/4, log 3, next file 5, last seq 9.
        let all = [1, 0, 4, 2, 0, 4, 3, 3, 4, 5, 5, 9];
        assert!(walk_manifest(&manifest_with(&all)).is_ok());
        assert!(
            walk_manifest(&manifest_with(&[3, 3])).is_err(),
            "kinds missing"
        );
        let mut unknown = all.to_vec();
        unknown.extend([6, 1]);
        assert!(walk_manifest(&manifest_with(&unknown)).is_err());
        let mut stray = all.to_vec();
        stray.extend([2, 1, 8]);
        assert!(walk_manifest(&manifest_with(&stray)).is_err());
        let mut torn = all.to_vec();
        torn.push(1);
        assert!(walk_manifest(&manifest_with(&torn)).is_err());
    }

    #[test]
    fn a_filter_missing_a_keys_bit_is_refused() {
        let key = TableKey {
            user_key: b"k".to_vec(),
            seq: 1,
            put: true,
        };
        let mut file = b"RKV-BLM\0".to_vec();
        file.extend_from_slice(&1u32.to_le_bytes());
        file.push(3);
        file.extend_from_slice(&[0xff; 8]);
        let with_crc = |mut file: Vec<u8>| {
            let crc = crc32fast::hash(&file);
            file.extend_from_slice(&crc.to_le_bytes());
            file
        };
        assert!(walk_filter(&with_crc(file.clone()), std::slice::from_ref(&key)).is_ok());
        let mut empty = file.clone();
        empty[13..].fill(0);
        assert!(walk_filter(&with_crc(empty), std::slice::from_ref(&key)).is_err());
        let mut damaged = with_crc(file);
        damaged[14] ^= 1;
        assert!(walk_filter(&damaged, &[key]).is_err(), "a wrong crc");
    }

    #[test]
    fn internal_keys_must_escape_zero_bytes_and_ascend() {
        let key = |user: &[u8], seq: u64| {
            let mut out = filter_key(user);
            out.extend_from_slice(&(u64::MAX - seq).to_be_bytes());
            (out, None)
        };
        let (_, keys) =
            walk_internal_keys(&[key(b"a\0", 2), key(b"a\0", 1), key(b"b", 9)]).unwrap();
        assert_eq!(keys[0].user_key, b"a\0");
        assert!(
            walk_internal_keys(&[key(b"a", 1), key(b"a", 2)]).is_err(),
            "older first"
        );
        let mut unescaped = key(b"a", 1);
        unescaped.0.insert(1, 0);
        assert!(walk_internal_keys(&[unescaped]).is_err());
    }
}
