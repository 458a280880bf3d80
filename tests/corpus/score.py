"""Scores the real-case corpus (fixtures/corpus/CASE/): each case is checked as a user would check it
(`mldoctor check CASE --format json`) and judged against its expected.yaml.

    python tests/corpus/score.py             # the score line and one line per case
    python tests/corpus/score.py --update    # also rewrite fixtures/corpus/baseline.yaml (what is right now)

The baseline is the regression gate: tests/corpus/test_corpus.py fails when a case that the baseline
records as right (id or facts) is no longer right. It never records a case as right that is not.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "fixtures" / "corpus"
BASELINE = CORPUS / "baseline.yaml"


@dataclass
class Result:
    """What mldoctor said about one case, and how it compares with what the case expects."""

    case: str
    failing: bool  # the case failed in reality
    exit_code: int
    status: str
    first: str | None
    expected_first: str | None
    id_right: bool
    facts_right: bool
    missing: list[str] = field(default_factory=list)  # key facts not stated
    reported_healthy: bool = False  # a failing case that came out healthy / exit 0 (the one promise broken)
    noisy_control: bool = False  # a healthy control with a finding at warning or above, or reported failing
    unknown_control: bool = False  # a healthy control reported unknown: no alarm, but nothing in it showed it working

    @property
    def line(self) -> str:
        """One line for the score listing."""
        mark = "ok " if (self.facts_right if self.failing else not self.noisy_control) else "BAD"
        what = (f"first={self.first} (want {self.expected_first})" if self.failing
                else f"control: status={self.status}")
        extra = f" missing={self.missing}" if self.missing else ""
        return f"{mark} {self.case}: exit {self.exit_code} {self.status} {what}{extra}"


def cases() -> list[Path]:
    """Every case folder (one with an expected.yaml), sorted."""
    return sorted(p.parent for p in CORPUS.glob("*/expected.yaml"))


def expected_of(case: Path) -> dict[str, Any]:
    """The case's expected.yaml."""
    data = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{case}/expected.yaml is not a mapping")
    return data


def run_check(case: Path) -> tuple[int, dict[str, Any] | None]:
    """`mldoctor check CASE --format json` in-process: the exit code and the report (None when none was written)."""
    from doctor.cli import main

    with tempfile.TemporaryDirectory(prefix="mldoctor-corpus-") as tmp:
        out = Path(tmp) / "report.json"
        code = main(["check", str(case), "--format", "json", "--output", str(out)])
        report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
    return code, report


def judge(case: Path) -> Result:
    """Run one case and judge it."""
    exp = expected_of(case)
    failing = bool(exp.get("failing", True))
    code, report = run_check(case)
    findings = (report or {}).get("findings") or []
    status = (report or {}).get("status", "none")
    first = findings[0] if findings else None
    first_id = first["rule_id"] if first else None
    want = exp.get("first")
    not_first = set(exp.get("not_first") or [])
    id_right = failing and first_id is not None and first_id == want and first_id not in not_first
    missing: list[str] = []
    if first:
        said = (first.get("title", "") + " " + first.get("cause", "")).lower()
        missing += [f"cause:{s}" for s in exp.get("cause_contains") or [] if str(s).lower() not in said]
        fix = first.get("fix", "").lower()
        missing += [f"fix:{s}" for s in exp.get("fix_contains") or [] if str(s).lower() not in fix]
    facts_right = id_right and not missing
    worst = {f.get("severity") for f in findings}
    return Result(
        case=case.name, failing=failing, exit_code=code, status=status, first=first_id, expected_first=want,
        id_right=id_right, facts_right=facts_right, missing=missing if failing else [],
        reported_healthy=failing and (code == 0 or status == "healthy"),
        # `unknown` (exit 3) is no alarm: a pasted line or two that shows neither a failure nor the service working
        # (doctor.status.pasted_not_shown_working); any other exit, or a finding at warning or above, is one
        noisy_control=not failing and (code not in (0, 3) or bool(worst & {"warning", "error", "critical"})),
        unknown_control=not failing and code == 3,
    )


def score_line(results: list[Result]) -> str:
    """The corpus score, as the suite prints it."""
    failing = [r for r in results if r.failing]
    controls = [r for r in results if not r.failing]
    return (f"corpus: {len(results)} cases ({len(failing)} failing, {len(controls)} healthy controls): "
            f"id right {sum(r.id_right for r in failing)}/{len(failing)}, "
            f"facts right {sum(r.facts_right for r in failing)}/{len(failing)}, "
            f"failing reported healthy {sum(r.reported_healthy for r in failing)}, "
            f"noisy controls {sum(r.noisy_control for r in controls)}, "
            f"controls unknown {sum(r.unknown_control for r in controls)}")


def load_baseline() -> dict[str, dict[str, bool]]:
    """Per case, what was right when the baseline was last written."""
    if not BASELINE.exists():
        return {}
    data = yaml.safe_load(BASELINE.read_text(encoding="utf-8")) or {}
    return {str(k): dict(v) for k, v in (data.get("cases") or {}).items()}


def write_baseline(results: list[Result]) -> None:
    """Record what is right now (only cases that failed in reality)."""
    body = {"cases": {r.case: {"id": r.id_right, "facts": r.facts_right} for r in results if r.failing},
            "score": score_line(results)}
    header = ("# Written by `python tests/corpus/score.py --update`: what mldoctor gets right on the corpus.\n"
              "# tests/corpus/test_corpus.py fails when a case recorded here as right is no longer right.\n")
    BASELINE.write_text(header + yaml.safe_dump(body, sort_keys=True), encoding="utf-8")


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    results = [judge(case) for case in cases()]
    for result in results:
        print(result.line)
    print(score_line(results))
    if "--update" in argv:
        write_baseline(results)
        print(f"wrote {BASELINE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
