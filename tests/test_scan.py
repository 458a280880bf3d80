"""The fast scan engine finds exactly what the reference `re` engine finds, on generated logs and fixtures."""

from __future__ import annotations

import io
import random
import json
import os
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import native_reference
from conftest import FIXTURES
from doctor import logs
from doctor.evidence import LogSource
from doctor.rules.logscan import ScanPlan
from doctor.rules.loader import builtin_rules_dir, load_rules
from doctor.rules.model import LogCond, walk
from doctor.scan import LineHit, ReScanner, make_scanner

hs = pytest.importorskip("doctor.scan_hs")

# Patterns the fast engine cannot take, or takes only in part: they must fall back cleanly.
AWKWARD = [r"(?<=pid )\d+", r"(\w+) \1", r"timeout\Z", r"^$", r"[^\"]+\" 5\d\d", r"(?i)ERROR:\s+(?P<what>.*)",
           r"a.*", r"x|.*", r"Traceback \(most recent call last\):$", r"(?P<l>\b(?:ab|x)\b[^\n]*)", r"pid\S*",
           r"code \d\)", r"\\.*", "(?i)caf\u00c9x", r"ab\xc3\x89", r"(?i)abc(?-i:XYZW)", r"(?i:worker) timeout"]


def builtin_patterns() -> list[str]:
    """Every log pattern of the built-in rules, as the engine numbers them."""
    rules = load_rules([], builtin=True)
    return ScanPlan([c for r in rules for c in walk(r.when) if isinstance(c, LogCond)]).patterns


PATTERNS = builtin_patterns() + AWKWARD

LINES = [
    b"2026-11-25T15:31:27.123456789Z Booting worker with pid: 123",
    b'127.0.0.1 - - [25/Nov/2026:15:31:27 +0000] "POST /score HTTP/1.1" 503 12 "-" "curl"',
    b"2026-11-25 15:31:27,000 | root | ERROR | User's init function failed",
    b"ValueError: bad input", b"  File \"/var/azureml-app/score.py\", line 12, in init",
    b"[CRITICAL] WORKER TIMEOUT (pid:123)", b"Worker (pid:7) exited with code 3", b"timeout", b"", b"\r",
    b"ab ab", b"pid 42", b"Traceback (most recent call last):", b"\xff\xfe error: \xc3(", b"x" * 300,
    b"error:   KeyError: 'x'\r", b"azmlinfsrv - POST /score 200 0.918ms 19",
    b"[INFO] Worker Timeout Is Set To 30", b"MODEL NOT FOUND in cache or in root at /x/y.pkl", b"caf\xc3\x89x ab\xc3\x89",
    b"Failed To Load model", b"Listening at: http://0.0.0.0:5001 (7)",
    # a match of a prefilter without its leading context, not of the pattern (re must say no)
    b"exec mlserver: not found", b"sh: 1: mlserver: not found", b"mlserver: command not found",
    b"  2 x NVIDIA T4", b"v2 x NVIDIA T4", b"(KeyError: 'x'", b"x Traceback (most recent call last):",
]


def _line() -> st.SearchStrategy[bytes]:
    return st.one_of(st.sampled_from(LINES), st.binary(max_size=60),
                     st.builds(lambda a, b: a + b, st.sampled_from(LINES), st.binary(max_size=8)))


def _log() -> st.SearchStrategy[bytes]:
    return st.builds(lambda lines, crlf, tail: (b"\r\n" if crlf else b"\n").join(lines) + tail,
                     st.lists(_line(), max_size=60), st.booleans(), st.sampled_from([b"", b"\n", b"\r\n"]))


def summary(hits: Iterator[LineHit]) -> list[tuple[Any, ...]]:
    """What a scan found, comparable across engines: line, bytes, and each pattern's groups."""
    return [(h.number, h.line, tuple((i, m.group(0), m.groups(), m.groupdict()) for i, m in h.matches)) for h in hits]


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny blocks and a tiny line cap so generated logs cross every border."""
    monkeypatch.setattr(logs, "MAX_LINE_BYTES", 97)


SCANNERS: dict[str, Any] = {}


def scanners() -> tuple[Any, Any]:
    """Both engines over PATTERNS, compiled once."""
    if not SCANNERS:
        SCANNERS.update(re=ReScanner(PATTERNS), hs=hs.HyperscanScanner(PATTERNS))
    return SCANNERS["re"], SCANNERS["hs"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=_log(), chunk=st.integers(min_value=1, max_value=300))
def test_hyperscan_equals_re(data: bytes, chunk: int) -> None:
    reference, fast = scanners()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logs.iter_chunks, "__defaults__", (chunk,))
        patch.setattr(logs.iter_blocks, "__defaults__", (chunk, 2))
        assert summary(fast.scan(io.BytesIO(data))) == summary(reference.scan(io.BytesIO(data)))


@pytest.mark.parametrize("processes", [True, False], ids=["processes", "threads"])
def test_big_blocks_split_in_two_halves(processes: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both halves of each block scanned, in two forked processes (Linux) or two threads: the hits of `re`."""
    monkeypatch.setattr(hs, "PROCESSES", processes)
    data = _blocks_of_two_halves(monkeypatch)
    reference = summary(ReScanner(PATTERNS).scan(io.BytesIO(data)))
    assert reference and summary(hs.HyperscanScanner(PATTERNS).scan(io.BytesIO(data))) == reference


def _blocks_of_two_halves(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A log read in 6 blocks of ~100 KB: each over MIN_SPLIT, so scanned as two halves."""
    monkeypatch.setattr(logs.iter_blocks, "__defaults__", (100_000, 2))
    return b"\n".join(LINES * 500)


def _forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the processes forked from now on (in this process)."""
    pids: list[int] = []
    fork = os.fork

    def recorded() -> int:
        pid = fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recorded)
    return pids


def _gone(pid: int) -> bool:
    """Whether a child of this process has ended and been reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.skipif(not hs.PROCESSES or hs._native_hit_lines is None, reason="the parts are scanned in threads here")
def test_scanning_processes_end_with_the_scan_even_one_left_early(monkeypatch: pytest.MonkeyPatch) -> None:
    pids = _forks(monkeypatch)
    data = _blocks_of_two_halves(monkeypatch)
    hits = summary(hs.HyperscanScanner(PATTERNS).scan(io.BytesIO(data)))
    assert hits and len(pids) == hs.THREADS and all(_gone(pid) for pid in pids)
    scan = hs.HyperscanScanner(PATTERNS).scan(io.BytesIO(data))
    next(scan)
    scan.close()  # a reader that stops early (an interrupted check)
    assert len(pids) == 2 * hs.THREADS and all(_gone(pid) for pid in pids)


@pytest.mark.skipif(not hs.PROCESSES or hs._native_hit_lines is None, reason="the parts are scanned in threads here")
def test_where_fork_fails_the_parts_are_scanned_in_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A limit on processes (or a sandbox) refusing the second fork: the first process ends, threads scan."""
    data = _blocks_of_two_halves(monkeypatch)
    reference = summary(ReScanner(PATTERNS).scan(io.BytesIO(data)))
    fork, pids = os.fork, []

    def limited() -> int:
        if pids:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        pid = fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", limited)
    assert summary(hs.HyperscanScanner(PATTERNS).scan(io.BytesIO(data))) == reference
    assert len(pids) == 1 and _gone(pids[0])


@pytest.mark.skipif(not hs.PROCESSES or hs._native_hit_lines is None, reason="the parts are scanned in threads here")
@pytest.mark.parametrize("how", ["dies", "fails"])
def test_a_scanning_process_that_dies_or_fails_leaves_its_parts_to_the_scan(how: str,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A process killed (out of memory, say) or failing on a part: those parts are scanned in the check's own
    process, and the hits are all there, the same."""
    serve = hs._serve

    def broken(scanner: Any, buffers: Any, k: int, requests: int, replies: int) -> None:
        if how == "dies":
            os.read(requests, hs._REQUEST.size)
            os._exit(9)  # killed with a part to scan
        serve(scanner, [None] * len(buffers), k, requests, replies)  # every part fails to scan there

    data = _blocks_of_two_halves(monkeypatch)
    reference = summary(ReScanner(PATTERNS).scan(io.BytesIO(data)))
    monkeypatch.setattr(hs, "_serve", broken)
    pids = _forks(monkeypatch)
    assert summary(hs.HyperscanScanner(PATTERNS).scan(io.BytesIO(data))) == reference
    assert pids and all(_gone(pid) for pid in pids)
    monkeypatch.setattr(hs, "_serve", serve)


MAPPED_LOG = b"\n".join(LINES * 500) + b"\nTraceback (most recent call last):" + b"." * 250_000 + b" KeyError: 'x'\n" + \
    b"\n".join(LINES * 100) + b"\nERROR: the last line, without a newline"


def _mapped(monkeypatch: pytest.MonkeyPatch, chunk: int = 100_000) -> None:
    """Every regular file scanned by processes that map it, in blocks of `chunk` (the read path's too)."""
    monkeypatch.setattr(hs, "MAPPED_MIN", 1)
    monkeypatch.setattr(hs, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(logs.iter_chunks, "__defaults__", (chunk,))
    monkeypatch.setattr(logs.iter_blocks, "__defaults__", (chunk, 2))


def _read_here(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the blocks this process reads (`iter_blocks`) during a hyperscan scan from now on."""
    sizes: list[int] = []
    blocks = hs.iter_blocks

    def recorded(*args: Any, **kwargs: Any) -> Iterator[memoryview]:
        for view in blocks(*args, **kwargs):
            sizes.append(len(view))
            yield view

    monkeypatch.setattr(hs, "iter_blocks", recorded)
    return sizes


@pytest.mark.skipif(not hs.PROCESSES, reason="the parts are scanned in threads here")
def test_a_scanning_process_writes_ahead_of_the_reader(tmp_path: Path) -> None:
    """A scanning process sends a block's hit lines and goes on to the next block while the check's process is busy
    with the last one: its reply pipe holds REPLY_PIPE_BYTES. With a pipe's default 64 KiB, the ~200 KB of hit lines
    of a block of the mixed log stopped each process until this one read them (bench/README.md)."""
    if int(Path("/proc/sys/fs/pipe-max-size").read_text()) < hs.REPLY_PIPE_BYTES:
        pytest.skip("this system caps a pipe's buffer below REPLY_PIPE_BYTES")
    sent = hs.REPLY_PIPE_BYTES - 4096

    def serve(k: int, requests: int, replies: int) -> None:
        with open(replies, "wb", buffering=0) as outbox:
            outbox.write(b"x" * sent)  # blocks for good if the pipe holds less and nobody reads
            (tmp_path / f"written-{k}").touch()
        os.close(requests)

    with hs._Workers(serve) as workers:
        deadline = time.monotonic() + 20
        while len(list(tmp_path.glob("written-*"))) < hs.THREADS and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(list(tmp_path.glob("written-*"))) == hs.THREADS  # nothing read yet
        for k in range(hs.THREADS):
            proc = workers.procs[k]
            assert proc is not None and len(proc[2].read(sent)) == sent


@pytest.mark.skipif(not hs.PROCESSES or hs._native_hit_lines is None, reason="the parts are scanned in threads here")
def test_a_log_file_is_scanned_by_processes_that_map_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A regular file: each scanning process maps it and sends back its half of every block's hit lines with their
    text. This process reads none of it but the last line, which has no newline (and would read a block `re` must
    search whole): the hits of `re` over the same blocks, a line longer than a block cut where the read path cuts
    it."""
    _mapped(monkeypatch)
    taken = [p for p in PATTERNS if p not in AWKWARD]  # hyperscan takes them all: no block to read for `re`
    reference = summary(ReScanner(PATTERNS).scan(io.BytesIO(MAPPED_LOG)))
    path = tmp_path / "app.log"
    path.write_bytes(MAPPED_LOG)
    read, pids = _read_here(monkeypatch), _forks(monkeypatch)
    with open(path, "rb") as stream:
        hits = summary(hs.HyperscanScanner(taken).scan(stream))
    assert len(hits) > 10_000 and hits == summary(ReScanner(taken).scan(io.BytesIO(MAPPED_LOG)))
    assert read == [len(b"ERROR: the last line, without a newline") + 1]
    assert len(pids) == hs.THREADS and all(_gone(pid) for pid in pids)
    read.clear()
    with open(path, "rb") as stream:  # patterns hyperscan does not take: `re` over blocks this process reads then
        assert summary(hs.HyperscanScanner(PATTERNS).scan(stream)) == reference
    assert len(read) == 1


@pytest.mark.skipif(not hs.PROCESSES or hs._native_hit_lines is None, reason="the parts are scanned in threads here")
@pytest.mark.parametrize("how", ["dies", "fails"])
def test_a_mapping_process_that_dies_or_fails_leaves_the_rest_to_be_read(how: str, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A process mapping the file killed (the file cut shorter under it: SIGBUS) or failing on its third block:
    this process reads the file on from the last block both answered, and the hits are all there, the same."""
    _mapped(monkeypatch)
    reference = summary(ReScanner(PATTERNS).scan(io.BytesIO(MAPPED_LOG)))
    path = tmp_path / "app.log"
    path.write_bytes(MAPPED_LOG)
    parent, mapped, part = os.getpid(), hs.iter_mapped, hs.HyperscanScanner._native_part
    calls = [0]

    def dying(stream: Any, length: int, chunk: int) -> Iterator[tuple[Any, int, int]]:
        for n, block in enumerate(mapped(stream, length, chunk)):
            if n == 2 and how == "dies":
                os._exit(9)
            yield block

    def failing(self: Any, *args: Any) -> Any:
        calls[0] += 1
        if os.getpid() != parent and calls[0] == 3:
            raise MemoryError
        return part(self, *args)

    monkeypatch.setattr(hs, "iter_mapped", dying)
    monkeypatch.setattr(hs.HyperscanScanner, "_native_part", failing)
    read, pids = _read_here(monkeypatch), _forks(monkeypatch)
    with open(path, "rb") as stream:
        assert summary(hs.HyperscanScanner(PATTERNS).scan(stream)) == reference
    assert read and sum(read) < len(MAPPED_LOG)  # the first blocks were not read here
    assert len(pids) == 2 * hs.THREADS and all(_gone(pid) for pid in pids)  # then the read path's processes


@pytest.mark.skipif(not hs.PROCESSES or hs._native_hit_lines is None, reason="the parts are scanned in threads here")
def test_guarded_patterns_in_a_mapped_file_give_the_aggregates_of_re(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Guarded patterns (searched by `re` on the lines after their guards') over a file the scanning processes
    map in small blocks (one part each: the second process answers each block with nothing): the blocks holding a
    guard are read here, and every aggregate is the `re` engine's."""
    from doctor.rules.model import After

    rnd = random.Random(7)
    data = b"\n".join(rnd.choice(GUARD_LINES) for _ in range(3000)) + b"\n"
    path = tmp_path / "app.log"
    path.write_bytes(data)
    guard = After(("ResolvePackageNotFound:|guard 7 here",), lines=3)
    conds = [LogCond((r"^\s+- (?P<spec>[A-Za-z0-9_.-]+(?:[=<>!]=?[^\s\n]+)?)\s*$",), only_after=guard, bind="specs"),
             LogCond((r"worker (?P<w>\d+) says - (?P<what>\w+)",),
                     only_after=After((r"guard (?P<w>\d+) here",), same=("w",), lines=3), bind="same")]
    _mapped(monkeypatch, 2000)
    read = _read_here(monkeypatch)
    found = {engine: ScanPlan(conds).run([LogSource.from_path("app.log", "app", path)], engine)
             for engine in ("re", "hyperscan")}
    assert found["hyperscan"][0] and read == []
    assert {i: [(a.binding(), a.excerpt_lines()) for a in aggs] for i, aggs in found["hyperscan"].items()} == \
        {i: [(a.binding(), a.excerpt_lines()) for a in aggs] for i, aggs in found["re"].items()}


def test_a_file_is_mapped_to_its_last_newline(tmp_path: Path) -> None:
    """What the scanning processes map: up to the last newline, from where the stream stands; nothing of a file
    without one near its end, nor of what is not a regular file."""
    path = tmp_path / "app.log"
    path.write_bytes(b"a\nbb\nccc")
    with open(path, "rb") as stream:
        assert hs._mapped_length(stream) == 5
        stream.seek(1)
        assert hs._mapped_length(stream) == 4
    path.write_bytes(b"x" * (3 * hs.MIN_SPLIT))
    with open(path, "rb") as stream:
        assert hs._mapped_length(stream) == 0
    assert hs._mapped_length(io.BytesIO(b"a\n")) == 0


def test_fallback_patterns_are_only_the_awkward_ones() -> None:
    scanner = hs.HyperscanScanner(PATTERNS)
    slow = {PATTERNS[i] for i in scanner.slow_ids}
    assert slow <= set(AWKWARD) and r"(?<=pid )\d+" in slow and r"(\w+) \1" in slow and r"timeout\Z" in slow


def test_auto_and_env_pick_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    assert type(make_scanner(["a"])).__name__ == "HyperscanScanner"
    monkeypatch.setenv("MLDOCTOR_SCAN_ENGINE", "re")
    assert isinstance(make_scanner(["a"]), ReScanner)
    with pytest.raises(ValueError, match="unknown scan engine"):
        make_scanner(["a"], "grep")


def test_reader_reuses_buffers_and_equals_chunks() -> None:
    data = b"".join(LINES * 50)
    views = list(bytes(v) for v in logs.iter_blocks(io.BytesIO(data), 100))
    assert views == list(logs.iter_chunks(io.BytesIO(data), 100))


BUNDLES = sorted(p for p in (FIXTURES / "bundles").iterdir() if p.is_dir())


@pytest.mark.parametrize("bundle", BUNDLES, ids=[b.name for b in BUNDLES])
def test_check_same_findings_with_both_engines(bundle: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    out = {}
    for engine in ("re", "hyperscan"):
        monkeypatch.setenv("MLDOCTOR_SCAN_ENGINE", engine)
        report = cli("check", str(bundle), "--format", "json").json()
        report.pop("generated_at", None)
        assert report["tool"].pop("scan_engine") == engine  # the report says which engine scanned
        out[engine] = json.dumps(report, sort_keys=True)
    assert out["re"] == out["hyperscan"]


def test_database_cache_rebuilt_when_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLDOCTOR_CACHE_DIR", str(tmp_path))
    hs.HyperscanScanner(PATTERNS)
    cached, = tmp_path.glob("hs-*.db")
    cached.write_bytes(b"[0]\n" + b"garbage" * 100)
    data = b"\n".join(LINES * 3)
    assert summary(hs.HyperscanScanner(PATTERNS).scan(io.BytesIO(data))) == summary(ReScanner(PATTERNS).scan(io.BytesIO(data)))


def test_the_database_cache_keeps_the_databases_used_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database per pattern set, never more than MAX_DATABASES kept: those used last stay (an old version's go)."""
    monkeypatch.setenv("MLDOCTOR_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(hs, "MAX_DATABASES", 3)
    hs.HyperscanScanner(["first"])
    first, = tmp_path.glob("hs-*.db")
    os.utime(first, (1, 1))  # made long ago
    hs.HyperscanScanner(["other 0"])
    zero = max(tmp_path.glob("hs-*.db"), key=lambda p: p.stat().st_mtime)
    hs.HyperscanScanner(["other 1"])
    hs.HyperscanScanner(["first"])  # found, and so used last
    hs.HyperscanScanner(["other 2"])  # a fourth: the one used longest ago goes
    kept = set(tmp_path.glob("hs-*.db"))
    assert len(kept) == 3 and first in kept and zero not in kept
    os.utime(first, (1, 1))
    hs.HyperscanScanner(["other 3"])
    assert len(list(tmp_path.glob("hs-*.db"))) == 3 and not first.exists()


def test_a_cached_database_is_found_without_working_out_the_expressions(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The database cache is keyed by the patterns (and the code making their expressions): a run that finds it
    makes no expression; other patterns make another database."""
    monkeypatch.setenv("MLDOCTOR_CACHE_DIR", str(tmp_path))
    first = hs.HyperscanScanner(PATTERNS, first_only=[0])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hs, "hs_expression", lambda *args: pytest.fail("an expression was worked out"))
        again = hs.HyperscanScanner(PATTERNS, first_only=[0])
    assert again.fast_ids == first.fast_ids and again.db is not None
    hs.HyperscanScanner(PATTERNS, first_only=[1])  # first_only is in the key: a second database
    assert len(list(tmp_path.glob("hs-*.db"))) == 2


def test_nested_quantifiers_are_found() -> None:
    from doctor.scan import nested_quantifier

    assert all(map(nested_quantifier, [r"(a+)+$", r"(a*)*b", r"(\w+\s?)+=", r"((ab)+)+", r"x(?:\d+)*y"]))
    assert not any(map(nested_quantifier, [r"(?:[A-Za-z_]\w*\.)*\w+Error", r"(a+b)+", r"a+b+", r"(\d+)"] + PATTERNS[:-len(AWKWARD)]))


FIRST_ONLY = frozenset(i for i in range(len(PATTERNS)) if i % 3 == 0 or PATTERNS[i] in AWKWARD)
ONCE: dict[str, Any] = {}


def by_pattern(hits: Iterator[LineHit]) -> dict[int, list[tuple[Any, ...]]]:
    """Per pattern, the lines (number, bytes, groups) a scan reported for it."""
    out: dict[int, list[tuple[Any, ...]]] = {}
    for h in hits:
        for i, m in h.matches:
            out.setdefault(i, []).append((h.number, h.line, m.group(0), m.groups()))
    return out


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=_log(), chunk=st.integers(min_value=1, max_value=300))
def test_first_only_patterns_report_one_line_the_others_all(data: bytes, chunk: int) -> None:
    """A pattern read only as "is it in the log" is reported on one line it matches (the first, with `re`), as soon
    as the log has one; every other pattern's hits are unchanged. `[^"]+" 5\\d\\d` makes hyperscan's single report
    a match across a line end that `re` refuses, so the block is searched again for it."""
    if not ONCE:
        ONCE.update(re=ReScanner(PATTERNS, FIRST_ONLY), hs=hs.HyperscanScanner(PATTERNS, FIRST_ONLY))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logs.iter_chunks, "__defaults__", (chunk,))
        patch.setattr(logs.iter_blocks, "__defaults__", (chunk, 2))
        reference = by_pattern(scanners()[0].scan(io.BytesIO(data)))
        for engine in ("re", "hs"):
            found = by_pattern(ONCE[engine].scan(io.BytesIO(data)))
            assert set(found) == set(reference), engine
            for index, lines in found.items():
                if index not in FIRST_ONLY:
                    assert lines == reference[index], (engine, PATTERNS[index])
                else:
                    assert len(lines) == 1 and lines[0] in reference[index], (engine, PATTERNS[index])
                    if engine == "re":
                        assert lines == reference[index][:1]


def test_cross_line_report_is_searched_again() -> None:
    """Hyperscan's one report of a single-match pattern spans two lines; the real match is further on."""
    pattern = r'[^"]+" 5\d\d'
    data = b'a "\n503 x\n' + b"filler\n" * 50 + b'GET /score" 503 1\n' + b"tail\n" * 50
    scanner = hs.HyperscanScanner([pattern], [0])
    assert by_pattern(scanner.scan(io.BytesIO(data))) == {0: [(53, b'GET /score" 503 1', b'GET /score" 503', ())]}


def test_a_pattern_only_negated_rules_use_is_scanned_for_its_first_line() -> None:
    """`init-failure` asks whether the log served requests (`not: POST /score|...`): on a busy log that pattern hits
    every line, and only its first line is read; a pattern a finding counts or quotes is read on every line."""
    rules = load_rules([], builtin=True)
    conds = [c for r in rules for c in r.conditions() if isinstance(c, LogCond)]
    from doctor.rules.engine import _negated

    negated = {id(c) for r in rules for c in _negated(r)}
    plan = ScanPlan(conds, [i for i, c in enumerate(conds) if id(c) in negated])
    served = plan.patterns.index(r"Encountered Exception: Traceback|POST /score|in run\b")
    assert served in plan.first_only
    positive = {i for i, users in plan.users.items() if any(id(conds[ci]) not in negated for ci, _ in users)}
    assert positive and not positive & plan.first_only
    log = b"".join(b'10.0.0.%d - - [25/Nov/2026:15:31:27 +0000] "POST /score HTTP/1.1" 200 12 "-" "curl"\n' % (i % 9)
                   for i in range(5000))
    scanner = make_scanner(plan.patterns, "auto", plan.first_only)
    assert sum(1 for h in scanner.scan(io.BytesIO(log)) for i, _ in h.matches if i == served) == 1


@pytest.mark.parametrize("pattern, prefilter", [
    (r"(?P<line>\b(?:ERROR|FATAL)\b[^\n]*)", r"(?P<line>\b(?:ERROR|FATAL)\b)"),
    (r"(?P<exc>\w+Error): (?P<msg>.*)", r"(?P<exc>\w+Error): "), (r"a(?:.*)", "a"), (r"ab\S*", "ab"),
    (r"(a|b.*)", "(a|b)"), (r"a[^\r\n]*", "a"),
    (r"a\.*", r"a\.*"), (r"code 3\)", r"code 3\)"), (r"a\[^\n]*", r"a\[^\n]*"), (r"a\\.*", r"a\\"),
    (r"a[^\n]*\)", r"a[^\n]*\)"), (r"(a.*)+", r"(a.*)+"), (r"a[^x]*", r"a[^x]*"),
])
def test_hyperscan_prefilter_drops_only_a_trailing_run(pattern: str, prefilter: str) -> None:
    """A trailing `.*`, `[^\\n]*` or `\\S*` (one hyperscan report per byte) goes; an escaped or quantified one stays."""
    assert hs.without_trailing_any(pattern) == prefilter


@pytest.mark.parametrize("pattern", [p for p in PATTERNS if p.startswith("^")] + [
    r"^E\d{4} \d\d", r"^ab+c", r"^abc?", r"^a{2}", r"^E|^F", r"^Tr(?P<x>a)", r"^x\s*$"])
def test_anchored_text_compiles_to_the_same_matches(pattern: str) -> None:
    """`^text...` compiled as `text(?<=^text)...` (a literal start `re` finds fast) finds what `^text...` finds:
    the same spans and groups over a block of lines (at its start, after each newline, nowhere else)."""
    from doctor.linematch import compile_line_pattern

    block = b"\n".join(LINES + [b"E1125 15:31:27.1 x", b"xE1125 15", b"abbc", b"aa", b"Trax", b"x  ", b"F"]) + b"\n"
    plain = re.compile(pattern.encode(), re.MULTILINE)
    fast = compile_line_pattern(pattern)
    assert [(m.span(), m.groupdict()) for m in fast.finditer(block)] == [
        (m.span(), m.groupdict()) for m in plain.finditer(block)]
    if pattern[1:2].isalnum() and pattern[2:3] not in ("*", "+", "?", "{"):
        assert fast.pattern != plain.pattern  # the fast form was used


@pytest.mark.parametrize("pattern, prefilter", [
    (r"(?:^|sh: (?:\d+: )?)(?P<b>mlserver|vllm): not found", r"(?P<b>mlserver|vllm): not found"),
    (r"^\s*(?P<n>\d) x T4", r"(?P<n>\d) x T4"), (r"^\s+x", "x"), (r"(?:^|\s)A|B", "A|B"),
    (r"(?:^|[)(\]])x", "x"), (r"(?:^|\()x", "x"),
    (r"(?:^|\s)", r"(?:^|\s)"), (r"(?:^|\s)|x", r"(?:^|\s)|x"), (r"(?:^|a)+x", r"(?:^|a)+x"),
    (r"(?:^|a)?x", r"(?:^|a)?x"), (r"^\s*", r"^\s*"), (r"^\s*|x", r"^\s*|x"), (r"^x", "^x"),
    (r"(?i)(?:^|a)x", r"(?i)(?:^|a)x"), (r"((?:^|a)x)", r"((?:^|a)x)"), (r"(?:^|a", r"(?:^|a"),
])
def test_hyperscan_prefilter_drops_a_leading_context(pattern: str, prefilter: str) -> None:
    """A first branch's leading `(?:^|X)` or `^\\s*` goes (what is left matches wherever the pattern does);
    one that is repeated, or is the whole branch, stays."""
    assert hs.without_leading_context(pattern) == prefilter


@pytest.mark.parametrize("pattern, prefilter", [
    (r"^(?:(?:DEBUG|INFO) \d{4}-\d\dZ )?(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception): ",
     r"[A-Za-z_]\w*(?:Error|Exception): "),
    (r"^(?:\S+ ){0,3}(?:FATAL|CRITICAL)\b", r"(?:FATAL|CRITICAL)\b"), (r"^a?b", "b"), (r"^a*?x?bc", "bc"),
    (r"^a{0}b", "b"), (r"^a{0,}b", "b"), (r"^(?:x )??abc", "abc"),
    # kept: nothing optional after the anchor, no fixed text after it, a number next, no anchor, or not read here
    (r"^ab", "^ab"), (r"^a{1,3}b", "^a{1,3}b"), (r"^(?:x)+b", "^(?:x)+b"), (r"^a?$", "^a?$"), (r"^x?\s*", r"^x?\s*"),
    (r"^(?:INFO )?\d{4}-\d\dT abc", r"^(?:INFO )?\d{4}-\d\dT abc"), (r"a?b", "a?b"), (r"^a?b|c", "^a?b|c"),
    (r"(?i)^a?b", "(?i)^a?b"), (r"^(a)?\1b", r"^(a)?\1b"), (r"^a?+b", "^a?+b"),
])
def test_hyperscan_prefilter_drops_an_anchor_before_optional_items(pattern: str, prefilter: str) -> None:
    """A leading `^` and the optional items after it go (what is left matches wherever the pattern does), unless
    a number follows them (a time or a count starts most log lines) or nothing fixed is left."""
    assert hs.without_optional_start(pattern) == prefilter


_PIECES = ["ab", "cde", "fghij", r"\d+", r"\s*", r"[^x\n]{0,9}", r"(?:ab|cde)", r"(\w+)", "^", r"\.", " ", "x?", r"\bab", r"[a-z]", r"\w*"]


_STARTS = ["a?", "(?:ab )?", r"\d*", r"(?:x\.)*", "c{0,2}", "(?:ab|cde)??"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_STARTS), min_size=1, max_size=3), st.lists(st.sampled_from(_PIECES), min_size=1, max_size=5),
       st.lists(st.lists(st.sampled_from(["ab", "cde", "fghij", "7", "42", " ", ".", "x", "c", "\t"]), max_size=12),
                min_size=1, max_size=8))
def test_a_prefilter_without_an_optional_start_matches_every_line_the_pattern_matches(
        starts: list[str], pieces: list[str], lines: list[list[str]]) -> None:
    """On any line `^`, optional items, then more items matches, what `without_optional_start` leaves matches
    too: generated patterns and lines."""
    pattern = "^" + "".join(starts) + "".join(pieces)
    prefilter = re.compile(hs.without_optional_start(pattern).encode())
    full = re.compile(pattern.encode())
    for words in lines:
        line = "".join(words).encode()
        assert not full.search(line) or prefilter.search(line), (pattern, line)


@pytest.mark.parametrize("pattern, prefilter", [
    (r'"POST (?P<path>/[^\s"\n]{0,300}) HTTP/1\.[01]" 404 ', r' HTTP/1\.[01]" 404 '),
    (r'"POST /\S+ HTTP/[\d.]+" 500 Internal Server Error', r'" 500 Internal Server Error'),
    (r"^\[\d{4}-\d\d\]\s+\[\d+\] [\w.-]+ (?:ERROR|CRITICAL)\s", r" (?:ERROR|CRITICAL)\s"),
    (r"\bService \S+ initialized\s*$", r" initialized\s*$"), (r"x{2}abcdef", "abcdef"), (r"a\d+\.bcde", r"\.bcde"),
    # unchanged: the longest run is at the start, too short, or as long as one the part before holds in a group
    (r"WORKER TIMEOUT \(pid:\d+\)", r"WORKER TIMEOUT \(pid:\d+\)"), (r"ab\d+abc", r"ab\d+abc"),
    (r"abcd\d+abcd", r"abcd\d+abcd"), (r'File "(?P<f>[^"\n]*/models/[^"\n]+)", line ', r'File "(?P<f>[^"\n]*/models/[^"\n]+)", line '),
    # the run continues a word run (it would match inside longer words): from the word character that starts the
    # word on (hyperscan followed each line's start, or each time of a `--timestamps` log, before the exception)
    (r"^(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception): ", r"[A-Za-z_]\w*(?:Error|Exception): "),
    (r"^\d{4}-\d\dZ (?:raise )?[A-Za-z_]\w*(?:Error|Exception): ", r"[A-Za-z_]\w*(?:Error|Exception): "),
    # unchanged: nothing says a word starts there (`\w*Error: ` finds `Error: ` inside any word)
    (r"^x\w*(?:Error|Exception): ", r"^x\w*(?:Error|Exception): "), (r"^\d+\w*(?:Error|Exception): ", r"^\d+\w*(?:Error|Exception): "),
    (r"^\w*(?:Error|Exception): ", r"^\w*(?:Error|Exception): "),
    # unchanged: what this reading does not take
    (r"a|\d+abcdef", r"a|\d+abcdef"), (r"(?i)x\d+abcdef", r"(?i)x\d+abcdef"), (r"(\w)\d+\1abcdef", r"(\w)\d+\1abcdef"),
    (r"x(?=y)\d+abcdef", r"x(?=y)\d+abcdef"), (r"\d+abcdef\n", r"\d+abcdef\n"), (r"(?P<a>x\d+abcdef", r"(?P<a>x\d+abcdef"),
])
def test_hyperscan_prefilter_starts_at_the_longest_literal_run(pattern: str, prefilter: str) -> None:
    """The prefilter starts at the pattern's longest top-level literal run when that run is not at its start (what
    comes before it, often a wide class after common text such as `"POST /`, is where hyperscan's work went)."""
    assert hs.from_longest_literal(pattern) == prefilter


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=7),
       st.lists(st.lists(st.sampled_from(["ab", "cde", "fghij", "7", "42", " ", ".", "x", "_", "\t"]), max_size=12),
                min_size=1, max_size=8))
def test_a_prefilter_from_a_literal_run_matches_every_line_the_pattern_matches(pieces: list[str],
                                                                              lines: list[list[str]]) -> None:
    """On any line the pattern matches, what is left of it from its longest literal run matches too (`re` then
    confirms the line): generated patterns and lines."""
    pattern = "".join(pieces)
    prefilter = re.compile(hs.from_longest_literal(pattern).encode())
    full = re.compile(pattern.encode())
    for words in lines:
        line = "".join(words).encode()
        assert not full.search(line) or prefilter.search(line), (pattern, line)


def test_hyperscan_prefilter_matches_every_line_the_pattern_matches() -> None:
    """The prefilter of every built-in pattern, read as a Python regex, matches each line the pattern matches."""
    for pattern in builtin_patterns():
        expression = hs.hs_expression(pattern)
        if expression is None:
            continue
        full, prefilter = re.compile(pattern.encode(), re.MULTILINE), re.compile(expression, re.MULTILINE)
        for line in LINES:
            assert not full.search(line) or prefilter.search(line), (pattern, line)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=_log(), chunk=st.integers(min_value=1, max_value=300), mode=st.sampled_from(["in", "blocks", "lines"]))
def test_required_text_prefilter_skips_only_blocks_without_a_match(data: bytes, chunk: int, mode: str) -> None:
    """The `re` engine skips a pattern in a block that has none of the texts its every match contains (lower-cased
    for a pattern that ignores case), or searches only the lines that hold one: the same hits as searching every
    pattern in every block, whether the texts are looked for with `in` (no C extension), found in C but every
    pattern searched over the block (`_native.line_starts` with a cap of 0 lines), or their lines found in C and
    searched alone (the cap is the block's size)."""
    import doctor.scan

    if "plain" not in ONCE:
        ONCE["plain"] = ReScanner(PATTERNS, prefilter=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logs.iter_chunks, "__defaults__", (chunk,))
        assert doctor.scan._line_starts is not None  # built by `pip install -e .`, as CI installs
        if mode == "in":
            patch.setattr(doctor.scan, "_line_starts", None)
        patch.setattr(doctor.scan, "LINE_SEARCH_SHIFT", 0 if mode == "lines" else 62)
        assert summary(scanners()[0].scan(io.BytesIO(data))) == summary(ONCE["plain"].scan(io.BytesIO(data)))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300).map(lambda b: b.replace(b"\x00", b"A")), st.data())
def test_native_line_starts_are_the_lines_holding_each_text(data: bytes, draw: st.DataObject) -> None:
    """`_native.line_starts` gives, per text, the start of every line (split at newlines) that holds it (lower-cased
    for a folded text), in order; None when more than `cap` lines do, or when the text is shorter than two bytes;
    a text holding a newline is on no line."""
    from doctor._native import line_starts

    def cut() -> bytes:
        if not data:
            return b"ab"
        start = draw.draw(st.integers(0, len(data) - 1))
        return data[start:start + draw.draw(st.integers(0, 6))]

    texts = draw.draw(st.lists(st.one_of(st.builds(cut), st.binary(max_size=4), st.sampled_from([b"\nA", b"A\nB"])),
                               max_size=6))
    folds = [draw.draw(st.booleans()) for _ in texts]
    texts = [t.lower() if f else t for t, f in zip(texts, folds)]
    cap = draw.draw(st.integers(0, 8))
    expected = native_reference.line_starts(data, texts, folds, cap)
    for buffer in (data, bytearray(data), memoryview(data)):
        assert line_starts(buffer, texts, folds, cap) == expected


@pytest.mark.parametrize("pattern, texts", [
    (r"Booting worker with pid: (?P<pid>\d+)", ((b"Booting worker with pid: ",), False)),
    (r"(?:^|\s)Traceback \(most recent call last\):|\] ERROR - |\sERROR \[",
     ((b"ERROR [", b"Traceback (most recent call last):", b"] ERROR - "), False)),
    (r"(?i)Worker timeout is set to (?P<s>\d+)", ((b"worker timeout is set to ",), True)),
    (r"x(?:abc)+y", ((b"abc",), False)), (r"ab\xc3\x89", ((b"ab\xc3\x89",), False)),
    ("(?i)caf\u00c9x", ((b"caf\xc3\x89x",), True)), (r"(?i)abc(?-i:XYZW)", ((b"abc",), True)),
    (r"abc(?i:DEF)ghi", ((b"abc",), False)),
    (r"a|bcd", None), (r"(?:abc)*", None), (r"(?x) abc def", None), (r"\d+ms", None),
])
def test_required_texts(pattern: str, texts: object) -> None:
    from doctor.linematch import required_texts

    assert required_texts(pattern) == texts


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(-5, 310), st.integers(-5, 310))
def test_count_newlines_is_bytes_count(data: bytes, start: int, stop: int) -> None:
    """The C newline count (built by `pip install -e .`, as CI installs) is bytes.count's, any bounds, any view."""
    from doctor import _native

    assert logs._newlines is _native.newlines
    for buffer in (data, bytearray(data), memoryview(data)):
        assert logs.count_newlines(buffer, max(start, 0), min(stop, len(data))) == data.count(
            b"\n", max(start, 0), min(stop, len(data)))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 20_000), st.floats(0, 1), st.integers(0, 40), st.randoms(use_true_random=False))
def test_count_newlines_over_many_blocks(size: int, density: float, start: int, rnd: Any) -> None:
    """The count's byte lanes are summed every 255 blocks of 16 bytes: data of newlines only (255 and more in every
    lane between sums), mixed, or none, any start, counts as bytes.count does."""
    from doctor import _native

    data = bytes(10 if rnd.random() < density else 97 for _ in range(size))
    for run in (data, b"\n" * size):
        assert _native.newlines(run, min(start, size), size) == run.count(b"\n", min(start, size))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200).map(lambda b: b.replace(b"\r", b"\n")), st.data())
def test_native_hit_lines_is_the_python_numbering(data: bytes, draw: st.DataObject) -> None:
    """The C hit-line numbering gives what _hit_lines then _number_lines give, for any match ends in a part."""
    from doctor import _native, scan_hs

    lo = draw.draw(st.integers(0, len(data)))
    hi = draw.draw(st.integers(lo, len(data)))
    ends = draw.draw(st.lists(st.tuples(st.integers(0, 40), st.integers(0, hi - lo)), max_size=30))
    if draw.draw(st.booleans()):  # in the order of their ends, as hyperscan mostly reports (each line's ids sorted
        ends.sort(key=lambda pair: pair[1])  # there, not the whole part's), or in any order (sorted whole)
    reports = [value for pair in ends for value in pair]
    buffer = bytearray(data)
    expected = scan_hs._number_lines(buffer, lo, hi, scan_hs._hit_lines(buffer, lo, hi, reports))
    assert _native.hit_lines(buffer, lo, hi, reports) == (list(expected[0]), expected[1])
    collected = _native.Reports()  # hyperscan's handler: (id, from, to, flags, context), kept in C
    for id_, end in ends:
        assert collected(id_, 0, end, 0, None) is None
    assert len(collected) == len(reports)
    assert _native.hit_lines(buffer, lo, hi, collected) == (list(expected[0]), expected[1])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([b"Traceback", b"KeyError: 'x'", b"9 timed", b"", b"  File"]), min_size=1, max_size=40),
       st.data())
def test_settled_lines_are_the_lines_confirmed_one_by_one(lines: list[bytes], draw: st.DataObject) -> None:
    """A scanning process's packed hit lines, settled in C against the memo of lines seen before: the same `found`
    (in line order, a None where a line is left to confirm) and the same lines left as the Python reference, for
    entries whole or not, with the same ids or others, lines that start with a one-off byte (a digit), and lines
    sent without their bytes (their length left instead)."""
    from doctor import _native

    data = b"\n".join(lines) + b"\n"
    reports = [value for start in range(0, len(data), 7) for value in (draw.draw(st.integers(0, 3)), start + 1)]
    max_text = draw.draw(st.sampled_from([-1, 0, 6, 13]))  # longer lines sent without their bytes
    packed = _native.hit_lines(data, 0, len(data), reports, True, max_text)
    rows, newlines = _native.hit_lines(data, 0, len(data), reports)
    memo: dict[bytes, Any] = {}
    for line in draw.draw(st.lists(st.sampled_from(lines), max_size=6)):
        ids = draw.draw(st.one_of(st.none(), st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True).map(sorted)))
        memo[line] = [ids, draw.draw(st.sampled_from([(), ((1, "m"),)])), {}]
    number = draw.draw(st.integers(1, 10**6))
    expected: dict[int, Any] = {}
    left = native_reference.settle_lines(rows, number, memo, expected, b"0123456789", max_text)
    found: dict[int, Any] = {}
    assert _native.settle_lines(packed, number, memo, found, b"0123456789") == (left, newlines)
    assert list(found.items()) == list(expected.items())


@settings(max_examples=200, deadline=None)
@example(b"2026-11-25T15:31:27.123456789Z ", "\U0001d11e".encode() * 401, b"")  # 4-byte characters, the most kept
@given(st.sampled_from([b"", b"2026-11-25T15:31:27.123456789Z ", b"2026-11-25T15:31:27Z "]),
       st.one_of(st.text(max_size=900), st.text(st.characters(min_codepoint=0x800, max_codepoint=0xFFFF), max_size=700),
                 st.text(st.characters(min_codepoint=0x10000), max_size=600)).map(
           lambda t: t.encode("utf-8", "surrogatepass")), st.sampled_from([b"", b"\r"]))
def test_an_excerpt_from_the_kept_head_of_a_line_is_the_whole_lines(prefix: bytes, body: bytes, cr: bytes) -> None:
    """A log condition keeps at most EXCERPT_BYTES of a matching line for its excerpt, decoded when read: the same
    excerpt as the whole line gives (multi-byte characters, a `--timestamps` prefix, long lines cut)."""
    from doctor.rules import logscan

    line = prefix + body + cr
    agg = logscan.LogAgg(LogSource.from_bytes("t.log", "app", b""))
    agg.add(7, logscan.excerpt_head(line), None, None)
    assert agg.excerpt_lines() == [(7, logscan._excerpt(line))]


@pytest.mark.parametrize("engine", ["re", "hyperscan"])
def test_a_capture_keeps_its_first_bytes_at_a_character_border(engine: str) -> None:
    """A named group holding a whole line of request data (`(?P<msg>.*)` after `ValueError: `) keeps its first
    MAX_CAPTURE bytes, cut before a UTF-8 character, not inside one, and marked `…`; a shorter one is kept whole, and
    a group that took no part is left out."""
    from doctor.rules import logscan

    body = "x" + "é" * logscan.MAX_CAPTURE  # two bytes a character after one: the cut falls inside one
    lines = [f"ValueError: {body}".encode(), "ValueError: short é".encode(), b"ValueError: "]
    data = b"\n".join(lines) + b"\n"
    conds = [LogCond((r"(?P<exc>\w+Error): (?P<msg>.+)|(?P<bare>\w+Error): $",), bind="exc")]
    found = ScanPlan(conds).run([LogSource.from_bytes("app.log", "app", data)], engine)[0][0].binding()
    long, short = found["values"]["msg"]
    assert long == "x" + "é" * (logscan.MAX_CAPTURE // 2 - 1) + "…" and short == "short é"
    assert found["first_groups"] == {"exc": "ValueError", "msg": long}
    assert found["groups"] == {"bare": "ValueError"}


@pytest.mark.parametrize("engine", ["re", "hyperscan"])
def test_only_after_counts_a_hit_only_shortly_after_its_line_and_unless_after_the_others(engine: str) -> None:
    """`only_after` keeps the hits that follow its pattern within `lines` (with the same captures when `same` is
    given); `unless_after`, its mirror, discounts those and counts them as `explained`. Both engines agree."""
    from datetime import timedelta

    from doctor.rules.model import After

    log = b"\n".join([
        b"2026-11-25 15:31:20,101 I init: FileNotFoundError: no cache",  # 1: before any marker
        b"2026-11-25 15:31:27,556 E [7] Encountered Exception: Traceback (most recent call last):",  # 2
        b'  File "/var/azureml-app/score.py", line 21, in run',  # 3
        b"ValueError: could not convert string to float: 'boom'",  # 4: 2 lines after the marker
        b"filler", b"filler", b"filler",  # 5-7
        b"2026-11-25 15:31:29,000 W late: KeyError: 'x'",  # 8: 6 lines after the marker
        b"worker 7 marked",  # 9
        b"worker 8 says RuntimeError: eight",  # 10: after a marker of worker 7 only
        b"worker 7 says RuntimeError: seven",  # 11
    ]) + b"\n"
    exc = r"(?P<exc>\w+(?:Error|Exception)): (?P<msg>.*)"
    conds = [
        LogCond((exc,), only_after=After(("Encountered Exception: Traceback",), lines=3), bind="after"),
        LogCond((exc,), unless_after=After(("Encountered Exception: Traceback",), lines=3), bind="unless"),
        LogCond((r"worker (?P<w>\d+) says " + exc,), only_after=After((r"worker (?P<w>\d+) marked",), same=("w",)),
                bind="same_worker"),
        LogCond((exc,), only_after=After(("Encountered Exception: Traceback",), within=timedelta(seconds=1)),
                bind="within_a_second"),
    ]
    found = ScanPlan(conds).run([LogSource.from_bytes("app.log", "app", log)], engine)
    after, unless, same_worker, within_a_second = (found[i][0].binding() if found[i] else None for i in range(4))
    assert after is not None and (after["count"], after["first_line"], after["first_groups"]["exc"]) == (1, 4, "ValueError")
    assert unless is not None and (unless["count"], unless["explained"], unless["first_line"]) == (4, 1, 1)
    assert same_worker is not None and (same_worker["count"], same_worker["first_line"]) == (1, 11)
    # line 8 is 1.4 s after the marker: not counted; lines 4, 10 and 11 have no time of their own (like a
    # traceback's lines): they are measured in lines (50 by default)
    assert within_a_second is not None and (within_a_second["count"], within_a_second["first_line"]) == (3, 4)


@pytest.mark.parametrize("engine", ["re", "hyperscan"])
def test_a_line_matching_several_patterns_of_a_condition_counts_once(engine: str) -> None:
    """`pattern` may be a list: "a line matching any of the patterns counts" (docs/writing-rules.md), once. A line
    that two of them match is one line: it neither doubles the count, nor fills a `min_count` or a window alone,
    nor counts twice as explained; its captures are those of the first pattern (in the list's order) that matches."""
    from datetime import timedelta

    from doctor.rules.model import After

    log = b"\n".join([
        b"2026-11-25 15:31:27,556 E [7] app - [ERROR] failed to load model: boom",  # 1: all three patterns
        b"2026-11-25 15:31:28,000 I [7] app - fine",  # 2
        b"2026-11-25 15:31:29,000 I [7] app - failed to load tokenizer",  # 3: the last pattern only
        b"WORKER TIMEOUT (pid:7)",  # 4
        b"2026-11-25 15:31:30,000 E [7] app - [ERROR] failed to load model: again",  # 5: all three, after line 4
    ]) + b"\n"
    three = (r"^\S+ \S+ E \[(?P<pid>\d+)\] ", r"\[ERROR\] (?P<what>.+)", r"failed to load (?P<what>\w+)")
    conds = [
        LogCond(three, bind="any_of"),
        LogCond(three, min_count=3, within=timedelta(seconds=10), bind="burst"),
        LogCond(three, unless_after=After((r"WORKER TIMEOUT \(pid:\d+\)",), lines=2), bind="unless"),
    ]
    found = ScanPlan(conds).run([LogSource.from_bytes("app.log", "app", log)], engine)
    any_of, burst, unless = (found[i][0].binding() for i in range(3))
    assert (any_of["count"], any_of["first_line"], any_of["last_line"]) == (3, 1, 5)
    assert any_of["first_groups"] == {"pid": "7"}  # the first pattern's captures on line 1
    assert burst["max_in_window"] == 3  # three lines in the window, not seven matches
    assert (unless["count"], unless["explained"]) == (2, 1)


def test_a_line_seen_again_gets_the_same_answers_as_re_whatever_hyperscan_reported() -> None:
    """The fast engine reuses `re`'s answers on a line whose bytes came before (a traceback repeated by every failing
    request). The same bytes can come with other hyperscan reports: `503 9` after a line ending in `"` is the end of
    a report spanning both lines (which `re` on the line alone refuses), elsewhere it has none. Hits and aggregates
    equal the reference engine's, and a `first_only` pattern still reports its first line only."""
    trace = [b"Traceback (most recent call last):", b'  File "/var/azureml-app/score.py", line 12, in run',
             b"KeyError: 'data'"]
    lines: list[bytes] = []
    for k in range(30):
        lines += [b'GET "x', b"503 9", b"plain", b"503 9", *trace, f"2026-11-25 15:31:{k:02d},000 E [7] boom".encode()]
    data = b"\n".join(lines) + b"\n"
    patterns = [r'[^"]+" 5\d\d', r"^Traceback \(most recent call last\):", r"(?P<exc>\w+Error): '(?P<key>\w+)'",
                r'File "(?P<file>[^"\n]+)", line (?P<line>\d+), in (?P<func>\w+)', r"5\d\d \d", r"KeyError"]
    for first_only in ((), (5,)):
        for chunk in (64, 1 << 20):  # hyperscan reports a first_only pattern once per part: in every small block
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(logs.iter_chunks, "__defaults__", (chunk,))
                patch.setattr(logs.iter_blocks, "__defaults__", (chunk, 2))
                fast = summary(hs.HyperscanScanner(patterns, first_only).scan(io.BytesIO(data)))
                assert fast == summary(ReScanner(patterns, first_only).scan(io.BytesIO(data))), (first_only, chunk)
    conds = [LogCond((p,), bind=str(i)) for i, p in enumerate(patterns)] + [
        LogCond((patterns[2],), min_count=2, within=timedelta(seconds=5), bind="window")]
    bindings = {engine: [[a.binding() for a in aggs] for aggs in ScanPlan(conds).run(
        [LogSource.from_bytes("app.log", "app", data)], engine).values()] for engine in ("re", "hyperscan")}
    assert bindings["hyperscan"] == bindings["re"]
    assert bindings["re"][2][0]["count"] == 30 and bindings["re"][2][0]["values"] == {"exc": ["KeyError"], "key": ["data"]}


@pytest.mark.parametrize("engine", ["re", "hyperscan"])
def test_lines_with_the_same_captures_at_other_times_keep_their_own_time_and_place(engine: str) -> None:
    """Hit lines that differ only in their time (a time-stamped `WORKER TIMEOUT (pid:9)` every second) share what
    their captures do to the aggregates; each still counts at its own line and time: first and last time, the busiest
    window, the latest excerpt, the captures of the first and the last line, an `only_after` keyed on a capture.
    A line too long to keep a plan for counts the same way."""
    from doctor.rules.model import After

    lines = []
    for k in range(20):
        pid = 9 if k % 3 else 10
        if k == 12:
            lines.append(b"worker 10 marked")
        lines.append(f"2026-11-25 15:31:{k * 2:02d},000 C [1] gunicorn.error - WORKER TIMEOUT (pid:{pid})".encode())
    lines.append(b"2026-11-25 15:32:00,000 C [1] gunicorn.error - WORKER TIMEOUT (pid:11) " + b"x" * 3000)
    data = b"\n".join(lines) + b"\n"
    timeout = r"WORKER TIMEOUT \(pid:(?P<pid>\d+)\)"
    conds = [LogCond((timeout,), bind="all"),
             LogCond((timeout,), min_count=2, within=timedelta(seconds=5), bind="window"),
             LogCond((timeout,), only_after=After((r"worker (?P<pid>\d+) marked",), same=("pid",), lines=5), bind="after")]
    every, window, after = (aggs[0].binding() for aggs in ScanPlan(conds).run(
        [LogSource.from_bytes("app.log", "app", data)], engine).values())
    assert (every["count"], every["first_line"], every["last_line"]) == (21, 1, 22)
    assert (every["first_time"], every["last_time"]) == ("2026-11-25T15:31:00Z", "2026-11-25T15:32:00Z")
    assert every["values"] == {"pid": ["10", "9", "11"]}
    assert (every["first_groups"], every["groups"]) == ({"pid": "10"}, {"pid": "11"})
    assert window["max_in_window"] == 3  # 0, 2, 4 s (and every such three seconds)
    # the marker is line 13; pid 10 times out at lines 14 and 17 (k = 12, 15) within its 5 lines, pid 9 at 15, 16
    assert (after["count"], after["first_line"], after["last_line"]) == (2, 14, 17)
    assert (after["first_time"], after["last_time"]) == ("2026-11-25T15:31:24Z", "2026-11-25T15:31:30Z")


RUN_LINES = [b"2026-11-25 15:31:%02d,000 C [1] gunicorn.error - WORKER TIMEOUT (pid:%d)",
             b"2026-11-25 15:31:%02d,000 I [1] gunicorn.error - Booting worker with pid: %d",
             b"Worker (pid:%d) exited with code %d", b"KeyError: 'data%d%d'", b"filler %d %d",
             b"2026-11-25 15:31:%02d,000 E [1] app - KeyError: 'data%d0'"]  # with a time, or not (the line above)


def _reference_aggs(conds: list[LogCond], lines: list[bytes]) -> list[list[dict[str, Any]]]:
    """Line by line, what each condition (no `unless_after`/`only_after`) aggregates: its first matching pattern's
    captures (in the order the plan numbers patterns), `LogAgg.add` and `add_groups` for every matching line."""
    from doctor.rules import logscan

    plan = ScanPlan(conds)
    aggs = [logscan.LogAgg(LogSource.from_bytes("app.log", "app", b"")) for _ in conds]
    for number, line in enumerate(lines, 1):
        for cond, agg in zip(conds, aggs):
            found = [m for p in sorted(cond.patterns, key=plan.index.__getitem__)
                     if (m := re.compile(p.encode(), re.MULTILINE).search(line))]
            if found:
                agg.add(number, logscan.excerpt_head(line), logs.line_time(line), cond.within)
                groups = {k: v.decode() for k, v in found[0].groupdict().items() if v is not None}
                if groups:
                    agg.add_groups(groups)
    return [[(agg.binding(), agg.excerpt_lines())] if agg.count else [] for agg in aggs]


@pytest.mark.parametrize("engine", ["re", "hyperscan"])
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.tuples(st.integers(0, len(RUN_LINES) - 1), st.integers(0, 59), st.integers(0, 6)),
                      max_size=120),
       kept=st.sampled_from([1, 2, 3, 5, 4096]), long_every=st.integers(0, 7))
@example(picks=[(0, 1, 1), (0, 2, 2), (0, 3, 1)], kept=4096, long_every=0)  # pid 1's run ends after pid 2's
@example(picks=[(3, 0, 1), (5, 5, 2), (5, 7, 1)], kept=4096, long_every=0)  # data10's first line has no time
def test_lines_counted_in_runs_give_the_aggregates_of_adding_each_line(engine: str, picks: list[tuple[int, int, int]],
                                                                     kept: int, long_every: int) -> None:
    """Lines that share what they do to the aggregates are counted in runs, folded into the aggregates in batches
    (whenever the plans kept are renewed, and at the end): every aggregate (count, first and last line and time,
    excerpts, the captures of the first and the last line, up to MAX_DISTINCT values per capture in the order they
    came) equals adding each line in turn, however small the batches, with long lines (no plan kept) among them."""
    from doctor.rules import logscan

    lines = []
    for k, (shape, second, value) in enumerate(picks):
        text = RUN_LINES[shape]
        line = text % ((second, value) if text.startswith(b"2026") else (value, second % 2))
        if long_every and k % long_every == 0:
            line += b" " + b"y" * (logscan.PLAN_LINE_BYTES + 10)
        lines.append(line)
    data = b"\n".join(lines) + b"\n"
    timeout, booting = r"WORKER TIMEOUT \(pid:(?P<pid>\d+)\)", r"Booting worker with pid: (?P<pid>\d+)"
    exited, key = r"Worker \(pid:(?P<pid>\d+)\) exited with code (?P<code>\d+)", r"KeyError: '(?P<key>\w+)'"
    conds = [LogCond((timeout,), bind="timeout"), LogCond((timeout, booting), bind="either"),
             LogCond((booting, exited), bind="worker"), LogCond((key,), bind="key"), LogCond((timeout,), bind="twin"),
             LogCond((r"pid", timeout), bind="plain_first"), LogCond((booting,), min_count=2,
                                                                    within=timedelta(seconds=5), bind="window")]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logscan, "PLANS_KEPT", kept)
        patch.setattr(logscan, "MAX_DISTINCT", 4)
        found = ScanPlan(conds).run([LogSource.from_bytes("app.log", "app", data)], engine)
        reference = _reference_aggs(conds, lines)
    assert [[(a.binding(), a.excerpt_lines()) for a in found[i]] for i in range(len(conds))] == reference


GUARD_LINES = [b"ResolvePackageNotFound: ", b"  - numpy==1.19.5", b"  - python=3.6.2=h0b30769_14", b"filler",
               b'10.0.0.1 - - [25/Nov/2026:15:31:27 +0000] "POST /score HTTP/1.1" 200 12 "-" "curl"',
               b"guard 7 here", b"worker 7 says - pkg", b"worker 8 says - pkg", b"- x", b"", b"\r"]


@pytest.mark.parametrize("engine", ["re", "hyperscan"])
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.sampled_from(GUARD_LINES), max_size=80), chunk=st.integers(min_value=1, max_value=200),
       lines_after=st.integers(min_value=0, max_value=6))
def test_guarded_patterns_give_the_aggregates_of_a_search_of_every_line(engine: str, lines: list[bytes], chunk: int,
                                                                        lines_after: int) -> None:
    """A pattern whose every use is an `only_after` condition's match is searched only on the lines after its
    guards' lines (`doctor.guards`), the span reaching across block borders: every aggregate (counts, lines, captures,
    excerpts) is what a search of every line gives. A pattern also used without `only_after`, or with an
    `unless_after` beside it, is searched everywhere (the lines it discounts count)."""
    from doctor.rules.model import After

    data = b"\n".join(lines) + b"\n"
    spec = r"^\s+- (?P<spec>[A-Za-z0-9_.-]+(?:[=<>!]=?[^\s\n]+)?)\s*$"
    says = r"worker (?P<w>\d+) says - (?P<what>\w+)"
    guard = After(("ResolvePackageNotFound:|guard 7 here",), lines=lines_after)
    conds = [LogCond((spec,), only_after=guard, bind="specs"),
             LogCond((says,), only_after=After((r"guard (?P<w>\d+) here",), same=("w",), lines=lines_after), bind="same"),
             LogCond((r"- (?P<x>\w+)$",), only_after=guard, unless_after=After(("filler",), lines=1), bind="both")]
    plan = ScanPlan(conds)
    assert set(plan._guarded(set(range(3)))) == {plan.index[spec], plan.index[says]}  # not the one with unless_after
    source = LogSource.from_bytes("app.log", "app", data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logs.iter_chunks, "__defaults__", (chunk,))
        patch.setattr(logs.iter_blocks, "__defaults__", (chunk, 2))
        guarded = plan.run([source], engine)
        patch.setattr(ScanPlan, "_guarded", lambda self, among: {})
        everywhere = plan.run([source], engine)
    assert {i: [a.binding() for a in aggs] for i, aggs in guarded.items()} == \
        {i: [a.binding() for a in aggs] for i, aggs in everywhere.items()}


ANCHORED = [r"^\s*(?P<n>\d+) x", r"^(?:a|b)c", r"(?:^a|^b)", r"^a|b", r"(?:^|\s)x", r"(^a)+b", r"x^", r"(?i)^ab",
            r"(?>^a)b", r"^$", r"^\s*$"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=st.builds(lambda a, b: a + b, st.sampled_from([b"", b" ", b"  12 x", b"ac", b"bc", b"b", b"x", b"ab"]
                                                           + [x.rstrip(b"\r") for x in LINES]),
                      st.binary(max_size=12).map(lambda b: b.replace(b"\n", b""))))
def test_a_line_search_of_an_anchored_pattern_is_the_search(line: bytes) -> None:
    """On one line (no newline in it) a pattern whose every branch starts with `^` is matched at the line's start
    only (`line_search` uses `re.match`: a search tries `^` at every byte), with the search's span and groups."""
    from doctor.linematch import compile_line_pattern, line_search

    for source in ANCHORED + builtin_patterns():
        pattern = compile_line_pattern(source)
        found, expected = line_search(pattern)(line), pattern.search(line)
        assert (found and (found.span(), found.groups())) == (expected and (expected.span(), expected.groups())), source


def test_only_patterns_anchored_on_every_branch_are_matched_at_the_start() -> None:
    from doctor.linematch import compile_line_pattern, line_search

    chosen = [s for s in ANCHORED if line_search(compile_line_pattern(s)).__name__ == "match"]
    assert chosen == [r"^\s*(?P<n>\d+) x", r"^(?:a|b)c", r"(?:^a|^b)", r"(?i)^ab", r"(?>^a)b", r"^$", r"^\s*$"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_log())
def test_block_search_of_a_pattern_anchored_at_the_line_start_finds_every_line_a_line_search_finds(data: bytes) -> None:
    """A pattern starting with `^` is searched over a block only at newlines (`\\n(?:rest)`, then each candidate line
    matched alone): it finds exactly the lines, and the captures, that searching each line alone finds."""
    from doctor.linematch import _line_start_finder, compile_line_pattern, line_matches

    sources = [s for s in ANCHORED + builtin_patterns() if s.startswith("^")]
    assert len(sources) > 10
    lines = data.split(b"\n") if data else []  # an empty block has no line
    if data.endswith(b"\n"):
        lines.pop()
    starts = [sum(len(x) + 1 for x in lines[:k]) for k in range(len(lines))]
    for source in sources:
        pattern = compile_line_pattern(source)
        if _line_start_finder(pattern) is None:
            continue
        expected = [(start, m.groups()) for start, line in zip(starts, lines) if (m := pattern.search(line))]
        assert [(start, m.groups()) for start, m in line_matches(pattern, data)] == expected, source


CONTEXT_LED = [r'(?:^|\s)(?:-v|--volume)[ =]"?[^:"\s\n]+:(?P<t>/m[^\s":\n]+)', r"(?:^|\$ )fo+", r"(?:^|[^\d\n])12",
               r"(?:^|\d )y+", r"(?:^|abcdefgh)x", r"(?:^|ab|\s)x",
               r"(?:^|a\nb)b*y"]  # in "a\nby" the `^` start at `b` is found first, the `a\nb` start before it is the match
CONTEXT_PIECES = [" ", "\n", "-v", "--volume", "=", ":", "/m", "x", "$ ", "fo", "o", "12", "1", "y", "ab", "abcdefgh", "a",
                  '"', "3 ", "b", "a\nby"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CONTEXT_PIECES), max_size=40).map(lambda parts: "".join(parts).encode()),
       st.integers(0, 400))
def test_a_pattern_led_by_where_it_may_start_is_searched_from_its_rest(text: bytes, pos: int) -> None:
    """A pattern that starts with fixed-width alternatives saying where it may begin (`(?:^|\\s)`, `(?:^|\\$ )`,
    `(?:^|abcdefgh)`) is searched from where its rest matches (`_search_after_context`): the same Match as
    `search` from any position (the earliest start, even when a wider context starts before a narrower one), and
    so the same lines, with the same captures, as each line searched alone. The built-in pack's such patterns are
    taken."""
    from doctor.linematch import _after_context, _search_after_context, compile_line_pattern, line_matches

    pos = min(pos, len(text))
    for source in CONTEXT_LED:
        pattern = compile_line_pattern(source)
        after = _after_context(pattern)
        assert after is not None, source
        expected, found = pattern.search(text, pos), _search_after_context(pattern, *after, text, pos)
        assert (found.span(), found.groups()) == (expected.span(), expected.groups()) if expected else found is None
        lines = text.split(b"\n")
        if text.endswith(b"\n"):
            lines.pop()
        starts = [sum(len(x) + 1 for x in lines[:k]) for k in range(len(lines))] if text else []
        wanted = [(start, m.groups()) for start, line in zip(starts, lines) if (m := pattern.search(line))]
        assert [(start, m.groups()) for start, m in line_matches(pattern, text)] == wanted, source
    assert _search_after_context(compile_line_pattern(CONTEXT_LED[-1]), *_after_context(compile_line_pattern(
        CONTEXT_LED[-1])), b"a\nby", 0).start() == 0  # type: ignore[misc, union-attr]
    taken = [s for s in builtin_patterns() if _after_context(compile_line_pattern(s)) is not None]
    assert len(taken) >= 6, taken


def _reference_time(line: bytes) -> datetime | None:
    """line_time as it read each line whole (before the per-minute cache): datetime() of all fields, minus the zone."""
    from datetime import datetime, timezone

    found = logs._ISO.match(line)
    try:
        if found:
            year, month, day, hour, minute, second, frac, zone = found.groups()
            value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                             int((frac or b"0")[:6].ljust(6, b"0")), tzinfo=timezone.utc)
        elif (found := logs._CLF.search(line, 0, 200)) is not None:
            day, mon, year, hour, minute, second, zone = found.groups()
            if mon not in logs._MONTHS:
                return None
            value = datetime(int(year), logs._MONTHS[mon], int(day), int(hour), int(minute), int(second),
                             tzinfo=timezone.utc)
        else:
            return None
        return value - logs._offset(zone)
    except (ValueError, OverflowError):  # OverflowError: a time UTC puts outside years 1-9999
        return None


_DIGITS = st.integers(0, 99).map(lambda n: f"{n:02d}")


@settings(max_examples=400, deadline=None)
@given(year=st.sampled_from(["0001", "1999", "2026", "9999"]), month=_DIGITS, day=_DIGITS, hour=_DIGITS,
       minute=_DIGITS, second=_DIGITS, frac=st.sampled_from(["", ",524", ".123456789", ".5"]),
       zone=st.sampled_from(["", "Z", "+01:00", "-0130", " +05:30"]), clf=st.booleans(),
       mon=st.sampled_from(["Nov", "Jan", "Dec", "Foo"]))
@example(year="0001", month="01", day="01", hour="00", minute="00", second="00", frac="", zone="+01:00", clf=False,
         mon="Jan")
def test_line_time_reads_every_line_as_the_whole_parse_does(year: str, month: str, day: str, hour: str, minute: str,
                                                            second: str, frac: str, zone: str, clf: bool,
                                                            mon: str) -> None:
    """The time of a line, with each minute parsed once, is what parsing all its fields gives, whatever the minute
    cache holds (the same minute text comes again with other seconds); a time UTC would put outside years 1-9999
    (`0001-01-01 00:00:00+01:00`) is no time, not an error that stops the check."""
    if clf:
        offset = zone.strip().replace(":", "") or "+0000"
        line = f'10.0.0.1 - - [{day}/{mon}/{year}:{hour}:{minute}:{second} {offset}] "GET /"'.encode()
    else:
        line = f"{year}-{month}-{day} {hour}:{minute}:{second}{frac}{zone} app - ready".encode()
    assert logs.line_time(line) == _reference_time(line)
    again = line.replace(f":{second}".encode(), b":07", 1)  # the same minute, cached now
    assert logs.line_time(again) == _reference_time(again)


_TAILS = [r".*", r"[^\n]*", r"(?P<rest>.*)", r"(x[^\n]*)", r"((?:ab|c)(?P<in>.*))", r"(?P<o>(?P<i>\d+ ).*)"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=5), st.sampled_from(_TAILS),
       st.lists(st.lists(st.sampled_from(["ab", "cde", "fghij", "7", "42 ", " ", ".", "x", "_", "\t", "\r"]),
                         max_size=14), min_size=1, max_size=8))
def test_a_long_line_is_confirmed_without_the_trailing_run_with_the_same_match(pieces: list[str], tail: str,
                                                                               lines: list[list[str]]) -> None:
    """A pattern ending with a run of any byte but a newline, confirmed on a long line without that run (`re` would
    count its way over the whole line for it): the same match, whole and group by group, as `re`'s (every line
    taken as long here)."""
    from doctor.linematch import compile_line_pattern, line_search

    pattern = compile_line_pattern("".join(pieces) + tail)
    found = hs.trailing_run(pattern)
    assert found is not None
    short, ends = found
    for words in lines:
        line = "".join(words).encode()
        want = line_search(pattern)(line)
        got = hs._long_line_match(line_search(short), pattern, ends, line)
        assert (want is None) == (got is None), (pattern.pattern, line)
        if want is not None:
            assert [got.span(i) for i in range(pattern.groups + 1)] == [want.span(i) for i in range(pattern.groups + 1)]
            assert (got.group(0), got.groups(), got.groupdict()) == (want.group(0), want.groups(), want.groupdict())


@pytest.mark.parametrize("pattern", [r"abc", r"ab\S*", r"a.*?", r"(a.*)+", r"(a|b.*)", r"a[^x]*", r"a.*b"])
def test_only_a_trailing_run_of_any_byte_but_a_newline_is_left_out(pattern: str) -> None:
    """A pattern not ending with such a run (a lazy or repeated one, one in an alternative, `\\S*`) is confirmed
    with `re` whole, on any line."""
    from doctor.linematch import compile_line_pattern

    assert hs.trailing_run(compile_line_pattern(pattern)) is None


def test_captures_of_a_long_line_are_those_of_re(monkeypatch: pytest.MonkeyPatch) -> None:
    """The aggregates of a log with 600 KB lines (`(?P<msg>.*)` holding each) are those the `re` engine gives."""
    line = b"2026-11-25 15:31:27,524 E [9] azmlinfsrv - Encountered Exception: ValueError: bad input: " + b"[1.5, 2]," * 70000
    log = b"ok\n" + line + b"\nok\n" + line[:-3] + b"\xc3\xa9x\n"
    conds = [c for r in load_rules([], builtin=True) for c in r.conditions() if isinstance(c, LogCond)]
    results = []
    for engine in ("hyperscan", "re"):
        plan = ScanPlan(conds)
        source = LogSource.from_bytes("logs.txt", "c", log)
        results.append({i: [a.binding() for a in aggs] for i, aggs in plan.run([source], engine).items() if aggs})
    assert results[0] == results[1] and results[0]
