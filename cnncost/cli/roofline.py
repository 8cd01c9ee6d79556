"""`cnncost roofline`."""

from __future__ import annotations

import click

from .app import cli
from .layout_options import table_options
from .options import (
    DTYPES,
    emit,
    format_option,
    hardware_options,
    output_option,
    shape_options,
)
from .train_options import analyzed, patterns


@cli.command(
    epilog="""\b
Examples:
  cnncost roofline resnet50 --hardware h100-sxm --dtype bf16 --batch 256
  cnncost roofline mobilenet_v2 --hardware a100 --table     depthwise layers are memory-bound
  cnncost roofline vgg16 --hardware my_gpu --hardware-file gpus.yaml --backward
  cnncost roofline resnet50 --hardware h100-sxm --backward --trainable layer4,fc

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
@click.option(
    "--backward",
    is_flag=True,
    help="Forward and backward (a training step), with each layer's backward as "
    "`show --train` counts it.",
)
@click.option(
    "--trainable",
    callback=patterns,
    metavar="PATTERNS",
    help="With --backward: train only these layers (paths or globs, as in show --train).",
)
@click.option(
    "--freeze",
    callback=patterns,
    metavar="PATTERNS",
    help="With --backward: freeze these layers; the rest train.",
)
@click.option("--table", "as_table", is_flag=True, help="Add the per-layer table.")
@format_option(("text", "json"))
@shape_options
@output_option
@table_options
def roofline(
    model,
    hardware,
    hardware_file,
    dtype,
    backward,
    trainable,
    freeze,
    as_table,
    fmt,
    input_shape,
    batch,
    output,
) -> None:
    """Predict MODEL's time per layer on a device: compute- or memory-bound, and how long."""
    from ..hardware import hardware_table, pick_hardware
    from ..render.measure import roofline_json, roofline_text
    from ..roofline import roofline as predict

    if (trainable or freeze) and not backward:
        raise click.UsageError("--trainable and --freeze need --backward")
    hw = pick_hardware(hardware, hardware_table(hardware_file), None)
    # The optimizer changes nothing the roofline models, and --dtype sets its element size
    # (there is no --amp here): the training analysis's defaults.
    report, training = analyzed(
        model,
        input_shape,
        batch,
        dtype,
        train=backward,
        optimizer="adam",
        amp=False,
        trainable=trainable,
        freeze=freeze,
    )
    rl = predict(report, hw, dtype, training)
    emit(roofline_json(rl) if fmt == "json" else roofline_text(rl, as_table), output)
