"""Plain renderings of the receptive field and jump: exact for people, numbers for programs."""

from __future__ import annotations

from fractions import Fraction

from cnncost.render.plain import csv_pair, pair


def test_a_fractional_jump_is_a_fraction_in_tables_and_a_float_in_csv():
    third = Fraction(1, 3)
    assert pair((third, third)) == "1/3"
    assert pair((Fraction(1, 2), 2)) == "1/2×2"
    assert csv_pair((third, third)) == "0.3333333333333333"
    assert csv_pair((Fraction(1, 2), 2)) == "0.5x2"
    assert csv_pair((8, 8)) == "8" and pair((3, 5)) == "3×5"
