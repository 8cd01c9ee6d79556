"""Convolution."""

from __future__ import annotations

from ..errors import ShapeError
from ..values import BOOL, PADDING, PAIR, POSITIVE
from .registry import (
    Attr,
    Attrs,
    Cost,
    Grad,
    OpDef,
    Shape,
    matmul_grad,
    need_rank,
    numel,
    register,
    saves_input,
)
from .window import Window, dilated, same_padding_out, window_out, window_out_v


def conv_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    need_rank(x, 3)
    c, h, w = x
    groups, out = a["groups"], a["out"]
    if c % groups:
        raise ShapeError(f"input channels {c} are not divisible by groups={groups}")
    if out % groups:
        raise ShapeError(f"output channels {out} are not divisible by groups={groups}")
    (kh, kw), (sh, sw), (dh, dw) = a["kernel"], a["stride"], a["dilation"]
    padding = a["padding"]
    if padding == "same":
        return (out, same_padding_out(h, sh, "height"), same_padding_out(w, sw, "width"))
    ph, pw = (0, 0) if padding == "valid" else padding
    return (
        out,
        window_out(h, kh, sh, ph, dh, False, "height"),
        window_out(w, kw, sw, pw, dw, False, "width"),
    )


def conv_vshape(a: Attrs, ins: list) -> tuple:
    """conv_shape over a sweep's arrays of sizes."""
    c, h, w = ins[0]
    bad = (c % a["groups"] != 0) | (a["out"] % a["groups"] != 0)
    if a["padding"] == "same":
        return (a["out"], h, w), bad
    (kh, kw), (sh, sw), (dh, dw) = a["kernel"], a["stride"], a["dilation"]
    ph, pw = (0, 0) if a["padding"] == "valid" else a["padding"]
    oh, bad_h = window_out_v(h, kh, sh, ph, dh, False)
    ow, bad_w = window_out_v(w, kw, sw, pw, dw, False)
    return (a["out"], oh, ow), bad | bad_h | bad_w


def _conv_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    c_in = ins[0][0]
    kh, kw = a["kernel"]
    per_output = kh * kw * (c_in // a["groups"])
    n_out = numel(out)
    return Cost(
        weights=a["out"] * per_output,
        biases=a["out"] if a["bias"] else 0,
        macs=n_out * per_output,
        elementwise=n_out if a["bias"] else 0,
        activations=n_out,
    )


def _conv_backward(a: Attrs, ins: list[Shape], out: Shape) -> Grad:
    return matmul_grad(_conv_cost(a, ins, out).macs)


def _conv_counts(a: Attrs, ins: list[Shape], out: Shape) -> dict[str, int]:
    return {"bias_adds": numel(out) if a["bias"] else 0, "positions": out[1] * out[2]}


def _conv_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    padding = a["padding"]
    return nn.Conv2d(
        ins[0][0],
        a["out"],
        a["kernel"],
        stride=a["stride"],
        padding=padding if isinstance(padding, str) else tuple(padding),
        dilation=a["dilation"],
        groups=a["groups"],
        bias=a["bias"],
    )


register(
    OpDef(
        name="conv2d",
        doc="2-D convolution over a C×H×W input (PyTorch's Conv2d).",
        category="convolution",
        attrs=(
            Attr("out", POSITIVE, doc="output channels"),
            Attr("kernel", PAIR, doc="kernel size: k, or [kh, kw] for asymmetric kernels"),
            Attr("stride", PAIR, 1, "step between windows"),
            Attr("padding", PADDING, 0, "zeros added on each side; 'same' or 'valid' also"),
            Attr("dilation", PAIR, 1, "spacing between kernel taps"),
            Attr("groups", POSITIVE, 1, "channel groups; groups = input channels is depthwise"),
            Attr("bias", BOOL, True, "learn one bias per output channel"),
        ),
        shape=conv_shape,
        cost=_conv_cost,
        counts=_conv_counts,
        module=_conv_module,
        vshape=conv_vshape,
        window=lambda a, ins: Window(dilated(a["kernel"], a["dilation"]), a["stride"]),
        saves=saves_input,  # convolution_backward reads the input whatever needs a gradient
        backward=_conv_backward,
        autocast="half",
        cost_doc=(
            "weights out·kh·kw·(C_in/groups); MACs = output elements · kh·kw·(C_in/groups); "
            "the bias adds (one per output element) count as element-wise ops"
        ),
    )
)
