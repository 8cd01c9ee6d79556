"""`cnncost time`: measure a spec's module on CPU or GPU, properly.

Warm-up runs first (they include torch.compile's compilation and cuDNN's algorithm
search), then timed runs: CUDA events around each run on a GPU, with a synchronise before
reading them; perf_counter on a CPU. We report the median and the spread, never the mean.
"""

from __future__ import annotations

import contextlib
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import CnnCostError
from ..graph import Graph
from ..render.progress import Progress
from .module import SpecModule, build_module

TORCH_DTYPES = {
    "fp32": torch.float32,
    "tf32": torch.float32,
    "fp16": torch.float16,
    "bf16": torch.bfloat16,
    "fp64": torch.float64,
}


@dataclass
class Timing:
    """What one `cnncost time` run measured. Times are seconds per run of the whole batch."""

    model: str
    device: str
    device_name: str
    dtype: str
    batch: int
    backward: bool
    compiled: bool
    channels_last: bool
    warmup: int
    runs: list[float]
    peak_memory_bytes: int | None
    layer_runs: dict[str, float] = field(default_factory=dict)  # median s per layer
    optimizer: str | None = None  # the optimizer stepped after each backward
    amp: bool = False  # under torch.autocast

    @property
    def median_s(self) -> float:
        return statistics.median(self.runs)

    @property
    def quartiles_s(self) -> tuple[float, float]:
        if len(self.runs) < 2:
            return self.runs[0], self.runs[0]
        q = statistics.quantiles(self.runs, n=4, method="inclusive")
        return q[0], q[2]

    @property
    def images_per_s(self) -> float:
        return self.batch / self.median_s

    def to_dict(self) -> dict[str, Any]:
        q1, q3 = self.quartiles_s
        return {
            "model": self.model,
            "device": self.device,
            "device_name": self.device_name,
            "dtype": self.dtype,
            "batch": self.batch,
            "pass": "forward+backward" if self.backward else "forward",
            "compiled": self.compiled,
            "channels_last": self.channels_last,
            "warmup": self.warmup,
            "runs_s": self.runs,
            "median_s": self.median_s,
            "q1_s": q1,
            "q3_s": q3,
            "min_s": min(self.runs),
            "max_s": max(self.runs),
            "images_per_s": self.images_per_s,
            "peak_memory_bytes": self.peak_memory_bytes,
            "layers_median_s": self.layer_runs or None,
            "optimizer": self.optimizer,
            "amp": self.amp,
        }


def device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name()
    cpu = _cpu_model() or platform.processor() or platform.machine()
    return f"{cpu} ({torch.get_num_threads()} threads)"


def _cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return None


def check_device(device: str) -> None:
    """Refuse a device torch cannot use, in one line that says why."""
    if device == "cuda" and not torch.cuda.is_available():
        build = (
            "a CPU-only build"
            if torch.version.cuda is None
            else f"built for CUDA {torch.version.cuda}"
        )
        raise CnnCostError(
            f"--device cuda was asked for, but torch {torch.__version__} ({build}) sees no "
            "CUDA device; use --device cpu, or install a CUDA build of torch on a GPU machine"
        )
    if device not in ("cpu", "cuda"):
        raise CnnCostError(f"unknown device {device!r}; use cpu or cuda")


@contextlib.contextmanager
def _precision(dtype: str) -> Iterator[None]:
    """fp32 means true fp32; tf32 lets convolutions and matmuls use TF32 tensor cores
    (PyTorch's default for cuDNN convolutions, which would flatter an fp32 figure)."""
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    tf32 = dtype == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


class _Clock:
    """Seconds taken by fn(): CUDA events on a GPU, perf_counter on the CPU."""

    def __init__(self, device: str) -> None:
        self.cuda = device == "cuda"

    def __call__(self, fn: Callable[[], Any]) -> float:
        if self.cuda:
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1000.0
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0


def _prepare(
    graph: Graph, device: str, dtype: str, channels_last: bool
) -> tuple[SpecModule, torch.Tensor]:
    module = build_module(graph)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    module = module.to(device=device, dtype=TORCH_DTYPES[dtype], memory_format=memory_format)
    x = torch.randn(graph.batch, *graph.input_shape, device=device, dtype=TORCH_DTYPES[dtype])
    if channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return module, x


# The torch.optim optimizer of each --optimizer, with the state docs/training.md counts.
OPTIMIZERS: dict[str, Callable[[Any], torch.optim.Optimizer]] = {
    "sgd": lambda params: torch.optim.SGD(params, lr=1e-3),
    "momentum": lambda params: torch.optim.SGD(params, lr=1e-3, momentum=0.9),
    "adam": lambda params: torch.optim.Adam(params, lr=1e-4),
    "adamw": lambda params: torch.optim.AdamW(params, lr=1e-4),
}


def _step(
    model: Any, x: torch.Tensor, backward: bool, optimizer: str | None = None, amp: bool = False
) -> Callable[[], Any]:
    if not backward:

        def forward() -> Any:
            with torch.inference_mode():
                return model(x)

        return forward

    stepper = OPTIMIZERS[optimizer](model.parameters()) if optimizer else None

    def train_step() -> None:
        for p in model.parameters():
            p.grad = None
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
            loss = model(x).float().sum()
        loss.backward()
        if stepper is not None:
            stepper.step()

    return train_step


def time_graph(
    graph: Graph,
    *,
    device: str = "cpu",
    dtype: str = "fp32",
    backward: bool = False,
    compile: bool = False,
    channels_last: bool = False,
    warmup: int = 3,
    runs: int = 10,
    per_layer: bool = False,
    progress: Progress | None = None,
    optimizer: str | None = None,
    amp: bool = False,
) -> Timing:
    """Time the whole model (and, with per_layer, each layer's forward on its own). With
    backward, `optimizer` steps after each backward (its state allocated in the warm-up)
    and `amp` runs the forward under torch.autocast (bf16) with fp32 weights."""
    check_device(device)
    if dtype not in TORCH_DTYPES:
        raise CnnCostError(f"unknown dtype {dtype!r}; use one of {', '.join(TORCH_DTYPES)}")
    progress = progress or (lambda done, total, what: None)
    with _precision(dtype):
        module, x = _prepare(graph, device, dtype, channels_last)
        module.train(backward)
        model: Any = torch.compile(module) if compile else module
        step = _step(model, x, backward, optimizer, amp)
        clock = _Clock(device)
        total = warmup + runs
        for i in range(warmup):
            progress(i, total, "warming up" + (" (compiling)" if compile and i == 0 else ""))
            clock(step)
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        measured = []
        for i in range(runs):
            progress(warmup + i, total, "timing")
            measured.append(clock(step))
        peak = torch.cuda.max_memory_allocated() if device == "cuda" else None
        progress(total, total, "done")
        layers = _time_layers(module, x, clock, runs, progress) if per_layer else {}
    return Timing(
        model=graph.model,
        device=device,
        device_name=device_name(device),
        dtype=dtype,
        batch=graph.batch,
        backward=backward,
        compiled=compile,
        channels_last=channels_last,
        warmup=warmup,
        runs=measured,
        peak_memory_bytes=peak,
        layer_runs=layers,
        optimizer=optimizer if backward else None,
        amp=amp and backward,
    )


def _time_layers(
    module: SpecModule, x: torch.Tensor, clock: _Clock, runs: int, progress: Progress
) -> dict[str, float]:
    """Each layer's forward alone, on the inputs it saw in one forward pass of the model."""
    module.eval()
    seen: dict[str, torch.Tensor] = {module.input_name: x}

    def keep(node, out: torch.Tensor) -> None:
        seen[node.name] = out.clone()

    with torch.inference_mode():
        module.run(x, keep)
        medians = {}
        steps = module.inference_steps
        for i, step in enumerate(steps):
            progress(i, len(steps), "timing each layer")
            inputs = [seen[name] for name in step.node.inputs]
            call = lambda m=step.module, a=inputs: m(*a)  # noqa: E731  (in-place ops rerun on their copy)
            clock(call)
            medians[step.node.name] = statistics.median(clock(call) for _ in range(max(3, runs)))
        progress(len(steps), len(steps), "done")
    return medians
