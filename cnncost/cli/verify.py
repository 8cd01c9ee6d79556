"""`cnncost verify`."""

from __future__ import annotations

import sys

import click

from .app import cli
from .layout_options import table_options
from .options import emit, format_option, output_option, shape_options


@cli.command(
    epilog="""\b
Examples:
  cnncost verify resnet50
  cnncost verify my_net.yaml --batch 2
  cnncost verify vit_b_16 --device meta       shapes and counts only, no arithmetic
  cnncost verify googlenet --format json

Exit status: 0 when every count agrees, 1 on any mismatch, 2 on a usage or spec error.
Needs PyTorch: pip install 'cnncost[torch]'.""",
)
@click.argument("model")
@click.option(
    "--device",
    type=click.Choice(("cpu", "cuda", "meta")),
    default="cpu",
    show_default=True,
    help="Where torch runs the model; meta checks shapes and counts without computing.",
)
@format_option(("text", "json"))
@shape_options
@output_option
@table_options
def verify(model: str, device: str, fmt: str, input_shape, batch, output) -> None:
    """Build MODEL in torch and check every layer's shape, parameters and MACs.

    The module gets random weights; its submodules carry the spec's layer names.
    MACs are checked against torch.utils.flop_counter.FlopCounterMode (FLOPs / 2).
    """
    from ..backend import allocation_errors, require_torch

    require_torch()
    from .. import build_graph
    from ..backend.timing import check_device
    from ..backend.verify import verify as run_verify
    from ..render.measure import verify_json, verify_text

    graph = build_graph(model, input_shape=input_shape, batch=batch)
    if device == "cuda":
        check_device(device)
    with allocation_errors(graph.model):
        result = run_verify(graph, device=device)
    emit(verify_json(result) if fmt == "json" else verify_text(result), output)
    if not result.ok:
        sys.exit(1)
