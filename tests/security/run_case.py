"""Run hostile cases through `mldoctor` in this process, under watch (tests/security/test_hostile_suite.py).

Usage: python run_case.py CASES.json RESULTS.jsonl.  CASES.json is a list of {"name", "args"}; the cases run
one after another, each with stdout and stderr captured. An audit hook records every file a case opens (its
real path, and whether for writing). After each case a line goes to RESULTS.jsonl: exit code, output, the
opens, the wall time and the case's own peak RSS: the kernel's high-water mark (VmHWM) is reset to the current
RSS before each case (`/proc/self/clear_refs` "5") and read after it, so one heavy case does not charge the
cases that ran after it (the peak still includes what the process already held).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time

OPENS: list[tuple[str, bool]] = []
_WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_WATCHING = [True]


def _hook(event: str, args: tuple) -> None:  # type: ignore[type-arg]
    if event != "open" or not _WATCHING[0] or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    path, mode, flags = args
    writing = bool(mode and any(c in str(mode) for c in "wax+")) or bool((flags or 0) & _WRITE)
    OPENS.append((os.path.realpath(os.fsdecode(path)), writing))


def _reset_peak() -> None:
    """Reset this process's peak-RSS mark to its current RSS (Linux, proc(5) clear_refs)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _peak_mb() -> float:
    """This process's peak RSS since the last reset, in MB (VmHWM of /proc/self/status)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_one(argv: list[str]) -> dict[str, object]:
    """One CLI run, measured."""
    from doctor.cli import main as cli

    OPENS.clear()
    _reset_peak()
    out, err = io.StringIO(), io.StringIO()
    _WATCHING[0] = True
    start = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli(argv)
    elapsed = time.monotonic() - start
    _WATCHING[0] = False
    rss_mb = _peak_mb()
    return {"code": code, "out": out.getvalue(), "err": err.getvalue(), "opens": list(OPENS),
            "seconds": elapsed, "rss_mb": rss_mb}


def main() -> None:
    """Run every case of the cases file, a result line each."""
    cases = json.loads(open(sys.argv[1]).read())
    _WATCHING[0] = False
    sys.addaudithook(_hook)
    with open(sys.argv[2], "w") as results:
        for case in cases:
            results.write(json.dumps({"name": case["name"], **run_one(case["args"])}) + "\n")
            results.flush()


if __name__ == "__main__":
    main()
