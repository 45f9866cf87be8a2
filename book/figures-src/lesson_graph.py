"""The lesson dependency graph: which crate imports what from which.

Each lesson crate depends on the one before it and imports what that lesson built; lesson 07
also reaches past lesson 06 to the lessons where its parts were first written. The graph below
is that, drawn by hand from the crates' `Cargo.toml` and `use` lines: `cargo metadata` (or
`cargo tree -p rkv-07-engine --depth 1`) shows the edges, the labels say what crosses them.
Keep it true when a crate's dependencies change.

`make_figures.py --check-graph` compares the edges with `cargo metadata`: every edge drawn must
be a real dependency, and every real dependency between lessons must be drawn or named in the
note under the figure (`NOTED`).
"""

import json
import subprocess

import svg

# Top to bottom: (lesson, title, crate).
CRATES = (
    (7, "07 — the full engine", "rkv-07-engine"),
    (6, "06 — checksums", "rkv-06-checksums"),
    (5, "05 — compression", "rkv-05-compression"),
    (4, "04 — parallel search", "rkv-04-parallel-search"),
    (3, "03 — binary search", "rkv-03-binary-search"),
    (2, "02 — SSTables", "rkv-02-sstables"),
    (1, "01 — basic store", "rkv-01-basic-store"),
)

# What each lesson imports from the one before it.
CHAIN = {
    7: "the checksummed log (its WAL and manifest), the CRC frame",
    6: "the block table and its codecs, behind a CRC frame",
    5: "the parallel lookup, kept for the new table format",
    4: "the indexed table, searched as lesson 03 does",
    3: "the Table trait and LsmStore: flush, merge, recovery",
    2: "the memtable, the write-ahead log, DataDir, Value",
}

# Lesson 07's imports that skip the chain: (from lesson, label), outermost lane first.
DIRECT_FROM_07 = ((1, "Value, DataDir"), (2, "the Table trait"), (5, "blocks, codecs"))

# Direct dependencies of lessons 03-06 on lessons further back than the one before, which the
# note under the figure names instead of drawing: (from lesson, to lesson).
NOTED = {(3, 1), (4, 1), (5, 1), (6, 1),  # lesson 01's Value (and lesson 03: its record codec)
         (4, 2), (5, 2), (6, 2),  # lesson 02's LsmStore and Table trait
         (5, 3),  # lesson 03's binary search, in lesson 05's block index
         (6, 4)}  # lesson 04's parallel lookup, in lesson 06's store

BOX_X, BOX_W, BOX_H, TOP, PITCH = 280, 250, 40, 64, 64
WIDTH = 800


def row_y(lesson):
    return TOP + (7 - lesson) * PITCH


def figures():
    height = row_y(1) + BOX_H + 162
    c = svg.Canvas(WIDTH, height, "How the lesson crates depend on each other")
    c.text(16, 28, "How the lesson crates depend on each other", 15, bold=True)
    c.line(470, 23, 510, 23, svg.INK, arrow=True)
    c.text(518, 27, "imports from (a Cargo dependency)", 11, svg.MUTED)

    for lesson, title, crate in CRATES:
        y = row_y(lesson)
        c.rect(BOX_X, y, BOX_W, BOX_H, svg.BUILT_FILL, svg.INK, 1.2)
        c.text(BOX_X + 12, y + 17, title, 13, bold=True)
        c.text(BOX_X + 12, y + 32, crate, 11, svg.MUTED, mono=True)

    mid = BOX_X + BOX_W / 2
    for lesson, label in CHAIN.items():
        top = row_y(lesson) + BOX_H
        bottom = row_y(lesson - 1)
        c.line(mid, top, mid, bottom - 1, svg.INK, 1.4, arrow=True)
        c.text(mid + 10, (top + bottom) / 2 + 4, label, 11)

    # Lesson 07's direct edges, in lanes on the left that never cross.
    for i, (lesson, label) in enumerate(DIRECT_FROM_07):
        lane = 40 + 40 * i
        start = row_y(7) + 10 + 10 * i
        end = row_y(lesson) + BOX_H / 2
        c.polyline([(BOX_X, start), (lane, start), (lane, end), (BOX_X - 1, end)],
                   svg.ACCENT, 1.4, arrow=True)
        c.text(lane + 8, end - 6, label, 11, svg.ACCENT)
    c.text(40, row_y(7) - 10, "lesson 07 also imports directly:", 11, svg.ACCENT, italic=True)

    note_x = BOX_X + BOX_W + 12
    for i, line in enumerate(("retires lesson 04's parallel lookup:",
                              "bloom filters and levels leave about",
                              "one table per level to probe")):
        c.text(note_x, row_y(7) + 12 + 13 * i, line, 11, svg.MUTED, italic=True)

    # Under everything: the contract and the command line.
    base = row_y(1) + BOX_H + 36
    c.rect(40, base - 22, 720, 74, svg.LATER_FILL, svg.FRAME, 1, radius=6)
    c.text(56, base - 6, "every lesson crate, 01 to 07, depends on both (arrows not drawn):",
           11, svg.MUTED, italic=True)
    for x, title, crate in ((120, "00 — the contract", "rkv-contract"),
                            (420, "the command line and shell", "rkv-cli")):
        c.rect(x, base + 4, BOX_W, BOX_H, svg.BUILT_FILL, svg.INK, 1.2)
        c.text(x + 12, base + 21, title, 13, bold=True)
        c.text(x + 12, base + 36, crate, 11, svg.MUTED, mono=True)
    foot = base + 76
    for i, line in enumerate((
        "Lessons 03–06 also name types of lessons further back: lesson 01's Value, lesson 02's "
        "LsmStore, lesson 03's binary",
        "search in lesson 05's index, lesson 04's parallel lookup in lesson 06's store. Every "
        "store from 02 to 06 is lesson 02's",
        "LsmStore with that lesson's table format, lookup or log plugged in.",
    )):
        c.text(40, foot + 15 * i, line, 11, svg.MUTED)
    return {"lesson-graph.svg": c.render()}


def lesson_of(crate):
    """`rkv-05-compression` → 5; None for a crate that is not a lesson."""
    parts = crate.split("-")
    if len(parts) > 2 and parts[0] == "rkv" and parts[1].isdigit() and int(parts[1]) > 0:
        return int(parts[1])
    return None


def check_edges(workspace):
    """Problems between the figure and `cargo metadata` (empty when the figure is true)."""
    metadata = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"],
        cwd=workspace, check=True, capture_output=True, text=True).stdout)
    real = set()
    for package in metadata["packages"]:
        source = lesson_of(package["name"])
        for dependency in package["dependencies"]:
            target = lesson_of(dependency["name"])
            if source and target and dependency["kind"] is None:
                real.add((source, target))
    drawn = {(n, n - 1) for n in CHAIN} | {(7, n) for n, _ in DIRECT_FROM_07}
    problems = [f"drawn but not a dependency: lesson {a:02d} → lesson {b:02d}"
                for a, b in sorted(drawn - real)]
    problems += [f"a dependency the figure neither draws nor notes: lesson {a:02d} → "
                 f"lesson {b:02d}" for a, b in sorted(real - drawn - NOTED)]
    return problems
