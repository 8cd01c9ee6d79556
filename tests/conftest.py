"""Shared test helpers: reference data, printed-figure arithmetic and a CLI runner."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from cnncost.cli import main
from cnncost.ops import get_op

REFERENCE = Path(__file__).with_name("reference")
_SCALE = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "B": 10**9}


def reference(name: str) -> dict:
    """A reference data file from tests/reference (read with PyYAML, not with cnncost)."""
    return yaml.safe_load((REFERENCE / f"{name}.yaml").read_text(encoding="utf-8"))


def printed(text: str | int, significant: int | None = None) -> tuple[Fraction, Fraction]:
    """A printed figure such as '3.8 G' or '854M': its value and the size of its last digit
    (or of its last significant one, when the trailing zeros of '60 M' are not significant)."""
    match = re.fullmatch(r"\s*([0-9]+)(?:\.([0-9]+))?\s*([KMGTB]?)\w*\s*", str(text))
    assert match, f"cannot read printed figure {text!r}"
    whole, decimals, prefix = match.groups()
    scale = _SCALE[prefix]
    places = len(decimals or "")
    value = Fraction(int(whole + (decimals or "")), 10**places) * scale
    unit = Fraction(scale, 10**places)
    if significant is not None:
        digits = (whole + (decimals or "")).lstrip("0")
        kept = digits if decimals else digits.rstrip("0")  # only a whole number's zeros
        assert len(kept) <= significant <= len(digits), (text, significant)
        unit *= 10 ** (len(digits) - significant)
    return value, unit


def matches_printed(computed: int, figure: str, significant: int | None = None) -> bool:
    """True when `computed` rounds to the printed figure: within half a unit of its last
    (significant) digit, a tie included."""
    value, unit = printed(figure, significant)
    return abs(computed - value) <= unit / 2


def within_last_digit(computed: int, figure: str) -> bool:
    """True when `computed` is within one unit of the printed figure's last digit."""
    value, unit = printed(figure)
    return abs(computed - value) <= unit


def apply_op(name: str, *inputs: tuple[int, ...], **attrs):
    """Run an op's shape and cost rules on per-sample input shapes, defaults filled in."""
    op = get_op(name)
    resolved = {**op.defaults, **attrs}
    out = op.shape(resolved, list(inputs))
    return out, op.cost(resolved, list(inputs), out)


@pytest.fixture
def run(capsys):
    """Run the CLI in-process; returns (exit status, stdout, stderr)."""

    def invoke(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return invoke
