"""Rich tables for the terminal. Imported lazily: JSON and CSV output never load rich."""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table

from ..report import Report
from ..training import Training
from .plain import compare_cells, footnote, heading, layer_cells, layer_header, total_cells


def render(table: Table, *extra: str) -> str:
    """Draw to text. Off a terminal the table keeps its natural width and has no colour."""
    tty = sys.stdout.isatty()
    console = Console(
        file=io.StringIO(),
        width=None if tty else 10_000,
        color_system="auto" if tty else None,
        force_terminal=tty,
        highlight=False,
        markup=False,
    )
    console.print(table)
    for line in extra:
        console.print(line, soft_wrap=True)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def layer_table(report: Report, training: Training | None = None) -> str:
    table = Table(title=heading(report), box=box.SIMPLE_HEAD, title_justify="left")
    for index, header in enumerate(layer_header(training)):
        table.add_column(header, justify="right" if index >= 3 else "left", no_wrap=True)
    for cells in layer_cells(report, training):
        table.add_row(*cells, style="dim" if cells[3] == "0" and cells[4] == "0" else None)
    table.add_section()
    table.add_row(*total_cells(report, training), style="bold")
    return render(table, footnote(report, training))


def compare_table(reports: Sequence[Report], trainings: Sequence[Training] | None = None) -> str:
    header, rows = compare_cells(reports, trainings)
    table = Table(
        box=box.SIMPLE_HEAD,
        title="Comparison (ratios against the first model)",
        title_justify="left",
    )
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if index == 0 else "right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return render(table, "MACs = multiply-accumulates; FLOPs = 2 × MACs.")


def grid(
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: set[int],
    note: str = "",
) -> str:
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left")
    for index, name in enumerate(header):
        table.add_column(
            name, justify="right" if index in right else "left", no_wrap=index in right
        )
    for row in rows:
        table.add_row(*row)
    return render(table, *([note] if note else []))
