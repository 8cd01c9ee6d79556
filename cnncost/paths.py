"""Distinct input→output paths through a layer graph (Veit et al. 2016's count for residual
networks: n residual blocks in a row give 2ⁿ paths).

A path is a sequence of edges from the input layer to the output layer; parallel branches
and shortcuts each multiply or add to the count. The count is an exact Python integer:
it grows exponentially (DenseNet's dense blocks give astronomically many).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class _Layer(Protocol):
    name: str
    inputs: tuple[str, ...]


def count_paths(layers: Iterable[_Layer], output: str) -> int:
    """Paths from the graph's input (the layer with no inputs) to `output`.

    `layers` are in topological order, every input before its consumers (as a Graph's
    nodes and a Report's layers are). An input named twice (x + x) counts as two edges.
    Layers left out of `layers` (training-only branches) are not walked.
    """
    paths: dict[str, int] = {}
    get = paths.get
    for layer in layers:
        inputs = layer.inputs
        if len(inputs) == 1:  # the common case, quick for 10⁵-layer nets
            paths[layer.name] = get(inputs[0], 0)
        elif not inputs:
            paths[layer.name] = 1
        else:
            paths[layer.name] = sum(get(name, 0) for name in inputs)
    return paths.get(output, 0)
