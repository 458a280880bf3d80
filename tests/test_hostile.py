"""Hostile input: bundles, rules and data that try to escape, explode or leak. Each ends in a result or one
clear error with exit 2, never a traceback, a hang, or a file written outside a temporary directory."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

from conftest import FIXTURES

BOOT = FIXTURES / "bundles" / "docker-boot-loop"


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _one_line_error(run) -> None:  # type: ignore[no-untyped-def]
    assert run.code == 2, (run.code, run.err)
    assert len(run.err.strip().splitlines()) == 1 and "Traceback" not in run.err


def test_path_traversal_refused(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    archive = _tar(tmp_path / "b.tar.gz", [_file("k8s/events.json", b'{"items": []}'),
                                           _file("../../escaped.txt", b"pwned")])
    _one_line_error(cli("check", str(archive)))
    assert not (tmp_path / "escaped.txt").exists() and not Path("/tmp/escaped.txt").exists()


def test_absolute_path_and_symlink_refused(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    link = tarfile.TarInfo("k8s/pods.json")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
    _one_line_error(cli("check", str(_tar(tmp_path / "l.tar.gz", [link_member for link_member in [(link, None)]]))))
    absolute = _tar(tmp_path / "a.tar.gz", [_file("/tmp/mldoctor-abs-test", b"x")])
    _one_line_error(cli("check", str(absolute)))
    assert not Path("/tmp/mldoctor-abs-test").exists()


def test_device_file_refused(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dev = tarfile.TarInfo("docker/x/logs.txt")
    dev.type, dev.devmajor, dev.devminor = tarfile.CHRTYPE, 1, 3
    _one_line_error(cli("check", str(_tar(tmp_path / "d.tar.gz", [(dev, None)]))))


def test_symlink_in_directory_bundle_refused(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "b" / "docker" / "svc").mkdir(parents=True)
    os.symlink("/etc/passwd", tmp_path / "b" / "docker" / "svc" / "logs.txt")
    _one_line_error(cli("check", str(tmp_path / "b")))


def test_decompression_bomb_bounded(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import doctor.bundle

    monkeypatch.setattr(doctor.bundle, "MAX_UNPACKED_BYTES", 1024 * 1024)
    zeros = b"\0" * (4 * 1024 * 1024)  # compresses to a few KB
    run = cli("check", str(_tar(tmp_path / "z.tar.gz", [_file("docker/x/logs.txt", zeros)])))
    _one_line_error(run)
    assert "limit" in run.err


def test_yaml_alias_bomb_refused(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 20)]
    bomb = "\n".join(lines) + "\n"
    (tmp_path / "b" / "k8s").mkdir(parents=True)
    (tmp_path / "b" / "k8s" / "pods.yaml").write_text(bomb)
    run = cli("check", str(tmp_path / "b"))
    _one_line_error(run)
    assert "alias" in run.err
    rule = tmp_path / "bomb.yaml"
    rule.write_text(bomb)
    _one_line_error(cli("check", str(BOOT), "--rules", str(rule)))


def test_deeply_nested_json(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "b" / "k8s").mkdir(parents=True)
    (tmp_path / "b" / "k8s" / "events.json").write_text("[" * 100000 + "]" * 100000)
    _one_line_error(cli("check", str(tmp_path / "b")))


def test_template_cannot_reach_python_internals(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rule = tmp_path / "evil.yaml"
    rule.write_text(
        "id: evil\ntitle: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"\nseverity: error\n"
        "cause: \"{{ cycler.__init__.__globals__.os.popen('id').read() }}\"\nfix: \"{{ config.__class__ }}\"\n"
        "when: {log: {pattern: 'Booting worker'}}\n")
    run = cli("check", str(BOOT), "--rules", str(rule), "--format", "json")
    finding = next(f for f in run.json()["findings"] if f["rule_id"] == "evil")
    text = json.dumps(finding)
    assert "uid=" not in text and "<class" not in text
    assert "sandbox" in finding["title"] and "sandbox" in finding["cause"]


def test_cel_cannot_call_unknown_functions(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rule = tmp_path / "r.yaml"
    rule.write_text("id: r\ntitle: t\nseverity: error\ncause: c\nfix: f\nwhen: {state: {expr: 'open(\"/etc/passwd\") != null'}}\n")
    run = cli("check", str(BOOT), "--rules", str(rule), "--format", "json")
    report = run.json()
    assert run.code == 1 and "r" not in [f["rule_id"] for f in report["findings"]]
    # the call did not run: CEL has no `open`, and the failure is reported, not silently false
    assert any(n.startswith("rule r: the expression `open(") and "'open'" in n for n in report["notes"]), report["notes"]
    check = next(c for c in report["checks"] if c["rule_id"] == "r")
    assert "failed: Undefined variable or function: 'open'" in check["reason"]


def test_secrets_never_in_any_format(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    bundle = tmp_path / "b"
    shutil.copytree(FIXTURES / "bundles" / "docker-init-failure", bundle)
    log = next(bundle.glob("docker/*/logs.txt"))
    secrets = ["DefaultEndpointsProtocol=https;AccountName=mlstore;AccountKey=c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5PT0=;EndpointSuffix=core.windows.net",
               "https://mlstore.blob.core.windows.net/models?sv=2022-11-02&ss=b&sig=AbCdEf0123456789abcdefSIGNATURE%3D",
               "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtbCJ9.c2lnbmF0dXJlc2lnbmF0dXJl",
               "postgresql://scorer:Sup3rS3cretPw@db.internal:5432/features"]
    with open(log, "a") as handle:
        for secret in secrets:
            handle.write(f"2026-11-25T16:52:18.000000000Z RuntimeError: could not connect with {secret}\n")
    assert "***REDACTED-" in cli("check", str(bundle), "--format", "json").out  # the lines are shown, masked
    for fmt in ("console", "json", "markdown", "junit"):
        out = cli("check", str(bundle), "--format", fmt).out
        for needle in ("c2VjcmV0a2V5c2VjcmV0", "SIGNATURE", "eyJzdWIiOiJtbCJ9", "Sup3rS3cretPw"):
            assert needle not in out, (fmt, needle)


def test_no_redact_is_explicit_and_said(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    bundle = tmp_path / "b"
    shutil.copytree(FIXTURES / "bundles" / "docker-init-failure", bundle)
    log = next(bundle.glob("docker/*/logs.txt"))
    with open(log, "a") as handle:
        handle.write("2026-11-25T16:52:18.000000000Z RuntimeError: db postgresql://u:Pw0rdXYZ@db:5432/f\n")
    masked = cli("check", str(bundle), "--format", "json").json()
    assert masked["redacted"] is True and "Pw0rdXYZ" not in json.dumps(masked)
    plain = cli("check", str(bundle), "--format", "json", "--no-redact").json()
    assert plain["redacted"] is False and "Pw0rdXYZ" in json.dumps(plain)
    assert "NOT REDACTED" in cli("check", str(bundle), "--no-redact", "--no-color").out


def test_deeply_nested_yaml(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "b" / "k8s").mkdir(parents=True)
    (tmp_path / "b" / "k8s" / "pods.yaml").write_text("[" * 200000 + "]" * 200000)
    run = cli("check", str(tmp_path / "b"))
    _one_line_error(run)
    assert "nested" in run.err


def test_access_parser_linear_on_one_long_line() -> None:
    """A 100 KB base64 "line" after the inference server's prefix, or of NULs, is one pass, not minutes."""
    import base64
    import time

    from doctor.traffic.parse import LineParser, parse_line

    payload = base64.b64encode(bytes(range(256)) * 300)[:100_000]
    lines = [b"2026-11-25 15:31:27,524 I [10362] azmlinfsrv - POST /score " + payload,
             b"2026-11-25 15:31:27,524 I [10362] gunicorn.access - " + payload, b"127.0.0.1 - - [" + payload,
             b"\0" * 100_000, b"a b [" * 20_000]
    start = time.monotonic()
    for line in lines:
        assert parse_line(line) is None
        LineParser(strict=True).feed(line)
    assert time.monotonic() - start < 1.0  # measured 0.1 s; before the fix each line took minutes
    assert parse_line(b'10.0.0.1 - - [25/Nov/2026:15:31:27 +0000] "POST /score HTTP/1.1" 200 19 "-" "curl/7.88.1"')


def test_probe_with_nothing_listening_is_not_healthy(cli) -> None:  # type: ignore[no-untyped-def]
    """`mldoctor probe` at a port nothing listens on: exit 3 and one line saying so, never HEALTHY."""
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: connections to it are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run = cli("probe", f"http://127.0.0.1:{port}/score", "--requests", "3")
    assert run.code == 3 and len(run.err.strip().splitlines()) == 1, (run.code, run.err)
    assert "no HTTP answer" in run.err and "HEALTHY" not in run.out.upper()
