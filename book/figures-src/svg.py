"""A small SVG writer for the book's figures: boxes, text, lines and arrows, and nothing else.

Every figure is drawn on a white background so that it reads the same in mdBook's light and
dark themes, and every label is real `<text>`, so it can be searched, copied and read by a
screen reader. The output is deterministic (same input, same bytes), which is what lets
`make_figures.py --check` compare the committed files with a fresh run.

Text widths are estimated, not measured (no font library in the standard library), with a
deliberately generous width per character; `Canvas.text_box` refuses a label that would not fit
its box by that estimate, so a label that grows is caught when the figures are generated, not by
a reader squinting at an overflowing box.
"""

from html import escape

FONT = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"

# One palette for every figure.
INK = "#1f2328"  # text and lines
MUTED = "#6e7781"  # secondary text
FAINT = "#a8b0b8"  # later lessons: dashed outlines, faded text
FRAME = "#d0d7de"  # region frames
HERE_FILL = "#ffd666"  # the part a chapter is about
HERE_STROKE = "#ad6800"
BUILT_FILL = "#ffffff"
LATER_FILL = "#f6f8fa"
ACCENT = "#0969da"  # arrows that carry the story (a read, a swap)
WARN = "#cf222e"  # a stall, a deletion

# Estimated width of one character, as a fraction of the font size (bold is wider).
CHAR_WIDTH = 0.62
BOLD_CHAR_WIDTH = 0.68


def text_width(text, size, bold=False):
    """A generous estimate of how wide `text` is drawn at `size` pixels."""
    return len(text) * size * (BOLD_CHAR_WIDTH if bold else CHAR_WIDTH)


class Canvas:
    """An SVG document being drawn, element by element, in painting order."""

    def __init__(self, width, height, title):
        self.width = width
        self.height = height
        self.title = title
        self.items = []

    def rect(self, x, y, w, h, fill="none", stroke=INK, width=1.0, dash=None, radius=4):
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.items.append(
            f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="{radius:g}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{width:g}"{extra}/>'
        )

    def text(self, x, y, text, size=12, color=INK, bold=False, anchor="start", italic=False,
             mono=False):
        style = ""
        if bold:
            style += ' font-weight="bold"'
        if italic:
            style += ' font-style="italic"'
        family = MONO if mono else FONT
        self.items.append(
            f'<text x="{x:g}" y="{y:g}" font-family="{family}" font-size="{size:g}" '
            f'fill="{color}" text-anchor="{anchor}"{style}>{escape(text, quote=False)}</text>'
        )

    def text_box(self, x, y, w, h, lines, size=12, color=INK, bold=False, pad=6):
        """`lines` centred in the box (x, y, w, h); fails if a line would not fit."""
        for line in lines:
            need = text_width(line, size, bold) + 2 * pad
            if need > w:
                raise ValueError(f"label {line!r} needs about {need:.0f} px, the box has {w}")
        line_height = size * 1.25
        if line_height * len(lines) > h:
            raise ValueError(f"{len(lines)} lines of {lines!r} do not fit a box {h} px high")
        top = y + (h - line_height * len(lines)) / 2 + size * 0.95
        for i, line in enumerate(lines):
            self.text(x + w / 2, top + i * line_height, line, size, color, bold, "middle")

    def caption(self, top, lines):
        """A figure's explanation under it: small muted lines from `top` down."""
        for i, line in enumerate(lines):
            self.text(16, top + 13 * i, line, 10.5, MUTED)

    def box(self, x, y, w, h, lines, size=12, fill=BUILT_FILL, stroke=INK, bold=False,
            color=INK, dash=None, width=1.2):
        """A rectangle with `lines` centred in it."""
        self.rect(x, y, w, h, fill, stroke, width, dash)
        self.text_box(x, y, w, h, lines, size, color, bold)

    def line(self, x1, y1, x2, y2, color=INK, width=1.2, dash=None, arrow=False):
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        if arrow:
            extra += f' marker-end="url(#{self._marker(color)})"'
        self.items.append(
            f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="{color}" '
            f'stroke-width="{width:g}"{extra}/>'
        )

    def polyline(self, points, color=INK, width=1.2, dash=None, arrow=False):
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        if arrow:
            extra += f' marker-end="url(#{self._marker(color)})"'
        joined = " ".join(f"{x:g},{y:g}" for x, y in points)
        self.items.append(
            f'<polyline points="{joined}" fill="none" stroke="{color}" '
            f'stroke-width="{width:g}" stroke-linejoin="round"{extra}/>'
        )

    def _marker(self, color):
        return "arrow-" + color.lstrip("#")

    def render(self):
        colors = sorted({item.split('marker-end="url(#arrow-')[1].split(")")[0]
                         for item in self.items if "marker-end" in item})
        defs = "".join(
            f'<marker id="arrow-{c}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
            f'fill="#{c}"/></marker>'
            for c in colors
        )
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" role="img" '
            f'aria-label="{escape(self.title)}">\n'
            f"<title>{escape(self.title, quote=False)}</title>\n"
        )
        if defs:
            head += f"<defs>{defs}</defs>\n"
        background = (f'<rect x="0" y="0" width="{self.width}" height="{self.height}" '
                      'fill="#ffffff"/>\n')
        return head + background + "\n".join(self.items) + "\n</svg>\n"
