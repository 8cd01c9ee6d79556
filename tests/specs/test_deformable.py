"""Deformable ConvNets (specs/deformable.yaml): the structure Dai et al. 2017 and Zhu et al.
2019 (DCNv2) describe, and the totals as torchvision's published ResNet counts plus exactly
the offset convs the papers add.

No paper or torchvision table gives the parameters or MACs of these exact networks, so the
totals are checked by construction: a deformable 3×3 conv keeps the plain conv's weights and
MACs and adds an offset conv of (2, or 3 when modulated)·offset_groups·9 output channels with
the same kernel, stride and dilation (Dai et al. Section 2.1; DCNv2 Section 3.2).
"""

from __future__ import annotations

import pytest

import cnncost

RESNET50_PARAMS = 25_557_032  # torchvision ResNet50_Weights.IMAGENET1K_V1 num_params
RESNET101_PARAMS = 44_549_160  # torchvision ResNet101_Weights.IMAGENET1K_V1 num_params


def _offset_conv(c_in, channels_per_group, groups=1):
    """Weights and biases of a 3×3 offset conv over c_in channels."""
    out = channels_per_group * groups * 9
    return out * 9 * c_in + out


@pytest.fixture(scope="module")
def reports():
    names = (
        "resnet101_atrous",
        "deform_resnet101",
        "deform_resnet101_dg4",
        "resnet50",
        "resnet50_dcn_c5",
        "resnet50_dcn_c3_c5",
        "resnet50_dcnv2_c3_c5",
    )
    return {name: cnncost.analyze(name) for name in names}


def _deformable(report):
    return [layer for layer in report.layers if layer.op == "deform_conv2d"]


def _layer(report, name):
    return next(layer for layer in report.layers if layer.name == name)


def _attrs(model, name):
    """A layer's resolved attributes, from the built graph."""
    return next(node.attrs for node in cnncost.build_graph(model).nodes if node.name == name)


# --- the paper's ResNet-101 feature network ---------------------------------------------


def test_paper_network_has_stride_16_and_1024_channels(reports):
    """Section 2.3: conv5 at stride 1 (effective stride 16, not 32), avgpool and fc removed,
    a 1×1 conv to 1024 channels added."""
    report = reports["deform_resnet101"]
    assert report.input_shape == (3, 600, 800)
    assert report.output_shape == (1024, 600 // 16 + 1, 800 // 16)  # 38×50 (ceil-mode pool)
    names = {layer.name for layer in report.layers}
    assert "fc" not in names and "avgpool" not in names
    assert _layer(report, "conv_new_1").params == 2048 * 1024 + 1024


def test_paper_network_deforms_the_last_three_3x3_convs(reports):
    """Table 1's default: deformable conv in res5a, res5b and res5c (the 3×3 convs of conv5),
    dilation 2 as every 3×3 filter of conv5 (Section 2.3)."""
    report = reports["deform_resnet101"]
    assert [layer.name for layer in _deformable(report)] == [
        "layer4.0.conv2",
        "layer4.1.conv2",
        "layer4.2.conv2",
    ]
    for layer in _deformable(report):
        attrs = _attrs("deform_resnet101", layer.name)
        assert attrs["dilation"] == (2, 2)
        assert attrs["padding"] == (2, 2)
        assert attrs["stride"] == (1, 1)
        assert attrs["offset_groups"] == 1
        assert layer.output_shape == (512, 38, 50)
    assert _layer(report, "layer3.22.conv2").op == "conv2d"


def test_plain_feature_network_is_torchvision_resnet101_without_fc_plus_the_1x1_conv(reports):
    """The stride change, the dilation and v1's stride placement change no weights."""
    fc = 2048 * 1000 + 1000
    conv_new_1 = 2048 * 1024 + 1024
    assert reports["resnet101_atrous"].totals.params == RESNET101_PARAMS - fc + conv_new_1
    assert _deformable(reports["resnet101_atrous"]) == []


def test_deformable_convs_add_only_their_offset_convs(reports):
    plain, deform = reports["resnet101_atrous"], reports["deform_resnet101"]
    # Section 2.1: 2N = 18 offset channels for a 3×3 conv, over the 512 channels of conv5.
    assert deform.totals.params - plain.totals.params == 3 * _offset_conv(512, 2) == 248_886
    positions = 38 * 50
    assert deform.totals.macs - plain.totals.macs == 3 * 18 * positions * 9 * 512
    for name in ("layer4.0.conv2", "layer4.1.conv2", "layer4.2.conv2"):
        offset_macs = 18 * positions * 9 * 512
        assert _layer(deform, name).macs - offset_macs == _layer(plain, name).macs


def test_released_code_predicts_four_offset_groups(reports):
    """msracver/Deformable-ConvNets: res5*_branch2b_offset has 72 = 4 · 2 · 9 channels."""
    plain, dg4 = reports["resnet101_atrous"], reports["deform_resnet101_dg4"]
    assert dg4.totals.params - plain.totals.params == 3 * _offset_conv(512, 2, 4) == 995_544


# --- ResNet-50 with deformable stages -----------------------------------------------------


def test_dcn_c5_is_torchvision_resnet50_plus_three_offset_convs(reports):
    base, dcn = reports["resnet50"], reports["resnet50_dcn_c5"]
    assert dcn.totals.params == RESNET50_PARAMS + 3 * _offset_conv(512, 2)
    # Each offset conv has its conv's stride: 7×7 outputs, the first reading 14×14 at stride 2.
    assert dcn.totals.macs - base.totals.macs == 3 * 18 * 7 * 7 * 9 * 512
    assert _attrs("resnet50_dcn_c5", "layer4.0.conv2")["stride"] == (2, 2)
    assert dcn.output_shape == (1000,)


def test_dcnv2_deforms_every_3x3_conv_of_conv3_to_conv5(reports):
    """DCNv2 Section 3.1: all 3×3 convs of conv3, conv4 and conv5 in ResNet-50. The paper
    says "Thus, there are 12 layers of deformable convolution"; ResNet-50 has 4 + 6 + 3 = 13
    units in those stages (He et al. Table 1), so there are 13."""
    report = reports["resnet50_dcnv2_c3_c5"]
    layers = _deformable(report)
    assert len(layers) == 4 + 6 + 3 == 13
    assert {layer.name.split(".")[0] for layer in layers} == {"layer2", "layer3", "layer4"}
    assert all(_attrs("resnet50_dcnv2_c3_c5", layer.name)["modulated"] for layer in layers)
    # 3K offset-conv channels (2K offsets, K modulation logits), K = 9 (Section 3.2)
    widths = [128] * 4 + [256] * 6 + [512] * 3
    added = sum(_offset_conv(width, 3) for width in widths)
    assert report.totals.params == RESNET50_PARAMS + added


def test_dcn_c3_c5_without_modulation(reports):
    report = reports["resnet50_dcn_c3_c5"]
    widths = [128] * 4 + [256] * 6 + [512] * 3
    assert report.totals.params == RESNET50_PARAMS + sum(_offset_conv(w, 2) for w in widths)
    layers = _deformable(report)
    assert len(layers) == 13
    assert not any(_attrs("resnet50_dcn_c3_c5", layer.name)["modulated"] for layer in layers)


def test_state_dict_keys_follow_mmcv_deformconv2dpack():
    torch = pytest.importorskip("torch")
    from cnncost.backend.module import build_module

    module = build_module(cnncost.build_graph("resnet50_dcn_c5"))
    keys = module.state_dict().keys()
    assert {"layer4.0.conv2.weight", "layer4.0.conv2.conv_offset.weight"} <= keys
    assert "layer4.0.conv2.bias" not in keys
    assert isinstance(module.get_submodule("layer3.0.conv2"), torch.nn.Conv2d)
