"""The version swap: how a flush or a compaction changes the set of live tables.

Drawn from lesson 07's install step: the new files are already written and fsynced; under the
manifest lock the edit is appended to the manifest and fsynced; under the state lock the current
Version is copied, the edit applied, and the new one swapped in (a flush also drops the
immutable memtable in that same step); only then are a compaction's input files deleted. A
reader that took its picture before the swap keeps the old Version — and through it the old
tables' open files — until it lets go.

A long compaction installs several times, once for each lower-level input its merge has passed
(lesson-07-compaction.md, "Giving space back"); the figure shows one install.

The example is an L0 → L1 compaction: L0 table 8 and the L1 tables it overlaps, 5 and 6, become
tables 9 and 10; table 7 on L2 is in both Versions, the same Arc.
"""

import svg

WIDTH, HEIGHT = 800, 424

STEPS = (
    ("① outputs written", ("000009.sst, 000010.sst", "and filters, fsynced;", "directory fsynced")),
    ("② manifest lock", ("append the edit:", "remove L0 8, L1 5 6,", "add L1 9 10 — fsync")),
    ("③ state lock", ("copy the Version, apply", "the edit, swap the Arc", "(a flush: imm = None)")),
    ("④ after both locks", ("delete the inputs:", "000005/6/8.sst and", "their filters")),
)


def tables(c, x, y, label, rows, fill):
    c.rect(x, y, 250, 104, fill, svg.INK, 1.3)
    c.text(x + 12, y + 18, label, 12, bold=True)
    for i, (level, numbers) in enumerate(rows):
        c.text(x + 16, y + 42 + 20 * i, level, 11, svg.MUTED)
        for j, number in enumerate(numbers):
            shared = number == "7"
            c.rect(x + 56 + 40 * j, y + 29 + 20 * i, 32, 17,
                   "#ddf4ff" if shared else svg.BUILT_FILL, svg.INK, 1, radius=2)
            c.text(x + 72 + 40 * j, y + 42 + 20 * i, number, 11, anchor="middle", mono=True)


def figures():
    c = svg.Canvas(WIDTH, HEIGHT, "Installing a new Version")
    c.text(16, 28, "Installing a change: the manifest first, then the Version, then the deletes",
           14, bold=True)
    x = 16
    for i, (title, lines) in enumerate(STEPS):
        fill = svg.HERE_FILL if i in (1, 2) else svg.BUILT_FILL
        stroke = svg.HERE_STROKE if i in (1, 2) else svg.INK
        c.rect(x, 46, 176, 84, fill, stroke, 1.3)
        c.text(x + 10, 64, title, 12, bold=True)
        for j, line in enumerate(lines):
            c.text(x + 10, 82 + 15 * j, line, 11)
        if i < len(STEPS) - 1:
            c.line(x + 176, 88, x + 196, 88, svg.INK, 1.3, arrow=True)
        x += 196

    tables(c, 40, 190, "old Version",
           (("L0", ("8",)), ("L1", ("5", "6")), ("L2", ("7",))), svg.LATER_FILL)
    tables(c, 510, 190, "new Version",
           (("L0", ()), ("L1", ("9", "10")), ("L2", ("7",))), svg.HERE_FILL)

    # The engine's pointer moves in ③; readers keep what they took.
    c.box(330, 156, 140, 40, ("engine state:", "current Version"), 11, svg.BUILT_FILL)
    c.polyline([(330, 176), (165, 176), (165, 188)], svg.MUTED, 1.2, dash="4 3", arrow=True)
    c.text(190, 170, "before ③", 10.5, svg.MUTED, italic=True)
    c.polyline([(470, 176), (635, 176), (635, 188)], svg.ACCENT, 1.6, arrow=True)
    c.text(560, 170, "from ③ on", 10.5, svg.ACCENT, italic=True)

    c.box(330, 236, 140, 40, ("reader A: a scan", "begun before ③"), 11, svg.BUILT_FILL)
    c.line(330, 256, 292, 256, svg.INK, 1.3, arrow=True)
    c.box(330, 290, 140, 40, ("reader B: a get", "begun after ③"), 11, svg.BUILT_FILL)
    c.polyline([(470, 310), (500, 310), (500, 256), (508, 256)], svg.INK, 1.3, arrow=True)

    c.caption(352, (
        "Reader A finishes on the old Version: tables 5, 6 and 8 stay open through its Arcs after "
        "④ unlinks their files (an open",
        "file stays readable until its last handle closes). Table 7 is not copied: both Versions "
        "hold the same Arc. ② and ③ both",
        "happen under the manifest lock, so the order of edits in the manifest is the order of "
        "Versions in memory. A crash before ②",
        "leaves 9 and 10 unnamed, and open deletes them. A long compaction repeats ②–④ for each "
        "lower-level input its merge has",
        "passed. A flush takes the same steps with one table; its edit carries the new log "
        "number, and ④ deletes the logs below it.",
    ))
    return {"version-swap.svg": c.render()}
