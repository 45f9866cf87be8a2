//! Runs a [`Command`] against a store and writes its reply.
//!
//! The reply format is the protocol: the one-shot CLI and the shell both call [`execute`], so a
//! `get` prints the same bytes whichever way it was asked. What differs is only what happens on
//! failure — the shell answers `ERR <why>` and carries on, the CLI prints `error: <why>` on stderr
//! and exits — so that decision is left to the caller through [`Failure`].

use std::error::Error as StdError;
use std::io::{self, Write};

use rkv_contract::KvStore;

use crate::command::Command;
use crate::quote::{one_line, quote};

/// Why a command produced no (complete) reply.
#[derive(Debug)]
pub enum Failure {
    /// The store refused or failed. Part of a scan reply may already have been written.
    Store(rkv_contract::Error),
    /// The reply could not be written (for example, the reader of stdout went away).
    Output(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Output(e)
    }
}

impl From<rkv_contract::Error> for Failure {
    fn from(e: rkv_contract::Error) -> Self {
        Failure::Store(e)
    }
}

/// Runs `command` on `store` and writes the reply to `out`, one item per line:
///
/// - `put`, `delete`, `flush`, `compact` → `OK`, written only after the store returned;
/// - `get` → the value as one token (see [`quote`]), or `(nil)` when the key has none;
/// - `scan` → one `KEY VALUE` line per entry, then `END`;
/// - `stats` → the one-line [`Stats`](rkv_contract::Stats) display;
/// - `inspect` → the store's report, line by line, then `END`.
///
/// Nothing is written for a failure except the scan entries that came before it.
pub fn execute<S: KvStore>(
    store: &mut S,
    command: &Command,
    out: &mut (impl Write + ?Sized),
) -> Result<(), Failure> {
    match command {
        Command::Put { key, value } => {
            store.put(key, value)?;
            out.write_all(b"OK\n")?;
        }
        Command::Get { key } => match store.get(key)? {
            Some(value) => writeln!(out, "{}", quote(&value))?,
            None => out.write_all(b"(nil)\n")?,
        },
        Command::Delete { key } => {
            store.delete(key)?;
            out.write_all(b"OK\n")?;
        }
        Command::Scan { start, end } => {
            for entry in store.scan(start.as_deref(), end.as_deref())? {
                let (key, value) = entry?;
                writeln!(out, "{} {}", quote(&key), quote(&value))?;
            }
            out.write_all(b"END\n")?;
        }
        Command::Flush => {
            store.flush()?;
            out.write_all(b"OK\n")?;
        }
        Command::Compact => {
            store.compact()?;
            out.write_all(b"OK\n")?;
        }
        Command::Stats => writeln!(out, "{}", store.stats())?,
        Command::Inspect => {
            let report = store.inspect()?;
            for line in report.lines() {
                writeln!(out, "{line}")?;
            }
            out.write_all(b"END\n")?;
        }
    }
    Ok(())
}

/// An error and its causes as one line: `what: why: deeper why`.
///
/// A cause whose text the line already ends with is skipped, since many errors (ours included)
/// repeat their source in their own message. Control characters are escaped, so the result is
/// safe to use as an `ERR` reason.
pub fn error_line(error: &(dyn StdError + 'static)) -> String {
    let mut line = String::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if line.is_empty() {
            line = text;
        } else if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        next = e.source();
    }
    one_line(&line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkv_contract::Error;

    #[test]
    fn error_line_skips_repeated_causes_and_stays_one_line() {
        let e = Error::io("/d/x\nlog", io::Error::new(io::ErrorKind::NotFound, "gone"));
        assert_eq!(error_line(&e), "I/O error on /d/x\\nlog: gone");
        let e = anyhow::Error::new(Error::Unsupported("compact")).context("running compact");
        assert_eq!(
            error_line(e.as_ref()),
            "running compact: compact is not supported by this stage"
        );
    }
}
