"""Pooling: PyTorch's MaxPool2d/AvgPool2d size rules (floor and ceil mode), global and
adaptive average pooling."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from conftest import apply_op
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncost.errors import ShapeError


def torch_pool_out(size, k, s, p, d=1, ceil_mode=False):
    """PyTorch's pooling output length, as written in pooling_output_shape.

    L = (size + 2p - d(k-1) - 1) / s, rounded down (or up in ceil mode), plus 1; in ceil
    mode a last window that would start in the right padding is dropped.
    """
    exact = Fraction(size + 2 * p - d * (k - 1) - 1, s)
    out = (math.ceil(exact) if ceil_mode else math.floor(exact)) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def windows(size, k, s, p, d=1, ceil_mode=False):
    """Count windows by enumerating starts, following the MaxPool2d documentation:
    windows may run off the end in ceil mode (by less than one stride) but must start
    inside the left padding or the input."""
    span = d * (k - 1) + 1
    padded = size + 2 * p
    count = 0
    for start in range(0, padded + s):
        if start % s:
            continue
        fits = start + span <= padded
        overhangs = ceil_mode and start + span < padded + s and start < size + p
        if fits or overhangs:
            count += 1
    return count


@pytest.mark.parametrize("name", ["maxpool", "avgpool"])
def test_stride_defaults_to_kernel(name):
    c, h, w = 64, 112, 112
    out, cost = apply_op(name, (c, h, w), kernel=(2, 2))
    assert out == (c, h // 2, w // 2)
    assert cost.elementwise == c * (h // 2) * (w // 2) * 2 * 2
    assert cost.activations == c * (h // 2) * (w // 2)
    assert cost.weights == cost.biases == cost.macs == 0


def test_vgg_pools_from_the_seed():
    # POOL2: [224x224x64] -> [112x112x64], ... -> [7x7x512]
    assert apply_op("maxpool", (64, 224, 224), kernel=(2, 2), stride=(2, 2))[0] == (64, 112, 112)
    assert apply_op("maxpool", (512, 14, 14), kernel=(2, 2), stride=(2, 2))[0] == (512, 7, 7)


@pytest.mark.parametrize("name", ["maxpool", "avgpool"])
@pytest.mark.parametrize(
    ("size", "k", "s", "p"),
    [(112, 3, 2, 1), (55, 3, 2, 0), (13, 3, 2, 0), (7, 2, 2, 0), (9, 5, 3, 2)],
)
def test_floor_mode(name, size, k, s, p):
    c = 3
    out, cost = apply_op(name, (c, size, size), kernel=(k, k), stride=(s, s), padding=(p, p))
    o = (size + 2 * p - (k - 1) - 1) // s + 1
    assert out == (c, o, o)
    assert cost.elementwise == c * o * o * k * k


def test_resnet_stem_pool():
    # torchvision ResNet: MaxPool2d(3, 2, 1) on 112×112 gives 56×56
    assert apply_op("maxpool", (64, 112, 112), kernel=(3, 3), stride=(2, 2), padding=(1, 1))[0] == (
        64,
        56,
        56,
    )


@pytest.mark.parametrize("name", ["maxpool", "avgpool"])
@pytest.mark.parametrize(
    ("size", "k", "s", "p"),
    [
        (6, 3, 2, 1),  # the brief's example: no window is dropped
        (112, 3, 2, 0),  # GoogLeNet's ceil-mode pools: 112 -> 56
        (56, 3, 2, 0),
        (28, 3, 2, 0),
        (14, 2, 2, 0),
        (5, 2, 2, 1),  # the last window would start in the right padding: dropped
        (5, 3, 3, 1),  # likewise
    ],
)
def test_ceil_mode(name, size, k, s, p):
    c = 2
    out, cost = apply_op(
        name, (c, size, size), kernel=(k, k), stride=(s, s), padding=(p, p), ceil_mode=True
    )
    o = torch_pool_out(size, k, s, p, ceil_mode=True)
    assert o == windows(size, k, s, p, ceil_mode=True)
    assert out == (c, o, o)
    assert cost.elementwise == c * o * o * k * k


def test_ceil_mode_drops_a_window_starting_in_right_padding():
    # size 5, kernel 2, stride 2, padding 1: ceil((5 + 2 - 2) / 2) + 1 = 4 windows,
    # but the fourth would start at padded position 6 = size + padding, in the right
    # padding, so PyTorch keeps 3.
    assert math.ceil(Fraction(5 + 2 - 2, 2)) + 1 == 4
    out, _ = apply_op(
        "maxpool", (1, 5, 5), kernel=(2, 2), stride=(2, 2), padding=(1, 1), ceil_mode=True
    )
    assert out == (1, 3, 3)


def test_ceil_mode_rounds_up():
    # 7 with kernel 2, stride 2: floor gives 3, ceil gives 4 (the last window overhangs)
    assert apply_op("maxpool", (1, 7, 7), kernel=(2, 2))[0] == (1, 3, 3)
    assert apply_op("maxpool", (1, 7, 7), kernel=(2, 2), ceil_mode=True)[0] == (1, 4, 4)


def test_maxpool_dilation():
    size, k, s, d = 20, 3, 1, 2
    out, _ = apply_op("maxpool", (1, size, size), kernel=(k, k), stride=(s, s), dilation=(d, d))
    o = (size - d * (k - 1) - 1) // s + 1
    assert out == (1, o, o)


def test_rectangular_window():
    out, cost = apply_op("avgpool", (4, 10, 9), kernel=(2, 3), stride=(2, 3))
    assert out == (4, 5, 3)
    assert cost.elementwise == 4 * 5 * 3 * 2 * 3


@pytest.mark.parametrize("name", ["maxpool", "avgpool"])
@pytest.mark.parametrize(("k", "p"), [((3, 3), (2, 2)), ((2, 2), (2, 0)), ((4, 4), (0, 3))])
def test_padding_over_half_the_kernel(name, k, p):
    with pytest.raises(ShapeError, match="half"):
        apply_op(name, (3, 32, 32), kernel=k, padding=p)


@pytest.mark.parametrize("name", ["maxpool", "avgpool"])
def test_padding_exactly_half_the_kernel_is_allowed(name):
    out, _ = apply_op(name, (3, 8, 8), kernel=(2, 2), stride=(1, 1), padding=(1, 1))
    assert out == (3, 9, 9)


@pytest.mark.parametrize("name", ["maxpool", "avgpool"])
def test_pool_collapses(name):
    with pytest.raises(ShapeError, match="collapses"):
        apply_op(name, (3, 2, 8), kernel=(3, 3))


@pytest.mark.parametrize("name", ["maxpool", "avgpool", "global_avgpool", "adaptive_avgpool"])
def test_pool_wrong_rank(name):
    with pytest.raises(ShapeError):
        apply_op(name, (8, 8), kernel=(2, 2), output=(1, 1))


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(1, 30),
    k=st.integers(1, 5),
    s=st.integers(1, 4),
    p=st.integers(0, 2),
    ceil_mode=st.booleans(),
)
def test_pool_size_property(size, k, s, p, ceil_mode):
    if 2 * p > k:
        return
    expected = windows(size, k, s, p, ceil_mode=ceil_mode)
    if size + 2 * p < k:
        with pytest.raises(ShapeError, match="collapses"):
            apply_op("maxpool", (1, size, size), kernel=(k, k), stride=(s, s), padding=(p, p))
        return
    out, cost = apply_op(
        "maxpool",
        (1, size, size),
        kernel=(k, k),
        stride=(s, s),
        padding=(p, p),
        ceil_mode=ceil_mode,
    )
    assert expected == torch_pool_out(size, k, s, p, ceil_mode=ceil_mode)
    assert out == (1, expected, expected)
    assert cost.elementwise == expected * expected * k * k


# -- global and adaptive -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["global_avgpool", "global_maxpool"])
def test_global_pool(name):
    c, h, w = 2048, 7, 7
    out, cost = apply_op(name, (c, h, w))
    assert out == (c, 1, 1)
    assert cost.elementwise == c * h * w
    assert cost.activations == c
    assert cost.weights == cost.macs == 0


def adaptive_total(size, bins):
    """Sum of PyTorch's adaptive window lengths: bin i spans [floor(i·n/o), ceil((i+1)·n/o))."""
    total = 0
    for i in range(bins):
        start = math.floor(Fraction(i * size, bins))
        end = math.ceil(Fraction((i + 1) * size, bins))
        total += end - start
    return total


def test_adaptive_window_lengths_by_hand():
    # 7 -> 3: [0,3), [2,5), [4,7) ; 10 -> 4: [0,3), [2,5), [5,8), [7,10)
    assert adaptive_total(7, 3) == 3 + 3 + 3
    assert adaptive_total(10, 4) == 3 + 3 + 3 + 3
    assert adaptive_total(6, 3) == 6  # divides evenly: windows tile the input


@pytest.mark.parametrize(
    ("h", "w", "oh", "ow"),
    [(7, 10, 3, 4), (10, 7, 4, 3), (7, 7, 1, 1), (6, 6, 3, 3), (13, 13, 6, 6), (5, 5, 7, 7)],
)
def test_adaptive_avgpool(h, w, oh, ow):
    c = 5
    out, cost = apply_op("adaptive_avgpool", (c, h, w), output=(oh, ow))
    assert out == (c, oh, ow)
    assert cost.elementwise == c * adaptive_total(h, oh) * adaptive_total(w, ow)
    assert cost.activations == c * oh * ow


def test_adaptive_to_one_is_global():
    c, h, w = 3, 9, 11
    _, adaptive = apply_op("adaptive_avgpool", (c, h, w), output=(1, 1))
    _, global_ = apply_op("global_avgpool", (c, h, w))
    assert adaptive.elementwise == global_.elementwise == c * h * w


def test_adaptive_7_to_3_and_10_to_4():
    c = 4
    _, cost = apply_op("adaptive_avgpool", (c, 7, 10), output=(3, 4))
    assert cost.elementwise == c * 9 * 12
