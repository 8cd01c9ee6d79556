"""The layer graph a spec expands into: concrete nodes in topological order, with shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .ops import OpDef, Shape


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
    survival: Fraction = Fraction(1)  # probability it runs in a training step, exact


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
