//! # The rkv command line and shell
//!
//! Every lesson of rkv is a complete store you can run, and they all run the same way: a
//! lesson's `main.rs` hands its store type to this crate and nothing more.
//!
//! ```text
//! fn main() -> std::process::ExitCode {
//!     rkv_cli::run::<rkv_01_basic_store::Store>("rkv-01-basic-store")
//! }
//! ```
//!
//! Because the CLI is generic over [`KvStore`](rkv_contract::KvStore), it cannot favour any
//! stage: the same commands, the same replies, the same `stats` line for lesson 01 and lesson 07.
//! Scripts, the crash test and the book's examples rely on what follows, to the letter.
//!
//! ## Commands
//!
//! ```text
//! <bin> --dir DIR [--sync always|never] [--set NAME=VALUE]... [--stats] [--quoted] COMMAND
//! ```
//!
//! The commands — `put KEY VALUE`, `get KEY`, `delete KEY` (alias `del`), `scan [START [END]]`,
//! `flush`, `compact`, `stats`, `inspect`, and on the command line only `load --count N …` and
//! `shell` — are one table, [`grammar::GRAMMAR`]: both the command line and the shell parse with
//! it, and `--help` and the shell's `help` print it, one line per command with its usage, what
//! it does and what it answers.
//!
//! - `--dir` is required. `--sync` sets the durability of each write (default `never`);
//!   `--set NAME=VALUE` sets a stage-specific option through
//!   [`StoreOptions::set`](rkv_contract::StoreOptions::set) and may be repeated. `--stats` prints
//!   the `stats` line on stderr once the command is done (for `shell`, when it ends). These
//!   global options come before the command.
//! - A one-shot command prints exactly the reply the shell would print for the same command (so
//!   `scan` ends with `END`), with two exceptions: errors go to stderr, and `inspect` prints the
//!   report as is (a final newline added if it lacks one), without the shell's closing `END`.
//! - `OK` for `put` and `delete` is printed only after the store's `put` or `delete` returned, so
//!   the write is then as durable as `--sync` promises.
//! - **Arguments are raw bytes.** KEY, VALUE, START and END are the bytes of the operating-system
//!   argument, exactly; nothing is unquoted. With the global flag `--quoted`, each of them is read
//!   in the shell's quoting syntax instead (one token: `'"a\x00b"'` is three bytes), which lets a
//!   script pass any bytes. An argument that is not exactly one token is then an error.
//!   Arguments may start with `-` (`put k -1`): after the command, every argument is a KEY,
//!   VALUE, START or END, so `put k --stats` stores the value `--stats`.
//! - **Errors**: one line on stderr, `error: ` followed by the error and its causes joined with
//!   `: `, and exit status 1 — no panic message, no backtrace. Usage errors are clap's: a message
//!   and exit status 2. Opening a directory that another process holds fails with the store's
//!   `Locked` error (status 1, also for `shell`, before any input is read).
//! - A closed stdout (`... scan | head -1`) ends the command quietly with status 0.
//!
//! ## `load`
//!
//! Key number `i` is `format!("key{:013}", i)` — 16 bytes. `--order seq` writes `i = 0..N` in
//! order; `--order random` writes the same keys in a permutation shuffled by a generator seeded
//! with `--seed` (default 42). The value of key `i` is `--value-size` bytes (default 100) of
//! printable ASCII drawn from a seeded SplitMix64 generator; it depends only on the seed and `i`.
//! With `--values text` it is instead the record `id=i;name=useri;city=Paris;…` repeated to the
//! value size — repetitive, like real application data, so codecs have something to compress.
//! A progress bar is drawn on stderr when stderr is a terminal. The summary line on stdout is
//! `count=N value_size=B values=V order=O seed=S seconds=T ops_per_sec=R`.
//!
//! ## The shell protocol
//!
//! When stdin is a terminal, `shell` is a line editor with history, a prompt and a banner, plus
//! `help`, `exit` and `quit`. When stdin is **not** a terminal it prints no prompt and no banner
//! and answers each input line with exactly one reply, flushed as soon as the command is done:
//! the reply the grammar lists for the command (`OK`; the value or `(nil)`; one `K V` line per
//! entry, then `END`; one line of `name=value` pairs; the report's lines, then `END`), or, for
//! anything that fails, `ERR <why>` on one line, after which the shell goes on. `load` and
//! `shell` are unknown commands in the shell.
//!
//! - Unknown commands, a wrong number of arguments (`put k`, `get a b`), malformed quoting and
//!   store errors all answer `ERR <why>`; `why` never contains a newline. A scan that fails part
//!   way answers the entries before the failure, then `ERR <why>` in place of `END`.
//! - Blank lines (empty or only blanks) get no reply. End of input closes the store cleanly and
//!   the shell exits with status 0.
//! - Command names are lowercase and matched exactly.
//! - Input is bytes, not text: lines are split on `\n`, a trailing `\r` is dropped, and invalid
//!   UTF-8 is just more bytes.
//!
//! ## Quoting
//!
//! Tokens are separated by one or more spaces or tabs. A token is either
//!
//! - **bare**: a run of bytes other than space, tab and `"`, taken as raw bytes, with no escapes
//!   (`a\n` is three bytes); a `"` inside a bare token is an error; or
//! - **quoted**: `"…"`, in which a space is literal and `\\ \" \n \t \r \0 \xHH` (two hex digits,
//!   either case) are escapes; `""` is the empty string. Any other byte stands for itself. An
//!   unterminated quote, an unknown escape, or a closing quote followed by anything but a blank
//!   or the end of the line (`"a"b`) is an error.
//!
//! Replies print a key or value bare when it is one or more bytes of printable ASCII `0x21..=0x7E`
//! other than `"` and `\`. Otherwise it is quoted — and it is also quoted when it is exactly
//! `(nil)`, so that `get` of the value `(nil)` (`"(nil)"`) differs from a missing key (`(nil)`),
//! or exactly `ERR`, so that a scan entry whose key is `ERR` never looks like an error reply.
//! Inside quotes, the bytes `\ " \n \t \r \0` are written `\\ \" \n \t \r \0`, a space stays a
//! space, and every other byte outside `0x20..=0x7E` is written `\xHH` in lowercase hex. A quoted
//! reply is therefore always one line of printable ASCII, and reading it back with the same
//! tokenizer gives the original bytes. The same quoting applies to one-shot `get` and `scan`.
//!
//! ## Modules
//!
//! - [`quote`]: the tokenizer and the quoting of replies.
//! - [`grammar`]: [`GRAMMAR`](grammar::GRAMMAR), the table of commands both front ends parse
//!   with and the help prints.
//! - [`command`]: the [`Command`](command::Command) parsed from tokens with the grammar.
//! - [`reply`]: runs a command against a store and writes its reply.
//! - [`shell`]: the protocol loop ([`shell::serve`]) and the interactive shell.
//! - [`load`]: the seeded data generator and the `load` command.
//! - `cli`: clap for the options before the command, the process's streams and exit codes;
//!   [`run`] (and [`run_from`], the same with explicit arguments).

pub mod command;
pub mod grammar;
pub mod load;
pub mod quote;
pub mod reply;
pub mod shell;

mod cli;

#[cfg(test)]
mod testing;

pub use cli::{run, run_from};
