"""The block passes, in C (doctor/traffic/native.py) and in NumPy (doctor/traffic/vector.py), give the very stats
dict of the line-by-line reference parser. Every test runs with each of them (the `engine` fixture).

Generated logs (GENERATED: synthetic lines in the real formats, then mutated byte by byte) of every access-line
shape the block pass reads, mixed with lines it must leave to the reference (odd spacing, brackets and quotes
where they should not be, impossible times, numbers the reference reads another way, CRLF, tabs, summaries
without twins, pairs cut by block borders). Each test also checks that the block pass took most blocks, so an
equality that only holds because everything fell back to the old path fails.
"""

from __future__ import annotations

import random
from typing import Any, Iterator

import pytest

import doctor.logs
from doctor import traffic
from doctor.evidence import Evidence, LogSource, Target
from doctor.traffic import compute, fast, vector

MONTHS = ["Nov", "Nov", "Nov", "Dec", "Foo", "nov"]
AGENTS = ['"-" "python-requests/2.31.0"', '"-" "Go-http-client/1.1"', '"-" "kube-probe/1.30"',
          '"http://ui/x?a=1" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"', '"-" "x[1]y"', '"-" "a[1] azmlinfsrv - GET / 200 1ms"',
          '"-" "[9] gunicorn.access - "', '"" ""', '"-"', '"a"b" "c"']
TAILS = ["", "", " 0.300422", " 61.5", " 0", " 1.", " .5", " 0.5x", " 0.123.4", ' "rt=0.5"', " rt=0.25",
         " 1532 60.002 [up] [] 10.0.0.5:5001 0 60.001 504 6ad", " 1532 0.002 [up-80] [] 10.0.0.5:5001 0 0.001 200 6ad",
         " 12 34 0.5", " - 0.2", " 0.000", " 99999999999999999.5", " 3.14159265358979323", " 7 [0] azmlinfsrv - GET / 200 1ms"]
CLEAN_TAILS = ["", "", " 0.300422", " 61.5", " 0.000", " 1532 60.002 [up] [] 10.0.0.5:5001 0 60.001 504 6ad",
               " 1532 0.002 [up-80] [] 10.0.0.5:5001 0 0.001 200 6ad"]
PATHS = ["/score", "/score", "/", "/healthz", "/healthz?x=1", "/ready", "/live?", "/health", "/readiness", "/liveness",
         "/api/v1/service/my-aks-service-name/score", "/p\"q", "/a b", "/sc[ore", "/%7e?x=/healthz", "/score\xe9"]
METHODS = ["POST", "POST", "GET", "GET", "HEAD", "PUT", "OPTIONS", "get", "PROPFIND", "GETX"]
HOSTS = ["10.0.0.1", "10.244.0.12", "2001:db8::1", "host.example", "2026-11-25T00:00:00Z", "a\"b", "h[1]"]
USERS = ["- -", "- -", "- -", "- alice", "ident bob", "-  -", "- - extra", "-"]


def _clf(rnd: random.Random, t: int, clean: bool = False) -> str:
    hour = t // 3600 % 24 if rnd.random() > 0.02 else 25
    second = t % 60 if rnd.random() > 0.02 else 60
    zone = rnd.choice(["+0000"] * 8 + ["-0800", "+0130"] + ([] if clean else ["+00:00"]))
    return f"{rnd.choice(['25', '25', '31', '05'])}/{rnd.choice(MONTHS)}/2026:{hour:02d}:{t // 60 % 60:02d}:{second:02d} {zone}"


def _stamp(rnd: random.Random, t: int, clean: bool = False) -> str:
    nanos = rnd.choice(["." + str(rnd.randint(0, 10**9 - 1)).rstrip("0"), "", ".123456789", ".5"] + (
        [] if clean else [".1234567890"]))
    day = rnd.choice(["25"] * 6 + ["31", "32"])
    year = rnd.choice(["2026"] * 8 + ([] if clean else ["1969"]))
    return f"{year}-11-{day}T{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}{nanos or ''}Z "


def _access(rnd: random.Random, t: int, path: str, code: str, method: str, clean: bool = False) -> str:
    """An access line; `clean`: of a shape the NumPy pass reads (its fields may still be odd)."""
    version = rnd.choice([" HTTP/1.1", " HTTP/1.1", " HTTP/1.0", ""] + ([] if clean else [" HTTP/2", " HTTP/1.1 x"]))
    size = rnd.choice(["19", "0", "-", "123456"] + ([] if clean else ["-5", "12a"]))
    agent = rnd.choice(AGENTS[:4] + ['"" ""'] if clean else AGENTS) if rnd.random() < 0.8 else ""
    sep = " " if agent else ""
    host, user = rnd.choice(HOSTS[:4] if clean else HOSTS), rnd.choice(USERS[:5] if clean else USERS)
    tail = rnd.choice(CLEAN_TAILS if clean else TAILS)
    return f'{host} {user} [{_clf(rnd, t, clean)}] "{method} {path}{version}" {code} {size}{sep}{agent}{tail}'


def _uvicorn(rnd: random.Random, path: str, code: str, method: str, clean: bool = False) -> str:
    """uvicorn's access line (KServe, MLServer, vLLM), maybe behind vLLM's `(APIServer pid=N) `; `clean`: of the shape
    the C pass reads (its fields may still be odd)."""
    host = rnd.choice(["10.0.0.5:51234", "127.0.0.1:40000", "[::1]:8080", "h" * 300, "h" * 301, 'a"b:1', "-"][
        :2 if clean else 7])
    phrase = rnd.choice([" OK", " Internal Server Error", "", " Service Unavailable"] + (
        [] if clean else ["x", " [1] azmlinfsrv - GET / 200 1ms", ' 10.0.0.1 - - [25/Nov/2026:00:00:01 +0000] "GET / HTTP/1.1" 200 1']))
    head = rnd.choice(["INFO:     ", "INFO:     ", "(APIServer pid=1) INFO:     "] + (
        [] if clean else ["INFO: ", "INFO:", "WARNING:  ", "(APIServer pid=) INFO:     ", "(APIServer pid=1)INFO:     ",
                          "2026-11-25 10:00:00,000 INFO:     "]))
    version = rnd.choice(["HTTP/1.1", "HTTP/1.0", "HTTP/2"] + ([] if clean else ["HTTP/", "HTTP/1.1x"]))
    code = code if code.isdigit() else "200"
    return f'{head}{host} - "{method} {path} {version}" {code}{phrase}'


def _other_server(rnd: random.Random, t: int, path: str, code: str, method: str, clean: bool = False) -> str:
    """TorchServe's ACCESS_LOG or BentoML's access line (the real servers' formats), fields maybe odd."""
    ms = rnd.choice(["10", "0", "25.041", "123456789012", "1.123456789"] + (
        [] if clean else ["1234567890123", "1.", "x", "1.1234567890", ".5"]))
    hms = f"{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}"
    host = rnd.choice(["127.0.0.1:50296", "10.0.0.5:1"] + ([] if clean else ["h" * 300, "h" * 301, "a]", "-"]))
    if rnd.random() < 0.5:
        tail = rnd.choice([""] * 4 + ([] if clean else [' x] "y', ' a - "b', " [1] azmlinfsrv - GET / 200 1ms", "x"]))
        return (f"2026-11-25T{hms},{rnd.choice(['407', '4'] if not clean else ['407'])} [INFO ] W-9000-linear_1.0 "
                f'ACCESS_LOG - /{host} "{method} {path} HTTP/1.1" {code} {ms.split(".")[0] or "7"}{tail}')
    extra = rnd.choice([",type=application/json,length=23", ""] + (
        [] if clean else [",length=2,x=[1]", "," + "x" * 300, "," + "x" * 301, ",a b", "(", ", "]))
    zone = rnd.choice(["+0000", "-0700", "Z", "+05:30"] + ([] if clean else ["", "+00", "+0000x"]))
    year = "2026" if clean or rnd.random() < 0.9 else "1969"
    scheme = rnd.choice(["http", "https"] + ([] if clean else ["HTTP", "h" * 9, ""]))
    tail = rnd.choice([" (trace=86f4,span=222c,sampled=0)", ""] + ([] if clean else ['"', " azmlinfsrv - x", "x"]))
    return (f"{year}-11-25T{hms}{zone} [INFO] [entry_service:Linear:1] {host} (scheme={scheme},method={method},"
            f"path={path}{extra}) (status={code}{extra}) {ms}ms{tail}")


def _server_time(rnd: random.Random, t: int, clean: bool = False) -> str:
    ms = rnd.choice(["001", "524", "5", "1234"]) if rnd.random() < 0.1 and not clean else f"{rnd.randint(0, 999):03d}"
    return f"2026-11-{rnd.choice(['25'] * 9 + ['31'])} {t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d},{ms}"


def _summary(rnd: random.Random, t: int, pid: str, path: str, code: str, method: str, clean: bool = False) -> str:
    ms = rnd.choice(["0.918", "12", "0", "70000.5", "0.000", str(round(rnd.random() * 3000, 3))] + (
        [] if clean else ["12.", "1.5x"]))
    rest = rnd.choice([" 19", "", " 19 extra words"] + ([] if clean else ["s", " [1] azmlinfsrv - GET / 200 1ms"]))
    return f"{_server_time(rnd, t, clean)} {rnd.choice('IIIIDEZ')} [{pid}] azmlinfsrv - {method} {path} {code} {ms}ms{rest}"


def _twin(rnd: random.Random, t: int, pid: str, path: str, code: str, method: str, clean: bool = False) -> str:
    access = _access(rnd, t, path, code, method, clean)
    return f"{_server_time(rnd, t, clean)} {rnd.choice('IIIID')} [{pid}] gunicorn.access - {access}"


def kind_is_summary(method: str, path: str) -> bool:
    """A method or path that makes a summary line one the NumPy pass leaves to the reference."""
    return len(method) > 7 or len(path.encode()) > 31 or '"' in path


def _mutate(rnd: random.Random, line: str) -> str:
    at = rnd.randrange(len(line) + 1)
    return line[:at] + rnd.choice(["", " ", "[", "]", '"', "x", "0", "\t", "-", ":"]) + line[at + 1:]


def _lines(rnd: random.Random, count: int, odd: float, clean: bool = False) -> Iterator[str]:
    """`count` requests' lines; `odd`: the share of lines mutated; `clean`: every summary with its twin, no
    client errors or CRLF (blocks the NumPy pass can take whole)."""
    t = 36000 + rnd.randrange(1000)
    for _ in range(count):
        t += rnd.choice([0, 0, 0, 1, 1, 2, 61])
        pid = rnd.choice(["7", "8", "1234567", "12"])
        path, method = rnd.choice(PATHS), rnd.choice(METHODS) if rnd.random() < 0.3 else "POST"
        if clean and kind_is_summary(method, path):
            method, path = "POST", "/score"  # a summary the pass does not read: the block would go line by line
        code = rnd.choice(["200"] * 12 + ["503", "503", "504", "500", "429", "404", "000", "-"])
        kind, prefix = rnd.random(), _stamp(rnd, t, clean) if rnd.random() < 0.3 else ""
        if kind < 0.3:
            found = [_summary(rnd, t, pid, path, code, method, clean)]
            if clean or rnd.random() < 0.97:  # its twin (now and then with another pid, path or status)
                other = (rnd.choice(["9", pid]), rnd.choice(PATHS + [path] * 10), rnd.choice(["200", code, code]))
                twin = _twin(rnd, t, pid, path, code, method, clean)
                found.append(_twin(rnd, t, *other, method) if rnd.random() < 0.1 and not clean else twin)
        elif kind < 0.45:
            found = [_twin(rnd, t, pid, path, code, method, clean)]
        elif kind < 0.75:
            found = [_access(rnd, t, path, code, method, clean)]
        elif kind < 0.82:
            found = [_uvicorn(rnd, path, code, method, clean)]
        elif kind < 0.9:
            found = [_other_server(rnd, t, path, code, method, clean)]
        else:
            found = [rnd.choice(["", "   ", "Traceback (most recent call last):", "2026-11-25 10:00:00,000 I [1] root - x",
                                 '10.0.0.9 - - [garbage "POST'] + ([] if clean else ["error=timeout"]))]
        for line in found:
            line = prefix + line
            if rnd.random() < odd:
                line = _mutate(rnd, line)
            yield line + ("\n" if clean else rnd.choice(["\n"] * 60 + ["\r\n"]))


@pytest.fixture(params=["native", "numpy"], autouse=True)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The block pass under test: the C extension (which must be built: `pip install -e .`, as CI does; an
    ImportError here fails the test rather than leaving the C pass untested) or NumPy."""
    if request.param == "numpy":
        monkeypatch.setenv("MLDOCTOR_TRAFFIC_NATIVE", "0")
        return vector
    monkeypatch.delenv("MLDOCTOR_TRAFFIC_NATIVE", raising=False)
    from doctor.traffic import native

    return native


def _both(data: bytes, kind: str, monkeypatch: pytest.MonkeyPatch, chunk: int) -> tuple[Any, Any, dict[str, int]]:
    monkeypatch.setattr(doctor.logs.iter_chunks, "__defaults__", (chunk,))
    monkeypatch.setattr(doctor.logs.iter_blocks, "__defaults__", (chunk, 2))  # the C pass reads with this one
    monkeypatch.setattr(fast, "VECTOR_MIN_BYTES", 0)  # small generated logs: NumPy takes them too
    taken = {"block": 0, "old": 0}
    module = fast.native_module() or vector
    count = module.count_block

    def counted(fp: fast.FastPass, block: bytes, *span: int) -> Any:
        try:
            found = count(fp, block, *span)
        except fast.Ordered:
            taken["old"] += 1
            raise
        taken["block"] += 1
        return found

    monkeypatch.setattr(module, "count_block", counted)
    evidence = Evidence(Target("bundle", "t"))
    evidence.logs.append(LogSource.from_bytes("t.log", "app", data, kind=kind))
    return compute(evidence, fast=True), compute(evidence, fast=False), taken


@pytest.fixture
def arrivals(monkeypatch: pytest.MonkeyPatch) -> None:
    """The autoscaler replay (slow on long generated spans) replaced by what it reads, the arrivals, and by every
    count of the accumulator (the stats dict shows some only through percentiles)."""
    monkeypatch.setattr(traffic, "_simulation", lambda stats, evidence, acc: {
        "arrivals": dict(acc.per_second), "buckets": dict(acc.latency_buckets), "ok": dict(acc.latency_ok),
        "latencies": acc.latency_count, "slow": acc.slow, "max": acc.latency_max})


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("kind", ["container", "access"])
def test_mixed_and_odd_lines(seed: int, kind: str, monkeypatch: pytest.MonkeyPatch, arrivals: None) -> None:
    rnd = random.Random(seed)
    odd = rnd.choice([0.0, 0.02, 0.1, 0.3])
    monkeypatch.setattr(fast, "VECTOR_BYTES", rnd.choice([500, 5000, 1 << 20]))  # many piece borders
    monkeypatch.setattr(fast, "NATIVE_BYTES", rnd.choice([2000, 20000, 4 << 20]))  # and pieces tried again in those
    data = "".join(_lines(rnd, 3000, odd)).encode("utf-8", "surrogateescape")
    quick, reference, taken = _both(data, kind, monkeypatch, rnd.choice([3000, 20000, 100000]))
    assert quick == reference
    assert quick is not None and quick["requests"] > 500


@pytest.mark.parametrize("seed", range(12))
def test_clean_blocks_take_the_block_pass(seed: int, monkeypatch: pytest.MonkeyPatch, arrivals: None) -> None:
    """Logs of the shapes the pass reads (a few odd lines among them): after the first failing statuses are
    excerpted, blocks are counted by the block pass, and the result is the reference's."""
    rnd = random.Random(1000 + seed)
    data = "".join(_lines(rnd, 6000, 0.0, clean=True)).encode("utf-8", "surrogateescape")
    quick, reference, taken = _both(data, "container", monkeypatch, 8000)
    assert quick == reference
    assert taken["block"] > 3 * taken["old"], taken


def test_bench_shapes(monkeypatch: pytest.MonkeyPatch, arrivals: None) -> None:
    """Every shape of bench/shapes.py (two minutes of each, in small blocks): identical, and counted by the block
    pass."""
    import sys

    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "bench"))
    from shapes import SHAPES, lines

    for shape in SHAPES:
        source = lines(shape, seed=3)
        data = ("\n".join(next(source) for _ in range(12000)) + "\n").encode()
        quick, reference, taken = _both(data, "container", monkeypatch, 64 * 1024)
        assert quick == reference, shape
        assert taken["block"] > 3 * taken["old"], (shape, taken)


def test_without_numpy_the_regex_pass_counts(monkeypatch: pytest.MonkeyPatch, arrivals: None) -> None:
    """MLDOCTOR_TRAFFIC_NUMPY=0 (or NumPy missing) with MLDOCTOR_TRAFFIC_NATIVE=0 (or the C pass not built): the
    regex block pass alone, same statistics."""
    monkeypatch.setenv("MLDOCTOR_TRAFFIC_NUMPY", "0")
    monkeypatch.setenv("MLDOCTOR_TRAFFIC_NATIVE", "0")
    data = "".join(_lines(random.Random(5), 3000, 0.05)).encode("utf-8", "surrogateescape")
    quick, reference, taken = _both(data, "container", monkeypatch, 20000)
    assert quick == reference and taken == {"block": 0, "old": 0}


@pytest.mark.parametrize("encode", [lambda text: text.encode("utf-16"), lambda text: b"\0" * 300_000 + text.encode()],
                         ids=["utf-16", "nul-run"])
def test_binary_junk_goes_to_the_regex_pass(encode: Any, monkeypatch: pytest.MonkeyPatch, arrivals: None) -> None:
    """A UTF-16 log (PowerShell's `>`) or a run of NUL bytes: the NumPy pass leaves it (no array per byte), and
    the statistics are still the reference's."""
    text = "".join(_lines(random.Random(9), 2000, 0.0, clean=True))
    quick, reference, taken = _both(encode(text), "container", monkeypatch, 1 << 20)
    assert quick == reference


G = '10.0.0.1 - - [25/Nov/2026:00:00:{s:02d} +0000] "POST /score HTTP/1.1" 200 61 "-" "python-requests/2.31.0" 0.5'
S = "2026-11-25 00:00:{s:02d},001 I [10] azmlinfsrv - POST /score 200 1.5ms 19"
T = '2026-11-25 00:00:{s:02d},001 I [10] gunicorn.access - 10.0.0.2 - - [25/Nov/2026:00:00:{s:02d} +0000] "POST /score HTTP/1.1" 200 61 "-" "curl/8"'
TS = ('2026-11-25T00:00:{s:02d},407 [INFO ] W-9000-linear_1.0 ACCESS_LOG - /127.0.0.1:50296 "POST /predictions/linear '
      'HTTP/1.1" 200 10')
B = ("2026-11-25T00:00:{s:02d}+0000 [INFO] [entry_service:Linear:1] 127.0.0.1:57988 (scheme=http,method=POST,path=/predict,"
     "type=application/json,length=23) (status=200,type=application/json,length=74) 25.041ms (trace=86f4,span=222c,sampled=0)")
U = '2026-11-25T00:00:{s:02d}.5Z (APIServer pid=1) INFO:     10.0.0.5:51234 - "POST /v1/models/iris:predict HTTP/1.1" 200 OK'
# Lines one check of the block passes turns away (GENERATED, each written to defeat one check): most are read
# another way by the reference, so a pass without that check counts them wrongly. Status 200, so that no
# block goes line by line for a first excerpt.
NEAR_MISSES = [
    G.replace('"python-requests/2.31.0"', '"a[1] azmlinfsrv - GET / 200 1ms"'),  # a summary inside the agent
    G.replace("10.0.0.1 - -", "10.0.0.1  - -"),  # two spaces after the host
    G.replace("10.0.0.1 - -", "10.0.0.1 -  -"),  # two spaces after the ident
    G.replace("Nov", "N-v"),
    G.replace("Nov", "Foo"),
    G.replace("+0000", "+00:00"),
    G.replace("HTTP/1.1", "HTTP/2"),
    G.replace("HTTP/1.1", "HTTP/1.1 x"),
    G.replace("/score", '/sc"ore'),
    G.replace("/score", "/sc ore"),
    G.replace("POST", "PROPFIND"),
    G.replace("POST", "post"),
    G.replace(" 61 ", " 12a "),
    G.replace(" 61 ", " 12345678901234 "),
    G.replace(" 0.5", " 0.5x"),
    G.replace(" 0.5", " 1."),
    G.replace(" 0.5", " 99999999999999999.5"),
    G.replace(" 0.5", " 0.123456789"),
    G.replace(" 0.5", " 12 34 0.5"),
    G.replace(" 0.5", " 12345678901234567 0.5"),
    G.replace(" 0.5", " 1234 0.5 [up] [] 10.0.0.5:5001 0 0.4 200 6ad"),
    G.replace(' "-" "python-requests/2.31.0"', ' "a"b" "c"'),
    G.replace(' "-" "python-requests/2.31.0"', ' "-"  "c"'),
    G.replace("10.0.0.1", "h[1]"),
    G.replace("10.0.0.1", "[10.0.0.1]"),
    G.replace("[25/", "[ 25/"),
    G.replace(" 200 ", " 2000 "),
    G.replace(" 200 ", " 20 "),
    G.replace(" 200 ", " - "),
    G + "\t",
    "2026-11-25T00:00:07.1234567890Z " + G,
    "2026-11-25T00:00:07.Z " + G,
    "1969-11-25T00:00:07Z " + G,
    "2026-11-25T00:00:07Zx" + G,
    "2026-11-25T00:00:07Z  " + G,
    "2026-11-25T00:00:61Z " + G,
    G.replace("00:00:{s:02d} +0000", "00:00:61 +0000"),
    G.replace("25/Nov", "31/Nov"),
    G + " " + "x" * 17000,
    S.replace("1.5ms", "12.ms") + "\n" + T,
    S.replace("1.5ms", "1.5x") + "\n" + T,
    S.replace("1.5ms", "123456789.5ms") + "\n" + T,
    S.replace("1.5ms", "99999999.99999999ms") + "\n" + T,
    S.replace("[10]", "[1234567890123]") + "\n" + T.replace("[10]", "[1234567890123]"),
    S.replace(" I ", " i ") + "\n" + T,
    S.replace(",001", ",01") + "\n" + T,
    S.replace("/score", "/" + "s" * 40) + "\n" + T.replace("/score", "/" + "s" * 40),
    S + "\n" + T.replace("/score", "/other"),
    S + "\n" + T.replace("[10]", "[11]"),
    S + "\n" + G,
    S,
    T,
    T.replace('"curl/8"', '"curl/8" 0.25'),
    T.replace(" - - ", " -  - "),
    G.replace(" 61 ", "  "),  # no bytes field
    G.replace(" 0.5", "  0.5"),
    G.replace(' "-" "python-requests/2.31.0"', ' "-"x"y"'),
    G.replace('"python-requests/2.31.0" 0.5', '"python-requests/2.31.0"x0.5'),
    G.replace("python-requests", "python\r-requests"),
    G.replace("POST /score HTTP/1.1", "GET /healthzxHTTP/1.1"),
    G.replace(" 200 ", " 400 "),
    G.replace(" 200 ", " 399 "),
    G.replace(" 200 ", " 199 "),
    "1969-11-25T00:00:07.5Z " + G,
    S.replace("2026", "1969") + "\n" + T.replace("2026-11-25", "1969-11-25"),
    # the server's other lines (the C pass hands back only a summary's mark followed by `[A-Z]+ /`)
    S.replace("POST /score 200 1.5ms 19", "Encountered Exception: KeyError: 'data'"),
    S.replace("POST /score", "POST score"),
    S.replace(" 200 1.5ms", " abc"),  # read as nothing, counted malformed
    S.replace("POST ", ""),
    S.split(" /score")[0],
    S.split("/score")[0],
    S.replace("POST /score", "P /"),
    S.replace("POST /score 200 1.5ms 19", "Encountered azmlinfsrv - x [11] azmlinfsrv - GET /x 200 1ms") + "\n" + T,
    S.replace("1.5ms", "1.5msx") + "\n" + T,
    S + "\n" + T.replace(" 200 61", " 201 61"),
    G.replace(" 0.5", " 60.000"),  # the timeout itself: slow
    S.replace("1.5ms", "60000ms") + "\n" + T,
    S.replace("/score", "/api/v1/service/my-aks-service-name/score") + "\n"
    + T.replace("/score", "/api/v1/service/my-aks-service-name/score"),
    U.replace("(APIServer pid=1) ", ""),
    U.replace("2026-11-25T00:00:{s:02d}.5Z ", ""),
    U.replace(" OK", ""),
    U.replace(" OK", "OK"),
    U.replace(" OK", " OK [1] azmlinfsrv - GET / 200 1ms"),  # a summary after it
    U.replace(" OK", ' 10.0.0.1 - - [25/Nov/2026:00:00:01 +0000] "GET / HTTP/1.1" 200 1'),  # an access line after it
    U.replace("10.0.0.5:51234", "h" * 301),
    U.replace("10.0.0.5:51234", "[::1]:8080"),
    U.replace("HTTP/1.1", "HTTP/"),
    U.replace("HTTP/1.1", "HTTP/1.1x"),
    U.replace("POST", "P" * 17),
    U.replace("POST", "post"),
    U.replace(" 200 ", " 20 "),
    U.replace(" 200 ", " 2000 "),
    U.replace("INFO:     ", "INFO:"),
    U.replace("(APIServer pid=1)", "(APIServer pid=)"),
    U.replace("(APIServer pid=1) ", "(APIServer pid=1)"),
    U.replace("(APIServer pid=1) ", "[APIServer pid=1] "),
    U.replace("00:00:{s:02d}.5Z", "00:00:61Z"),
    U.replace("2026-11-25T", "1969-11-25T"),
    U.replace("/v1/models/iris:predict", "/v1/models/ir is:predict"),
    TS.replace(" 10", " 1234567890123"),
    TS.replace(" 10", " 10x"),
    TS.replace(" 10", " 10.5"),
    TS.replace(",407", ",4077"),
    TS.replace("/127.0.0.1:50296", "/" + "h" * 300),
    TS.replace("200 10", '200 10 x] "y'),  # an access line's `] "` after it
    TS.replace("200 10", '200 10 a - "b'),  # a uvicorn line's ` - "` after it
    TS.replace("200 10", "200 10 [1] azmlinfsrv - GET / 200 1ms"),
    TS.replace("200 10", '200 10 h - - [25/Nov/2026:00:00:01 +0000] "GET /x HTTP/1.1" 404 1'),  # an access line after it
    TS.replace("ACCESS_LOG - ", "ACCESS_LOG -  "),
    TS.replace("2026-", "1969-"),
    "2026-11-25T00:00:{s:02d}.5Z " + TS,
    B.replace("+0000", "+05:30"),
    B.replace("+0000", "-0700"),
    B.replace("+0000", "Z"),
    B.replace("+0000", ""),
    B.replace("+0000", "+0000x"),
    B.replace("2026-", "1969-"),
    B.replace("scheme=http", "scheme=HTTP"),
    B.replace("scheme=http", "scheme=httpxxxxx"),
    B.replace("method=POST", "method=" + "P" * 17),
    B.replace("path=/predict", "path=/pre dict"),
    B.replace("path=/predict", "path=/pre)dict"),
    B.replace("length=23)", "length=23" + "x" * 300 + ")"),
    B.replace("length=23)", "length=23" + "x" * 269 + ")"),  # 300 bytes after the comma: read
    B.replace("length=23)", "length=23" + "x" * 270 + ")"),  # 301: not
    B.replace("sampled=0)", 'sampled=0) h - - [25/Nov/2026:00:00:01 +0000] "GET /x HTTP/1.1" 404 1'),
    B.replace("status=200", "status=2000"),
    B.replace("25.041ms", "25.0411111111ms"),
    B.replace("25.041ms", "1234567890123ms"),
    B.replace("25.041ms", "25.ms"),
    B.replace("25.041ms", "25.041msx"),
    B.replace("sampled=0)", 'sampled=0) "quoted"'),
    B.replace("sampled=0)", "sampled=0) [1] azmlinfsrv - GET / 200 1ms"),
    B.replace("127.0.0.1:57988", "h" * 301),
    "2026-11-25T00:00:{s:02d}.5Z " + B,
    "Traceback (most recent call last):",
    "garbage",
    # lines longer than MAX_LINE_BYTES, of which the reference reads the first 16 KB (the C pass hands back only
    # those, and only when they hold a mark): an access line with a long tail counts, a mark past 16 KB does not
    G + " " + "x" * 20_000,
    S + " " + "x" * 20_000,
    U + " " + "[" * 20_000,
    "y" * 17_000 + " " + G,
    "z" * (16 * 1024 - len(G.format(s=0)) - 1) + " " + G + " tail",  # its latency's last digit is the 16,384th byte
    "2026-11-25 00:00:{s:02d},000 E [10] azmlinfsrv - Encountered Exception: ValueError: bad input: [[0.1, 0.2], "
    + "[0.1, 0.2], " * 3000,
]
# the first five failing statuses are excerpted here, in order: later blocks need no order for them
PREAMBLE = "".join(G.replace(" 200 ", f" {code} ").format(s=0) + "\n" for code in (500, 502, 503, 504, 404))


@pytest.mark.parametrize("line", range(len(NEAR_MISSES)))
def test_near_misses(line: int, monkeypatch: pytest.MonkeyPatch, arrivals: None) -> None:
    """Each line one check turns away, three times among well-formed ones, in every log kind: the reference's
    statistics, and the well-formed lines (most of the log) taken by the block pass."""
    good = "".join(G.format(s=s % 60) + "\n" for s in range(200))
    data = (PREAMBLE + good + "".join(NEAR_MISSES[line].format(s=7) + "\n" for _ in range(3)) + good).encode()
    for kind in ("container", "access"):
        quick, reference, taken = _both(data, kind, monkeypatch, 16 * 1024)
        assert quick == reference, (kind, NEAR_MISSES[line][:120])
        assert taken["block"] >= 1, taken


def test_the_c_pass_reads_uvicorn_lines_itself() -> None:
    """uvicorn's access lines (KServe, MLServer, vLLM; bench/shapes.py's uvicorn shapes), with and without vLLM's and
    a `--timestamps` prefix, are counted by the C pass, none handed back to the reference: that pass read them at
    ~15 µs a line, 0.04x rg on 256 MB of them (bench/README.md)."""
    from doctor import _native

    lines = [U.format(s=1), U.replace("(APIServer pid=1) ", "").format(s=2), U.split("Z ", 1)[1],
             U.split("Z ", 1)[1].replace("(APIServer pid=1) ", "").replace(" 200 OK", " 503 Service Unavailable"),
             U.replace("POST /v1/models/iris:predict", "GET /health").format(s=3)]  # a probe: not counted
    block = ("\n".join(lines) + "\n").encode()
    found = _native.count(block, False, lambda text, clf: 60, 60000.0, 0.0198, False)
    requests, status, per_second, _, _, _, _, _, _, others, _, firsts = found
    assert (requests, status, per_second, others) == (4, {200: 3, 503: 1}, {61: 1, 62: 1}, [])
    start, stop = firsts[503]  # where the failing line lies: its excerpt, without reading the block in order
    assert (list(firsts), block[start:stop]) == ([503], lines[3].encode())


def test_the_c_pass_reads_torchserve_and_bentoml_lines_itself() -> None:
    """TorchServe's ACCESS_LOG and BentoML's access lines (the real servers' formats), with and without a `--timestamps`
    prefix, are counted by the C pass with their latency, none handed back: the reference reading each BentoML line
    made 1 GB of them 106 s (bench/README.md)."""
    from doctor import _native

    lines = [TS.format(s=1), "2026-11-25T00:00:02.5Z " + TS.format(s=9), B.format(s=3),
             B.replace("+0000", "-0100").replace("status=200", "status=503").format(s=4)]
    minutes = {b"2026-11-25T00:00:00": 60, b"2026-11-25T00:00:00+0000": 60, b"2026-11-25T00:00:00-0100": 3660}
    found = _native.count(("\n".join(lines) + "\n").encode(), False, lambda text, clf: minutes[text], 60000.0, 0.0198,
                          False)
    requests, status, per_second, per_503, _, _, latencies, _, latency_max, others, _, _ = found
    assert (requests, status, per_second, per_503, latencies, latency_max, others) == (
        4, {200: 3, 503: 1}, {61: 1, 62: 1, 63: 1, 3664: 1}, {3664: 1}, 4, 25.041, [])


@pytest.mark.parametrize("first", ["handed back", "read by the pass"])
def test_a_failing_status_takes_its_first_line_as_excerpt_without_order(first: str, engine: Any,
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         arrivals: None) -> None:
    """A block whose only new thing is a failing status is not counted again in order for its excerpt: the C pass
    says where its first line lies. Where the reference read an earlier line of that status (one the pass handed
    back: a tab in it) in the same block, that line is the excerpt, as in order; the second 500 line is never it."""
    ok = [G.format(s=i % 60) for i in range(400)]
    tabbed = G.format(s=7).replace(" 200 ", " 500 ").replace("python-requests", "python\trequests")
    clean = G.format(s=8).replace(" 200 ", " 500 ").replace("10.0.0.1", "10.0.0.9")
    failing = [tabbed, clean] if first == "handed back" else [clean] + ok + [tabbed]  # the tab a few blocks later
    data = ("\n".join(ok + ok[:50] + failing + ok[:50]) + "\n").encode()
    quick, reference, taken = _both(data, "container", monkeypatch, 16 * 1024)
    assert quick == reference
    assert [text for _, text in quick["excerpts"]] == [failing[0]]
    if first == "read by the pass" and engine.__name__.endswith("native"):
        assert taken["old"] == 0, taken  # found by the C pass itself: no block read again in order


def test_a_summary_ending_the_block_sends_it_back() -> None:
    """A block whose last line is a summary (its twin would open the next one) is not the C pass's to count:
    the caller never sends one (it holds such a line back), and the pass refuses it all the same."""
    from doctor import _native

    block = (G.format(s=1) + "\n" + S.format(s=1) + "\n").encode()
    assert _native.count(block, False, lambda text, clf: 0, 60000.0, 0.0198, False) is None
    paired = block + (T.format(s=1) + "\n").encode()
    assert _native.count(paired, False, lambda text, clf: 0, 60000.0, 0.0198, False)[0] == 2


def test_the_c_pass_sends_back_a_block_holding_a_client_error() -> None:
    """A probe's client error (`error=`, `doctor.traffic.parse.has_client_error`) anywhere in a block makes the C pass
    refuse it (the caller counts it in order), found in its one pass over the block: in a line's first, middle or
    last sixteen bytes, across two of them, before and after a tab, on the last line without its newline. `error` and `=` apart, or an
    `error=` across a newline, is no client error."""
    from doctor import _native

    def refused(block: bytes) -> bool:
        return _native.count(block, False, lambda text, clf: 0, 60000.0, 0.0198, False) is None

    line = G.format(s=1)
    for at in (0, 3, 10, 15, 16, 17, 26, 31, 40, len(line) - 1, len(line)):  # 10, 26: `r` ends a sixteen, `=` starts the next
        marked = (line[:at] + " error=timeout " + line[at:]).encode()
        assert refused(marked + b"\n"), at
        assert refused(b"x\n" + marked), at  # the last line, no newline after it
        assert refused((line + "\n").encode() + marked.replace(b" ", b"\t", 1) + b"\n"), at  # a tab: not a clean line
        assert refused(b"a\tb" + b"c" * at + b" error=x\n"), at  # after the tab
        assert not refused(marked.replace(b"error=", b"error =") + b"\n"), at
    assert not refused(b"error\n=\n" + (line + "\n").encode())
    assert not refused(b"rror=\n" + (line + "\n").encode())
    assert refused(b"error=" + b"\n" + (line + "\n").encode())  # the block's very first bytes
