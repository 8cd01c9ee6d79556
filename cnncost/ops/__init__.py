"""Every op cnncost knows; importing this package registers them all."""

from . import activation, conv, linear, merge, norm, pool, tensor  # noqa: F401  (registration)
from .registry import OPS, REQUIRED, Attr, Cost, OpDef, Shape, get_op, numel, public_ops, show

__all__ = [
    "OPS",
    "REQUIRED",
    "Attr",
    "Cost",
    "OpDef",
    "Shape",
    "get_op",
    "numel",
    "public_ops",
    "show",
]
