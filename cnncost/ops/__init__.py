"""Every op cnncost knows; importing this package registers them all."""

from . import (  # noqa: F401  (registration)
    activation,
    conv,
    deform,
    linear,
    merge,
    norm,
    pool,
    tensor,
    transformer,
    upsample,
)
from .registry import (
    OPS,
    REQUIRED,
    Attr,
    Cost,
    Grad,
    Need,
    OpDef,
    Saved,
    Shape,
    get_op,
    numel,
    public_ops,
    show,
)

__all__ = [
    "OPS",
    "REQUIRED",
    "Attr",
    "Cost",
    "Grad",
    "Need",
    "OpDef",
    "Saved",
    "Shape",
    "get_op",
    "numel",
    "public_ops",
    "show",
]
