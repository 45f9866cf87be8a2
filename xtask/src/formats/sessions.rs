//! The command-line sessions the chapters show, run for real, their output written into the
//! book.
//!
//! A chapter that shows a `stats` line or a `load` report typed in by hand is wrong the first
//! time a counter is added or a report gains a field. So each session here runs the lesson's
//! own binary (`cargo run -q -p <lesson> -- ...`, exactly the command the page shows), in a
//! scratch directory, and the page shows its output; `ls` and `xxd` of the files it wrote are
//! printed here, in those tools' layout. Only what differs from one run to the
//! next is replaced: the scratch directory's path by the directory the page names, and the
//! timings of `load` by `…`.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, ensure};
use regex::Regex;

/// Where the pages go, relative to the workspace root.
pub(super) const OUT_DIR: &str = "book/src/generated/sessions";

/// One command of a session.
enum Step {
    /// The lesson's binary with these arguments after `--dir DIR` (separated by single
    /// spaces), reading `stdin` (a shell script) if there is one.
    Run {
        args: &'static str,
        stdin: Option<&'static str>,
    },
    /// `ls DIR`: the directory's file names.
    List,
    /// `xxd DIR/FILE`, its first `lines` lines if given: the file in hex, printed here in
    /// `xxd`'s own layout so that the page does not depend on `xxd` being installed.
    Hex {
        file: &'static str,
        lines: Option<usize>,
    },
}

/// A page: commands of one lesson's binary, all in the same directory.
struct Session {
    page: &'static str,
    package: &'static str,
    /// The directory the page shows (`/tmp/...`); sessions naming the same one share it.
    dir: &'static str,
    steps: &'static [Step],
}

const fn run(args: &'static str) -> Step {
    Step::Run { args, stdin: None }
}

const fn shell(stdin: &'static str) -> Step {
    Step::Run {
        args: "shell",
        stdin: Some(stdin),
    }
}

const fn hex(file: &'static str) -> Step {
    Step::Hex { file, lines: None }
}

/// Every session, in the order they run.
const SESSIONS: &[Session] = &[
    Session {
        page: "lesson-01-shell.md",
        package: "rkv-01-basic-store",
        dir: "/tmp/x",
        steps: &[shell(
            "put apple red\nput pear \"\"\nput \"two words\" \"a\\tb\"\nget pear\nget plum\n\
             del apple\nscan\nstats\nput k\nfrob\n",
        )],
    },
    Session {
        page: "lesson-02-shell.md",
        package: "rkv-02-sstables",
        dir: "/tmp/t3",
        steps: &[shell(
            "put a 1\nput b 2\nflush\nput a 10\ndel b\nflush\nput c 3\nget a\nget b\nscan\n\
             inspect\nstats\ncompact\ninspect\n",
        )],
    },
    Session {
        page: "lesson-02-load.md",
        package: "rkv-02-sstables",
        dir: "/tmp/l2",
        steps: &[
            run("--set memtable_bytes=100000000 load --count 100000"),
            run("--set memtable_bytes=100000000 flush"),
            run("inspect"),
            shell("get key0000000050000\nget key0000000099999\nget nokey\nstats\n"),
        ],
    },
    Session {
        page: "lesson-02-gets.md",
        package: "rkv-02-sstables",
        dir: "/tmp/l2",
        steps: &[
            run("--stats get key0000000050000"),
            run("--stats get nokey"),
            run("--stats get aaa"),
        ],
    },
    Session {
        page: "lesson-02-many-tables.md",
        package: "rkv-02-sstables",
        dir: "/tmp/m2",
        steps: &[
            run("--set memtable_bytes=2048 load --count 10000"),
            run("--stats get nokey"),
            run("compact"),
            run("--stats get nokey"),
        ],
    },
    Session {
        page: "lesson-04-many-tables.md",
        package: "rkv-03-binary-search",
        dir: "/tmp/demo",
        steps: &[
            run("--set memtable_bytes=65536 load --count 50000 --order random"),
            run("--stats get nope"),
        ],
    },
    Session {
        page: "lesson-07-hex-table.md",
        package: "rkv-07-engine",
        dir: "/tmp/rkv-07-hex",
        steps: &[
            Step::Run {
                args: "--set compression=none shell",
                stdin: Some(
                    "put apple red\nput apple green\ndel apple\nput \"a\\x00\" zero\nflush\n",
                ),
            },
            Step::List,
            Step::Hex {
                file: "000004.sst",
                lines: Some(5),
            },
        ],
    },
    Session {
        page: "lesson-07-hex-manifest.md",
        package: "rkv-07-engine",
        dir: "/tmp/rkv-07-hex",
        steps: &[hex("CURRENT"), hex("000001.manifest")],
    },
    Session {
        page: "lesson-07-hex-filter.md",
        package: "rkv-07-engine",
        dir: "/tmp/rkv-07-hex",
        steps: &[hex("000004.filter")],
    },
    Session {
        page: "lesson-07-hex-log.md",
        package: "rkv-07-engine",
        dir: "/tmp/rkv-07-log",
        steps: &[shell("put apple red\ndel pear\n"), hex("000002.log")],
    },
];

/// Runs every session; returns the pages by file name.
pub(super) fn generate(root: &Path) -> Result<Vec<(String, String)>> {
    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    let mut pages = Vec::new();
    for session in SESSIONS {
        // `/tmp/l2` runs in `<scratch>/l2`: sessions naming the same directory share it.
        let name = Path::new(session.dir)
            .file_name()
            .with_context(|| format!("{} names no directory", session.page))?;
        let dir = scratch.path().join(name);
        let mut text = String::from(
            "<!-- Generated by `cargo xtask formats`, which runs these commands. Do not edit: \
             run it again. -->\n\n```console\n",
        );
        for step in session.steps {
            let shown = command_line(session.package, session.dir, step);
            writeln!(text, "$ {shown}")?;
            let output = execute(root, session.package, &dir, step)
                .with_context(|| format!("{}: {shown}", session.page))?;
            text.push_str(&steady(&output, &dir, session.dir));
        }
        text.push_str("```\n");
        pages.push((session.page.to_owned(), text));
    }
    Ok(pages)
}

/// The command as a reader types it.
fn command_line(package: &str, dir: &str, step: &Step) -> String {
    match *step {
        Step::Run { args, stdin } => {
            let command = format!("cargo run -q -p {package} -- --dir {dir} {args}");
            match stdin {
                None => command,
                Some(input) => format!("printf '{}' | {command}", printf_escaped(input)),
            }
        }
        Step::List => format!("ls {dir}"),
        Step::Hex { file, lines: None } => format!("xxd {dir}/{file}"),
        Step::Hex {
            file,
            lines: Some(lines),
        } => format!("xxd {dir}/{file} | head -{lines}"),
    }
}

/// `input` as the format string of `printf '...'` in a POSIX shell.
fn printf_escaped(input: &str) -> String {
    input
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\'', "'\\''")
}

/// Runs one step in `dir`; returns what it prints (stdout, then stderr).
fn execute(root: &Path, package: &str, dir: &Path, step: &Step) -> Result<String> {
    match *step {
        Step::Run { args, stdin } => run_cargo(root, package, dir, args, stdin),
        Step::List => {
            let mut names = Vec::new();
            for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
                names.push(entry?.file_name().to_string_lossy().into_owned());
            }
            names.sort();
            Ok(format!("{}\n", names.join("  ")))
        }
        Step::Hex { file, lines } => {
            let path = dir.join(file);
            let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            Ok(xxd(&bytes, lines.unwrap_or(usize::MAX)))
        }
    }
}

/// Runs the lesson's binary with cargo, as the page shows it.
fn run_cargo(
    root: &Path,
    package: &str,
    dir: &Path,
    args: &str,
    stdin: Option<&str>,
) -> Result<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args(["run", "-q", "-p", package, "--", "--dir"])
        .arg(dir)
        .args(args.split(' '))
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting cargo run")?;
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.unwrap_or_default().as_bytes())
            .context("writing the session's input")?;
    }
    let output = child.wait_with_output().context("waiting for cargo run")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(output.status.success(), "{}: {stderr}", output.status);
    Ok(format!(
        "{}{stderr}",
        String::from_utf8_lossy(&output.stdout)
    ))
}

/// The first `lines` lines of `xxd`'s default dump of `bytes`: the offset, eight groups of two
/// bytes in hex, and the bytes as ASCII (`.` for anything unprintable).
fn xxd(bytes: &[u8], lines: usize) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate().take(lines) {
        let groups: Vec<String> = chunk
            .chunks(2)
            .map(|pair| pair.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        let _ = writeln!(out, "{:08x}: {:<40} {ascii}", line * 16, groups.join(" "));
    }
    out
}

/// `output` with what changes from run to run replaced: the scratch directory by the one the
/// page shows, and `load`'s timings by `…`.
fn steady(output: &str, scratch: &Path, shown: &str) -> String {
    let named = output.replace(&scratch.display().to_string(), shown);
    Regex::new(r"(seconds|ops_per_sec)=[0-9.]+")
        .map(|timing| timing.replace_all(&named, "$1=…").into_owned())
        .unwrap_or(named)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_shows_the_command_a_reader_types_and_no_timing() {
        let step = shell("put \"two words\" \"a\\tb\"\nput it's\n");
        assert_eq!(
            command_line("rkv-01-basic-store", "/tmp/x", &step),
            "printf 'put \"two words\" \"a\\\\tb\"\\nput it'\\''s\\n' | \
             cargo run -q -p rkv-01-basic-store -- --dir /tmp/x shell"
        );
        let report = "dir: /scratch/0\ncount=10 seconds=0.723 ops_per_sec=138295\n";
        assert_eq!(
            steady(report, Path::new("/scratch/0"), "/tmp/l2"),
            "dir: /tmp/l2\ncount=10 seconds=… ops_per_sec=…\n"
        );
    }

    #[test]
    fn hex_is_laid_out_as_xxd_lays_it_out() {
        // What `xxd` printed for these bytes, a full line and a short one.
        let bytes = b"RKV-LOG\0\x02\0\0\0,\x96\xa4\xe5\0\x02\x04pear";
        assert_eq!(
            xxd(bytes, usize::MAX),
            "00000000: 524b 562d 4c4f 4700 0200 0000 2c96 a4e5  RKV-LOG.....,...\n\
             00000010: 0002 0470 6561 72                        ...pear\n"
        );
        assert_eq!(xxd(bytes, 1).lines().count(), 1);
    }
}
