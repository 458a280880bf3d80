"""From a TARGET argument to evidence: a bundle, a Docker container or Kubernetes workload(s)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

from doctor.errors import InputError, UnreachableError
from doctor.evidence import Evidence


@dataclass(frozen=True)
class Options:
    """What collectors need beyond the target itself."""

    since: datetime | None = None
    context: str | None = None
    namespace: str | None = None
    kubeconfig: str | None = None
    all_namespaces: bool = False
    log_cap_bytes: int | None = None
    progress: bool = False
    all_contexts: bool = False


def contexts_wanted(opts: Options) -> list[str] | None:
    """The kubeconfig contexts of a multi-cluster check (`--context a,b`, `--all-contexts`); None for one cluster."""
    if opts.all_contexts:
        from doctor.collect.clusters import contexts_of

        return contexts_of(opts.kubeconfig)
    names = [c.strip() for c in (opts.context or "").split(",") if c.strip()]
    return names if len(names) > 1 else None


def kind_of(target: str) -> str:
    """`bundle`, `pasted` (a single text file), `docker`, `k8s` or `bare` for a TARGET argument."""
    if target.startswith("docker:"):
        return "docker"
    if target.startswith("k8s:"):
        return "k8s"
    path = Path(target)
    if path.is_file() and not _archive(path):
        return "pasted"
    if path.exists() or target.endswith((".tar.gz", ".tgz", ".tar")) or "/" in target:
        return "bundle"
    return "bare"


_ARCHIVE_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ")


def _archive(path: Path) -> bool:
    """A tar archive (by name or by its first bytes), as opposed to a pasted text file."""
    if path.name.endswith((".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")):
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(262)
    except OSError:
        return False
    return head.startswith(_ARCHIVE_MAGIC) or head[257:262] == b"ustar"


@contextlib.contextmanager
def open_target(target: str, opts: Options) -> Iterator[list[Evidence]]:
    """The evidence for the target (several for a namespace); temporary files live until the block ends."""
    kind = kind_of(target)
    if kind == "pasted":
        from doctor.collect.pasted import open_pasted

        yield [open_pasted(Path(target))]
        return
    if kind == "bundle":
        from doctor.bundle import open_bundle

        with open_bundle(Path(target)) as evidence:
            yield [evidence]
        return
    if kind == "docker":
        yield [_docker(target.removeprefix("docker:"), opts)]
        return
    if kind == "k8s":
        yield _k8s(target.removeprefix("k8s:"), opts)
        return
    yield [_bare(target, opts)]


def _docker(name: str, opts: Options) -> Evidence:
    from doctor.collect.docker import collect_docker
    from doctor.progress import clear_line, stderr_progress

    progress = stderr_progress(f"reading the log of {name}") if opts.progress else None
    try:
        evidence = collect_docker(name, opts.since, log_cap_bytes=opts.log_cap_bytes, progress=progress,
                                  follow=True)  # the check reads the log as it streams in
    except BaseException:
        if progress:
            clear_line()
        raise
    if progress and evidence.pending is not None:
        settle = evidence.pending

        def settled() -> bool:
            try:
                return settle()
            finally:
                clear_line()

        evidence.pending = settled
    return evidence


def _k8s(spec: str, opts: Options) -> list[Evidence]:
    contexts = contexts_wanted(opts)
    if contexts is not None:
        from dataclasses import replace

        from doctor.collect.clusters import collect_clusters

        found, missed = collect_clusters(contexts, lambda ctx: _k8s(spec, replace(opts, context=ctx, all_contexts=False)))
        for miss in missed:  # said in the report of every cluster that answered: the summary shows them
            found[0].notes.append(f"cluster {miss.context}: not checked: {miss.error}")
        return found
    from doctor.collect import k8s

    if spec.endswith("/*") or spec == "*" or opts.all_namespaces:
        return k8s.collect_k8s_namespace(spec.removesuffix("/*").removesuffix("*") or None, opts.since,
                                         context=opts.context, namespace=opts.namespace,
                                         kubeconfig=opts.kubeconfig, all_namespaces=opts.all_namespaces)
    return [k8s.collect_k8s(spec, opts.since, context=opts.context, namespace=opts.namespace,
                            kubeconfig=opts.kubeconfig)]


def _bare(name: str, opts: Options) -> Evidence:
    tried = []
    for label, attempt in (("Docker", lambda: _docker(name, opts)),
                           ("Kubernetes", lambda: _k8s(f"deployment/{name}", opts)[0])):
        try:
            return attempt()
        except (InputError, UnreachableError, ImportError) as err:
            tried.append(f"{label}: {err}")
    raise InputError(f"no container or deployment named {name!r} was found; tried " + "; ".join(tried)
                     + " (use docker:NAME, k8s:NS/KIND/NAME or a bundle path)", name)
