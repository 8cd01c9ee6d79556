"""Plots for `cnncost sweep --plot` and `cnncost chart`: in the terminal through plotext, or
to a PNG/SVG file through matplotlib. Both are optional (the `plot` extra) and imported
only here, when a plot is asked for."""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CnnCostError
from .numbers import scaled

IMAGE_SUFFIXES = (".png", ".svg")


def need(module: str, purpose: str) -> Any:
    """Import an optional plotting library, or say in one line how to get it (exit 2)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise CnnCostError(
            f"{purpose} needs {package}: pip install {package} (or pip install 'cnncost[plot]')"
        ) from None


def check_target(target: str) -> None:
    """'' (the terminal) or a .png/.svg file name."""
    if target and Path(target).suffix.lower() not in IMAGE_SUFFIXES:
        raise CnnCostError(
            f"--plot {target}: give a .png or .svg file, or no value for the terminal"
        )


@dataclass(frozen=True)
class Series:
    label: str
    x: list[float]
    y: list[float]


def lines(
    series: Sequence[Series],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    target: str,
    logx: bool = True,
    width: int | None = None,
) -> str:
    """Line plot on log axes; returns the terminal drawing, or '' after writing `target`."""
    if target:
        mpl = _pyplot()
        fig, ax = mpl.subplots(figsize=(7, 4.5))
        for s in series:
            ax.plot(s.x, s.y, marker=".", label=s.label)
        if logx:
            ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        ax.grid(True, which="both", alpha=0.3)
        if len(series) > 1:
            ax.legend()
        _save(fig, target)
        return ""
    plt = need("plotext", "--plot in the terminal")
    plt.clear_figure()
    for s in series:
        plt.plot(s.x, s.y, label=s.label if len(series) > 1 else None, marker="braille")
    if logx:
        plt.xscale("log")
    plt.yscale("log")
    ys = [y for s in series for y in s.y]
    ticks = log_ticks(min(ys), max(ys))
    plt.yticks(ticks, [scaled(t) for t in ticks])
    plt.title(title)
    plt.xlabel(xlabel)
    plt.ylabel(ylabel)
    plt.plotsize(width or 100, 25)
    return plt.build() + "\n"


@dataclass(frozen=True)
class Bubble:
    label: str
    group: str
    x: float  # MACs
    y: float  # top-1 accuracy, %
    size: float  # params


def bubbles(points: Sequence[Bubble], *, title: str, target: str, width: int | None = None) -> str:
    """Accuracy against MACs (log), one colour per family, bubble area ∝ params."""
    biggest = max(p.size for p in points)
    groups = list(dict.fromkeys(p.group for p in points))
    if target:
        mpl = _pyplot()
        fig, ax = mpl.subplots(figsize=(9, 6))
        palette = importlib.import_module("matplotlib").colormaps["tab20"]
        for i, g in enumerate(groups):
            mine = [p for p in points if p.group == g]
            ax.scatter(
                [p.x for p in mine],
                [p.y for p in mine],
                color=palette(i % 20),
                s=[2000 * p.size / biggest for p in mine],  # area ∝ params
                alpha=0.5,
                label=g,
            )
            for p in mine:
                ax.annotate(p.label, (p.x, p.y), fontsize=7, ha="center", va="center")
        ax.set_xscale("log")
        ax.set(title=title, xlabel="MACs (multiply-accumulates)", ylabel="top-1 accuracy (%)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, markerscale=0.3)
        _save(fig, target)
        return ""
    plt = need("plotext", "the chart in the terminal")
    plt.clear_figure()
    for i, g in enumerate(groups):
        colour = _COLOURS[i % len(_COLOURS)]
        labelled = False
        # The terminal has no areas: three marks by params, against the largest model's.
        for mark, low, high in (("●", 0.4, 2.0), ("•", 0.1, 0.4), ("·", 0.0, 0.1)):
            mine = [p for p in points if p.group == g and low < p.size / biggest <= high]
            if not mine:
                continue
            plt.scatter(
                [p.x for p in mine],
                [p.y for p in mine],
                marker=mark,
                color=colour,
                label=None if labelled else g,
            )
            labelled = True
    plt.xscale("log")
    ticks = log_ticks(min(p.x for p in points), max(p.x for p in points))
    plt.xticks(ticks, [scaled(t) for t in ticks])
    plt.title(title)
    plt.xlabel("MACs")
    plt.ylabel("top-1 %")
    plt.plotsize(width or 110, 30)
    return plt.build() + "\n"


_COLOURS = ("red", "green", "blue", "orange", "magenta", "cyan", "yellow", "gray")


def log_ticks(low: float, high: float) -> list[float]:
    """1, 2, 5 × 10^k between low and high (for log axes)."""
    ticks = []
    for k in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        ticks += [m * 10**k for m in (1, 2, 5) if low <= m * 10**k <= high]
    return ticks


def _pyplot() -> Any:
    matplotlib = need("matplotlib", "--plot FILE.png/.svg")
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def _save(fig: Any, target: str) -> None:
    try:
        fig.savefig(target, bbox_inches="tight")
    except OSError as exc:
        raise CnnCostError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        importlib.import_module("matplotlib.pyplot").close(fig)
