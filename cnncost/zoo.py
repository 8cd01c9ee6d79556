"""Finding models: the built-in specs shipped with cnncost, or a user's YAML file."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from .errors import CnnCostError, did_you_mean
from .limits import excerpt
from .spec import Spec, load_spec


def spec_dir() -> Path:
    """Where the built-in specs are: inside the installed package, or specs/ in a checkout."""
    installed = Path(__file__).with_name("specs")
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "specs"


@cache
def _load_builtin(path: Path) -> Spec:
    return load_spec(path, f"specs/{path.name}")


@cache
def builtin_models() -> dict[str, tuple[Path, str | None]]:
    """Every built-in model name, with the spec file and variant that define it."""
    index: dict[str, tuple[Path, str | None]] = {}
    for path in sorted(spec_dir().glob("*.yaml")):
        spec = _load_builtin(path)
        for name in spec.model_names():
            if name in index:
                raise CnnCostError(f"built-in model {name!r} is defined twice ({path.name})")
            index[name] = (path, name if spec.variants else None)
    return index


def resolve(ref: str) -> tuple[Spec, str | None]:
    """A spec and variant from a built-in name, a YAML path, or PATH:VARIANT.

    A reference is a file only when it looks like one: it ends in .yaml or .yml, or holds
    a '/' (./net, /tmp/net). A bare name is always a built-in, never a file of that name in
    the current directory.
    """
    if not isinstance(ref, str) or not ref:
        raise CnnCostError(f"a model is a built-in name or a spec path, got {ref!r}")
    path = Path(ref)
    if path.suffix in (".yaml", ".yml"):
        spec = load_spec(path, ref)
        return spec, spec.pick_variant(None)
    head, sep, variant = ref.rpartition(":")
    if sep and Path(head).suffix in (".yaml", ".yml"):
        spec = load_spec(Path(head), head)
        return spec, spec.pick_variant(variant)
    if "/" in ref or os.sep in ref:
        spec = load_spec(path, ref)
        return spec, spec.pick_variant(None)
    models = builtin_models()
    if ref not in models:
        raise CnnCostError(
            f"unknown model {excerpt(ref)}{did_you_mean(ref[:100], models)}; "
            "'cnncost list' shows the built-in models, or give a path to a .yaml spec"
        )
    file, variant = models[ref]
    return _load_builtin(file), variant


def builtin_model(spec: Spec, variant: str | None) -> str | None:
    """The built-in model that `spec` and `variant` are, or None for a user's file: its
    errors then name the model, not a path an installed copy does not have."""
    if not spec.file.startswith("specs/"):  # how _load_builtin names them; spares the index
        return None
    entry = builtin_models().get(variant or "")
    return variant if entry and _load_builtin(entry[0]) is spec else None
