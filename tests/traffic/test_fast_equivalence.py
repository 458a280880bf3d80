"""The block-at-a-time traffic pass gives the very stats dict of the line-by-line reference parser:
on every fixture bundle and on generated logs (every format, twins, health probes, malformed lines,
CRLF, non-UTF-8 bytes, lines across chunk and piece borders)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doctor.bundle import read_bundle_dir
from doctor.evidence import Evidence, LogSource, Target
from doctor import traffic
from doctor.traffic import compute, fast

ROOT = Path(__file__).resolve().parents[2]


def _bundles() -> list[Path]:
    """Every bundle directory under fixtures/ (a scenario with expected.yaml, or a child of fixtures/*/)."""
    fixtures = ROOT / "fixtures"
    found = {p.parent for p in fixtures.glob("**/expected.yaml")} | {p for p in fixtures.glob("*/*") if p.is_dir()}
    layout = ("docker", "k8s", "config", "traffic")
    return sorted(p for p in found if any((p / d).is_dir() for d in layout))  # preflight's model/ and samples/ are not bundles


def _both(evidence: Evidence) -> tuple[Any, Any]:
    return compute(evidence, fast=True), compute(evidence, fast=False)


@pytest.fixture
def arrivals(monkeypatch: pytest.MonkeyPatch) -> None:
    """The autoscaler replay (slow on long generated spans) replaced by what it reads: the arrivals."""
    monkeypatch.setattr(traffic, "_simulation", lambda stats, evidence, acc: dict(acc.per_second))


@pytest.mark.parametrize("root", _bundles(), ids=lambda p: str(p.relative_to(ROOT)))
def test_fixture_bundles(root: Path) -> None:
    evidence = read_bundle_dir(root, root.name)  # _bundles() lists only directories in the bundle layout
    quick, reference = _both(evidence)
    assert quick == reference


def _summary(rnd: random.Random, t: int, pid: int, path: str, code: int, docker: bool) -> str:
    ms = rnd.choice(["0.918", "12", str(round(rnd.random() * 3000, 3)), "0.000", "70000.5"])
    stamp = f"2026-11-25 {t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d},{rnd.randint(0, 999):03d}"
    prefix = f"2026-11-25T{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}.{rnd.randint(0, 10**9 - 1)}Z " if docker else ""
    return f"{prefix}{stamp} I [{pid}] azmlinfsrv - {rnd.choice(['POST', 'GET'])} {path} {code} {ms}ms {rnd.randint(1, 900)}"


def _access(rnd: random.Random, t: int, path: str, code: str, pid: int | None, clean: bool = False) -> str:
    clf = f"25/Nov/2026:{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d} +0000"
    tail = rnd.choice(["", " 0.300422", " 61.5", ' "rt=0.5"', " 1532 60.002 [up] [] 10.0.0.5:5001 0 60.001 504 6ad"])
    ua = rnd.choice(["curl/7.88.1", "kube-probe/1.30"] + ([] if clean else ["mldoctor-probe error=timeout", "x[1]y"]))
    agent = rnd.choice([f' "-" "{ua}"', f' "-" "{ua}"', ""])  # gunicorn default/combined, or the common format
    line = f'10.0.{rnd.randint(0, 9)}.1 - - [{clf}] "{rnd.choice(["POST", "GET", "HEAD"])} {path} HTTP/1.1" {code} 19{agent}{tail}'
    if pid is None:  # kubectl/docker --timestamps prefix (nanoseconds trimmed), sometimes one line_time cannot read
        day = rnd.choice(["25", "25", "25", "31"]) if rnd.random() < 0.5 else ""
        nanos = str(rnd.randint(0, 10**9 - 1)).rstrip("0") or "0"
        u = t + rnd.choice([0, 1, 7200])  # the engine's receive time, not the bracketed one: the request's time
        hms = f"{u // 3600 % 24:02d}:{u // 60 % 60:02d}:{u % 60:02d}"
        return f"2026-{'11' if day != '31' else '13'}-{day}T{hms}.{nanos}Z {line}" if day else line
    return f"2026-11-25 {t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d},001 I [{pid}] gunicorn.access - {line}"


def _envoy(rnd: random.Random, t: int, path: str, code: int) -> str:
    """An Envoy JSON access line (Envoy Gateway's default keys, sorted), some without their path or time."""
    keys = {"duration": str(rnd.randint(0, 3000)), "method": '"POST"', "response_code": str(code),
            "response_code_details": '"no_healthy_upstream"' if code == 503 else '"via_upstream"',
            "start_time": f'"2026-11-25T{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}.633Z"',
            "x-envoy-origin-path": f'"{path}"'}
    for dropped in ("x-envoy-origin-path", "start_time", "duration"):
        if rnd.random() < 0.1:
            del keys[dropped]
    return "{" + ",".join(f'"{k}":{v}' for k, v in keys.items()) + "}"


NOISE = ["Traceback (most recent call last):", "", "   ", "garbage \" 200 here", "\xff\xfe broken bytes",
         "2026-11-25 10:00:00,000 I [1] gunicorn.error - Booting worker with pid: 9", '10.0.0.9 - - [garbage "POST',
         "2026-13-45 99:00:00,000 I [3] azmlinfsrv - POST /score 200 1.2ms 1", "1969-12-31 23:59:59,500 I [4] azmlinfsrv - POST /score 200 1ms 1"]


def _log(seed: int, lines: int, clean: bool = False) -> bytes:
    """A random mix of every line shape, twins adjacent or not, with CRLF and broken lines (`clean`: mostly fast shapes)."""
    rnd, out, t = random.Random(seed), [], 1000 + seed * 7
    for _ in range(lines):
        t += rnd.choice([0, 0, 0, 1, 2, 90])
        pid, path = rnd.choice([7, 8, 9]), rnd.choice(["/score", "/score?x=1", "/", "/healthz", "/ready"])
        code = rnd.choice([200, 200, 200, 200, 503, 503, 504, 500, 429, 404, 0])
        kind = rnd.random()
        if kind < 0.35:
            out.append(_summary(rnd, t, pid, path, code or 200, rnd.random() < 0.5))
            if rnd.random() < (0.99 if clean else 0.8):
                twin = pid if clean or rnd.random() < 0.9 else pid + 1
                out.append(_access(rnd, t, path, str(code or 200), twin, clean))
        elif kind < 0.8:
            lone_twin = rnd.choice([pid, None])  # a gunicorn.access line with no summary before it, or a plain one
            out.append(_access(rnd, t, path, rnd.choice(["-", "000"]) if not code else str(code), lone_twin, clean))
        elif kind < 0.84 and not clean:  # Envoy's JSON access line (its keys sorted), maybe lacking a key
            out.append(_envoy(rnd, t, path, code))
        elif not clean or rnd.random() < 0.1:
            out.append(rnd.choice(NOISE[:3] if clean else NOISE))
    ends = [b"\r\n" if rnd.random() < 0.05 else b"\r" if rnd.random() < 0.01 else b"\n" for _ in out]
    return b"".join(line.encode("latin-1") + end for line, end in zip(out, ends))


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("kind", ["container", "access"])
@pytest.mark.parametrize("clean", [False, True], ids=["rough", "clean"])
def test_generated_logs(seed: int, kind: str, clean: bool, monkeypatch: pytest.MonkeyPatch, arrivals: None) -> None:
    sizes = random.Random(seed)
    monkeypatch.setattr(fast, "PIECE_BYTES", sizes.choice([64, 300, 4096, 20000]))  # many piece borders
    monkeypatch.setattr(fast, "SMALL_PIECE_BYTES", sizes.choice([1, 100, 1000]))
    data = _log(seed, 600, clean)
    evidence = Evidence(Target("bundle", "t"))
    evidence.logs.append(LogSource.from_bytes("t.log", "app", data, kind=kind))
    quick, reference = _both(evidence)
    assert quick == reference


def test_chunk_borders(monkeypatch: pytest.MonkeyPatch, arrivals: None) -> None:
    """Small chunks: lines split across reads come out whole in both passes."""
    import doctor.logs

    monkeypatch.setattr(doctor.logs, "CHUNK_BYTES", 1000)
    monkeypatch.setattr(doctor.logs.iter_chunks, "__defaults__", (1000,))
    monkeypatch.setattr(doctor.logs.iter_blocks, "__defaults__", (1000, 2))
    data = b"".join(_log(seed, 300) for seed in range(3))
    evidence = Evidence(Target("bundle", "t"))
    evidence.logs.append(LogSource.from_bytes("t.log", "app", data))
    quick, reference = _both(evidence)
    assert quick == reference and quick is not None and quick["requests"] > 100


def test_twins_after_lone_summaries(monkeypatch: pytest.MonkeyPatch, arrivals: None) -> None:
    """Some summaries never get their twin, some twins come twice: pairs of the same key then reorder the deque."""
    summary = "2026-11-25 10:00:{s:02d},001 I [{p}] azmlinfsrv - POST /score {c} 1.5ms 9"
    twin = ('2026-11-25 10:00:{s:02d},002 I [{p}] gunicorn.access - 127.0.0.1 - - [25/Nov/2026:10:00:{s:02d} +0000] '
            '"POST /score HTTP/1.1" {c} 9 "-" "x"')
    rnd, lines = random.Random(1), []
    for i in range(3000):
        fields = {"s": i % 60, "p": rnd.choice([7, 8]), "c": rnd.choice([200, 200, 503])}
        lines.append(summary.format(**fields))
        lines += [twin.format(**fields)] * (rnd.random() < 0.97) + [twin.format(**fields)] * (rnd.random() < 0.01)
    monkeypatch.setattr(fast, "PIECE_BYTES", 5000)
    evidence = Evidence(Target("bundle", "t"))
    evidence.logs.append(LogSource.from_bytes("t.log", "app", ("\n".join(lines) + "\n").encode()))
    quick, reference = _both(evidence)
    assert quick == reference and quick is not None and quick["requests"] == 3000


def test_lone_twin_lines(arrivals: None) -> None:
    """gunicorn.access lines in the server's format with no summary before them are requests; one whose
    summary came earlier without it (interleaved workers) is that summary's twin, counted once."""
    twin = ('2026-11-25T10:00:{s:02d}.123456789Z 2026-11-25 10:00:{s:02d},002 I [{p}] gunicorn.access - 127.0.0.1 - - '
            '[25/Nov/2026:10:00:{s:02d} +0000] "POST /score HTTP/1.1" {c} 9 "-" "python-requests/2.31"')
    summary = "2026-11-25 10:00:{s:02d},001 I [{p}] azmlinfsrv - POST /score {c} 1.5ms 9"
    lines = [twin.format(s=i % 60, p=7, c=200 if i % 10 else 503) for i in range(5000)]
    lines[3000:3000] = [summary.format(s=1, p=8, c=200), twin.format(s=1, p=9, c=200), twin.format(s=1, p=8, c=200)]
    evidence = Evidence(Target("bundle", "t"))
    evidence.logs.append(LogSource.from_bytes("t.log", "app", ("\n".join(lines) + "\n").encode()))
    quick, reference = _both(evidence)
    assert quick == reference and quick is not None
    assert quick["requests"] == 5002 and quick["status"]["503"] == 500


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.integers(-3, 40), st.integers(-2, 9), max_size=30),
       st.dictionaries(st.integers(-3, 40), st.integers(-2, 9), max_size=30))
def test_counts_are_added_as_counter_update_adds_them(mine: dict[int, int], theirs: dict[int, int]) -> None:
    """`add_counts` (how blocks' counts are merged) leaves the very counter `Counter.update` leaves: each count
    added, zero and negative ones kept, keys in the same order."""
    from collections import Counter

    from doctor.traffic.stats import add_counts

    expected, got = Counter(mine), Counter(mine)
    expected.update(theirs)
    add_counts(got, theirs)
    assert list(got.items()) == list(expected.items())


def test_a_piece_never_ends_between_a_summary_and_its_twin_after_another_server_line() -> None:
    """A piece whose size ends on a line of the inference server's that is no summary (`Encountered Exception`)
    takes the summary after it and its twin too: the C pass counts every piece, none falls back to the regex pass
    for order (it did for 16 % of a log with long lines of request data)."""
    error = b"2026-11-25 00:00:07,657 E [11] azmlinfsrv - Encountered Exception: ValueError: bad input: " + b"x" * 200
    summary = b"2026-11-25 00:00:10,492 I [10] azmlinfsrv - POST /score 200 52.530ms 65"
    twin = b'2026-11-25 00:00:10,492 I [10] gunicorn.access - 10.0.0.1 - - [25/Nov/2026:00:00:10 +0000] "POST /score HTTP/1.1" 200 65 "-" "curl"'
    block = b"".join(line + b"\n" for _ in range(50) for line in (error, summary, twin))
    for size in range(1, 2000, 37):
        for start, end in fast._pieces(block, 0, len(block), size):
            last = block[block.rfind(b"\n", start, end - 1) + 1:end]
            assert b"azmlinfsrv - POST" not in last, (size, start, end)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.integers(-5, 40), st.integers(-3, 10**12), max_size=30),
       st.dictionaries(st.integers(-5, 40), st.integers(-3, 10**12), max_size=30))
def test_native_add_counts_is_the_reference(mine: dict[int, int], theirs: dict[int, int]) -> None:
    """The C `add_counts` (every block's counts into the traffic total) adds as the Python one does: the same counts,
    the keys in the same order (new keys after the others, in their order)."""
    from collections import Counter

    from doctor import _native
    from doctor.traffic import stats

    assert stats.add_counts is _native.add_counts
    expected, added = Counter(mine), Counter(mine)
    stats.reference_add_counts(expected, Counter(theirs))
    _native.add_counts(added, Counter(theirs))
    assert list(added.items()) == list(expected.items())
