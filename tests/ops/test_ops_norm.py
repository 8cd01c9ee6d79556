"""Normalisation: batch norm (PyTorch's state_dict counts) and local response normalisation."""

from __future__ import annotations

import pytest
from conftest import apply_op

from cnncost.errors import ShapeError
from cnncost.ops import get_op


def test_batchnorm_defaults():
    op = get_op("batchnorm")
    assert op.defaults["affine"] is True
    assert op.defaults["track_running_stats"] is True
    assert op.defaults["eps"] == 1e-5
    assert op.defaults["momentum"] == 0.1


def test_batchnorm_2d():
    c, h, w = 64, 56, 56
    out, cost = apply_op("batchnorm", (c, h, w))
    assert out == (c, h, w)
    assert cost.weights == c  # gamma
    assert cost.biases == c  # beta
    # running_mean (C) + running_var (C) + num_batches_tracked (1)
    assert cost.buffers == 2 * c + 1
    assert cost.elementwise == 2 * c * h * w
    assert cost.activations == c * h * w
    assert cost.macs == 0


def test_batchnorm_1d():
    f = 4096
    out, cost = apply_op("batchnorm", (f,))
    assert out == (f,)
    assert cost.weights == cost.biases == f
    assert cost.buffers == 2 * f + 1
    assert cost.elementwise == 2 * f


def test_batchnorm_without_affine():
    c, h, w = 32, 7, 7
    _, cost = apply_op("batchnorm", (c, h, w), affine=False)
    assert cost.weights == 0
    assert cost.biases == 0
    assert cost.buffers == 2 * c + 1
    assert cost.elementwise == 2 * c * h * w


def test_batchnorm_without_running_stats():
    c, h, w = 32, 7, 7
    _, cost = apply_op("batchnorm", (c, h, w), track_running_stats=False)
    assert cost.buffers == 0
    assert cost.weights == cost.biases == c


def test_batchnorm_neither():
    _, cost = apply_op("batchnorm", (8, 2, 2), affine=False, track_running_stats=False)
    assert (cost.weights, cost.biases, cost.buffers) == (0, 0, 0)


def test_batchnorm_needs_channels():
    with pytest.raises(ShapeError):
        apply_op("batchnorm", ())


@pytest.mark.parametrize("size", [1, 5, 7])
def test_lrn(size):
    c, h, w = 96, 55, 55
    out, cost = apply_op("lrn", (c, h, w), size=size)
    assert out == (c, h, w)
    assert cost.elementwise == (size + 3) * c * h * w
    assert cost.activations == c * h * w
    assert cost.weights == cost.biases == cost.buffers == 0


def test_lrn_needs_chw():
    with pytest.raises(ShapeError):
        apply_op("lrn", (96,), size=5)
