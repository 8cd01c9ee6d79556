"""Seed 001 ("CNN Backbone Architectures"): the VGG16 table and the Inception module example.

Reference values are the slide's own figures (tests/reference/seed001.yaml); where the
slide's total disagrees with its rows, the disagreement is asserted, with the published
figure, rather than bent to fit.
"""

from __future__ import annotations

import math

import pytest
from conftest import matches_printed, printed, reference

import cnncost

SEED = reference("seed001")
TABLE_OPS = {"input", "conv2d", "maxpool", "linear"}


@pytest.fixture(scope="module")
def vgg16():
    """The slide's table is the paper's VGG16: no adaptive pool before the classifier."""
    return cnncost.analyze("vgg16_paper")


def _table_rows(report):
    """The layers the slide lists: input, convs, pools and FCs (ReLU/dropout are not rows)."""
    return [layer for layer in report.layers if layer.op in TABLE_OPS]


def test_vgg16_has_the_slides_rows_in_order(vgg16):
    rows = SEED["vgg16_table"]["rows"]
    ours = _table_rows(vgg16)
    assert len(ours) == len(rows)
    kinds = {"INPUT": "input", "POOL2": "maxpool", "FC": "linear"}
    for layer, row in zip(ours, rows, strict=True):
        assert layer.op == kinds.get(row["layer"], "conv2d"), (layer.name, row)


@pytest.mark.parametrize("index", range(22))
def test_vgg16_row(vgg16, index):
    row = SEED["vgg16_table"]["rows"][index]
    layer = _table_rows(vgg16)[index]
    h, w, c = row["output"]
    if layer.op == "linear":
        assert layer.output_shape == (c,)
    else:
        assert layer.output_shape == (c, h, w)
    # the slide's memory column is H·W·C of the output; its params column excludes biases
    assert layer.activations == h * w * c
    assert layer.weights == row["params"]


def test_vgg16_weights_without_biases_sum_the_slides_column(vgg16):
    column_sum = sum(row["params"] for row in SEED["vgg16_table"]["rows"])
    published = SEED["vgg16_published"]["weights_without_biases"]["value"]
    assert column_sum == published == 138_344_128
    assert vgg16.totals.weights == published
    assert matches_printed(vgg16.totals.weights, SEED["vgg16_table"]["total_params_printed"])


def test_vgg16_parameters_with_biases_match_torchvision(vgg16):
    assert vgg16.totals.params == SEED["vgg16_published"]["params_with_biases"]["value"]
    assert cnncost.analyze("vgg16").totals.params == vgg16.totals.params


def test_torchvisions_vgg16_has_the_slides_rows_and_its_adaptive_pool(vgg16):
    """At 224×224 torchvision's AdaptiveAvgPool2d(7) is the identity, but it stores its
    output: the slide's rows plus 7·7·512 elements, with the same params and MACs."""
    torchvision = cnncost.analyze("vgg16")
    assert [(r.name, r.output_shape) for r in _table_rows(torchvision)] == [
        (r.name, r.output_shape) for r in _table_rows(vgg16)
    ]
    pool = next(r for r in torchvision.layers if r.op == "adaptive_avgpool")
    assert pool.output_shape == (512, 7, 7)
    assert torchvision.totals.activations == vgg16.totals.activations + 7 * 7 * 512
    assert torchvision.totals.macs == vgg16.totals.macs


def test_vgg16_macs_match_the_published_figure(vgg16):
    assert matches_printed(vgg16.totals.macs, SEED["vgg16_published"]["macs"]["value"])
    assert vgg16.totals.flops == 2 * vgg16.totals.macs


def test_vgg16_total_memory_slip_is_recorded(vgg16):
    """The slide says 24M activations (~96 MB); its own rows add up to 15,237,608."""
    rows = SEED["vgg16_table"]["rows"]
    rows_sum = sum(math.prod(row["output"]) for row in rows)
    assert vgg16.totals.activations == rows_sum
    assert vgg16.totals.activation_bytes == 4 * rows_sum
    printed_total, _ = printed(SEED["vgg16_table"]["total_memory_printed"])
    assert not matches_printed(rows_sum, SEED["vgg16_table"]["total_memory_printed"])
    assert abs(rows_sum - printed_total) > 8_000_000  # a real disagreement, not rounding
    assert "15,237,608" in SEED["vgg16_table"]["slip"]


def _conv_macs(report, prefix):
    convs = [
        layer for layer in report.layers if layer.op == "conv2d" and layer.name.startswith(prefix)
    ]
    assert len(convs) == 1, (prefix, [c.name for c in convs])
    return convs[0].macs


@pytest.mark.parametrize("form", ["naive", "bottleneck"])
def test_inception_line_items(form):
    report = cnncost.analyze(f"inception_{form}")
    items = SEED["inception_module"][form]["items"]
    for item in items:
        assert _conv_macs(report, item["branch"] + ".") == math.prod(item["factors"]), item
    convs = [layer for layer in report.layers if layer.op == "conv2d"]
    assert len(convs) == len(items)
    assert report.totals.macs == sum(math.prod(item["factors"]) for item in items)


def test_inception_naive_total_and_output():
    report = cnncost.analyze("inception_naive")
    naive = SEED["inception_module"]["naive"]
    assert report.totals.macs == 854_196_224
    assert matches_printed(report.totals.macs, naive["total_printed"])
    h, w, c = naive["concat_output"]
    assert report.output_shape == (c, h, w)


def test_inception_bottleneck_total_slip_is_recorded():
    """The slide prints 358M; its six line items sum to 271,351,808."""
    report = cnncost.analyze("inception_bottleneck")
    bottleneck = SEED["inception_module"]["bottleneck"]
    items_sum = sum(math.prod(item["factors"]) for item in bottleneck["items"])
    assert report.totals.macs == items_sum == 271_351_808
    assert not matches_printed(items_sum, bottleneck["total_printed"])
    # the likely slip: the 3x3 conv counted on 128 input channels instead of 64
    slipped = items_sum - 28 * 28 * 192 * 3 * 3 * 64 + 28 * 28 * 192 * 3 * 3 * 128
    assert matches_printed(slipped, bottleneck["total_printed"])


def test_bottleneck_saves_the_compute_the_slide_claims():
    naive = cnncost.analyze("inception_naive").totals.macs
    reduced = cnncost.analyze("inception_bottleneck").totals.macs
    assert reduced * 3 < naive  # 271M vs 854M: more than 3x fewer MACs


def test_vgg16_memory_column_is_two_significant_figures():
    """Every rounded memory figure is the row's own H·W·C to two significant figures; ten of
    the nineteen are not roundings at their last printed digit (802,816 is not 800K to the
    nearest K), so only the two-figure reading gives them all one verdict."""
    rows = [r for r in SEED["vgg16_table"]["rows"] if isinstance(r["memory"], str)]
    assert len(rows) == 19
    for row in rows:
        assert matches_printed(math.prod(row["output"]), row["memory"], significant=2), row
    loose = [r for r in rows if not matches_printed(math.prod(r["output"]), r["memory"])]
    assert len(loose) == 10
