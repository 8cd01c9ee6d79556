"""`cnncost audit`."""

from __future__ import annotations

import sys

import click

from .app import cli
from .layout_options import table_options
from .options import emit, format_option, output_option


@cli.command(
    epilog="""\b
Examples:
  cnncost audit                           every claim of the lecture decks, with verdicts
  cnncost audit --document 001            one deck
  cnncost audit --claims my_claims.yaml   your own claims, in the same layout
  cnncost audit --format json

Exit status: 0 when every claim matches or disagrees for a recorded reason; 1 when a
claim disagrees without one (or a recorded disagreement has started to match); 2 on a
usage or file error. The layout of a claims file: docs/audit.md.""",
)
@click.option(
    "--claims",
    "claims_file",
    type=click.Path(dir_okay=False),
    help="A YAML file of claims [default: the built-in claims of the lecture decks].",
)
@click.option("--document", help="Only the claims of this document (e.g. 001).")
@format_option(("table", "json", "markdown"))
@click.option("--failures-only", is_flag=True, help="List only the claims that fail.")
@output_option
@table_options
def audit(claims_file, document, fmt, failures_only, output) -> None:
    """Check the documents' numeric claims against computed values."""
    from ..audit import audit as run_audit
    from ..render.audit import audit_json, audit_markdown, audit_table

    verdicts = run_audit(claims_file, document)
    shown = [v for v in verdicts if v.failed] if failures_only else verdicts
    render = {"table": audit_table, "json": audit_json, "markdown": audit_markdown}[fmt]
    emit(render(shown, verdicts), output)
    if any(v.failed for v in verdicts):
        sys.exit(1)
