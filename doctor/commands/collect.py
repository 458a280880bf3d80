"""`mldoctor collect TARGET --output bundle.tar.gz`: a support bundle in the contract layout, secrets redacted."""

from __future__ import annotations

import click

from doctor.errors import InputError


@click.command()
@click.argument("target")
@click.option("--output", "-o", required=True, help="The bundle to write (.tar.gz).")
@click.option("--since", default=None, help="Only evidence newer than this (e.g. 30m, 1h).")
@click.option("--context", default=None, help="Kubernetes context.")
@click.option("-n", "--namespace", default=None, help="Kubernetes namespace.")
@click.option("--kubeconfig", default=None, help="Path to a kubeconfig.")
@click.option("--log-cap", default=None, help="Keep at most this much of each log, the newest part (e.g. 500M, 2G).")
def collect(target: str, output: str, since: str | None, context: str | None, namespace: str | None,
            kubeconfig: str | None, log_cap: str | None) -> int:
    """Collect the raw evidence of TARGET (docker:NAME or k8s:...) into a bundle."""
    from doctor.pipeline import since_time, size_bytes
    from doctor.targets import kind_of

    kind = kind_of(target)
    if kind == "docker" or kind == "bare":
        from doctor.collect.docker import collect_bundle
        from doctor.progress import clear_line, stderr_progress

        name = target.removeprefix("docker:")
        progress = stderr_progress(f"collecting the log of {name}")
        try:
            collect_bundle(name, output, since_time(since), log_cap_bytes=size_bytes(log_cap, "--log-cap"), progress=progress)
        finally:
            if progress:
                clear_line()
    elif kind == "k8s":
        from doctor.collect.k8s import collect_bundle as k8s_bundle

        k8s_bundle(target.removeprefix("k8s:"), output, since_time(since), context=context, namespace=namespace,
                   kubeconfig=kubeconfig)
    else:
        raise InputError("collect needs a live target (docker:NAME or k8s:...), not a bundle", target)
    click.echo(f"wrote {output}", err=True)
    return 0
