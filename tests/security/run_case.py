"""Run hostile cases through `mldoctor` in this process, under watch (tests/security/test_hostile_suite.py).

Usage: python run_case.py CASES.json RESULTS.jsonl.  CASES.json is a list of {"name", "args"}; the cases run
one after another, each with stdout and stderr captured. An audit hook records every file a case opens (its
real path, and whether for writing). After each case a line goes to RESULTS.jsonl: exit code, output, the
opens, the wall time and the peak RSS of the process so far (a high-water mark: each case stayed under it).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
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


def run_one(argv: list[str]) -> dict[str, object]:
    """One CLI run, measured."""
    from doctor.cli import main as cli

    OPENS.clear()
    out, err = io.StringIO(), io.StringIO()
    _WATCHING[0] = True
    start = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli(argv)
    elapsed = time.monotonic() - start
    _WATCHING[0] = False
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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
