"""The JSON report exactly as docs/contract.md says (schema `mldoctor.report/v1`)."""

from __future__ import annotations

import json
from typing import Any

from doctor import __version__
from doctor.findings import SCHEMA, Finding, Report
from doctor.scan import resolve_engine
from doctor.traffic.fast import resolve_engine as traffic_engine


def finding_dict(finding: Finding) -> dict[str, Any]:
    """One finding as the contract's JSON object."""
    out: dict[str, Any] = {
        "rule_id": finding.rule_id, "severity": finding.severity.value, "title": finding.title,
        "cause": finding.cause, "fix": finding.fix,
        "evidence": [{"source": e.source, "excerpt": e.excerpt, **({"line": e.line} if e.line else {})}
                     for e in finding.evidence],
        "values": finding.values,
        "consequence_of": finding.consequence_of,
        "ruled_out": [{"rule_id": r.rule_id, "why": r.why} for r in finding.ruled_out],
    }
    if finding.references:
        out["references"] = list(finding.references)
    if finding.predicted:
        out["predicted"] = True
    return out


def report_dict(report: Report) -> dict[str, Any]:
    """The whole report as the contract's JSON object."""
    return {
        "schema": SCHEMA,
        "tool": {"name": "mldoctor", "version": __version__, "scan_engine": resolve_engine(),
                 "traffic_engine": traffic_engine()},
        "target": {"kind": report.target.kind, "name": report.target.name,
                   **({"stack": report.stack} if report.stack else {})},
        "status": report.status,
        "findings": [finding_dict(f) for f in report.findings],
        "checks": [{"rule_id": c.rule_id, "result": c.result, "reason": c.reason} for c in report.checks],
        "collector_errors": [{"collector": e.collector, "error": e.error} for e in report.collector_errors],
        "evidence": report.evidence_summary,
        "notes": report.notes,
        "redacted": report.redacted,
        **({"predicted": True} if report.predicted else {}),
    }


def render(report: Report, color: bool = False) -> str:
    """The report as indented JSON."""
    return json.dumps(report_dict(report), indent=2, default=str) + "\n"
