"""Point-wise activation functions."""

from __future__ import annotations

from ..values import BOOL, FLOAT
from .registry import Attr, Attrs, Cost, OpDef, Shape, numel, register, stores_output

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


_ACTIVATIONS = {
    "relu": ("max(x, 0)", (_INPLACE,)),
    "relu6": ("min(max(x, 0), 6), MobileNetV2's activation", (_INPLACE,)),
    "leaky_relu": (
        "x, or slope·x below zero",
        (Attr("negative_slope", FLOAT, 0.01, "slope below zero"), _INPLACE),
    ),
    "elu": ("exponential linear unit", (Attr("alpha", FLOAT, 1.0, "saturation value"), _INPLACE)),
    "silu": ("x·sigmoid(x), also called swish (EfficientNet)", (_INPLACE,)),
    "hardswish": ("x·relu6(x+3)/6 (MobileNetV3)", (_INPLACE,)),
    "hardsigmoid": ("relu6(x+3)/6 (MobileNetV3's squeeze-excite gate)", (_INPLACE,)),
    "sigmoid": ("1/(1+exp(−x)); always stores its output", ()),
    "tanh": ("hyperbolic tangent; always stores its output", ()),
    "gelu": ("Gaussian error linear unit; always stores its output", ()),
}

for _name, (_doc, _attrs) in _ACTIVATIONS.items():
    register(
        OpDef(
            name=_name,
            doc=f"Activation: {_doc}.",
            category="activation",
            attrs=_attrs,
            shape=_same,
            cost=_pointwise_cost,
            cost_doc="no weights; 1 element-wise op per element",
        )
    )
