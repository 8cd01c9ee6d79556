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


SMALL_AUX = """
name: aux
input: [3, 32, 32]
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
      pool: {op: avgpool, kernel: 4}
      conv: {op: conv2d, out: 8, kernel: 5}
      gap: {op: global_avgpool}
      flat: {op: flatten}
      fc: {op: linear, out: 10}
"""


def test_a_training_only_branch_that_does_not_fit_is_dropped_with_its_reason():
    """At 16×16 the aux head's 5×5 conv sees a 4×4 map: the branch is left out, the
    inference totals stand, and the training totals say why they are missing."""
    native = _report(SMALL_AUX)
    small = _report(SMALL_AUX, input_shape=(3, 16, 16))
    assert native.dropped == ()
    assert native.totals.train_params == native.totals.params + (8 * 4 * 25 + 8) + (8 * 10 + 10)
    assert small.totals.params == native.totals.params
    assert small.totals.macs == 4 * 16 * 16 * 27 + 40
    assert small.totals.train_params is None and small.totals.train_macs is None
    ((name, reason),) = small.dropped
    assert name == "aux"
    assert "aux.conv" in reason and "collapses to zero" in reason and "net.yaml:" in reason
    assert not any(layer.name.startswith("aux.") for layer in small.layers)
    note = small.training_note
    assert note is not None and "\n" not in note
    assert "'aux'" in note and "3×16×16" in note and "collapses to zero" in note
    data = small.to_dict()
    assert data["dropped_branches"] == [{"name": "aux", "reason": reason}]
    assert data["totals"]["train_params"] is None
    assert native.to_dict()["dropped_branches"] == []


def test_a_branch_that_does_not_fit_the_specs_own_size_is_an_error():
    """At the spec's own input size a collapsing branch is a mistake in the spec."""
    with pytest.raises(SpecError, match=r"net\.yaml:\d+: aux\.conv: conv2d: .*collapses"):
        _report(SMALL_AUX.replace("input: [3, 32, 32]", "input: [3, 16, 16]"))


def test_other_mistakes_in_a_training_only_branch_are_still_errors():
    typo = SMALL_AUX.replace("{op: conv2d, out: 8, kernel: 5}", "{op: conv2d, out: 8, kernal: 5}")
    with pytest.raises(SpecError, match="has no attribute 'kernal'"):
        _report(typo, input_shape=(3, 16, 16))


def test_what_reads_a_dropped_branch_is_dropped_too_or_an_error():
    chained = SMALL_AUX + "  aux2: {op: relu, from: aux, train_only: true}\n"
    small = _report(chained, input_shape=(3, 16, 16))
    assert [name for name, _ in small.dropped] == ["aux", "aux2"]
    assert "does not fit" in small.dropped[1][1]
    assert _report(chained).totals.train_params is not None
    wrong = SMALL_AUX + "  head2: {op: relu, from: aux}\n"
    with pytest.raises(SpecError, match="reads 'aux', a training-only layer"):
        _report(wrong, input_shape=(3, 16, 16))


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
