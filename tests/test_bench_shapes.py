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
