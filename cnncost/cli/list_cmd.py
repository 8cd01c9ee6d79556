"""`cnncost list`."""

from __future__ import annotations

import click

from .app import cli
from .layout_options import table_options
from .options import analyze, emit, format_option, output_option


@cli.command(
    name="list",
    epilog="\b\nExamples:\n  cnncost list\n  cnncost list --accuracy\n  cnncost list --format json",
)
@format_option(("table", "json", "csv", "markdown"))
@click.option("--accuracy", is_flag=True, help="Add published top-1/top-5 accuracy (%).")
@output_option
@table_options
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
        from ..render.layout import draw

        text = draw(plain.list_grid(reports, accuracy))
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
