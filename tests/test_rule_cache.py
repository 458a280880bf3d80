"""Rule files that passed their load-time checks are not checked again by the next run, unless their text or the
checking code changed; a broken edit is always refused; the cache only ever saves time."""

from __future__ import annotations

from pathlib import Path

import pytest

from doctor.errors import RuleError
from doctor.rules import loader

RULE = """id: {id}
title: "Model {{{{ m.groups.name }}}} failed"
severity: error
cause: "It failed."
fix: "Fix it."
when:
  log: {{pattern: '(?P<name>\\w+) failed', as: m}}
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("MLDOCTOR_CACHE_DIR", str(where))
    loader._verified.cache_clear()  # what a new process starts with
    yield where
    loader._verified.cache_clear()


def rules_dir(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / "mine.yaml").write_text(text)
    return folder


def checks_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The rules `_check_rule` is called on from now on, and `yaml:LINE` for each text the YAML checks (nesting
    depth, aliases, keys written twice) read, LINE its first line."""
    from doctor import yamlsafe

    seen: list[str] = []
    original = loader._check_rule
    monkeypatch.setattr(loader, "_check_rule", lambda rule: (seen.append(rule.id), original(rule))[1])
    depth = yamlsafe._check_depth
    monkeypatch.setattr(yamlsafe, "_check_depth", lambda text: (seen.append("yaml:" + text.split("\n")[0]),
                                                                depth(text))[1])
    return seen


def test_second_run_builds_the_same_rules_without_checking(cache: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    folder = rules_dir(tmp_path, RULE.format(id="my-rule"))
    first = loader.load_rules([folder])
    assert (cache / "rules-checked.json").is_file()
    loader._verified.cache_clear()
    seen = checks_made(monkeypatch)
    second = loader.load_rules([folder])
    assert seen == []
    assert list(second.rules) == list(first.rules) and second.rules["my-rule"] == first.rules["my-rule"]
    assert second.rules["init-failure"] == first.rules["init-failure"]


def test_an_edited_file_is_checked_again_and_a_broken_edit_refused(cache: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder = rules_dir(tmp_path, RULE.format(id="my-rule"))
    loader.load_rules([folder])
    broken = RULE.format(id="my-rule").replace("(?P<name>\\w+) failed", "(a+)+ failed")
    rules_dir(tmp_path, broken)
    loader._verified.cache_clear()
    seen = checks_made(monkeypatch)
    with pytest.raises(RuleError, match="nests quantifiers"):
        loader.load_rules([folder])
    assert seen == ["yaml:id: my-rule", "my-rule"]  # only the changed file: the built-in ones were checked by the first run
    loader._verified.cache_clear()
    with pytest.raises(RuleError, match="nests quantifiers"):  # and it stays refused
        loader.load_rules([folder])


def test_another_version_of_the_checks_checks_again(cache: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    folder = rules_dir(tmp_path, RULE.format(id="my-rule"))
    loader.load_rules([folder])
    from doctor import cache as cache_module

    real = cache_module.source_fingerprint
    monkeypatch.setattr(cache_module, "source_fingerprint", lambda package, names: real(package, names) + b"new")
    loader._verified.cache_clear()
    seen = checks_made(monkeypatch)
    loader.load_rules([folder])
    assert "my-rule" in seen and "init-failure" in seen


@pytest.mark.parametrize("content", [b"", b"not json", b'{"a": 1}', b"[1, 2]", b"\xff\xfe"])
def test_an_unreadable_cache_only_costs_the_checks(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   content: bytes) -> None:
    cache.mkdir(parents=True)
    (cache / "rules-checked.json").write_bytes(content)
    seen = checks_made(monkeypatch)
    rules = loader.load_rules([rules_dir(tmp_path, RULE.format(id="my-rule"))])
    assert "my-rule" in rules.rules and "my-rule" in seen


def test_no_cache_dir_checks_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLDOCTOR_CACHE_DIR", "")
    loader._verified.cache_clear()
    try:
        folder = rules_dir(tmp_path, RULE.format(id="my-rule"))
        loader.load_rules([folder])
        loader._verified.cache_clear()
        seen = checks_made(monkeypatch)
        loader.load_rules([folder])
        assert "my-rule" in seen and "init-failure" in seen
    finally:
        loader._verified.cache_clear()


def test_a_read_only_cache_dir_does_not_fail_the_load(cache: Path, tmp_path: Path) -> None:
    cache.parent.mkdir(exist_ok=True)
    cache.write_text("a file where the folder should be")
    assert "my-rule" in loader.load_rules([rules_dir(tmp_path, RULE.format(id="my-rule"))]).rules


def test_third_run_builds_the_same_rules_without_reading_the_yaml(cache: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A run after the files were checked keeps their data as JSON (`rules-parsed.json`); the next builds every
    rule from it, YAML unread: the same rules, lines and file:line places included."""
    from doctor import yamlsafe

    folder = rules_dir(tmp_path, RULE.format(id="my-rule"))
    first = loader.load_rules([folder])  # checked
    loader._verified.cache_clear()
    loader.load_rules([folder])  # checked before: built from the YAML, its data kept
    assert (cache / "rules-parsed.json").is_file()
    loader._verified.cache_clear()

    def no_yaml(*args: object, **kwargs: object) -> None:
        raise AssertionError("the YAML was read")

    monkeypatch.setattr(yamlsafe, "compose", no_yaml)
    third = loader.load_rules([folder])
    assert list(third.rules) == list(first.rules)
    assert all(third.rules[i] == first.rules[i] for i in first.rules)
    places = [getattr(c, "where", None) for c in first.rules["init-failure"].conditions()]
    assert [getattr(c, "where", None) for c in third.rules["init-failure"].conditions()] == places
    assert any(place and place != "1" for place in places)  # lines were read, not defaulted


@pytest.mark.parametrize("content", [b"", b"not json", b"[1, 2]", b'{"%s": {"data": 1, "lines": []}}',
                                     b'{"%s": {"data": {"id": "x"}, "lines": [{"()": 3}]}}'])
def test_a_parsed_cache_this_code_did_not_write_is_read_from_the_yaml(cache: Path, tmp_path: Path,
                                                                       content: bytes) -> None:
    folder = rules_dir(tmp_path, RULE.format(id="my-rule"))
    first = loader.load_rules([folder])
    loader._verified.cache_clear()
    digest = loader._verified().digest(RULE.format(id="my-rule"))
    (cache / "rules-parsed.json").write_bytes(content.replace(b"%s", digest.encode()))
    loader._verified.cache_clear()
    again = loader.load_rules([folder])
    assert again.rules["my-rule"] == first.rules["my-rule"]
