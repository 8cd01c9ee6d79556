"""`cnncost show`."""

from __future__ import annotations

import click

from .app import cli
from .options import (
    FORMATS,
    analyze,
    convention_lines,
    convention_option,
    convention_totals,
    emit,
    model_options,
    output_option,
)


@cli.command(
    epilog="""\b
Examples:
  cnncost show vgg16 --table
  cnncost show resnet50 --format csv -o resnet50.csv
  cnncost show specs/resnet.yaml:resnet18 --input 3x160x160
  cnncost show my_net.yaml --dtype bf16 --batch 64
  cnncost show resnet50 --convention fvcore,thop""",
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
@convention_option
@model_options
@output_option
def show(
    model: str,
    as_table: bool,
    fmt: str | None,
    convention: str | None,
    input_shape,
    batch,
    dtype,
    output,
) -> None:
    """Count one model: a built-in name, a spec.yaml, or spec.yaml:VARIANT."""
    if as_table and fmt not in (None, "table"):
        raise click.UsageError("--table and --format " + str(fmt) + " disagree; give one")
    fmt = "table" if as_table else (fmt or "summary")
    report = analyze(model, input_shape, batch, dtype)
    from ..render import plain

    extra = convention_totals([report], convention, fmt)
    if fmt == "json" and extra:
        import json

        doc = report.to_dict()
        doc["conventions"] = extra[0]
        text = json.dumps(doc, indent=2) + "\n"
    elif fmt == "table":
        from ..render.tables import layer_table

        text = layer_table(report)
    else:
        text = {
            "summary": plain.summary,
            "json": plain.to_json,
            "csv": plain.to_csv,
            "markdown": plain.to_markdown,
        }[fmt](report)
    if extra and fmt != "json":
        text += convention_lines(extra[0])
    emit(text, output)
