"""linear: PyTorch's Linear on the last dimension."""

from __future__ import annotations

import pytest
from conftest import apply_op

from cnncost.errors import ShapeError
from cnncost.ops import get_op

LINEAR = get_op("linear")


def test_bias_defaults_on():
    assert LINEAR.defaults["bias"] is True


def test_one_dimensional_input():
    d_in, d_out = 300, 17
    out, cost = apply_op("linear", (d_in,), out=d_out)
    assert out == (d_out,)
    assert cost.weights == d_in * d_out
    assert cost.biases == d_out
    assert cost.macs == d_in * d_out
    assert cost.elementwise == d_out  # one bias add per output
    assert cost.activations == d_out
    assert cost.buffers == 0


def test_without_bias():
    d_in, d_out = 64, 10
    out, cost = apply_op("linear", (d_in,), out=d_out, bias=False)
    assert out == (d_out,)
    assert cost.weights == d_in * d_out
    assert cost.biases == 0
    assert cost.elementwise == 0
    assert cost.macs == d_in * d_out


def test_sequence_input():
    seq, d, d_out = 49, 96, 384
    out, cost = apply_op("linear", (seq, d), out=d_out)
    assert out == (seq, d_out)
    # the weights are shared by every row
    assert cost.weights == d * d_out
    assert cost.biases == d_out
    assert cost.macs == seq * d * d_out
    assert cost.elementwise == seq * d_out
    assert cost.activations == seq * d_out


def test_vgg_fc_layers_from_the_seed():
    # FC: 7×7×512×4096, 4096×4096, 4096×1000 weights (not counting biases)
    out, fc6 = apply_op("linear", (7 * 7 * 512,), out=4096, bias=False)
    assert fc6.weights == 7 * 7 * 512 * 4096
    out, fc7 = apply_op("linear", out, out=4096, bias=False)
    assert fc7.weights == 4096 * 4096
    out, fc8 = apply_op("linear", out, out=1000, bias=False)
    assert out == (1000,)
    assert fc8.weights == 4096 * 1000


def test_scalar_input_is_refused():
    with pytest.raises(ShapeError):
        apply_op("linear", (), out=4)
