"""The training figures (`--train`) in every output format, beside the inference counts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..report import Report
from ..training import UNITS, Training
from .numbers import byte_size, grouped, scaled

if TYPE_CHECKING:  # the backend's type, without importing torch
    from ..backend.train_verify import TrainVerification

LAYER_FIELDS = (
    "trainable",
    "backward_macs",
    "backward_input_macs",
    "backward_weight_macs",
    "saved_activation_bytes",
)
TOTAL_FIELDS = (
    "trainable_params",
    "frozen_params",
    "backward_macs",
    "backward_input_macs",
    "backward_weight_macs",
    "saved_activation_bytes",
    "gradient_bytes",
    "optimizer_bytes",
    "train_peak_bytes",
)
HEADER = ("Train", "Bwd input MACs", "Bwd weight MACs", "Saved (bytes)")
EXCLUDED = "allocator workspace (cuDNN/cuBLAS) and cached free blocks are excluded"


def merge_json(data: dict[str, Any], training: Training) -> dict[str, Any]:
    """The report's JSON with the training totals, per-layer fields and settings added."""
    data["totals"].update(training.totals.to_dict())
    data["totals"]["train_forward_macs"] = training.forward_macs
    data["units"] = {**data["units"], **UNITS}
    rows = training.by_name
    for layer in data["layers"]:
        layer.update(rows[layer["name"]].to_dict())
    data["training"] = training.settings()
    return data


def csv_header() -> tuple[str, ...]:
    return LAYER_FIELDS


def csv_row(training: Training, name: str) -> list[Any]:
    row = training.by_name[name].to_dict()
    return [
        ("true" if row[f] else "false") if isinstance(row[f], bool) else row[f]
        for f in LAYER_FIELDS
    ]


def csv_total(training: Training) -> list[Any]:
    t = training.totals.to_dict()
    return ["", *(t[f] for f in LAYER_FIELDS[1:])]


def cells(training: Training, name: str) -> list[str]:
    layer = training.by_name[name]
    return [
        "yes" if layer.trainable and layer.trainable_params else "",
        grouped(layer.backward_input_macs),
        grouped(layer.backward_weight_macs),
        grouped(layer.saved_activation_bytes),
    ]


def total_cells(training: Training) -> list[str]:
    t = training.totals
    return [
        grouped(t.trainable_params),
        grouped(t.backward_input_macs),
        grouped(t.backward_weight_macs),
        grouped(t.saved_activation_bytes),
    ]


def footnote(training: Training) -> str:
    o = training.options
    return (
        f"Training ({o.optimizer}{', AMP' if o.amp else ''}): Train = parameters receive a "
        "gradient (total: trainable parameters); Bwd input MACs = activation gradients, Bwd "
        "weight MACs = weight gradients; Saved = bytes autograd keeps for backward, each "
        f"storage charged to the first layer that saves it. Peak memory: {EXCLUDED}."
    )


def summary_lines(report: Report, training: Training) -> list[tuple[str, int, str]]:
    """Rows for the summary: label, exact integer, note."""
    t, o = training.totals, training.options
    fwd = training.forward_macs
    ratio = f"{t.backward_macs / fwd:.3f}" if fwd else "—"
    act = "2-byte autocast activations, fp32 master weights" if o.amp else report.dtype
    return [
        ("trainable params", t.trainable_params, "receive a gradient"),
        ("frozen params", t.frozen_params, "no gradient"),
        (
            "backward MACs",
            t.backward_macs,
            f"{scaled(t.backward_macs, 'MACs')} = {ratio} × the training forward's "
            f"{scaled(fwd, 'MACs')}",
        ),
        ("  input grads", t.backward_input_macs, "activation gradients"),
        ("  weight grads", t.backward_weight_macs, "weight gradients"),
        (
            "train peak",
            t.train_peak_bytes,
            f"{byte_size(t.train_peak_bytes)} ({act}, {o.optimizer})",
        ),
        ("  weights", t.weight_bytes, "parameters and buffers"),
        ("  gradients", t.gradient_bytes, "one per trainable parameter"),
        ("  optimizer", t.optimizer_bytes, f"{o.optimizer} state"),
        ("  saved", t.saved_activation_bytes, "activations kept for backward"),
        ("  transient", t.transient_bytes, "largest output + input gradient pair"),
        ("inference peak", t.inference_peak_bytes, byte_size(t.inference_peak_bytes)),
        ("  weights", t.inference_weight_bytes, "parameters and buffers"),
        ("  activations", t.inference_activation_bytes, "most alive at once"),
    ]


def summary_note() -> str:
    return f"memory in bytes; {EXCLUDED}"


def verify_text(v: TrainVerification) -> str:
    """`cnncost verify --train`: the totals, torch's known over-count, any mismatch."""
    labels = {
        "backward_macs": "backward MACs (FlopCounterMode over backward)",
        "saved_activation_bytes": "saved activations, bytes (saved_tensors_hooks)",
    }
    amp = ", autocast bf16" if v.training.options.amp else ""
    lines = [
        f"verify --train {v.model} with torch on cpu{amp}: batch {v.batch}, train mode, one "
        f"forward and backward step, {v.layers_checked} layers",
        "",
    ]
    for check, (ours, theirs, excess) in v.totals.items():
        mark = "ok " if ours + excess == theirs else "MISMATCH"
        lines.append(
            f"  {mark:<8} {labels[check]:<48} cnncost {grouped(ours):>18}   "
            f"torch {grouped(theirs) if isinstance(theirs, int) else theirs:>18}"
        )
        if excess:
            lines.append(
                f"           torch counts {grouped(excess)} MACs too many: grouped-conv weight "
                "gradients, (groups − 1) × forward MACs (pytorch PR #183405)"
            )
    lines.append("")
    if v.ok:
        lines.append("All layers agree exactly: backward MACs and saved activations.")
        return "\n".join(lines) + "\n"
    lines.append(f"{len(v.mismatches)} mismatches:")
    for m in v.mismatches:
        lines.append(f"  {m.layer} ({m.op}) {m.check}: cnncost {m.cnncost}, torch {m.torch}")
    return "\n".join(lines) + "\n"


def verify_json(v: TrainVerification) -> str:
    return json.dumps(v.to_dict(), indent=2) + "\n"
