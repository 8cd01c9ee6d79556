"""Predicted peak memory of running a model, to set beside what torch measures.

Inference keeps a layer's output only until its last reader has run, so the peak is the
largest set of outputs alive at once. Training keeps every stored output for the backward
pass and a gradient for every parameter. Both add the parameters themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import CnnCostError
from .report import Report


@dataclass(frozen=True)
class MemoryEstimate:
    param_bytes: int
    activation_bytes: int  # live at the peak (inference) or all stored (training)
    gradient_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.param_bytes + self.activation_bytes + self.gradient_bytes


def peak_live_activations(report: Report) -> int:
    """Most activation elements alive at once when layers run in order and each output is
    freed after its last reader. An in-place op or a view shares its input's storage, which
    then lives as long as any of its aliases is read."""
    layers = report.inference_layers
    owner: dict[str, str] = {}
    for layer in layers:
        owns = layer.activations > 0 or not layer.inputs
        owner[layer.name] = layer.name if owns else owner[layer.inputs[0]]
    index = {layer.name: i for i, layer in enumerate(layers)}
    last_use = {layer.name: index[layer.name] for layer in layers}
    for i, layer in enumerate(layers):
        for name in layer.inputs:
            root = owner[name]
            last_use[root] = max(last_use[root], i)
    output_owner = owner.get(report.output or layers[-1].name)
    size = {layer.name: layer.activations for layer in layers}
    live = peak = 0
    frees: dict[int, list[str]] = {}
    for name, end in last_use.items():
        if owner[name] == name and name != output_owner:
            frees.setdefault(end, []).append(name)
    for i, layer in enumerate(layers):
        live += size[layer.name] if owner[layer.name] == layer.name else 0
        peak = max(peak, live)
        live -= sum(size[name] for name in frees.get(i, ()))
    return peak


def estimate_memory(report: Report, backward: bool) -> MemoryEstimate:
    """Training runs the training-only branches too; inference leaves them out."""
    size = report.bytes_per_element
    if backward:
        if report.totals.train_params is None:
            raise CnnCostError(f"no training memory: {report.training_note}")
        params = report.totals.train_params * size
        stored = sum(layer.activations for layer in report.layers) * size
        return MemoryEstimate(params, stored, params)
    params = report.totals.params * size
    return MemoryEstimate(params, peak_live_activations(report) * size, 0)
