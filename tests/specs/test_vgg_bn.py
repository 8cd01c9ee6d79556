"""VGG with batch norm (specs/vgg.yaml, torchvision's vgg11_bn … vgg19_bn).

torchvision's make_layers(batch_norm=True) puts BatchNorm2d between every 3×3 conv
(which keeps its bias) and its ReLU; nothing else changes. Seed 002's "at a glance"
table prints VGG-19 BN's torchvision figures.
"""

from __future__ import annotations

import pytest
from conftest import matches_printed

import cnncost

CONVS = {11: 8, 13: 10, 16: 13, 19: 16}


@pytest.mark.parametrize("depth", sorted(CONVS))
def test_bn_after_every_conv_and_nothing_else(depth):
    plain = cnncost.analyze(f"vgg{depth}")
    bn = cnncost.analyze(f"vgg{depth}_bn")
    convs = [layer for layer in bn.layers if layer.op == "conv2d"]
    norms = [layer for layer in bn.layers if layer.op == "batchnorm"]
    assert len(convs) == len(norms) == CONVS[depth]
    ops = [layer.op for layer in bn.layers]
    for conv in convs:
        at = ops.index("conv2d", [layer.name for layer in bn.layers].index(conv.name))
        assert ops[at : at + 3] == ["conv2d", "batchnorm", "relu"]
        assert conv.biases == conv.output_shape[0]  # the conv keeps its bias
    # gamma and beta per channel; running mean, variance and the batch counter as buffers
    channels = sum(conv.output_shape[0] for conv in convs)
    assert bn.totals.params - plain.totals.params == 2 * channels
    assert bn.totals.buffers == 2 * channels + len(norms)
    assert bn.totals.macs == plain.totals.macs


def test_seed002_vgg19_bn_row():
    """Seed 002, "At a glance": "VGGNet 2014 VGG-19 BN 74.218 91.842 143.7M 19.63"."""
    totals = cnncost.analyze("vgg19_bn").totals
    assert matches_printed(totals.params, "143.7M")
    assert matches_printed(totals.macs, "19.63 G")
