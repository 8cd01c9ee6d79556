"""Report: totals are the sums of the rows, and exact at any size."""

from __future__ import annotations

import pytest

import cnncost
from cnncost.errors import CnnCostError
from cnncost.report import json_lines


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
        layers = cnncost.analyze(name, batch=3).layers
        # json_lines encodes each kind of layer once and shares it among its copies
        for layer, line in zip(layers, json_lines(layers), strict=True):
            assert line == json.dumps(layer.to_dict()), (name, layer.name)
            assert layer.json_line() == line
            checked += 1
    assert checked > 10_000
    layers = cnncost.analyze("resnet18", input_shape=(3, 193, 257)).layers
    for layer, line in zip(layers, json_lines(layers), strict=True):
        assert json.loads(line) == layer.to_dict()


def test_json_lines_keep_layers_of_a_repeated_block_apart(tmp_path):
    """Copies of one block share the encoded middle of their lines; what differs between
    them (name, inputs, receptive field, depth) and what differs between kinds (shape,
    counts, survival) must still come out per layer."""
    import json

    path = tmp_path / "rep.yaml"
    path.write_text(
        "name: rep\ninput: [4, 9, 9]\nblocks:\n  unit:\n    layers:\n"
        "      conv: {op: conv2d, out: 4, kernel: 3, padding: 1}\n"
        "      pool: {op: maxpool, kernel: 2, stride: 1, survival: 0.5}\n"
        "layers:\n  body: {block: unit, repeat: 4}\n",
        encoding="utf-8",
    )
    report = cnncost.analyze(str(path))
    decoded = [json.loads(line) for line in json_lines(report.layers)]
    assert decoded == [layer.to_dict() for layer in report.layers]
    sides = [d["output_shape"][1] for d in decoded]
    assert sides == [9, 9, 8, 8, 7, 7, 6, 6, 5]
    assert [d["survival_fraction"] for d in decoded[1:3]] == ["1", "1/2"]
    assert len({d["receptive_field"][0] for d in decoded}) == len(decoded)
    assert [d["inputs"] for d in decoded[3:5]] == [["body.0.pool"], ["body.1.conv"]]


def test_json_lines_tell_apart_layers_that_differ_in_any_one_field():
    """The shared encoding must never hand one layer another's line: a layer next to a
    copy of itself with any one field changed (shape objects kept shared) gets its own."""
    import dataclasses
    import json
    from fractions import Fraction

    layer = next(r for r in cnncost.analyze("resnet18").layers if r.op == "conv2d")
    other = {
        "name": "x",
        "op": "linear",
        "inputs": ("y",),
        "output_shape": (1, 2, 3),
        "weights": layer.weights + 1,
        "biases": layer.biases + 1,
        "buffers": layer.buffers + 1,
        "macs": layer.macs + 1,
        "elementwise": layer.elementwise + 1,
        "activations": layer.activations + 1,
        "bytes_per_element": 2,
        "train_only": not layer.train_only,
        "survival": Fraction(1, 3),
        "receptive_field": (99, 98),
        "jump": (7, 6),
        "depth": layer.depth + 1,
    }
    assert set(other) == {f.name for f in dataclasses.fields(layer)} - {"quantities"}
    for key, value in other.items():
        changed = dataclasses.replace(layer, **{key: value})
        lines = json_lines([layer, changed, layer])
        assert lines == [json.dumps(r.to_dict()) for r in (layer, changed, layer)], key
