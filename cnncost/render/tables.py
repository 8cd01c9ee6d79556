"""The tables for a reader: the per-layer table, its rolled-up and sorted views, and the
comparison, all laid out to the output's width by render.layout."""

from __future__ import annotations

from collections.abc import Sequence

from ..groups import Group, group_layers
from ..report import Report
from ..training import Training
from .layout import Column, Grid, Num, count, draw, share
from .numbers import shape
from .plain import COMPARE_ROWS, TRAIN_COMPARE_ROWS, compare_cells, footnote, heading, pair

SORT_KEYS = {"macs": "macs", "params": "params", "activations": "activations"}
LABELS = {"macs": "MACs", "params": "parameters", "activations": "activations"}


def _share_columns(sort: str | None) -> list[Column]:
    ranks = {"params": 3, "macs": 1, "activations": 4}
    if sort:
        ranks[sort] = 0
    return [
        Column("params_pct", "% params", "number", ranks["params"]),
        Column("macs_pct", "% MACs", "number", ranks["macs"]),
        Column("activations_pct", "% act.", "number", ranks["activations"]),
    ]


def _order(rows: list, sort: str | None, top: int | None, value) -> list:
    if sort:
        rows = sorted(rows, key=lambda r: -value(r, SORT_KEYS[sort]))
    return rows[:top] if top else rows


TRAIN_COLUMNS = (
    Column("trainable", "Train", "fixed", 2),
    Column("backward_input_macs", "Bwd input MACs", "number", 0),
    Column("backward_weight_macs", "Bwd weight MACs", "number", 0),
    Column("saved_activation_bytes", "Saved bytes", "number", 1),
)


def _training_cells(training: Training | None, layers: Sequence) -> list[Num | str]:
    """The --train columns for one layer or a group of layers (summed)."""
    if training is None:
        return []
    rows = [training.by_name[layer.name] for layer in layers]
    trains = any(r.trainable and r.trainable_params for r in rows)
    return [
        "yes" if trains else "",
        count(sum(r.backward_input_macs for r in rows)),
        count(sum(r.backward_weight_macs for r in rows)),
        count(sum(r.saved_activation_bytes for r in rows)),
    ]


def layer_grid(
    report: Report,
    depth: int | None = None,
    sort: str | None = None,
    top: int | None = None,
    training: Training | None = None,
) -> Grid:
    """The per-layer table, or with `depth` the layers rolled up into their blocks;
    `sort` and `top` keep the rows that weigh most; `training` adds the --train columns."""
    t = report.totals
    # With --train the training columns are what was asked for: the inference memory
    # column and the MAC shares give way to them first.
    shares = _share_columns(sort)
    if training and not sort:
        shares[1] = Column("macs_pct", "% MACs", "number", 3)
    counts = (
        Column("params", "Params", "number"),
        *shares[:1],
        Column("macs", "MACs", "number"),
        *shares[1:2],
        Column("elementwise", "Element-wise ops", "number", 3),
        Column("activations", "Activations", "number", 4),
        *shares[2:],
        Column("activation_bytes", "Act. bytes", "number", 2 if training else 1),
    )

    def numbers(get) -> list[Num]:
        return [
            count(get("params")),
            share(get("params"), t.params),
            count(get("macs")),
            share(get("macs"), t.macs),
            count(get("elementwise")),
            count(get("activations")),
            share(get("activations"), t.activations),
            count(get("activation_bytes")),
        ]

    totals = [
        [
            "Total",
            "",
            shape(report.output_shape),
            count(t.params),
            share(1, 1),
            count(t.macs),
            share(1, 1),
            count(t.elementwise),
            count(t.activations),
            share(1, 1),
            count(t.activation_bytes),
        ]
    ]
    train_columns = list(TRAIN_COLUMNS) if training else []
    if training:
        tt = training.totals
        totals[0] += [
            count(tt.trainable_params),
            count(tt.backward_input_macs),
            count(tt.backward_weight_macs),
            count(tt.saved_activation_bytes),
        ]
    if depth:
        columns = [
            Column("group", "Group", "name", 0, 12),
            Column("layers", "Layers", "number", 2),
            Column("shape", "Output shape", "fixed", 1),
            *counts,
            *train_columns,
        ]
        groups: list[Group] = _order(
            group_layers(report, depth), sort, top, lambda g, k: g.total(k)
        )
        rows = [
            [
                g.name + (" (train)" if g.train_only else ""),
                str(len(g.layers)),
                shape(g.output_shape),
                *numbers(g.total),
                *_training_cells(training, g.layers),
            ]
            for g in groups
        ]
        what = f"rolled up to depth {depth}: {len(rows)} groups"
    else:
        columns = [
            Column("layer", "Layer", "name", 0, 12),
            Column("op", "Op", "fixed", 2),
            Column("shape", "Output shape", "fixed", 1),
            *counts,
            *train_columns,
            Column("rf", "RF", "number", 5),
            Column("jump", "Jump", "number", 5),
            Column("depth", "Depth", "number", 5),
        ]
        layers = _order(list(report.layers), sort, top, getattr)
        rows = [
            [
                layer.name,
                layer.op,
                shape(layer.output_shape),
                *numbers(lambda k, layer=layer: getattr(layer, k)),
                *_training_cells(training, [layer]),
                pair(layer.receptive_field),
                pair(layer.jump),
                str(layer.depth) + (" (train)" if layer.train_only else ""),
            ]
            for layer in layers
        ]
        totals[0] += ["", "", str(t.depth)]
        what = ""
    title = heading(report)
    if sort or top:
        n = len(group_layers(report, depth)) if depth else len(report.layers)
        kind = "groups" if depth else "layers"
        title += f" — the {len(rows)} of {n} {kind}" + (
            f" with the most {LABELS[sort]}" if sort else ""
        )
    elif what:
        title += " — " + what
    note = (
        footnote(report, training, per_layer=not depth)
        + " % = share of the model's total (training-only rows excluded)."
    )
    if depth:
        note += (
            " Groups: the first parts of the layer names; top-level layers outside any "
            "block form 'stem' (before the first block) and 'head' (after the last)."
        )
    return Grid(title, columns, rows, totals, note)


def layer_table(
    report: Report,
    depth: int | None = None,
    sort: str | None = None,
    top: int | None = None,
    training: Training | None = None,
) -> str:
    return draw(layer_grid(report, depth, sort, top, training))


def compare_grid(reports: Sequence[Report], trainings: Sequence[Training] | None = None) -> Grid:
    header, rows = compare_cells(reports, trainings)
    n = len(reports)
    for row, (key, _) in zip(rows[2:], COMPARE_ROWS, strict=False):
        row[1 : n + 1] = [count(getattr(r.totals, key)) for r in reports]
    for row, (key, _) in zip(rows[2 + len(COMPARE_ROWS) :], TRAIN_COMPARE_ROWS, strict=False):
        row[1 : n + 1] = [count(getattr(t.totals, key)) for t in trainings or ()]
    columns = [Column("what", "", "text", 0, 12)]
    columns += [Column(f"m{i}", h, "number") for i, h in enumerate(header[1 : n + 1])]
    columns += [Column(f"ratio{i + 1}", h, "number", 1) for i, h in enumerate(header[n + 1 :])]
    return Grid(
        "Comparison (ratios against the first model)",
        columns,
        rows,
        note="MACs = multiply-accumulates; FLOPs = 2 × MACs.",
    )


def compare_table(reports: Sequence[Report], trainings: Sequence[Training] | None = None) -> str:
    return draw(compare_grid(reports, trainings))


def grid(
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: set[int],
    note: str = "",
) -> str:
    """A simple table of strings: right-aligned columns are numbers (never wrapped), the
    others text that wraps. For tables that need drop ranks, build a layout.Grid."""
    columns = [
        Column(
            h.lower().replace(" ", "_").replace("/", "_") or f"c{i}",
            h,
            "number" if i in right else "text",
        )
        for i, h in enumerate(header)
    ]
    return draw(Grid(title, columns, rows, note=note))
