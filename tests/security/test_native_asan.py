"""The C extension (doctor/_native.c) reads hostile bytes without reading past them: built with AddressSanitizer
and fed mutated, cut blocks in exact-size buffers (tests/security/native_fuzz.py). gcc and its libasan are part of
the machine CI runs on (the extension is built with that gcc); a missing one fails here rather than skipping."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from conftest import ROOT


def test_native_extension_under_address_sanitizer(tmp_path: Path) -> None:
    library = tmp_path / "_native_asan.so"
    subprocess.run(["gcc", "-O1", "-g", "-fsanitize=address", "-fno-omit-frame-pointer", "-fPIC", "-shared",
                    f"-I{sysconfig.get_paths()['include']}", str(ROOT / "doctor" / "_native.c"), "-o", str(library)],
                   check=True, capture_output=True, timeout=120)
    asan = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True, check=True).stdout.strip()
    assert os.path.isabs(asan), f"gcc has no libasan ({asan!r})"
    env = {**os.environ, "LD_PRELOAD": asan, "ASAN_OPTIONS": "detect_leaks=0", "PYTHONMALLOC": "malloc"}
    for seed in (1, 2):
        run = subprocess.run([sys.executable, str(ROOT / "tests" / "security" / "native_fuzz.py"), str(library),
                              str(seed), "1500"], capture_output=True, text=True, timeout=300, env=env)
        assert run.returncode == 0 and run.stdout.startswith("ok "), run.stderr[-3000:]
