"""`cnncost list`."""

from __future__ import annotations

import click

from .app import cli
from .options import analyze, emit, format_option, output_option


@cli.command(
    name="list",
    epilog="\b\nExamples:\n  cnncost list\n  cnncost list --accuracy\n  cnncost list --format json",
)
@format_option(("table", "json", "csv", "markdown"))
@click.option("--accuracy", is_flag=True, help="Add published top-1/top-5 accuracy (%).")
@output_option
def list_models(fmt: str, accuracy: bool, output) -> None:
    """List the built-in models with their parameters and MACs at their own input size."""
    from ..render.progress import progress_bar
    from ..zoo import builtin_models

    names = list(builtin_models())
    reports = []
    with progress_bar("counting the built-in models") as progress:
        for i, name in enumerate(names):
            progress(i, len(names), name)
            reports.append(analyze(name, None, None, "fp32"))
    from ..render import plain

    if fmt == "table":
        from ..render.tables import grid

        header, cells = list(plain.LIST_HEADER), plain.list_cells(reports)
        if accuracy:
            from ..accuracy import cell

            header.append("Top-1 / top-5 %")
            cells = [[*row, cell(r.model)] for row, r in zip(cells, reports, strict=True)]
        text = grid(
            "Built-in models (batch 1)",
            header,
            cells,
            right={3, 4, 5},
            note="MACs = multiply-accumulates; FLOPs = 2 × MACs."
            + ("\nAccuracy: published, ImageNet-1K val (sources: --format json)." * accuracy),
        )
    else:
        text = {"json": plain.list_json, "csv": plain.list_csv, "markdown": plain.list_markdown}[
            fmt
        ](reports)
        if accuracy:
            from .. import accuracy as acc

            text = {"json": acc.add_to_json, "csv": acc.add_to_csv}.get(fmt, lambda t: t)(text)
            if fmt == "markdown":
                text += "\n" + acc.lines(names)
    emit(text, output)
