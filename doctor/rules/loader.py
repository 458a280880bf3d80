"""Rule files: YAML read with `yaml.safe_load`, validated against the JSON Schema, built into Rules.

Every problem names the file and line. `load_rules` stops at the first broken file (a broken rule
must never be skipped silently); `doctor.rules.lint` collects every problem for `mldoctor rules lint`.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator


from doctor import yamlsafe
from doctor.errors import RuleError
from doctor.evidence import Severity
from doctor.logs import parse_duration
from doctor.rules.model import (
    After, AllCond, AnyCond, Condition, EventCond, Example, ExprCond, LogCond, NotCond, OptionalCond, Rule, RuledOutSpec,
    RuleSet,
)

MAX_RULE_FILE_BYTES = 1024 * 1024


def builtin_rules_dir() -> Path:
    """Where the built-in rules are: inside the wheel, or `rules/` beside the package in a checkout."""
    packaged = Path(str(resources.files("doctor"))) / "builtin_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rules"


@functools.lru_cache(maxsize=1)
def rule_schema() -> dict[str, Any]:
    """The JSON Schema every rule file must satisfy."""
    text = resources.files("doctor").joinpath("schemas/rule.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named, or found (recursively) in the directories named, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise RuleError("no such rule file or directory", str(path))
    return found


def load_rules(paths: Iterable[Path], builtin: bool = True) -> RuleSet:
    """The built-in rules (unless `builtin` is false) and the users' rules; RuleError on the first problem.

    A file whose exact text passed every check before (by this version's checks: `doctor.cache.Verified`) is
    built without checking it again: the checks are most of the time of loading (~0.6 s for the built-in pack)."""
    dirs = ([builtin_rules_dir()] if builtin else []) + list(paths)
    ruleset = RuleSet()
    verified = _verified()
    parsed = _parsed()
    passed: list[str] = []
    for file in rule_files(dirs):
        text = _read(file)
        checked = text in verified
        for rule in load_file(file, text, checked=checked, parsed=parsed if checked else None):
            if rule.id in ruleset.rules:
                raise RuleError(f"duplicate rule id {rule.id!r} (first in {ruleset.rules[rule.id].where})", rule.where)
            ruleset.rules[rule.id] = rule
        passed.append(text)
    verified.add(passed)
    parsed.save()
    return ruleset


_CODE = ["rules/loader.py", "rules/model.py", "rules/templates.py", "rules/exprs.py", "rules/safety.py",
         "linematch.py", "yamlsafe.py", "schemas/rule.schema.json"]  # what a rule file's checks and building depend on


@functools.lru_cache(maxsize=1)
def _verified() -> "Verified":
    from doctor.cache import Verified, source_fingerprint

    return Verified("rules-checked", source_fingerprint("doctor", _CODE))


def _parsed() -> "Parsed":
    from doctor.cache import Parsed

    return Parsed("rules-parsed", _verified())


def load_file(path: Path, text: str | None = None, checked: bool = False, parsed: "Parsed | None" = None) -> list[Rule]:
    """The rules of one file (a mapping, or a list of mappings under `rules:`); `checked`: its text passed every
    check before, only build it; `parsed`: the cache of checked texts' data (taken from it when it holds this text,
    else kept in it: reading the YAML was ~80 ms of a check's ~340)."""
    text = _read(path) if text is None else text
    entry = parsed.get(text) if parsed is not None else None
    if entry is not None:
        try:
            return _build_items(entry["data"], None, path, checked, [_Lines(None, known) for known in entry["lines"]])[0]
        except (KeyError, TypeError, ValueError, IndexError):
            pass  # an entry this code did not write: the YAML is read again
    try:
        root = yamlsafe.compose(text, checked)
        if not checked and (twice := yamlsafe.duplicate_key(root)) is not None:  # a spliced example loses half
            raise yamlsafe.YamlRefused(f"key `{twice[0]}` written twice in one mapping (the first would be lost)", twice[1])
        data = yamlsafe.construct(root)
    except yamlsafe.YamlRefused as err:
        raise RuleError(f"refused: {err}", f"{path}:{err.line}") from None
    except yamlsafe.errors() as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise RuleError(f"not valid YAML: {getattr(err, 'problem', err)}", f"{path}:{line}") from None
    rules, lines = _build_items(data, root, path, checked, None)
    if parsed is not None:
        parsed.keep(text, data, [rule_lines.known for rule_lines in lines])
    return rules


def _build_items(data: Any, root: Any, path: Path, checked: bool,
                 lines: "list[_Lines] | None") -> tuple[list[Rule], list["_Lines"]]:
    """The file's rules from its data, with the line of each part from the YAML nodes (`root`) or from `lines`;
    and the lines each rule asked for."""
    if isinstance(data, dict) and isinstance(data.get("rules"), list):
        items = [(item, _child(root, "rules", i) if root is not None else None, ("rules", i))
                 for i, item in enumerate(data["rules"])]
    else:
        items = [(data, root, ())]
    made = lines if lines is not None else [_Lines(node) for _, node, _ in items]
    if len(made) != len(items):
        raise ValueError("not this file's lines")
    return [_build_checked(item, at, path, prefix, checked) for (item, _, prefix), at in zip(items, made)], made


class _Lines:
    """The line of each part of one rule (a path of keys from its mapping): read from its YAML node, and noted
    (`known`, for the parsed-rules cache); or, from the cache, looked up in what was noted then."""

    def __init__(self, root: Any, known: dict[str, int] | None = None) -> None:
        self.root, self.known = root, {} if known is None else known

    def __call__(self, *keys: Any) -> int:
        key = repr(keys)  # keys are str and int: repr tells them apart, and is ten times faster than json.dumps
        if self.root is None:
            return self.known[key]  # KeyError: not written by this code (the caller reads the YAML again)
        line = self.known[key] = _line(self.root, keys)
        return line


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_RULE_FILE_BYTES:
            raise RuleError(f"rule file larger than {MAX_RULE_FILE_BYTES} bytes", str(path))
        return path.read_text("utf-8")
    except UnicodeDecodeError:
        raise RuleError("not UTF-8 text", str(path)) from None
    except OSError as err:
        raise RuleError(f"cannot read: {err.strerror}", str(path)) from None


def _child(node: Any, *keys: Any) -> Any:
    """The YAML node at a path of mapping keys / sequence indexes (the deepest one that exists)."""
    import yaml

    for key in keys:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            nxt = node.value[key]
        else:
            nxt = None
        if nxt is None:
            return node
        node = nxt
    return node


def _line(root: Any, keys: Iterable[Any]) -> int:
    node = _child(root, *keys) if root is not None else None
    return node.start_mark.line + 1 if node is not None else 1


def _build_checked(data: Any, lines: _Lines, path: Path, prefix: tuple[Any, ...], checked: bool = False) -> Rule:
    if checked:
        return _build(data, path, lines)
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path).__len__())
    if errors:
        err = errors[0]
        where = f"{path}:{lines(*err.absolute_path)}"
        at = "/".join(str(p) for p in err.absolute_path) or "(top)"
        raise RuleError(f"{at}: {err.message}", where)
    try:
        rule = _build(data, path, lines)
    except _BuildError as err:
        raise RuleError(err.message, f"{path}:{err.line}") from None
    _check_rule(rule)
    return rule


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(rule_schema())


class _BuildError(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def _build(data: dict[str, Any], path: Path, lines: Any) -> Rule:
    when = _condition(data["when"], lines, ("when",))
    examples = tuple(_examples(data.get("examples") or {}, path, lines))
    return Rule(
        id=data["id"],
        title=data["title"],
        severity=Severity.parse(data["severity"]),
        cause=data["cause"],
        fix=data["fix"],
        when=when,
        priority=int(data.get("priority", 0)),
        description=data.get("description", ""),
        references=tuple(data.get("references") or ()),
        tags=tuple(data.get("tags") or ()),
        suppresses=tuple(data.get("suppresses") or ()),
        fallback=bool(data.get("fallback", False)),
        consequence_of=tuple(data.get("consequence_of") or ()),
        ruled_out=tuple(_ruled_out(data.get("ruled_out") or [], lines)),
        needs=tuple(data.get("needs") or ()),
        values=tuple((k, str(v)) for k, v in (data.get("values") or {}).items()),
        examples=examples,
        path=str(path),
        line=lines(),
    )


def _ruled_out(items: list[dict[str, Any]], lines: Any) -> Iterator[RuledOutSpec]:
    for i, item in enumerate(items):
        when = _condition(item["when"], lines, ("ruled_out", i, "when")) if item.get("when") else None
        yield RuledOutSpec(item["rule_id"], item["why"], when)


def _examples(data: dict[str, Any], path: Path, lines: Any) -> Iterator[Example]:
    for key, should in (("match", True), ("no_match", False)):
        for i, item in enumerate(data.get(key) or []):
            yield Example(item["name"], item, should, f"{path}:{lines('examples', key, i)}")


def _patterns(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _condition(data: dict[str, Any], lines: Any, at: tuple[Any, ...]) -> Condition:
    (key, value), = data.items()
    where = f"{lines(*at, key)}"
    if key in ("all", "any"):
        parts = tuple(_condition(v, lines, at + (key, i)) for i, v in enumerate(value))
        return AllCond(parts) if key == "all" else AnyCond(parts)
    if key == "not":
        return NotCond(_condition(value, lines, at + ("not",)))
    if key == "optional":
        return OptionalCond(_condition(value, lines, at + ("optional",)))
    if key == "log":
        return _log(value, where)
    if key == "event":
        return EventCond(value.get("reason"), value.get("message"), value.get("type"),
                         int(value.get("min_count", 1)), value.get("as"), where)
    if key == "expr":
        return ExprCond("bindings", value, None, None, where)
    return ExprCond(key, value["expr"], value.get("kind"), value.get("as"), where)


def _log(value: dict[str, Any], where: str) -> LogCond:
    return LogCond(
        patterns=_patterns(value["pattern"]),
        source=value.get("source", "any"),
        min_count=int(value.get("min_count", 1)),
        within=parse_duration(value["within"]) if value.get("within") else None,
        unless_after=_after(value.get("unless_after")),
        only_after=_after(value.get("only_after")),
        bind=value.get("as"),
        where=where,
        later=bool(value.get("later", False)),
    )


def _after(after: dict[str, Any] | None) -> After | None:
    """An `unless_after` or `only_after` mapping."""
    if not after:
        return None
    return After(patterns=_patterns(after["pattern"]), same=tuple(after.get("same") or ()),
                 within=parse_duration(after["within"]) if after.get("within") else None,
                 lines=int(after.get("lines", 50)))


def _check_rule(rule: Rule) -> None:
    """Regexes compile, CEL parses, templates parse: a broken rule fails at load, not mid-report."""
    from doctor.rules import exprs, templates

    for cond in rule.conditions():
        line = f"{rule.path}:{getattr(cond, 'where', '') or rule.line}"
        if isinstance(cond, LogCond):
            for pattern in cond.patterns + sum((a.patterns for a in (cond.unless_after, cond.only_after) if a), ()):
                _check_regex(pattern, line)
        elif isinstance(cond, EventCond):
            for pattern in (cond.reason, cond.message):
                if pattern:
                    _check_regex(pattern, line)
        elif isinstance(cond, ExprCond):
            exprs.check(cond.expr, line)
            if cond.kind:
                _check_regex(cond.kind, line)
    placed = set(gates_of(rule))
    for cond in rule.conditions():
        if isinstance(cond, LogCond) and cond.later and id(cond) not in placed:
            raise RuleError("`later` is for a log condition (without `unless_after` or `only_after`) directly under a "
                            "`not:` that is a part of an `all:` with another log condition",
                            f"{rule.path}:{cond.where or rule.line}")
    for name, text in (("title", rule.title), ("cause", rule.cause), ("fix", rule.fix)):
        templates.check_template(text, f"{rule.where} ({name})")
    for i, spec in enumerate(rule.ruled_out):
        templates.check_template(spec.why, f"{rule.where} (ruled_out[{i}].why)")
    for name, text in rule.values:
        templates.check_expression(text, f"{rule.where} (values.{name})")


def gates_of(rule: Rule) -> dict[int, list[int]]:
    """Per log condition (id) that may be searched `later`: directly under a `not:` that is a part of an `all:`,
    without `unless_after` or `only_after`, the log conditions among that `all:`'s parts (ids). When one of those
    finds nothing the `all:` fails (`evaluate` stops there, with nothing bound), whatever the `not:` reads."""
    gates: dict[int, list[int]] = {}
    for cond in rule.conditions():
        if not isinstance(cond, AllCond):
            continue
        logs = [id(part) for part in cond.parts if isinstance(part, LogCond)]
        for part in cond.parts if logs else ():
            inner = part.part if isinstance(part, NotCond) else None
            if isinstance(inner, LogCond) and inner.unless_after is None and inner.only_after is None:
                gates[id(inner)] = logs
    return gates


def _check_regex(pattern: str, where: str) -> None:
    """RuleError for a pattern that does not compile, or that can backtrack for ever (log, event, kind alike)."""
    try:
        re.compile(pattern)
    except re.error as err:
        raise RuleError(f"invalid regular expression {pattern!r}: {err}", where) from None
    problem = backtracking_problem(pattern)
    if problem:
        raise RuleError(problem, where)


def backtracking_problem(pattern: str) -> str | None:
    """Why a pattern can backtrack for ever on one hostile line (`(a+)+`, `(a|aa)+`), or None."""
    from doctor.linematch import nested_quantifier

    if nested_quantifier(pattern):
        return (f"pattern {pattern!r} nests quantifiers (like `(a+)+`): catastrophic backtracking can hang a "
                "scan on a hostile line; make the repeats unambiguous (e.g. a literal between them)")
    return None
