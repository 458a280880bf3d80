"""A pasted text cut into its parts, in one pass and bounded memory: `kubectl describe` blocks, `kubectl get events`
and `kubectl get pods` tables (kept as lines, each part capped), and log sections (kept as byte ranges of the file,
never loaded) split by the usual headers: `==> name <==`, a `kubectl logs POD -c C --previous` / `docker logs NAME`
command line, "Previous logs:" headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import BinaryIO

from doctor.collect.kubectl_tables import (
    headerless_event_header,
    headerless_pods_header,
    is_event_header,
    is_pods_header,
    is_ready_header,
)

MAX_LINE = 1024 * 1024  # a longer line is read in pieces: the first piece decides what it is
MAX_PART_LINES = 20000  # a describe block or a table longer than this is cut (noted)
MAX_BARE_EVENTS = 1000

# An optional shell prompt (`$ `, `user@host:~$ `, `PS C:\x> `, `# `) then the command.
# `!` is a notebook's shell escape; `[root@host dir]# ` a bash prompt with a space in it
_PROMPT = r"^\s*(?:PS [^>\n]{0,200}> ?|\[[^\]\n]{1,100}\] ?[$#] ?|[^\s$#>%]{0,100}[$#>%] ?|!)?"
_COMMAND = re.compile(_PROMPT + r"(?:[\w.-]{0,100}/){0,10}(kubectl|oc|docker|podman|az)(?:\.sh)?\s+(.*)$")
_TOOLS = ("kubectl", "oc ", "docker", "podman", "az ")  # cheap test before _COMMAND
_TAIL_HEADER = re.compile(r"^==> (\S{1,300}) <==\s*$")  # `tail -f a b`'s file names (conda's `==> WARNING: ... <==` is not one)
_HEADING = re.compile(r"^[#>*\s]{0,8}(?:(previous|current|last)\b[^:\n]{0,60}\blogs?\b"
                      r"|logs?\b[^:\n]{0,20}\b(?:of|from|for) (?:the )?(previous|current|crashed)\b[^:\n]{0,60})"
                      r"[^:\n]{0,40}:?\s*$", re.IGNORECASE)
_DESCRIBE_NAME = re.compile(r"^Name:\s+\S")
_FRAGMENT = re.compile(r"^\s+(?:State|Last State):\s+(?:Running|Waiting|Terminated)\b")
_TOP_KEY = re.compile(r"^[A-Z][A-Za-z()-]*(?: [A-Za-z][A-Za-z()-]*){0,3}:(?:\s|$)")
_SECTION = re.compile(r"^(?:Init Containers|Containers):\s*$")
# a container's block of `kubectl describe pod` pasted without its pod: its name line, then `Container ID:` (the
# runtime's URL), before any State line (SeldonIO/seldon-core#1676's `tfserving:` block)
_CONTAINER_ID = re.compile(r"^(\s+)Container ID:\s+[a-z][\w-]*://")
_CONTAINER_NAME = re.compile(r"^(\s*)[\w.-]+:\s*$")
_LOG_LIKE = re.compile(r"^(?:[\d\[]|Traceback|[A-Z]+[ :\[])")
_FENCE = re.compile(r"^\s*(?:```|~~~)")


@dataclass
class Part:
    """One part of the paste: `describe`, `events`, `pods` (with its lines) or `log` (a byte range)."""

    kind: str
    first_line: int
    lines: list[str] = field(default_factory=list)
    start: int = 0
    end: int = 0
    last_line: int = 0
    pod: str = ""
    container: str = ""
    previous: bool = False
    title: str = ""  # the header or command it came under
    cut: bool = False
    bare_events: list[str] = field(default_factory=list)  # kubelet/scheduler messages pasted without their table


@dataclass
class _Log:
    pod: str = ""
    container: str = ""
    previous: bool = False
    title: str = ""
    with_command: bool = False  # the command line is evidence itself (`docker run IMAGE /serve.sh`): the log's first line


def split(stream: BinaryIO) -> list[Part]:
    """The parts of the text in `stream`, in order (blank log parts left out)."""
    return _Splitter().run(stream)


class _Splitter:
    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.current: Part | None = None
        self.pending_log: _Log | None = None  # a header seen: the next lines are that log
        self.prev: tuple[str, int, int] = ("", 0, 0)  # the line before (text, offset, number)

    def run(self, stream: BinaryIO) -> list[Part]:
        offset, number = 0, 0
        while True:
            raw = stream.readline(MAX_LINE)
            if not raw:
                break
            number += 1
            self.line(raw.decode("utf-8", "replace").rstrip("\r\n"), offset, number)
            offset += len(raw)
        self.close(offset, number + 1)
        return [p for p in self.parts if p.kind != "log" or p.end > p.start]

    def close(self, offset: int, number: int) -> None:
        if self.current is not None:
            self.current.end, self.current.last_line = offset, number - 1
            if self.current.kind != "log" or self.current.end > self.current.start:
                self.parts.append(self.current)
        self.current = None

    def open_part(self, kind: str, offset: int, number: int, **kw: object) -> Part:
        self.close(offset, number)
        self.current = Part(kind, number, start=offset, **kw)  # type: ignore[arg-type]
        return self.current

    def line(self, text: str, offset: int, number: int) -> None:
        self._line(text, offset, number)
        self.prev = (text, offset, number)

    def _line(self, text: str, offset: int, number: int) -> None:
        if _FENCE.match(text):
            self.close(offset, number)
            return
        if self.header(text, offset, number):
            return
        if self.structured_start(text, offset, number):
            return
        cur = self.current
        if cur is not None and cur.kind != "log":
            more = self.continues(cur, text)
            if more and len(cur.lines) < MAX_PART_LINES:
                cur.lines.append(text)
                return
            cur.cut = more  # past the cap: what follows is read as log text
            self.close(offset, number)
        if self.current is None:
            if not text.strip() and self.pending_log is None:
                return
            log = self.pending_log or _Log()
            self.pending_log = None
            self.open_part("log", offset, number, pod=log.pod, container=log.container, previous=log.previous,
                           title=log.title)
        part = self.current
        if part is not None and len(text) < 8000 and len(part.bare_events) < MAX_BARE_EVENTS and bare_event(text):
            part.bare_events.append(text.strip())

    def header(self, text: str, offset: int, number: int) -> bool:
        """A header or command line: it opens what follows (it belongs to no part itself)."""
        tail = _TAIL_HEADER.match(text) if text.startswith("==>") else None
        heading = _HEADING.match(text) if len(text) < 160 and ("og" in text or "OG" in text) else None
        command = _COMMAND.match(text) if len(text) < 2000 and any(t in text for t in _TOOLS) else None
        if tail:
            name = tail.group(1).strip()
            log = _Log(container=name, previous="previous" in name.lower(), title=text.strip())
        elif heading:
            word = (heading.group(1) or heading.group(2) or "").lower()
            log = _Log(previous=word in ("previous", "last", "crashed"), title=text.strip())
        elif command:
            log = command_log(command.group(1), command.group(2))
            if log is None:  # `kubectl describe|get ...`: its output opens a part of its own
                self.close(offset, number)
                self.pending_log = None
                return True
        else:
            return False
        self.close(offset, number)
        self.pending_log = None if log.with_command else log
        if log.with_command:  # the command's output is the container's log; its image, script and flags are facts
            self.open_part("log", offset, number, pod=log.pod, container=log.container, title=log.title)
        return True

    def structured_start(self, text: str, offset: int, number: int) -> bool:
        """The first line of a describe block or a table."""
        in_describe = self.current is not None and self.current.kind == "describe"
        kind = ""
        if _DESCRIBE_NAME.match(text) and not (in_describe and len(self.current.lines) < 2):  # type: ignore[union-attr]
            kind = "describe"
        elif not in_describe and (_FRAGMENT.match(text) or _SECTION.match(text) or text.startswith("Events:")):
            kind = "describe"
        elif not in_describe and (block := _CONTAINER_ID.match(text)):
            name, at, line = self.prev
            named = _CONTAINER_NAME.match(name)
            self.pending_log = None
            if named and len(named.group(1)) < len(block.group(1)):  # the block opens at its name line
                self.open_part("describe", at, line).lines.extend([name, text])
            else:
                self.open_part("describe", offset, number).lines.append(text)
            return True
        elif not in_describe and len(text) < 400 and ("REASON" in text or "Reason" in text) and is_event_header(text):
            kind = "events"
        elif len(text) < 400 and "READY" in text and is_pods_header(text) and not in_describe:
            kind = "pods"
        elif len(text) < 400 and "READY" in text and is_ready_header(text) and not in_describe:
            kind = "ready"
        elif not in_describe and (self.current is None or self.current.kind != "events") and len(text) < 8000 \
                and "  " in text and headerless_event_header(text):
            self.pending_log = None
            self.open_part("events", offset, number).lines.extend([headerless_event_header(text), text])
            return True
        elif not in_describe and (self.current is None or self.current.kind != "pods") and len(text) < 2000 \
                and "/" in text and headerless_pods_header(text):
            self.pending_log = None
            self.open_part("pods", offset, number).lines.extend([headerless_pods_header(text), text])
            return True
        if not kind:
            return False
        self.pending_log = None
        self.open_part(kind, offset, number).lines.append(text)
        return True

    def continues(self, part: Part, text: str) -> bool:
        """Whether a line belongs to the describe block or table being read."""
        if not text.strip():
            return part.kind == "describe" and part.lines[-1:] != [""] and not _in_events(part)
        if part.kind == "describe":
            if _in_events(part):  # rows are indented; a message printed over several lines goes on at column 0
                return text[:1] in (" ", "\t") or not _LOG_LIKE.match(text) and not _TOP_KEY.match(text)
            return text[:1] in (" ", "\t") or bool(_TOP_KEY.match(text))
        if part.kind == "ready":  # `NAME  False  61s`: an empty URL leaves three cells
            return len(text.split()) >= 2
        if _PROMPTED.match(text):  # the next command of a terminal session (`user@host:~/dir$ kc logs POD`, an alias)
            return False
        return bool(text.strip()) and (part.kind == "events" or _row_like(text))


# Event messages of the kubelet and the scheduler, pasted on their own (a line that starts with one): the reason and
# type their event has (kubelet's events.go, the scheduler's FailedScheduling).
_BARE_EVENTS = [(re.compile(p), reason, kind) for p, reason, kind in (
    (r"^0/\d+ nodes are available: ", "FailedScheduling", "Warning"),
    (r"^pod has unbound immediate PersistentVolumeClaims", "FailedScheduling", "Warning"),
    (r"^Failed to pull image ", "Failed", "Warning"),
    (r"^Error: (?:ErrImagePull|ImagePullBackOff|InvalidImageName)\b", "Failed", "Warning"),
    (r"^Back-off pulling image ", "BackOff", "Normal"),
    (r"^Back-off restarting failed container", "BackOff", "Warning"),
    (r"^(?:Liveness|Readiness|Startup) probe (?:failed|errored)", "Unhealthy", "Warning"),
    (r"^MountVolume\.\w+ failed|^Unable to (?:attach or )?mount volumes", "FailedMount", "Warning"),
    (r"^AttachVolume\.Attach failed", "FailedAttachVolume", "Warning"),
    (r"^no persistent volumes available for this claim and no storage class is set", "FailedBinding", "Warning"),
    (r"^storageclass\.storage\.k8s\.io \"[^\"]{1,253}\" not found", "ProvisioningFailed", "Warning"),
    # the kubelet's eviction under node pressure, maybe after its table columns (`Warning  Evicted  ...`)
    (r"^(?:Warning\s+Evicted:?\s+(?:\S+\s+)?(?:kubelet\s+)?)?The node (?:was|had condition:?) (?:low on resource|\[?\w+Pressure)",
     "Evicted", "Warning"),
)]


# `Warning  Evicted  12m  kubelet  ` (an events table row's columns) or `Warning Evicted: ` before the message
_TABLE_COLUMNS = re.compile(r"^(?:Warning|Normal)\s+[A-Z]\w+:?\s+(?:(?:\S+\s+)?kubelet\s+)?")
_ANY_BARE = re.compile(r"^[\s_*`]{0,8}(?:0/|pod has|Failed to|Error: |Back-off|Liveness|Readiness|Startup|MountVolume|Unable to|"
                       r"AttachVolume|no persistent|storageclass|The node |Warning\s+Evicted)")  # one cheap test before the list


# The scheduler's message quoted inside other text (a JSON error's "message", a CI tool's sentence).
_NODES_AVAILABLE = re.compile(r"\d{1,6}/\d{1,6} nodes are available: [^\n\"]{1,4000}")


def bare_event(text: str) -> tuple[str, str, str] | None:
    """(reason, type, message) of a kubelet or scheduler event message pasted on its own line, or of the scheduler's
    `0/3 nodes are available: …` quoted inside a line; None for any other line."""
    if _ANY_BARE.match(text):
        stripped = text.strip().strip("_*`")
        for pattern, reason, kind in _BARE_EVENTS:
            if pattern.match(stripped):
                return reason, kind, _TABLE_COLUMNS.sub("", stripped, count=1)
    if "nodes are available" in text:
        quoted = _NODES_AVAILABLE.search(text)
        if quoted:
            return "FailedScheduling", "Warning", quoted.group(0).rstrip(" .,;)'")
    return None


def _in_events(part: Part) -> bool:
    return any(l.startswith("Events:") for l in part.lines[-200:]) or part.lines[:1] == ["Events:"]


# a shell prompt that names its user and host (`ubuntu@box:~/src$ `, `[root@box dir]# `, `(venv) me@box:~$ `) and a command
_PROMPTED = re.compile(r"^\s*(?:\([\w.-]{1,64}\) )?(?:\[[^\]\n]{1,100}\]|[\w.-]{1,64}@[\w.-]{1,64}(?::[^\s$#]{0,200})?)\s?[$#] \S")


def _row_like(text: str) -> bool:
    return len(text.split()) >= 4


_LOG_FLAGS = re.compile(r"(?:^|\s)(?:-p|--previous(?:=true)?)(?=\s|$)")
_CONTAINER_FLAG = re.compile(r"(?:^|\s)(?:-c|--container)[ =](\S+)")
_VALUE_FLAGS = frozenset({"-n", "--namespace", "-c", "--container", "--tail", "--since", "--context", "-l", "--selector",
                          "--since-time", "--kubeconfig", "-e", "--endpoint-name", "--name", "-g", "--resource-group",
                          "-w", "--workspace-name", "--lines", "--container-type"})


def command_log(tool: str, args: str) -> _Log | None:
    """The log a command line announces (with its pod, container and --previous); None for any other command."""
    words = args.split()
    title = f"{tool} {args}".strip()
    if tool in ("docker", "podman") and words[:1] == ["logs"]:
        names = _operands(words[1:])
        return _Log(container=names[0] if names else "", title=title)
    if tool in ("docker", "podman") and words[:1] == ["run"]:  # the output of `docker run` is the container's
        return _Log(container=_flag(words, ("--name",)), title=title, with_command=True)
    if tool in ("docker", "podman") and words[:1] == ["exec"]:  # a program run in the container (`ollama pull …`): its
        # output, maybe on the command's own line (a terminal's progress bar), is that container's
        names = _operands(words[1:])
        return _Log(container=names[0].strip('"') if names else "", title=title, with_command=True)
    if tool == "az" and "get-logs" in words:
        name = _flag(words, ("-n", "--name"))
        return _Log(container=name or "get-logs", title=title)
    if tool in ("kubectl", "oc") and "logs" in words[:3]:
        rest = words[words.index("logs") + 1:]
        pods = _operands(rest)
        container = _CONTAINER_FLAG.search(" " + " ".join(rest))
        return _Log(pod=pods[0] if pods else "", title=title, previous=bool(_LOG_FLAGS.search(" ".join(rest))),
                           container=container.group(1) if container else (pods[1] if len(pods) > 1 else ""))
    return None


def _operands(words: list[str]) -> list[str]:
    out, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in _VALUE_FLAGS:
            skip = True
        elif not word.startswith("-") and word not in ("|", ">", "2>&1") and not word.startswith((">", "|")):
            out.append(word.removeprefix("pod/").removeprefix("pods/"))
        elif word in ("|",):
            break
    return out


def _flag(words: list[str], names: tuple[str, ...]) -> str:
    for i, word in enumerate(words[:-1]):
        if word in names:
            return words[i + 1]
    return ""
