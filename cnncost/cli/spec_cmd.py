"""`cnncost spec`."""

from __future__ import annotations

import click

from .app import cli
from .options import emit, output_option


@cli.command(
    name="spec",
    epilog="""\b
Examples:
  cnncost spec resnet50 -o my_resnet.yaml     then edit it and run:
  cnncost show my_resnet.yaml --table
  cnncost spec vgg16                          print it""",
)
@click.argument("model")
@output_option
def spec_cmd(model: str, output) -> None:
    """Write built-in MODEL out as a YAML spec, comments included, to start your own from."""
    from ..export import builtin_spec_text

    emit(builtin_spec_text(model), output)
