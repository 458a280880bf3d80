"""Column tables as kubectl prints them: `kubectl get events`, `kubectl get pods`, and the Events table of
`kubectl describe`, turned into the same Event / ContainerState records the JSON gives.

kubectl aligns columns with spaces (tabwriter); old versions and some pastes use tabs. A row is cut at the
header's column starts when it lines up with them, else split on runs of two or more spaces or tabs. Every
regular expression here is linear: no nested quantifiers over untrusted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from doctor.convert import parse_http_date
from doctor.evidence import ContainerState, Event, StatusCondition, Workload

_GAP = re.compile(r"\t+ *| {2,}\t*")
_COUNT = re.compile(r"\(x(\d+) (?:over|from|starting) [^)]{0,40}\)")  # 1.7 printed `(x3 from 1h)`, later `(x3 over 1h)`
_RESTARTS = re.compile(r"^(\d+)")
_READY = re.compile(r"^(\d+)/(\d+)$")
_WHEN = re.compile(r"^(?:[A-Z][a-z]{2}, \d|\d+[smhd]|<)")  # an absolute time, an age, or <unknown>/<invalid>
_LOG_START = re.compile(r"^\[?\d{4}-\d\d-\d\d[T ]\d")
EVENT_TYPES = ("Normal", "Warning", "Error")
# Reasons the kubelet and the scheduler only ever report as Warning: a row pasted without its Type column keeps that.
WARNING_REASONS = frozenset({"FailedScheduling", "Unhealthy", "Failed", "FailedMount", "FailedAttachVolume",
                             "FailedBinding", "ProvisioningFailed", "FailedCreatePodSandBox", "FailedSync",
                             "FailedKillPod", "OOMKilling", "Evicted", "BackoffLimitExceeded"})
# `kubectl get events` OBJECT column (`pod/scorer-1`) and old KIND column, as the API spells the kind.
KINDS = {k.lower(): k for k in ("Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "Node",
                                "Service", "Endpoints", "HorizontalPodAutoscaler", "PersistentVolumeClaim",
                                "PersistentVolume", "ConfigMap", "Ingress", "Namespace", "ReplicationController")}


@dataclass(frozen=True)
class Header:
    """A table header: the column names (upper-cased) and where each starts on the line."""

    names: tuple[str, ...]
    starts: tuple[int, ...]
    tabbed: bool


def header_of(line: str) -> Header:
    """The columns of a header line (`LAST SEEN   TYPE   REASON ...`, `Type  Reason  Age  From  Message`)."""
    body = line.rstrip()
    names, starts, pos = [], [], 0
    for cell in _GAP.split(body):
        at = body.find(cell, pos) if cell else pos
        if cell.strip():
            names.append(cell.strip().upper())
            starts.append(at)
        pos = at + len(cell)
    return Header(tuple(names), tuple(starts), "\t" in body)


def is_event_header(line: str) -> bool:
    """A `kubectl get events` header, or the header of describe's Events table (any kubectl version)."""
    names = set(header_of(line).names)
    return {"REASON", "MESSAGE"} <= names and bool(names & {"TYPE", "LAST SEEN", "LASTSEEN", "FIRSTSEEN", "AGE", "COUNT"})


# A row of describe's Events table or of `kubectl get events`, pasted without its header line.
_DESCRIBE_ROW = re.compile(r"^\s*(?:Normal|Warning)(?: {2,}|\t+)[A-Z]\w{1,80}(?: {2,}|\t+)\S")
# A describe row whose Type was left out: Reason, Age (`2m21s (x42 over 60m)`), From, Message.
_REASON_ROW = re.compile(r"^\s*[A-Z][A-Za-z]{2,80}(?: {2,}|\t+)(?:\d+[smhd][\dsmhd]{0,12}|<unknown>)(?: \(x\d+ over [^)]{1,20}\))?"
                         r"(?: {2,}|\t+)\S")
REASON_HEADER = "  Reason     Age     From     Message"
_GET_ROW = re.compile(r"^\S{1,40}(?: {2,}|\t+)(?:Normal|Warning)(?: {2,}|\t+)\w{2,80}(?: {2,}|\t+)[a-z.]{2,60}/\S")
DESCRIBE_HEADER = "  Type     Reason     Age     From     Message"
GET_HEADER = "LAST SEEN   TYPE      REASON     OBJECT     MESSAGE"


def headerless_event_header(line: str) -> str:
    """The header an events row pasted without one would have had ('' when the line is not such a row)."""
    if _DESCRIBE_ROW.match(line):
        return DESCRIBE_HEADER
    if _REASON_ROW.match(line):
        return REASON_HEADER
    return GET_HEADER if _GET_ROW.match(line) else ""


# A `kubectl get pods` row pasted without its header: NAME READY STATUS RESTARTS AGE, maybe after NAMESPACE (-A).
_POD_ROW = re.compile(r"^(?:\S{1,253}(?: {2,}|\t+))?\S{1,253}(?: {2,}|\t+)\d{1,3}/\d{1,3}(?: {2,}|\t+)[A-Za-z][\w:/-]{1,60}"
                      r"(?: {2,}|\t+)\d{1,9}\b")
POD_HEADERS = ("NAME   READY   STATUS   RESTARTS   AGE", "NAMESPACE   NAME   READY   STATUS   RESTARTS   AGE")


def headerless_pods_header(line: str) -> str:
    """The header a `kubectl get pods` row pasted without one would have had ('' when the line is not such a row)."""
    if not _POD_ROW.match(line):
        return ""
    return POD_HEADERS[1] if _READY.match(_GAP.split(line.strip())[2] if len(_GAP.split(line.strip())) > 2 else "") \
        else POD_HEADERS[0]


def is_pods_header(line: str) -> bool:
    """A `kubectl get pods` header: NAME READY STATUS RESTARTS AGE."""
    names = header_of(line).names
    return names[:1] in (("NAME",), ("NAMESPACE",)) and {"READY", "STATUS", "RESTARTS"} <= set(names)


# Custom resources whose table says only whether the object is ready (`kubectl get inferenceservices` / `ksvc` /
# `revisions`): the columns that tell which kind it is.
_ISVC_COLUMNS = frozenset({"PREV", "LATEST", "PREVROLLEDOUTREVISION", "LATESTREADYREVISION", "DEFAULT TRAFFIC",
                           "CANARY TRAFFIC"})
_READY_COLUMNS = _ISVC_COLUMNS | {"URL", "REASON", "LATESTCREATED", "LATESTREADY"}
_AGE_PART = re.compile(r"(\d{1,7})([smhdy])")
_AGE = re.compile(r"^(?:\d{1,7}[smhdy]){1,4}$")
_AGE_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}


def is_ready_header(line: str) -> bool:
    """The header of a table whose READY column is True/False/Unknown: `kubectl get inferenceservices` (NAME URL READY
    PREV LATEST … AGE, or the v1alpha2 DEFAULT TRAFFIC / CANARY TRAFFIC), Knative's `kubectl get ksvc` (NAME URL
    LATESTCREATED LATESTREADY READY REASON)."""
    names = header_of(line).names
    return (names[:1] in (("NAME",), ("NAMESPACE",)) and "READY" in names and "STATUS" not in names
            and "RESTARTS" not in names and bool(_READY_COLUMNS & set(names)))


def age_seconds(text: str) -> float | None:
    """kubectl's AGE (`61s`, `3m54s`, `12h`, `2d3h`) in seconds; None when the cell is not one."""
    text = text.strip()
    if not _AGE.match(text):
        return None
    return float(sum(int(n) * _AGE_SECONDS[unit] for n, unit in _AGE_PART.findall(text)))


class ReadyTable:
    """Rows of a READY True/False/Unknown table (`is_ready_header`), as workloads with a `Ready` condition."""

    def __init__(self, header_line: str, source: str) -> None:
        self.header = header_of(header_line)
        self.source = source
        names = set(self.header.names)
        self.kind = "InferenceService" if names & _ISVC_COLUMNS else "Service" if "LATESTCREATED" in names else "Resource"
        self.rows: list[tuple[dict[str, str], float | None]] = []  # (cells, age in seconds)

    def feed(self, line: str) -> bool:
        """Take a row; False when the line is not one (its READY cell is not True, False or Unknown)."""
        row = cells(self.header, line)
        if row.get("READY") not in ("True", "False", "Unknown") and not self.header.tabbed:
            row = _sliced(self.header, line)  # empty cells (no URL yet) leave gaps the split cannot place
        if row.get("READY") not in ("True", "False", "Unknown") or not row.get("NAME"):
            return False
        self.rows.append((row, self._age(row, line)))
        return True

    def workloads(self) -> list[Workload]:
        """One workload per row: its kind, name, `Ready` condition (with REASON when the table has it) and age."""
        return [Workload(self.source, self.kind, row["NAME"],
                         conditions=(StatusCondition("Ready", row["READY"], row.get("REASON") or None),),
                         age_s=age)
                for row, age in self.rows]

    def _age(self, row: dict[str, str], line: str) -> float | None:
        """The AGE cell; when the header ends with AGE, the row's last word (a hand-aligned paste shifts it)."""
        if self.header.names[-1:] == ("AGE",):
            return age_seconds(line.split()[-1])
        return age_seconds(row.get("AGE", ""))


def _sliced(header: Header, line: str) -> dict[str, str]:
    """The row cut at the header's column starts (tabwriter's layout, empty cells included)."""
    row = line.rstrip()
    bounds = zip(header.starts, header.starts[1:] + (max(len(row), header.starts[-1]),))
    return {name: row[a:b].strip() for name, (a, b) in zip(header.names, bounds)}


def cells(header: Header, line: str) -> dict[str, str]:
    """The row's cells by column name; the last column takes the rest of the line."""
    row = line.rstrip("\n").rstrip()
    if not header.tabbed and _aligned(header, row):
        parts = [row[a:b] for a, b in zip(header.starts, header.starts[1:] + (len(row),))]
    else:
        parts = _GAP.split(row.strip())
        if len(parts) > len(header.names):
            parts = parts[:len(header.names) - 1] + ["  ".join(parts[len(header.names) - 1:])]
        elif len(parts) < len(header.names):
            return _from_both_ends(header.names, parts)
    return {name: part.strip() for name, part in zip(header.names, parts)}


def _aligned(header: Header, row: str) -> bool:
    """True when every column start falls right after a space of the row (or at its start)."""
    if len(row) <= header.starts[-1]:
        return False
    # tabwriter leaves two spaces or more between cells: one space is inside a cell (`kubelet, node-1`)
    return all(start == 0 or row[start - 2:start] == "  " and row[start] not in " \t" for start in header.starts)


_OFTEN_EMPTY = ("SUBOBJECTPATH", "SUBOBJECT", "FROM", "SOURCE")


def _from_both_ends(names: tuple[str, ...], parts: list[str]) -> dict[str, str]:
    """A row with empty cells (their gaps collapsed): the columns that are often empty are dropped until the cells
    fit; what still does not fit is read from the left."""
    kept = list(names)
    for name in _OFTEN_EMPTY:
        if len(kept) > len(parts) and name in kept and kept.index(name) < len(kept) - 1:
            kept.remove(name)
    return dict(zip(kept, parts))


def count_of(text: str) -> int:
    """The repeat count in `4m53s (x72 over 20m)`, else 1."""
    match = _COUNT.search(text)
    return int(match.group(1)) if match else 1


def k8s_time(text: str) -> datetime | None:
    """A time as kubectl describe prints it (`Mon, 13 Dec 2021 18:02:32 -0800`) or RFC 3339; None otherwise."""
    from doctor.convert import parse_time

    text = text.strip()
    if not text or text.startswith("<"):
        return None
    try:
        return parse_http_date(text)
    except (TypeError, ValueError, IndexError):
        return parse_time(text)


# --- events ------------------------------------------------------------------------------------


class EventTable:
    """Rows of an events table (get events, or describe's Events) read one line at a time."""

    def __init__(self, header_line: str, source: str, kind: str = "", name: str = "") -> None:
        self.header = header_of(header_line)
        self.source, self.kind, self.name = source, kind, name
        self.rows: list[dict[str, str]] = []

    def feed(self, line: str) -> bool:
        """Take a row (or a continuation of the last row's message); False when the line is not part of the table."""
        stripped = line.strip()
        if not stripped:
            return False
        if set(stripped) <= set("- \t"):  # the ---- underline
            return True
        row = cells(self.header, line)
        if self._is_row(row):
            self.rows.append(row)
            return True
        if self.rows and not _LOG_START.match(stripped) and not _looks_like_header(stripped):
            last = self.rows[-1]  # a message printed over several lines
            last["MESSAGE"] = (last.get("MESSAGE", "") + "\n" + stripped).strip()
            return True
        return False

    def _is_row(self, row: dict[str, str]) -> bool:
        if "TYPE" in self.header.names:
            return row.get("TYPE") in EVENT_TYPES
        if self.header.names[0] == "REASON":  # a row pasted without its Type
            return bool(_WHEN.match(row.get("AGE", "")))
        first = row.get(self.header.names[0], "")
        return bool(row.get("REASON")) and bool(_WHEN.match(first))

    def events(self) -> list[Event]:
        """The rows as Events (kind and name from the OBJECT/KIND/NAME cells, else the described object)."""
        return [self._event(row) for row in self.rows]

    def _event(self, row: dict[str, str]) -> Event:
        from doctor.convert import format_time, k8s_event

        kind, name = self._object(row)
        first = k8s_time(row.get("FIRSTSEEN") or row.get("FIRST SEEN") or "")
        last = k8s_time(row.get("LASTSEEN") or row.get("LAST SEEN") or "") or first
        count = row.get("COUNT", "")
        raw = {"involvedObject": {"kind": kind, "name": name}, "reason": row.get("REASON", ""),
               "message": row.get("MESSAGE", ""),
               "type": row.get("TYPE") or ("Warning" if row.get("REASON") in WARNING_REASONS else "Normal"),
               "count": int(count) if count.isdigit() else count_of(row.get("AGE") or row.get("LAST SEEN") or row.get("LAST") or ""),
               "firstTimestamp": format_time(first), "lastTimestamp": format_time(last)}
        return k8s_event(raw, self.source)  # the same conversion as `kubectl get events -o json`

    def _object(self, row: dict[str, str]) -> tuple[str, str]:
        obj = row.get("OBJECT") or ""
        if "/" in obj:
            kind, _, name = obj.partition("/")
            return KINDS.get(kind.lower(), kind), name
        if row.get("KIND"):
            return KINDS.get(row["KIND"].lower(), row["KIND"]), row.get("NAME", "").split(".")[0]
        return self.kind, self.name


def _looks_like_header(text: str) -> bool:
    return text.isupper() or text.endswith(":")


# --- pods ------------------------------------------------------------------------------------

# STATUS column -> (container status, reason); `Init:X` is an init container's X.
_RUNNING, _WAITING = ("running", None), ("waiting", None)
_STATUS = {"Running": _RUNNING, "Pending": ("pending", None), "Completed": ("terminated", "Completed"),
           "Error": ("terminated", "Error"), "OOMKilled": ("terminated", "OOMKilled"),
           # a pod being deleted (scaled to zero, rolled, evicted): its containers stop on purpose, not ready
           "Terminating": ("running", "Terminating"), "Unknown": ("unknown", None)}


class PodTable:
    """Rows of `kubectl get pods` (any -o wide / -A variant) read one line at a time."""

    def __init__(self, header_line: str, source: str) -> None:
        self.header = header_of(header_line)
        self.source = source
        self.rows: list[dict[str, str]] = []

    def feed(self, line: str) -> bool:
        """Take a row; False when the line is not one."""
        row = cells(self.header, line)
        if not line.strip() or not _READY.match(row.get("READY", "")) or not row.get("STATUS"):
            return False
        self.rows.append(row)
        return True

    def states(self) -> list[ContainerState]:
        """One ContainerState per pod row (the container is not named in the table: the pod's name stands in, and is `pod`)."""
        return [pod_row_state(row, self.source) for row in self.rows]


def pod_row_state(row: dict[str, str], source: str) -> ContainerState:
    """A `kubectl get pods` row as the state of the pod's (unnamed) containers."""
    status_text = row["STATUS"]
    init = status_text.startswith("Init:")
    shown = status_text.removeprefix("Init:")
    status, reason = _STATUS.get(shown, ("waiting", shown))
    if init and shown[:1].isdigit():  # Init:0/1: init containers still running
        status, reason = "waiting", "PodInitializing"
    ready = _READY.match(row["READY"])
    restarts = _RESTARTS.match(row.get("RESTARTS", ""))
    phase = "Pending" if status in ("pending", "waiting") and (init or shown in ("Pending", "ContainerCreating")) \
        else "Failed" if shown in ("Evicted", "Error", "OOMKilled") else "Succeeded" if shown == "Completed" else "Running"
    return ContainerState(
        source=source, container=row.get("NAME", "?"), pod=row.get("NAME"), status=status, reason=reason,
        oom_killed=shown == "OOMKilled", restart_count=int(restarts.group(1)) if restarts else 0,
        ready=bool(ready) and ready.group(1) == ready.group(2) and ready.group(2) != "0", phase=phase, init=init,
        container_named=False)
