"""`mldoctor simulate --traffic LOG --config CONFIG`: replay observed arrivals through the autoscaler model."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from doctor.pipeline import diagnose_and_report, report_options


@click.command()
@click.option("--traffic", "traffic_logs", multiple=True, required=True, type=click.Path(dir_okay=False, exists=True),
              help="Access log (gunicorn, azmlinfsrv, nginx); repeatable.")
@report_options
@click.option("--startup-seconds", type=float, default=30.0, show_default=True,
              help="How long a new replica takes before it serves.")
def simulate(traffic_logs: tuple[str, ...], startup_seconds: float, **report_opts: Any) -> int:
    """Predict 503s of the observed traffic under the --config settings, and the smallest settings that avoid them."""
    from doctor.traffic.simulate import simulation_evidence

    paths = [Path(p) for p in traffic_logs]
    evidence = simulation_evidence(paths, startup_seconds, datetime.now(timezone.utc))
    return diagnose_and_report([evidence], **report_opts)
