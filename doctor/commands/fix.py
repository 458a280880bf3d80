"""`mldoctor fix TARGET --config FILE...`: the diagnosis's changes as patches the user reviews and applies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


@click.command()
@click.argument("target")
@click.option("--config", "configs", multiple=True, type=click.Path(dir_okay=False),
              help="Your deployment config, v2 YAML, Kubernetes manifest or environment file to patch; repeatable.")
@click.option("--write", is_flag=True, help="Also write each patched file next to its original, as FILE.fixed.")
@click.option("--format", "fmt", type=click.Choice(["diff", "json"]), default="diff", show_default=True)
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(), help="Extra rule file or directory; repeatable.")
@click.option("--since", default=None, help="Only evidence newer than this (e.g. 30m, 1h, 2d).")
@click.option("--context", default=None, help="Kubernetes context (as kubectl).")
@click.option("-n", "--namespace", default=None, help="Kubernetes namespace (as kubectl).")
def fix(target: str, configs: tuple[str, ...], write: bool, fmt: str, rule_dirs: tuple[str, ...], since: str | None,
        context: str | None, namespace: str | None) -> int:
    """Propose the fixes for TARGET's findings as unified diffs of your files (never applied by mldoctor)."""
    from doctor.pipeline import load_config_files, since_time
    from doctor.fix.plan import build
    from doctor.rules.engine import diagnose
    from doctor.rules.loader import load_rules
    from doctor.targets import Options, open_target

    files = [(path, fact) for path in configs for fact in load_config_files([path])]
    rules = load_rules([Path(p) for p in rule_dirs])
    opts = Options(since=since_time(since), context=context, namespace=namespace)
    with open_target(target, opts) as evidences:
        reports = []
        for evidence in evidences:
            evidence.configs.extend(fact for _, fact in files)
            reports.append(diagnose(evidence, rules, ()))
        plan = build(reports, files, evidences)
    if write:
        from doctor.output import write_output

        for patch in plan.patches:
            write_output(patch.new, patch.path + ".fixed")
    click.echo(render_json(plan) if fmt == "json" else render_text(plan, write), nl=False)
    return 0


def render_text(plan: Any, written: bool) -> str:
    """Diffs first (what `patch -p1` takes), then kubectl commands, then what was left to the user."""
    out = [p.diff() for p in plan.patches]
    for change, command in plan.kubectl:
        out.append(f"# mldoctor fix: {change.why}\n{command}\n")
    for doc in plan.kustomize:
        out.append("# kustomize: a patch (patches: - path: mldoctor-fix.yaml)\n---\n" + doc)
    for change, why in plan.unplaced:
        carried = " (the kubectl patch above carries it)" if plan.carried_by_kubectl(change) else ""
        out.append(f"# not written to a file: {change.rule_id} ({change.key} = {change.value}): {why}{carried}\n")
    for item in plan.not_mechanical:
        out.append(f"# not mechanical: {item.rule_id}: {item.why}\n")
    if written:
        out += [f"# wrote {p.path}.fixed\n" for p in plan.patches]
    if not (plan.patches or plan.kubectl or plan.unplaced or plan.not_mechanical):
        out.append("# nothing to fix: no finding\n")
    return "".join(out)


def render_json(plan: Any) -> str:
    """The plan as data: patches (with their diffs), kubectl commands, what was not written and why."""
    def change(c: Any) -> dict[str, Any]:
        return {"rule_id": c.rule_id, "setting": c.key, "value": c.value, "why": c.why}

    data = {"patches": [{"path": p.path, "diff": p.diff(), "changes": [change(c) for c in p.changes]} for p in plan.patches],
            "kubectl": [cmd for _, cmd in plan.kubectl], "kustomize": plan.kustomize,
            "not_written": [{**change(c), "reason": why} for c, why in plan.unplaced],
            "not_mechanical": [{"rule_id": n.rule_id, "why": n.why} for n in plan.not_mechanical]}
    return json.dumps(data, indent=2) + "\n"
