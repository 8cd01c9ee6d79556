"""--width and --columns: how a command's tables fit the output (see render.layout)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import click


def table_options(func: Callable) -> Callable:
    """Add --width and --columns; they are handed to the table layout before `func` runs."""

    @functools.wraps(func)
    def wrapper(*args, width: int | None, columns: str | None, **kwargs):
        from ..render.layout import ask

        ask(width, [c.strip() for c in columns.split(",") if c.strip()] if columns else None)
        try:
            return func(*args, **kwargs)
        finally:
            ask()  # the next caller (a library user, a test) starts from the defaults

    wrapper = click.option(
        "--columns",
        metavar="KEYS",
        help="Only these table columns, comma-separated (the note under a table that left "
        "some out names them; 'all' for every one).",
    )(wrapper)
    return click.option(
        "--width",
        type=click.IntRange(min=0),
        help="Fit tables to this many characters; 0 for no limit [default: the terminal's "
        "width, or COLUMNS, or 100 when the output is not a terminal].",
    )(wrapper)
