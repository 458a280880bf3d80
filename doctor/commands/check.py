"""`mldoctor check TARGET`: collect, diagnose, report, and exit with a code a CI gate can use."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import click

from doctor.evidence import Evidence
from doctor.pipeline import diagnose_and_report, report_options, since_time, size_bytes
from doctor.pipeline import exit_code, load_config_files  # noqa: F401  (their old import path, kept for one release)
from doctor.report import FORMATS  # noqa: F401  (old import path, kept for one release)


@click.command()
@click.argument("target")
@report_options
@click.option("--since", default=None, help="Only evidence newer than this (e.g. 30m, 1h, 2d).")
@click.option("--context", default=None, help="Kubernetes context (as kubectl).")
@click.option("-n", "--namespace", default=None, help="Kubernetes namespace (as kubectl).")
@click.option("--kubeconfig", default=None, help="Path to a kubeconfig (as kubectl).")
@click.option("-A", "--all-namespaces", is_flag=True, help="Kubernetes: check every deployment in every namespace.")
@click.option("--all-contexts", is_flag=True, help="Kubernetes: the same check on every context of the kubeconfig, "
              "in parallel (--context a,b for some of them).")
@click.option("--log-cap", default=None, help="Read at most this much of each live log, the newest part (e.g. 500M, 2G).")
@click.option("--probe", "probe_url", default=None, help="Also send real scoring requests to this URL and diagnose the answers.")
@click.option("--probe-sample", type=click.Path(dir_okay=False, exists=True), default=None, help="JSON body for --probe.")
@click.option("--probe-requests", type=int, default=20, show_default=True, help="How many --probe requests (at most 5000).")
@click.option("--prometheus", "prometheus_url", envvar="MLDOCTOR_PROMETHEUS_URL", default=None,
              help="Also read the target's memory, restarts and CPU throttling from this Prometheus server.")
@click.option("--notify", "notify_url", envvar="MLDOCTOR_NOTIFY_URL", default=None,
              help="Post the report to a Slack or Teams incoming webhook (or set MLDOCTOR_NOTIFY_URL; never printed).")
@click.option("--notify-format", type=click.Choice(["slack", "teams"]), default=None,
              help="The webhook's chat, when its host does not tell.")
@click.option("--notify-state", type=click.Path(dir_okay=False), default=None,
              help="JSON file remembering the last post: post only when the root causes change.")
@click.option("--evidence", "evidence_files", multiple=True, type=click.Path(dir_okay=False),
              help="Pasted text to add: kubectl describe/get output, logs, deploy or scoring-client output; repeatable.")
def check(target: str, since: str | None, context: str | None, namespace: str | None, kubeconfig: str | None,
          all_namespaces: bool, all_contexts: bool, log_cap: str | None, probe_url: str | None, probe_sample: str | None,
          probe_requests: int, prometheus_url: str | None, notify_url: str | None, notify_format: str | None, notify_state: str | None,
          evidence_files: tuple[str, ...] = (), **report_opts: Any) -> int:
    """Diagnose TARGET: docker:NAME, k8s:[NS/]KIND/NAME, k8s:NS/*, a bundle directory or .tar.gz, or a bare NAME."""
    from doctor.targets import Options, open_target

    notify = None
    if notify_url:
        from doctor.notify import settings_for

        notify = settings_for(notify_url, notify_format, notify_state)
    opts = Options(since=since_time(since), context=context, namespace=namespace, kubeconfig=kubeconfig,
                   all_namespaces=all_namespaces, all_contexts=all_contexts, log_cap_bytes=size_bytes(log_cap, "--log-cap"), progress=True)
    with open_target(target, opts) as evidences:
        if evidence_files:
            from doctor.collect.pasted import add_evidence_files

            add_evidence_files(list(evidences), list(evidence_files))
        if probe_url:
            _add_probe(evidences, probe_url, probe_sample, probe_requests)
        if prometheus_url:
            from doctor.collect.prometheus import collect_metrics

            for evidence in evidences:
                collect_metrics(evidence, prometheus_url, opts.since)
        return diagnose_and_report(evidences, notify=notify, **report_opts)


def _add_probe(evidences: Sequence[Evidence], url: str, sample: str | None, count: int) -> None:
    """Live requests to the service, added to its evidence as an access log (the key comes from the environment)."""
    from doctor.errors import InputError
    from doctor.collect import probe as client

    if len(evidences) != 1:
        raise InputError("--probe goes with a single target, not a namespace", "--probe")
    body = Path(sample).read_bytes() if sample else client.DEFAULT_BODY
    plan = client.ProbePlan(url, body, count, 4, 30.0, 120.0, None)
    client.check_plan(plan)
    results = client.run(plan)
    down = client.unanswered(results, url)
    if down:
        from doctor.evidence import CollectorError

        evidences[0].collector_errors.append(CollectorError("probe", down))
    probed = client.evidence_for(results, url)
    evidences[0].logs.extend(probed.logs)
    evidences[0].notes.extend(probed.notes)
