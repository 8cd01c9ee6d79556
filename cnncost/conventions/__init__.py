"""Named counting conventions: which ops each counter counts, and with what formula.

The conventions themselves are data (conventions.yaml): for every op, a formula over the
per-sample sizes that cnncost derives for each layer (``Layer.quantities``: MACs, input and
output elements, bias adds, pooling window, attention scores, ...). This module only loads
and evaluates them; it imports neither torch nor any peer tool.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import CnnCostError, did_you_mean
from ..expr import compile_expr
from ..report import Layer, Report

_FILE = Path(__file__).with_name("conventions.yaml")


@dataclass(frozen=True)
class Convention:
    """One counter's rules: a formula per op (``"0"`` where it counts nothing)."""

    name: str
    title: str
    tool: str
    measured: str
    notes: str
    formulas: Mapping[str, str]

    def count(self, layer: Layer) -> int:
        """What this convention counts for one layer, for the whole batch."""
        per_sample = _compiled(self.formulas[layer.op])(layer.quantities)
        if not isinstance(per_sample, int) or isinstance(per_sample, bool):
            raise CnnCostError(
                f"convention {self.name!r}: the formula for {layer.op} "
                f"({self.formulas[layer.op]}) gave {per_sample!r}, not an integer"
            )
        return per_sample * layer.quantities["batch"]

    def ignores(self) -> list[str]:
        """Ops that do arithmetic in cnncost but that this convention counts as zero."""
        free = no_arithmetic()
        return sorted(op for op, f in self.formulas.items() if f == "0" and op not in free)


@cache
def _compiled(formula: str) -> Any:
    return compile_expr(formula)


@cache
def _data() -> dict[str, Any]:
    from ..yamlio import load_yaml

    return load_yaml(_FILE, "cnncost/conventions/conventions.yaml")


def no_arithmetic() -> frozenset[str]:
    """Ops that cost no arithmetic in cnncost either (views, copies, the identity)."""
    return frozenset(_data()["no_arithmetic"])


@cache
def conventions() -> dict[str, Convention]:
    """Every named convention, in the file's order, with its `base` folded in."""
    raw = _data()["conventions"]
    out: dict[str, Convention] = {}
    for name, entry in raw.items():
        formulas = dict(out[entry["base"]].formulas) if "base" in entry else {}
        formulas.update({op: str(f) for op, f in (entry.get("ops") or {}).items()})
        out[name] = Convention(
            name=name,
            title=entry["title"],
            tool=entry.get("tool", ""),
            measured=entry.get("measured", ""),
            notes=" ".join(str(entry.get("notes", "")).split()),
            formulas=formulas,
        )
    return out


def get(name: str) -> Convention:
    known = conventions()
    if name not in known:
        raise CnnCostError(
            f"unknown convention {name!r}{did_you_mean(name, known)}; use one of {', '.join(known)}"
        )
    return known[name]


def parse_list(text: str | None) -> list[Convention]:
    """A comma-separated list of names (None: all of them)."""
    if not text:
        return list(conventions().values())
    return [get(n.strip()) for n in text.split(",") if n.strip()]


def by_op(report: Report | Iterable[Layer], convention: Convention | str) -> dict[str, int]:
    """The convention's count summed per op type over the layers that run at inference."""
    conv = get(convention) if isinstance(convention, str) else convention
    layers = report.inference_layers if isinstance(report, Report) else report
    totals: dict[str, int] = {}
    for layer in layers:
        if not layer.inputs:  # the network input
            continue
        totals[layer.op] = totals.get(layer.op, 0) + conv.count(layer)
    return totals


def total(report: Report | Iterable[Layer], convention: Convention | str) -> int:
    """The convention's headline number (multiply-accumulates, as that counter says)."""
    return sum(by_op(report, convention).values())


def zero_for(report: Report, convention: Convention) -> dict[str, int]:
    """Ops of this model that do arithmetic in cnncost (MACs + element-wise ops, whole
    batch) but that the convention counts as zero."""
    counted = by_op(report, convention)
    work: dict[str, int] = {}
    for layer in report.inference_layers:
        if layer.inputs and layer.op not in no_arithmetic():
            work[layer.op] = work.get(layer.op, 0) + layer.macs + layer.elementwise
    return {op: w for op, w in work.items() if w and not counted.get(op)}


def totals_dict(report: Report, names: list[Convention]) -> dict[str, Any]:
    """Per-convention totals and per-op counts, as show/compare --convention print them."""
    out = {}
    for conv in names:
        ops = by_op(report, conv)
        out[conv.name] = {"macs": sum(ops.values()), "by_op": ops}
    return out


def reconcile(report: Report, names: list[Convention]) -> dict[str, Any]:
    """Each convention's total and per-op counts, and its difference from the first one
    op by op; the differences sum exactly to the gap between the totals."""
    reference = names[0]
    ref_ops = by_op(report, reference)
    out: dict[str, Any] = {}
    for conv in names:
        ops = by_op(report, conv)
        diff = {
            op: ops.get(op, 0) - ref_ops.get(op, 0)
            for op in dict.fromkeys([*ref_ops, *ops])
            if ops.get(op, 0) != ref_ops.get(op, 0)
        }
        out[conv.name] = {
            "title": conv.title,
            "tool": conv.tool,
            "measured": conv.measured,
            "notes": conv.notes,
            "macs": sum(ops.values()),
            "by_op": ops,
            "formulas": {op: conv.formulas[op] for op in ops},
            "counts_zero_for": zero_for(report, conv),
            "ignores": conv.ignores(),
            "difference": {"reference": reference.name, "macs": sum(diff.values()), "by_op": diff},
        }
    return out
