"""A built-in model written out as a standalone spec file (`cnncost spec NAME`).

The text is the built-in file itself, comments and all, with its `variants:` section cut
down to the one model asked for: a spec with one variant needs no `:VARIANT` suffix, so
the copy runs as `cnncost show FILE` and counts exactly as the built-in does.
"""

from __future__ import annotations

import re

from .zoo import builtin_models, resolve

_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")
_ENTRY = re.compile(r"^  ([A-Za-z_][\w.-]*)\s*:")


def builtin_spec_text(name: str) -> str:
    """The YAML of built-in model `name`, as a file of its own."""
    resolve(name)  # an unknown name fails here, with suggestions
    path, variant = builtin_models()[name]
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    section = keep = False
    for line in lines:
        if _TOP_KEY.match(line):
            section = line.split(":", 1)[0].strip() == "variants"
            keep = True
        elif section:
            entry = _ENTRY.match(line)
            if entry:
                keep = entry.group(1) == variant
        if keep or not section:
            out.append(line)
    header = (
        f"# cnncost spec {name}: the built-in model {name!r} from cnncost's {path.name},\n"
        f"# written out to edit. Count it with: cnncost show THIS_FILE.yaml (add --table).\n"
    )
    return header + "\n".join(out).rstrip() + "\n"
