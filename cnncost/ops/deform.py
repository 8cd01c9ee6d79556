"""Deformable convolution (Dai et al., "Deformable Convolutional Networks", ICCV 2017), with
the modulated form of DCNv2 (Zhu et al., "Deformable ConvNets v2", CVPR 2019) as an option.

The op owns its offset-predicting conv, as mmcv's DeformConv2dPack does: a conv over the same
input with the main conv's kernel, stride, padding and dilation, and 2·offset_groups·kh·kw
output channels (a (dy, dx) pair per kernel tap and offset group; 3·offset_groups·kh·kw when
modulated, the last third being the modulation logits, which go through a sigmoid). The
input is then sampled bilinearly at every shifted tap and the main conv's weights are applied
to the sampled values.
"""

from __future__ import annotations

from ..errors import ShapeError
from ..values import BOOL, PADDING, PAIR, POSITIVE
from .conv import conv_shape, conv_vshape
from .registry import (
    Attr,
    Attrs,
    Cost,
    Grad,
    Need,
    OpDef,
    Saved,
    Shape,
    need_rank,
    numel,
    register,
)
from .window import Window, dilated

# Element-wise work of the bilinear sampling (docs/counting.md, "Deformable convolution").
# Per sampling point (one offset group, one kernel tap, one output position): the shifted
# position y = p0 + pn + dy and x likewise (2 adds), the fractional parts ly = y - floor(y)
# and lx (2), the complements hy = 1 - ly and hx (2), the four corner weights hy·hx, hy·lx,
# ly·hx, ly·lx (4). The C_in/offset_groups channels of a group share these.
POINT_OPS = 10
# Per sampled value (one input channel at one sampling point): the weighted sum of the four
# neighbours, w1·v1 + w2·v2 + w3·v3 + w4·v4 (4 multiplies and 3 adds).
SAMPLE_OPS = 7


def offset_channels(a: Attrs) -> int:
    """Output channels of the offset conv: (dy, dx) per tap and offset group, plus one
    modulation logit per tap and group when modulated."""
    kh, kw = a["kernel"]
    return (3 if a["modulated"] else 2) * a["offset_groups"] * kh * kw


def _deform_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    need_rank(x, 3)
    if x[0] % a["offset_groups"]:
        raise ShapeError(
            f"input channels {x[0]} are not divisible by offset_groups={a['offset_groups']}"
        )
    return conv_shape(a, ins)  # the sampling grid is the plain convolution's


def _deform_vshape(a: Attrs, ins: list) -> tuple:
    out, bad = conv_vshape(a, ins)
    return out, bad | (ins[0][0] % a["offset_groups"] != 0)


def _deform_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    c_in = ins[0][0]
    kh, kw = a["kernel"]
    taps = kh * kw
    positions = out[1] * out[2]
    n_out = numel(out)
    off_ch = offset_channels(a)
    main_per_output = taps * (c_in // a["groups"])
    offset_per_output = taps * c_in  # the offset conv is not grouped
    points = a["offset_groups"] * taps * positions  # sampling points
    samples = c_in * taps * positions  # sampled values
    sampling = POINT_OPS * points + SAMPLE_OPS * samples
    if a["modulated"]:
        sampling += points + samples  # a sigmoid per mask logit, a multiply per sampled value
    return Cost(
        weights=a["out"] * main_per_output + off_ch * offset_per_output,
        biases=(a["out"] if a["bias"] else 0) + off_ch,
        macs=n_out * main_per_output + off_ch * positions * offset_per_output,
        elementwise=(n_out if a["bias"] else 0) + off_ch * positions + sampling,
        activations=n_out + off_ch * positions,  # the output and the offset field
    )


def _deform_macs(a: Attrs, ins: list[Shape], out: Shape) -> tuple[int, int]:
    """Forward MACs of the main conv and of the offset conv."""
    c_in, taps = ins[0][0], a["kernel"][0] * a["kernel"][1]
    main = numel(out) * taps * (c_in // a["groups"])
    return main, offset_channels(a) * out[1] * out[2] * taps * c_in


def _deform_backward(a: Attrs, ins: list[Shape], out: Shape) -> Grad:
    """The offset conv back to the input; the main product back to the sampled columns
    (bilinear sampling's own gradient has no MACs); both weight gradients."""
    main, offset = _deform_macs(a, ins, out)
    return Grad(input=offset, weight=main + offset, inner=main)


def _deform_saves(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
    """The input (offset conv, grid_sample); the sampling grid (a (y, x) pair per point);
    when modulated the sigmoid mask and the unmodulated samples; and the sampled columns
    for the main weights' gradient. Under autocast grid_sample runs in fp32: it keeps fp32
    copies of the input and grid, and samples in fp32."""
    c_in, taps = ins[0][0], a["kernel"][0] * a["kernel"][1]
    points = a["offset_groups"] * taps * out[1] * out[2]
    samples = c_in * taps * out[1] * out[2]
    sampling = "fp32" if need.amp else "act"
    saved = [Saved("input"), Saved("new", elements=2 * points, dtype=sampling)]
    if need.amp:
        saved.append(Saved("new", elements=numel(ins[0]), dtype="fp32"))
    if a["modulated"]:
        saved.append(Saved("new", elements=points))
        saved.append(Saved("new", elements=samples, dtype=sampling))
    if need.weights:
        saved.append(Saved("new", elements=samples))
    return tuple(saved)


def _deform_counts(a: Attrs, ins: list[Shape], out: Shape) -> dict[str, int]:
    """The offset conv apart from the main conv, as a peer would see the two modules."""
    kh, kw = a["kernel"]
    offsets = offset_channels(a) * out[1] * out[2]
    return {
        "bias_adds": numel(out) if a["bias"] else 0,
        "offset_macs": offsets * kh * kw * ins[0][0],
        "offset_bias_adds": offsets,
        "positions": out[1] * out[2],
        "taps": kh * kw,
    }


def _deform_window(a: Attrs, ins: list[Shape]) -> Window:
    """The offsets are unbounded real numbers (DCNv2, Section 3.2: "unconstrained range"), so
    one output position can read any input position: the window is the whole input (at
    least the kernel's regular, dilated grid), moved by the conv's stride."""
    _, h, w = ins[0]
    kh, kw = dilated(a["kernel"], a["dilation"])
    return Window((max(h, kh), max(w, kw)), a["stride"])


def _deform_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import DeformConv2d

    padding = a["padding"]
    return DeformConv2d(
        ins[0][0],
        a["out"],
        a["kernel"],
        stride=a["stride"],
        padding=padding if isinstance(padding, str) else tuple(padding),
        dilation=a["dilation"],
        groups=a["groups"],
        bias=a["bias"],
        offset_groups=a["offset_groups"],
        modulated=a["modulated"],
    )


register(
    OpDef(
        name="deform_conv2d",
        doc=(
            "Deformable convolution (Dai et al. 2017; modulated: DCNv2), with its own "
            "offset-predicting conv."
        ),
        category="convolution",
        attrs=(
            Attr("out", POSITIVE, doc="output channels"),
            Attr("kernel", PAIR, doc="kernel size: k, or [kh, kw]"),
            Attr("stride", PAIR, 1, "step between windows"),
            Attr("padding", PADDING, 0, "zeros added on each side; 'same' or 'valid' also"),
            Attr("dilation", PAIR, 1, "spacing between kernel taps (before the offsets)"),
            Attr("groups", POSITIVE, 1, "channel groups of the main conv"),
            Attr("bias", BOOL, True, "learn one bias per output channel (main conv)"),
            Attr(
                "offset_groups",
                POSITIVE,
                1,
                "channel groups that each get their own offsets (deformable groups)",
            ),
            Attr(
                "modulated",
                BOOL,
                False,
                "DCNv2: also predict a sigmoid modulation scalar per tap",
            ),
        ),
        shape=_deform_shape,
        cost=_deform_cost,
        counts=_deform_counts,
        module=_deform_module,
        saves=_deform_saves,
        backward=_deform_backward,
        autocast="half",
        vshape=_deform_vshape,
        window=_deform_window,
        cost_doc=(
            "offset conv (C_in → (2, or 3 if modulated)·offset_groups·kh·kw channels, same "
            "kernel/stride/padding/dilation, with bias) plus the main conv: weights "
            "out·kh·kw·(C_in/groups) + offset channels·kh·kw·C_in; MACs = output elements · "
            "kh·kw·(C_in/groups) + offset-field elements · kh·kw·C_in; element-wise ops: "
            f"bias adds, {POINT_OPS} per sampling point (position and the four bilinear "
            f"weights) and {SAMPLE_OPS} per sampled value (4 multiplies + 3 adds), plus a "
            "sigmoid per point and a multiply per sampled value when modulated; stores the "
            "output and the offset field"
        ),
    )
)
