"""The ResNet family: ResNeXt and Wide ResNet (specs/resnet.yaml), pre-activation ResNet
(specs/preact_resnet.yaml) and SE-ResNet / SENet-154 (specs/se_resnet.yaml).

torchvision's num_params and _ops, and the papers' own table figures, are checked by
tests/test_zoo_expected.py. This file checks the structure the papers describe, the
figures they state in their text, and seed 002's claims for these models.
"""

from __future__ import annotations

import pytest
from conftest import matches_printed, within_last_digit

import cnncost


def _layer(report, name):
    return next(layer for layer in report.layers if layer.name == name)


def _weights(report, ops=("conv2d", "linear")):
    return sum(layer.weights for layer in report.layers if layer.op in ops)


@pytest.fixture(scope="module")
def reports():
    names = (
        "resnet50",
        "resnet50_v1",
        "resnet101",
        "resnet152",
        "resnet152_v1",
        "resnext50_32x4d",
        "resnext101_32x8d",
        "resnext101_64x4d",
        "wide_resnet50_2",
        "wide_resnet101_2",
        "preact_resnet164",
        "preact_resnet1001",
        "preact_resnet200",
        "se_resnet50",
        "se_resnext50_32x4d",
        "senet154",
    )
    return {name: cnncost.analyze(name) for name in names}


# --- ResNeXt and Wide ResNet ---------------------------------------------------------------

# The grouped 3×3 conv of each stage: (width, groups). ResNeXt Table 1 gives 128, 256,
# 512, 1024 with C = 32 for 32×4d; a C×d template is C·d wide in conv2 and doubles per
# stage. Wide ResNet-50-2 doubles ResNet-50's bottleneck (WRN paper, Section 3: "wider
# inner bottleneck 3×3 convolution").
GROUPED_3X3 = {
    "resnext50_32x4d": ([128, 256, 512, 1024], 32),
    "resnext101_32x8d": ([256, 512, 1024, 2048], 32),
    "resnext101_64x4d": ([256, 512, 1024, 2048], 64),
    "wide_resnet50_2": ([128, 256, 512, 1024], 1),
    "wide_resnet101_2": ([128, 256, 512, 1024], 1),
}


@pytest.mark.parametrize("model", sorted(GROUPED_3X3))
def test_bottleneck_inner_width_and_groups(reports, model):
    widths, groups = GROUPED_3X3[model]
    report = reports[model]
    for stage, width in enumerate(widths, start=1):
        conv2 = _layer(report, f"layer{stage}.1.conv2")
        assert conv2.output_shape[0] == width
        assert conv2.weights == width * (width // groups) * 3 * 3
        # the block's output width is ResNet's 4·planes, whatever the inner width
        assert _layer(report, f"layer{stage}.1.conv3").output_shape[0] == 256 * 2 ** (stage - 1)


def test_resnext_template_keeps_resnet_block_size(reports):
    """ResNeXt Eq. 4: a 32×4d template has C·(256·d + 3·3·d·d + d·256) ≈ 70k parameters,
    like ResNet's 256·64 + 3·3·64·64 + 64·256 ≈ 70k (conv2 stage, identity block)."""

    def block_conv_weights(report):
        return sum(
            layer.weights
            for layer in report.layers
            if layer.name.startswith("layer1.1.conv") and layer.op == "conv2d"
        )

    assert block_conv_weights(reports["resnext50_32x4d"]) == 32 * (256 * 4 + 9 * 4 * 4 + 4 * 256)
    assert block_conv_weights(reports["resnet50"]) == 256 * 64 + 9 * 64 * 64 + 64 * 256
    assert matches_printed(block_conv_weights(reports["resnext50_32x4d"]), "70K")
    assert matches_printed(block_conv_weights(reports["resnet50"]), "70K")


def test_resnext_table1_figures(reports):
    """ResNeXt Table 1: ResNet-50 25.5×10⁶ params, 4.1×10⁹ FLOPs (multiply-adds, Section
    3.1); ResNeXt-50 (32×4d) 25.0×10⁶ and 4.2×10⁹. The paper strides the 3×3 conv
    (Section 4), as torchvision does, so these are resnet50 and resnext50_32x4d."""
    resnet50, resnext50 = reports["resnet50"], reports["resnext50_32x4d"]
    assert matches_printed(resnext50.totals.params, "25.0M")
    assert matches_printed(resnext50.totals.macs, "4.2G")
    assert matches_printed(resnet50.totals.macs, "4.1G")
    # 25,557,032 prints 25.6M; the table's 25.5 is the conv and FC weights alone
    assert resnet50.totals.params == 25_557_032
    assert within_last_digit(resnet50.totals.params, "25.5M")
    assert matches_printed(_weights(resnet50), "25.5M")


@pytest.mark.parametrize(
    ("model", "figure"),
    [
        # Wide Residual Networks, Table 8 (#params of the ImageNet bottleneck ResNets)
        ("resnet50", "25.6M"),
        ("resnet101", "44.5M"),
        ("resnet152", "60.2M"),
        ("wide_resnet50_2", "68.9M"),
        ("preact_resnet200", "64.7M"),
    ],
)
def test_wrn_table8_parameter_counts(reports, model, figure):
    assert matches_printed(reports[model].totals.params, figure)


# --- pre-activation ResNet -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "depth"),
    [("preact_resnet164", 164), ("preact_resnet1001", 1001), ("preact_resnet200", 200)],
)
def test_depth_is_the_name(reports, model, depth):
    """Depth counts the weighted layers on the main path: the first conv, three convs per
    bottleneck unit, the FC (projection shortcuts are not counted). CIFAR: 9n + 2."""
    weighted = [
        layer
        for layer in reports[model].layers
        if layer.op in ("conv2d", "linear") and not layer.name.endswith(".shortcut")
    ]
    assert len(weighted) == depth


def test_cifar_units_per_stage_and_shapes(reports):
    """Paper, Section 4.1: ResNet-1001 has 333 units, 111 on each feature map size; the
    bottleneck ResNet-164 replaces ResNet-110's [3×3, 16]×2 with [1×1, 16; 3×3, 16; 1×1, 64]
    (appendix), so the stages end at 32×32×64, 16×16×128 and 8×8×256."""
    r1001 = reports["preact_resnet1001"]
    adds = [layer for layer in r1001.layers if layer.op == "add"]
    assert len(adds) == 333
    for stage, shape in enumerate([(64, 32, 32), (128, 16, 16), (256, 8, 8)], start=1):
        assert sum(1 for a in adds if a.name.startswith(f"layer{stage}.")) == 111
        assert _layer(reports["preact_resnet164"], f"layer{stage}.17.add").output_shape == shape
    assert _layer(reports["preact_resnet164"], "layer1.1.conv1").output_shape[0] == 16


@pytest.mark.parametrize("model", ["preact_resnet164", "preact_resnet200"])
def test_full_preactivation_ordering(reports, model):
    """Fig. 4(e): BN and ReLU come before every weight layer, nothing follows the
    addition, and the last unit is followed by one extra BN-ReLU (appendix)."""
    report = reports[model]
    by_name = {layer.name: layer for layer in report.layers}
    consumers = {}
    for layer in report.layers:
        for source in layer.inputs:
            consumers.setdefault(source, []).append(layer)
    for layer in report.layers:
        if layer.op == "add":
            assert all(c.op != "relu" for c in consumers.get(layer.name, []))
        if layer.op == "conv2d" and layer.name not in ("conv1", "stem.conv"):
            source = by_name[layer.inputs[0]]
            if source.op == "relu":
                assert by_name[source.inputs[0]].op == "batchnorm"
            else:
                # only the ImageNet net's first unit, which reads the stem's max pool
                # (conv, BN, ReLU, pool: "the first activation right after conv1")
                assert (model, source.name) == ("preact_resnet200", "stem.maxpool")
    last_add = [layer for layer in report.layers if layer.op == "add"][-1]
    tail = [layer.op for layer in report.layers[report.layers.index(last_add) + 1 :]]
    assert tail == ["batchnorm", "relu", "global_avgpool", "flatten", "linear"]


def test_projection_shortcuts_are_preactivated_too(reports):
    """Appendix: "when pre-activation is used, these projection shortcuts are also with
    pre-activation": a projecting unit's shortcut and residual path read one BN-ReLU."""
    report = reports["preact_resnet164"]
    for stage in (1, 2, 3):
        shortcut = _layer(report, f"layer{stage}.0.shortcut")
        conv1 = _layer(report, f"layer{stage}.0.conv1")
        assert shortcut.inputs == conv1.inputs == (f"layer{stage}.0.shared_preact.relu",)


def test_cifar_parameter_counts(reports):
    """Table 4: ResNet-164 (1.7M), ResNet-1001 (10.2M). ResNet-164 prints 1.7M either way;
    ResNet-1001's 10.2M is its conv and FC weights alone (recorded as 'differs' in the
    spec, with the reason): batch norm's 149,216 parameters make it 10.3M."""
    r164, r1001 = reports["preact_resnet164"], reports["preact_resnet1001"]
    assert matches_printed(r164.totals.params, "1.7M")
    assert matches_printed(_weights(r164), "1.7M")
    assert matches_printed(_weights(r1001), "10.2M")
    assert matches_printed(r1001.totals.params, "10.3M")


# --- SE-ResNet and SENet-154 ---------------------------------------------------------------

# SE paper Table 1: the output dimensions of the two FCs of each stage's SE module.
SE_FC = [(16, 256), (32, 512), (64, 1024), (128, 2048)]


@pytest.mark.parametrize("model", ["se_resnet50", "se_resnext50_32x4d"])
def test_se_fc_dimensions_follow_table1(reports, model):
    for stage, (down, up) in enumerate(SE_FC, start=1):
        assert _layer(reports[model], f"layer{stage}.0.se.fc1").output_shape == (down, 1, 1)
        assert _layer(reports[model], f"layer{stage}.0.se.fc2").output_shape == (up, 1, 1)


def test_se_acts_on_the_residual_branch_before_the_addition(reports):
    """Section 3.3: "Squeeze and Excitation both act before summation with the identity
    branch"; the scale multiplies the branch by the sigmoid gates (Eq. 4)."""
    report = reports["se_resnet50"]
    for unit in ("layer1.0", "layer3.4"):
        scale = _layer(report, f"{unit}.se.scale")
        assert scale.op == "multiply"
        assert scale.inputs == (f"{unit}.bn3", f"{unit}.se.gate")
        assert _layer(report, f"{unit}.se.gate").op == "sigmoid"
        assert _layer(report, f"{unit}.add").inputs[0] == scale.name


def test_se_resnet50_added_parameters_and_cost(reports):
    """Eq. 5: the SE FCs add (2/r)·Σ N_s·C_s² weights; Section 4: "~2.5 million additional
    parameters beyond the ~25 million parameters required by ResNet-50, corresponding to
    a ~10% increase", "~4%" without the final stage's SE blocks; SE-ResNet-50 ~3.87 GFLOPs
    against ResNet-50's ~3.86 (the Caffe ResNet: stride in the first 1×1, resnet50_v1)."""
    se, base = reports["se_resnet50"], reports["resnet50_v1"]
    fc_weights = sum(
        layer.weights for layer in se.layers if ".se.fc" in layer.name and layer.op == "conv2d"
    )
    depths, channels = [3, 4, 6, 3], [256, 512, 1024, 2048]
    assert fc_weights == 2 * sum(n * c * c for n, c in zip(depths, channels, strict=True)) // 16
    assert fc_weights == 2_514_944
    assert matches_printed(fc_weights, "2.5M")
    added = se.totals.params - base.totals.params
    assert round(100 * added / base.totals.params) == 10
    last_stage = sum(
        layer.params
        for layer in se.layers
        if layer.name.startswith("layer4.") and ".se." in layer.name
    )
    assert round(100 * (added - last_stage) / base.totals.params) == 4
    # the SE FCs act on C×1×1, so their MACs equal their weights: a 0.07% increase
    assert se.totals.macs - base.totals.macs == fc_weights
    assert matches_printed(base.totals.macs, "3.86G")


def test_senet154_structure(reports):
    """SE paper appendix: a 64×4d ResNeXt-152 with (a) the first 1×1 conv of each unit
    halved, (b) three 3×3 convs for the 7×7 stem, (c) 3×3 stride-2 projections, (d) dropout
    0.2 before the classifier."""
    report = reports["senet154"]
    assert sum(1 for layer in report.layers if layer.op == "add") == 3 + 8 + 36 + 3
    assert _layer(report, "layer1.0.conv1").output_shape[0] == 128  # half of 64·4
    assert _layer(report, "layer1.0.conv2").output_shape[0] == 256
    assert [_layer(report, f"stem.conv{i}.conv").output_shape[0] for i in (1, 2, 3)] == [
        64,
        64,
        128,
    ]
    assert _layer(report, "layer2.0.downsample.conv").weights == 512 * 256 * 3 * 3
    assert _layer(report, "layer1.0.downsample.conv").weights == 256 * 128  # stride 1: still 1×1
    assert _layer(report, "dropout").op == "dropout"
    assert report.totals.params == 115_088_984


# --- seed 002: the EfficientNet comparison table -------------------------------------------
# "ResNet-50 … 26M 4.1B", "ResNet-152 … 60M 11B", "ResNeXt-101 … 80.9% 95.6% 84M 32B",
# "SENet … 82.7% 96.2% 146M 42B". The ResNeXt and SENet accuracies are their papers'
# 320×320 single-crop results (ResNeXt Table 5, SE Table 8), so their B (GMACs) are too.


def test_seed002_resnext101_row_is_64x4d_at_320():
    report = cnncost.analyze("resnext101_64x4d", input_shape=(3, 320, 320))
    assert matches_printed(report.totals.macs, "32B")
    # 83,455,272 prints 83M; the slide's 84M is one unit off in its last digit
    assert report.totals.params == 83_455_272
    assert not matches_printed(report.totals.params, "84M")
    assert within_last_digit(report.totals.params, "84M")


def test_seed002_senet_row_is_senet154_at_320():
    report = cnncost.analyze("senet154", input_shape=(3, 320, 320))
    assert report.totals.macs == 42_212_171_776
    assert matches_printed(report.totals.macs, "42B")
    # the row's 146M is not reproduced (recorded as 'differs' on senet154, with the reason)
    assert not within_last_digit(report.totals.params, "146M")


def test_seed002_resnet_rows_mix_the_two_builds(reports):
    """The ResNet-50 row's 4.1B is torchvision's v1.5 build (the paper's v1 is 3.9B); the
    ResNet-152 row's 11B is the paper's v1 (torchvision's v1.5 prints 12B)."""
    assert matches_printed(reports["resnet50"].totals.params, "26M")
    assert matches_printed(reports["resnet50"].totals.macs, "4.1B")
    assert not matches_printed(reports["resnet50_v1"].totals.macs, "4.1B")
    assert matches_printed(reports["resnet152"].totals.params, "60M")
    assert matches_printed(reports["resnet152_v1"].totals.macs, "11B")
    assert not matches_printed(reports["resnet152"].totals.macs, "11B")
