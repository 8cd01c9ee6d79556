"""The roofline of the CPU `cnncost time` runs on, measured rather than looked up.

A datasheet entry for "a CPU" is off by orders of magnitude on any particular machine
(core count, vector width, clock, memory channels, and how many threads torch uses). So on
the CPU, unless --hardware names an entry, `cnncost time` measures three short kernels
with the same torch, threads and dtype as the model: a square matrix product (the matrix
peak), an element-wise multiply-add on a cache-sized tensor (the element-wise rate) and a
copy far larger than the caches (memory bandwidth). Each is the best of a few runs; the
whole calibration takes well under a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from ..hardware import Hardware
from .timing import TORCH_DTYPES, device_name

MATMUL_N = 1024  # 2·n³ = 2.1 GFLOP per product
VECTOR_N = 1 << 16  # 64 Ki elements: inside L2
COPY_BYTES = 1 << 27  # 128 MiB: far outside the last-level cache
RUNS = 5


def _best(fn: Callable[[], object], runs: int = RUNS) -> float:
    fn()  # warm-up: allocation, thread pool start
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure_cpu(dtype: str) -> Hardware:
    """This machine's matrix peak at `dtype`, element-wise rate and memory bandwidth."""
    torch_dtype = TORCH_DTYPES[dtype]
    a = torch.randn(MATMUL_N, MATMUL_N, dtype=torch_dtype)
    b = torch.randn(MATMUL_N, MATMUL_N, dtype=torch_dtype)
    matrix = 2 * MATMUL_N**3 / _best(lambda: torch.mm(a, b))

    v = torch.randn(VECTOR_N)
    reps = 64

    def vector_work() -> None:
        for _ in range(reps):
            v.mul_(1.0).add_(0.0)

    vector = 2 * VECTOR_N * reps / _best(vector_work)

    src = torch.empty(COPY_BYTES // 4, dtype=torch.float32).fill_(1.0)
    dst = torch.empty_like(src)
    bandwidth = 2 * COPY_BYTES / _best(lambda: dst.copy_(src), runs=3)  # read + write

    return Hardware(
        name="this-cpu",
        title=f"this CPU, measured: {device_name('cpu')}",
        names=(),
        peak_flops={dtype: matrix},
        vector_flops=vector,
        bandwidth=bandwidth,
        source=(
            f"measured by cnncost time: {MATMUL_N}×{MATMUL_N} matrix product at {dtype}, "
            f"element-wise multiply-add on {VECTOR_N} fp32 elements, "
            f"{COPY_BYTES >> 20} MiB copy; best of {RUNS}"
        ),
    )
