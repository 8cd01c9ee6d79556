"""The roofline estimate: how long each layer should take on a device, and what bounds it.

A layer needs compute time (2·MACs at the matrix peak of the dtype, plus its element-wise
work at the vector peak) and memory time (the bytes it reads and writes, at the memory
bandwidth). It cannot run faster than the larger of the two: that is its predicted time,
and the larger term says whether it is compute- or memory-bound. Layers run one after
another, unfused, so the model's prediction is the sum. A training step adds each layer's
backward pass as the training analysis counts it (cnncost.training): its exact backward
MACs, the bytes its backward moves, and one element-wise op per forward one where it runs
backward at all. See docs/roofline.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .hardware import Hardware
from .report import DTYPE_BYTES, Layer, Report
from .training import Training

DTYPE_BYTES_WITH_TF32 = {**DTYPE_BYTES, "tf32": 4}


@dataclass(frozen=True)
class LayerBound:
    """One layer's roofline: work, traffic, the two times and which one bounds it."""

    name: str
    op: str
    flops: int  # 2 × MACs, for the pass(es) asked for
    elementwise: int
    bytes: int
    compute_s: float
    memory_s: float

    @property
    def predicted_s(self) -> float:
        return max(self.compute_s, self.memory_s)

    @property
    def bound(self) -> str:
        if self.bytes == 0 and self.flops == 0 and self.elementwise == 0:
            return "free"
        return "compute" if self.compute_s >= self.memory_s else "memory"

    @property
    def intensity(self) -> float:
        """Matrix FLOPs per byte moved (the roofline's x axis)."""
        return self.flops / self.bytes if self.bytes else math.inf if self.flops else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "op": self.op,
            "flops": self.flops,
            "elementwise": self.elementwise,
            "bytes": self.bytes,
            "intensity_flop_per_byte": None if math.isinf(self.intensity) else self.intensity,
            "compute_s": self.compute_s,
            "memory_s": self.memory_s,
            "predicted_s": self.predicted_s,
            "bound": self.bound,
        }


@dataclass(frozen=True)
class Roofline:
    report: Report
    hardware: Hardware
    dtype: str
    backward: bool
    layers: tuple[LayerBound, ...]

    @property
    def predicted_s(self) -> float:
        return sum(layer.predicted_s for layer in self.layers)

    @property
    def flops(self) -> int:
        return sum(layer.flops for layer in self.layers)

    @property
    def bytes(self) -> int:
        return sum(layer.bytes for layer in self.layers)

    @property
    def peak_flops(self) -> float:
        return self.hardware.peak(self.dtype)

    def to_dict(self) -> dict[str, Any]:
        return {
            "hardware": self.hardware.name,
            "hardware_title": self.hardware.title,
            "dtype": self.dtype,
            "pass": "forward+backward" if self.backward else "forward",
            "peak_flop_per_s": self.peak_flops,
            "vector_flop_per_s": self.hardware.vector_flops,
            "bandwidth_byte_per_s": self.hardware.bandwidth,
            "flops": self.flops,
            "bytes": self.bytes,
            "predicted_s": self.predicted_s,
            "layers": [layer.to_dict() for layer in self.layers],
        }


def _is_view(layer: Layer) -> bool:
    """A layer that neither computes nor stores anything (flatten, a channel slice, dropout
    at inference) is a view: it moves nothing, forward or backward."""
    return not (layer.macs or layer.elementwise or layer.activations)


def _layer_bytes(layer: Layer, shapes: dict[str, tuple[int, ...]], batch: int, size: int) -> int:
    """Bytes a layer reads and writes: its inputs, its output and its parameters."""
    if _is_view(layer):
        return 0
    elements = sum(math.prod(shapes[i]) for i in dict.fromkeys(layer.inputs))
    elements += math.prod(layer.output_shape)
    return (elements * batch + layer.params) * size


def roofline(
    report: Report, hardware: Hardware, dtype: str, training: Training | None = None
) -> Roofline:
    """Predict every layer of `report` on `hardware` computing in `dtype` (fp32, tf32,
    fp16, bf16). `report` supplies the counts; only the dtype's byte size is taken from
    `dtype` here. With `training` (training.analyze_training of the same graph), each
    layer's backward pass is added: a training step."""
    peak = hardware.peak(dtype)
    size = DTYPE_BYTES_WITH_TF32[dtype]
    shapes = {layer.name: layer.output_shape for layer in report.layers}
    bounds = []
    # A training step runs the training-only branches (auxiliary classifiers) too.
    for layer in report.layers if training else report.inference_layers:
        if layer.op == "input":
            continue
        flops = 2 * layer.macs
        elementwise = layer.elementwise
        traffic = _layer_bytes(layer, shapes, report.batch, size)
        if training is not None and not _is_view(layer):
            back = training.by_name[layer.name]
            flops += 2 * back.backward_macs
            elementwise += layer.elementwise if back.runs_backward else 0
            traffic += back.backward_bytes
        bounds.append(
            LayerBound(
                name=layer.name,
                op=layer.op,
                flops=flops,
                elementwise=elementwise,
                bytes=traffic,
                compute_s=flops / peak + elementwise / hardware.vector_flops,
                memory_s=traffic / hardware.bandwidth,
            )
        )
    return Roofline(report, hardware, dtype, training is not None, tuple(bounds))
