"""Training-only branches (auxiliary classifiers) and survival probabilities (stochastic
depth): what they add to the training totals and what they leave out of inference."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from cnncost.build import build
from cnncost.errors import SpecError
from cnncost.report import analyze_graph
from cnncost.spec import loads_spec

AUX = """
name: aux
input: [3, 8, 8]
output: fc
layers:
  conv: {op: conv2d, out: 4, kernel: 3, padding: 1}
  pool: {op: global_avgpool}
  flat: {op: flatten}
  fc: {op: linear, out: 10}
  aux:
    from: conv
    train_only: true
    layers:
      pool: {op: global_avgpool}
      flat: {op: flatten}
      fc: {op: linear, out: 10}
"""


def _report(text: str, **kw):
    return analyze_graph(build(loads_spec(text, "net.yaml"), **kw))


def test_training_only_layers_are_listed_but_left_out_of_inference():
    report = _report(AUX)
    conv = 4 * 27 + 4  # weights + biases
    fc = 4 * 10 + 10
    assert report.totals.params == conv + fc
    assert report.totals.train_params == conv + 2 * fc
    assert report.totals.macs == 4 * 64 * 27 + 40
    assert report.totals.train_macs == 4 * 64 * 27 + 2 * 40
    flags = {layer.name: layer.train_only for layer in report.layers}
    assert flags["aux.fc"] and flags["aux.pool"] and not flags["fc"]
    assert report.to_dict()["layers"][-1]["train_only"] is True


def test_an_inference_layer_may_not_read_a_training_only_one():
    text = AUX.replace(
        "  fc: {op: linear, out: 10}\n  aux:", "  fc: {op: linear, out: 10, from: aux}\n  aux:"
    )
    with pytest.raises(SpecError, match="training-only layer"):
        _report(text)


def test_the_output_may_not_be_training_only():
    with pytest.raises(SpecError, match=r"output 'aux\.fc' is a training-only layer"):
        _report(AUX.replace("output: fc\n", ""))


SURVIVAL = """
name: sd
input: [2, 4, 4]
layers:
  unit:
    repeat: 4
    survival: "1 - (repeat_index + 1) / 4 * 0.5"
    op: conv2d
    out: 2
    kernel: 1
    bias: false
  head: {op: conv2d, out: 2, kernel: 1, bias: false}
"""


def test_survival_weighs_training_macs():
    report = _report(SURVIVAL)
    per_conv = 2 * 16 * 2  # 2 outputs × 4×4 positions × 2 input channels
    assert report.totals.macs == 5 * per_conv
    # p_l = 1 − l/4 · 0.5 for l = 1..4: 0.875 + 0.75 + 0.625 + 0.5 = 2.75, plus the head.
    assert report.totals.train_macs == round((2.75 + 1) * per_conv)
    eighths = [Fraction(k, 8) for k in (7, 6, 5, 4, 8)]
    assert [layer.survival for layer in report.layers[1:]] == eighths
    assert report.totals.train_params == report.totals.params


def test_survival_must_be_a_probability():
    with pytest.raises(SpecError, match=r"'survival' must be a probability in \(0, 1\]"):
        _report(SURVIVAL.replace('0.5"', '2"'))


def test_output_is_an_argument_of_ops():
    """adaptive_avgpool's attribute is called `output`, like the inline-layers key."""
    report = _report(
        "name: p\ninput: [3, 13, 13]\nlayers:\n  pool: {op: adaptive_avgpool, output: 6}\n"
    )
    assert report.output_shape == (3, 6, 6)


def _linear(width: int, out: int, extra: str = "") -> str:
    return f"name: fc\ninput: [{width}]\nlayers:\n  fc: {{op: linear, out: {out}{extra}}}\n"


def test_training_macs_equal_inference_macs_when_nothing_is_dropped():
    """99,999,999 → 99,999,999: 9,999,999,800,000,001 MACs, past a float's 2**53."""
    report = _report(_linear(99_999_999, 99_999_999))
    assert report.totals.macs == 99_999_999**2
    assert report.totals.train_macs == report.totals.macs


def test_huge_training_macs_do_not_overflow():
    """10**160 → 10**160 is 10**320 MACs, beyond the largest float (about 1.8e308)."""
    report = _report(_linear(10**160, 10**160))
    assert report.totals.train_macs == report.totals.macs == 10**320


NESTED_SURVIVAL = """
name: nested
input: [10]
blocks:
  unit:
    params: {p: 1}
    layers:
      inner:
        survival: p
        layers:
          fc: {op: linear, out: 5}
layers:
  outer:
    survival: 0.1
    layers:
      unit: {block: unit, p: 0.9}
"""
THIRD = (
    NESTED_SURVIVAL.split("layers:\n  outer:")[0] + "layers:\n  third: {block: unit, p: 1 / 3}\n"
)


def test_survival_is_exact_and_the_expectation_is_rounded_once_half_to_even():
    """0.1 × 0.9 is exactly 9/100 (in floating point, 0.09000000000000001), and a block
    parameter 1 / 3 stays a third. fc's 50 MACs (10 → 5), weighted 9/100, expect 4.5,
    which rounds half to even to 4; the float product, 4.500000000000001, rounds to 5."""
    report = _report(NESTED_SURVIVAL)
    assert report.layers[-1].survival == Fraction(9, 100)
    assert report.totals.macs == 50
    assert report.expected_train_macs == Fraction(9, 2)
    assert report.totals.train_macs == 4


def test_a_survival_given_through_a_block_parameter_stays_exact():
    report = _report(THIRD)
    assert report.layers[-1].name == "third.inner.fc"
    assert report.layers[-1].survival == Fraction(1, 3)
    assert report.expected_train_macs == Fraction(50, 3)
    assert report.totals.train_macs == 17


def test_json_shows_survival_as_a_number_and_exactly():
    layers = json.loads(json.dumps(_report(THIRD).to_dict()))["layers"]
    fc = next(layer for layer in layers if layer["name"] == "third.inner.fc")
    assert fc["survival"] == 1 / 3
    assert fc["survival_fraction"] == "1/3"
    assert Fraction(fc["survival_fraction"]) == Fraction(1, 3)
