//! The commands the shell and the one-shot CLI understand, parsed from tokens.
//!
//! Both front ends end up here: the shell tokenizes a line with [`crate::quote::tokenize`], the
//! one-shot CLI gets its tokens from clap. Turning tokens into a [`Command`] in one place means
//! the two cannot disagree about what `del` or `scan a` means.

use std::fmt;

use crate::quote::quote;

/// One request to a store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `put KEY VALUE`: set a key.
    Put {
        /// The key to set.
        key: Vec<u8>,
        /// Its new value.
        value: Vec<u8>,
    },
    /// `get KEY`: read a key.
    Get {
        /// The key to read.
        key: Vec<u8>,
    },
    /// `delete KEY` (or `del KEY`): remove a key.
    Delete {
        /// The key to remove.
        key: Vec<u8>,
    },
    /// `scan [START [END]]`: the entries with `START <= key < END`.
    Scan {
        /// Inclusive lower bound; `None` is open.
        start: Option<Vec<u8>>,
        /// Exclusive upper bound; `None` is open.
        end: Option<Vec<u8>>,
    },
    /// `flush`: make everything acknowledged durable.
    Flush,
    /// `compact`: rewrite the files into their most compact form.
    Compact,
    /// `stats`: the cost counters.
    Stats,
    /// `inspect`: the store's own report of its files and memory.
    Inspect,
}

/// Why tokens are not a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// The first token names no command.
    Unknown(Vec<u8>),
    /// The command got too few or too many arguments.
    Arity {
        /// The command's name.
        command: &'static str,
        /// Its usage, e.g. `put KEY VALUE`.
        usage: &'static str,
        /// How many arguments it got.
        got: usize,
    },
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Unknown(name) => write!(
                f,
                "unknown command {} (commands: {})",
                quote(name),
                COMMAND_NAMES.join(" ")
            ),
            CommandError::Arity {
                command,
                usage,
                got,
            } => write!(
                f,
                "wrong number of arguments for {command}: got {got}, usage: {usage}"
            ),
        }
    }
}

impl std::error::Error for CommandError {}

/// Every command name the shell accepts.
pub const COMMAND_NAMES: [&str; 9] = [
    "put", "get", "delete", "del", "scan", "flush", "compact", "stats", "inspect",
];

/// One line per command, for the interactive shell's `help`.
pub const USAGE: &str = "\
put KEY VALUE        set KEY to VALUE                       -> OK
get KEY              read KEY                               -> VALUE or (nil)
delete KEY | del KEY remove KEY                             -> OK
scan [START [END]]   entries with START <= key < END        -> K V lines, then END
flush                make every acknowledged write durable  -> OK
compact              rewrite the files compactly            -> OK
stats                cost counters                          -> name=value ...
inspect              the store's files and memory           -> lines, then END";

impl Command {
    /// Parses a command from its tokens: the command name, then its arguments.
    ///
    /// Names are matched exactly (lowercase). An empty token list is not a command; callers skip
    /// blank lines before calling this.
    pub fn parse(tokens: Vec<Vec<u8>>) -> Result<Command, CommandError> {
        let mut tokens = tokens.into_iter();
        let name = tokens.next().unwrap_or_default();
        let mut args: Vec<Vec<u8>> = tokens.collect();
        let arity = |command, usage, allowed: std::ops::RangeInclusive<usize>, got| {
            if allowed.contains(&got) {
                Ok(())
            } else {
                Err(CommandError::Arity {
                    command,
                    usage,
                    got,
                })
            }
        };
        let n = args.len();
        // `take` moves an argument out; only called after the arity check says it exists.
        let mut take = |i: usize| std::mem::take(&mut args[i]);
        Ok(match name.as_slice() {
            b"put" => {
                arity("put", "put KEY VALUE", 2..=2, n)?;
                Command::Put {
                    key: take(0),
                    value: take(1),
                }
            }
            b"get" => {
                arity("get", "get KEY", 1..=1, n)?;
                Command::Get { key: take(0) }
            }
            b"delete" | b"del" => {
                arity("delete", "delete KEY", 1..=1, n)?;
                Command::Delete { key: take(0) }
            }
            b"scan" => {
                arity("scan", "scan [START [END]]", 0..=2, n)?;
                Command::Scan {
                    start: (n >= 1).then(|| take(0)),
                    end: (n >= 2).then(|| take(1)),
                }
            }
            b"flush" => {
                arity("flush", "flush", 0..=0, n)?;
                Command::Flush
            }
            b"compact" => {
                arity("compact", "compact", 0..=0, n)?;
                Command::Compact
            }
            b"stats" => {
                arity("stats", "stats", 0..=0, n)?;
                Command::Stats
            }
            b"inspect" => {
                arity("inspect", "inspect", 0..=0, n)?;
                Command::Inspect
            }
            _ => return Err(CommandError::Unknown(name)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<Command, CommandError> {
        Command::parse(words.iter().map(|w| w.as_bytes().to_vec()).collect())
    }

    #[test]
    fn parses_every_command() {
        assert_eq!(
            parse(&["put", "k", "v"]),
            Ok(Command::Put {
                key: b"k".to_vec(),
                value: b"v".to_vec()
            })
        );
        assert_eq!(
            parse(&["get", "k"]),
            Ok(Command::Get { key: b"k".to_vec() })
        );
        assert_eq!(
            parse(&["del", "k"]),
            Ok(Command::Delete { key: b"k".to_vec() })
        );
        assert_eq!(
            parse(&["delete", "k"]),
            Ok(Command::Delete { key: b"k".to_vec() })
        );
        assert_eq!(
            parse(&["scan"]),
            Ok(Command::Scan {
                start: None,
                end: None
            })
        );
        assert_eq!(
            parse(&["scan", "a"]),
            Ok(Command::Scan {
                start: Some(b"a".to_vec()),
                end: None
            })
        );
        assert_eq!(
            parse(&["scan", "a", "b"]),
            Ok(Command::Scan {
                start: Some(b"a".to_vec()),
                end: Some(b"b".to_vec())
            })
        );
        assert_eq!(parse(&["flush"]), Ok(Command::Flush));
        assert_eq!(parse(&["compact"]), Ok(Command::Compact));
        assert_eq!(parse(&["stats"]), Ok(Command::Stats));
        assert_eq!(parse(&["inspect"]), Ok(Command::Inspect));
    }

    #[test]
    fn wrong_arity_is_an_error() {
        for words in [
            &["put", "k"][..],
            &["put", "k", "v", "w"],
            &["get"],
            &["get", "a", "b"],
            &["del"],
            &["scan", "a", "b", "c"],
            &["flush", "x"],
            &["stats", "x"],
            &["compact", "x"],
            &["inspect", "x"],
        ] {
            assert!(
                matches!(parse(words), Err(CommandError::Arity { .. })),
                "{words:?}"
            );
        }
    }

    #[test]
    fn unknown_commands_are_errors_with_a_printable_name() {
        let e = Command::parse(vec![b"PUT\n\xff".to_vec()]).unwrap_err();
        assert!(matches!(e, CommandError::Unknown(_)));
        let text = e.to_string();
        assert!(
            text.starts_with("unknown command \"PUT\\n\\xff\""),
            "{text}"
        );
        assert!(Command::parse(Vec::new()).is_err());
    }
}
