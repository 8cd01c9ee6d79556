"""`cnncost verify`."""

from __future__ import annotations

import sys

import click

from .app import cli
from .layout_options import table_options
from .options import emit, format_option, output_option, shape_options
from .train_options import patterns


@cli.command(
    epilog="""\b
Examples:
  cnncost verify resnet50
  cnncost verify my_net.yaml --batch 2
  cnncost verify vit_b_16 --device meta       shapes and counts only, no arithmetic
  cnncost verify googlenet --format json
  cnncost verify resnet50 --train --batch 2 --input 3x64x64
  cnncost verify resnet50 --train --trainable layer4,fc --batch 2
  cnncost verify vit_b_32 --train --amp --batch 2

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
@click.option(
    "--train",
    is_flag=True,
    help="Check a training step instead (CPU, train mode): backward MACs and saved "
    "activations per layer.",
)
@click.option(
    "--amp",
    is_flag=True,
    help="With --train: under torch.autocast on the CPU (bf16), against cnncost --amp with "
    "the CPU's autocast lists.",
)
@click.option("--trainable", callback=patterns, metavar="PATTERNS", help="With --train.")
@click.option("--freeze", callback=patterns, metavar="PATTERNS", help="With --train.")
@format_option(("text", "json"))
@shape_options
@output_option
@table_options
def verify(
    model: str,
    device: str,
    train: bool,
    amp: bool,
    trainable,
    freeze,
    fmt: str,
    input_shape,
    batch,
    output,
) -> None:
    """Build MODEL in torch and check every layer's shape, parameters and MACs.

    The module gets random weights; its submodules carry the spec's layer names.
    MACs are checked against torch.utils.flop_counter.FlopCounterMode (FLOPs / 2).
    With --train: one forward and backward step in train mode on the CPU; backward MACs
    against FlopCounterMode over the backward pass and saved activations against
    torch.autograd.graph.saved_tensors_hooks, per layer and in total.
    """
    from ..backend import allocation_errors, require_torch

    require_torch()
    from .. import build_graph

    if train:
        if device != "cpu":
            raise click.UsageError("--train verifies on the CPU only")
        from ..backend.train_verify import verify_training
        from ..render import training as render

        graph = build_graph(model, input_shape=input_shape, batch=batch)
        with allocation_errors(graph.model):
            checked = verify_training(graph, trainable, freeze or (), amp)
        emit(render.verify_json(checked) if fmt == "json" else render.verify_text(checked), output)
        if not checked.ok:
            sys.exit(1)
        return
    if trainable or freeze or amp:
        raise click.UsageError("--amp, --trainable and --freeze need --train")
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
