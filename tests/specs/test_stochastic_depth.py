"""ResNet with stochastic depth (specs/stochastic_depth.yaml): the linear decay rule, the
expected depth and training cost the paper derives, and the network's structure.

Huang et al., "Deep Networks with Stochastic Depth", ECCV 2016, Section 3: block l of L
survives a training step with p_l = 1 − l/L · (1 − p_L), p_L = 0.5 (Eq. 4); the expected
number of active blocks is E(L̃) = Σ p_l = (3L − 1)/4, "E(L̃) ≈ 40" for the 110-layer
network (L = 54); "approximately 25% of training time could be saved". Section 4: three
groups of 18 blocks with 16, 32 and 64 filters; the 1202-layer network. The expected
training MACs are checked against a hand computation written here from those facts,
independently of the spec.
"""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from conftest import matches_printed

import cnncost

P_LAST = Fraction(1, 2)
STAGES = [(16, 32), (32, 16), (64, 8)]  # (filters, feature-map side) of the three groups
BLOCK = re.compile(r"group([123])\.(\d+)\.")


@pytest.fixture(scope="module")
def reports():
    names = ("resnet110_stochastic_depth", "resnet1202_stochastic_depth")
    return {name: cnncost.analyze(name) for name in names}


def _conv_macs(c_in: int, c_out: int, side: int, k: int = 3) -> int:
    return c_out * side * side * k * k * c_in


def _survival(index: int, total: int) -> Fraction:
    """Eq. 4: p_l = 1 − l/L · (1 − p_L), for block l = index of L = total."""
    return 1 - Fraction(index, total) * (1 - P_LAST)


def _hand_counts(n: int, classes: int = 10) -> tuple[int, Fraction]:
    """(inference MACs, expected training MACs) of the 6n + 2 network, by hand."""
    total = 3 * n
    always = _conv_macs(3, 16, 32) + 64 * classes  # first conv and the classifier
    inference, expected = always, Fraction(always)
    index = 0
    for stage, (width, side) in enumerate(STAGES):
        for i in range(n):
            index += 1
            c_in = width // 2 if stage > 0 and i == 0 else width  # a transitional block
            block = _conv_macs(c_in, width, side) + _conv_macs(width, width, side)
            inference += block
            expected += _survival(index, total) * block
    assert index == total
    return inference, expected


def _block_index(name: str, n: int) -> int | None:
    """l = 1 … 3n of a layer inside a residual block (counted across the groups)."""
    found = BLOCK.match(name)
    if not found:
        return None
    return (int(found.group(1)) - 1) * n + int(found.group(2)) + 1


@pytest.mark.parametrize(("model", "n"), [("resnet110_stochastic_depth", 18)])
def test_survival_follows_the_linear_decay_rule(reports, model, n):
    """Every residual branch (both convs and its addition) carries p_l of its block;
    the shortcuts, the first conv and the classifier always run."""
    total = 3 * n
    for layer in reports[model].layers:
        index = _block_index(layer.name, n)
        on_branch = ".residual." in layer.name or layer.name.endswith(".add")
        if index is not None and on_branch:
            assert layer.survival == _survival(index, total)  # exactly
        else:
            assert layer.survival == 1.0, layer.name
    first = next(r for r in reports[model].layers if r.name == "group1.0.residual.conv1")
    last = next(r for r in reports[model].layers if r.name == "group3.17.residual.conv2")
    assert first.survival == 1 - Fraction(1, 108)
    assert last.survival == Fraction(1, 2)


@pytest.mark.parametrize(
    ("model", "n", "rounded"),
    [("resnet110_stochastic_depth", 18, 40), ("resnet1202_stochastic_depth", 200, 450)],
)
def test_expected_depth_is_three_quarters(reports, model, n, rounded):
    """E(L̃) = Σ p_l = (3L − 1)/4: 40.25 for L = 54, which the paper prints as "≈ 40"."""
    total = 3 * n
    survivals = [
        layer.survival
        for layer in reports[model].layers
        if re.fullmatch(r"group[123]\.\d+\.residual\.conv1", layer.name)
    ]
    assert len(survivals) == total
    assert sum(survivals) == Fraction(3 * total - 1, 4)
    assert round(sum(survivals)) == rounded


@pytest.mark.parametrize(
    ("model", "n"), [("resnet110_stochastic_depth", 18), ("resnet1202_stochastic_depth", 200)]
)
def test_training_macs_match_the_hand_computation(reports, model, n):
    """train_macs = first conv + classifier + Σ p_l · (MACs of block l)."""
    inference, expected = _hand_counts(n)
    totals = reports[model].totals
    assert totals.macs == inference
    assert totals.train_macs == round(expected)  # exact, rounded once (half to even)
    assert totals.train_params == totals.params  # nothing runs in training only


def test_resnet110_figures():
    """ResNet-110: 252,887,680 MACs at inference, 188,618,709 expected in training."""
    inference, expected = _hand_counts(18)
    assert inference == 252_887_680
    assert round(expected) == 188_618_709


@pytest.mark.parametrize(
    ("model", "n"), [("resnet110_stochastic_depth", 18), ("resnet1202_stochastic_depth", 200)]
)
def test_about_a_quarter_of_the_training_compute_is_saved(reports, model, n):
    """The paper: "approximately 25% of training time could be saved". The expected
    forward MACs save 25.4% (L = 54) and 25.0% (L = 600), which round to its 25%. The saving
    is a little under 1 − E(L̃)/L, since the two transitional blocks are cheaper."""
    totals = reports[model].totals
    saving = 1 - Fraction(totals.train_macs, totals.macs)
    assert round(100 * saving) == 25
    depth_saving = 1 - Fraction(3 * 3 * n - 1, 4 * 3 * n)
    assert abs(saving - depth_saving) < Fraction(1, 100)


@pytest.mark.parametrize(
    ("model", "depth"), [("resnet110_stochastic_depth", 110), ("resnet1202_stochastic_depth", 1202)]
)
def test_depth_is_the_name(reports, model, depth):
    """6n + 2 weighted layers: the first conv, two convs per block, the classifier."""
    report = reports[model]
    assert sum(1 for r in report.layers if r.op in ("conv2d", "linear")) == depth
    assert report.totals.depth == depth


def test_groups_have_16_32_64_filters(reports):
    """Section 4: three groups of 18 blocks, 16, 32 and 64 filters, 32², 16², 8² maps."""
    layers = {r.name: r for r in reports["resnet110_stochastic_depth"].layers}
    assert layers["group1.17.relu"].output_shape == (16, 32, 32)
    assert layers["group2.17.relu"].output_shape == (32, 16, 16)
    assert layers["group3.17.relu"].output_shape == (64, 8, 8)
    assert layers["fc"].output_shape == (10,)


def test_transitional_shortcut_costs_nothing(reports):
    """Average pooling and zero padding: no parameters and no MACs; the padded tensor
    (stood in for by a concat of the pooled tensor with itself) is 2C channels."""
    layers = {r.name: r for r in reports["resnet110_stochastic_depth"].layers}
    for group, (c_in, side) in (("group2", (16, 32)), ("group3", (32, 16))):
        pool, pad = layers[f"{group}.0.shortcut.pool"], layers[f"{group}.0.shortcut.pad"]
        assert pool.output_shape == (c_in, side // 2, side // 2)
        assert pad.output_shape == (2 * c_in, side // 2, side // 2)
        assert pad.params == pad.macs == pad.elementwise == 0
        assert pool.params == pool.macs == 0
    shortcuts = [r for r in layers.values() if ".shortcut." in r.name]
    assert len(shortcuts) == 4  # only the two transitional blocks have one


@pytest.mark.parametrize(
    ("model", "figure"),
    [("resnet110_stochastic_depth", "1.7M"), ("resnet1202_stochastic_depth", "19.4M")],
)
def test_he_et_al_figures_are_the_bias_free_network(reports, model, figure):
    """He et al. (Table 6: 1.7M, 19.4M) count convs without biases; the stochastic-depth
    code adds them (ResNet-1202: 19,466,090 with, 19,421,274 without)."""
    report = reports[model]
    conv_biases = sum(r.biases for r in report.layers if r.op == "conv2d")
    assert matches_printed(report.totals.params - conv_biases, figure)
