"""Prometheus text exposition (format 0.0.4): for node-exporter's textfile collector or a Pushgateway."""

from __future__ import annotations

from typing import Sequence

from doctor.findings import Report

_STATUS = {"healthy": 0, "warning": 1, "failing": 2, "unknown": 3}
_HELP = {
    "mldoctor_findings": "A finding of mldoctor on a target (1 while the diagnosis holds).",
    "mldoctor_check_status": "Diagnosis of a target: 0 healthy, 1 warning, 2 failing, 3 unknown (nothing usable collected).",
    "mldoctor_collector_errors": "Collectors that could not read their source for a target.",
}


def escape_label(value: str) -> str:
    """A label value escaped as the exposition format says (backslash, double quote, line feed); no control."""
    from doctor.report.escape import for_terminal

    return for_terminal(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{escape_label(v)}"' for k, v in pairs.items()) + "}"


def where(report: Report) -> dict[str, str]:
    """The namespace and target labels: `ml` and `deployment/scorer` for `k8s:ml/deployment/scorer`."""
    name = report.target.name
    if report.target.kind == "k8s" and name.count("/") == 2:
        namespace, _, rest = name.partition("/")
        return {"namespace": namespace, "target": rest}
    return {"namespace": "", "target": f"{report.target.kind}:{name}" if report.target.kind != "bundle" else name}


def render(report: Report, color: bool = False) -> str:
    """One report's metrics."""
    return render_many([report])


def render_many(reports: Sequence[Report]) -> str:
    """The metrics of several reports, each metric family once (as the format requires)."""
    samples: dict[str, list[str]] = {name: [] for name in _HELP}
    for report in reports:
        place = where(report)
        for f in report.findings:
            labels = _labels({"rule_id": f.rule_id, "severity": f.severity.value, **place})
            samples["mldoctor_findings"].append(f"mldoctor_findings{labels} 1")
        status = _labels({**place, "status": report.status})
        samples["mldoctor_check_status"].append(f"mldoctor_check_status{status} {_STATUS[report.status]}")
        samples["mldoctor_collector_errors"].append(
            f"mldoctor_collector_errors{_labels(place)} {len(report.collector_errors)}")
    out = []
    for name, lines in samples.items():
        out += [f"# HELP {name} {_HELP[name]}", f"# TYPE {name} gauge", *dict.fromkeys(lines)]
    return "\n".join(out) + "\n"
