"""Every secret in the corpus is redacted, in every report format, in error messages and in bundles,
and the same secret maps to the same placeholder within a run."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES
from security.corpus import CORPUS
from doctor.redact import redact_bytes, redact_text


@pytest.mark.parametrize("name,text,secret", CORPUS, ids=[c[0] for c in CORPUS])
def test_redact_text_and_bytes(name: str, text: str, secret: str) -> None:
    assert secret not in redact_text(text)
    assert secret.encode() not in redact_bytes(text.encode())
    assert "REDACTED" in redact_text(text)


def test_same_secret_same_placeholder() -> None:
    a = redact_text("conn AccountKey=AAAAbbbbCCCCdddd1234==; again AccountKey=AAAAbbbbCCCCdddd1234==;")
    b = redact_text("other AccountKey=ZZZZyyyyXXXXwwww9876==;")
    found = re.findall(r"\*\*\*REDACTED-[0-9a-f]{6}\*\*\*", a)
    assert len(found) == 2 and found[0] == found[1]
    assert found[0] not in b


def test_ordinary_lines_untouched() -> None:
    for line in ("2026-11-25 15:32:47,194 E [18429] gunicorn.error - Worker (pid:18430) exited with code 3",
                 '127.0.0.1 - - [25/Nov/2026:15:31:27 +0000] "POST /score HTTP/1.1" 200 19 "-" "curl/7.88.1"',
                 "KeyError: 'SCALER_PATH'", "Model not found in cache or in root at ./model",
                 # round two: ordinary text near the new shapes stays readable
                 "HEAD is now at 8b7df21 commit 3f1c9a5e8b2d4c6f7a8b9c0d1e2f3a4b5c6d7e8f",
                 "Collecting scikit-learn==1.3.2 (from -r /var/azureml-app/requirements.txt (line 3))",
                 "GET http://localhost:5001/score?verbose=true 200", "mount /var/azureml-app/azureml-models/MyModel/1",
                 "worker pid 18430 uses 2.3 GiB; disk-space-check ok", "Traceback (most recent call last):",
                 '{"level": "info", "message": "scoring", "model": "resnet50", "request_id": "0f6b5c3a-1d2e"}',
                 "redis://cache:6379/0 connected", "Downloading https://pypi.org/simple/numpy/ (from versions: 1.26.4)",
                 "sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 ok",
                 "azureml.core.model.Model.get_model_path('sklearn_mnist_model.pkl')"):
        assert redact_text(line) == line
        assert redact_bytes(line.encode()) == line.encode()


def test_wrapped_secret_next_line_word_kept() -> None:
    text = "conn AccountKey=Wr4pp3dF1rstH4lf\nTraceback (most recent call last):"
    assert redact_text(text).endswith("\nTraceback (most recent call last):")


def _planted_bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "b"
    shutil.copytree(FIXTURES / "bundles" / "docker-init-failure", bundle)
    log = next(bundle.glob("docker/*/logs.txt"))
    with open(log, "a") as handle:
        for _, text, _ in CORPUS:  # a multi-line secret as a wrapped message: the next lines as they are
            handle.write(f"2026-11-25T16:52:18.000000000Z RuntimeError: {text}\n")
    inspect = next(bundle.glob("docker/*/inspect.json"))
    data = json.loads(inspect.read_text())
    data[0]["Config"]["Env"] += ["AZUREML_ENDPOINT_KEY=Xq7Jk2Lm9Np4Rs6Tv8Wx0Yz1Ab3Cd5Ef", "STORAGE_CONNECTION_STRING=" + CORPUS[0][1]]
    inspect.write_text(json.dumps(data))
    (bundle / "config").mkdir()
    (bundle / "config" / "deploymentconfig.json").write_text(json.dumps(
        {"computeType": "aks", "containerResourceRequirements": {"cpu": 0.5, "memoryInGB": 1.0},
         "keys": {"primaryKey": "Xq7Jk2Lm9Np4Rs6Tv8Wx0Yz1Ab3Cd5Ef"}}))
    return bundle


def test_no_secret_in_any_format(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from doctor.report import REPORTERS

    bundle = _planted_bundle(tmp_path)
    assert "REDACTED" in cli("check", str(bundle), "--format", "json").out
    for fmt in sorted(REPORTERS):
        run = cli("check", str(bundle), "--format", fmt)
        for name, _, secret in CORPUS:
            assert secret not in run.out + run.err, (fmt, name)


def test_no_secret_in_error_messages(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / f"postgresql:__scorer:Hunter2Pass!@db"
    run = cli("check", str(tmp_path / "b" / "x?sig=k3yS1gN4tUr3abc"))
    assert run.code == 2 and "k3yS1gN4tUr3" not in run.err
    del bad


def test_collector_errors_notes_and_values_redacted(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bundle = _planted_bundle(tmp_path)
    (bundle / "manifest.yaml").write_text(
        "target: docker:x\ncollector_errors:\n  - 'GET https://st.blob.core.windows.net/m?sv=1&sig=k3yS1gN4tUr3abcdef failed'\n"
        "notes:\n  - 'retried postgresql://scorer:Hunter2Pass!@db:5432/fs'\n")
    out = cli("check", str(bundle), "--format", "json").out
    assert "k3yS1gN4tUr3" not in out and "Hunter2Pass!" not in out
    report = json.loads(out)
    assert report["collector_errors"] and report["notes"]


def test_bundle_objects_redacted_everywhere() -> None:
    from doctor.collect.k8s import redact_object
    from doctor.redact import redact_inspect

    pod = {"kind": "Pod", "metadata": {"annotations": {"note": CORPUS[1][1]}},
           "spec": {"containers": [{"name": "s", "args": ["--db", CORPUS[9][1]], "env": [{"name": "X", "value": "ok"}]}]}}
    text = json.dumps(redact_object(pod))
    assert CORPUS[1][2] not in text and CORPUS[9][2] not in text
    inspect = {"Config": {"Env": [], "Labels": {"conn": CORPUS[0][1]}}, "HostConfig": {"Binds": [CORPUS[10][1]]}}
    text = json.dumps(redact_inspect(inspect))
    assert CORPUS[0][2] not in text and CORPUS[10][2] not in text


def test_target_and_manifest_fields_redacted(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The manifest's `target` is shown in every format's header: masked like any evidence."""
    from doctor.report import REPORTERS

    bundle = _planted_bundle(tmp_path)
    (bundle / "manifest.yaml").write_text(f"target: '{CORPUS[1][1]} {CORPUS[9][1]}'\n")
    for fmt in sorted(REPORTERS):
        run = cli("check", str(bundle), "--format", fmt)
        assert CORPUS[1][2] not in run.out and CORPUS[9][2] not in run.out, fmt


def test_probe_url_credentials_never_shown(cli) -> None:  # type: ignore[no-untyped-def]
    """`probe https://user:password@host/score?code=KEY`: neither the password nor the key is in the report."""
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "traffic"))
    from realserver import ScoringServer

    from doctor.report import REPORTERS

    with ScoringServer(slots=4, service_s=0.0, max_wait_s=1) as srv:
        host = srv.url.split("://", 1)[1]
        url = f"http://scorer:Pr0beP4ssw0rd@{host}?code=FuncK3yS3cr3tV4lue"
        for fmt in sorted(REPORTERS):
            run = cli("probe", url, "--requests", "2", "--format", fmt)
            assert run.code in (0, 1), run.err
            assert "Pr0beP4ssw0rd" not in run.out + run.err and "FuncK3yS3cr3tV4lue" not in run.out + run.err, fmt


def test_collect_bundle_holds_no_corpus_secret(tmp_path: Path) -> None:
    """`collect` of a Kubernetes target whose logs, event messages and annotations carry every corpus secret."""
    from tests.k8smock.plugin import FIXTURES as K8S, write_kubeconfig
    from tests.k8smock.server import MockApiServer
    from tests.k8smock.store import load_scenario

    from doctor.collect import k8s

    store = load_scenario(K8S / "crashloop-init")
    planted = "\n".join(text for _, text, _ in CORPUS) + "\n"
    for key in list(store.logs):
        store.logs[key] += planted.encode()
    for items in store.objects.values():
        for obj in items:
            obj.setdefault("metadata", {}).setdefault("annotations", {})["note"] = planted
            if "message" in obj:
                obj["message"] = planted
    server = MockApiServer(store).start()
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server.url)
        out = tmp_path / "bundle"
        k8s.collect_k8s_bundle("k8s:ml-prod/deployment/scorer", out, kubeconfig=str(kubeconfig))
    finally:
        server.stop()
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in files)
    text = "".join(p.read_text("utf-8", "replace") for p in files)
    assert "REDACTED" in text
    for name, _, secret in CORPUS:
        assert secret not in text, name
