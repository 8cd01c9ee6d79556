"""Ops that move or reinterpret data without arithmetic: flatten, dropout, splits, shuffles."""

from __future__ import annotations

from ..errors import ShapeError
from ..values import FLOAT, INT, NONNEGATIVE, POSITIVE
from .merge import torch_axis
from .registry import (
    Attr,
    Attrs,
    Cost,
    OpDef,
    Shape,
    array_safe,
    numel,
    register,
    same_vshape,
    show,
)
from .window import FOLD

_FREE = Cost()


def _flatten_window(a: Attrs, ins: list[Shape]) -> str | None:
    """Flattening a C×H×W map from the channels on folds the positions into features."""
    x = ins[0]
    return FOLD if len(x) == 3 and torch_axis(a["start_dim"], 3) == 0 else None


def _flatten_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    return nn.Flatten(a["start_dim"], a["end_dim"])


def _dropout_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    return nn.Dropout(a["p"])


def _identity_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    return nn.Identity()


def _split_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import ChannelSplit

    return ChannelSplit(a["parts"], a["index"])


def _shuffle_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import ChannelShuffle

    return ChannelShuffle(a["groups"])


def _flatten_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    if not x:
        return x
    start = torch_axis(a["start_dim"], len(x))
    end = torch_axis(a["end_dim"], len(x))
    if end < start:
        raise ShapeError(f"end_dim {a['end_dim']} comes before start_dim {a['start_dim']}")
    middle = 1
    for d in x[start : end + 1]:
        middle *= d
    return (*x[:start], middle, *x[end + 1 :])


register(
    OpDef(
        name="flatten",
        doc="Merge dimensions into one (PyTorch's Flatten); a view, so nothing is stored.",
        category="tensor",
        attrs=(
            Attr("start_dim", INT, 1, "first PyTorch dim to merge (1 = channels)"),
            Attr("end_dim", INT, -1, "last PyTorch dim to merge"),
        ),
        shape=_flatten_shape,
        vshape=array_safe(_flatten_shape),
        cost=lambda a, ins, out: _FREE,
        cost_doc="free: a view",
        module=_flatten_module,
        window=_flatten_window,
    )
)
register(
    OpDef(
        name="dropout",
        doc="Dropout; the identity at inference, so it costs and stores nothing there.",
        category="tensor",
        attrs=(Attr("p", FLOAT, 0.5, "probability of zeroing an element in training"),),
        shape=lambda a, ins: ins[0],
        vshape=same_vshape,
        cost=lambda a, ins, out: _FREE,
        cost_doc="free at inference",
        module=_dropout_module,
    )
)
register(
    OpDef(
        name="identity",
        doc="Passes its input through unchanged.",
        category="tensor",
        shape=lambda a, ins: ins[0],
        vshape=same_vshape,
        cost=lambda a, ins, out: _FREE,
        cost_doc="free",
        module=_identity_module,
    )
)


def _split_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    if not x:
        raise ShapeError("needs an input with channels")
    parts, index = a["parts"], a["index"]
    if x[0] % parts:
        raise ShapeError(f"{x[0]} channels cannot be split into {parts} equal parts")
    if index >= parts:
        raise ShapeError(f"index {index} is out of range for {parts} parts (counted from 0)")
    return (x[0] // parts, *x[1:])


def _split_vshape(a: Attrs, ins: list) -> tuple:
    x = ins[0]
    return (x[0] // a["parts"], *x[1:]), x[0] % a["parts"] != 0


register(
    OpDef(
        name="channel_split",
        doc="One of `parts` equal channel slices (ShuffleNetV2); a view, so nothing is stored.",
        category="tensor",
        attrs=(
            Attr("parts", POSITIVE, 2, "number of equal slices"),
            Attr("index", NONNEGATIVE, 0, "which slice this layer is, from 0"),
        ),
        shape=_split_shape,
        vshape=_split_vshape,
        cost=lambda a, ins, out: _FREE,
        cost_doc="free: a view",
        module=_split_module,
    )
)


def _shuffle_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    if not x or x[0] % a["groups"]:
        raise ShapeError(f"channels of {show(x)} are not divisible by groups={a['groups']}")
    return x


register(
    OpDef(
        name="channel_shuffle",
        doc="Interleave channels across groups: reshape, transpose, flatten (ShuffleNet).",
        category="tensor",
        attrs=(Attr("groups", POSITIVE, doc="number of channel groups"),),
        shape=_shuffle_shape,
        vshape=lambda a, ins: (ins[0], ins[0][0] % a["groups"] != 0),
        cost=lambda a, ins, out: Cost(activations=numel(out)),
        cost_doc="no arithmetic; stores its output (the transpose is copied)",
        module=_shuffle_module,
    )
)

INPUT = register(
    OpDef(
        name="input",
        doc="The network input.",
        category="tensor",
        inputs=(0, 0),
        shape=lambda a, ins: a["shape"],
        vshape=lambda a, ins: (a["shape"], False),
        cost=lambda a, ins, out: Cost(activations=numel(out)),
        cost_doc="stores the input image",
        internal=True,
    )
)
