"""SqueezeNet (specs/squeezenet.yaml): the Fire modules of the paper's Table 1, the v1.1
changes of the authors' release, and the quirks of the authors' Caffe file.

References: Iandola et al., arXiv:1602.07360, Table 1 (input 224x224x3; conv1
111x111x96, 7x7/2 (x96); maxpool1 55x55x96, 3x3/2; the s1x1, e1x1, e3x3 columns;
conv10 1x1/1 (x1000); avgpool10 13x13/1; #parameter before pruning: fire2 11,920,
total 1,248,424); the authors' SqueezeNet_v1.1/README.md (v1.0 "96 filters of
resolution 7x7", "pool_{1,4,8}", "1.72 GFLOPS/image"; v1.1 "64 filters of resolution
3x3", "pool_{1,3,5}") and SqueezeNet_v1.0/deploy.prototxt (conv10: pad 1, kernel 1).
"""

from __future__ import annotations

import pytest
from conftest import matches_printed

import cnncost

# Table 1: fire module -> (s1x1, e1x1, e3x3)
TABLE1_FIRES = {
    "fire2": (16, 64, 64),
    "fire3": (16, 64, 64),
    "fire4": (32, 128, 128),
    "fire5": (32, 128, 128),
    "fire6": (48, 192, 192),
    "fire7": (48, 192, 192),
    "fire8": (64, 256, 256),
    "fire9": (64, 256, 256),
}
VARIANTS = ["squeezenet1_0", "squeezenet1_1", "squeezenet1_0_paper", "squeezenet1_0_caffe"]


def _layers(model):
    return {layer.name: layer for layer in cnncost.analyze(model).layers}


@pytest.mark.parametrize("model", VARIANTS)
def test_fire_modules_follow_table1(model):
    layers = _layers(model)
    for fire, (s1x1, e1x1, e3x3) in TABLE1_FIRES.items():
        assert layers[f"{fire}.squeeze"].output_shape[0] == s1x1
        assert layers[f"{fire}.expand1x1"].output_shape[0] == e1x1
        assert layers[f"{fire}.expand3x3"].output_shape[0] == e3x3
        # both expand convs read the squeeze output; their maps are concatenated
        assert layers[f"{fire}.expand1x1"].inputs == layers[f"{fire}.expand3x3"].inputs
        assert layers[f"{fire}.concat"].output_shape[0] == e1x1 + e3x3


@pytest.mark.parametrize("model", VARIANTS)
def test_no_fully_connected_layer(model):
    report = cnncost.analyze(model)
    assert not any(layer.op == "linear" for layer in report.layers)
    assert report.output_shape == (1000,)


def test_table1_fire2_row():
    """#parameter before pruning, fire2: 11,920 (squeeze, expand1x1, expand3x3, biases in)."""
    layers = _layers("squeezenet1_0")
    fire2 = sum(layers[f"fire2.{conv}"].params for conv in ("squeeze", "expand1x1", "expand3x3"))
    assert fire2 == 11_920


def test_table1_sizes_are_those_of_a_227_input():
    """Table 1's conv1 111x111x96 and maxpool1 55x55x96 need 227×227; avgpool10 is 13x13."""
    paper = _layers("squeezenet1_0_paper")
    assert paper["conv1"].output_shape == (96, 111, 111)
    assert paper["maxpool1"].output_shape == (96, 55, 55)
    assert paper["conv10"].output_shape == (1000, 13, 13)
    # at the 224×224 of Table 1's first row (torchvision's input) the stem is smaller
    torchvision = _layers("squeezenet1_0")
    assert torchvision["conv1"].output_shape == (96, 109, 109)
    assert torchvision["maxpool1"].output_shape == (96, 54, 54)
    assert torchvision["conv10"].output_shape == (1000, 13, 13)


@pytest.mark.parametrize(
    ("model", "stem_weights", "pools"),
    [
        ("squeezenet1_0", 96 * 7 * 7 * 3, ["maxpool1", "fire4.maxpool", "fire8.maxpool"]),
        ("squeezenet1_1", 64 * 3 * 3 * 3, ["maxpool1", "fire3.maxpool", "fire5.maxpool"]),
    ],
)
def test_v1_1_changes(model, stem_weights, pools):
    """v1.0: 96 7×7 filters, pool_{1,4,8}; v1.1: 64 3×3 filters, pool_{1,3,5} (pool10,
    the global average pool, is in both)."""
    report = cnncost.analyze(model)
    layers = {layer.name: layer for layer in report.layers}
    assert layers["conv1"].weights == stem_weights
    assert [layer.name for layer in report.layers if layer.op == "maxpool"] == pools
    assert [layer.name for layer in report.layers if layer.op == "global_avgpool"] == ["avgpool10"]


def test_caffe_release_pads_conv10():
    """deploy.prototxt: conv10 has pad 1 with kernel 1, so its map is 15×15 at 227×227; the
    parameters do not change, and 2 × MACs is the README's "1.72 GFLOPS/image"."""
    caffe = cnncost.analyze("squeezenet1_0_caffe")
    layers = {layer.name: layer for layer in caffe.layers}
    assert layers["conv10"].output_shape == (1000, 15, 15)
    assert caffe.totals.params == cnncost.analyze("squeezenet1_0_paper").totals.params
    assert matches_printed(caffe.totals.flops, "1.72 G")
