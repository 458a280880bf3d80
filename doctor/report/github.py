"""GitHub Actions workflow commands: one `::error file=…,line=…,title=…::message` annotation per finding."""

from __future__ import annotations

from doctor.findings import Finding, Report
from doctor.report.escape import workflow_data, workflow_property
from doctor.report.sarif import repo_path, source_location

_COMMAND = {"critical": "error", "error": "error", "warning": "warning", "info": "notice"}


escape_data, escape_property = workflow_data, workflow_property  # the names other modules and tests use


def annotation(finding: Finding, report: Report) -> str:
    """One workflow command line for a finding."""
    props = []
    where = source_location(finding)
    if where:
        props += [f"file={escape_property(repo_path(where[0]))}", f"line={where[1]}"]
    props.append(f"title={escape_property(f'mldoctor {finding.rule_id}: {finding.title}')}")
    target = f"{report.target.kind}:{report.target.name}"
    message = f"[{finding.severity.value}] {target}: {finding.cause}\nFix: {finding.fix}"
    return f"::{_COMMAND[finding.severity.value]} {','.join(props)}::{escape_data(message)}"


def render(report: Report, color: bool = False) -> str:
    """Annotations for every finding, then collector errors as warnings and a one-line summary."""
    lines = [annotation(f, report) for f in report.findings]
    lines += [f"::warning title={escape_property('mldoctor: not collected')}::"
              f"{escape_data(f'{e.collector}: {e.error}')}" for e in report.collector_errors]
    lines.append(escape_data(f"mldoctor: {report.target.kind}:{report.target.name} is {report.status} "
                             f"({len(report.findings)} finding(s))"))  # no line of it can start a command
    return "\n".join(lines) + "\n"
