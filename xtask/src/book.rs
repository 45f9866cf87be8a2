//! `cargo xtask book`: check every include, then build the book with the mdbook library.

use std::path::Path;

use anyhow::{Context, Result, bail};
use mdbook_driver::MDBook;

use crate::{includes, mdbook_log};

/// Checks the includes of the book in `root/book` and, unless `check_only`, builds it.
pub fn run(root: &Path, check_only: bool) -> Result<()> {
    let book_dir = root.join("book");
    let log = mdbook_log::listen()?;

    let book = MDBook::load(&book_dir)
        .with_context(|| format!("loading the book in {}", book_dir.display()))?;

    let src_dir = book.source_dir();
    let report = includes::check_book(&src_dir, root)?;
    if !report.problems.is_empty() {
        for problem in &report.problems {
            eprintln!("{problem}");
        }
        bail!(
            "{} broken include(s) in {}; the book was not built",
            report.problems.len(),
            src_dir.strip_prefix(root).unwrap_or(&src_dir).display(),
        );
    }
    println!(
        "includes: {} directive(s) in {} chapter file(s), all resolve",
        report.directives, report.chapters
    );
    if check_only {
        return Ok(());
    }

    book.build().context("building the book")?;
    if log.errors() > 0 {
        bail!(
            "mdBook reported {} error(s) while building (see above)",
            log.errors()
        );
    }
    let index = book.build_dir_for("html").join("index.html");
    println!(
        "book: {} ({} warning(s))",
        index.strip_prefix(root).unwrap_or(&index).display(),
        log.warnings()
    );
    Ok(())
}
