"""The device table of peak rates behind the roofline estimate (data in hardware.yaml)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import CnnCostError, SpecError, did_you_mean
from .limits import excerpt
from .yamlio import load_yaml

BUILTIN = Path(__file__).with_name("hardware.yaml")
DTYPES = ("fp64", "fp32", "tf32", "fp16", "bf16")


@dataclass(frozen=True)
class Hardware:
    """Peak rates of one device: FLOP/s per dtype for matrix work, FLOP/s for element-wise
    work, and memory bandwidth in bytes/s."""

    name: str
    title: str
    names: tuple[str, ...]
    peak_flops: dict[str, float]
    vector_flops: float
    bandwidth: float
    source: str

    def peak(self, dtype: str) -> float:
        if dtype not in self.peak_flops:
            raise CnnCostError(
                f"hardware {self.name!r} gives no peak for {dtype}; it has "
                + ", ".join(self.peak_flops)
            )
        return self.peak_flops[dtype]


MAX_RATE = 1e6  # TFLOP/s or GB/s: a million is far beyond any device, so a typo or a hoax


def _number(entry: Any, key: str, file: str, where: str) -> float:
    """A rate: a finite positive number no larger than MAX_RATE (NaN and infinity refused,
    so no invalid token reaches the JSON output)."""
    value = entry.get(key)
    line = entry.line_of(key) if hasattr(entry, "line_of") else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(
            f"{key} must be a positive number, got {excerpt(repr(value))}",
            file=file,
            line=line,
            path=where,
        )
    if not math.isfinite(value) or not 0 < value <= MAX_RATE:
        raise SpecError(
            f"{key} must be a positive number up to {MAX_RATE:,.0f}, got {value:.6g}",
            file=file,
            line=line,
            path=where,
        )
    return float(value)


def _scale(value: float, exponent: int) -> float:
    """value × 10^exponent without binary noise: 66.9 TFLOP/s is 66900000000000.0, not
    66900000000000.01, so JSON prints the figure the datasheet gives."""
    return float(Decimal(repr(value)).scaleb(exponent))


def _text(entry: Any, key: str, default: str, file: str, where: str) -> str:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SpecError(f"{key} must be text", file=file, line=entry.line_of(key), path=where)
    return str(value)


def _parse(entry: Any, name: str, file: str) -> Hardware:
    where = f"devices.{excerpt(name)[1:-1]}"
    if not isinstance(entry, dict):
        raise SpecError("a device is a mapping of its rates", file=file, path=where)
    names = entry.get("names") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise SpecError(
            "names must be a list of device names",
            file=file,
            line=entry.line_of("names"),
            path=where,
        )
    known = {"title", "names", "peak_tflops", "vector_tflops", "bandwidth_gb_s", "source"}
    for key in entry:
        if key not in known:
            raise SpecError(
                f"unknown key {excerpt(str(key))}{did_you_mean(str(key)[:100], known)}",
                file=file,
                line=entry.line_of(key),
                path=where,
            )
    peaks = entry.get("peak_tflops")
    if not isinstance(peaks, dict) or not peaks:
        raise SpecError(
            "peak_tflops must map dtypes to TFLOP/s", file=file, line=entry.line, path=where
        )
    for dtype in peaks:
        if dtype not in DTYPES:
            raise SpecError(
                f"unknown dtype {excerpt(str(dtype))} in peak_tflops"
                f"{did_you_mean(str(dtype)[:100], DTYPES)}",
                file=file,
                line=peaks.line_of(dtype),
                path=where,
            )
    return Hardware(
        name=name,
        title=_text(entry, "title", name, file, where),
        names=tuple(names),
        peak_flops={d: _scale(_number(peaks, d, file, where), 12) for d in peaks},
        vector_flops=_scale(_number(entry, "vector_tflops", file, where), 12),
        bandwidth=_scale(_number(entry, "bandwidth_gb_s", file, where), 9),
        source=_text(entry, "source", "", file, where),
    )


def _load(path: Path, display: str) -> dict[str, Hardware]:
    data = load_yaml(path, display)
    if not isinstance(data, dict) or not isinstance(data.get("devices"), dict):
        raise SpecError("expected a top-level 'devices:' mapping", file=display, line=1)
    devices = data["devices"]
    table = {}
    for name, entry in devices.items():
        if isinstance(name, bool) or not isinstance(name, str | int):
            raise SpecError(
                "a device name must be a word", file=display, line=devices.line_of(name)
            )
        if not isinstance(entry, dict):
            raise SpecError(
                "a device is a mapping of its rates",
                file=display,
                line=devices.line_of(name),
                path=f"devices.{excerpt(str(name))[1:-1]}",
            )
        table[str(name)] = _parse(entry, str(name), display)
    return table


def hardware_table(extra: str | None = None) -> dict[str, Hardware]:
    """The built-in devices, with a user's file laid over them."""
    table = _load(BUILTIN, "cnncost/hardware.yaml")
    if extra:
        table.update(_load(Path(extra), extra))
    return table


def pick_hardware(name: str | None, table: dict[str, Hardware], detected: str | None) -> Hardware:
    """The named device, else the one whose `names` match the detected device name."""
    if name:
        if name not in table:
            close = [n for n in table if name.lower() in n.lower()]
            hint = (
                " (did you mean " + " or ".join(repr(n) for n in close) + "?)"
                if close
                else did_you_mean(name, table)
            )
            raise CnnCostError(
                f"unknown hardware {name!r}{hint}; "
                "'cnncost hardware' lists them, --hardware-file adds your own"
            )
        return table[name]
    if detected is None:
        return table["generic-cpu"]
    for hw in table.values():
        if any(n.lower() in detected.lower() for n in hw.names):
            return hw
    raise CnnCostError(
        f"no entry in the hardware table matches {detected!r}; name one with --hardware "
        "or describe yours in a --hardware-file"
    )
