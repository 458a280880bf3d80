"""GPU sizing numbers for the gpu-oom fix, from the figures of a real CUDA out-of-memory message (vllm-project/vllm#4417:
`Tried to allocate 1.50 GiB. GPU 0 has a total capacity of 47.54 GiB ... Process 876965 has 46.14 GiB memory in use`,
on a machine with `8x RTX A6000`)."""

from __future__ import annotations

import pytest

from doctor.calc_gpu import gib, lower_utilization, tensor_parallel


@pytest.mark.parametrize("text, value", [("1.50 GiB", 1.5), ("20.00 MiB", 20 / 1024), ("47.54 GiB", 47.54), ("lots", None)])
def test_gib(text: str, value: float | None) -> None:
    assert gib(text) == (pytest.approx(value) if value is not None else None)


def test_tensor_parallel_uses_the_gpus_the_machine_has() -> None:
    tp = tensor_parallel("1.50 GiB", "47.54 GiB", "46.14 GiB", gpus=8)
    assert tp is not None and (tp["least"], tp["size"]) == (2, 8)
    assert "at least 47.64 GiB" in tp["formula"] and "8 GPUs" in tp["formula"]


def test_tensor_parallel_lower_bound_without_a_gpu_count() -> None:
    tp = tensor_parallel("1.50 GiB", "47.54 GiB", "46.14 GiB")
    assert tp is not None and tp["size"] == 2


def test_no_tensor_parallelism_when_one_gpu_would_do() -> None:
    """20 MiB short on a 7.79 GiB GPU with nothing else known: the fix is the batch or precision, not more GPUs."""
    assert tensor_parallel("20.00 MiB", "7.79 GiB", None) is None


def test_lower_utilization_leaves_the_failed_allocation_free() -> None:
    down = lower_utilization("1.50 GiB", "47.54 GiB", 0.9)
    assert down is not None and down["value"] == 0.85
