"""Text helpers of the rule pack's templates (doctor.calc), on the texts real logs hold."""

from __future__ import annotations

import pytest

from doctor.calc import denied_dir, loader_symbol


@pytest.mark.parametrize("said, error, folder", [
    # Python's PermissionError names the file in quotes (remsky/Kokoro-FastAPI, the unexplained-failure example)
    ("PermissionError: [Errno 13] Permission denied: 'api/src/models/v1_0/kokoro-v1_0.pth'", None, "api/src/models/v1_0"),
    ("PermissionError: [Errno 13] Permission denied: '/model.pkl'", None, "/"),
    # a shell refusing to run a script: the path is the last word before `: Permission denied`
    ("", "/bin/sh: 1: /app/start.sh: Permission denied", "/app"),
    ("", "exec /entrypoint.sh: Permission denied", "/"),
    # a quoted name without a folder falls back to the error line
    ("Permission denied: 'out.log'", "touch: /data/out.log: Permission denied", "/data"),
    ("Permission denied: 'out.log'", None, None),
    ("", "mkdir: cannot create directory 'x': Permission denied", None),
    (None, None, None),
])
def test_denied_dir_names_the_folder_of_the_refused_file(said: str | None, error: str | None, folder: str | None) -> None:
    assert denied_dir(said, error) == folder


@pytest.mark.parametrize("symbol, library, version, gcc, images", [
    # the loader lines of the corpus cases (semantic-router#551, llama.cpp#7987, djl-spring-boot-starter#29)
    ("GLIBC_2.39", "glibc", "2.39", None, ["Ubuntu 24.04"]),
    ("GLIBCXX_3.4.30", "libstdc++", "3.4.30", "GCC 12", ["Ubuntu 22.04", "Debian 12", "Ubuntu 24.04"]),
    ("GLIBCXX_3.4.21", "libstdc++", "3.4.21", "GCC 5", ["Ubuntu 22.04", "Debian 12", "Ubuntu 24.04"]),
    # an older glibc requirement: every listed image has it; a newer one than any listed: none named
    ("GLIBC_2.28", "glibc", "2.28", None, ["Debian 11", "Ubuntu 20.04", "Ubuntu 22.04", "Debian 12", "Ubuntu 24.04"]),
    ("GLIBC_2.36", "glibc", "2.36", None, ["Debian 12", "Ubuntu 24.04"]),
    ("GLIBC_2.41", "glibc", "2.41", None, []),
    # a libstdc++ newer than GCC 12's, and the version nodes without a certain mapping
    ("GLIBCXX_3.4.32", "libstdc++", "3.4.32", None, []),
    ("CXXABI_1.3.13", "libstdc++", "1.3.13", None, []),
    ("GCC_12.0.0", "libgcc_s", "12.0.0", None, []),
])
def test_loader_symbol_names_the_library_and_the_images_that_have_it(
        symbol: str, library: str, version: str, gcc: str | None, images: list[str]) -> None:
    assert loader_symbol(symbol) == {"library": library, "version": version, "gcc": gcc, "images": images}


@pytest.mark.parametrize("symbol", [None, "", "GLIBCXX", "LIBC_2.3", "GLIBC_2.39 extra", "glibc_2.39"])
def test_loader_symbol_is_none_for_anything_else(symbol: str | None) -> None:
    assert loader_symbol(symbol) is None


@pytest.mark.parametrize("host, private", [
    ("10.0.227.236", "10.0.227.236"), ("172.16.0.1", "172.16.0.1"), ("172.31.255.255", "172.31.255.255"),
    ("192.168.1.26", "192.168.1.26"), ("172.32.0.1", None), ("127.0.0.1", None), ("8.8.8.8", None),
    ("10.example.com", None), ("fd00::1", None), ("", None), (None, None),
])
def test_private_ipv4_is_an_rfc1918_address(host: str | None, private: str | None) -> None:
    from doctor.calc import private_ipv4

    assert private_ipv4(host) == private


def test_worker_timeout_in_a_sagemaker_serving_container() -> None:
    """A SageMaker serving container's start script gives gunicorn `--timeout` from its own variable, 60 s unset
    (not gunicorn's 30 s); those variables mean nothing to another server."""
    from doctor.calc import worker_timeout

    assert worker_timeout(None, None, None, azmlinfsrv=False, sagemaker=True)["seconds"] == 60.0
    for name in ("MODEL_SERVER_TIMEOUT", "SAGEMAKER_MODEL_SERVER_TIMEOUT"):
        found = worker_timeout([{"env": {name: "300"}}], None, None, azmlinfsrv=False, sagemaker=True)
        assert found == {"seconds": 300.0, "source": f"the {name} environment variable of the container"}
        assert worker_timeout([{"env": {name: "300"}}], None, None, azmlinfsrv=False)["seconds"] == 30.0
    assert worker_timeout([{"command": ["gunicorn", "--timeout", "90"]}], None, None, False, True)["seconds"] == 90.0
