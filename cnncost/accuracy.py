"""Published ImageNet accuracy of the built-in models: the `accuracy:` a spec variant carries
beside its `expected:` figures (top-1 and, where published, top-5, each with its source;
copied by tools/copy_accuracy.py from torchvision's weights metadata and the decks'
tables). Used by `cnncost chart` and the accuracy column of `list` and `compare`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import SpecError
from .zoo import resolve

KEYS = ("top1", "top5")


@dataclass(frozen=True)
class Figure:
    value: float  # percent
    source: str


@dataclass(frozen=True)
class Accuracy:
    top1: Figure | None = None
    top5: Figure | None = None


def published(model: str) -> Accuracy | None:
    """The model's published accuracy, or None where its spec records none."""
    spec, variant = resolve(model)
    if variant is None:
        return None
    raw = spec.variants[variant].accuracy
    if raw is None:
        return None
    line = getattr(raw, "line", None) or spec.variants[variant].line

    def fail(message: str) -> SpecError:
        return SpecError(f"accuracy of {variant}: {message}", file=spec.file, line=line)

    if not isinstance(raw, dict) or not raw or set(raw) - set(KEYS):
        raise fail("give top1 and/or top5, each {value: percent, source: text}")
    figures: dict[str, Figure] = {}
    for key, entry in raw.items():
        value: Any = entry.get("value") if isinstance(entry, dict) else None
        source = entry.get("source") if isinstance(entry, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 100:
            raise fail(f"{key} needs a value in percent, in (0, 100]")
        if not isinstance(source, str) or not source.strip():
            raise fail(f"{key} needs its source")
        figures[key] = Figure(float(value), source.strip())
    return Accuracy(**figures)


def _quiet(model: str) -> Accuracy | None:
    """published(), or None for a name that is not a built-in (a compared spec's model)."""
    from .errors import CnnCostError

    try:
        return published(model)
    except SpecError:
        raise
    except CnnCostError:
        return None


def cell(model: str) -> str:
    """'76.13 / 92.86' (top-1 / top-5, %), '— / 93.3' or '—' for a table column."""
    acc = _quiet(model)
    if acc is None:
        return "—"
    top1 = f"{acc.top1.value:.2f}" if acc.top1 else "—"
    top5 = f"{acc.top5.value:.2f}" if acc.top5 else "—"
    return f"{top1} / {top5}"


def fields(model: str) -> dict[str, Any]:
    """{'top1', 'top5', 'top1_source', 'top5_source'} for JSON and CSV; None where absent."""
    acc = _quiet(model) or Accuracy()
    out: dict[str, Any] = {}
    for key in KEYS:
        figure = getattr(acc, key)
        out[key] = figure.value if figure else None
        out[f"{key}_source"] = figure.source if figure else None
    return out


def add_to_json(text: str) -> str:
    """A `list`/`compare` JSON document with each model's `accuracy` added."""
    import json

    data = json.loads(text)
    for entry in data["models"]:
        entry["accuracy"] = fields(entry["model"])
    return json.dumps(data, indent=2) + "\n"


def add_to_csv(text: str) -> str:
    """A `list`/`compare` CSV with top1, top5 (%) and their sources appended."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = ["top1", "top1_source", "top5", "top5_source"]
    writer.writerow([*rows[0], *names])
    for row in rows[1:]:
        f = fields(row[0])
        writer.writerow([*row, *("" if f[n] is None else f[n] for n in names)])
    return out.getvalue()


def lines(models: list[str]) -> str:
    """Plain lines for a table or markdown output: each model's accuracy and source."""
    out = ["Published accuracy (ImageNet-1K val, top-1 / top-5 %):"]
    for model in models:
        acc = _quiet(model)
        sources = sorted({f.source for f in (acc.top1, acc.top5) if f}) if acc else []
        out.append(f"  {model}: {cell(model)}" + (f" ({'; '.join(sources)})" if sources else ""))
    return "\n".join(out) + "\n"
