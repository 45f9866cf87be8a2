"""The read path of lesson 07: where a `get` looks, in order, and what one table probe costs.

Drawn from lesson 07's code: a read takes a picture (the memtable, the immutable memtable and
the current Version, cloned under the state lock, and the last sequence number), then asks the
sources newest first and stops at the first that knows the key (a value, or a tombstone that
answers "not found"). One hash of the key serves every filter it meets. Inside a table: the
bloom filter, then the block index, then one block — the table's pinned copy or the block
cache, else the disk — then the restart points. The names in brackets are the `stats` counters
each step moves.
"""

import svg

WIDTH, HEIGHT = 800, 500

# The sources, newest first.
SOURCES = (
    ("memtable: its filter, then one", "skip-list seek"),
    ("immutable memtable (while a flush", "is under way): the same"),
    ("L0 tables, newest first: each whose", "key range covers the key"),
    ("L1 … L6: binary search on the tables'", "largest keys → at most one per level"),
)

# Inside one table, in order: (name, detail lines).
TABLE_STEPS = (
    ("bloom filter", ("certainly absent → next table, no block read",
                      "(filter_skips)")),
    ("block index", ("binary search over the blocks' last keys",
                     "(tables_probed)")),
    ("one block", ("a pinned copy or the block cache (cache_hits);",
                   "else read it, check its CRC, decompress it",
                   "(cache_misses, blocks_read)")),
    ("restart points", ("binary search, then decode forward",
                        "at most 15 entries")),
)


def figures():
    c = svg.Canvas(WIDTH, HEIGHT, "The read path of lesson 07")
    c.text(16, 28, "A get in lesson 07: newest source first, and the first that knows the key "
           "answers", 14, bold=True)

    x, w = 16, 330
    c.box(x, 46, w, 48, ("take a picture (state lock, three Arc clones)",
                         "+ last_seq; seek key = (key, seq); one hash"),
          11, svg.LATER_FILL, svg.INK)
    y = 118
    source_mid = []
    for i, lines in enumerate(SOURCES):
        c.line(x + w / 2, y - 24, x + w / 2, y - 1, svg.INK, 1.3, arrow=True)
        if i:
            c.text(x + w / 2 + 8, y - 8, "not here", 10.5, svg.MUTED, italic=True)
        tables = i >= 2
        c.box(x, y, w, 48, lines, 11.5, svg.HERE_FILL if tables else svg.BUILT_FILL,
              svg.HERE_STROKE if tables else svg.INK)
        source_mid.append(y + 24)
        y += 72
    c.line(x + w / 2, y - 24, x + w / 2, y - 1, svg.INK, 1.3, arrow=True)
    c.text(x + w / 2 + 8, y - 8, "not here", 10.5, svg.MUTED, italic=True)
    c.box(x, y, w, 30, ("no source knows the key → (nil)",), 11.5)

    # The panel: one table probe, asked by the L0 step and the level step.
    px, pw = 420, 364
    top = 70
    steps_h = sum(22 + 13 * len(detail) + 14 for _, detail in TABLE_STEPS) + 44
    c.rect(px, top, pw, steps_h + 42, "none", svg.FRAME, 1, radius=6)
    c.text(px + 12, top + 18, "inside one table (asked by L0 and by each level)", 11,
           svg.MUTED, italic=True)
    for mid in source_mid[2:]:
        c.line(x + w, mid, px - 2, mid, svg.HERE_STROKE, 1.2, dash="4 3", arrow=True)
    y = top + 30
    for name, detail in TABLE_STEPS:
        h = 22 + 13 * len(detail)
        c.rect(px + 10, y, pw - 20, h, svg.BUILT_FILL, svg.INK, 1.1)
        c.text(px + 20, y + 16, name, 12, bold=True)
        for j, line in enumerate(detail):
            c.text(px + 20, y + 31 + 13 * j, line, 10.5)
        c.line(px + pw / 2, y + h, px + pw / 2, y + h + 13, svg.INK, 1.2, arrow=True)
        y += h + 14
    c.box(px + 10, y, pw - 20, 44,
          ("an entry for this key? a value → the answer;",
           "a tombstone → (nil); none → the next table"), 11, svg.LATER_FILL, svg.INK)

    c.caption(456, (
        "Each later source holds older data, so the first answer — a value or a tombstone — is "
        "the newest one at the picture's",
        "sequence number. The picture holds Arcs: a flush or a compaction that finishes "
        "meanwhile swaps in a new Version, and",
        "this read goes on with its own. The names in brackets are the stats counters each step "
        "moves.",
    ))
    return {"read-path.svg": c.render()}
