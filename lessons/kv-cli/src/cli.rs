//! The command line: clap's description of it, and [`run`], which every lesson's `main` calls.
//!
//! This is the only module that touches the process: its arguments, its standard streams and
//! its exit code. Everything it does is decided in [`dispatch`], which takes the parsed
//! arguments and the streams as parameters so the tests can drive it in memory.
//!
//! Order of work: parse the arguments (clap exits with status 2 on a usage error), turn them into
//! a command, and only then open the store — a malformed argument never touches the directory.

use std::ffi::OsString;
use std::io::{self, BufRead, IsTerminal, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rkv_contract::{KvStore, StoreOptions, SyncMode};

use crate::command::Command;
use crate::load::{self, LoadSpec, Order, Values};
use crate::quote::parse_one;
use crate::reply::{Failure, error_line, execute};
use crate::shell;

/// What `--help` says after the list of options.
const AFTER_HELP: &str = "\
Arguments: KEY, VALUE, START and END are taken as the raw bytes of the argument, exactly as
the operating system passes them; nothing is unquoted. With --quoted, each of them is read
in the shell's quoting syntax instead: a bare token, or a token in double quotes that may
hold spaces and the escapes \\\\ \\\" \\n \\t \\r \\0 \\xHH (\"\" is the empty string).
Options go before the command: after it, every argument is a KEY, VALUE, START or END, even
one that starts with '-' (put k -1).

Output: get prints the value, or (nil) when the key has none; scan prints one KEY VALUE line
per entry, then END. A key or value is printed bare when it is printable ASCII without
spaces, \" or \\; otherwise (and when it is empty, (nil) or ERR) it is printed in double
quotes with the escapes above. put, delete, flush and compact print OK once the store has
done them.

Errors: one line on stderr, exit status 1. Usage errors: exit status 2.

shell: one command per line, answered in the same format; a failing command answers ERR
<why> and the shell goes on. When stdin is not a terminal there is no prompt, and each reply
is flushed at once.";

/// Durability of each write, as the command line spells it.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum SyncArg {
    /// fsync every write before acknowledging it.
    Always,
    /// Hand every write to the operating system before acknowledging it.
    Never,
}

impl From<SyncArg> for SyncMode {
    fn from(s: SyncArg) -> Self {
        match s {
            SyncArg::Always => SyncMode::Always,
            SyncArg::Never => SyncMode::Never,
        }
    }
}

/// The parsed command line.
#[derive(Debug, Parser)]
#[command(about = "An rkv store on the command line.", after_help = AFTER_HELP)]
struct Cli {
    /// The store's data directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// When a write counts as done.
    #[arg(long, value_enum, default_value = "never")]
    sync: SyncArg,
    /// Set a stage-specific option (repeatable), e.g. --set memtable_bytes=65536.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_setting)]
    settings: Vec<(String, String)>,
    /// Print the store's cost counters on stderr when the command is done.
    #[arg(long)]
    stats: bool,
    /// Read KEY, VALUE, START and END in the shell's quoting syntax instead of as raw bytes.
    #[arg(long)]
    quoted: bool,
    /// What to do.
    #[command(subcommand)]
    action: Action,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Action {
    /// Set KEY to VALUE; prints OK.
    Put {
        /// The key.
        #[arg(allow_hyphen_values = true)]
        key: OsString,
        /// The value.
        #[arg(allow_hyphen_values = true)]
        value: OsString,
    },
    /// Print the value of KEY, or (nil).
    Get {
        /// The key.
        #[arg(allow_hyphen_values = true)]
        key: OsString,
    },
    /// Remove KEY; prints OK.
    #[command(alias = "del")]
    Delete {
        /// The key.
        #[arg(allow_hyphen_values = true)]
        key: OsString,
    },
    /// Print the entries with START <= key < END, one "KEY VALUE" per line, then END.
    Scan {
        /// Inclusive lower bound (none: from the first key).
        #[arg(allow_hyphen_values = true)]
        start: Option<OsString>,
        /// Exclusive upper bound (none: to the last key).
        #[arg(allow_hyphen_values = true)]
        end: Option<OsString>,
    },
    /// Make every acknowledged write durable; prints OK.
    Flush,
    /// Rewrite the store's files compactly; prints OK.
    Compact,
    /// Print the cost counters as name=value pairs on one line.
    Stats,
    /// Print the store's report of its files and memory.
    Inspect,
    /// Write N generated keys and print a one-line summary with the throughput.
    Load(LoadArgs),
    /// Read commands from stdin, one per line, and answer each.
    Shell,
}

/// Arguments of `load`.
#[derive(Debug, clap::Args)]
struct LoadArgs {
    /// How many keys to write.
    #[arg(long)]
    count: u64,
    /// Bytes per value.
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    /// Seed of the generated values and of the random order.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The order in which keys are written.
    #[arg(long, value_enum, default_value_t = Order::Seq)]
    order: Order,
    /// What the values look like: random printable bytes, or repetitive text.
    #[arg(long, value_enum, default_value_t = Values::Random)]
    values: Values,
}

/// Parses `NAME=VALUE` for `--set`.
fn parse_setting(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got {s:?}")),
    }
}

/// The process's streams, passed in so tests can replace them.
pub(crate) struct Streams<'a> {
    /// Commands for `shell`.
    pub stdin: &'a mut dyn BufRead,
    /// True when stdin is a person at a terminal (the shell is then interactive).
    pub stdin_is_terminal: bool,
    /// Replies.
    pub stdout: &'a mut dyn Write,
    /// Errors, `--stats`, and the progress bar.
    pub stderr: &'a mut dyn Write,
    /// Whether to draw `load`'s progress bar.
    pub show_progress: bool,
}

/// Runs the command line of a lesson's binary: parses `std::env::args_os()`, opens a store of
/// type `S` in `--dir`, runs the command and returns the exit status (0 success, 1 error, 2 usage
/// error). `name` is the binary's name, shown in `--help`.
pub fn run<S: KvStore>(name: &str) -> ExitCode {
    run_from::<S>(name, std::env::args_os())
}

/// [`run`] with explicit arguments (the first is the program name, as in `args_os`).
pub fn run_from<S: KvStore>(name: &str, args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match parse(name, args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0, usage errors to stderr with status 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut err = io::stderr();
    let status = dispatch::<S>(
        name,
        &cli,
        &mut Streams {
            stdin: &mut stdin.lock(),
            stdin_is_terminal: stdin.is_terminal(),
            stdout: &mut out,
            stderr: &mut err,
            show_progress: io::stderr().is_terminal(),
        },
    );
    ExitCode::from(status)
}

/// Parses the arguments with the binary's name in the usage text.
fn parse(name: &str, args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
    let name = name.to_owned();
    let matches = Cli::command()
        .name(name.clone())
        .bin_name(name)
        .try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
}

/// What the arguments ask for, resolved before the store is opened.
enum Plan {
    /// One command, one reply.
    Once(Command),
    /// Generate and write keys.
    Load(LoadSpec),
    /// Answer commands from stdin.
    Shell,
}

/// Runs a parsed command line and returns the exit status.
fn dispatch<S: KvStore>(name: &str, cli: &Cli, io: &mut Streams<'_>) -> u8 {
    match dispatch_inner::<S>(name, cli, io) {
        Ok(()) => 0,
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            let _ = writeln!(io.stderr, "error: {}", error_line(e.as_ref()));
            1
        }
    }
}

/// True when `e` says the reader of our output went away (`| head -1`): not worth a message.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The work of [`dispatch`], with errors as values.
fn dispatch_inner<S: KvStore>(name: &str, cli: &Cli, io: &mut Streams<'_>) -> anyhow::Result<()> {
    let plan = plan(cli)?;
    let mut options = S::Options::default();
    options.set_sync(cli.sync.into());
    for (setting, value) in &cli.settings {
        options
            .set(setting, value)
            .with_context(|| format!("--set {setting}={value}"))?;
    }
    let mut store = S::open(&cli.dir, options).context("cannot open the store")?;
    let outcome = match plan {
        Plan::Once(command) => once(&mut store, &command, &mut *io.stdout),
        Plan::Load(spec) => {
            let progress = progress_bar(spec.count, io.show_progress);
            load::load(&mut store, &spec, &progress)
                .and_then(|report| Ok(writeln!(io.stdout, "{report}")?))
        }
        Plan::Shell if io.stdin_is_terminal => {
            let banner = format!(
                "{name} shell on {}. Type help for the commands, Ctrl-D to leave.",
                cli.dir.display()
            );
            shell::interactive(&mut store, &banner)
        }
        Plan::Shell => {
            shell::serve(&mut store, &mut *io.stdin, &mut *io.stdout).map_err(Into::into)
        }
    };
    let flushed = io.stdout.flush();
    if cli.stats {
        let _ = writeln!(io.stderr, "{}", store.stats());
    }
    // Close the store before reporting success: its drop may still write.
    drop(store);
    outcome?;
    flushed?;
    Ok(())
}

/// Runs one command and prints its reply.
fn once<S: KvStore>(
    store: &mut S,
    command: &Command,
    stdout: &mut dyn Write,
) -> anyhow::Result<()> {
    if let Command::Inspect = command {
        // One-shot inspect prints the report as is (ending in a newline), without the shell's END.
        let report = store.inspect()?;
        stdout.write_all(report.as_bytes())?;
        if !report.is_empty() && !report.ends_with('\n') {
            stdout.write_all(b"\n")?;
        }
        return Ok(());
    }
    match execute(store, command, &mut *stdout) {
        Ok(()) => Ok(()),
        Err(Failure::Store(e)) => Err(e.into()),
        Err(Failure::Output(e)) => Err(e.into()),
    }
}

/// Resolves the subcommand and its arguments into a [`Plan`].
fn plan(cli: &Cli) -> anyhow::Result<Plan> {
    let arg = |os: &OsString, what: &str| -> anyhow::Result<Vec<u8>> {
        let raw = os.as_bytes();
        if cli.quoted {
            parse_one(raw).map_err(|why| anyhow!("{what} {}: {why}", crate::quote::quote(raw)))
        } else {
            Ok(raw.to_vec())
        }
    };
    let opt = |os: &Option<OsString>, what: &str| os.as_ref().map(|os| arg(os, what)).transpose();
    Ok(match &cli.action {
        Action::Put { key, value } => Plan::Once(Command::Put {
            key: arg(key, "KEY")?,
            value: arg(value, "VALUE")?,
        }),
        Action::Get { key } => Plan::Once(Command::Get {
            key: arg(key, "KEY")?,
        }),
        Action::Delete { key } => Plan::Once(Command::Delete {
            key: arg(key, "KEY")?,
        }),
        Action::Scan { start, end } => Plan::Once(Command::Scan {
            start: opt(start, "START")?,
            end: opt(end, "END")?,
        }),
        Action::Flush => Plan::Once(Command::Flush),
        Action::Compact => Plan::Once(Command::Compact),
        Action::Stats => Plan::Once(Command::Stats),
        Action::Inspect => Plan::Once(Command::Inspect),
        Action::Load(args) => {
            let spec = LoadSpec {
                count: args.count,
                value_size: args.value_size,
                seed: args.seed,
                order: args.order,
                values: args.values,
            };
            load::validate(&spec)?;
            Plan::Load(spec)
        }
        Action::Shell => Plan::Shell,
    })
}

/// `load`'s progress bar on stderr, or a hidden one.
fn progress_bar(count: u64, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(count), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {human_pos}/{human_len} keys, {per_sec}, {eta} left")
    {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemStore;
    use std::ffi::OsStr;
    use std::path::Path;

    /// What one invocation did.
    #[derive(Debug)]
    struct Outcome {
        status: u8,
        stdout: String,
        stderr: String,
    }

    /// Runs the CLI on `args` (after the program name) with `stdin`, in memory.
    fn invoke_os(args: Vec<OsString>, stdin: &[u8]) -> Outcome {
        let all = std::iter::once(OsString::from("rkv-test")).chain(args);
        let cli = match parse("rkv-test", all) {
            Ok(cli) => cli,
            Err(e) => {
                return Outcome {
                    status: e.exit_code() as u8,
                    stdout: String::new(),
                    stderr: e.to_string(),
                };
            }
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = dispatch::<MemStore>(
            "rkv-test",
            &cli,
            &mut Streams {
                stdin: &mut &stdin[..],
                stdin_is_terminal: false,
                stdout: &mut out,
                stderr: &mut err,
                show_progress: false,
            },
        );
        Outcome {
            status,
            stdout: String::from_utf8(out).unwrap(),
            stderr: String::from_utf8(err).unwrap(),
        }
    }

    fn invoke(args: &[&str]) -> Outcome {
        invoke_os(args.iter().map(OsString::from).collect(), b"")
    }

    /// Asserts success and returns stdout.
    fn ok(args: &[&str]) -> String {
        let o = invoke(args);
        assert_eq!((o.status, o.stderr.as_str()), (0, ""), "{args:?}: {o:?}");
        o.stdout
    }

    /// Asserts status 1 with one `error:` line and nothing on stdout; returns that line.
    fn fails(args: &[&str]) -> String {
        let o = invoke(args);
        assert_eq!(o.status, 1, "{args:?}: {o:?}");
        assert!(o.stderr.starts_with("error: "), "{o:?}");
        assert_eq!(o.stderr.lines().count(), 1, "{o:?}");
        o.stderr
    }

    #[test]
    fn one_shot_commands_persist_across_invocations() {
        let d = "/mem/oneshot";
        assert_eq!(ok(&["--dir", d, "put", "a", "1"]), "OK\n");
        assert_eq!(
            ok(&["--dir", d, "--sync", "always", "put", "b", "2"]),
            "OK\n"
        );
        assert_eq!(ok(&["--dir", d, "get", "a"]), "1\n");
        assert_eq!(ok(&["--dir", d, "get", "nope"]), "(nil)\n");
        assert_eq!(ok(&["--dir", d, "scan"]), "a 1\nb 2\nEND\n");
        assert_eq!(ok(&["--dir", d, "scan", "b"]), "b 2\nEND\n");
        assert_eq!(ok(&["--dir", d, "scan", "a", "b"]), "a 1\nEND\n");
        assert_eq!(ok(&["--dir", d, "del", "a"]), "OK\n");
        assert_eq!(ok(&["--dir", d, "delete", "b"]), "OK\n");
        assert_eq!(ok(&["--dir", d, "scan"]), "END\n");
        assert_eq!(ok(&["--dir", d, "flush"]), "OK\n");
        assert_eq!(ok(&["--dir", d, "compact"]), "OK\n");
        assert!(ok(&["--dir", d, "stats"]).starts_with("puts=0 gets=0 deletes=0 scans=0"));
    }

    #[test]
    fn inspect_prints_the_report_as_is_and_sync_reaches_the_options() {
        let out = ok(&["--dir", "/mem/inspect", "--sync", "always", "inspect"]);
        assert_eq!(out, "memory store\nsync=always\nkeys=0\n");
        let out = ok(&["--dir", "/mem/inspect", "inspect"]);
        assert_eq!(out, "memory store\nsync=never\nkeys=0\n");
    }

    #[test]
    fn stats_flag_prints_the_counters_on_stderr() {
        let o = invoke(&["--dir", "/mem/statsflag", "--stats", "get", "k"]);
        assert_eq!((o.status, o.stdout.as_str()), (0, "(nil)\n"));
        assert!(o.stderr.starts_with("puts=0 gets=1 "), "{o:?}");
        assert_eq!(o.stderr.lines().count(), 1);
    }

    #[test]
    fn arguments_are_raw_bytes_unless_quoted() {
        let d = "/mem/raw";
        assert_eq!(ok(&["--dir", d, "put", "a b", "\"x\""]), "OK\n");
        assert_eq!(ok(&["--dir", d, "get", "a b"]), "\"\\\"x\\\"\"\n");
        assert_eq!(ok(&["--dir", d, "put", "k", "-1"]), "OK\n");
        assert_eq!(ok(&["--dir", d, "get", "k"]), "-1\n");
        assert_eq!(ok(&["--dir", d, "put", "e", ""]), "OK\n");
        assert_eq!(ok(&["--dir", d, "get", "e"]), "\"\"\n");
        let bin = OsStr::from_bytes(b"\xff\x00").to_owned();
        let args = vec![
            "--dir".into(),
            d.into(),
            "put".into(),
            bin.clone(),
            "v".into(),
        ];
        assert_eq!(invoke_os(args, b"").stdout, "OK\n");
        assert_eq!(
            MemStore::contents(Path::new(d)).get(b"\xff\x00"),
            Some(&b"v"[..])
        );
        let d = "/mem/quoted";
        assert_eq!(
            ok(&["--dir", d, "--quoted", "put", r#""a\x00b""#, r#""""#]),
            "OK\n"
        );
        assert_eq!(
            ok(&["--dir", d, "--quoted", "get", r#""a\x00b""#]),
            "\"\"\n"
        );
        assert_eq!(ok(&["--dir", d, "get", "a"]), "(nil)\n");
        assert_eq!(
            ok(&["--dir", d, "--quoted", "scan", r#""""#, "b"]),
            "\"a\\0b\" \"\"\nEND\n"
        );
    }

    #[test]
    fn bad_quoted_arguments_fail_before_the_store_is_opened() {
        let e = fails(&["--dir", "/mem/locked", "--quoted", "get", r#""a"#]);
        assert!(e.contains("KEY \"\\\"a\": unterminated quote"), "{e}");
        let e = fails(&["--dir", "/mem/q2", "--quoted", "put", "a b", "v"]);
        assert!(e.contains("expected one token, found 2"), "{e}");
    }

    #[test]
    fn store_errors_are_one_line_and_status_1() {
        let e = fails(&["--dir", "/mem/locked", "get", "k"]);
        assert_eq!(
            e,
            "error: cannot open the store: /mem/locked is locked: another process has this store open\n"
        );
        let e = fails(&["--dir", "/mem/locked", "shell"]);
        assert!(e.contains("is locked"));
        let e = fails(&[
            "--dir",
            "/mem/fail",
            "--set",
            "fail_on=bad",
            "put",
            "bad",
            "v",
        ]);
        assert!(
            e.starts_with("error: invalid argument: the key is cursed"),
            "{e}"
        );
        let e = fails(&["--dir", "/mem/fail", "--set", "colour=blue", "get", "k"]);
        assert!(
            e.starts_with("error: --set colour=blue: invalid argument"),
            "{e}"
        );
        let e = fails(&["--dir", "/mem/fail", "--set", "no_compact=true", "compact"]);
        assert_eq!(e, "error: compact is not supported by this stage\n");
    }

    #[test]
    fn a_failing_scan_prints_entries_then_fails_without_end() {
        let d = "/mem/scanfail";
        ok(&["--dir", d, "put", "a", "1"]);
        ok(&["--dir", d, "put", "c", "3"]);
        let o = invoke(&["--dir", d, "--set", "fail_on=b", "scan"]);
        assert_eq!((o.status, o.stdout.as_str()), (1, "a 1\n"), "{o:?}");
        assert!(
            o.stderr
                .starts_with("error: corruption in table-1 at offset 42")
        );
    }

    #[test]
    fn usage_errors_are_claps_with_status_2() {
        assert_eq!(invoke(&["get", "k"]).status, 2);
        assert_eq!(invoke(&["--dir", "/mem/u", "put", "k"]).status, 2);
        assert_eq!(invoke(&["--dir", "/mem/u", "frob"]).status, 2);
        assert_eq!(
            invoke(&["--dir", "/mem/u", "--set", "novalue", "get", "k"]).status,
            2
        );
        assert_eq!(
            invoke(&["--dir", "/mem/u", "--sync", "sometimes", "get", "k"]).status,
            2
        );
        assert_eq!(invoke(&["--dir", "/mem/u", "load"]).status, 2);
        let help = invoke(&["--help"]);
        assert_eq!(help.status, 0);
        assert!(help.stderr.contains("raw bytes"), "{}", help.stderr);
    }

    #[test]
    fn shell_reads_stdin_and_reports_stats_at_the_end() {
        let args = ["--dir", "/mem/shell", "--stats", "shell"];
        let o = invoke_os(
            args.iter().map(OsString::from).collect(),
            b"put k v\nget k\nbogus\n",
        );
        assert_eq!(o.status, 0);
        let lines: Vec<&str> = o.stdout.lines().collect();
        assert_eq!(lines[..2], ["OK", "v"]);
        assert!(lines[2].starts_with("ERR unknown command bogus"));
        assert!(o.stderr.starts_with("puts=1 gets=1 "), "{o:?}");
        assert_eq!(ok(&["--dir", "/mem/shell", "get", "k"]), "v\n");
    }

    #[test]
    fn load_writes_generated_keys_and_prints_a_summary() {
        let d = "/mem/load";
        let out = ok(&[
            "--dir",
            d,
            "load",
            "--count",
            "300",
            "--order",
            "random",
            "--value-size",
            "8",
        ]);
        assert!(
            out.starts_with("count=300 value_size=8 values=random order=random seed=42 seconds="),
            "{out}"
        );
        assert_eq!(out.lines().count(), 1);
        let model = MemStore::contents(Path::new(d));
        assert_eq!(model.len(), 300);
        assert_eq!(
            model.get(b"key0000000000299"),
            Some(&load::value(42, 299, 8)[..])
        );
        let e = fails(&[
            "--dir",
            d,
            "load",
            "--count",
            "1",
            "--value-size",
            "99999999999",
        ]);
        assert!(e.contains("--value-size 99999999999 is above"), "{e}");
    }

    #[test]
    fn a_closed_stdout_is_a_quiet_success() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
        }
        let d = "/mem/pipe";
        ok(&["--dir", d, "put", "a", "1"]);
        for args in [&["--dir", d, "scan"][..], &["--dir", d, "shell"]] {
            let cli = parse(
                "rkv-test",
                ["rkv-test"].iter().chain(args).map(OsString::from),
            )
            .unwrap();
            let mut err = Vec::new();
            let status = dispatch::<MemStore>(
                "rkv-test",
                &cli,
                &mut Streams {
                    stdin: &mut &b"scan\nscan\n"[..],
                    stdin_is_terminal: false,
                    stdout: &mut Closed,
                    stderr: &mut err,
                    show_progress: false,
                },
            );
            assert_eq!((status, err.as_slice()), (0, &b""[..]));
        }
    }
}
