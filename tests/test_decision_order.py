"""The order the rules are decided in: those reading the traffic statistics last, and the texts of the rules that
hold so far compiled before the check waits for the traffic count's children (the check's last step, on one core,
was a third jinja2's compiling); the report keeps the rules' own order whatever the decisions' order."""

from __future__ import annotations

from typing import Any

from conftest import ROOT

from doctor.bundle import read_bundle_dir
from doctor.rules import templates
from doctor.rules.engine import _waits_for_traffic, diagnose
from doctor.rules.loader import load_rules
from doctor.traffic import traffic_stage


class _Waiting:
    """A traffic stage whose children are still counting; notes whether a text was compiled when first asked."""

    forked = True

    def __init__(self, stage: Any, text: str) -> None:
        self.stage, self.text, self.compiled_then = stage, text, None

    def stats(self) -> Any:
        if self.compiled_then is None:
            hits = templates._template.cache_info().hits
            templates._template(self.text)
            self.compiled_then = templates._template.cache_info().hits == hits + 1
        return self.stage.stats()


def test_texts_of_rules_that_hold_are_compiled_before_the_traffic_wait() -> None:
    rules = load_rules([])
    evidence = read_bundle_dir(ROOT / "fixtures" / "bundles" / "docker-init-failure", "t")
    rule = rules.rules["init-failure"]
    assert not _waits_for_traffic(rule) and any(_waits_for_traffic(r) for r in rules)
    templates._template.cache_clear()
    stage = _Waiting(traffic_stage(evidence), rule.cause)
    report = diagnose(evidence, rules, traffic=stage)
    assert [f.rule_id for f in report.findings] == ["init-failure"]
    assert stage.compiled_then is True  # compiled before the statistics were asked for, not after
    assert [c.rule_id for c in report.checks] == [r.id for r in rules]  # in the rules' order all the same


def test_prepare_leaves_a_broken_template_to_its_use() -> None:
    """`prepare` compiles what it can and raises nothing; the text's own rendering still says what is wrong."""
    templates.prepare((["{{ oops ", "fine {{ 1 + 1 }}"], ["1 +", "2 * 3"]))
    assert templates.render("{{ oops ", {}).startswith("[template error")
    assert templates.render("fine {{ 1 + 1 }}", {}) == "fine 2"
    assert templates.evaluate("1 +", {}) is None and templates.evaluate("2 * 3", {}) == 6


class _HalfDone:
    """A traffic stage one of whose two children has counted half the log: `meanwhile` hands its statistics (here
    the whole's, as a preview) to the work and runs every step; `asked`: whether the statistics were asked for."""

    forked = True

    def __init__(self, stage: Any) -> None:
        self.stage, self.asked = stage, False

    def meanwhile(self, work: Any) -> None:
        for step in work(self.stage.stats()):
            step()

    def stats(self) -> Any:
        self.asked = True
        return self.stage.stats()


def test_texts_of_traffic_rules_that_hold_on_a_half_are_compiled_while_the_other_half_counts() -> None:
    import functools
    from unittest import mock

    rules = load_rules([])
    bundle = ROOT / "fixtures" / "bundles" / "traffic-overload-503"
    plain = diagnose(read_bundle_dir(bundle, "t"), rules)
    assert "overload-503" in [f.rule_id for f in plain.findings]
    stage = _HalfDone(traffic_stage(read_bundle_dir(bundle, "t")))
    before: list[str] = []  # texts compiled before the statistics were asked for
    real = templates._template.__wrapped__

    def noting(text: str) -> Any:
        if not stage.asked:
            before.append(text)
        return real(text)

    with mock.patch.object(templates, "_template", functools.lru_cache(maxsize=2048)(noting)):
        report = diagnose(read_bundle_dir(bundle, "t"), rules, traffic=stage)
    assert rules.rules["overload-503"].title in before
    assert rules.rules["timeout-504"].title not in before  # it does not hold on the preview: not compiled
    strip = lambda r: [(f.rule_id, f.title, f.values) for f in r.findings]  # noqa: E731
    assert strip(report) == strip(plain) and [c.reason for c in report.checks] == [c.reason for c in plain.checks]
