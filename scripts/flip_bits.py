#!/usr/bin/env python3
"""Flip random single bits in the files of a store; no read may return a wrong value.

    python3 scripts/flip_bits.py BINARY [--flips N] [--seed S] [--keys K] [--keep DIR]
                                        [--set NAME=VALUE ...]

BINARY is lesson 06's binary (target/debug/rkv-06-checksums) or any later stage that promises
"corruption is an error, never a value", such as lesson 07's engine:

    python3 scripts/flip_bits.py target/debug/rkv-07-engine --flips 300 \
        --set table_bytes=2048 --set base_level_bytes=8192

The script knows the store only through the shell protocol of lessons/kv-cli/src/lib.rs:

1. It builds a store in a temporary directory through `BINARY shell`: K keys put, every fifth
   overwritten, every ninth deleted, a few more writes after the last flush, all with
   `--set memtable_bytes=2048 --set block_bytes=256` (and any `--set` given), so that there
   are several tables of several blocks each and a log with records in it, beside whatever
   else the stage keeps (lesson 06: `TABLES`; lesson 07: bloom filters, a manifest and
   `CURRENT`). The shell has exited - and a stage with background threads has finished their
   work - before the files are listed; the directory is then never opened again, so the list
   stays true.
2. N times, each time on a fresh copy of that directory, it flips one random bit of one file
   (the kinds of file, told by name - table `.sst`, `.filter`, `.log`, `.manifest`, `CURRENT`,
   `TABLES` - taken in turn, so each kind present gets its share; the file and the bit at
   random), then runs `BINARY shell` on the copy with a `get` of every key ever written, of a
   few keys never written, and a full `scan`, and checks every reply:
     - the right value, `(nil)` for a deleted or unknown key, the right scan entry: correct;
     - a line starting with `ERR`: the damage was noticed by that read;
     - anything else: a WRONG VALUE.
   An open that fails (non-zero exit, one line on stderr, no reply) noticed the damage too. Exit
   status 101 or "panicked" on stderr is a PANIC.
3. It prints a summary per file kind and exits with status 1 if there was any wrong value, any
   panic or any other failure of the binary; 0 otherwise. (A flip nobody noticed is reported
   but is not a failure: it is possible only in bytes that no read needs.)

Standard library only.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile

SETTINGS = ["--set", "memtable_bytes=2048", "--set", "block_bytes=256"]
TIMEOUT = 120.0  # seconds for one shell session (generous: debug builds on slow CI machines)
# Every kind of file a stage may keep, in the order flips take them; a store has some of them.
KINDS = ("table", "filter", "log", "manifest", "CURRENT", "TABLES", "other")
# How the summary line names them.
LABELS = {"table": "tables", "filter": "filters"}


def shell(binary, directory, settings, lines):
    """Runs one shell session to its end; returns (exit status, stdout lines, stderr text)."""
    done = subprocess.run(
        [binary, "--dir", directory, *settings, "shell"],
        input="".join(line + "\n" for line in lines).encode(),
        capture_output=True,
        timeout=TIMEOUT,
    )
    out = done.stdout.decode("utf-8", "replace").splitlines()
    return done.returncode, out, done.stderr.decode("utf-8", "replace")


def build(binary, directory, settings, keys, rng):
    """Writes the store; returns {key: value or None} for every key written."""
    expected = {}
    lines = []
    for i in range(keys):
        key = f"key{i:05d}"
        value = f"v{i}-" + "".join(rng.choice("abcdefghij") for _ in range(rng.randrange(8, 60)))
        lines.append(f"put {key} {value}")
        expected[key] = value
    for i in range(0, keys, 5):
        key = f"key{i:05d}"
        expected[key] = f"second-{i}"
        lines.append(f"put {key} {expected[key]}")
    for i in range(0, keys, 9):
        key = f"key{i:05d}"
        expected[key] = None
        lines.append(f"del {key}")
    lines.append("flush")
    for i in range(8):
        key = f"log{i}"
        expected[key] = f"only-in-the-log-{i}"
        lines.append(f"put {key} {expected[key]}")
    lines.append("del key00001")
    expected["key00001"] = None
    status, out, err = shell(binary, directory, settings, lines)
    if status != 0 or out != ["OK"] * len(lines):
        sys.exit(f"building the store failed (status {status}): {err.strip() or out[-3:]}")
    return expected


def kind_of(name):
    """The kind of a file, told by its name."""
    for ext, kind in ((".sst", "table"), (".filter", "filter"), (".log", "log"),
                      (".manifest", "manifest")):
        if name.endswith(ext):
            return kind
    if name in ("CURRENT", "TABLES"):
        return name
    return "other"


def check(binary, directory, settings, expected, probes):
    """Reads everything; returns (verdict, detail). Verdicts: open, get, scan, unnoticed,
    wrong, panic, failure."""
    live = sorted((k, v) for k, v in expected.items() if v is not None)
    lines = [f"get {key}" for key in probes] + ["scan"]
    status, out, err = shell(binary, directory, settings, lines)
    if status == 101 or "panicked" in err:
        return "panic", err.strip().splitlines()[-1:] or [f"status {status}"]
    if status != 0:
        stderr_lines = err.strip().splitlines()
        if not out and len(stderr_lines) == 1 and stderr_lines[0].startswith("error: "):
            return "open", stderr_lines[0]
        return "failure", f"status {status}, stdout {out[:3]}, stderr {stderr_lines[:3]}"
    noticed = None
    if len(out) < len(probes) + 1:
        return "failure", f"only {len(out)} reply lines for {len(probes)} gets and a scan"
    for key, reply in zip(probes, out):
        want = expected.get(key)
        if reply.startswith("ERR"):
            noticed = noticed or ("get", reply)
        elif reply != (want if want is not None else "(nil)"):
            return "wrong", f"get {key} answered {reply!r}, expected {want!r}"
    scan = out[len(probes):]
    for n, reply in enumerate(scan):
        if reply.startswith("ERR"):
            noticed = noticed or ("scan", reply)
            break
        if reply == "END":
            if n != len(live):
                return "wrong", f"scan ended after {n} entries, expected {len(live)}"
            break
        if n >= len(live) or reply != f"{live[n][0]} {live[n][1]}":
            want = f"{live[n][0]} {live[n][1]}" if n < len(live) else "END"
            return "wrong", f"scan entry {n} was {reply!r}, expected {want!r}"
    else:
        return "failure", "the scan reply has no END"
    return noticed or ("unnoticed", "")


def fresh_copy(template, copy):
    """`copy` becomes a copy of `template` (without its lock file)."""
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(template, copy, ignore=shutil.ignore_patterns("LOCK"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", help="a stage's binary, e.g. target/debug/rkv-06-checksums")
    parser.add_argument("--flips", type=int, default=300, help="bit flips to try (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--keys", type=int, default=400, help="keys in the store (default 400)")
    parser.add_argument("--keep", metavar="DIR", help="copy every store with a failure here")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="another store option, after the defaults (repeatable)")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    settings = SETTINGS + [arg for setting in args.set for arg in ("--set", setting)]
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="rkv-flip-") as work:
        template = os.path.join(work, "template")
        copy = os.path.join(work, "copy")
        # `build` returns once the shell has exited: the files are complete and at rest.
        expected = build(binary, template, settings, args.keys, rng)
        probes = sorted(expected) + ["absent", "key99999", "zzz"]
        files = {kind: [] for kind in KINDS}
        for name in sorted(os.listdir(template)):
            if name != "LOCK":
                files[kind_of(name)].append(name)
        kinds = [kind for kind in KINDS if files[kind]]
        sizes = {
            kind: sum(os.path.getsize(os.path.join(template, name)) for name in files[kind])
            for kind in kinds
        }
        shape = ", ".join(
            f"{len(files[kind])} {LABELS.get(kind, kind)} ({sizes[kind]} bytes)" for kind in kinds
        )
        print(f"store: {shape}; {len(expected)} keys")
        for kind in ("table", "log"):
            if not files[kind]:
                sys.exit(f"the store has no {kind} file: {sorted(os.listdir(template))}")
        # Opening a store may change its files (a stage may flush its log, rewrite its manifest
        # or compact), so even the undamaged check reads a copy: the template is never opened.
        fresh_copy(template, copy)
        verdict, detail = check(binary, copy, settings, expected, probes)
        if verdict != "unnoticed":
            sys.exit(f"the undamaged store does not read back correctly: {verdict}: {detail}")

        verdicts = ("open", "get", "scan", "unnoticed", "wrong", "panic", "failure")
        counts = {kind: dict.fromkeys(verdicts, 0) for kind in kinds}
        problems = []
        for n in range(args.flips):
            kind = kinds[n % len(kinds)]
            name = rng.choice(files[kind])
            size = os.path.getsize(os.path.join(template, name))
            at, bit = rng.randrange(size), rng.randrange(8)
            fresh_copy(template, copy)
            with open(os.path.join(copy, name), "r+b") as f:
                f.seek(at)
                byte = f.read(1)[0]
                f.seek(at)
                f.write(bytes([byte ^ (1 << bit)]))
            verdict, detail = check(binary, copy, settings, expected, probes)
            counts[kind][verdict] += 1
            if verdict in ("wrong", "panic", "failure"):
                problems.append(f"{verdict.upper()}: {name} byte {at} bit {bit}: {detail}")
                if args.keep:
                    shutil.copytree(copy, os.path.join(args.keep, f"flip-{n}"), dirs_exist_ok=True)

    print(f"flips: {args.flips} (seed {args.seed}), one bit each, every time on a fresh copy")
    print(f"{'file':>8} {'flips':>6} {'open':>6} {'get':>6} {'scan':>6} {'unnoticed':>10} "
          f"{'wrong':>6} {'panic':>6} {'failure':>8}")
    for kind in kinds:
        c = counts[kind]
        print(f"{kind:>8} {sum(c.values()):>6} {c['open']:>6} {c['get']:>6} {c['scan']:>6} "
              f"{c['unnoticed']:>10} {c['wrong']:>6} {c['panic']:>6} {c['failure']:>8}")
    total = {v: sum(counts[k][v] for k in kinds) for v in verdicts}
    print(f"{'total':>8} {args.flips:>6} {total['open']:>6} {total['get']:>6} {total['scan']:>6} "
          f"{total['unnoticed']:>10} {total['wrong']:>6} {total['panic']:>6} {total['failure']:>8}")
    print("(open: the store refused to open with a one-line error; get / scan: that read answered "
          "ERR and the shell went on)")
    for problem in problems[:20]:
        print(problem)
    if problems:
        print(f"FAILED: {total['wrong']} wrong values, {total['panic']} panics, "
              f"{total['failure']} other failures")
        return 1
    print("OK: zero wrong values, zero panics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
