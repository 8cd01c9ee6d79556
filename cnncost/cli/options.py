"""Options and helpers shared by the commands: model size, formats, output files."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import click

from ..report import DTYPE_BYTES, Report

FORMATS = ("summary", "table", "json", "csv", "markdown")


def parse_shape(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return None
    parts = value.lower().replace("×", "x").replace(",", "x").split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if not dims or any(d <= 0 for d in dims):
        raise click.BadParameter(f"{value!r} is not a shape like 3x224x224 (C×H×W)")
    return dims


def model_options(func: Callable) -> Callable:
    """--input, --batch and --dtype, shared by every command that analyses a model."""
    func = click.option(
        "--dtype",
        type=click.Choice(list(DTYPE_BYTES)),
        default="fp32",
        show_default=True,
        help="Element type for the byte counts.",
    )(func)
    return shape_options(func)


def shape_options(func: Callable) -> Callable:
    """--input and --batch: the size a model is built at."""
    func = click.option(
        "--batch",
        type=click.IntRange(min=1),
        default=None,
        help="Batch size [default: the spec's, usually 1].",
    )(func)
    func = click.option(
        "--input",
        "input_shape",
        callback=parse_shape,
        metavar="CxHxW",
        help="Input shape without the batch, e.g. 3x320x320 [default: the spec's].",
    )(func)
    return func


def format_option(choices: tuple[str, ...]) -> Callable[[Callable], Callable]:
    """--format, defaulting to the first choice."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output format.",
    )


def output_option(func: Callable) -> Callable:
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, writable=True),
        help="Write to this file instead of standard output (whole or not at all).",
    )(func)


def emit(text: str, output: str | None) -> None:
    """Print, or write the file atomically so an error never leaves half a file behind."""
    if output is None:
        click.echo(text, nl=False)
        return
    target = Path(output)
    fd, tmp = tempfile.mkstemp(dir=target.parent or Path("."), prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def analyze(ref: str, input_shape, batch, dtype) -> Report:
    from .. import analyze

    return analyze(ref, input_shape=input_shape, batch=batch, dtype=dtype)


ROOFLINE_DTYPES = ("fp32", "tf32", "fp16", "bf16")


def hardware_options(func: Callable) -> Callable:
    func = click.option(
        "--hardware-file",
        type=click.Path(dir_okay=False),
        help="A YAML file of your own devices, laid over the built-in table.",
    )(func)
    func = click.option(
        "--hardware",
        metavar="NAME",
        help="Device for the roofline (see `cnncost hardware`) [default: the detected GPU, "
        "or generic-cpu].",
    )(func)
    return func


def storage_dtype(dtype: str) -> str:
    """The element type a compute dtype stores: tf32 computes on fp32 data."""
    return "fp32" if dtype == "tf32" else dtype


def convention_option(func: Callable) -> Callable:
    """--convention: totals as other tools count them (cnncost.conventions)."""
    return click.option(
        "--convention",
        metavar="NAME[,NAME…]",
        help="Also give MACs as that tool counts them: torch, paper, fvcore, ptflops, "
        "ptflops-aten, thop, torchinfo, or all (docs/counting.md). See `cnncost reconcile`.",
    )(func)


def convention_totals(reports: list[Report], names: str | None, fmt: str) -> list[dict]:
    """Per-report {convention: {"macs", "by_op"}}; empty without --convention."""
    if not names:
        return []
    if fmt in ("csv", "markdown"):
        raise click.UsageError("--convention works with the summary, table and json formats")
    from .. import conventions

    chosen = conventions.parse_list(None if names == "all" else names)
    return [conventions.totals_dict(r, chosen) for r in reports]


def convention_lines(totals: dict) -> str:
    """Text lines: each convention's MACs."""
    width = max(len(n) for n in totals)
    return "".join(
        f"MACs as {name:<{width}} counts them: {t['macs']:>17,}\n" for name, t in totals.items()
    )
