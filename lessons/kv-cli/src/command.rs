//! The one grammar of rkv's commands: what can be asked, how it is spelled, what it answers.
//!
//! Two front ends take commands — the command line (`<bin> --dir DIR put k v`) and the shell (a
//! line `put k v`) — and both parse them here, with the same table, [`GRAMMAR`]. The table is
//! also the only place the commands are described: `--help` and the shell's `help` print it
//! ([`help`]), and the "unknown command" and "wrong number of arguments" errors quote it. So the
//! two front ends cannot disagree about what `del` or `scan a` means, and the help cannot
//! describe a command that the parser does not know.
//!
//! What the front ends do differently happens before and after: the shell splits a line into
//! tokens with [`crate::quote::tokenize`]; the command line gets its tokens from the operating
//! system, raw or — with `--quoted` — in the shell's quoting syntax ([`Spelling`]). Two commands,
//! `load` and `shell`, exist on the command line only: the shell answers them as unknown.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStringExt;

use clap::{CommandFactory, FromArgMatches};

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

// ANCHOR: grammar
/// Every command: its usage (name, then arguments; `[...]` may be left out), what it does, and
/// what it answers. Both front ends parse with this table, and the help prints it.
pub const GRAMMAR: &[Syntax] = &[
    Syntax::shell("put KEY VALUE", "set KEY to VALUE", "OK"),
    Syntax::shell("get KEY", "read KEY", "VALUE or (nil)"),
    Syntax::shell("delete KEY", "remove KEY", "OK").alias("del"),
    Syntax::shell(
        "scan [START [END]]",
        "entries with START <= key < END",
        "K V lines, then END",
    ),
    Syntax::shell("flush", "make every acknowledged write durable", "OK"),
    Syntax::shell("compact", "rewrite the files compactly", "OK"),
    Syntax::shell("stats", "cost counters", "name=value ..."),
    Syntax::shell("inspect", "the store's files and memory", "lines, then END"),
    Syntax::command_line("load", "write N generated keys", "a one-line summary")
        .flags(LoadSpec::command),
    Syntax::command_line(
        "shell",
        "answer commands read from stdin",
        "a reply to each line",
    ),
];
// ANCHOR_END: grammar

/// One command of the [`GRAMMAR`].
pub struct Syntax {
    /// Its name and positional arguments, as a usage line: `scan [START [END]]`.
    pub usage: &'static str,
    /// A second name for it.
    pub alias: Option<&'static str>,
    /// What it does, in a few words.
    pub does: &'static str,
    /// What it answers.
    pub replies: &'static str,
    /// False for the commands only the command line has.
    pub in_shell: bool,
    /// For a command that takes `--name value` options instead of positional arguments: clap's
    /// description of them, which also parses them.
    pub flags: Option<fn() -> clap::Command>,
}

impl Syntax {
    /// A command the shell and the command line both have.
    const fn shell(usage: &'static str, does: &'static str, replies: &'static str) -> Syntax {
        Syntax {
            usage,
            alias: None,
            does,
            replies,
            in_shell: true,
            flags: None,
        }
    }

    /// A command only the command line has.
    const fn command_line(usage: &'static str, does: &'static str, replies: &'static str) -> Self {
        Syntax {
            in_shell: false,
            ..Syntax::shell(usage, does, replies)
        }
    }

    /// The same command, with a second name.
    const fn alias(self, alias: &'static str) -> Self {
        Syntax {
            alias: Some(alias),
            ..self
        }
    }

    /// The same command, taking the options `flags` describes.
    const fn flags(self, flags: fn() -> clap::Command) -> Self {
        Syntax {
            flags: Some(flags),
            ..self
        }
    }

    /// The command's name: the first word of its usage.
    pub fn name(&self) -> &'static str {
        self.usage.split(' ').next().unwrap_or_default()
    }

    /// Its positional arguments, each with whether it may be left out (`[START`).
    fn params(&self) -> impl Iterator<Item = (&'static str, bool)> {
        let words = self.usage.split(' ').skip(1);
        words.map(|word| (word.trim_matches(['[', ']']), word.starts_with('[')))
    }

    /// The usage line, with the options spelled out for a command that takes them:
    /// `load --count N [--value-size B] …`.
    pub fn full_usage(&self) -> String {
        let Some(flags) = self.flags else {
            return self.usage.to_owned();
        };
        let flags = flags();
        let mut usage = self.usage.to_owned();
        for arg in flags.get_arguments() {
            let (Some(long), Some(value)) = (arg.get_long(), flag_value(arg)) else {
                continue;
            };
            usage.push_str(&if arg.is_required_set() {
                format!(" --{long} {value}")
            } else {
                format!(" [--{long} {value}]")
            });
        }
        usage
    }

    /// True when `name` is this command's name or alias.
    fn is_named(&self, name: &[u8]) -> bool {
        self.name().as_bytes() == name || self.alias.is_some_and(|a| a.as_bytes() == name)
    }
}

/// How an option's value is written in a usage line: its possible values (`seq|random`), or its
/// value name (`N`).
fn flag_value(arg: &clap::Arg) -> Option<String> {
    let possible = arg.get_possible_values();
    if possible.is_empty() {
        Some(arg.get_value_names()?.first()?.to_string())
    } else {
        let names: Vec<&str> = possible.iter().map(|p| p.get_name()).collect();
        Some(names.join("|"))
    }
}

/// The grammar as help text: one line per command — usage, what it does, what it answers. The
/// shell's `help` lists the commands the shell has; `--help` lists them all.
pub fn help(in_shell_only: bool) -> String {
    const USAGE_WIDTH: usize = 21;
    const DOES_WIDTH: usize = 39;
    let mut text = String::new();
    for syntax in GRAMMAR.iter().filter(|s| s.in_shell || !in_shell_only) {
        let mut usage = syntax.full_usage();
        if let Some(alias) = syntax.alias {
            usage = format!("{usage} | {}", usage.replacen(syntax.name(), alias, 1));
        }
        if usage.len() >= USAGE_WIDTH {
            text.push_str(&format!("{usage}\n{:USAGE_WIDTH$}", ""));
        } else {
            text.push_str(&format!("{usage:USAGE_WIDTH$}"));
        }
        text.push_str(&format!(
            "{:DOES_WIDTH$}-> {}\n",
            syntax.does, syntax.replies
        ));
    }
    text
}

/// The names the shell (`in_shell_only`) or the command line accepts, aliases included.
pub fn names(in_shell_only: bool) -> Vec<&'static str> {
    GRAMMAR
        .iter()
        .filter(|s| s.in_shell || !in_shell_only)
        .flat_map(|s| std::iter::once(s.name()).chain(s.alias))
        .collect()
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
    /// The options of a command that takes [`flags`](Syntax::flags) are wrong, or ask for its help (clap's
    /// error, which knows how to print itself).
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
        match parse(tokens, Spelling::Raw, true)? {
            Request::Store(command) => Ok(command),
            // Not reached: `parse` finds only the commands the shell has.
            Request::Load(_) | Request::Shell => Err(CommandError::Unknown {
                name: Vec::new(),
                known: names(true),
            }),
        }
    }
}

impl Request {
    /// Parses a command line's command: its name, then its arguments spelled as `spelling` says.
    pub fn parse(tokens: Vec<Vec<u8>>, spelling: Spelling) -> Result<Request, CommandError> {
        parse(tokens, spelling, false)
    }
}

/// Finds the command `tokens` names in the grammar, checks its number of arguments, and builds
/// it. With `in_shell_only`, the commands only the command line has are unknown.
fn parse(
    tokens: Vec<Vec<u8>>,
    spelling: Spelling,
    in_shell_only: bool,
) -> Result<Request, CommandError> {
    let mut tokens = tokens.into_iter();
    let name = tokens.next().unwrap_or_default();
    let values: Vec<Vec<u8>> = tokens.collect();
    let unknown = |name| CommandError::Unknown {
        name,
        known: names(in_shell_only),
    };
    let Some(syntax) = GRAMMAR
        .iter()
        .filter(|s| s.in_shell || !in_shell_only)
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

    #[test]
    fn help_lists_every_command_with_its_usage_and_reply() {
        let shell = help(true);
        assert_eq!(shell.lines().count(), 8, "{shell}");
        assert!(
            shell
                .starts_with("put KEY VALUE        set KEY to VALUE                       -> OK\n")
        );
        assert!(
            shell.contains("\ndelete KEY | del KEY remove KEY "),
            "{shell}"
        );
        assert!(shell.contains("\nscan [START [END]]   entries with START <= key < END "));
        assert!(!shell.contains("load"));
        let all = help(false);
        assert!(
            all.contains(
                "\nload --count N [--value-size B] [--seed S] [--order seq|random] \
             [--values random|text]\n"
            ),
            "{all}"
        );
        assert!(all.contains("\nshell                answer commands read from stdin "));
        for syntax in GRAMMAR {
            assert!(
                syntax.does.len() < 39,
                "{} does not fit its column",
                syntax.does
            );
        }
    }
}
