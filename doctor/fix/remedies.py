"""From a finding to the settings it asks to change: dialect-neutral keys (config.V1_KEYS / V2_KEYS names) and
values taken from the finding's own computed values, with the inputs that gave them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from doctor.findings import Finding


@dataclass(frozen=True, slots=True)
class Change:
    """One setting to set: its neutral key, the value in the key's unit, the finding it comes from and why."""

    key: str  # memory_gb | liveness_initial_delay | readiness_initial_delay | autoscale_min_replicas | ...
    value: Any
    rule_id: str
    why: str


@dataclass(frozen=True, slots=True)
class NotMechanical:
    """A finding whose fix is a judgement or a code change: said as such, never guessed at."""

    rule_id: str
    why: str


Remedy = Callable[[Finding], "list[Change] | NotMechanical"]


def _memory(f: Finding) -> list[Change] | NotMechanical:
    gb = f.values.get("suggested_memory_gb")
    if not gb:
        return NotMechanical(f.rule_id, "no memory figure to size the change from (no limit or peak in the evidence)")
    from doctor.calc import gb as show_gb

    peak, limit = f.values.get("memory_peak_bytes"), f.values.get("memory_limit_bytes")
    basis = (f"1.5 × the observed peak of {show_gb(peak)}" if peak
             else f"up from the {show_gb(limit)} limit in force" if limit else "the finding's suggestion")
    return [Change("memory_gb", float(gb), f.rule_id, f"{f.rule_id}: {gb} GB ({basis})")]


def _probe(f: Finding) -> list[Change] | NotMechanical:
    delay = f.values.get("suggested_initial_delay")
    if not delay:
        return NotMechanical(f.rule_id, "the probe's cause is not a slow start (its path, port or command needs "
                                        "changing, as the finding says): not a number to set")
    kind = str(f.values.get("kind") or "liveness").lower()
    key = "readiness_initial_delay" if kind == "readiness" else "liveness_initial_delay"
    why = (f"{f.rule_id}: start-up took {f.values.get('observed_seconds')} s against a budget of "
           f"{f.values.get('budget_seconds')} s; {delay} s gives it 1.5 × that")
    return [Change(key, int(delay), f.rule_id, why)]


def _replicas(f: Finding) -> list[Change] | NotMechanical:
    needed = f.values.get("replicas_needed") or f.values.get("simulated_min_replicas")
    if not needed:
        return NotMechanical(f.rule_id, "no replica count could be computed from the evidence")
    changes = [Change("autoscale_min_replicas", int(needed), f.rule_id,
                      f"{f.rule_id}: {f.values.get('formula') or needed} replicas for the observed peak")]
    current_max = f.values.get("current_max_replicas")
    if current_max is not None and int(current_max) < int(needed):
        changes.append(Change("autoscale_max_replicas", int(needed), f.rule_id, f"{f.rule_id}: max at least min"))
    return changes


def _instances(f: Finding) -> list[Change] | NotMechanical:
    needed = f.values.get("instances_needed")
    if not needed:
        return NotMechanical(f.rule_id, "no instance count could be computed from the evidence")
    return [Change("instance_count", int(needed), f.rule_id, f"{f.rule_id}: {needed} instances for the observed 429s")]


def _timeout(f: Finding) -> list[Change] | NotMechanical:
    for key, value_name in (("worker_timeout", "suggested_timeout_s"), ("request_timeout_ms", "suggested_timeout_ms")):
        value = f.values.get(value_name)
        if value:
            return [Change(key, int(value), f.rule_id, f"{f.rule_id}: {value} from the observed duration")]
    return NotMechanical(f.rule_id, "how long run() or init() should take is a judgement: speed it up or raise "
                                    "the timeout as the finding says")


def _package(f: Finding) -> list[Change] | NotMechanical:
    line = f.values.get("pip_line") or (f.values.get("package") if not f.values.get("in_environment_file") else None)
    if not line:
        return NotMechanical(f.rule_id, "the package is in the environment file already: the version or the "
                                        "import needs changing, as the finding says")
    return [Change("pip_package", str(line), f.rule_id, f"{f.rule_id}: add {line} to the environment")]


REMEDIES: dict[str, Remedy] = {
    "oom-killed": _memory,
    "worker-boot-loop": _memory,
    "probe-failure": _probe,
    "init-hang": _probe,  # a start-up longer than the probe budget: the same initial delay, from the time init() ran
    "overload-503": _replicas,
    "too-many-requests-429": _instances,
    "worker-timeout": _timeout,
    "timeout-504": _timeout,
    "missing-inference-server": _package,
    "missing-python-module": _package,
}


def remedy(finding: Finding) -> list[Change] | NotMechanical:
    """The changes a finding asks for, or why there is no mechanical change."""
    chosen = REMEDIES.get(finding.rule_id)
    if chosen is None:
        return NotMechanical(finding.rule_id, "its fix is not a setting with a value (read the finding's fix)")
    return chosen(finding)
