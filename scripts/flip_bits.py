#!/usr/bin/env python3
"""Flip random single bits in the files of a lesson-06 store; no read may return a wrong value.

    python3 scripts/flip_bits.py BINARY [--flips N] [--seed S] [--keys K] [--keep DIR]

BINARY is lesson 06's binary (target/debug/rkv-06-checksums) or any later stage that promises
"corruption is an error, never a value". The script knows the store only through the shell
protocol of lessons/kv-cli/src/lib.rs:

1. It builds a store in a temporary directory through `BINARY shell`: K keys put, every fifth
   overwritten, every ninth deleted, a few more writes after the last flush, all with
   `--set memtable_bytes=2048 --set block_bytes=256`, so that there are several tables of
   several blocks each, a `TABLES` file, and a log with records in it.
2. N times, each time on a fresh copy of that directory, it flips one random bit of one file
   (the kind of file - table, log, TABLES - taken in turn, so each gets its share; the file and
   the bit at random), then runs `BINARY shell` with a `get` of every key ever written, of a
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
KINDS = ("table", "log", "TABLES")


def shell(binary, directory, lines):
    """Runs one shell session; returns (exit status, stdout lines, stderr text)."""
    done = subprocess.run(
        [binary, "--dir", directory, *SETTINGS, "shell"],
        input="".join(line + "\n" for line in lines).encode(),
        capture_output=True,
        timeout=TIMEOUT,
    )
    out = done.stdout.decode("utf-8", "replace").splitlines()
    return done.returncode, out, done.stderr.decode("utf-8", "replace")


def build(binary, directory, keys, rng):
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
    status, out, err = shell(binary, directory, lines)
    if status != 0 or out != ["OK"] * len(lines):
        sys.exit(f"building the store failed (status {status}): {err.strip() or out[-3:]}")
    return expected


def kind_of(name):
    if name.endswith(".sst"):
        return "table"
    if name.endswith(".log"):
        return "log"
    return "TABLES"


def check(binary, directory, expected, probes):
    """Reads everything; returns (verdict, detail). Verdicts: open, get, scan, unnoticed,
    wrong, panic, failure."""
    live = sorted((k, v) for k, v in expected.items() if v is not None)
    lines = [f"get {key}" for key in probes] + ["scan"]
    status, out, err = shell(binary, directory, lines)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", help="the lesson-06 binary, e.g. target/debug/rkv-06-checksums")
    parser.add_argument("--flips", type=int, default=300, help="bit flips to try (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--keys", type=int, default=400, help="keys in the store (default 400)")
    parser.add_argument("--keep", metavar="DIR", help="copy every store with a failure here")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="rkv-flip-") as work:
        template = os.path.join(work, "template")
        expected = build(binary, template, args.keys, rng)
        probes = sorted(expected) + ["absent", "key99999", "zzz"]
        files = {kind: [] for kind in KINDS}
        for name in sorted(os.listdir(template)):
            if name != "LOCK":
                files[kind_of(name)].append(name)
        sizes = {
            kind: sum(os.path.getsize(os.path.join(template, name)) for name in names)
            for kind, names in files.items()
        }
        print(
            f"store: {len(files['table'])} tables ({sizes['table']} bytes), "
            f"{len(files['log'])} log ({sizes['log']} bytes), "
            f"{len(files['TABLES'])} TABLES ({sizes['TABLES']} bytes); {len(expected)} keys"
        )
        for kind in KINDS:
            if not files[kind]:
                sys.exit(f"the store has no {kind} file: {sorted(os.listdir(template))}")
        verdict, detail = check(binary, template, expected, probes)
        if verdict != "unnoticed":
            sys.exit(f"the undamaged store does not read back correctly: {verdict}: {detail}")

        verdicts = ("open", "get", "scan", "unnoticed", "wrong", "panic", "failure")
        counts = {kind: dict.fromkeys(verdicts, 0) for kind in KINDS}
        problems = []
        for n in range(args.flips):
            kind = KINDS[n % len(KINDS)]
            name = rng.choice(files[kind])
            size = os.path.getsize(os.path.join(template, name))
            at, bit = rng.randrange(size), rng.randrange(8)
            copy = os.path.join(work, "copy")
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(template, copy)
            with open(os.path.join(copy, name), "r+b") as f:
                f.seek(at)
                byte = f.read(1)[0]
                f.seek(at)
                f.write(bytes([byte ^ (1 << bit)]))
            verdict, detail = check(binary, copy, expected, probes)
            counts[kind][verdict] += 1
            if verdict in ("wrong", "panic", "failure"):
                problems.append(f"{verdict.upper()}: {name} byte {at} bit {bit}: {detail}")
                if args.keep:
                    shutil.copytree(copy, os.path.join(args.keep, f"flip-{n}"), dirs_exist_ok=True)

    print(f"flips: {args.flips} (seed {args.seed}), one bit each, every time on a fresh copy")
    print(f"{'file':>8} {'flips':>6} {'open':>6} {'get':>6} {'scan':>6} {'unnoticed':>10} "
          f"{'wrong':>6} {'panic':>6} {'failure':>8}")
    for kind in KINDS:
        c = counts[kind]
        print(f"{kind:>8} {sum(c.values()):>6} {c['open']:>6} {c['get']:>6} {c['scan']:>6} "
              f"{c['unnoticed']:>10} {c['wrong']:>6} {c['panic']:>6} {c['failure']:>8}")
    total = {v: sum(counts[k][v] for k in KINDS) for v in verdicts}
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
