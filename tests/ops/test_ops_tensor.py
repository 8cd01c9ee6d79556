"""Data-movement ops: flatten, dropout, identity, channel_split, channel_shuffle."""

from __future__ import annotations

import pytest
from conftest import apply_op

from cnncost.errors import ShapeError
from cnncost.ops import Cost


def test_flatten_from_channels():
    c, h, w = 512, 7, 7
    out, cost = apply_op("flatten", (c, h, w))
    assert out == (c * h * w,)
    assert cost == Cost()


def test_flatten_from_dim_2():
    c, h, w = 96, 14, 15
    out, cost = apply_op("flatten", (c, h, w), start_dim=2)
    assert out == (c, h * w)
    assert cost == Cost()


def test_flatten_end_dim():
    out, _ = apply_op("flatten", (2, 3, 4), start_dim=1, end_dim=2)
    assert out == (2 * 3, 4)


def test_flatten_one_dimensional_input():
    assert apply_op("flatten", (10,))[0] == (10,)


def test_flatten_end_before_start():
    with pytest.raises(ShapeError):
        apply_op("flatten", (2, 3, 4), start_dim=3, end_dim=1)


@pytest.mark.parametrize("name", ["dropout", "identity"])
@pytest.mark.parametrize("x", [(4096,), (3, 8, 8)])
def test_free_ops(name, x):
    out, cost = apply_op(name, x)
    assert out == x
    assert cost == Cost()


@pytest.mark.parametrize(("parts", "index"), [(2, 0), (2, 1), (4, 3)])
def test_channel_split(parts, index):
    c, h, w = 116, 28, 28
    out, cost = apply_op("channel_split", (c, h, w), parts=parts, index=index)
    assert out == (c // parts, h, w)
    assert cost == Cost()


def test_channel_split_defaults_halve():
    assert apply_op("channel_split", (24, 5, 5))[0] == (12, 5, 5)


def test_channel_split_uneven():
    with pytest.raises(ShapeError):
        apply_op("channel_split", (10, 4, 4), parts=3)


def test_channel_split_index_out_of_range():
    with pytest.raises(ShapeError, match="index"):
        apply_op("channel_split", (12, 4, 4), parts=3, index=3)


def test_channel_split_needs_channels():
    with pytest.raises(ShapeError):
        apply_op("channel_split", ())


@pytest.mark.parametrize("groups", [1, 3, 8])
def test_channel_shuffle(groups):
    c, h, w = 24 * 8, 7, 7
    out, cost = apply_op("channel_shuffle", (c, h, w), groups=groups)
    assert out == (c, h, w)
    assert cost.activations == c * h * w
    assert cost.elementwise == cost.macs == cost.weights == 0


def test_channel_shuffle_groups_must_divide():
    with pytest.raises(ShapeError, match="groups"):
        apply_op("channel_shuffle", (10, 4, 4), groups=3)
