"""Upsampling by interpolation (PyTorch's Upsample and F.interpolate): FCN's and FPN's
decoders, U-Net's when it does not learn its upsampling."""

from __future__ import annotations

from fractions import Fraction
from functools import cache

from ..errors import ShapeError
from ..values import BOOL, PAIR, choice
from .registry import (
    CALL,
    Attr,
    Attrs,
    Cost,
    OpDef,
    Shape,
    call_counts,
    need_rank,
    no_macs,
    numel,
    register,
    saves_nothing,
)
from .window import Window

# Scalar operations per output element and channel. Bilinear: PyTorch's kernel computes
# h0λ·(w0λ·x00 + w1λ·x01) + h1λ·(w0λ·x10 + w1λ·x11), 6 multiplies and 3 adds; nearest
# copies one input value.
_OPS = {"nearest": 0, "bilinear": 9}
# Input positions one output position reads along each axis.
_SPAN = {"nearest": 1, "bilinear": 2}


def _check(a: Attrs) -> None:
    if (a["scale"] is None) == (a["size"] is None):
        raise ShapeError("give either 'scale' (an integer factor) or 'size' (the output size)")
    if a["align_corners"] and a["mode"] != "bilinear":
        raise ShapeError("align_corners applies to mode bilinear only (as in PyTorch)")


def _upsample_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    need_rank(x, 3)
    _check(a)
    c, h, w = x
    if a["size"] is not None:
        return (c, *a["size"])
    sh, sw = a["scale"]
    return (c, h * sh, w * sw)


def _upsample_vshape(a: Attrs, ins: list) -> tuple:
    c, h, w = ins[0]
    _check(a)  # attributes: the same at every point of a sweep
    if a["size"] is not None:
        return (c, *a["size"]), False
    sh, sw = a["scale"]
    return (c, h * sh, w * sw), False


def _upsample_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    n_out = numel(out)
    return Cost(elementwise=_OPS[a["mode"]] * n_out, activations=n_out)


def _upsample_window(a: Attrs, ins: list[Shape]) -> Window:
    """Each output position reads 1 (nearest) or 2 (bilinear) neighbouring input positions
    per axis; neighbouring outputs are in/out input positions apart (1/scale)."""
    (_, h, w), out = ins[0], _upsample_shape(a, ins)
    span = _SPAN[a["mode"]]
    return Window((span, span), (Fraction(h, out[1]), Fraction(w, out[2])))


def _upsample_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    bilinear = a["mode"] == "bilinear"
    if a["call"] == "functional":  # torchvision's segmentation heads call F.interpolate
        return _interpolate_class()(out[1:], a["mode"], a["align_corners"] if bilinear else None)
    return nn.Upsample(
        size=a["size"],
        scale_factor=a["scale"],
        mode=a["mode"],
        align_corners=a["align_corners"] if bilinear else None,
    )


@cache
def _interpolate_class():
    from torch import nn
    from torch.nn import functional

    class Interpolate(nn.Module):
        """F.interpolate to a fixed size, as a module of its own type: hook-based counters
        see the functional call, not an nn.Upsample."""

        def __init__(self, size, mode, align_corners) -> None:
            super().__init__()
            self.size, self.mode, self.align_corners = tuple(size), mode, align_corners

        def forward(self, x):
            return functional.interpolate(
                x, size=self.size, mode=self.mode, align_corners=self.align_corners
            )

    return Interpolate


register(
    OpDef(
        name="upsample",
        doc="Upsampling by nearest or bilinear interpolation (PyTorch's Upsample and "
        "F.interpolate): FCN, FPN and U-Net decoders.",
        category="resampling",
        attrs=(
            Attr("scale", PAIR, None, "integer factor: s, or [sh, sw]"),
            Attr("size", PAIR, None, "output size: n, or [height, width] (instead of scale)"),
            Attr("mode", choice("nearest", "bilinear"), "nearest", "interpolation"),
            Attr("align_corners", BOOL, False, "bilinear only: PyTorch's align_corners"),
            CALL,
        ),
        shape=_upsample_shape,
        vshape=_upsample_vshape,
        cost=_upsample_cost,
        counts=lambda a, ins, out: {"bilinear": int(a["mode"] == "bilinear"), **call_counts(a)},
        cost_doc="no weights; element-wise ops = 9 per output element for bilinear (6 "
        "multiplies, 3 adds, as PyTorch computes it), none for nearest (a copy)",
        module=_upsample_module,
        window=_upsample_window,
        saves=saves_nothing,  # its backward needs only the sizes
        backward=no_macs,
    )
)
