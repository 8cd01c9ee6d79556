"""`cnncost reconcile`: one model counted under every named convention, gaps explained."""

from __future__ import annotations

import json
from typing import Any

import click

from ..render.layout import Column, Grid, Num, count, draw, fit_lines
from ..render.numbers import scaled
from .app import cli
from .layout_options import table_options
from .options import analyze, emit, format_option, output_option, shape_options


@cli.command(
    epilog="""\b
Examples:
  cnncost reconcile resnet50
  cnncost reconcile mobilenet_v2 --conventions torch,thop,ptflops
  cnncost reconcile vit_b_16 --format json -o vit.json""",
)
@click.argument("model")
@click.option(
    "--conventions",
    "names",
    metavar="A,B,…",
    help="Conventions to compare, the first being the reference [default: all, torch "
    "first]. See docs/counting.md.",
)
@format_option(("text", "json"))
@shape_options
@output_option
@table_options
def reconcile(model: str, names: str | None, fmt: str, input_shape, batch, output) -> None:
    """Count one model as each tool does (torch, fvcore, ptflops, thop, torchinfo, the
    papers) and explain every gap, op type by op type."""
    from .. import conventions

    chosen = conventions.parse_list(names)
    report = analyze(model, input_shape, batch, "fp32")
    result = conventions.reconcile(report, chosen)
    if fmt == "json":
        doc = {
            "schema": "cnncost.reconcile/1",
            "model": report.model,
            "title": report.title,
            "input_shape": list(report.input_shape),
            "batch": report.batch,
            "unit": "MACs as each convention counts them (its own 'FLOPs' or 'MACs')",
            "reference": chosen[0].name,
            "conventions": result,
        }
        text = json.dumps(doc, indent=2) + "\n"
    else:
        text = _text(report.title, report.input_shape, report.batch, result)
    emit(text, output)


def _signed(n: int) -> Num:
    """A difference, with its sign, exact and compact."""
    return Num(f"{n:+,}", ("+" if n > 0 else "") + scaled(n) if n else "0")


def _text(title: str, shape: tuple[int, ...], batch: int, result: dict[str, Any]) -> str:
    """The totals table, one table per gap, and what each convention leaves out, all
    fitted to the output's width like every table."""
    names = list(result)
    ref = names[0]
    totals = Grid(
        f"{title} · input {'×'.join(map(str, shape))}, batch {batch}: MACs as each tool "
        "counts them (1 MAC = a*b+c; FLOPs = 2 × MACs)",
        [
            Column("convention", "Convention", "name", 0, 8),
            Column("macs", "MACs", "number"),
            Column("gap", f"− {ref}", "number", 1),
            Column("what", "What it reproduces", "text", 2, 16),
        ],
        [
            [
                name,
                count(result[name]["macs"]),
                "" if name == ref else _signed(result[name]["difference"]["macs"]),
                result[name]["title"],
            ]
            for name in names
        ],
    )
    parts = [draw(totals)]
    for name in names[1:]:
        entry = result[name]
        diff = entry["difference"]
        rows = [
            [
                op,
                _signed(d),
                f"{name}: {entry['formulas'].get(op, '0')}; "
                f"{ref}: {result[ref]['formulas'].get(op, '0')}",
            ]
            for op, d in diff["by_op"].items()
        ]
        if not rows:
            parts.append(fit_lines(f"{name} − {ref} = +0: no difference") + "\n")
            continue
        parts.append(
            draw(
                Grid(
                    f"{name} − {ref} = {diff['macs']:+,}:",
                    [
                        Column("op", "Op", "name", 0, 10),
                        Column("difference", "Difference", "number"),
                        Column("formulas", "Formulas (per layer)", "text", 0, 16),
                    ],
                    rows,
                )
            )
        )
    zero = [
        f"{name} counts 0 for (cnncost's MACs + element-wise ops): "
        + ", ".join(f"{op} {scaled(w)}" for op, w in result[name]["counts_zero_for"].items())
        for name in names
        if result[name]["counts_zero_for"]
    ]
    if zero:
        parts.append(fit_lines("\n".join(zero)) + "\n")
    return "\n".join(parts)
