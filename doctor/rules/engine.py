"""Evidence in, findings out: one scan of every log for all rules (`doctor.rules.logscan`), then each rule's
condition tree evaluated against the scan's per-source aggregates, events, states, nodes, configs and traffic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator

from doctor import status
from doctor.evidence import CollectorError, Evidence, Severity, Target
from doctor.findings import Check, Excerpt, Finding, Report, RuledOut, order_findings
from doctor.redact import redact_strings, redact_text
from doctor.convert import format_time
from doctor.rules import exprs, safety, templates
from doctor.rules.loader import gates_of
from doctor.rules.logscan import LogAgg, ScanPlan, scan_all
from doctor.stack import stack_of
from doctor.rules.model import (
    AllCond,
    AnyCond,
    Condition,
    EventCond,
    ExprCond,
    LogCond,
    NotCond,
    OptionalCond,
    Rule,
    RuleSet,
    walk,
)

# --- evaluation -------------------------------------------------------------------------------


@dataclass
class Outcome:
    """Whether a condition holds, the values it binds and the evidence it points at."""

    ok: bool
    bindings: dict[str, Any] = field(default_factory=dict)
    evidence: list[Excerpt] = field(default_factory=list)


class Context:
    """Evidence prepared once for every rule: scan results and plain dicts for expressions."""

    def __init__(self, evidence: Evidence, logs: dict[int, list[LogAgg]], plan_index: dict[int, int]) -> None:
        self.evidence = evidence
        self.logs = logs
        self.plan_index = plan_index
        self.now = evidence.now
        self.states = [_state_dict(s, evidence) for s in evidence.states]
        self.nodes = [_node_dict(n) for n in evidence.nodes]
        self.configs = [{"kind": c.kind, "source": c.source, "assumed": list(c.assumed), **c.values}
                        for c in evidence.configs]
        self.config = merged_config(evidence)
        self.workloads = [w.as_dict() for w in evidence.workloads]
        self.hpas = [h.as_dict() for h in evidence.autoscalers]
        self.pvcs = [p.as_dict() for p in evidence.pvcs]
        self.unbound: dict[str, Any] = {}
        self.platform = platform_of(evidence)
        self.problems: list[exprs.EvalProblem] = []  # the current rule's expressions that did not evaluate
        self.stage: Any = None  # doctor.traffic.TrafficStage

    def traffic(self) -> dict[str, Any] | None:
        """Traffic statistics: the traffic stage's (started before the scan by the pipeline), else computed here."""
        if self.stage is None:
            from doctor.traffic import traffic_stage

            self.stage = traffic_stage(self.evidence)
        return self.stage.stats() or None


def platform_of(evidence: Evidence) -> str:
    """`k8s` or `docker` (what a bundle came from, by its contents), else the target's own kind."""
    if evidence.target.kind in ("docker", "k8s"):
        return evidence.target.kind
    if evidence.nodes or any(s.pod for s in evidence.states) or any(e.object_kind == "Pod" for e in evidence.events):
        return "k8s"
    if evidence.states or any(s.name.startswith("docker/") for s in evidence.logs):
        return "docker"
    return evidence.target.kind


def merged_config(evidence: Evidence) -> dict[str, Any]:
    """Every understood config file's values in one dict (later files win), with `dialects` and `assumed`."""
    merged: dict[str, Any] = {"dialects": [], "assumed": [], "sources": []}
    for fact in evidence.configs:
        merged.update(fact.values)
        merged["dialects"].append(fact.kind)
        merged["assumed"].extend(fact.assumed)
        merged["sources"].append(fact.source)
    return merged


def _state_dict(state: Any, evidence: Evidence) -> dict[str, Any]:
    from doctor.metrics import container_summary

    now = evidence.now
    data = state.as_dict()
    data["metrics"] = container_summary(evidence, state.pod, state.container) if evidence.metrics else {}
    for name in ("started_at", "finished_at", "last_started_at", "last_finished_at"):
        value = getattr(state, name)
        data[name + "_ago_s"] = (now - value).total_seconds() if now and value else None
    data["env"] = {k: v for k, v in state.env}
    data["probes"] = {p.kind: {**_plain_probe(p), "budget_seconds": p.budget_seconds} for p in state.probes}
    return data


def _plain_probe(probe: Any) -> dict[str, Any]:
    return {k: getattr(probe, k) for k in probe.__dataclass_fields__}


def _node_dict(node: Any) -> dict[str, Any]:
    keys = set(node.allocatable) | set(node.requested)
    return {"name": node.name, "allocatable": node.allocatable, "capacity": node.capacity,
            "requested": node.requested, "free": {k: node.free(k) for k in keys},
            "taints": list(node.taints), "labels": node.labels, "ready": node.ready,
            "unschedulable": node.unschedulable}


def evaluate(cond: Condition, ctx: Context, bound: dict[str, Any]) -> Outcome:
    """Whether the condition holds on the evidence, with what it binds."""
    if isinstance(cond, AllCond):
        out = Outcome(True)
        for part in cond.parts:
            res = evaluate(part, ctx, {**bound, **out.bindings})
            if not res.ok:
                return Outcome(False)
            out.bindings.update(res.bindings)
            out.evidence.extend(res.evidence)
        return out
    if isinstance(cond, AnyCond):
        results = [evaluate(part, ctx, bound) for part in cond.parts]
        out = Outcome(any(r.ok for r in results))
        for res in (r for r in results if r.ok):
            out.bindings.update(res.bindings)
            out.evidence.extend(res.evidence)
        return out
    if isinstance(cond, NotCond):
        return Outcome(not evaluate(cond.part, ctx, bound).ok)
    if isinstance(cond, OptionalCond):
        res = evaluate(cond.part, ctx, bound)
        return Outcome(True, res.bindings, res.evidence) if res.ok else Outcome(True)
    return _LEAVES[type(cond)](cond, ctx, bound)


def _bind(name: str | None, value: Any) -> dict[str, Any]:
    return {name: value} if name else {}


def _eval_log(cond: LogCond, ctx: Context, bound: dict[str, Any]) -> Outcome:
    aggs = ctx.logs.get(ctx.plan_index[id(cond)], [])
    good = [a for a in aggs if a.count >= cond.min_count
            and (cond.within is None or a.max_in_window is None or a.max_in_window >= cond.min_count)]
    if not good:
        return Outcome(False)
    best = max(good, key=lambda a: (a.max_in_window or a.count, a.count))
    binding = best.binding()
    binding["sources"] = len(good)
    binding["total"] = sum(a.count for a in good)
    evidence = [Excerpt(best.source.name, text, line) for line, text in best.excerpt_lines()]
    return Outcome(True, _bind(cond.bind, binding), evidence)


MAX_EVENT_TEXT = 64 * 1024  # of an event's reason or message a rule pattern reads (patterns that backtrack are refused)


def _eval_event(cond: EventCond, ctx: Context, bound: dict[str, Any]) -> Outcome:
    hits = []
    for ev in ctx.evidence.events:
        if cond.type and ev.type != cond.type:
            continue
        if cond.reason and not re.search(cond.reason, ev.reason[:MAX_EVENT_TEXT]):
            continue
        match = re.search(cond.message, ev.message[:MAX_EVENT_TEXT]) if cond.message else None
        if cond.message and match is None:
            continue
        hits.append((ev, match.groupdict() if match else {}))
    total = sum(ev.count for ev, _ in hits)
    if not hits or total < cond.min_count:
        return Outcome(False)
    latest, groups = max(hits, key=lambda h: (h[0].last_time.timestamp() if h[0].last_time else 0))
    binding = {"count": total, "events": len(hits), "reason": latest.reason, "message": latest.message,
               "latest_count": latest.count,  # `count` is every matching event's; this, the one whose words these are
               "object": f"{latest.object_kind}/{latest.object_name}", "groups": groups,
               "first_time": format_time(min((h[0].first_time for h in hits if h[0].first_time), default=None)),
               "last_time": format_time(latest.last_time)}
    evidence = [Excerpt(ev.source, f"{ev.type} {ev.reason} {ev.object_kind}/{ev.object_name}: {ev.message}"
                        + (f" (x{ev.count})" if ev.count > 1 else "")) for ev, _ in hits[:3]]
    return Outcome(True, _bind(cond.bind, binding), evidence)


def _eval_expr(cond: ExprCond, ctx: Context, bound: dict[str, Any]) -> Outcome:
    if cond.scope == "bindings":  # every name the rule can bind is declared (null until bound), so `x == null` works
        return Outcome(exprs.holds(cond.expr, {**ctx.unbound, **bound}, ctx.problems))
    if cond.scope == "traffic":
        stats = ctx.traffic()
        ok = stats is not None and exprs.holds(cond.expr, {"t": stats, **bound}, ctx.problems)
        return Outcome(ok, _bind(cond.bind, stats) if ok else {},
                       [Excerpt(s, e) for s, e in (stats or {}).get("excerpts", [])[:3]] if ok else [])
    items, var = {"state": (ctx.states, "c"), "config": (ctx.configs, "cfg"), "node": (ctx.nodes, "n"),
                  "workload": (ctx.workloads, "w"), "hpa": (ctx.hpas, "h"), "pvc": (ctx.pvcs, "p")}[cond.scope]
    if cond.kind:
        items = [i for i in items if re.search(cond.kind, str(i.get("kind", "")))]
    matched = [i for i in items if exprs.holds(cond.expr, {var: i, **bound}, ctx.problems)]
    if not matched:
        return Outcome(False)
    binding = {**matched[0], "count": len(matched), "all": matched}
    evidence = [_describe(cond.scope, m) for m in matched[:3]]
    if cond.scope == "state" and "metrics." in cond.expr:  # a condition that read Prometheus shows what it read
        evidence += [e for m in matched[:3] for e in _metric_excerpts(m)]
    return Outcome(True, _bind(cond.bind, binding), evidence)


def _metric_excerpts(state: dict[str, Any]) -> list[Excerpt]:
    """The PromQL behind a container's memory figures, with what it gave."""
    metrics = state.get("metrics") or {}
    if not metrics.get("memory_peak_bytes"):
        return []
    from doctor.calc import gb

    limit = metrics.get("memory_limit_metric_bytes")
    said = f"working set peak {gb(metrics['memory_peak_bytes'])} at {metrics['memory_peak_at']}"
    return [Excerpt("prometheus", f"{metrics['memory_query']}\n{said}" + (f" (limit {gb(limit)})" if limit else ""))]


def _describe(scope: str, item: dict[str, Any]) -> Excerpt:
    if scope == "state":
        name = item["container"] if item.get("pod") in (None, "", item["container"]) else f"{item['pod']}/{item['container']}"
        parts = [f"status={item['status']}"]
        for key in ("reason", "exit_code", "restart_count", "last_reason", "last_exit_code"):
            if item.get(key) not in (None, 0, "", False):
                parts.append(f"{key}={item[key]}")
        if item.get("memory_limit_bytes"):
            from doctor.calc import gb

            parts.append(f"memory limit {gb(item['memory_limit_bytes'])}")
        if item.get("oom_killed"):
            parts.append("OOMKilled=true")
        for key in ("message", "last_message"):  # the termination message: the container's own last words
            if item.get(key):
                parts.append(f"{key}={' '.join(str(item[key]).split())[:300]!r}")
        kind = "init container" if item.get("init") else "container"
        return Excerpt(item["source"], f"{kind} {name}: " + ", ".join(parts))
    if scope == "node":
        return Excerpt("nodes", f"node {item['name']}: allocatable {item['allocatable']}, free {item['free']}")
    if scope in _OBJECT_SCOPES:
        return Excerpt(item["source"], _OBJECT_SCOPES[scope](item))
    shown = {k: v for k, v in item.items() if k not in ("source", "assumed", "kind") and not isinstance(v, (dict, list))}
    return Excerpt(item.get("source", "config"), f"{item.get('kind')}: " + ", ".join(f"{k}={_short(v)}" for k, v in list(shown.items())[:8]))


def _short(value: Any) -> str:
    """A value on one line, at most 300 characters (a deploy output's text is kilobytes)."""
    text = " ".join(str(value).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _object_conditions(item: dict[str, Any]) -> str:
    conds = [f"{t}={c['status']}" + (f" ({c['reason']}: {c['message']})" if c.get("reason") or c.get("message") else "")
             for t, c in item.get("conditions", {}).items() if c.get("status") != "True" or c.get("reason")]
    return "; " + "; ".join(conds) if conds else ""


_OBJECT_SCOPES: dict[str, Any] = {
    "workload": lambda w: (f"{w['kind']} {w['name']}: desired {w['desired']}, ready {w['ready']}, "
                           f"available {w['available']}, updated {w['updated']}"
                           + (f", failed {w['failed']}" if w.get("failed") else "") + _object_conditions(w)),
    "hpa": lambda h: (f"HorizontalPodAutoscaler {h['name']}: min {h['min_replicas']}, max {h['max_replicas']}"
                      + "".join(f", {k} {h[k + '_replicas']}" for k in ("current", "desired") if h[k + "_replicas"] is not None)
                      + (f", metrics {', '.join(h['current'])} (target {', '.join(h['metrics'])})" if h["current"] else "")
                      + _object_conditions(h)),
    "pvc": lambda p: f"PersistentVolumeClaim {p['name']}: {p['phase']}, storageClassName {p['storage_class']}",
}


_LEAVES: dict[type, Any] = {LogCond: _eval_log, EventCond: _eval_event, ExprCond: _eval_expr}


# --- diagnosis --------------------------------------------------------------------------------


_SCOPE_EVIDENCE = {"state": "states", "config": "configs", "node": "nodes", "traffic": "traffic",
                   "workload": "workloads", "hpa": "autoscalers", "pvc": "pvcs"}


def _needed(rule: Rule) -> set[str]:
    if rule.needs:
        return set(rule.needs)
    return _kinds(_positive(rule.when))


def _reads(cond: Condition) -> set[str]:
    """Every kind of evidence a condition looks at, negated parts included."""
    return _kinds(walk(cond))


def _kinds(conds: Iterable[Condition]) -> set[str]:
    """The kinds of evidence (`logs`, `events`, `states`, …) the leaf conditions read."""
    kinds: set[str] = set()
    for cond in conds:
        if isinstance(cond, LogCond):
            kinds.add("traffic" if cond.source == "access" else "logs")
        elif isinstance(cond, EventCond):
            kinds.add("events")
        elif isinstance(cond, ExprCond) and cond.scope in _SCOPE_EVIDENCE:
            kinds.add(_SCOPE_EVIDENCE[cond.scope])
    return kinds


def _negated(rule: Rule) -> list[Condition]:
    """The conditions under a `not:` (of the rule's `when` and its ruled-out checks): `evaluate` reads only whether
    they hold, not their bindings or evidence."""
    return [inner for cond in rule.conditions() if isinstance(cond, NotCond) for inner in walk(cond.part)]


def _gates(rule: Rule) -> dict[int, list[int]]:
    """Per log condition marked `later`, the log conditions beside its `not:` in an `all:` (ids): the scan leaves it
    out and searches it afterwards only when each of those found a line (`ScanPlan`'s `gated`). Chosen by the rule's
    author, not guessed: beside conditions that hold on many logs (any traceback, a `Listening at:` line) a `not:`
    that finds nothing would be a second pass over the whole log (1 GB of the mixed shape, the safety net's "unless
    it started": 2.03 -> 2.27 s; bench/README.md)."""
    later = {id(cond) for cond in rule.conditions() if isinstance(cond, LogCond) and cond.later}
    return {cond: gates for cond, gates in gates_of(rule).items() if cond in later}


def _positive(cond: Condition) -> list[Condition]:
    if isinstance(cond, NotCond):
        return []
    if isinstance(cond, (AllCond, AnyCond)):
        return [c for part in cond.parts for c in _positive(part)]
    if isinstance(cond, OptionalCond):
        return _positive(cond.part)
    return [cond]


def _available(evidence: Evidence) -> set[str]:
    have = set()
    if any(s.kind == "container" for s in evidence.logs):
        have.add("logs")
    if any(s.kind == "access" for s in evidence.logs) or any(s.kind == "container" for s in evidence.logs):
        have.add("traffic")
    for name in ("events", "states", "nodes", "configs", "workloads", "autoscalers", "pvcs"):
        if getattr(evidence, name):
            have.add(name)
    return have


def diagnose(evidence: Evidence, rules: RuleSet, ignore: Iterable[str] = (), engine: str = "auto",
             redact: bool = True, traffic: Any = None) -> Report:
    """Run every rule on the evidence: the report with findings ordered and every check's result. `traffic` is
    the evidence's traffic stage (`doctor.traffic.traffic_stage`), started before the log scan; made here if None."""
    ignored = set(ignore)
    active = [r for r in rules if r.id not in ignored]
    conds = [c for r in active for c in r.conditions() if isinstance(c, LogCond)]
    negated = {id(c) for r in active for c in _negated(r)}
    position = {id(c): i for i, c in enumerate(conds)}
    gated = {position[c]: [position[g] for g in gates] for r in active for c, gates in _gates(r).items()}
    plan = ScanPlan(conds, [i for i, c in enumerate(conds) if id(c) in negated], gated)
    if traffic is None:
        from doctor.traffic import traffic_stage

        traffic = traffic_stage(evidence)  # before the scan: it counts a streaming log alongside it
    ctx = Context(evidence, scan_all(plan, evidence, engine), position)
    ctx.stage = traffic
    have = _available(evidence)
    checks: dict[str, Check] = dict.fromkeys(rule.id for rule in active)  # type: ignore[arg-type]  # rule order
    found: dict[str, list[exprs.EvalProblem]] = {}  # per rule, its expressions that did not evaluate
    matched: dict[str, Outcome] = {}
    # which rules hold; their findings are built once suppression has been decided. Those reading the traffic
    # statistics last: while its children still count, the texts of the rules that hold so far are compiled (the
    # check's last step, on one core, was a third jinja2's compiling them)
    waits = [_waits_for_traffic(rule) for rule in active]
    later = [rule for rule, wait in zip(active, waits) if wait]
    for rule in [rule for rule, wait in zip(active, waits) if not wait] + later:
        if later and rule is later[0] and getattr(traffic, "forked", False):
            templates.prepare(_texts(r for r in active if r.id in matched))
            if hasattr(traffic, "meanwhile"):  # and the texts of those that hold on half the log's count
                traffic.meanwhile(lambda preview: _likely_texts(later, ctx, have, preview))
        ctx.problems = found[rule.id] = []
        outcome, checks[rule.id] = _decide(rule, ctx, have)
        if outcome is not None:
            matched[rule.id] = outcome
    held = {rule.id: Held(rule.id, rule.severity, rule.priority) for rule in active if rule.id in matched}
    suppressed_by = _suppress(active, held, checks)
    suppressed_by.update(safety.drop_fallbacks(active, held, checks))
    findings: dict[str, Finding] = {}
    for rule in active:  # the findings that stay: texts, values, ruled-out look-alikes (a suppressed one's cost as
        # much to render: the safety net's, suppressed on most failing services, most of all)
        if rule.id in held:
            ctx.problems, ctx.unbound = found[rule.id], _unbound(rule)
            findings[rule.id] = build_finding(rule, matched[rule.id], ctx, redact)
            checks[rule.id] = Check(rule.id, "matched", findings[rule.id].title)
    for rule in active:
        checks[rule.id] = _with_failures(checks[rule.id], found[rule.id])
    problems = [(rule.id, p) for rule in active for p in found[rule.id]]
    _link_consequences(active, findings, suppressed_by)
    for rule_id in sorted(ignored & set(rules.rules)):
        checks[rule_id] = Check(rule_id, "skipped", "ignored (--ignore)")
    errors, notes = list(evidence.collector_errors), list(evidence.notes) + expression_notes(problems)
    if redact:  # what collectors said can quote a URL with a SAS token or a password
        errors = [CollectorError(e.collector, redact_text(e.error)) for e in errors]
        notes = [redact_text(n) for n in notes]
    target = Target(evidence.target.kind, redact_text(evidence.target.name)) if redact else evidence.target
    report = Report(target, order_findings(list(findings.values())), list(checks.values()),
                    errors, evidence.summary(), notes, evidence.predicted)
    report.redacted = redact
    report.usable = status.usable(evidence)
    if not report.usable:
        report.notes.append(status.nothing_usable_note(evidence))
    elif not findings and (starting := status.serve_not_serving(evidence) or status.not_shown_working(evidence) or
                               status.pasted_not_shown_working(evidence)) is not None:
        report.usable = False  # with no finding: `unknown`, not `healthy`
        report.notes.append(starting)
    report.stack = stack_of(evidence)
    report.expression_errors = problems
    return report


def expression_notes(problems: list[tuple[str, exprs.EvalProblem]]) -> list[str]:
    """One note per rule expression that failed with a real error (a missing field is normal, not noted)."""
    return [f"rule {rule_id}: the expression `{p.expr}` could not be evaluated ({p.message}); it counted as false"
            for rule_id, p in problems if not p.missing]


@dataclass(frozen=True)
class Held:
    """A rule whose `when` holds, before its finding is built: what suppression reads of a finding."""

    rule_id: str
    severity: Severity
    priority: int


def _decide(rule: Rule, ctx: Context, have: set[str]) -> tuple[Outcome | None, Check]:
    """Whether the rule holds (its outcome) and its check: skipped (no evidence it reads), clear, or matched (the
    check's reason, the finding's title, is set when the finding is built)."""
    needs = _needed(rule)
    if needs and not needs & have:
        return None, Check(rule.id, "skipped", f"no {', '.join(sorted(needs))} collected")
    ctx.unbound = _unbound(rule)
    outcome = evaluate(rule.when, ctx, {})
    if not outcome.ok:
        return None, Check(rule.id, "clear", f"checked {_looked_at(needs, ctx.evidence)}")
    return outcome, Check(rule.id, "matched", "")


def _unbound(rule: Rule) -> dict[str, Any]:
    return {c.bind: None for c in rule.conditions() if getattr(c, "bind", None)}


def _with_failures(check: Check, problems: list[exprs.EvalProblem]) -> Check:
    """The check, its reason naming the first of the rule's expressions that failed with a real error."""
    failed = [p for p in problems if not p.missing]
    if not failed:
        return check
    return Check(check.rule_id, check.result, f"{check.reason}; expression `{failed[0].expr}` failed: {failed[0].message}")


def _looked_at(needs: set[str], evidence: Evidence) -> str:
    summary = evidence.summary()
    parts = [f"{summary.get(n, 0)} {n}" for n in sorted(needs) if n in summary]
    return ", ".join(parts) or "the evidence"


def build_finding(rule: Rule, outcome: Outcome, ctx: Context, redact: bool = True) -> Finding:
    """The finding's texts rendered over the bindings and computed values."""
    context: dict[str, Any] = {"config": ctx.config, "nodes": ctx.nodes, "states": ctx.states,
                               "workloads": ctx.workloads, "hpas": ctx.hpas, "pvcs": ctx.pvcs,
                               # `target.kind` is the report's (docker, k8s, bundle, ...); `platform` is where the service
                               # runs (docker or k8s, a bundle's by its contents)
                               "target": {"kind": ctx.evidence.target.kind, "name": ctx.evidence.target.name},
                               "platform": ctx.platform,
                               "predicted": ctx.evidence.predicted, "stack": stack_of(ctx.evidence),
                               **outcome.bindings}
    if safety.wants_tails(rule):
        context["log_tail"] = safety.log_tails(ctx.evidence)
    values: dict[str, Any] = {}
    for name, expr in rule.values:
        values[name] = templates.evaluate(expr, context)
        context[name] = values[name]
    mask = redact_text if redact else (lambda text: text)
    render = lambda text: mask(templates.render(text, context))  # noqa: E731
    seen: set[tuple[str, str]] = set()
    evidence = []
    for ex in outcome.evidence:
        if (ex.source, ex.excerpt) not in seen:
            seen.add((ex.source, ex.excerpt))
            evidence.append(Excerpt(ex.source, mask(ex.excerpt), ex.line))
    evidence = evidence[:8]  # the most telling first (condition order), then shown in file order
    first_seen = {src: i for i, src in reversed(list(enumerate(e.source for e in evidence)))}
    evidence.sort(key=lambda e: (first_seen[e.source], e.line or 0))  # each source's lines in file order
    ruled_out = tuple(RuledOut(rule_id, mask(why)) for rule_id, why in _ruled_out(rule, ctx, context, outcome))
    return Finding(rule.id, rule.severity, render(rule.title), render(rule.cause), render(rule.fix),
                   tuple(evidence), {k: (redact_strings(v) if redact else v) for k, v in values.items()
                                     if v is not None and not k.startswith("_")},  # `_name`: the rule's own helper
                   rule.references, rule.priority, ctx.evidence.predicted, ruled_out=ruled_out)


def _waits_for_traffic(rule: Rule) -> bool:
    """Whether deciding the rule may read the traffic statistics (`t`: an expression of scope traffic)."""
    return any(isinstance(cond, ExprCond) and cond.scope == "traffic" for cond in walk(rule.when))


class _Preview:
    """A traffic stage whose statistics are a half's (`TrafficStage.meanwhile`)."""

    forked = False

    def __init__(self, stats: dict[str, Any] | None) -> None:
        self._stats = stats

    def stats(self) -> dict[str, Any] | None:
        return self._stats


def _likely_texts(rules: list[Rule], ctx: Context, have: set[str], preview: dict[str, Any] | None) -> Iterator[Any]:
    """Steps compiling the texts of each of these rules that holds on the `preview` statistics (most that do hold
    on the whole log's), each rule decided when the steps before it are done; the context is left as it was."""
    for rule in rules:
        kept = ctx.stage, ctx.problems, ctx.unbound
        ctx.stage, ctx.problems = _Preview(preview), []
        try:
            outcome, _ = _decide(rule, ctx, have)
        finally:
            ctx.stage, ctx.problems, ctx.unbound = kept
        if outcome is not None:
            yield from templates.preparing(_texts([rule]))


def _texts(rules: Iterable[Rule]) -> tuple[list[str], list[str]]:
    """The templates (titles, causes, fixes, look-alikes' reasons) and value expressions of these rules' findings."""
    texts: list[str] = []
    values: list[str] = []
    for rule in rules:
        texts += [rule.title, rule.cause, rule.fix] + [spec.why for spec in rule.ruled_out]
        values += [expr for _, expr in rule.values]
    return texts, values


def _ruled_out(rule: Rule, ctx: Context, context: dict[str, Any], outcome: Outcome) -> list[tuple[str, str]]:
    """Each look-alike the rule considers whose `when` holds on the evidence, with its reason rendered."""
    out: list[tuple[str, str]] = []
    bound = {**outcome.bindings, **{k: v for k, v in context.items() if k not in ("config", "nodes", "states", "target")}}
    have = _available(ctx.evidence)
    for spec in rule.ruled_out:
        extra: dict[str, Any] = {}
        if any(r == spec.rule_id for r, _ in out):
            continue
        if spec.when is not None:
            if not _reads(spec.when) <= have:  # absent evidence excludes nothing: "no OOMKilled" needs the states
                continue
            res = evaluate(spec.when, ctx, bound)
            if not res.ok:
                continue
            extra = res.bindings
        why = templates.render(spec.why, {**context, **extra})
        if why:
            out.append((spec.rule_id, why))
    return out


def _suppress(rules: list[Rule], findings: dict[str, Any], checks: dict[str, Check]) -> dict[str, str]:
    """Remove the findings (or what stands for them, `Held`) that matching rules suppress; which rule suppressed
    each."""
    matched = set(findings)
    by: dict[str, str] = {}
    for rule in rules:
        if rule.id not in matched:
            continue
        for other in rule.suppresses:
            if other in findings and other != rule.id:
                del findings[other]
                by[other] = rule.id
                checks[other] = Check(other, "skipped", f"suppressed: {rule.id} explains the same evidence more specifically")
    return by


def _link_consequences(rules: list[Rule], findings: dict[str, Finding], suppressed_by: dict[str, str]) -> None:
    """Name each finding's root cause (`consequence_of`), and drop look-alikes 'ruled out' that are findings."""
    for rule in rules:
        finding = findings.get(rule.id)
        if finding is None:
            continue
        root = next((r for r in (_surviving(i, findings, suppressed_by) for i in rule.consequence_of)
                     if r and r != rule.id), None)
        ruled_out = tuple(r for r in finding.ruled_out if r.rule_id not in findings)
        if root or ruled_out != finding.ruled_out:
            findings[rule.id] = replace(finding, consequence_of=root, ruled_out=ruled_out)


def _surviving(rule_id: str, findings: dict[str, Finding], suppressed_by: dict[str, str]) -> str | None:
    """The finding that stands for a rule: the rule's own, or the one that suppressed it (which explains more)."""
    seen = set()
    while rule_id not in findings and rule_id in suppressed_by and rule_id not in seen:
        seen.add(rule_id)
        rule_id = suppressed_by[rule_id]
    return rule_id if rule_id in findings else None
