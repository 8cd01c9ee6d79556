"""Xception (specs/xception.yaml): structural facts from the paper (Chollet 2017,
Section 3 and Figure 5), Keras's published summary, and seed 002's claims.

The paper's Table 3 parameter count is checked by tests/test_zoo_expected.py.
"""

from __future__ import annotations

import re

import pytest
from conftest import matches_printed

import cnncost


@pytest.fixture(scope="module")
def xception():
    return cnncost.analyze("xception")


def _layer(report, name):
    return next(layer for layer in report.layers if layer.name == name)


def _block_output(report, prefix):
    return [layer for layer in report.layers if layer.name.startswith(prefix + ".")][-1]


def test_36_convolutional_layers_in_14_modules(xception):
    """Section 3: "36 convolutional layers forming the feature extraction base … structured
    into 14 modules, all of which have linear residual connections around them, except for
    the first and last modules". A separable conv counts once, and the 1×1 shortcut convs
    are not part of the count."""
    stem = [layer for layer in xception.layers if re.fullmatch(r"conv[12]", layer.name)]
    separable = [layer for layer in xception.layers if layer.name.endswith(".pointwise")]
    assert len(stem) + len(separable) == 36
    residual_adds = [layer for layer in xception.layers if layer.op == "add"]
    assert len(residual_adds) == 14 - 2


def test_separable_conv_is_depthwise_then_pointwise_with_nothing_between(xception):
    for layer in xception.layers:
        if layer.name.endswith(".pointwise"):
            depthwise = _layer(xception, layer.name.replace(".pointwise", ".depthwise"))
            assert layer.inputs == (depthwise.name,)  # no BN or ReLU between the two
            c = depthwise.output_shape[0]
            assert depthwise.weights == c * 3 * 3  # one 3×3 filter per channel
            assert depthwise.biases == 0
            assert layer.biases == 0


@pytest.mark.parametrize(
    ("prefix", "shape"),
    # Figure 5 gives the 299×299×3 input, the 19×19×728 entry and middle flow outputs and
    # the 2048-wide exit; the other sizes are Keras's summary (block1_conv1 … block14).
    [
        ("conv1", (32, 149, 149)),
        ("conv2", (64, 147, 147)),
        ("block2", (128, 74, 74)),
        ("block3", (256, 37, 37)),
        ("block4", (728, 19, 19)),
        ("middle", (728, 19, 19)),
        ("block13", (1024, 10, 10)),
        ("sep14a", (1536, 10, 10)),
        ("sep14b", (2048, 10, 10)),
    ],
)
def test_feature_map_sizes(xception, prefix, shape):
    layer = (
        _layer(xception, prefix) if prefix.startswith("conv") else _block_output(xception, prefix)
    )
    assert layer.output_shape == shape


def test_the_middle_flow_repeats_eight_times(xception):
    names = [layer.name for layer in xception.layers if layer.name.startswith("middle.")]
    blocks = {name.split(".")[1] for name in names}
    assert blocks == {str(i) for i in range(8)}


def test_keras_total_includes_the_batch_norm_statistics(xception):
    """Keras's summary: "Total params: 22,910,480 / Trainable params: 22,855,952 /
    Non-trainable params: 54,528". The non-trainable part is the BN moving mean and
    variance; PyTorch's buffers also hold one batch counter per BN layer."""
    bn_layers = sum(1 for layer in xception.layers if layer.op == "batchnorm")
    moving_stats = xception.totals.buffers - bn_layers
    assert moving_stats == 54_528
    assert xception.totals.params == 22_855_952
    assert xception.totals.params + moving_stats == 22_910_480


def test_seed002_efficientnet_table_xception(xception):
    """Seed 002's EfficientNet table (Tan & Le 2019, Table 2): "Xception … 23M … 8.4B"."""
    assert matches_printed(xception.totals.params, "23M")
    assert matches_printed(xception.totals.macs, "8.4B")


def test_a_shortcut_reads_the_block_input_so_the_first_relu_is_not_in_place(xception):
    relu = _layer(xception, "middle.0.relu1")
    assert relu.activations == 728 * 19 * 19  # a new tensor, not an overwrite
    assert _layer(xception, "middle.0.add").inputs == ("middle.0.sep3.bn", "block4.add")
