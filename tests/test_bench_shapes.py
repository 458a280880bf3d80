"""bench/shapes.py runs in its short mode (a few MB per shape) and prints every figure for every shape, so the
benchmark cannot rot. No timing is asserted: the speed targets and their figures live in bench/README.md."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT

FIGURE = r"\s+[\d.]+ s\s+[\d.]+ MB/s\s+cpu\s+[\d.]+ s\s+peak RSS\s+[\d.]+ MB"


def test_shapes_short_mode_prints_every_figure() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from shapes import SHAPES

    done = subprocess.run([sys.executable, str(ROOT / "bench" / "shapes.py"), "--short"], capture_output=True,
                          text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, f"exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    out = done.stdout
    assert len(SHAPES) >= 5
    for shape in SHAPES:
        section = out.split(f"\n{shape}: ", 1)[1].split("\n", 4)  # header + rg + two checks
        assert re.search(r"^[\d.]+ MB, .+ load [\d.]+$", section[0]), section[0]
        assert re.match(r"\s+rg -c -f PATTERNS" + FIGURE + r"\s+load [\d.]+$", section[1]), section[1]
        for line, path in zip(section[2:4], ("hyperscan", "python")):
            assert re.match(rf"\s+check \({path}\)" + FIGURE + r"\s+ratio [\d.]+ \(cpu\s+[\d.]+\)\s+load [\d.]+$", line), line


def test_traffic_passes_short_mode_agree() -> None:
    """`--traffic`: the traffic pass alone in C, in NumPy and with the regex pass, each a figure; the script exits
    non-zero when their statistics differ."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "shapes.py"), "--short", "--shapes", "azmlinfsrv-ts",
                           "--paths", "hyperscan", "--traffic"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, f"exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    for name in ("c", "numpy", "regex"):
        assert re.search(rf"\n\s+traffic pass \({name}\)" + FIGURE, done.stdout), done.stdout


def test_an_answered_request_hits_no_rule_pattern() -> None:
    """The rule pack's patterns, scanned as `check` scans them, hit few lines of every benchmark shape (at most 10 %: the
    shapes have ~2 % failing requests, and `mixed` 1-5 % error lines). A pattern that matches an answered request's access
    line (a rule once read `"POST /score … 2\\d\\d` to know requests were answered) puts every line on the scan's
    per-line path: 1 GB of gunicorn lines took 73 s instead of 2. Traffic counts (`t`) say that much at no cost."""
    import io
    from itertools import islice

    sys.path.insert(0, str(ROOT / "bench"))
    from shapes import SHAPES, lines

    from doctor.evidence import LogSource
    from doctor.rules.engine import _negated
    from doctor.rules.loader import load_rules
    from doctor.rules.logscan import ScanPlan, _source_applies
    from doctor.rules.model import LogCond

    rules = load_rules([])
    conds = [c for r in rules for c in r.conditions() if isinstance(c, LogCond)]
    negated = {id(c) for r in rules for c in _negated(r)}
    plan = ScanPlan(conds, [i for i, c in enumerate(conds) if id(c) in negated])
    for shape in SHAPES:
        data = ("\n".join(islice(lines(shape), 4000)) + "\n").encode()
        source = LogSource.from_bytes("x", "x", data)
        applies = tuple(i for i, c in enumerate(plan.conds) if _source_applies(c, source))
        scanner, _ = plan._scanner(applies, "auto")
        hit = sum(1 for _ in scanner.scan(io.BytesIO(data)))
        assert hit <= 400, f"{shape}: {hit} of 4000 lines hit a rule pattern"


# Patterns allowed to match many lines of a benchmark shape, each read only for its first line (`first_only`: a rule
# asking whether a log has such a line at all), whose cost was measured and accepted (bench/README.md).
WIDE_ON_PURPOSE = {
    # init-failure: "did this log serve requests?" (every answered POST /score line; compiled single-match)
    r"Encountered Exception: Traceback|POST /score|in run\b",
    # model-not-found and init-failure: "is this a model server's log?" (every TorchServe / BentoML line)
    r"azureml-models|/mnt/models|Initializing service error|Application startup failed|MODEL_LOG - |org\.pytorch\.serve|"
    r"\[mlserver\]|\[entry_service:|\bkserve\b",
}


def test_no_new_pattern_matches_most_lines_of_a_shape() -> None:
    """No pattern of the pack matches more than 10 % of the lines of a benchmark shape, unless listed above with why. A
    pattern read only for its first line does not put lines on the scan's per-line path (the test above passes), but
    hyperscan still pays for it on every line: one that matched every access line (`"GET /… HTTP/1.1" 200`, to know a
    server answered requests) doubled the whole check's CPU on 1 GB of gunicorn lines (3.45 -> 7.68 s)."""
    from itertools import islice

    sys.path.insert(0, str(ROOT / "bench"))
    from shapes import SHAPES, lines

    from doctor.rules.loader import load_rules
    from doctor.rules.logscan import ScanPlan
    from doctor.rules.model import LogCond
    from doctor.scan_hs import compile_database, hs_expression

    rules = load_rules([])
    plan = ScanPlan([c for r in rules for c in r.conditions() if isinstance(c, LogCond)])
    shapes = {shape: ("\n".join(islice(lines(shape), 4000)) + "\n").encode() for shape in SHAPES}
    wide = []
    for pattern in plan.patterns:
        expression = hs_expression(pattern)
        if expression is None or any(pattern.startswith(w) for w in WIDE_ON_PURPOSE):
            continue
        db = compile_database([expression])
        for shape, data in shapes.items():
            ends: list[int] = []
            db.scan(data, match_event_handler=lambda _id, _start, end, _flags, _ctx: ends.append(end))
            hit_lines = len({data.rfind(b"\n", 0, end) for end in ends})
            if hit_lines > data.count(b"\n") // 10:
                wide.append(f"{shape}: {hit_lines} lines: {pattern[:120]}")
                break
    assert not wide, "\n".join(wide)
