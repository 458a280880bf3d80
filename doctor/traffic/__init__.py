"""Traffic evidence: requests read from access logs (gunicorn, Azure ML inference server, nginx)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from doctor.evidence import Evidence
from doctor.logs import iter_chunks, line_time

# gunicorn default access format: h l u t "r" s b "f" "a"
_GUNICORN = re.compile(rb'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) ')
# azmlinfsrv >= 0.8 summary line: `POST /score 200 0.918ms 19`
_AZMLINFSRV = re.compile(rb"azmlinfsrv - (?P<method>[A-Z]+) (?P<path>/\S*) (?P<status>\d{3}) (?P<ms>[\d.]+)ms")


def stats_for(evidence: Evidence) -> dict[str, Any] | None:
    """Request counts by status over the access logs (or the container logs' access lines); None without any."""
    status: Counter[str] = Counter()
    per_second: Counter[str] = Counter()
    total = 0
    for source in evidence.logs:
        if source.kind not in ("access", "container"):
            continue
        with source.open() as stream:
            for block in iter_chunks(stream):
                for line in block.splitlines():
                    match = _AZMLINFSRV.search(line) or _GUNICORN.search(line)
                    if not match or match.group("path") == b"/":
                        continue
                    total += 1
                    code = match.group("status").decode()
                    status[code] += 1
                    when = line_time(line)
                    if when and code == "503":
                        per_second[when.strftime("%Y-%m-%dT%H:%M:%S")] += 1
    if not total:
        return None
    return {"requests": total, "status": dict(status), "peak_503_per_second": max(per_second.values(), default=0),
            "excerpts": []}
