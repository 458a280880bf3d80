"""The changes of a diagnosis written into the user's files (unified diffs) and, for a Kubernetes workload, as
`kubectl patch` commands and a kustomize patch. Nothing is applied: the user reviews and applies."""

from __future__ import annotations

import difflib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from doctor.config import V1_KEYS, V2_KEYS
from doctor.evidence import ConfigFact, Evidence
from doctor.findings import Report
from doctor.fix.edit import EditError, Path, append_item, region, set_value
from doctor.fix.remedies import Change, NotMechanical, remedy


@dataclass(frozen=True, slots=True)
class FilePatch:
    """A user's file and what the changes make of it."""

    path: str
    old: str
    new: str
    changes: tuple[Change, ...]

    def diff(self) -> str:
        """A unified diff `patch -p1` applies from the folder the path is relative to."""
        rel = self.path if not os.path.isabs(self.path) else self.path.lstrip("/")
        head = "".join(f"# mldoctor fix: {c.why}\n" for c in self.changes)
        body = difflib.unified_diff(self.old.splitlines(keepends=True), self.new.splitlines(keepends=True),
                                    fromfile=f"a/{rel}", tofile=f"b/{rel}")
        return head + "".join(body)


@dataclass
class FixPlan:
    """Everything `mldoctor fix` proposes: file patches, kubectl commands, and what is not mechanical."""

    patches: list[FilePatch] = field(default_factory=list)
    kubectl: list[tuple[Change, str]] = field(default_factory=list)
    kustomize: list[str] = field(default_factory=list)
    not_mechanical: list[NotMechanical] = field(default_factory=list)
    unplaced: list[tuple[Change, str]] = field(default_factory=list)  # a change no given file could take, and why
    carried: list[Change] = field(default_factory=list)  # the changes a kubectl command above writes

    def carried_by_kubectl(self, change: Change) -> bool:
        """Whether one of the plan's kubectl commands writes this change."""
        return any(c is change for c in self.carried)


def gi(gb: float) -> str:
    """GB (GiB) as a Kubernetes quantity: whole Gi where it can, else Mi."""
    return f"{int(gb)}Gi" if float(gb).is_integer() else f"{math.ceil(gb * 1024)}Mi"


def dialect_path(fact: ConfigFact, change: Change) -> tuple[str, Any] | str:
    """Where a change goes in this file and the value as written there; a string says why it cannot go here."""
    kind, values, key = fact.kind, fact.values, change.key
    if kind == "azureml-v1":
        if key == "memory_gb" and values.get("memory_gb_limit") and "memory_gb_limit" not in fact.assumed:
            key = "memory_gb_limit"  # the limit is what bites (memoryInGBLimit), not the request
        if key not in V1_KEYS:
            return f"a v1 deployment config has no {change.key}"
        json_path, param, _ = V1_KEYS[key]
        return (param if values.get("dialect") == "v1-sdk" else json_path), change.value
    if kind.startswith("azureml-v2"):
        if key == "memory_gb":
            if kind.endswith("kubernetes"):
                return "resources.limits.memory", gi(change.value)
            return f"a managed online deployment sizes memory by instance_type: choose a SKU with at least {change.value} GB"
        if key == "worker_timeout":
            return "environment_variables.WORKER_TIMEOUT", str(change.value)
        if key == "readiness_initial_delay":
            return "readiness_probe.initial_delay", change.value
        if key not in V2_KEYS:
            return f"a v2 deployment YAML has no {change.key}"
        return V2_KEYS[key][0], change.value
    if kind == "k8s-deployment":
        container = "spec.template.spec.containers.0."
        where = {"memory_gb": (container + "resources.limits.memory", gi(float(change.value))),
                 "liveness_initial_delay": (container + "livenessProbe.initialDelaySeconds", change.value),
                 "readiness_initial_delay": (container + "readinessProbe.initialDelaySeconds", change.value),
                 "autoscale_min_replicas": ("spec.replicas", change.value)}
        return where.get(key) or f"a Deployment manifest has no place for {change.key} (an env entry: use kubectl patch)"
    if kind == "hpa":
        where = {"autoscale_min_replicas": "spec.minReplicas", "autoscale_max_replicas": "spec.maxReplicas"}
        return (where[key], change.value) if key in where else f"an HPA has no {change.key}"
    if kind == "environment" and key == "pip_package":
        return ("dependencies.pip" if values.get("format") == "conda" else "<requirements>"), change.value
    return f"{kind} files take no {change.key}"


def _apply(text: str, fact: ConfigFact, change: Change) -> str | None:
    placed = dialect_path(fact, change)
    if isinstance(placed, str):
        return None
    where, value = placed
    if where == "<requirements>":
        return text + ("" if text.endswith("\n") or not text else "\n") + f"{value}\n"
    if where == "dependencies.pip":
        return _add_conda_pip(text, str(value))
    return set_value(text, Path.parse(where), value)


def _add_conda_pip(text: str, package: str) -> str:
    from doctor import yamlsafe

    root = yamlsafe.compose(text)
    deps = next((v for k, v in root.value if k.value == "dependencies"), None)
    for index, item in enumerate(getattr(deps, "value", []) or []):
        if getattr(item, "value", None) and isinstance(item.value, list) and item.value and \
                getattr(item.value[0][0], "value", None) == "pip":
            return append_item(text, Path(("dependencies", index, "pip")), package)
    return append_item(text, Path(("dependencies",)), f"pip:\n{' ' * 4}- {package}") if deps else text


def build(reports: list[Report], files: list[tuple[str, ConfigFact]], evidences: list[Evidence]) -> FixPlan:
    """The plan for every finding of the reports, written into the given files (path, what it was read as)."""
    plan = FixPlan()
    texts = {path: FsPath(path).read_text(encoding="utf-8") for path, _ in files}
    olds = dict(texts)
    applied: dict[str, list[Change]] = {}
    for report in reports:
        for finding in report.findings:
            if getattr(finding, "consequence_of", None):
                continue  # fixed by fixing its root cause
            result = remedy(finding)
            if isinstance(result, NotMechanical):
                plan.not_mechanical.append(result)
                continue
            for change in result:
                _place(change, files, texts, applied, plan)
    for path, changes in applied.items():
        plan.patches.append(FilePatch(path, olds[path], texts[path], tuple(changes)))
    for evidence in evidences:
        _kubectl(evidence, [c for p in plan.patches for c in p.changes] + [c for c, _ in plan.unplaced], plan)
    return plan


def _place(change: Change, files: list[tuple[str, ConfigFact]], texts: dict[str, str],
           applied: dict[str, list[Change]], plan: FixPlan) -> None:
    reasons = []
    for path, fact in files:
        try:
            new = _apply(texts[path], fact, change)
        except EditError as err:
            reasons.append(f"{path}: {err}")
            continue
        if new is None:
            reason = dialect_path(fact, change)
            reasons.append(f"{path}: {reason}")
            continue
        if new != texts[path]:
            texts[path] = new
            applied.setdefault(path, []).append(change)
        return
    plan.unplaced.append((change, "; ".join(reasons) or "no deployment file given (--config FILE)"))


def _kubectl(evidence: Evidence, changes: list[Change], plan: FixPlan) -> None:
    """`kubectl patch` for the workload behind a Kubernetes evidence (strategic merge, by container name)."""
    deployments = [c for c in evidence.configs if c.kind == "k8s-deployment" and c.values.get("name")]
    containers = [s.container for s in evidence.states if s.pod and not getattr(s, "init", False)]
    if not deployments or not containers:
        return
    from doctor.collect.prometheus import namespace_of

    name, container, namespace = deployments[0].values["name"], containers[0], namespace_of(evidence)
    spec: dict[str, Any] = {"name": container}
    carried = [c for c in changes if c.key in ("memory_gb", "liveness_initial_delay", "readiness_initial_delay",
                                               "worker_timeout")]
    for change in carried:
        if change.key == "memory_gb":
            spec.setdefault("resources", {}).setdefault("limits", {})["memory"] = gi(float(change.value))
        elif change.key in ("liveness_initial_delay", "readiness_initial_delay"):
            probe = "livenessProbe" if change.key.startswith("liveness") else "readinessProbe"
            spec.setdefault(probe, {})["initialDelaySeconds"] = int(change.value)
        elif change.key == "worker_timeout":
            spec.setdefault("env", []).append({"name": "WORKER_TIMEOUT", "value": str(change.value)})
    if not carried:
        return
    body = {"spec": {"template": {"spec": {"containers": [spec]}}}}
    ns = f" -n {namespace}" if namespace else ""
    command = f"kubectl patch deployment {name}{ns} --type=strategic -p '{json.dumps(body, separators=(',', ':'))}'"
    plan.kubectl.append((carried[0], command))  # labelled by a change the command does carry
    plan.carried.extend(carried)
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    import yaml

    plan.kustomize.append(yaml.safe_dump({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, **body},
                                         sort_keys=False))


def sarif_fixes(plan: FixPlan) -> dict[str, list[dict[str, Any]]]:
    """Per rule id, SARIF `fix` objects: the same replacements the diffs make, as regions of the user's files."""
    out: dict[str, list[dict[str, Any]]] = {}
    for patch in plan.patches:
        for rule_id in dict.fromkeys(c.rule_id for c in patch.changes):
            out.setdefault(rule_id, []).append(file_fix(patch))
    return out


def file_fix(patch: FilePatch) -> dict[str, Any]:
    """A SARIF fix: the file's change as one replacement of the span it touches."""
    l1, c1, l2, c2, text = region(patch.old, patch.new)
    return {"description": {"text": "; ".join(c.why for c in patch.changes)},
            "artifactChanges": [{"artifactLocation": {"uri": patch.path},
                                 "replacements": [{"deletedRegion": {"startLine": l1, "startColumn": c1,
                                                                     "endLine": l2, "endColumn": c2},
                                                   "insertedContent": {"text": text}}]}]}
