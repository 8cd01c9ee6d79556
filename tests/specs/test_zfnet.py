"""ZFNet (specs/zfnet.yaml): the map sizes and layers of Zeiler & Fergus's Figure 3.

References: Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks",
ECCV 2014: Figure 3 and its caption (224×224×3 input; 96 7×7 filters at stride 2; 3×3
max pools at stride 2; contrast normalisation; 6·6·256 = 9216 inputs to layer 6),
Section 3 (dense connections), Table 2 (model (b): layers 3, 4, 5 of 512, 1024, 512).
"""

from __future__ import annotations

import pytest

import cnncost

# Figure 3, layer by layer (C, H, W)
FIGURE3 = {
    "conv1": (96, 110, 110),
    "pool1": (96, 55, 55),
    "conv2": (256, 26, 26),
    "pool2": (256, 13, 13),
    "conv3": (384, 13, 13),
    "conv4": (384, 13, 13),
    "conv5": (256, 13, 13),
    "pool5": (256, 6, 6),
    "fc6": (4096,),
    "fc7": (4096,),
    "fc8": (1000,),
}


def _layers(model):
    return {layer.name: layer for layer in cnncost.analyze(model).layers}


@pytest.fixture(scope="module")
def zfnet():
    return _layers("zfnet")


def test_input_is_a_224_crop():
    assert cnncost.analyze("zfnet").input_shape == (3, 224, 224)


@pytest.mark.parametrize("name", FIGURE3)
def test_figure3_sizes(zfnet, name):
    assert zfnet[name].output_shape == FIGURE3[name]


def test_layer6_reads_9216_features(zfnet):
    assert zfnet["flatten"].output_shape == (6 * 6 * 256,) == (9216,)
    assert zfnet["fc6"].weights == 9216 * 4096


def test_first_layer_is_96_filters_7x7_and_dense_connections(zfnet):
    """7×7 filters on 3 colour planes; every later conv sees all maps below it (one GPU)."""
    assert zfnet["conv1"].weights == 96 * 7 * 7 * 3
    assert zfnet["conv2"].weights == 256 * 5 * 5 * 96
    assert zfnet["conv3"].weights == 384 * 3 * 3 * 256
    assert zfnet["conv4"].weights == 384 * 3 * 3 * 384
    assert zfnet["conv5"].weights == 256 * 3 * 3 * 384


def test_relu_then_pool_then_contrast_norm():
    """Caption: the maps are "(i) passed through a rectified linear function, (ii) pooled
    ... and (iii) contrast normalized across feature maps"; the same in layer 2."""
    order = [layer.name for layer in cnncost.analyze("zfnet").layers]
    for n in (1, 2):
        at = order.index(f"conv{n}")
        assert order[at : at + 4] == [f"conv{n}", f"relu{n}", f"pool{n}", f"norm{n}"]


def test_eight_weighted_layers():
    """ "Architecture of our 8 layer convnet model" (Figure 3)."""
    report = cnncost.analyze("zfnet")
    ops = [layer.op for layer in report.layers if layer.op in ("conv2d", "linear")]
    assert ops == ["conv2d"] * 5 + ["linear"] * 3


def test_model_b_widens_layers_3_to_5():
    """Table 2: "1 convnet as per Fig. 3 but with layers 3,4,5: 512,1024,512 maps – (b)"."""
    b = _layers("zfnet_b")
    assert [b[f"conv{i}"].output_shape[0] for i in (3, 4, 5)] == [512, 1024, 512]
    assert b["pool5"].output_shape == (512, 6, 6)
    for name in ("conv1", "conv2", "fc7", "fc8"):
        assert b[name].params == _layers("zfnet")[name].params
