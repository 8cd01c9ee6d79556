"""The spec language, feature by feature: each test writes a small spec and checks the
layers it expands into. Expected numbers are worked out by hand in the test."""

from __future__ import annotations

import textwrap

import pytest

from cnncost.build import build
from cnncost.errors import CnnCostError, SpecError
from cnncost.report import analyze_graph
from cnncost.spec import loads_spec


def graph(text: str, variant: str | None = None, **kw):
    return build(loads_spec(textwrap.dedent(text), "t.yaml"), variant, **kw)


def report(text: str, variant: str | None = None, **kw):
    return analyze_graph(graph(text, variant, **kw))


def names(g) -> list[str]:
    return [n.name for n in g.nodes]


def test_layers_chain_by_default_and_refer_by_name():
    g = graph("""
        input: [3, 8, 8]
        layers:
          a: {op: conv2d, out: 4, kernel: 3, padding: 1}
          b: {op: relu}
          c: {op: conv2d, out: 4, kernel: 1, from: a}
          sum: {op: add, from: [b, c]}
        """)
    assert names(g) == ["input", "a", "b", "c", "sum"]
    nodes = {n.name: n for n in g.nodes}
    assert nodes["a"].inputs == ("input",)
    assert nodes["b"].inputs == ("a",)
    assert nodes["c"].inputs == ("a",)
    assert nodes["sum"].inputs == ("b", "c")
    assert g.output == "sum"


def test_forward_references_are_expanded_in_dependency_order():
    g = graph("""
        input: [3, 8, 8]
        layers:
          out: {op: add, from: [left, right]}
          left: {op: conv2d, out: 2, kernel: 1, from: input}
          right: {op: conv2d, out: 2, kernel: 1, from: input}
        output: out
        """)
    order = names(g)
    assert order.index("left") < order.index("out") and order.index("right") < order.index("out")
    assert g.output == "out"


def test_block_parameters_defaults_and_expressions():
    r = report("""
        input: [8, 4, 4]
        blocks:
          expand:
            params: {planes: null, factor: 4, out: planes * factor}
            layers:
              conv: {op: conv2d, out: out, kernel: 1, bias: false}
        layers:
          x: {block: expand, planes: 3}
          y: {block: expand, planes: 2, factor: 5}
        """)
    by_name = {layer.name: layer for layer in r.layers}
    assert by_name["x.conv"].output_shape == (12, 4, 4)
    assert by_name["x.conv"].weights == 12 * 8
    assert by_name["y.conv"].output_shape == (10, 4, 4)


def test_in_channels_describes_the_block_input():
    g = graph("""
        input: [6, 4, 4]
        blocks:
          double:
            params: []
            layers:
              conv: {op: conv2d, out: 2 * in_channels, kernel: 1}
        layers:
          a: {block: double}
          b: {block: double}
        """)
    assert g.nodes[-1].shape == (24, 4, 4)


def test_repeat_names_instances_and_first_overrides_the_first():
    g = graph("""
        input: [4, 16, 16]
        layers:
          conv: {op: conv2d, out: 4, kernel: 3, padding: 1, repeat: 3, first: {stride: 2}}
        """)
    assert names(g) == ["input", "conv.0", "conv.1", "conv.2"]
    assert [n.shape for n in g.nodes[1:]] == [(4, 8, 8), (4, 8, 8), (4, 8, 8)]


def test_table_rows_call_the_block_with_their_columns():
    g = graph("""
        input: [3, 32, 32]
        blocks:
          stage:
            params: {c: null, stride: 1}
            layers:
              conv: {op: conv2d, out: c, kernel: 3, padding: 1, stride: stride}
        layers:
          body:
            block: stage
            table:
              columns: [c, n, s]
              rows:
                - [8, 1, 1]
                - [16, 2, 2]
            repeat: n
            first: {stride: s}
        """)
    assert names(g) == ["input", "body.0.0.conv", "body.1.0.conv", "body.1.1.conv"]
    assert [n.shape for n in g.nodes[1:]] == [(8, 32, 32), (16, 16, 16), (16, 16, 16)]


def test_named_table_rows_become_layer_names():
    g = graph("""
        input: [3, 8, 8]
        layers:
          convs:
            op: conv2d
            kernel: 1
            table:
              columns: [out]
              rows:
                conv_a: [4]
                conv_b: [5]
          tap: {op: relu, from: conv_a}
        """)
    assert names(g) == ["input", "conv_a", "conv_b", "tap"]
    nodes = {n.name: n for n in g.nodes}
    assert nodes["conv_b"].inputs == ("conv_a",)
    assert nodes["tap"].inputs == ("conv_a",)


def test_if_false_makes_the_layer_stand_for_its_input():
    text = """
        input: [4, 8, 8]
        params: {project: false}
        layers:
          body: {op: conv2d, out: 4, kernel: 3, padding: 1}
          shortcut: {if: project, op: conv2d, out: 4, kernel: 1, from: input}
          sum: {op: add, from: [body, shortcut]}
        variants:
          plain: {args: {project: false}}
          projected: {args: {project: true}}
        """
    plain = graph(text, "plain")
    assert "shortcut" not in names(plain)
    assert plain.nodes[-1].inputs == ("body", "input")
    projected = graph(text, "projected")
    assert projected.nodes[-1].inputs == ("body", "shortcut")


def test_repeat_zero_is_the_identity():
    g = graph("""
        input: [4, 8, 8]
        layers:
          a: {op: conv2d, out: 4, kernel: 1}
          extra: {op: conv2d, out: 4, kernel: 1, repeat: 0}
          b: {op: relu}
        """)
    assert names(g) == ["input", "a", "b"]
    assert g.nodes[-1].inputs == ("a",)


def test_inline_layers_see_the_enclosing_variables():
    g = graph("""
        input: [4, 8, 8]
        params: {width: 6}
        layers:
          branch:
            layers:
              conv: {op: conv2d, out: width, kernel: 1}
              relu: {op: relu}
        """)
    assert names(g) == ["input", "branch.conv", "branch.relu"]
    assert g.nodes[-1].shape == (6, 8, 8)


def test_op_and_block_names_can_come_from_parameters():
    g = graph("""
        input: [4, 8, 8]
        params: {act: relu6, unit: plain}
        blocks:
          plain:
            params: {act: relu}
            layers:
              conv: {op: conv2d, out: 4, kernel: 1}
              act: {op: act}
        layers:
          u: {block: unit, act: act}
        """)
    assert [n.op.name for n in g.nodes] == ["input", "conv2d", "relu6"]


def test_squeeze_excite_multiplies_with_broadcasting():
    r = report("""
        input: [16, 7, 7]
        layers:
          pool: {op: global_avgpool}
          fc1: {op: conv2d, out: 4, kernel: 1}
          relu: {op: relu}
          fc2: {op: conv2d, out: 16, kernel: 1}
          gate: {op: sigmoid}
          scale: {op: multiply, from: [input, gate]}
        """)
    assert r.output_shape == (16, 7, 7)
    assert r.layers[-1].elementwise == 16 * 7 * 7


def test_channel_split_and_shuffle_make_a_shufflenet_v2_unit():
    g = graph("""
        input: [116, 28, 28]
        layers:
          left: {op: channel_split, parts: 2, index: 0, from: input}
          right: {op: channel_split, parts: 2, index: 1, from: input}
          conv: {op: conv2d, out: 58, kernel: 1, from: right}
          join: {op: concat, from: [left, conv]}
          shuffle: {op: channel_shuffle, groups: 2}
        """)
    assert g.nodes[-1].shape == (116, 28, 28)


def test_terminating_recursion_is_allowed():
    """FractalNet's rule: f1 = conv; f(C+1) = join(f(C) ∘ f(C), conv)."""
    r = report("""
        input: [8, 8, 8]
        blocks:
          fractal:
            params: {columns: null}
            layers:
              deep:
                if: columns > 1
                layers:
                  a: {block: fractal, columns: columns - 1}
                  b: {block: fractal, columns: columns - 1}
              conv: {op: conv2d, out: 8, kernel: 3, padding: 1, from: input}
              join: {if: columns > 1, op: add, from: [deep, conv]}
        layers:
          body: {block: fractal, columns: 3}
        """)
    convs = [layer for layer in r.layers if layer.op == "conv2d"]
    # f1 has 1 conv; f(C) has 2·f(C-1) + 1: f2 = 3, f3 = 7
    assert len(convs) == 7


def test_variants_and_overrides():
    text = """
        input: [3, 32, 32]
        batch: 2
        params: {width: 8}
        layers:
          conv: {op: conv2d, out: width, kernel: 3, padding: 1}
        variants:
          small: {args: {width: 4}}
          big: {args: {width: 16}, input: [3, 64, 64]}
        """
    assert graph(text, "small").nodes[-1].shape == (4, 32, 32)
    assert graph(text, "big").nodes[-1].shape == (16, 64, 64)
    g = graph(text, "big", input_shape=(3, 10, 12), batch=5)
    assert g.nodes[-1].shape == (16, 10, 12) and g.batch == 5
    assert graph(text, "small").batch == 2
    with pytest.raises(CnnCostError, match="several models"):
        graph(text)


def test_yaml_quirks_are_refused_with_a_line():
    with pytest.raises(SpecError) as info:
        graph("""
            input: [3, 8, 8]
            layers:
              a: {op: relu}
              a: {op: relu}
            """)
    assert info.value.line == 5 and "duplicate key 'a'" in str(info.value)


FIXED = """
    name: fixed
    input: [3, 8, 8]
    fixed_input: >-
      its position embedding
      holds one vector per patch
    layers:
      conv: {op: conv2d, out: 4, kernel: 4, stride: 4}
"""


def test_fixed_input_refuses_another_size_and_says_why():
    assert graph(FIXED).input_shape == (3, 8, 8)
    assert graph(FIXED, input_shape=(3, 8, 8)).input_shape == (3, 8, 8)
    with pytest.raises(SpecError) as info:
        graph(FIXED, input_shape=(3, 12, 12))
    assert str(info.value) == (
        "t.yaml:4: fixed takes only a 3×8×8 input, not 3×12×12: its position embedding "
        "holds one vector per patch"
    )
    free = graph(FIXED.replace("fixed_input", "notes"), input_shape=(3, 12, 12))
    assert free.nodes[-1].shape == (4, 3, 3)
