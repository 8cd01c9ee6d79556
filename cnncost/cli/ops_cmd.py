"""`cnncost ops`."""

from __future__ import annotations

import click

from .app import cli
from .layout_options import table_options


@cli.command(epilog="\b\nExamples:\n  cnncost ops\n  cnncost ops conv2d")
@click.argument("name", required=False)
@table_options
def ops(name: str | None) -> None:
    """List the ops a spec can use, or describe one: attributes, defaults and costs."""
    from ..ops import get_op, public_ops
    from ..render.tables import grid
    from ..values import describe

    if name is None:
        rows = [
            [o.name, o.category, o.doc]
            for o in sorted(public_ops().values(), key=lambda o: (o.category, o.name))
        ]
        click.echo(
            grid(
                "Ops (cnncost ops NAME for details)",
                ["Op", "Kind", "What it is"],
                rows,
                right=set(),
            ),
            nl=False,
        )
        return
    from .. import conventions

    op = get_op(name)
    rows = [
        [a.name, a.kind.name, "required" if a.required else describe(a.default), a.doc]
        for a in op.attrs
    ]
    inputs = op.inputs[0] if op.inputs[0] == op.inputs[1] else f"{op.inputs[0]} or more"
    text = grid(
        f"{op.name}: {op.doc}",
        ["Attribute", "Type", "Default", "Meaning"],
        rows,
        right=set(),
        note=f"inputs: {inputs}\ncounted as: {op.cost_doc}\nother tools count (per sample; "
        "docs/counting.md, Counting conventions):\n"
        + "\n".join(
            f"  {c.name}: {c.formulas[op.name]}" for c in conventions.conventions().values()
        ),
    )
    click.echo(text, nl=False)
