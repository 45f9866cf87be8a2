//! mdBook's own warnings and errors, made visible.
//!
//! The mdbook library reports through `tracing` and, with nobody listening, says nothing at all:
//! a broken include, an unclosed HTML tag or a bad footnote would pass in silence. This module
//! listens for warnings and errors only, prints each one to stderr and counts them, so that
//! `cargo xtask book` can fail when mdBook reported an error it carried on after.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use anyhow::{Context, Result};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// How many warnings and errors mdBook has reported so far.
#[derive(Debug, Default)]
pub struct Counts {
    warnings: AtomicUsize,
    errors: AtomicUsize,
}

impl Counts {
    /// Warnings reported so far.
    pub fn warnings(&self) -> usize {
        self.warnings.load(Ordering::Relaxed)
    }

    /// Errors reported so far.
    pub fn errors(&self) -> usize {
        self.errors.load(Ordering::Relaxed)
    }
}

/// Starts listening, for the rest of the process. Call it once.
pub fn listen() -> Result<Arc<Counts>> {
    let counts = Arc::new(Counts::default());
    let printer = Printer {
        counts: Arc::clone(&counts),
        next_span: AtomicU64::new(1),
    };
    tracing::subscriber::set_global_default(printer)
        .context("listening to mdBook's messages (a tracing subscriber was already set)")?;
    Ok(counts)
}

/// A `tracing` subscriber that prints warnings and errors and ignores everything else.
struct Printer {
    /// Where the tally goes.
    counts: Arc<Counts>,
    /// The next span id to hand out (spans are never recorded, but each needs a non-zero id).
    next_span: AtomicU64,
}

impl Subscriber for Printer {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // In `tracing`, quieter levels compare smaller: ERROR < WARN < INFO.
        *metadata.level() <= Level::WARN
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::WARN)
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut text = Message::default();
        event.record(&mut text);
        let label = if *event.metadata().level() == Level::ERROR {
            self.counts.errors.fetch_add(1, Ordering::Relaxed);
            "error"
        } else {
            self.counts.warnings.fetch_add(1, Ordering::Relaxed);
            "warning"
        };
        eprintln!("mdbook {label}: {}", text.0);
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

/// An event's message followed by its other fields as `name=value`.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}{}", self.0);
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}
