"""Pooling: windowed max/average, global and adaptive average pooling."""

from __future__ import annotations

import math
from typing import Any

from ..errors import ShapeError
from ..values import BOOL, PAIR, PAIR0
from .registry import (
    CALL,
    Attr,
    Attrs,
    Cost,
    Need,
    OpDef,
    Saved,
    Shape,
    array_safe,
    call_counts,
    need_rank,
    no_macs,
    numel,
    register,
    saves_input,
    saves_nothing,
)
from .window import GLOBAL, Window, dilated, window_out, window_out_v

_COST_DOC = "no weights; element-wise ops = window size per output element"


def _window_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    need_rank(x, 3)
    c, h, w = x
    (kh, kw) = a["kernel"]
    (sh, sw) = a["stride"] or a["kernel"]
    (ph, pw) = a["padding"]
    (dh, dw) = a.get("dilation", (1, 1))
    if 2 * ph > kh or 2 * pw > kw:
        raise ShapeError(
            f"padding {ph}×{pw} is more than half the kernel {kh}×{kw} (PyTorch refuses this)"
        )
    ceil = a["ceil_mode"]
    return (
        c,
        window_out(h, kh, sh, ph, dh, ceil, "height"),
        window_out(w, kw, sw, pw, dw, ceil, "width"),
    )


def _window_vshape(a: Attrs, ins: list) -> tuple:
    """_window_shape over a sweep's arrays of sizes (the padding check is on attributes)."""
    c, h, w = ins[0]
    (kh, kw) = a["kernel"]
    (sh, sw) = a["stride"] or a["kernel"]
    (ph, pw) = a["padding"]
    (dh, dw) = a.get("dilation", (1, 1))
    oh, bad_h = window_out_v(h, kh, sh, ph, dh, a["ceil_mode"])
    ow, bad_w = window_out_v(w, kw, sw, pw, dw, a["ceil_mode"])
    return (c, oh, ow), bad_h | bad_w


def _window_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    kh, kw = a["kernel"]
    return Cost(elementwise=numel(out) * kh * kw, activations=numel(out))


def _max_saves(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
    """The input and the int64 index of each output's maximum."""
    return (Saved("input"), Saved("new", elements=numel(out), dtype="int64"))


def _window_counts(a: Attrs, ins: list[Shape], out: Shape) -> dict[str, int]:
    kh, kw = a["kernel"]
    return {"window": kh * kw, **call_counts(a)}


def _maxpool_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    return nn.MaxPool2d(
        a["kernel"],
        a["stride"] or a["kernel"],
        a["padding"],
        dilation=a["dilation"],
        ceil_mode=a["ceil_mode"],
    )


def _avgpool_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    return nn.AvgPool2d(
        a["kernel"],
        a["stride"] or a["kernel"],
        a["padding"],
        ceil_mode=a["ceil_mode"],
        count_include_pad=a["count_include_pad"],
    )


_WINDOW_ATTRS = (
    Attr("kernel", PAIR, doc="window size: k or [kh, kw]"),
    Attr("stride", PAIR, None, "step between windows; defaults to the kernel size"),
    Attr("padding", PAIR0, 0, "implicit padding on each side"),
    Attr("ceil_mode", BOOL, False, "round the output size up (torchvision's GoogLeNet does)"),
    CALL,
)

register(
    OpDef(
        name="maxpool",
        doc="Max pooling over windows (PyTorch's MaxPool2d).",
        category="pooling",
        attrs=(*_WINDOW_ATTRS, Attr("dilation", PAIR, 1, "spacing between window taps")),
        shape=_window_shape,
        vshape=_window_vshape,
        cost=_window_cost,
        counts=_window_counts,
        cost_doc=_COST_DOC,
        module=_maxpool_module,
        saves=_max_saves,
        backward=no_macs,
        window=lambda a, ins: Window(
            dilated(a["kernel"], a["dilation"]), a["stride"] or a["kernel"]
        ),
    )
)
register(
    OpDef(
        name="avgpool",
        doc="Average pooling over windows (PyTorch's AvgPool2d).",
        category="pooling",
        attrs=(
            *_WINDOW_ATTRS,
            Attr("count_include_pad", BOOL, True, "count padded zeros in the average"),
        ),
        shape=_window_shape,
        vshape=_window_vshape,
        cost=_window_cost,
        counts=_window_counts,
        cost_doc=_COST_DOC,
        module=_avgpool_module,
        saves=saves_input,  # avg_pool2d_backward takes the input (for its shape)
        backward=no_macs,
        window=lambda a, ins: Window(a["kernel"], a["stride"] or a["kernel"]),
    )
)


def _global_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    need_rank(x, 3)
    return (x[0], 1, 1)


def _global_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    return Cost(elementwise=numel(ins[0]), activations=numel(out))


def _global_avgpool_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    return nn.AdaptiveAvgPool2d(1)


def _global_maxpool_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    return nn.AdaptiveMaxPool2d(1)


# The global average is torch's mean, which keeps nothing; the global maximum keeps its
# input and indices.
for _name, _what, _module, _saves in (
    ("global_avgpool", "average", _global_avgpool_module, saves_nothing),
    ("global_maxpool", "maximum", _global_maxpool_module, _max_saves),
):
    register(
        OpDef(
            name=_name,
            doc=f"The {_what} over all positions of each channel: C×H×W → C×1×1.",
            category="pooling",
            attrs=(CALL,),
            shape=_global_shape,
            vshape=array_safe(_global_shape),
            cost=_global_cost,
            counts=lambda a, ins, out: call_counts(a),
            cost_doc="no weights; element-wise ops = H·W per channel",
            module=_module,
            saves=_saves,
            backward=no_macs,
            window=lambda a, ins: GLOBAL,
        )
    )


def _adaptive_bins(size: int, bins: int) -> int:
    """Total window length over all bins of PyTorch's adaptive pooling along one axis.

    Bin i spans floor(i·S/B) to ceil((i+1)·S/B). The floors telescope to S, and each ceil
    adds one where B does not divide (i+1)·S, which is B − gcd(S, B) of the bins; closed
    form, so a huge `output` costs no time."""
    return size + bins - _gcd(size, bins)


def _gcd(a: Any, b: Any) -> Any:
    """math.gcd, element-wise when a sweep passes numpy arrays of sizes. The sweep's float64
    run only bounds magnitudes (to detect int64 overflow), so there a gcd of 1, which gives
    the largest possible window total, is the safe answer."""
    if isinstance(a, int) and isinstance(b, int):
        return math.gcd(a, b)
    import numpy as np

    if np.result_type(a, b).kind == "f":
        return np.ones_like(np.asarray(a) + np.asarray(b))
    return np.gcd(a, b)


def _adaptive_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    need_rank(x, 3)
    oh, ow = a["output"]
    return (x[0], oh, ow)


def _adaptive_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    c, h, w = ins[0]
    oh, ow = a["output"]
    window_total = _adaptive_bins(h, oh) * _adaptive_bins(w, ow)
    return Cost(elementwise=c * window_total, activations=numel(out))


def _widest_bin(size: int, bins: int) -> int:
    """The widest bin, in closed form. With s = S mod B and g = gcd(S, B), the residues
    i·S mod B run over every multiple of g, so a bin gains one over S // B from its floor
    and one from its ceil together exactly when s > g."""
    s, g = size % bins, math.gcd(size, bins)
    if s == 0:
        return size // bins
    return size // bins + (2 if s > g else 1)


def _adaptive_window(a: Attrs, ins: list[Shape]) -> Window:
    """The widest of PyTorch's adaptive windows, and the (floored) step between them."""
    (_, h, w), (oh, ow) = ins[0], a["output"]
    return Window((_widest_bin(h, oh), _widest_bin(w, ow)), (max(1, h // oh), max(1, w // ow)))


def _adaptive_saves(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
    """torch turns a 1×1 output into a mean, which keeps nothing; otherwise the input."""
    return () if tuple(a["output"]) == (1, 1) else (Saved("input"),)


def _adaptive_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    return nn.AdaptiveAvgPool2d(tuple(a["output"]))


register(
    OpDef(
        name="adaptive_avgpool",
        doc="Average pooling to a fixed output size (PyTorch's AdaptiveAvgPool2d).",
        category="pooling",
        attrs=(Attr("output", PAIR, doc="output size: n or [h, w]"), CALL),
        shape=_adaptive_shape,
        vshape=array_safe(_adaptive_shape),
        cost=_adaptive_cost,
        counts=lambda a, ins, out: call_counts(a),
        module=_adaptive_module,
        saves=_adaptive_saves,
        backward=no_macs,
        window=_adaptive_window,
        cost_doc="no weights; element-wise ops = the summed sizes of PyTorch's adaptive windows",
    )
)
