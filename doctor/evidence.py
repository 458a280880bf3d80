"""The normalised evidence every collector produces and every rule reads.

The flow is one direction: collect -> evidence -> rules -> findings -> report. Collectors (offline
bundle, Docker, Kubernetes, preflight) turn raw sources into these records; rules never see a
Docker or Kubernetes object. Log text is not held here: a `LogSource` knows how to open its bytes,
so a 1 GB log is streamed once by the scanner and never loaded whole.

Kubernetes evidence beyond pods, events and nodes (read from `k8s/*.json` and by the live collector):

- `ContainerState.init`: the state is an init container's (`initContainerStatuses`); `last_message` is the
  termination message of the previous run (`lastState.terminated.message`), as `message` is the current state's;
  `owner` is the pod's controller (`Job/train-1`, `ReplicaSet/scorer-5d8b`); `restart_policy` is the pod's.
- `Workload`: a Deployment, StatefulSet, ReplicaSet or Job with its replica counts and status `conditions`
  (`Progressing`/`ProgressDeadlineExceeded`, `Available`, `ReplicaFailure`, a Job's `Failed`/`BackoffLimitExceeded`).
- `Autoscaler`: an HPA's bounds, current/desired replicas and conditions (`AbleToScale`, `ScalingActive`,
  `ScalingLimited`, with their messages, e.g. `missing request for cpu`).
- `VolumeClaim`: a PersistentVolumeClaim's phase, StorageClass and requested size (`k8s/pvcs.json`).

Rules read them as `workload:` (`w`), `hpa:` (`h`) and `pvc:` (`p`) conditions.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, BinaryIO, Callable


class Severity(str, Enum):
    """Finding severity, ordered: info < warning < error < critical."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the order, for comparisons and sorting."""
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, text: str) -> "Severity":
        """The severity named by `text` (case-insensitive); ValueError when there is none."""
        return cls(text.strip().lower())


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2, Severity.CRITICAL: 3}


@dataclass(frozen=True, slots=True)
class Target:
    """What is being diagnosed: kind is `docker`, `k8s`, `bundle` or `preflight`."""

    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class LogSource:
    """One log stream (a container's current or previous log, an access log), opened lazily as bytes."""

    name: str  # where it came from, as shown in evidence: "docker/score-svc/logs.txt"
    container: str  # "score-svc" or "pod/container"
    opener: Callable[[], BinaryIO]
    previous: bool = False
    kind: str = "container"  # "container" or "access"
    size: int | None = None
    prose: bool = False  # a pasted bug report's text, no log line in it: read by rules, but no sign of a running service

    def open(self) -> BinaryIO:
        """A fresh binary stream over the whole log."""
        return self.opener()

    @classmethod
    def from_path(cls, name: str, container: str, path: Path, **kw: Any) -> "LogSource":
        """A source reading the file at `path`."""
        return cls(name, container, lambda: open(path, "rb"), size=path.stat().st_size, **kw)

    @classmethod
    def from_bytes(cls, name: str, container: str, data: bytes, **kw: Any) -> "LogSource":
        """A source over bytes already in memory (small logs, tests, preflight output)."""
        return cls(name, container, lambda: io.BytesIO(data), size=len(data), **kw)


@dataclass(frozen=True, slots=True)
class Event:
    """A Kubernetes event or a Docker engine event about the target."""

    source: str
    object_kind: str
    object_name: str
    reason: str
    message: str
    type: str = "Normal"
    count: int = 1
    first_time: datetime | None = None
    last_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class Probe:
    """A liveness/readiness/startup probe's timing, in seconds."""

    kind: str
    initial_delay: float = 0
    period: float = 10
    timeout: float = 1
    failure_threshold: int = 3
    success_threshold: int = 1
    handler: str = ""  # http, tcp, exec or grpc
    path: str | None = None  # httpGet.path
    port: str | None = None  # httpGet.port / tcpSocket.port / grpc.port (a number or a port name)
    command: tuple[str, ...] = ()  # exec.command

    @property
    def budget_seconds(self) -> float:
        """How long start-up may take before the probe gives up: initial_delay + failure_threshold x period."""
        return self.initial_delay + self.failure_threshold * self.period


@dataclass(frozen=True, slots=True)
class ContainerState:
    """The state of one container (Docker container or a pod's container), with its resources."""

    source: str
    container: str
    pod: str | None = None
    status: str = "unknown"  # running | waiting | terminated | exited | restarting | created | pending
    reason: str | None = None  # CrashLoopBackOff, ImagePullBackOff, OOMKilled, Error, ...
    message: str | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    restart_count: int = 0
    ready: bool | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    last_reason: str | None = None
    last_exit_code: int | None = None
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    memory_limit_bytes: int | None = None
    memory_request_bytes: int | None = None
    cpu_limit: float | None = None
    cpu_request: float | None = None
    gpu_request: int = 0
    image: str | None = None
    health: str | None = None  # Docker healthcheck status
    restart_policy: str | None = None
    probes: tuple[Probe, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # already redacted
    command: tuple[str, ...] = ()  # entrypoint + arguments (redacted), e.g. gunicorn's --timeout
    phase: str | None = None  # pod phase
    init: bool = False  # an init container (initContainerStatuses)
    last_message: str | None = None  # the previous run's termination message (lastState.terminated.message)
    owner: str | None = None  # the pod's controller as KIND/NAME: "Job/train-1", "ReplicaSet/scorer-5d8b"
    ports: tuple[int, ...] = ()  # the container's declared containerPort numbers
    node_selector: dict[str, str] = field(default_factory=dict)  # the pod's spec.nodeSelector
    host_network: bool = False  # shares the host's network (Docker `--network host`, a pod's hostNetwork)
    container_named: bool = True  # False: a `kubectl get pods` row, whose pod's name stands in for `container`

    def as_dict(self) -> dict[str, Any]:
        """Plain values for expressions and templates."""
        return _plain(self)


@dataclass(frozen=True, slots=True)
class Node:
    """A Kubernetes node's capacity, allocatable and what its pods already request."""

    source: str
    name: str
    allocatable: dict[str, float] = field(default_factory=dict)
    capacity: dict[str, float] = field(default_factory=dict)
    requested: dict[str, float] = field(default_factory=dict)
    taints: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    ready: bool = True
    unschedulable: bool = False

    def free(self, resource: str) -> float:
        """Allocatable minus what scheduled pods request."""
        return self.allocatable.get(resource, 0.0) - self.requested.get(resource, 0.0)


@dataclass(frozen=True, slots=True)
class StatusCondition:
    """One entry of a Kubernetes object's `status.conditions`."""

    type: str
    status: str  # "True" | "False" | "Unknown"
    reason: str | None = None
    message: str | None = None
    last_transition: datetime | None = None


@dataclass(frozen=True, slots=True)
class Workload:
    """A Deployment, StatefulSet, ReplicaSet or Job: how many replicas it wants and has, and its conditions."""

    source: str
    kind: str  # Deployment | StatefulSet | ReplicaSet | Job
    name: str
    desired: int | None = None  # spec.replicas (a Job: spec.completions)
    ready: int = 0
    available: int = 0
    updated: int = 0
    failed: int = 0  # Job: failed pods
    succeeded: int = 0  # Job: succeeded pods
    conditions: tuple[StatusCondition, ...] = ()
    owner: str | None = None  # a ReplicaSet's Deployment as KIND/NAME
    progress_deadline_s: int | None = None  # Deployment spec.progressDeadlineSeconds
    generation: int | None = None
    observed_generation: int | None = None
    age_s: float | None = None  # seconds since it was created, where the evidence says (a table's AGE)

    @property
    def unavailable(self) -> int:
        """Replicas wanted but not available (a Job: 0; see `failed`)."""
        return 0 if self.kind == "Job" or self.desired is None else max(0, self.desired - self.available)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for expressions and templates; `conditions` by type (`w.conditions.Progressing.reason`)."""
        return {**_plain(self), "conditions": conditions_by_type(self.conditions), "unavailable": self.unavailable}


@dataclass(frozen=True, slots=True)
class Autoscaler:
    """A HorizontalPodAutoscaler: its bounds, where it stands, and why (its conditions)."""

    source: str
    name: str
    target_kind: str | None = None
    target_name: str | None = None
    min_replicas: int = 1
    max_replicas: int | None = None
    current_replicas: int | None = None
    desired_replicas: int | None = None
    metrics: tuple[str, ...] = ()  # "cpu 70%" / "memory 80%" / "requests_per_second 10" (the targets)
    current: tuple[str, ...] = ()  # what it last measured, same order when known ("cpu 95%")
    conditions: tuple[StatusCondition, ...] = ()

    @property
    def at_max(self) -> bool:
        """At its upper bound: current (or desired) replicas equal maxReplicas."""
        return self.max_replicas is not None and max(self.current_replicas or 0, self.desired_replicas or 0) >= self.max_replicas

    def as_dict(self) -> dict[str, Any]:
        """Plain values for expressions and templates; `conditions` by type (`h.conditions.ScalingActive.status`)."""
        return {**_plain(self), "conditions": conditions_by_type(self.conditions), "at_max": self.at_max}


@dataclass(frozen=True, slots=True)
class VolumeClaim:
    """A PersistentVolumeClaim: whether it is bound, to what class, and how much it asks for."""

    source: str
    name: str
    phase: str = "Pending"  # Pending | Bound | Lost
    storage_class: str | None = None  # spec.storageClassName (None: the cluster default)
    requested_bytes: int | None = None
    access_modes: tuple[str, ...] = ()
    volume_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain values for expressions and templates."""
        return _plain(self)


@dataclass(frozen=True, slots=True)
class ConfigFact:
    """A service configuration file understood: `kind` says which dialect, `values` the settings."""

    source: str
    kind: str  # azureml-v1 | azureml-v2-managed | azureml-v2-kubernetes | k8s-deployment | hpa | environment | score-script | deploy-output | ray-serve-config
    values: dict[str, Any]
    assumed: tuple[str, ...] = ()  # keys whose value is a documented default, not read from the file
    lines: dict[str, int] = field(default_factory=dict)  # key -> line in the file, for SARIF


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """One metric series from Prometheus: what it measures, the PromQL that fetched it, its labels and points."""

    name: str  # memory_working_set_bytes | memory_limit_bytes | restarts_total | cpu_throttled_ratio
    query: str
    labels: dict[str, str]
    points: tuple[tuple[float, float], ...]  # (unix seconds, value)


@dataclass(frozen=True, slots=True)
class CollectorError:
    """A collector that could not collect: the report lists it, the run goes on."""

    collector: str
    error: str


@dataclass
class Evidence:
    """Everything collected about one target."""

    target: Target
    logs: list[LogSource] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    states: list[ContainerState] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    configs: list[ConfigFact] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    autoscalers: list[Autoscaler] = field(default_factory=list)
    pvcs: list[VolumeClaim] = field(default_factory=list)
    collector_errors: list[CollectorError] = field(default_factory=list)
    metrics: list[MetricSeries] = field(default_factory=list)  # from --prometheus
    since: datetime | None = None
    now: datetime | None = None  # the collection time, for "recent" judgements
    predicted: bool = False  # preflight: findings are predictions
    notes: list[str] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # derived results, computed once
    # A live collection still streaming its log (read as it grows); `settle()` waits for it.
    pending: Callable[[], bool] | None = field(default=None, repr=False, compare=False)

    def settle(self) -> bool:
        """Wait for a collection still running and take in what it read after the log (events, errors, ...).

        False when the log bytes read while it streamed are not the final log (it outgrew the size cap and
        only its tail is kept): whoever read them must read the log again."""
        pending, self.pending = self.pending, None
        return pending() if pending is not None else True

    def is_empty(self) -> bool:
        """True when nothing at all was collected."""
        return not (self.logs or self.events or self.states or self.nodes or self.configs
                    or self.workloads or self.autoscalers or self.pvcs)

    def summary(self) -> dict[str, int]:
        """How much of each kind of evidence there is, for 'what was checked'."""
        return {
            "logs": len([s for s in self.logs if s.kind == "container"]),
            "access_logs": len([s for s in self.logs if s.kind == "access"]),
            "events": len(self.events),
            "containers": len(self.states),
            "nodes": len(self.nodes),
            "configs": len(self.configs),
            "workloads": len(self.workloads),
            "autoscalers": len(self.autoscalers),
            "pvcs": len(self.pvcs),
        }


def latest_time(evidence: Evidence) -> datetime:
    """The latest moment the evidence's events and container states show (now when they show none)."""
    from datetime import timezone

    times = [t for e in evidence.events for t in (e.last_time, e.first_time) if t]
    times += [t for s in evidence.states for t in (s.started_at, s.finished_at, s.last_finished_at) if t]
    return max(times, default=datetime.now(timezone.utc))


def conditions_by_type(conditions: tuple[StatusCondition, ...]) -> dict[str, dict[str, Any]]:
    """Conditions as a map by type, each `{status, reason, message, last_transition}` (the last of a type wins)."""
    return {c.type: {k: v for k, v in _plain(c).items() if k != "type"} for c in conditions}


def _plain(obj: Any) -> Any:
    """Dataclasses, tuples and datetimes turned into JSON-friendly plain values."""
    if hasattr(obj, "__dataclass_fields__"):
        return {name: _plain(getattr(obj, name)) for name in obj.__dataclass_fields__}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj


plain = _plain
