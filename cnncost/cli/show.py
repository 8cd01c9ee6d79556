"""`cnncost show`."""

from __future__ import annotations

import click

from .app import cli
from .options import FORMATS, analyze, emit, model_options, output_option
from .train_options import train_options, training_of, wants_training


@cli.command(
    epilog="""\b
Examples:
  cnncost show vgg16 --table
  cnncost show resnet50 --format csv -o resnet50.csv
  cnncost show specs/resnet.yaml:resnet18 --input 3x160x160
  cnncost show my_net.yaml --dtype bf16 --batch 64
  cnncost show resnet50 --train --batch 64 --optimizer adam --amp
  cnncost show resnet50 --train --trainable layer4,fc --table""",
)
@click.argument("model")
@click.option("--table", "as_table", is_flag=True, help="Per-layer table (same as --format table).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format [default: summary].",
)
@model_options
@train_options
@output_option
def show(
    model: str,
    as_table: bool,
    fmt: str | None,
    input_shape,
    batch,
    dtype,
    train: bool,
    optimizer: str,
    amp: bool,
    trainable,
    freeze,
    output,
) -> None:
    """Count one model: a built-in name, a spec.yaml, or spec.yaml:VARIANT."""
    if as_table and fmt not in (None, "table"):
        raise click.UsageError("--table and --format " + str(fmt) + " disagree; give one")
    fmt = "table" if as_table else (fmt or "summary")
    training = None
    if wants_training(train, optimizer, amp, trainable, freeze):
        report, training = training_of(
            model, input_shape, batch, dtype, optimizer, amp, trainable, freeze
        )
    else:
        report = analyze(model, input_shape, batch, dtype)
    from ..render import plain

    if fmt == "table":
        from ..render.tables import layer_table

        text = layer_table(report, training)
    else:
        text = {
            "summary": plain.summary,
            "json": plain.to_json,
            "csv": plain.to_csv,
            "markdown": plain.to_markdown,
        }[fmt](report, training)
    emit(text, output)
