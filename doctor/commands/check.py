"""`mldoctor check TARGET`: collect, diagnose, report, and exit with a code a CI gate can use."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import click

from doctor.evidence import Evidence, Severity
from doctor.findings import Report

FORMATS = ["console", "json", "markdown", "junit", "sarif", "github", "prometheus", "html", "slack", "teams"]


def report_options(func: Any) -> Any:
    """The options every diagnosing command shares (check, preflight, probe, simulate)."""
    for option in reversed([
        click.option("--config", "configs", multiple=True, type=click.Path(dir_okay=False),
                     help="Service configuration file (deployment config, environment, score.py); repeatable."),
        click.option("--format", "fmt", default="console", show_default=True, help="Report format: " + ", ".join(FORMATS)),
        click.option("--output", "-o", default=None, help="Write the report to this file (atomically) instead of stdout."),
        click.option("--fail-on", default="error", show_default=True,
                     type=click.Choice(["info", "warning", "error", "critical"]), help="Exit 1 when a finding is at or above this."),
        click.option("--rules", "rule_dirs", multiple=True, type=click.Path(), help="Extra rule file or directory; repeatable."),
        click.option("--ignore", multiple=True, help="Rule id to leave out; repeatable."),
        click.option("--color/--no-color", default=None, help="Colour in the console report (default: when a terminal)."),
        click.option("--no-redact", is_flag=True, help="Show secrets found in evidence unmasked (the report says so)."),
    ]):
        func = option(func)
    return func


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
    opts = Options(since=_since(since), context=context, namespace=namespace, kubeconfig=kubeconfig,
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
    from doctor.traffic import probe as client

    if len(evidences) != 1:
        raise InputError("--probe goes with a single target, not a namespace", "--probe")
    body = Path(sample).read_bytes() if sample else client.DEFAULT_BODY
    plan = client.Plan(url, body, count, 4, 30.0, 120.0, None)
    client.check_plan(plan)
    results = client.run(plan)
    down = client.unanswered(results, url)
    if down:
        from doctor.evidence import CollectorError

        evidences[0].collector_errors.append(CollectorError("probe", down))
    probed = client.evidence_for(results, url)
    evidences[0].logs.extend(probed.logs)
    evidences[0].notes.extend(probed.notes)


def size_bytes(text: str | None, option: str) -> int | None:
    """`500M`, `2G`, `1Gi`, `1048576` as bytes; InputError naming the option when unreadable."""
    if not text:
        return None
    from doctor.convert import quantity
    from doctor.errors import InputError

    value = quantity(text.strip().replace("B", "").replace("b", ""))
    if value is None or value <= 0:
        raise InputError(f"not a size: {text!r} (use e.g. 500M, 2G)", option)
    return int(value)


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    from doctor.errors import InputError
    from doctor.logs import parse_duration

    try:
        return datetime.now(timezone.utc) - parse_duration(text)
    except ValueError as err:
        raise InputError(str(err), "--since") from None


def diagnose_and_report(evidences: Sequence[Evidence], configs: Sequence[str] = (), fmt: str = "console",
                        output: str | None = None, fail_on: str = "error", rule_dirs: Sequence[str] = (),
                        ignore: Sequence[str] = (), color: bool | None = None, no_redact: bool = False,
                        notify: Any = None) -> int:
    """Add config files, run the rules, render, write; the exit code for the worst finding."""
    from doctor.collect.deploy_output import as_log as deploy_log
    from doctor.errors import InputError, UnreachableError
    from doctor.output import write_output
    from doctor.report import MANY, REPORTERS, render_many
    from doctor.rules.engine import diagnose
    from doctor.rules.loader import load_rules

    if fmt not in REPORTERS:
        raise InputError(f"unknown format {fmt!r} (choose from {', '.join(sorted(REPORTERS))})", "--format")
    rules = load_rules([Path(p) for p in rule_dirs])
    extra = load_config_files(configs)
    reports = []
    for evidence in evidences:
        evidence.configs.extend(extra)
        evidence.logs.extend(deploy_log(f) for f in extra if f.kind == "deploy-output")  # rules match its text as a log
        if evidence.is_empty() and evidence.collector_errors:
            raise UnreachableError("nothing could be collected: " + "; ".join(
                f"{e.collector}: {e.error}" for e in evidence.collector_errors), evidence.target.name)
        reports.append(diagnose(evidence, rules, ignore, redact=not no_redact))
        _attach(reports[-1], evidence)
        if fmt == "sarif" and configs:
            _attach_fixes(reports[-1], evidence, configs, extra)
    use_color = (sys.stdout.isatty() if color is None else color) and not output
    if fmt == "json" and len(reports) > 1:
        text = _json_many(reports)
    else:
        text = "".join(REPORTERS[fmt](r, use_color) for r in reports)
        if fmt == "console" and len(reports) > 1:
            from doctor.report.console import render_summary

            text = render_summary(reports, use_color) + text
    if len(reports) > 1 and fmt in MANY:
        text = render_many(fmt, reports)
    write_output(text, output)
    if notify is not None:
        from doctor.notify import notify as post_reports

        for line in post_reports(reports, notify):
            click.echo(line, err=True)
    return exit_code(reports, Severity.parse(fail_on))


def _attach(report: Report, evidence: Evidence) -> None:
    """Extras a reporter may embed: the traffic chart (SVG for HTML, sparklines for the terminal), the memory chart."""
    if evidence.metrics:
        from doctor.report.memory_chart import memory_svg

        chart = memory_svg(evidence)
        if chart:
            report.attachments["memory.svg"] = chart
    if not any(s.kind in ("access", "container") for s in evidence.logs):
        return
    from doctor.traffic import stats_for
    from doctor.traffic.plot import svg_chart, terminal_chart

    stats = stats_for(evidence)
    if stats:
        report.attachments["traffic.svg"] = svg_chart(stats)
        report.attachments["traffic.txt"] = terminal_chart(stats)


def _attach_fixes(report: Report, evidence: Evidence, paths: Sequence[str], facts: list[Any]) -> None:
    """SARIF `fixes`: the changes `mldoctor fix` would write into the user's own --config files."""
    import json

    from doctor.config import read_config
    from doctor.fix.plan import build, sarif_fixes

    files = [(path, fact) for path in paths for fact in read_config(Path(path), path)]
    fixes = sarif_fixes(build([report], files, [evidence]))
    if fixes:
        report.attachments["fixes.json"] = json.dumps(fixes)


def _json_many(reports: list[Report]) -> str:
    import json

    from doctor.report.jsonfmt import report_dict

    return json.dumps({"schema": "mldoctor.reports/v1", "reports": [report_dict(r) for r in reports]}, indent=2) + "\n"


def load_config_files(paths: Sequence[str]) -> list[Any]:
    """The --config files understood; InputError for a file that is none of the known kinds."""
    from doctor.config import read_config
    from doctor.errors import InputError

    facts = []
    for name in paths:
        path = Path(name)
        if not path.is_file():
            raise InputError("no such config file", name)
        found = read_config(path, name)
        if not found:
            raise InputError("not recognised as a deployment config, environment file, scoring script "
                             "or deploy output", name)
        facts.extend(found)
    return facts


def exit_code(reports: Sequence[Report], fail_on: Severity) -> int:
    """1 when any report has a finding at or above `fail_on`; else 3 when one's status is `unknown` (nothing
    usable was collected); else 0."""
    if any(r.at_or_above(fail_on) for r in reports):
        return 1
    return 3 if any(r.status == "unknown" for r in reports) else 0
