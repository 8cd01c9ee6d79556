"""Point-wise activations: one element-wise op per element; in-place ones store nothing."""

from __future__ import annotations

import pytest
from conftest import apply_op

from cnncost.ops import get_op

INPLACE_CAPABLE = ["relu", "relu6", "leaky_relu", "elu", "silu", "hardswish", "hardsigmoid"]
ALWAYS_STORE = ["sigmoid", "tanh", "gelu"]
X = (16, 9, 7)
N = 16 * 9 * 7


def test_relu_inplace_by_default():
    assert get_op("relu").defaults["inplace"] is True
    out, cost = apply_op("relu", X)
    assert out == X
    assert cost.activations == 0
    assert cost.elementwise == N


def test_relu_not_inplace_stores_output():
    out, cost = apply_op("relu", X, inplace=False)
    assert out == X
    assert cost.activations == N
    assert cost.elementwise == N


@pytest.mark.parametrize("name", INPLACE_CAPABLE)
@pytest.mark.parametrize("inplace", [True, False])
def test_inplace_capable(name, inplace):
    out, cost = apply_op(name, X, inplace=inplace)
    assert out == X
    assert cost.activations == (0 if inplace else N)
    assert cost.elementwise == N
    assert (cost.weights, cost.biases, cost.buffers, cost.macs) == (0, 0, 0, 0)


@pytest.mark.parametrize("name", ALWAYS_STORE)
def test_always_stores(name):
    op = get_op(name)
    assert op.attr("inplace") is None
    out, cost = apply_op(name, X)
    assert out == X
    assert cost.activations == N
    assert cost.elementwise == N


@pytest.mark.parametrize("x", [(10,), (4, 6), (3, 5, 5)])
def test_any_shape(x):
    n = 1
    for d in x:
        n *= d
    out, cost = apply_op("sigmoid", x)
    assert out == x
    assert cost.elementwise == n
