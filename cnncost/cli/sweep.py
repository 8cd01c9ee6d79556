"""`cnncost sweep`."""

from __future__ import annotations

from collections.abc import Sequence

import click

from ..errors import CnnCostError
from .app import cli
from .layout_options import table_options
from .options import (
    DTYPES,
    convention_option,
    emit,
    format_option,
    output_option,
    parse_shape,
    storage_dtype,
)
from .train_options import train_options, train_settings


def _shapes(ctx: click.Context, param: click.Parameter, values: Sequence[str]):
    return [parse_shape(ctx, param, v) for v in values] or None


@cli.command(
    epilog="""\b
Examples:
  cnncost sweep resnet50 --res 224:640:32
  cnncost sweep resnet50 --res 64:4060:4 --format json -o sizes.json
  cnncost sweep vgg16 --res 160,224,320 --batch 1,8,64
  cnncost sweep resnet50 --input 3x384x640 --input 3x640x640
  cnncost sweep mobilenet_v2 --set width=0.5:2.0:0.25
  cnncost sweep efficientnet_b0 --phi 0:7
  cnncost sweep resnet50 --res 128:1024:32 --plot
  cnncost sweep resnet50 --res 128:1024:32 --plot macs.png
  cnncost sweep resnet50 --res 224,320 --convention fvcore,thop
  cnncost sweep resnet50 --res 160:320:32 --batch 32,64 --train --amp   training memory

\b
Ranges are START:STOP[:STEP] and include STOP; lists are comma-separated.
Several axes make every combination. The growth exponents are least-squares
fits on log-log axes (MACs ∝ side^k; with --phi, MACs ∝ 2^(kφ)).""",
)
@click.argument("model")
@click.option("--res", metavar="START:STOP[:STEP]|LIST", help="Square input sizes (H = W).")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    callback=_shapes,
    metavar="CxHxW",
    help="An input shape (repeat for several); for inputs that are not square.",
)
@click.option("--batch", "batch_text", metavar="LIST|START:STOP[:STEP]", help="Batch sizes.")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=VALUES",
    help="Sweep a spec parameter, e.g. width=0.5:2.0:0.25 or depth=1,2,4 (repeatable).",
)
@click.option("--phi", metavar="START:STOP[:STEP]|LIST", help="Compound-scaling steps φ.")
@click.option("--alpha", type=float, help="Depth base α for --phi [default: the spec's].")
@click.option("--beta", type=float, help="Width base β for --phi [default: the spec's].")
@click.option("--gamma", type=float, help="Resolution base γ for --phi [default: the spec's].")
@click.option(
    "--dtype",
    type=click.Choice(DTYPES),
    default="fp32",
    show_default=True,
    help="Element type for the activation bytes (tf32 stores fp32).",
)
@click.option(
    "--plot",
    is_flag=False,
    flag_value="-",
    default=None,
    metavar="[FILE.png|FILE.svg]",
    help="Plot MACs against the first swept axis: in the terminal (plotext), or to an image "
    "(matplotlib). Needs the plot extra.",
)
@format_option(("table", "json", "csv", "markdown"))
@convention_option
@train_options
@output_option
@table_options
def sweep(
    model: str,
    res: str | None,
    inputs,
    batch_text: str | None,
    sets: Sequence[str],
    phi: str | None,
    alpha: float | None,
    beta: float | None,
    gamma: float | None,
    dtype: str,
    plot: str | None,
    fmt: str,
    convention: str | None,
    train: bool,
    optimizer: str,
    amp: bool,
    trainable,
    freeze,
    output: str | None,
) -> None:
    """How params, MACs and activations grow with input size, batch, a spec parameter or
    compound scaling: one row per point, and the fitted growth exponents."""
    from .. import sweep as sweeping
    from ..render import sweep as render
    from ..render.progress import progress_bar

    training = train_settings(train, optimizer, amp, trainable, freeze)
    target = "" if plot == "-" else plot
    if plot is not None:
        from ..render.plot import check_target

        check_target(target or "")
    shapes = list(inputs or [])
    if res is not None:
        shapes += [(3, r, r) for r in sweeping.parse_values(res, "--res", integer=True)]
    batches = sweeping.parse_values(batch_text, "--batch", integer=True) if batch_text else [1]
    swept: dict[str, list] = {}
    for item in sets:
        name, sep, values = item.partition("=")
        if not sep or not name.strip():
            raise CnnCostError(f"--set {item!r}: give NAME=VALUES, e.g. width=0.5:2.0:0.25")
        swept[name.strip()] = sweeping.parse_values(values, f"--set {name.strip()}")
    steps = sweeping.parse_values(phi, "--phi") if phi is not None else None
    with progress_bar(f"sweeping {model}") as progress:
        result = sweeping.run(
            model,
            inputs=shapes or None,
            batches=batches,
            sets=swept,
            phi=steps,
            compound={"alpha": alpha, "beta": beta, "gamma": gamma},
            dtype=storage_dtype(dtype),
            progress=progress,
            train=training,
        )
    if convention and (fmt == "csv" or phi is not None):
        raise click.UsageError(
            "--convention works with the table, markdown and json formats, without --phi"
        )
    text = {
        "table": render.to_table,
        "json": render.to_json,
        "csv": render.to_csv,
        "markdown": render.to_markdown,
    }[fmt](result)
    if convention:
        text = _with_conventions(text, fmt, model, result, convention)
    drawing = render.plot(result, target) if plot is not None else ""
    if drawing and fmt == "table" and output is None:
        text += drawing
    elif drawing:
        click.echo(drawing, err=True, nl=False)
    emit(text, output)


def _with_conventions(text: str, fmt: str, model: str, result, names: str) -> str:
    """Each point's MACs as the named conventions count them (cnncost.conventions): in the
    JSON, a `conventions` object per point; in text, one line per point after the table."""
    import json

    from .. import conventions
    from ..build import build
    from ..report import analyze_graph
    from ..sweep import with_settings
    from ..zoo import resolve

    chosen = conventions.parse_list(None if names == "all" else names)
    spec, variant = resolve(model)
    counts: list[dict[str, int] | None] = []
    for p in result.points:
        if p.error is not None:
            counts.append(None)
            continue
        graph = build(
            with_settings(spec, variant, p.settings), variant, input_shape=p.input, batch=p.batch
        )
        report = analyze_graph(graph)
        counts.append({c.name: conventions.total(report, c) for c in chosen})
    if fmt == "json":
        doc = json.loads(text)
        for point, totals in zip(doc["points"], counts, strict=True):
            point["conventions"] = totals
        return json.dumps(doc, indent=2) + "\n"
    lines = ["", "MACs as each convention counts them:"]
    for p, totals in zip(result.points, counts, strict=True):
        where = "×".join(map(str, p.input)) + f", batch {p.batch}"
        where += "".join(f", {k}={v}" for k, v in p.settings.items())
        shown = "; ".join(f"{n} {v:,}" for n, v in (totals or {}).items()) or "(fails)"
        lines.append(f"  {where}: {shown}")
    return text + "\n".join(lines) + "\n"
