"""mldoctor inside a pod (the CronJob of deploy/): no kubeconfig, the service account's token, CA certificate and
namespace, and an API server that speaks HTTPS. The mock API server serves TLS with a certificate made here; the
service account folder is a temp folder (the client library reads it from module constants, pointed at it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.k8smock.plugin import FIXTURES
from tests.k8smock.server import MockApiServer
from tests.k8smock.store import load_scenario

TOKEN = "sa-token-for-tests-only"


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key (what a cluster CA is, to a client), and the key."""
    if not shutil.which("openssl"):
        pytest.fail("openssl is needed to make the test certificate (Debian: apt-get install openssl)")
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def api_over_tls(tmp_path: Path) -> Any:
    cert, key = _self_signed(tmp_path, "apiserver")
    server = MockApiServer(load_scenario(FIXTURES / "oom-killed"), tls=(cert, key)).start()
    yield server, cert
    server.stop()


def _in_a_pod(monkeypatch: pytest.MonkeyPatch, server: MockApiServer, ca: Path, folder: Path) -> None:
    """The environment of a pod: KUBERNETES_SERVICE_HOST/PORT, a mounted service account, no kubeconfig."""
    import kubernetes.config.incluster_config as incluster

    from doctor.collect import k8s_api

    account = folder / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN)
    (account / "namespace").write_text("ml-prod")
    shutil.copy(ca, account / "ca.crt")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(server.httpd.server_address[1]))
    monkeypatch.setenv("KUBECONFIG", str(folder / "no-kubeconfig-here"))
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setattr(incluster, "SERVICE_TOKEN_FILENAME", str(account / "token"))
    monkeypatch.setattr(incluster, "SERVICE_CERT_FILENAME", str(account / "ca.crt"))
    monkeypatch.setattr(k8s_api, "SERVICE_ACCOUNT", account)


def test_check_from_inside_a_pod(cli: Any, api_over_tls: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server, cert = api_over_tls
    _in_a_pod(monkeypatch, server, cert, tmp_path)
    run = cli("check", "k8s:deployment/scorer", "--format", "json")  # the namespace comes from the service account
    assert run.code == 1, run.err
    report = json.loads(run.out)
    assert report["findings"][0]["rule_id"] == "oom-killed"
    assert server.requests and {r.authorization.lower() for r in server.requests} == {f"bearer {TOKEN}"}
    assert all(r.method == "GET" for r in server.requests)
    assert TOKEN not in run.out + run.err


def test_an_api_server_the_ca_does_not_vouch_for(cli: Any, api_over_tls: Any, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A certificate the mounted CA did not sign: refused (exit 3, one line saying why), no token sent."""
    server, _ = api_over_tls
    other, _ = _self_signed(tmp_path, "someone-else")
    _in_a_pod(monkeypatch, server, other, tmp_path)
    run = cli("check", "k8s:deployment/scorer", "--format", "json")
    assert run.code == 3, (run.code, run.err)
    assert "certificate" in run.err.lower() and run.err.count("\n") == 1
    assert not server.requests  # the TLS handshake failed before any request (and its token) went out
