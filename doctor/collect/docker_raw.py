"""What was read from one Docker container (DockerRaw) and its Evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from doctor.convert import docker_event, docker_state
from doctor.evidence import CollectorError, Evidence, LogSource, Target


@dataclass
class DockerRaw:
    """What was read from the engine, in the raw forms the bundle layout stores."""

    name: str
    inspect: dict[str, Any]  # redacted
    log_path: Path | None = None
    log_bytes: int = 0  # kept in log_path
    log_streamed: int = 0  # read from the engine
    log_truncated: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    model_listing: list[str] | None = None
    missing_paths: list[str] = field(default_factory=list)
    errors: list[CollectorError] = field(default_factory=list)
    since: datetime | None = None
    now: datetime | None = None


def evidence_from_raw(raw: DockerRaw) -> Evidence:
    """The normalised evidence for what `collect_docker_raw` read."""
    base = f"docker/{raw.name}"
    evidence = Evidence(target=Target("docker", raw.name), since=raw.since, now=raw.now)
    evidence.states.append(docker_state(raw.inspect, f"{base}/inspect.json"))
    if raw.log_path is not None:
        evidence.logs.append(LogSource.from_path(f"{base}/logs.txt", raw.name, raw.log_path))
    evidence.events.extend(docker_event(obj, f"{base}/events.json") for obj in raw.events)
    if raw.model_listing is not None:
        listing = "".join(f"{line}\n" for line in raw.model_listing).encode()
        evidence.logs.append(LogSource.from_bytes(f"{base}/model-dir.txt", raw.name, listing, kind="model-dir"))
    evidence.collector_errors.extend(raw.errors)
    evidence.notes.extend(raw_notes(raw))
    return evidence


def raw_notes(raw: DockerRaw) -> list[str]:
    """What the report (and the bundle's manifest) should say about how the log was read."""
    if not raw.log_truncated:
        return []
    return [f"docker/{raw.name}/logs.txt: {raw.log_streamed} bytes; only the last {raw.log_bytes} bytes were scanned"]
