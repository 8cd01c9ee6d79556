"""Bounds on the work one input may cause, so that a hostile or mistaken file is refused in
one line instead of stalling the tool or exhausting memory (docs/spec-format.md, "Limits").

Every limit here is checked before the work it bounds is done.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import CnnCostError

MAX_LAYERS_ENV = "CNNCOST_MAX_LAYERS"
DEFAULT_MAX_LAYERS = 1_000_000  # layers one model may expand into
MAX_FILE_BYTES = 1024 * 1024  # largest YAML file read (spec, claims, hardware): 1 MiB
MAX_YAML_DEPTH = 100  # nesting of YAML mappings and lists
MAX_YAML_NODES = 2_000_000  # YAML values after aliases are expanded (alias bombs)
MAX_SIZE = 10**15  # largest integer attribute or tensor dimension
MAX_ELEMENTS = 10**18  # largest tensor, in elements per sample
MAX_BATCH = 10**15
MAX_ITEMS = 10_000  # longest list or text in a spec or built by an expression
EXCERPT = 60  # characters of a user's text quoted back in an error


def max_layers(explicit: int | None = None) -> int:
    """The layer limit: an explicit value, else $CNNCOST_MAX_LAYERS, else 10⁶."""
    if explicit is not None:
        if isinstance(explicit, bool) or not isinstance(explicit, int) or explicit < 1:
            raise CnnCostError(f"max_layers must be a positive integer, got {explicit!r}")
        return explicit
    raw = os.environ.get(MAX_LAYERS_ENV)
    if raw is None or raw == "":
        return DEFAULT_MAX_LAYERS
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise CnnCostError(f"${MAX_LAYERS_ENV} must be a positive integer, got {excerpt(raw)}")
    return value


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """`text` quoted, cut to its first `limit` characters so an error stays one short line."""
    text = str(text)
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"… ({len(text):,} characters)"


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold off the cyclic garbage collector while building many small acyclic objects:
    its repeated full scans make a 10⁵-layer analysis several times slower."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def approx(n: int) -> str:
    """An integer of any size, short: exact up to 15 digits, else its power of ten."""
    if abs(n) < 10**15:
        return f"{n:,}"
    return f"about 10^{int(abs(n).bit_length() * 0.30103)}"


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_tensor(shape: tuple[int, ...]) -> str | None:
    """What is wrong with a tensor's size (a dimension or element count beyond the
    limits), or None. Bounding sizes keeps every count printable and exact."""
    total = 1
    for d in shape:
        if d > MAX_SIZE:
            return f"dimension {approx(d)} exceeds the limit of 10^15"
        total *= d
    if total > MAX_ELEMENTS:
        return f"size of {approx(total)} elements exceeds the limit of 10^18"
    return None


def check_shape(dims: object, what: str) -> tuple[int, ...]:
    """An input shape given through the API or the command line: positive integers within
    the limits."""
    if isinstance(dims, (str, bytes)) or not hasattr(dims, "__iter__"):
        raise CnnCostError(f"{what} must be a sequence of integers such as (3, 224, 224)")
    items = tuple(dims)  # type: ignore[call-overload]
    if not items or len(items) > 8:
        raise CnnCostError(f"{what} must have 1 to 8 dimensions, got {len(items)}")
    for d in items:
        if not _whole(d):
            raise CnnCostError(f"{what} must hold integers, got {excerpt(repr(d))}")
        if d < 1:
            raise CnnCostError(f"{what} must hold positive integers, got {d}")
    problem = check_tensor(items)
    if problem:
        raise CnnCostError(f"{what}: {problem}")
    return items


def check_batch(batch: object, what: str = "batch") -> int:
    """A batch size given through the API: an integer from 1 to MAX_BATCH."""
    if not _whole(batch):
        raise CnnCostError(f"{what} must be an integer, got {excerpt(repr(batch))}")
    if not 1 <= batch <= MAX_BATCH:  # type: ignore[operator]
        raise CnnCostError(f"{what} must be from 1 to {MAX_BATCH:,}, got {approx(batch)}")  # type: ignore[arg-type]
    return batch  # type: ignore[return-value]
