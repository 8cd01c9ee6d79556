"""DenseNet (specs/densenet.yaml): structural facts from the paper, the seed 002 slides'
claims, and Keras's published parameter totals.

torchvision's num_params and _ops are checked by tests/test_zoo_expected.py. This file
checks what the architecture must look like (Huang et al. 2017, Table 1), and records
where a published figure is not reproduced and why.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import matches_printed, within_last_digit

import cnncost
from cnncost.zoo import spec_dir

# Seed 002 "DenseNet Architectures" slide (the paper's Table 1): dense layers per block.
SEED002_BLOCKS = {
    "densenet121": [6, 12, 24, 16],
    "densenet169": [6, 12, 32, 32],
    "densenet201": [6, 12, 48, 32],
    "densenet264": [6, 12, 64, 48],
}
# torchvision's densenet161: growth rate 48, blocks (6, 12, 36, 24), 96 stem channels.
TORCHVISION_161 = {"growth": 48, "blocks": [6, 12, 36, 24], "init": 96}


@pytest.fixture(scope="module")
def reports():
    names = ("densenet121", "densenet161", "densenet169", "densenet201", "densenet264")
    return {name: cnncost.analyze(name) for name in names}


def _layer(report, name):
    return next(layer for layer in report.layers if layer.name == name)


def _block_output(report, prefix):
    """The last layer of a block instance (its output), e.g. 'denseblock1'."""
    return [layer for layer in report.layers if layer.name.startswith(prefix + ".")][-1]


def _weighted_layers(report):
    return sum(1 for layer in report.layers if layer.op in ("conv2d", "linear"))


@pytest.mark.parametrize("depth", [121, 161, 169, 201])
def test_depth_is_the_name(reports, depth):
    """The stem conv, two convs per dense layer, three transition convs and the FC."""
    assert _weighted_layers(reports[f"densenet{depth}"]) == depth


def test_densenet264_has_265_weighted_layers(reports):
    """The paper's (6, 12, 64, 48) for "DenseNet-264" gives 1 + 2·130 + 3 + 1 = 265.

    The name is one layer short of its own block configuration. Seed 002's slide copies
    that configuration, and the spec follows it rather than the name.
    """
    assert sum(SEED002_BLOCKS["densenet264"]) == 130
    assert _weighted_layers(reports["densenet264"]) == 265


@pytest.mark.parametrize("model", sorted(SEED002_BLOCKS))
def test_dense_layers_per_block_follow_the_slide(reports, model):
    counts = [0, 0, 0, 0]
    for layer in reports[model].layers:
        found = re.fullmatch(r"denseblock([1-4])\.\d+\.conv2", layer.name)
        if found:
            counts[int(found.group(1)) - 1] += 1
    assert counts == SEED002_BLOCKS[model]


def test_densenet121_channels_and_sizes_follow_table_1(reports):
    """k0 = 2k = 64, each layer adds k = 32 channels, a transition halves (θ = 0.5).

    The output sizes are Table 1's: 112, 56, 28, 14 and 7.
    """
    r = reports["densenet121"]
    assert _layer(r, "conv0").output_shape == (64, 112, 112)
    assert _layer(r, "pool0").output_shape == (64, 56, 56)
    assert _block_output(r, "denseblock1").output_shape == (64 + 6 * 32, 56, 56)
    assert _block_output(r, "transition1").output_shape == (128, 28, 28)
    assert _block_output(r, "denseblock2").output_shape == (128 + 12 * 32, 28, 28)
    assert _block_output(r, "transition2").output_shape == (256, 14, 14)
    assert _block_output(r, "denseblock3").output_shape == (256 + 24 * 32, 14, 14)
    assert _block_output(r, "transition3").output_shape == (512, 7, 7)
    assert _block_output(r, "denseblock4").output_shape == (512 + 16 * 32, 7, 7)


@pytest.mark.parametrize(
    ("model", "features"),
    # torchvision's classifier.in_features for each model
    [("densenet121", 1024), ("densenet161", 2208), ("densenet169", 1664), ("densenet201", 1920)],
)
def test_classifier_width(reports, model, features):
    classifier = _layer(reports[model], "classifier")
    assert classifier.weights == features * 1000
    assert classifier.biases == 1000


def test_densenet161_stem_and_growth(reports):
    r = reports["densenet161"]
    k, init = TORCHVISION_161["growth"], TORCHVISION_161["init"]
    assert _layer(r, "conv0").output_shape == (init, 112, 112)
    assert _layer(r, "denseblock1.0.conv1").output_shape == (4 * k, 56, 56)  # bn_size · k
    assert _layer(r, "denseblock1.0.conv2").output_shape == (k, 56, 56)


def test_each_dense_layer_reads_everything_before_it(reports):
    """Layer l of a block reads c0 + l·k channels: the block input and every earlier
    layer's k new channels. Its concatenation is stored, a copy (activation memory)."""
    r = reports["densenet121"]
    c0, k = 256, 32  # dense block 3 of DenseNet-121 starts from transition 2's 256 channels
    for index in range(24):
        norm1 = _layer(r, f"denseblock3.{index}.norm1")
        assert norm1.output_shape == (c0 + index * k, 14, 14)
        concat = _layer(r, f"denseblock3.{index}.concat")
        assert concat.output_shape == (c0 + (index + 1) * k, 14, 14)
        assert concat.activations == (c0 + (index + 1) * k) * 14 * 14


@pytest.mark.parametrize(
    ("model", "keras_total"),
    # keras.applications DenseNet121/169/201 model.summary(): "Total params" (trainable
    # parameters plus the batch-norm moving means and variances)
    [("densenet121", 8_062_504), ("densenet169", 14_307_880), ("densenet201", 20_242_984)],
)
def test_keras_totals_include_the_batch_norm_statistics(reports, model, keras_total):
    r = reports[model]
    bn_layers = sum(1 for layer in r.layers if layer.op == "batchnorm")
    moving_stats = r.totals.buffers - bn_layers  # PyTorch's buffers add one counter per BN
    assert r.totals.params + moving_stats == keras_total


def test_seed002_efficientnet_table_densenet169(reports):
    """Seed 002's EfficientNet table (Tan & Le 2019, Table 2): "DenseNet-169 … 14M … 3.5B"."""
    r = reports["densenet169"]
    assert matches_printed(r.totals.params, "14M")
    # 3.5B is not reproduced: 3,359,843,328 MACs (torchvision's _ops is also 3.36), and
    # 3.42 G with every element-wise op added, which prints as 3.4 G.
    assert not within_last_digit(r.totals.macs, "3.5 G")
    assert matches_printed(r.totals.macs, "3.36 G")
    assert not matches_printed(r.totals.macs + r.totals.elementwise, "3.5 G")


def test_seed002_efficientnet_table_densenet264(reports):
    """ "DenseNet-264 … 34M … 6.0B": 34M is the count with BN moving statistics."""
    r = reports["densenet264"]
    bn_layers = sum(1 for layer in r.layers if layer.op == "batchnorm")
    keras_style = r.totals.params + r.totals.buffers - bn_layers
    assert matches_printed(keras_style, "34M")
    assert matches_printed(r.totals.params, "33M")  # trainable only
    # 6.0B is not reproduced: 5.75 G MACs, 5.86 G with every element-wise op added.
    assert not within_last_digit(r.totals.macs, "6.0 G")
    assert not within_last_digit(r.totals.macs + r.totals.elementwise, "6.0 G")


def test_seed002_at_a_glance_densenet161(reports):
    """Seed 002 "At a glance" (torchvision figures): "DenseNet-161 … 28.7M 7.73"."""
    r = reports["densenet161"]
    assert matches_printed(r.totals.params, "28.7M")
    assert matches_printed(r.totals.macs, "7.73 G")


def test_growth_rate_bottleneck_and_compression_are_parameters(tmp_path):
    """θ = 1 keeps every channel at a transition (the paper's DenseNet-B); bn_size sets
    the 1×1 bottleneck's width; k sets each layer's new channels."""
    spec = yaml.safe_load(Path(spec_dir(), "densenet.yaml").read_text(encoding="utf-8"))
    args = {"blocks": [6, 12, 24, 16], "compression": 1.0, "bn_size": 2, "growth": 12}
    spec["variants"] = {"custom": {"args": args}}
    path = tmp_path / "densenet_custom.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    r = cnncost.analyze(f"{path}:custom")
    assert _layer(r, "conv0").output_shape == (64, 112, 112)  # init_features stays 64
    assert _layer(r, "denseblock1.0.conv1").output_shape == (2 * 12, 56, 56)
    assert _block_output(r, "denseblock1").output_shape == (64 + 6 * 12, 56, 56)
    assert _layer(r, "transition1.conv").output_shape == (64 + 6 * 12, 56, 56)
