"""The generated Kubernetes fixtures (fixtures/k8s/generate.py) hold together as a real cluster's objects do:
ids of the right shape, references that resolve, events about objects that exist and after what they report,
logs that start after their container did. Checked here independently of the script, which must also leave
the committed files unchanged."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATE = ROOT / "fixtures" / "k8s" / "generate.py"
SCENARIOS = sorted(p for p in (ROOT / "fixtures" / "k8s").iterdir() if (p / "k8s").is_dir()) + \
    sorted(p for p in (ROOT / "fixtures" / "bundles").glob("decoy-k8s-*") if (p / "k8s").is_dir())
CONTAINER_ID = re.compile(r"^containerd://[0-9a-f]{64}$")
LOG_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z)( |$)")
SECOND = timedelta(seconds=1)


def when(text: str) -> datetime:
    """An RFC 3339 time; nanoseconds cut to microseconds."""
    head, _, frac = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(head).replace(tzinfo=timezone.utc) + timedelta(microseconds=int((frac + "000000")[:6]))


def objects(root: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Every object of the scenario by (kind, name), events included."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted((root / "k8s").glob("*.json")):
        for item in json.loads(path.read_text())["items"]:
            found[(item["kind"], item["metadata"]["name"])] = item
    return found


def of_kind(objs: dict[tuple[str, str], dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The objects of one kind."""
    return [o for (k, _), o in objs.items() if k == kind]


def first_time(event: dict[str, Any]) -> datetime:
    """When an event was first seen (core/v1 firstTimestamp, or events.k8s.io eventTime)."""
    return when(event.get("firstTimestamp") or event["eventTime"])


def current_start(status: dict[str, Any]) -> datetime | None:
    """The latest start of a container: the running one's, else the last terminated one's."""
    state, last = status.get("state") or {}, status.get("lastState") or {}
    text = (state.get("running") or state.get("terminated") or {}).get("startedAt") \
        or (last.get("terminated") or {}).get("startedAt")
    return when(text) if text else None


def test_the_script_leaves_the_fixtures_as_committed() -> None:
    done = subprocess.run([sys.executable, str(GENERATE), "--check"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("root", SCENARIOS, ids=lambda p: p.name)
def test_uids_and_references(root: Path) -> None:
    objs = objects(root)
    uids = [o["metadata"]["uid"] for o in objs.values()]
    assert len(uids) == len(set(uids))
    assert all(uuid.UUID(u).version == 4 and uuid.UUID(u).variant == uuid.RFC_4122 for u in uids)
    for obj in objs.values():
        for ref in obj["metadata"].get("ownerReferences") or []:
            assert objs[(ref["kind"], ref["name"])]["metadata"]["uid"] == ref["uid"], (obj["metadata"]["name"], ref)


@pytest.mark.parametrize("root", SCENARIOS, ids=lambda p: p.name)
def test_container_ids(root: Path) -> None:
    for pod in of_kind(objects(root), "Pod"):
        for status in pod["status"].get("containerStatuses") or []:
            ids = [status.get("containerID")] if status.get("containerID") else []
            ids += [s["containerID"] for s in (status.get("lastState") or {}).values() if "containerID" in s]
            assert all(CONTAINER_ID.match(i) for i in ids), ids
            assert len(ids) == len(set(ids))


@pytest.mark.parametrize("root", SCENARIOS, ids=lambda p: p.name)
def test_events_name_what_exists(root: Path) -> None:
    objs = objects(root)
    for event in of_kind(objs, "Event"):
        about = event["involvedObject"]
        target = objs[(about["kind"], about["name"])]
        assert target["metadata"]["uid"] == about["uid"]
        name, _, stamp = event["metadata"]["name"].rpartition(".")
        assert name == about["name"] and re.fullmatch(r"[0-9a-f]{16}", stamp)
        created = datetime.fromtimestamp(int(stamp, 16) // 10**9, timezone.utc)
        assert created == first_time(event).replace(microsecond=0), event["metadata"]["name"]
        for pod in re.findall(r"Created pod: (\S+)", event["message"]):
            assert ("Pod", pod) in objs, event["message"]
        for uid in re.findall(r"\(([0-9a-f-]{36})\)", event["message"]):
            assert uid == target["metadata"]["uid"], event["message"]
        if event["reason"] == "Scheduled":
            assert event["message"].endswith(" to " + target["spec"]["nodeName"])
        if event.get("count") == 1 and event.get("lastTimestamp"):
            assert event["firstTimestamp"] == event["lastTimestamp"], event["metadata"]["name"]


@pytest.mark.parametrize("root", SCENARIOS, ids=lambda p: p.name)
def test_pod_events_follow_the_pod_and_its_containers(root: Path) -> None:
    objs = objects(root)
    for event in of_kind(objs, "Event"):
        if event["involvedObject"]["kind"] != "Pod":
            continue
        pod = objs[("Pod", event["involvedObject"]["name"])]
        assert first_time(event) >= when(pod["metadata"]["creationTimestamp"]), event["metadata"]["name"]
        statuses = pod["status"].get("containerStatuses") or []
        if event["reason"] == "Started" and statuses:
            status = statuses[0]
            assert event["count"] == status["restartCount"] + 1
            assert when(event["lastTimestamp"]) == current_start(status)
    for pod in of_kind(objs, "Pod"):
        starts = [first_time(e) for e in of_kind(objs, "Event")
                  if e["involvedObject"]["name"] == pod["metadata"]["name"] and e["reason"] == "Started"]
        after = [e for e in of_kind(objs, "Event") if e["involvedObject"]["name"] == pod["metadata"]["name"]
                 and e["reason"] in ("BackOff", "Unhealthy", "Killing") and "pulling image" not in e["message"]]
        for event in after:  # a probe, a kill or a restart back-off comes after the container first started
            assert starts and first_time(event) >= min(starts), event["metadata"]["name"]


@pytest.mark.parametrize("root", SCENARIOS, ids=lambda p: p.name)
def test_logs_start_after_their_container(root: Path) -> None:
    pods = {p["metadata"]["name"]: p for p in of_kind(objects(root), "Pod")}
    for log in sorted((root / "k8s" / "logs").glob("*/*.log")):
        status = next(s for s in pods[log.parent.name]["status"]["containerStatuses"]
                      if s["name"] == log.name.split(".")[0])
        stamps = [LOG_STAMP.match(line) for line in log.read_text().splitlines()]
        times = [when(m.group(1)) for m in stamps if m]
        assert times == sorted(times), log
        fractions = {m.group(1)[-4:] for m in stamps if m}
        assert len(fractions) > len(times) // 2, f"{log}: patterned sub-second digits"
        if log.name.endswith(".previous.log"):
            last = status["lastState"]["terminated"]
            assert when(last["startedAt"]) <= times[0] and times[-1] <= when(last["finishedAt"]) + SECOND, log
        else:
            start = current_start(status)
            assert start is not None and start <= times[0], log
