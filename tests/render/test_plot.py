"""Plots: the sweep in the terminal (plotext) and as PNG/SVG (matplotlib); a one-line hint
where the optional package is missing; no plotting import on the analytic path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_terminal_plot_draws_the_sweep(run):
    code, out, err = run("sweep", "resnet18", "--res", "128:512:64", "--plot")
    assert code == 0, err
    assert "resnet18: MACs against input side" in out
    assert "⠁" in out or "⠉" in out or "⣀" in out  # braille line drawing
    # the table comes first, then the plot
    assert out.index("3×512×512") < out.index("MACs against")


def test_terminal_plot_goes_to_stderr_beside_json(run):
    code, out, err = run("sweep", "resnet18", "--res", "128,256", "--plot", "--format", "json")
    assert code == 0
    assert out.lstrip().startswith("{") and "MACs against" in err


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_image_plot_is_written(run, tmp_path, suffix, magic):
    target = tmp_path / f"sweep{suffix}"
    code, _, err = run(
        "sweep", "vgg11", "--res", "64,128,224", "--batch", "1,4", "--plot", str(target)
    )
    assert code == 0, err
    assert target.read_bytes().startswith(magic)


@pytest.mark.parametrize(
    "blocked, args, package",
    [
        ("plotext", "['sweep', 'resnet18', '--res', '64,128', '--plot']", "plotext"),
        ("matplotlib", "['sweep', 'resnet18', '--res', '64,128', '--plot', 'x.png']", "matplotlib"),
    ],
)
def test_missing_plot_package_is_a_one_line_hint(blocked, args, package):
    result = _python(
        f"import sys; sys.modules[{blocked!r}] = None\nfrom cnncost.cli import main\nmain({args})\n"
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("cnncost: error: ")
    assert line.endswith(f"needs {package}: pip install {package} (or pip install 'cnncost[plot]')")


@pytest.mark.parametrize(
    "args",
    [
        ["resnet50", "--format", "json"],
        ["resnet50", "--table"],
        ["compare", "vgg16", "resnet50"],
        ["sweep", "resnet50", "--res", "224,320", "--format", "json"],
    ],
)
def test_no_plotting_import_without_plot(args):
    result = _python(
        "import io, sys, contextlib\n"
        "from cnncost.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main({args!r})\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'plotext', 'matplotlib'}))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
