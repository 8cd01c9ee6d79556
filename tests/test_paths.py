"""The path count (cnncost/paths.py): distinct input→output paths through the inference
graph, against closed forms (n residual blocks give 2ⁿ, Veit et al. 2016) and against an
explicit enumeration of every path on small graphs."""

from __future__ import annotations

import json

import pytest

import cnncost
from cnncost.build import build
from cnncost.report import analyze_graph
from cnncost.spec import loads_spec


def _report(text: str):
    return analyze_graph(build(loads_spec(text, "paths.yaml")))


def _residual(n: int, size: int = 8) -> str:
    return f"""
name: residual_{n}
input: [4, {size}, {size}]
blocks:
  residual:
    layers:
      conv: {{op: conv2d, out: 4, kernel: 3, padding: 1, bias: false}}
      relu: {{op: relu}}
      add: {{op: add, from: [relu, input]}}
layers:
  stem: {{op: conv2d, out: 4, kernel: 1}}
  res: {{block: residual, repeat: {n}}}
  pool: {{op: global_avgpool}}
"""


def _enumerate(report) -> list[tuple[str, ...]]:
    """Every path from the input to the output, listed one by one (no counting shortcut)."""
    inputs = {layer.name: layer.inputs for layer in report.inference_layers}

    def back(name: str) -> list[tuple[str, ...]]:
        if not inputs[name]:
            return [(name,)]
        return [(*path, name) for source in inputs[name] for path in back(source)]

    return back(report.output)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 8])
def test_n_residual_blocks_give_two_to_the_n_paths(n):
    report = _report(_residual(n))
    assert report.totals.paths == 2**n
    assert len(set(_enumerate(report))) == 2**n


@pytest.mark.parametrize("size", [8, 13, 31])
def test_the_count_does_not_depend_on_the_input_size(size):
    assert _report(_residual(3, size)).totals.paths == 8


def test_branches_and_shortcuts_against_enumeration():
    """Two parallel branches, one of them with a shortcut inside, then a shortcut around
    both: paths multiply along a chain and add where branches meet."""
    report = _report("""
name: mixed
input: [4, 9, 9]
layers:
  a: {op: conv2d, out: 4, kernel: 3, padding: 1}
  b: {op: conv2d, out: 4, kernel: 1, from: input}
  b2: {op: relu}
  b3: {op: add, from: [b2, b]}
  joined: {op: concat, from: [a, b3]}
  squeeze: {op: conv2d, out: 4, kernel: 1}
  out: {op: add, from: [squeeze, input]}
""")
    paths = _enumerate(report)
    assert len(paths) == len(set(paths)) == report.totals.paths == 4  # a, b→b2, b, input


def test_a_plain_chain_has_one_path():
    assert cnncost.analyze("vgg16").totals.paths == 1
    assert cnncost.analyze("alexnet").totals.paths == 1


@pytest.mark.parametrize(
    ("model", "blocks"),
    [("resnet18", 8), ("resnet34", 16), ("resnet50", 16), ("resnet152_v1", 50)],
)
def test_resnets_have_two_to_the_number_of_blocks(model, blocks):
    """Every block, the projection blocks too, has two ways through (shortcut or body)."""
    assert cnncost.analyze(model).totals.paths == 2**blocks


def test_densenet_and_googlenet_closed_forms():
    """A dense block of L layers doubles the count L times (each layer reads everything
    before it); each of GoogLeNet's nine Inception modules has four branches. The
    training-only auxiliary classifiers are not walked."""
    assert cnncost.analyze("densenet121").totals.paths == 2 ** (6 + 12 + 24 + 16)
    assert cnncost.analyze("googlenet").totals.paths == 4**9


def test_paths_in_the_json_totals(run):
    code, out, _ = run("resnet18", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["totals"]["paths"] == 256
    assert "paths" in data["units"]
