"""`cnncost list`."""

from __future__ import annotations

from .app import cli
from .layout_options import table_options
from .options import analyze, emit, format_option, output_option


@cli.command(name="list", epilog="\b\nExamples:\n  cnncost list\n  cnncost list --format json")
@format_option(("table", "json", "csv", "markdown"))
@output_option
@table_options
def list_models(fmt: str, output) -> None:
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

        text = draw(plain.list_grid(reports))
    else:
        text = {"json": plain.list_json, "csv": plain.list_csv, "markdown": plain.list_markdown}[
            fmt
        ](reports)
    emit(text, output)
