"""The README's example sessions are what the tool prints today."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def sessions() -> list[tuple[str, str]]:
    """(command, output) for each `$ cnncost ...` in a console block that names no file."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = part.partition("\n")
            if not re.search(r"\.ya?ml\b", command):
                found.append((command, output))
    return found


def test_readme_sessions_are_current(run, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    checked = 0
    for command, output in sessions():
        args = shlex.split(command)
        assert args[0] == "cnncost"
        code, out, err = run(*args[1:])
        assert code == 0, err
        assert out == output, f"README's `{command}` is stale; it now prints:\n{out}"
        checked += 1
    assert checked >= 2
