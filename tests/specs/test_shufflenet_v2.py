"""ShuffleNet V2 (specs/shufflenet_v2.yaml): the units of Fig. 3 (c, d) and Table 5's
stage widths. torchvision's figures are checked by tests/test_zoo_expected.py.

References: Ma et al. 2018, Table 5 (output channels of Stage2-4 and Conv5 for 0.5×, 1×,
1.5×, 2×; repeats 1 + 3, 1 + 7, 1 + 3) and Fig. 3.
"""

from __future__ import annotations

import pytest

import cnncost

TABLE5 = {
    "shufflenet_v2_x0_5": (48, 96, 192, 1024),
    "shufflenet_v2_x1_0": (116, 232, 464, 1024),
    "shufflenet_v2_x1_5": (176, 352, 704, 1024),
    "shufflenet_v2_x2_0": (244, 488, 976, 2048),
}


@pytest.mark.parametrize("model", sorted(TABLE5))
def test_table5_widths_and_repeats(model):
    report = cnncost.analyze(model)
    layers = {layer.name: layer for layer in report.layers}
    for stage, channels, side, units in zip(
        ("stage2", "stage3", "stage4"), TABLE5[model][:3], (28, 14, 7), (4, 8, 4), strict=True
    ):
        assert layers[f"{stage}.{units - 1}.shuffle"].output_shape == (channels, side, side)
        assert f"{stage}.{units}.shuffle" not in layers
    assert layers["conv5.conv"].output_shape == (TABLE5[model][3], 7, 7)


def test_stride1_unit_splits_and_shuffles():
    report = cnncost.analyze("shufflenet_v2_x1_0")
    layers = {layer.name: layer for layer in report.layers}
    assert layers["stage3.1.left"].op == "channel_split"
    assert layers["stage3.1.left"].output_shape == (116, 14, 14)
    assert layers["stage3.1.right"].output_shape == (116, 14, 14)
    assert layers["stage3.1.main.pw1.conv"].weights == 116 * 116
    assert layers["stage3.1.concat"].output_shape == (232, 14, 14)
    assert layers["stage3.1.shuffle"].op == "channel_shuffle"
    # the split halves are views: nothing stored
    assert layers["stage3.1.left"].activations == 0


def test_stride2_unit_runs_two_branches_on_the_whole_input():
    report = cnncost.analyze("shufflenet_v2_x1_0")
    layers = {layer.name: layer for layer in report.layers}
    assert "stage3.0.left" not in layers
    assert layers["stage3.0.down.dw.conv"].output_shape == (116, 14, 14)
    assert layers["stage3.0.down.pw.conv"].output_shape == (116, 14, 14)
    assert layers["stage3.0.main.pw1.conv"].weights == 116 * 116  # reads all 116 inputs
    assert layers["stage3.0.main.dw.conv"].output_shape == (116, 14, 14)
    assert layers["stage3.0.concat"].output_shape == (232, 14, 14)
