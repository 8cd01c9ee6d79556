"""The `cnncost` command line: one module per command, registered on import."""

from . import (  # noqa: F401  (importing a command module registers it)
    audit_cmd,
    chart,
    compare,
    hardware_cmd,
    list_cmd,
    ops_cmd,
    reconcile,
    roofline,
    show,
    spec_cmd,
    sweep,
    time_cmd,
    verify,
)
from .app import cli, main

__all__ = ["cli", "main"]
