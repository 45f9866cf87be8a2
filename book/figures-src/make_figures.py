#!/usr/bin/env python3
"""Writes the book's figures (SVG) into book/src/figures/, or checks that they are current.

    python3 book/figures-src/make_figures.py          # (re)write every figure
    python3 book/figures-src/make_figures.py --check  # exit 1 if a committed figure differs
    python3 book/figures-src/make_figures.py --check-graph  # the lesson graph vs cargo metadata

Python 3 standard library only. Each module beside this one draws one kind of figure from one
description, so a change to the engine's outline or the lesson graph is made once and every
picture that shows it follows. CI runs `--check`, so a figure edited by hand, or a description
changed without regenerating, fails the build the same way a stale include does.
"""

import argparse
import pathlib
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ beside the sources

import engine_map  # noqa: E402  (after the line above, on purpose)
import flush_timeline  # noqa: E402
import lesson_graph  # noqa: E402
import read_path  # noqa: E402
import version_swap  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "src" / "figures"


def all_figures():
    figures = {}
    for module in (engine_map, lesson_graph, flush_timeline, read_path, version_swap):
        for name, text in module.figures().items():
            if name in figures:
                raise SystemExit(f"two figures are both called {name}")
            figures[name] = text
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed files instead of writing them")
    parser.add_argument("--check-graph", action="store_true",
                        help="compare the lesson graph's edges with `cargo metadata`")
    args = parser.parse_args()
    if args.check_graph:
        problems = lesson_graph.check_edges(OUT.parent.parent.parent)
        for problem in problems:
            print(f"lesson-graph.svg: {problem}", file=sys.stderr)
        if problems:
            print("change book/figures-src/lesson_graph.py to match the crates", file=sys.stderr)
            return 1
        print("lesson graph: every edge drawn or noted is a dependency, and the other way round")
        return 0
    figures = all_figures()
    if args.check:
        stale = [name for name, text in sorted(figures.items())
                 if not (OUT / name).exists() or (OUT / name).read_text() != text]
        extra = sorted(p.name for p in OUT.glob("*.svg") if p.name not in figures)
        for name in stale:
            print(f"stale or missing: book/src/figures/{name}", file=sys.stderr)
        for name in extra:
            print(f"not made by this script: book/src/figures/{name}", file=sys.stderr)
        if stale or extra:
            print("run: python3 book/figures-src/make_figures.py", file=sys.stderr)
            return 1
        print(f"figures: {len(figures)} SVG files in book/src/figures/ match their descriptions")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(figures.items()):
        (OUT / name).write_text(text)
    print(f"figures: wrote {len(figures)} SVG files to book/src/figures/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
