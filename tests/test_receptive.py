"""Receptive field, jump and depth, against the Distill table, the papers' layer counts and
sums done by hand."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from conftest import reference

import cnncost
from cnncost.build import build
from cnncost.report import analyze_graph, json_lines
from cnncost.spec import loads_spec

REF = reference("receptive_fields")


def _layers(text: str):
    return {layer.name: layer for layer in analyze_graph(build(loads_spec(text, "n.yaml"))).layers}


@pytest.mark.parametrize(("model", "expected"), sorted(REF["models"].items()))
def test_published_receptive_fields(model, expected):
    layers = cnncost.analyze(model).layers
    if expected.get("last_before_pool"):
        index = next(
            i
            for i, layer in enumerate(layers)
            if "pool" in layer.op and i > 5 and layer.op.startswith(("global", "adaptive"))
        )
        layer = layers[index - 1]
    else:
        layer = next(layer for layer in layers if layer.name == expected["layer"])
    assert layer.receptive_field == (expected["receptive_field"],) * 2
    assert layer.jump == (expected["jump"],) * 2


@pytest.mark.parametrize(("model", "depth"), sorted(REF["depth"].items()))
def test_weighted_depth(model, depth):
    assert cnncost.analyze(model).totals.depth == depth


def test_vgg16_every_pool_by_hand():
    """r ← r + (k − 1)·j, j ← j·s through 3×3/1 convs and 2×2/2 pools."""
    r, j, expected = 1, 1, []
    for convs in (2, 2, 3, 3, 3):
        r += convs * 2 * j
        r += j
        j *= 2
        expected.append((r, j))
    layers = cnncost.analyze("vgg16").layers
    pools = [(x.receptive_field[0], x.jump[0]) for x in layers if x.op == "maxpool"]
    assert pools == expected == [(6, 2), (16, 4), (44, 8), (100, 16), (212, 32)]
    fc6 = next(x for x in layers if x.name == "fc6")
    assert fc6.receptive_field == (212 + 6 * 32,) * 2  # the 7×7 map, folded into fc6


@pytest.mark.parametrize(("count", "field"), sorted(REF["stacks"].items()))
def test_stacked_3x3_convs(count, field):
    spec = (
        "name: s\ninput: [8, 32, 32]\nlayers:\n"
        "  c: {op: conv2d, out: 8, kernel: 3, padding: 1, repeat: %d}\n"
    )
    layers = _layers(spec % count)
    assert layers[f"c.{count - 1}"].receptive_field == (field, field)
    assert layers[f"c.{count - 1}"].depth == count


def test_branches_keep_the_widest_path_and_asymmetric_kernels_stay_apart():
    layers = _layers(
        "name: b\ninput: [4, 32, 32]\nlayers:\n"
        "  a: {op: conv2d, out: 4, kernel: [1, 7], padding: [0, 3]}\n"
        "  b: {op: conv2d, out: 4, kernel: [7, 1], padding: [3, 0]}\n"
        "  c: {op: conv2d, out: 4, kernel: 1, from: input}\n"
        "  s: {op: add, from: [b, c]}\n"
    )
    assert layers["a"].receptive_field == (1, 7)
    assert layers["b"].receptive_field == (7, 7)  # 1×7 then 7×1 sees a 7×7 square
    assert layers["s"].receptive_field == (7, 7)  # the widest of the two paths
    assert layers["s"].depth == 2  # the longest path has two weighted layers


def test_dilation_and_global_pooling():
    layers = _layers(
        "name: d\ninput: [4, 16, 16]\nlayers:\n"
        "  a: {op: conv2d, out: 4, kernel: 3, dilation: 2, padding: 2}\n"
        "  g: {op: global_avgpool}\n"
    )
    assert layers["a"].receptive_field == (5, 5)  # taps at −2, 0, 2
    assert layers["g"].receptive_field == (5 + 15, 5 + 15)  # 16 positions, jump 1


def test_json_and_csv_carry_the_columns(run):
    import csv
    import io
    import json

    code, out, _ = run("vgg16", "--format", "json")
    assert code == 0
    data = json.loads(out)
    pool5 = next(x for x in data["layers"] if x["name"] == "stage5.pool")
    assert pool5["receptive_field"] == [212, 212] and pool5["jump"] == [32, 32]
    assert data["totals"]["depth"] == 16
    _, out, _ = run("vgg16", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert next(r for r in rows if r["name"] == "stage5.pool")["receptive_field"] == "212"


def test_upsampling_divides_the_jump():
    """A U-Net-like decoder, by hand: pool 2 (rf 4, jump 2), conv 3 (rf 8), a 2×2 stride-2
    transposed conv (each output reads one input position: rf 8, jump 1), conv 3 (10),
    then bilinear ×2 (reads 2 positions: rf 11, jump 1/2) and a 3×3 conv (rf 12)."""
    layers = _layers(
        """
        input: [3, 64, 64]
        layers:
          enc: {op: conv2d, out: 8, kernel: 3, padding: 1}
          down: {op: maxpool, kernel: 2}
          mid: {op: conv2d, out: 8, kernel: 3, padding: 1}
          up: {op: conv_transpose2d, out: 8, kernel: 2, stride: 2}
          dec: {op: conv2d, out: 8, kernel: 3, padding: 1}
          up2: {op: upsample, scale: 2, mode: bilinear}
          out: {op: conv2d, out: 2, kernel: 3, padding: 1}
          up3: {op: upsample, scale: 3}
          last: {op: conv2d, out: 2, kernel: 2}
        """
    )
    got = {name: (r.receptive_field[0], r.jump[0]) for name, r in layers.items()}
    assert got["up"] == (8, 1) and got["dec"] == (10, 1)
    assert got["up2"] == (11, 0.5) and got["out"] == (12, 0.5)
    # nearest ×3 reads one position: jump 1/6, kept exact; a 2-tap conv after it spans
    # 12 + 1/6 input pixels, reported rounded up
    assert got["up3"] == (12, Fraction(1, 6)) and got["last"] == (13, Fraction(1, 6))
    rows = list(layers.values())  # in JSON a fractional jump is the nearest float
    decoded = [json.loads(line) for line in json_lines(rows)]
    assert decoded == [r.to_dict() for r in rows]
    assert decoded[-1]["jump"] == [1 / 6, 1 / 6] and decoded[-1]["receptive_field"] == [13, 13]


def test_a_transposed_conv_reads_ceil_k_over_s_inputs():
    """k = 3, s = 2: an output reads 1 or 2 input positions, so the field grows by one
    input jump; with dilation 2 and stride 2 (g = 2) all three taps land, or none."""
    layers = _layers(
        """
        input: [3, 16, 16]
        layers:
          a: {op: conv_transpose2d, out: 4, kernel: 3, stride: 2}
          b: {op: conv_transpose2d, out: 4, kernel: 3, stride: 2, dilation: 2}
        """
    )
    a, b = layers["a"], layers["b"]
    assert (a.receptive_field, a.jump) == ((2, 2), (0.5, 0.5))
    # b: i·2 + t·2 = p': for even p' all 3 taps land, on 3 consecutive input positions
    # (d/g = 1 apart) at input jump 1/2: the field grows by (3 − 1)·(1/2) = 1
    assert (b.receptive_field, b.jump) == ((3, 3), (0.25, 0.25))
