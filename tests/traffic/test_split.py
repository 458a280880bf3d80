"""A large log counted in two halves at once (`doctor.traffic.split`) gives the statistics of the count in order:
on generated logs of every line kind, cut at every place, with over-long lines, and through the forked children
`mldoctor check` uses."""

from __future__ import annotations

import random

import pytest

import doctor.logs
from doctor import traffic
from doctor.evidence import Evidence, LogSource, Target
from doctor.traffic import TrafficStage, compute, split

from test_vector import _lines, arrivals  # noqa: F401 - the fixture

CLEAN_KINDS = ("gunicorn", "summaries")


def evidence_of(data: bytes, kind: str = "container") -> Evidence:
    evidence = Evidence(Target("bundle", "t"))
    evidence.logs.append(LogSource.from_bytes("t.log", "app", data, kind=kind))
    return evidence


def log(seed: int, count: int = 3000, odd: float = 0.03) -> bytes:
    return "".join(_lines(random.Random(seed), count, odd)).encode()


def halves(data: bytes, cut: int, kind: str = "container") -> tuple[dict | None, list[str]]:
    """The statistics from the two halves cut at the line start at or after `cut`, counted here, and which way
    they were joined."""
    evidence = evidence_of(data, kind)
    source = evidence.logs[0]
    middle = data.find(b"\n", cut) + 1
    ms = float(traffic.timeout_ms(evidence))
    first = split.count_range(source, 0, middle, ms, False)
    second = split.count_range(source, middle, len(data), ms, True)
    way = ["merged" if not first.parser.pending_keys() and not second.cut else "in order"]
    acc = split.joined(source, middle, first, second, ms)
    if acc is None:
        way = ["whole"]
        return compute(evidence), way
    return traffic._finished(acc, evidence), way


@pytest.mark.parametrize("seed", range(12))
def test_halves_equal_the_count_in_order(seed: int, arrivals: None) -> None:
    data = log(seed)
    reference = compute(evidence_of(data), fast=False)
    rnd = random.Random(seed)
    ways = set()
    for cut in [len(data) // 2] + [rnd.randrange(len(data) - 1) for _ in range(6)]:
        counted, way = halves(data, cut)
        assert counted == reference, (seed, cut)
        ways.update(way)
    assert "in order" in ways or "merged" in ways


def test_logs_without_summaries_are_merged_not_recounted(arrivals: None) -> None:
    """Plain access lines carry nothing from one line to the next: the halves are merged as they are (the test
    above would also pass if every second half were recounted in order)."""
    lines = [line for line in log(3, 6000).splitlines(keepends=True) if b"azmlinfsrv - " not in line]
    data = b"".join(lines)
    reference = compute(evidence_of(data), fast=False)
    for cut in range(1000, len(data) - 1000, len(data) // 9):
        counted, way = halves(data, cut)
        assert way == ["merged"] and counted == reference


def test_failing_statuses_seen_first_in_the_second_half_keep_their_first_lines(arrivals: None) -> None:
    ok = b'10.0.0.1 - - [25/Nov/2026:10:00:%02d +0000] "POST /score HTTP/1.1" 200 12 "-" "curl"\n'
    bad = b'10.0.0.1 - - [25/Nov/2026:10:01:%02d +0000] "POST /score HTTP/1.1" %d 12 "-" "curl"\n'
    data = b"".join(ok % (i % 60) for i in range(500))
    data += b"".join(bad % (i % 60, code) for i, code in enumerate([503, 500, 503, 504, 502, 429, 408, 401, 503]))
    data += b"".join(bad % (i % 60, code) for i, code in enumerate([500, 418, 404]))
    reference = compute(evidence_of(data), fast=False)
    assert reference is not None and len(reference["excerpts"]) == 5
    for cut in (100, len(data) // 2, len(data) - 400):
        counted, _ = halves(data, cut)
        assert counted == reference


def test_an_over_long_line_in_the_second_half_is_counted_in_order(monkeypatch: pytest.MonkeyPatch,
                                                                   arrivals: None) -> None:
    monkeypatch.setattr(doctor.logs, "MAX_LINE_BYTES", 300)
    monkeypatch.setattr(doctor.logs.iter_chunks, "__defaults__", (256,))
    monkeypatch.setattr(doctor.logs.iter_blocks, "__defaults__", (256, 2))  # the traffic pass reads with this one
    data = log(5, 800)
    at = data.find(b"\n", len(data) * 3 // 4) + 1
    data = data[:at] + b"x" * 1000 + b' "POST /score HTTP/1.1" 503 1\n' + data[at:]
    reference = compute(evidence_of(data), fast=False)
    counted, way = halves(data, len(data) // 2)
    assert way == ["whole"] and counted == reference


def test_check_counts_a_large_log_in_two_children(monkeypatch: pytest.MonkeyPatch, arrivals: None) -> None:
    data = log(9, 20000)
    monkeypatch.setattr(split, "SPLIT_BYTES", len(data) // 2)
    monkeypatch.setattr(traffic, "CHILD_BYTES", len(data) // 4)
    expected = compute(evidence_of(data))
    evidence = evidence_of(data)
    stage = TrafficStage(evidence)
    assert stage._halves is not None
    assert stage.stats() == expected


def test_a_log_that_cannot_seek_is_counted_whole(monkeypatch: pytest.MonkeyPatch, arrivals: None) -> None:
    import io

    class Pipe(io.BytesIO):
        def seekable(self) -> bool:
            return False

        def seek(self, *args: object) -> int:
            raise io.UnsupportedOperation("seek")

    data = log(4, 4000)
    monkeypatch.setattr(split, "SPLIT_BYTES", 1000)
    monkeypatch.setattr(traffic, "CHILD_BYTES", 1000)
    evidence = Evidence(Target("bundle", "t"))
    evidence.logs.append(LogSource("t.log", "app", lambda: Pipe(data), size=len(data)))
    assert split.middle(evidence.logs[0]) is None
    stage = TrafficStage(evidence)
    assert stage._halves is None and stage.stats() == compute(evidence_of(data))
