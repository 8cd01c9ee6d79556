"""Options and helpers shared by the commands: model size, formats, output files."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import click

from ..errors import CnnCostError
from ..limits import MAX_BATCH, check_shape, excerpt
from ..report import Report

FORMATS = ("summary", "table", "json", "csv", "markdown")
# One rule for every command: the dtypes the device table gives peaks for (show, compare,
# roofline, time). tf32 computes on fp32 data, so it stores and counts as fp32.
DTYPES = ("fp32", "tf32", "fp16", "bf16", "fp64")


def parse_shape(ctx: click.Context, param: click.Parameter, value: str | None):
    """--input: sizes joined by x (or × or ,), each a positive integer within the limits."""
    if value is None:
        return None
    shown = excerpt(value)
    parts = value.lower().replace("×", "x").replace(",", "x").split("x")
    if len(value) > 200 or not all(re.fullmatch(r"\s*[0-9]{1,18}\s*", p) for p in parts):
        raise click.BadParameter(f"{shown} is not a shape like 3x224x224 (C×H×W)")
    try:
        return check_shape([int(p) for p in parts], "--input")
    except CnnCostError as exc:
        raise click.BadParameter(f"{shown} is not a shape like 3x224x224: {exc}") from None


def model_options(func: Callable) -> Callable:
    """--input, --batch and --dtype, shared by every command that analyses a model."""
    func = click.option(
        "--dtype",
        type=click.Choice(DTYPES),
        default="fp32",
        show_default=True,
        help="Element type for the byte counts (tf32 stores fp32).",
    )(func)
    return shape_options(func)


def shape_options(func: Callable) -> Callable:
    """--input and --batch: the size a model is built at."""
    func = click.option(
        "--batch",
        type=click.IntRange(min=1, max=MAX_BATCH),
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
        metavar="FILE",
        callback=_checked_output,
        help="Write to this file instead of standard output (whole or not at all).",
    )(func)


def _checked_output(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """-o is checked before any work, so that a mistyped directory is refused at once
    rather than after a long analysis; emit checks it again when it writes."""
    if value is not None:
        _output_target(value)
    return value


def emit(text: str | Iterable[str], output: str | None) -> None:
    """Print, or write FILE atomically so an error never leaves half a file behind. The
    text may come in pieces (a large JSON report), written as they come.

    A new file gets the permissions the umask gives; an existing file keeps its mode; a
    symbolic link is followed and the file it points to is replaced (docs/output.md)."""
    pieces = [text] if isinstance(text, str) else text
    if output is None:
        try:
            for piece in pieces:
                click.echo(piece, nl=False)
        except BrokenPipeError:  # click would turn it into status 1
            from .app import reader_gone

            reader_gone()
        return
    target = _output_target(output)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    except OSError as exc:
        raise CnnCostError(f"cannot write {excerpt(output)}: {exc.strerror}") from None
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.writelines(pieces)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise CnnCostError(f"cannot write {excerpt(output)}: {reason}") from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def _output_target(output: str) -> Path:
    """The file -o names, after following symbolic links; refused unless it is (or would
    be) a regular file in an existing, writable directory."""
    if not output or not output.strip():
        raise CnnCostError("-o needs a file name")
    target = Path(os.path.realpath(output))
    if target.is_dir():
        raise CnnCostError(f"cannot write {excerpt(output)}: it is a directory")
    if target.exists() and not target.is_file():
        raise CnnCostError(f"cannot write {excerpt(output)}: not a regular file")
    if not target.parent.is_dir():
        raise CnnCostError(f"cannot write {excerpt(output)}: no such directory")
    if not os.access(target.parent, os.W_OK):
        raise CnnCostError(f"cannot write {excerpt(output)}: the directory is not writable")
    return target


def analyze(ref: str, input_shape, batch, dtype) -> Report:
    from .. import analyze

    return analyze(ref, input_shape=input_shape, batch=batch, dtype=storage_dtype(dtype))


def hardware_options(func: Callable) -> Callable:
    func = click.option(
        "--hardware-file",
        type=click.Path(dir_okay=False),
        help="A YAML file of your own devices, laid over the built-in table.",
    )(func)
    func = click.option(
        "--hardware",
        metavar="NAME",
        help="Device for the roofline (see `cnncost hardware`) [default: the detected GPU; "
        "on the CPU, `time` measures this machine and `roofline` uses generic-cpu].",
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
