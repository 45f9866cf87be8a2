//! The shell: a read–reply loop over one open store.
//!
//! The shell has two faces. For a person at a terminal it is a line editor with history
//! ([`interactive`], built on rustyline), a prompt, a banner and `help`. For a script or a test
//! whose stdin is a pipe it is a strict protocol ([`serve`]): no prompt, no banner, and exactly
//! one reply per input line — a scan or inspect reply is several lines closed by `END` — flushed
//! as soon as the command is done, so a program can write a line and wait for its answer.
//!
//! Both faces answer a line the same way, through [`reply_to_line`]. A line that cannot be
//! tokenized, names no command, has the wrong number of arguments or fails in the store gets
//! `ERR <why>` on one line, and the shell goes on; only end of input or a broken output ends it.
//!
//! The protocol reads input as bytes, not text: a line may hold anything but a newline (a
//! trailing `\r` is dropped), and invalid UTF-8 is simply more bytes.

use std::io::{self, BufRead, Write};

use rkv_contract::KvStore;

use crate::command::Command;
use crate::grammar::{FrontEnd, help};
use crate::quote::{one_line, tokenize};
use crate::reply::{Failure, error_line, execute};

/// Answers one input line (without its `\n`) on `out`. A blank line gets no reply.
///
/// Returns an error only when `out` cannot be written.
pub fn reply_to_line<S: KvStore>(
    store: &mut S,
    line: &[u8],
    out: &mut (impl Write + ?Sized),
) -> io::Result<()> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let tokens = match tokenize(line) {
        Ok(tokens) if tokens.is_empty() => return Ok(()),
        Ok(tokens) => tokens,
        Err(e) => return write_err(out, &e.to_string()),
    };
    let command = match Command::parse(tokens) {
        Ok(command) => command,
        Err(e) => return write_err(out, &e.to_string()),
    };
    match execute(store, &command, out) {
        Ok(()) => Ok(()),
        Err(Failure::Store(e)) => write_err(out, &error_line(&e)),
        Err(Failure::Output(e)) => Err(e),
    }
}

/// Writes `ERR <why>` as exactly one line.
fn write_err(out: &mut (impl Write + ?Sized), why: &str) -> io::Result<()> {
    writeln!(out, "ERR {}", one_line(why))
}

/// The non-interactive shell: answers every line of `input` on `output` until end of input.
///
/// Each reply is flushed before the next line is read. Returns an error if reading `input` or
/// writing `output` fails; a caller should treat [`io::ErrorKind::BrokenPipe`] on output as the
/// reader having left, not as a failure worth reporting.
pub fn serve<S: KvStore>(
    store: &mut S,
    mut input: impl BufRead,
    mut output: impl Write,
) -> io::Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        reply_to_line(store, text, &mut output)?;
        output.flush()?;
    }
}

/// The interactive shell for a terminal: a prompt, line editing and in-memory history.
///
/// `help` lists the commands and `exit` or `quit` (or Ctrl-D) leaves; these three words are
/// interactive conveniences, not part of the protocol [`serve`] speaks. Ctrl-C abandons the line
/// being typed. History lives as long as the shell; nothing is written outside the store.
pub fn interactive<S: KvStore>(store: &mut S, banner: &str) -> anyhow::Result<()> {
    use rustyline::error::ReadlineError;

    let mut editor = rustyline::DefaultEditor::new()?;
    let stdout = io::stdout();
    writeln!(stdout.lock(), "{banner}")?;
    loop {
        match editor.readline("rkv> ") {
            Ok(line) => {
                let _ = editor.add_history_entry(line.as_str());
                let mut out = io::BufWriter::new(stdout.lock());
                match line.trim() {
                    "exit" | "quit" => return Ok(()),
                    "help" => {
                        writeln!(out, "{}help | exit | quit | Ctrl-D", help(FrontEnd::Shell))?
                    }
                    _ => reply_to_line(store, line.as_bytes(), &mut out)?,
                }
                out.flush()?;
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quote::quote;
    use crate::testing::{ClosedPipe, MemStore};
    use proptest::prelude::*;

    /// Feeds `input` to the shell of `store` and returns what it answered.
    fn session_on(store: &mut MemStore, input: &[u8]) -> String {
        let mut out = Vec::new();
        serve(store, input, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Feeds `input` to a fresh store's shell and returns what it answered.
    fn session(input: &[u8]) -> String {
        session_on(&mut MemStore::fresh(), input)
    }

    #[test]
    fn answers_every_command() {
        let input = b"put a 1\nput b \"two words\"\nget a\nget b\nget zz\nscan\n\
                      del a\ndelete b\nscan\nflush\ncompact\nstats\ninspect\n";
        let out = session(input);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[..14],
            [
                "OK",
                "OK",
                "1",
                "\"two words\"",
                "(nil)",
                "a 1",
                "b \"two words\"",
                "END",
                "OK",
                "OK",
                "END",
                "OK",
                "OK",
                lines[13],
            ]
        );
        assert!(
            lines[13].starts_with("puts=2 gets=3 deletes=2 scans=2"),
            "{}",
            lines[13]
        );
        assert_eq!(lines[14..], ["memory store", "sync=never", "keys=0", "END"]);
    }

    #[test]
    fn scan_bounds() {
        let out = session(b"put a 1\nput b 2\nput c 3\nscan b\nscan a c\nscan \"\" b\nscan c a\n");
        assert_eq!(
            out,
            "OK\nOK\nOK\nb 2\nc 3\nEND\na 1\nb 2\nEND\na 1\nEND\nEND\n"
        );
    }

    #[test]
    fn blank_lines_get_no_reply_and_crlf_is_accepted() {
        let out = session(b"\n   \n\t\r\nput k v\r\nget k\r\nget k");
        assert_eq!(out, "OK\nv\nv\n");
    }

    #[test]
    fn malformed_lines_get_one_err_line_each() {
        let input: &[u8] = b"put k\nget a b\nfrob x\nput \"k v\nput \"\\q\" v\nput \"a\"b v\n\
                             get \"\\x4\"\n\xff\xfe\x00\nscan a b c\nPUT k v\nput k\tv\n";
        let out = session(input);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 11, "{out}");
        for line in &lines[..10] {
            assert!(line.starts_with("ERR "), "{line}");
        }
        assert_eq!(lines[10], "OK");
        assert!(lines[2].contains("unknown command frob"), "{}", lines[2]);
    }

    #[test]
    fn store_errors_are_err_replies_and_the_shell_goes_on() {
        let mut store = MemStore::fresh();
        store.faults.fail_on = Some(b"bad".to_vec());
        let out = session_on(
            &mut store,
            b"put bad v\nput a 1\nput c 3\nget bad\nscan\nget a\n",
        );
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("ERR invalid argument"), "{}", lines[0]);
        assert_eq!(lines[1..3], ["OK", "OK"]);
        assert!(lines[3].starts_with("ERR "));
        // A scan that fails part-way: the entries before the failure, then ERR instead of END.
        assert_eq!(lines[4], "a 1");
        assert!(lines[5].starts_with("ERR corruption"), "{}", lines[5]);
        assert_eq!(lines[6], "1");
        assert_eq!(lines.len(), 7);
    }

    #[test]
    fn unsupported_compact_is_an_err_reply() {
        let mut store = MemStore::fresh();
        store.faults.no_compact = true;
        assert_eq!(
            session_on(&mut store, b"compact\n"),
            "ERR compact is not supported by this stage\n"
        );
    }

    #[test]
    fn reserved_and_odd_values_come_back_quoted() {
        let out = session(
            b"put a \"(nil)\"\nget a\nput b \"\"\nget b\nput ERR x\nscan\nput c \xff\nget c\n",
        );
        assert_eq!(
            out,
            "OK\n\"(nil)\"\nOK\n\"\"\nOK\n\"ERR\" x\na \"(nil)\"\nb \"\"\nEND\nOK\n\"\\xff\"\n"
        );
    }

    #[test]
    fn replies_are_flushed_after_every_command() {
        /// A writer that records how many bytes had been written at each flush.
        #[derive(Default)]
        struct Recorder {
            bytes: Vec<u8>,
            flushed_at: Vec<usize>,
        }
        impl Write for Recorder {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.bytes.extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                self.flushed_at.push(self.bytes.len());
                Ok(())
            }
        }
        let mut store = MemStore::fresh();
        let mut out = Recorder::default();
        serve(&mut store, &b"put a 1\nget a\n"[..], &mut out).unwrap();
        assert_eq!(out.flushed_at, [3, 5]);
    }

    #[test]
    fn a_broken_output_ends_the_loop_with_an_error() {
        let mut store = MemStore::fresh();
        let e = serve(&mut store, &b"put a 1\nget a\n"[..], ClosedPipe).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    }

    proptest! {
        #[test]
        fn any_key_and_value_round_trip_through_the_shell(
            key in prop::collection::vec(any::<u8>(), 0..12),
            value in prop::collection::vec(any::<u8>(), 0..12),
        ) {
                        let input = format!("put {} {}\nget {}\nscan\n", quote(&key), quote(&value), quote(&key));
            let out = session(input.as_bytes());
            let lines: Vec<&str> = out.lines().collect();
            prop_assert_eq!(lines.len(), 4);
            prop_assert_eq!(lines[0], "OK");
            prop_assert_eq!(tokenize(lines[1].as_bytes()).unwrap(), vec![value.clone()]);
            prop_assert_eq!(tokenize(lines[2].as_bytes()).unwrap(), vec![key, value]);
            prop_assert_eq!(lines[3], "END");
        }

        #[test]
        fn junk_input_never_panics_and_replies_in_printable_lines(
            input in prop::collection::vec(
                prop_oneof![any::<u8>(), prop::sample::select(b" \n\"\\gpsx".to_vec())], 0..200),
        ) {
            let mut store = MemStore::fresh();
            let mut out = Vec::new();
            serve(&mut store, &input[..], &mut out).unwrap();
            prop_assert!(out.iter().all(|&b| b == b'\n' || (0x20..=0x7e).contains(&b)));
        }
    }
}
