"""Per-layer and total counts for one model: exact integers, with their units fixed here.

The JSON form (``Report.to_dict``) is what scripts and CI read; its fields are documented
in docs/output.md and only ever grow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from json.encoder import encode_basestring_ascii
from typing import Any

from .errors import CnnCostError, did_you_mean
from .graph import ALWAYS, Graph, dropped_note
from .limits import paused_gc
from .ops import Shape
from .ops.registry import quantities
from .paths import count_paths
from .receptive import Field, input_field, layer_field, plain_number, reported, window_of

SCHEMA = "cnncost.report/1"

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "fp64": 8, "int8": 1}

UNITS = {
    "params": "trainable parameters (weights + biases)",
    "buffers": "non-trainable state such as batch-norm running statistics",
    "macs": "multiply-accumulates of matrix products: convolutions, linear layers, "
    "attention (1 MAC = a*b+c)",
    "flops": "2 x macs (one multiply and one add per MAC)",
    "elementwise": "other scalar operations: normalisation, activations, pooling, adds, bias adds",
    "activations": "elements of newly stored outputs, input included, for the whole batch",
    "activation_bytes": "activations x bytes per element of the chosen dtype",
    "receptive_field": "input pixels (height, width) one output position can see, "
    "the largest over all paths (rounded up after upsampling makes the jump fractional)",
    "jump": "input pixels between neighbouring output positions (effective stride); "
    "fractional after upsampling beyond the input's resolution",
    "depth": "weighted layers (conv, linear) on the longest path from the input",
    "train_params": "params including training-only branches (auxiliary classifiers); "
    "null when a training-only branch does not fit at this input size (dropped_branches)",
    "train_macs": "expected MACs of one training forward pass: training-only branches "
    "included, each layer weighted by its survival probability (stochastic depth), "
    "summed exactly and rounded once to the nearest integer (ties to even); null when a "
    "training-only branch does not fit at this input size (dropped_branches)",
    "survival": "probability a layer runs in a training step, as the nearest float; "
    "survival_fraction gives it exactly",
    "paths": "distinct input-to-output paths through the inference graph (exact)",
}


@dataclass(frozen=True)
class Layer:
    """One row of the per-layer table. Compute and memory are for the whole batch."""

    name: str
    op: str
    inputs: tuple[str, ...]
    output_shape: Shape
    weights: int
    biases: int
    buffers: int
    macs: int
    elementwise: int
    activations: int
    bytes_per_element: int = field(repr=False)
    train_only: bool = False
    survival: Fraction = ALWAYS
    receptive_field: tuple[int, int] = (1, 1)
    jump: tuple[int | Fraction, int | Fraction] = (1, 1)  # fractional after upsampling
    depth: int = 0
    # per-sample sizes the counting conventions read (cnncost.conventions); not in the JSON
    quantities: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def activation_bytes(self) -> int:
        return self.activations * self.bytes_per_element

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "op": self.op,
            "inputs": list(self.inputs),
            "output_shape": list(self.output_shape),
            "params": self.params,
            "weights": self.weights,
            "biases": self.biases,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "elementwise": self.elementwise,
            "activations": self.activations,
            "activation_bytes": self.activation_bytes,
            "train_only": self.train_only,
            **_survival_fields(self.survival),
            "receptive_field": list(self.receptive_field),
            "jump": [plain_number(j) for j in self.jump],
            "depth": self.depth,
        }

    def json_line(self) -> str:
        """to_dict() as compact JSON; see json_lines."""
        return json_lines([self])[0]


def json_lines(layers: Iterable[Layer]) -> list[str]:
    """Each layer's to_dict() as compact JSON (json.dumps(..., separators=(", ", ": ")) of it,
    key for key: a test holds the two equal on every built-in), written directly because
    encoding 10⁵ dicts took a second. Layers alike in all but name, inputs and field
    (a repeated block's copies) share the middle of their line, encoded once."""
    esc = encode_basestring_ascii
    kinds: dict[tuple, tuple[str, str]] = {}
    lines = []
    for r in layers:
        # Identity stands in for equality where hashing is slow (shapes, Fractions): the
        # layers hold those objects, so an id here cannot be reused for another value.
        kind = (
            r.op,
            id(r.output_shape),
            r.weights,
            r.biases,
            r.buffers,
            r.macs,
            r.elementwise,
            r.activations,
            r.bytes_per_element,
            r.train_only,
            id(r.survival),
        )
        parts = kinds.get(kind)
        if parts is None:
            survival = _survival_fields(r.survival)
            parts = kinds[kind] = (
                f'"op": {esc(r.op)}, ',
                f'"output_shape": [{", ".join(map(str, r.output_shape))}], '
                f'"params": {r.params}, "weights": {r.weights}, "biases": {r.biases}, '
                f'"buffers": {r.buffers}, "macs": {r.macs}, "flops": {r.flops}, '
                f'"elementwise": {r.elementwise}, "activations": {r.activations}, '
                f'"activation_bytes": {r.activation_bytes}, '
                f'"train_only": {"true" if r.train_only else "false"}, '
                f'"survival": {survival["survival"]!r}, '
                f'"survival_fraction": {esc(survival["survival_fraction"])}, ',
            )
        op, middle = parts
        rf, jump = r.receptive_field, r.jump
        if type(jump[0]) is not int or type(jump[1]) is not int:  # after upsampling
            jump = (plain_number(jump[0]), plain_number(jump[1]))
        lines.append(
            f'{{"name": {esc(r.name)}, {op}"inputs": [{", ".join(map(esc, r.inputs))}], '
            f'{middle}"receptive_field": [{rf[0]}, {rf[1]}], "jump": [{jump[0]}, {jump[1]}], '
            f'"depth": {r.depth}}}'
        )
    return lines


def _survival_fields(p: Fraction) -> dict[str, Any]:
    """`survival` as JSON's nearest float and `survival_fraction` exactly; a layer that
    always runs shares one object, known by identity (no Fraction arithmetic per layer)."""
    if p is ALWAYS:
        return {"survival": 1.0, "survival_fraction": "1"}
    return {"survival": float(p), "survival_fraction": str(p)}


@dataclass(frozen=True)
class Totals:
    params: int
    weights: int
    biases: int
    buffers: int
    macs: int
    flops: int
    elementwise: int
    activations: int
    activation_bytes: int
    param_bytes: int
    train_params: int | None  # None: a training-only branch does not fit (Report.dropped)
    train_macs: int | None
    depth: int
    paths: int

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Report:
    model: str
    title: str
    source: str
    file: str
    input_shape: Shape
    output_shape: Shape
    batch: int
    dtype: str
    layers: tuple[Layer, ...]
    output: str = ""  # the layer whose result is the model's output
    # Training-only branches left out because they do not fit at this input size, each
    # with the error that stopped it; the model then has no training totals.
    dropped: tuple[tuple[str, str], ...] = ()

    @property
    def bytes_per_element(self) -> int:
        return DTYPE_BYTES[self.dtype]

    @property
    def training_note(self) -> str | None:
        """One line saying why there are no training totals at this size, or None."""
        return dropped_note(self.dropped, self.input_shape)

    @property
    def inference_layers(self) -> tuple[Layer, ...]:
        """The layers that run at inference: all but the training-only branches."""
        return tuple(r for r in self.layers if not r.train_only)

    @cached_property
    def totals(self) -> Totals:
        """Inference totals; the train_ fields add the training-only branches."""
        # One pass over the layers (six sums over 10⁵ layers took a tenth of a second).
        weights = biases = buffers = macs = elementwise = activations = train_params = 0
        inference = []
        for r in self.layers:
            if r.train_only:
                train_params += r.weights + r.biases
                continue
            inference.append(r)
            weights += r.weights
            biases += r.biases
            buffers += r.buffers
            macs += r.macs
            elementwise += r.elementwise
            activations += r.activations
        trains = not self.dropped
        return Totals(
            params=weights + biases,
            weights=weights,
            biases=biases,
            buffers=buffers,
            macs=macs,
            flops=2 * macs,
            elementwise=elementwise,
            activations=activations,
            activation_bytes=activations * self.bytes_per_element,
            param_bytes=(weights + biases) * self.bytes_per_element,
            train_params=weights + biases + train_params if trains else None,
            train_macs=round(self.expected_train_macs) if trains else None,  # half to even
            depth=next((r.depth for r in reversed(self.layers) if r.name == self.output), 0),
            paths=count_paths(inference, self.output),
        )

    @cached_property
    def expected_train_macs(self) -> Fraction:
        """The expected MACs of one training forward pass, exactly: every layer's MACs
        weighted by its exact survival probability; totals.train_macs rounds it once."""
        # Layers built under one survival share its Fraction object: sum the integers per
        # object, then weight each sum once (10⁵ Fraction additions took a second).
        by_survival: dict[int, tuple[Fraction, int]] = {}
        for r in self.layers:
            p, macs = by_survival.get(id(r.survival), (r.survival, 0))
            by_survival[id(r.survival)] = (p, macs + r.macs)
        return sum((p * macs for p, macs in by_survival.values()), Fraction(0))

    def to_dict(self) -> dict[str, Any]:
        return {**self.header_dict(), "layers": [r.to_dict() for r in self.layers]}

    def header_dict(self) -> dict[str, Any]:
        """to_dict() without its layers."""
        return {
            "schema": SCHEMA,
            "model": self.model,
            "title": self.title,
            "source": self.source,
            "file": self.file,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "batch": self.batch,
            "dtype": self.dtype,
            "bytes_per_element": self.bytes_per_element,
            "units": UNITS,
            "totals": self.totals.to_dict(),
            "dropped_branches": [{"name": name, "reason": reason} for name, reason in self.dropped],
        }


def analyze_graph(graph: Graph, dtype: str = "fp32") -> Report:
    """Cost every node of `graph`; per-sample costs are scaled by the batch."""
    if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
        raise CnnCostError(
            f"unknown dtype {str(dtype)[:60]!r}{did_you_mean(str(dtype)[:60], DTYPE_BYTES)}; "
            f"use one of {', '.join(DTYPE_BYTES)}"
        )
    with paused_gc():
        return _analyze(graph, dtype)


def _analyze(graph: Graph, dtype: str) -> Report:
    n, size = graph.batch, DTYPE_BYTES[dtype]
    layers = []
    output_shape: Shape = graph.input_shape
    fields: dict[str, Field] = {}
    # Replayed layers share their attrs, shapes and survival objects: each kind is costed
    # once, and its rows share every field but name, inputs and receptive field (set
    # directly, without the frozen dataclass's __init__: 10⁵ rows through it took a
    # second; tests/test_graph.py holds the two equal).
    # The conventions' sizes of a kind are shared too (a read-only mapping), and so is
    # its window rule. Keys hold ids: the nodes keep those objects alive meanwhile.
    kinds: dict[tuple, tuple[dict[str, Any], bool, Any]] = {}
    new = object.__new__
    for node in graph.nodes:
        seen = (
            id(node.attrs),
            id(node.op),
            id(node.input_shapes),
            id(node.shape),
            node.train_only,
            id(node.survival),
        )
        known = kinds.get(seen)
        if known is None:
            ins = list(node.input_shapes)
            cost = node.op.cost(node.attrs, ins, node.shape)
            sizes = {**quantities(node.op, node.attrs, ins, node.shape, cost), "batch": n}
            shared = {
                "op": node.op.name,
                "output_shape": node.shape,
                "weights": cost.weights,
                "biases": cost.biases,
                "buffers": cost.buffers,
                "macs": cost.macs * n,
                "elementwise": cost.elementwise * n,
                "activations": cost.activations * n,
                "bytes_per_element": size,
                "train_only": node.train_only,
                "survival": node.survival,
                "quantities": sizes,
            }
            weighted = cost.weights > 0 and cost.macs > 0
            known = kinds[seen] = (shared, weighted, window_of(node) if node.inputs else None)
        shared, weighted, rule = known
        if node.inputs:
            field = layer_field([fields[i] for i in node.inputs], weighted, rule)
        else:
            field = input_field(node.shape)
        fields[node.name] = field
        layer = new(Layer)
        values = layer.__dict__
        values.update(shared)
        values["name"] = node.name
        values["inputs"] = node.inputs
        values["receptive_field"], values["jump"] = reported(field)
        values["depth"] = field.depth
        layers.append(layer)
        if node.name == graph.output:
            output_shape = node.shape
    return Report(
        model=graph.model,
        title=graph.title,
        source=graph.source,
        file=graph.file,
        input_shape=graph.input_shape,
        output_shape=output_shape,
        batch=n,
        dtype=dtype,
        layers=tuple(layers),
        output=graph.output,
        dropped=graph.dropped,
    )
