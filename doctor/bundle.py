"""Offline bundles: a directory or `.tar.gz` of raw command outputs (layout in docs/contract.md) read as Evidence.

Every file is optional. Logs are not read here: they become LogSources streamed by the scanner.
A `.tar.gz` is unpacked with tarfile's `data` filter (no absolute paths, no `..`, no links out, no
devices) into a temporary directory that is removed when the `with` block ends.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import yaml

from doctor import convert, yamlsafe
from doctor.errors import InputError
from doctor.evidence import CollectorError, Evidence, LogSource, Target

MAX_OBJECT_FILE_BYTES = 512 * 1024 * 1024
MAX_UNPACKED_BYTES = 20 * 1024**3
# A log larger than this is scanned from its tail (the end is where a failure is); MLDOCTOR_MAX_LOG_BYTES overrides.
MAX_LOG_BYTES = int(os.environ.get("MLDOCTOR_MAX_LOG_BYTES", str(4 * 1024**3)))
KNOWN_DIRS = ("docker", "k8s", "config", "traffic", "deploy", "client", "pasted")


@contextlib.contextmanager
def open_bundle(path: Path) -> Iterator[Evidence]:
    """The evidence in the bundle at `path`; InputError (exit 2) when it is not a readable bundle."""
    if not path.exists():
        raise InputError("no such bundle (a directory or .tar.gz in the bundle layout)", str(path))
    if path.is_dir():
        yield read_bundle_dir(path, str(path))
        return
    tmp = Path(tempfile.mkdtemp(prefix="mldoctor-bundle-"))
    try:
        root = _unpack(path, tmp)
        yield read_bundle_dir(root, str(path))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _unpack(archive: Path, into: Path) -> Path:
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            total = sum(m.size for m in members if m.isfile())
            if total > MAX_UNPACKED_BYTES:
                raise InputError(f"unpacks to {total} bytes, over the {MAX_UNPACKED_BYTES} limit", str(archive))
            tar.extractall(into, members=members, filter="data")
    except InputError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError) as err:
        raise InputError(f"not a readable .tar.gz bundle ({type(err).__name__}: {err})", str(archive)) from None
    entries = [p for p in into.iterdir()]
    if len(entries) == 1 and entries[0].is_dir() and not any((into / d).exists() for d in KNOWN_DIRS):
        return entries[0]  # a bundle packed with its top folder
    return into


def read_bundle_dir(root: Path, label: str) -> Evidence:
    """The evidence in an unpacked bundle directory."""
    if not any((root / d).is_dir() for d in KNOWN_DIRS):
        raise InputError(f"not a bundle: none of {', '.join(d + '/' for d in KNOWN_DIRS)} inside", label)
    manifest = _manifest(root)
    evidence = Evidence(Target("bundle", str(manifest.get("target") or label)))
    _read_docker(root, evidence)
    _read_k8s(root, evidence)
    _read_configs(root, evidence)
    _read_traffic(root, evidence)
    _read_pasted(root, evidence)
    evidence.now = convert.parse_time(str(manifest.get("collected_at") or "")) or _latest_time(evidence)
    _manifest_records(manifest, evidence)
    return evidence


def _manifest_records(manifest: dict[str, Any], evidence: Evidence) -> None:
    """What the collector that wrote the bundle could not collect, and its notes, carried into the report."""
    for error in manifest.get("collector_errors") or []:
        if isinstance(error, dict):
            evidence.collector_errors.append(CollectorError(str(error.get("collector", "bundle")), str(error.get("error", ""))))
        else:
            evidence.collector_errors.append(CollectorError("kubernetes" if (manifest.get("target") or "").startswith("k8s:")
                                                            else "collector", str(error)))
    evidence.notes.extend(str(n) for n in manifest.get("notes") or [])


def _manifest(root: Path) -> dict[str, Any]:
    path = root / "manifest.yaml"
    if not path.is_file():
        return {}
    data = load_objects(path, root)
    return data if isinstance(data, dict) else {}


def load_objects(path: Path, root: Path) -> Any:
    """A JSON or YAML file's content; InputError naming the file and line when it is malformed."""
    rel = str(path.relative_to(root))
    if path.is_symlink() or not path.is_file():
        raise InputError("not a regular file (links and devices are refused in bundles)", rel)
    if path.stat().st_size > MAX_OBJECT_FILE_BYTES:
        raise InputError(f"larger than {MAX_OBJECT_FILE_BYTES} bytes", rel)
    text = path.read_bytes().decode("utf-8", "replace")
    try:
        if path.suffix == ".json" or text.lstrip()[:1] in ("{", "["):
            return json.loads(text)
        return yamlsafe.safe_load(text)
    except yamlsafe.YamlRefused as err:
        raise InputError(f"refused: {err} at line {err.line}", rel) from None
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}", rel) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(err, 'problem', err)}"
                         + (f" at line {mark.line + 1}" if mark else ""), rel) from None
    except RecursionError:
        raise InputError("nested too deeply to read", rel) from None


def _items(data: Any) -> list[dict[str, Any]]:
    """The objects of a kubectl List (or a single object, or a `docker inspect` array)."""
    if isinstance(data, list):
        return [d for d in data if isinstance(d, dict)]
    if isinstance(data, dict):
        if isinstance(data.get("items"), list):
            return [d for d in data["items"] if isinstance(d, dict)]
        return [data]
    return []


def log_source(rel: str, container: str, path: Path, evidence: Evidence, **kw: Any) -> LogSource:
    """A LogSource for a bundle file; one over the size cap is read from its last MAX_LOG_BYTES, with a note."""
    if path.is_symlink() or not path.is_file():
        raise InputError("not a regular file (links and devices are refused in bundles)", rel)
    size = path.stat().st_size
    if size <= MAX_LOG_BYTES:
        return LogSource.from_path(rel, container, path, **kw)
    evidence.notes.append(f"{rel}: {size} bytes; only the last {MAX_LOG_BYTES} bytes were scanned")
    return LogSource(rel, container, lambda: _tail(path, MAX_LOG_BYTES), size=MAX_LOG_BYTES, **kw)


def _tail(path: Path, limit: int) -> io.BufferedReader:
    handle = open(path, "rb")
    handle.seek(-limit, os.SEEK_END)
    handle.readline()  # start on a whole line
    return handle


def _converted(items: list[dict[str, Any]], convert_one: Any, source: str) -> list[Any]:
    """Each object converted; InputError naming the file and item when one is not the kind of object expected."""
    out: list[Any] = []
    for index, item in enumerate(items):
        try:
            result = convert_one(item)
        except (TypeError, AttributeError, ValueError, KeyError, OverflowError) as err:
            raise InputError(f"item {index} is not a well-formed object of this kind ({type(err).__name__}: {err})",
                             source) from None
        out.extend(result if isinstance(result, list) else [result])
    return out


def _read_docker(root: Path, evidence: Evidence) -> None:
    base = root / "docker"
    if not base.is_dir():
        return
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        name = folder.name
        inspect = folder / "inspect.json"
        if inspect.is_file():
            source = f"docker/{name}/inspect.json"
            evidence.states.extend(_converted(_items(load_objects(inspect, root)),
                                              lambda obj: convert.docker_state(obj, source), source))
        logs = folder / "logs.txt"
        if logs.is_file():
            evidence.logs.append(log_source(f"docker/{name}/logs.txt", name, logs, evidence))
        model_dir = folder / "model-dir.txt"
        if model_dir.is_file():
            evidence.logs.append(LogSource.from_path(f"docker/{name}/model-dir.txt", name, model_dir, kind="model-dir"))
        _read_docker_events(folder / "events.json", root, name, evidence)


def _read_docker_events(path: Path, root: Path, name: str, evidence: Evidence) -> None:
    if not path.is_file():
        return
    source = f"docker/{name}/events.json"
    for number, line in enumerate(path.read_text("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"not valid JSON lines: {err.msg} at line {number}", source) from None
        if isinstance(obj, dict):
            evidence.events.extend(_converted([obj], lambda o: convert.docker_event(o, source), f"{source}:{number}"))


def _read_k8s(root: Path, evidence: Evidence) -> None:
    base = root / "k8s"
    if not base.is_dir():
        return
    pods = _k8s_file(base, root, "pods")
    node_pods = _k8s_file(base, root, "node-pods")  # pods bound to the nodes, all namespaces (for free capacity)
    evidence.states.extend(_converted(pods, lambda p: convert.k8s_pod_states(p, "k8s/pods.json"), "k8s/pods.json"))
    evidence.events.extend(_converted(_k8s_file(base, root, "events"),
                                      lambda e: convert.k8s_event(e, "k8s/events.json"), "k8s/events.json"))
    evidence.nodes.extend(_converted(_k8s_file(base, root, "nodes"),
                                     lambda n: convert.k8s_node(n, node_pods or pods, "k8s/nodes.json"), "k8s/nodes.json"))
    from doctor import config

    for kind in ("deployments", "replicasets", "statefulsets", "services", "hpa"):
        source = f"k8s/{kind}.json"
        evidence.configs.extend(_converted(_k8s_file(base, root, kind),
                                           lambda o: config.from_k8s_object(o, source), source))
    for stem, into, convert_one in convert.K8S_OBJECT_FILES:  # workloads, autoscalers, PVCs (doctor/evidence.py)
        source = f"k8s/{stem}.json"
        getattr(evidence, into).extend(_converted(_k8s_file(base, root, stem), lambda o: convert_one(o, source), source))
    _read_k8s_logs(base / "logs", root, evidence)


def _k8s_file(base: Path, root: Path, name: str) -> list[dict[str, Any]]:
    for suffix in (".json", ".yaml", ".yml"):
        path = base / (name + suffix)
        if path.is_file():
            return _items(load_objects(path, root))
    return []


def _read_k8s_logs(base: Path, root: Path, evidence: Evidence) -> None:
    if not base.is_dir():
        return
    for pod_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for log in sorted(pod_dir.glob("*.log")):
            previous = log.name.endswith(".previous.log")
            container = log.name.removesuffix(".previous.log").removesuffix(".log")
            rel = str(log.relative_to(root))
            evidence.logs.append(log_source(rel, f"{pod_dir.name}/{container}", log, evidence, previous=previous))


def _read_configs(root: Path, evidence: Evidence) -> None:
    base = root / "config"
    if not base.is_dir():
        return
    from doctor import config
    from doctor.collect import deploy_output

    for path, rel in _regular_files(base, root):
        facts = config.read_config(path, rel)
        if facts:
            evidence.configs.extend(facts)
            evidence.logs.extend(deploy_output.as_log(f) for f in facts if f.kind == "deploy-output")
        else:
            evidence.notes.append(f"{rel}: not recognised as a deployment config, environment file or scoring script")


def _read_pasted(root: Path, evidence: Evidence) -> None:
    from doctor.collect import pasted

    pasted.read_places(root, lambda base: _regular_files(base, root), evidence)


def _read_traffic(root: Path, evidence: Evidence) -> None:
    base = root / "traffic"
    if not base.is_dir():
        return
    for path, rel in _regular_files(base, root):
        evidence.logs.append(log_source(rel, path.stem, path, evidence, kind="access"))


def _regular_files(base: Path, root: Path) -> list[tuple[Path, str]]:
    """Every file below `base` with its bundle-relative name; InputError for a link (or a device) among them."""
    found = []
    for path in sorted(p for p in base.rglob("*") if p.is_file() or p.is_symlink()):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            raise InputError("not a regular file (links and devices are refused in bundles)", rel)
        found.append((path, rel))
    return found


def _latest_time(evidence: Evidence) -> datetime:
    times = [t for e in evidence.events for t in (e.last_time, e.first_time) if t]
    times += [t for s in evidence.states for t in (s.started_at, s.finished_at, s.last_finished_at) if t]
    return max(times, default=datetime.now(timezone.utc))


regular_files = _regular_files
latest_time = _latest_time
