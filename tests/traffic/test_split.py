"""A large log counted in two halves at once (`doctor.traffic.split`) gives the statistics of the count in order:
on generated logs of every line kind, cut at every place, with over-long lines, and through the forked children
`mldoctor check` uses."""

from __future__ import annotations

import faulthandler
import mmap
import os
import random
from pathlib import Path
from typing import Callable, Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import doctor.logs
from doctor import traffic
from doctor.evidence import Evidence, LogSource, Target
from doctor.traffic import TrafficStage, compute, fast, split

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


# A log on disk: the children read it through a mapping (`FastPass.feed_stream(..., mapped=True)`, `doctor.logs.iter_mapped`).

def file_evidence(tmp_path: Path, data: bytes) -> Evidence:
    path = tmp_path / "t.log"
    path.write_bytes(data)
    evidence = Evidence(Target("bundle", "t"))
    evidence.logs.append(LogSource.from_path("t.log", "app", path))
    return evidence


@pytest.mark.parametrize("seed", range(4))
def test_mapped_halves_equal_the_count_in_order(tmp_path: Path, seed: int, arrivals: None) -> None:
    data = log(seed)
    reference = compute(evidence_of(data), fast=False)
    evidence = file_evidence(tmp_path, data)
    source, ms = evidence.logs[0], float(traffic.timeout_ms(evidence))
    assert compute(evidence, mapped=True) == reference
    rnd = random.Random(seed)
    for cut in [len(data) // 2] + [rnd.randrange(len(data) - 1) for _ in range(4)]:
        middle = data.find(b"\n", cut) + 1
        first = split.count_range(source, 0, middle, ms, False, mapped=True)
        second = split.count_range(source, middle, len(data), ms, True, mapped=True)
        acc = split.joined(source, middle, first, second, ms)
        counted = compute(evidence) if acc is None else traffic._finished(acc, evidence)
        assert counted == reference, (seed, cut)


def test_mapped_over_long_lines_are_cut_where_reading_cuts_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               arrivals: None) -> None:
    """With blocks smaller than a mapping's granularity and lines over MAX_LINE_BYTES (one with no newline at the
    end of the log), the mapped count is the read one, whole and from the second half on (`cut` told the same)."""
    monkeypatch.setattr(doctor.logs, "MAX_LINE_BYTES", 300)
    monkeypatch.setattr(doctor.logs.iter_chunks, "__defaults__", (256,))  # the reference reads with this one
    monkeypatch.setattr(doctor.logs.iter_blocks, "__defaults__", (256, 2))
    monkeypatch.setattr(doctor.logs.iter_mapped, "__defaults__", (None, 256))
    data = log(6, 3000)
    for at in (len(data) // 5, len(data) * 3 // 4):
        at = data.find(b"\n", at) + 1
        data = data[:at] + b"x" * 1000 + b' "POST /score HTTP/1.1" 503 1\n' + data[at:]
    data += b"y" * 700
    evidence = file_evidence(tmp_path, data)
    source, ms = evidence.logs[0], float(traffic.timeout_ms(evidence))
    assert compute(evidence, mapped=True) == compute(evidence) == compute(evidence_of(data), fast=False)
    middle = data.find(b"\n", len(data) // 2) + 1
    read, mapped = (split.count_range(source, middle, len(data), ms, True, mapped=way) for way in (False, True))
    assert read.cut and mapped.cut
    assert traffic._finished(mapped.acc, evidence) == traffic._finished(read.acc, evidence)


def test_check_counts_a_large_log_file_in_two_children(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       arrivals: None) -> None:
    data = log(9, 20000)
    monkeypatch.setattr(split, "SPLIT_BYTES", len(data) // 2)
    monkeypatch.setattr(traffic, "CHILD_BYTES", len(data) // 4)
    monkeypatch.setattr(doctor.logs, "MAX_LINE_BYTES", 4096)  # so that the halves are mapped, not read whole
    monkeypatch.setattr(doctor.logs.iter_mapped, "__defaults__", (None, 65536))
    stage = TrafficStage(file_evidence(tmp_path, data))
    assert stage._halves is not None
    assert stage.stats() == compute(evidence_of(data))


def test_a_log_file_cut_shorter_while_a_child_maps_it_is_counted_here(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        arrivals: None) -> None:
    """A log truncated (rotated with copytruncate) while a child reads it through a mapping kills that child
    (SIGBUS on the pages gone): the check goes on, and counts what the file holds then itself."""
    data = log(10, 20000)
    monkeypatch.setattr(traffic, "CHILD_BYTES", len(data) // 4)  # one child (a log under SPLIT_BYTES)
    monkeypatch.setattr(doctor.logs, "MAX_LINE_BYTES", 4096)
    monkeypatch.setattr(doctor.logs.iter_mapped, "__defaults__", (None, 65536))
    evidence = file_evidence(tmp_path, data)
    path = tmp_path / "t.log"
    mapped = doctor.logs.iter_mapped

    def truncated_after_mapping(stream, length=None, chunk_bytes=65536, *, cuts=None):  # type: ignore[no-untyped-def]
        blocks = mapped(stream, length, chunk_bytes, cuts=cuts)
        yield next(blocks)
        faulthandler.disable()  # pytest's traceback dump of the child's SIGBUS, which is expected here
        window = mmap.mmap(stream.fileno(), len(data), access=mmap.ACCESS_READ)  # mapped whole, then cut
        os.truncate(path, 100)
        yield window, 0, len(data)  # its pages past the new end: SIGBUS in the child

    monkeypatch.setattr(fast, "iter_mapped", truncated_after_mapping)
    results = []
    child_result = traffic._child_result
    monkeypatch.setattr(traffic, "_child_result", lambda job: results.append(child_result(job)) or results[-1])
    stage = TrafficStage(evidence)
    assert stage._job is not None
    assert stage.stats() == compute(evidence_of(data[:100]))
    assert results == [traffic._DIED]  # the child did die


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 900), st.booleans()), min_size=1, max_size=40),
       st.sampled_from([64, 256, 1000]), st.floats(0, 1), st.none() | st.floats(0, 1))
@example([(50, True), (100, True), (1, True)], 64, 0.0, None)  # a rest under MAX_LINE_BYTES: read whole
@example([(50, True), (100, True), (1, True)], 64, 0.0, 1.0)  # a Range of it: read a chunk at a time
@example([(400, True), (500, False)], 256, 0.0, None)  # lines cut, the last without its newline
def test_mapped_blocks_are_the_blocks_read(lines: list[tuple[int, bool]], chunk: int, at: float,
                                           part: float | None) -> None:
    """`iter_mapped` gives the blocks `iter_blocks` reads (of the file's rest, or of a `Range` of it, as the traffic
    count reads them), from any start, for any length: lines over
    MAX_LINE_BYTES cut at the same places (`cuts` the same), a last line without its newline given one."""
    import tempfile

    data = b"".join(b"x" * size + (b"\n" if ends else b"") for size, ends in lines)
    start = int(at * len(data))
    length = None if part is None else int(part * (len(data) - start))
    with tempfile.TemporaryDirectory() as where, pytest.MonkeyPatch.context() as patch:
        patch.setattr(doctor.logs, "MAX_LINE_BYTES", 300)
        path = Path(where) / "t.log"
        path.write_bytes(data)
        with open(path, "rb") as stream:
            stream.seek(start)
            read_cuts: list[int] = []
            whole_or_range = stream if length is None else doctor.logs.Range(stream, length)  # as the callers
            read = [bytes(view) for view in doctor.logs.iter_blocks(whole_or_range, chunk, cuts=read_cuts)]
        with open(path, "rb") as stream:
            stream.seek(start)
            mapped_cuts: list[int] = []
            mapped = [bytes(buffer[lo:hi]) for buffer, lo, hi in doctor.logs.iter_mapped(stream, length, chunk,
                                                                                          cuts=mapped_cuts)]
    assert mapped == read and mapped_cuts == read_cuts


def test_meanwhile_runs_steps_from_the_first_half_while_the_second_counts(arrivals: None) -> None:
    """`TrafficStage.meanwhile`: the work gets the statistics of the half counted first and its steps run while
    the other half is still counting, not after; with both counted (or one count alone), nothing runs."""
    from concurrent.futures import Future

    data = log(7, 3000)
    evidence = evidence_of(data)
    source, ms = evidence.logs[0], float(traffic.timeout_ms(evidence))
    middle = data.find(b"\n", len(data) // 2) + 1
    first: Future = Future()
    first.set_result(split.count_range(source, 0, middle, ms, False))
    second: Future = Future()
    stage = TrafficStage(evidence)
    stage._halves = (source, middle, ms, first, second)
    ran: list[int] = []

    def work(preview: dict | None) -> Iterator[Callable[[], None]]:
        assert preview is not None and 0 < preview["requests"] == first.result().acc.requests
        for k in range(10):
            yield lambda k=k: ran.append(k) if k < 2 else second.set_result(None)

    stage.meanwhile(work)
    assert ran == [0, 1] and second.done()  # the third step ended the count: the fourth did not run
    stage.meanwhile(work)
    assert ran == [0, 1]  # both counted: nothing runs
