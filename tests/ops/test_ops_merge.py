"""Merge ops: residual add, broadcasting multiply, concat along a PyTorch dim."""

from __future__ import annotations

import pytest
from conftest import apply_op

from cnncost.build import build
from cnncost.errors import CnnCostError, ShapeError
from cnncost.ops import get_op
from cnncost.spec import loads_spec


def test_add_two():
    x = (64, 56, 56)
    n = 64 * 56 * 56
    out, cost = apply_op("add", x, x)
    assert out == x
    assert cost.elementwise == n
    assert cost.activations == n
    assert cost.weights == cost.macs == 0


def test_add_three():
    x = (8, 4, 4)
    n = 8 * 4 * 4
    out, cost = apply_op("add", x, x, x)
    assert out == x
    assert cost.elementwise == (3 - 1) * n


def test_add_inplace():
    x = (8, 4, 4)
    assert get_op("add").defaults["inplace"] is False
    _, cost = apply_op("add", x, x, inplace=True)
    assert cost.activations == 0
    assert cost.elementwise == 8 * 4 * 4


def built_error(layers_yaml: str, input_shape: str) -> str:
    """Build a tiny spec and return the message of the error it must raise."""
    text = f"name: t\ninput: {input_shape}\nlayers:\n{layers_yaml}"
    with pytest.raises(CnnCostError) as info:
        build(loads_spec(text))
    return str(info.value)


def test_add_needs_equal_shapes():
    with pytest.raises(ShapeError):
        apply_op("add", (64, 56, 56), (128, 28, 28))


def test_add_error_names_both_shapes():
    # the message a user sees (the op's, with the builder's location) names both shapes
    message = built_error(
        "  a: {op: conv2d, out: 64, kernel: 1, from: input}\n"
        "  b: {op: conv2d, out: 128, kernel: 1, stride: 2, from: input}\n"
        "  s: {op: add, from: [a, b]}\n",
        "[3, 56, 56]",
    )
    assert "64×56×56" in message
    assert "128×28×28" in message


def test_add_does_not_broadcast():
    with pytest.raises(ShapeError):
        apply_op("add", (64, 8, 8), (64, 1, 1))


def test_add_refuses_an_odd_third_input():
    with pytest.raises(ShapeError):
        apply_op("add", (4, 2, 2), (4, 2, 2), (4, 3, 2))


def test_multiply_squeeze_excite_broadcast():
    c, h, w = 96, 14, 14
    out, cost = apply_op("multiply", (c, h, w), (c, 1, 1))
    assert out == (c, h, w)
    assert cost.elementwise == c * h * w
    assert cost.activations == c * h * w


def test_multiply_broadcast_either_order():
    assert apply_op("multiply", (3, 1, 1), (3, 5, 6))[0] == (3, 5, 6)
    assert apply_op("multiply", (1, 5, 1), (3, 1, 6))[0] == (3, 5, 6)


def test_multiply_equal_shapes_and_inplace():
    x = (4, 3, 3)
    out, cost = apply_op("multiply", x, x, inplace=True)
    assert out == x
    assert cost.activations == 0
    assert cost.elementwise == 4 * 3 * 3


def test_multiply_clash():
    with pytest.raises(ShapeError):
        apply_op("multiply", (64, 8, 8), (32, 1, 1))
    with pytest.raises(ShapeError):
        apply_op("multiply", (64, 8, 8), (64, 4, 1))


def test_multiply_clash_error_names_both_shapes():
    message = built_error(
        "  a: {op: conv2d, out: 64, kernel: 1, from: input}\n"
        "  g: {op: global_avgpool, from: input}\n"
        "  m: {op: multiply, from: [a, g]}\n",
        "[32, 8, 8]",
    )
    assert "64×8×8" in message
    assert "32×1×1" in message


def test_concat_channels():
    h, w = 28, 28
    parts = [(128, h, w), (192, h, w), (96, h, w), (256, h, w)]
    out, cost = apply_op("concat", *parts)
    # the seed: 28 × 28 × (128 + 192 + 96 + 256) = 28 × 28 × 672
    assert out == (128 + 192 + 96 + 256, h, w)
    assert out[0] == 672
    assert cost.activations == 672 * h * w
    assert cost.elementwise == cost.macs == 0


def test_concat_default_dim_is_channels():
    assert get_op("concat").defaults["dim"] == 1


def test_concat_last_dim():
    out, cost = apply_op("concat", (3, 4, 5), (3, 4, 2), dim=-1)
    assert out == (3, 4, 5 + 2)
    assert cost.activations == 3 * 4 * 7


def test_concat_height():
    out, _ = apply_op("concat", (3, 4, 5), (3, 6, 5), dim=2)
    assert out == (3, 10, 5)
    out, _ = apply_op("concat", (3, 4, 5), (3, 6, 5), dim=-2)
    assert out == (3, 10, 5)


def test_concat_features():
    out, _ = apply_op("concat", (100,), (28,))
    assert out == (128,)


def test_concat_mismatch():
    with pytest.raises(ShapeError):
        apply_op("concat", (3, 4, 5), (3, 4, 6))
    with pytest.raises(ShapeError):
        apply_op("concat", (3, 4, 5), (3, 4, 5), (3, 2, 5))
    # along the last dim, channels must agree
    with pytest.raises(ShapeError):
        apply_op("concat", (3, 4, 5), (2, 4, 5), dim=-1)


def test_concat_rank_mismatch():
    with pytest.raises(ShapeError, match="rank"):
        apply_op("concat", (3, 4, 5), (3, 20))


@pytest.mark.parametrize("dim", [0, 4, -4])
def test_concat_dim_out_of_range(dim):
    with pytest.raises(ShapeError):
        apply_op("concat", (3, 4, 5), (3, 4, 5), dim=dim)
