"""The "you are here" map: one outline of the whole engine, drawn once per chapter.

Every lesson chapter opens with the same picture of lesson 07's engine — what lives in memory,
what lives on disk — with the parts that chapter adds highlighted, the parts earlier lessons
built drawn plainly, and the parts still to come dashed and faded. One description (`PARTS`)
drives every map, so the maps cannot drift apart: a part moved here moves in all of them.

A part that a later lesson retires (lesson 04's parallel probes, lesson 02's `TABLES` list,
both replaced in lesson 07) is drawn dashed, with a note, from that lesson on.
"""

from dataclasses import dataclass

import svg


@dataclass(frozen=True)
class Part:
    key: str
    lesson: int
    lines: tuple
    x: float
    y: float
    w: float
    h: float
    retired_in: int = 0  # the lesson that replaces this part (0: never)
    size: float = 12


# Memory on the left, disk on the right; the SSTables box contains the table's parts.
PARTS = (
    Part("contract", 0, ("lesson 00 — the KvStore contract · Stats counters · shared tests · "
                         "kv-cli, one command line",), 16, 46, 768, 32),
    Part("group", 7, ("write batches", "group commit"), 28, 122, 170, 44),
    Part("memtable", 1, ("memtable",), 210, 122, 170, 44),
    Part("versions", 7, ("sequence numbers", "snapshots · scans"), 28, 178, 170, 44),
    Part("imm", 7, ("immutable memtable",), 210, 178, 170, 44),
    Part("parallel", 4, ("parallel probes",), 28, 234, 170, 44, retired_in=7),
    Part("background", 7, ("background threads", "flush · compaction"), 210, 234, 170, 44),
    Part("bloom", 7, ("bloom filters",), 28, 290, 170, 44),
    Part("cache", 7, ("block cache",), 210, 290, 170, 44),
    Part("wal", 1, ("write-ahead log",), 420, 122, 140, 44),
    Part("tables_list", 2, ("TABLES",), 570, 122, 102, 44, retired_in=7, size=11),
    Part("manifest", 7, ("manifest", "CURRENT"), 684, 122, 88, 44, size=11),
    Part("sstables", 2, (), 420, 178, 352, 112),
    Part("levels", 7, ("levels L0 … L6 · leveled compaction",), 432, 202, 328, 28),
    Part("index", 3, ("index",), 432, 238, 100, 42),
    Part("blocks", 5, ("blocks · shared prefixes", "codec: none · LZ4 · zstd"),
         542, 238, 218, 42, size=11),
    Part("checksums", 6, ("CRC-32 on every block, log record and TABLES",),
         420, 300, 352, 34, size=11),
)

TITLES = {
    0: "Lesson 00 — the contract every stage keeps",
    1: "Lesson 01 — a memtable in front of a write-ahead log",
    2: "Lesson 02 — the memtable flushes to sorted tables",
    3: "Lesson 03 — an index in every table",
    4: "Lesson 04 — probe many tables at once",
    5: "Lesson 05 — blocks, shared prefixes and a codec",
    6: "Lesson 06 — a checksum on everything written",
    7: "Lesson 07 — the full engine",
}

# The lesson 07 chapter's parts, each highlighting what it explains.
LESSON_07_PARTS = {
    "versions": ("Lesson 07 · versions, snapshots and scans", {"versions", "memtable"}),
    "writes": ("Lesson 07 · the write path", {"group", "imm", "background"}),
    "manifest": ("Lesson 07 · the manifest", {"manifest"}),
    "compaction": ("Lesson 07 · leveled compaction", {"levels", "background"}),
    "reads": ("Lesson 07 · bloom filters and the block cache", {"bloom", "cache"}),
}

WIDTH, HEIGHT = 800, 376


def state_of(part, lesson, here):
    """How `part` is drawn on lesson `lesson`'s map: here, built, later or retired."""
    if part.lesson > lesson:
        return "later"
    if part.retired_in and lesson >= part.retired_in:
        return "retired"
    if part.key in here:
        return "here"
    return "built"


def draw_part(canvas, part, state):
    fill, stroke, ink, dash, width = {
        "here": (svg.HERE_FILL, svg.HERE_STROKE, svg.INK, None, 2.2),
        "built": (svg.BUILT_FILL, svg.INK, svg.INK, None, 1.1),
        "later": (svg.LATER_FILL, svg.FAINT, svg.FAINT, "5 4", 1.1),
        "retired": (svg.BUILT_FILL, svg.MUTED, svg.MUTED, "2 3", 1.1),
    }[state]
    if part.key == "sstables" and state == "here":
        fill = "#fff4cc"  # the container: lighter, so the parts inside stay readable
    canvas.rect(part.x, part.y, part.w, part.h, fill, stroke, width, dash)
    tag = f"{part.lesson:02d}"
    if part.key == "sstables":
        canvas.text(part.x + 10, part.y + 16, "SSTables: sorted, immutable files", 12, ink,
                    bold=state == "here")
        canvas.text(part.x + part.w - 6, part.y + 14, tag, 10, ink, anchor="end")
        return
    lines = part.lines
    if state == "retired":
        lines = lines + (f"retired in {part.retired_in:02d}",)
    size = part.size if len(lines) <= 2 else part.size - 2
    canvas.text_box(part.x + 6, part.y, part.w - 12, part.h, lines, size, ink,
                    bold=state == "here", pad=0)
    if part.key != "contract":
        # The lesson number sits on the top border, like a fieldset's legend.
        canvas.rect(part.x + part.w - 24, part.y - 6, 18, 11, "#ffffff", "none", 0, radius=0)
        canvas.text(part.x + part.w - 15, part.y + 4, tag, 10, ink, bold=state == "here",
                    anchor="middle")
    else:
        canvas.text(part.x + part.w - 6, part.y + 20, tag, 10, ink, anchor="end")


def legend(canvas, lesson, part_of_07):
    """The key. A lesson-07 map has nothing later to show, but retired parts."""
    here = ("this part" if part_of_07 else "this chapter", svg.HERE_FILL, svg.HERE_STROKE, None)
    rest = ("the rest of the engine" if part_of_07 else "built earlier", svg.BUILT_FILL, svg.INK,
            None)
    if lesson >= 7:
        other = ("retired", svg.BUILT_FILL, svg.MUTED, "2 3")
    else:
        other = ("a later lesson", svg.LATER_FILL, svg.FAINT, "4 3")
    entries = (here, rest, other)
    x = 16
    for label, fill, stroke, dash in entries:
        canvas.rect(x, HEIGHT - 22, 16, 14, fill, stroke, 1.2, dash, radius=2)
        canvas.text(x + 22, HEIGHT - 10, label, 11, svg.MUTED)
        x += 22 + svg.text_width(label, 11) + 14
    canvas.text(WIDTH - 16, HEIGHT - 10, "the number on a box: the lesson that builds it", 11,
                svg.MUTED, anchor="end")


def engine_map(title, lesson, here, part_of_07=False):
    canvas = svg.Canvas(WIDTH, HEIGHT, f"Where this chapter is in the engine: {title}")
    canvas.text(16, 27, title, 15, svg.INK, bold=True)
    legend(canvas, lesson, part_of_07)
    canvas.rect(16, 92, 376, 252, "none", svg.FRAME, 1, radius=6)
    canvas.rect(408, 92, 376, 252, "none", svg.FRAME, 1, radius=6)
    canvas.text(28, 111, "in memory", 11, svg.MUTED, italic=True)
    canvas.text(420, 111, "on disk", 11, svg.MUTED, italic=True)
    for part in PARTS:
        draw_part(canvas, part, state_of(part, lesson, here))
    return canvas.render()


def figures():
    """Every map: name → SVG text."""
    out = {}
    for lesson, title in TITLES.items():
        here = {p.key for p in PARTS if p.lesson == lesson}
        if lesson == 0:
            here = {"contract"}
        out[f"map-lesson-{lesson:02d}.svg"] = engine_map(title, lesson, here)
    for name, (title, here) in LESSON_07_PARTS.items():
        out[f"map-lesson-07-{name}.svg"] = engine_map(title, 7, here, part_of_07=True)
    return out
