"""Predicted peak memory: the largest set of outputs alive at once, worked out by hand."""

from __future__ import annotations

import pytest

from cnncost.build import build
from cnncost.memory import estimate_memory, peak_live_activations
from cnncost.report import analyze_graph
from cnncost.spec import loads_spec

# input 1×4×4 = 16; a: 2×4×4 = 32; relu in place (shares a); b: 4×4×4 = 64;
# sum = a + b needs equal shapes, so c: 4×4×4 = 64 from a; sum: 64.
SPEC = """
name: m
input: [1, 4, 4]
layers:
  a: {op: conv2d, out: 2, kernel: 1}
  r: {op: relu}
  b: {op: conv2d, out: 4, kernel: 1}
  c: {op: conv2d, out: 4, kernel: 1, from: r}
  sum: {op: add, from: [b, c]}
"""


def _report(batch=1):
    return analyze_graph(build(loads_spec(SPEC, "m.yaml"), batch=batch))


def test_peak_live_by_hand():
    # after input: 16; after a: 16+32 = 48 (input freed: a is its last reader);
    # r aliases a; after b: 32+64 = 96; after c: 32+64+64 = 160, then a/r freed;
    # after sum: 64+64+64 = 192, the peak.
    assert peak_live_activations(_report()) == 192
    assert peak_live_activations(_report(batch=3)) == 3 * 192


def test_inference_and_training_estimates():
    report = _report()
    params = (2 + 2) + (8 + 4) + (8 + 4)  # weights + biases of a, b, c
    assert report.totals.params == params
    inference = estimate_memory(report, backward=False)
    assert inference.total_bytes == 4 * (params + 192)
    training = estimate_memory(report, backward=True)
    # every stored output (input 16, a 32, b 64, c 64, sum 64) plus weights and gradients
    assert training.total_bytes == 4 * (2 * params + 16 + 32 + 64 + 64 + 64)


def test_training_memory_of_a_dropped_branch_is_refused_in_one_line():
    """Where the auxiliary head does not fit, inference memory stands; training has none."""
    from test_training_branches import SMALL_AUX

    from cnncost.errors import CnnCostError

    report = analyze_graph(build(loads_spec(SMALL_AUX, "net.yaml"), input_shape=(3, 16, 16)))
    assert estimate_memory(report, backward=False).param_bytes == 4 * report.totals.params
    with pytest.raises(CnnCostError, match=r"^no training memory: the training-only branch 'aux'"):
        estimate_memory(report, backward=True)
