"""One scan of every log for all rules: each pattern once, each log read once, aggregated per log source.

Log conditions are aggregated per log source (a boot loop is in one container's log, not spread
over three replicas), with exact counts, first/last times, the busiest time window, captured groups
and a few excerpt lines, in memory bounded by the number of rules, not by log size. A log still
streaming in (a live Docker check) is scanned as it arrives (`scan_all`).
"""

from __future__ import annotations

from collections import deque
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain
from typing import Any, Iterable

from doctor.convert import format_time
from doctor.evidence import Evidence, LogSource
from doctor.guards import guarded_spec
from doctor.linematch import ONE_OFF_FIRST
from doctor.logs import line_time, strip_time_prefix
from doctor.rules.model import After, LogCond
from doctor.scan import make_scanner

MAX_EXCERPT = 400
EXCERPT_BYTES = 2048  # of a line kept for its excerpt: more than MAX_EXCERPT characters after any time prefix
MAX_DISTINCT = 20
MAX_CAPTURE = 4096  # bytes of a captured group kept (`captures`)
PLANS_KEPT = 4096  # hit lines' plans a scan keeps (`ScanPlan._scan_source`; emptied when full)
PLAN_LINE_BYTES = 1024  # the longest line whose plan is kept (a plan holds its line): memory bounded by a few MB
RUNS_KEPT = 256  # runs counted before they are folded (each holds up to three excerpts of EXCERPT_BYTES: ~1.5 MB)


@dataclass(slots=True)  # one per log condition per log: small, for bundles of many logs
class LogAgg:
    """What one log condition found in one log source."""

    source: LogSource
    count: int = 0
    explained: int = 0  # hits discounted by `unless_after`
    first_time: datetime | None = None
    last_time: datetime | None = None
    max_in_window: int | None = None
    window: deque[datetime] | None = None  # made on the first timed hit
    first_line: int = 0
    last_line: int = 0
    explained_line: int = 0  # the last line discounted by `unless_after`
    excerpts: list[tuple[int, bytes]] = field(default_factory=list)  # (number, line): decoded when read
    groups: dict[str, str] = field(default_factory=dict)
    first_groups: dict[str, str] = field(default_factory=dict)
    distinct: dict[str, list[str]] = field(default_factory=dict)
    first_time_line: int = 0  # the lines of first_time, last_time and groups (`absorb`: runs come in any order)
    last_time_line: int = 0
    groups_line: int = 0

    def add(self, number: int, kept: bytes, when: datetime | None, within: timedelta | None) -> None:
        """Count one matching line: `kept`, at most EXCERPT_BYTES of it, is its excerpt (decoded when read:
        `excerpt_lines`); its captures, if any, go to `add_groups`."""
        self.count += 1
        if not self.first_line:
            self.first_line = number
        self.last_line = number
        if when is not None:
            if self.first_time is None:
                self.first_time = when
            self.last_time = when
            if within is not None:
                self._slide(when, within)
        excerpts = self.excerpts
        if len(excerpts) < 3:
            excerpts.append((number, kept))
        else:
            excerpts[-1] = (number, kept)  # keep the first two and the latest

    def add_groups(self, groups: dict[str, str]) -> None:
        """The captures (not empty) of the line just added. The same dict as the last line's (the scan shares one
        per repeated line) changes nothing: its values are already counted."""
        if groups is self.groups:
            return
        self.groups = groups
        if not self.first_groups:
            self.first_groups = groups
        self._count_values(groups)

    def _count_values(self, groups: dict[str, str]) -> None:
        """Each capture's value among the distinct ones (the first MAX_DISTINCT, in the order they came)."""
        distinct = self.distinct
        for key, value in groups.items():
            seen = distinct.get(key)
            if seen is None:
                distinct[key] = [value]
            elif len(seen) < MAX_DISTINCT and value not in seen:
                seen.append(value)

    def absorb(self, run: "HitRun", groups: dict[str, str]) -> None:
        """Count the lines of a run, which all had these captures. Runs of one batch (`ScanPlan._scan_source`) come in
        the order of their first lines; what does not follow from that (the last line, time, excerpt) is decided by
        line number, so the result is the one `add` and `add_groups` give line by line."""
        self.count += run.count
        if not self.first_line or run.first_line < self.first_line:
            self.first_line = run.first_line
        self.last_line = max(self.last_line, run.last_line)
        if run.first_when is not None:
            if self.first_time is None or run.first_when_line < self.first_time_line:
                self.first_time, self.first_time_line = run.first_when, run.first_when_line
            if run.last_when_line > self.last_time_line:
                self.last_time, self.last_time_line = run.last_when, run.last_when_line
        excerpts = self.excerpts + run.heads
        if run.last[0] != run.heads[-1][0]:
            excerpts.append(run.last)
        excerpts.sort(key=_number)  # the first two and the latest, by line number
        self.excerpts = excerpts if len(excerpts) <= 3 else excerpts[:2] + excerpts[-1:]
        if groups:
            if run.last_line > self.groups_line:
                self.groups, self.groups_line = groups, run.last_line
            if not self.first_groups:
                self.first_groups = groups
            self._count_values(groups)

    def excerpt_lines(self) -> list[tuple[int, str]]:
        """(line number, excerpt text) of the kept lines: the first two and the latest."""
        return [(number, _excerpt(line)) for number, line in self.excerpts]

    def _slide(self, when: datetime, within: timedelta) -> None:
        if self.window is None:
            self.window = deque()
        self.window.append(when)
        while self.window and when - self.window[0] > within:
            self.window.popleft()
        self.max_in_window = max(self.max_in_window or 0, len(self.window))

    def binding(self) -> dict[str, Any]:
        """The values a rule can use: counts, times, captures."""
        span = (self.last_time - self.first_time).total_seconds() if self.first_time and self.last_time else None
        return {
            "count": self.count, "explained": self.explained, "max_in_window": self.max_in_window,
            "first_time": format_time(self.first_time), "last_time": format_time(self.last_time), "span_seconds": span,
            "first_line": self.first_line, "last_line": self.last_line, "source": self.source.name,
            "container": self.source.container, "previous": self.source.previous,
            "groups": dict(self.groups), "first_groups": dict(self.first_groups), "values": {k: list(v) for k, v in self.distinct.items()},
            "excerpt": _excerpt(self.excerpts[0][1]) if self.excerpts else "",
        }


@dataclass(slots=True, eq=False)
class HitRun:
    """The lines of one log that shared one set of operations (`ScanPlan._scan_source`: the same patterns matched,
    capturing the same texts), counted as they come: one update a line, not one per aggregate it adds to. Its
    aggregates (`parts`: each with the captures it takes) absorb it when its batch ends."""

    parts: list[tuple[LogAgg, dict[str, str]]]
    count: int = 0
    first_line: int = 0
    last_line: int = 0
    heads: list[tuple[int, bytes]] = field(default_factory=list)  # the first two (number, excerpt)
    last: tuple[int, bytes] = (0, b"")
    first_when: datetime | None = None  # the first and last lines with a time
    first_when_line: int = 0
    last_when: datetime | None = None
    last_when_line: int = 0

    def hit(self, number: int, kept: bytes, when: datetime | None) -> None:
        """One more line."""
        self.count += 1
        if not self.first_line:
            self.first_line = number
        self.last_line = number
        if len(self.heads) < 2:
            self.heads.append((number, kept))
        self.last = (number, kept)
        if when is not None:
            if self.first_when is None:
                self.first_when, self.first_when_line = when, number
            self.last_when, self.last_when_line = when, number

    def fold(self) -> None:
        """Into its aggregates."""
        if self.count:
            for agg, groups in self.parts:
                agg.absorb(self, groups)


def _number(item: tuple[int, bytes]) -> int:
    return item[0]


def _decided_by_one(cond: LogCond) -> bool:
    """Whether one matching line makes the condition hold, whatever else the log has."""
    return cond.min_count <= 1 and cond.within is None and cond.unless_after is None and cond.only_after is None


MATCH, UNLESS, ONLY = 0, 1, 2  # what a pattern is to a condition: its match, its `unless_after`, its `only_after`


def _source_applies(cond: LogCond, source: LogSource) -> bool:
    if cond.source == "any":
        return source.kind == "container"
    if cond.source in ("access", "model-dir"):
        return source.kind == cond.source
    return source.kind == "container" and source.previous == (cond.source == "previous")


class ScanPlan:
    """Every pattern of every log condition, numbered once, scanned in one pass per source.

    `yes_no`: positions of conditions read only as "holds or not" (under a `not:`): with `min_count` 1, no window
    and no `unless_after`, the first line that matches decides them, so a pattern only such conditions use is
    scanned for its first line per log (`first_only`), however many lines it would hit.

    `gated`: per position of a condition that matters only when others found lines (a `not:` of it beside them in
    an `all:`: when one of them found nothing, the `all:` fails whatever the `not:` reads), those others' positions.
    Such conditions whose patterns no other condition uses are left out of the scan (`run`) and scanned after it,
    only when each of their gates found a line (`run_gated`): a rule's "unless this is a model server's log" was
    scanned on every line of every log (BentoML's `[entry_service:` is in each of its lines) for the few logs
    where its rule's other parts hold. Which conditions are gated is the engine's choice (`engine._gates`)."""

    def __init__(self, conds: list[LogCond], yes_no: Iterable[int] = (),
                 gated: dict[int, Iterable[int]] | None = None) -> None:
        self.conds = conds
        self.patterns: list[str] = []
        index: dict[str, int] = {}
        self.users: dict[int, list[tuple[int, int]]] = {}  # pattern -> [(cond, MATCH, UNLESS or ONLY)]
        for ci, cond in enumerate(conds):
            unless = cond.unless_after.patterns if cond.unless_after else ()
            only = cond.only_after.patterns if cond.only_after else ()
            for pattern, role in [(p, MATCH) for p in cond.patterns] + [(p, UNLESS) for p in unless] + [
                    (p, ONLY) for p in only]:
                if pattern not in index:
                    index[pattern] = len(self.patterns)
                    self.patterns.append(pattern)
                self.users.setdefault(index[pattern], []).append((ci, role))
        self.index = index  # pattern -> its number
        # conditions that aggregate exactly alike (the same patterns, source and window, neither `unless_after` nor
        # `only_after`: two rules reading the same lines) share one aggregate per log, updated once per line
        first: dict[tuple[Any, ...], int] = {}
        self.twin = [first.setdefault((cond.patterns, cond.source, cond.within), ci)
                     if cond.unless_after is None and cond.only_after is None else ci for ci, cond in enumerate(conds)]
        self.decided_by_one = frozenset(ci for ci in yes_no if _decided_by_one(conds[ci]))
        self.first_only = self._first_only(range(len(conds)))
        self.gates = self._deferred(gated or {})

    def _deferred(self, gated: dict[int, Iterable[int]]) -> dict[int, tuple[int, ...]]:
        """Of the gated conditions, those scanned after the rest (`run_gated`), with their gates: neither
        `unless_after` nor `only_after` (which read other patterns' lines), and every pattern of theirs used by
        such conditions alone (a pattern scanned anyway gives them its lines in the same pass)."""
        found = {ci: tuple(gates) for ci, gates in gated.items()
                 if self.conds[ci].unless_after is None and self.conds[ci].only_after is None}
        while True:
            kept = {ci: gates for ci, gates in found.items() if not set(gates) & set(found) and all(
                all(user in found and role == MATCH for user, role in self.users[self.index[p]])
                for p in self.conds[ci].patterns)}
            if len(kept) == len(found):
                return kept
            found = kept

    def _first_only(self, applies: Iterable[int]) -> frozenset[int]:
        """Patterns that only conditions of `applies` decided by one line use (as matches, not `unless_after` or
        `only_after`)."""
        among = set(applies)
        return frozenset(i for i, users in self.users.items()
                         if all(ci in self.decided_by_one and role == MATCH for ci, role in users if ci in among))

    def run(self, sources: Iterable[LogSource], engine: str = "auto",
            until_decided: list[set[int]] | None = None) -> dict[int, list[LogAgg]]:
        """Per condition, one aggregate per log source it applies to. A log is scanned only for the patterns of
        the conditions that apply to it (a container log not for an access-log pattern). `until_decided`: groups
        of conditions (each decided by one line) of which one line of any one decides the group: the scan stops
        once each group is decided, and a group decided is not looked for in the logs after."""
        results: dict[int, list[LogAgg]] = {i: [] for i in range(len(self.conds))}
        if not self.patterns:
            return results
        groups = None if until_decided is None else [set(group) for group in until_decided]
        scanners: dict[tuple[int, ...], tuple[Any, list[int]]] = {}
        for source in sources:
            wanted = None if groups is None else set().union(*groups)
            applies = tuple(i for i, c in enumerate(self.conds) if i not in self.gates and _source_applies(c, source)
                            and (wanted is None or i in wanted))
            if not applies:
                continue
            if applies not in scanners:
                scanners[applies] = self._scanner(applies, engine)
            aggs: dict[int, LogAgg] = {}
            for i in applies:  # a twin applies to the same sources as the condition it shares with (`self.twin`)
                shared = aggs.get(self.twin[i])
                aggs[i] = shared if shared is not None else LogAgg(source)
            deciding = None if groups is None else [{id(aggs[i]) for i in group if i in aggs} for group in groups]
            self._scan_source(*scanners[applies], source, aggs, deciding)
            for i, agg in aggs.items():
                if agg.count or agg.explained:  # one that found nothing cannot satisfy a condition (min_count >= 1)
                    results[i].append(agg)
            if groups is not None:
                groups = [group for group in groups if not any(results[i] for i in group)]
                if not groups:
                    break
        return results

    def run_gated(self, results: dict[int, list[LogAgg]], sources: Iterable[LogSource],
                  engine: str = "auto") -> dict[int, list[LogAgg]]:
        """`results` (`run`'s, of every log) with the gated conditions' aggregates: scanned now, in another pass
        over the logs, for those whose gates each found a line; the others' stay empty (their `all:` fails).

        Read as "holds or not" beside the same gates (in one `all:`), one line of any of them decides: its `not:`
        fails, so does the `all:`, whatever the others' say. The pass ends once each such group has its line (an
        Azure ML server's `Listening at: http://127.0.0.1:31311` at the log's start ends it there; BentoML's
        marker, line 1), and the others' aggregates may then stay empty, as nothing reads them."""
        needed = [ci for ci, gates in self.gates.items() if all(results.get(g) for g in gates)]
        if needed:
            then = ScanPlan([self.conds[ci] for ci in needed],
                            [k for k, ci in enumerate(needed) if ci in self.decided_by_one])
            groups: dict[tuple[int, ...], set[int]] = {}
            for k, ci in enumerate(needed):
                groups.setdefault(self.gates[ci], set()).add(k)
            early = list(groups.values()) if set(needed) <= self.decided_by_one else None
            for k, aggs in then.run(sources, engine, early).items():
                results[needed[k]] = aggs
        return results

    def _scanner(self, applies: tuple[int, ...], engine: str) -> tuple[Any, list[int]]:
        """The scanner of the patterns these conditions use, and each of its positions' pattern number."""
        among = set(applies)
        used = [i for i in range(len(self.patterns)) if any(ci in among for ci, _ in self.users.get(i, ()))]
        first_only = self._first_only(applies)
        local = [k for k, i in enumerate(used) if i in first_only]
        position = {i: k for k, i in enumerate(used)}
        guarded = [(position[i], [position[g] for g in guards], lines)
                   for i, (guards, lines) in self._guarded(among).items()]
        return make_scanner([self.patterns[i] for i in used], engine, local, guarded_spec(guarded)), used

    def _guarded(self, among: set[int]) -> dict[int, tuple[set[int], int]]:
        """Patterns whose lines count only shortly after a guard's line (`doctor.guards`): every use among these
        conditions is the match of a condition with a line-counted `only_after` and no `unless_after` (which would
        count the lines it discounts). Per pattern: the guards' pattern numbers and the most lines after them."""
        guarded: dict[int, tuple[set[int], int]] = {}
        for i, users in self.users.items():
            conds = [self.conds[ci] for ci, role in users if ci in among and role == MATCH]
            if not conds or len(conds) != sum(1 for ci, _ in users if ci in among):  # not used, or used otherwise
                continue
            if any(c.only_after is None or c.only_after.within is not None or c.unless_after is not None
                   for c in conds):
                continue
            guards = {self.index[p] for c in conds for p in c.only_after.patterns}  # type: ignore[union-attr]
            guarded[i] = (guards, max(c.only_after.lines for c in conds))  # type: ignore[union-attr]
        return guarded

    def _scan_source(self, scanner: Any, used: list[int], source: LogSource, aggs: dict[int, LogAgg],
                     deciding: list[set[int]] | None = None) -> None:
        recent: dict[tuple[int, int, tuple[str, ...]], tuple[int, datetime | None]] = {}
        # per scanner position, its pattern's users in this source: [(agg, window)] of conditions without
        # `unless_after` or `only_after`, [(agg, cond, role)] of those with either (each list in the users' order;
        # conditions are independent of each other), and whether the pattern names groups
        users: dict[int, tuple[list[tuple[LogAgg, timedelta | None]], list[tuple[LogAgg, LogCond, int]], bool]] = {}
        for position, index in enumerate(used):
            direct: list[tuple[LogAgg, timedelta | None]] = []
            guarded: list[tuple[LogAgg, LogCond, int]] = []
            for ci, role in self.users[index]:
                if ci in aggs:
                    cond = self.conds[ci]
                    if cond.unless_after is None and cond.only_after is None:
                        if self.twin[ci] == ci:  # a twin's shared aggregate is listed with the condition it shares
                            direct.append((aggs[ci], cond.within))
                    else:
                        guarded.append((aggs[ci], cond, role))
            if direct or guarded:
                users[position] = (direct, guarded, "(?P<" in self.patterns[index])
        no_groups: dict[str, str] = {}  # shared, never stored: an agg keeps only captures that are not empty

        live: list[HitRun] = []  # the runs made since the last fold

        def line_ops(matches: tuple[tuple[int, Any], ...]) -> tuple[HitRun | None, list[Any], list[Any]]:
            """What a hit line's matches do to the aggregates, whatever the line's number and time: per pattern that
            matched it, in order, its users with the captures (the `same` keys of a guarded one). The aggregates of
            conditions without a window are counted by a run (each once: a line counts once); those with one see
            every line's time (`windowed`)."""
            parts: list[tuple[LogAgg, dict[str, str]]] = []
            windowed: list[tuple[LogAgg, timedelta, dict[str, str]]] = []
            guarded_ops: list[tuple[LogAgg, LogCond, int, dict[str, str], tuple[Any, ...], tuple[Any, ...]]] = []
            for pattern_index, match in matches:
                targets = users.get(pattern_index)
                if targets is None:
                    continue
                direct, guarded, named = targets
                groups = captures(match) if named else no_groups
                for agg, within in direct:
                    if within is not None:
                        windowed.append((agg, within, groups))
                    elif all(agg is not other for other, _ in parts):  # another of its patterns came first
                        parts.append((agg, groups))
                for agg, cond, role in guarded:
                    if role != MATCH:  # a line an `unless_after` or `only_after` looks back to
                        after = cond.unless_after if role == UNLESS else cond.only_after
                        assert after is not None
                        guarded_ops.append((agg, cond, role, groups, (id(cond), role, _key(after, groups)), ()))
                        continue
                    unless = (id(cond), UNLESS, _key(cond.unless_after, groups)) if cond.unless_after else ()
                    only = (id(cond), ONLY, _key(cond.only_after, groups)) if cond.only_after else ()
                    guarded_ops.append((agg, cond, role, groups, unless, only))
            run = None
            if parts:
                run = HitRun(parts)
                live.append(run)
            return run, windowed, guarded_ops

        def fold() -> None:
            """Every live run into its aggregates, in the order of their first lines (a run is made at its first
            line); a plan made before is not used again (it holds a folded run)."""
            for run in live:
                run.fold()
            live.clear()
            plans.clear()
            ops.clear()

        # a hit's matches -> its line's plan: the scanner hands the same matches (the same tuple) again for
        # a line with the same bytes (a traceback line of every failing request). A new line whose patterns
        # captured the same texts as an earlier line's (a time-stamped `WORKER TIMEOUT (pid:9)` at another time)
        # shares that line's operations (`ops`, keyed by each pattern's position and groups) and run; only its time
        # and excerpt are its own. The captures' dicts are shared between aggregates, never changed
        plans: dict[int, LinePlan] = {}  # keyed by the id of the matches' tuple, which the plan holds
        ops: dict[tuple[tuple[int, tuple[Any, ...]], ...], tuple[HitRun | None, list[Any], list[Any]]] = {}
        undecided = [group for group in deciding if group] if deciding is not None else None  # (`run`'s)
        with source.open() as stream, closing(scanner.scan(stream)) as hits:
            for number, line, matches in hits:  # LineHits
                plan = plans.get(id(matches))
                if plan is None:
                    if len(live) >= RUNS_KEPT or len(plans) >= PLANS_KEPT or len(ops) >= PLANS_KEPT:
                        fold()
                    if len(line) > PLAN_LINE_BYTES:  # not kept: its matches hold the whole line
                        plan = (line_time(line), excerpt_head(line), *line_ops(matches), matches)
                    else:
                        signature = tuple([(pattern_index, match.groups()) for pattern_index, match in matches])
                        shared = ops.get(signature)
                        if shared is None:
                            shared = ops[signature] = line_ops(matches)
                        plan = (line_time(line), excerpt_head(line), *shared, matches)
                        # kept only for a line that may come again (the fast scanner hands the same matches again
                        # for a line seen before; not one that starts with its time) and matches made on the line
                        # alone: a match of `re` over a whole block holds that block (4 MB), and such matches never
                        # come again: keeping 16 of them was 64 MB (bench/README.md)
                        if line[:1] not in ONE_OFF_FIRST and \
                                all(len(match.string) <= PLAN_LINE_BYTES for _, match in matches):
                            plans[id(matches)] = plan
                when, kept, run, windowed, guarded_ops, _ = plan
                if run is not None:
                    run.hit(number, kept, when)
                for agg, within, groups in windowed:
                    if agg.last_line == number:  # another of its patterns matched this line: a line counts once
                        continue
                    agg.add(number, kept, when, within)
                    if groups:
                        agg.add_groups(groups)
                for agg, cond, role, groups, unless, only in guarded_ops:
                    if role != MATCH:
                        recent[unless] = (number, when)
                        continue
                    if agg.last_line == number or agg.explained_line == number:  # a line counts once
                        continue
                    if unless and _follows(cond.unless_after, recent.get(unless), number, when):  # type: ignore[arg-type]
                        agg.explained += 1
                        agg.explained_line = number
                        continue
                    if only and not _follows(cond.only_after, recent.get(only), number, when):  # type: ignore[arg-type]
                        continue
                    agg.add(number, kept, when, cond.within)
                    if groups:
                        agg.add_groups(groups)
                if undecided is not None:
                    found = {id(agg) for pattern_index, _ in matches
                             for agg, *_ in chain(*users.get(pattern_index, ((), (), False))[:2])}
                    undecided = [group for group in undecided if not group & found]
                    if not undecided:
                        break
        fold()


# (time, excerpt, its run, [(agg, window, captures)], [(agg, cond, role, captures, key looked back to or recorded,
# only_after key)], the matches: held, so that the id `plans` keys on stays theirs)
LinePlan = tuple[datetime | None, bytes, "HitRun | None", list[Any], list[Any], tuple[tuple[int, Any], ...]]


def captures(match: Any) -> dict[str, str]:
    """The named groups that took part in the match, decoded, each its first MAX_CAPTURE bytes (then `…`): a
    `(?P<msg>.*)` on a line of request data holds the whole 512 KB, which no finding quotes (copied and decoded for
    each such line, it was most of a scan of long lines)."""
    line = match.string
    found: dict[str, str] = {}
    for name, index in match.re.groupindex.items():
        start, end = match.span(index)
        if start < 0:
            continue
        if end - start <= MAX_CAPTURE:
            found[name] = line[start:end].decode("utf-8", "replace")
            continue
        cut = start + MAX_CAPTURE
        while cut > start and 0x80 <= line[cut] < 0xC0:  # not inside a UTF-8 character
            cut -= 1
        found[name] = line[start:cut].decode("utf-8", "replace") + "…"
    return found


def _key(after: After, groups: dict[str, str]) -> tuple[str, ...]:
    return tuple([groups.get(name, "") for name in after.same]) if after.same else ()


def _follows(after: After, seen: tuple[int, datetime | None] | None, number: int, when: datetime | None) -> bool:
    """Whether a hit at line `number` (time `when`) comes shortly after the line `seen` (its number and time)."""
    if seen is None:
        return False
    line, at = seen
    if after.within is not None and at is not None and when is not None:
        return timedelta(0) <= when - at <= after.within
    return 0 <= number - line <= after.lines


def excerpt_head(line: bytes) -> bytes:
    """What a log condition keeps of a matching line for its excerpt: at most EXCERPT_BYTES."""
    return line if len(line) <= EXCERPT_BYTES else line[:EXCERPT_BYTES]


def _excerpt(line: bytes) -> str:
    text = strip_time_prefix(line.decode("utf-8", "replace").rstrip("\r"))
    return text if len(text) <= MAX_EXCERPT else text[:MAX_EXCERPT] + "…"


Plan = ScanPlan  # the old name, kept for one release


def scan_all(plan: ScanPlan, evidence: Evidence, engine: str) -> dict[int, list[LogAgg]]:
    """Every log scanned once. A log still streaming in (a live check) is scanned as it arrives (the traffic stage,
    `doctor.traffic.TrafficStage`, counts it once it is whole); what the collector read after it (the model folder)
    is scanned then. The conditions that matter only when others found lines (`ScanPlan`'s `gated`) last."""
    if evidence.pending is None:
        return plan.run_gated(plan.run(evidence.logs, engine), evidence.logs, engine)
    streaming = list(evidence.logs)
    scanned = plan.run(streaming, engine)
    if not evidence.settle():  # the log outgrew the size cap while it streamed: read its kept tail again
        evidence.cache["traffic_stale"] = True
        return plan.run_gated(plan.run(evidence.logs, engine), evidence.logs, engine)
    seen = {(s.name, s.kind, s.previous) for s in streaming}  # a streamed log is now its final file: same name
    late = [s for s in evidence.logs if (s.name, s.kind, s.previous) not in seen]
    for index, aggs in (plan.run(late, engine) if late else {}).items():
        scanned[index].extend(aggs)
    return plan.run_gated(scanned, evidence.logs, engine)
