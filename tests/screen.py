"""Reading a drawn table back: the cells on screen by column, and printed numbers (exact,
compact, percentages, ratios, durations) as exact values with their printed precision."""

from __future__ import annotations

import re
from fractions import Fraction

_SCALE = {
    "": 1,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "B": 1,
    "kB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "%": 1,
    "×": 1,
    "s": 1,
    "ms": Fraction(1, 10**3),
    "µs": Fraction(1, 10**6),
    "ns": Fraction(1, 10**9),
}


def read(cell: str) -> tuple[Fraction, Fraction]:
    """A number as printed ('15,470,264,320', '15.47 G', '12.0%', '×0.264', '3.5 µs'):
    its value and half a unit of its last printed digit."""
    match = re.fullmatch(r"×?(-?[0-9,]+)(?:\.([0-9]+))?\s*(\S*)", cell.strip())
    assert match and match.group(3) in _SCALE, f"not a number with a known unit: {cell!r}"
    whole, decimals, unit = match.groups()
    places = len(decimals or "")
    scale = Fraction(_SCALE[unit])
    value = Fraction(int(whole.replace(",", "") + (decimals or "")), 10**places) * scale
    return value, scale / 10**places / 2


def agrees(cell: str, expected: float | int) -> bool:
    value, half = read(cell)
    return abs(Fraction(expected) - value) <= half * (1 + Fraction(1, 10**9))


def screen_cells(fitted, width: int) -> list[dict[str, str]]:
    """The cells of each row as they stand on the screen, by column key."""
    lines = fitted.text.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    rows = []
    for first in fitted.row_lines:
        line = lines[first]
        rows.append(
            {
                c.key: line[x : x + w].strip()
                for c, x, w in zip(fitted.columns, fitted.offsets, fitted.widths, strict=True)
            }
        )
    return rows


def check_numbers(fitted, width: int, expected: list[dict[str, float | int]]) -> int:
    """Assert every number column's cell agrees with its expected value; count them."""
    checked = 0
    for row, values in zip(screen_cells(fitted, width), expected, strict=True):
        for col in fitted.columns:
            if col.kind == "number" and col.key in values and row[col.key] not in ("", "—"):
                assert agrees(row[col.key], values[col.key]), (col.key, row[col.key], values)
                checked += 1
    return checked
