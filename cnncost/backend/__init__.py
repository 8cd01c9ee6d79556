"""The optional torch backend: a spec as a real nn.Module, checked and timed against torch.

Nothing here is imported by the analytic commands; torch is loaded only when a backend
command runs, and its absence is a one-line error rather than an ImportError.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import CnnCostError

INSTALL_HINT = "pip install 'cnncost[torch]' (or install PyTorch as pytorch.org describes)"


def require_torch() -> None:
    """Import torch, or explain in one line how to get it."""
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise CnnCostError(
            f"this command needs PyTorch, which is not installed: {INSTALL_HINT}"
        ) from exc


@contextmanager
def allocation_errors(model: str) -> Iterator[None]:
    """Turn torch's failure to allocate a model too large for the machine (a huge --input,
    say) into a one-line error instead of a traceback."""
    try:
        yield
    except (MemoryError, RuntimeError) as exc:
        if not is_allocation_error(exc):
            raise
        text = str(exc)
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        raise CnnCostError(f"{model} does not fit in memory at this size: {first[:160]}") from None


def is_allocation_error(exc: BaseException) -> bool:
    """Whether torch (or Python) failed to allocate memory, as opposed to another failure."""
    text = str(exc)
    return isinstance(exc, MemoryError) or any(
        word in text for word in ("allocate", "out of memory", "Out of memory")
    )
