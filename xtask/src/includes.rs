//! The include check: every `{{#include ...}}` in the book must point at something real.
//!
//! The book never pastes code; it pulls it out of the lesson crates with mdBook's directives:
//!
//! - `{{#include PATH}}` — the whole file;
//! - `{{#include PATH:ANCHOR}}` — the lines between `ANCHOR: name` and `ANCHOR_END: name`;
//! - `{{#include PATH:N:M}}` (also `PATH:N`, `PATH:N:`, `PATH::M`) — a range of lines;
//! - `{{#rustdoc_include ...}}` — the same, with the rest of the file hidden behind `#`.
//!
//! When the file has moved or an anchor was renamed, mdBook logs a line and carries on: the page
//! ships with the raw directive in it, or with nothing where the code should be. That is exactly
//! how a book drifts away from its code without anybody noticing. This module reads the
//! directives first and turns each broken one into a [`Problem`] naming the chapter and the line,
//! so `cargo xtask book` can refuse to build.
//!
//! It reads directives the way mdBook 0.5 does: the same pattern, the same escape
//! (`\{{#include ...}}` is text, not a directive), paths relative to the chapter's directory, and
//! anchor markers found anywhere in a line (so `// ANCHOR: put` in Rust and `# ANCHOR: put` in
//! TOML both work). It is a little stricter than mdBook where mdBook would silently include
//! nothing: an empty anchor, a line range past the end of the file, or an unknown directive name
//! (a typo such as `{{#inculde ...}}`) are problems too. It does not follow directives inside an
//! included file; every `.md` file under the source directory is checked on its own instead.

use std::fmt;
use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use regex::Regex;

/// One broken directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The chapter holding the directive, as it is shown to the reader of the message.
    pub chapter: PathBuf,
    /// The 1-based line of the chapter where the directive starts.
    pub line: usize,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            self.chapter.display(),
            self.line,
            self.message
        )
    }
}

/// What a check of the whole book found.
#[derive(Debug, Default)]
pub struct Report {
    /// Markdown files read.
    pub chapters: usize,
    /// Directives found (escaped ones are not directives).
    pub directives: usize,
    /// The broken ones, in chapter order.
    pub problems: Vec<Problem>,
}

/// Checks every `.md` file under `src_dir`, in a stable order.
///
/// Paths in the problems are shown relative to `root` when they lie inside it. An error (rather
/// than a problem) means the sources themselves could not be read.
pub fn check_book(src_dir: &Path, root: &Path) -> Result<Report> {
    let patterns = Patterns::new()?;
    let mut chapters = Vec::new();
    collect_markdown(src_dir, &mut chapters)?;
    chapters.sort();

    let mut report = Report::default();
    for chapter in &chapters {
        let text = fs::read_to_string(chapter)
            .with_context(|| format!("reading chapter {}", chapter.display()))?;
        report.chapters += 1;
        report.directives += check_chapter(&patterns, chapter, &text, root, &mut report.problems);
    }
    Ok(report)
}

/// The regular expressions mdBook uses, compiled once per check.
struct Patterns {
    /// A directive or an escaped directive. Group 1 is the directive's name, group 2 its
    /// arguments; an escaped directive has neither. (mdBook's own pattern, verbatim.)
    directive: Regex,
    /// The start marker of an anchor; group `name` is the anchor's name.
    anchor_start: Regex,
    /// The end marker of an anchor; group `name` is the anchor's name.
    anchor_end: Regex,
}

impl Patterns {
    fn new() -> Result<Self> {
        Ok(Self {
            directive: Regex::new(
                r"(?x)
                \\\{\{\#.*\}\}        # an escaped directive: text, not a directive
                |
                \{\{\s*               # opening braces, then optional whitespace
                \#([a-zA-Z0-9_]+)     # the directive's name
                \s+                   # whitespace
                ([^}]+)               # its arguments: a path and maybe more
                \}\}                  # closing braces",
            )
            .context("compiling the directive pattern")?,
            anchor_start: Regex::new(r"ANCHOR:\s*(?P<name>[\w_-]+)")
                .context("compiling the anchor start pattern")?,
            anchor_end: Regex::new(r"ANCHOR_END:\s*(?P<name>[\w_-]+)")
                .context("compiling the anchor end pattern")?,
        })
    }
}

/// Appends every `.md` file under `dir` (recursively) to `out`.
fn collect_markdown(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let path = entry.path();
        let file_type = entry
            .file_type()
            .with_context(|| format!("inspecting {}", path.display()))?;
        if file_type.is_dir() {
            collect_markdown(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "md") {
            out.push(path);
        }
    }
    Ok(())
}

/// Checks the directives of one chapter, appending what is broken to `problems`.
///
/// Returns how many directives the chapter has.
fn check_chapter(
    patterns: &Patterns,
    chapter: &Path,
    text: &str,
    root: &Path,
    problems: &mut Vec<Problem>,
) -> usize {
    let base = chapter.parent().unwrap_or(Path::new(""));
    let mut directives = 0;
    for caps in patterns.directive.captures_iter(text) {
        let (Some(whole), Some(name), Some(args)) = (caps.get(0), caps.get(1), caps.get(2)) else {
            continue; // escaped: mdBook prints it without the backslash
        };
        directives += 1;
        // A directive may span lines; quote it on one.
        let quoted = whole
            .as_str()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let problem = match name.as_str() {
            "include" | "rustdoc_include" => check_include(patterns, base, args.as_str(), root),
            "playground" | "playpen" => check_playground(base, args.as_str(), root),
            "title" => None,
            other => Some(format!(
                "unknown directive `#{other}` (mdBook knows include, rustdoc_include, \
                 playground and title; write `\\{{{{#...` for literal text)"
            )),
        };
        if let Some(message) = problem {
            problems.push(Problem {
                chapter: shown(chapter, root),
                line: 1 + text[..whole.start()].matches('\n').count(),
                message: format!("`{quoted}`: {message}"),
            });
        }
    }
    directives
}

/// Which part of a file an include takes.
#[derive(Debug, PartialEq, Eq)]
enum Selection<'a> {
    /// All of it.
    Whole,
    /// Lines `first..=last`, counted from 1; no `last` means to the end.
    Lines { first: usize, last: Option<usize> },
    /// The lines between `ANCHOR: name` and `ANCHOR_END: name`.
    Anchor(&'a str),
}

/// Splits an include's first argument into the path and the selection, as mdBook does.
fn parse_include(spec: &str) -> (&str, Selection<'_>) {
    let Some((path, rest)) = spec.split_once(':') else {
        return (spec, Selection::Whole);
    };
    let mut parts = rest.splitn(3, ':');
    let first = parts.next().unwrap_or("");
    let start = match first.parse::<usize>() {
        // mdBook treats line 0 as line 1.
        Ok(n) => Some(n.max(1)),
        Err(_) if first.is_empty() => None,
        Err(_) => return (path, Selection::Anchor(first)),
    };
    let end = parts.next().map(str::parse::<usize>);
    let selection = match (start, end) {
        (Some(first), Some(Ok(last))) => Selection::Lines {
            first,
            last: Some(last),
        },
        (Some(first), Some(Err(_))) => Selection::Lines { first, last: None },
        (Some(first), None) => Selection::Lines {
            first,
            last: Some(first),
        },
        (None, Some(Ok(last))) => Selection::Lines {
            first: 1,
            last: Some(last),
        },
        (None, None | Some(Err(_))) => Selection::Whole,
    };
    (path, selection)
}

/// What is wrong with one `include` or `rustdoc_include`, if anything.
fn check_include(patterns: &Patterns, base: &Path, args: &str, root: &Path) -> Option<String> {
    let Some(spec) = args.split_whitespace().next() else {
        return Some("no file named".to_string());
    };
    let (path, selection) = parse_include(spec);
    let target = base.join(path);
    let text = match read_target(&target, root) {
        Ok(text) => text,
        Err(message) => return Some(message),
    };
    let file = shown(&target, root);
    let file = file.display();
    match selection {
        Selection::Whole => None,
        Selection::Lines { first, last } => {
            let lines = text.lines().count();
            if first > lines {
                Some(format!(
                    "`{file}` has {lines} lines, but the range starts at line {first}"
                ))
            } else if let Some(last) = last {
                if last < first {
                    Some(format!("the range {first}:{last} selects no lines"))
                } else if last > lines {
                    Some(format!(
                        "`{file}` has {lines} lines, but the range ends at line {last}"
                    ))
                } else {
                    None
                }
            } else {
                None
            }
        }
        Selection::Anchor(anchor) => {
            anchor_problem(patterns, &text, anchor).map(|problem| format!("{problem} in `{file}`"))
        }
    }
}

/// What is wrong with anchor `name` in `text`, read the way mdBook reads it, if anything.
fn anchor_problem(patterns: &Patterns, text: &str, name: &str) -> Option<String> {
    let names = |pattern: &Regex, line: &str| {
        pattern
            .captures(line)
            .and_then(|caps| caps.name("name"))
            .is_some_and(|found| found.as_str() == name)
    };
    let mut start = None;
    let mut kept = 0;
    for (index, line) in text.lines().enumerate() {
        match start {
            None if names(&patterns.anchor_start, line) => start = Some(index + 1),
            None => {}
            Some(_) if names(&patterns.anchor_end, line) => {
                return (kept == 0).then(|| format!("anchor `{name}` is empty"));
            }
            // mdBook drops every other marker line inside an anchor.
            Some(_)
                if patterns.anchor_start.is_match(line) || patterns.anchor_end.is_match(line) => {}
            Some(_) => kept += 1,
        }
    }
    Some(match start {
        None => format!("no `ANCHOR: {name}` line"),
        Some(line) => {
            format!("`ANCHOR: {name}` on line {line} has no `ANCHOR_END: {name}` after it")
        }
    })
}

/// What is wrong with one `playground`, if anything: it only names a file.
fn check_playground(base: &Path, args: &str, root: &Path) -> Option<String> {
    let Some(path) = args.split_whitespace().next() else {
        return Some("no file named".to_string());
    };
    read_target(&base.join(path), root).err()
}

/// Reads an included file, or says in one sentence why it cannot be.
fn read_target(target: &Path, root: &Path) -> Result<String, String> {
    let file = shown(target, root);
    let file = file.display();
    if !target.exists() {
        return Err(format!("`{file}` does not exist"));
    }
    if !target.is_file() {
        return Err(format!("`{file}` is not a file"));
    }
    fs::read_to_string(target).map_err(|e| format!("cannot read `{file}`: {e}"))
}

/// `path` as a reader wants to see it: without `.` and `..`, relative to `root` when inside it.
fn shown(path: &Path, root: &Path) -> PathBuf {
    let path = normalize(path);
    match path.strip_prefix(normalize(root)) {
        Ok(relative) if !relative.as_os_str().is_empty() => relative.to_path_buf(),
        _ => path,
    }
}

/// Removes `.` and resolves `..` by text alone (only for display; symlinks are not followed).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                Some(Component::CurDir | Component::ParentDir) | None => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch book: `src/` for chapters and `code/` for what they include.
    struct Scratch {
        dir: tempfile::TempDir,
    }

    impl Scratch {
        fn new() -> Self {
            let scratch = Self {
                dir: tempfile::tempdir().unwrap(),
            };
            fs::create_dir_all(scratch.root().join("src")).unwrap();
            scratch
        }

        fn root(&self) -> &Path {
            self.dir.path()
        }

        fn write(&self, relative: &str, text: &str) -> &Self {
            let path = self.root().join(relative);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
            self
        }

        fn check(&self) -> Report {
            check_book(&self.root().join("src"), self.root()).unwrap()
        }

        /// The problems, one formatted line each.
        fn problems(&self) -> Vec<String> {
            self.check()
                .problems
                .iter()
                .map(ToString::to_string)
                .collect()
        }
    }

    const CODE: &str = "\
use std::fs;
// ANCHOR: open
fn open() {}
// ANCHOR_END: open
// ANCHOR: empty
// ANCHOR_END: empty
// ANCHOR: unfinished
fn put() {}
";

    #[test]
    fn good_includes_pass() {
        let scratch = Scratch::new();
        scratch.write("code/lib.rs", CODE).write(
            "src/chapter.md",
            "# A chapter\n\n```rust\n{{#include ../code/lib.rs}}\n```\n\n\
             ```rust\n{{#include ../code/lib.rs:open}}\n```\n\n\
             ```rust\n{{#rustdoc_include ../code/lib.rs:open}}\n```\n",
        );
        let report = scratch.check();
        assert_eq!(report.problems, vec![]);
        assert_eq!(report.chapters, 1);
        assert_eq!(report.directives, 3);
    }

    #[test]
    fn missing_file_is_reported_with_chapter_and_line() {
        let scratch = Scratch::new();
        scratch.write(
            "src/chapter.md",
            "# A chapter\n\nSome text.\n\n```rust\n{{#include ../code/gone.rs}}\n```\n",
        );
        assert_eq!(
            scratch.problems(),
            vec!["src/chapter.md:6: `{{#include ../code/gone.rs}}`: `code/gone.rs` does not exist"]
        );
    }

    #[test]
    fn missing_anchor_is_reported() {
        let scratch = Scratch::new();
        scratch
            .write("code/lib.rs", CODE)
            .write("src/chapter.md", "{{#include ../code/lib.rs:close}}\n");
        assert_eq!(
            scratch.problems(),
            vec![
                "src/chapter.md:1: `{{#include ../code/lib.rs:close}}`: \
                 no `ANCHOR: close` line in `code/lib.rs`"
            ]
        );
    }

    #[test]
    fn anchor_start_without_end_is_reported() {
        let scratch = Scratch::new();
        scratch.write("code/lib.rs", CODE).write(
            "src/chapter.md",
            "{{#rustdoc_include ../code/lib.rs:unfinished}}\n",
        );
        assert_eq!(
            scratch.problems(),
            vec![
                "src/chapter.md:1: `{{#rustdoc_include ../code/lib.rs:unfinished}}`: \
                 `ANCHOR: unfinished` on line 7 has no `ANCHOR_END: unfinished` after it \
                 in `code/lib.rs`"
            ]
        );
    }

    #[test]
    fn an_anchor_name_must_match_exactly() {
        let scratch = Scratch::new();
        scratch
            .write(
                "code/lib.rs",
                "// ANCHOR: openfile\nx\n// ANCHOR_END: openfile\n",
            )
            .write("src/chapter.md", "{{#include ../code/lib.rs:open}}\n");
        assert_eq!(scratch.check().problems.len(), 1);
    }

    #[test]
    fn empty_anchor_is_reported() {
        let scratch = Scratch::new();
        scratch
            .write("code/lib.rs", CODE)
            .write("src/chapter.md", "{{#include ../code/lib.rs:empty}}\n");
        let problems = scratch.problems();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].ends_with("anchor `empty` is empty in `code/lib.rs`"));
    }

    #[test]
    fn line_range_includes_are_checked_against_the_file_length() {
        let scratch = Scratch::new();
        scratch.write("code/lib.rs", CODE).write(
            "src/chapter.md",
            "{{#include ../code/lib.rs:2:4}}\n\
             {{#include ../code/lib.rs:3}}\n\
             {{#include ../code/lib.rs:5:}}\n\
             {{#include ../code/lib.rs::8}}\n\
             {{#include ../code/lib.rs:6:20}}\n\
             {{#include ../code/lib.rs:20:}}\n\
             {{#include ../code/lib.rs:4:2}}\n",
        );
        assert_eq!(
            scratch.problems(),
            vec![
                "src/chapter.md:5: `{{#include ../code/lib.rs:6:20}}`: \
                 `code/lib.rs` has 8 lines, but the range ends at line 20",
                "src/chapter.md:6: `{{#include ../code/lib.rs:20:}}`: \
                 `code/lib.rs` has 8 lines, but the range starts at line 20",
                "src/chapter.md:7: `{{#include ../code/lib.rs:4:2}}`: \
                 the range 4:2 selects no lines",
            ]
        );
    }

    #[test]
    fn paths_are_relative_to_the_chapter_directory() {
        let scratch = Scratch::new();
        scratch
            .write("code/lib.rs", CODE)
            .write(
                "src/part/nested.md",
                "{{#include ../../code/lib.rs:open}}\n",
            )
            .write("src/part/wrong.md", "{{#include ../code/lib.rs:open}}\n");
        assert_eq!(
            scratch.problems(),
            vec![
                "src/part/wrong.md:1: `{{#include ../code/lib.rs:open}}`: \
                 `src/code/lib.rs` does not exist"
            ]
        );
    }

    #[test]
    fn escaped_directives_are_ignored() {
        let scratch = Scratch::new();
        scratch.write(
            "src/chapter.md",
            "Write this:\n\n```markdown\n\\{{#include ../code/gone.rs:anchor}}\n```\n",
        );
        let report = scratch.check();
        assert_eq!(report.problems, vec![]);
        assert_eq!(report.directives, 0);
    }

    #[test]
    fn directives_inside_code_fences_are_checked() {
        let scratch = Scratch::new();
        scratch.write("src/chapter.md", "```rust\n{{#include gone.rs}}\n```\n");
        assert_eq!(scratch.check().problems.len(), 1);
    }

    #[test]
    fn unknown_directives_and_directories_are_reported() {
        let scratch = Scratch::new();
        scratch.write("code/lib.rs", CODE).write(
            "src/chapter.md",
            "{{#title A title}}\n{{#inculde ../code/lib.rs}}\n{{#include ../code}}\n\
             {{#playground ../code/lib.rs editable}}\n",
        );
        let problems = scratch.problems();
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].starts_with("src/chapter.md:2: "));
        assert!(problems[0].contains("unknown directive `#inculde`"));
        assert!(problems[1].ends_with("`code` is not a file"));
    }

    #[test]
    fn include_specs_parse_like_mdbook() {
        assert_eq!(parse_include("a.rs"), ("a.rs", Selection::Whole));
        assert_eq!(parse_include("a.rs:"), ("a.rs", Selection::Whole));
        assert_eq!(parse_include("a.rs:x"), ("a.rs", Selection::Anchor("x")));
        assert_eq!(
            parse_include("a.rs:0"),
            (
                "a.rs",
                Selection::Lines {
                    first: 1,
                    last: Some(1)
                }
            )
        );
        assert_eq!(
            parse_include("a.rs:3:x"),
            (
                "a.rs",
                Selection::Lines {
                    first: 3,
                    last: None
                }
            )
        );
    }

    #[test]
    fn normalize_resolves_dots_by_text() {
        assert_eq!(normalize(Path::new("/a/b/../c/./d")), Path::new("/a/c/d"));
        assert_eq!(normalize(Path::new("../../x")), Path::new("../../x"));
        assert_eq!(normalize(Path::new("a/../../x")), Path::new("../x"));
    }
}
