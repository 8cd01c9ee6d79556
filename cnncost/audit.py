"""`cnncost audit`: the documents' numeric claims beside the computed values, with verdicts.

The claims are data (cnncost/claims/seeds.yaml, or a user's file of the same layout; see
docs/audit.md). Each names what to compute: a model's total or a layer's value, from a
built-in model or an inline spec, optionally per unit or as a ratio to another value.
A claim agrees exactly, agrees within the rounding of its printed figure, or disagrees;
a disagreement is acceptable only when the file records it with its kind and reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Any

from .build import build
from .errors import CnnCostError, SpecError, did_you_mean
from .graph import Graph
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
}
TOTAL_METRICS = {f.name for f in fields(Totals)}
LAYER_METRICS = (TOTAL_METRICS - {"param_bytes", "train_params", "train_macs"}) | {
    "receptive_field",
    "jump",
}
# One training step's totals (cnncost/training.py), all layers trainable, plain SGD.
TRAIN_METRICS = {
    "backward_macs",
    "backward_input_macs",
    "backward_weight_macs",
    "saved_activation_bytes",
    "train_peak_bytes",
}
MATCHES = ("exact", "printed", "last_digit")
KINDS = ("slip", "convention", "variant")
_SCALE = {"": 1, "K": 10**3, "k": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}


def printed_figure(text: str) -> tuple[Fraction, Fraction]:
    """'15.5 G' → (15.5e9, 0.1e9): the value and the size of its last printed digit."""
    match = re.fullmatch(r"\s*([0-9][0-9,]*)(?:\.([0-9]+))?\s*([KkMGBT]?)\s*", text)
    if not match:
        raise ValueError(f"cannot read {text!r} as a printed figure such as '15.5G' or '1,728'")
    whole, decimals, prefix = match.groups()
    whole = whole.replace(",", "")
    scale = _SCALE[prefix]
    places = len(decimals or "")
    value = Fraction(int(whole + (decimals or "")), 10**places) * scale
    return value, Fraction(scale, 10**places)


@dataclass(frozen=True)
class Verdict:
    claim: dict[str, Any]
    computed: Fraction
    outcome: str  # match | rounding | mismatch | MISMATCH | STALE

    @property
    def failed(self) -> bool:
        return self.outcome in ("MISMATCH", "STALE")

    @property
    def label(self) -> str:
        if self.outcome == "rounding":
            return "match (rounding)"
        if self.outcome == "mismatch":
            return f"mismatch ({self.claim.get('kind')})"
        if self.outcome == "MISMATCH":
            return "MISMATCH (no recorded reason)"
        if self.outcome == "STALE":
            return "STALE (recorded as a mismatch, but it matches)"
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
            "kind": c.get("kind"),
            "reason": c.get("reason"),
        }


def _plain_number(x: Fraction) -> int | float:
    return int(x) if x.denominator == 1 else float(x)


class _Auditor:
    def __init__(self, file: str, data: Any) -> None:
        self.file = file
        self.data = data
        self.reports: dict[tuple, Report] = {}
        self.graphs: dict[tuple, Graph] = {}

    def fail(self, message: str, line: int | None = None, path: str | None = None) -> SpecError:
        return SpecError(message, file=self.file, line=line, path=path)

    def training_total(self, compute: Any, where: str, metric: str) -> int:
        """A training-step total of the model `compute` names (see TRAIN_METRICS)."""
        from .training import TrainOptions, analyze_training

        report = self.report(compute, where)
        graph = self.graphs[self.key(compute)]
        training = analyze_training(graph, report, TrainOptions(optimizer="sgd"))
        return getattr(training.totals, metric)

    def key(self, compute: Any) -> tuple:
        shape = tuple(compute["input"]) if compute.get("input") else None
        spec, batch = compute.get("spec"), compute.get("batch")
        return (compute.get("model"), spec, shape, batch, compute.get("dtype", "fp32"))

    def report(self, compute: Any, where: str) -> Report:
        model, spec = compute.get("model"), compute.get("spec")
        if (model is None) == (spec is None):
            raise self.fail("'compute' needs exactly one of 'model' or 'spec'", compute.line, where)
        key = self.key(compute)
        shape = key[2]
        if key not in self.reports:
            if model is not None:
                from . import build_graph

                graph = build_graph(model, input_shape=shape, batch=compute.get("batch"))
            else:
                parsed = loads_spec(str(spec), f"{self.file}:{where}")
                graph = build(parsed, input_shape=shape, batch=compute.get("batch"))
            self.reports[key] = analyze_graph(graph, compute.get("dtype", "fp32"))
            self.graphs[key] = graph
        return self.reports[key]

    def value(self, compute: Any, where: str) -> Fraction:
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
        report = self.report(compute, where)
        names = compute.get("layers") or ([compute["layer"]] if compute.get("layer") else None)
        if names:
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
                value = getattr(layers[name], metric)
                total += value[0] if isinstance(value, tuple) else value
        elif metric in TRAIN_METRICS:
            total = self.training_total(compute, where, metric)
        else:
            if metric not in TOTAL_METRICS:
                raise self.fail(
                    f"unknown metric {metric!r}{did_you_mean(metric, TOTAL_METRICS)}",
                    compute.line_of("metric") if "metric" in compute else compute.line,
                    where,
                )
            total = getattr(report.totals, metric)
        divide = compute.get("divide_by", 1)
        if not isinstance(divide, int) or divide <= 0:
            raise self.fail("divide_by must be a positive integer", compute.line, where)
        return Fraction(total, divide)

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
        raw = claim["value"]
        match = claim.get("match", "exact" if isinstance(raw, int) else "printed")
        if match not in MATCHES:
            raise self.fail(
                f"match must be one of {', '.join(MATCHES)}", claim.line_of("match"), where
            )
        try:
            value, unit = printed_figure(str(raw))
        except ValueError as exc:
            raise self.fail(str(exc), claim.line_of("value"), where) from None
        if match == "exact":
            agrees, outcome = computed == value, "match"
        elif match == "printed":
            agrees, outcome = abs(computed - value) <= unit / 2, "rounding"
        else:
            agrees, outcome = abs(computed - value) <= unit, "rounding"
        if agrees and computed == value:
            outcome = "match"
        expected_mismatch = claim.get("expect") == "mismatch"
        if claim.get("expect") not in (None, "mismatch"):
            raise self.fail("expect may only be 'mismatch'", claim.line_of("expect"), where)
        if expected_mismatch:
            if claim.get("kind") not in KINDS or not claim.get("reason"):
                raise self.fail(
                    f"an expected mismatch needs kind ({', '.join(KINDS)}) and reason",
                    claim.line,
                    where,
                )
            outcome = "STALE" if agrees else "mismatch"
        elif not agrees:
            outcome = "MISMATCH"
        return Verdict(dict(claim), computed, outcome)


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
