"""The same Kubernetes check over several kubeconfig contexts at once (`--context a,b`, `--all-contexts`).

Each cluster is collected in its own thread (the API round trips dominate, not the CPU); a cluster that cannot
be reached or has no such workload is recorded as a line for the summary, never a failed run, as long as
one cluster answered.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from doctor.errors import DoctorError, UnreachableError
from doctor.evidence import Evidence

MAX_PARALLEL = 8


@dataclass(frozen=True, slots=True)
class ClusterMiss:
    """A cluster that gave no evidence: its context and the one line saying why."""

    context: str
    error: str


def contexts_of(kubeconfig: str | None) -> list[str]:
    """Every context name of the kubeconfig (the one kubectl would read), in file order."""
    from kubernetes import config

    path = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or str(Path.home() / ".kube" / "config")
    try:
        contexts, _ = config.list_kube_config_contexts(config_file=path)  # type: ignore[no-untyped-call]
    except (config.ConfigException, OSError) as err:
        raise UnreachableError(f"no usable kubeconfig to list contexts from ({path}): {err}") from err
    return [str(c["name"]) for c in contexts or []]


def collect_clusters(contexts: list[str], collect: Callable[[str], list[Evidence]]) -> tuple[list[Evidence], list[ClusterMiss]]:
    """`collect(context)` for each context in parallel; the evidence named by cluster, and the clusters missed."""
    def one(context: str) -> tuple[str, list[Evidence] | str]:
        try:
            return context, collect(context)
        except DoctorError as err:
            return context, err.message
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL, len(contexts)))) as pool:
        results = list(pool.map(one, contexts))
    found: list[Evidence] = []
    missed: list[ClusterMiss] = []
    for context, result in results:
        if isinstance(result, str):
            missed.append(ClusterMiss(context, result))
            continue
        for evidence in result:
            evidence.target = replace(evidence.target, name=f"{context}:{evidence.target.name}")
            found.append(evidence)
    if not found:
        raise UnreachableError("no cluster answered: " + "; ".join(f"{m.context}: {m.error}" for m in missed))
    return found, missed
