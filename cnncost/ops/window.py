"""Sliding-window arithmetic shared by convolution and pooling (PyTorch's rules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ShapeError


def window_out(
    size: int,
    kernel: int,
    stride: int,
    pad: int,
    dilation: int,
    ceil_mode: bool,
    axis: str,
) -> int:
    """Output length of a window sliding over `size` positions.

    floor((size + 2·pad − dilation·(kernel−1) − 1) / stride) + 1, or with ceil in ceil
    mode, where a last window that would start inside the right padding is dropped.
    """
    span = dilation * (kernel - 1) + 1
    room = size + 2 * pad - span
    if room < 0:
        raise ShapeError(
            f"{axis} collapses to zero: input {axis} {size} is smaller than the window "
            f"(kernel {kernel}, dilation {dilation}, padding {pad} gives a span of {span})"
        )
    if ceil_mode:
        out = -(-room // stride) + 1
        if (out - 1) * stride >= size + pad:
            out -= 1
    else:
        out = room // stride + 1
    return out


def window_out_v(
    size: Any, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool
) -> tuple[Any, Any]:
    """window_out over an array of sizes (sweeps): the lengths, and where the window does
    not fit (True there). Pure arithmetic, so it also takes a plain int."""
    room = size + 2 * pad - (dilation * (kernel - 1) + 1)
    if ceil_mode:
        out = -(-room // stride) + 1
        return out - ((out - 1) * stride >= size + pad), room < 0
    return room // stride + 1, room < 0


def same_padding_out(size: int, stride: int, axis: str) -> int:
    """'same' padding keeps the size; PyTorch allows it only with stride 1."""
    if stride != 1:
        raise ShapeError(f"padding 'same' needs stride 1 (as in PyTorch), got stride {stride}")
    return size


@dataclass(frozen=True)
class Window:
    """How a layer widens the receptive field: the input positions one output reads along
    height and width (dilation included), and its stride."""

    span: tuple[int, int]
    stride: tuple[int, int]


# A layer whose every output reads every input position (global pooling, attention).
GLOBAL = "global"
# A reshape that moves the positions into the feature axis (flatten of C×H×W): the layer
# itself mixes nothing, but a linear layer after it reads every position.
FOLD = "fold"
# A layer that mixes the feature axis (linear): global after a FOLD, pointwise otherwise.
MIX = "mix"


def dilated(kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    return (
        dilation[0] * (kernel[0] - 1) + 1,
        dilation[1] * (kernel[1] - 1) + 1,
    )
