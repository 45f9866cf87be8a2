//! The report of a casual run as one page a browser opens: `index.html`, beside the Markdown,
//! the JSON and the charts it is made from.
//!
//! A run that is not `--book` must not touch the book's committed pages, yet its reader still
//! wants the tables and the charts in one place. The page is the same Markdown the book would
//! include, turned into HTML with pulldown-cmark (the Markdown parser mdbook itself uses), with
//! the two charts above it and a line saying how it was made. Nothing is fetched from the
//! network: the style is a few lines inline, the charts are files beside it.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// The whole page: a title, `intro` (Markdown), the two charts, then `table` (Markdown).
pub fn page(intro: &str, table: &str) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>rkv benchmarks</title>\n<style>\n\
         body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; \
         line-height: 1.45; }\n\
         table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }\n\
         th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; }\n\
         td { text-align: right; } td:first-child { text-align: left; }\n\
         code { background: #f4f4f4; padding: 0 0.2em; }\n\
         blockquote { border-left: 4px solid #e0a000; margin-left: 0; padding-left: 1em; }\n\
         img { max-width: 100%; }\n</style>\n</head>\n<body>\n<h1>rkv benchmarks</h1>\n",
    );
    out.push_str(&to_html(intro));
    out.push_str(
        "<p><img src=\"bench-throughput.svg\" alt=\"Operations per second of every engine on \
         every workload\"></p>\n<p><img src=\"bench-p99.svg\" alt=\"p99 latency of every \
         engine on every workload\"></p>\n",
    );
    out.push_str(&to_html(table));
    out.push_str("</body>\n</html>\n");
    out
}

/// Markdown to HTML, tables on, and every heading given the id mdbook would give it, so that
/// the tables' links to their workload's section work here too.
fn to_html(markdown: &str) -> String {
    let mut events: Vec<Event<'_>> = Parser::new_ext(markdown, Options::ENABLE_TABLES).collect();
    let mut at = 0;
    while at < events.len() {
        if let Event::Start(Tag::Heading { .. }) = &events[at] {
            let mut text = String::new();
            for event in &events[at + 1..] {
                match event {
                    Event::End(TagEnd::Heading(_)) => break,
                    Event::Text(t) | Event::Code(t) => text.push_str(t),
                    _ => {}
                }
            }
            if let Event::Start(Tag::Heading { id, .. }) = &mut events[at] {
                *id = Some(CowStr::from(slug(&text)));
            }
        }
        at += 1;
    }
    let mut out = String::new();
    html::push_html(&mut out, events.into_iter());
    out
}

/// A heading's id as mdbook makes it: lower case, spaces to hyphens, other punctuation dropped.
fn slug(text: &str) -> String {
    text.trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_the_ids_the_tables_link_to() {
        let html = to_html("| a |\n| --- |\n| [ycsb-a](#ycsb-a) |\n\n#### ycsb-a\n\ntext\n");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("href=\"#ycsb-a\""), "{html}");
        assert!(html.contains("<h4 id=\"ycsb-a\">ycsb-a</h4>"), "{html}");
        assert_eq!(slug("Throughput at a glance"), "throughput-at-a-glance");
    }
}
