"""`cnncost audit`: the documents' numeric claims beside the computed values, with verdicts.

The claims are data (cnncost/claims/seeds.yaml, or a user's file of the same layout; see
docs/audit.md). Each names what to compute: a model's total or a layer's value, from a
built-in model or an inline spec, optionally per unit or as a ratio to another value.
A claim agrees exactly, rounds to its printed figure (within half a unit of its last
significant digit), is close (within one unit), or disagrees; a close or disagreeing
figure is acceptable only when the file records it with its kind and reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Any

from .build import build
from .errors import CnnCostError, SpecError, did_you_mean
from .ops.registry import OPS
from .report import Report, Totals, analyze_graph
from .spec import loads_spec
from .yamlio import load_yaml

BUILTIN = Path(__file__).parent / "claims" / "seeds.yaml"

CLAIM_KEYS = {
    "id",
    "document",
    "where",
    "text",
    "value",
    "unit",
    "compute",
    "ratio_to",
    "match",
    "significant",
    "relation",
    "expect",
    "kind",
    "reason",
}
COMPUTE_KEYS = {
    "model",
    "spec",
    "metric",
    "layer",
    "layers",
    "input",
    "batch",
    "dtype",
    "divide_by",
    "op",
    "models",
    "axis",
    "values",
    "phi",
}
# Growth metrics, each from a sweep (cnncost/sweep.py): name → the compute keys it reads.
SCALING_METRICS = {
    "compound_factor": ("model",),
    "phi_growth": ("model", "phi"),
    "models_growth": ("models",),
    "growth_exponent": ("model", "axis", "values"),
}
TOTAL_METRICS = {f.name for f in fields(Totals)}
# Per-layer values: a layer's counts, and what its output shape shows: `channels`, and for
# list values `size` ([height, width]) and `shape` (the whole per-sample shape).
SHAPE_METRICS = {"channels", "size", "shape"}
LAYER_METRICS = (
    (TOTAL_METRICS - {"param_bytes", "train_params", "train_macs", "paths"})
    | {"receptive_field", "jump", "count"}
    | SHAPE_METRICS
)
MATCHES = ("exact", "printed")
EXPECTS = ("close", "mismatch")
KINDS = ("slip", "convention", "variant", "nominal")
RELATIONS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_SCALE = {"": 1, "K": 10**3, "k": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}


def printed_figure(text: str, significant: int | None = None) -> tuple[Fraction, Fraction]:
    """'15.5 G' → (15.5e9, 0.1e9): the value and the size of its last significant digit.

    The last printed digit is significant unless `significant` says how many of the
    figure's digits are: only trailing zeros before the decimal point are ambiguous
    ('800K' may carry 1, 2 or 3 significant figures), so `significant` may drop those and
    nothing else.
    """
    match = re.fullmatch(r"\s*([0-9][0-9,]*)(?:\.([0-9]+))?\s*([KkMGBT]?)\s*", text)
    if not match:
        raise ValueError(f"cannot read {text!r} as a printed figure such as '15.5G' or '1,728'")
    whole, decimals, prefix = match.groups()
    whole = whole.replace(",", "")
    scale = _SCALE[prefix]
    places = len(decimals or "")
    value = Fraction(int(whole + (decimals or "")), 10**places) * scale
    unit = Fraction(scale, 10**places)
    if significant is not None:
        digits = (whole + (decimals or "")).lstrip("0")
        zeros = 0 if decimals else len(digits) - len(digits.rstrip("0"))
        if not digits or not len(digits) - zeros <= significant <= len(digits):
            raise ValueError(
                f"{text!r} cannot carry {significant} significant figures: only trailing "
                "zeros before the decimal point can be left out"
            )
        unit *= 10 ** (len(digits) - significant)
    return value, unit


def deviation_percent(printed: Fraction, computed: Fraction) -> float | None:
    """How far the printed figure is from the computed value, in percent of the latter."""
    if computed == 0:
        return None
    return float((printed - computed) * 100 / computed)


@dataclass(frozen=True)
class Verdict:
    claim: dict[str, Any]
    computed: Fraction | tuple[int, ...]
    outcome: str  # match | rounding | close | mismatch | MISMATCH | STALE
    found: str = ""  # what the figures show: match, rounding, close or mismatch
    deviation: float | None = None  # (printed - computed) / computed, in percent

    @property
    def failed(self) -> bool:
        return self.outcome in ("MISMATCH", "STALE")

    @property
    def label(self) -> str:
        dev = f", {self.deviation:+.1f}%" if self.deviation is not None else ""
        if self.outcome == "rounding":
            return "match (rounding)"
        if self.outcome in ("close", "mismatch"):
            return f"{self.outcome} ({self.claim.get('kind')}{dev})"
        if self.outcome == "MISMATCH":
            return f"MISMATCH ({self.found}{dev}; no recorded reason)"
        if self.outcome == "STALE":
            return f"STALE (recorded as {self.claim.get('expect')}, but it is {self.found}{dev})"
        return "match"

    def to_dict(self) -> dict[str, Any]:
        c = self.claim
        return {
            "id": c["id"],
            "document": c["document"],
            "where": c.get("where", ""),
            "text": c.get("text", ""),
            "value": c["value"],
            "unit": c.get("unit", ""),
            "computed": _plain_number(self.computed),
            "verdict": self.outcome,
            "deviation_percent": self.deviation,
            "kind": c.get("kind"),
            "reason": c.get("reason"),
        }


def _plain_number(x: Fraction | tuple[int, ...]) -> int | float | list[int]:
    if isinstance(x, tuple):
        return list(x)
    return int(x) if x.denominator == 1 else float(x)


def _layer_value(layer: Any, metric: str) -> int | tuple[int, ...]:
    """One layer's value of a layer metric (see LAYER_METRICS)."""
    shape = tuple(layer.output_shape)
    if metric == "count":
        return 1
    if metric == "shape":
        return shape
    if metric == "channels":
        return shape[0]
    if metric == "size":
        return shape[1:] if len(shape) == 3 else (1, 1)
    value = getattr(layer, metric)
    return value[0] if isinstance(value, tuple) else value


class _Auditor:
    def __init__(self, file: str, data: Any) -> None:
        self.file = file
        self.data = data
        self.reports: dict[tuple, Report] = {}

    def fail(self, message: str, line: int | None = None, path: str | None = None) -> SpecError:
        return SpecError(message, file=self.file, line=line, path=path)

    def report(self, compute: Any, where: str) -> Report:
        model, spec = compute.get("model"), compute.get("spec")
        if (model is None) == (spec is None):
            raise self.fail("'compute' needs exactly one of 'model' or 'spec'", compute.line, where)
        shape = tuple(compute["input"]) if compute.get("input") else None
        key = (model, spec, shape, compute.get("batch"), compute.get("dtype", "fp32"))
        if key not in self.reports:
            if model is not None:
                from . import build_graph

                graph = build_graph(model, input_shape=shape, batch=compute.get("batch"))
            else:
                parsed = loads_spec(str(spec), f"{self.file}:{where}")
                graph = build(parsed, input_shape=shape, batch=compute.get("batch"))
            self.reports[key] = analyze_graph(graph, compute.get("dtype", "fp32"))
        return self.reports[key]

    def value(self, compute: Any, where: str) -> Fraction | tuple[int, ...]:
        if not isinstance(compute, dict):
            raise self.fail("'compute' must be a mapping", None, where)
        for key in compute:
            if key not in COMPUTE_KEYS:
                raise self.fail(
                    f"unknown key {key!r} in compute{did_you_mean(key, COMPUTE_KEYS)}",
                    compute.line_of(key),
                    where,
                )
        metric = compute.get("metric")
        if metric in SCALING_METRICS:
            return self.scaling(compute, metric, where)
        report = self.report(compute, where)
        names = compute.get("layers") or ([compute["layer"]] if compute.get("layer") else None)
        op = compute.get("op")
        if op is not None and names:
            raise self.fail("give 'op' or 'layer'/'layers', not both", compute.line, where)
        if op is not None:
            if op not in OPS:
                raise self.fail(
                    f"unknown op {op!r}{did_you_mean(str(op), OPS)}", compute.line_of("op"), where
                )
            names = [r.name for r in report.inference_layers if r.op == op]
        if names is not None:
            if metric not in LAYER_METRICS:
                raise self.fail(
                    f"unknown layer metric {metric!r}{did_you_mean(metric, LAYER_METRICS)}",
                    compute.line_of("metric"),
                    where,
                )
            layers = {layer.name: layer for layer in report.layers}
            total = 0
            for name in names:
                if name not in layers:
                    raise self.fail(
                        f"{report.model} has no layer {name!r}{did_you_mean(name, layers)}",
                        compute.line,
                        where,
                    )
                value = _layer_value(layers[name], metric)
                if isinstance(value, tuple):
                    if len(names) > 1:
                        raise self.fail(
                            f"{metric!r} is one layer's, not a sum", compute.line, where
                        )
                    return value
                total += value
        else:
            if metric not in TOTAL_METRICS:
                raise self.fail(
                    f"unknown metric {metric!r}{did_you_mean(metric, TOTAL_METRICS)}",
                    compute.line_of("metric") if "metric" in compute else compute.line,
                    where,
                )
            total = getattr(report.totals, metric)
            if total is None:  # train_* where a training-only branch does not fit
                raise self.fail(f"no {metric}: {report.training_note}", compute.line, where)
        divide = compute.get("divide_by", 1)
        if not isinstance(divide, int) or divide <= 0:
            raise self.fail("divide_by must be a positive integer", compute.line, where)
        return Fraction(total, divide)

    def scaling(self, compute: Any, metric: str, where: str) -> Fraction:
        """A growth metric of a sweep (docs/audit.md, "Scaling metrics")."""
        from . import sweep

        for key in SCALING_METRICS[metric]:
            if key not in compute:
                raise self.fail(f"metric {metric} needs {key!r}", compute.line, where)
        return getattr(sweep, metric)(*(compute[key] for key in SCALING_METRICS[metric]))

    def verdict(self, claim: Any) -> Verdict:
        where = str(claim.get("id", "?"))
        for key in claim:
            if key not in CLAIM_KEYS:
                raise self.fail(
                    f"unknown key {key!r}{did_you_mean(key, CLAIM_KEYS)}", claim.line_of(key), where
                )
        for key in ("id", "document", "value", "compute"):
            if key not in claim:
                raise self.fail(f"a claim needs {key!r}", claim.line, where)
        documents = self.data.get("documents") or {}
        if str(claim["document"]) not in {str(d) for d in documents}:
            raise self.fail(
                f"document {claim['document']!r} is not listed under 'documents'"
                f"{did_you_mean(str(claim['document']), documents)}",
                claim.line_of("document"),
                where,
            )
        computed = self.value(claim["compute"], where)
        if claim.get("ratio_to") is not None:
            base = self.value(claim["ratio_to"], where)
            if base == 0:
                raise self.fail("ratio_to computes 0", claim.line_of("ratio_to"), where)
            computed = computed / base
        if isinstance(computed, Fraction) or isinstance(claim["value"], list):
            found, deviation = self.compare(claim, computed, where)
        else:
            raise self.fail(
                "this metric gives a shape: write the value as a list such as [56, 56]",
                claim.line_of("value"),
                where,
            )
        expect = claim.get("expect")
        if expect not in (None, *EXPECTS):
            raise self.fail(
                f"expect may only be {' or '.join(EXPECTS)}", claim.line_of("expect"), where
            )
        if expect is not None:
            if claim.get("kind") not in KINDS or not claim.get("reason"):
                raise self.fail(
                    f"an expected {expect} needs kind ({', '.join(KINDS)}) and reason",
                    claim.line,
                    where,
                )
            if found == expect:
                outcome = expect
            elif found in ("match", "rounding") or found == "close":
                outcome = "STALE"  # the figure agrees better than the record says
            else:
                outcome = "MISMATCH"  # recorded as close, but it is further off
        else:
            outcome = found if found in ("match", "rounding") else "MISMATCH"
        return Verdict(dict(claim), computed, outcome, found, deviation)

    def compare(
        self, claim: Any, computed: Fraction | tuple[int, ...], where: str
    ) -> tuple[str, float | None]:
        """What the figures show, before any record: match, rounding, close or mismatch,
        with the printed figure's deviation from the computed value in percent."""
        raw = claim["value"]
        if isinstance(raw, list):
            if not isinstance(computed, tuple):
                raise self.fail(
                    "a list value needs a shape metric (size, shape)", claim.line_of("value"), where
                )
            return ("match" if tuple(raw) == computed else "mismatch"), None
        assert isinstance(computed, Fraction)
        significant = claim.get("significant")
        match = claim.get(
            "match", "exact" if isinstance(raw, int) and significant is None else "printed"
        )
        if match not in MATCHES:
            hint = " (a figure within one unit is 'expect: close')" if match == "last_digit" else ""
            raise self.fail(
                f"match must be one of {', '.join(MATCHES)}{hint}", claim.line_of("match"), where
            )
        if significant is not None and (
            match != "printed" or not isinstance(significant, int) or significant < 1
        ):
            raise self.fail(
                "significant is a positive number of figures, for a printed (rounded) figure",
                claim.line_of("significant"),
                where,
            )
        try:
            value, unit = printed_figure(str(raw), significant)
        except ValueError as exc:
            raise self.fail(str(exc), claim.line_of("value"), where) from None
        deviation = deviation_percent(value, computed)
        relation = claim.get("relation")
        if relation is not None:
            if relation not in RELATIONS:
                raise self.fail(
                    f"relation must be one of {', '.join(RELATIONS)}",
                    claim.line_of("relation"),
                    where,
                )
            return ("match" if RELATIONS[relation](computed, value) else "mismatch"), None
        off = abs(computed - value)
        if off == 0:
            return "match", deviation
        if match == "exact":
            return "mismatch", deviation
        # A tie (exactly half a unit) is a correct rounding under round-half-up or
        # round-half-even alike, so it counts as one.
        if off <= unit / 2:
            return "rounding", deviation
        return ("close" if off <= unit else "mismatch"), deviation


def load_claims(path: str | None = None) -> tuple[str, Any]:
    file = path or str(BUILTIN)
    display = path or "cnncost/claims/seeds.yaml"
    data = load_yaml(Path(file), display)
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list):
        raise SpecError("expected a top-level 'claims:' list (and 'documents:')", file=display)
    return display, data


def audit(path: str | None = None, document: str | None = None) -> list[Verdict]:
    """Every claim of the file (or of one document) with its verdict."""
    display, data = load_claims(path)
    auditor = _Auditor(display, data)
    seen: set[str] = set()
    verdicts = []
    for claim in data["claims"]:
        if not isinstance(claim, dict):
            raise SpecError("each claim is a mapping", file=display)
        if claim.get("id") in seen:
            raise auditor.fail(f"two claims are both called {claim.get('id')!r}", claim.line)
        seen.add(claim.get("id"))
        if document is not None and str(claim.get("document")) != document:
            continue
        try:
            verdicts.append(auditor.verdict(claim))
        except SpecError:
            raise
        except CnnCostError as exc:
            raise auditor.fail(str(exc), claim.line, str(claim.get("id"))) from None
    return verdicts
