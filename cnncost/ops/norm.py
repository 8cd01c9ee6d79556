"""Normalisation: batch norm and local response normalisation."""

from __future__ import annotations

from ..errors import ShapeError
from ..values import BOOL, FLOAT, POSITIVE
from .registry import (
    Attr,
    Attrs,
    Cost,
    Need,
    OpDef,
    Saved,
    Shape,
    array_safe,
    need_rank,
    no_macs,
    numel,
    register,
)


def _channels_first(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    if not x:
        raise ShapeError("needs an input with a channel dimension")
    return x


def _batchnorm_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    c = out[0]
    affine = c if a["affine"] else 0
    return Cost(
        weights=affine,
        biases=affine,
        buffers=2 * c + 1 if a["track_running_stats"] else 0,
        elementwise=2 * numel(out),
        activations=numel(out),
    )


def _batchnorm_saves(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
    """The input, and the batch mean and inverse standard deviation per channel (fp32)."""
    return (Saved("input"), Saved("new", elements=2 * out[0], dtype="fp32", batched=False))


def _lrn_saves(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
    """torch's LocalResponseNorm is composite: the input (x·x and x / div), the squares
    zero-padded by size − 1 channels (avg_pool3d), the scaled sum (pow) and its power (div).
    Under autocast pow runs in fp32 (so the output is fp32), and avg_pool3d in fp32 on the
    CPU but in half on CUDA."""
    c, h, w = ins[0]
    padded = (c + a["size"] - 1) * h * w
    squares = ("fp32" if need.device == "cpu" else "half") if need.amp else "act"
    return (
        Saved("input"),
        Saved("new", elements=padded, dtype=squares),
        Saved("new", elements=numel(out)),
        Saved("new", elements=numel(out)),
    )


def _affine_counts(a: Attrs, ins: list[Shape], out: Shape) -> dict[str, int]:
    return {"affine": int(a["affine"])}


def _batchnorm_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    kind = nn.BatchNorm2d if len(ins[0]) == 3 else nn.BatchNorm1d
    return kind(
        ins[0][0],
        eps=a["eps"],
        momentum=a["momentum"],
        affine=a["affine"],
        track_running_stats=a["track_running_stats"],
    )


register(
    OpDef(
        name="batchnorm",
        doc="Batch normalisation over the channel dimension (BatchNorm1d/2d).",
        category="normalisation",
        attrs=(
            Attr("eps", FLOAT, 1e-5, "added to the variance for stability"),
            Attr("momentum", FLOAT, 0.1, "running-statistics update rate"),
            Attr("affine", BOOL, True, "learn a scale (weight) and shift (bias) per channel"),
            Attr("track_running_stats", BOOL, True, "keep running mean and variance buffers"),
        ),
        shape=_channels_first,
        vshape=array_safe(_channels_first),
        cost=_batchnorm_cost,
        counts=_affine_counts,
        module=_batchnorm_module,
        saves=_batchnorm_saves,
        backward=no_macs,
        cost_doc=(
            "trainable C scales + C shifts; buffers C running means + C running variances + "
            "1 batch counter (as PyTorch's state_dict); element-wise ops 2 per element "
            "(inference: one multiply and one add with folded statistics)"
        ),
    )
)


def _lrn_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    need_rank(x, 3)
    return x


def _lrn_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    return nn.LocalResponseNorm(a["size"], alpha=a["alpha"], beta=a["beta"], k=a["k"])


register(
    OpDef(
        name="lrn",
        doc="Local response normalisation across neighbouring channels (AlexNet, GoogLeNet).",
        category="normalisation",
        attrs=(
            Attr("size", POSITIVE, doc="number of neighbouring channels in the sum"),
            Attr("alpha", FLOAT, 1e-4, "scale of the sum of squares"),
            Attr("beta", FLOAT, 0.75, "exponent"),
            Attr("k", FLOAT, 1.0, "additive constant"),
        ),
        shape=_lrn_shape,
        vshape=array_safe(_lrn_shape),
        cost=lambda a, ins, out: Cost(
            elementwise=(a["size"] + 3) * numel(out), activations=numel(out)
        ),
        cost_doc=(
            "no weights; element-wise ops (size + 3) per element: size multiply-adds for "
            "the sum of squares, then scale, power and divide"
        ),
        module=_lrn_module,
        saves=_lrn_saves,
        backward=no_macs,
        autocast="promote",  # pow runs in fp32; the input is kept as it is
    )
)
