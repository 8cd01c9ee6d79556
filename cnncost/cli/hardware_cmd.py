"""`cnncost hardware`."""

from __future__ import annotations

import click

from .app import cli
from .layout_options import table_options


@cli.command(
    name="hardware",
    epilog="""\b
Examples:
  cnncost hardware
  cnncost hardware --hardware-file gpus.yaml     yours beside the built-in ones""",
)
@click.option(
    "--hardware-file",
    type=click.Path(dir_okay=False),
    help="A YAML file of your own devices, laid over the built-in table.",
)
@table_options
def hardware_cmd(hardware_file) -> None:
    """List the devices the roofline knows: peak TFLOP/s per dtype and memory bandwidth."""
    from ..hardware import hardware_table
    from ..render.measure import hardware_rows
    from ..render.tables import grid

    click.echo(
        grid(
            "Devices for the roofline (cnncost roofline / cnncost time --hardware NAME)",
            ["Name", "Device", "Matrix peak TFLOP/s", "Element-wise TFLOP/s", "Memory GB/s"],
            hardware_rows(hardware_table(hardware_file)),
            right={3, 4},
            note="Dense vendor peaks; 1 MAC = 2 FLOP. Layout of a --hardware-file: see "
            "docs/roofline.md.",
        ),
        nl=False,
    )
