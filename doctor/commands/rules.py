"""`mldoctor rules list | show ID | lint PATH | test PATH | schema` and `mldoctor explain ID`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from doctor.errors import InputError


@click.group()
def rules() -> None:
    """Work with diagnosis rules (built-in and your own)."""


@rules.command("list")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(), help="Extra rule file or directory.")
def list_rules(rule_dirs: tuple[str, ...]) -> int:
    """Every rule: id, severity and title."""
    from doctor.rules.loader import load_rules

    for rule in load_rules([Path(p) for p in rule_dirs]):
        click.echo(f"{rule.id:32} {rule.severity.value:9} {rule.title}")
    return 0


def _find(rule_id: str, rule_dirs: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    from doctor.rules.loader import load_rules

    ruleset = load_rules([Path(p) for p in rule_dirs])
    if rule_id not in ruleset.rules:
        raise InputError(f"no rule with id {rule_id!r} (see `mldoctor rules list`)", rule_id)
    return ruleset.rules[rule_id]


@rules.command("show")
@click.argument("rule_id")
def show(rule_id: str) -> int:
    """The rule file of a rule."""
    rule = _find(rule_id)
    click.echo(Path(rule.path).read_text("utf-8"), nl=False)
    return 0


@rules.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def lint(paths: tuple[str, ...]) -> int:
    """Every problem in the rule files: `file:line: severity: message [code]`; exit 2 when there is an error."""
    from doctor.evidence import Severity
    from doctor.rules.lint import lint_paths

    issues = lint_paths([Path(p) for p in paths])
    for issue in issues:
        click.echo(str(issue))
    errors = [i for i in issues if i.severity is Severity.ERROR]
    click.echo(f"{len(errors)} error(s), {len(issues) - len(errors)} warning(s)", err=True)
    return 2 if errors else 0


@rules.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--strict", is_flag=True, help="Also fail when an expression reads a field the example lacks.")
def test(paths: tuple[str, ...], strict: bool) -> int:
    """Run the rules' inline examples (the built-in rules when no PATH); exit 1 when one does not hold or
    an expression fails to evaluate."""
    from doctor.rules.examples import run_examples
    from doctor.rules.loader import load_rules

    ruleset = load_rules([Path(p) for p in paths], builtin=not paths)
    results = run_examples(ruleset, strict)
    for res in results:
        mark = "ok  " if res.passed else "FAIL"
        click.echo(f"{mark} {res.rule_id}: {res.example}" + ("" if res.passed else f"  ({res.where}: {res.detail})"))
    failed = [r for r in results if not r.passed]
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


@rules.command("schema")
def schema() -> int:
    """The JSON Schema of rule files (for editors: yaml-language-server)."""
    from doctor.rules.loader import rule_schema

    click.echo(json.dumps(rule_schema(), indent=2))
    return 0


@click.command()
@click.argument("rule_id")
def explain(rule_id: str) -> int:
    """What a rule looks for, why it happens, how to fix it, and its references."""
    rule = _find(rule_id)
    click.echo(f"{rule.id} ({rule.severity.value}): {rule.title}\n")
    if rule.description:
        click.echo(f"Looks for: {rule.description.strip()}\n")
    click.echo(f"Cause: {rule.cause.strip()}\n\nFix: {rule.fix.strip()}\n")
    if rule.suppresses:
        click.echo(f"Hides, when it matches: {', '.join(rule.suppresses)}")
    for ref in rule.references:
        click.echo(f"Reference: {ref}")
    click.echo(f"Defined in {rule.where}")
    return 0
