"""A small, safe evaluator for arithmetic in spec arguments (``planes * 4``, ``c // g``).

Specs may come from anyone, so nothing here uses eval/exec: the text is parsed with
``ast`` and only a whitelist of node types is compiled into closures. Names resolve
only to the variables in scope and to the functions in FUNCTIONS; attribute access,
imports, comprehensions and lambdas are refused.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

from .errors import ExprError

Scope = Mapping[str, Any]
Compiled = Callable[[Scope], Any]

_MAX_POWER = 64  # largest exponent allowed in `a ** b`, so a spec cannot stall the tool
_MAX_INT_BITS = 4096
_MAX_ITEMS = 10_000  # longest list or text an expression may build


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to the nearest multiple of `divisor`, never going below 90%.

    The rule MobileNetV2 and EfficientNet use for width multipliers.
    """
    if divisor <= 0:
        raise ExprError("make_divisible: the divisor must be positive")
    floor = divisor if min_value is None else min_value
    new = max(floor, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def _round(value: float, ndigits: int | None = None) -> Any:
    return round(value) if ndigits is None else round(value, ndigits)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "int": int,
    "float": float,
    "round": _round,
    "floor": math.floor,
    "ceil": math.ceil,
    "len": len,
    "sum": sum,
    "make_divisible": make_divisible,
}


def _power(a: Any, b: Any) -> Any:
    if isinstance(b, (int, float)) and abs(b) > _MAX_POWER:
        raise ExprError(f"exponent {b} is too large (at most {_MAX_POWER})")
    result = a**b
    if isinstance(result, complex):
        raise ExprError(f"{a} ** {b} is not a real number")
    return result


def _multiply(a: Any, b: Any) -> Any:
    """Numbers multiply; a list or text repeats, but only up to _MAX_ITEMS items."""
    for seq, count in ((a, b), (b, a)):
        if (
            isinstance(seq, (str, list))
            and isinstance(count, int)
            and len(seq) * count > _MAX_ITEMS
        ):
            raise ExprError(
                f"repetition would make {len(seq) * count} items (at most {_MAX_ITEMS})"
            )
    return a * b


class _ExactDiv(ast.Div):
    """`/` in an exact expression: integers and fractions divide into a Fraction."""


def _exact_divide(a: Any, b: Any) -> Any:
    if isinstance(a, (int, Fraction)) and isinstance(b, (int, Fraction)):
        return Fraction(a) / b
    return a / b


def exact_number(value: Any) -> Any:
    """A finite float as the decimal it prints as (0.1 → 1/10), recursively through lists;
    anything else unchanged. Exact expressions read every float this way."""
    if isinstance(value, float) and math.isfinite(value):
        return Fraction(repr(value))
    if isinstance(value, (list, tuple)):
        return type(value)(exact_number(v) for v in value)
    return value


def _float_number(value: Any) -> Any:
    """A Fraction as the nearest float, recursively through lists: how the other
    expressions read exact values (op attributes are computed in floating point)."""
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    if isinstance(value, (list, tuple)) and any(
        isinstance(v, (Fraction, list, tuple)) for v in value
    ):
        return type(value)(_float_number(v) for v in value)
    return value


class _Exactify(ast.NodeTransformer):
    """Rewrite a parsed expression for exact arithmetic: decimals become fractions and
    `/` divides exactly."""

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, float) and math.isfinite(node.value):
            return ast.copy_location(ast.Constant(exact_number(node.value)), node)
        return node

    def visit_Div(self, node: ast.Div) -> ast.AST:
        return _ExactDiv()


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _multiply,
    ast.Div: operator.truediv,
    _ExactDiv: _exact_divide,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_CMPOPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def _checked(fn: Callable[[Any, Any], Any], symbol: str) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        try:
            result = fn(a, b)
        except ZeroDivisionError:
            raise ExprError("division by zero") from None
        except TypeError:
            raise ExprError(
                f"cannot apply {symbol!r} to {type(a).__name__} and {type(b).__name__}"
            ) from None
        if isinstance(result, int) and result.bit_length() > _MAX_INT_BITS:
            raise ExprError("number too large")
        if isinstance(result, Fraction) and (
            result.numerator.bit_length() > _MAX_INT_BITS
            or result.denominator.bit_length() > _MAX_INT_BITS
        ):
            raise ExprError("number too large")
        return result

    return apply


_SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    _ExactDiv: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}


def _compile(node: ast.AST) -> Compiled:
    """Turn one whitelisted AST node into a closure over the scope."""
    if isinstance(node, ast.Constant):
        value = node.value
        if not isinstance(value, (int, float, str, bool, Fraction)) or value is None:
            raise ExprError(f"unsupported constant {value!r}")
        return lambda scope: value
    if isinstance(node, ast.Name):
        name = node.id
        return lambda scope: _lookup(scope, name)
    if isinstance(node, ast.BinOp):
        op_type = type(node.op)
        fn = _power if op_type is ast.Pow else _BINOPS.get(op_type)
        if fn is None:
            raise ExprError(f"operator {type(node.op).__name__} is not allowed")
        apply = _checked(fn, _SYMBOLS[op_type])
        left, right = _compile(node.left), _compile(node.right)
        return lambda scope: apply(left(scope), right(scope))
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda scope: -operand(scope)
        if isinstance(node.op, ast.UAdd):
            return lambda scope: +operand(scope)
        if isinstance(node.op, ast.Not):
            return lambda scope: not operand(scope)
        raise ExprError("operator ~ is not allowed")
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda scope: all(p(scope) for p in parts)
        return lambda scope: any(p(scope) for p in parts)
    if isinstance(node, ast.Compare):
        left = _compile(node.left)
        ops = []
        for op, comp in zip(node.ops, node.comparators, strict=True):
            fn = _CMPOPS.get(type(op))
            if fn is None:
                raise ExprError(f"comparison {type(op).__name__} is not allowed")
            ops.append((fn, _compile(comp)))

        def compare(scope: Scope) -> bool:
            a = left(scope)
            for fn, comp in ops:
                b = comp(scope)
                if not fn(a, b):
                    return False
                a = b
            return True

        return compare
    if isinstance(node, ast.IfExp):
        test, body, orelse = _compile(node.test), _compile(node.body), _compile(node.orelse)
        return lambda scope: body(scope) if test(scope) else orelse(scope)
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_compile(e) for e in node.elts]
        return lambda scope: [item(scope) for item in items]
    if isinstance(node, ast.Subscript):
        target, index = _compile(node.value), _compile(node.slice)
        return lambda scope: _index(target(scope), index(scope))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ExprError(_refused_call(node.func))
        if node.keywords:
            raise ExprError("keyword arguments are not allowed in expressions")
        fn = FUNCTIONS[node.func.id]
        fname = node.func.id
        args = [_compile(a) for a in node.args]

        def call(scope: Scope) -> Any:
            values = [a(scope) for a in args]
            try:
                return fn(*values)
            except ExprError:
                raise
            except (TypeError, ValueError) as exc:
                raise ExprError(f"{fname}(): {exc}") from None

        return call
    if isinstance(node, ast.Attribute):
        raise ExprError(f"attribute access ('{_dotted(node)}') is not allowed in expressions")
    what = _REFUSED.get(type(node), type(node).__name__)
    raise ExprError(f"{what} is not allowed in expressions")


_REFUSED: dict[type, str] = {
    ast.Lambda: "a lambda",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.NamedExpr: "an assignment (':=')",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.JoinedStr: "an f-string",
}


def _dotted(node: ast.Attribute) -> str:
    """`math.floor` for a name's attribute, `….upper` for any other value's."""
    owner = node.value.id if isinstance(node.value, ast.Name) else "…"
    return f"{owner}.{node.attr}"


def _refused_call(func: ast.expr) -> str:
    """Say what is wrong with a call of anything but a named function: a function we do not
    offer, a module's function, a method, a lambda, or a call of a value."""
    available = f"use one of: {', '.join(FUNCTIONS)}"
    if isinstance(func, ast.Name):
        return f"function {func.id!r} is not available; {available}"
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        plain = f"; write {func.attr}(...)" if func.attr in FUNCTIONS else f"; {available}"
        return f"attribute access ('{_dotted(func)}') is not allowed in expressions{plain}"
    if isinstance(func, ast.Attribute):
        return f"method calls ('.{func.attr}()') are not allowed in expressions; {available}"
    if isinstance(func, ast.Lambda):
        return "a lambda is not allowed in expressions"
    return f"only functions can be called, by name; {available}"


@dataclass(frozen=True)
class Unreadable:
    """A variable that exists in a scope but may not be read there: reading it is an error
    that says why (in_channels inside inline layers whose input differs from the block's)."""

    value: Any  # what the name means in the enclosing scope
    reason: str


# Set by sweeps (cnncost/sweep.py) while building a graph: every read of a variable whose
# scope also holds ORIGIN + name (the input-shape variables) adds its origins here,
# (layer, axis) pairs (axis None: the whole shape), so the sweep knows which layers'
# shapes the structure depends on.
ORIGIN = "\0"
shape_reads: ContextVar[set | None] = ContextVar("shape_reads", default=None)


class TrackedShape(tuple):
    """`in_shape` while a sweep records reads: indexing records one axis, any other use
    (iterating, comparing) the whole shape, of each layer whose output it stands for."""

    layers: tuple[str, ...] = ()

    def _read(self, axis: int | None) -> None:
        reads = shape_reads.get()
        if reads is not None:
            reads.update((layer, axis) for layer in self.layers)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int) and -len(self) <= index < len(self):
            self._read(index % len(self))
        else:
            self._read(None)
        return tuple.__getitem__(self, index)

    def __iter__(self):
        self._read(None)
        return tuple.__iter__(self)

    def __eq__(self, other: object) -> bool:
        self._read(None)
        return tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        self._read(None)
        return tuple.__ne__(self, other)

    __hash__ = tuple.__hash__


def _lookup(scope: Scope, name: str) -> Any:
    if name in scope:
        value = scope[name]
        reads = shape_reads.get()
        if reads is not None and ORIGIN + name in scope:
            reads.update(scope[ORIGIN + name])
        if isinstance(value, Unreadable):
            raise ExprError(value.reason)
        if isinstance(value, TrackedShape):
            return value  # whole numbers only, and its own reads must stay recorded
        return exact_number(value) if isinstance(scope, _ExactScope) else _float_number(value)
    if name in ("true", "True"):
        return True
    if name in ("false", "False"):
        return False
    from .errors import did_you_mean

    raise ExprError(f"undefined name {name!r}{did_you_mean(name, list(scope))}")


def _index(target: Any, index: Any) -> Any:
    if not isinstance(target, (list, tuple)):
        raise ExprError(f"cannot index a {type(target).__name__}")
    if not isinstance(index, int) or isinstance(index, bool):
        raise ExprError("a list index must be an integer")
    try:
        return target[index]
    except IndexError:
        raise ExprError(f"index {index} is out of range for a list of {len(target)}") from None


class _ExactScope(Mapping[str, Any]):
    """The variables of an exact expression: a view whose type tells lookups to read
    floats exactly."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def __getitem__(self, name: str) -> Any:
        return self.scope[name]

    def __contains__(self, name: object) -> bool:
        return name in self.scope

    def __iter__(self) -> Iterator[str]:
        return iter(self.scope)

    def __len__(self) -> int:
        return len(self.scope)


@lru_cache(maxsize=8192)
def compile_expr(text: str, exact: bool = False) -> Compiled:
    """Parse and compile `text` once; the result is evaluated against a scope."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"cannot parse expression {text!r}: {exc.msg}") from None
    if exact:
        tree = _Exactify().visit(tree)
    return _compile(tree.body)


def evaluate(text: str, scope: Scope, exact: bool = False) -> Any:
    """Evaluate one expression string against the variables in `scope`.

    With `exact`, arithmetic is exact: a decimal means the fraction it prints as (0.1 is
    1/10, a float variable too) and `/` of integers or fractions gives a Fraction. Without
    it, as in Python, `/` gives a float and exact values are read as the nearest float.

    Any failure while evaluating (a comparison of a number with text, an overflow) becomes
    an ExprError, so the caller can report it with the spec's file and line.
    """
    compiled = compile_expr(text, exact)
    try:
        return compiled(_ExactScope(scope) if exact else scope)
    except ExprError:
        raise
    except (ArithmeticError, TypeError, ValueError, IndexError, MemoryError, RecursionError) as exc:
        raise ExprError(f"cannot evaluate {text!r}: {exc}") from None
