"""window_out and same_padding_out: the sliding-window arithmetic, called directly."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from cnncost.errors import ShapeError
from cnncost.ops.window import same_padding_out, window_out


@pytest.mark.parametrize(
    ("size", "k", "s", "p", "d"),
    [
        (224, 7, 2, 3, 1),
        (224, 3, 1, 1, 1),
        (32, 3, 2, 1, 1),
        (33, 3, 2, 1, 1),
        (10, 1, 1, 0, 1),
        (10, 3, 1, 0, 4),
        (1, 1, 1, 0, 1),
        (3, 3, 5, 0, 1),
    ],
)
def test_floor(size, k, s, p, d):
    expected = math.floor(Fraction(size + 2 * p - d * (k - 1) - 1, s)) + 1
    assert window_out(size, k, s, p, d, False, "height") == expected


@pytest.mark.parametrize(
    ("size", "k", "s", "p", "expected"),
    [
        # worked by hand from PyTorch's rule
        (6, 3, 2, 1, 4),  # ceil(5/2)+1 = 4; last start 6 < 6+1: kept
        (7, 2, 2, 0, 4),  # ceil(5/2)+1 = 4; last start 6 < 7: kept
        (5, 2, 2, 1, 3),  # ceil(5/2)+1 = 4; last start 6 >= 5+1: dropped
        (8, 2, 2, 0, 4),  # exact fit
    ],
)
def test_ceil(size, k, s, p, expected):
    rule = math.ceil(Fraction(size + 2 * p - (k - 1) - 1, s)) + 1
    if (rule - 1) * s >= size + p:
        rule -= 1
    assert rule == expected
    assert window_out(size, k, s, p, 1, True, "width") == expected


def test_collapses_to_zero():
    with pytest.raises(ShapeError, match="collapses") as info:
        window_out(2, 3, 1, 0, 1, False, "height")
    assert "height" in str(info.value)


def test_collapses_with_dilation():
    # span d(k-1)+1 = 2·2+1 = 5 is larger than 4
    with pytest.raises(ShapeError, match="collapses"):
        window_out(4, 3, 1, 0, 2, False, "width")
    assert window_out(5, 3, 1, 0, 2, False, "width") == 1


def test_padding_rescues_a_small_input():
    assert window_out(1, 3, 1, 1, 1, False, "height") == 1


def test_same_padding():
    assert same_padding_out(17, 1, "height") == 17
    with pytest.raises(ShapeError, match="stride"):
        same_padding_out(17, 2, "height")
