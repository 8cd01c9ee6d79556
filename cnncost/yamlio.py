"""Safe YAML reading that keeps line numbers, so every spec error can name its line."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError
from .limits import MAX_FILE_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, excerpt

_SafeBase: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A YAML sequence that remembers its line and the line of each item."""

    line: int = 0
    item_lines: list[int]


class _LineLoader(_SafeBase):  # type: ignore[misc, valid-type]
    """The safe loader, building LineDict/LineList and refusing duplicate keys."""


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    spelled: dict[str, int] = {}  # keys as text: `1:` and `"1":` are the same name
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise SpecError("a mapping key must be a plain word or number", line=line) from None
        if str(key) in spelled:
            raise SpecError(
                f"duplicate key {excerpt(str(key))} (first given on line {spelled[str(key)]})",
                line=line,
            )
        spelled[str(key)] = line
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: Any, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def _located(construct: Any) -> Any:
    """A scalar constructor whose refusal (a 13th month, an integer of 5,000 digits, a
    float tag on a word) names the value's line."""

    def located(loader: Any, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, OverflowError, TypeError) as exc:
            problem = excerpt(str(exc))
            if "digits" in str(exc):  # Python's limit on converting long integer text
                problem = f"a number of {len(str(node.value)):,} characters is too long"
            raise SpecError(
                f"invalid YAML value: {problem}", line=node.start_mark.line + 1
            ) from None

    return located


for _tag in ("int", "float", "timestamp"):
    _full = f"tag:yaml.org,2002:{_tag}"
    _LineLoader.add_constructor(_full, _located(_SafeBase.yaml_constructors[_full]))


def read_text(path: Path, name: str) -> str:
    """A file's text, refusing before reading what is not a regular file of reasonable size:
    a FIFO, a device such as /dev/zero, a directory, or a file over MAX_FILE_BYTES."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO must not block
    except FileNotFoundError:
        raise SpecError("no such file", file=name) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", file=name) from None
    info = os.fstat(fd)
    problem = None
    if stat.S_ISDIR(info.st_mode):
        problem = "is a directory, not a YAML file"
    elif not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file (a pipe, device or socket)"
    elif info.st_size > MAX_FILE_BYTES:
        problem = f"is {info.st_size:,} bytes, over the limit of {MAX_FILE_BYTES:,}"
    if problem:
        os.close(fd)
        raise SpecError(problem, file=name)
    with os.fdopen(fd, "rb") as fh:
        try:
            data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise SpecError(f"cannot read: {exc.strerror or exc}", file=name) from None
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(f"is over the limit of {MAX_FILE_BYTES:,} bytes", file=name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError(
            f"is not UTF-8 text (byte {data[exc.start]:#04x})", file=name, line=line
        ) from None


def load_yaml(path: Path, display: str | None = None) -> Any:
    """Read one YAML document with the safe loader; errors name the file and line."""
    name = display or str(path)
    return loads_yaml(read_text(path, name), name)


def check_nodes(root: yaml.Node, name: str) -> None:
    """Refuse a document nested deeper than MAX_YAML_DEPTH, or one whose aliases expand it
    beyond MAX_YAML_NODES values (an alias bomb), or an alias that contains itself. The
    walk is iterative and sizes each collection once; scalars are counted in place."""
    sizes: dict[int, tuple[int, int]] = {}  # collection id → (values once expanded, depth)
    active: set[int] = set()
    stack = [root]
    while stack:
        node = stack[-1]
        key = id(node)
        if key in sizes:
            stack.pop()
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = (1, 1)
            stack.pop()
            continue
        if isinstance(node, yaml.MappingNode):
            kids = [n for pair in node.value for n in pair]
        else:
            kids = node.value
        if key not in active:
            active.add(key)
            pending = [k for k in kids if k.__class__ is not yaml.ScalarNode and id(k) not in sizes]
            for k in pending:
                if id(k) in active:
                    raise SpecError(
                        "a YAML alias refers to a value that contains it",
                        file=name,
                        line=k.start_mark.line + 1,
                    )
            if pending:
                stack.extend(pending)
                continue
        stack.pop()
        active.discard(key)
        count, depth = 1, 1
        for k in kids:
            if k.__class__ is yaml.ScalarNode:
                count += 1
            else:
                c, d = sizes[id(k)]
                count += c
                depth = max(depth, d + 1)
        line = node.start_mark.line + 1
        if depth > MAX_YAML_DEPTH:
            raise SpecError(
                f"YAML nested more than {MAX_YAML_DEPTH} levels deep", file=name, line=line
            )
        if count > MAX_YAML_NODES:
            raise SpecError(
                f"YAML aliases expand to more than {MAX_YAML_NODES:,} values", file=name, line=line
            )
        sizes[key] = (count, depth)


def loads_yaml(text: str, name: str = "<string>") -> Any:
    """Parse YAML text (see load_yaml)."""
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(f"is over the limit of {MAX_FILE_BYTES:,} characters", file=name)
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_nodes(node, name)
        return loader.construct_document(node)
    except SpecError as exc:
        raise exc.located(file=name) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise SpecError(f"invalid YAML: {problem}", file=name, line=line) from None
    except yaml.YAMLError as exc:
        # A reader error (a control character such as NUL) carries its character offset.
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        character = getattr(exc, "character", None)
        if isinstance(character, str) and len(character) == 1:
            character = ord(character)
        if isinstance(character, int) and isinstance(getattr(exc, "reason", None), str):
            problem = f"character #x{character:04x} is not allowed ({exc.reason})"
        else:
            problem = excerpt(str(exc))
        raise SpecError(f"invalid YAML: {problem}", file=name, line=line) from None
    except (ValueError, OverflowError, TypeError) as exc:  # e.g. a date like 2024-13-45
        raise SpecError(f"invalid YAML value: {excerpt(str(exc))}", file=name) from None
    finally:
        loader.dispose()
