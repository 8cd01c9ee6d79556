"""Receptive field, effective stride (jump) and weighted-layer depth of every layer.

The receptive field is the size of the input region one output position can see; the
jump is the input distance between neighbouring output positions. A layer with a window
of span k and stride s maps (r, j) to (r + (k − 1)·j, j·s). Where branches meet, the
largest field over all paths is kept (Araujo et al., "Computing Receptive Fields of
Convolutional Neural Networks", Distill 2019). Depth counts the weighted layers (those
with weights and multiply-accumulates: convolutions, linear layers) on the longest path
from the input, as VGG-16, GoogLeNet's 22 and ResNet-152 are named.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, NamedTuple

from .graph import Node
from .ops.window import FOLD, GLOBAL, MIX, Window

Pair = tuple[int, int]


class Field(NamedTuple):
    """A layer's field; a named tuple, quick to make for 10⁵-layer nets."""

    receptive_field: Pair
    jump: Pair
    depth: int
    grid: Pair  # output positions along height and width, for global windows
    folded: bool = False  # positions moved into the feature axis by a flatten


def input_field(shape: tuple[int, ...]) -> Field:
    grid = (shape[1], shape[2]) if len(shape) == 3 else (1, 1)
    return Field((1, 1), (1, 1), 0, grid)


def _widen(f: Field, span: Pair, stride: Pair) -> tuple[Pair, Pair]:
    rf = (
        f.receptive_field[0] + (span[0] - 1) * f.jump[0],
        f.receptive_field[1] + (span[1] - 1) * f.jump[1],
    )
    return rf, (f.jump[0] * stride[0], f.jump[1] * stride[1])


def window_of(node: Node) -> Any:
    """The node's window rule (a Window, GLOBAL, FOLD, MIX or None); it depends only on the
    attributes and input shapes, so the analysis works it out once per kind of layer."""
    return node.op.window(node.attrs, list(node.input_shapes)) if node.op.window else None


def layer_field(inputs: list[Field], weighted: bool, rule: Any) -> Field:
    """The field of a layer with window `rule` (window_of) from those of its inputs (the
    widest where branches meet). Quick for a single input: 10⁵-layer nets."""
    f = inputs[0] if len(inputs) == 1 else _merge(inputs)
    depth = f.depth + 1 if weighted else f.depth
    if isinstance(rule, Window):  # first: comparing a Window with the names costs an __eq__
        rf, jump = _widen(f, rule.span, rule.stride)
        grid = (-(-f.grid[0] // rule.stride[0]), -(-f.grid[1] // rule.stride[1]))
        return Field(rf, jump, depth, grid, f.folded)
    if rule is None:
        return f if depth == f.depth else Field(f.receptive_field, f.jump, depth, f.grid, f.folded)
    if rule == MIX:
        rule = GLOBAL if f.folded else None
    if rule == FOLD:
        return Field(f.receptive_field, f.jump, depth, f.grid, folded=True)
    if rule == GLOBAL:
        rf, jump = _widen(f, f.grid, f.grid)
        return Field(rf, jump, depth, (1, 1))
    return Field(f.receptive_field, f.jump, depth, f.grid, f.folded)


def reported(field: Field) -> tuple[Pair, tuple[int | Fraction, int | Fraction]]:
    """The receptive field and jump as a report gives them. Upsampling (a transposed
    convolution, interpolation) divides the jump, which stays exact; where it is no longer
    a whole number of input pixels, the receptive field is rounded up to whole pixels (and
    the JSON and CSV give the jump as the nearest float: `plain_number`)."""
    rf, jump = field.receptive_field, field.jump
    if type(rf[0]) is int and type(rf[1]) is int and type(jump[0]) is int and type(jump[1]) is int:
        return rf, jump  # the common case, kept quick
    return (math.ceil(rf[0]), math.ceil(rf[1])), (_exact(jump[0]), _exact(jump[1]))


def _exact(x: Fraction | int) -> int | Fraction:
    return int(x) if x == int(x) else x


def plain_number(x: int | Fraction) -> int | float:
    """A jump for JSON and CSV: an int, or a fractional one as the nearest float."""
    return x if type(x) is int else float(x)


def _merge(inputs: list[Field]) -> Field:
    """Where branches meet: the widest field, jump and grid, and the deepest path."""
    return Field(
        receptive_field=(
            max(i.receptive_field[0] for i in inputs),
            max(i.receptive_field[1] for i in inputs),
        ),
        jump=(max(i.jump[0] for i in inputs), max(i.jump[1] for i in inputs)),
        depth=max(i.depth for i in inputs),
        grid=(max(i.grid[0] for i in inputs), max(i.grid[1] for i in inputs)),
        folded=any(i.folded for i in inputs),
    )
