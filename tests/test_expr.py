"""The safe expression evaluator: Python's arithmetic on a whitelist, nothing executed."""

from __future__ import annotations

import math
import time
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncost.errors import ExprError
from cnncost.expr import evaluate, make_divisible


def ev(text, **scope):
    return evaluate(text, scope)


# -- arithmetic and precedence -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2", 3),
        ("7 - 10", -3),
        ("6 * 7", 42),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("-7 // 2", -4),  # floor, as in Python
        ("7 % 3", 1),
        ("-7 % 3", 2),
        ("2 ** 10", 1024),
        ("2 ** -1", 0.5),
        ("2 + 3 * 4", 2 + 3 * 4),
        ("(2 + 3) * 4", (2 + 3) * 4),
        ("2 ** 3 ** 2", 2**9),  # right-associative
        ("-2 ** 2", -4),  # ** binds tighter than unary minus
        ("10 - 4 - 3", 3),  # left-associative
        ("100 // 10 // 3", 3),
        ("2 * 3 // 4", 1),
        ("2 + 12 / 4 * 3", 11.0),
        ("1 + 2 * 3 ** 2 % 5", 1 + 2 * 9 % 5),
        ("+5", 5),
        ("--5", 5),
        ("0.5 * 4", 2.0),
        ("1e3", 1000.0),
    ],
)
def test_arithmetic(text, expected):
    result = ev(text)
    assert result == expected
    assert type(result) is type(expected)


def test_names_from_scope():
    assert ev("planes * expansion", planes=64, expansion=4) == 256
    assert ev("c // g", c=96, g=3) == 32
    assert ev("(in_height + 2 * p - k) // s + 1", in_height=224, p=3, k=7, s=2) == 112


def test_whitespace_is_ignored():
    assert ev("  1 +   2  ") == 3


@pytest.mark.parametrize("text", ["1 / 0", "1 // 0", "5 % 0", "1.5 // 0", "0 ** -1"])
def test_division_by_zero(text):
    with pytest.raises(ExprError, match="zero"):
        ev(text)


# -- comparisons and logic -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 < 2", True),
        ("2 < 1", False),
        ("2 <= 2", True),
        ("3 > 2", True),
        ("3 >= 4", False),
        ("2 == 2.0", True),
        ("2 != 3", True),
        ("1 < 2 < 3", True),
        ("1 < 3 < 2", False),
        ("3 > 2 > 1 >= 1", True),
        ("1 == 1 != 2", True),
        ("1 < 2 > 3", False),
    ],
)
def test_comparisons(text, expected):
    assert ev(text) is expected


def test_chained_comparison_with_names():
    assert ev("0 < stride <= 2", stride=2) is True
    assert ev("0 < stride <= 2", stride=3) is False


def test_chained_comparison_stops_early():
    # like Python, the rest of a chain is not evaluated once a link is false
    assert ev("2 < 1 < 1 / 0") is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true and true", True),
        ("true and false", False),
        ("false or true", True),
        ("false or false", False),
        ("not true", False),
        ("not false", True),
        ("True and not False", True),
        ("1 < 2 and 3 < 4", True),
        ("1 > 2 or 3 > 4", False),
        ("not 1 < 2", False),  # not binds looser than comparison
        ("true or false and false", True),  # and binds tighter than or
        ("not true or true", True),
    ],
)
def test_boolean_logic(text, expected):
    assert ev(text) is expected


def test_boolean_names():
    assert ev("use_bias and not bottleneck", use_bias=True, bottleneck=False) is True
    assert ev("stride != 1 or cin != cout", stride=1, cin=64, cout=64) is False


def test_and_or_short_circuit():
    assert ev("false and 1 / 0") is False
    assert ev("true or 1 / 0") is True


def test_ternary():
    assert ev("a if c else b", a=1, b=2, c=True) == 1
    assert ev("a if c else b", a=1, b=2, c=False) == 2
    assert ev("64 if stride == 1 else 128", stride=2) == 128
    # only the chosen branch is evaluated
    assert ev("1 if true else 1 / 0") == 1
    assert ev("1 / 0 if false else 2") == 2


def test_nested_ternary():
    text = "'s' if n < 10 else 'm' if n < 100 else 'l'"
    assert [ev(text, n=n) for n in (5, 50, 500)] == ["s", "m", "l"]


# -- lists and indexing --------------------------------------------------------------------


def test_lists():
    assert ev("[1, 2, 3]") == [1, 2, 3]
    assert ev("[c, c * 2]", c=16) == [16, 32]
    assert ev("[]") == []


def test_indexing():
    assert ev("widths[0]", widths=(64, 128, 256)) == 64
    assert ev("widths[i + 1]", widths=[64, 128, 256], i=1) == 256
    assert ev("widths[-1]", widths=[64, 128, 256]) == 256
    assert ev("[10, 20, 30][1]") == 20
    assert ev("[[1, 2], [3, 4]][1][0]") == 3


def test_index_out_of_range():
    with pytest.raises(ExprError, match="out of range"):
        ev("xs[3]", xs=[1, 2, 3])


def test_index_must_be_an_integer():
    with pytest.raises(ExprError):
        ev("xs[1.0]", xs=[1, 2, 3])
    with pytest.raises(ExprError):
        ev("xs['a']", xs=[1, 2, 3])


def test_cannot_index_a_number():
    with pytest.raises(ExprError):
        ev("n[0]", n=5)


def test_slices_are_refused():
    with pytest.raises(ExprError):
        ev("xs[0:2]", xs=[1, 2, 3])


# -- functions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("min(3, 1, 2)", 1),
        ("max(3, 1, 2)", 3),
        ("min([4, 5])", 4),
        ("max(8, c // 4)", 16),
        ("ceil(7 / 2)", 4),
        ("ceil(-7 / 2)", -3),
        ("floor(7 / 2)", 3),
        ("floor(-7 / 2)", -4),
        ("round(2.4)", 2),
        ("round(2.6)", 3),
        ("round(2.5)", 2),  # Python rounds half to even
        ("round(3.5)", 4),
        ("round(3.14159, 2)", 3.14),
        ("int(7.9)", 7),
        ("int(-7.9)", -7),
        ("abs(-3)", 3),
        ("len([1, 2, 3])", 3),
        ("sum([1, 2, 3])", 6),
        ("float(3)", 3.0),
    ],
)
def test_functions(text, expected):
    result = ev(text, c=64)
    assert result == expected
    assert type(result) is type(expected)


def test_ceil_and_floor_return_ints():
    assert ev("ceil(2.0 * 1.5)") == math.ceil(2.0 * 1.5)
    assert isinstance(ev("ceil(n * 1.2)", n=3), int)


def test_function_argument_errors_are_expr_errors():
    with pytest.raises(ExprError):
        ev("max()")
    with pytest.raises(ExprError):
        ev("min(1, 'a')")
    with pytest.raises(ExprError):
        ev("int('x')")


def mobilenet_make_divisible(v, divisor, min_value=None):
    """The channel rounding of MobileNetV2's reference code (_make_divisible): the nearest
    multiple of `divisor`, at least `min_value` (default `divisor`), bumped up by one
    `divisor` when rounding down lost more than 10%."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


@pytest.mark.parametrize(
    ("v", "divisor", "expected"),
    [
        # worked by hand: nearest multiple of 8
        (32 * 0.75, 8, 24),  # 24 is already a multiple
        (16 * 1.4, 8, 24),  # 22.4 -> 24
        (32 * 1.4, 8, 48),  # 44.8 -> 48
        (1280 * 1.4, 8, 1792),
        (24 * 0.5, 8, 16),  # 12 is halfway: int(12 + 4) // 8 * 8 = 16
        (3, 8, 8),  # never below the divisor
        (11, 8, 16),  # 11 -> 8 loses more than 10% (8 < 9.9), so 16
        (100, 8, 104),  # 100 -> 104 (100/8 = 12.5 rounds half up here)
        (99, 8, 96),  # 96 >= 89.1: kept
    ],
)
def test_make_divisible(v, divisor, expected):
    assert mobilenet_make_divisible(v, divisor) == expected
    assert make_divisible(v, divisor) == expected
    assert ev(f"make_divisible({v!r}, {divisor})") == expected


def test_make_divisible_in_expression():
    assert ev("make_divisible(32 * 0.75, 8)") == 24
    assert ev("make_divisible(16 * 1.4, 8)") == 24
    assert ev("make_divisible(c * w, 8)", c=320, w=0.35) == mobilenet_make_divisible(320 * 0.35, 8)


def test_make_divisible_min_value():
    # with a floor of 16, 3 channels become 16
    assert make_divisible(3, 8, 16) == mobilenet_make_divisible(3, 8, 16) == 16


def test_make_divisible_bad_divisor():
    with pytest.raises(ExprError):
        ev("make_divisible(10, 0)")


@settings(max_examples=200, deadline=None)
@given(
    v=st.floats(min_value=0.5, max_value=5000, allow_nan=False),
    divisor=st.sampled_from([1, 2, 4, 8, 16, 32]),
)
def test_make_divisible_property(v, divisor):
    result = make_divisible(v, divisor)
    assert result == mobilenet_make_divisible(v, divisor)
    assert result % divisor == 0
    assert result >= divisor
    assert result >= 0.9 * v


# -- names ---------------------------------------------------------------------------------


def test_true_false_words():
    assert ev("true") is True
    assert ev("false") is False
    assert ev("True") is True
    assert ev("False") is False


def test_scope_overrides_function_free_names():
    assert ev("true", true=5) == 5


def test_undefined_name():
    with pytest.raises(ExprError, match="undefined name 'nope'"):
        ev("nope + 1", planes=4)


def test_undefined_name_suggests_close_one():
    with pytest.raises(ExprError) as info:
        ev("plane * 4", planes=64, stride=1)
    message = str(info.value)
    assert "undefined name 'plane'" in message
    assert "did you mean 'planes'" in message


def test_unparseable():
    with pytest.raises(ExprError, match="parse"):
        ev("1 +")
    with pytest.raises(ExprError):
        ev("x = 1")


# -- safety: nothing outside the whitelist runs ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "__import__('os').system('echo hacked')",
        "().__class__",
        "().__class__.__bases__[0].__subclasses__()",
        "x.y",
        "x.real",
        "lambda: 1",
        "(lambda: 1)()",
        "[i for i in [1, 2]]",
        "{i for i in [1, 2]}",
        "{i: i for i in [1, 2]}",
        "sum(i for i in [1, 2])",
        "open('f')",
        "eval('1')",
        "exec('x = 1')",
        "getattr(x, 'y')",
        "globals()",
        "max(1, 2, key=abs)",
        "round(2.5, ndigits=0)",
        "max(*xs)",
        "(y := 3)",
        "{1: 2}",
        "{1, 2}",
        "None",
        "b'bytes'",
        "1j",
        "~1",
        "1 << 2",
        "1 & 3",
        "1 @ 2",
        "1 in xs",
        "x is None",
        "f'{x}'",
        "...",
    ],
)
def test_refused(text):
    with pytest.raises(ExprError):
        ev(text, x=1, xs=[1])


def test_import_is_not_executed(tmp_path):
    marker = tmp_path / "hacked"
    text = f"__import__('os').system('touch {marker}')"
    with pytest.raises(ExprError):
        ev(text)
    assert not marker.exists()


def test_open_is_not_executed(tmp_path):
    target = tmp_path / "made"
    with pytest.raises(ExprError):
        ev(f"open({str(target)!r}, 'w')")
    assert not target.exists()


def test_scope_cannot_smuggle_a_callable():
    # a callable in scope is still not callable from an expression
    with pytest.raises(ExprError):
        ev("f(1)", f=print)


@pytest.mark.parametrize("text", ["2 ** 100000", "10 ** 10 ** 10", "2 ** 65", "2.0 ** 1000"])
def test_huge_exponent_refused_quickly(text):
    start = time.perf_counter()
    with pytest.raises(ExprError):
        ev(text)
    assert time.perf_counter() - start < 1.0


def test_large_but_allowed_exponent():
    assert ev("2 ** 64") == 2**64


def test_repeated_multiplication_cannot_grow_without_end():
    # each step stays under the exponent limit, but the number grows past any sane size
    with pytest.raises(ExprError):
        ev("((2 ** 64) ** 64) ** 64")


# Failures inside an allowed operation must surface as ExprError, which the builder turns
# into a located spec error; any other exception escapes as a traceback.
@pytest.mark.parametrize(
    "text",
    [
        "1 < 'a'",  # comparison of unlike types (TypeError)
        "-[1]",  # unary minus on a list (TypeError)
        "1e300 ** 2",  # float overflow in ** (OverflowError)
        "ceil(1e400)",  # infinity to int inside a function (OverflowError)
        "'ab' * 2 ** 62",  # a string too long to build (OverflowError)
    ],
)
def test_runtime_failures_are_expr_errors(text):
    with pytest.raises(ExprError):
        ev(text)


# -- property: integer arithmetic agrees with Python -----------------------------------------

small_ints = st.integers(min_value=-(10**9), max_value=10**9)


@settings(max_examples=200, deadline=None)
@given(a=small_ints, b=small_ints, op=st.sampled_from(["+", "-", "*", "//", "%"]))
def test_integer_arithmetic_matches_python(a, b, op):
    if op in ("//", "%") and b == 0:
        b = 7
    python = {
        "+": lambda: a + b,
        "-": lambda: a - b,
        "*": lambda: a * b,
        "//": lambda: a // b,
        "%": lambda: a % b,
    }[op]()
    assert ev(f"a {op} b", a=a, b=b) == python
    assert ev(f"({a}) {op} ({b})") == python


@settings(max_examples=200, deadline=None)
@given(a=small_ints, b=small_ints, c=st.integers(min_value=1, max_value=1000))
def test_compound_integer_expression_matches_python(a, b, c):
    assert ev("a + b * c - a // c", a=a, b=b, c=c) == a + b * c - a // c
    assert ev("(a - b) // c * c + (a - b) % c", a=a, b=b, c=c) == a - b
    assert ev("min(a, b) <= max(a, b)", a=a, b=b) is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("math.floor(3)", r"attribute access \('math\.floor'\) is not allowed.*write floor\("),
        ("'abc'.upper()", r"method calls \('\.upper\(\)'\) are not allowed"),
        ("(lambda: 3)()", r"^a lambda is not allowed in expressions$"),
        ("(3)(4)", r"only functions can be called, by name"),
        ("[i for i in [1]]", r"^a list comprehension is not allowed"),
        ("x.y", r"attribute access \('x\.y'\)"),
    ],
)
def test_refusals_name_what_is_wrong(text, message):
    """Each refusal names the construct written, never a made-up function name."""
    with pytest.raises(ExprError, match=message) as info:
        ev(text, x=1)
    assert "'this'" not in str(info.value)


# -- exact arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "scope", "expected"),
    [
        ("0.1 + 0.2", {}, Fraction(3, 10)),
        ("1 / 3", {}, Fraction(1, 3)),
        ("x * 3", {"x": 0.1}, Fraction(3, 10)),
        ("[x, 1 / 2]", {"x": 0.25}, [Fraction(1, 4), Fraction(1, 2)]),
        ("7 // 2", {}, 3),
        ("1e-3", {}, Fraction(1, 1000)),
    ],
)
def test_exact_mode_keeps_every_digit(text, scope, expected):
    assert evaluate(text, scope, exact=True) == expected


def test_plain_mode_is_python_floating_point():
    assert evaluate("0.1 + 0.2", {}) == 0.1 + 0.2 != 0.3
    third = evaluate("x", {"x": Fraction(1, 3)})
    assert type(third) is float and third == 1 / 3
    whole = evaluate("x", {"x": Fraction(8, 2)})
    assert type(whole) is int and whole == 4


def test_exact_mode_float_leaves_exactness_on_request():
    assert type(evaluate("float(1 / 3)", {}, exact=True)) is float


def test_exact_fractions_cannot_grow_without_end():
    with pytest.raises(ExprError, match="number too large"):
        evaluate("((1 / 3) ** 64) ** 64", {}, exact=True)
