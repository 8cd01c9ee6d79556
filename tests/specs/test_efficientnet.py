"""EfficientNet (specs/efficientnet.yaml): Table 1's baseline, compound scaling, and the
seed 002 slide's figures. torchvision's figures are checked by tests/test_zoo_expected.py.

References: Tan & Le 2019, Table 1 (EfficientNet-B0 stages) and Table 2 (params and FLOPs
of B0-B7, as on seed 002's "EfficientNet" slide); the width, depth and resolution of each
model are those of the authors' code (efficientnet_builder.efficientnet_params), which
torchvision copies except B2's crop (288 instead of 260).
"""

from __future__ import annotations

import math
import re

import pytest
from conftest import matches_printed, within_last_digit

import cnncost

# Table 1: (stage, expand ratio, kernel, output channels, layers, output side at 224)
TABLE1 = [
    ("stage2", 1, 3, 16, 1, 112),
    ("stage3", 6, 3, 24, 2, 56),
    ("stage4", 6, 5, 40, 2, 28),
    ("stage5", 6, 3, 80, 3, 14),
    ("stage6", 6, 5, 112, 3, 14),
    ("stage7", 6, 5, 192, 4, 7),
    ("stage8", 6, 3, 320, 1, 7),
]
# width, depth coefficients and the paper's resolution
SCALING = {
    0: (1.0, 1.0, 224),
    1: (1.0, 1.1, 240),
    2: (1.1, 1.2, 260),
    3: (1.2, 1.4, 300),
    4: (1.4, 1.8, 380),
    5: (1.6, 2.2, 456),
    6: (1.8, 2.6, 528),
    7: (2.0, 3.1, 600),
}
# Seed 002 (the paper's Table 2): params, FLOPs (= multiply-adds)
SEED002 = {
    0: ("5.3M", "0.39B"),
    1: ("7.8M", "0.70B"),
    2: ("9.2M", "1.0B"),
    3: ("12M", "1.8B"),
    4: ("19M", "4.2B"),
    5: ("30M", "9.9B"),
    6: ("43M", "19B"),
    7: ("66M", "37B"),
}
# Table 2 FLOPs that the architecture does not give at the paper's resolution, with the
# computed count. B1's 0.70B is 2% above it; B4's 4.2B and B5's 9.9B are 4% below. The
# architecture matches torchvision's published _ops and the parameter column throughout,
# so the three figures are the table's own, not a different network.
DIFFERS = {1: 686_802_832, 4: 4_393_771_024, 5: 10_266_384_752}


def _blocks(report, stage):
    """The block instances of a stage, e.g. ['stage3.0', 'stage3.1']."""
    pattern = re.compile(rf"({stage}\.\d+)\.")
    return sorted({m.group(1) for layer in report.layers if (m := pattern.match(layer.name))})


def test_b0_follows_table1():
    report = cnncost.analyze("efficientnet_b0")
    layers = {layer.name: layer for layer in report.layers}
    assert layers["stem.conv"].output_shape == (32, 112, 112)
    for stage, t, k, c, n, side in TABLE1:
        blocks = _blocks(report, stage)
        assert len(blocks) == n, stage
        first = layers[f"{blocks[0]}.depthwise.conv"]
        assert first.weights == first.output_shape[0] * k * k  # depthwise k×k
        assert (f"{blocks[0]}.expand.conv" in layers) == (t != 1)
        assert layers[f"{blocks[-1]}.project.conv"].output_shape == (c, side, side)
    assert layers["head.conv"].output_shape == (1280, 7, 7)
    assert sum(len(_blocks(report, row[0])) for row in TABLE1) == 16


def test_squeeze_excite_reduces_the_blocks_input_by_four():
    report = cnncost.analyze("efficientnet_b0")
    layers = {layer.name: layer for layer in report.layers}
    # stage5's first block reads 40 channels and expands them to 240
    assert layers["stage5.0.depthwise.conv"].output_shape == (240, 14, 14)
    assert layers["stage5.0.se.fc1"].output_shape == (10, 1, 1)
    assert layers["stage5.0.se.fc2"].output_shape == (240, 1, 1)
    assert layers["stage5.0.excite"].output_shape == (240, 14, 14)


@pytest.mark.parametrize("b", sorted(SCALING))
def test_compound_scaling(b):
    width, depth, _ = SCALING[b]
    report = cnncost.analyze(f"efficientnet_b{b}")
    layers = {layer.name: layer for layer in report.layers}
    for stage, _t, _k, c, n, _side in TABLE1:
        blocks = _blocks(report, stage)
        assert len(blocks) == math.ceil(n * depth), stage
        channels = layers[f"{blocks[-1]}.project.conv"].output_shape[0]
        # a multiple of 8, near c × width and never below 90% of it (16 × 1.2 → 24)
        assert channels % 8 == 0, stage
        assert 0.9 * c * width <= channels < c * width + 8, stage


@pytest.mark.parametrize("b", sorted(SEED002))
def test_seed002_table(b):
    *_, resolution = SCALING[b]
    report = cnncost.analyze(f"efficientnet_b{b}", input_shape=(3, resolution, resolution))
    params, flops = SEED002[b]
    assert within_last_digit(report.totals.params, params)
    if b in DIFFERS:
        assert report.totals.macs == DIFFERS[b]
        assert not within_last_digit(report.totals.macs, flops)
    else:
        assert within_last_digit(report.totals.macs, flops)


def test_seed002_at_a_glance_b0():
    """The "at a glance" row: EffNet-B0 5.3M, 0.39 GFLOPs (torchvision's figures)."""
    report = cnncost.analyze("efficientnet_b0")
    assert matches_printed(report.totals.params, "5.3M")
    assert matches_printed(report.totals.macs, "0.39G")
