"""--train and its options, shared by show and compare."""

from __future__ import annotations

from collections.abc import Callable

import click

from ..report import Report
from ..training import OPTIMIZER_STATES, Training, TrainOptions


def patterns(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return None
    patterns = tuple(p.strip() for p in value.split(",") if p.strip())
    if not patterns:
        raise click.BadParameter("give comma-separated layer paths or globs, e.g. layer4,fc")
    return patterns


def train_options(func: Callable) -> Callable:
    """--train, --optimizer, --amp, --trainable and --freeze."""
    for option in reversed(
        (
            click.option(
                "--train",
                is_flag=True,
                help="Add the cost of one training step: backward MACs, saved activations, "
                "gradients, optimizer state, peak memory (docs/training.md).",
            ),
            click.option(
                "--optimizer",
                type=click.Choice(list(OPTIMIZER_STATES)),
                default="adam",
                show_default=True,
                help="Optimizer whose state --train counts.",
            ),
            click.option(
                "--amp",
                is_flag=True,
                help="Mixed precision as torch.autocast: fp32 weights, gradients and optimizer "
                "state; 2-byte (fp16/bf16) activations where autocast casts.",
            ),
            click.option(
                "--trainable",
                callback=patterns,
                metavar="PATTERNS",
                help="Train only these layers: comma-separated paths or globs, each with "
                "everything under it (layer4,fc).",
            ),
            click.option(
                "--freeze",
                callback=patterns,
                metavar="PATTERNS",
                help="Freeze these layers (paths or globs); the rest train.",
            ),
        )
    ):
        func = option(func)
    return func


def analyzed(
    model: str,
    input_shape,
    batch,
    dtype: str,
    train: bool,
    optimizer: str,
    amp: bool,
    trainable,
    freeze,
) -> tuple[Report, Training | None]:
    """The model's report, and with --train the cost of one training step."""
    from .options import analyze, storage_dtype

    options = train_settings(train, optimizer, amp, trainable, freeze)
    if options is None:
        return analyze(model, input_shape, batch, dtype), None
    from .. import build_graph
    from ..report import analyze_graph
    from ..training import analyze_training

    graph = build_graph(model, input_shape=input_shape, batch=batch)
    report = analyze_graph(graph, storage_dtype(dtype))
    return report, analyze_training(graph, report, options)


def train_settings(
    train: bool, optimizer: str, amp: bool, trainable, freeze
) -> TrainOptions | None:
    """The training options --train asks for, or None without it. The other options only
    make sense with --train: say so rather than ignore them."""
    if not train:
        if amp or trainable or freeze or optimizer != "adam":
            raise click.UsageError("--optimizer, --amp, --trainable and --freeze need --train")
        return None
    return TrainOptions(optimizer, amp, trainable, freeze or ())
