"""Value kinds: coercion of raw YAML values and expression strings to typed values."""

from __future__ import annotations

from fractions import Fraction

import pytest

from cnncost.errors import ExprError
from cnncost.values import (
    ANY,
    BOOL,
    EXACT,
    FLOAT,
    INT,
    NONNEGATIVE,
    PADDING,
    PAIR,
    PAIR0,
    POSITIVE,
    POSITIVE_LIST,
    WORD,
    BoolKind,
    IntKind,
    IntListKind,
    PairKind,
    choice,
    describe,
    kind_for_default,
)

# -- integers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "scope", "expected"),
    [
        (8, {}, 8),
        (-3, {}, -3),
        (8.0, {}, 8),
        ("4*2", {}, 8),
        ("4 * 2", {}, 8),
        ("planes * 4", {"planes": 16}, 64),
        ("7 // 2", {}, 3),
        ("6 / 2", {}, 3),  # a float with an integer value is accepted
        ("2.5 * 2", {}, 5),
        ("n", {"n": 12}, 12),
    ],
)
def test_int_accepts(raw, scope, expected):
    value = INT.coerce(raw, scope)
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize(
    "raw",
    [2.5, True, False, "7 / 2", "true", [1, 2], "'a'", "[1]", None, float("nan"), float("inf")],
)
def test_int_rejects(raw):
    with pytest.raises(ExprError):
        INT.coerce(raw, {})


def test_int_kind_without_minimum_is_signed():
    assert IntKind("integer").coerce(-5, {}) == -5


@pytest.mark.parametrize(("raw", "ok"), [(1, True), (0, False), (-1, False), ("2 - 2", False)])
def test_positive(raw, ok):
    if ok:
        assert POSITIVE.coerce(raw, {}) == raw
    else:
        with pytest.raises(ExprError, match="at least 1"):
            POSITIVE.coerce(raw, {})


def test_nonnegative():
    assert NONNEGATIVE.coerce(0, {}) == 0
    with pytest.raises(ExprError):
        NONNEGATIVE.coerce(-1, {})


def test_undefined_name_in_an_int():
    with pytest.raises(ExprError, match="undefined name"):
        INT.coerce("planes * 4", {})


# -- floats and booleans -------------------------------------------------------------------


def test_float():
    assert FLOAT.coerce(1, {}) == 1.0
    assert type(FLOAT.coerce(1, {})) is float
    assert FLOAT.coerce("1 / 4", {}) == 0.25
    assert FLOAT.coerce(1e-5, {}) == 1e-5
    with pytest.raises(ExprError):
        FLOAT.coerce(True, {})
    with pytest.raises(ExprError):
        FLOAT.coerce([1.0], {})


@pytest.mark.parametrize(
    ("raw", "scope", "expected"),
    [
        (True, {}, True),
        (False, {}, False),
        ("true", {}, True),
        ("false", {}, False),
        ("stride != 1", {"stride": 2}, True),
        ("bottleneck", {"bottleneck": False}, False),
        ("not bottleneck and n > 2", {"bottleneck": False, "n": 3}, True),
    ],
)
def test_bool_accepts(raw, scope, expected):
    assert BOOL.coerce(raw, scope) is expected


@pytest.mark.parametrize("raw", [1, 0, "1", "0", 1.0, "n", [True]])
def test_bool_rejects(raw):
    with pytest.raises(ExprError, match="true or false"):
        BoolKind("flag").coerce(raw, {"n": 1})


# -- pairs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "scope", "expected"),
    [
        (3, {}, (3, 3)),
        ([1, 3], {}, (1, 3)),
        ((5, 2), {}, (5, 2)),
        ("k", {"k": 7}, (7, 7)),
        ("[k, k + 2]", {"k": 1}, (1, 3)),
        (["k", "k * 2"], {"k": 2}, (2, 4)),
        ("ks", {"ks": (1, 7)}, (1, 7)),
        (2.0, {}, (2, 2)),
    ],
)
def test_pair_accepts(raw, scope, expected):
    value = PAIR.coerce(raw, scope)
    assert value == expected
    assert isinstance(value, tuple)
    assert all(type(v) is int for v in value)


@pytest.mark.parametrize("raw", [[1, 2, 3], [1], [], [1, 2.5], 0, [0, 1], True, "'a'", -1])
def test_pair_rejects(raw):
    with pytest.raises(ExprError):
        PAIR.coerce(raw, {})


def test_pair_rejects_three_with_a_clear_message():
    with pytest.raises(ExprError, match="list of 3"):
        PAIR.coerce([1, 2, 3], {})


def test_pair0_allows_zero():
    assert PAIR0.coerce(0, {}) == (0, 0)
    assert PAIR0.coerce([0, 2], {}) == (0, 2)
    with pytest.raises(ExprError):
        PAIR0.coerce(-1, {})


def test_pair_kind_minimum():
    assert PairKind("p", minimum=2).coerce(2, {}) == (2, 2)
    with pytest.raises(ExprError):
        PairKind("p", minimum=2).coerce([2, 1], {})


# -- padding and other word choices --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "scope", "expected"),
    [
        ("same", {}, "same"),
        ("valid", {}, "valid"),
        (0, {}, (0, 0)),
        (1, {}, (1, 1)),
        ([0, 1], {}, (0, 1)),
        ([1, 0], {}, (1, 0)),
        ("k // 2", {"k": 5}, (2, 2)),
        ("pad", {"pad": "same"}, "same"),  # a name in scope holding a word
        ("pad", {"pad": "valid"}, "valid"),
        ("pad", {"pad": 3}, (3, 3)),  # a name in scope holding a number
        ("pad", {"pad": [1, 2]}, (1, 2)),
    ],
)
def test_padding_accepts(raw, scope, expected):
    assert PADDING.coerce(raw, scope) == expected


def test_padding_word_beats_a_variable_of_the_same_name():
    assert PADDING.coerce("same", {"same": 3}) == "same"


@pytest.mark.parametrize("raw", [-1, [1, 2, 3], "full", True, [1, -1]])
def test_padding_rejects(raw):
    with pytest.raises(ExprError):
        PADDING.coerce(raw, {})


def test_padding_typo_suggests_the_word():
    with pytest.raises(ExprError, match="did you mean 'same'"):
        PADDING.coerce("sme", {})


def test_padding_variable_holding_a_bad_word():
    with pytest.raises(ExprError, match="full"):
        PADDING.coerce("pad", {"pad": "full"})


def test_choice():
    mode = choice("avg", "max")
    assert mode.coerce("avg", {}) == "avg"
    assert mode.coerce("kind", {"kind": "max"}) == "max"
    with pytest.raises(ExprError, match="did you mean 'max'"):
        mode.coerce("mx", {})
    with pytest.raises(ExprError):
        mode.coerce("kind", {"kind": "min"})
    with pytest.raises(ExprError):
        mode.coerce(1, {})


# -- integer lists -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "scope", "expected"),
    [
        ([2, 2, 2, 2], {}, (2, 2, 2, 2)),
        ([3, 4, 6, 3], {}, (3, 4, 6, 3)),
        ([1, "a * 2", 3.0], {"a": 3}, (1, 6, 3)),
        ("[1, 2]", {}, (1, 2)),
        ("depths", {"depths": (3, 4, 23, 3)}, (3, 4, 23, 3)),
        ([], {}, ()),
    ],
)
def test_int_list_accepts(raw, scope, expected):
    value = POSITIVE_LIST.coerce(raw, scope)
    assert value == expected
    assert isinstance(value, tuple)


@pytest.mark.parametrize("raw", [3, "3", [1, 0], [1, 2.5], [1, True], [[1]]])
def test_int_list_rejects(raw):
    with pytest.raises(ExprError):
        POSITIVE_LIST.coerce(raw, {})


def test_int_list_without_minimum():
    assert IntListKind("ints").coerce([-1, 0, 1], {}) == (-1, 0, 1)


# -- block parameters ----------------------------------------------------------------------


def test_any_evaluates_and_tuples_lists():
    assert ANY.coerce("planes * 4", {"planes": 16}) == 64
    assert ANY.coerce([1, "2 * 2"], {}) == (1, 4)
    assert ANY.coerce(True, {}) is True
    assert ANY.coerce(0.5, {}) == 0.5


def test_word_stays_a_word_unless_it_names_a_variable():
    assert WORD.coerce("relu", {}) == "relu"
    assert WORD.coerce("act", {"act": "relu6"}) == "relu6"


def test_kind_for_default():
    assert kind_for_default(True) is BOOL
    assert kind_for_default("basic") is WORD
    assert kind_for_default(3) is ANY
    assert kind_for_default([2, 2]) is ANY
    assert kind_for_default(None) is ANY


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "true"), (False, "false"), (3, "3"), ((1, 3), "[1, 3]"), ("same", "same")],
)
def test_describe(value, text):
    assert describe(value) == text


# -- exact numbers -------------------------------------------------------------------------


def test_block_parameters_are_computed_exactly():
    """A block parameter's use is not known when it is bound, so it keeps every digit:
    1 / 3 stays a third (a survival probability), a whole result is an int."""
    assert ANY.coerce("1 / 3", {}) == Fraction(1, 3)
    assert ANY.coerce("0.1 * 3", {}) == Fraction(3, 10)
    assert ANY.coerce("1 - (l + 1) / 54 * (1 - p)", {"l": 0, "p": 0.5}) == Fraction(107, 108)
    whole = ANY.coerce("8 / 2", {})
    assert whole == 4 and type(whole) is int
    assert ANY.coerce(["6 / 4", 2], {}) == (Fraction(3, 2), 2)


def test_exact_values_are_read_as_floats_by_other_kinds():
    """Op attributes are computed in floating point, as the reference code does."""
    assert FLOAT.coerce("p * 2", {"p": Fraction(1, 3)}) == 2 / 3
    assert INT.coerce("n * 1.5", {"n": Fraction(4)}) == 6
    assert INT.coerce(Fraction(12, 3), {}) == 4
    with pytest.raises(ExprError, match="expected an integer, got 7/2"):
        INT.coerce(Fraction(7, 2), {})
    with pytest.raises(ExprError, match=r"expected an integer, got 3\.5 \(from 'x'\)"):
        INT.coerce("x", {"x": Fraction(7, 2)})


@pytest.mark.parametrize(
    ("raw", "scope", "expected"),
    [
        ("0.1", {}, Fraction(1, 10)),
        (0.1, {}, Fraction(1, 10)),  # a YAML float, read as the decimal it prints as
        ("p", {"p": 0.3}, Fraction(3, 10)),
        ("p * q", {"p": 0.1, "q": 0.9}, Fraction(9, 100)),
        ("1 / 3", {}, Fraction(1, 3)),
        (1, {}, Fraction(1)),
    ],
)
def test_exact_kind(raw, scope, expected):
    value = EXACT.coerce(raw, scope)
    assert type(value) is Fraction and value == expected


def test_exact_kind_rejects_words():
    with pytest.raises(ExprError, match="expected a number"):
        EXACT.coerce("[1]", {})
