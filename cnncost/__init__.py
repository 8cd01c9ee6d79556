"""cnncost: exact parameters, multiply-accumulates and activation memory of CNN architectures.

>>> import cnncost
>>> report = cnncost.analyze("resnet50")
>>> report.totals.params, report.totals.macs
"""

from __future__ import annotations

from .errors import CnnCostError, SpecError
from .ops import Shape
from .report import Report

__version__ = "0.1.0"
__all__ = ["CnnCostError", "Report", "SpecError", "analyze", "build_graph"]


def build_graph(
    model: str,
    *,
    input_shape: Shape | None = None,
    batch: int | None = None,
    max_layers: int | None = None,
):
    """Expand a built-in model name, a spec path or PATH:VARIANT into its layer Graph.

    Arguments are checked (CnnCostError); `max_layers` bounds the expansion (default:
    $CNNCOST_MAX_LAYERS, else 10⁶)."""
    from .build import build
    from .errors import SpecError
    from .zoo import builtin_model, resolve

    spec, variant = resolve(model)
    builtin = builtin_model(spec, variant)
    try:
        return build(
            spec,
            variant,
            input_shape=input_shape,
            batch=batch,
            max_layers=max_layers,
            builtin=builtin,
        )
    except SpecError as exc:
        exc.builtin = builtin
        raise


def analyze(
    model: str,
    *,
    input_shape: Shape | None = None,
    batch: int | None = None,
    dtype: str = "fp32",
    max_layers: int | None = None,
) -> Report:
    """Count parameters, MACs and activation memory of `model` (see build_graph)."""
    from .report import analyze_graph

    graph = build_graph(model, input_shape=input_shape, batch=batch, max_layers=max_layers)
    return analyze_graph(graph, dtype)
