"""`mldoctor probe URL`: send real scoring requests, record what came back, diagnose it like `check`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from doctor.pipeline import diagnose_and_report, report_options


@click.command()
@click.argument("url")
@report_options
@click.option("--sample", type=click.Path(dir_okay=False, exists=True), default=None,
              help="JSON body to POST (default: a small sample input).")
@click.option("--requests", "count", type=int, default=20, show_default=True, help="How many requests (at most 5000).")
@click.option("--concurrency", type=int, default=4, show_default=True, help="How many at once (at most 64).")
@click.option("--timeout", "timeout_s", type=float, default=30.0, show_default=True, help="Seconds to wait for each answer.")
@click.option("--max-seconds", type=float, default=120.0, show_default=True, help="Stop starting requests after this long.")
@click.option("--rate", type=float, default=None, help="Requests per second (default: as fast as --concurrency allows).")
def probe(url: str, sample: str | None, count: int, concurrency: int, timeout_s: float, max_seconds: float,
          rate: float | None, **report_opts: Any) -> int:
    """Send real scoring requests to URL (key from MLDOCTOR_SCORING_KEY, never printed) and diagnose the answers."""
    from doctor.collect import probe as client

    body = Path(sample).read_bytes() if sample else client.DEFAULT_BODY
    plan = client.ProbePlan(url, body, count, concurrency, timeout_s, max_seconds, rate)
    results = client.run(plan)
    down = client.unanswered(results, url)
    if down:
        from doctor.errors import UnreachableError

        raise UnreachableError(down)
    return diagnose_and_report([client.evidence_for(results, url)], **report_opts)
