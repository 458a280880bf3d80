"""Container logs of a Kubernetes target: which to fetch, fetched concurrently into redacted files."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doctor.collect.k8s_api import Api, Refused
from doctor.collect.k8s_raw import K8sRaw, name_of
from doctor.evidence import CollectorError, LogSource

LOG_TAIL_LINES = 5000
LOG_WORKERS = 4
HEALTHY_LOG_SAMPLES = 1


@dataclass(frozen=True)
class LogJob:
    """One log to fetch."""

    raw: K8sRaw
    namespace: str
    pod: str
    container: str
    previous: bool

    @property
    def name(self) -> str:
        """The bundle path of this log."""
        return f"k8s/logs/{self.pod}/{self.container}{'.previous' if self.previous else ''}.log"


def log_jobs(raw: K8sRaw) -> list[LogJob]:
    """Current and previous logs of containers that restarted or are not ready; else one healthy sample."""
    jobs: list[LogJob] = []
    for pod in raw.items("pods"):
        status = pod.get("status") or {}
        for cs in status.get("initContainerStatuses") or []:
            if cs.get("restartCount") or _failed_init(cs):
                jobs += _container_jobs(raw, pod, cs)
        for cs in status.get("containerStatuses") or []:
            if cs.get("restartCount") or not cs.get("ready"):
                jobs += _container_jobs(raw, pod, cs)
    if jobs:
        return jobs
    healthy = [p for p in raw.items("pods") if (p.get("status") or {}).get("containerStatuses")
               and all(cs.get("ready") for cs in p["status"]["containerStatuses"])]
    return [LogJob(raw, raw.namespace, name_of(p), str(p["status"]["containerStatuses"][0]["name"]), False)
            for p in healthy[:HEALTHY_LOG_SAMPLES]]


def _failed_init(cs: dict[str, Any]) -> bool:
    state = cs.get("state") or {}
    return "waiting" in state or ("terminated" in state and state["terminated"].get("exitCode") != 0)


def _container_jobs(raw: K8sRaw, pod: dict[str, Any], cs: dict[str, Any]) -> list[LogJob]:
    state, last = cs.get("state") or {}, cs.get("lastState") or {}
    name, ns = name_of(pod), str((pod.get("metadata") or {}).get("namespace") or raw.namespace)
    jobs = []
    if "running" in state or "terminated" in state or "terminated" in last:
        jobs.append(LogJob(raw, ns, name, str(cs.get("name")), False))
    if "terminated" in last:
        jobs.append(LogJob(raw, ns, name, str(cs.get("name")), True))
    return jobs


def fetch_logs(api: Api, jobs: list[LogJob], since_seconds: int | None, root: Path) -> None:
    """Fetch every log concurrently (at most LOG_WORKERS at once) into files under `root`."""
    with ThreadPoolExecutor(max_workers=LOG_WORKERS) as pool:
        sources = list(pool.map(lambda job: _fetch_log(api, job, since_seconds, root), jobs))
    for job, source in zip(jobs, sources):
        if source is not None:
            job.raw.logs.append(source)


def _fetch_log(api: Api, job: LogJob, since_seconds: int | None, root: Path) -> LogSource | None:
    from urllib3.exceptions import HTTPError

    kw: dict[str, Any] = {"container": job.container, "timestamps": True, "tail_lines": LOG_TAIL_LINES}
    kw.update({"previous": True} if job.previous else {})
    kw.update({"since_seconds": since_seconds} if since_seconds else {})
    try:
        resp = api.call("CoreV1Api", "read_namespaced_pod_log", job.pod, job.namespace, **kw)
    except Refused as err:
        if err.status == 400:  # not started yet / no previous container: the kubelet's word, not an error
            job.raw.notes.append(f"no log for {job.pod}/{job.container}: {err}")
        else:
            job.raw.refused(err, "get", "pods/log", job.namespace)
        return None
    path = root / job.raw.namespace / job.name
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with open(path, "wb") as out:
            while chunk := resp.read1(1 << 16):  # read1: what has arrived, so a cut loses nothing already read
                written += out.write(chunk)
    except (HTTPError, OSError) as err:
        job.raw.errors.append(CollectorError("k8s", f"the log {job.name} was cut off after {written} bytes "
                                                    f"({type(err).__name__}); the part read is kept"))
    finally:
        resp.release_conn()
    _redact_file(path)
    return LogSource.from_path(job.name, f"{job.pod}/{job.container}", path, previous=job.previous)


def _redact_file(path: Path) -> None:
    """Mask connection-string keys, SAS signatures and tokens in a downloaded log (bounded by the tail)."""
    from doctor.redact import redact_bytes

    data = path.read_bytes()
    clean = redact_bytes(data)
    if clean != data:
        path.write_bytes(clean)


def log_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="mldoctor-k8s-"))
    atexit.register(shutil.rmtree, root, True)
    return root
