"""`cnncost chart`."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from ..errors import CnnCostError
from .app import cli
from .options import emit, format_option, output_option


@cli.command(
    epilog="""\b
Examples:
  cnncost chart                              every built-in with a published top-1
  cnncost chart resnet efficientnet vgg16    families (spec names) and single models
  cnncost chart resnet efficientnet --plot chart.png
  cnncost chart --format json

\b
Top-1 accuracy (ImageNet-1K val, %) against MACs at each model's own input size,
bubble area ∝ parameters. Accuracies are published figures carried by the specs
(torchvision's weights metadata, or the decks' tables), each with its source.""",
)
@click.argument("models", nargs=-1)
@click.option(
    "--plot",
    "target",
    metavar="FILE.png|FILE.svg",
    help="Write the chart as an image (matplotlib) instead of drawing it in the terminal.",
)
@format_option(("chart", "json", "csv"))
@output_option
def chart(models: Sequence[str], target: str | None, fmt: str, output: str | None) -> None:
    """Accuracy against cost: a bubble chart of top-1 accuracy vs MACs, area ∝ params."""
    from .. import chart as charting
    from ..render.progress import progress_bar

    if target:
        from ..render.plot import check_target

        check_target(target)
    with progress_bar("counting") as progress:
        kept, notes = charting.entries(charting.select(models), progress)
    if fmt == "json":
        data = {
            "schema": charting.SCHEMA,
            "x": "macs",
            "y": "top1 (%)",
            "size": "params",
            "models": [e.to_dict() for e in kept],
            "left_out": notes,
        }
        emit(json.dumps(data, indent=2) + "\n", output)
        return
    if fmt == "csv":
        import csv
        import io

        out = io.StringIO()
        fields = list(kept[0].to_dict()) if kept else ["model"]
        writer = csv.DictWriter(out, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(e.to_dict() for e in kept)
        emit(out.getvalue(), output)
        return
    if not kept:
        raise CnnCostError("none of these models has a published top-1 accuracy")
    from ..render.plot import Bubble, bubbles

    points = [Bubble(e.model, e.family, e.macs, e.top1, e.params) for e in kept]
    title = "Top-1 accuracy vs MACs" + (" (bubble area ∝ params)" if target else "")
    drawing = bubbles(points, title=title, target=target or "")
    lines = [f"{len(kept)} models; MACs at each model's own input size, batch 1."]
    if not target:
        lines.append("Marks by params: ● over 40 %, • over 10 %, · up to 10 % of the largest.")
    lines += [
        f"  {e.model}: {e.top1:g}% top-1, {e.macs / 1e9:.3g} GMACs, {e.params / 1e6:.3g} M params"
        f" ({e.top1_source})"
        for e in kept
    ]
    lines += notes
    if target:
        lines.insert(0, f"wrote {target}")
    emit(drawing + "\n".join(lines) + "\n", output)
