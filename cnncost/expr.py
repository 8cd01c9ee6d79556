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
from functools import lru_cache
from typing import Any

from .errors import ExprError
from .limits import MAX_ITEMS as _MAX_ITEMS
from .limits import excerpt

Scope = Mapping[str, Any]
Compiled = Callable[[Scope], Any]

_MAX_POWER = 64  # largest exponent allowed in `a ** b`, so a spec cannot stall the tool
_MAX_INT_BITS = 4096
_MAX_TEXT = 2_000  # longest expression, in characters
_MAX_DEPTH = 100  # deepest nesting of an expression's syntax tree
_MAX_DIGITS = 1_000  # largest ndigits (either sign) round() takes


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
    if isinstance(ndigits, int) and abs(ndigits) > _MAX_DIGITS:
        raise ExprError(f"round(): ndigits must be within ±{_MAX_DIGITS}")
    return round(value) if ndigits is None else round(value, ndigits)


def _sum(items: Any, start: Any = 0) -> Any:
    """sum(), refusing a total list or text longer than _MAX_ITEMS before it is built."""
    items = list(items)
    if isinstance(start, (list, tuple, str)):
        length = len(start) + sum(len(i) for i in items if isinstance(i, (list, tuple, str)))
        if length > _MAX_ITEMS:
            raise ExprError(f"sum() would make {length} items (at most {_MAX_ITEMS})")
    return sum(items, start)


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
    "sum": _sum,
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
            isinstance(seq, (str, list, tuple))
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
        if isinstance(result, (list, tuple, str)) and len(result) > _MAX_ITEMS:
            raise ExprError(f"a list or text of {len(result)} items (at most {_MAX_ITEMS})")
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
            raise ExprError(f"unsupported constant {excerpt(repr(value))}")
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


def _lookup(scope: Scope, name: str) -> Any:
    if name in scope:
        return scope[name]
    if name in ("true", "True"):
        return True
    if name in ("false", "False"):
        return False
    from .errors import did_you_mean

    raise ExprError(f"undefined name {excerpt(name)}{did_you_mean(name[:100], list(scope))}")


def _index(target: Any, index: Any) -> Any:
    if not isinstance(target, (list, tuple)):
        raise ExprError(f"cannot index a {type(target).__name__}")
    if not isinstance(index, int) or isinstance(index, bool):
        raise ExprError("a list index must be an integer")
    try:
        return target[index]
    except IndexError:
        raise ExprError(f"index {index} is out of range for a list of {len(target)}") from None


def _depth(tree: ast.AST) -> int:
    """The depth of a syntax tree, found without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > _MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


@lru_cache(maxsize=8192)
def compile_expr(text: str) -> Compiled:
    """Parse and compile `text` once; the result is evaluated against a scope.

    Length and nesting are bounded first, so a hostile expression cannot exhaust the
    stack of the parser, the compiler or the evaluation."""
    if len(text) > _MAX_TEXT:
        raise ExprError(
            f"expression {excerpt(text)} is too long (at most {_MAX_TEXT:,} characters)"
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"cannot parse expression {excerpt(text)}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ExprError(f"expression {excerpt(text)} is nested too deeply") from None
    if _depth(tree) > _MAX_DEPTH:
        raise ExprError(
            f"expression {excerpt(text)} is nested too deeply (at most {_MAX_DEPTH} levels)"
        )
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
        raise ExprError(f"cannot evaluate {excerpt(text)}: {excerpt(str(exc))}") from None
