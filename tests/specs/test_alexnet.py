"""AlexNet (specs/alexnet.yaml): the 2012 paper's layer facts and the seed decks' figures.

References: Krizhevsky, Sutskever & Hinton, NIPS 2012, Section 3 ("eight learned
layers", the kernel shapes of Section 3.5, LRN after conv1 and conv2) and Figure 2's
neuron counts; seed 002's "at a glance" table (torchvision figures).
"""

from __future__ import annotations

import pytest
from conftest import matches_printed

import cnncost

# Figure 2: "the number of neurons in the network's remaining layers is given by
# 253,440–186,624–64,896–64,896–43,264–4096–4096–1000"
FIGURE2_NEURONS = [253_440, 186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000]
WEIGHTED = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")


def _layers(report):
    return {layer.name: layer for layer in report.layers}


@pytest.fixture(scope="module")
def paper():
    return cnncost.analyze("alexnet_2012")


@pytest.mark.parametrize("model", ["alexnet", "alexnet_2012"])
def test_eight_learned_layers(model):
    """Section 3: "eight learned layers — five convolutional and three fully-connected";
    seed 003's table: "AlexNet 8"."""
    report = cnncost.analyze(model)
    weighted = [layer for layer in report.layers if layer.op in ("conv2d", "linear")]
    assert [layer.name for layer in weighted] == list(WEIGHTED)
    assert [layer.op for layer in weighted] == ["conv2d"] * 5 + ["linear"] * 3


def test_kernel_shapes_of_section_3_5(paper):
    """96 kernels 11×11×3; 256 of 5×5×48; 384 of 3×3×256; 384 of 3×3×192; 256 of 3×3×192;
    4096, 4096 and 1000 fully-connected neurons."""
    layers = _layers(paper)
    kernels = {
        "conv1": 96 * 11 * 11 * 3,
        "conv2": 256 * 5 * 5 * 48,
        "conv3": 384 * 3 * 3 * 256,
        "conv4": 384 * 3 * 3 * 192,
        "conv5": 256 * 3 * 3 * 192,
        "fc6": 6 * 6 * 256 * 4096,
        "fc7": 4096 * 4096,
        "fc8": 4096 * 1000,
    }
    for name, weights in kernels.items():
        assert layers[name].weights == weights, name


def test_figure2_neuron_counts_from_conv2_on(paper):
    """Every figure of Figure 2's list but the first is a layer's output size here."""
    layers = _layers(paper)
    ours = [layers[name].activations for name in WEIGHTED]
    assert ours[1:] == FIGURE2_NEURONS[1:]


def test_figure2_first_count_is_no_shape_of_conv1(paper):
    """253,440 is not conv1's 55·55·96 = 290,400 (nor any C×H×W with C = 96 or 48)."""
    conv1 = _layers(paper)["conv1"]
    assert conv1.output_shape == (96, 55, 55)
    assert conv1.activations == 290_400 != FIGURE2_NEURONS[0]
    for channels in (96, 48):
        side = (FIGURE2_NEURONS[0] / channels) ** 0.5
        assert side != int(side)


def test_response_norm_follows_conv1_and_conv2_then_the_pools(paper):
    """Section 3.5: "Response-normalization layers follow the first and second
    convolutional layers. Max-pooling layers ... follow both response-normalization
    layers as well as the fifth convolutional layer"."""
    order = [layer.name for layer in paper.layers if layer.op in ("conv2d", "lrn", "maxpool")]
    assert order == [
        "conv1", "norm1", "pool1", "conv2", "norm2", "pool2",
        "conv3", "conv4", "conv5", "pool5",
    ]  # fmt: skip


def test_the_paper_sizes_need_a_227_input():
    """At the stated 224×224 (150,528 inputs) an unpadded 11×11/4 conv gives 54×54, and
    fc6 would see 5·5·256 = 6,400 inputs instead of the 9,216 the sizes above imply."""
    assert 224 * 224 * 3 == 150_528
    at_224 = _layers(cnncost.analyze("alexnet_2012", input_shape=(3, 224, 224)))
    assert at_224["conv1"].output_shape == (96, 54, 54)
    assert at_224["pool5"].output_shape == (256, 5, 5)
    at_227 = _layers(cnncost.analyze("alexnet_2012"))
    assert at_227["pool5"].output_shape == (256, 6, 6)


def test_fully_connected_layers_hold_most_parameters(paper):
    """Zeiler & Fergus 2014, Section 5.1, of Krizhevsky's model: layers 6 and 7 "contain
    the majority of model parameters"."""
    layers = _layers(paper)
    assert 2 * (layers["fc6"].params + layers["fc7"].params) > paper.totals.params


def test_torchvision_build_at_224():
    """torchvision's alexnet: 64, 192, 384, 256, 256 kernels; pool5 is already 6×6 at
    224×224, so its AdaptiveAvgPool2d((6, 6)) is the identity there."""
    layers = _layers(cnncost.analyze("alexnet"))
    assert [layers[f"conv{i}"].output_shape[0] for i in range(1, 6)] == [64, 192, 384, 256, 256]
    assert layers["pool5"].output_shape == (256, 6, 6)
    assert "norm1" not in layers


def test_seed002_at_a_glance_row():
    """Seed 002, "At a glance": "AlexNet 2012 - 56.522 79.066 61.1M 0.71" (GFLOPs = GMACs)."""
    totals = cnncost.analyze("alexnet").totals
    assert matches_printed(totals.params, "61.1M")
    assert matches_printed(totals.macs, "0.71 G")
