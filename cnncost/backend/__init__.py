"""The optional torch backend: a spec as a real nn.Module, checked and timed against torch.

Nothing here is imported by the analytic commands; torch is loaded only when a backend
command runs, and its absence is a one-line error rather than an ImportError.
"""

from __future__ import annotations

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
