"""The accuracy-vs-cost chart (`cnncost chart`): published top-1 accuracy against MACs, with
bubble area proportional to parameters, for chosen built-ins or whole families (a family
is a spec file of the zoo: resnet, efficientnet, …). In the manner of Canziani et al.,
"An Analysis of Deep Neural Network Models for Practical Applications" (2016), which the
decks show."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .accuracy import published
from .errors import CnnCostError, did_you_mean
from .zoo import builtin_models

SCHEMA = "cnncost.chart/1"


@dataclass(frozen=True)
class Entry:
    model: str
    family: str
    title: str
    params: int
    macs: int
    top1: float
    top1_source: str
    top5: float | None
    top5_source: str | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def families() -> dict[str, list[str]]:
    """Family (spec file name) → its built-in models, in the zoo's order."""
    out: dict[str, list[str]] = {}
    for name, (path, _) in builtin_models().items():
        out.setdefault(path.stem, []).append(name)
    return out


def select(names: Sequence[str]) -> list[str]:
    """Models named, or the members of the families named; every built-in when none."""
    models, groups = builtin_models(), families()
    if not names:
        return list(models)
    chosen: list[str] = []
    for name in names:
        if name in models:
            picked = [name]
        elif name in groups:
            picked = groups[name]
        else:
            raise CnnCostError(
                f"unknown model or family {name!r}"
                f"{did_you_mean(name, [*models, *groups])}; 'cnncost list' shows the models"
            )
        chosen += [m for m in picked if m not in chosen]
    return chosen


def entries(models: Sequence[str], progress=None) -> tuple[list[Entry], list[str]]:
    """The models with a published top-1, and a note for each one left out."""
    from . import analyze

    family_of = {m: f for f, ms in families().items() for m in ms}
    kept, notes = [], []
    for i, model in enumerate(models):
        if progress:
            progress(i, len(models), model)
        acc = published(model)
        if acc is None or acc.top1 is None:
            notes.append(
                f"{model}: left out, no published top-1 accuracy"
                + (f" (top-5 {acc.top5.value:g}% only)" if acc and acc.top5 else "")
            )
            continue
        report = analyze(model)
        kept.append(
            Entry(
                model=model,
                family=family_of.get(model, model),
                title=report.title,
                params=report.totals.params,
                macs=report.totals.macs,
                top1=acc.top1.value,
                top1_source=acc.top1.source,
                top5=acc.top5.value if acc.top5 else None,
                top5_source=acc.top5.source if acc.top5 else None,
            )
        )
    return kept, notes
