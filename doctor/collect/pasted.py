"""Evidence in the form people paste it, recognised by content: a bundle's `pasted/`, `deploy/` and `client/` files,
`mldoctor check paste.txt` (a single text file, read as `pasted/paste.txt`) and `--evidence FILE`.

A file may hold `kubectl describe` text, `kubectl get events|pods` tables, several logs one after the other, a deploy
command's output, a scoring client's output; each becomes the same records the JSON bundle gives. Logs stay in the
file (byte ranges, streamed by the scanner). A file nothing could be taken from is named in the report's notes.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from doctor.collect import client_output, deploy_output, node_query
from doctor.collect.describe_kinds import describe
from doctor.collect.kubectl_describe import UNNAMED_POD
from doctor.collect.kubectl_tables import EventTable, PodTable, ReadyTable
from doctor.collect.paste_split import Part, bare_event, split
from doctor.collect.pasted_objects import add_objects, objects_of, terminated_fragments
from doctor.errors import InputError
from doctor.evidence import ContainerState, Event, Evidence, LogSource, Target
from doctor.logs import Range

PLACES = ("pasted", "deploy", "client")
MAX_TEXT_BYTES = 16 * 1024 * 1024  # deploy and client output are read whole up to this (their error is in the text)


def read_file(path: Path, label: str, place: str, evidence: Evidence) -> None:
    """Add what the file at `path` holds to `evidence`; a note naming it when nothing in it could be used."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(min(size, MAX_TEXT_BYTES))
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", label) from None
    why = _unusable(head)
    if why:
        evidence.notes.append(f"{label}: not used: {why}")
        return
    text = head.decode("utf-8", "replace")
    if place != "client" and size <= MAX_TEXT_BYTES and add_objects(objects_of(text), label, evidence):
        return  # `kubectl get -o yaml|json` output: the objects themselves, as in k8s/*.json
    used = _client(text, label, place, evidence)
    if place == "pasted" and (fragments := terminated_fragments(text, label)):
        evidence.states.extend(fragments)
        used = True
    if place != "client":
        facts = deploy_output.read_deploy_output(text, label, placed=place == "deploy") + node_query.read_node_queries(text, label)
        evidence.configs.extend(facts)
        # a log of JSON records whose messages span lines (a traceback in one record), or a log posted as a string
        # literal (one long line): its lines, in place of the text as posted
        records = json_record_log(text) if size <= MAX_TEXT_BYTES else None
        unescaped = escaped_log(text) if size <= MAX_TEXT_BYTES and records is None else None
        used = _pasted(path, label, size, evidence, logs=records is None and unescaped is None) or used or bool(facts)
        if records is not None:
            evidence.logs.append(LogSource.from_bytes(f"{label} (its JSON records' messages)", "pasted", records.encode()))
            used = True
        if unescaped is not None:
            evidence.logs.append(LogSource.from_bytes(f"{label} (its \\n as line breaks)", "pasted", unescaped.encode()))
            used = True
    if not used:
        evidence.notes.append(f"{label}: not used: " + (
            "no HTTP answer (`curl -i` status line, `HTTPError: 502 ...`, `Response Code: 502`) found" if place == "client"
            else "no kubectl describe/get output, log text, deploy or client output recognised"))


_ESCAPES = {"\\n": "\n", "\\t": "\t", '\\"': '"', "\\'": "'", "\\\\": "\\"}
_ESCAPE = re.compile(r"\\[nt\"'\\]")


def escaped_log(text: str) -> str | None:
    """A log posted as a string literal (a notebook showing `service.get_logs()` without print, a JSON field): its lines
    joined by literal `\\n`. The text with those escapes undone when they outnumber its real line breaks (at least 3),
    else None."""
    literal = text.count("\\n")
    if literal < 3 or literal <= text.count("\n"):
        return None
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], text)


_MESSAGE_KEYS = ("message", "msg", "log")
_TIME_KEYS = ("timestamp", "time", "@timestamp", "asctime")
_LEVEL_KEYS = ("level", "levelname", "severity")
_LOGGER_KEYS = ("logger", "logger_name", "name")


def json_record_log(text: str) -> str | None:
    """A log whose lines are JSON records, one object a line, with a message spanning lines in at least one (the
    Azure ML v1 images of 2018-2019, whose `get_logs()` shows `{"timestamp": …, "message": "{\\"requestId\\": …,
    \\"message\\": \\"Encountered Exception Traceback …\\\\n  File …\\"}", "level": "ERROR", …}`): each record as
    `TIME LEVEL LOGGER - MESSAGE`, the JSON of a message that is itself a record unwrapped (one level), its line breaks
    kept, so that a traceback logged in one record reads as it was printed. Lines that are no record stay as they
    are. None when no record's message spans lines: its lines are then read as posted."""
    lines = text.split("\n")
    if not any("\\n" in line and line.lstrip().startswith("{") for line in lines):
        return None
    out: list[str] = []
    spans = False
    for line in lines:
        record = _json_record(line)
        if record is None:
            out.append(line)
            continue
        spans = spans or "\n" in record
        out.append(record)
    return "\n".join(out) if spans else None


def _json_record(line: str) -> str | None:
    """One JSON log record as `TIME LEVEL LOGGER - MESSAGE` (the parts it has), or None when the line is no record."""
    stripped = line.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        record = json.loads(stripped)
    except ValueError:
        return None
    message = _field(record, _MESSAGE_KEYS) if isinstance(record, dict) else None
    if message is None:
        return None
    inner = message.strip()
    if inner.startswith("{") and inner.endswith("}"):  # the message is a record of its own (the v1 server's logger)
        try:
            nested = json.loads(inner)
        except ValueError:
            nested = None
        if isinstance(nested, dict):
            message = _field(nested, _MESSAGE_KEYS) or message
    head = " ".join(x for x in (_field(record, _TIME_KEYS), _field(record, _LEVEL_KEYS), _field(record, _LOGGER_KEYS)) if x)
    message = message.replace("\r\n", "\n").rstrip("\n")
    return f"{head} - {message}" if head else message


def _field(record: dict, keys: tuple[str, ...]) -> str | None:
    return next((record[k] for k in keys if isinstance(record.get(k), str)), None)


def _unusable(head: bytes) -> str:
    if not head.strip():
        return "empty"
    if b"\0" in head[:8192]:
        return "not text (binary content)"
    return ""


def _client(text: str, label: str, place: str, evidence: Evidence) -> bool:
    facts, logs = client_output.read_client_output(text, label, pasted=place == "pasted") if place in ("client", "pasted") \
        else ([], [])
    evidence.configs.extend(facts)
    evidence.logs.extend(logs)
    return bool(facts)


def _pasted(path: Path, label: str, size: int, evidence: Evidence, logs: bool = True) -> bool:
    """The describe blocks, tables and logs (unless `logs` is false) of a pasted text; True when anything was taken."""
    with open(path, "rb") as handle:
        parts = split(handle)
    log_parts = [p for p in parts if p.kind == "log"]
    described: set[str] = set()
    file_states: list[ContainerState] = []
    table_states: list[ContainerState] = []
    events: list[Event] = []
    for part in parts:
        source = label if part.first_line == 1 else f"{label}:{part.first_line}"
        if part.kind == "describe":
            found = describe(part.lines, source)
            file_states.extend(found.states)
            evidence.nodes.extend(found.nodes)
            evidence.configs.extend(found.configs)
            evidence.workloads.extend(found.workloads)
            evidence.pvcs.extend(found.pvcs)
            evidence.autoscalers.extend(found.autoscalers)
            events.extend(found.events)
            described |= {s.pod for s in found.states if s.pod}
        elif part.kind == "events":
            table = EventTable(part.lines[0], source)
            for line in part.lines[1:]:
                table.feed(line)
            events.extend(table.events())
        elif part.kind == "pods":
            pods = PodTable(part.lines[0], source)
            for line in part.lines[1:]:
                pods.feed(line)
            table_states.extend(pods.states())
        elif part.kind == "ready":
            ready = ReadyTable(part.lines[0], source)
            for line in part.lines[1:]:
                ready.feed(line)
            evidence.workloads.extend(ready.workloads())
        if part.cut:
            evidence.notes.append(f"{source}: longer than {len(part.lines)} lines; the rest was not read")
    rows = [s for s in table_states if s.container not in described]
    evidence.states.extend(adopt_fragment(file_states, rows))
    for part in log_parts:
        events.extend(_bare_events(part, label))
    evidence.events.extend(unique_events(events))
    if not logs:
        return bool(parts)
    sources = [_log_source(path, label, part, len(log_parts), size) for part in log_parts]
    evidence.logs.extend(sources)
    evidence.notes.extend(f"{s.name}: reads as a bug report's text (its headings, no log line): rules read it, but it "
                          "is no sign that the service runs; add the service's own log" for s in sources if s.prose)
    return bool(parts)


def adopt_fragment(states: list[ContainerState], rows: list[ContainerState]) -> list[ContainerState]:
    """States plus the `kubectl get pods` rows; one pasted container block that names no pod or container (`Last
    State: Terminated / Reason / Message / Exit Code`, copied out of a describe) beside exactly one pod row is that
    pod's: its fields fill what the row lacks and the two are one state."""
    fragments = [s for s in states if s.pod == UNNAMED_POD]
    if len(fragments) != 1 or len(rows) != 1:
        return [*states, *rows]
    frag, row = fragments[0], rows[0]
    fill = {name: getattr(frag, name) for name in ("last_reason", "last_exit_code", "last_message", "last_started_at",
                                                  "last_finished_at", "message", "exit_code", "memory_limit_bytes",
                                                  "memory_request_bytes", "image")
            if getattr(row, name) in (None, "") and getattr(frag, name) not in (None, "")}
    return [*(s for s in states if s is not frag), replace(row, **fill)]


def _bare_events(part: Part, label: str) -> list[Event]:
    """Kubelet / scheduler messages pasted without their table, as the events they come from (object: the log's pod)."""
    from doctor.convert import k8s_event

    out = []
    for text in part.bare_events:
        reason, kind, message = bare_event(text) or ("", "Normal", text)
        raw = {"involvedObject": {"kind": "Pod", "name": part.pod}, "reason": reason, "type": kind, "message": message}
        out.append(k8s_event(raw, f"{label}:{part.first_line}"))
    return out


def unique_events(events: list[Event]) -> list[Event]:
    """Events de-duplicated (the same event in describe's table and in `kubectl get events`), the larger count kept."""
    best: dict[tuple[str, str, str, str], Event] = {}
    for event in events:
        key = (event.object_kind, event.object_name, event.reason, event.message)
        if key not in best or event.count > best[key].count:
            best[key] = event
    return list(best.values())


def _log_source(path: Path, label: str, part: Part, count: int, size: int) -> LogSource:
    """A log part as a LogSource over its byte range of the file (streamed, never loaded whole)."""
    from doctor.logs import MAX_LOG_BYTES

    name = label if count == 1 and part.start == 0 and part.end == size else f"{label}:{part.first_line}-{part.last_line}"
    container = "/".join(x for x in (part.pod, part.container) if x) or "pasted"
    start = max(part.start, part.end - MAX_LOG_BYTES)
    opener = _range_opener(path, start, part.end)
    with opener() as stream:
        head = stream.read(PROSE_BYTES).decode("utf-8", "replace")
    return LogSource(name, container, opener, previous=part.previous, size=part.end - start, prose=is_report_prose(head))


PROSE_BYTES = 64 * 1024  # of a pasted part read to tell a bug report's text from a log
# the headings of an issue template (GitHub's bug report: `**To Reproduce**`, `### Expected behavior`, …)
_REPORT_HEADING = re.compile(r"^\s{0,3}(?:\*\*|#{1,4} )(?:To Reproduce|Steps to reproduce|Expected behaviou?r|Describe the bug|"
                             r"Actual behaviou?r|Additional context|System Info|Reproduction|Environment)\b",
                             re.MULTILINE | re.IGNORECASE)
# what a log line has and a sentence does not: a time, a level, a traceback, an HTTP request, a server's marker
_LOG_MARK = re.compile(r"^\s*\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d|^[IWEFD]\d{4} \d\d:\d\d|\b(?:INFO|WARN|WARNING|ERROR|DEBUG|"
                       r"CRITICAL|FATAL)\b|\[(?:I|W|E|info|warn|error)\]|Traceback \(most recent call last\)|"
                       r'^\s*File "[^"\n]+", line \d+|^\s*(?:[\w.]+\.)?\w+(?:Error|Exception): |"(?:GET|POST|PUT|HEAD) \S+ HTTP/|'
                       r"^(?:Error|error|panic|fatal): ", re.MULTILINE)


def is_report_prose(text: str) -> bool:
    """Whether a pasted text is a bug report's prose (an issue template's headings) with no log line in it: what
    the reporter says happened, which is no sign that the service runs (docs/contract.md "Status")."""
    return _REPORT_HEADING.search(text) is not None and _LOG_MARK.search(text) is None


def _range_opener(path: Path, start: int, end: int) -> Callable[[], BinaryIO]:
    def opener() -> BinaryIO:
        handle = open(path, "rb")
        handle.seek(start)
        return io.BufferedReader(Range(handle, end - start))  # type: ignore[return-value]

    return opener


def read_places(root: Path, files: Callable[[Path], list[tuple[Path, str]]], evidence: Evidence) -> None:
    """A bundle's `pasted/`, `deploy/` and `client/` files (listed by the bundle reader's `files`), read by content."""
    for place in PLACES:
        base = root / place
        if base.is_dir():
            for path, rel in files(base):
                read_file(path, rel, place, evidence)


def open_pasted(path: Path) -> Evidence:
    """A single text file as a target: read as `pasted/NAME` of a bundle holding only it."""
    from doctor.evidence import latest_time

    if not path.is_file():
        raise InputError("not a regular file", str(path))
    evidence = Evidence(Target("bundle", str(path)))
    read_file(path, f"pasted/{path.name}", "pasted", evidence)
    evidence.now = latest_time(evidence)
    return evidence


def add_evidence_files(evidences: list[Evidence], names: list[str]) -> None:
    """`--evidence FILE`: pasted, deploy or client text added to every target's evidence, recognised by content."""
    for name in names:
        path = Path(name)
        if not path.is_file():
            raise InputError("no such evidence file", name)
        for evidence in evidences:
            read_file(path, name, "pasted", evidence)
