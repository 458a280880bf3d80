"""SARIF 2.1.0 for code-scanning UIs: findings on score.py and config files point at file and line."""

from __future__ import annotations

import json
from typing import Any, Sequence
from urllib.parse import quote

from doctor import __version__
from doctor.findings import Finding, Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"critical": "error", "error": "error", "warning": "warning", "info": "note"}
# where the Azure ML inference server mounts the source directory: a path under it is the repo's own file
_APP_ROOTS = ("/var/azureml-app/", "/var/azureml-server/")
# collected outputs (logs, kubectl/docker dumps) are not files of the user's repository
_COLLECTED = ("docker/", "k8s/", "traffic/", "nodes", "events")


def render(report: Report, color: bool = False) -> str:
    """The report as a SARIF 2.1.0 log with one run."""
    return render_many([report])


def render_many(reports: Sequence[Report]) -> str:
    """Several reports (a namespace) as one SARIF log, one run each."""
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run(r) for r in reports]}
    return json.dumps(log, indent=2, default=str) + "\n"


def run(report: Report) -> dict[str, Any]:
    """One SARIF run: the tool with its rules, the results, and collector errors as notifications."""
    rules = {f.rule_id: _rule(f) for f in report.findings}
    index = {rule_id: i for i, rule_id in enumerate(rules)}
    out: dict[str, Any] = {
        "tool": {"driver": {"name": "mldoctor", "version": __version__, "semanticVersion": __version__,
                            "informationUri": "https://pypi.org/project/mldoctor/", "rules": list(rules.values())}},
        "results": [_result(f, index[f.rule_id], report) for f in report.findings],
        "invocations": [_invocation(report)],
        "properties": {"target": f"{report.target.kind}:{report.target.name}", "status": report.status},
    }
    return out


def _rule(finding: Finding) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": finding.rule_id,
        "name": "".join(part.capitalize() for part in finding.rule_id.split("-")),
        "shortDescription": {"text": finding.title},
        "fullDescription": {"text": finding.cause},
        "help": {"text": f"Fix: {finding.fix}", "markdown": f"**Fix.** {finding.fix}"},
        "defaultConfiguration": {"level": _LEVEL[finding.severity.value]},
        "properties": {"severity": finding.severity.value},
    }
    if finding.references:
        rule["helpUri"] = finding.references[0]
    return rule


def _result(finding: Finding, rule_index: int, report: Report) -> dict[str, Any]:
    physical = physical_location(finding)
    location = {"physicalLocation": physical} if physical else {"logicalLocations": [_logical(report)]}
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity.value],
        "message": {"text": message_text(finding)},
        "locations": [location],
        "properties": {"severity": finding.severity.value, "values": finding.values,
                       "evidence": [{"source": e.source, "excerpt": e.excerpt, "line": e.line}
                                    for e in finding.evidence],
                       "consequence_of": finding.consequence_of,
                       "ruled_out": [{"rule_id": r.rule_id, "why": r.why} for r in finding.ruled_out]},
    }
    if physical:
        result["relatedLocations"] = [{"id": 0, "logicalLocations": [_logical(report)]}]
    fixes = json.loads(report.attachments.get("fixes.json") or "{}").get(finding.rule_id)
    if fixes:  # the changes `mldoctor fix` would write into the user's --config files
        result["fixes"] = fixes
    return result


def message_text(finding: Finding) -> str:
    """The result's message: title, cause, fix, what it is a consequence of, and what was ruled out."""
    parts = [finding.title]
    if finding.consequence_of:
        parts.append(f"Consequence of: {finding.consequence_of}")
    parts += [f"Cause: {finding.cause}", f"Fix: {finding.fix}"]
    if finding.ruled_out:
        parts.append("Ruled out: " + "; ".join(f"{r.rule_id}: {r.why}" for r in finding.ruled_out))
    return "\n\n".join(parts)


def source_location(finding: Finding) -> tuple[str, int] | None:
    """(file, line) of a finding about score.py or a config file; None for one about the running service."""
    script, line = finding.values.get("script"), finding.values.get("script_line")
    if isinstance(script, str) and script and isinstance(line, int) and line > 0:
        return script, line
    for excerpt in finding.evidence:
        if excerpt.line and not excerpt.source.startswith(_COLLECTED) and not excerpt.source.endswith(".log"):
            return excerpt.source, excerpt.line
    return None


def physical_location(finding: Finding) -> dict[str, Any] | None:
    """The SARIF physicalLocation of a finding on a file, relative to the source root when it can be."""
    where = source_location(finding)
    if where is None:
        return None
    path = repo_path(where[0])
    artifact = {"uri": "file://" + quote(path)} if path.startswith("/") else {"uri": quote(path), "uriBaseId": "SRCROOT"}
    return {"artifactLocation": artifact, "region": {"startLine": where[1]}}


def repo_path(path: str) -> str:
    """A path relative to the source root when it can be (the server's app folder is the source folder)."""
    root = next((r for r in _APP_ROOTS if path.startswith(r)), None)
    return path.removeprefix(root) if root else path.removeprefix("./")


def _logical(report: Report) -> dict[str, Any]:
    kind = {"k8s": "module", "docker": "module"}.get(report.target.kind, "namespace")
    return {"name": report.target.name, "fullyQualifiedName": f"{report.target.kind}:{report.target.name}",
            "kind": kind}


def _invocation(report: Report) -> dict[str, Any]:
    notes = [{"level": "warning", "message": {"text": f"{e.collector}: {e.error}"},
              "descriptor": {"id": e.collector}} for e in report.collector_errors]
    return {"executionSuccessful": True, "toolExecutionNotifications": notes}
