//! The one grammar of rkv's commands: what can be asked, how it is spelled, what it answers.
//!
//! [`GRAMMAR`] is a table with one entry per command. Both front ends — the command line and the
//! shell — parse with it ([`crate::command`]), and it is the only place the commands are
//! described: `--help` and the shell's `help` print it ([`help`]), and the "unknown command"
//! and "wrong number of arguments" errors quote it. The help therefore cannot describe a command
//! the parser does not know, nor a number of arguments it would refuse.
//!
//! An entry's usage line is its syntax: the name, then the positional arguments, those in
//! `[...]` optional. `load` takes `--name value` options instead; clap describes and parses
//! those (the entry's `flags`), and the usage line is made from clap's description.

use clap::CommandFactory;

use crate::load::LoadSpec;

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

/// Where a command is typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrontEnd {
    /// A line of the shell.
    Shell,
    /// The arguments of a lesson's binary.
    CommandLine,
}

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
    pub(crate) fn params(&self) -> impl Iterator<Item = (&'static str, bool)> {
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

    /// True when `front` has this command.
    pub fn is_in(&self, front: FrontEnd) -> bool {
        self.in_shell || front == FrontEnd::CommandLine
    }

    /// True when `name` is this command's name or alias.
    pub(crate) fn is_named(&self, name: &[u8]) -> bool {
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

/// The grammar as help text: one line per command `front` has — usage, what it does, what it
/// answers.
pub fn help(front: FrontEnd) -> String {
    const USAGE_WIDTH: usize = 21;
    const DOES_WIDTH: usize = 39;
    let mut text = String::new();
    for syntax in GRAMMAR.iter().filter(|s| s.is_in(front)) {
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

/// The names `front` accepts, aliases included.
pub fn names(front: FrontEnd) -> Vec<&'static str> {
    GRAMMAR
        .iter()
        .filter(|s| s.is_in(front))
        .flat_map(|s| std::iter::once(s.name()).chain(s.alias))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_command_with_its_usage_and_reply() {
        let shell = help(FrontEnd::Shell);
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
        let all = help(FrontEnd::CommandLine);
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
