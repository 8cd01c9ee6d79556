"""What one training step costs: backward MACs, the activations autograd saves, gradients,
optimizer state and the peak memory, per layer and in total (docs/training.md).

Each op declares what it saves and its backward MACs (cnncost/ops); this module walks the
graph to decide what autograd actually does: which layers are trainable (--trainable,
--freeze), which tensors need a gradient (nothing below the lowest trainable layer), which
in-place ops really run in place, and which saved tensors share one storage (counted once).
Counts are exact integers; expectations under stochastic depth are exact Fractions (the
graph's survival probabilities), rounded once at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from fractions import Fraction
from functools import cached_property
from typing import Any

from .errors import CnnCostError
from .graph import Graph, Node
from .memory import peak_live_activations
from .ops import Need, Saved, numel
from .report import DTYPE_BYTES, Report

# Optimizer state per trainable parameter, in parameter-sized tensors (torch.optim).
OPTIMIZER_STATES = {
    "sgd": 0,  # plain SGD keeps nothing
    "momentum": 1,  # SGD(momentum>0): momentum_buffer
    "adam": 2,  # exp_avg, exp_avg_sq
    "adamw": 2,  # exp_avg, exp_avg_sq
}
HALF_BYTES = 2  # fp16 and bf16 alike: what torch.autocast computes conv/linear/matmul in
FIXED_BYTES = {"fp32": 4, "half": HALF_BYTES, "int64": 8}

UNITS = {
    "trainable_params": "parameters that receive a gradient (--trainable / --freeze), "
    "training-only branches included",
    "frozen_params": "parameters that receive no gradient",
    "backward_macs": "backward_input_macs + backward_weight_macs",
    "backward_input_macs": "MACs of activation gradients: each layer's input gradient "
    "(none below the lowest trainable layer) and back through attention's own products",
    "backward_weight_macs": "MACs of the trainable layers' weight gradients",
    "saved_activation_bytes": "bytes autograd keeps for backward, each storage once, "
    "parameters excluded",
    "weight_bytes": "parameters and buffers (fp32 master weights under --amp)",
    "gradient_bytes": "one gradient per trainable parameter",
    "optimizer_bytes": "optimizer state of the trainable parameters",
    "transient_bytes": "the largest output gradient and input gradient alive together",
    "train_peak_bytes": "weights + gradients + optimizer + saved activations + transient; "
    "allocator workspace and cached blocks excluded",
    "inference_weight_bytes": "parameters and buffers of the inference layers",
    "inference_activation_bytes": "most activations alive at once at inference",
    "inference_peak_bytes": "inference weights + inference_activation_bytes",
}


@dataclass(frozen=True)
class TrainOptions:
    optimizer: str = "adam"
    amp: bool = False
    trainable: tuple[str, ...] | None = None  # None: every layer
    freeze: tuple[str, ...] = ()
    device: str = "cuda"  # whose kernels: dropout keeps a 1-byte mask on CUDA


@dataclass(frozen=True)
class TrainLayer:
    """One layer in a training step, for the whole batch, when the layer runs."""

    name: str
    trainable: bool
    trainable_params: int
    backward_input_macs: int
    backward_weight_macs: int
    saved_activation_bytes: int  # storages this layer is the first to save
    survival: Fraction
    # Whether the layer runs backward at all (something at or below it needs a gradient),
    # and the bytes its backward moves: the output gradient read, the input gradients
    # written, the tensors it saved read back (each in full, shared or not), its weights
    # read for the input gradient and its weight gradients written. For the roofline;
    # not in the JSON.
    runs_backward: bool = False
    backward_bytes: int = 0

    @property
    def backward_macs(self) -> int:
        return self.backward_input_macs + self.backward_weight_macs

    def to_dict(self) -> dict[str, Any]:
        return {
            "trainable": self.trainable,
            "trainable_params": self.trainable_params,
            "backward_macs": self.backward_macs,
            "backward_input_macs": self.backward_input_macs,
            "backward_weight_macs": self.backward_weight_macs,
            "saved_activation_bytes": self.saved_activation_bytes,
        }


@dataclass(frozen=True)
class TrainTotals:
    trainable_params: int
    frozen_params: int
    backward_macs: int
    backward_input_macs: int
    backward_weight_macs: int
    saved_activation_bytes: int
    weight_bytes: int
    gradient_bytes: int
    optimizer_bytes: int
    transient_bytes: int
    train_peak_bytes: int
    inference_weight_bytes: int
    inference_activation_bytes: int
    inference_peak_bytes: int

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Training:
    options: TrainOptions
    layers: tuple[TrainLayer, ...]
    totals: TrainTotals
    forward_macs: int  # the training forward pass's expected MACs

    @cached_property
    def by_name(self) -> dict[str, TrainLayer]:
        return {layer.name: layer for layer in self.layers}

    def settings(self) -> dict[str, Any]:
        o = self.options
        return {
            "optimizer": o.optimizer,
            "amp": o.amp,
            "trainable": list(o.trainable) if o.trainable is not None else None,
            "freeze": list(o.freeze),
            "peak_excludes": "allocator workspace (cuDNN/cuBLAS) and cached free blocks",
        }


def matches(name: str, patterns: Iterable[str]) -> bool:
    """A pattern (a path or a glob) matches a layer and everything under it."""
    parts = name.split(".")
    prefixes = [".".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatchcase(p, pattern) for pattern in patterns for p in prefixes)


def trainable_layers(graph: Graph, options: TrainOptions) -> set[str]:
    """Layers whose parameters are trained; a pattern that matches no layer is an error."""
    names = [n.name for n in graph.nodes[1:]]
    for pattern in (*(options.trainable or ()), *options.freeze):
        if not any(matches(name, [pattern]) for name in names):
            raise CnnCostError(
                f"--trainable/--freeze pattern {pattern!r} matches no layer of {graph.model}"
            )
    return {
        name
        for name in names
        if (options.trainable is None or matches(name, options.trainable))
        and not matches(name, options.freeze)
    }


def shared_tensors(graph: Graph) -> set[str]:
    """Layers whose output an in-place op must not overwrite: the network input, outputs
    read by more than one layer, and views (flatten, a channel slice) of such outputs.
    The torch backend builds such in-place ops out of place, and so does this analysis."""
    readers: dict[str, int] = {}
    for node in graph.nodes:
        for name in node.inputs:
            readers[name] = readers.get(name, 0) + 1
    shared = {graph.nodes[0].name}
    for node in graph.nodes:
        stored = node.op.cost(node.attrs, list(node.input_shapes), node.shape).activations
        is_view = node.inputs and not stored and not node.attrs.get("inplace")
        if readers.get(node.name, 0) > 1 or (is_view and node.inputs[0] in shared):
            shared.add(node.name)
    return shared


def effective_attrs(node: Node, shared: set[str]) -> Mapping[str, Any]:
    """The attributes the op runs with: no in-place write over a shared tensor."""
    if node.attrs.get("inplace") and node.inputs[0] in shared:
        return {**node.attrs, "inplace": False}
    return node.attrs


class _Walk:
    """One pass over the graph in forward order."""

    def __init__(self, graph: Graph, report: Report, options: TrainOptions) -> None:
        self.graph, self.report, self.options = graph, report, options
        self.batch = graph.batch
        self.act = DTYPE_BYTES[report.dtype]
        self.rows = {layer.name: layer for layer in report.layers}
        self.trainable = trainable_layers(graph, options)
        self.shared = shared_tensors(graph)
        self.nodes = {n.name: n for n in graph.nodes}
        self.owner: dict[str, str] = {}  # the layer whose storage holds each output
        self.bytes: dict[str, int] = {}  # bytes per element of each output
        self.requires: dict[str, bool] = {}
        # storage key -> (first layer to save it, bytes, largest survival of its savers)
        self.saved: dict[tuple, tuple[str, int, Fraction]] = {}
        self.transient = 0

    def dtype_bytes(self, node: Node, inputs: list[int]) -> int:
        if not self.options.amp:
            return self.act
        if not node.inputs:
            return FIXED_BYTES["fp32"]  # the image batch
        rule = self.autocast(node)
        if rule == "half":
            return HALF_BYTES
        if rule in ("fp32", "promote"):
            return FIXED_BYTES["fp32"]
        return max(inputs)

    def autocast(self, node: Node) -> str:
        """The op's autocast rule on this device."""
        op = node.op
        return op.autocast_cpu if self.options.device == "cpu" and op.autocast_cpu else op.autocast

    def storage_bytes(self, name: str) -> int:
        owner = self.nodes[self.owner[name]]
        return numel(owner.shape) * self.batch * self.bytes[owner.name]

    def keep(self, key: tuple, layer: str, size: int, survival: Fraction) -> int:
        """Record a saved tensor (each storage once); its size in bytes."""
        first, _, p = self.saved.get(key, (layer, size, survival))
        self.saved[key] = (first, size, max(p, survival))
        return size

    def saved_item(self, node: Node, index: int, item: Saved, survival: Fraction) -> int:
        """Record one tensor the layer saves; its size in bytes."""
        amp, rule = self.options.amp, self.autocast(node)
        if item.source == "new":
            per = {"act": self.bytes[node.name], "mask": self.mask_bytes(node)}
            size = item.elements * (self.batch if item.batched else 1)
            size *= per.get(item.dtype) or FIXED_BYTES[item.dtype]
            return self.keep(("new", node.name, index), node.name, size, survival)
        source = node.name if item.source == "output" else node.inputs[item.index]
        width = self.bytes[source]
        if item.source == "input" and amp and rule in ("half", "fp32"):
            cast = HALF_BYTES if rule == "half" else FIXED_BYTES["fp32"]
            if cast != width:  # autocast saves its own cast copy of the input
                size = numel(self.nodes[source].shape) * self.batch * cast
                return self.keep(("new", node.name, index), node.name, size, survival)
        key = ("storage", self.owner[source])
        return self.keep(key, node.name, self.storage_bytes(source), survival)

    def mask_bytes(self, node: Node) -> int:
        return 1 if self.options.device == "cuda" else self.bytes[node.name]

    def run(self) -> list[TrainLayer]:
        layers: list[TrainLayer] = []
        for node in self.graph.nodes:
            attrs = effective_attrs(node, self.shared)
            ins = list(node.input_shapes)
            cost = node.op.cost(attrs, ins, node.shape)
            copies = node.op.train_output is not None and node.op.train_output(attrs)
            owns = cost.activations > 0 or not node.inputs or copies
            self.owner[node.name] = node.name if owns else self.owner[node.inputs[0]]
            self.bytes[node.name] = self.dtype_bytes(node, [self.bytes[i] for i in node.inputs])
            params = self.rows[node.name].params
            trains = node.name in self.trainable and params > 0
            needs = tuple(self.requires[i] for i in node.inputs)
            self.requires[node.name] = trains or any(needs)
            survival = Fraction(node.survival)  # exact (the graph keeps a Fraction)
            grad_in = grad_w = moved = 0
            if self.requires[node.name]:
                need = Need(needs, trains, self.options.amp, self.options.device)
                for index, item in enumerate(node.op.saves(attrs, ins, node.shape, need)):
                    moved += self.saved_item(node, index, item, survival)
                if self.options.amp and self.autocast(node) == "half" and cost.weights:
                    key = ("new", node.name, "weights")  # autocast's half copy of the weights
                    self.keep(key, node.name, cost.weights * HALF_BYTES, survival)
                grad = node.op.backward(attrs, ins, node.shape)
                grad_in = ((grad.input if any(needs) else 0) + grad.inner) * self.batch
                grad_w = grad.weight * self.batch if trains else 0
                out_grad = numel(node.shape) * self.bytes[node.name]
                in_grads = sum(
                    numel(s) * self.bytes[i]
                    for s, i, n in zip(ins, node.inputs, needs, strict=True)
                    if n
                )
                self.transient = max(self.transient, (out_grad + in_grads) * self.batch)
                moved += (out_grad + in_grads) * self.batch
                moved += params * self.act * ((1 if any(needs) else 0) + (1 if trains else 0))
            layers.append(
                TrainLayer(
                    name=node.name,
                    trainable=node.name in self.trainable,
                    trainable_params=params if trains else 0,
                    backward_input_macs=grad_in,
                    backward_weight_macs=grad_w,
                    saved_activation_bytes=0,
                    survival=survival,
                    runs_backward=self.requires[node.name],
                    backward_bytes=moved,
                )
            )
        first_saves: dict[str, int] = {}
        for first, size, _ in self.saved.values():
            first_saves[first] = first_saves.get(first, 0) + size
        return [
            replace(layer, saved_activation_bytes=first_saves.get(layer.name, 0))
            for layer in layers
        ]


def analyze_training(graph: Graph, report: Report, options: TrainOptions) -> Training:
    """The cost of one training step of `graph` (as costed in `report`) under `options`."""
    if options.optimizer not in OPTIMIZER_STATES:
        raise CnnCostError(
            f"unknown optimizer {options.optimizer!r}; use one of {', '.join(OPTIMIZER_STATES)}"
        )
    if report.dropped:  # a training-only branch does not fit at this input size
        raise CnnCostError(f"no training figures: {report.training_note}")
    walk = _Walk(graph, report, options)
    layers = walk.run()
    expected_in = sum(layer.backward_input_macs * layer.survival for layer in layers)
    expected_w = sum(layer.backward_weight_macs * layer.survival for layer in layers)
    saved = sum(size * p for _, size, p in walk.saved.values())
    all_params = sum(r.params for r in report.layers)
    buffers = sum(r.buffers for r in report.layers)
    trainable = sum(layer.trainable_params for layer in layers)
    param_bytes = FIXED_BYTES["fp32"] if options.amp else walk.act
    weight_bytes = (all_params + buffers) * param_bytes
    gradient_bytes = trainable * param_bytes
    optimizer_bytes = OPTIMIZER_STATES[options.optimizer] * trainable * param_bytes
    saved_worst = sum(size for _, size, _ in walk.saved.values())
    inference = report.totals
    act_bytes = HALF_BYTES if options.amp else walk.act
    inference_weights = (inference.params + inference.buffers) * param_bytes
    live = peak_live_activations(report) * act_bytes
    totals = TrainTotals(
        trainable_params=trainable,
        frozen_params=all_params - trainable,
        backward_macs=round(expected_in + expected_w),
        backward_input_macs=round(expected_in),
        backward_weight_macs=round(expected_w),
        saved_activation_bytes=round(saved),
        weight_bytes=weight_bytes,
        gradient_bytes=gradient_bytes,
        optimizer_bytes=optimizer_bytes,
        transient_bytes=walk.transient,
        train_peak_bytes=weight_bytes
        + gradient_bytes
        + optimizer_bytes
        + saved_worst
        + walk.transient,
        inference_weight_bytes=inference_weights,
        inference_activation_bytes=live,
        inference_peak_bytes=inference_weights + live,
    )
    return Training(options, tuple(layers), totals, report.totals.train_macs or 0)
