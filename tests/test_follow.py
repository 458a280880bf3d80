"""A log analysed while it is still being written (the live Docker check): readers of the growing file see
every byte, the report equals the one of the finished log, and a log that outgrows its size cap is read again
from its kept tail. The writer runs in a thread here and in a forked child, as the Docker collector runs it."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from doctor.bundle import read_bundle_dir
from doctor.collect.docker_logs import TailSink
from doctor.evidence import Evidence, LogSource
from doctor.follow import Growing, Writer, follow_in_child
from doctor.report.jsonfmt import report_dict
from doctor.rules import logscan
from doctor.rules.engine import diagnose
from doctor.rules.loader import load_rules

ROOT = Path(__file__).resolve().parents[1]
BUNDLES = ROOT / "fixtures" / "bundles"


def _write_slowly(data: bytes, sink: TailSink, block: int = 4096) -> None:
    """Whole lines in small blocks with pauses, as a log arrives from the engine."""
    start = 0
    while start < len(data):
        cut = data.find(b"\n", start + block)
        end = len(data) if cut < 0 else cut + 1
        sink.write(data[start:end])
        start = end
        time.sleep(0.001)
    sink.finish()


def _report(evidence: Evidence) -> dict[str, Any]:
    found = report_dict(diagnose(evidence, load_rules([])))
    found.pop("generated_at", None)
    return json.loads(json.dumps(found, default=str))


def _streaming(bundle: Path, tmp_path: Path, cap: int | None = None) -> tuple[Evidence, threading.Thread]:
    """The bundle's evidence with its first container or access log arriving through a growing file; events and
    the model folder listing come at `settle()`, after the log, as the Docker collector reads them."""
    evidence = read_bundle_dir(bundle, bundle.name)
    final = next(s for s in evidence.logs if s.kind in ("container", "access"))
    with final.open() as stream:
        data = stream.read()
    later_logs = [s for s in evidence.logs if s.kind == "model-dir"]
    later_events = list(evidence.events)
    evidence.events.clear()
    evidence.logs[:] = [s for s in evidence.logs if s.kind != "model-dir"]
    growing = Growing()
    path = tmp_path / "log.txt"
    sink = TailSink(path, cap or len(data) + 1, growing=growing)
    writer = threading.Thread(target=_write_slowly, args=(data, sink))
    at = evidence.logs.index(final)
    evidence.logs[at] = LogSource(final.name, final.container, growing.open, final.previous, final.kind)

    def settle() -> bool:
        writer.join()
        evidence.logs[at] = LogSource.from_path(final.name, final.container, path, previous=final.previous,
                                                kind=final.kind)
        evidence.logs.extend(later_logs)
        evidence.events.extend(later_events)
        return not growing.abandoned

    evidence.pending = settle
    writer.start()
    return evidence, writer


@pytest.mark.parametrize("name", ["docker-boot-loop", "docker-model-not-found", "docker-worker-timeout",
                                  "traffic-overload-503", "docker-healthy"])
def test_report_while_the_log_streams_in_equals_the_finished_log(name: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _report(read_bundle_dir(BUNDLES / name, name))
    evidence, _ = _streaming(BUNDLES / name, tmp_path)
    scanned: list[str] = []
    scan_source = logscan.ScanPlan._scan_source

    def counted(plan: Any, scanner: Any, used: Any, source: LogSource, aggs: Any, *rest: Any) -> None:
        if not rest or rest[0] is None:  # not the later pass of the gated conditions (`ScanPlan.run_gated`)
            scanned.append(source.name)
        scan_source(plan, scanner, used, source, aggs, *rest)

    monkeypatch.setattr(logscan.ScanPlan, "_scan_source", counted)
    assert _report(evidence) == expected
    assert expected["findings"] or name == "docker-healthy"
    assert sorted(scanned) == sorted(set(scanned))  # each log once: the streamed one is not read again at the end
    assert len(scanned) == len([s for s in evidence.logs if s.kind in ("container", "access", "model-dir")])


def test_log_over_the_cap_is_read_again_from_its_tail(tmp_path: Path) -> None:
    """Past the cap the followed bytes are not the kept log: readers stop, and the kept tail is what is scanned."""
    bundle = BUNDLES / "docker-boot-loop"
    evidence, _ = _streaming(bundle, tmp_path, cap=3000)
    report = _report(evidence)
    tail = tmp_path / "log.txt"
    assert 0 < tail.stat().st_size <= 3000
    expected = read_bundle_dir(bundle, bundle.name)
    final = next(s for s in expected.logs if s.kind == "container")
    expected.logs[expected.logs.index(final)] = LogSource.from_path(final.name, final.container, tail)
    assert report == _report(expected)
    assert report["findings"][0]["values"]["boot_count"] == tail.read_bytes().count(b"Booting worker")


def test_readers_see_every_byte_and_wait_for_more(tmp_path: Path) -> None:
    data = b"".join(b"line %d\n" % i for i in range(50_000))
    growing = Growing()
    got: list[bytes] = []

    def read() -> None:
        with growing.open() as stream:
            got.append(stream.read())

    reader = threading.Thread(target=read)
    reader.start()  # before the writer has even created the file
    time.sleep(0.05)
    _write_slowly(data, TailSink(tmp_path / "log", 10**9, growing=growing), block=20_000)
    reader.join(10)
    assert got == [data]
    assert (tmp_path / "log").read_bytes() == data


def _child_writes(out: Path, lines: int, fail: bool) -> Any:
    def work(writer: Writer) -> int:
        sink = TailSink(out, 10**9, growing=writer)
        for i in range(lines):
            sink.write(b"%d\n" % i)
        sink.finish()
        if fail:
            raise ValueError("the engine went away")
        return lines
    return work


@pytest.mark.parametrize("fork", [True, False], ids=["forked-child", "thread-where-fork-is-not-available"])
def test_writer_in_a_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fork: bool) -> None:
    import multiprocessing

    if not fork:
        monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    out, growing = tmp_path / "child.log", Growing()
    done = follow_in_child(_child_writes(out, 20_000, False), growing, TailSink.first_segment(out), "t-child")
    with growing.open() as stream:
        seen = stream.read()
    assert done.result(30) == 20_000
    assert seen == b"".join(b"%d\n" % i for i in range(20_000)) == out.read_bytes()


def test_child_failure_reaches_the_parent(tmp_path: Path) -> None:
    out, growing = tmp_path / "failing.log", Growing()
    done = follow_in_child(_child_writes(out, 10, True), growing, TailSink.first_segment(out), "t-child-fail")
    with growing.open() as stream:
        assert stream.read() == b"".join(b"%d\n" % i for i in range(10))
    with pytest.raises(ValueError, match="engine went away"):
        done.result(30)


def test_reader_child_dies_with_its_parent(tmp_path: Path) -> None:
    """mldoctor killed outright (SIGKILL, the OOM killer): its reader child does not stream on as an orphan."""
    import os
    import signal
    import subprocess
    import sys

    script = tmp_path / "parent.py"
    script.write_text(f"""
import os, sys, time
from pathlib import Path
from doctor.follow import Growing, follow_in_child

def forever(writer):
    print(os.getpid(), flush=True)
    while True:
        time.sleep(0.05)

follow_in_child(forever, Growing(), Path({str(tmp_path / "x.log")!r}), "t-orphan")
time.sleep(60)
""")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[1])
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(child, 0)  # alive
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the reader child outlived its killed parent")


def test_a_child_result_larger_than_a_pipe_comes_back() -> None:
    """The child sends its result after closing its record pipe: a result over the pipe's 64 KiB buffer used to
    leave child and parent each waiting for the other."""
    from doctor.follow import in_child

    result = in_child(lambda: {"counts": list(range(300_000))}, "t-big").result(timeout=60)
    assert result["counts"][-1] == 299_999 and len(result["counts"]) == 300_000


def test_readers_are_told_per_megabyte_of_flushed_bytes_and_of_the_rest_at_the_end(tmp_path: Path) -> None:
    """The writer tells readers how far the log is written once per NOTIFY_BYTES, not per block from the engine
    (each notice wakes the check's reading thread: per block, a 1 GB log cost it ~24 s of system time); every
    told byte is already in the file, and the last notice, before `finish`, covers every byte."""
    from doctor.collect.docker_logs import NOTIFY_BYTES

    out = tmp_path / "told.log"
    notices: list[tuple[str, int, int]] = []  # (kind, size told, bytes in the file then)

    class Recording:
        def started(self, path: Path) -> None:
            notices.append(("started", 0, path.stat().st_size))

        def grew(self, size: int) -> None:
            notices.append(("grew", size, TailSink.first_segment(out).stat().st_size))

        def finish(self) -> None:
            notices.append(("finish", 0, out.stat().st_size))

        def abandon(self) -> None:
            notices.append(("abandon", 0, 0))

    data = b"".join(b"2026-11-25T15:31:27.1Z line %07d of a log streaming in\n" % i for i in range(100_000))
    sink = TailSink(out, 10**9, growing=Recording())
    for start in range(0, len(data), 4000):  # blocks of whole lines, as the engine's frames come
        sink.write(data[start:start + 4000])
    assert not sink.finish()
    grew = [(size, on_disk) for kind, size, on_disk in notices if kind == "grew"]
    assert [kind for kind, _, _ in notices] == ["started"] + ["grew"] * len(grew) + ["finish"]
    assert len(grew) <= len(data) // NOTIFY_BYTES + 1
    assert all(on_disk >= size for size, on_disk in grew)  # readers never wait on bytes still in a buffer
    assert all(b - a >= NOTIFY_BYTES for (a, _), (b, _) in zip(grew, grew[1:-1]))
    assert grew[-1][0] == len(data) and out.read_bytes() == data


def test_readers_get_the_first_megabytes_while_the_log_still_streams_in(tmp_path: Path) -> None:
    """Told once per megabyte, a reader still gets the log's head long before its end: the check analyses a live
    log as it arrives, not after. The writer stops after two megabytes until the reader has its first one."""
    from doctor.collect.docker_logs import NOTIFY_BYTES

    data = b"".join(b"2026-11-25T15:31:27.1Z line %07d of a log streaming in\n" % i for i in range(200_000))
    growing = Growing()
    sink = TailSink(tmp_path / "log", 10**9, growing=growing)
    got_head = threading.Event()
    heads: list[bytes] = []

    def read() -> None:
        with growing.open() as stream:
            heads.append(stream.read(NOTIFY_BYTES))
            got_head.set()
            heads.append(stream.read())

    reader = threading.Thread(target=read)
    reader.start()
    waited = None
    for start in range(0, len(data), 64_000):
        sink.write(data[start:start + 64_000])
        if waited is None and sink.streamed >= 2 * NOTIFY_BYTES:
            waited = got_head.wait(10)
    sink.finish()
    reader.join(10)
    assert waited, "the reader got nothing while the writer had written two megabytes"
    assert b"".join(heads) == data


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("ctypes_way", [False, True])
def test_a_child_dies_with_its_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ctypes_way: bool) -> None:
    """A child that called die_with_parent is killed when its parent dies, even by SIGKILL (no orphan reading on):
    through the C extension's prctl, and through ctypes where the extension was not built."""
    from doctor import follow

    if ctypes_way:
        monkeypatch.setitem(sys.modules, "doctor._native", None)  # `from doctor._native import ...` fails
    alive = tmp_path / "alive"
    middle = os.fork()
    if middle == 0:  # pragma: no cover - the middle process: forks the child, then is killed
        try:
            if os.fork() == 0:
                follow.die_with_parent()
                time.sleep(1.0)  # killed long before this ends when its parent is
                alive.write_text("outlived its parent")
                os._exit(0)
            time.sleep(0.2)
            os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(1)
    os.waitpid(middle, 0)
    time.sleep(1.5)
    assert not alive.exists()
