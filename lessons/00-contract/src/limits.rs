//! Size limits on keys and values.
//!
//! Limits are part of the contract, not an accident of an encoding: a key of 64 KiB and a value
//! of 16 MiB are accepted by every stage, one byte more is refused with
//! [`Error::InvalidArgument`](crate::Error::InvalidArgument). Without a limit, a corrupt length
//! field could make a reader allocate gigabytes; with one, any length above it is corruption.

use crate::{Error, Result};

// ANCHOR: limits
/// The largest key any stage accepts, in bytes (64 KiB).
pub const MAX_KEY_BYTES: usize = 64 * 1024;

/// The largest value any stage accepts, in bytes (16 MiB).
pub const MAX_VALUE_BYTES: usize = 16 * 1024 * 1024;
// ANCHOR_END: limits

/// Refuses a key longer than [`MAX_KEY_BYTES`].
pub fn check_key(key: &[u8]) -> Result<()> {
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::invalid(
            format!("key is {} bytes", key.len()),
            format!("at most {MAX_KEY_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Refuses a value longer than [`MAX_VALUE_BYTES`].
pub fn check_value(value: &[u8]) -> Result<()> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(Error::invalid(
            format!("value is {} bytes", value.len()),
            format!("at most {MAX_VALUE_BYTES} bytes"),
        ));
    }
    Ok(())
}
