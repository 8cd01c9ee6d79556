"""The op registry: each op is declared once, with its attributes, shape rule and costs.

Nothing outside cnncost/ops knows what any particular op does; the builder and the
analysis only call ``shape`` and ``cost`` on the declaration.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..errors import CnnCostError, ShapeError, did_you_mean
from ..values import Kind, choice

Shape = tuple[int, ...]
Attrs = Mapping[str, Any]


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Attr:
    """One typed attribute of an op, with its default (or REQUIRED) and a one-line doc."""

    name: str
    kind: Kind
    default: Any = REQUIRED
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Cost:
    """What one layer costs for a single sample; the analysis multiplies by the batch.

    macs: multiply-accumulates of convolutions and matrix products (1 MAC = a*b+c).
    elementwise: every other scalar operation (normalisation, activation, pooling,
    residual adds, bias adds), kept apart so both counting conventions can be read off.
    activations: elements of new memory holding the output (0 for views and in-place ops).
    """

    weights: int = 0
    biases: int = 0
    buffers: int = 0
    macs: int = 0
    elementwise: int = 0
    activations: int = 0


@dataclass(frozen=True)
class Saved:
    """One tensor an op keeps for its backward pass, as torch.autograd saves it.

    source "input" is the op's input `index` and "output" its own output: both are tensors
    other layers may also keep (an in-place op's output is its input), so the training
    analysis counts each storage once. "new" is a tensor of the op's own (batch statistics,
    pooling indices, a dropout mask, attention's products): `elements` per sample, or per
    batch when not `batched`. dtype "act" is the op's activation type; "fp32", "half" (fp16
    or bf16) and "int64" are fixed; "mask" is dropout's (1-byte bool on CUDA, the
    activation type on the CPU).
    """

    source: str
    index: int = 0
    elements: int = 0
    dtype: str = "act"
    batched: bool = True


@dataclass(frozen=True)
class Need:
    """What autograd needs from one layer: a gradient for each input, for its parameters;
    whether autocast (AMP) runs it, and on which device's op lists ("cuda" or "cpu")."""

    inputs: tuple[bool, ...]
    weights: bool
    amp: bool = False
    device: str = "cuda"


@dataclass(frozen=True)
class Grad:
    """Backward multiply-accumulates of one layer for a single sample.

    input: the gradient with respect to the layer's input (skipped when no input needs one);
    weight: the gradients of its parameters (skipped when frozen); inner: back through the
    layer's own intermediate products (attention's Q·Kᵀ and A·V), needed whenever the
    layer runs backward at all.
    """

    input: int = 0
    weight: int = 0
    inner: int = 0


ShapeRule = Callable[[Attrs, list[Shape]], Shape]
CostRule = Callable[[Attrs, list[Shape], Shape], Cost]
# Builds the op as a torch.nn.Module (the optional backend). The rule imports torch itself,
# inside the function, so that declaring an op never imports torch.
ModuleRule = Callable[[Attrs, list[Shape], Shape], Any]
# How the op widens the receptive field: a window.Window, GLOBAL, FOLD, MIX, or None for
# an op that keeps each position to itself (activations, normalisation, adds).
WindowRule = Callable[[Attrs, list[Shape]], Any]
# What the op keeps for backward (docs/training.md), given what needs a gradient.
SavedRule = Callable[[Attrs, list[Shape], Shape, Need], tuple[Saved, ...]]
# Its backward MACs per sample.
BackwardRule = Callable[[Attrs, list[Shape], Shape], Grad]


# The op's own named, per-sample sizes that the counting conventions (cnncost/conventions)
# read beside the generic ones of ``quantities``: bias adds, pooling windows, attention
# scores. An op without such sizes leaves it None.
CountRule = Callable[[Attrs, list[Shape], Shape], dict[str, int]]
# The shape rule for many input sizes at once (`cnncost sweep`): each dimension of a shape is
# an int or an integer array over the sweep's points. It returns the output shape and where
# the op cannot run: False, or a boolean array (True at a failing point). It never raises
# for a per-point failure; failing points get their message from the scalar rule.
VectorShapeRule = Callable[[Attrs, list[Any]], tuple[Any, Any]]


@dataclass(frozen=True)
class OpDef:
    """An op: its name, doc, attributes, number of inputs, shape rule, cost rule and the
    torch module that computes it."""

    name: str
    doc: str
    shape: ShapeRule
    cost: CostRule
    attrs: tuple[Attr, ...] = ()
    inputs: tuple[int, int | None] = (1, 1)
    category: str = "other"
    cost_doc: str = ""
    internal: bool = False
    module: ModuleRule | None = None
    window: WindowRule | None = None
    saves: SavedRule | None = None
    backward: BackwardRule | None = None
    # Under CUDA's torch.autocast: "half" ops cast their inputs to fp16/bf16 and "fp32" ops
    # to fp32 (keeping their own cast copies); "promote" ops meet an fp32 parameter, so type
    # promotion makes their output fp32; the rest ("same") run in their inputs' widest type.
    autocast: str = "same"
    # The CPU's autocast (bf16), where its op lists differ from CUDA's; None: the same.
    autocast_cpu: str | None = None
    # True where training writes a new output though inference stores none (dropout).
    train_output: Callable[[Attrs], bool] | None = None
    counts: CountRule | None = None
    # The shape rule's array form for sweeps (cnncost/sweep.py). Cost rules need none: they
    # are written to be safe on array dimensions (+ - * // and comparisons only), and
    # tests/ops/test_ops_vector.py checks each against itself point by point.
    vshape: VectorShapeRule | None = None
    _by_name: dict[str, Attr] = field(default_factory=dict, init=False, repr=False, compare=False)
    defaults: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({a.name: a for a in self.attrs})
        self.defaults.update(
            {
                a.name: a.default if a.default is None else a.kind.coerce(a.default, {})
                for a in self.attrs
                if not a.required
            }
        )

    def attr(self, name: str) -> Attr | None:
        return self._by_name.get(name)


OPS: dict[str, OpDef] = {}


def register(op: OpDef) -> OpDef:
    if op.name in OPS:
        raise RuntimeError(f"op {op.name!r} registered twice")
    OPS[op.name] = op
    return op


@cache
def public_ops() -> dict[str, OpDef]:
    """The ops a spec may use (the network input is not one of them). Called once all ops
    are registered, when the first spec is built."""
    return {n: o for n, o in OPS.items() if not o.internal}


def get_op(name: str) -> OpDef:
    op = OPS.get(name)
    if op is None or op.internal:
        raise CnnCostError(f"unknown op {name!r}{did_you_mean(name, public_ops())}")
    return op


def numel(shape: Shape) -> int:
    return math.prod(shape)


def show(shape: Shape) -> str:
    """A per-sample shape as C×H×W."""
    return "×".join(str(d) for d in shape) if shape else "scalar"


def need_rank(shape: Shape, rank: int) -> None:
    if len(shape) != rank:
        layout = {3: "C×H×W", 1: "features"}.get(rank, f"rank {rank}")
        raise ShapeError(f"needs a {layout} input, got {show(shape)}")


def saves_nothing(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
    return ()


def saves_input(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
    return (Saved("input"),)


def saves_output(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
    return (Saved("output"),)


def no_macs(a: Attrs, ins: list[Shape], out: Shape) -> Grad:
    return Grad()


def matmul_grad(macs: int) -> Grad:
    """A conv or matrix product: its input gradient and its weight gradient each take as
    many MACs as the forward product (gradient times weights, gradient times inputs)."""
    return Grad(input=macs, weight=macs)


def same_vshape(a: Attrs, ins: list[Any]) -> tuple[Any, bool]:
    """Vector shape rule of an op whose output has its (first) input's shape."""
    return ins[0], False


def array_safe(rule: ShapeRule) -> VectorShapeRule:
    """Vector shape rule from a scalar one that only checks rank and attributes (which do not
    vary between the points of a sweep) and computes dims with + - * // alone."""

    def vshape(a: Attrs, ins: list[Any]) -> tuple[Any, bool]:
        return rule(a, ins), False

    return vshape


def stores_output(attrs: Attrs, out: Shape) -> int:
    """Elements of new memory: none when the op writes over its input."""
    return 0 if attrs.get("inplace") else numel(out)


# How the reference PyTorch code computes an activation or a pooling: as a torch.nn module,
# a torch.nn.functional call or a tensor method (x.mean). cnncost's own counts ignore it; the
# conventions of hook-based counters (ptflops, thop) see each form differently.
CALL = Attr(
    "call",
    choice("module", "functional", "method"),
    "module",
    "how the PyTorch reference computes it (module, functional or tensor method); only "
    "the peer counting conventions read it",
)


def call_counts(a: Attrs) -> dict[str, int]:
    """The `call` attribute as 0/1 sizes a convention's formula can multiply by."""
    return {"module": int(a["call"] == "module"), "functional": int(a["call"] == "functional")}


def quantities(op: OpDef, attrs: Attrs, ins: list[Shape], out: Shape, cost: Cost) -> dict[str, int]:
    """Per-sample sizes a counting convention's formula may use: the cost's own fields,
    input and output elements, the number of inputs, and the op's `counts` extras."""
    sizes = {
        "macs": cost.macs,
        "elementwise": cost.elementwise,
        "weights": cost.weights,
        "biases": cost.biases,
        "params": cost.weights + cost.biases,
        "input": numel(ins[0]) if ins else 0,
        "output": numel(out),
        "operands": len(ins),
    }
    if op.counts is not None:
        sizes.update(op.counts(attrs, ins, out))
    return sizes
