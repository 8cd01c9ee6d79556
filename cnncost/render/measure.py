"""Text for the measuring commands: verify, roofline, time and the hardware table.

These renderers take plain objects and never import torch; their tables are laid out by
render.layout.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..hardware import Hardware
from ..memory import MemoryEstimate
from ..roofline import Roofline
from .layout import Cell, Column, Grid, count, draw, fit, fit_lines, output_width
from .numbers import byte_size, grouped, scaled, shape

if TYPE_CHECKING:  # the backend's types, without importing torch
    from ..backend.timing import Timing
    from ..backend.verify import Verification


def seconds(s: float) -> str:
    """A duration with a unit that keeps three or four significant digits."""
    for size, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if s >= size:
            return f"{s / size:.4g} {unit}"
    return f"{s * 1e9:.4g} ns"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _cell(check: str, value: Any) -> Cell:
    if check == "shape" and isinstance(value, tuple | list):
        return "×".join(str(d) for d in value)
    return count(value) if isinstance(value, int) else str(value)


def verify_text(v: Verification) -> str:
    r = v.report
    head = (
        f"verify {r.title or r.model} [{r.model}] with torch on {v.device}: input "
        f"{shape(r.input_shape)}, batch {r.batch}, {v.layers_checked} layers checked"
    )
    labels = {
        "shape": "output shape",
        "params": "parameters",
        "buffers": "buffers",
        "macs": "MACs (torch FLOPs / 2)",
    }
    rows = [
        [
            labels[check],
            _cell(check, ours),
            _cell(check, theirs),
            "ok" if ours == theirs else "MISMATCH",
        ]
        for check, (ours, theirs) in v.totals.items()
    ]
    columns = (
        Column("check", "Total", "text", 0, 12),
        Column("cnncost", "cnncost", "number"),
        Column("torch", "torch", "number"),
        Column("result", "Result", "fixed"),
    )
    totals = fit(Grid("", columns, rows), output_width(), columns=[])  # --columns: mismatches
    if r.training_note:
        head += f"\nnot run: {r.training_note}"
    text = fit_lines(head) + "\n\n" + totals.text + "\n"
    if v.ok:
        return text + (
            "All layers agree: shapes, parameters, buffers and MACs are exact "
            "(per layer and in total).\n"
        )
    rows = [
        [m.layer, m.op, m.check, _cell(m.check, m.cnncost), _cell(m.check, m.torch)]
        for m in v.mismatches
    ]
    columns = (
        Column("layer", "Layer", "name", 0, 14),
        Column("op", "Op", "fixed", 2),
        Column("check", "Check", "fixed"),
        Column("cnncost", "cnncost", "number"),
        Column("torch", "torch", "number"),
    )
    return text + draw(
        Grid(
            f"{len(v.mismatches)} mismatches",
            columns,
            rows,
            note="MACs: torch's FLOPs / 2. A layer counted here but not by torch, or the "
            "reverse, is a mismatch.",
        )
    )


def verify_json(v: Verification) -> str:
    return json.dumps(v.to_dict(), indent=2) + "\n"


ROOFLINE_COLUMNS = (
    Column("layer", "Layer", "name", 0, 14),
    Column("op", "Op", "fixed", 2),
    Column("flops", "FLOPs", "number"),
    Column("bytes", "Bytes", "number", 1),
    Column("intensity", "FLOP/B", "number", 2),
    Column("bound", "Bound", "fixed", 1),
    Column("predicted", "Predicted", "number"),
)
MEASURED_COLUMNS = (
    Column("measured", "Measured", "number"),
    Column("peak_pct", "% of peak", "number", 1),
    Column("ratio", "Measured/pred.", "number", 1),
)


def _intensity(x: float) -> str:
    return "∞" if x == float("inf") else f"{x:.1f}"


def roofline_rows(rl: Roofline, measured: dict[str, float] | None = None) -> list[list[str]]:
    rows = []
    for layer in rl.layers:
        row = [
            layer.name,
            layer.op,
            scaled(layer.flops),
            byte_size(layer.bytes),
            _intensity(layer.intensity),
            layer.bound,
            seconds(layer.predicted_s) if layer.bound != "free" else "—",
        ]
        if measured is not None:
            t = measured.get(layer.name)
            if t is None or t <= 0:
                row += ["—", "—", "—"]
            else:
                row += [
                    seconds(t),
                    f"{layer.flops / t / rl.peak_flops:.1%}" if layer.flops else "—",
                    f"{t / layer.predicted_s:.1f}×" if layer.predicted_s else "—",
                ]
        rows.append(row)
    return rows


def basis(hw: Hardware) -> str:
    """Where a device's peaks come from: measured here, or the hardware table."""
    return "measured" if hw.name == "this-cpu" else "datasheet"


def _hardware_line(rl: Roofline) -> str:
    hw = rl.hardware
    where = (
        "peaks measured on this machine just now"
        if basis(hw) == "measured"
        else "datasheet peaks from the hardware table"
    )
    return (
        f"{hw.title} [{hw.name}]: {rl.dtype} peak {scaled(rl.peak_flops, 'FLOP/s')}, "
        f"element-wise {scaled(hw.vector_flops, 'FLOP/s')}, memory "
        f"{byte_size(int(hw.bandwidth))}/s ({where})"
    )


def _bound_counts(rl: Roofline) -> str:
    compute = [layer for layer in rl.layers if layer.bound == "compute"]
    memory = [layer for layer in rl.layers if layer.bound == "memory"]
    t_compute = sum(layer.predicted_s for layer in compute)
    t_memory = sum(layer.predicted_s for layer in memory)
    return (
        f"{len(compute)} compute-bound layers ({seconds(t_compute)}), "
        f"{len(memory)} memory-bound layers ({seconds(t_memory)})"
    )


ROOFLINE_NOTE = (
    "FLOPs = 2 × MACs (conv, linear, attention); element-wise work runs at the element-wise peak. "
    "Bytes = inputs + output + parameters. Predicted = max(compute, memory) per layer, "
    "summed (no fusion). Forward+backward adds each layer's backward as show --train "
    "counts it (docs/roofline.md)."
)


def roofline_text(rl: Roofline, as_table: bool) -> str:
    r = rl.report
    lines = [
        f"roofline {r.title or r.model} [{r.model}]: input {shape(r.input_shape)}, batch "
        f"{r.batch}, {'forward+backward' if rl.backward else 'forward'}",
        f"  on {_hardware_line(rl)}",
        "",
        f"  predicted   {seconds(rl.predicted_s)} per batch = "
        f"{r.batch / rl.predicted_s:,.0f} images/s at best",
        f"  work        {scaled(rl.flops, 'FLOPs')} ({grouped(rl.flops)}), "
        f"{byte_size(rl.bytes)} moved",
        f"  layers      {_bound_counts(rl)}",
    ]
    text = fit_lines("\n".join(lines)) + "\n"
    if as_table:
        text += "\n" + draw(
            Grid("Per layer", ROOFLINE_COLUMNS, roofline_rows(rl), note=ROOFLINE_NOTE)
        )
    return text


def roofline_json(rl: Roofline) -> str:
    data = {
        "schema": "cnncost.roofline/1",
        "model": rl.report.model,
        "batch": rl.report.batch,
        "hardware_basis": basis(rl.hardware),
    }
    return json.dumps({**data, **rl.to_dict()}, indent=2) + "\n"


def timing_text(
    t: Timing, rl: Roofline, memory: MemoryEstimate, layer_rl: Roofline | None = None
) -> str:
    """The measured run beside its prediction. `layer_rl` is the forward-only roofline
    that per-layer times (always forward) are set against."""
    q1, q3 = t.quartiles_s
    mode = "torch.compile" if t.compiled else "eager"
    if t.channels_last:
        mode += ", channels_last"
    measured_flops = rl.flops / t.median_s
    spread = (
        f"quartiles {seconds(q1)} – {seconds(q3)}, min {seconds(min(t.runs))}, "
        f"max {seconds(max(t.runs))}; "
        if len(t.runs) > 1
        else ""  # one run has no spread to speak of
    )
    lines = [
        f"time {rl.report.title or t.model} [{t.model}]: input {shape(rl.report.input_shape)}, "
        f"batch {t.batch}, {t.dtype}, {'forward+backward' if t.backward else 'forward'}, {mode}",
        f"  on {t.device}: {t.device_name}",
        "",
        f"  measured    median {seconds(t.median_s)} per batch  ({spread}"
        f"{_plural(len(t.runs), 'run')} after {t.warmup} warm-up)",
        f"  throughput  {t.images_per_s:,.1f} images/s",
        f"  predicted   {seconds(rl.predicted_s)} by the roofline of {_hardware_line(rl)}",
        f"  achieved    {scaled(measured_flops, 'FLOP/s')} = {measured_flops / rl.peak_flops:.1%} "
        f"of the {t.dtype} peak; measured / predicted = {t.median_s / rl.predicted_s:.2f}×",
    ]
    kind = (
        f"weights + gradients + {t.optimizer or 'no'} optimizer state + saved activations + "
        "largest transient; allocator workspace excluded"
        if t.backward
        else ("weights + largest set of live activations")
    )
    predicted_memory = f"{byte_size(memory.total_bytes)} predicted ({kind})"
    if t.peak_memory_bytes is not None:
        lines.append(
            f"  memory      {byte_size(t.peak_memory_bytes)} peak measured "
            f"(torch.cuda.max_memory_allocated), {predicted_memory}"
        )
    else:
        lines.append(f"  memory      {predicted_memory}; not measured on the CPU")
    text = fit_lines("\n".join(lines)) + "\n"
    if t.layer_runs:
        text += "\n" + draw(
            Grid(
                "Per layer (forward, each layer timed alone)",
                (*ROOFLINE_COLUMNS, *MEASURED_COLUMNS),
                roofline_rows(layer_rl or rl, t.layer_runs),
                note=ROOFLINE_NOTE,
            )
        )
    return text


def timing_json(t: Timing, rl: Roofline, memory: MemoryEstimate) -> str:
    data = {
        "schema": "cnncost.timing/1",
        **t.to_dict(),
        "predicted_s": rl.predicted_s,
        "achieved_fraction_of_peak": rl.flops / t.median_s / rl.peak_flops,
        "predicted_memory_bytes": memory.total_bytes,
        "roofline": {"hardware_basis": basis(rl.hardware), **rl.to_dict()},
    }
    return json.dumps(data, indent=2) + "\n"


def hardware_rows(table: dict[str, Hardware]) -> list[list[str]]:
    rows = []
    for hw in table.values():
        peaks = ", ".join(f"{d} {v / 1e12:g}" for d, v in hw.peak_flops.items())
        rows.append(
            [hw.name, hw.title, peaks, f"{hw.vector_flops / 1e12:g}", f"{hw.bandwidth / 1e9:g}"]
        )
    return rows
