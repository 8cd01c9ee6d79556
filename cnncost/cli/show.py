"""`cnncost show`."""

from __future__ import annotations

import click

from .app import cli
from .layout_options import table_options
from .options import (
    FORMATS,
    convention_lines,
    convention_option,
    convention_totals,
    emit,
    model_options,
    output_option,
)
from .train_options import analyzed, train_options


@cli.command(
    epilog="""\b
Examples:
  cnncost show vgg16 --table
  cnncost show resnet50 --depth 1              stem, layer1 … layer4, head, with totals
  cnncost show resnet50 --sort macs --top 10   the ten layers with the most MACs
  cnncost show vgg16 --table --width 80        fit 80 columns (also when piped)
  cnncost show resnet18 --input 3x160x160 --format csv -o resnet18.csv
  cnncost spec resnet18 -o my_net.yaml         a built-in as YAML to edit, then:
  cnncost show my_net.yaml --dtype bf16 --batch 64
  cnncost show resnet50 --train --batch 64 --optimizer adam --amp
  cnncost show resnet50 --train --trainable layer4,fc --table
  cnncost show resnet50 --convention fvcore,thop
""",
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
@click.option(
    "--depth",
    type=click.IntRange(min=1),
    help="Roll the table's layers up into blocks, N levels of their names deep (1: stages).",
)
@click.option(
    "--sort",
    type=click.Choice(("macs", "params", "activations")),
    help="Order the table's rows by this count, largest first.",
)
@click.option("--top", type=click.IntRange(min=1), help="Keep the table's first K rows.")
@table_options
@convention_option
@model_options
@train_options
@output_option
def show(
    model: str,
    as_table: bool,
    fmt: str | None,
    depth: int | None,
    sort: str | None,
    top: int | None,
    convention: str | None,
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
    view = depth or sort or top
    if view and fmt not in (None, "table"):
        raise click.UsageError("--depth, --sort and --top shape the table; drop --format " + fmt)
    fmt = "table" if as_table or view else (fmt or "summary")
    report, training = analyzed(
        model, input_shape, batch, dtype, train, optimizer, amp, trainable, freeze
    )
    from ..render import plain

    extra = convention_totals([report], convention, fmt)
    if fmt == "table":
        from ..render.tables import layer_table

        text = layer_table(report, depth, sort, top, training)
    elif fmt == "summary":
        from ..render.layout import fit_lines

        text = fit_lines(plain.summary(report, training))
    elif fmt == "json":  # in pieces, as encoded: a large report is never held whole
        emit(plain.json_chunks(report, training, extra[0] if extra else None), output)
        return
    else:
        text = {"csv": plain.to_csv, "markdown": plain.to_markdown}[fmt](report, training)
    if extra and fmt != "json":
        text += convention_lines(extra[0])
    emit(text, output)
