"""graph.frozen builds the same objects as the dataclasses' own __init__."""

from __future__ import annotations

import dataclasses

import cnncost
from cnncost.graph import Node, frozen
from cnncost.report import Layer


def test_frozen_equals_the_dataclass_init_for_every_layer_and_node():
    graph = cnncost.build_graph("googlenet_paper")  # training-only heads included
    report = cnncost.analyze("resnet110_stochastic_depth", batch=3)
    for cls, objects in ((Node, graph.nodes), (Layer, report.layers)):
        names = {f.name for f in dataclasses.fields(cls)}
        for obj in objects:
            values = {name: getattr(obj, name) for name in names}
            assert set(obj.__dict__) == names  # the fast path set every field, no more
            assert frozen(cls, **values) == cls(**values) == obj


def test_frozen_objects_stay_frozen():
    node = cnncost.build_graph("resnet18").nodes[1]
    try:
        node.name = "x"  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("a Node made by frozen() could be changed")
