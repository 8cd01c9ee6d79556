"""`cnncost compare`."""

from __future__ import annotations

from collections.abc import Sequence

import click

from .app import cli
from .layout_options import table_options
from .options import (
    convention_lines,
    convention_option,
    convention_totals,
    emit,
    format_option,
    model_options,
    output_option,
)
from .train_options import analyzed, train_options


@cli.command(
    epilog="""\b
Examples:
  cnncost compare inception_naive inception_bottleneck
  cnncost compare resnet50_v1 resnet50          paper v1 vs torchvision v1.5
  cnncost compare vgg16 resnet50 googlenet --format json
  cnncost compare resnet50 efficientnet_b4 --accuracy
  cnncost compare resnet50 vgg16 --train --batch 32 --amp
  cnncost compare resnet50 mobilenet_v2 --convention thop""",
)
@click.argument("models", nargs=-1, required=True)
@format_option(("table", "json", "csv", "markdown"))
@click.option("--accuracy", is_flag=True, help="Add published top-1/top-5 accuracy.")
@convention_option
@model_options
@train_options
@output_option
@table_options
def compare(
    models: Sequence[str],
    fmt: str,
    accuracy: bool,
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
    """Put models side by side, with ratios against the first one."""
    if len(models) < 2:
        raise click.UsageError("compare needs at least two models")
    pairs = [
        analyzed(m, input_shape, batch, dtype, train, optimizer, amp, trainable, freeze)
        for m in models
    ]
    reports = [r for r, _ in pairs]
    trainings = [t for _, t in pairs if t is not None] or None
    extra = convention_totals(reports, convention, fmt)
    from ..render import plain

    if fmt == "table":
        from ..render.tables import compare_table

        text = compare_table(reports, trainings)
    else:
        text = {
            "json": plain.compare_json,
            "csv": plain.compare_csv,
            "markdown": plain.compare_markdown,
        }[fmt](reports, trainings)
    if accuracy:
        from .. import accuracy as acc

        if fmt == "json":
            text = acc.add_to_json(text)
        elif fmt == "csv":
            text = acc.add_to_csv(text)
        else:
            from ..render.layout import fit_lines

            text += "\n" + fit_lines(acc.lines(list(models)))
    if extra and fmt == "json":
        import json

        doc = json.loads(text)
        for entry, totals in zip(doc["models"], extra, strict=True):
            entry["conventions"] = totals
        text = json.dumps(doc, indent=2) + "\n"
    elif extra:
        text += "".join(
            f"\n{r.model}:\n" + convention_lines(e) for r, e in zip(reports, extra, strict=True)
        )
    emit(text, output)
