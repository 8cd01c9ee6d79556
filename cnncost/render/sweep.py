"""Renderings of a sweep: table, json, csv and markdown (fields in docs/output.md)."""

from __future__ import annotations

import csv
import io
import json

from ..errors import CnnCostError
from ..sweep import TRAIN_FIELDS, Point, Sweep
from .numbers import byte_size, grouped, scaled, shape
from .plain import csv_shape

METRICS = ("params", "macs", "flops", "activations", "activation_bytes")


def _trains(sweep: Sweep) -> bool:
    """Whether the sweep counted a training step (--train) at its points."""
    return any(p.training is not None or p.train_error is not None for p in sweep.points)


def _metrics(sweep: Sweep) -> tuple[str, ...]:
    return METRICS + (TRAIN_FIELDS if _trains(sweep) else ())


_AXIS_NAMES = {"res": "input side", "batch": "batch", "phi": "φ"}


def _settings(sweep: Sweep) -> list[str]:
    """The spec parameters the points carry (from --set and --phi), in order."""
    names: list[str] = []
    for p in sweep.points:
        names += [k for k in p.settings if k not in names]
    return names


def to_json(sweep: Sweep) -> str:
    return json.dumps(sweep.to_dict(), indent=2) + "\n"


def to_csv(sweep: Sweep) -> str:
    """One row per point; the input as CxHxW in ASCII, as every CSV writes shapes; an empty
    count and the error where it fails."""
    names = _settings(sweep)
    metrics = _metrics(sweep)
    trains = _trains(sweep)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["input", "batch", *names, *metrics, "error", *(["train_error"] * trains)])
    for p in sweep.points:
        row = p.to_dict()
        writer.writerow(
            [
                csv_shape(p.input),
                p.batch,
                *(p.settings.get(n, "") for n in names),
                *("" if row.get(m) is None else row[m] for m in metrics),
                p.error or "",
                *([p.train_error or ""] * trains),
            ]
        )
    return out.getvalue()


def growth_lines(sweep: Sweep) -> list[str]:
    """'MACs ∝ side^1.98' for each swept axis (least squares on log-log)."""
    lines = []
    for axis, fits in sweep.growth.items():
        name = _AXIS_NAMES.get(axis, axis)
        if axis == "phi":
            per_step = 2 ** fits["macs"]
            lines.append(
                f"growth with φ: MACs ∝ 2^({fits['macs']:.3g}·φ), ×{per_step:.3g} per step; "
                f"params ∝ 2^({fits['params']:.3g}·φ)"
            )
            continue
        train = fits.get("train_peak_bytes")
        lines.append(
            f"growth with {name}: MACs ∝ {name}^{fits['macs']:.3g}, "
            f"params ∝ {name}^{fits['params']:.3g}, "
            f"activations ∝ {name}^{fits['activations']:.3g}"
            + ("" if train is None else f", training peak memory ∝ {name}^{train:.3g}")
        )
    return lines


def _train_cells(p: Point) -> list[str]:
    """Backward MACs and the training peak for the text formats; '—' where none."""
    if p.training is None:
        return ["—", "—"]
    return [
        f"{grouped(p.training['backward_macs'])}",
        byte_size(p.training["train_peak_bytes"]),
    ]


def _cells(sweep: Sweep, p: Point, names: list[str]) -> list[str]:
    first = [shape(p.input), str(p.batch), *(str(p.settings.get(n, "")) for n in names)]
    train = _train_cells(p) if _trains(sweep) else []
    if p.error is not None:
        return [*first, "cannot run: " + p.error, "", "", "", *(["", ""] if train else [])]
    assert p.params is not None and p.macs is not None and p.activations is not None
    return [
        *first,
        f"{grouped(p.params)} ({scaled(p.params)})",
        f"{grouped(p.macs)} ({scaled(p.macs)})",
        scaled(2 * p.macs, "FLOPs"),
        byte_size(p.activations * p.bytes_per_element),
        *train,
    ]


def header(sweep: Sweep) -> list[str]:
    return [
        "Input",
        "Batch",
        *_settings(sweep),
        "Params",
        "MACs",
        "FLOPs",
        f"Activations ({sweep.dtype})",
        *(["Backward MACs", "Train peak"] if _trains(sweep) else []),
    ]


def rows(sweep: Sweep) -> list[list[str]]:
    names = _settings(sweep)
    return [_cells(sweep, p, names) for p in sweep.points]


def note(sweep: Sweep) -> str:
    lines = [
        *growth_lines(sweep),
        "MACs = multiply-accumulates; FLOPs = 2 × MACs; activations for the whole batch.",
    ]
    if _trains(sweep):
        lines.append(
            "Training: backward MACs and the peak memory of one step (weights, gradients, "
            "optimizer state, saved activations, the largest transient), as show --train "
            "counts them."
        )
        reasons = {p.train_error for p in sweep.points if p.train_error}
        lines += [f"—: {r}" for r in sorted(reasons)]
    return "\n".join(lines)


def to_markdown(sweep: Sweep) -> str:
    from .plain import md_table

    n = len(_settings(sweep))
    right = set(range(2 + n, 6 + n + (2 if _trains(sweep) else 0))) | {1}
    return (
        f"## {sweep.model}: sweep\n\n"
        + md_table(header(sweep), rows(sweep), right)
        + ("\n" + note(sweep).replace("\n", "  \n") + "\n")
    )


def to_table(sweep: Sweep) -> str:
    """The points as a table fitted to the output's width, like every table: exact
    numbers, compact ones (25.56 M) only when space is short."""
    from .layout import Column, Grid, Num, count, draw

    names = _settings(sweep)
    failed = any(p.error is not None for p in sweep.points)
    trains = _trains(sweep)
    columns = [
        Column("input", "Input", "fixed"),
        Column("batch", "Batch", "number"),
        *(Column(n, n, "number", 1) for n in names),
        Column("params", "Params", "number"),
        Column("macs", "MACs", "number"),
        Column("flops", "FLOPs", "number", 2),
        Column("activation_bytes", f"Act. bytes ({sweep.dtype})", "number", 1),
        *(
            [
                Column("backward_macs", "Backward MACs", "number", 2),
                Column("train_peak_bytes", "Train peak bytes", "number"),
            ]
            if trains
            else []
        ),
        *([Column("error", "Cannot run", "text", 0, 16)] if failed else []),
    ]
    table = []
    for p in sweep.points:
        first = [shape(p.input), str(p.batch), *(str(p.settings.get(n, "")) for n in names)]
        if p.error is not None:
            table.append([*first, "", "", "", "", *(["", ""] if trains else []), p.error])
            continue
        assert p.params is not None and p.macs is not None and p.activations is not None
        act = p.activations * p.bytes_per_element
        train: list[Num | str] = []
        if trains and p.training is None:
            train = ["—", "—"]
        elif trains and p.training is not None:
            peak = p.training["train_peak_bytes"]
            train = [count(p.training["backward_macs"]), Num(grouped(peak), byte_size(peak))]
        table.append(
            [
                *first,
                count(p.params),
                count(p.macs),
                count(2 * p.macs),
                Num(grouped(act), byte_size(act)),
                *train,
                *([""] if failed else []),
            ]
        )
    title = f"{sweep.model}: {len(sweep.points)} points"
    return draw(Grid(title, columns, table, note=note(sweep)))


def plot(sweep: Sweep, target: str) -> str:
    """MACs against the first swept axis, one line per value of the other axes; the
    terminal drawing, or '' once `target` is written."""
    from ..sweep import axis_value
    from .plot import Series, lines

    axes = list(sweep.growth) or list(sweep.axes)
    if not axes:
        raise CnnCostError("--plot needs a swept axis (--res, --input, --batch, --set or --phi)")
    first, others = axes[0], axes[1:]
    groups: dict[str, Series] = {}
    for p in sweep.points:
        if p.macs is None:
            continue
        label = ", ".join(f"{_AXIS_NAMES.get(a, a)} {axis_value(a, p):g}" for a in others)
        series = groups.setdefault(label, Series(label or "MACs", [], []))
        series.x.append(axis_value(first, p))
        series.y.append(p.macs)
    fits = sweep.growth.get(first, {})
    name = _AXIS_NAMES.get(first, first)
    slope = f" (MACs ∝ {name}^{fits['macs']:.3g})" if fits and first != "phi" else ""
    return lines(
        list(groups.values()),
        title=f"{sweep.model}: MACs against {name}{slope}",
        xlabel=name + (" (pixels)" if first == "res" else ""),
        ylabel="MACs",
        target=target,
        logx=first != "phi",
    )
