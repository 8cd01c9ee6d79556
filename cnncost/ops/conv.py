"""Convolution."""

from __future__ import annotations

import math
from fractions import Fraction

from ..errors import ShapeError
from ..values import BOOL, PADDING, PAIR, PAIR0, POSITIVE
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


# -- transposed convolution -------------------------------------------------------------------


def _transposed_out(size: int, k: int, s: int, p: int, op: int, d: int, axis: str) -> int:
    """PyTorch's ConvTranspose2d output length: (size−1)·s − 2p + d·(k−1) + op + 1."""
    out = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
    if out < 1:
        raise ShapeError(
            f"{axis} collapses to zero: input {axis} {size} with kernel {k}, stride {s}, "
            f"padding {p}, dilation {d} gives {out}"
        )
    return out


def _transposed_checks(a: Attrs, c: int) -> None:
    groups, out = a["groups"], a["out"]
    if c % groups:
        raise ShapeError(f"input channels {c} are not divisible by groups={groups}")
    if out % groups:
        raise ShapeError(f"output channels {out} are not divisible by groups={groups}")
    for axis, op, s, d in zip(
        ("height", "width"), a["output_padding"], a["stride"], a["dilation"], strict=True
    ):
        if op >= max(s, d):
            raise ShapeError(
                f"output_padding {op} along the {axis} must be smaller than the stride {s} "
                f"or the dilation {d} (as in PyTorch)"
            )


def transposed_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    need_rank(x, 3)
    c, h, w = x
    _transposed_checks(a, c)
    (kh, kw), (sh, sw), (ph, pw) = a["kernel"], a["stride"], a["padding"]
    (oh, ow), (dh, dw) = a["output_padding"], a["dilation"]
    return (
        a["out"],
        _transposed_out(h, kh, sh, ph, oh, dh, "height"),
        _transposed_out(w, kw, sw, pw, ow, dw, "width"),
    )


def transposed_vshape(a: Attrs, ins: list) -> tuple:
    """transposed_shape over a sweep's arrays of sizes (attributes are the same at every
    point, so only the sizes can fail)."""
    c, h, w = ins[0]
    (kh, kw), (sh, sw), (ph, pw) = a["kernel"], a["stride"], a["padding"]
    (oh, ow), (dh, dw) = a["output_padding"], a["dilation"]
    out_h = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1
    out_w = (w - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1
    bad = (c % a["groups"] != 0) | (out_h < 1) | (out_w < 1)
    bad = bad | any(
        o >= max(s, d)
        for o, s, d in zip(a["output_padding"], a["stride"], a["dilation"], strict=True)
    )
    return (a["out"], out_h, out_w), bad


def _transposed_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    c_in = ins[0][0]
    kh, kw = a["kernel"]
    per_input = kh * kw * (a["out"] // a["groups"])  # each input value meets these weights
    n_out = numel(out)
    return Cost(
        weights=c_in * per_input,
        biases=a["out"] if a["bias"] else 0,
        macs=numel(ins[0]) * per_input,
        elementwise=n_out if a["bias"] else 0,
        activations=n_out,
    )


def _transposed_counts(a: Attrs, ins: list[Shape], out: Shape) -> dict[str, int]:
    kh, kw = a["kernel"]
    return {
        "bias_adds": numel(out) if a["bias"] else 0,
        "positions": out[1] * out[2],
        "taps": kh * kw,
        "group_inputs": ins[0][0] // a["groups"],
    }


def _transposed_window(a: Attrs, ins: list[Shape]) -> Window:
    """An output position receives from the input positions i with i·s + t·d = p + pad for
    a tap t: along each axis ⌈k / (s/g)⌉ taps at most (g = gcd(s, d)), d/g apart in the
    input. Neighbouring outputs are 1/s input positions apart."""
    spans = []
    for k, s, d in zip(a["kernel"], a["stride"], a["dilation"], strict=True):
        g = math.gcd(s, d)
        taps = -(-k // (s // g))
        spans.append((taps - 1) * (d // g) + 1)
    sh, sw = a["stride"]
    return Window((spans[0], spans[1]), (Fraction(1, sh), Fraction(1, sw)))


def _transposed_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    return nn.ConvTranspose2d(
        ins[0][0],
        a["out"],
        a["kernel"],
        stride=a["stride"],
        padding=a["padding"],
        output_padding=a["output_padding"],
        groups=a["groups"],
        bias=a["bias"],
        dilation=a["dilation"],
    )


register(
    OpDef(
        name="conv_transpose2d",
        doc="Transposed 2-D convolution (PyTorch's ConvTranspose2d): learned upsampling, "
        "as in U-Net's and FCN's decoders.",
        category="convolution",
        attrs=(
            Attr("out", POSITIVE, doc="output channels"),
            Attr("kernel", PAIR, doc="kernel size: k, or [kh, kw]"),
            Attr("stride", PAIR, 1, "upsampling factor: the output step per input position"),
            Attr("padding", PAIR0, 0, "rows and columns cropped from each side of the output"),
            Attr("output_padding", PAIR0, 0, "extra rows and columns on one side of the output"),
            Attr("dilation", PAIR, 1, "spacing between kernel taps"),
            Attr("groups", POSITIVE, 1, "channel groups"),
            Attr("bias", BOOL, True, "learn one bias per output channel"),
        ),
        shape=transposed_shape,
        cost=_transposed_cost,
        counts=_transposed_counts,
        module=_transposed_module,
        vshape=transposed_vshape,
        window=_transposed_window,
        saves=saves_input,  # its backward (a convolution) reads the input for the weights
        backward=lambda a, ins, out: matmul_grad(_transposed_cost(a, ins, out).macs),
        autocast="half",
        cost_doc=(
            "weights C_in·(out/groups)·kh·kw; MACs = input elements · (out/groups)·kh·kw "
            "(every input value meets every tap of its group's kernels, as PyTorch computes "
            "it before cropping the padding); the bias adds count as element-wise ops"
        ),
    )
)
