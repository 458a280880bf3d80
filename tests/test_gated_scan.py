"""A log condition marked `later`, under a `not:` beside other log conditions in an `all:`, is scanned after the
rest, and only when each of those found a line (`ScanPlan`'s `gated`): the report is the one a scan of every pattern
gives. (BentoML writes `[entry_service:` in every line; model-not-found's "unless a model server's log" read it on
every line of every BentoML log, for the few logs where a missing file and a loading frame are there too.)"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES

from doctor.evidence import Evidence, LogSource, Target
from doctor.rules import engine, logscan
from doctor.rules.engine import diagnose
from doctor.rules.loader import load_rules

RULE = "id: {id}\ntitle: t\nseverity: {severity}\ncause: c\nfix: f\nwhen:\n{when}"
RULES = {
    # fires on a missing file, unless the log is a model server's
    "gated": RULE.format(id="gated", severity="error", when="""  all:
    - log: {pattern: 'No such file: (?P<path>\\S+\\.pkl)'}
    - not:
        log: {pattern: '\\[server-marker\\]', later: true}
"""),
    # the same negated pattern, read by a rule that counts it: scanned with the rest
    "counts": RULE.format(id="counts", severity="warning", when="  log: {pattern: 'counted-marker', min_count: 2}\n"),
}


@pytest.fixture
def rules(tmp_path: Path) -> Any:
    for name, text in RULES.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    return load_rules([tmp_path], builtin=False)


@pytest.fixture
def scanned(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The patterns of each scanner the log scan makes, in order."""
    made: list[list[str]] = []
    real = logscan.make_scanner

    def recording(patterns: Any, *args: Any, **kw: Any) -> Any:
        made.append(list(patterns))
        return real(patterns, *args, **kw)

    monkeypatch.setattr(logscan, "make_scanner", recording)
    return made


def _check(rules: Any, log: bytes) -> list[str]:
    evidence = Evidence(Target("bundle", "t"), logs=[LogSource.from_bytes("app.log", "app", log)])
    return [f.rule_id for f in diagnose(evidence, rules).findings]


LINES = b"".join(b"[server-marker] request %d served\n" % i for i in range(200))
MISSING = b"FileNotFoundError: No such file: /models/m.pkl\n"


def test_the_negated_pattern_is_not_scanned_when_the_rest_of_its_all_found_nothing(rules: Any, scanned: list[list[str]]) -> None:
    assert _check(rules, LINES) == []
    assert len(scanned) == 1 and r"\[server-marker\]" not in scanned[0]


def test_it_is_scanned_after_the_rest_when_that_found_lines(rules: Any, scanned: list[list[str]]) -> None:
    assert _check(rules, LINES + MISSING) == []  # a model server's log: ruled out, as a scan of everything says
    assert len(scanned) == 2 and scanned[1] == [r"\[server-marker\]"]
    scanned.clear()
    assert _check(rules, b"app started\n" + MISSING) == ["gated"]  # no marker anywhere: the rule holds
    assert len(scanned) == 2 and scanned[1] == [r"\[server-marker\]"]


def test_a_negated_pattern_another_condition_reads_is_scanned_with_the_rest(tmp_path: Path, scanned: list[list[str]]) -> None:
    (tmp_path / "gated.yaml").write_text(RULES["gated"].replace(r"\[server-marker\]", "counted-marker"))
    (tmp_path / "counts.yaml").write_text(RULES["counts"])
    both = load_rules([tmp_path], builtin=False)
    assert _check(both, MISSING + b"counted-marker\ncounted-marker\n") == ["counts"]
    assert len(scanned) == 1 and "counted-marker" in scanned[0]  # one pass: nothing left for later


def test_without_later_the_negated_pattern_is_scanned_with_the_rest(tmp_path: Path, scanned: list[list[str]]) -> None:
    """Unmarked, the `not:` is scanned in the one pass (beside conditions that hold on many logs, a `not:` that
    finds nothing would be read in a second pass over the whole log)."""
    (tmp_path / "gated.yaml").write_text(RULES["gated"].replace(", later: true", ""))
    assert _check(load_rules([tmp_path], builtin=False), LINES + MISSING) == []
    assert len(scanned) == 1 and r"\[server-marker\]" in scanned[0]


@pytest.mark.parametrize("when", [
    "  log: {pattern: 'x', later: true}\n",  # not under a not:
    "  not:\n    log: {pattern: 'x', later: true}\n",  # no all: around
    "  all:\n    - event: {reason: 'BackOff'}\n    - not:\n        log: {pattern: 'x', later: true}\n",  # no log beside
    "  all:\n    - log: {pattern: 'y'}\n    - not:\n        log: {pattern: 'x', later: true, only_after: {pattern: 'z'}}\n",
])
def test_later_where_it_cannot_be_is_refused_when_the_rule_loads(tmp_path: Path, when: str) -> None:
    from doctor.errors import RuleError

    (tmp_path / "bad.yaml").write_text(RULE.format(id="bad", severity="error", when=when))
    with pytest.raises(RuleError, match="`later` is for a log condition"):
        load_rules([tmp_path], builtin=False)


def _reports(monkeypatch: pytest.MonkeyPatch, gated: bool) -> dict[str, Any]:
    from doctor.bundle import read_bundle_dir
    from doctor.report.jsonfmt import report_dict

    if not gated:
        monkeypatch.setattr(engine, "_gates", lambda rule: {})
    rules = load_rules([])
    out = {}
    for bundle in sorted((FIXTURES / "bundles").iterdir()):
        report = report_dict(diagnose(read_bundle_dir(bundle, bundle.name), rules))
        report.pop("generated_at", None)
        out[bundle.name] = json.dumps(report, sort_keys=True, default=str)
    return out


def test_every_bundled_example_gives_the_report_a_scan_of_every_pattern_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    gated = _reports(monkeypatch, True)
    with monkeypatch.context() as patch:
        everything = _reports(patch, False)
    assert gated == everything and len(gated) >= 20


def test_the_built_in_pack_leaves_model_not_found_s_model_server_test_out_of_the_first_scan() -> None:
    """The pattern behind model-not-found's `not:` (every BentoML line holds `[entry_service:`) is left out of the
    scan of a log where no missing file is."""
    rules = load_rules([])
    conds = [c for r in rules for c in r.conditions() if isinstance(c, logscan.LogCond)]
    position = {id(c): i for i, c in enumerate(conds)}
    gated = {position[c]: [position[g] for g in gates] for r in rules for c, gates in engine._gates(r).items()}
    plan = logscan.ScanPlan(conds, (), gated)
    deferred = {p for ci in plan.gates for p in conds[ci].patterns}
    assert any(r"\[entry_service:" in p for p in deferred)
    assert not deferred & {p for ci, c in enumerate(conds) if ci not in plan.gates for p in c.patterns}


class _Counted(io.BytesIO):
    """A log stream that notes how many bytes were read from it."""

    def __init__(self, data: bytes, reads: list[int]) -> None:
        super().__init__(data)
        self.reads = reads
        reads.append(0)

    def read(self, size: int | None = -1) -> bytes:
        out = super().read(size)
        self.reads[-1] += len(out)
        return out

    def readinto(self, buffer: Any) -> int:
        got = super().readinto(buffer)
        self.reads[-1] += got
        return got


@pytest.mark.parametrize("engine", ["auto", "re"])
def test_the_later_pass_ends_once_each_negated_condition_found_its_line(rules: Any, engine: str,
                                                                      scanned: list[list[str]]) -> None:
    """Read as "holds or not", a found line decides: a model server's marker on the first line ends the pass there."""
    log = LINES + b"filler line of a busy log\n" * (48 << 20 >> 5) + MISSING
    reads: list[int] = []
    source = LogSource("app.log", "app", lambda: _Counted(log, reads), size=len(log))
    evidence = Evidence(Target("bundle", "t"), logs=[source])
    assert [f.rule_id for f in diagnose(evidence, rules, engine=engine).findings] == []
    whole = [n for n in reads if n == len(log)]
    assert len(scanned) == 2 and len(whole) == 1 and len(reads) >= 2 and sorted(reads)[-2] < len(log) // 4  # the first pass read it all


@pytest.mark.parametrize("engine", ["auto", "re"])
def test_one_negated_condition_found_decides_its_all(tmp_path: Path, engine: str, scanned: list[list[str]]) -> None:
    """Two `not:`s beside the same conditions: the marker one finds on line 1 makes the `all:` fail, so the later
    pass ends there although the other is nowhere in the log (an Azure ML server's own `Listening at:
    http://127.0.0.1:31311`, beside the `0.0.0.0` line it never writes)."""
    two = RULES["gated"].replace("    - not:\n", "    - not:\n        log: {pattern: 'never-written', later: true}\n    - not:\n", 1)
    (tmp_path / "gated.yaml").write_text(two)
    rules = load_rules([tmp_path], builtin=False)
    log = LINES + b"filler line of a busy log\n" * (48 << 20 >> 5) + MISSING
    reads: list[int] = []
    source = LogSource("app.log", "app", lambda: _Counted(log, reads), size=len(log))
    assert [f.rule_id for f in diagnose(Evidence(Target("bundle", "t"), logs=[source]), rules, engine=engine).findings] == []
    assert len(scanned) == 2 and sorted(scanned[1]) == sorted([r"\[server-marker\]", "never-written"])
    assert len([n for n in reads if n == len(log)]) == 1 and sorted(reads)[-2] < len(log) // 4
