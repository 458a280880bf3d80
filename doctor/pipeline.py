"""What every diagnosing command shares: collect → evidence → traffic statistics → rules → report.

`check`, `preflight`, `probe` and `simulate` each make evidence their own way and hand it to `diagnose_and_report`;
`collect` shares `--since` and sizes. Commands import from here, never from each other.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

import click

from doctor.evidence import ConfigFact, Evidence, Severity
from doctor.findings import Report
from doctor.report import FORMATS


def report_options(func: Callable[..., Any]) -> Callable[..., Any]:
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


def since_time(text: str | None, option: str = "--since") -> datetime | None:
    """`--since 30m` as the moment that long ago; InputError naming the option when unreadable."""
    if not text:
        return None
    from doctor.errors import InputError
    from doctor.logs import parse_duration

    try:
        return datetime.now(timezone.utc) - parse_duration(text)
    except ValueError as err:
        raise InputError(str(err), option) from None


def load_config_files(paths: Sequence[str]) -> list[ConfigFact]:
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


def diagnose_all(evidences: Sequence[Evidence], configs: Sequence[str] = (), rule_dirs: Sequence[str] = (),
                 ignore: Sequence[str] = (), redact: bool = True) -> list[Report]:
    """Config files added to each evidence, traffic statistics computed, the rules run: one report per evidence."""
    from doctor.config import deploy_logs
    from doctor.errors import UnreachableError
    from doctor.traffic import traffic_stage

    extra = load_config_files(configs)
    rules = None
    reports = []
    for evidence in evidences:
        evidence.configs.extend(extra)
        evidence.logs.extend(deploy_logs(extra))  # rules match a deploy output's text as a log
        if evidence.is_empty() and evidence.collector_errors:
            raise UnreachableError("nothing could be collected: " + "; ".join(
                f"{e.collector}: {e.error}" for e in evidence.collector_errors), evidence.target.name)
        traffic = traffic_stage(evidence)  # started before the rules' log scan: its children count beside it
        # the rules' modules imported once the first children count (~15 ms of a start that used one core)
        from doctor.rules.engine import diagnose
        from doctor.rules.loader import load_rules

        if rules is None:  # loaded while the first evidence's traffic children count
            rules = load_rules([Path(p) for p in rule_dirs])
        reports.append(diagnose(evidence, rules, ignore, redact=redact, traffic=traffic))
        attach_charts(reports[-1], evidence, traffic.stats())
    if rules is None:
        from doctor.rules.loader import load_rules

        load_rules([Path(p) for p in rule_dirs])  # no evidence: a broken rule is still an error
    return reports


def diagnose_and_report(evidences: Sequence[Evidence], configs: Sequence[str] = (), fmt: str = "console",
                        output: str | None = None, fail_on: str = "error", rule_dirs: Sequence[str] = (),
                        ignore: Sequence[str] = (), color: bool | None = None, no_redact: bool = False,
                        notify: Any = None) -> int:
    """Diagnose, render, write (and post to a chat webhook when `notify` says so); the exit code for the worst
    finding."""
    from doctor.errors import InputError
    from doctor.output import write_output

    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r} (choose from {', '.join(sorted(FORMATS))})", "--format")
    reports = diagnose_all(evidences, configs, rule_dirs, ignore, redact=not no_redact)
    if fmt == "sarif" and configs:
        for report, evidence in zip(reports, evidences):
            attach_fixes(report, evidence, configs)
    use_color = (sys.stdout.isatty() if color is None else color) and not output
    write_output(render(reports, fmt, use_color), output)
    if notify is not None:
        from doctor.notify import notify as post_reports

        for line in post_reports(reports, notify):
            click.echo(line, err=True)
    return exit_code(reports, Severity.parse(fail_on))


def render(reports: list[Report], fmt: str, color: bool) -> str:
    """One or many reports in a format (many merge into one document where the format needs it)."""
    from doctor.report import MANY, REPORTERS, render_many

    if len(reports) > 1 and fmt in MANY:
        return render_many(fmt, reports)
    if fmt == "json" and len(reports) > 1:
        import json

        from doctor.report.jsonfmt import report_dict

        return json.dumps({"schema": "mldoctor.reports/v1", "reports": [report_dict(r) for r in reports]},
                          indent=2) + "\n"
    text = "".join(REPORTERS[fmt](r, color) for r in reports)
    if fmt == "console" and len(reports) > 1:
        from doctor.report.console import render_summary

        text = render_summary(reports, color) + text
    return text


def attach_charts(report: Report, evidence: Evidence, traffic: dict[str, Any] | None) -> None:
    """Extras a reporter may embed: the traffic chart (SVG for HTML, sparklines for the terminal), the memory chart."""
    if evidence.metrics:
        from doctor.report.memory_chart import memory_svg

        chart = memory_svg(evidence)
        if chart:
            report.attachments["memory.svg"] = chart
    if not traffic:
        return
    from doctor.report.plot import svg_chart, terminal_chart

    report.attachments["traffic.svg"] = svg_chart(traffic)
    report.attachments["traffic.txt"] = terminal_chart(traffic)


def attach_fixes(report: Report, evidence: Evidence, paths: Sequence[str]) -> None:
    """SARIF `fixes`: the changes `mldoctor fix` would write into the user's own --config files."""
    import json

    from doctor.config import read_config
    from doctor.fix.plan import build, sarif_fixes

    files = [(path, fact) for path in paths for fact in read_config(Path(path), path)]
    fixes = sarif_fixes(build([report], files, [evidence]))
    if fixes:
        report.attachments["fixes.json"] = json.dumps(fixes)


def exit_code(reports: Sequence[Report], fail_on: Severity) -> int:
    """1 when any report has a finding at or above `fail_on`; else 3 when one's status is `unknown` (nothing
    usable was collected); else 0."""
    if any(r.at_or_above(fail_on) for r in reports):
        return 1
    return 3 if any(r.status == "unknown" for r in reports) else 0
