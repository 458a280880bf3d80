"""The Docker bundle layout: redacted inspect, logs, events and model listing, and the manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from doctor.collect.docker_raw import DockerRaw, raw_notes
from doctor.convert import format_time
from doctor.redact import redact_bytes


def _redact_event(obj: dict[str, Any]) -> dict[str, Any]:
    """An engine event with its attributes (the container's labels among them) free of secrets."""
    from doctor.redact import mask_secret_names, redact_strings

    out: dict[str, Any] = redact_strings(obj)
    mask_secret_names((out.get("Actor") or {}).get("Attributes") or {})
    return out


def write_docker_bundle(raw: DockerRaw, out_dir: Path) -> list[Path]:
    """Write `docker/NAME/{inspect.json,logs.txt,events.json,model-dir.txt}` under `out_dir`, redacted."""
    base = Path(out_dir) / "docker" / raw.name
    base.mkdir(parents=True, exist_ok=True)
    written = [base / "inspect.json"]
    (base / "inspect.json").write_text(json.dumps([raw.inspect], indent=2) + "\n", encoding="utf-8")
    if raw.log_path is not None:
        written.append(_copy_redacted(raw.log_path, base / "logs.txt"))
    if raw.events:
        lines = "".join(json.dumps(_redact_event(obj), separators=(",", ":")) + "\n" for obj in raw.events)
        (base / "events.json").write_text(lines, encoding="utf-8")
        written.append(base / "events.json")
    if raw.model_listing is not None:
        (base / "model-dir.txt").write_text("".join(f"{p}\n" for p in raw.model_listing), encoding="utf-8")
        written.append(base / "model-dir.txt")
    return written


def _copy_redacted(src: Path, dest: Path) -> Path:
    """Copy a log in bounded blocks, masking connection-string keys, SAS signatures and tokens."""
    from doctor.logs import iter_chunks

    with open(src, "rb") as inp, open(dest, "wb") as out:
        for block in iter_chunks(inp):
            out.write(redact_bytes(block))
    return dest


def write_manifest(raw: DockerRaw, root: Path) -> Path:
    """`manifest.yaml`: target, collection time, tool version, what could not be collected."""
    import yaml

    from doctor import __version__

    doc = {"target": f"docker:{raw.name}", "collected_at": format_time(raw.now), "since": format_time(raw.since),
           "tool": f"mldoctor {__version__}", "collector_errors": [f"{e.collector}: {e.error}" for e in raw.errors],
           "notes": raw_notes(raw)}
    path = Path(root) / "manifest.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path
