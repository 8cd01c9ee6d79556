"""Start-up stays light (no rich, numpy or torch for machine-readable output) and the code
stays lint-clean."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "numpy", "rich")


def _python(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout


def test_json_output_loads_no_heavy_module():
    out = _python(
        "import io, sys, contextlib\n"
        "from cnncost.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['resnet152', '--format', 'json'])\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    assert json.loads(out.replace("'", '"')) == []


@pytest.mark.parametrize(
    "args",
    [
        ["roofline", "resnet50", "--hardware", "h100-sxm", "--format", "json"],
        ["--help"],
        ["time", "--help"],
        ["verify", "--help"],
    ],
)
def test_analytic_commands_and_help_never_import_torch(args):
    out = _python(
        "import io, sys, contextlib\n"
        "from cnncost.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({args!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('torch' in sys.modules)\n"
    )
    assert out.strip() == "False"


def test_the_table_loads_no_heavy_library():
    """Tables are laid out by cnncost's own render.layout: not even rich is imported."""
    out = _python(
        "import io, sys, contextlib\n"
        "from cnncost.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['vgg16', '--table'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'numpy', 'rich'}))\n"
    )
    assert out.strip() == "[]"


def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is part of the test extras: pip install '.[test]'")
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_console_script_finds_the_builtin_specs_from_any_directory(tmp_path):
    script = Path(sys.executable).with_name("cnncost")
    if not script.exists():
        pytest.fail(f"the cnncost console script is not installed beside {sys.executable}")
    result = subprocess.run(
        [str(script), "vgg16", "--format", "json"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["params"] == 138_357_544
