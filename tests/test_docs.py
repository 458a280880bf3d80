"""The user documentation stays true to the code.

- the tutorial's rule in docs/examples/rules/ lints clean and its inline examples hold (`mldoctor rules lint/test`);
- every ```yaml block of docs/writing-rules.md that is a rule (starts with `id:`, after comment lines) loads with
  the rule loader, and its inline examples, if any, hold; every block that starts with `when:` loads as the
  condition of a minimal rule (regexes compile, CEL parses);
- docs/rules.md's table is what docs/gen_rules_table.py makes from the rule files now;
- the before/after lines in docs/redaction.md are what the redactor does.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from doctor.rules.examples import run_example
from doctor.rules.loader import load_file

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLE_RULES = DOCS / "examples" / "rules"
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _mldoctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "doctor", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def _blocks(page: str) -> list[str]:
    return YAML_BLOCK.findall((DOCS / page).read_text("utf-8"))


def _first_key(block: str) -> str:
    """The first line that is not a comment or blank."""
    return next((line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")


RULE_BLOCKS = [b for b in _blocks("writing-rules.md") if _first_key(b).startswith("id:")]
WHEN_BLOCKS = [b for b in _blocks("writing-rules.md") if _first_key(b).startswith("when:")]


def test_example_rules_lint_clean() -> None:
    run = _mldoctor("rules", "lint", str(EXAMPLE_RULES))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == "", f"lint problems or warnings:\n{run.stdout}"
    assert "0 error(s), 0 warning(s)" in run.stderr


def test_example_rules_examples_hold() -> None:
    run = _mldoctor("rules", "test", str(EXAMPLE_RULES))
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^[1-9]\d* passed, 0 failed$", run.stdout, re.MULTILINE), run.stdout


def test_the_tutorial_has_its_blocks() -> None:
    # guards the extraction itself: a changed fence style must not make the checks below vacuous
    assert len(RULE_BLOCKS) >= 3
    assert len(WHEN_BLOCKS) >= 8


@pytest.mark.parametrize("block", RULE_BLOCKS, ids=[f"rule{i}" for i in range(len(RULE_BLOCKS))])
def test_rule_block_loads(block: str, tmp_path: Path) -> None:
    path = tmp_path / "rule.yaml"
    path.write_text(block, encoding="utf-8")
    rules = load_file(path)  # raises RuleError with file:line when the block does not load
    for rule in rules:
        for example in rule.examples:
            result = run_example(rule, example)
            assert result.passed, f"{rule.id}: {example.name}: {result.detail}\n{block}"


@pytest.mark.parametrize("block", WHEN_BLOCKS, ids=[f"when{i}" for i in range(len(WHEN_BLOCKS))])
def test_condition_block_loads(block: str, tmp_path: Path) -> None:
    path = tmp_path / "rule.yaml"
    path.write_text("id: doc-snippet\ntitle: t\nseverity: info\ncause: c\nfix: f\n" + block, encoding="utf-8")
    load_file(path)


def test_final_tutorial_rule_is_the_example_file() -> None:
    """The last rule block of the tutorial is docs/examples/rules/acme-model-download-timeout.yaml, verbatim."""
    published = (EXAMPLE_RULES / "acme-model-download-timeout.yaml").read_text("utf-8")
    assert RULE_BLOCKS[-1].strip() == published.strip()


def test_example_schema_is_current() -> None:
    """docs/examples/rules/rule.schema.json (the editors' schema the example's modeline names) is `rules schema`."""
    import json

    from doctor.rules.loader import rule_schema

    assert json.loads((EXAMPLE_RULES / "rule.schema.json").read_text("utf-8")) == rule_schema(), \
        "run `mldoctor rules schema > docs/examples/rules/rule.schema.json`"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_rules_table", DOCS / "gen_rules_table.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rules_table_is_up_to_date() -> None:
    gen = _generator()
    page = (DOCS / "rules.md").read_text("utf-8")
    assert gen.current_table(page) == gen.table(), \
        "docs/rules.md is out of date with rules/*.yaml: run `python docs/gen_rules_table.py --write`"


def test_rules_table_lists_every_rule() -> None:
    from doctor.rules.loader import load_rules

    page = (DOCS / "rules.md").read_text("utf-8")
    for rule in load_rules([]):
        assert f"`{rule.id}`" in page, rule.id
REDACTION_PAIR = re.compile(r"^in:  (.*)\nout: (.*)$", re.MULTILINE)
PLACEHOLDER = re.compile(r"\*\*\*REDACTED-[0-9a-f]{6}\*\*\*")


def test_redaction_examples_hold() -> None:
    from doctor.redact import redact_text

    pairs = REDACTION_PAIR.findall((DOCS / "redaction.md").read_text("utf-8"))
    assert len(pairs) >= 5
    for before, after in pairs:
        got = PLACEHOLDER.sub("***REDACTED-xxxxxx***", redact_text(before))
        assert got == after, f"{before!r}: documented {after!r}, redactor gives {got!r}"


def test_every_template_function_and_filter_is_documented() -> None:
    """docs/writing-rules.md names each function and filter a rule's templates can call (a new calculator in
    doctor/calc.py without a line there is one rule writers cannot find)."""
    from doctor.calc import TEMPLATE_FILTERS, TEMPLATE_FUNCTIONS

    page = (DOCS / "writing-rules.md").read_text("utf-8")
    missing = [name for name in [*TEMPLATE_FUNCTIONS, *TEMPLATE_FILTERS]
               if f"`{name}(" not in page and f"`{name}`" not in page and f"| {name} " not in page]
    assert missing == []
