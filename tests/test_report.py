"""Report: totals are the sums of the rows, and exact at any size."""

from __future__ import annotations

import pytest

import cnncost
from cnncost.errors import CnnCostError


def test_totals_are_sums_of_the_rows():
    report = cnncost.analyze("resnet152")
    t = report.totals
    assert t.params == sum(layer.params for layer in report.layers) == t.weights + t.biases
    assert t.macs == sum(layer.macs for layer in report.layers)
    assert t.flops == 2 * t.macs
    assert t.activation_bytes == 4 * t.activations
    assert t.param_bytes == 4 * t.params


def test_counts_stay_exact_integers_beyond_float_precision():
    """At batch 2**40, MACs pass 2**53; Python integers keep every digit."""
    one = cnncost.analyze("resnet50").totals.macs
    huge = cnncost.analyze("resnet50", batch=2**40).totals.macs
    assert isinstance(huge, int)
    assert huge == one * 2**40
    assert huge > 2**53


def test_unknown_dtype():
    with pytest.raises(CnnCostError, match="unknown dtype 'fp8'"):
        cnncost.analyze("resnet18", dtype="fp8")


def test_batchnorm_buffers_match_pytorch_state_dict_layout():
    """Each BN holds running mean and variance (C each) and one batch counter."""
    report = cnncost.analyze("resnet18")
    bns = [layer for layer in report.layers if layer.op == "batchnorm"]
    channels = [layer.output_shape[0] for layer in bns]
    assert report.totals.buffers == sum(2 * c + 1 for c in channels)


def test_each_layers_json_line_is_its_dict_encoded():
    """Report JSON writes layers with Layer.json_line for speed; it must equal the encoded
    to_dict key for key, on every built-in (training-only layers and stochastic-depth
    survival fractions included) and at an odd size."""
    import json

    from cnncost.zoo import builtin_models

    checked = 0
    for name in builtin_models():
        for layer in cnncost.analyze(name, batch=3).layers:
            assert layer.json_line() == json.dumps(layer.to_dict()), (name, layer.name)
            checked += 1
    assert checked > 10_000
    for layer in cnncost.analyze("resnet18", input_shape=(3, 193, 257)).layers:
        assert json.loads(layer.json_line()) == layer.to_dict()
