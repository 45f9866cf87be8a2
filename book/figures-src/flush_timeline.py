"""The flush, as a timeline: a memtable fills, freezes, is written in the background, is
installed, and its log is deleted.

Drawn from lesson 07's code: the writer that finds the memtable full rotates it (a new log file,
the directory fsynced, the full memtable becomes the immutable one); the flush thread writes it
as an L0 table with its filter, fsyncs them and the directory; the install appends the manifest
edit (fsynced) and swaps the new Version in and the immutable memtable out in one step under the
state lock; then the logs below the new log number are deleted. The file numbers are those of
the manifest chapter's example (log 2, rotation to log 3, table 4).
"""

import svg

WIDTH, HEIGHT = 800, 440
LANE_X = 150  # where the time axis starts
T_START, T_ROTATE, T_WRITE, T_SYNCED, T_INSTALL, T_DELETE, T_END = (
    150, 330, 340, 560, 580, 662, 784)

LANES = (  # (name, y of the lane's top)
    ("writers", 62),
    ("memtables", 112),
    ("log files", 162),
    ("flush thread", 212),
    ("manifest", 262),
    ("a reader's picture", 312),
)
LANE_H = 38


def lane_y(name):
    return dict(LANES)[name]


def segment(c, lane, x1, x2, lines, fill=svg.BUILT_FILL, stroke=svg.INK, dash=None, size=11,
            color=svg.INK, bold=False):
    c.box(x1, lane_y(lane) + 2, x2 - x1, LANE_H - 4, lines, size, fill, stroke, bold, color,
          dash, 1.1)


def figures():
    c = svg.Canvas(WIDTH, HEIGHT, "The flush, step by step in time")
    c.text(16, 28, "The flush: memtable full → frozen → written in the background → installed "
           "→ log deleted", 14, bold=True)
    for name, y in LANES:
        c.text(16, y + LANE_H / 2 + 4, name, 12, svg.MUTED)
        c.line(LANE_X, y + LANE_H + 5, T_END, y + LANE_H + 5, svg.FRAME, 0.8)

    # The two moments that matter, across every lane.
    for x, label in ((T_ROTATE, "① rotate"), (T_INSTALL, "③ install")):
        c.line(x, 50, x, 356, svg.ACCENT, 1.2, dash="4 3")
        c.text(x, 372, label, 12, svg.ACCENT, bold=True, anchor="middle")
    c.text((T_WRITE + T_SYNCED) / 2, 372, "② write the table", 12, svg.ACCENT, bold=True,
           anchor="middle")
    c.text(T_DELETE + 2, 372, "④ delete", 12, svg.ACCENT, bold=True)

    segment(c, "writers", T_START, T_ROTATE, ("put → log 2, memtable A",))
    segment(c, "writers", T_ROTATE, T_END,
            ("put → log 3, memtable B: never waits for the flush,",
             "unless B fills before ③ (a stall)"))

    segment(c, "memtables", T_START, T_ROTATE, ("A: takes inserts",))
    segment(c, "memtables", T_ROTATE, T_INSTALL, ("A: immutable, still read",),
            svg.LATER_FILL)
    segment(c, "memtables", T_INSTALL, T_END, ("B: takes inserts; A is gone",))

    logs = lane_y("log files")
    c.box(T_START, logs + 1, T_DELETE - T_START, 17, ("000002.log protects A",), 10,
          width=1.0)
    c.text(T_DELETE + 4, logs + 14, "✗ deleted", 11, svg.WARN, bold=True)
    c.box(T_ROTATE, logs + 20, T_END - T_ROTATE, 17,
          ("000003.log (created, directory fsynced) protects B",), 10, width=1.0)

    segment(c, "flush thread", T_START, T_ROTATE, ("asleep",), svg.LATER_FILL, svg.FAINT,
            color=svg.MUTED)
    segment(c, "flush thread", T_WRITE, T_SYNCED,
            ("A → 000004.sst + .filter,", "fsync both and the directory"),
            svg.HERE_FILL, svg.HERE_STROKE)
    segment(c, "flush thread", T_INSTALL + 10, T_END,
            ("deletes logs below 3",), svg.LATER_FILL, svg.FAINT, color=svg.MUTED)

    c.box(T_INSTALL - 140, lane_y("manifest") + 2, 280, LANE_H - 4,
          ("append + fsync one edit: add L0 table 4,", "log number 3, next file, last seq"),
          10, svg.HERE_FILL, svg.HERE_STROKE, width=1.1)

    segment(c, "a reader's picture", T_START, T_ROTATE, ("A + old Version",))
    segment(c, "a reader's picture", T_ROTATE, T_INSTALL, ("B, then A, then old Version",))
    segment(c, "a reader's picture", T_INSTALL, T_END,
            ("B + new Version", "(L0 starts with table 4)"))

    c.caption(394, (
        "③ is one step under the state lock: the new Version comes in and the immutable memtable "
        "goes out together,",
        "so a reader's picture holds A or table 4, never both and never neither. A crash before "
        "③ leaves table 4 unnamed:",
        "open deletes it and replays 000002.log; a crash after ③ and before ④ leaves log 2, which "
        "open deletes.",
    ))
    return {"flush-timeline.svg": c.render()}
