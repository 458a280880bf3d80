"""`mldoctor replicas`: the Azure ML autoscaling formula, with its inputs explained."""

from __future__ import annotations

import click

from doctor.errors import InputError


@click.command()
@click.option("--rps", type=float, required=True, help="Target (peak) requests per second.")
@click.option("--request-seconds", type=float, required=True, help="Time to process one request (choose a percentile).")
@click.option("--target-utilization", type=float, default=0.7, show_default=True, help="Autoscale target, 0.7 or 70.")
@click.option("--max-concurrent", type=float, default=1, show_default=True, help="Max concurrent requests per replica.")
def replicas(rps: float, request_seconds: float, target_utilization: float, max_concurrent: float) -> int:
    """Replicas = ceil(rps × request_seconds / target_utilization / max_concurrent)."""
    from doctor import calc

    try:
        result = calc.replicas(rps, request_seconds, target_utilization, max_concurrent)
    except ValueError as err:
        raise InputError(str(err), "replicas") from None
    click.echo(result["formula"])
    click.echo(f"  {rps:g} requests/s × {request_seconds:g} s each = {rps * request_seconds:g} requests in flight;")
    click.echo(f"  at {result['target_utilization']:.0%} target utilization that needs "
               f"{result['concurrent_requests']:.2f} busy slots, {result['max_concurrent']:g} per replica.")
    click.echo(f"  The {result['target_utilization']:.0%} target leaves headroom for spikes of up to "
               f"{calc.spike_headroom(result['target_utilization']):.0%} above the load.")
    click.echo(f"Set autoscale_min_replicas={result['replicas']} (v1) or the instance count / min_instances (v2).")
    return 0
