"""`cnncost verify --train`: one training step in torch, checked layer by layer against
the analytic training cost (cnncost/training.py).

The module runs in train mode with the chosen layers frozen; the loss is the sum of the
model's output and of every training-only head (GoogLeNet's auxiliary classifiers), as a
training script adds them. Two counts are compared per layer and in total:

- backward MACs: torch's FlopCounterMode over the backward pass, each counted op charged to
  the layer whose autograd node runs it (torch._C._current_autograd_node); FLOPs / 2;
- saved activations: torch.autograd.graph.saved_tensors_hooks during the forward pass, each
  storage counted once (charged to the first layer that saves it), parameters and buffers
  excluded.

torch 2.13's counter charges a grouped convolution's weight gradient (transposed too) `groups` times
(pytorch PR #183405): it counts (groups − 1) × the forward MACs too many. The analytic count
stands; that excess is computed in closed form and expected of torch (docs/training.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch.autograd.graph import saved_tensors_hooks
from torch.utils.flop_counter import FlopCounterMode

from ..errors import CnnCostError
from ..graph import Graph
from ..report import analyze_graph
from ..training import Training, TrainOptions, analyze_training
from .module import build_module

CHECKS = ("backward_macs", "saved_activation_bytes")


@dataclass(frozen=True)
class TrainMismatch:
    layer: str
    op: str
    check: str
    cnncost: int
    torch: int | float


@dataclass
class TrainVerification:
    training: Training
    model: str
    batch: int
    layers_checked: int = 0
    # check -> (cnncost, torch, torch's known over-count included in the torch figure)
    totals: dict[str, tuple[int, int | float, int]] = field(default_factory=dict)
    mismatches: list[TrainMismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "cnncost.verify_train/1",
            "model": self.model,
            "batch": self.batch,
            "amp": self.training.options.amp,
            "ok": self.ok,
            "layers_checked": self.layers_checked,
            "checks": list(CHECKS),
            "totals": {
                k: {"cnncost": a, "torch": b, "torch_known_excess": e}
                for k, (a, b, e) in self.totals.items()
            },
            "mismatches": [m.__dict__ for m in self.mismatches],
        }


class _LayerFlops(FlopCounterMode):
    """FlopCounterMode that also charges each op to the layer of the running autograd node."""

    def __init__(self, owner: dict[Any, str]) -> None:
        super().__init__(display=False)
        self.owner = owner
        self.by_layer: dict[str, int] = {}

    def _count_flops(self, func_packet, out, args, kwargs):
        if func_packet in self.flop_registry:
            flops = self.flop_registry[func_packet](*args, **kwargs, out_val=out)
            layer = self.owner.get(torch._C._current_autograd_node(), "(unattributed)")
            self.by_layer[layer] = self.by_layer.get(layer, 0) + flops
        return super()._count_flops(func_packet, out, args, kwargs)


def torch_conv_excess(graph: Graph, training: Training) -> dict[str, int]:
    """MACs torch 2.13's counter adds to each grouped conv's weight gradient: its
    conv_backward_flop counts the gradient as a dense conv over all C_in·out channel pairs,
    (groups − 1) × the forward MACs too many."""
    rows = {layer.name: layer for layer in training.layers}
    excess = {}
    for node in graph.nodes:
        convolution = node.op.name in ("conv2d", "conv_transpose2d")
        groups = node.attrs.get("groups", 1) if convolution else 1
        if groups > 1 and rows[node.name].backward_weight_macs:
            forward = node.op.cost(node.attrs, list(node.input_shapes), node.shape).macs
            excess[node.name] = (groups - 1) * forward * graph.batch
    return excess


def _macs(flops: int) -> int | float:
    return flops // 2 if flops % 2 == 0 else flops / 2


def verify_training(
    graph: Graph,
    trainable: tuple[str, ...] | None = None,
    freeze: tuple[str, ...] = (),
    amp: bool = False,
) -> TrainVerification:
    """Run one forward and backward step of `graph` on the CPU and compare it with the
    analytic training cost, layer by layer."""
    report = analyze_graph(graph)
    options = TrainOptions("sgd", amp, trainable, freeze, device="cpu")
    training = analyze_training(graph, report, options)
    result = TrainVerification(training, graph.model, graph.batch)
    torch.manual_seed(0)
    module = build_module(graph).train()
    train = {layer.name for layer in training.layers if layer.trainable}
    for step in module.steps:
        for p in step.module.parameters():
            p.requires_grad_(step.node.name in train)
    state = {t.untyped_storage().data_ptr() for t in (*module.parameters(), *module.buffers())}

    saved: dict[int, tuple[str, int]] = {}  # storage -> (first layer, bytes)
    owner: dict[Any, str] = {}  # autograd node -> layer
    current = {"layer": ""}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr not in state and ptr not in saved:
            saved[ptr] = (current["layer"], storage.nbytes())
        return t

    def claim(out: torch.Tensor, layer: str) -> None:
        stack = [out.grad_fn] if out.grad_fn is not None else []
        while stack:
            fn = stack.pop()
            if fn is None or fn in owner:
                continue
            owner[fn] = layer
            stack.extend(f for f, _ in fn.next_functions)

    readers = {i for n in graph.nodes for i in n.inputs}
    sinks = [graph.output, *(n.name for n in graph.nodes if n.train_only and n.name not in readers)]
    x = torch.randn(graph.batch, *graph.input_shape)
    values: dict[str, torch.Tensor] = {module.input_name: x}
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp)
    with saved_tensors_hooks(pack, lambda t: t), autocast:
        for step in module.steps:
            current["layer"] = step.node.name
            try:
                out = step.module(*(values[i] for i in step.node.inputs))
            except (ValueError, RuntimeError) as exc:
                raise CnnCostError(
                    f"torch cannot train layer {step.node.name!r}: {str(exc).splitlines()[0]}"
                ) from exc
            values[step.node.name] = out
            claim(out, step.node.name)
            for name in step.release:
                if name not in sinks:
                    del values[name]
    loss = sum(values[s].float().sum() for s in sinks if values[s].requires_grad)
    counter = _LayerFlops(owner)
    with counter:
        loss.backward()

    excess = torch_conv_excess(graph, training)
    torch_saved: dict[str, int] = {}
    for layer, size in saved.values():
        torch_saved[layer] = torch_saved.get(layer, 0) + size
    for layer in training.layers[1:]:
        op = next(n.op.name for n in graph.nodes if n.name == layer.name)
        flops = counter.by_layer.get(layer.name, 0)
        theirs = _macs(flops)
        ours = layer.backward_macs + excess.get(layer.name, 0)
        _compare(result, layer.name, op, "backward_macs", ours, theirs)
        _compare(
            result,
            layer.name,
            op,
            "saved_activation_bytes",
            layer.saved_activation_bytes,
            torch_saved.get(layer.name, 0),
        )
        result.layers_checked += 1
    for layer in ("(unattributed)", ""):
        if counter.by_layer.get(layer) or torch_saved.get(layer):
            _compare(result, layer, "", "attribution", 0, 1)
    total_excess = sum(excess.values())
    # The backend runs every layer (no stochastic-depth drops): the totals compared are
    # those of a step where every layer runs, the layers' sums.
    layers = training.layers
    result.totals["backward_macs"] = (
        sum(layer.backward_macs for layer in layers),
        _macs(counter.get_total_flops()),
        total_excess,
    )
    result.totals["saved_activation_bytes"] = (
        sum(layer.saved_activation_bytes for layer in layers),
        sum(size for _, size in saved.values()),
        0,
    )
    for check, (ours, theirs, extra) in result.totals.items():
        _compare(result, "(total)", "", check, ours + extra, theirs)
    return result


def _compare(result: TrainVerification, layer: str, op: str, check: str, ours, theirs) -> None:
    if ours != theirs:
        result.mismatches.append(TrainMismatch(layer, op, check, ours, theirs))
