"""How fixtures/bundles/traffic-*/traffic/access.log were recorded: real requests against tests/traffic/realserver.py
on 127.0.0.1 (run `python tests/traffic/record_fixtures.py` from the repository root to record them again)."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from realserver import ScoringServer  # noqa: E402

from doctor.collect import probe  # noqa: E402

BUNDLES = Path(__file__).resolve().parents[2] / "fixtures" / "bundles"


def record(name: str, server: ScoringServer, plans: list[dict[str, float]]) -> None:
    """Run the plans one after the other against the server and write its access log into the bundle."""
    with server as srv:
        for plan in plans:
            path = str(plan.pop("path", "/score"))
            probe.run(probe.ProbePlan(srv.url.replace("/score", path), max_seconds=30, **plan))  # type: ignore[arg-type]
        data = srv.log_bytes()
    out = BUNDLES / name / "traffic"
    out.mkdir(parents=True, exist_ok=True)
    (out / "access.log").write_bytes(data)


def main() -> None:
    """Record the four traffic scenarios."""
    steady = {"requests": 10, "concurrency": 1, "rate": 2.0}
    record("traffic-overload-503", ScoringServer(slots=2, service_s=0.3, max_wait_s=0.2),
           [dict(steady), {"requests": 60, "concurrency": 20, "rate": 20.0}, dict(steady)])
    record("traffic-timeout-504", ScoringServer(slots=4, service_s=1.5, front_timeout_s=1.0),
           [{"requests": 6, "concurrency": 2, "rate": 2.0}])
    record("traffic-429", ScoringServer(slots=1, service_s=0.3, max_wait_s=0.05, reject_status=429),
           [{"requests": 20, "concurrency": 6, "rate": 10.0}])
    with ScoringServer(slots=1, service_s=0.3, max_wait_s=0.05) as srv:  # the decoy: one 503, two 404s
        probe.run(probe.ProbePlan(srv.url, requests=8, concurrency=1, rate=2.0))
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: probe.send(srv.url, b"{}", 5), range(2)))
        time.sleep(1)
        for _ in range(2):
            probe.send(srv.url.replace("/score", "/nope"), b"{}", 5)
        probe.run(probe.ProbePlan(srv.url, requests=6, concurrency=1, rate=2.0))
        data = srv.log_bytes()
    out = BUNDLES / "traffic-decoy-healthy" / "traffic"
    out.mkdir(parents=True, exist_ok=True)
    (out / "access.log").write_bytes(data)


if __name__ == "__main__":
    main()
