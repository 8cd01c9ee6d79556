"""`cnncost roofline`."""

from __future__ import annotations

import click

from .app import cli
from .layout_options import table_options
from .options import (
    DTYPES,
    analyze,
    emit,
    format_option,
    hardware_options,
    output_option,
    shape_options,
)


@cli.command(
    epilog="""\b
Examples:
  cnncost roofline resnet50 --hardware h100-sxm --dtype bf16 --batch 256
  cnncost roofline mobilenet_v2 --hardware a100 --table     depthwise layers are memory-bound
  cnncost roofline vgg16 --hardware my_gpu --hardware-file gpus.yaml --backward

No PyTorch needed: the prediction comes from the analytic counts and the device table.""",
)
@click.argument("model")
@hardware_options
@click.option(
    "--dtype",
    type=click.Choice(DTYPES),
    default="fp32",
    show_default=True,
    help="Compute type; tf32 is fp32 on tensor cores.",
)
@click.option("--backward", is_flag=True, help="Forward and backward (a training step).")
@click.option("--table", "as_table", is_flag=True, help="Add the per-layer table.")
@format_option(("text", "json"))
@shape_options
@output_option
@table_options
def roofline(
    model, hardware, hardware_file, dtype, backward, as_table, fmt, input_shape, batch, output
) -> None:
    """Predict MODEL's time per layer on a device: compute- or memory-bound, and how long."""
    from ..hardware import hardware_table, pick_hardware
    from ..render.measure import roofline_json, roofline_text
    from ..roofline import roofline as predict

    report = analyze(model, input_shape, batch, dtype)
    hw = pick_hardware(hardware, hardware_table(hardware_file), None)
    rl = predict(report, hw, dtype, backward)
    emit(roofline_json(rl) if fmt == "json" else roofline_text(rl, as_table), output)
