"""`cnncost verify`: build the spec in torch and check every analytic count against it.

Per layer and in total: the output shape torch produces, the parameters and buffers of the
module torch builds, and the FLOPs torch's own FlopCounterMode counts (2 per MAC; it counts
convolutions, matrix products and attention exactly, and nothing else).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..errors import CnnCostError
from ..graph import Graph, Node
from ..report import Report, analyze_graph
from .module import build_module

CHECKS = ("shape", "params", "buffers", "macs")


@dataclass(frozen=True)
class Mismatch:
    """One count where cnncost and torch disagree. `layer` is "(total)" for the totals."""

    layer: str
    op: str
    check: str
    cnncost: Any
    torch: Any


@dataclass
class Verification:
    report: Report
    device: str
    layers_checked: int = 0
    totals: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "cnncost.verify/1",
            "model": self.report.model,
            "device": self.device,
            "batch": self.report.batch,
            "input_shape": list(self.report.input_shape),
            "ok": self.ok,
            "layers_checked": self.layers_checked,
            "checks": list(CHECKS),
            "totals": {
                k: {"cnncost": _plain(a), "torch": _plain(b)} for k, (a, b) in self.totals.items()
            },
            "mismatches": [
                {
                    "layer": m.layer,
                    "op": m.op,
                    "check": m.check,
                    "cnncost": _plain(m.cnncost),
                    "torch": _plain(m.torch),
                }
                for m in self.mismatches
            ],
        }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _macs(flops: int) -> int | float:
    """torch counts FLOPs, 2 per multiply-accumulate; an odd count would show as x.5."""
    return flops // 2 if flops % 2 == 0 else flops / 2


def _count(tensors) -> int:
    return sum(t.numel() for t in tensors)


def verify(graph: Graph, device: str = "cpu") -> Verification:
    """Build `graph` with random weights on `device` ("cpu", "cuda" or "meta": shapes and
    counts without arithmetic) and compare every layer with the analytic report."""
    report = analyze_graph(graph)
    result = Verification(report=report, device=device)
    module = build_module(graph).eval()
    try:
        module = module.to(device)
        x = torch.randn(graph.batch, *graph.input_shape, device=device)
    except (RuntimeError, AssertionError) as exc:
        raise CnnCostError(f"cannot use device {device!r}: {str(exc).splitlines()[0]}") from exc

    rows = {layer.name: layer for layer in report.layers}
    modules = {step.node.name: step.module for step in module.steps}
    for name, mod in modules.items():
        row = rows[name]
        _compare(result, row.name, row.op, "params", row.params, _count(mod.parameters()))
        _compare(result, row.name, row.op, "buffers", row.buffers, _count(mod.buffers()))

    counter = FlopCounterMode(display=False)
    seen = {"flops": 0}

    def after(node: Node, out: torch.Tensor) -> None:
        row = rows[node.name]
        flops = counter.get_total_flops()
        layer_flops, seen["flops"] = flops - seen["flops"], flops
        shape = tuple(out.shape)
        _compare(result, node.name, row.op, "shape", (graph.batch, *node.shape), shape)
        _compare(result, node.name, row.op, "macs", row.macs, _macs(layer_flops))
        result.layers_checked += 1

    with torch.inference_mode(), counter:
        out = module.run(x, after, train_only=True)

    torch_totals = {
        "shape": tuple(out.shape),
        "params": _count(module.parameters()),
        "buffers": _count(module.buffers()),
        "macs": _macs(counter.get_total_flops()),
    }
    # The module holds the training-only branches too, and verify runs them.
    ours = {
        "shape": (graph.batch, *report.output_shape),
        "params": sum(layer.params for layer in report.layers),
        "buffers": sum(layer.buffers for layer in report.layers),
        "macs": sum(layer.macs for layer in report.layers),
    }
    for check in CHECKS:
        result.totals[check] = (ours[check], torch_totals[check])
        _compare(result, "(total)", "", check, ours[check], torch_totals[check])
    return result


def _compare(result: Verification, layer: str, op: str, check: str, ours: Any, theirs: Any):
    if ours != theirs:
        result.mismatches.append(Mismatch(layer, op, check, ours, theirs))
