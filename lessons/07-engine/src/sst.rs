//! The file formats the engine writes, chosen in one place: lesson 06's checksummed block
//! tables (with a bloom filter file beside each, see [`crate::table_file`]) and lesson 06's
//! checksummed log for the write-ahead logs and the manifest.

/// The engine's table type.
pub type Sst = rkv_05_compression::BlockTable<rkv_06_checksums::Crc32>;

/// The log format of the engine's write-ahead logs and manifest.
pub type LogFile = rkv_06_checksums::ChecksummedLog;
