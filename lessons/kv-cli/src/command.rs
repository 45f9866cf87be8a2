//! Commands, parsed from tokens with the grammar.
//!
//! Two front ends take commands — the command line (`<bin> --dir DIR put k v`) and the shell (a
//! line `put k v`) — and both turn their tokens into a [`Command`] here, with the one table in
//! [`crate::grammar`]: the name picks the table's entry, the entry says how many arguments the
//! command takes, and the arguments fill the [`Command`]. So the two front ends cannot disagree
//! about what `del` or `scan a` means.
//!
//! What the front ends do differently happens before: the shell splits a line into tokens with
//! [`crate::quote::tokenize`]; the command line gets its tokens from the operating system, raw or
//! — with `--quoted` — in the shell's quoting syntax ([`Spelling`]). Two commands, `load` and
//! `shell`, exist on the command line only ([`Request`]): the shell answers them as unknown.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStringExt;

use clap::{CommandFactory, FromArgMatches};

use crate::grammar::{FrontEnd, GRAMMAR, Syntax, names};
use crate::load::LoadSpec;
use crate::quote::{parse_one, quote};

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

/// What a command line asks for: one store command, or one of the two commands that only the
/// command line has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Run one command and print its reply.
    Store(Command),
    /// Write generated keys.
    Load(LoadSpec),
    /// Answer commands read from stdin.
    Shell,
}

/// How KEY, VALUE, START and END are spelled in the tokens handed to the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spelling {
    /// The token is the bytes (the shell's tokenizer has already unquoted them; on the command
    /// line, the default).
    Raw,
    /// The token is one token of the shell's quoting syntax (`--quoted` on the command line).
    Quoted,
}

/// Why tokens are not a command.
#[derive(Debug)]
pub enum CommandError {
    /// The first token names no command.
    Unknown {
        /// The token.
        name: Vec<u8>,
        /// The names that would have been understood.
        known: Vec<&'static str>,
    },
    /// The command got too few or too many arguments.
    Arity {
        /// The command's name.
        command: &'static str,
        /// Its usage, e.g. `put KEY VALUE`.
        usage: String,
        /// How many arguments it got.
        got: usize,
    },
    /// An argument is not one token of the quoting syntax ([`Spelling::Quoted`]).
    Spelling {
        /// Which argument, e.g. `KEY`.
        param: &'static str,
        /// The argument as given.
        raw: Vec<u8>,
        /// What is wrong with it.
        why: String,
    },
    /// The `--name value` options of a command that takes them (`load`) are wrong, or ask for
    /// its help: clap's error, which knows how to print itself.
    Flags(Box<clap::Error>),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Unknown { name, known } => write!(
                f,
                "unknown command {} (commands: {})",
                quote(name),
                known.join(" ")
            ),
            CommandError::Arity {
                command,
                usage,
                got,
            } => write!(
                f,
                "wrong number of arguments for {command}: got {got}, usage: {usage}"
            ),
            CommandError::Spelling { param, raw, why } => {
                write!(f, "{param} {}: {why}", quote(raw))
            }
            CommandError::Flags(e) => write!(f, "{}", e.render().to_string().trim_end()),
        }
    }
}

impl std::error::Error for CommandError {}

impl Command {
    /// Parses a shell command from its tokens: the command name, then its arguments, already
    /// unquoted.
    ///
    /// An empty token list is not a command; callers skip blank lines before calling this.
    pub fn parse(tokens: Vec<Vec<u8>>) -> Result<Command, CommandError> {
        match parse(tokens, Spelling::Raw, FrontEnd::Shell)? {
            Request::Store(command) => Ok(command),
            // Not reached: `parse` finds only the commands the shell has.
            Request::Load(_) | Request::Shell => Err(CommandError::Unknown {
                name: Vec::new(),
                known: names(FrontEnd::Shell),
            }),
        }
    }
}

impl Request {
    /// Parses a command line's command: its name, then its arguments spelled as `spelling` says.
    pub fn parse(tokens: Vec<Vec<u8>>, spelling: Spelling) -> Result<Request, CommandError> {
        parse(tokens, spelling, FrontEnd::CommandLine)
    }
}

/// Finds the command `tokens` names in the grammar, checks its number of arguments, and builds
/// it. A command that `front` does not have is unknown.
fn parse(
    tokens: Vec<Vec<u8>>,
    spelling: Spelling,
    front: FrontEnd,
) -> Result<Request, CommandError> {
    let mut tokens = tokens.into_iter();
    let name = tokens.next().unwrap_or_default();
    let values: Vec<Vec<u8>> = tokens.collect();
    let unknown = |name| CommandError::Unknown {
        name,
        known: names(front),
    };
    let Some(syntax) = GRAMMAR
        .iter()
        .filter(|s| s.is_in(front))
        .find(|s| s.is_named(&name))
    else {
        return Err(unknown(name));
    };
    let (got, most) = (values.len(), syntax.params().count());
    let least = syntax.params().filter(|(_, optional)| !optional).count();
    if syntax.flags.is_none() && !(least..=most).contains(&got) {
        return Err(CommandError::Arity {
            command: syntax.name(),
            usage: syntax.usage.to_owned(),
            got,
        });
    }
    let mut args = Arguments {
        syntax,
        values: values.into_iter(),
        taken: 0,
        spelling,
    };
    let command = match syntax.name() {
        "put" => Command::Put {
            key: args.required()?,
            value: args.required()?,
        },
        "get" => Command::Get {
            key: args.required()?,
        },
        "delete" => Command::Delete {
            key: args.required()?,
        },
        "scan" => Command::Scan {
            start: args.optional()?,
            end: args.optional()?,
        },
        "flush" => Command::Flush,
        "compact" => Command::Compact,
        "stats" => Command::Stats,
        "inspect" => Command::Inspect,
        "load" => return Ok(Request::Load(args.flags::<LoadSpec>()?)),
        "shell" => return Ok(Request::Shell),
        // Not reached while every name in the grammar has its arm (a test checks that).
        _ => return Err(unknown(name)),
    };
    Ok(Request::Store(command))
}

/// The arguments of one command, handed out in order.
struct Arguments {
    /// The command they belong to.
    syntax: &'static Syntax,
    /// The arguments not taken yet.
    values: std::vec::IntoIter<Vec<u8>>,
    /// How many have been taken.
    taken: usize,
    /// How positional arguments are spelled.
    spelling: Spelling,
}

impl Arguments {
    /// The next positional argument, which the arity check has made sure exists.
    fn required(&mut self) -> Result<Vec<u8>, CommandError> {
        Ok(self.optional()?.unwrap_or_default())
    }

    /// The next positional argument, if there is one.
    fn optional(&mut self) -> Result<Option<Vec<u8>>, CommandError> {
        let Some(raw) = self.values.next() else {
            return Ok(None);
        };
        let param = self
            .syntax
            .params()
            .nth(self.taken)
            .map_or("ARGUMENT", |(name, _)| name);
        self.taken += 1;
        match self.spelling {
            Spelling::Raw => Ok(Some(raw)),
            Spelling::Quoted => match parse_one(&raw) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(why) => Err(CommandError::Spelling { param, raw, why }),
            },
        }
    }

    /// All the arguments as options, parsed by clap into `T`.
    fn flags<T: FromArgMatches + CommandFactory>(&mut self) -> Result<T, CommandError> {
        let args = std::iter::once(OsString::from(self.syntax.name()))
            .chain(self.values.by_ref().map(OsString::from_vec));
        T::command()
            .try_get_matches_from(args)
            .and_then(|matches| T::from_arg_matches(&matches))
            .map_err(|e| CommandError::Flags(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<Command, CommandError> {
        Command::parse(words.iter().map(|w| w.as_bytes().to_vec()).collect())
    }

    fn request(words: &[&str], spelling: Spelling) -> Result<Request, CommandError> {
        Request::parse(
            words.iter().map(|w| w.as_bytes().to_vec()).collect(),
            spelling,
        )
    }

    #[test]
    fn parses_every_command() {
        let key = || b"k".to_vec();
        let cases = [
            (
                &["put", "k", "v"][..],
                Command::Put {
                    key: key(),
                    value: b"v".to_vec(),
                },
            ),
            (&["get", "k"], Command::Get { key: key() }),
            (&["del", "k"], Command::Delete { key: key() }),
            (&["delete", "k"], Command::Delete { key: key() }),
            (
                &["scan"],
                Command::Scan {
                    start: None,
                    end: None,
                },
            ),
            (
                &["scan", "k"],
                Command::Scan {
                    start: Some(key()),
                    end: None,
                },
            ),
            (
                &["scan", "k", "v"],
                Command::Scan {
                    start: Some(key()),
                    end: Some(b"v".to_vec()),
                },
            ),
            (&["flush"], Command::Flush),
            (&["compact"], Command::Compact),
            (&["stats"], Command::Stats),
            (&["inspect"], Command::Inspect),
        ];
        for (words, want) in cases {
            assert_eq!(parse(words).unwrap(), want, "{words:?}");
            let line = request(words, Spelling::Raw).unwrap();
            assert_eq!(line, Request::Store(want), "{words:?}");
        }
    }

    #[test]
    fn every_command_in_the_grammar_parses() {
        for syntax in GRAMMAR {
            let mut words = vec![syntax.name().to_owned()];
            words.extend(syntax.params().map(|(name, _)| name.to_lowercase()));
            for arg in syntax
                .flags
                .map(|flags| flags())
                .iter()
                .flat_map(|c| c.get_arguments())
            {
                if let (true, Some(long)) = (arg.is_required_set(), arg.get_long()) {
                    words.extend([format!("--{long}"), "1".to_owned()]);
                }
            }
            let tokens = words.iter().map(|w| w.as_bytes().to_vec()).collect();
            let parsed = Request::parse(tokens, Spelling::Raw);
            assert!(parsed.is_ok(), "{words:?}: {parsed:?}");
            if let Ok(Request::Store(command)) = parsed {
                assert!(syntax.in_shell, "{command:?}");
            }
        }
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
        assert!(matches!(
            request(&["shell", "x"], Spelling::Raw),
            Err(CommandError::Arity { .. })
        ));
        assert_eq!(
            parse(&["put", "k"]).unwrap_err().to_string(),
            "wrong number of arguments for put: got 1, usage: put KEY VALUE"
        );
        assert_eq!(
            parse(&["del"]).unwrap_err().to_string(),
            "wrong number of arguments for delete: got 0, usage: delete KEY"
        );
        assert_eq!(
            parse(&["scan", "a", "b", "c"]).unwrap_err().to_string(),
            "wrong number of arguments for scan: got 3, usage: scan [START [END]]"
        );
    }

    #[test]
    fn unknown_commands_are_errors_with_a_printable_name() {
        let e = Command::parse(vec![b"PUT\n\xff".to_vec()]).unwrap_err();
        assert!(matches!(e, CommandError::Unknown { .. }));
        assert_eq!(
            e.to_string(),
            "unknown command \"PUT\\n\\xff\" \
             (commands: put get delete del scan flush compact stats inspect)"
        );
        assert!(Command::parse(Vec::new()).is_err());
    }

    #[test]
    fn load_and_shell_are_for_the_command_line_only() {
        for words in [&["load", "--count", "3"][..], &["shell"]] {
            let e = parse(words).unwrap_err();
            assert!(e.to_string().starts_with("unknown command"), "{e}");
        }
        assert_eq!(request(&["shell"], Spelling::Raw).unwrap(), Request::Shell);
        let Request::Load(spec) =
            request(&["load", "--count", "3", "--seed=7"], Spelling::Raw).unwrap()
        else {
            panic!("not a load");
        };
        assert_eq!((spec.count, spec.seed, spec.value_size), (3, 7, 100));
        let e = request(&["load"], Spelling::Raw).unwrap_err();
        assert!(matches!(e, CommandError::Flags(_)), "{e}");
        assert!(
            request(&["frob"], Spelling::Raw)
                .unwrap_err()
                .to_string()
                .ends_with("stats inspect load shell)")
        );
    }

    #[test]
    fn quoted_spelling_unquotes_each_data_argument() {
        let got = request(&["put", r#""a\x00b""#, r#""""#], Spelling::Quoted).unwrap();
        let want = Command::Put {
            key: b"a\0b".to_vec(),
            value: Vec::new(),
        };
        assert_eq!(got, Request::Store(want));
        let e = request(&["scan", "a", r#""b"#], Spelling::Quoted).unwrap_err();
        assert_eq!(
            e.to_string(),
            "END \"\\\"b\": unterminated quote (opened at byte 0)"
        );
        // The arity is checked first, and the command name is never unquoted.
        let e = request(&["put", r#""k"#], Spelling::Quoted).unwrap_err();
        assert!(matches!(e, CommandError::Arity { .. }));
        assert!(request(&[r#""get""#, "k"], Spelling::Quoted).is_err());
    }
}
