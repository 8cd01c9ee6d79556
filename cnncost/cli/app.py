"""The `cnncost` command group and its entry point. Kept light: click at start-up, rich
only for a progress bar; each command lives in its own module of this package."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from ..errors import CnnCostError
from ..limits import paused_gc


class _DefaultToShow(click.Group):
    """`cnncost MODEL ...` means `cnncost show MODEL ...`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            _mistyped_command(args[0], list(self.commands))
            args = ["show", *args]
        return super().parse_args(ctx, args)


def _mistyped_command(word: str, commands: list[str]) -> None:
    """`cnncost lsit` is a mistyped command, not a model: say so rather than 'unknown model'."""
    import difflib

    close = difflib.get_close_matches(word.lower(), commands, n=2, cutoff=0.75)
    if not close or os.path.exists(word.rpartition(":")[0] or word):
        return
    from ..zoo import builtin_models

    if word in builtin_models():
        return
    raise click.UsageError(
        f"no command {word!r} (did you mean " + " or ".join(repr(c) for c in close) + "?); "
        "'cnncost --help' lists the commands, and a model name or spec file shows a model"
    )


@click.group(
    cls=_DefaultToShow,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  cnncost vgg16                      summary: params, MACs, FLOPs, memory
  cnncost vgg16 --table              the per-layer table, as in the lecture
  cnncost resnet50 --format json     machine-readable, for scripts and CI
  cnncost my_net.yaml --input 3x320x320 --batch 32
  cnncost compare inception_naive inception_bottleneck
  cnncost list                       the built-in models
  cnncost ops conv2d                 what an op takes and how it is counted


MACs are multiply-accumulates (1 MAC = a*b+c); FLOPs = 2 × MACs.
Start your own from a built-in: cnncost spec resnet18 -o my_net.yaml
Docs: docs/spec-format.md (writing specs), docs/counting.md (what is counted).""",
)
@click.version_option(package_name="cnncost", message="cnncost %(version)s")
def cli() -> None:
    """Exact parameters, MACs and activation memory of CNN architectures.

    Give a built-in model name (see `cnncost list`) or a YAML spec file;
    `cnncost MODEL` is short for `cnncost show MODEL`.
    """


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: user errors print one line and exit 2, never a traceback."""
    try:
        with paused_gc():
            cli.main(
                args=list(argv) if argv is not None else None,
                prog_name="cnncost",
                standalone_mode=False,
            )
    except CnnCostError as exc:
        text = " ".join(str(exc).split("\n"))
        if len(text) > 1000:  # a safety net: messages quote short excerpts already
            text = text[:1000] + "…"
        click.echo(f"cnncost: error: {text}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        # One line, like every other error: the problem and where to read more.
        ctx = exc.ctx
        where = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
        message = " ".join(exc.format_message().split()).rstrip(".")
        click.echo(f"cnncost: error: {message}{where}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"cnncost: error: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(2 if exc.exit_code in (1, 2) else exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except (RecursionError, MemoryError) as exc:  # a limit the checks did not foresee
        what = "nested too deeply" if isinstance(exc, RecursionError) else "too large"
        click.echo(f"cnncost: error: the input is {what} to process", err=True)
        sys.exit(2)
    except BrokenPipeError:
        reader_gone()


def reader_gone() -> NoReturn:
    """Standard output's reader went away (`cnncost … | head`): stop quietly with status 0,
    sending what is still buffered to /dev/null so that exiting raises nothing more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)
