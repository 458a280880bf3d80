"""A rule's inline examples turned into evidence and run, for the test suite and `mldoctor rules test`."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from doctor import convert
from doctor.evidence import (
    Autoscaler, ConfigFact, ContainerState, Event, Evidence, LogSource, Node, Probe, StatusCondition, Target,
    VolumeClaim, Workload,
)
from doctor.rules.model import Example, Rule, RuleSet


@dataclass(frozen=True)
class ExampleResult:
    """One example's outcome: did the rule behave as the example says, and if not, why."""

    rule_id: str
    example: str
    where: str
    passed: bool
    detail: str


def example_evidence(example: Example) -> Evidence:
    """The evidence an example describes (logs as text, events/states/nodes/configs as mappings)."""
    data = example.data
    ev = Evidence(Target("example", example.name), now=convert.parse_time(data.get("now")))
    for key, previous in (("logs", False), ("previous_logs", True)):
        if data.get(key):
            ev.logs.append(LogSource.from_bytes(f"example/{key}", "app", data[key].encode(), previous=previous))
    if data.get("access_log"):
        ev.logs.append(LogSource.from_bytes("example/access.log", "app", data["access_log"].encode(), kind="access"))
    ev.events.extend(_event(e) for e in data.get("events") or [])
    for item in data.get("states") or []:
        ev.states.extend(_states(item))
    ev.nodes.extend(_node(n) for n in data.get("nodes") or [])
    ev.configs.extend(_config(c) for c in data.get("configs") or [])
    ev.workloads.extend(_k8s_object(w, Workload, convert.k8s_workload) for w in data.get("workloads") or [])
    ev.autoscalers.extend(_k8s_object(h, Autoscaler, convert.k8s_hpa) for h in data.get("hpas") or [])
    ev.pvcs.extend(_k8s_object(p, VolumeClaim, convert.k8s_pvc) for p in data.get("pvcs") or [])
    return ev


def _k8s_object(item: dict[str, Any], cls: Any, from_raw: Any) -> Any:
    """A raw object (with `metadata`, as `kubectl get -o json` prints it) or the record's own fields."""
    if "metadata" in item:
        return from_raw(item, "example")
    names = {f.name for f in fields(cls)}
    kwargs = {k: (tuple(v) if isinstance(v, list) else v) for k, v in item.items() if k in names}
    kwargs["conditions"] = tuple(StatusCondition(**c) for c in item.get("conditions") or [])
    if cls is VolumeClaim:
        kwargs.pop("conditions")
    return cls(**{"source": "example", "name": "app", **kwargs})


def _event(item: dict[str, Any]) -> Event:
    if "involvedObject" in item or "Action" in item:
        return convert.k8s_event(item, "example") if "involvedObject" in item else convert.docker_event(item, "example")
    return Event(source="example", object_kind=item.get("object_kind", "Pod"), object_name=item.get("object_name", "app"),
                 reason=item.get("reason", ""), message=item.get("message", ""), type=item.get("type", "Warning"),
                 count=int(item.get("count", 1)), first_time=convert.parse_time(item.get("first_time")),
                 last_time=convert.parse_time(item.get("last_time")))


def _states(item: dict[str, Any]) -> list[ContainerState]:
    if "docker_inspect" in item:
        return [convert.docker_state(item["docker_inspect"], "example")]
    if isinstance(item.get("pod"), dict):
        return convert.k8s_pod_states(item["pod"], "example")
    names = {f.name for f in fields(ContainerState)}
    kwargs = {k: v for k, v in item.items() if k in names and k not in ("probes",)}
    for key in ("started_at", "finished_at", "last_started_at", "last_finished_at"):
        if key in kwargs:
            kwargs[key] = convert.parse_time(kwargs[key])
    probes = tuple(Probe(**{k: tuple(v) if k == "command" else v for k, v in p.items()}) for p in item.get("probes") or [])
    if "ports" in kwargs:
        kwargs["ports"] = tuple(kwargs["ports"])
    if isinstance(kwargs.get("env"), dict):  # `env: {NAME: value}` reads better in a rule file than pairs
        kwargs["env"] = tuple(kwargs["env"].items())
    elif "env" in kwargs:
        kwargs["env"] = tuple(tuple(pair) for pair in kwargs["env"])
    return [ContainerState(source="example", container=item.get("container", "app"), probes=probes,
                           **{k: v for k, v in kwargs.items() if k != "container"})]


def _node(item: dict[str, Any]) -> Node:
    if "metadata" in item:
        return convert.k8s_node(item, [], "example")
    return Node(source="example", name=item.get("name", "node"), allocatable=item.get("allocatable", {}),
                capacity=item.get("capacity", {}), requested=item.get("requested", {}),
                taints=tuple(item.get("taints", ())), labels=item.get("labels", {}))


def _config(item: dict[str, Any]) -> ConfigFact:
    if "text" in item:  # read as a file of that name would be, without writing one (a name may hold folders,
        from doctor.config import MAX_CONFIG_BYTES, config_facts  # or `..`: a rule pack's example wrote outside
        # the temporary folder it was given)

        data = str(item["text"]).encode("utf-8")
        if len(data) > MAX_CONFIG_BYTES:
            raise ValueError(f"example config {item.get('name', 'config')!r} is larger than {MAX_CONFIG_BYTES} bytes")
        facts = config_facts(data, str(item.get("name", "config")))
        if not facts:
            raise ValueError(f"example config {item.get('name', 'config')!r} is not recognised")
        return facts[0]
    return ConfigFact(item.get("source", "example"), item["kind"], dict(item.get("values") or {}),
                      tuple(item.get("assumed") or ()))


def run_example(rule: Rule, example: Example, context_rules: RuleSet | None = None,
                strict: bool = False) -> ExampleResult:
    """Run one example against its rule alone and compare with what the example expects. An expression that
    fails with an error fails the example; with `strict`, so does one that reads a field the evidence lacks."""
    from doctor.rules.engine import diagnose

    ruleset = RuleSet({rule.id: rule})
    try:
        evidence = example_evidence(example)
    except (ValueError, TypeError, KeyError) as err:
        return ExampleResult(rule.id, example.name, example.where, False, f"example does not build: {err}")
    report = diagnose(evidence, ruleset)
    errors = [p for _, p in report.expression_errors if strict or not p.missing]
    if errors:
        detail = "; ".join(f"expression `{p.expr}` failed: {p.message}" for p in errors)
        return ExampleResult(rule.id, example.name, example.where, False, detail)
    found = next((f for f in report.findings if f.rule_id == rule.id), None)
    if example.should_match and found is None:
        reason = next((c.reason for c in report.checks if c.rule_id == rule.id), "")
        return ExampleResult(rule.id, example.name, example.where, False, f"expected a match, got none ({reason})")
    if not example.should_match and found is not None:
        return ExampleResult(rule.id, example.name, example.where, False, f"expected no match, but it matched: {found.title}")
    problems = _expectations(example.data.get("expect") or {}, found)
    return ExampleResult(rule.id, example.name, example.where, not problems, "; ".join(problems) or "ok")


EXPECT_KEYS = frozenset({"values", "fix_contains", "cause_contains", "title_contains", "fix_excludes", "cause_excludes",
                         "title_excludes", "ruled_out", "not_ruled_out"})


def _expectations(expect: dict[str, Any], finding: Any) -> list[str]:
    problems = [f"unknown expectation {key!r} (known: {', '.join(sorted(EXPECT_KEYS))})"
                for key in expect if key not in EXPECT_KEYS]  # a misspelt key would check nothing
    for field in ("fix", "cause", "title"):
        for needle in expect.get(f"{field}_excludes") or []:
            text = getattr(finding, field) if finding else ""
            if needle in text:
                problems.append(f"{field} contains {needle!r}, which it should not: {text}")
    for key, want in (expect.get("values") or {}).items():
        got = finding.values.get(key) if finding else None
        if got != want:
            problems.append(f"value {key}: expected {want!r}, got {got!r}")
    for needle in expect.get("fix_contains") or []:
        if finding is None or needle not in finding.fix:
            problems.append(f"fix does not contain {needle!r}: {finding.fix if finding else ''}")
    for needle in expect.get("cause_contains") or []:
        if finding is None or needle not in finding.cause:
            problems.append(f"cause does not contain {needle!r}: {finding.cause if finding else ''}")
    for needle in expect.get("title_contains") or []:
        if finding is None or needle not in finding.title:
            problems.append(f"title does not contain {needle!r}: {finding.title if finding else ''}")
    ruled_out = {r.rule_id: r.why for r in finding.ruled_out} if finding else {}
    for rule_id in expect.get("ruled_out") or []:
        if rule_id not in ruled_out:
            problems.append(f"{rule_id} is not ruled out (ruled out: {sorted(ruled_out) or 'nothing'})")
    for rule_id in expect.get("not_ruled_out") or []:
        if rule_id in ruled_out:
            problems.append(f"{rule_id} is ruled out but should not be: {ruled_out[rule_id]}")
    return problems


def run_examples(rules: RuleSet, strict: bool = False) -> list[ExampleResult]:
    """Every example of every rule (`strict`: any expression that does not evaluate fails its example)."""
    return [run_example(rule, ex, strict=strict) for rule in rules for ex in rule.examples]
