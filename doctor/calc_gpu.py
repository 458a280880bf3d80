"""GPU sizing for the gpu-oom fix, from what the CUDA out-of-memory message and the evidence say: how many GPUs to
spread the model over (`--tensor-parallel-size`), and the vLLM memory fraction (`--gpu-memory-utilization`), each
with its inputs written out."""

from __future__ import annotations

import math
import re
from typing import Any

_SIZE = re.compile(r"([\d.]+)\s*([KMGT]?)i?B", re.IGNORECASE)
_POWER = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}
VLLM_DEFAULT_UTILIZATION = 0.9


def gib(text: str | None) -> float | None:
    """`1.50 GiB`, `20.00 MiB` as GiB; None when it is not a size."""
    match = _SIZE.fullmatch((text or "").strip())
    if not match:
        return None
    return float(match.group(1)) * 1024 ** _POWER[match.group(2).upper()] / 1024 ** 3


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def tensor_parallel(tried: str | None, total: str | None, in_use: str | None, gpus: int | None = None,
                    utilization: float | None = None) -> dict[str, Any] | None:
    """The GPUs to spread the model over: at least what the failed load needed (what the process held plus the
    allocation that failed, over the memory vLLM takes of one GPU), in a power of two, and all the GPUs the pod or
    machine has when more are there (the load stopped at the failure, so the need is a lower bound)."""
    held, per_gpu = gib(in_use), gib(total)
    need = (held or 0.0) + (gib(tried) or 0.0)
    util = utilization or VLLM_DEFAULT_UTILIZATION
    usable = (per_gpu or 0.0) * util
    ratio = need / usable if held and usable else 0.0
    least = 2 ** math.ceil(math.log2(ratio)) if ratio > 1 else 1
    size = max(least, 2 ** int(math.log2(gpus))) if gpus and gpus > 1 else least
    if size < 2:
        return None  # one GPU would do as far as the evidence shows: the fix is elsewhere (batch, precision)
    parts = []
    if least > 1:
        parts.append(f"the process held {in_use} and asked for {tried} more: at least {_n(need)} GiB, more than one "
                     f"{total} GPU holds at --gpu-memory-utilization {_n(util)} ({_n(usable)} GiB), so at least "
                     f"{least} GPUs (a power of two)")
    if gpus and gpus > 1:
        parts.append(f"the evidence shows {gpus} GPUs, so {size}")
    return {"size": size, "least": least, "gpus": gpus, "formula": "; ".join(parts)}


def lower_utilization(tried: str | None, total: str | None, utilization: float | None = None) -> dict[str, Any] | None:
    """A `--gpu-memory-utilization` that leaves the failed allocation free outside vLLM's pool: the fraction in force
    minus the allocation's share of the GPU, rounded down to 0.05."""
    need, per_gpu = gib(tried), gib(total)
    if not need or not per_gpu:
        return None
    util = utilization or VLLM_DEFAULT_UTILIZATION
    value = math.floor((util - need / per_gpu) * 20) / 20
    if value <= 0.1:
        return None
    return {"value": value, "formula": f"{_n(util)} − {_n(need)}/{_n(per_gpu)} GiB (the allocation that failed) = "
                                       f"{_n(util - need / per_gpu)}, rounded down to {_n(value)}"}


GPU_FUNCTIONS: dict[str, Any] = {"tensor_parallel": tensor_parallel, "lower_utilization": lower_utilization}
