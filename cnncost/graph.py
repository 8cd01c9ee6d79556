"""The layer graph a spec expands into: concrete nodes in topological order, with shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .ops import OpDef, Shape

# The survival of a layer that always runs: one shared object, so that the common case is
# recognised by identity, without Fraction arithmetic (10⁵-layer models).
ALWAYS = Fraction(1)


@dataclass(frozen=True)
class Node:
    """One layer: its full path name, op, resolved attributes, inputs and output shape."""

    name: str
    op: OpDef
    attrs: Mapping[str, Any]
    inputs: tuple[str, ...]
    input_shapes: tuple[Shape, ...]
    shape: Shape
    line: int | None
    train_only: bool = False  # runs only in training (GoogLeNet's auxiliary classifiers)
    survival: Fraction = ALWAYS  # probability it runs in a training step, exact


@dataclass(frozen=True)
class Graph:
    """A whole model. Nodes are in an order where every input precedes its consumers."""

    model: str
    title: str
    source: str
    file: str
    nodes: tuple[Node, ...]
    output: str
    input_shape: Shape
    batch: int
    # Training-only branches that do not fit at this input size, with the reason: they
    # are not among the nodes, and the model has no training totals at this size.
    dropped: tuple[tuple[str, str], ...] = ()


def dropped_note(dropped: tuple[tuple[str, str], ...], input_shape: Shape) -> str | None:
    """One line saying which training-only branch does not fit at this size, and why."""
    if not dropped:
        return None
    name, reason = dropped[0]
    more = f" (and {len(dropped) - 1} more)" if len(dropped) > 1 else ""
    size = "×".join(map(str, input_shape))
    return f"the training-only branch {name!r}{more} does not fit at {size} ({reason})"
