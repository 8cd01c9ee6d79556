"""The spec language's structure: YAML mappings become Spec, Block, Body and Entry objects.

This module checks the shape of a spec (which keys go where, what a table looks like);
it evaluates nothing. Expansion into layers happens in build.py. The language itself is
documented in docs/spec-format.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CnnCostError, SpecError, did_you_mean
from .values import Kind, kind_for_default
from .yamlio import LineDict, LineList, load_yaml, loads_yaml

TOP_KEYS = (
    "name",
    "title",
    "source",
    "notes",
    "input",
    "fixed_input",
    "batch",
    "params",
    "variants",
    "blocks",
    "layers",
    "output",
    "scaling",
)
BLOCK_KEYS = ("params", "layers", "output", "doc")
VARIANT_KEYS = ("title", "source", "notes", "args", "input", "batch", "expected", "accuracy")
ENTRY_KEYS = (
    "op",
    "block",
    "layers",
    "from",
    "repeat",
    "first",
    "if",
    "table",
    "output",
    "doc",
    "train_only",
    "survival",
    "else",
)
ELSE_WORDS = ("identity",)  # what a switched-off entry may stand for when named in 'from:'
TABLE_KEYS = ("columns", "rows")
INPUT_NAME = "input"


@dataclass(frozen=True)
class Param:
    """A parameter of a block or a model; `default` is None when the caller must give it."""

    name: str
    kind: Kind
    default: Any
    required: bool
    line: int


@dataclass(frozen=True)
class Row:
    name: str | None
    values: list[Any]
    line: int


@dataclass(frozen=True)
class Table:
    """Rows of a paper's table, each expanded into one call of the entry (MobileNetV2's t,c,n,s)."""

    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    named: bool


@dataclass
class Entry:
    """One named item of a `layers:` mapping: an op, a block call or inline layers."""

    name: str
    line: int
    op: str | None = None
    block: str | None = None
    body: Body | None = None
    args: dict[str, Any] = field(default_factory=dict)
    arg_lines: dict[str, int] = field(default_factory=dict)
    sources: tuple[str, ...] | None = None
    sources_line: int = 0
    repeat: Any = None
    repeat_line: int = 0
    first: dict[str, Any] | None = None
    first_lines: dict[str, int] = field(default_factory=dict)
    cond: Any = None
    cond_line: int = 0
    table: Table | None = None
    train_only: Any = None  # true: a training-only branch (auxiliary classifier)
    train_only_line: int = 0
    survival: Any = None  # probability the layer runs in a training step (stochastic depth)
    survival_line: int = 0
    # 'else: identity': switched off, the entry may be named and stands for its input
    else_identity: bool = False


@dataclass
class Body:
    """An ordered scope of entries; its output is `output` or the last entry."""

    entries: list[Entry]
    output: str | None
    line: int
    output_line: int = 0


@dataclass
class Block:
    name: str
    params: dict[str, Param]
    body: Body
    line: int
    doc: str = ""


@dataclass
class Variant:
    """A named model made from the spec by setting its parameters (resnet18 … resnet152)."""

    name: str
    line: int
    title: str = ""
    source: str = ""
    notes: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    arg_lines: dict[str, int] = field(default_factory=dict)
    input: Any = None
    batch: Any = None
    expected: Any = None
    accuracy: Any = None  # published top-1/top-5, read by cnncost/accuracy.py


@dataclass
class Spec:
    file: str
    name: str
    title: str
    source: str
    notes: str
    input: Any
    input_line: int
    batch: Any
    params: dict[str, Param]
    blocks: dict[str, Block]
    body: Body
    variants: dict[str, Variant]
    # compound scaling for `cnncost sweep --phi` (read by cnncost/sweep.py), or None
    scaling: Any = None
    # Why the model takes only its own input size ("" when it takes any): torchvision's
    # ViT asserts the image size its position embedding was built for.
    fixed_input: str = ""
    fixed_input_line: int = 0

    def model_names(self) -> list[str]:
        return list(self.variants) if self.variants else [self.name]

    def pick_variant(self, variant: str | None) -> str | None:
        """Check a variant name against the spec: needed when there are several, else absent."""
        if not self.variants:
            if variant is not None:
                raise CnnCostError(
                    f"{self.file} defines no variants, so ':{variant}' does not apply"
                )
            return None
        if variant is None:
            if len(self.variants) == 1:
                return next(iter(self.variants))
            raise CnnCostError(
                f"{self.file} defines several models ({', '.join(self.variants)}); "
                f"name one, as in {self.file}:{next(iter(self.variants))}"
            )
        if variant not in self.variants:
            raise CnnCostError(
                f"{self.file} has no model {variant!r}{did_you_mean(variant, self.variants)}"
            )
        return variant


class _Parser:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, message: str, line: int | None, path: str | None = None) -> SpecError:
        return SpecError(message, file=self.file, line=line, path=path)

    def mapping(self, value: Any, what: str, line: int, path: str | None = None) -> LineDict:
        if not isinstance(value, LineDict):
            raise self.fail(f"{what} must be a mapping, got {_kind(value)}", line, path)
        return value

    def check_keys(self, data: LineDict, allowed: tuple[str, ...], what: str, path: str | None):
        for key in data:
            if key not in allowed:
                raise self.fail(
                    f"unknown key {key!r} in {what}{did_you_mean(key, allowed)}",
                    data.line_of(key),
                    path,
                )

    def text(self, data: LineDict, key: str, path: str | None = None) -> str:
        value = data.get(key, "")
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(f"{key!r} must be text", data.line_of(key), path)
        return value.strip()

    def spec(self, data: Any, default_name: str) -> Spec:
        if not isinstance(data, LineDict):
            raise self.fail(f"a spec must be a YAML mapping, got {_kind(data)}", 1)
        self.check_keys(data, TOP_KEYS, "the spec", None)
        if "layers" not in data:
            raise self.fail("the spec has no 'layers'", data.line)
        if "input" not in data:
            raise self.fail("the spec has no 'input' (e.g. input: [3, 224, 224])", data.line)
        name = data.get("name", default_name)
        if not isinstance(name, str) or not name:
            raise self.fail("'name' must be text", data.line_of("name"))
        blocks_raw = self.mapping(
            data.get("blocks", LineDict()), "'blocks'", data.line_of("blocks")
        )
        blocks = {}
        for bname, braw in blocks_raw.items():
            line = blocks_raw.line_of(bname)
            bname = self.name(bname, line, "block")
            blocks[bname] = self.block(bname, braw, line)
        variants_raw = self.mapping(
            data.get("variants", LineDict()), "'variants'", data.line_of("variants")
        )
        variants = {}
        for vname, vraw in variants_raw.items():
            line = variants_raw.line_of(vname)
            vname = self.name(vname, line, "variant")
            variants[vname] = self.variant(vname, vraw, line)
        return Spec(
            file=self.file,
            name=name,
            title=self.text(data, "title"),
            source=self.text(data, "source"),
            notes=self.text(data, "notes"),
            input=data["input"],
            input_line=data.line_of("input"),
            batch=data.get("batch", 1),
            params=self.params(data.get("params"), data.line_of("params"), "the spec"),
            blocks=blocks,
            body=self.body(
                data["layers"],
                data.line_of("layers"),
                data.get("output"),
                "",
                data.line_of("output"),
            ),
            variants=variants,
            scaling=data.get("scaling"),
            fixed_input=self.text(data, "fixed_input"),
            fixed_input_line=data.line_of("fixed_input"),
        )

    def name(self, raw: Any, line: int, what: str) -> str:
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise self.fail(f"a {what} name must be a word, got {raw!r}", line)
        name = str(raw)
        if not name or "." in name or any(c.isspace() for c in name):
            raise self.fail(
                f"{what} name {name!r} must not be empty or contain '.' or spaces", line
            )
        return name

    def params(self, raw: Any, line: int, owner: str) -> dict[str, Param]:
        if raw is None:
            return {}
        result: dict[str, Param] = {}
        if isinstance(raw, LineList):
            for item, item_line in zip(raw, raw.item_lines, strict=True):
                pname = self.name(item, item_line, "parameter")
                result[pname] = Param(pname, kind_for_default(None), None, True, item_line)
            return result
        data = self.mapping(raw, f"'params' of {owner}", line)
        for key, default in data.items():
            pline = data.line_of(key)
            pname = self.name(key, pline, "parameter")
            result[pname] = Param(pname, kind_for_default(default), default, default is None, pline)
        return result

    def block(self, name: str, raw: Any, line: int) -> Block:
        data = self.mapping(raw, f"block {name!r}", line)
        self.check_keys(data, BLOCK_KEYS, f"block {name!r}", None)
        if "layers" not in data:
            raise self.fail(f"block {name!r} has no 'layers'", line)
        return Block(
            name=name,
            params=self.params(data.get("params"), data.line_of("params"), f"block {name!r}"),
            body=self.body(
                data["layers"],
                data.line_of("layers"),
                data.get("output"),
                name,
                data.line_of("output"),
            ),
            line=line,
            doc=self.text(data, "doc"),
        )

    def variant(self, name: str, raw: Any, line: int) -> Variant:
        data = self.mapping(raw, f"variant {name!r}", line)
        self.check_keys(data, VARIANT_KEYS, f"variant {name!r}", None)
        args = self.mapping(data.get("args", LineDict()), "'args'", data.line_of("args"))
        return Variant(
            name=name,
            line=line,
            title=self.text(data, "title"),
            source=self.text(data, "source"),
            notes=self.text(data, "notes"),
            args=dict(args),
            arg_lines=dict(args.key_lines) if args else {},
            input=data.get("input"),
            batch=data.get("batch"),
            expected=data.get("expected"),
            accuracy=data.get("accuracy"),
        )

    def body(self, raw: Any, line: int, output: Any, path: str, output_line: int = 0) -> Body:
        data = self.mapping(raw, "'layers'", line, path or None)
        if not data:
            raise self.fail("'layers' is empty", line, path or None)
        entries = []
        for key, value in data.items():
            eline = data.line_of(key)
            name = self.name(key, eline, "layer")
            if name == INPUT_NAME:
                raise self.fail(
                    "'input' is reserved for the input of the network or block", eline, path
                )
            entries.append(self.entry(name, value, eline, path))
        names = {e.name for e in entries}
        for e in entries:
            for row in e.table.rows if e.table and e.table.named else ():
                if row.name in names or row.name == INPUT_NAME:
                    raise self.fail(f"row name {row.name!r} is already a layer name", row.line)
                names.add(row.name)
        if output is not None and (not isinstance(output, str) or output not in names):
            raise self.fail(
                f"output {output!r} is not a layer of this scope{did_you_mean(output, names)}",
                line,
                path or None,
            )
        return Body(entries, output, line, output_line)

    def entry(self, name: str, raw: Any, line: int, scope_path: str) -> Entry:
        path = f"{scope_path}.{name}" if scope_path else name
        data = self.mapping(raw, f"layer {name!r}", line, path)
        entry = Entry(name=name, line=line)
        kinds = [k for k in ("op", "block", "layers") if k in data]
        if len(kinds) != 1:
            given = " and ".join(repr(k) for k in kinds) if kinds else "none of them"
            raise self.fail(
                f"a layer needs exactly one of 'op', 'block' or 'layers' (got {given})", line, path
            )
        kind = kinds[0]
        if kind == "layers":
            entry.body = self.body(
                data["layers"],
                data.line_of("layers"),
                data.get("output"),
                path,
                data.line_of("output"),
            )
        else:
            value = data[kind]
            if not isinstance(value, str) or not value:
                raise self.fail(f"{kind!r} must name an {kind}", data.line_of(kind), path)
            setattr(entry, kind, value)
        for key, value in data.items():
            kline = data.line_of(key)
            if key in ("op", "block", "layers", "doc") or (key == "output" and kind == "layers"):
                continue  # an op's or block's 'output' is an argument (adaptive_avgpool's)
            if key == "from":
                entry.sources = self.sources(value, kline, path)
                entry.sources_line = kline
            elif key == "repeat":
                entry.repeat, entry.repeat_line = value, kline
            elif key == "if":
                entry.cond, entry.cond_line = value, kline
            elif key == "train_only":
                entry.train_only, entry.train_only_line = value, kline
            elif key == "survival":
                entry.survival, entry.survival_line = value, kline
            elif key == "else":
                if value not in ELSE_WORDS:
                    raise self.fail(
                        f"'else' says what a switched-off entry stands for: "
                        f"{' or '.join(ELSE_WORDS)}, got {value!r}",
                        kline,
                        path,
                    )
                entry.else_identity = True
            elif key == "first":
                first = self.mapping(value, "'first'", kline, path)
                if "first" in first or any(k in ENTRY_KEYS for k in first):
                    raise self.fail("'first' may only override arguments", kline, path)
                entry.first, entry.first_lines = dict(first), dict(first.key_lines)
            elif key == "table":
                entry.table = self.table(value, kline, path)
            else:
                if not isinstance(key, str):
                    raise self.fail(f"argument name {key!r} must be a word", kline, path)
                entry.args[key] = value
                entry.arg_lines[key] = kline
        if entry.first is not None and entry.repeat is None:
            raise self.fail("'first' needs 'repeat'", data.line_of("first"), path)
        if entry.else_identity and entry.cond is None and entry.repeat is None:
            raise self.fail("'else' needs 'if' or 'repeat'", data.line_of("else"), path)
        return entry

    def sources(self, value: Any, line: int, path: str) -> tuple[str, ...]:
        items = value if isinstance(value, LineList) else [value]
        if not items:
            raise self.fail("'from' is empty", line, path)
        for item in items:
            if not isinstance(item, str):
                raise self.fail(f"'from' must name layers, got {item!r}", line, path)
        return tuple(items)

    def table(self, raw: Any, line: int, path: str) -> Table:
        data = self.mapping(raw, "'table'", line, path)
        self.check_keys(data, TABLE_KEYS, "'table'", path)
        columns = data.get("columns")
        if not isinstance(columns, LineList) or not columns:
            raise self.fail("a table needs 'columns', a list of names", line, path)
        cols = tuple(self.name(c, columns.line, "column") for c in columns)
        rows_raw = data.get("rows")
        rows: list[Row] = []
        named = isinstance(rows_raw, LineDict)
        if named:
            items = [
                (self.name(k, rows_raw.line_of(k), "row"), v, rows_raw.line_of(k))
                for k, v in rows_raw.items()
            ]
        elif isinstance(rows_raw, LineList):
            items = [(None, v, ln) for v, ln in zip(rows_raw, rows_raw.item_lines, strict=True)]
        else:
            raise self.fail(
                "a table needs 'rows': a list of rows or a mapping of named rows", line, path
            )
        if not items:
            raise self.fail("the table has no rows", line, path)
        for rname, values, rline in items:
            if not isinstance(values, list) or len(values) != len(cols):
                count = len(values) if isinstance(values, list) else 1
                raise self.fail(
                    f"a row needs {len(cols)} values ({', '.join(cols)}), got {count}", rline, path
                )
            rows.append(Row(rname, list(values), rline))
        return Table(cols, tuple(rows), named)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def parse_spec(data: Any, file: str, default_name: str) -> Spec:
    """Check and convert one loaded YAML document into a Spec."""
    return _Parser(file).spec(data, default_name)


def load_spec(path: Path, display: str | None = None) -> Spec:
    shown = display or str(path)
    return parse_spec(load_yaml(path, shown), shown, path.stem)


def loads_spec(text: str, file: str = "<string>", default_name: str = "model") -> Spec:
    """Parse a spec from text (handy in tests and notebooks)."""
    return parse_spec(loads_yaml(text, file), file, default_name)
