"""The C extension (doctor/_native.c) reads hostile bytes without reading past them: built with AddressSanitizer
and fed mutated, cut blocks in exact-size buffers (tests/security/native_fuzz.py). Built a second time without
its SSE2 loops (`-U__SSE2__`: the portable code other machines run), it gives the very same results. gcc and its
libasan are part of the machine CI runs on (the extension is built with that gcc); a missing one fails here rather
than skipping."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from conftest import ROOT


def test_native_extension_under_address_sanitizer(tmp_path: Path) -> None:
    asan = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True, check=True).stdout.strip()
    assert os.path.isabs(asan), f"gcc has no libasan ({asan!r})"
    env = {**os.environ, "LD_PRELOAD": asan, "ASAN_OPTIONS": "detect_leaks=0", "PYTHONMALLOC": "malloc"}
    outputs: dict[str, list[str]] = {}
    for build, flags in (("sse2", []), ("portable", ["-U__SSE2__"])):
        library = tmp_path / f"_native_{build}.so"
        subprocess.run(["gcc", "-O1", "-g", "-fsanitize=address", "-fno-omit-frame-pointer", "-fPIC", "-shared", *flags,
                        f"-I{sysconfig.get_paths()['include']}", str(ROOT / "doctor" / "_native.c"), "-o", str(library)],
                       check=True, capture_output=True, timeout=120)
        for seed in (1, 2):
            run = subprocess.run([sys.executable, str(ROOT / "tests" / "security" / "native_fuzz.py"), str(library),
                                  str(seed), "1500"], capture_output=True, text=True, timeout=300, env=env)
            assert run.returncode == 0 and run.stdout.startswith("ok "), run.stderr[-3000:]
            outputs.setdefault(build, []).append(run.stdout)
    assert outputs["sse2"] == outputs["portable"]
