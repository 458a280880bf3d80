"""Real traffic against a real local HTTP server on 127.0.0.1: a burst provoking real 503s, a slow handler provoking
real client timeouts; `probe` diagnoses them and `simulate` reproduces the 503 windows, and its recommendation,
replayed against a server sized that way, produces none."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from realserver import ScoringServer  # noqa: E402

from doctor.collect import probe  # noqa: E402
from doctor.traffic.simulate import Settings, replay, smallest_min_replicas  # noqa: E402
from doctor.traffic.stats import bursts  # noqa: E402

BURST = {"requests": 60, "concurrency": 20, "rate": 20.0, "max_seconds": 20}


def _burst(slots: int) -> tuple[list[probe.Result], bytes]:
    with ScoringServer(slots=slots, service_s=0.3, max_wait_s=0.2) as srv:
        results = probe.run(probe.ProbePlan(srv.url, **BURST))  # type: ignore[arg-type]
        return results, srv.log_bytes()


def test_probe_burst_gives_overload_503(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(probe.KEY_ENV, "s3cr3t-key-value")
    with ScoringServer(slots=2, service_s=0.3, max_wait_s=0.2) as srv:
        run = cli("probe", srv.url, "--requests", "60", "--concurrency", "20", "--rate", "20", "--format", "json")
    report = run.json()
    assert run.code == 1 and report["findings"][0]["rule_id"] == "overload-503"
    assert report["findings"][0]["values"]["count_503"] >= 10
    assert "s3cr3t" not in run.out + run.err


def test_probe_slow_handler_gives_timeouts(cli) -> None:  # type: ignore[no-untyped-def]
    with ScoringServer(slots=4, service_s=2.0, max_wait_s=5) as srv:
        run = cli("probe", srv.url, "--requests", "3", "--concurrency", "3", "--timeout", "0.5", "--format", "json")
    finding = next(f for f in run.json()["findings"] if f["rule_id"] == "timeout-504")
    assert finding["values"]["client_timeouts"] == 3 and run.code == 1


def test_probe_errors_recorded_not_raised() -> None:
    result = probe.send("http://127.0.0.1:9/score", b"{}", 1.0)  # the discard port: nothing listens
    assert result.status == 0 and result.error in ("refused", "error", "reset")


def _seconds(log: bytes) -> dict[int, int]:
    from doctor.evidence import Evidence, LogSource, Target
    from doctor.traffic import LineParser, iter_requests

    arrivals: dict[int, int] = {}
    rejected: dict[int, int] = {}
    source = LogSource.from_bytes("burst.log", "srv", log, kind="access")
    for request, _ in iter_requests(source, LineParser(strict=True)):
        second = int(request.time or 0)
        arrivals[second] = arrivals.get(second, 0) + 1
        if request.status == 503:
            rejected[second] = rejected.get(second, 0) + 1
    _ = Evidence(Target("bundle", "x"))
    return arrivals, rejected  # type: ignore[return-value]


def test_simulate_reproduces_real_503_windows_and_its_fix_removes_them(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from collections import Counter

    _, log = _burst(slots=2)
    arrivals, observed = _seconds(log)  # type: ignore[misc]
    assert sum(observed.values()) >= 10
    settings = Settings(min_replicas=1, max_replicas=1, max_concurrent=2, max_wait_ms=200)
    predicted = replay(arrivals, 0.3, settings)
    real_windows = [(b["start_s"], b["end_s"]) for b in bursts(Counter(observed), Counter(arrivals))]
    sim_windows = [(b["start_s"], b["end_s"]) for b in bursts(predicted.rejected, Counter(arrivals))]
    assert len(real_windows) == len(sim_windows) == 1
    assert abs(real_windows[0][0] - sim_windows[0][0]) <= 1 and abs(real_windows[0][1] - sim_windows[0][1]) <= 1
    assert 0.5 <= predicted.total_503 / sum(observed.values()) <= 1.5
    needed = smallest_min_replicas(arrivals, 0.3, settings)
    assert needed is not None and needed > 1
    _, replayed = _burst(slots=needed * settings.max_concurrent)  # the recommendation, replayed for real
    assert b'" 503 ' not in replayed


def test_simulate_command_predicts_and_recommends(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bundle = Path(__file__).resolve().parents[2] / "fixtures/bundles/traffic-overload-503"
    run = cli("simulate", "--traffic", str(bundle / "traffic/access.log"),
              "--config", str(bundle / "config/deploymentconfig.json"), "--format", "json")
    finding = run.json()["findings"][0]
    assert run.code == 1 and finding["rule_id"] == "overload-503"
    assert finding["values"]["simulated_503"] > 0 and finding["values"]["simulated_min_replicas"] >= 2
    assert "replicas = ceil(20 ×" in finding["fix"] and "autoScaler.minReplicas" in finding["fix"]
    assert json.dumps(run.json())  # serialisable


def test_check_with_probe_adds_live_answers(cli) -> None:  # type: ignore[no-untyped-def]
    bundle = Path(__file__).resolve().parents[2] / "fixtures" / "bundles" / "docker-healthy"
    with ScoringServer(slots=1, service_s=0.3, max_wait_s=0.05) as srv:
        quiet = cli("check", str(bundle), "--format", "json")
        run = cli("check", str(bundle), "--probe", srv.url, "--probe-requests", "40", "--format", "json")
    assert quiet.code == 0 and quiet.json()["findings"] == []
    report = run.json()
    assert any(n.startswith("probe: 40 request(s)") for n in report["notes"])
    assert report["evidence"]["access_logs"] == 1
    assert run.code == 1 and report["findings"][0]["rule_id"] == "overload-503"
