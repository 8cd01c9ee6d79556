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
from collections.abc import Callable, Mapping
from contextvars import ContextVar
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


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _multiply,
    ast.Div: operator.truediv,
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
        return result

    return apply


_SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}


def _compile(node: ast.AST) -> Compiled:
    """Turn one whitelisted AST node into a closure over the scope."""
    if isinstance(node, ast.Constant):
        value = node.value
        if not isinstance(value, (int, float, str, bool)) or value is None:
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
            shown = node.func.id if isinstance(node.func, ast.Name) else "this"
            raise ExprError(
                f"function {shown!r} is not available; use one of: {', '.join(FUNCTIONS)}"
            )
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
        raise ExprError("attribute access ('.') is not allowed in expressions")
    raise ExprError(f"{type(node).__name__} is not allowed in expressions")


# Set by sweeps (cnncost/sweep.py) while building a graph: every read of a variable whose
# scope also holds ORIGIN + name (the input-shape variables) adds its origin here, a
# (layer, axis) pair (axis None: the whole shape), so the sweep knows which layers' shapes
# the structure depends on.
ORIGIN = "\0"
shape_reads: ContextVar[set | None] = ContextVar("shape_reads", default=None)


class TrackedShape(tuple):
    """`in_shape` while a sweep records reads: indexing records one axis, any other use
    (iterating, comparing) the whole shape."""

    layer: str = ""

    def _read(self, axis: int | None) -> None:
        reads = shape_reads.get()
        if reads is not None:
            reads.add((self.layer, axis))

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
        reads = shape_reads.get()
        if reads is not None and ORIGIN + name in scope:
            reads.add(scope[ORIGIN + name])
        return scope[name]
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


@lru_cache(maxsize=8192)
def compile_expr(text: str) -> Compiled:
    """Parse and compile `text` once; the result is evaluated against a scope."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"cannot parse expression {text!r}: {exc.msg}") from None
    return _compile(tree.body)


def evaluate(text: str, scope: Scope) -> Any:
    """Evaluate one expression string against the variables in `scope`.

    Any failure while evaluating (a comparison of a number with text, an overflow) becomes
    an ExprError, so the caller can report it with the spec's file and line.
    """
    compiled = compile_expr(text)
    try:
        return compiled(scope)
    except ExprError:
        raise
    except (ArithmeticError, TypeError, ValueError, IndexError, MemoryError, RecursionError) as exc:
        raise ExprError(f"cannot evaluate {text!r}: {exc}") from None
