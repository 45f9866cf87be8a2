#!/usr/bin/env python3
"""Outside-in check of an rkv stage binary: drive its `shell` exactly as the contract says.

    python3 scripts/check_shell.py BINARY [--ops N] [--seed S] [--set NAME=VALUE ...]

BINARY is any lesson's binary (target/debug/rkv-01-basic-store, ...). The script knows nothing
about the stage: it speaks only the protocol written in lessons/kv-cli/src/lib.rs and keeps its
own model of the store, a Python dict. Sections, in order:

  random   thousands of random put/get/del/scan/flush/compact/stats/inspect lines, with keys
           and values of arbitrary bytes written in every legal spelling (bare, quoted, \\xHH,
           tabs, CRLF), close-and-reopen in between; every reply is compared with the dict and
           with the canonical quoting of the contract
  empty    an empty value is a value: get answers "", not (nil), before and after a flush and
           a reopen; reserved words as data come back quoted
  junk     random bytes, unterminated quotes, bad escapes, wrong arity, unknown commands and
           very long lines each get exactly one `ERR ...` line, blank lines get none, and the
           shell keeps answering with the data intact
  lock     while one shell has the directory open, a second process is refused at once with a
           non-zero exit and one line on stderr that mentions "locked"
  oneshot  the one-shot commands print what the shell prints
  crash    SIGKILL in the middle of a stream of writes, with --sync never and --sync always;
           after a reopen every acknowledged write is there and the store equals the dict
           after some prefix of the commands sent

Every failure stops the run with a message saying what was sent, what came back and what was
expected, and the exit status 1. Standard library only.
"""

import argparse
import functools
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

REPLY_TIMEOUT = 60.0  # seconds to wait for one reply (generous: CI machines can be slow)
RESERVED = (b"(nil)", b"ERR")
COMMANDS = {
    b"put": (2, 2),
    b"get": (1, 1),
    b"del": (1, 1),
    b"delete": (1, 1),
    b"scan": (0, 2),
    b"flush": (0, 0),
    b"compact": (0, 0),
    b"stats": (0, 0),
    b"inspect": (0, 0),
}
MAX_KEY = 64 * 1024
MAX_VALUE = 16 * 1024 * 1024
STATS_LINE = re.compile(rb"^[a-z_]+=\d+(\.\d+)?( [a-z_]+=\d+(\.\d+)?)*$")


class CheckFailed(Exception):
    """A difference from the contract."""


def fail(message):
    raise CheckFailed(message)


# ---------------------------------------------------------------------------------------------
# Quoting, written from the contract (lessons/kv-cli/src/quote.rs), not from the code.


class TokenError(Exception):
    """A line the tokenizer must refuse."""


BARE = re.compile(rb'[^ \t"]*')
# A quoted token's body, up to its closing quote: any byte but " and \, or \ and any byte.
QUOTED_BODY = re.compile(rb'(?:[^"\\]|\\.)*', re.DOTALL)
# The escapes the contract allows inside quotes.
VALID_BODY = re.compile(rb'(?:[^\\]|\\(?:x[0-9a-fA-F]{2}|[\\"ntr0]))*', re.DOTALL)
ESCAPE = re.compile(rb'\\(x[0-9a-fA-F]{2}|[\\"ntr0])')
UNESCAPE = {b"\\": b"\\", b'"': b'"', b"n": b"\n", b"t": b"\t", b"r": b"\r", b"0": b"\0"}
NOT_PRINTABLE = re.compile(rb'[^\x20-\x7e]')
NEEDS_QUOTES = re.compile(rb'[^\x21-\x7e]|["\\]')


def unescape(match):
    e = match.group(1)
    return bytes([int(e[1:], 16)]) if e[:1] == b"x" else UNESCAPE[e]


def tokenize(line):
    r"""Splits one line (bytes, without its newline) into tokens, or raises TokenError.

    Blanks are spaces and tabs. A bare token is a run of bytes other than blanks and `"`, taken
    as it is; a quoted token is `"..."` with the escapes \\ \" \n \t \r \0 \xHH, and must be
    followed by a blank or the end of the line."""
    tokens = []
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        if c == 0x20 or c == 0x09:
            i += 1
        elif c == 0x22:
            body = QUOTED_BODY.match(line, i + 1)
            end = body.end()
            if end >= n or line[end] != 0x22:  # (a lone backslash can end the body early)
                raise TokenError("unterminated quote")
            if end + 1 < n and line[end + 1] not in (0x20, 0x09):
                raise TokenError("closing quote glued to more bytes")
            if not VALID_BODY.fullmatch(body.group()):
                raise TokenError("bad escape")
            tokens.append(ESCAPE.sub(unescape, body.group()))
            i = end + 1
        else:
            bare = BARE.match(line, i)
            end = bare.end()
            if end < n and line[end] == 0x22:
                raise TokenError("stray quote in a bare token")
            tokens.append(bare.group())
            i = end
    return tokens


def needs_quotes(b):
    return len(b) == 0 or b in RESERVED or NEEDS_QUOTES.search(b) is not None


def escape_byte(c):
    special = {0x5C: b"\\\\", 0x22: b'\\"', 10: b"\\n", 9: b"\\t", 13: b"\\r", 0: b"\\0"}
    if c in special:
        return special[c]
    if 0x20 <= c <= 0x7E:
        return bytes([c])
    return b"\\x%02x" % c


ESCAPED = [escape_byte(c) for c in range(256)]


@functools.lru_cache(maxsize=1 << 16)
def quote(b):
    r"""The canonical reply spelling of `b`: bare when it may be, quoted with escapes otherwise.

    Quoted when empty, (nil), ERR, or holding a byte outside 0x21..0x7E or a " or \; inside the
    quotes \ " LF TAB CR NUL are \\ \" \n \t \r \0, a space stays, other bytes outside
    0x20..0x7E are \xhh (lowercase). (Memoised: the same values are quoted again and again.)"""
    b = bytes(b)
    if not needs_quotes(b):
        return b
    return b'"' + b"".join(map(ESCAPED.__getitem__, b)) + b'"'


def spell(rng, b, last_on_line):
    """One of the many legal request spellings of the token `b` (the shell must read them all)."""
    bare_ok = (len(b) > 0 and not any(c in (0x20, 0x09, 0x22, 0x0A) for c in b)
               and not (last_on_line and b.endswith(b"\r")))
    roll = rng.random()
    if bare_ok and roll < 0.5:
        return bytes(b)  # raw bytes, no escapes: "a\n" bare is three bytes
    if roll < 0.75:
        return quote(b)
    out = bytearray(b'"')
    for c in b:
        choice = rng.random()
        if c == 0x22:
            out += b'\\"' if choice < 0.5 else b"\\x22"
        elif c == 0x5C:
            out += b"\\\\" if choice < 0.5 else b"\\x5C"
        elif c == 0x0A:
            out += b"\\n" if choice < 0.5 else b"\\x0a"
        elif choice < 0.3:
            out += (b"\\x%02X" if rng.random() < 0.5 else b"\\x%02x") % c
        elif c in (9, 13, 0) and choice < 0.6:
            out += {9: b"\\t", 13: b"\\r", 0: b"\\0"}[c]
        else:
            out.append(c)  # any other byte stands for itself inside quotes
    out += b'"'
    return bytes(out)


def request(rng, words):
    """A request line: command words (already bytes tokens) spelled randomly, with varied blanks
    and line endings."""
    seps = [b" ", b" ", b" ", b"\t", b"  ", b" \t "]
    parts = []
    for i, word in enumerate(words):
        if i == 0:
            parts.append(word)
        else:
            parts.append(spell(rng, word, i == len(words) - 1))
    line = b""
    if rng.random() < 0.05:
        line += rng.choice(seps)
    for i, part in enumerate(parts):
        if i:
            line += rng.choice(seps)
        line += part
    if rng.random() < 0.05:
        line += rng.choice(seps)
    if rng.random() < 0.1:
        line += b"\r"  # a trailing CR is dropped
    return line


def show_line(b, limit=160):
    """A protocol line exactly as sent or received, as a Python literal (for messages)."""
    text = repr(bytes(b[:limit]))[1:]  # a bytes literal without its b
    return text if len(b) <= limit else text + "...(%d bytes)" % len(b)


def show(b, limit=160):
    """Data bytes (a key or a value) in the protocol's quoting, for messages."""
    text = quote(bytes(b)).decode("ascii")
    return text if len(text) <= limit else text[:limit] + "...(%d bytes)" % len(b)


# ---------------------------------------------------------------------------------------------
# One running shell.


class Shell:
    """A `BINARY --dir DIR [--sync MODE] [--set ...] shell` child speaking the line protocol."""

    def __init__(self, binary, directory, sets, sync=None):
        self.args = [binary, "--dir", directory]
        if sync:
            self.args += ["--sync", sync]
        for setting in sets:
            self.args += ["--set", setting]
        self.args.append("shell")
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr)
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.sent = []  # the last few lines sent, for messages

    def _read(self):
        for line in iter(self.proc.stdout.readline, b""):
            self.lines.put(line)
        self.lines.put(None)

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def context(self):
        sent = "\n".join("    " + show_line(s) for s in self.sent[-5:])
        return "\n  last lines sent:\n%s\n  stderr: %r" % (sent, self.stderr_text()[-2000:])

    def send(self, line):
        self.sent.append(line)
        if len(self.sent) > 50:
            del self.sent[:25]
        try:
            self.proc.stdin.write(line + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            fail("the shell stopped reading its input (%s)%s" % (e, self.context()))

    def reply_line(self):
        try:
            line = self.lines.get(timeout=REPLY_TIMEOUT)
        except queue.Empty:
            fail("no reply within %d s%s" % (REPLY_TIMEOUT, self.context()))
        if line is None:
            self.proc.wait()
            fail("the shell exited (status %s) instead of replying%s"
                 % (self.proc.returncode, self.context()))
        if not line.endswith(b"\n"):
            fail("reply line without a newline: %r%s" % (line, self.context()))
        line = line[:-1]
        if NOT_PRINTABLE.search(line):
            fail("reply is not one line of printable ASCII: %r%s" % (line, self.context()))
        return line

    def ask(self, line):
        self.send(line)
        return self.reply_line()

    def ask_lines(self, line):
        """Sends a scan or inspect and returns the lines before END (or fails on ERR)."""
        self.send(line)
        out = []
        while True:
            reply = self.reply_line()
            if reply == b"END":
                return out
            if reply.startswith(b"ERR ") or reply == b"ERR":
                fail("%s answered %s after %d lines%s"
                     % (show_line(line), show_line(reply), len(out), self.context()))
            out.append(reply)

    def close(self):
        """Closes stdin (end of input) and expects a clean exit with nothing more said."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            status = self.proc.wait(timeout=REPLY_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("the shell did not exit within %d s of end of input" % REPLY_TIMEOUT)
        self.reader.join(timeout=REPLY_TIMEOUT)
        extra = []
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                extra.append(line)
        if extra:
            fail("the shell printed lines nobody asked for: %r%s" % (extra[:5], self.context()))
        if status != 0:
            fail("the shell exited with status %d at end of input%s" % (status, self.context()))
        if self.stderr_text():
            fail("the shell wrote to stderr: %r" % self.stderr_text()[-2000:])
        self.stderr.close()

    def kill(self):
        self.proc.kill()  # SIGKILL
        self.proc.wait()


# ---------------------------------------------------------------------------------------------
# The model and the checks of replies.


def model_scan(model, start, end):
    return sorted((k, v) for k, v in model.items()
                  if (start is None or k >= start) and (end is None or k < end))


def parse_entry(line, context):
    """A scan line: exactly two tokens, each in canonical spelling."""
    parsed = parse_entry_line(line)
    if isinstance(parsed, str):
        fail("scan line %r %s%s" % (line, parsed, context))
    return parsed


@functools.lru_cache(maxsize=1 << 16)
def parse_entry_line(line):
    """The (key, value) of a scan line, or why it is not one (memoised: scans repeat)."""
    try:
        tokens = tokenize(line)
    except TokenError as e:
        return "does not tokenize (%s)" % e
    if len(tokens) != 2:
        return "has %d tokens, not 2" % len(tokens)
    key, value = tokens
    if line != quote(key) + b" " + quote(value):
        return "is not spelled canonically (expected %r)" % (quote(key) + b" " + quote(value))
    return key, value


def check_get(shell, key, expected, line=None):
    line = line if line is not None else b"get " + quote(key)
    reply = shell.ask(line)
    want = b"(nil)" if expected is None else quote(expected)
    if reply != want:
        fail("%s answered %s, expected %s (%s)%s"
             % (show_line(line), show_line(reply), show_line(want),
                "absent" if expected is None else "%d-byte value" % len(expected),
                shell.context()))


def check_scan(shell, model, start, end, line):
    entries = [parse_entry(l, shell.context()) for l in shell.ask_lines(line)]
    want = model_scan(model, start, end)
    if entries != want:
        got_keys = [k for k, _ in entries]
        want_keys = [k for k, _ in want]
        detail = ""
        for i, (g, w) in enumerate(zip(entries, want)):
            if g != w:
                detail = " first difference at entry %d: got (%s, %s), expected (%s, %s)" % (
                    i, show(g[0]), show(g[1]), show(w[0]), show(w[1]))
                break
        if not detail:
            missing = [show(k) for k in want_keys if k not in got_keys][:5]
            extra = [show(k) for k in got_keys if k not in want_keys][:5]
            detail = " missing %s, unexpected %s" % (missing, extra)
        fail("%s returned %d entries, the model has %d;%s%s"
             % (show_line(line), len(entries), len(want), detail, shell.context()))
    return entries


def check_everything(shell, model):
    check_scan(shell, model, None, None, b"scan")


def check_ok(shell, line, what="OK"):
    reply = shell.ask(line)
    if reply != b"OK":
        fail("%s answered %s, expected %s%s" % (show_line(line), show_line(reply), what, shell.context()))


# ---------------------------------------------------------------------------------------------
# Random data.


def random_bytes(rng, lo, hi):
    return rng.randbytes(rng.randint(lo, hi))


def key_pool(rng):
    pool = [b"k%03d" % i for i in range(40)]
    pool += [b"", b"(nil)", b"ERR", b"END", b"OK", b"nil", b"-1", b"--stats", b"a b", b" lead",
             b"trail ", b'"', b'"quoted"', b"\\", b"back\\slash", b"\x00", b"\x00\x00", b"\xff",
             b"\xff\xff\xff", b"\r", b"\n", b"\t", b"key\r", b"\r\n", b"x\x7f", b"\xc3\xa9t\xc3\xa9",
             b"\\x41", b"ERR x", b"put", b"scan"]
    pool += [random_bytes(rng, 1, 8) for _ in range(20)]
    return pool


def random_value(rng, big):
    roll = rng.random()
    if roll < 0.10:
        return b""
    if roll < 0.14:
        return rng.choice([b"(nil)", b"ERR", b"END", b"OK", b'""', b"\\x00", b" "])
    if roll < 0.50:
        return b"v%d" % rng.randint(0, 10 ** 6)
    if roll < 0.75:
        return random_bytes(rng, 1, 40)
    if roll < 0.90:
        return bytes(rng.choice(b"ab \"\\\t\r\n\x00") for _ in range(rng.randint(1, 20)))
    return random_bytes(rng, 200, big)


def random_bound(rng, pool):
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(pool)
    if roll < 0.8:
        return random_bytes(rng, 0, 3)
    return rng.choice(pool) + random_bytes(rng, 1, 2)


# ---------------------------------------------------------------------------------------------
# The sections.


class Run:
    def __init__(self, args):
        self.binary = args.binary
        self.sets = args.set
        self.ops = args.ops
        self.seed = args.seed
        self.rng = random.Random(args.seed)
        self.scratch = tempfile.mkdtemp(prefix="rkv-check-shell-")
        self.counts = {}
        self.compact_supported = None

    def dir(self, name):
        return os.path.join(self.scratch, name)

    def shell(self, directory, sync=None):
        return Shell(self.binary, directory, self.sets, sync)

    def count(self, what, n=1):
        self.counts[what] = self.counts.get(what, 0) + n

    def compact(self, shell, model):
        reply = shell.ask(b"compact")
        if reply == b"OK":
            if self.compact_supported is False:
                fail("compact answered OK after answering ERR before%s" % shell.context())
            self.compact_supported = True
        elif reply.startswith(b"ERR ") and b"not supported" in reply:
            if self.compact_supported is True:
                fail("compact answered %s after answering OK before%s"
                     % (show_line(reply), shell.context()))
            self.compact_supported = False
        else:
            fail("compact answered %s, expected OK or ERR ... not supported%s"
                 % (show_line(reply), shell.context()))

    # -- (a) random operations against a dict, with close-and-reopen ---------------------------

    def random_ops(self):
        rng = self.rng
        directory = self.dir("random")
        pool = key_pool(rng)
        model = {}
        shell = self.shell(directory)
        since_open = {"puts": 0, "gets": 0, "deletes": 0, "scans": 0}
        reopens = 0
        for op in range(self.ops):
            roll = rng.random()
            if roll < 0.40:
                key = rng.choice(pool) if rng.random() < 0.9 else random_bytes(rng, 0, 12)
                value = random_value(rng, 3000)
                check_ok(shell, request(rng, [b"put", key, value]))
                model[key] = value
                since_open["puts"] += 1
                self.count("put")
            elif roll < 0.65:
                key = rng.choice(pool) if rng.random() < 0.9 else random_bytes(rng, 0, 12)
                line = request(rng, [b"get", key])
                check_get(shell, key, model.get(key), line)
                since_open["gets"] += 1
                self.count("get")
            elif roll < 0.80:
                key = rng.choice(pool)
                check_ok(shell, request(rng, [rng.choice([b"del", b"delete"]), key]))
                model.pop(key, None)
                since_open["deletes"] += 1
                self.count("del")
            elif roll < 0.92:
                shape = rng.random()
                if shape < 0.2:
                    start, end, words = None, None, [b"scan"]
                elif shape < 0.5:
                    start = random_bound(rng, pool)
                    end, words = None, [b"scan", start]
                else:
                    start, end = random_bound(rng, pool), random_bound(rng, pool)
                    if rng.random() < 0.7 and start > end:
                        start, end = end, start
                    words = [b"scan", start, end]
                check_scan(shell, model, start, end, request(rng, words))
                since_open["scans"] += 1
                self.count("scan")
            elif roll < 0.95:
                check_ok(shell, request(rng, [b"flush"]))
                self.count("flush")
            elif roll < 0.96:
                self.compact(shell, model)
                self.count("compact")
            elif roll < 0.975:
                reply = shell.ask(request(rng, [b"stats"]))
                if not STATS_LINE.match(reply):
                    fail("stats answered %s, not name=value pairs%s"
                         % (show_line(reply), shell.context()))
                pairs = dict(p.split(b"=") for p in reply.split(b" "))
                for name, want in since_open.items():
                    got = pairs.get(name.encode())
                    if got is None or int(got) != want:
                        fail("stats says %s=%s, but %d such commands were answered since open%s"
                             % (name, got.decode() if got else "(missing)", want,
                                shell.context()))
                self.count("stats")
            elif roll < 0.98:
                shell.ask_lines(request(rng, [b"inspect"]))
                self.count("inspect")
            else:
                shell.close()
                reopens += 1
                shell = self.shell(directory)
                since_open = dict.fromkeys(since_open, 0)
                check_everything(shell, model)
                since_open["scans"] += 1
                self.count("reopen")
        check_everything(shell, model)
        shell.close()
        shell = self.shell(directory)
        check_everything(shell, model)
        for key in pool:
            check_get(shell, key, model.get(key))
        shell.close()
        return "%d operations, %d reopens, %d live keys at the end" % (
            self.ops, reopens + 1, len(model))

    # -- (d) an empty value is a value -----------------------------------------------------

    def empty_values(self):
        directory = self.dir("empty")
        model = {}
        shell = self.shell(directory)
        for key, value in [(b"e", b""), (b"nil", b"(nil)"), (b"err", b"ERR"), (b"ERR", b"x"),
                           (b"(nil)", b""), (b"", b""), (b"sp", b" "), (b"q", b'""')]:
            check_ok(shell, b"put " + quote(key) + b" " + quote(value))
            model[key] = value
        reply = shell.ask(b'get e')
        if reply != b'""':
            fail('get of an empty value answered %s, expected "" (and never (nil))%s'
                 % (show_line(reply), shell.context()))
        for key, value in model.items():
            check_get(shell, key, value)
        check_get(shell, b"absent", None)
        check_everything(shell, model)
        # Overwriting a value with an empty one, and an empty one with a value.
        check_ok(shell, b'put full x')
        check_ok(shell, b'put full ""')
        model[b"full"] = b""
        check_get(shell, b"full", b"")
        check_ok(shell, b"flush")
        check_get(shell, b"full", b"")
        check_get(shell, b"e", b"")
        shell.close()
        shell = self.shell(directory)
        for key, value in model.items():
            check_get(shell, key, value)
        check_everything(shell, model)
        # A delete does remove it; the empty value was not a delete in disguise.
        check_ok(shell, b"del e")
        del model[b"e"]
        check_get(shell, b"e", None)
        check_ok(shell, b"flush")
        shell.close()
        shell = self.shell(directory)
        check_everything(shell, model)
        shell.close()
        return "empty values, (nil) and ERR as data round-trip through flush and reopen"

    # -- (c) junk input ----------------------------------------------------------------------

    def is_valid_command(self, line):
        """True if the shell would run `line` (so it is not junk); None for a blank line."""
        body = line[:-1] if line.endswith(b"\r") else line
        try:
            tokens = tokenize(body)
        except TokenError:
            return False
        if not tokens:
            return None
        arity = COMMANDS.get(tokens[0])
        return arity is not None and arity[0] <= len(tokens) - 1 <= arity[1]

    def junk(self):
        rng = self.rng
        directory = self.dir("junk")
        shell = self.shell(directory)
        model = {b"keep": b"me", b"": b"empty key", b"sp ace": b""}
        for key, value in model.items():
            check_ok(shell, b"put " + quote(key) + b" " + quote(value))
        crafted = [
            b'put "abc', b'get "', b'put "k v', b'get "a\\"', b'get "abc\\', b'put k "v',
            b'get "\\q"', b'put "\\x4" v', b'put "\\xZZ" v', b'get "\\x"', b'get "\\ "',
            b'get "\\N"', b'get "\\X41"', b'put "\\u0041" v',
            b'get "a"b', b'get ""x', b'put "k""v" w', b'get a"b', b'get a"', b'put k v"',
            b"put k", b"put a b c", b"put", b"get", b"get a b", b"del", b"delete", b"del a b",
            b"scan a b c", b"flush x", b"stats x", b"compact now", b"inspect x",
            b"PUT k v", b"Get keep", b"frob", b"set k v", b"(nil)", b"ERR", b"OK", b"END",
            b"help", b"exit", b"quit", b"\x00", b"\xff\xfe", b"put\x00 k v", b"-", b"--help",
            b'"put" k v x', b'"" k', b"\x1b[A",
            b"x" * (1 << 20),                      # a 1 MiB unknown command
            b'put k "' + b"v" * 300000,            # a long unterminated quote
            b"get " + b"a" * 1000 + b" " + b"b",   # wrong arity, long
        ]
        for line in crafted:
            if self.is_valid_command(line) is not False:
                fail("internal: crafted junk %s is not junk" % show_line(line))
        # Well-formed commands the store must refuse: one byte over a limit.
        over_limit = [
            b"put " + b"k" * (MAX_KEY + 1) + b" v",
            b"del " + b"k" * (MAX_KEY + 1),
            b"put big " + b"v" * (MAX_VALUE + 1),
        ]
        lines = crafted + over_limit
        # Random bytes (never a newline), kept only when they are not a valid command.
        tries = 0
        while len(lines) < len(crafted) + 300 and tries < 10000:
            tries += 1
            alphabet = rng.choice([None, b' "\\xputgedlsn\t\r\x00\xff01', b'"\\ xq'])
            n = rng.randint(1, 60)
            if alphabet is None:
                line = bytes(rng.choice([c for c in range(256) if c != 10]) for _ in range(n))
            else:
                line = bytes(rng.choice(alphabet) for _ in range(n))
            valid = self.is_valid_command(line)
            if valid is False:
                lines.append(line)
        rng.shuffle(lines)
        blanks = [b"", b" ", b"\t", b" \t ", b"\r", b"  \r"]
        errs = 0
        for i, line in enumerate(lines):
            reply = shell.ask(line)
            if not reply.startswith(b"ERR "):
                fail("junk line %s answered %s, expected one ERR line%s"
                     % (show_line(line), show_line(reply), shell.context()))
            errs += 1
            if i % 10 == 0:
                # A blank line gets no reply at all: the next reply must be the get's.
                shell.send(rng.choice(blanks))
                check_get(shell, b"keep", b"me")
        # The shell goes on, and nothing changed.
        check_everything(shell, model)
        check_ok(shell, b"put after junk")
        model[b"after"] = b"junk"
        shell.close()
        shell = self.shell(directory)
        check_everything(shell, model)
        shell.close()
        return "%d junk lines, %d ERR replies, blank lines unanswered, store intact" % (
            len(lines), errs)

    # -- (e) a second process on the same directory ----------------------------------------

    def lock(self):
        directory = self.dir("lock")
        shell = self.shell(directory)
        check_ok(shell, b"put held 1")
        attempts = [
            ([self.binary, "--dir", directory, "get", "held"], b""),
            ([self.binary, "--dir", directory, "put", "other", "2"], b""),
            ([self.binary, "--dir", directory] + sum((["--set", s] for s in self.sets), [])
             + ["shell"], b"put sneaky 1\n"),
        ]
        for argv, stdin in attempts:
            try:
                done = subprocess.run(argv, input=stdin, capture_output=True,
                                      timeout=REPLY_TIMEOUT)
            except subprocess.TimeoutExpired:
                fail("a second opener (%s) did not give up within %d s"
                     % (" ".join(argv[3:]), REPLY_TIMEOUT))
            err = done.stderr.decode("utf-8", "replace")
            what = " ".join(argv[3:])
            if done.returncode == 0:
                fail("a second opener (%s) succeeded while a shell holds %s; stdout %r"
                     % (what, directory, done.stdout))
            if err.count("\n") != 1 or not err.endswith("\n"):
                fail("a refused second opener (%s) must print one line on stderr, got %r"
                     % (what, err))
            if "locked" not in err:
                fail("a refused second opener (%s) must say \"locked\", got %r" % (what, err))
            if done.stdout:
                fail("a refused second opener (%s) printed %r on stdout" % (what, done.stdout))
        check_get(shell, b"other", None)
        check_get(shell, b"sneaky", None)
        check_get(shell, b"held", b"1")
        shell.close()
        done = subprocess.run([self.binary, "--dir", directory, "get", "held"],
                              capture_output=True, timeout=REPLY_TIMEOUT)
        if done.returncode != 0 or done.stdout != b"1\n":
            fail("after the shell closed, get held gave status %d, stdout %r, stderr %r"
                 % (done.returncode, done.stdout, done.stderr))
        return "second openers refused with one \"locked\" line; the lock is released on exit"

    # -- one-shot commands print what the shell prints ----------------------------------------

    def oneshot(self):
        directory = self.dir("oneshot")
        base = [self.binary, "--dir", directory] + sum((["--set", s] for s in self.sets), [])

        def run(args, want_stdout):
            done = subprocess.run(base + args, capture_output=True, timeout=REPLY_TIMEOUT)
            if done.returncode != 0 or done.stdout != want_stdout or done.stderr:
                fail("%s: status %d, stdout %r, stderr %r; expected status 0, stdout %r"
                     % (" ".join(args), done.returncode, done.stdout, done.stderr, want_stdout))

        model = {b"a b": b"", b"k\x00\xff": b"(nil)", b"plain": b"-1"}
        run(["put", "a b", ""], b"OK\n")
        run(["--quoted", "put", '"k\\x00\\xff"', '"(nil)"'], b"OK\n")
        run(["put", "plain", "-1"], b"OK\n")
        run(["get", "a b"], b'""\n')
        run(["get", "plain"], b"-1\n")
        run(["get", "missing"], b"(nil)\n")
        want_scan = b"".join(quote(k) + b" " + quote(v) + b"\n"
                             for k, v in model_scan(model, None, None)) + b"END\n"
        run(["scan"], want_scan)
        shell = self.shell(directory)
        check_get(shell, b"k\x00\xff", b"(nil)")
        check_everything(shell, model)
        shell.close()
        return "one-shot put/get/scan (raw and --quoted) agree with the shell"

    # -- (b) SIGKILL in the middle of writes -----------------------------------------------

    def crash(self, sync, rounds, per_round):
        rng = self.rng
        directory = self.dir("crash-" + sync)
        model = {}
        pool = [b"c%03d" % i for i in range(60)] + [b"", b"ERR", b"a b", b"\x00\xff", b"\r"]
        killed_mid_stream = 0
        acked_total = 0
        for rnd in range(rounds):
            writes = []
            for i in range(per_round):
                if rng.random() < 0.15:
                    writes.append((rng.choice(pool), None))
                else:
                    key = rng.choice(pool) if rng.random() < 0.5 else b"r%d-%05d" % (rnd, i)
                    writes.append((key, random_value(rng, 4000)))
            lines = b"".join(
                (b"put " + quote(k) + b" " + quote(v) if v is not None else b"del " + quote(k))
                + b"\n" for k, v in writes)
            kill_after = rng.randint(10, per_round - per_round // 4)
            shell = self.shell(directory, sync)

            def feed(stdin=shell.proc.stdin, data=lines):
                try:
                    stdin.write(data)
                    stdin.flush()
                except (BrokenPipeError, OSError):
                    pass  # the child was killed: expected

            writer = threading.Thread(target=feed, daemon=True)
            writer.start()
            acked = 0
            while acked < kill_after:
                reply = shell.reply_line()
                if reply != b"OK":
                    fail("round %d (--sync %s): write %d answered %s, expected OK%s"
                         % (rnd, sync, acked, show_line(reply), shell.context()))
                acked += 1
            shell.kill()
            # Replies already in the pipe were printed before the kill: acknowledged too.
            while True:
                line = shell.lines.get(timeout=REPLY_TIMEOUT)
                if line is None:
                    break
                if line == b"OK\n":
                    acked += 1
                else:
                    fail("round %d (--sync %s): after the kill, read %r instead of OK"
                         % (rnd, sync, line))
            writer.join(timeout=REPLY_TIMEOUT)
            if acked < len(writes):
                killed_mid_stream += 1
            acked_total += acked

            shell = self.shell(directory, sync)
            shell.sent.append(b"(after SIGKILL, round %d, --sync %s)" % (rnd, sync.encode()))
            found = [parse_entry(l, shell.context()) for l in shell.ask_lines(b"scan")]
            candidate = dict(model)
            for k, v in writes[:acked]:
                if v is None:
                    candidate.pop(k, None)
                else:
                    candidate[k] = v
            applied = acked
            while model_scan(candidate, None, None) != found:
                if applied >= len(writes):
                    have = dict(found)
                    lost = [show(k) for k, v in candidate.items() if have.get(k) != v][:5]
                    fail("round %d (--sync %s): after SIGKILL the store matches no prefix of "
                         "the %d writes sent that includes the %d acknowledged ones "
                         "(e.g. keys differing from the acknowledged state: %s)"
                         % (rnd, sync, len(writes), acked, lost))
                k, v = writes[applied]
                if v is None:
                    candidate.pop(k, None)
                else:
                    candidate[k] = v
                applied += 1
            model = candidate
            # The recovered store takes writes again.
            check_ok(shell, b"put after-crash " + quote(b"%d" % rnd))
            model[b"after-crash"] = b"%d" % rnd
            check_everything(shell, model)
            shell.close()
        return "%d rounds, %d acknowledged writes, %d kills mid-stream; nothing acknowledged lost" % (
            rounds, acked_total, killed_mid_stream)


def main():
    parser = argparse.ArgumentParser(
        description="Drive an rkv stage binary's shell exactly as the contract says.")
    parser.add_argument("binary", help="the stage's binary, e.g. target/debug/rkv-01-basic-store")
    parser.add_argument("--ops", type=int, default=4000,
                        help="random operations in the random section (default 4000)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of every random choice (default: a fresh one, printed)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a stage option passed to every invocation (repeatable)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch directories (printed) instead of deleting them")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 32)
    if not os.access(args.binary, os.X_OK):
        print("error: %s is not an executable file (build it first: cargo build)" % args.binary,
              file=sys.stderr)
        return 2
    args.binary = os.path.abspath(args.binary)

    run = Run(args)
    label = os.path.basename(args.binary) + "".join(" --set " + s for s in args.set)
    print("check_shell: %s, seed %d (replay with --seed %d)" % (label, args.seed, args.seed))
    sections = [
        ("random", run.random_ops),
        ("empty", run.empty_values),
        ("junk", run.junk),
        ("lock", run.lock),
        ("oneshot", run.oneshot),
        ("crash never", lambda: run.crash("never", rounds=4, per_round=2000)),
        ("crash always", lambda: run.crash("always", rounds=3, per_round=200)),
    ]
    started = time.monotonic()
    try:
        for name, section in sections:
            t = time.monotonic()
            summary = section()
            print("  ok  %-13s %5.1fs  %s" % (name, time.monotonic() - t, summary))
            sys.stdout.flush()
    except CheckFailed as e:
        print("  FAIL %-12s %s" % (name, e))
        print("check_shell: FAILED (%s, seed %d; scratch directory %s kept)"
              % (label, args.seed, run.scratch))
        return 1
    counts = ", ".join("%s=%d" % kv for kv in sorted(run.counts.items()))
    print("check_shell: passed in %.1fs (%s)" % (time.monotonic() - started, counts))
    if args.keep:
        print("scratch directory kept: %s" % run.scratch)
    else:
        shutil.rmtree(run.scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
