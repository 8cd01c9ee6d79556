"""Nodes and layers made quickly (block replay, the analysis) equal those the dataclasses'
own __init__ makes."""

from __future__ import annotations

import dataclasses

import pytest

import cnncost
from cnncost.graph import Graph, Node
from cnncost.report import Layer


def test_fast_made_objects_equal_the_dataclass_init_for_every_layer_and_node():
    graph = cnncost.build_graph("googlenet_paper")  # training-only heads included
    replayed = cnncost.build_graph("resnet50")  # blocks expanded alike are replayed
    report = cnncost.analyze("resnet110_stochastic_depth", batch=3)
    for cls, objects in ((Node, graph.nodes + replayed.nodes), (Layer, report.layers)):
        names = {f.name for f in dataclasses.fields(cls)}
        for obj in objects:
            values = {name: getattr(obj, name) for name in names}
            assert set(obj.__dict__) == names  # the fast path set every field, no more
            assert cls(**values) == obj


def _replayed(graph: Graph) -> list[Node]:
    """Nodes that are copies (they share their attributes' object with an earlier node)."""
    seen: set[int] = set()
    copies = [n for n in graph.nodes if id(n.attrs) in seen or seen.add(id(n.attrs))]
    return copies


def test_replay_happens_where_the_tests_expect_it():
    assert len(_replayed(cnncost.build_graph("resnet50"))) > 50


def test_frozen_objects_stay_frozen():
    node = _replayed(cnncost.build_graph("resnet50"))[0]
    try:
        node.name = "x"  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("a replayed Node could be changed")


def _expanded(graph: Graph) -> list[tuple]:
    fields = ("name", "inputs", "input_shapes", "shape", "line", "train_only", "survival")
    return [(n.op.name, dict(n.attrs), *(getattr(n, f) for f in fields)) for n in graph.nodes]


@pytest.mark.parametrize("shape", [None, (3, 193, 257)])
def test_replayed_blocks_equal_a_full_expansion_on_every_builtin(shape):
    """Block replay copies an earlier expansion instead of expanding again. While a sweep
    records shape reads nothing is replayed: every block is expanded in full. The two
    builds must give the same layers, name for name, on every built-in."""
    from cnncost.build import build
    from cnncost.errors import CnnCostError
    from cnncost.expr import shape_reads
    from cnncost.zoo import builtin_models, resolve

    replays = 0
    for model in sorted(builtin_models()):
        spec, variant = resolve(model)
        try:
            fast = build(spec, variant, input_shape=shape)
        except CnnCostError:
            continue  # a model that does not run at this size (ViT); its error is tested
        token = shape_reads.set(set())
        try:
            full = build(spec, variant, input_shape=shape)
        finally:
            shape_reads.reset(token)
        assert _expanded(fast) == _expanded(full), model
        replays += len(_replayed(fast))
        assert not _replayed(full)
    assert replays > 1000
