"""Inception-v3, Inception-v4 and Inception-ResNet-v2 (specs/inception_v3.yaml,
specs/inception_v4.yaml): module shapes, the training-only AuxLogits head, the papers'
and seed decks' figures, and published counts that use other conventions.

References: Szegedy et al., "Rethinking the Inception Architecture for Computer Vision",
CVPR 2016 (abstract: "a computational cost of 5 billion multiply-adds per inference and
with using less than 25 million parameters"); torchvision's inception.py (shape comments,
Inception_V3_Weights: 27,161,264 parameters including AuxLogits, 5.713 GMACs); Szegedy et
al., "Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning",
AAAI 2017, Table 1 (Reduction-A's k, l, m, n); TF-Slim's inception_v4.py (the AuxLogits
head: 5×5/3 avg pool, 1×1 conv 128, 5×5 conv 768, fc) and tensorflow/models#1553 (the
released Inception-ResNet-v2 repeats its blocks 10, 20 and 10 times); timm's
benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv (infer_gmacs: inception_v4 12.28,
inception_resnet_v2 13.18); seed 001 ("A 3x3 convolution has 9 operations while
asymmetric convolution has 3+3=6 operations"); seed 002's EfficientNet comparison table
(Tan & Le 2019, Table 2: "Inception-v3 ... 24M ... 5.7B", "Inception-v4 ... 48M ... 13B",
"Inception-resnet-v2 ... 56M ... 13B") and its "at a glance" table ("Inception 2014
Inception-v3 77.294 93.45 27.2M 5.71").
"""

from __future__ import annotations

import pytest
from conftest import matches_printed, within_last_digit

import cnncost


def _layers(report):
    return {layer.name: layer for layer in report.layers}


@pytest.fixture(scope="module")
def v3():
    return cnncost.analyze("inception_v3")


@pytest.fixture(scope="module")
def v4():
    return cnncost.analyze("inception_v4")


@pytest.fixture(scope="module")
def irv2():
    return cnncost.analyze("inception_resnet_v2")


def test_v3_module_output_shapes(v3):
    """torchvision's shape comments: N × 256 × 35 × 35 after Mixed_5b, 288 after 5c and 5d,
    768 × 17 × 17 from Mixed_6a to 6e, 1280 × 8 × 8 after 7a, 2048 × 8 × 8 after 7b, 7c."""
    layers = _layers(v3)
    expected = {
        "maxpool2": (192, 35, 35),
        "Mixed_5b.concat": (256, 35, 35),
        "Mixed_5c.concat": (288, 35, 35),
        "Mixed_5d.concat": (288, 35, 35),
        "Mixed_6a.concat": (768, 17, 17),
        "Mixed_6e.concat": (768, 17, 17),
        "Mixed_7a.concat": (1280, 8, 8),
        "Mixed_7b.concat": (2048, 8, 8),
        "Mixed_7c.concat": (2048, 8, 8),
        "fc": (1000,),
    }
    for name, shape in expected.items():
        assert layers[name].output_shape == shape, name


def test_v3_aux_logits_is_training_only(v3):
    """torchvision's num_params (27,161,264) counts AuxLogits; its _ops (5.713 G) is
    measured in eval mode, where AuxLogits does not run (with it: 5.719 G)."""
    aux = [layer for layer in v3.layers if layer.train_only]
    assert {layer.name.split(".")[0] for layer in aux} == {"AuxLogits"}
    head = sum(layer.params for layer in aux)
    # conv0: 768·128 + BN 2·128; conv1: 128·5·5·768 + BN 2·768; fc: 768·1000 + 1000
    assert head == 768 * 128 + 256 + 128 * 25 * 768 + 1536 + 768 * 1000 + 1000
    assert v3.totals.train_params == v3.totals.params + head == 27_161_264
    assert matches_printed(v3.totals.macs, "5.713 G")
    assert not matches_printed(v3.totals.train_macs, "5.713 G")


def test_v3_factorized_7x7_costs_2n_instead_of_n_squared(v3):
    """Seed 001: a 3×3 conv has 9 operations, a 1×3 then 3×1 pair has 3 + 3 = 6. Mixed_6e's
    1×7 then 7×1 pair (192 → 192 → 192 channels) is the n = 7 case: 14 instead of 49."""
    layers = _layers(v3)
    pair = [layers["Mixed_6e.branch7x7_2.conv"], layers["Mixed_6e.branch7x7_3.conv"]]
    assert sum(layer.weights for layer in pair) == (7 + 7) * 192 * 192
    assert sum(layer.macs for layer in pair) == (7 + 7) * 192 * 192 * 17 * 17


def test_v3_paper_abstract_figures(v3):
    """ "a computational cost of 5 billion multiply-adds per inference and with using less
    than 25 million parameters"."""
    assert within_last_digit(v3.totals.macs, "5 G")
    assert v3.totals.params < 25_000_000


def test_seed002_inception_v3_rows(v3):
    """EfficientNet table: "24M ... 5.7B" is the inference model. "At a glance": "27.2M
    5.71" is torchvision's num_params, which includes the training-only AuxLogits head,
    and its _ops: with the head, 27.2M; the network that runs at inference has 23.8M."""
    assert matches_printed(v3.totals.params, "24M")
    assert matches_printed(v3.totals.macs, "5.7 G")
    assert matches_printed(v3.totals.train_params, "27.2M")
    assert not matches_printed(v3.totals.params, "27.2M")
    assert matches_printed(v3.totals.macs, "5.71 G")


def test_v4_stem_and_module_shapes(v4):
    """Figure 3 (stem: 35×35×384), Figure 9 (17×17×1024 after Reduction-A, 8×8×1536 after
    Reduction-B)."""
    layers = _layers(v4)
    assert layers["v4.mixed_3a.concat"].output_shape == (160, 73, 73)
    assert layers["v4.mixed_4a.concat"].output_shape == (192, 71, 71)
    assert layers["v4.mixed_5a.concat"].output_shape == (384, 35, 35)
    assert layers["v4.reduction_a.concat"].output_shape == (1024, 17, 17)
    assert layers["v4.reduction_b.concat"].output_shape == (1536, 8, 8)
    assert layers["v4.inception_c.2.concat"].output_shape == (1536, 8, 8)


@pytest.mark.parametrize(
    ("model", "prefix", "klmn", "c_in"),
    [
        ("inception_v4", "v4.reduction_a", (192, 224, 256, 384), 384),
        ("inception_resnet_v2", "resnet_v2.mixed_6a", (256, 256, 384, 384), 320),
    ],
)
def test_reduction_a_follows_table1(model, prefix, klmn, c_in):
    """Table 1: Reduction-A's 1×1 k, 3×3 l, 3×3/2 m, and 3×3/2 n filters."""
    k, l, m, n = klmn  # noqa: E741 (the paper's names)
    layers = _layers(cnncost.analyze(model))
    assert layers[f"{prefix}.branch0.conv"].weights == 9 * c_in * n
    assert layers[f"{prefix}.branch1.conv1.conv"].weights == c_in * k
    assert layers[f"{prefix}.branch1.conv2.conv"].weights == 9 * k * l
    assert layers[f"{prefix}.branch1.conv3.conv"].weights == 9 * l * m
    assert layers[f"{prefix}.concat"].output_shape[0] == n + m + c_in


def test_irv2_released_structure(irv2):
    """tensorflow/models#1553: 10, 20 and 10 residual blocks (the last Block8 without its
    ReLU), 320, 1088 and 2080 channels, and a final 1×1 conv to 1536."""
    layers = _layers(irv2)
    adds = [layer for layer in irv2.layers if layer.op == "add"]
    widths = [layer.output_shape[0] for layer in adds]
    assert widths == [320] * 10 + [1088] * 20 + [2080] * 10
    assert "resnet_v2.block8.relu" not in layers
    assert "resnet_v2.repeat_2.8.relu" in layers
    assert layers["resnet_v2.conv2d_7b.conv"].output_shape == (1536, 8, 8)


def test_timm_benchmark_gmacs_also_count_batch_norm(v4, irv2):
    """timm's benchmark CSV gives infer_gmacs 12.28 (Inception-v4) and 13.18
    (Inception-ResNet-v2). Those add batch norm's 2 ops per element to the conv and linear
    MACs; without them (cnncost's MACs, torchvision's convention) the models have 12.25 G
    and 13.16 G, which the timm model cards print as 12.3 and 13.2."""
    for report, benchmark, card in ((v4, "12.28 G", "12.3 G"), (irv2, "13.18 G", "13.2 G")):
        bn = sum(layer.elementwise for layer in report.layers if layer.op == "batchnorm")
        assert not matches_printed(report.totals.macs, benchmark)
        assert matches_printed(report.totals.macs + bn, benchmark)
        assert matches_printed(report.totals.macs, card)


def test_seed002_inception_v4_and_irv2_rows(v4, irv2):
    """EfficientNet table: Inception-resnet-v2 "56M ... 13B" holds; Inception-v4 "13B" is
    within its last digit (12.25 G). Inception-v4's "48M" is not reproduced: timm's model
    has 42.68M; TF-Slim's auxiliary head (not in timm's model) would add 3.36M, giving
    46.0M, still not 48M. The EfficientNet paper does not say how it counted."""
    assert matches_printed(irv2.totals.params, "56M")
    assert matches_printed(irv2.totals.macs, "13 G")
    assert within_last_digit(v4.totals.macs, "13 G")
    # TF-Slim AuxLogits on Mixed_6h (17×17×1024): 1×1 conv 128 and 5×5 conv 768, each
    # with batch norm (2 per channel as counted here), then fc 768 → 1000
    aux = 1024 * 128 + 2 * 128 + 128 * 25 * 768 + 2 * 768 + 768 * 1000 + 1000
    assert matches_printed(aux, "3.36M")
    for params in (v4.totals.params, v4.totals.params + aux):
        assert not within_last_digit(params, "48M")
