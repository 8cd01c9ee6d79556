"""Machine-readable and plain-text renderings of reports: json, csv, markdown, summary."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import TYPE_CHECKING

from ..receptive import plain_number
from ..report import Layer, Report, json_lines
from ..training import Training
from .numbers import byte_size, grouped, ratio, scaled, shape

if TYPE_CHECKING:
    from .layout import Grid

TOTAL_FIELDS = (
    "params",
    "weights",
    "biases",
    "buffers",
    "macs",
    "flops",
    "elementwise",
    "activations",
    "activation_bytes",
)
CSV_FIELDS = (
    "name",
    "op",
    "inputs",
    "output_shape",
    *TOTAL_FIELDS,
    "receptive_field",
    "jump",
    "depth",
    "train_only",
)


def to_json(
    report: Report, training: Training | None = None, conventions: dict | None = None
) -> str:
    """The report indented, with one compact line per layer: readable, and fast (indented
    encoding is pure Python, seconds for 10⁵ layers). With training, its totals, per-layer
    fields and settings are merged in; with --convention, each convention's totals."""
    return "".join(json_chunks(report, training, conventions))


def json_chunks(
    report: Report, training: Training | None = None, conventions: dict | None = None
) -> Iterator[str]:
    """to_json in pieces, so that a 10⁵-layer report is written as it is encoded rather
    than held whole (a third of the time and 100 MB at that size). Everything that could
    fail (totals, training, conventions) is worked out before the first piece."""
    if training is not None:
        from . import training as train

        data = train.merge_json(report.to_dict(), training)
        rows = [json.dumps(layer) for layer in data.pop("layers")]
    else:
        data = report.header_dict()
        rows = None
    if conventions:
        data["conventions"] = conventions
    head = json.dumps(data, indent=2)[: -len("\n}")] + ',\n  "layers": [\n'
    return chain([head], _layer_pieces(report.layers, rows), ["\n  ]\n}\n"])


def _layer_pieces(layers: Sequence[Layer], rows: list[str] | None) -> Iterator[str]:
    """The layer lines, indented and comma-separated, a few thousand to a piece."""
    step = 2000
    total = len(layers) if rows is None else len(rows)
    for start in range(0, total, step):
        part = (
            json_lines(layers[start : start + step]) if rows is None else rows[start : start + step]
        )
        yield ("    " if start == 0 else ",\n    ") + ",\n    ".join(part)


def csv_shape(dims: Sequence[int]) -> str:
    """A shape for CSV: ASCII, '64x56x56' (a scalar is empty), so a spreadsheet or
    `str.split('x')` reads it back."""
    return "x".join(str(d) for d in dims)


def csv_pair(p: tuple) -> str:
    """A receptive field or jump for CSV: '3' or '3x5'; a fractional jump as a float."""
    h, w = plain_number(p[0]), plain_number(p[1])
    return str(h) if h == w else f"{h}x{w}"


def to_csv(report: Report, training: Training | None = None) -> str:
    """One row per layer, then a TOTAL row; shapes as CxHxW in ASCII, inputs joined by
    spaces, booleans as true/false (documented in docs/output.md). With training, its
    per-layer columns follow."""
    from . import training as train

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_FIELDS, *(train.csv_header() if training else ())])
    for layer in report.layers:
        row = layer.to_dict()
        row["inputs"] = " ".join(layer.inputs)
        row["output_shape"] = csv_shape(layer.output_shape)
        row["receptive_field"] = csv_pair(layer.receptive_field)
        row["jump"] = csv_pair(layer.jump)
        row["train_only"] = "true" if layer.train_only else "false"
        extra = train.csv_row(training, layer.name) if training else []
        writer.writerow([*(row[f] for f in CSV_FIELDS), *extra])
    totals = report.totals.to_dict()
    writer.writerow(
        [
            "TOTAL",
            "",
            "",
            csv_shape(report.output_shape),
            *(totals[f] for f in TOTAL_FIELDS),
            "",
            "",
            totals["depth"],
            "",
            *(train.csv_total(training) if training else ()),
        ]
    )
    return out.getvalue()


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


LAYER_HEADER = (
    "Layer",
    "Op",
    "Output shape",
    "Params",
    "MACs",
    "Element-wise ops",
    "Activations (elements)",
    "Activations (bytes)",
    "RF",
    "Jump",
    "Depth",
)


def pair(p: tuple) -> str:
    """A receptive field or jump: one number when square, h×w when not (a fractional jump
    exactly, as 1/3)."""
    return str(p[0]) if p[0] == p[1] else f"{p[0]}×{p[1]}"


def layer_header(training: Training | None = None) -> tuple[str, ...]:
    from . import training as train

    return LAYER_HEADER + (train.HEADER if training else ())


def layer_cells(report: Report, training: Training | None = None) -> list[list[str]]:
    """The per-layer table's cells, shared by the markdown rendering."""
    from . import training as train

    rows = []
    for layer in report.layers:
        rows.append(
            [
                layer.name,
                layer.op,
                shape(layer.output_shape),
                grouped(layer.params),
                grouped(layer.macs),
                grouped(layer.elementwise),
                grouped(layer.activations),
                grouped(layer.activation_bytes),
                pair(layer.receptive_field),
                pair(layer.jump),
                str(layer.depth) + (" (train)" if layer.train_only else ""),
                *(train.cells(training, layer.name) if training else ()),
            ]
        )
    return rows


def total_cells(report: Report, training: Training | None = None) -> list[str]:
    from . import training as train

    t = report.totals
    return [
        "Total",
        "",
        shape(report.output_shape),
        grouped(t.params),
        grouped(t.macs),
        grouped(t.elementwise),
        grouped(t.activations),
        grouped(t.activation_bytes),
        "",
        "",
        str(t.depth),
        *(train.total_cells(training) if training else ()),
    ]


def heading(report: Report) -> str:
    name = report.title or report.model
    return (
        f"{name} [{report.model}] — input {shape(report.input_shape)}, batch {report.batch}, "
        f"{report.dtype} ({report.bytes_per_element} bytes per element)"
    )


def to_markdown(report: Report, training: Training | None = None) -> str:
    totals = total_cells(report, training)
    rows = [*layer_cells(report, training), [f"**{c}**" if c else "" for c in totals]]
    header = layer_header(training)
    return (
        f"**{heading(report)}**\n\n"
        + md_table(header, rows, right=set(range(3, len(header))))
        + "\n"
        + footnote(report, training)
        + "\n"
    )


def footnote(report: Report, training: Training | None = None, per_layer: bool = True) -> str:
    from . import training as train

    t = report.totals
    text = (
        f"MACs = multiply-accumulates of conv, linear and attention products; FLOPs = 2 × MACs = "
        f"{grouped(t.flops)} ({scaled(t.flops, 'FLOPs')}). Element-wise ops (norm, activation, "
        f"pooling, adds) are counted apart. Activations count stored outputs, input included; "
        f"bytes at {report.dtype}."
    )
    if per_layer:
        text += (
            " RF = receptive field and Jump = effective stride, in input pixels; Depth = "
            "weighted layers on the longest path."
        )
    if training:
        text += " " + train.footnote(training)
    return text


def summary(report: Report, training: Training | None = None) -> str:
    """The default output: totals with exact integers, scaled figures and units."""
    t = report.totals
    weighted = sum(1 for layer in report.layers if layer.params)
    rows = [
        (
            "parameters",
            t.params,
            f"{scaled(t.params)} trainable; {byte_size(t.param_bytes)} at {report.dtype}",
        ),
        ("  weights", t.weights, "without biases"),
        ("  biases", t.biases, ""),
        ("buffers", t.buffers, "non-trainable state (running statistics, index tables)"),
        ("MACs", t.macs, f"{scaled(t.macs, 'MACs')}: multiply-accumulates of matrix products"),
        ("FLOPs", t.flops, f"{scaled(t.flops, 'FLOPs')} = 2 × MACs"),
        (
            "element-wise ops",
            t.elementwise,
            f"{scaled(t.elementwise)} (norm, activation, pooling, adds, bias adds)",
        ),
        (
            "activations",
            t.activations,
            f"{scaled(t.activations)} elements stored, input "
            f"included = {byte_size(t.activation_bytes)} at {report.dtype}",
        ),
        (
            "layers",
            len(report.layers) - 1,
            f"{weighted} with weights; the input is not counted",
        ),
        ("depth", t.depth, "weighted layers (conv, linear) on the longest path"),
    ]
    if t.train_params is not None and t.train_params != t.params:
        extra = sum(1 for layer in report.layers if layer.train_only)
        rows.append(
            (
                "training params",
                t.train_params,
                f"with {extra} training-only layers (auxiliary classifiers), left out above",
            )
        )
    if t.train_macs is not None and t.train_macs != t.macs:
        rows.append(
            (
                "training MACs",
                t.train_macs,
                f"{scaled(t.train_macs, 'MACs')} expected per training forward pass "
                "(training-only layers; survival probabilities)",
            )
        )
    if training is not None:
        from . import training as train

        rows += train.summary_lines(report, training)
    width = max(len(grouped(v)) for _, v, _ in rows)
    lines = [heading(report), f"output {shape(report.output_shape)}", ""]
    for label, value, note in rows:
        lines.append(f"  {label:<17}{grouped(value):>{width}}   {note}".rstrip())
    if report.training_note:
        lines.append(f"  {'training':<17}no training totals: {report.training_note}")
    if training is not None:
        lines += ["", train.summary_note()]
    if report.source:
        lines += ["", f"source: {report.source}"]
    return "\n".join(lines) + "\n"


COMPARE_ROWS = (
    ("params", "Parameters"),
    ("macs", "MACs"),
    ("flops", "FLOPs (2×MACs)"),
    ("elementwise", "Element-wise ops"),
    ("activations", "Activations (elements)"),
    ("activation_bytes", "Activations (bytes)"),
)


TRAIN_COMPARE_ROWS = (
    ("trainable_params", "Trainable params"),
    ("backward_macs", "Backward MACs"),
    ("saved_activation_bytes", "Saved for backward (bytes)"),
    ("train_peak_bytes", "Training peak (bytes)"),
    ("inference_peak_bytes", "Inference peak (bytes)"),
)


def compare_cells(
    reports: Sequence[Report], trainings: Sequence[Training] | None = None
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the comparison: one column per model, ratios against the first."""
    base = reports[0]
    header = ["", *(r.model for r in reports)]
    header += [f"{r.model} / {base.model}" for r in reports[1:]]
    rows = [["Input"] + [shape(r.input_shape) for r in reports] + [""] * (len(reports) - 1)]
    rows.append(["Output"] + [shape(r.output_shape) for r in reports] + [""] * (len(reports) - 1))
    for key, label in COMPARE_ROWS:
        values = [getattr(r.totals, key) for r in reports]
        cells = [grouped(v) for v in values]
        cells += [ratio(v, values[0]) for v in values[1:]]
        rows.append([label, *cells])
    for key, label in TRAIN_COMPARE_ROWS if trainings else ():
        values = [getattr(t.totals, key) for t in trainings]
        cells = [grouped(v) for v in values] + [ratio(v, values[0]) for v in values[1:]]
        rows.append([label, *cells])
    return header, rows


def compare_markdown(reports: Sequence[Report], trainings: Sequence[Training] | None = None) -> str:
    header, rows = compare_cells(reports, trainings)
    return md_table(header, rows, right=set(range(1, len(header))))


def compare_json(reports: Sequence[Report], trainings: Sequence[Training] | None = None) -> str:
    base = reports[0].totals
    models = []
    for index, r in enumerate(reports):
        entry = {
            "model": r.model,
            "title": r.title,
            "input_shape": list(r.input_shape),
            "output_shape": list(r.output_shape),
            "batch": r.batch,
            "dtype": r.dtype,
            "totals": r.totals.to_dict(),
            "ratio_to_first": {
                f: (getattr(r.totals, f) / getattr(base, f) if getattr(base, f) else None)
                for f in TOTAL_FIELDS
            },
        }
        if trainings:
            entry["totals"].update(trainings[index].totals.to_dict())
            entry["training"] = trainings[index].settings()
        models.append(entry)
    return json.dumps({"schema": "cnncost.compare/1", "models": models}, indent=2) + "\n"


def compare_csv(reports: Sequence[Report], trainings: Sequence[Training] | None = None) -> str:
    from .training import TOTAL_FIELDS as TRAIN_FIELDS

    extra = TRAIN_FIELDS if trainings else ()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["model", "input_shape", "output_shape", "batch", "dtype", *TOTAL_FIELDS, *extra]
    )
    for index, r in enumerate(reports):
        t = r.totals.to_dict()
        if trainings:
            t.update(trainings[index].totals.to_dict())
        writer.writerow(
            [
                r.model,
                csv_shape(r.input_shape),
                csv_shape(r.output_shape),
                r.batch,
                r.dtype,
                *(t[f] for f in (*TOTAL_FIELDS, *extra)),
            ]
        )
    return out.getvalue()


LIST_HEADER = ("Model", "Title", "Input", "Params", "MACs")


def list_cells(reports: Sequence[Report]) -> list[list[str]]:
    """Rows of `cnncost list`: exact counts with their scaled form."""
    return [
        [
            r.model,
            r.title,
            shape(r.input_shape),
            f"{grouped(r.totals.params)} ({scaled(r.totals.params)})",
            f"{grouped(r.totals.macs)} ({scaled(r.totals.macs)})",
        ]
        for r in reports
    ]


def list_grid(reports: Sequence[Report], accuracy: bool = False) -> Grid:
    """`cnncost list` as a table to fit: exact counts, compact when space is short;
    with `accuracy`, the published top-1 / top-5."""
    from .layout import Cell, Column, Grid, count

    columns = [
        Column("model", "Model", "name", 0, 14),
        Column("title", "Title", "text", 1, 16),
        Column("input", "Input", "fixed", 2),
        Column("params", "Params", "number"),
        Column("macs", "MACs", "number"),
    ]
    rows: list[list[Cell]] = [
        [r.model, r.title, shape(r.input_shape), count(r.totals.params), count(r.totals.macs)]
        for r in reports
    ]
    note = "MACs = multiply-accumulates; FLOPs = 2 × MACs."
    if accuracy:
        from ..accuracy import cell

        columns.append(Column("accuracy", "Top-1 / top-5 %", "number"))
        rows = [[*row, cell(r.model)] for row, r in zip(rows, reports, strict=True)]
        note += "\nAccuracy: published, ImageNet-1K val (sources: --format json)."
    return Grid(f"Built-in models (batch 1): {len(reports)}", columns, rows, note=note)


def _list_rows(reports: Sequence[Report]) -> list[dict]:
    return [
        {
            "model": r.model,
            "title": r.title,
            "file": r.file,
            "input_shape": list(r.input_shape),
            "params": r.totals.params,
            "macs": r.totals.macs,
        }
        for r in reports
    ]


def list_json(reports: Sequence[Report]) -> str:
    return json.dumps({"schema": "cnncost.list/1", "models": _list_rows(reports)}, indent=2) + "\n"


def list_csv(reports: Sequence[Report]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, ["model", "title", "file", "input_shape", "params", "macs"], lineterminator="\n"
    )
    writer.writeheader()
    for row in _list_rows(reports):
        writer.writerow({**row, "input_shape": csv_shape(row["input_shape"])})
    return out.getvalue()


def list_markdown(reports: Sequence[Report]) -> str:
    return md_table(LIST_HEADER, list_cells(reports), right={3, 4})
