"""Fully-connected layer."""

from __future__ import annotations

from ..errors import ShapeError
from ..values import BOOL, POSITIVE
from .registry import (
    Attr,
    Attrs,
    Cost,
    Need,
    OpDef,
    Saved,
    Shape,
    array_safe,
    matmul_grad,
    numel,
    register,
)
from .window import MIX


def _linear_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    if not x:
        raise ShapeError("needs an input with a feature dimension")
    return (*x[:-1], a["out"])


def _linear_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    features = ins[0][-1]
    n_out = numel(out)
    return Cost(
        weights=features * a["out"],
        biases=a["out"] if a["bias"] else 0,
        macs=n_out * features,
        elementwise=n_out if a["bias"] else 0,
        activations=n_out,
    )


def _linear_saves(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
    """addmm keeps its input only to compute the weight gradient."""
    return (Saved("input"),) if need.weights else ()


def _linear_counts(a: Attrs, ins: list[Shape], out: Shape) -> dict[str, int]:
    return {"bias_adds": numel(out) if a["bias"] else 0}


def _linear_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    return nn.Linear(ins[0][-1], a["out"], bias=a["bias"])


register(
    OpDef(
        name="linear",
        doc="Fully-connected layer on the last dimension (PyTorch's Linear); flatten first.",
        category="linear",
        attrs=(
            Attr("out", POSITIVE, doc="output features"),
            Attr("bias", BOOL, True, "learn one bias per output feature"),
        ),
        shape=_linear_shape,
        vshape=array_safe(_linear_shape),
        cost=_linear_cost,
        counts=_linear_counts,
        module=_linear_module,
        window=lambda a, ins: MIX,
        saves=_linear_saves,
        backward=lambda a, ins, out: matmul_grad(_linear_cost(a, ins, out).macs),
        autocast="half",
        cost_doc=("weights in·out; MACs = in·out per row; bias adds count as element-wise ops"),
    )
)
