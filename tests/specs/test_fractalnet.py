"""FractalNet (specs/fractalnet.yaml): the fractal expansion's structure, the joins of
Figure 1, and the parameter counts.

Larsson et al., "FractalNet: Ultra-Deep Neural Networks without Residuals", ICLR 2017:
f_1(z) = conv(z), f_{C+1}(z) = join((f_C ∘ f_C)(z), conv(z)); B blocks, each followed by
pooling, give depth B · 2^(C−1) (Figure 1: B = 5, C = 4, depth 40; Table 1's 20-layer
network is C = 3); CIFAR channels 64, 128, 256, 512, 512. The joins of Figure 1 merge all
the columns that end at the same depth into one join. pytorchcv's fractalnet_cifar10/100
(osmr/imgclsmob) publish exact parameter counts of their PyTorch build.
"""

from __future__ import annotations

import re
from collections import defaultdict
from itertools import product

import pytest
from conftest import within_last_digit

import cnncost

CHANNELS = [64, 128, 256, 512, 512]
SIDES = [32, 16, 8, 4, 2]  # inside each block, before its pool
B = 5


@pytest.fixture(scope="module")
def reports():
    names = ("fractalnet20", "fractalnet40", "fractalnet_cifar10", "fractalnet_cifar100")
    return {name: cnncost.analyze(name) for name in names}


def _merged_joins(columns: int) -> list[int]:
    """Figure 1's joins in one block, in depth order: the number of columns each merges.

    Column k (k = 1 shallowest … C deepest) is 2^(k−1) convs, each spanning 2^(C−k)
    units of depth, so a conv of column k ends at depth j when 2^(C−k) divides j. A join
    merges every column ending at j, where two or more do.
    """
    joins = []
    for j in range(1, 2 ** (columns - 1) + 1):
        ending = sum(1 for k in range(1, columns + 1) if j % 2 ** (columns - k) == 0)
        if ending >= 2:
            joins.append(ending)
    return joins


def _longest_and_shortest_conv_paths(report) -> tuple[int, int]:
    """Convs on the longest and on the shortest path from the input to the output."""
    longest: dict[str, int] = {}
    shortest: dict[str, int] = {}
    for layer in report.layers:
        own = 1 if layer.op == "conv2d" else 0
        if not layer.inputs:
            longest[layer.name] = shortest[layer.name] = 0
            continue
        longest[layer.name] = own + max(longest[i] for i in layer.inputs)
        shortest[layer.name] = own + min(shortest[i] for i in layer.inputs)
    return longest[report.output], shortest[report.output]


def _hand_params(columns: int, classes: int, conv_bias: bool, bn_affine: bool) -> int:
    """2^C − 1 3×3 convs a block: C of them read the block input (the first conv of each
    column), the rest read the block's own width; BN and the 512 → classes classifier."""
    convs = 2**columns - 1
    total, c_in = 0, 3
    for width in CHANNELS:
        total += columns * 9 * c_in * width + (convs - columns) * 9 * width * width
        total += convs * width * (int(conv_bias) + 2 * int(bn_affine))
        c_in = width
    return total + 512 * classes + classes


def test_figure_1_joins():
    """C = 3: joins of 2 and 3 columns; C = 4 (Figure 1): 2, 3, 2 and 4."""
    assert _merged_joins(3) == [2, 3]
    assert _merged_joins(4) == [2, 3, 2, 4]


@pytest.mark.parametrize(("model", "columns"), [("fractalnet20", 3), ("fractalnet40", 4)])
def test_depth_is_b_times_two_to_the_c_minus_1(reports, model, columns):
    """The deepest path has B · 2^(C−1) convs (20, 40), the shallowest B; plus the FC."""
    report = reports[model]
    longest, shortest = _longest_and_shortest_conv_paths(report)
    assert longest == B * 2 ** (columns - 1)
    assert shortest == B
    assert report.totals.depth == longest + 1


@pytest.mark.parametrize(("model", "columns"), [("fractalnet20", 3), ("fractalnet40", 4)])
def test_each_block_has_2_to_the_c_minus_1_convs(reports, model, columns):
    convs = defaultdict(int)
    for layer in reports[model].layers:
        if layer.op == "conv2d":
            convs[layer.name.split(".")[0]] += 1
    assert dict(convs) == {f"block{b}": 2**columns - 1 for b in range(1, B + 1)}


def test_channels_and_pooling(reports):
    """Section 4: 64, 128, 256, 512, 512 channels; a 2×2 pool after each block takes
    32×32 to 1×1 before the classifier."""
    layers = {r.name: r for r in reports["fractalnet20"].layers}
    for b, (width, side) in enumerate(zip(CHANNELS, SIDES, strict=True), start=1):
        assert layers[f"block{b}.fractal.join"].output_shape == (width, side, side)
        assert layers[f"block{b}.pool"].output_shape == (width, side // 2, side // 2)
    assert layers["fc"].output_shape == (10,)


@pytest.mark.parametrize(("model", "columns"), [("fractalnet20", 3), ("fractalnet40", 4)])
def test_nested_sums_cost_what_the_merged_joins_cost(reports, model, columns):
    """The recursion nests two-input joins; summed, they count as Figure 1's merged joins:
    Σ (n − 1) adds per element, and one stored output per merged join."""
    joins = _merged_joins(columns)
    for b, (width, side) in enumerate(zip(CHANNELS, SIDES, strict=True), start=1):
        adds = [
            r for r in reports[model].layers if r.op == "add" and r.name.startswith(f"block{b}.")
        ]
        elements = width * side * side
        assert len(adds) == sum(n - 1 for n in joins)  # 2^(C−1) − 1 nested joins
        assert sum(r.elementwise for r in adds) == sum(n - 1 for n in joins) * elements
        assert sum(r.activations for r in adds) == len(joins) * elements


@pytest.mark.parametrize(("columns", "shortfall"), [(3, 249_856), (4, 499_712)])
def test_what_a_mean_op_would_add(columns, shortfall):
    """A mean join of n inputs costs n ops per element (n − 1 adds and a scale), the sum
    n − 1: the element-wise total is short by one op per element per merged join (the
    figures in the spec's notes)."""
    per_block = len(_merged_joins(columns))
    assert sum(per_block * w * s * s for w, s in zip(CHANNELS, SIDES, strict=True)) == shortfall


@pytest.mark.parametrize(
    ("model", "columns", "classes", "conv_bias", "bn_affine"),
    [
        ("fractalnet20", 3, 10, True, False),
        ("fractalnet40", 4, 10, True, False),
        ("fractalnet_cifar10", 3, 10, False, True),
        ("fractalnet_cifar100", 3, 100, False, True),
    ],
)
def test_parameters_by_hand(reports, model, columns, classes, conv_bias, bn_affine):
    assert reports[model].totals.params == _hand_params(columns, classes, conv_bias, bn_affine)


def test_fractalnet20_figures(reports):
    """The authors' Caffe build (conv biases, BatchNorm without Scale): 33,714,314
    parameters, 845,222,912 MACs."""
    totals = reports["fractalnet20"].totals
    assert totals.params == 33_714_314
    assert totals.macs == 845_222_912


def test_no_build_reaches_the_papers_38_6m():
    """Table 1's "FractalNet (20 layers, 38.6M params)": neither C, conv bias nor BN
    affine parameters give 38.6M (C = 3: 33.7M; C = 4: 76.1M)."""
    for columns, conv_bias, bn_affine in product((3, 4), (False, True), (False, True)):
        params = _hand_params(columns, 10, conv_bias, bn_affine)
        assert not within_last_digit(params, "38.6M"), (columns, conv_bias, bn_affine)


def test_joins_are_sums_without_parameters(reports):
    for layer in reports["fractalnet40"].layers:
        if layer.op == "add":
            assert layer.params == layer.macs == 0
            assert re.search(r"\.join$", layer.name)
