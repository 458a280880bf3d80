"""Live evidence from one Docker container: logs, inspect, engine events, the model folder's listing.

Strictly read-only: only GET endpoints of the engine API (inspect, logs, events, archive) are used;
nothing is ever exec'd, started, stopped, killed or removed. The `docker` SDK is imported lazily so
`mldoctor --help` does not pay for it.
"""

from __future__ import annotations

import atexit
import base64
import difflib
import json
import os
import posixpath
import re
import shutil
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import urlencode

from doctor.collect.docker_bundle import write_docker_bundle, write_manifest
from doctor.collect.docker_logs import (
    STREAM_CHUNK,
    Progress,
    TailSink,
    close_quietly,
    demux,
    sdk_get,
    unix_get,
)
from doctor.collect.docker_raw import DockerRaw, evidence_from_raw
from doctor.errors import InputError, UnreachableError
from doctor.evidence import CollectorError, Evidence, LogSource
from doctor.follow import Growing, Writer, follow_in_child
from doctor.redact import redact_inspect

__all__ = ["APP_ROOT", "MAX_EVENTS", "MAX_LISTING", "MAX_LISTING_BYTES", "STREAM_CHUNK", "DockerRaw", "Progress",
           "TailSink", "collect_bundle", "collect_docker", "collect_docker_raw", "demux", "evidence_from_raw",
           "model_root", "note_missing_paths", "write_docker_bundle", "write_manifest"]

MAX_EVENTS = 10_000
MAX_LISTING = 200  # like the inference server's own "Model Directory Contents" tree
MAX_LISTING_BYTES = 256 << 20  # a tar of a big model is read only this far for its names
APP_ROOT = "/var/azureml-app"

# Log texts that name a model path that is not there (azureml-facts §3.4, §3.9).
_MISSING_PATH = re.compile(
    rb"No such file or directory: '([^'\n]+)'"
    rb"|Model directory is not set or does not exist: (\S+)"
    rb"|Model not found in cache or in root at (\S+?)\.?(?:\s|$)"
    rb"|SavedModel file does not exist at: (\S+)"
)
_MISSING_HINTS = (b"No such file", b"does not exist", b"Model not found")


def collect_docker(name: str, since: datetime | None, log_cap_bytes: int | None = None,
                   progress: Progress | None = None, follow: bool = False) -> Evidence:
    """Evidence about container `name` on the engine DOCKER_HOST (or the default socket) points at.

    With `follow`, it returns as soon as the container is inspected: a forked child reads the log (then the
    events and the model folder) and the evidence's log is read as it grows (`Evidence.settle()` waits for the rest)."""
    if follow:
        return _collect_following(name, since, log_cap_bytes, progress)
    return evidence_from_raw(collect_docker_raw(name, since, log_cap_bytes, progress))


def collect_docker_raw(name: str, since: datetime | None, log_cap_bytes: int | None = None,
                       progress: Progress | None = None, workdir: Path | None = None) -> DockerRaw:
    """Read inspect, logs (to a temp file), events and, when a model path is missing, the model folder."""
    client = _client()
    try:
        inspect, raw = _start(client, name, since)
        _read_rest(client, inspect, raw, workdir or _temp_dir(), log_cap_bytes, progress)
        return raw
    finally:
        client.close()


def _start(client: Any, name: str, since: datetime | None) -> tuple[dict[str, Any], DockerRaw]:
    """The container's inspect (InputError when there is none) and the record the rest is read into."""
    inspect = _inspect(client, name)
    now = datetime.now(timezone.utc)
    return inspect, DockerRaw(name=_container_name(inspect, name), inspect=redact_inspect(inspect), since=since, now=now)


def _read_rest(client: Any, inspect: dict[str, Any], raw: DockerRaw, workdir: Path, cap: int | None,
               progress: Progress | None, growing: Writer | None = None) -> None:
    """The log, then (while the container and engine are still there) its events and the model folder."""
    workdir.mkdir(parents=True, exist_ok=True)
    _collect_logs(client, inspect, raw, workdir, cap, progress, growing)
    if _still_there(client, inspect, raw):
        _collect_events(client, inspect, raw)
        _collect_model_listing(client, inspect, raw)


def _collect_following(name: str, since: datetime | None, cap: int | None, progress: Progress | None) -> Evidence:
    """The evidence of the inspect now, its log read as it streams in; `settle()` adds events and the rest.

    The log, events and model folder are read in a forked child process (`follow_in_child`), with a
    client of its own, so reading the engine's stream never waits behind the analysis for the GIL."""
    client = _client()
    try:
        inspect, started = _start(client, name, since)
    finally:
        client.close()
    workdir = _temp_dir() / "log"
    growing = Growing()

    def read(writer: Writer) -> DockerRaw:
        raw, own = started, _client()
        try:
            _read_rest(own, inspect, raw, workdir, cap, progress, writer)
        except Exception as exc:  # a collector that fails does not sink the report
            raw.errors.append(CollectorError("docker", f"{raw.name}: {_short(exc)}"))
        finally:
            own.close()
        return raw

    path = TailSink.first_segment(workdir / f"{started.name}.logs.txt")
    done = follow_in_child(read, growing, path, f"mldoctor-docker-{started.name}")
    evidence = evidence_from_raw(started)
    following = LogSource(f"docker/{started.name}/logs.txt", started.name, growing.open)
    evidence.logs.append(following)

    def settle() -> bool:
        complete = evidence_from_raw(done.result())
        at = next(i for i, s in enumerate(evidence.logs) if s is following)
        evidence.logs[at:at + 1] = complete.logs  # the final log file (and the model folder listing)
        evidence.events.extend(complete.events)
        evidence.collector_errors.extend(complete.collector_errors)
        evidence.notes.extend(complete.notes)
        return not growing.abandoned

    evidence.pending = settle
    return evidence


def _still_there(client: Any, inspect: dict[str, Any], raw: DockerRaw) -> bool:
    """After the log: is the container (and the engine) still there? A log stream that simply ends cannot say
    whether it was cut, so a container removed or an engine stopped mid-collection is found here and recorded."""
    import docker

    try:
        client.api.inspect_container(inspect.get("Id") or raw.name)
        return True
    except docker.errors.NotFound:
        raw.errors.append(CollectorError("docker", f"{raw.name} was removed while it was being collected: "
                                                   "its log may be incomplete; events and the model folder not read"))
    except Exception as exc:  # the engine itself stopped answering
        raw.errors.append(CollectorError("docker", f"the engine stopped answering during collection ({_short(exc)}): "
                                                   f"the log of {raw.name} may be incomplete; events not read"))
    return False


# --- engine and container ---------------------------------------------------------------------


def _client() -> Any:
    """A client for the engine, checked with a ping; UnreachableError says how to check it."""
    import docker  # lazy: only the Docker collector needs the SDK

    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # the SDK wraps some failures, requests and OSError raise others
        raise UnreachableError(_unreachable_message(exc)) from exc
    return client


def _unreachable_message(exc: Exception) -> str:
    """What failed and how the user can check the engine themselves."""
    host = os.environ.get("DOCKER_HOST")
    where = f"DOCKER_HOST={host}" if host else "the default socket unix:///var/run/docker.sock (DOCKER_HOST is unset)"
    return (f"cannot reach the Docker engine at {where}: {_short(exc)}. "
            "Check that the engine runs (`docker run hello-world` or `docker version`), that DOCKER_HOST points "
            "at it, and that you may use its socket (`ls -l /var/run/docker.sock`; be root or in the `docker` group)")


def _short(exc: Exception) -> str:
    """The first line of an exception's text, without the SDK's long wrapping."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def _inspect(client: Any, name: str) -> dict[str, Any]:
    """`docker inspect NAME`; InputError with similar names when there is no such container."""
    import docker

    try:
        return dict(client.api.inspect_container(name))
    except docker.errors.NotFound as exc:
        raise InputError(_not_found_message(client, name)) from exc
    except docker.errors.APIError as exc:
        raise UnreachableError(f"the Docker engine refused to inspect container {name!r}: {_short(exc)}") from exc


def _not_found_message(client: Any, name: str) -> str:
    """No such container, with the closest names on the engine."""
    try:
        names = [n.lstrip("/") for c in client.api.containers(all=True) for n in c.get("Names") or []]
    except Exception:  # listing is only a courtesy here
        names = []
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    if close:
        return f"no Docker container named {name!r}; did you mean: {', '.join(close)}?"
    if names:
        shown = ", ".join(sorted(names)[:10]) + (" …" if len(names) > 10 else "")
        return f"no Docker container named {name!r}; containers on this engine: {shown}"
    return f"no Docker container named {name!r}, and the engine has no containers (`docker ps -a`)"


def _container_name(inspect: dict[str, Any], asked: str) -> str:
    """The container's own name (what `docker ps` shows), or what was asked for."""
    return str(inspect.get("Name") or asked).lstrip("/") or asked


def _temp_dir() -> Path:
    """A private temp folder removed when the process exits."""
    path = Path(tempfile.mkdtemp(prefix="mldoctor-docker-"))
    atexit.register(shutil.rmtree, path, True)
    return path


# --- logs ------------------------------------------------------------------------------------


def _collect_logs(client: Any, inspect: dict[str, Any], raw: DockerRaw, workdir: Path,
                  cap: int | None, progress: Progress | None, growing: Writer | None = None) -> None:
    """Stream stdout+stderr with timestamps into a temp file, keeping the last `cap` bytes like bundles do."""
    path = workdir / f"{raw.name}.logs.txt"
    assert raw.now is not None
    sink = TailSink(path, cap if cap is not None else _default_cap(), progress, _log_file_size(inspect), growing)
    try:
        for block in _log_blocks(client, inspect, raw.since, raw.now):
            sink.write(block)
            note_missing_paths(block, raw.missing_paths)  # while streaming: no second pass over the file
    except Exception as exc:  # a broken stream still leaves what was read usable
        raw.errors.append(CollectorError("docker-logs", f"{raw.name}: {_short(exc)}"))
    raw.log_truncated = sink.finish()
    raw.log_path, raw.log_bytes, raw.log_streamed = path, path.stat().st_size, sink.streamed


def _default_cap() -> int:
    """The same cap the bundle reader applies, so a live check and its bundle scan the same bytes."""
    from doctor.logs import MAX_LOG_BYTES

    return MAX_LOG_BYTES


def _log_file_size(inspect: dict[str, Any]) -> int | None:
    """Size of the engine's json-file log, when it is on this machine and readable: a progress total."""
    try:
        return os.stat(str(inspect.get("LogPath") or "")).st_size or None
    except OSError:
        return None


def _log_blocks(client: Any, inspect: dict[str, Any], since: datetime | None, until: datetime) -> Iterator[bytes]:
    """The container's log (stdout and stderr, with timestamps) as blocks of whole lines."""
    params: dict[str, Any] = {"stdout": 1, "stderr": 1, "timestamps": 1, "follow": 0, "tail": "all",
                              "until": f"{until.timestamp():.9f}"}
    if since is not None:
        params["since"] = f"{since.timestamp():.9f}"
    sock_path = _unix_socket_path(client)
    if sock_path:
        path = f"/v{client.api._version}/containers/{inspect['Id']}/logs?{urlencode(params)}"
        chunks = unix_get(sock_path, path)
    else:
        chunks = sdk_get(client, inspect["Id"], params)
    tty = bool((inspect.get("Config") or {}).get("Tty"))
    try:
        yield from (chunks if tty else demux(chunks))
    finally:
        close_quietly(chunks)


def _unix_socket_path(client: Any) -> str | None:
    """The engine's unix socket when the client talks to one (the usual local case), else None."""
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if not host.startswith("unix://") or not str(client.api.base_url).startswith("http+docker://"):
        return None
    path = host[len("unix://"):]
    return path if os.path.exists(path) else None


def note_missing_paths(block: bytes, found: list[str], limit: int = 20) -> None:
    """Add the model paths this block of log lines says are missing to `found` (first seen first)."""
    if len(found) >= limit or not any(hint in block for hint in _MISSING_HINTS):
        return
    for match in _MISSING_PATH.finditer(block):
        text = next(g for g in match.groups() if g).decode("utf-8", "replace")
        if text not in found and len(found) < limit:
            found.append(text)


# --- events ----------------------------------------------------------------------------------


def _collect_events(client: Any, inspect: dict[str, Any], raw: DockerRaw) -> None:
    """The engine's events about this container in the window; a failure becomes a CollectorError."""
    start = raw.since or _created(inspect) or raw.now
    assert raw.now is not None and start is not None
    try:
        stream = client.api.events(since=int(start.timestamp()), until=int(raw.now.timestamp()) + 1,
                                   filters={"container": inspect["Id"]}, decode=True)
        for obj in stream:
            raw.events.append(obj)
            if len(raw.events) >= MAX_EVENTS:
                break
        close_quietly(stream)
    except Exception as exc:  # events are optional evidence
        raw.errors.append(CollectorError("docker-events", f"{raw.name}: {_short(exc)}"))


def _created(inspect: dict[str, Any]) -> datetime | None:
    """When the container was created."""
    from doctor.convert import parse_time

    return parse_time(inspect.get("Created"))


# --- model folder ----------------------------------------------------------------------------


def _collect_model_listing(client: Any, inspect: dict[str, Any], raw: DockerRaw) -> None:
    """When the log names a missing model path, list what exists in the model folder (archive API)."""
    if not raw.missing_paths:
        return
    env = dict(item.partition("=")[::2] for item in (inspect.get("Config") or {}).get("Env") or [])
    root = model_root(raw.missing_paths[0], env, (inspect.get("Config") or {}).get("WorkingDir") or "")
    try:
        existing = _nearest_existing(client, inspect["Id"], root)
        if existing is None:
            raw.model_listing = [f"# nothing exists at {root} or above it"]
            return
        raw.model_listing = _list_dir(client, inspect["Id"], existing)
    except Exception as exc:  # the listing only adds detail to a finding
        raw.errors.append(CollectorError("docker-archive", f"{raw.name}: listing {root}: {_short(exc)}"))


def model_root(missing: str, env: dict[str, str], workdir: str) -> str:
    """The folder worth listing for a missing model path: the `azureml-models` root when in it."""
    app_root = env.get("AML_APP_ROOT") or APP_ROOT
    path = missing if missing.startswith("/") else posixpath.join(app_root, missing)
    path = posixpath.normpath(path)
    marker = "/azureml-models"
    if marker in path:
        return path[: path.index(marker) + len(marker)]
    model_dir = env.get("AZUREML_MODEL_DIR")
    if model_dir and path.startswith(model_dir.rstrip("/") + "/"):
        return model_dir.rstrip("/")
    return posixpath.dirname(path) or "/"


def _nearest_existing(client: Any, cid: str, path: str) -> str | None:
    """`path` or its closest existing ancestor below `/`, asked through the archive stat (HEAD)."""
    import docker

    while path not in ("", "/"):
        try:
            _stat(client, cid, path)
            return path
        except docker.errors.NotFound:
            path = posixpath.dirname(path)
    return None


def _stat(client: Any, cid: str, path: str) -> dict[str, Any]:
    """The archive API's stat of one path (HEAD /containers/ID/archive): raises NotFound when absent."""
    api = client.api
    response = api.head(api._url("/containers/{0}/archive", cid), params={"path": path})
    api._raise_for_status(response)
    header = response.headers.get("x-docker-container-path-stat") or ""
    return dict(json.loads(base64.b64decode(header) or b"{}")) if header else {}


def _list_dir(client: Any, cid: str, path: str) -> list[str]:
    """Every path under `path` inside the container, one per line, directories with a trailing `/`."""
    stream, _ = client.api.get_archive(cid, path, chunk_size=STREAM_CHUNK)
    reader = _ChunkReader(stream, MAX_LISTING_BYTES)
    parent = posixpath.dirname(path.rstrip("/"))
    lines: list[str] = []
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
            for member in tar:
                lines.append(posixpath.join(parent, member.name) + ("/" if member.isdir() else ""))
                if len(lines) >= MAX_LISTING:
                    lines.append(f"# listing cut at {MAX_LISTING} entries")
                    break
    except (tarfile.ReadError, _ListingCut):
        lines.append(f"# listing cut after {MAX_LISTING_BYTES >> 20} MiB of archive")
    finally:
        close_quietly(stream)
    return lines


class _ListingCut(Exception):
    """The archive grew past what a listing is worth reading."""


class _ChunkReader:
    """A read-only file over an iterator of byte chunks, stopping after `limit` bytes."""

    def __init__(self, chunks: Iterable[bytes], limit: int) -> None:
        self._chunks, self._buf, self._read, self._limit = iter(chunks), b"", 0, limit

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all that is left when negative)."""
        while size < 0 or len(self._buf) < size:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._read += len(chunk)
            if self._read > self._limit:
                raise _ListingCut()
            self._buf += chunk
        size = len(self._buf) if size < 0 else size
        out, self._buf = self._buf[:size], self._buf[size:]
        return out


# --- bundle ----------------------------------------------------------------------------------


def collect_bundle(name: str, output: str | Path, since: datetime | None = None,
                   log_cap_bytes: int | None = None, progress: Progress | None = None) -> list[CollectorError]:
    """`mldoctor collect docker:NAME`: the bundle as a .tar.gz at `output` (written whole or not at all)."""
    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="mldoctor-docker-bundle-") as tmp:
        raw = collect_docker_raw(name, since, log_cap_bytes, progress, workdir=Path(tmp) / "work")
        root = Path(tmp) / "bundle"
        root.mkdir()
        write_docker_bundle(raw, root)
        write_manifest(raw, root)
        partial = output.with_name(output.name + ".part")
        with tarfile.open(partial, "w:gz") as tar:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    tar.add(path, arcname=str(path.relative_to(root)))
        partial.replace(output)
    return raw.errors
