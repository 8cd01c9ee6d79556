"""`cnncost reconcile`: one model counted under every named convention, gaps explained."""

from __future__ import annotations

import json
from typing import Any

import click

from .app import cli
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


def _text(title: str, shape: tuple[int, ...], batch: int, result: dict[str, Any]) -> str:
    from ..render.numbers import grouped, scaled

    names = list(result)
    ref = names[0]
    width = max(len(n) for n in names)
    lines = [
        f"{title} · input {'×'.join(map(str, shape))}, batch {batch}",
        "MACs as each tool counts them (1 MAC = a*b+c; FLOPs = 2 × MACs)",
        "",
    ]
    for name in names:
        entry = result[name]
        gap = entry["difference"]["macs"]
        rel = "" if name == ref else f"  {gap:+,} vs {ref}"
        lines.append(
            f"  {name:<{width}}  {grouped(entry['macs']):>17}  {scaled(entry['macs']):>9}"
            f"{rel}  ({entry['title']})"
        )
    for name in names[1:]:
        entry = result[name]
        diff = entry["difference"]
        lines += ["", f"{name} − {ref} = {diff['macs']:+,}:"]
        if not diff["by_op"]:
            lines.append("  (no difference)")
        for op, d in diff["by_op"].items():
            theirs = entry["formulas"].get(op, "0")
            ours = result[ref]["formulas"].get(op, "0")
            lines.append(f"  {op:<20} {d:>+17,}  {name}: {theirs}; {ref}: {ours}")
    lines.append("")
    for name in names:
        zero = result[name]["counts_zero_for"]
        if zero:
            listed = ", ".join(f"{op} {scaled(w)}" for op, w in zero.items())
            lines.append(f"{name} counts 0 for (cnncost's MACs + element-wise ops): {listed}")
    return "\n".join(lines) + "\n"
