"""Rolling layers up into their blocks and stages (`cnncost show --depth N`).

A layer's name is its path in the spec (`layer1.0.conv1`); at depth N its group is the
first N parts of that path. Top-level layers that belong to no block are grouped by where
they stand: those before the first top-level block form `stem`, those after the last one
form `head`, and one standing between two blocks keeps its own row. The input row is its
own group, `input`. Training-only layers (auxiliary classifiers) form their own groups,
marked as such and left out of the totals. The rule is documented in docs/output.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from .report import Layer, Report


@dataclass(frozen=True)
class Group:
    name: str
    layers: tuple[Layer, ...]

    @property
    def train_only(self) -> bool:
        return all(layer.train_only for layer in self.layers)

    def total(self, key: str) -> int:
        return sum(getattr(layer, key) for layer in self.layers)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].output_shape


def group_layers(report: Report, depth: int) -> list[Group]:
    """The layers of `report` rolled up to `depth` levels of their names, in layer order."""
    names = [layer.name for layer in report.layers]
    blocks = {n.split(".")[0] for n in names if "." in n}
    inference_blocks = [
        i
        for i, layer in enumerate(report.layers)
        if not layer.train_only and layer.name.split(".")[0] in blocks
    ]
    first = inference_blocks[0] if inference_blocks else len(names)
    last = inference_blocks[-1] if inference_blocks else -1

    def key(i: int, layer: Layer) -> str:
        parts = layer.name.split(".")
        if i == 0 and not layer.inputs:
            return "input"
        if parts[0] in blocks or layer.train_only or not inference_blocks:
            return ".".join(parts[:depth])
        if i < first:
            return "stem"
        if i > last:
            return "head"
        return layer.name

    order: list[str] = []
    members: dict[str, list[Layer]] = {}
    for i, layer in enumerate(report.layers):
        k = key(i, layer)
        if k not in members:
            order.append(k)
            members[k] = []
        members[k].append(layer)
    return [Group(k, tuple(members[k])) for k in order]
