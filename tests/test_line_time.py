"""`doctor._native.line_time` (C) against `doctor.logs.reference_line_time` (the Python it replaces): the same
datetime or None for every line, on generated time texts around every field's limits and on any bytes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from doctor import logs

try:
    from doctor._native import line_time as c_line_time
except ImportError:  # pragma: no cover - a machine without the extension fails the first test below
    c_line_time = None


def test_the_c_function_is_used() -> None:
    """The extension is built in CI (setup.py), and logs.line_time is its function there."""
    assert c_line_time is not None and logs.line_time is c_line_time


def _digits(width: int) -> Any:
    edges = ["0" * width, "9" * width, "0" * (width - 1) + "1", ("1" + "2" * (width - 1))]
    return st.one_of(st.sampled_from(edges), st.text("0123456789", min_size=width, max_size=width),
                     st.text("0123456789a: ", min_size=0, max_size=width + 1))


_SEP = st.sampled_from(["-", ":", "T", " ", "t", "/", ""])
_ISO_TEXT = st.tuples(
    st.sampled_from(["", "[", "[["]), st.sampled_from(["2026", "0001", "9999", "0000", "1970", "2024"]) | _digits(4),
    st.sampled_from(["-"]) | _SEP, st.sampled_from(["01", "02", "12", "13", "00"]) | _digits(2), st.sampled_from(["-"]) | _SEP,
    st.sampled_from(["01", "28", "29", "30", "31", "32", "00"]) | _digits(2), st.sampled_from(["T", " ", "t", "_"]),
    st.sampled_from(["00", "23", "24"]) | _digits(2), st.sampled_from([":"]) | _SEP,
    st.sampled_from(["00", "59", "60"]) | _digits(2), st.sampled_from([":"]) | _SEP,
    st.sampled_from(["00", "59", "60", "61"]) | _digits(2),
    st.sampled_from(["", ".", ",", ";"]), st.text("0123456789", max_size=12),
    st.sampled_from(["", " ", "\t", "\n", "\x0b", "  "]),
    st.sampled_from(["", "Z", "z", "+", "-", "+00:00", "-01:00", "+0530", "+05:3", "+99:99", "-14", "+12:", "+1:00"]),
    st.sampled_from(["", "]", " I [10] azmlinfsrv - x", "Z x", "0", ":"]),
).map("".join)
_CLF_TEXT = st.tuples(
    st.text("ab .-[]", max_size=205), st.just("["), _digits(2), st.sampled_from(["/"]) | _SEP,
    st.sampled_from(["Jan", "Feb", "Nov", "Dec", "nov", "Foo", "N_v", "Nov1"]), st.sampled_from(["/"]) | _SEP,
    st.sampled_from(["2026", "0001", "9999", "0000"]) | _digits(4), st.sampled_from([":"]) | _SEP, _digits(2),
    st.just(":"), _digits(2), st.just(":"), _digits(2), st.sampled_from([" ", "  ", ""]),
    st.sampled_from(["+0000", "-0800", "+9999", "-9999", "+00", "0000", "+00:00"]), st.sampled_from(["]", "", "] \"GET"]),
    st.text("ab [", max_size=40),
).map("".join)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(_ISO_TEXT, _CLF_TEXT, _ISO_TEXT.map(lambda t: t + " 1.2.3.4 - - [25/Nov/2026:15:31:27 +0000]")))
@example("2026-11-25T15:31:60Z")
@example("2026-11-25T15:31:27\t+05:30")
@example("2026-11-25T15:31:27\x0c-05:30")
@example("[25/Nov/2026:15:31:60 +0000]")
@example('10.0.0.1 - - [25/Nov/2026:15:31:27 -0800] "GET / HTTP/1.1" 200 1')
@example("9999-12-31T23:59:59-01:00")
@example("0001-01-01T00:00:00+01:00")
@example("0001-01-01T00:59:00+01:00")
@example("9999-12-31T23:59:59+00:00")
@example("9999-12-31 23:58:59.999999999 -00:01")
@example("2024-02-29T00:00:00Z")
@example("2023-02-29T00:00:00Z")
@example("[25/Nov/2026:15:31:27 +0000]")
@example("x" * 172 + "[25/Nov/2026:15:31:27 +0000]")
@example("x" * 173 + "[25/Nov/2026:15:31:27 +0000]")
@example("[25/Foo/2026:15:31:27 +0000] [25/Nov/2026:15:31:27 +0000]")
@example("[01/Jan/0001:00:00:00 +0001]")
def test_the_same_time_as_the_reference(text: str) -> None:
    line = text.encode()
    assert c_line_time is not None
    assert c_line_time(line) == logs.reference_line_time(line), text


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes(data: bytes) -> None:
    assert c_line_time is not None
    assert c_line_time(data) == logs.reference_line_time(data)
    assert c_line_time(bytearray(data)) == logs.reference_line_time(data)
