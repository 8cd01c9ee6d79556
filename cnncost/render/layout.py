"""Fitting a table to a width: the one mechanism behind every table cnncost draws.

A table is a list of `Column`s and rows of cells. A number cell (`Num`) has an exact and
a compact form ("15,470,264,320" and "15.47 G"); numbers never wrap and are never cut.
When the table is wider than the output, `fit` works down a fixed list of moves and
stops at the first that makes it fit: drop the least important columns (highest rank
first, down to rank 2),
wrap long text columns, switch every number to its compact form, drop rank-1 columns,
and last wrap text, then fold names, to their narrowest. What it dropped or abbreviated is said
under the table, with the options that bring it back (--columns, --width).

A command adds a column by adding a `Column` and a cell per row; nothing else changes.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import CnnCostError, did_you_mean
from .numbers import grouped, scaled

DEFAULT_WIDTH = 100  # off a terminal, unless --width or COLUMNS says otherwise
GAP = 2


@dataclass(frozen=True)
class Num:
    """A number cell: its exact text and a compact one for narrow outputs."""

    exact: str
    compact: str = ""

    def text(self, compact: bool) -> str:
        return self.compact if compact and self.compact else self.exact


Cell = str | Num


def count(n: int, unit: str = "") -> Num:
    """An exact integer; compact with a decimal prefix (15.47 G)."""
    return Num(grouped(n), scaled(n, unit))


def share(part: int | float, whole: int | float) -> Num:
    """A row's percentage of a total."""
    return Num("—" if not whole else f"{100 * part / whole:.1f}%")


@dataclass(frozen=True)
class Column:
    """`kind`: "text" wraps at spaces, "name" folds at dots, "number" never wraps and is
    right-aligned, "fixed" (a shape) never wraps and is left-aligned. `drop`: 0 is always
    shown; 1 or more may be dropped when space is short, highest first, and among equal
    ranks the rightmost first; rank 1 only after numbers went compact. `key` is what --columns names
    it by."""

    key: str
    header: str
    kind: str = "text"
    drop: int = 0
    min_width: int = 10


@dataclass
class Grid:
    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    totals: Sequence[Sequence[Cell]] = ()
    note: str = ""


@dataclass
class Fitted:
    """A drawn table and where things are on it (the tests read numbers back by these)."""

    text: str
    columns: list[Column]
    offsets: list[int]
    widths: list[int]
    compact: bool
    dropped: list[Column] = field(default_factory=list)
    row_lines: list[int] = field(default_factory=list)  # first line of each row, then totals


@dataclass
class _Asked:
    """What --width and --columns asked for, set by the CLI options around a command."""

    width: int | None = None
    columns: list[str] | None = None


_asked = _Asked()


def ask(width: int | None = None, columns: Sequence[str] | None = None) -> None:
    _asked.width = width
    _asked.columns = list(columns) if columns else None


def output_width() -> int | None:
    """The width to fit: --width (0 = no limit), else the terminal's, else COLUMNS, else
    DEFAULT_WIDTH when standard output is a pipe or a file."""
    if _asked.width is not None:
        return _asked.width or None
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return DEFAULT_WIDTH


def _fold(text: str, width: int) -> list[str]:
    """A name in pieces of at most `width`, broken after dots, dashes and underscores if
    possible."""
    lines, line = [], ""
    for token in re.findall(r"[^._-]+[._-]?|[._-]", text):
        while len(token) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(token[:width])
            token = token[width:]
        if len(line) + len(token) > width:
            lines.append(line)
            line = ""
        line += token
    return [*lines, line] if line or not lines else lines


def _wrap(text: str, width: int, kind: str) -> list[str]:
    if kind in ("number", "fixed") or len(text) <= width:
        return [text]
    if kind == "name":
        return _fold(text, width)
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def _longest_word(text: str) -> int:
    """The narrowest a header can be: its longest word, a long name folding after a `_`."""
    parts = re.split(r"\s+|(?<=[._-])", text)
    return max((len(w) for w in parts), default=0)


def _wrap_header(text: str, width: int) -> list[str]:
    lines = textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False) or [""]
    return [piece for line in lines for piece in _fold(line, width)]


class _Fitter:
    def __init__(self, grid: Grid, columns: list[Column]) -> None:
        self.grid = grid
        self.all = list(grid.columns)
        self.shown = columns
        self.compact = False
        self.limits: dict[str, int] = {}  # text and name columns narrowed to this
        self.chosen = False  # the columns came from --columns: none is dropped
        self._natural: dict[tuple[str, bool], int] = {}

    def cells(self, col: Column) -> list[str]:
        i = self.all.index(col)
        return [
            c.text(self.compact) if isinstance(c, Num) else c
            for c in (*(r[i] for r in self.grid.rows), *(r[i] for r in self.grid.totals))
        ]

    def natural(self, col: Column) -> int:
        key = (col.key, self.compact)
        if key not in self._natural:
            cells = max((len(c) for c in self.cells(col)), default=0)
            self._natural[key] = max(cells, _longest_word(col.header))
        return self._natural[key]

    def width(self, col: Column) -> int:
        w = self.natural(col)
        limit = self.limits.get(col.key)
        return w if limit is None else max(min(w, limit), _longest_word(col.header))

    def total(self) -> int:
        return sum(self.width(c) for c in self.shown) + GAP * (len(self.shown) - 1)

    def narrow(self, width: int, floor: Callable[[Column], int], kinds: tuple[str, ...]) -> None:
        """Narrow the widest wrapping columns, one character at a time, down to `floor`."""
        while self.total() > width:
            candidates = [c for c in self.shown if c.kind in kinds and self.width(c) > floor(c)]
            if not candidates:
                return
            widest = max(candidates, key=self.width)
            self.limits[widest.key] = self.width(widest) - 1

    def widen(self, width: int) -> None:
        """Give room that later drops freed back to the columns narrowed before them."""
        for col in self.shown:
            if col.key in self.limits:
                room = width - self.total()
                if room <= 0:
                    return
                self.limits[col.key] = min(self.natural(col), self.width(col) + room)

    def drop(self, width: int, rank: int) -> None:
        for col in reversed(list(self.shown)):
            if self.total() <= width:
                return
            if col.drop == rank:
                self.shown.remove(col)


def fit(grid: Grid, width: int | None = None, columns: Sequence[str] | None = None) -> Fitted:
    """Lay `grid` out within `width` characters (None: as wide as it needs)."""
    keys = [c.key for c in grid.columns]
    asked = list(columns) if columns is not None else _asked.columns
    if asked and asked != ["all"]:
        unknown = [k for k in asked if k not in keys]
        if unknown:
            raise CnnCostError(
                f"unknown column {unknown[0]!r}{did_you_mean(unknown[0], keys)}; "
                f"this table has {', '.join(keys)}"
            )
        shown = [c for c in grid.columns if c.key in asked]
    else:
        shown = list(grid.columns)
    chosen = bool(asked)
    f = _Fitter(grid, shown)
    f.chosen = chosen
    if width is not None:
        moves: list[Callable[[], None]] = []
        if not chosen:
            ranks = sorted({c.drop for c in shown if c.drop >= 2}, reverse=True)
            moves += [lambda r=r: f.drop(width, r) for r in ranks]
        moves.append(lambda: f.narrow(width, lambda c: max(c.min_width, 24), ("text",)))
        moves.append(lambda: setattr(f, "compact", True))
        if not chosen:
            moves.append(lambda: f.drop(width, 1))
        moves.append(lambda: f.narrow(width, lambda c: c.min_width, ("text",)))
        moves.append(lambda: f.narrow(width, lambda c: c.min_width, ("name",)))
        for move in moves:
            if f.total() <= width:
                break
            move()
        if f.compact:  # exact numbers again if the drops made room
            f.compact = False
            if f.total() > width:
                f.compact = True
        f.widen(width)
    return _draw(f, width)


def _draw(f: _Fitter, width: int | None) -> Fitted:
    grid, cols = f.grid, f.shown
    widths = [f.width(c) for c in cols]
    spare = max(0, width - f.total()) if width is not None else 10**6
    for i, col in enumerate(cols):  # unwrap headers where there is room
        grow = min(spare, max(0, len(col.header) - widths[i]))
        widths[i] += grow
        spare -= grow
    offsets, x = [], 0
    for w in widths:
        offsets.append(x)
        x += w + GAP
    index = [f.all.index(c) for c in cols]

    def block(cells: Sequence[str]) -> list[str]:
        parts = [_wrap(cells[j], widths[j], cols[j].kind) for j in range(len(cols))]
        height = max(len(p) for p in parts)
        out = []
        for k in range(height):
            pieces = []
            for j, col in enumerate(cols):
                text = parts[j][k] if k < len(parts[j]) else ""
                pieces.append(
                    text.rjust(widths[j]) if col.kind == "number" else text.ljust(widths[j])
                )
            out.append((" " * GAP).join(pieces).rstrip())
        return out

    def texts(row: Sequence[Cell]) -> list[str]:
        return [
            row[i].text(f.compact) if isinstance(row[i], Num) else row[i]  # type: ignore[union-attr]
            for i in index
        ]

    lines: list[str] = []
    if grid.title:
        lines += [*_paragraphs(grid.title, width), ""]
    heads = [_wrap_header(c.header, widths[j]) for j, c in enumerate(cols)]
    depth = max(len(h) for h in heads)
    for k in range(depth):
        pieces = []
        for j, col in enumerate(cols):
            h = heads[j]
            text = h[k - depth + len(h)] if k >= depth - len(h) else ""  # bottom-aligned
            pieces.append(text.rjust(widths[j]) if col.kind == "number" else text.ljust(widths[j]))
        lines.append((" " * GAP).join(pieces).rstrip())
    rule = (" " * GAP).join("─" * w for w in widths)
    lines.append(rule)
    row_lines = []
    for row in grid.rows:
        row_lines.append(len(lines))
        lines += block(texts(row))
    if grid.totals:
        lines.append(rule)
        for row in grid.totals:
            row_lines.append(len(lines))
            lines += block(texts(row))
    notes = [grid.note] if grid.note else []
    dropped = [c for c in grid.columns if c not in cols]
    if dropped and width is not None and not f.chosen:
        notes.append(
            f"Left out to fit {width} columns: "
            + ", ".join(f"{c.header} ({c.key})" for c in dropped)
            + ". Pick columns with --columns KEY,KEY,... (--columns all for every one), "
            "or widen with --width N (0: no limit)."
        )
    if f.compact:
        notes.append(
            "Numbers in compact units to fit the width (K = 10³, M = 10⁶, G = 10⁹, "
            "T = 10¹²); a wider --width (or --width 0) shows them exact."
        )
    for note in notes:
        lines += ["", *_paragraphs(note, width)]
    return Fitted(
        text="\n".join(lines) + "\n",
        columns=cols,
        offsets=offsets,
        widths=widths,
        compact=f.compact,
        dropped=dropped,
        row_lines=row_lines,
    )


def _paragraphs(text: str, width: int | None) -> list[str]:
    out = []
    for para in text.split("\n"):
        if width is None or len(para) <= width:
            out.append(para)
        else:
            out += textwrap.wrap(para, width, break_on_hyphens=False, break_long_words=False)
    return out


def fit_paragraphs(text: str, width: int | None = None) -> str:
    """Plain paragraphs, one per line of `text`, wrapped to the output's width."""
    return "\n".join(_paragraphs(text, width if width is not None else output_width()))


def fit_lines(text: str, width: int | None = None) -> str:
    """Report lines (`  label    text`) wrapped to the output's width, continuation lines
    indented under the text."""
    width = width if width is not None else output_width()
    if width is None:
        return text
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        runs = [m.end() for m in re.finditer(r"\s{2,}", line[: width // 2]) if m.start() > 0]
        indent = " " * (runs[-1] if runs else 2)  # under the text that follows the last gap
        glued = re.sub(r"(\d) (?=\S)", "\\1\xa0", line)  # a number keeps its unit
        out += textwrap.wrap(
            glued,
            width,
            subsequent_indent=indent,
            break_on_hyphens=False,
            break_long_words=False,
        )
    return "\n".join(out).replace("\xa0", " ")


def draw(grid: Grid) -> str:
    """The table at the width the output asks for (see `output_width`)."""
    return fit(grid, output_width()).text
