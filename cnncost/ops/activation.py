"""Point-wise activation functions."""

from __future__ import annotations

from ..values import BOOL, FLOAT
from .registry import (
    CALL,
    Attr,
    Attrs,
    Cost,
    Need,
    OpDef,
    Saved,
    Shape,
    call_counts,
    no_macs,
    numel,
    register,
    same_vshape,
    stores_output,
)

_INPLACE = Attr(
    "inplace",
    BOOL,
    True,
    "overwrite the input, storing no new tensor (as torchvision builds it)",
)


def _same(a: Attrs, ins: list[Shape]) -> Shape:
    return ins[0]


def _pointwise_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    return Cost(elementwise=numel(out), activations=stores_output(a, out))


def _torch_module(class_name: str):
    """A builder for the torch.nn class of that name, given the op's attributes as keywords."""

    def build(a: Attrs, ins: list[Shape], out: Shape):
        from torch import nn

        return getattr(nn, class_name)(**{k: v for k, v in a.items() if k != "call"})

    return build


def _keeps(rule: str):
    """What torch saves for backward. "output": the result (in place, that is the input's
    storage). "input": the input; in place (torch keeps the input as it was), a copy of it.
    "input|output": the input, or in place the result it overwrote the input with."""

    def saves(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
        if rule == "output":
            return (Saved("output"),)
        if not a.get("inplace"):
            return (Saved("input"),)
        if rule == "input|output":
            return (Saved("output"),)
        return (Saved("new", elements=numel(ins[0])),)

    return saves


# op name: (what it computes, its attributes, the torch.nn class, what backward keeps)
_ACTIVATIONS = {
    "relu": ("max(x, 0)", (_INPLACE,), "ReLU", "output"),
    "relu6": ("min(max(x, 0), 6), MobileNetV2's activation", (_INPLACE,), "ReLU6", "input"),
    "leaky_relu": (
        "x, or slope·x below zero",
        (Attr("negative_slope", FLOAT, 0.01, "slope below zero"), _INPLACE),
        "LeakyReLU",
        "input|output",
    ),
    "elu": (
        "exponential linear unit",
        (Attr("alpha", FLOAT, 1.0, "saturation value"), _INPLACE),
        "ELU",
        "input|output",
    ),
    "silu": ("x·sigmoid(x), also called swish (EfficientNet)", (_INPLACE,), "SiLU", "input"),
    "hardswish": ("x·relu6(x+3)/6 (MobileNetV3)", (_INPLACE,), "Hardswish", "input"),
    "hardsigmoid": (
        "relu6(x+3)/6 (MobileNetV3's squeeze-excite gate)",
        (_INPLACE,),
        "Hardsigmoid",
        "input",
    ),
    "sigmoid": ("1/(1+exp(−x)); always stores its output", (), "Sigmoid", "output"),
    "tanh": ("hyperbolic tangent; always stores its output", (), "Tanh", "output"),
    "gelu": ("Gaussian error linear unit; always stores its output", (), "GELU", "input"),
}

for _name, (_doc, _attrs, _class, _saved) in _ACTIVATIONS.items():
    register(
        OpDef(
            name=_name,
            doc=f"Activation: {_doc}.",
            category="activation",
            attrs=(*_attrs, CALL),
            shape=_same,
            vshape=same_vshape,
            cost=_pointwise_cost,
            counts=lambda a, ins, out: call_counts(a),
            cost_doc="no weights; 1 element-wise op per element",
            module=_torch_module(_class),
            saves=_keeps(_saved),
            backward=no_macs,
        )
    )
