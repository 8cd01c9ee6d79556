"""Value kinds: how a raw YAML value (number, word, list or expression) becomes a typed value.

Op attributes and block parameters both declare a kind. A string given where a number,
flag or list is expected is an expression, evaluated against the variables in scope; a
string given where a word is expected (``padding: same``) is taken literally unless it
names a variable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .errors import ExprError, did_you_mean
from .expr import Scope, evaluate, exact_number


def _eval(raw: Any, scope: Scope, exact: bool = False) -> Any:
    """Evaluate expression strings, recursively through lists."""
    if isinstance(raw, str):
        return evaluate(raw, scope, exact)
    if isinstance(raw, (list, tuple)):
        return [_eval(item, scope, exact) for item in raw]
    return raw


def _repr(value: Any) -> str:
    return str(value) if isinstance(value, Fraction) else repr(value)


def _show(raw: Any, value: Any) -> str:
    return f"{_repr(value)} (from {raw!r})" if isinstance(raw, str) else _repr(value)


def _as_int(raw: Any, value: Any, minimum: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise ExprError(f"expected an integer, got {_show(raw, value)}")
    if isinstance(value, (float, Fraction)):
        whole = value.is_integer() if isinstance(value, float) else value.denominator == 1
        if not whole:
            raise ExprError(f"expected an integer, got {_show(raw, value)}")
        value = int(value)
    if minimum is not None and value < minimum:
        raise ExprError(f"must be at least {minimum}, got {_show(raw, value)}")
    return value


@dataclass(frozen=True)
class Kind:
    """The type of an attribute or parameter, with the words used to describe it in docs."""

    name: str

    def coerce(self, raw: Any, scope: Scope) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class IntKind(Kind):
    minimum: int | None = None

    def coerce(self, raw: Any, scope: Scope) -> int:
        return _as_int(raw, _eval(raw, scope), self.minimum)


@dataclass(frozen=True)
class FloatKind(Kind):
    def coerce(self, raw: Any, scope: Scope) -> float:
        value = _eval(raw, scope)
        if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
            raise ExprError(f"expected a number, got {_show(raw, value)}")
        return float(value)


@dataclass(frozen=True)
class ExactKind(Kind):
    """A number computed exactly (a probability): decimals are the fractions they print as,
    `/` divides exactly, and the result is a Fraction."""

    def coerce(self, raw: Any, scope: Scope) -> Fraction:
        value = exact_number(_eval(raw, scope, exact=True))
        if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
            raise ExprError(f"expected a number, got {_show(raw, value)}")
        return Fraction(value)


@dataclass(frozen=True)
class BoolKind(Kind):
    def coerce(self, raw: Any, scope: Scope) -> bool:
        words = ("true", "false", "True", "False")
        if isinstance(raw, str) and raw.isidentifier() and raw not in scope and raw not in words:
            raise ExprError(f"expected true or false, got {raw!r}")
        value = _eval(raw, scope)
        if not isinstance(value, bool):
            raise ExprError(f"expected true or false, got {_show(raw, value)}")
        return value


@dataclass(frozen=True)
class PairKind(Kind):
    """One integer for both spatial dimensions, or [height, width]."""

    minimum: int = 1

    def coerce(self, raw: Any, scope: Scope) -> tuple[int, int]:
        value = _eval(raw, scope)
        if isinstance(value, (list, tuple)):
            if len(value) != 2:
                raise ExprError(
                    f"expected one integer or [height, width], got a list of {len(value)}"
                )
            return (_as_int(raw, value[0], self.minimum), _as_int(raw, value[1], self.minimum))
        n = _as_int(raw, value, self.minimum)
        return (n, n)


@dataclass(frozen=True)
class ChoiceKind(Kind):
    """A word from a fixed set, or (for padding) also an integer pair."""

    options: tuple[str, ...] = ()
    also_pair: bool = False

    def coerce(self, raw: Any, scope: Scope) -> Any:
        if isinstance(raw, str) and raw in self.options:
            return raw
        if isinstance(raw, str) and raw in scope and isinstance(scope[raw], str):
            value = scope[raw]
            if value in self.options:
                return value
            raise ExprError(
                f"expected one of {', '.join(self.options)}, got {value!r} (from {raw!r})"
            )
        if self.also_pair:
            try:
                return PairKind(self.name, minimum=0).coerce(raw, scope)
            except ExprError as exc:
                if isinstance(raw, str) and raw.isidentifier() and raw not in scope:
                    hint = did_you_mean(raw, self.options)
                    raise ExprError(
                        f"expected {' or '.join(self.options)} or padding size(s), "
                        f"got {raw!r}{hint}"
                    ) from None
                raise exc
        hint = did_you_mean(raw, self.options) if isinstance(raw, str) else ""
        raise ExprError(f"expected one of {', '.join(self.options)}, got {raw!r}{hint}")


@dataclass(frozen=True)
class IntListKind(Kind):
    minimum: int | None = None

    def coerce(self, raw: Any, scope: Scope) -> tuple[int, ...]:
        value = _eval(raw, scope)
        if not isinstance(value, (list, tuple)):
            raise ExprError(f"expected a list of integers, got {_show(raw, value)}")
        return tuple(_as_int(raw, v, self.minimum) for v in value)


@dataclass(frozen=True)
class AnyKind(Kind):
    """A block parameter. With literal_words, a lone identifier that names no variable is a
    word (``act: relu``); every other string is an expression (``out: planes * 4``),
    computed exactly, since its use is not known yet: ``1 / 3`` stays one third (a
    stochastic-depth probability), and a whole number comes out as an int."""

    literal_words: bool = False

    def coerce(self, raw: Any, scope: Scope) -> Any:
        if self.literal_words and isinstance(raw, str) and raw.isidentifier():
            return _whole(evaluate(raw, scope, exact=True)) if raw in scope else raw
        value = _whole(_eval(raw, scope, exact=True))
        if isinstance(value, list):
            return tuple(value)
        return value


def _whole(value: Any) -> Any:
    """Fractions that are whole numbers as ints, recursively through lists."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    if isinstance(value, (list, tuple)):
        return type(value)(_whole(v) for v in value)
    return value


INT = IntKind("integer")
POSITIVE = IntKind("positive integer", minimum=1)
NONNEGATIVE = IntKind("integer ≥ 0", minimum=0)
FLOAT = FloatKind("number")
EXACT = ExactKind("number (exact)")
BOOL = BoolKind("true/false")
PAIR = PairKind("integer or [height, width]", minimum=1)
PAIR0 = PairKind("integer ≥ 0 or [height, width]", minimum=0)
PADDING = ChoiceKind("integer, [height, width], same or valid", ("same", "valid"), also_pair=True)
POSITIVE_LIST = IntListKind("list of positive integers", minimum=1)
ANY = AnyKind("number, flag or list (expressions allowed)")
WORD = AnyKind("word", literal_words=True)


def choice(*options: str) -> ChoiceKind:
    return ChoiceKind(" or ".join(options), options)


def kind_for_default(default: Any) -> Kind:
    """The kind of a block parameter, inferred from its default value."""
    if isinstance(default, bool):
        return BOOL
    if isinstance(default, str):
        return WORD
    return ANY


def describe(value: Any) -> str:
    """Render a typed value as a spec author would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    return str(value)
