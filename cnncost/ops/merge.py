"""Ops that combine several inputs: residual add, gating multiply, channel concat."""

from __future__ import annotations

from typing import Any

from ..errors import ShapeError
from ..values import BOOL, INT
from .registry import Attr, Attrs, Cost, OpDef, Shape, numel, register, show, stores_output


def torch_axis(dim: int, rank: int) -> int:
    """Map a PyTorch dim (0 = batch) onto an axis of the per-sample shape."""
    full = dim if dim >= 0 else dim + rank + 1
    if not 1 <= full <= rank:
        raise ShapeError(
            f"dim {dim} is out of range for a {rank}-d sample (PyTorch dims, 0 is the batch)"
        )
    return full - 1


def _add_shape(a: Attrs, ins: list[Shape]) -> Shape:
    for i, other in enumerate(ins[1:], start=2):
        if other != ins[0]:
            raise ShapeError(
                f"inputs must have equal shapes, but input 1 is {show(ins[0])} and input {i} "
                f"is {show(other)}"
            )
    return ins[0]


def _broadcast_shape(a: Attrs, ins: list[Shape]) -> Shape:
    rank = max(len(s) for s in ins)
    padded = [(1,) * (rank - len(s)) + s for s in ins]
    out = []
    for axis, dims in enumerate(zip(*padded, strict=True)):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            raise ShapeError(
                "cannot broadcast "
                + " with ".join(show(s) for s in ins)
                + f": sizes {sorted(sizes)} clash on axis {axis}"
            )
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def _add_vshape(a: Attrs, ins: list) -> tuple:
    """_add_shape over a sweep's arrays: fails where any dimension differs."""
    bad = False
    for other in ins[1:]:
        for d, d0 in zip(other, ins[0], strict=True):
            bad = bad | (d != d0)
    return ins[0], bad


def _vmax(x: Any, y: Any) -> Any:
    if isinstance(x, int) and isinstance(y, int):
        return max(x, y)
    import numpy as np

    return np.maximum(x, y)


def _broadcast_vshape(a: Attrs, ins: list) -> tuple:
    """_broadcast_shape over a sweep's arrays: the larger size on each axis, failing where
    a size other than 1 differs from it."""
    rank = max(len(s) for s in ins)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in ins]
    out, bad = [], False
    for dims in zip(*padded, strict=True):
        size = dims[0]
        for d in dims[1:]:
            size = _vmax(size, d)
        for d in dims:
            bad = bad | ((d != 1) & (d != size))
        out.append(size)
    return tuple(out), bad


def _combine_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    return Cost(elementwise=(len(ins) - 1) * numel(out), activations=stores_output(a, out))


def _add_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import Add

    return Add(inplace=a["inplace"])


def _multiply_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import Multiply

    # Only a first input of the output's full shape can take the product in place.
    return Multiply(inplace=a["inplace"] and ins[0] == out)


def _concat_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import Concat

    return Concat(a["dim"])


_INPLACE = Attr(
    "inplace", BOOL, False, "write into the first input (torchvision's `out += identity`)"
)

register(
    OpDef(
        name="add",
        doc="Element-wise sum of inputs of equal shape (residual connections).",
        category="merge",
        attrs=(_INPLACE,),
        inputs=(2, None),
        shape=_add_shape,
        vshape=_add_vshape,
        cost=_combine_cost,
        module=_add_module,
        cost_doc="no weights; (inputs − 1) element-wise ops per output element",
    )
)
register(
    OpDef(
        name="multiply",
        doc="Element-wise product with broadcasting (squeeze-excite gating: C×H×W · C×1×1).",
        category="merge",
        attrs=(_INPLACE,),
        inputs=(2, None),
        shape=_broadcast_shape,
        vshape=_broadcast_vshape,
        cost=_combine_cost,
        module=_multiply_module,
        cost_doc="no weights; (inputs − 1) element-wise ops per output element",
    )
)


def _concat_shape(a: Attrs, ins: list[Shape]) -> Shape:
    rank = len(ins[0])
    for i, s in enumerate(ins[1:], start=2):
        if len(s) != rank:
            raise ShapeError(
                f"inputs differ in rank: input 1 is {show(ins[0])}, input {i} is {show(s)}"
            )
    axis = torch_axis(a["dim"], rank)
    for i, s in enumerate(ins[1:], start=2):
        if any(s[ax] != ins[0][ax] for ax in range(rank) if ax != axis):
            raise ShapeError(
                f"all sizes but dim {a['dim']} must be equal, but input 1 is {show(ins[0])} "
                f"and input {i} is {show(s)}"
            )
    total = sum(s[axis] for s in ins)
    return (*ins[0][:axis], total, *ins[0][axis + 1 :])


def _concat_vshape(a: Attrs, ins: list) -> tuple:
    """_concat_shape over a sweep's arrays (ranks are checked on the scalar build)."""
    rank = len(ins[0])
    axis = torch_axis(a["dim"], rank)
    bad = False
    for s in ins[1:]:
        for ax in range(rank):
            if ax != axis:
                bad = bad | (s[ax] != ins[0][ax])
    total = sum(s[axis] for s in ins)
    return (*ins[0][:axis], total, *ins[0][axis + 1 :]), bad


register(
    OpDef(
        name="concat",
        doc="Join inputs along a dimension, channels by default (Inception, DenseNet).",
        category="merge",
        attrs=(Attr("dim", INT, 1, "PyTorch dim to join along (1 = channels)"),),
        inputs=(2, None),
        shape=_concat_shape,
        vshape=_concat_vshape,
        cost=lambda a, ins, out: Cost(activations=numel(out)),
        cost_doc="no weights, no arithmetic; stores its output (a copy)",
        module=_concat_module,
    )
)
