"""Matching rule patterns against lines, shared by both scan engines (doctor.scan's `re` engine and
doctor.scan_hs's hyperscan engine): the hit record, per-line matching, the time bound on one `re` call, and the
lint check for patterns that can backtrack for ever."""

from __future__ import annotations

import functools
import re
import signal
import threading
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, NamedTuple, TypeVar

from doctor.errors import RuleError

T = TypeVar("T")
MATCH_SECONDS = 5.0  # one `re` call on one line or block; far beyond any sane pattern, far below "hung"
# a line that starts with a digit starts with its time (or a client address): it does not come again, so what was
# found on it is not kept for the next time (it would only push out the lines that do come again: a traceback's)
ONE_OFF_FIRST = frozenset(bytes([d]) for d in b"0123456789")


class LineHit(NamedTuple):
    """A line that matched one or more patterns: its 1-based number, bytes, and (pattern index, match). A named
    tuple: made for every hit line, twice as fast to make as a frozen dataclass."""

    number: int
    line: bytes
    matches: tuple[tuple[int, re.Match[bytes]], ...]


# `^` then plain characters: `re` tries a pattern starting with `^` at every byte of a block, but one starting with
# a literal only where that literal is (13x faster over a block of access lines).
_ANCHORED_TEXT = re.compile(r"\^([A-Za-z0-9_ <>=:/-]+)")


# Anchors whose meaning differs between a block and a line (`\A`, `\Z`, `\z`), and look-arounds (which may look
# past a line's end within a block): for such a pattern only `re` over the block is the reference's answer.
BLOCK_ANCHORS = re.compile(r"(?<!\\)(?:\\\\)*\\[AZz]")
LOOK_AROUND = re.compile(r"\(\?<?[=!]")


def line_alone_exact(pattern: str) -> bool:
    """Whether the pattern searched on one line alone gives what a search over a block of lines gives for that line:
    no block anchor, no look-around (a conservative, textual test)."""
    return BLOCK_ANCHORS.search(pattern) is None and LOOK_AROUND.search(pattern) is None


def compile_line_pattern(pattern: str) -> re.Pattern[bytes]:
    """A rule pattern compiled for matching against one line's bytes (`^`/`$` per line). `^text...` (plain
    characters, not repeated) is compiled as `text(?<=^text)...`: the same matches and groups, found much faster."""
    anchored = _ANCHORED_TEXT.match(pattern)
    if anchored is not None:
        text, rest = anchored.group(1), pattern[anchored.end():]
        if rest[:1] in ("*", "+", "?", "{"):  # the last character is repeated: not part of the fixed text
            text, rest = text[:-1], text[-1] + rest
        if text:
            pattern = f"{text}(?<=^{text}){rest}"
    return re.compile(pattern.encode("utf-8"), re.MULTILINE)


@functools.lru_cache(maxsize=4096)  # per compiled pattern: the pure-Python scan asks once per pattern per block
def line_search(pattern: re.Pattern[bytes]) -> Callable[[bytes], re.Match[bytes] | None]:
    """The search of a compiled line pattern on one line (bytes without a newline): `pattern.match` when every
    branch of the pattern starts with `^`, which on a line without a newline holds at its start only, so the match
    is the search's; else `pattern.search`. `re` tries a `^` (multi-line) at every byte of the line: on a 512 KB line
    of request data, 2.9 ms a search against 2 µs a match."""
    try:
        parsed = _parser.parse(pattern.pattern.decode("latin-1"), pattern.flags & ~re.UNICODE)
    except (re.error, RecursionError):
        return pattern.search
    return pattern.match if _starts_at_line_start(list(parsed)) else pattern.search


def line_searcher(pattern: re.Pattern[bytes], risky: bool) -> Callable[[bytes], re.Match[bytes] | None]:
    """`line_search`, under the time bound when the pattern is risky (`nested_quantifier`): how both engines search a
    line alone."""
    on_line = line_search(pattern)
    return functools.partial(bounded, on_line, pattern=pattern) if risky else on_line


_LINE_START = (sre.AT_BEGINNING, sre.AT_BEGINNING_LINE, sre.AT_BEGINNING_STRING)


def _starts_at_line_start(items: list[Any]) -> bool:
    """Whether every match of these parsed items starts at `^` (or `\\A`): the first item is that anchor, a group
    (not repeated) that starts with it, or a branch whose every alternative does."""
    if not items:
        return False
    op, av = items[0]
    if op is sre.AT:
        return av in _LINE_START
    if op is sre.SUBPATTERN or op is sre.ATOMIC_GROUP:
        return _starts_at_line_start(list(parsed_children(op, av)[0]))
    if op is sre.BRANCH:
        return all(_starts_at_line_start(list(branch)) for branch in av[1])
    return False


class LinePatterns:
    """Rule patterns compiled for line matching on first use, each with whether it is risky (`nested_quantifier`,
    then searched under the time bound): a scan that confirms the few patterns a log hits compiles only those."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.sources = list(patterns)
        self._compiled: list[tuple[re.Pattern[bytes], bool] | None] = [None] * len(self.sources)

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, index: int) -> tuple[re.Pattern[bytes], bool]:
        """(compiled pattern, risky)."""
        found = self._compiled[index]
        if found is None:
            source = self.sources[index]
            found = self._compiled[index] = (compile_line_pattern(source), nested_quantifier(source))
        return found


def line_matches(pattern: re.Pattern[bytes], block: bytes) -> Iterator[tuple[int, re.Match[bytes]]]:
    """(line start, per-line match) for every line of the block the pattern matches."""
    finder = _line_start_finder(pattern)
    if finder is not None:
        yield from _anchored_line_matches(pattern, finder, block)
        return
    after = _after_context(pattern)
    search = pattern.search if after is None else functools.partial(_search_after_context, pattern, *after)
    pos = 0
    end = len(block)
    while pos < end:
        hit = search(block, pos)
        if hit is None or (hit.start() == end and block.endswith(b"\n")):
            return  # an empty match after the block's last newline is not a line
        start = block.rfind(b"\n", 0, hit.start()) + 1
        stop = block.find(b"\n", hit.start())
        stop = end if stop < 0 else stop
        if hit.end() <= stop:
            yield start, hit  # already inside one line: its groups are the line's groups
        else:
            line_match = pattern.search(block[start:stop])  # the hit crossed a line end: re-check the line
            if line_match is not None:
                yield start, line_match
        pos = stop + 1


@functools.lru_cache(maxsize=1024)
def _after_context(pattern: re.Pattern[bytes]) -> tuple[re.Pattern[bytes], tuple[int, ...]] | None:
    """For a pattern that starts with a group of fixed-width alternatives saying where a match may begin, like
    `(?:^|\\s)` or `(?:^|[ :'"])`, and has no other top-level branch: the rest of it compiled, and the widths of
    those alternatives (at most 8 bytes). Every match of the pattern holds a match of the rest that starts that many
    bytes after it (`_search_after_context`): `re` tried `(?:^|\\s)` at every byte of a block (20 ns a byte:
    1.3 s per 64 MB of access lines for `(?:^|\\s)(?:-v|--volume)[ =]…`), the rest only where its first byte is.
    None for any other pattern."""
    source = pattern.pattern.decode("latin-1")
    if not source.startswith("(?:"):
        return None
    close = group_end(source, 0)
    if close is None:
        return None
    rest = source[close + 1:]
    if not rest or rest[0] in "?*+{|":
        return None  # the group is quantified, or the pattern's first branch
    flags = pattern.flags & ~re.UNICODE
    try:
        lead = list(_parser.parse(source[:close + 1], flags))  # (a non-capturing group of branches parses as its BRANCH)
        if len(lead) != 1 or lead[0][0] is not sre.BRANCH or _top_level_bar(rest):
            return None  # not a group of branches; or the pattern's first branch
        widths = [alternative.getwidth() for alternative in lead[0][1][1]]
        if any(low != high or high > 8 for low, high in widths):
            return None
        return re.compile(rest.encode("latin-1"), pattern.flags), tuple(sorted({high for _, high in widths}, reverse=True))
    except (re.error, RecursionError, OverflowError):
        return None


def _top_level_bar(text: str) -> bool:
    """Whether the pattern text has a `|` outside every group and class (escapes skipped)."""
    return any(char == "|" and depth == 0 for _, char, depth in _walk(text))


def _search_after_context(pattern: re.Pattern[bytes], rest: re.Pattern[bytes], widths: tuple[int, ...], block: bytes,
                          pos: int) -> re.Match[bytes] | None:
    """`pattern.search(block, pos)` for a pattern `_after_context` took: at each place the rest matches from `pos`, in
    order, the pattern tried where it may start (that many bytes before, the earliest first). A match of the pattern
    starts `width` bytes before a place its rest matches, so none is missed; the earliest start wins (the rest is
    looked for further while a wider context could still start before the match found), so the Match is the one
    `search` finds."""
    widest = widths[0]
    best: re.Match[bytes] | None = None
    at = pos  # where the rest is looked for next
    while True:
        found = rest.search(block, at)
        if found is None:
            return best
        place = found.start()
        if best is not None and place - widest >= best.start():
            return best
        for width in widths:  # the widest first: the earliest start first
            start = place - width
            if start >= pos and (best is None or start < best.start()):
                match = pattern.match(block, start)
                if match is not None:
                    best = match
                    break
        if best is not None and widest <= 1:
            return best  # a later place gives no earlier start
        at = place + 1


@functools.lru_cache(maxsize=1024)
def _line_start_finder(pattern: re.Pattern[bytes]) -> re.Pattern[bytes] | None:
    """For a pattern that starts with `^` (no branch around it) and means the same on a line as in a block
    (`line_alone_exact`): `\\n(?:the rest)`, whose matches are at newlines that may start a matching line. `re`
    tries a multi-line `^` at every byte of a block (8 ns a byte: half a second per 64 MB for `^\\s*(?P<gpus>\\d{1,2})
    ?(?:x|×)`), a pattern starting with a newline only at newlines. None for any other pattern."""
    source = pattern.pattern
    if not source.startswith(b"^") or not line_alone_exact(source.decode("latin-1")):
        return None
    try:
        first = list(_parser.parse(source.decode("latin-1"), pattern.flags & ~re.UNICODE))[:1]
        if first != [(sre.AT, sre.AT_BEGINNING)] or not pattern.flags & re.MULTILINE:
            return None
        return re.compile(b"\n(?:" + source[1:] + b")", pattern.flags)
    except (re.error, RecursionError):
        return None


def _anchored_line_matches(pattern: re.Pattern[bytes], finder: re.Pattern[bytes],
                           block: bytes) -> Iterator[tuple[int, re.Match[bytes]]]:
    """`line_matches` of a pattern anchored at the line start: the block's first line, then each line after a newline
    where `finder` matches, each matched alone (`finder` may match across lines; the next search starts at the next
    byte, so a newline inside its match is tried too: no line is skipped)."""
    end = len(block)
    start = 0
    while start < end:  # (nothing after the block's last newline is a line)
        stop = block.find(b"\n", start)
        stop = end if stop < 0 else stop
        match = pattern.match(block[start:stop])
        if match is not None:
            yield start, match
        hit = finder.search(block, stop) if stop < end else None
        if hit is None:
            return
        start = hit.start() + 1


def block_matches(pattern: re.Pattern[bytes], block: bytes, limit: int | None = None,
                  bound: bool = False) -> Iterable[tuple[int, re.Match[bytes]]]:
    """`line_matches`, the first `limit` of them (all when None); `bound`: the search under the time bound."""
    if bound:
        return bounded(lambda text: list(islice(line_matches(pattern, text), limit)), block, pattern)
    return islice(line_matches(pattern, block), limit)


class _Overrun(Exception):
    """Raised by the alarm inside a `re` call that ran past its time."""


def _alarm(signum: int, frame: Any) -> None:
    raise _Overrun


def bounded(search: Callable[[bytes], T], text: bytes, pattern: re.Pattern[bytes]) -> T:
    """`search(text)`, stopped after MATCH_SECONDS per started MiB (RuleError naming the pattern): `re` can backtrack for ever.

    The bound needs SIGALRM, so it holds on the main thread (where the CLI scans); elsewhere it is unbounded.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getitimer(signal.ITIMER_REAL)[0]:
        return search(text)
    seconds = MATCH_SECONDS * (1 + len(text) // (1 << 20))
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return search(text)
    except _Overrun:
        raise RuleError(f"pattern {pattern.pattern.decode('utf-8', 'replace')!r} ran over {seconds:g} s on "
                        f"{len(text)} bytes (catastrophic backtracking): rewrite it without nested quantifiers "
                        "(`mldoctor rules lint` finds them)") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def class_end(pattern: str, start: int) -> int | None:
    """The position of the `]` closing the character class opened at `start`."""
    i, n = start + 1, len(pattern)
    if i < n and pattern[i] == "^":
        i += 1
    if i < n and pattern[i] == "]":
        i += 1
    while i < n and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i if i < n else None


def group_end(pattern: str, start: int) -> int | None:
    """The position of the `)` closing the group opened at `start` (escapes and character classes skipped)."""
    return next((i for i, char, depth in _walk(pattern, start) if char == ")" and depth == 0), None)


def _walk(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(position, character, group depth after it) of each character of a pattern's text from `start`, escapes and
    character classes skipped."""
    depth, i, n = 0, start, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = (class_end(text, i) or n) + 1
            continue
        depth += (char == "(") - (char == ")")
        yield i, char, depth
        i += 1


def nested_quantifier(pattern: str) -> bool:
    """Whether an unbounded repeat holds another with nothing fixed between iterations, like `(a+)+`."""
    try:
        return _risky(_parser.parse(pattern))
    except (re.error, RecursionError):
        return False


def _risky(items: Any) -> bool:
    for op, av in items:
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[1] == sre.MAXREPEAT:
            if (_unbounded(av[2]) and not _separated(av[2])) or _ambiguous_branches(av[2]):
                return True
        if any(_risky(sub) for sub in parsed_children(op, av)):
            return True
    return False


def parsed_children(op: Any, av: Any) -> list[Any]:
    """The sub-patterns directly inside one item of a parsed pattern (`re._parser`)."""
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        return [av[2]]
    if op is sre.SUBPATTERN:
        return [av[-1]]
    if op is sre.BRANCH:
        return list(av[1])
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return [av[-1]]
    if op is sre.ATOMIC_GROUP:  # its argument is the sub-pattern itself
        return [av]
    return []


def _ambiguous_branches(items: Any) -> bool:
    """A repeated body that can match the same text in several ways, like `(a|aa)+` (parsed as `a(?:|a)`)."""
    items = list(items)
    while len(items) == 1 and items[0][0] is sre.SUBPATTERN:
        items = list(items[0][1][-1])
    for op, av in items:
        if op is sre.BRANCH:
            firsts = [_first_literal(list(branch)) for branch in av[1]]
            if any(not branch for branch in av[1]) or None in firsts or len(set(firsts)) < len(firsts):
                return True
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] == 0 and av[1] != sre.MAXREPEAT:
            return True  # an optional part: an iteration can end before it or after it
    return False


def starts_findable(pattern: str) -> bool:
    """Whether `re` can find where the pattern's matches may start without trying every byte: every match starts with
    the same literal (its prefix search) or at a line start (`^`, searched at newlines)."""
    try:
        items = list(_parser.parse(pattern.encode("utf-8")))
    except (re.error, RecursionError):
        return True  # (not this check's concern: the loader reports it)
    return _first_literal(items) is not None or _starts_at_line_start(items)


def _first_literal(items: list[Any]) -> int | None:
    while items and items[0][0] is sre.SUBPATTERN:
        items = list(items[0][1][-1])
    return items[0][1] if items and items[0][0] is sre.LITERAL else None


def _unbounded(items: Any) -> bool:
    return any((op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[1] == sre.MAXREPEAT)
               or any(_unbounded(sub) for sub in parsed_children(op, av)) for op, av in items)


def _separated(items: Any) -> bool:
    """A literal every iteration must match (`(?:\\w+\\.)*`): iterations cannot be split two ways."""
    items = list(items)
    while len(items) == 1 and items[0][0] is sre.SUBPATTERN:
        items = list(items[0][1][-1])
    return any(op is sre.LITERAL for op, _ in items)


MIN_LITERAL = 3  # shorter required texts filter too little to be worth a search


def required_texts(pattern: str) -> tuple[tuple[bytes, ...], bool] | None:
    """Texts one of which every match of the pattern contains, so that a block with none of them has no match; and
    whether to look for them in the block lower-cased (the pattern ignores case: a bytes pattern folds ASCII only,
    as `bytes.lower` does). None when the pattern has no such texts of MIN_LITERAL bytes or more."""
    try:
        parsed = _parser.parse(pattern.encode("utf-8"))  # as compiled: `\\xc3` is one byte, not a character
    except (re.error, RecursionError):
        return None
    if parsed.state.flags & sre.SRE_FLAG_VERBOSE:
        return None
    fold = bool(parsed.state.flags & sre.SRE_FLAG_IGNORECASE)
    found = _sequence(list(parsed), fold)
    if not found:
        return None
    return (tuple(t.lower() for t in found), True) if fold else (tuple(found), False)


def _sequence(items: list[Any], fold: bool) -> list[bytes] | None:
    """The best alternatives one of which every match of this sequence contains: the set whose shortest text is
    longest (runs of literals, groups, repeats of one or more, alternations whose every branch has texts)."""
    best: list[bytes] | None = None
    run: list[int] = []

    def consider(option: list[bytes] | None) -> None:
        nonlocal best
        if option and min(map(len, option)) >= MIN_LITERAL and (best is None or min(map(len, option)) > min(map(len, best))):
            best = option

    for op, av in items:
        if op is sre.LITERAL:
            run.append(av)
            continue
        consider([bytes(run)] if run else None)
        run = []
        consider(_item(op, av, fold))
    consider([bytes(run)] if run else None)
    return best


def _item(op: Any, av: Any, fold: bool) -> list[bytes] | None:
    if op is sre.SUBPATTERN:
        add_flags, del_flags = av[1], av[2]
        if add_flags & sre.SRE_FLAG_VERBOSE or (add_flags & sre.SRE_FLAG_IGNORECASE and not fold) or (
                del_flags & sre.SRE_FLAG_IGNORECASE and fold):
            return None  # a part whose case rule differs from the whole's
        return _sequence(list(av[-1]), fold)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _sequence(list(av[2]), fold)
    if op is sre.ATOMIC_GROUP:
        return _sequence(list(av), fold)
    if op is sre.BRANCH:
        options: list[bytes] = []
        for branch in av[1]:
            texts = _sequence(list(branch), fold)
            if not texts:
                return None
            options.extend(texts)
        return sorted(set(options))
    return None
