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


def test_if_false_with_else_identity_makes_the_layer_stand_for_its_input():
    text = """
        input: [4, 8, 8]
        params: {project: false}
        layers:
          body: {op: conv2d, out: 4, kernel: 3, padding: 1}
          shortcut: {if: project, else: identity, op: conv2d, out: 4, kernel: 1, from: input}
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


MOBILENET_V3_BNECK = """
    name: mbv3_small_start
    input: [16, 56, 56]
    blocks:
      bneck:                       # MobileNetV3's bottleneck, without squeeze-excite
        params: {k: 3, exp: null, c: null, act: relu, s: 1}
        layers:
          expand: {op: conv2d, out: exp, kernel: 1, bias: false}
          bn1: {op: batchnorm}
          act1: {op: act}
          dw: {op: conv2d, out: exp, kernel: k, stride: s, padding: k // 2, groups: exp,
               bias: false}
          bn2: {op: batchnorm}
          act2: {op: act}
          project: {op: conv2d, out: c, kernel: 1, bias: false}
          bn3: {op: batchnorm}
    layers:
      features:
        block: bneck
        table:
          columns: [k, exp, c, act, s]
          rows:
            - [3, 72, 24, relu, 2]
            - [5, 96, 40, hardswish, 2]
            - [5, 240, 40, "act_late", 1]
    params: {act_late: hardswish}
    """


def test_words_in_table_cells_work_as_in_arguments():
    """An `act` column names the activation op as `act: relu` does as an argument; a cell
    that names a variable takes its value."""
    r = report(MOBILENET_V3_BNECK)
    ops = {layer.name: layer.op for layer in r.layers}
    assert [ops[f"features.{i}.act1"] for i in range(3)] == ["relu", "hardswish", "hardswish"]
    assert [ops[f"features.{i}.act2"] for i in range(3)] == ["relu", "hardswish", "hardswish"]
    # weights, by hand: expand c_in·exp, depthwise exp·k², project exp·c, three BNs 2·width
    rows = [(16, 3, 72, 24), (24, 5, 96, 40), (40, 5, 240, 40)]
    params = sum(
        c_in * exp + exp * k * k + exp * c + 2 * (exp + exp + c) for c_in, k, exp, c in rows
    )
    assert r.totals.params == params
    assert r.output_shape == (40, 14, 14)


def test_a_word_cell_for_a_numeric_parameter_is_still_an_error():
    text = MOBILENET_V3_BNECK.replace("[3, 72, 24, relu, 2]", "[3, 72, wide, relu, 2]")
    with pytest.raises(SpecError, match="undefined name 'wide'"):
        graph(text)


TWO_HEADS = """
    input: [3, 32, 32]
    params: {wide: false}
    layers:
      conv: {op: conv2d, out: 8, kernel: 3, padding: 1}
      narrow_head: {if: not wide, op: conv2d, out: 16, kernel: 1}
      wide_head: {if: wide, op: conv2d, out: 64, kernel: 1, from: conv}
      pool: {op: global_avgpool, from: wide_head}
      flat: {op: flatten}
      fc: {op: linear, out: 10}
    variants:
      narrow: {args: {wide: false}}
      wide: {args: {wide: true}}
    """


def test_naming_a_switched_off_layer_in_from_is_an_error():
    """A newcomer's two-variant file: `pool` reads `wide_head`, which the narrow variant
    switches off. Reading wide_head's input (conv) instead would drop narrow_head from the
    network without a word; it is an error that names both layers and the way out."""
    assert graph(TWO_HEADS, "wide").nodes[-1].input_shapes == ((64,),)
    with pytest.raises(
        SpecError,
        match=r"t\.yaml:8: pool: 'from' names 'wide_head', which "
        r"is switched off here \('if: wide' is false\); add 'else: identity'",
    ):
        graph(TWO_HEADS, "narrow")


def test_naming_a_layer_repeated_zero_times_is_an_error():
    text = """
        input: [4, 8, 8]
        layers:
          a: {op: conv2d, out: 4, kernel: 1}
          extra: {op: conv2d, out: 4, kernel: 1, repeat: 0}
          b: {op: add, from: [a, extra]}
        """
    with pytest.raises(SpecError, match=r"'from' names 'extra'.*\('repeat' is 0\)"):
        graph(text)
    fixed = graph(text.replace("repeat: 0}", "repeat: 0, else: identity}"))
    assert fixed.nodes[-1].inputs == ("a", "a")


def test_a_switched_off_reader_may_name_a_switched_off_layer():
    """Only a layer that is built reads its inputs (FractalNet's join with one column)."""
    g = graph("""
        input: [4, 8, 8]
        params: {deep: false}
        layers:
          a: {op: conv2d, out: 4, kernel: 1}
          b: {if: deep, op: conv2d, out: 4, kernel: 1}
          join: {if: deep, op: add, from: [a, b]}
        """)
    assert names(g) == ["input", "a"]


def test_a_switched_off_output_is_an_error():
    text = """
        input: [4, 8, 8]
        output: head
        layers:
          a: {op: conv2d, out: 4, kernel: 1}
          head: {if: false, op: conv2d, out: 2, kernel: 1}
        """
    with pytest.raises(
        SpecError, match=r"t\.yaml:3: head: 'output' names 'head', which is switched off"
    ):
        graph(text)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{op: relu, else: identity}", "'else' needs 'if' or 'repeat'"),
        ("{op: relu, if: true, else: zero}", "'else' says what a switched-off entry stands for"),
    ],
)
def test_else_is_checked(entry, message):
    with pytest.raises(SpecError, match=message):
        graph(f"input: [4, 8, 8]\nlayers:\n  a: {entry}\n")


REGNETY_BLOCK = """
    name: regnety_block
    input: [32, 56, 56]
    blocks:
      y_block:                     # RegNetY's X block with squeeze-excite (Radosavovic 2020)
        params: {w: null, stride: 1, group_width: 8}
        layers:
          a: {op: conv2d, out: w, kernel: 1, bias: false}
          a_bn: {op: batchnorm}
          a_relu: {op: relu}
          b: {op: conv2d, out: w, kernel: 3, stride: stride, padding: 1,
              groups: w // group_width, bias: false}
          b_bn: {op: batchnorm}
          b_relu: {op: relu}
          se:                      # SE width: a quarter of the block's input width
            layers:
              pool: {op: global_avgpool}
              fc1: {op: conv2d, out: "round(in_channels * 0.25)", kernel: 1}
              relu: {op: relu}
              fc2: {op: conv2d, out: w, kernel: 1}
              gate: {op: sigmoid}
          excite: {op: multiply, from: [b_relu, se]}
          c: {op: conv2d, out: w, kernel: 1, bias: false}
          c_bn: {op: batchnorm}
          proj: {op: conv2d, out: w, kernel: 1, stride: stride, bias: false, from: input}
          proj_bn: {op: batchnorm}
          add: {op: add, from: [c_bn, proj_bn]}
          relu: {op: relu}
    layers:
      block1: {block: y_block, w: 48, stride: 2}
    """


def test_in_channels_inside_inline_layers_is_an_error_where_it_is_ambiguous():
    """A newcomer's squeeze-excite inside a RegNetY block: in_channels could mean the
    block's input (32, what RegNet means) or the group's own input (48). Counting either
    without a word is how 65,254 extra parameters went unnoticed; it is an error."""
    with pytest.raises(
        SpecError,
        match=r"t\.yaml:18: block1\.se\.fc1: out: in_channels is ambiguous inside the inline "
        r"layers 'block1\.se': it is 32 for the enclosing block's input but 48 for the "
        r"group's own input",
    ):
        graph(REGNETY_BLOCK)


def test_an_argument_of_the_inline_group_fixes_the_meaning():
    """Computed beside `layers:`, in the block's scope, in_channels is the block's input:
    the SE squeezes to round(0.25 · 32) = 8 channels, as torchvision's RegNet does."""
    text = REGNETY_BLOCK.replace(
        "          se:                      # SE width: a quarter of the block's input width\n",
        "          se:\n            squeeze: round(in_channels * 0.25)\n",
    ).replace('out: "round(in_channels * 0.25)"', "out: squeeze")
    r = report(text)
    w_in, w, groups, squeeze = 32, 48, 48 // 8, 8
    params = (
        w_in * w
        + 2 * w  # a, a_bn
        + w * (w // groups) * 9
        + 2 * w  # b (grouped 3×3), b_bn
        + w * squeeze
        + squeeze
        + squeeze * w
        + w  # fc1, fc2 with biases
        + w * w
        + 2 * w  # c, c_bn
        + w_in * w
        + 2 * w  # proj, proj_bn
    )
    assert r.totals.params == params
    assert {layer.name: layer.output_shape for layer in r.layers}["block1.se.fc1"] == (8, 1, 1)


def test_in_channels_inside_inline_layers_reading_the_block_input_is_allowed():
    """Where the group reads the block's input, both meanings agree (an Inception branch)."""
    g = graph("""
        input: [6, 8, 8]
        layers:
          stem: {op: conv2d, out: 10, kernel: 1}
          branch:
            from: input
            layers:
              conv: {op: conv2d, out: 2 * in_channels, kernel: 1}
        """)
    assert g.nodes[-1].shape == (12, 8, 8)
