"""Hostile bundles, generated (no committed binaries): each case builds its input under a temp folder.

A case returns `Case(args, codes, ...)`: the mldoctor arguments, the exit codes it may end with, and text
that must not appear in what it prints. Files planted OUTSIDE the bundle hold `CANARY`: a run that reads
them (through a link) would print it, and the suite's audit hook sees the open.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
BOOT = ROOT / "fixtures" / "bundles" / "docker-boot-loop"
CANARY = "CANARY-outside-the-bundle-7f3a"


@dataclass
class Case:
    """One hostile input: how to run it and what it may answer."""

    args: list[str]
    codes: tuple[int, ...] = (2,)
    absent: tuple[str, ...] = (CANARY,)
    contains: tuple[str, ...] = ()  # the one line (or the report) must say this
    env: dict[str, str] = field(default_factory=dict)
    alone: bool = False  # run in a process of its own (its peak RSS is then its own)
    seconds: float = 20.0  # wall-clock bound on a loaded 2-core machine


def outside(tmp: Path) -> Path:
    """A folder next to the bundle holding files an attacker wants read: every kind a bundle has."""
    out = tmp / "outside"
    if out.exists():
        return out
    for rel in ("NAME/logs.txt", "pod/app.log", "config/deploymentconfig.json", "traffic/access.log",
                "NAME/model-dir.txt", "secret.txt"):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(f"2026-11-25T16:52:18.000000000Z {CANARY} Traceback ModuleNotFoundError\n")
    (out / "NAME" / "inspect.json").write_text(json.dumps([{"Name": CANARY, "State": {"Status": CANARY}}]))
    (out / "events.json").write_text(json.dumps({"items": [{"reason": CANARY, "message": CANARY}]}))
    (out / "NAME" / "events.json").write_text(json.dumps({"Type": "container", "Action": "die",
                                                          "Actor": {"Attributes": {"name": CANARY}}}) + "\n")
    (out / "manifest.yaml").write_text(f"target: {CANARY}\nnotes: [{CANARY}]\n")
    return out


def _bundle(tmp: Path) -> Path:
    bundle = tmp / "bundle"
    shutil.copytree(BOOT, bundle, ignore=shutil.ignore_patterns("expected.yaml"))
    (bundle / "k8s" / "logs" / "pod").mkdir(parents=True)
    (bundle / "k8s" / "events.json").write_text('{"items": []}')
    return bundle


def _link(rel: str, target: str) -> Callable[[Path], Case]:
    """A bundle where `rel` is a symbolic link to `target` below the outside folder (absolute, as tar keeps it)."""
    def build(tmp: Path) -> Case:
        bundle, out = _bundle(tmp), outside(tmp)
        path = bundle / rel
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(out / target, path)
        return Case(["check", str(bundle)], contains=("link",))

    return build


def _fifo(tmp: Path) -> Case:
    bundle = _bundle(tmp)
    os.mkfifo(bundle / "k8s" / "logs" / "pod" / "app.log")  # opening it would wait for a writer for ever
    return Case(["check", str(bundle)], contains=("regular file",))


def _link_inside(tmp: Path) -> Case:
    bundle = _bundle(tmp)
    os.symlink("../../docker/mldoctor-t-bootloop/inspect.json", bundle / "k8s" / "logs" / "pod" / "app.log")
    return Case(["check", str(bundle)], contains=("link",))


B64 = base64.b64encode(bytes(range(256)) * 300)[:100_000]  # a 100 KB base64 payload (generated)
PREFIXES = (b"2026-11-25 15:31:27,524 I [10362] azmlinfsrv - POST /score ",
            b"2026-11-25 15:31:27,524 I [10362] gunicorn.access - ", b'127.0.0.1 - - [', b"")


def _long_lines(where: str) -> Callable[[Path], Case]:
    """Lines of 100 KB (base64 after the server's prefixes, NULs) in a log of the bundle."""
    def build(tmp: Path) -> Case:
        bundle = _bundle(tmp)
        lines = [p + B64 for p in PREFIXES] + [b"\0" * 100_000, b"a b [" * 20_000]
        path = bundle / where
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\n".join(lines * 5) + b"\n")
        return Case(["check", str(bundle)], codes=(0, 1))

    return build


def _no_newline(mb: int, env: dict[str, str] | None = None, said: tuple[str, ...] = ()) -> Callable[[Path], Case]:
    """A log of `mb` MB without a single newline (a sparse file: no disk used), as a container log."""
    def build(tmp: Path) -> Case:
        bundle = _bundle(tmp)
        with open(bundle / "docker" / "mldoctor-t-bootloop" / "logs.txt", "wb") as handle:
            handle.truncate(mb * 1024 * 1024)
        return Case(["check", str(bundle)], codes=(0, 1), env=env or {}, contains=said, alone=True, seconds=60.0)

    return build


def _many_logs(count: int) -> Callable[[Path], Case]:
    """A bundle of `count` pods, each with a tiny log."""
    def build(tmp: Path) -> Case:
        bundle = _bundle(tmp)
        for index in range(count):
            pod = bundle / "k8s" / "logs" / f"scorer-{index}"
            pod.mkdir()
            (pod / "scorer.log").write_bytes(b"2026-11-25T16:52:18.000000000Z Listening at: http://0.0.0.0:31311\n")
        return Case(["check", str(bundle)], codes=(0, 1), alone=True, seconds=60.0)

    return build


def _alias_expansion(tmp: Path) -> Case:
    """8 levels of 9 aliases: only 72 aliases, 9**9 nodes once expanded."""
    bundle = _bundle(tmp)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    (bundle / "k8s" / "pods.yaml").write_text("\n".join(lines) + "\n")
    return Case(["check", str(bundle)], contains=("expands",))


def _big_events(tmp: Path) -> Case:
    """A Docker events.json of 20 MB (the engine keeps 256 events; this one holds 80,000)."""
    bundle = _bundle(tmp)
    path = bundle / "docker" / "mldoctor-t-bootloop" / "events.json"
    line = path.read_text().splitlines()[0] + "\n"
    with open(path, "w") as handle:
        handle.write(line * (20 * 1024 * 1024 // len(line) + 1))
    return Case(["check", str(bundle), "--format", "json"], codes=(0, 1), contains=("only the events in its last",))


def _rule(when: str, title: str = "t", said: str = "", codes: tuple[int, ...] = (2,)) -> Callable[[Path], Case]:
    """An untrusted rule file (`--rules`) against the boot-loop bundle."""
    def build(tmp: Path) -> Case:
        bundle = _bundle(tmp)
        rule = tmp / "rule.yaml"
        rule.write_text(f"id: hostile\ntitle: {json.dumps(title)}\nseverity: error\ncause: c\nfix: f\nwhen: {when}\n")
        return Case(["check", str(bundle), "--rules", str(rule)], codes=codes, contains=(said,) if said else ())

    return build


def _utf16_log(tmp: Path) -> Case:
    """A container log saved by Windows PowerShell (`docker logs x > logs.txt`: UTF-16 with a byte-order mark)."""
    bundle = tmp / "bundle"
    shutil.copytree(ROOT / "fixtures" / "bundles" / "docker-missing-python-module", bundle,
                    ignore=shutil.ignore_patterns("expected.yaml"))
    log = next(bundle.glob("docker/*/logs.txt"))
    log.write_bytes(log.read_text("utf-8").encode("utf-16"))  # the BOM first, little-endian on x86
    return Case(["check", str(bundle)], codes=(1,), contains=("missing-python-module",))


def _manifest(text: str, said: str = "manifest.yaml") -> Callable[[Path], Case]:
    def build(tmp: Path) -> Case:
        bundle = _bundle(tmp)
        (bundle / "manifest.yaml").write_text(text)
        return Case(["check", str(bundle)], contains=(said,))

    return build


def _huge_int_json(tmp: Path) -> Case:
    bundle = _bundle(tmp)
    (bundle / "k8s" / "pods.json").write_text('{"items": [{"kind": "Pod", "spec": {"priority": ' + "9" * 5000 + "}}]}")
    return Case(["check", str(bundle)], contains=("k8s/pods.json",))


def _time_outside_utc_years(tmp: Path) -> Case:
    """Log lines whose time UTC puts before year 1 or after 9999 (`0001-01-01 00:00:00+01:00`): an internal error
    (OverflowError) until the reader took them as lines without a time. The boot loop is still found."""
    bundle = _bundle(tmp)
    log = next(bundle.glob("docker/*/logs.txt"))
    odd = (b"0001-01-01 00:00:00+01:00 E [9] app - Traceback (most recent call last):\n"
           b"9999-12-31 23:59:59-01:00 E [9] app - ValueError: boom\n"
           b'10.0.0.1 - - [01/Jan/0001:00:00:00 +0100] "POST /score HTTP/1.1" 500 12\n')
    log.write_bytes(odd + log.read_bytes() + odd)
    return Case(["check", str(bundle)], codes=(1,), contains=("worker-boot-loop",))


CASES: dict[str, Callable[[Path], Case]] = {
    "log times outside UTC's years 1-9999": _time_outside_utc_years,
    "rule: event message (a|aa)+": _rule("{event: {message: '^(a|aa)+$'}}", said="catastrophic backtracking"),
    "rule: log pattern (a|aa)+": _rule("{log: {pattern: '^(a|aa)+$'}}", said="catastrophic backtracking"),
    "rule: CEL nesting .all()": _rule("{state: {expr: 'c.env.all(a, c.env.all(b, c.env.all(d, c.env.all(e, true))))'}}",
                                      said="nests comprehension macros"),
    "rule: nested template loops": _rule("{log: {pattern: 'Booting worker'}}", said="loop inside a loop",
                                         title="{% for a in range(9999) %}{% for b in range(9999) %}x{% endfor %}{% endfor %}"),
    "rule: template making 10**9 characters": _rule("{log: {pattern: 'Booting worker'}}", codes=(1,),
                                                    title="{{ 'x' * 10 ** 9 }}{% for i in range(10**8) %}y{% endfor %}",
                                                    said="refused by the sandbox"),
    "UTF-16 log (PowerShell >)": _utf16_log,
    "manifest: 5,000-digit integer": _manifest("target: svc\ncollected_at: " + "9" * 5000 + "\n"),
    "manifest: collector_errors is a number": _manifest("collector_errors: 7\n", said="collector_errors"),
    "manifest: target is a mapping, notes a string": _manifest("target: {a: 1}\nnotes: hello\n", said="notes"),
    "k8s/pods.json: 5,000-digit integer": _huge_int_json,
    "no newline: 400 MB log": _no_newline(400),
    "no newline: 700 MB log over a 350 MB size cap (tail read)":
        _no_newline(700, {"MLDOCTOR_MAX_LOG_BYTES": str(350 * 1024 * 1024)}, ("only the last",)),
    "many logs: 10,000 tiny logs": _many_logs(10_000),
    "YAML alias expansion (8 levels x 9)": _alias_expansion,
    "events.json of 20 MB": _big_events,
    "long lines: traffic log": _long_lines("traffic/access.log"),
    "long lines: docker log": _long_lines("docker/mldoctor-t-bootloop/logs.txt"),
    "long lines: k8s log": _long_lines("k8s/logs/pod/app.log"),
    "link: docker/": _link("docker", ""),
    "link: docker/NAME": _link("docker/mldoctor-t-bootloop", "NAME"),
    "link: docker/NAME/events.json": _link("docker/mldoctor-t-bootloop/events.json", "NAME/events.json"),
    "link: docker/NAME/inspect.json": _link("docker/mldoctor-t-bootloop/inspect.json", "NAME/inspect.json"),
    "link: docker/NAME/logs.txt": _link("docker/mldoctor-t-bootloop/logs.txt", "NAME/logs.txt"),
    "link: docker/NAME/model-dir.txt": _link("docker/mldoctor-t-bootloop/model-dir.txt", "NAME/model-dir.txt"),
    "link: k8s/": _link("k8s", ""),
    "link: k8s/events.json": _link("k8s/events.json", "events.json"),
    "link: k8s/logs": _link("k8s/logs", ""),
    "link: k8s/logs/POD": _link("k8s/logs/pod", "pod"),
    "link: k8s/logs/POD/C.log": _link("k8s/logs/pod/app.log", "pod/app.log"),
    "link: config/": _link("config", "config"),
    "link: config/FILE": _link("config/deploymentconfig.json", "config/deploymentconfig.json"),
    "link: traffic/": _link("traffic", "traffic"),
    "link: traffic/FILE": _link("traffic/access.log", "traffic/access.log"),
    "link: manifest.yaml": _link("manifest.yaml", "manifest.yaml"),
    "link: pasted/": _link("pasted", "NAME"),
    "link: pasted/FILE": _link("pasted/describe.txt", "secret.txt"),
    "link: deploy/FILE": _link("deploy/az-ml-deploy.txt", "secret.txt"),
    "link: client/": _link("client", "NAME"),
    "link inside the bundle": _link_inside,
    "fifo as a log": _fifo,
}
