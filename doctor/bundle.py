"""Offline bundles: a directory or `.tar.gz` of raw command outputs (layout in docs/contract.md) read as Evidence.

Every file is optional. Logs are not read here: they become LogSources streamed by the scanner.
A `.tar.gz` is unpacked with tarfile's `data` filter (no absolute paths, no `..`, no links out, no
devices) into a temporary directory that is removed when the `with` block ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Iterator


from doctor import convert, yamlsafe
from doctor.bundle_paths import (bundle_dirs, bundle_file, bundle_files, bundle_path, decoded, is_utf16, open_file, open_log,
                                 read_file, read_tail)
from doctor.errors import InputError
from doctor.evidence import CollectorError, Evidence, LogSource, Target, latest_time
from doctor.logs import MAX_LINE_BYTES, MAX_LOG_BYTES

MAX_OBJECT_FILE_BYTES = 512 * 1024 * 1024
MAX_UNPACKED_BYTES = 20 * 1024**3
MAX_EVENTS_FILE_BYTES = 16 * 1024 * 1024  # the engine keeps its last 256 events: a larger file is read from its tail
KNOWN_DIRS = ("docker", "k8s", "config", "traffic", "deploy", "client", "pasted")
__all__ = ["bundle_files", "load_objects", "log_source", "open_bundle", "read_bundle_dir"]


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
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink() and not any((into / d).exists() for d in KNOWN_DIRS):
        return entries[0]  # a bundle packed with its top folder
    return into


def read_bundle_dir(root: Path, label: str) -> Evidence:
    """The evidence in an unpacked bundle directory; every path read is checked by doctor.bundle_paths."""
    root = root.resolve()
    if not any(bundle_path(root, d) is not None for d in KNOWN_DIRS):
        raise InputError(f"not a bundle: none of {', '.join(d + '/' for d in KNOWN_DIRS)} inside", label)
    manifest = _manifest(root)
    evidence = Evidence(Target("bundle", str(manifest.get("target") or label)))
    _read_docker(root, evidence)
    _read_k8s(root, evidence)
    _read_configs(root, evidence)
    _read_traffic(root, evidence)
    _read_pasted(root, evidence)
    try:
        evidence.now = convert.parse_time(str(manifest.get("collected_at") or "")) or latest_time(evidence)
    except (ValueError, OverflowError) as err:
        raise InputError(f"`collected_at` is not a time ({err})", "manifest.yaml") from None
    _manifest_records(manifest, evidence)
    return evidence


def _manifest_records(manifest: dict[str, Any], evidence: Evidence) -> None:
    """What the collector that wrote the bundle could not collect, and its notes, carried into the report."""
    errors, notes, target = manifest.get("collector_errors") or [], manifest.get("notes") or [], manifest.get("target")
    for key, value in (("collector_errors", errors), ("notes", notes)):
        if not isinstance(value, list):
            raise InputError(f"`{key}` must be a list, not {type(value).__name__}", "manifest.yaml")
    for error in errors:
        if isinstance(error, dict):
            evidence.collector_errors.append(CollectorError(str(error.get("collector", "bundle")), str(error.get("error", ""))))
        else:
            evidence.collector_errors.append(CollectorError("kubernetes" if str(target or "").startswith("k8s:")
                                                            else "collector", str(error)))
    evidence.notes.extend(str(n) for n in notes)


def _manifest(root: Path) -> dict[str, Any]:
    path = bundle_file(root, "manifest.yaml")
    if path is None:
        return {}
    data = load_objects(path, root)
    return data if isinstance(data, dict) else {}


def load_objects(path: Path, root: Path) -> Any:
    """A JSON or YAML file's content; InputError naming the file and line when it is malformed."""
    rel = str(path.relative_to(root))
    text = decoded(read_file(path, rel, MAX_OBJECT_FILE_BYTES))
    try:
        if path.suffix == ".json" or text.lstrip()[:1] in ("{", "["):
            return json.loads(text)
        return yamlsafe.safe_load(text)
    except yamlsafe.YamlRefused as err:
        raise InputError(f"refused: {err} at line {err.line}", rel) from None
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}", rel) from None
    except yamlsafe.errors() as err:
        mark = getattr(err, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(err, 'problem', err)}"
                         + (f" at line {mark.line + 1}" if mark else ""), rel) from None
    except RecursionError:
        raise InputError("nested too deeply to read", rel) from None
    except ValueError as err:  # a number of 5,000 digits, a date out of range: Python refuses the value
        raise InputError(f"a value mldoctor cannot read ({err})", rel) from None


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
    with open_file(path, rel) as handle:
        size = os.fstat(handle.fileno()).st_size
    if is_utf16(path, rel):  # Windows PowerShell `>` output: read as UTF-8 (its size is then only an estimate)
        evidence.notes.append(f"{rel}: UTF-16 text, read as UTF-8")
        return LogSource(rel, container, lambda: open_log(path, rel, True), size=size, **kw)
    if size <= MAX_LOG_BYTES:
        return LogSource(rel, container, lambda: open_file(path, rel), size=size, **kw)
    evidence.notes.append(f"{rel}: {size} bytes; only the last {MAX_LOG_BYTES} bytes were scanned")
    return LogSource(rel, container, lambda: _tail(path, rel, MAX_LOG_BYTES), size=MAX_LOG_BYTES, **kw)


def _tail(path: Path, rel: str, limit: int) -> BinaryIO:
    handle = open_file(path, rel)
    handle.seek(-limit, os.SEEK_END)
    handle.readline(MAX_LINE_BYTES)  # start on a whole line (a "line" without newline is cut, not read whole)
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
    for folder in bundle_dirs(root, "docker"):
        name = folder.name
        source = f"docker/{name}/inspect.json"
        inspect = bundle_file(root, source)
        if inspect is not None:
            evidence.states.extend(_converted(_items(load_objects(inspect, root)),
                                              lambda obj: convert.docker_state(obj, source), source))
        logs = bundle_file(root, f"docker/{name}/logs.txt")
        if logs is not None:
            evidence.logs.append(log_source(f"docker/{name}/logs.txt", name, logs, evidence))
        model_dir = bundle_file(root, f"docker/{name}/model-dir.txt")
        if model_dir is not None:
            evidence.logs.append(log_source(f"docker/{name}/model-dir.txt", name, model_dir, evidence, kind="model-dir"))
        _read_docker_events(root, name, evidence)


def _read_docker_events(root: Path, name: str, evidence: Evidence) -> None:
    source = f"docker/{name}/events.json"
    path = bundle_file(root, source)
    if path is None:
        return
    data, size = read_tail(path, source, MAX_EVENTS_FILE_BYTES)
    if size > MAX_EVENTS_FILE_BYTES:
        evidence.notes.append(f"{source}: {size} bytes; only the events in its last {MAX_EVENTS_FILE_BYTES} bytes were read")
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"not valid JSON lines: {err.msg} at line {number}", source) from None
        except ValueError as err:  # a number of 5,000 digits
            raise InputError(f"a value mldoctor cannot read at line {number} ({err})", source) from None
        if isinstance(obj, dict):
            evidence.events.extend(_converted([obj], lambda o: convert.docker_event(o, source), f"{source}:{number}"))


def _read_k8s(root: Path, evidence: Evidence) -> None:
    base = bundle_path(root, "k8s")
    if base is None or not base.is_dir():
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
    _read_k8s_logs(root, evidence)


def _k8s_file(base: Path, root: Path, name: str) -> list[dict[str, Any]]:
    for suffix in (".json", ".yaml", ".yml"):
        path = bundle_file(root, f"k8s/{name}{suffix}")
        if path is not None:
            return _items(load_objects(path, root))
    return []


def _read_k8s_logs(root: Path, evidence: Evidence) -> None:
    for log, rel in bundle_files(root, "k8s/logs"):  # k8s/logs/POD/CONTAINER[.previous].log
        parts = rel.split("/")
        if len(parts) != 4 or not log.name.endswith(".log"):
            continue
        previous = log.name.endswith(".previous.log")
        container = log.name.removesuffix(".previous.log").removesuffix(".log")
        evidence.logs.append(log_source(rel, f"{parts[2]}/{container}", log, evidence, previous=previous))


def _read_configs(root: Path, evidence: Evidence) -> None:
    from doctor import config

    for path, rel in bundle_files(root, "config"):
        facts = config.config_facts(read_file(path, rel, config.MAX_CONFIG_BYTES), rel)
        if facts:
            evidence.configs.extend(facts)
            evidence.logs.extend(config.deploy_logs(facts))
        else:
            evidence.notes.append(f"{rel}: not recognised as a deployment config, environment file or scoring script")


def _read_pasted(root: Path, evidence: Evidence) -> None:
    if not any((root / place).is_dir() for place in ("pasted", "deploy", "client")):  # the paste reader's imports
        return  # (~40 ms) only for a bundle that has text to read
    from doctor.collect import pasted

    pasted.read_places(root, lambda base: bundle_files(root, str(base.relative_to(root))), evidence)


def _read_traffic(root: Path, evidence: Evidence) -> None:
    for path, rel in bundle_files(root, "traffic"):
        evidence.logs.append(log_source(rel, path.stem, path, evidence, kind="access"))
