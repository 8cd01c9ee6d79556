"""conv2d: shape rule and costs against PyTorch's Conv2d rules, computed here independently."""

from __future__ import annotations

from fractions import Fraction

import pytest
from conftest import apply_op
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncost.errors import ShapeError
from cnncost.ops import get_op

CONV = get_op("conv2d")


def torch_out(size, k, s=1, p=0, d=1):
    """PyTorch's Conv2d output length: floor((size + 2p - d(k-1) - 1) / s) + 1."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def test_defaults_are_pytorch_defaults():
    assert CONV.defaults["stride"] == (1, 1)
    assert CONV.defaults["padding"] == (0, 0)
    assert CONV.defaults["dilation"] == (1, 1)
    assert CONV.defaults["groups"] == 1
    assert CONV.defaults["bias"] is True


def test_plain_conv():
    c_in, h, w, c_out, k = 3, 32, 28, 16, 3
    out, cost = apply_op("conv2d", (c_in, h, w), out=c_out, kernel=(k, k))
    oh, ow = h - k + 1, w - k + 1
    assert out == (c_out, oh, ow)
    assert cost.weights == c_out * k * k * c_in
    assert cost.biases == c_out
    assert cost.macs == c_out * oh * ow * k * k * c_in
    assert cost.elementwise == c_out * oh * ow
    assert cost.activations == c_out * oh * ow
    assert cost.buffers == 0


@pytest.mark.parametrize(
    ("size", "k", "s", "p", "d"),
    [
        (224, 7, 2, 3, 1),  # ResNet stem: 224 -> 112
        (224, 11, 4, 2, 1),  # AlexNet conv1: 224 -> 55
        (56, 3, 2, 1, 1),
        (57, 3, 2, 1, 1),
        (10, 3, 3, 0, 1),
        (32, 3, 1, 1, 1),
        (32, 3, 1, 2, 2),  # dilated 3x3 with padding 2 keeps the size
        (32, 3, 1, 0, 2),
        (17, 5, 2, 1, 3),
    ],
)
def test_strided_padded_dilated(size, k, s, p, d):
    c_in, c_out = 8, 12
    out, cost = apply_op(
        "conv2d",
        (c_in, size, size),
        out=c_out,
        kernel=(k, k),
        stride=(s, s),
        padding=(p, p),
        dilation=(d, d),
    )
    o = torch_out(size, k, s, p, d)
    assert out == (c_out, o, o)
    assert cost.macs == c_out * o * o * k * k * c_in
    # dilation spreads the taps but adds no weights
    assert cost.weights == c_out * k * k * c_in


def test_known_pytorch_sizes():
    # Figures from the torchvision models, worked by hand from the formula.
    assert apply_op("conv2d", (3, 224, 224), out=64, kernel=(7, 7), stride=(2, 2), padding=(3, 3))[
        0
    ] == (
        64,
        112,
        112,
    )
    assert apply_op(
        "conv2d", (3, 224, 224), out=64, kernel=(11, 11), stride=(4, 4), padding=(2, 2)
    )[0] == (
        64,
        55,
        55,
    )


def test_stride_and_padding_per_axis():
    out, _ = apply_op("conv2d", (4, 20, 15), out=4, kernel=(3, 5), stride=(2, 1), padding=(1, 2))
    assert out == (4, torch_out(20, 3, 2, 1), torch_out(15, 5, 1, 2))


@pytest.mark.parametrize(
    ("kernel", "padding"),
    [((1, 3), (0, 1)), ((3, 1), (1, 0))],
)
def test_asymmetric_kernels_keep_size(kernel, padding):
    c, h, w, c_out = 6, 17, 13, 10
    kh, kw = kernel
    out, cost = apply_op("conv2d", (c, h, w), out=c_out, kernel=kernel, padding=padding)
    assert out == (c_out, h, w)
    assert cost.weights == c_out * kh * kw * c
    assert cost.weights == c_out * 3 * c
    assert cost.macs == c_out * h * w * kh * kw * c


def test_asymmetric_kernel_without_padding():
    out, _ = apply_op("conv2d", (2, 9, 9), out=2, kernel=(1, 3))
    assert out == (2, 9, 9 - 3 + 1)
    out, _ = apply_op("conv2d", (2, 9, 9), out=2, kernel=(3, 1))
    assert out == (2, 9 - 3 + 1, 9)


def test_grouped():
    c_in, c_out, g, h, w, k = 32, 64, 4, 14, 14, 3
    out, cost = apply_op("conv2d", (c_in, h, w), out=c_out, kernel=(k, k), padding=(1, 1), groups=g)
    assert out == (c_out, h, w)
    assert cost.weights == c_out * k * k * (c_in // g)
    assert cost.macs == c_out * h * w * k * k * (c_in // g)
    assert cost.biases == c_out


def test_grouped_is_cheaper_by_the_group_count():
    x = (32, 14, 14)
    _, dense = apply_op("conv2d", x, out=64, kernel=(3, 3), padding=(1, 1))
    _, grouped = apply_op("conv2d", x, out=64, kernel=(3, 3), padding=(1, 1), groups=8)
    assert dense.weights == 8 * grouped.weights
    assert dense.macs == 8 * grouped.macs


def test_depthwise():
    c, h, w, k = 24, 28, 28, 3
    out, cost = apply_op("conv2d", (c, h, w), out=c, kernel=(k, k), padding=(1, 1), groups=c)
    assert out == (c, h, w)
    # each output channel sees one input channel
    assert cost.weights == c * k * k
    assert cost.macs == c * h * w * k * k
    assert cost.biases == c


def test_depthwise_with_multiplier():
    c, m, h, w, k = 8, 3, 10, 10, 3
    out, cost = apply_op("conv2d", (c, h, w), out=c * m, kernel=(k, k), groups=c)
    o = h - k + 1
    assert out == (c * m, o, o)
    assert cost.weights == c * m * k * k
    assert cost.macs == c * m * o * o * k * k


@pytest.mark.parametrize("bias", [True, False])
def test_bias_on_off(bias):
    c_in, c_out, h, w = 5, 7, 9, 11
    out, cost = apply_op("conv2d", (c_in, h, w), out=c_out, kernel=(1, 1), bias=bias)
    n_out = c_out * h * w
    assert out == (c_out, h, w)
    assert cost.biases == (c_out if bias else 0)
    assert cost.elementwise == (n_out if bias else 0)
    assert cost.weights == c_out * c_in
    assert cost.macs == n_out * c_in
    assert cost.activations == n_out


@pytest.mark.parametrize(("k", "d"), [((3, 3), (1, 1)), ((5, 5), (1, 1)), ((4, 2), (1, 1))])
def test_same_keeps_size(k, d):
    out, cost = apply_op("conv2d", (3, 19, 23), out=8, kernel=k, padding="same", dilation=d)
    assert out == (8, 19, 23)
    assert cost.macs == 8 * 19 * 23 * k[0] * k[1] * 3


def test_same_with_dilation_keeps_size():
    out, _ = apply_op("conv2d", (3, 19, 23), out=8, kernel=(3, 3), padding="same", dilation=(2, 3))
    assert out == (8, 19, 23)


def test_valid_is_no_padding():
    out, _ = apply_op("conv2d", (3, 19, 23), out=8, kernel=(5, 3), padding="valid")
    assert out == (8, 19 - 5 + 1, 23 - 3 + 1)


def test_same_with_stride_two_is_refused():
    with pytest.raises(ShapeError, match="stride"):
        apply_op("conv2d", (3, 16, 16), out=8, kernel=(3, 3), padding="same", stride=(2, 2))
    with pytest.raises(ShapeError):
        apply_op("conv2d", (3, 16, 16), out=8, kernel=(3, 3), padding="same", stride=(1, 2))


def test_channels_not_divisible_by_groups():
    with pytest.raises(ShapeError, match="groups"):
        apply_op("conv2d", (30, 8, 8), out=32, kernel=(3, 3), groups=4)


def test_out_not_divisible_by_groups():
    with pytest.raises(ShapeError, match="groups"):
        apply_op("conv2d", (32, 8, 8), out=30, kernel=(3, 3), groups=4)


@pytest.mark.parametrize(
    ("x", "attrs"),
    [
        ((3, 2, 8), {"kernel": (3, 3)}),
        ((3, 8, 2), {"kernel": (3, 3)}),
        ((3, 4, 4), {"kernel": (3, 3), "dilation": (2, 2)}),  # span 5 > 4
        ((3, 1, 1), {"kernel": (5, 5), "padding": (1, 1)}),  # span 5 > 3
    ],
)
def test_spatial_size_collapsing_to_zero(x, attrs):
    with pytest.raises(ShapeError, match="collapses"):
        apply_op("conv2d", x, out=4, **attrs)


def test_exact_fit_gives_one():
    out, _ = apply_op("conv2d", (3, 5, 5), out=4, kernel=(5, 5))
    assert out == (4, 1, 1)
    out, _ = apply_op("conv2d", (3, 5, 5), out=4, kernel=(3, 3), dilation=(2, 2))
    assert out == (4, 1, 1)


@pytest.mark.parametrize("x", [(3, 8), (8,), (1, 3, 8, 8), ()])
def test_wrong_rank(x):
    with pytest.raises(ShapeError):
        apply_op("conv2d", x, out=4, kernel=(3, 3))


# -- property: shape rule and MACs against an independent count of window positions --------


def positions(size, k, s, p, d):
    """Count the windows by enumerating their starts in the padded input."""
    span = d * (k - 1) + 1
    return len([start for start in range(0, size + 2 * p, s) if start + span <= size + 2 * p])


@st.composite
def conv_cases(draw):
    g = draw(st.integers(1, 4))
    c_in = g * draw(st.integers(1, 4))
    c_out = g * draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 20)), draw(st.integers(1, 20))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    bias = draw(st.booleans())
    return (c_in, h, w), dict(
        out=c_out,
        kernel=(kh, kw),
        stride=(sh, sw),
        padding=(ph, pw),
        dilation=(dh, dw),
        groups=g,
        bias=bias,
    )


@settings(max_examples=200, deadline=None)
@given(conv_cases())
def test_conv_shape_and_macs_property(case):
    x, a = case
    c_in, h, w = x
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = a["kernel"], a["stride"], a["padding"], a["dilation"]
    oh = positions(h, kh, sh, ph, dh)
    ow = positions(w, kw, sw, pw, dw)
    if oh == 0 or ow == 0:
        with pytest.raises(ShapeError, match="collapses"):
            apply_op("conv2d", x, **a)
        return
    out, cost = apply_op("conv2d", x, **a)
    assert oh == torch_out(h, kh, sh, ph, dh)
    assert out == (a["out"], oh, ow)
    per_output = kh * kw * c_in // a["groups"]
    assert cost.macs == a["out"] * oh * ow * per_output
    assert cost.weights == a["out"] * per_output
    assert cost.biases == (a["out"] if a["bias"] else 0)
    assert cost.elementwise == (a["out"] * oh * ow if a["bias"] else 0)
    assert cost.activations == a["out"] * oh * ow


# -- the seed document's claims, as closed forms -------------------------------------------


@pytest.mark.parametrize(("h", "d", "f", "n"), [(14, 3, 32, 64), (7, 5, 16, 24), (28, 3, 3, 1)])
def test_depthwise_separable_cost(h, d, f, n):
    # a tensor H×H×F and N filters of D×D
    x = (f, h, h)
    _, standard = apply_op("conv2d", x, out=n, kernel=(d, d), padding="same", bias=False)
    assert standard.macs == n * h**2 * d**2 * f

    dw_out, dw = apply_op("conv2d", x, out=f, kernel=(d, d), padding="same", groups=f, bias=False)
    assert dw_out == (f, h, h)
    _, pw = apply_op("conv2d", dw_out, out=n, kernel=(1, 1), bias=False)
    assert dw.macs + pw.macs == h**2 * d**2 * f + n * h**2 * f
    # the ratio the MobileNet paper derives: 1/N + 1/D²
    assert Fraction(dw.macs + pw.macs, standard.macs) == Fraction(1, n) + Fraction(1, d**2)


def test_two_3x3_versus_one_5x5():
    c, size = 16, 5
    mid, a1 = apply_op("conv2d", (c, size, size), out=c, kernel=(3, 3), bias=False)
    out2, a2 = apply_op("conv2d", mid, out=c, kernel=(3, 3), bias=False)
    out5, b = apply_op("conv2d", (c, size, size), out=c, kernel=(5, 5), bias=False)
    # same receptive field: both see the whole 5×5 input from one output position
    assert out2 == out5 == (c, 1, 1)
    assert a1.weights + a2.weights == 2 * 3 * 3 * c * c
    assert b.weights == 5 * 5 * c * c
    # per output position and per channel pair: 18 versus 25
    assert Fraction(a1.weights + a2.weights, c * c) == 18
    assert Fraction(b.weights, c * c) == 25


def test_two_3x3_versus_5x5_macs_per_position():
    c, h = 8, 20
    x = (c, h, h)
    _, a1 = apply_op("conv2d", x, out=c, kernel=(3, 3), padding=(1, 1), bias=False)
    _, a2 = apply_op("conv2d", x, out=c, kernel=(3, 3), padding=(1, 1), bias=False)
    _, b = apply_op("conv2d", x, out=c, kernel=(5, 5), padding=(2, 2), bias=False)
    assert Fraction(a1.macs + a2.macs, h * h * c * c) == 18
    assert Fraction(b.macs, h * h * c * c) == 25


def test_1x3_then_3x1_versus_3x3():
    c, h = 12, 17
    x = (c, h, h)
    mid, row = apply_op("conv2d", x, out=c, kernel=(1, 3), padding=(0, 1), bias=False)
    out, col = apply_op("conv2d", mid, out=c, kernel=(3, 1), padding=(1, 0), bias=False)
    full_out, full = apply_op("conv2d", x, out=c, kernel=(3, 3), padding=(1, 1), bias=False)
    assert mid == out == full_out == (c, h, h)
    assert row.weights + col.weights == (3 + 3) * c * c
    assert full.weights == 9 * c * c
    assert Fraction(row.weights + col.weights, c * c) == 6
    assert Fraction(row.macs + col.macs, h * h * c * c) == 6
    assert Fraction(full.macs, h * h * c * c) == 9


def test_three_3x3_versus_one_7x7():
    c = 64
    x = (c, 7, 7)
    shape, total = x, 0
    for _ in range(3):
        shape, cost = apply_op("conv2d", shape, out=c, kernel=(3, 3), bias=False)
        total += cost.weights
    out7, big = apply_op("conv2d", x, out=c, kernel=(7, 7), bias=False)
    # same effective receptive field: 7×7 -> 1×1 either way
    assert shape == out7 == (c, 1, 1)
    assert total == 3 * (3**2 * c**2)
    assert big.weights == 7**2 * c**2
    assert total < big.weights


def test_vgg_conv_params_from_the_seed():
    # "CONV3-64 params: (3×3×3)×64" and "(3×3×64)×64", not counting biases
    out, first = apply_op(
        "conv2d", (3, 224, 224), out=64, kernel=(3, 3), padding=(1, 1), bias=False
    )
    assert out == (64, 224, 224)
    assert first.weights == (3 * 3 * 3) * 64
    assert first.activations == 224 * 224 * 64
    _, second = apply_op("conv2d", out, out=64, kernel=(3, 3), padding=(1, 1), bias=False)
    assert second.weights == (3 * 3 * 64) * 64
    _, late = apply_op("conv2d", (512, 14, 14), out=512, kernel=(3, 3), padding=(1, 1), bias=False)
    assert late.weights == (3 * 3 * 512) * 512


def test_naive_inception_conv_ops_from_the_seed():
    x = (256, 28, 28)
    _, c1 = apply_op("conv2d", x, out=128, kernel=(1, 1))
    _, c3 = apply_op("conv2d", x, out=192, kernel=(3, 3), padding=(1, 1))
    _, c5 = apply_op("conv2d", x, out=96, kernel=(5, 5), padding=(2, 2))
    assert c1.macs == 28 * 28 * 128 * 1 * 1 * 256
    assert c3.macs == 28 * 28 * 192 * 3 * 3 * 256
    assert c5.macs == 28 * 28 * 96 * 5 * 5 * 256
    # "Total: 854M ops"
    assert round((c1.macs + c3.macs + c5.macs) / 1e6) == 854
