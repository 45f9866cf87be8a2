//! The command line: clap's description of its options, and [`run`], which every lesson's
//! `main` calls.
//!
//! This is the only module that touches the process: its arguments, its standard streams and
//! its exit code. Everything it does is decided in [`dispatch`], which takes the parsed
//! arguments and the streams as parameters so the tests can drive it in memory.
//!
//! clap parses the options that come before the command (`--dir`, `--sync`, …) and hands
//! everything from the command on, untouched, to the grammar in [`crate::command`] — the same
//! parser the shell uses, so a command means the same thing typed on either. `--help` is clap's
//! text for the options, followed by the grammar's list of commands.
//!
//! Order of work: parse the arguments (a malformed command is a usage error, status 2), resolve
//! the command, and only then open the store — a malformed argument never touches the directory.

use std::ffi::OsString;
use std::io::{self, BufRead, IsTerminal, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rkv_contract::{KvStore, StoreOptions, SyncMode};

use crate::command::{Command, CommandError, Request, Spelling};
use crate::grammar::{FrontEnd, help};
use crate::load;
use crate::reply::{Failure, error_line, execute};
use crate::shell;

/// What `--help` says after the list of commands.
const AFTER_HELP: &str = "\
Arguments: KEY, VALUE, START and END are taken as the raw bytes of the argument, exactly as
the operating system passes them; nothing is unquoted. With --quoted, each of them is read
in the shell's quoting syntax instead: a bare token, or a token in double quotes that may
hold spaces and the escapes \\\\ \\\" \\n \\t \\r \\0 \\xHH (\"\" is the empty string).
Options go before the command: after it, every argument is a KEY, VALUE, START or END, even
one that starts with '-' (put k -1).

Output: a key or value is printed bare when it is printable ASCII without spaces, \" or \\;
otherwise (and when it is empty, (nil) or ERR) it is printed in double quotes with the
escapes above. put, delete, flush and compact print OK once the store has done them.
inspect prints the report without the shell's closing END.

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
#[command(about = "An rkv store on the command line.")]
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
    /// The command and its arguments (see Commands below).
    #[arg(
        value_name = "COMMAND",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<OsString>,
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

/// Parses the options with clap, with the binary's name in the usage text; the command is left
/// for [`request`].
fn parse(name: &str, args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
    let matches = clap_command(name).try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
}

/// clap's description of the command line: the options, and after them the grammar's commands.
fn clap_command(name: &str) -> clap::Command {
    Cli::command()
        .name(name.to_owned())
        .bin_name(name.to_owned())
        .after_help(format!(
            "Commands:\n{}\n{AFTER_HELP}",
            help(FrontEnd::CommandLine)
        ))
}

/// Why a parsed command line is not run.
enum Refusal {
    /// The command is malformed: clap's message (or help) and its exit status.
    Usage(clap::Error),
    /// An argument is well-formed but unusable: a one-line error and status 1.
    Invalid(anyhow::Error),
}

/// Resolves the command of `cli` with the grammar, before the store is opened.
fn request(name: &str, cli: &Cli) -> Result<Request, Refusal> {
    let tokens = cli
        .command
        .iter()
        .map(|os| os.as_bytes().to_vec())
        .collect();
    let spelling = if cli.quoted {
        Spelling::Quoted
    } else {
        Spelling::Raw
    };
    let request = Request::parse(tokens, spelling).map_err(|e| match e {
        CommandError::Flags(e) => Refusal::Usage(*e),
        CommandError::Spelling { .. } => Refusal::Invalid(e.into()),
        CommandError::Unknown { .. } => {
            Refusal::Usage(clap_command(name).error(ErrorKind::InvalidSubcommand, e))
        }
        CommandError::Arity { .. } => {
            Refusal::Usage(clap_command(name).error(ErrorKind::WrongNumberOfValues, e))
        }
    })?;
    if let Request::Load(spec) = &request {
        load::validate(spec).map_err(Refusal::Invalid)?;
    }
    Ok(request)
}

/// Runs a parsed command line and returns the exit status.
fn dispatch<S: KvStore>(name: &str, cli: &Cli, io: &mut Streams<'_>) -> u8 {
    let outcome = match request(name, cli) {
        Ok(request) => dispatch_inner::<S>(name, cli, request, io),
        Err(Refusal::Usage(e)) => {
            // Help goes to stdout with status 0, usage errors to stderr with status 2.
            let to = if e.use_stderr() {
                &mut *io.stderr
            } else {
                &mut *io.stdout
            };
            let _ = write!(to, "{}", e.render());
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
        Err(Refusal::Invalid(e)) => Err(e),
    };
    match outcome {
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

/// The work of [`dispatch`] once the request is known, with errors as values.
fn dispatch_inner<S: KvStore>(
    name: &str,
    cli: &Cli,
    request: Request,
    io: &mut Streams<'_>,
) -> anyhow::Result<()> {
    let mut options = S::Options::default();
    options.set_sync(cli.sync.into());
    for (setting, value) in &cli.settings {
        options
            .set(setting, value)
            .with_context(|| format!("--set {setting}={value}"))?;
    }
    let mut store = S::open(&cli.dir, options).context("cannot open the store")?;
    let outcome = match request {
        Request::Store(command) => once(&mut store, &command, &mut *io.stdout),
        Request::Load(spec) => {
            let progress = progress_bar(spec.count, io.show_progress);
            load::load(&mut store, &spec, &progress)
                .and_then(|report| Ok(writeln!(io.stdout, "{report}")?))
        }
        Request::Shell if io.stdin_is_terminal => {
            let banner = format!(
                "{name} shell on {}. Type help for the commands, Ctrl-D to leave.",
                cli.dir.display()
            );
            shell::interactive(&mut store, &banner)
        }
        Request::Shell => {
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
    use crate::grammar::help as help_text;
    use crate::testing::{ClosedPipe, Faults, MemStore};
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
        let faults = Faults {
            fail_on: Some(b"bad".to_vec()),
            no_compact: true,
        };
        MemStore::break_dir(Path::new("/mem/fail"), faults);
        let e = fails(&["--dir", "/mem/fail", "put", "bad", "v"]);
        assert!(
            e.starts_with("error: invalid argument: the key is cursed"),
            "{e}"
        );
        let e = fails(&["--dir", "/mem/fail", "--set", "colour=blue", "get", "k"]);
        assert!(
            e.starts_with("error: --set colour=blue: invalid argument"),
            "{e}"
        );
        let e = fails(&["--dir", "/mem/fail", "compact"]);
        assert_eq!(e, "error: compact is not supported by this stage\n");
    }

    #[test]
    fn a_failing_scan_prints_entries_then_fails_without_end() {
        let d = "/mem/scanfail";
        ok(&["--dir", d, "put", "a", "1"]);
        ok(&["--dir", d, "put", "c", "3"]);
        let fail_on = Some(b"b".to_vec());
        MemStore::break_dir(
            Path::new(d),
            Faults {
                fail_on,
                ..Faults::default()
            },
        );
        let o = invoke(&["--dir", d, "scan"]);
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
        assert_eq!(invoke(&["--dir", "/mem/u"]).status, 2);
        assert_eq!(invoke(&["--dir", "/mem/u", "shell", "x"]).status, 2);
        let help = invoke(&["--help"]);
        assert_eq!(help.status, 0);
        assert!(help.stderr.contains("raw bytes"), "{}", help.stderr);
        assert!(
            help.stderr.contains(&help_text(FrontEnd::CommandLine)),
            "{}",
            help.stderr
        );
    }

    #[test]
    fn the_grammar_s_usage_errors_are_clap_s_too() {
        let o = invoke(&["--dir", "/mem/u", "put", "k"]);
        assert_eq!((o.status, o.stdout.as_str()), (2, ""));
        assert!(
            o.stderr.starts_with(
                "error: wrong number of arguments for put: got 1, usage: put KEY VALUE\n\n\
                 Usage: rkv-test [OPTIONS] --dir <DIR> <COMMAND>...\n"
            ),
            "{}",
            o.stderr
        );
        let o = invoke(&["--dir", "/mem/u", "frob"]);
        assert!(
            o.stderr
                .starts_with("error: unknown command frob (commands: put ")
        );
        assert!(o.stderr.contains(" load shell)\n"), "{}", o.stderr);
        let o = invoke(&["--dir", "/mem/u", "load", "--count", "1", "--speed", "9"]);
        assert_eq!((o.status, o.stdout.as_str()), (2, ""));
        assert!(o.stderr.contains("--speed"), "{}", o.stderr);
        let o = invoke(&["--dir", "/mem/u", "load", "--help"]);
        assert_eq!((o.status, o.stderr.as_str()), (0, ""));
        assert!(o.stdout.contains("--value-size <B>"), "{}", o.stdout);
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
                    stdout: &mut ClosedPipe,
                    stderr: &mut err,
                    show_progress: false,
                },
            );
            assert_eq!((status, err.as_slice()), (0, &b""[..]));
        }
    }
}
