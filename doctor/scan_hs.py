"""The fast engine: hyperscan finds which patterns hit which lines, `re` then reads captures on those lines only.

Hyperscan runs in block mode over each block of whole lines, split at a newline into two halves that
are scanned in two forked processes reading the block from shared memory (`_Workers`; two threads where
there is no fork or no C extension: hyperscan's binding takes the GIL for every match report, so threads
scan about one at a time). The same worker then maps each match end to its line and numbers the lines
(counting newlines is the costliest step after the scan: done in the workers, it overlaps the other
half's scan). The main thread confirms each (line, pattern) with `re` on that line alone, so results
equal the reference `ReScanner`'s, and builds the `LineHit`s.
Patterns hyperscan cannot take (look-around, back-references, `\\A`/`\\Z`, empty matches) are scanned
with `re`, just those, in the same pass. Every `re` call is time-bounded (see `bounded`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import mmap
import os
import re
import signal
import struct
import sys
import threading
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from contextlib import closing
from itertools import chain, islice
from pathlib import Path
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Sequence

import hyperscan

from doctor.cache import cache_dir, prune, store, used
from doctor.follow import die_with_parent
from doctor.guards import Guarded, GuardState, line_alone_guards
from doctor.logs import CHUNK_BYTES, MAX_LINE_BYTES, buffer_bytes, count_newlines, iter_blocks, iter_mapped, \
    regular_file
from doctor.linematch import BLOCK_ANCHORS as _BLOCK_ANCHORS, LineHit, LinePatterns, block_matches, compile_line_pattern, \
    line_searcher
from doctor.linematch import ONE_OFF_FIRST, class_end as _class_end, group_end as _group_end

# A trailing run of "any character but a newline" (`.*`, `[^\n]*`, `\S*`, maybe at the end of groups) adds
# nothing to "does this line match" but one report per byte of the rest of the line.
_TRAILING_ANY = re.compile(r"(?:\.|\[\^\\n\]|\[\^\\r\\n\]|\[\^\\n\\r\]|\\S)\*$")
_EMPTY_GROUP = re.compile(r"\((?:\?P<\w+>|\?:)?$")
THREADS = 2
MIN_SPLIT = 1 << 16  # smaller blocks are scanned whole
# `re`'s answer on a line depends on the line's bytes alone: a line seen again (a traceback's lines, repeated by every
# failing request) reuses it. Lines kept per scan (the memo is emptied when full) and the longest line kept.
MEMO_LINES = 4096
MEMO_LINE_BYTES = 1024
_UNKNOWN: Any = object()

# Per part: [(line start, line number relative to the part's first line, hyperscan ids in increasing order, the
# line)], or those packed by a scanning process (`hit_lines(..., packed=True)`: the newline count in them, read back
# by `settle_lines`); newlines in part; whether a guard pattern (`doctor.guards`) was reported in it.
PartHits = tuple["list[tuple[int, int, list[int], bytes]] | bytes", int, bool]
_ONE_OFF_TEXT = b"".join(sorted(ONE_OFF_FIRST))  # `settle_lines`' one_off
# a found value, (number, line, matches as a tuple), as a LineHit without NamedTuple's __new__ (a Python call per hit line)
_line_hit = functools.partial(tuple.__new__, LineHit)
# A block's confirmed lines: line start -> (line number, the line (None: not sliced yet), ((pattern, match), ...)).
Found = dict[int, tuple[int, bytes | None, tuple[tuple[int, "re.Match[bytes]"], ...]]]
# A hyperscan id's pattern position, whether first_only, its search on a line, its search on a line over LONG_LINE
# (None: the same).
Confirmer = tuple[int, bool, Callable[[bytes], "re.Match[bytes] | None"], Callable[[bytes], Any] | None]
# Line -> [hyperscan ids, the line's confirmed (pattern, match)s for those ids (None: not known whole),
# {hyperscan id: `re`'s answer on that line}].
Memo = dict[bytes, list[Any]]


def hs_expression(pattern: str, loose: bool = True) -> bytes | None:
    """The prefilter hyperscan runs for a rule pattern; None when only `re` is exact for it. `loose`: it may start
    at the pattern's longest literal run (`from_longest_literal`), which a `first_only` pattern's may not (its one
    report must nearly always be a line the pattern matches)."""
    if _BLOCK_ANCHORS.search(pattern):
        return None
    expression = without_leading_context(without_trailing_any(pattern))
    return (from_longest_literal(without_optional_start(expression)) if loose else expression).encode("utf-8")


MIN_RUN = 4  # a shorter literal run does not make hyperscan's work smaller than the whole pattern's
_QUANTIFIER = re.compile(r"(?:[*+?]|\{\d*(?:,\d*)?\})[?+]?")
_LITERAL_BRANCHES = re.compile(r"\((?:\?:|\?P<\w+>)?((?:[\w ,:;'/=<>@#%&~-]|\\[^\w\s])+(?:\|(?:[\w ,:;'/=<>@#%&~-]|\\[^\w\s])+)*)\)")


def from_longest_literal(pattern: str) -> str:
    """The pattern from its longest top-level run of literal text on, when that run is not at its start and has at
    least MIN_RUN bytes: every line the pattern matches has a match of what is left (`re` confirms each hit line).

    Hyperscan finds a pattern's literal text first and runs the rest of it from there: `"POST (?P<path>/[^\\s"\\n]
    {0,300}) HTTP/1\\.[01]" 404 ` started at `"POST /`, on every POST line of an access log, and ran its
    300-byte class from each. From ` HTTP/1.` on, the same lines match, and what follows is fixed text. Five such
    patterns were a third of the scan of an access log (bench/README.md)."""
    atoms = _top_atoms(pattern)
    if not atoms:
        return pattern
    runs: list[tuple[int, int]] = []  # (literal bytes, first atom) of each run of literal atoms
    for k, (_, _, size) in enumerate(atoms):
        if not size:
            continue
        if k and atoms[k - 1][2]:  # the atom before began or continued a run
            runs[-1] = (runs[-1][0] + size, runs[-1][1])
        else:
            runs.append((size, k))
    if not runs:
        return pattern
    size, first = max(runs, key=lambda run: (run[0], -run[1]))  # the longest, the earliest of equals
    leading = runs[0][0] if runs[0][1] == 0 else 0
    if first == 0 or size < MIN_RUN or size <= leading or _inner_run(pattern, atoms[:first]) >= size:
        return pattern
    before, kept = pattern[atoms[first - 1][0]:atoms[first - 1][1]], pattern[atoms[first][0]:]
    if _WORD_RUN.search(before) and _WORD_START.match(kept):
        # the run would match inside any longer word (`Exception: ` in `Encountered Exception: `): kept with the
        # word it ends when a word character must start that word (`[A-Za-z_]\w*(?:Error|Exception): `), else whole
        if first < 3 or not _WORD_CHAR.fullmatch(pattern, atoms[first - 2][0], atoms[first - 2][1]):
            return pattern
        return pattern[atoms[first - 2][0]:]
    return kept


_WORD_RUN = re.compile(r"(?:\\w|\[[^\]]*\\w[^\]]*\])(?:[*+]|\{\d*,\d*\})\??$")  # `\w*`, `[\w.-]+`, `\w{1,9}` at the end
_WORD_START = re.compile(r"(?:\((?:\?:|\?P<\w+>)?)?\w")
_WORD_CHAR = re.compile(r"\\w|\[(?:A-Za-z|a-zA-Z)_?\]|\[_?(?:A-Za-z|a-zA-Z)\]|\[A-Z\]|\[a-z\]")  # one, not repeated


def _inner_run(pattern: str, atoms: list[tuple[int, int, int]]) -> int:
    """The longest literal run inside these atoms' groups that every match goes through (a group neither repeated
    nor optional, without alternatives at its top): text the part before a run holds, which the run alone would
    not require (`/models/` in `File "(?P<file>[^"\\n]*/models/[0-9a-f]{32}/[^"\\n]+\\.py)", line `)."""
    longest = 0
    for start, end, _ in atoms:
        if pattern[start] != "(" or pattern[end - 1] != ")":
            continue  # not a group, or a quantified one
        body = pattern[start + 1:end - 1]
        body = body[2:] if body.startswith("?:") else body[body.index(">") + 1:] if body.startswith("?P<") else body
        inner = _top_atoms(body)
        run = 0
        for _, _, size in inner or ():
            run = run + size if size else 0
            longest = max(longest, run)
        longest = max(longest, _inner_run(body, inner or []))
    return longest


def _top_atoms(pattern: str) -> list[tuple[int, int, int]] | None:
    """(start, end, literal bytes) of each top-level item of the pattern with its quantifier (literal bytes 0 for
    what is not fixed text, or is quantified; a group of literal alternatives counts its shortest); None for a
    top-level alternation, inline flags, look-around, back-references, or anything else this reading does not take."""
    atoms: list[tuple[int, int, int]] = []
    i, n = 0, len(pattern)
    while i < n:
        start, char = i, pattern[i]
        if char == "\\":
            if i + 1 >= n:
                return None
            escaped = pattern[i + 1]
            if escaped in "dDwWsSbB":
                size = 0
            elif not escaped.isalnum() and not escaped.isspace():
                size = 1
            else:  # \n, \x41, \1, \N{...}: not read here
                return None
            i += 2
        elif char == "[":
            end = _class_end(pattern, i)
            if end is None:
                return None
            size, i = 0, end + 1
        elif char == "(":
            if pattern.startswith("(?", i) and not pattern.startswith(("(?:", "(?P<"), i):
                return None  # flags, look-around, a named back-reference, a comment
            end = _group_end(pattern, i)
            if end is None:
                return None
            branches = _LITERAL_BRANCHES.fullmatch(pattern, i, end + 1)
            size = min(len(re.sub(r"\\(.)", r"\1", b)) for b in branches.group(1).split("|")) if branches else 0
            i = end + 1
        elif char in "|)*+?":
            return None
        elif char == "{" and _QUANTIFIER.match(pattern, i):
            return None
        else:
            size, i = (0 if char in ".^$" else len(char.encode("utf-8"))), i + 1
        quantifier = _QUANTIFIER.match(pattern, i)
        if quantifier:
            size, i = 0, quantifier.end()
        atoms.append((start, i, size))
    return atoms


_LEADING_SPACE = re.compile(r"\^\\s[*+]")


def without_leading_context(pattern: str) -> str:
    """The pattern without what its first branch starts with to say where a match may begin: `(?:^|X)` (the line
    start or X) or `^\\s*`. Every line the pattern matches has a match of what is left (`re` confirms each hit
    line); and hyperscan need no longer follow every line's start: `(?:^|sh: )(?:mlserver|...): not found` was a
    fifth of the scan of an access log (bench/README.md)."""
    if pattern.startswith("(?:^|"):
        end = _group_end(pattern, 0)
        rest = pattern[end + 1:] if end is not None else ""
    elif (space := _LEADING_SPACE.match(pattern)) is not None:
        rest = pattern[space.end():]
    else:
        return pattern
    if not rest or rest[0] in "|)?*+{":  # the context is the whole branch, or is repeated: kept
        return pattern
    return rest


def without_optional_start(pattern: str) -> str:
    """The pattern without a leading `^` that only optional items follow before the first one that is not (each
    `X?`, `X*` or `X{0,n}`): what is left matches wherever the pattern does, now anywhere in a line. Hyperscan
    followed every line's start through those optional items: `^(?:(?:DEBUG|INFO|…) \\d{4}-…Z )?(?:[A-Za-z_]\\w*\\.)*
    [A-Za-z_]\\w*(?:Error|Exception): ` alone was 8 % of the scan of the mixed log (bench/README.md). Kept: an anchor
    followed by a number once the optional items are gone (`\\d{4}-\\d\\d-…T…Z `): unanchored, hyperscan followed every
    time in every line (5 % slower on a `--timestamps` log); and a first_only pattern's (`hs_expression`)."""
    atoms = _top_atoms(pattern) if pattern.startswith("^") else None
    if not atoms or pattern[atoms[0][0]:atoms[0][1]] != "^":
        return pattern
    k = 1
    while k < len(atoms) and _OPTIONAL.search(pattern, atoms[k][0], atoms[k][1]):
        k += 1
    if k == 1 or not any(size for _, _, size in atoms[k:]) or pattern.startswith("\\d", atoms[k][0]):
        return pattern  # nothing optional after the anchor; no fixed text after; or a number next, as in most lines
    return pattern[atoms[k][0]:]


_OPTIONAL = re.compile(r"(?:\?|\*|\{0(?:,\d*)?\})\??$")


def without_trailing_any(pattern: str) -> str:
    """The pattern without a `X*` it ends with (X any character but a newline), inside closing groups or not: the
    lines it matches are the same (the run may be empty), hyperscan reports each such line once, not per byte."""
    body, closing = pattern, 0
    while body.endswith(")") and not _escaped(body, len(body) - 1):
        body, closing = body[:-1], closing + 1
    run = _TRAILING_ANY.search(body)
    if run is None or _escaped(body, run.start()):
        return pattern
    body = body[:run.start()]
    empty = _EMPTY_GROUP.search(body)
    if closing and empty is not None and not _escaped(body, empty.start()):
        body, closing = body[:empty.start()], closing - 1  # `(?P<msg>.*)` goes whole
    return body + ")" * closing


def _escaped(text: str, index: int) -> bool:
    """Whether the character at `index` follows an odd number of backslashes."""
    slashes = len(text[:index]) - len(text[:index].rstrip("\\"))
    return slashes % 2 == 1


def compile_database(expressions: Sequence[bytes], once: Sequence[bool] = ()) -> Any:
    """A block-mode hyperscan database, one id per expression (ids are positions); an expression whose `once` is
    true reports at most one match per scan call (HS_FLAG_SINGLEMATCH)."""
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    once = list(once) or [False] * len(expressions)
    flags = [hyperscan.HS_FLAG_MULTILINE | (hyperscan.HS_FLAG_SINGLEMATCH if single else 0) for single in once]
    db.compile(expressions=list(expressions), ids=list(range(len(expressions))), elements=len(expressions), flags=flags)
    return db


def accepts(expression: bytes) -> bool:
    """Whether hyperscan compiles this expression on its own."""
    try:
        compile_database([expression])
    except hyperscan.error:
        return False
    return True


def build_database(patterns: Sequence[tuple[int, str, bool]]) -> tuple[list[int], Any]:
    """(the numbers of the patterns hyperscan takes, the database over them) for (number, pattern, first_only)
    triples: from the cache, else their expressions (`hs_expression`) compiled (0.2 s) and cached. The cache is
    keyed by the patterns and the code that turns them into expressions, so that a run that finds the database
    does not work the expressions out again (~15 ms for the built-in pack)."""
    path = _cache_path(patterns)
    cached = _load_cached(path) if path else None
    if cached is not None:
        return cached
    exprs = [(number, hs_expression(pattern, not once), once) for number, pattern, once in patterns]
    candidates = [(number, expr, once) for number, expr, once in exprs if expr]
    expressions, flags = [expr for _, expr, _ in candidates], [once for _, _, once in candidates]
    try:
        taken = list(range(len(candidates)))
        db = compile_database(expressions, flags) if candidates else None
    except hyperscan.error:  # one expression hyperscan refuses: find which, compile the rest
        taken = [i for i, expr in enumerate(expressions) if accepts(expr)]
        db = compile_database([expressions[i] for i in taken], [flags[i] for i in taken]) if taken else None
    numbers = [candidates[k][0] for k in taken]
    if path and db is not None:
        _store(path, numbers, db)
    return numbers, db


@functools.lru_cache(maxsize=1)
def _code() -> str:
    """A digest of the code that makes a pattern's expression (a new version makes new databases)."""
    from doctor.cache import source_fingerprint

    return source_fingerprint("doctor", ["scan_hs.py", "linematch.py"]).hex()


def _cache_path(patterns: Sequence[tuple[int, str, bool]]) -> Path | None:
    where = cache_dir()
    if where is None or not patterns:
        return None
    parts: list[Any] = [getattr(hyperscan, "__version__", ""), _code(), [list(triple) for triple in patterns]]
    key = hashlib.sha256(json.dumps(parts).encode()).hexdigest()
    return where / f"hs-{key[:40]}.db"


def _load_cached(path: Path) -> tuple[list[int], Any] | None:
    """A cached (positions, database); None when absent or unreadable (it is then rebuilt)."""
    try:
        head, _, blob = path.read_bytes().partition(b"\n")
        found = [int(i) for i in json.loads(head)], hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
    except (OSError, ValueError, TypeError, hyperscan.error):
        return None
    used(path)
    return found


# Databases kept in the cache: one per set of patterns a log's conditions use (a few per version of the rule pack
# and of mldoctor) and per user rule pack; each 30-800 KB. Without a bound, every upgrade added its own for good.
MAX_DATABASES = 64


def _store(path: Path, taken: list[int], db: Any) -> None:
    store(path, json.dumps(taken).encode() + b"\n" + hyperscan.dumpb(db))
    prune(path.parent, "hs-*.db", MAX_DATABASES)


class HyperscanScanner:
    """Hyperscan over blocks in two threads for the patterns it takes, `re` for the rest.

    A `first_only` pattern (only its first matching line per stream is wanted) is compiled single-match: hyperscan
    reports it at most once per part scanned, and not at all once a line of the stream confirmed it. When that one
    report is not a line `re` confirms (hyperscan matched across a line end), `re` looks for it in that block.
    A guarded pattern (`doctor.guards`) is not in the database: `re` searches it on the lines after its guards'."""

    def __init__(self, patterns: Sequence[str], first_only: Iterable[int] = (), guarded: Guarded | None = None) -> None:
        self.patterns = LinePatterns(patterns)  # compiled when a line is to be confirmed (risky: under a time bound)
        self.first_only = frozenset(first_only)
        self.guarded, self.guard_of = line_alone_guards(guarded, patterns)
        self.fast_ids, self.db = build_database([(index, pattern, index in self.first_only)
                                                 for index, pattern in enumerate(patterns) if index not in self.guarded])
        # fast_ids are increasing: a line's sorted ids give its patterns sorted
        fast_set = set(self.fast_ids)
        self.slow_ids = [i for i in range(len(patterns)) if i not in fast_set and i not in self.guarded]
        self.guard_hs_ids = frozenset(k for k, index in enumerate(self.fast_ids) if index in self.guard_of)
        self.slow_guards = any(index not in fast_set for index in self.guard_of)  # found by the fallback: any block
        self.scratch: Any = hyperscan.Scratch(self.db) if self.db else None
        self.local = threading.local()  # one scratch per scanning thread
        self._confirmers: list[Confirmer | None] = \
            [None] * len(self.fast_ids)

    def scan(self, stream: BinaryIO) -> Iterator[LineHit]:
        """Hits in line order (a `first_only` pattern: its first line only)."""
        seen: set[int] = set()  # first_only patterns already reported in this stream
        memo: Memo = {}
        guards = GuardState(self.guarded) if self.guarded else None
        end: list[Any] = [1, None]  # the next line's number, and where the read path resumes (`_scan_mapped`)
        # each block's hits yielded from here, one generator deep: a hit passed up through three (this, the path's,
        # `_finish`) cost more than its line's scan plan (bench/README.md)
        if self._in_processes():
            with closing(self._scan_mapped(stream, seen, memo, guards, end)) as blocks:
                for hits in blocks:
                    yield from hits
        with closing(self._scan_read(stream, end[0], seen, memo, guards, end[1])) as blocks:
            for hits in blocks:
                yield from hits

    def _scan_mapped(self, stream: BinaryIO, seen: set[int], memo: Memo, guards: GuardState | None,
                     end: list[Any]) -> Iterator[Iterable[LineHit]]:
        """A regular file of MAPPED_MIN bytes or more, to its last newline, scanned by processes that each map it
        and send back their part of every block's hit lines with the lines' text (`_serve_file`): this process
        reads only the blocks `re` must search whole (`_Span`). Each block's hits; into `end`, the number of the
        next line and where the read path (`_scan_read`) resumes, the blocks the same as if it had read from the
        start: after the last line of the file as it was, or after the last block both processes answered when one
        failed (a file cut shorter meanwhile kills the process mapping it); left as they were when nothing was
        mapped."""
        length = _mapped_length(stream)
        if length < MAPPED_MIN:
            return
        base, fd, chunk = stream.tell(), stream.fileno(), CHUNK_BYTES
        try:
            workers = _Workers(functools.partial(_serve_file, self, stream, length, chunk))
        except OSError:
            return
        number, offset = 1, 0
        with workers:
            while offset < length:
                replies = [workers.reply(k) for k in range(THREADS)]
                if any(reply is None or reply[2] != replies[0][2] for reply in replies):  # type: ignore[index]
                    break  # a process failed (or the two disagree, which they cannot): the rest is read here
                size = replies[0][2]  # type: ignore[index]
                parts = [_done((packed, 0, guard)) for packed, guard, _ in replies if packed]  # type: ignore[misc]
                hits, number = self._finish(_Span(fd, base + offset, size), parts, number, seen, memo, guards)
                yield hits
                offset += size
        # the reads stood at the next whole chunk: what lies before it is carried, as `iter_blocks` carried it
        carried = os.pread(fd, -(-offset // chunk) * chunk - offset, base + offset)
        stream.seek(base + offset + len(carried))
        end[:] = [number, (chunk, carried)]

    def _scan_read(self, stream: BinaryIO, first_line: int, seen: set[int], memo: Memo,
                   guards: GuardState | None, resume: tuple[int, bytes] | None = None) -> Iterator[Iterable[LineHit]]:
        """The rest of the stream read here, block by block, into buffers the scanning processes share (or threads
        scan): each block's hits. `resume`: (chunk, carried) for `iter_blocks`, reading on after `_scan_mapped`."""
        shared = [mmap.mmap(-1, buffer_bytes()) for _ in range(BUFFERS)] if self._in_processes() else None
        blocks = iter_blocks(stream, resume[0], BUFFERS, pool=shared, carried=resume[1]) if resume else \
            iter_blocks(stream, buffers=BUFFERS, pool=shared)
        head = list(islice(blocks, 2))
        if not head:
            return
        if len(head) == 1 and len(head[0]) <= MIN_SPLIT:  # a small log: no thread pool for it (bundles of many)
            yield self._finish(head[0], [_done(self._scan_part(head[0].obj, 0, len(head[0])))], first_line, seen,
                               memo, guards)[0]
            return
        with self._pool(shared) as pool:
            pending: tuple[memoryview, list[Future[PartHits]]] | None = None
            for block in chain(head, blocks):
                submitted = (block, self._submit(pool, block))
                if pending is not None:
                    hits, first_line = self._finish(*pending, first_line, seen, memo, guards)
                    yield hits
                pending = submitted
            if pending is not None:
                yield self._finish(*pending, first_line, seen, memo, guards)[0]

    def _pool(self, shared: list[mmap.mmap] | None) -> "_Workers | ThreadPoolExecutor":
        """The scanning processes over these shared buffers; threads without them, or where fork fails (a limit
        on processes, a sandbox)."""
        if shared is not None:
            try:
                return _Workers(functools.partial(_serve, self, shared), shared)
            except OSError:
                pass
        return ThreadPoolExecutor(THREADS)

    def _in_processes(self) -> bool:
        """Whether the parts are scanned in forked processes (`_Workers`) rather than threads."""
        return PROCESSES and self.db is not None and _native_hit_lines is not None

    def _submit(self, pool: "ThreadPoolExecutor | _Workers", block: memoryview) -> list[Future[PartHits]]:
        """One or two parts of the block, each scanned and line-numbered in a worker."""
        data: Any = block.obj
        bounds = _parts(data, 0, len(block))
        if isinstance(pool, _Workers):  # part k to process k
            return [pool.submit(self._scan_part, data, lo, hi, k) for k, (lo, hi) in enumerate(bounds)]
        return [pool.submit(self._scan_part, data, lo, hi) for lo, hi in bounds]

    def _scan_part(self, data: Any, lo: int, hi: int) -> PartHits:
        """The part's hit lines (start, relative number, ids) in order, and its newline count."""
        if self.db is None:
            return [], count_newlines(data, lo, hi), False
        scratch = getattr(self.local, "scratch", None)
        if scratch is None:
            scratch = self.local.scratch = self.scratch.clone()
        if _native_hit_lines is not None:  # the reports kept in C: no Python call or object per report
            (lines, newlines), guard = self._native_part(data, lo, hi, scratch, False)
            return lines, newlines, guard
        reports: list[int] = []
        add = reports.extend

        def on_match(id_: int, start: int, end: int, flags: int, context: Any) -> None:
            add((id_, end))

        self.db.scan(memoryview(data)[lo:hi], match_event_handler=on_match, scratch=scratch)
        lines, newlines = _number_lines(data, lo, hi, _hit_lines(data, lo, hi, reports))
        return lines, newlines, not self.guard_hs_ids.isdisjoint(reports[0::2])

    def _native_part(self, data: Any, lo: int, hi: int, scratch: Any, packed: bool,
                     max_text: int = -1) -> tuple[Any, bool]:
        """data[lo:hi] scanned with the reports kept in C: (`hit_lines`' result, packed or not, lines longer than
        `max_text` without their bytes; whether a guard pattern was reported)."""
        collected = _NativeReports()
        self.db.scan(memoryview(data)[lo:hi], match_event_handler=collected, scratch=scratch)
        found = _native_hit_lines(data, lo, hi, collected, packed, max_text)
        return found, bool(self.guard_hs_ids) and collected.any_of(self.guard_hs_ids)

    def _finish(self, block: "memoryview | _Span", parts: list[Future[PartHits]], first_line: int,
                seen: set[int], memo: Memo, guards: GuardState | None = None) -> tuple[Iterable[LineHit], int]:
        """The block's hits in line order, and the number of the next block's first line. A block this process did
        not read (`_Span`) is read only when `re` must search it."""
        found: Found = {}
        unconfirmed: set[int] = set()  # first_only patterns whose single report `re` did not confirm
        number = first_line
        confirm = self._confirm
        guarding = guards is not None and (self.slow_guards or guards.carried(first_line))
        for part in parts:
            hits, newlines, guard_reported = part.result()
            if isinstance(hits, bytes):  # packed by a scanning process: the lines seen before are settled in C
                rest, newlines = _native_settle_lines(hits, number, memo, found, _ONE_OFF_TEXT)
                for start, line_number, ids, line in rest:  # each holds its place in `found` (None) until settled
                    if not isinstance(line, bytes):  # a long line of a mapped block, sent without its bytes: read here
                        assert isinstance(block, _Span)  # `_serve_file` alone sends lines so (SENT_LINE_BYTES)
                        line = block.line(start, line)
                    confirm(line, start, line_number, ids, found, seen, unconfirmed, memo)
                    if found[start] is None:
                        del found[start]
            else:
                for start, relative, ids, line in hits:
                    confirm(line, start, number + relative, ids, found, seen, unconfirmed, memo)
            number += newlines
            guarding = guarding or guard_reported
        slow = [i for i in self.slow_ids if i not in seen] + sorted(unconfirmed - seen)
        if isinstance(block, _Span) and (slow or guarding):
            block = block.load()
        data: Any = block.obj if isinstance(block, memoryview) else None
        if slow:
            self._fallback(block, first_line, found, slow, seen)  # type: ignore[arg-type]
        # the guarded patterns' regions, where a guard was reported in the block or a region reaches into it
        regions = None
        if guarding:
            assert guards is not None
            regions = guards.regions(data, len(block), first_line, self._guard_lines(found))  # type: ignore[arg-type]
        if regions:
            self._search_guarded(data, regions, found)
        elif not slow:  # in line order (the parts' hits are), each line's matches by pattern (its ids were sorted)
            return map(_line_hit, found.values()), number
        hits = []
        for start in sorted(found):
            line_number, line, matches = found[start]
            if line is None:  # a line only `re` over the block found
                stop = data.find(b"\n", start, len(block))  # type: ignore[arg-type]
                line = bytes(block[start:stop if stop >= 0 else len(block)])  # type: ignore[index, arg-type]
            hits.append(LineHit(line_number, line,
                                tuple(sorted(matches, key=_first)) if len(matches) > 1 else tuple(matches)))
        return hits, number

    def _confirm(self, line: bytes, start: int, number: int, ids: list[int], found: Found, seen: set[int],
                 unconfirmed: set[int], memo: Memo) -> None:
        """Check each pattern hyperscan saw on the line (ids in increasing order: so are their patterns) with `re`
        on the line alone. A line whose bytes came before (a traceback's lines, repeated by every failing request)
        takes the answers found then from `memo`: the whole line's when it had the same ids and none of them is
        first_only, else each pattern's (the same Match objects: a reader may key on them)."""
        # a line that does not come again (`ONE_OFF_FIRST`) is neither looked up nor kept: no answers kept for it
        # (`known` None), each pattern searched once
        known: dict[int, Any] | None = None
        again = line[:1] not in ONE_OFF_FIRST
        entry = memo.get(line) if again else None
        if entry is not None:
            if entry[0] == ids:
                if entry[1]:
                    found[start] = (number, line, entry[1])
                return
            known = entry[2]
        elif again and len(line) <= MEMO_LINE_BYTES:
            if len(memo) >= MEMO_LINES:
                memo.clear()
            known = {}
            entry = memo[line] = [None, (), known]
        confirmers = self._confirmers
        matches: list[tuple[int, re.Match[bytes]]] = []
        whole = True  # no first_only pattern among the ids: the answer is the same whenever the line comes again
        long = len(line) > LONG_LINE
        for id_ in ids:
            index, once, search, on_long = confirmers[id_] or self._confirmer(id_)
            if once:
                whole = False
                if index in seen:
                    continue
            match = _UNKNOWN if known is None else known.get(id_, _UNKNOWN)
            if match is _UNKNOWN:
                match = on_long(line) if long and on_long is not None else search(line)
                if known is not None:
                    known[id_] = match
            if match is not None:
                matches.append((index, match))
                if once:
                    seen.add(index)
            elif once:
                unconfirmed.add(index)
        result = tuple(matches)
        if result:
            found[start] = (number, line, result)
        if whole and entry is not None:
            entry[0], entry[1] = ids, result

    def _confirmer(self, id_: int) -> Confirmer:
        """(pattern position, first_only, its search on one line: under the time bound when risky, its search on a
        line longer than LONG_LINE or None: the same) of a hyperscan id, made on its first report."""
        index = self.fast_ids[id_]
        pattern, risky = self.patterns[index]
        search = line_searcher(pattern, risky)
        tail = trailing_run(pattern)
        on_long = None if tail is None else \
            functools.partial(_long_line_match, line_searcher(tail[0], risky), pattern, tail[1])
        made = self._confirmers[id_] = (index, index in self.first_only, search, on_long)
        return made

    def _guard_lines(self, found: Found) -> dict[int, list[tuple[int, int]]]:
        """Per guard pattern, its confirmed lines in the block: (number, start), in line order."""
        lines: dict[int, list[tuple[int, int]]] = {}
        guard_of = self.guard_of
        for start, (number, _, matches) in found.items():
            for index, _ in matches:
                if index in guard_of:
                    lines.setdefault(index, []).append((number, start))
        return lines

    def _search_guarded(self, data: Any, regions: dict[int, list[tuple[int, int, int]]], found: Found) -> None:
        """Each guarded pattern with `re` on its regions (whole lines after its guards' lines)."""
        for index, parts in regions.items():
            pattern, risky = self.patterns[index]
            for lo, hi, first in parts:
                region = bytes(data[lo:hi])
                number, counted_to = first, 0
                for start, match in block_matches(pattern, region, None, risky):
                    number += region.count(b"\n", counted_to, start)
                    counted_to = start
                    kept = found.get(lo + start)
                    found[lo + start] = (number, kept[1], kept[2] + ((index, match),)) if kept else \
                        (number, None, ((index, match),))

    def _fallback(self, block: memoryview, first_line: int,
                  found: Found, indices: list[int],
                  seen: set[int]) -> None:
        """With `re` over the whole block (line numbers counted here): the patterns hyperscan cannot take, and the
        first_only ones whose report it did not confirm."""
        whole = bytes(block)
        slow: dict[int, list[tuple[int, re.Match[bytes]]]] = {}
        for index in indices:  # none of them in `seen` (the caller left those out)
            once = index in self.first_only
            for start, match in block_matches(self.patterns[index][0], whole, 1 if once else None, bound=True):
                slow.setdefault(start, []).append((index, match))
                if once:
                    seen.add(index)
        number, counted_to = first_line, 0
        for start in sorted(slow):
            number += whole.count(b"\n", counted_to, start)
            counted_to = start
            kept = found.get(start)
            found[start] = (number, kept[1], kept[2] + tuple(slow[start])) if kept else (number, None, tuple(slow[start]))


# Parts are scanned in forked processes where fork is (Linux) and the C extension was built: hyperscan's binding takes
# the GIL for every match report, so two threads of one process scanned about one at a time, and stalled while the
# main thread ran Python (bench/README.md).
PROCESSES = sys.platform.startswith("linux") and hasattr(os, "fork")
BUFFERS = 2  # reading buffers: the next block is read while the processes scan the last
_REQUEST = struct.Struct("=qqq")  # buffer, lo, hi
# packed bytes that follow (-1: failed), whether a guard pattern was reported; from `_serve_file`, the block's bytes in
# the file (a block of a line over MAX_LINE_BYTES cut is one byte longer: a newline added), else 0
_REPLY = struct.Struct("=qqq")
MAPPED_MIN = 2 * CHUNK_BYTES  # a smaller file is read here (`HyperscanScanner._scan_read`)
# A longer hit line of a mapped file is sent without its bytes, which the check's process reads (`_Span.line`): sent,
# its bytes were copied four times on their way (packed, the pipe twice, the line); 1 GB of 16-512 KB request-data
# lines (long-lines) was 12 % slower so (bench/README.md). Over MEMO_LINE_BYTES: such a line is never in the memo.
SENT_LINE_BYTES = 4096


# The bytes a reply pipe holds (Linux: F_SETPIPE_SZ, at most /proc/sys/fs/pipe-max-size, 1 MiB by default): a scanning
# process writes a block's hit lines and goes on to the next block while this process is still busy with the last.
# With the default 64 KiB, the hit lines of one block of the mixed log (~200 KB) did not fit: each process waited for
# this one to read, this one for them; the cores were a quarter idle in the last half second (bench/README.md)
REPLY_PIPE_BYTES = 1 << 20


def _widen(pipe: int) -> None:
    """The pipe's buffer made REPLY_PIPE_BYTES where the system allows it (else it keeps its own)."""
    try:
        import fcntl

        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, REPLY_PIPE_BYTES)  # type: ignore[attr-defined]
    except (ImportError, OSError, AttributeError):  # over the limit; not Linux
        pass


class _Workers:
    """THREADS forked processes, each running `serve(k, request pipe, reply pipe)`: `_serve` scans the parts it is
    sent (part k of every block goes to process k) in reading buffers of shared memory; `_serve_file` its part of
    every block of a file it maps itself. Each sends back its parts' hit lines packed (`hit_lines(..., packed=True)`):
    no GIL shared with this process, nothing copied but the hit lines. A part in no shared buffer, or whose process
    failed, is scanned here. A context manager: the processes end with it (or with this process)."""

    def __init__(self, serve: Callable[[int, int, int], None], buffers: list[mmap.mmap] | None = None) -> None:
        self.buffers = buffers or []
        self.procs: list[tuple[int, int, Any] | None] = []  # (pid, request pipe, reply pipe) or None once failed
        for k in range(THREADS):
            request_r, request_w = os.pipe()
            reply_r, reply_w = os.pipe()
            _widen(reply_w)
            try:
                pid = os.fork()
            except OSError:
                for fd in (request_r, request_w, reply_r, reply_w):
                    os.close(fd)
                self.__exit__()
                raise
            if pid == 0:  # pragma: no cover - the child (its work is checked through the parent's results)
                try:
                    os.close(request_w)
                    os.close(reply_r)
                    for kept in self.procs:  # the pipes of the processes forked before: theirs alone
                        if kept is not None:
                            os.close(kept[1])
                            kept[2].close()
                    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
                    die_with_parent()
                    serve(k, request_r, reply_w)
                finally:
                    os._exit(0)
            os.close(request_r)
            os.close(reply_w)
            self.procs.append((pid, request_w, open(reply_r, "rb")))

    def submit(self, fn: Callable[[Any, int, int], PartHits], data: Any, lo: int, hi: int,
               k: int = 0) -> "Future[PartHits]":
        """Part k of a block: sent to process k (`fn`, the scan of a part, runs here when it cannot be)."""
        index = next((i for i, buffer in enumerate(self.buffers) if buffer is data), None)
        k %= len(self.procs)
        proc = self.procs[k]
        if index is not None and proc is not None:
            try:
                os.write(proc[1], _REQUEST.pack(index, lo, hi))
                return _Part(self, k, fn, data, lo, hi)  # type: ignore[return-value]
            except OSError:
                self._failed(k)
        return _done(fn(data, lo, hi))

    def reply(self, k: int) -> tuple[bytes, bool, int] | None:
        """Process k's next reply (packed hit lines, guard reported, the block's bytes in the file); None when it
        failed."""
        proc = self.procs[k]
        if proc is None:
            return None
        head = proc[2].read(_REPLY.size)
        size, guard, span = _REPLY.unpack(head) if len(head) == _REPLY.size else (-1, 0, 0)
        packed = proc[2].read(size) if size >= 0 else b""
        if size < 0 or len(packed) != size:
            self._failed(k)
            return None
        return packed, bool(guard), span

    def _failed(self, k: int) -> None:
        """Process k is not used again (its parts are scanned here)."""
        proc, self.procs[k] = self.procs[k], None
        if proc is not None:
            _end(*proc)

    def __enter__(self) -> "_Workers":
        return self

    def __exit__(self, *exc: Any) -> None:
        for k in range(len(self.procs)):
            self._failed(k)


class _Part:
    """A part sent to a process; `result()` as a Future's: the part's hit lines."""

    def __init__(self, workers: _Workers, k: int, fn: Callable[[Any, int, int], PartHits], data: Any, lo: int,
                 hi: int) -> None:
        self.workers, self.k, self.fn, self.data, self.lo, self.hi = workers, k, fn, data, lo, hi

    def result(self) -> PartHits:
        got = self.workers.reply(self.k)
        if got is None:  # the process failed: the part is scanned here
            return self.fn(self.data, self.lo, self.hi)
        return got[0], 0, got[1]  # packed (the newline count in it): `HyperscanScanner._finish` settles it


def _end(pid: int, request: int, reply: Any) -> None:
    """Stop a scanning process (it holds nothing to save) and reap it."""
    os.close(request)
    reply.close()
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _serve(scanner: "HyperscanScanner", buffers: list[mmap.mmap], k: int, requests: int, replies: int) -> None:
    """A scanning process: each request (buffer, lo, hi) is answered with that part's hit lines, packed."""
    with open(requests, "rb") as inbox, open(replies, "wb") as outbox:
        while len(message := inbox.read(_REQUEST.size)) == _REQUEST.size:
            index, lo, hi = _REQUEST.unpack(message)
            try:
                packed, guard = scanner._native_part(buffers[index], lo, hi, scanner.scratch, True)
            except Exception:  # the parent scans this part itself
                outbox.write(_REPLY.pack(-1, 0, 0))
            else:
                outbox.write(_REPLY.pack(len(packed), guard, 0))
                outbox.write(packed)
            outbox.flush()


def _serve_file(scanner: "HyperscanScanner", stream: BinaryIO, length: int, chunk: int, k: int, requests: int,
                replies: int) -> None:
    """A scanning process over the stream's next `length` bytes (a regular file, ending with a newline): its own
    mapping's blocks (`iter_mapped`: the blocks `iter_blocks` would read), each split as `_submit` splits one
    (`_parts`), part k scanned and its hit lines sent back packed with their text; an empty reply for a block of one
    part to the second process. The first failure is the last reply (the parent reads the rest itself)."""
    os.close(requests)
    with open(replies, "wb") as outbox:
        for data, start, stop in iter_mapped(stream, length, chunk):
            block = memoryview(data)[start:stop]
            try:
                bounds = _parts(data, start, stop)
                packed, guard = scanner._native_part(block, *bounds[k], scanner.scratch, True, SENT_LINE_BYTES) \
                    if k < len(bounds) else (b"", False)
            except Exception:
                outbox.write(_REPLY.pack(-1, 0, 0))
                return
            finally:
                block.release()  # the mapping can then be closed
            added = isinstance(data, bytes)  # a copy: a line over MAX_LINE_BYTES cut, a newline added
            outbox.write(_REPLY.pack(len(packed), guard, stop - start - added))
            outbox.write(packed)
            outbox.flush()


class _Span:
    """A block of a file that the scanning processes mapped and this process did not read: read (`load`) only when
    `re` must search it whole (a pattern hyperscan does not take, a first_only report `re` did not confirm, a
    guarded pattern's region)."""

    def __init__(self, fd: int, offset: int, size: int) -> None:
        self.fd, self.offset, self.size = fd, offset, size

    def line(self, start: int, size: int) -> bytes:
        """The bytes of a line of the block (one sent without them)."""
        return os.pread(self.fd, size, self.offset + start)

    def load(self) -> memoryview:
        """The block as `iter_blocks` gives it: a newline added where its bytes end without one (a line over
        MAX_LINE_BYTES cut; a file cut shorter meanwhile gives what is left of it)."""
        data = os.pread(self.fd, self.size, self.offset)
        return memoryview(data if data.endswith(b"\n") else data + b"\n")


def _mapped_length(stream: BinaryIO) -> int:
    """How many bytes of a regular file, from where the stream stands, end with its last newline (0: not a regular
    file, or no newline in its last 2 MAX_LINE_BYTES)."""
    if not regular_file(stream):
        return 0
    fd, base = stream.fileno(), stream.tell()
    end = os.fstat(fd).st_size
    for stop in range(end, max(base, end - 2 * MAX_LINE_BYTES), -MIN_SPLIT):
        start = max(base, stop - MIN_SPLIT)
        newline = os.pread(fd, stop - start, start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1 - base
    return 0


def _parts(data: Any, start: int, stop: int) -> list[tuple[int, int]]:
    """The parts a block, data[start:stop], is scanned in, relative to its start: two halves split at a line end
    when it is over MIN_SPLIT bytes, else the whole."""
    size = stop - start
    middle = data.find(b"\n", start + size // 2, stop - 1) if size > MIN_SPLIT else -1
    return [(0, size)] if middle < 0 else [(0, middle + 1 - start), (middle + 1 - start, size)]


def _done(result: PartHits) -> "Future[PartHits]":
    done: Future[PartHits] = Future()
    done.set_result(result)
    return done


LONG_LINE = 4096  # a longer line is confirmed without the pattern's trailing run (`RunToEnd`)


def trailing_run(pattern: re.Pattern[bytes]) -> tuple[re.Pattern[bytes], frozenset[int]] | None:
    """(the pattern without the run of any byte but a newline it ends with, the groups that end where that run
    ends) when it ends with one (`[^\\n]*`, `.*`, maybe inside groups closing with it), else None.

    `(?P<msg>.*)` after `ValueError: ` holds a 512 KB line of request data whole: `re` then counts its way over
    it, for each pattern ending so, on each such line (most of a scan of long lines: bench/README.md). Without the
    run the match is found where it is, and the run is known to reach the line's end (`RunToEnd`)."""
    text = pattern.pattern.decode("utf-8", "surrogateescape")
    stripped = without_trailing_any(text)
    if stripped == text:
        return None
    try:
        items = list(_parser.parse(text, pattern.flags & ~re.UNICODE))
    except (re.error, RecursionError):
        return None
    ends: list[int] = []
    while items:
        op, av = items[-1]
        if op is sre.SUBPATTERN:
            if av[0] is not None:
                ends.append(av[0])
            items = list(av[3])
            continue
        if op is not sre.MAX_REPEAT or av[0] != 0 or av[1] != sre.MAXREPEAT or not _any_but_newline(list(av[2])):
            return None
        break
    else:
        return None
    try:
        short = compile_line_pattern(stripped)
    except re.error:
        return None
    removed = pattern.groups - short.groups  # `(?P<msg>.*)` goes whole: the pattern's last group
    if removed not in (0, 1) or (removed and (not ends or ends[-1] != pattern.groups)):
        return None
    return short, frozenset(ends)


def _any_but_newline(items: list[Any]) -> bool:
    """Whether these parsed items are one item matching any byte but a newline: `.`, `[^\\n]`."""
    if len(items) != 1:
        return False
    op, av = items[0]
    return op is sre.ANY or (op is sre.NOT_LITERAL and av == 10) or (
        op is sre.IN and av == [(sre.NEGATE, None), (sre.LITERAL, 10)])


def _long_line_match(short: Callable[[bytes], Any], pattern: re.Pattern[bytes], ends: frozenset[int],
                     line: bytes) -> Any:
    """The pattern's match on a line longer than LONG_LINE, made from the match of the pattern without its trailing
    run (`short`; `trailing_run`)."""
    found = short(line)
    return None if found is None else RunToEnd(found, pattern, ends)


class RunToEnd:
    """What `re` gives for a pattern ending with a run of any byte but a newline (`trailing_run`), on a line (no
    newline in it), made from the match of the pattern without that run: the same start and groups, and the run
    takes the rest of the line (greedy, it cannot stop before), so the whole match and the groups it closes end at the
    line's end. `re` finds the first way the rest of the pattern matches, which the run then always follows: the same
    way. The parts of `re.Match` the scan's readers use."""

    __slots__ = ("_found", "re", "string", "_ends")

    def __init__(self, found: re.Match[bytes], pattern: re.Pattern[bytes], ends: frozenset[int]) -> None:
        self._found, self.re, self.string, self._ends = found, pattern, found.string, ends

    def span(self, group: int | str = 0) -> tuple[int, int]:
        index = self.re.groupindex[group] if isinstance(group, str) else group
        if not 0 <= index <= self.re.groups:
            raise IndexError("no such group")
        if index == 0 or index in self._ends:
            start = self._found.start(index) if index <= self._found.re.groups else self._found.end()
            return start, len(self.string)
        return self._found.span(index)

    def start(self, group: int | str = 0) -> int:
        return self.span(group)[0]

    def end(self, group: int | str = 0) -> int:
        return self.span(group)[1]

    def group(self, *groups: int | str) -> Any:
        picked = [None if (span := self.span(g))[0] < 0 else self.string[span[0]:span[1]] for g in groups or (0,)]
        return picked[0] if len(picked) == 1 else tuple(picked)

    def groups(self, default: Any = None) -> tuple[Any, ...]:
        return tuple(default if (got := self.group(i)) is None else got for i in range(1, self.re.groups + 1))

    def groupdict(self, default: Any = None) -> dict[str, Any]:
        return {name: default if (got := self.group(i)) is None else got for name, i in self.re.groupindex.items()}


try:  # the same as _number_lines(_hit_lines(...)) in C, all but making the result without the GIL, over reports
    # hyperscan hands to a C handler (setup.py builds it)
    from doctor._native import Reports as _NativeReports, hit_lines as _native_hit_lines, \
        settle_lines as _native_settle_lines
except ImportError:
    _native_hit_lines = None


def _hit_lines(data: Any, lo: int, hi: int, reports: list[int]) -> dict[int, list[int]]:
    """Line start -> hyperscan ids (each once) for the match ends reported in data[lo:hi]."""
    lines: dict[int, list[int]] = {}
    for k in range(0, len(reports), 2):
        id_, end = reports[k], lo + reports[k + 1]
        for start in _line_starts(data, lo, end, hi):
            ids = lines.setdefault(start, [])
            if id_ not in ids:
                ids.append(id_)
    return lines


def _number_lines(data: Any, lo: int, hi: int,
                  lines: dict[int, list[int]]) -> tuple[list[tuple[int, int, list[int], bytes]], int]:
    """Each hit line's number relative to the part's first line, its ids sorted, the line; and the part's newline
    count."""
    out: list[tuple[int, int, list[int], bytes]] = []
    relative, counted_to = 0, lo
    for start in sorted(lines):
        relative += count_newlines(data, counted_to, start)
        counted_to = start
        stop = data.find(b"\n", start, hi)
        out.append((start, relative, sorted(lines[start]), bytes(data[start:hi if stop < 0 else stop])))
    return out, relative + count_newlines(data, counted_to, hi)


def _line_starts(data: Any, lo: int, end: int, hi: int) -> tuple[int, ...]:
    """The line a match ending at `end` lies in; after a newline also the next line (an empty match there)."""
    if end == lo:
        return (lo,)
    start = data.rfind(b"\n", lo, end - 1) + 1
    start = max(start, lo)
    if data[end - 1] == 10 and end < hi:
        return (start, end)
    return (start,)


def _first(item: tuple[int, re.Match[bytes]]) -> int:
    return item[0]
