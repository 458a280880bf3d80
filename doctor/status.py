"""What a report's status may claim (docs/contract.md "Status"): `healthy` only on evidence of the running service.

Configuration files alone say how a service is set up, not whether it works: with nothing else, and no
finding, the status is `unknown` (exit 3) and the report says what was looked for. Failure signals that no
specific rule explains are the `unexplained-failure` rule's job, so `healthy` is left for evidence read and
found clean.
"""

from __future__ import annotations

import re
from typing import Any

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
    if any(c.kind == "deploy-output" and _says_serving(c.values) for c in evidence.configs):  # the platform's own word
        kinds.append("deploy output")
    return kinds


SERVING = frozenset({"RUNNING", "HEALTHY", "UPSCALING", "DOWNSCALING"})  # Ray Serve's statuses of a serving application


def serve_not_serving(evidence: Evidence) -> str | None:
    """A note when a deploy output is Ray Serve's `serve status` and shows something not serving (`_says_serving`):
    with no finding the status is `unknown`, whatever else the text holds (it is also read as a log)."""
    for fact in evidence.configs:
        serve = fact.values.get("serve") if fact.kind == "deploy-output" else None
        if serve is not None and not _says_serving(fact.values):
            waiting = sorted({s for s in serve.get("statuses") or [] if s not in SERVING}) or ["none listed"]
            return (f"status unknown: Ray Serve's status in {fact.source} shows the application not serving yet "
                    f"({', '.join(waiting)}): check again once every deployment and proxy is HEALTHY and the "
                    "application RUNNING (`serve status`), or add the Serve logs (/tmp/ray/session_latest/logs/serve/).")
    return None


def _says_serving(values: dict[str, Any]) -> bool:
    """Whether a deploy output that did not fail says the service is there: any but Ray Serve's `serve status`, and that
    one only when the application and every deployment and proxy in it serve (an application RUNNING beside proxies
    still STARTING answered nothing: ray-project/kuberay#1841; one DEPLOYING or NOT_STARTED is not up yet)."""
    serve = values.get("serve")
    return serve is None or bool(serve.get("statuses")) and all(s in SERVING for s in serve["statuses"])


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


PASTED_NOT_SHOWN = "status unknown: the pasted text shows no failure mldoctor knows, and nothing in it shows the service working"
# what shows a server started or answering, in the words of the servers mldoctor knows: a server listening or its model
# loaded, a request answered 2xx (an access line, BentoML's, Envoy's)
_WORKING = re.compile(
    rb"Application startup complete|Uvicorn running on |Listening at: |Booting worker with pid|"
    rb"Users?.s init has completed successfully|ready for serving traffic|Started (?:HTTPService|GRPCInferenceService) at|"
    rb"Model server started|Running on (?:local URL:|all addresses|https?://)|Listening on \S+:\d+|Started server process|"
    rb"server is listening on|Loaded model '|successfully loaded|\bService \S+ initialized|WORKER_MODEL_LOADED|"
    rb"Starting vLLM server on |Available routes are:|init engine \(profile, create kv cache, warmup model\) took|"
    rb'Inference API bind to|llama runner started|" 2\d\d |\(status=2\d\d|"response_code":2\d\d|ACCESS_LOG - \S+ "[^"\n]*" 2\d\d')
_WORKING_BYTES = 8 << 20  # of each pasted log looked through for such a line
FEW_LINES = 20  # pasted lines (not blank) up to which text with no such line cannot show a working service


def pasted_not_shown_working(evidence: Evidence) -> str | None:
    """A note when all that was read is a few pasted log lines (FEW_LINES) in which no rule found a failure and nothing
    shows the service working (no server started or listening, no request answered): a line or two a user pasted that
    mldoctor cannot read says nothing about the service either way, so the status is `unknown`, not `healthy` (a Cloud Run
    `Memory limit of 5120 MiB exceeded` line, a kernel's OOM kill, nginx's `upstream prematurely closed connection`
    were reported healthy). None when anything else was read (states, events, workloads, metrics, a deploy output, a
    client's answers) or a pasted log shows the service working."""
    logs = [s for s in evidence.logs if s.size != 0]
    if not logs or evidence.states or evidence.events or evidence.workloads or evidence.metrics or \
            any(c.kind in ("deploy-output", "client-output", "client-error") for c in evidence.configs):
        return None
    if not all(s.name.startswith("pasted/") for s in logs):
        return None
    lines = 0
    for source in logs:
        try:
            with source.open() as stream:
                text = stream.read(_WORKING_BYTES)
        except OSError:
            return None
        if _WORKING.search(text):
            return None
        lines += sum(1 for line in text.splitlines() if line.strip())
        if lines > FEW_LINES:  # a longer log that ran without a failure any rule knows: that is what `healthy` says
            return None
    names = ", ".join(sorted({s.name.split(":")[0] for s in logs})[:3])
    return (f"{PASTED_NOT_SHOWN} (a server started or listening, a request answered): {names}. Paste more of the "
            "service's log (its start and a request), or add the pod's or container's state and events.")


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
