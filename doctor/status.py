"""What a report's status may claim (docs/contract.md "Status"): `healthy` only on evidence of the running service.

Configuration files alone say how a service is set up, not whether it works: with nothing else, and no
finding, the status is `unknown` (exit 3) and the report says what was looked for. Failure signals that no
specific rule explains are the `unexplained-failure` rule's job, so `healthy` is left for evidence read and
found clean.
"""

from __future__ import annotations

from doctor.evidence import Evidence

# Where each kind of target keeps what mldoctor reads, for the "nothing usable" note.
_LOOKED_FOR = {
    "docker": "the container's `docker inspect`, its log and the engine's events",
    "k8s": "the target's pods (states, restarts), their events and logs, its workload, autoscaler and claims",
    "bundle": ("docker/NAME/inspect.json and logs.txt, k8s/pods.json, k8s/events.json, k8s/deployments.json "
               "(and replicasets, statefulsets, jobs, hpa, pvcs), k8s/logs/POD/*.log, traffic/*.log, deploy/*, "
               "client/*, pasted/* (kubectl describe/events/logs text) and config/*"),
}


def runtime_evidence(evidence: Evidence) -> list[str]:
    """The kinds of evidence about the running service that were read (not its configuration)."""
    # an empty log says nothing; a pasted bug report's prose says what its writer saw, not that the service runs
    kinds = ["logs"] if any(s.size != 0 and not s.prose for s in evidence.logs) else []
    kinds += [name for name in ("events", "states", "workloads", "autoscalers", "pvcs", "metrics")
              if getattr(evidence, name, None)]
    if any(c.kind == "deploy-output" for c in evidence.configs):  # the platform's own word on the deployment
        kinds.append("deploy output")
    return kinds


NOT_SHOWN_WORKING = "status unknown: nothing shows the service working yet"


def not_shown_working(evidence: Evidence) -> str | None:
    """A note when the only word on the running service is its pods or workloads, and none of them is ready yet (a
    pod `0/1 ContainerCreating`, an InferenceService `READY Unknown` a minute old): not a failure (`unexplained-failure`
    names one once its start-up grace is over), and not a working service either, so the status is `unknown`.
    None when a log, an answer or a deploy output was read (they say more), or anything is ready."""
    states = [s for s in evidence.states if not s.init]
    workloads = evidence.workloads
    if (not states and not workloads) or any(s.size != 0 for s in evidence.logs) or evidence.metrics or \
            any(c.kind in ("deploy-output", "client-output") for c in evidence.configs) or \
            any(w.kind == "Job" for w in workloads):  # a Job is done when it succeeds, not when ready
        return None
    if any(s.ready for s in states) or any(w.ready or w.available for w in workloads) or \
            any(c.type == "Ready" and c.status == "True" for w in workloads for c in w.conditions):
        return None
    what = [f"{s.pod or s.container} not ready ({s.reason or s.status})" for s in states[:3]]
    what += [f"{w.kind} {w.name} not ready" + (f" ({w.age_s:.0f} s old)" if w.age_s is not None else "")
             for w in workloads[:3]]
    return (f"{NOT_SHOWN_WORKING}: {'; '.join(what)}. Still starting, or stuck: "
            "check again once its start-up time has passed (`kubectl get pods -w`), or add its events and logs.")


def usable(evidence: Evidence) -> bool:
    """True when something about the running service was read: a clean check of it may be called healthy."""
    return bool(runtime_evidence(evidence))


def nothing_usable_note(evidence: Evidence) -> str:
    """One line for the report: nothing about the running service was read, and where mldoctor looked."""
    where = _LOOKED_FOR.get(evidence.target.kind, "logs, container states, events and workload status")
    configs = sorted({c.source for c in evidence.configs})
    read = f" (read only configuration: {', '.join(configs[:5])})" if configs else ""
    return (f"status unknown: nothing about the running service could be read{read}; looked for {where}. "
            "Collect again (`mldoctor collect TARGET`) or add the pod/container state, events and logs.")
